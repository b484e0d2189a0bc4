/*
 * h1_driver: the shared body of fuzz_request and fuzz_response.
 *
 * Input layout: byte 0 is flags, bytes 1-2 pick a split point, the rest is the
 * byte stream. The stream is parsed three ways: in one feed, in two feeds cut
 * at the split point, and one byte per feed. Each feed gets its own heap copy
 * that is freed as soon as the parser is done with it, so a slice left
 * pointing into a caller's buffer shows up as a use-after-free. The three runs
 * must agree exactly (messages, bodies, first error), and every message must
 * respect the limits and the grammar the parser promises.
 *
 * flags: bit 0 small limits, bit 1 discard_body, bit 2 h1_parser_keep() and
 * free before reading a message, bits 4-5 the method the responses answer
 * (none, HEAD, CONNECT, none).
 */
#ifndef TG_FUZZ_H1_DRIVER_H
#define TG_FUZZ_H1_DRIVER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1.h"

#define FZ_CHECK(c)                                                                                \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

typedef struct fz_digest {
    uint64_t h;
    int msgs;
    int err;
} fz_digest;

static void fz_mix(fz_digest *d, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++) {
        d->h ^= s[i];
        d->h *= 0x100000001b3ULL;
    }
    d->h ^= n;
    d->h *= 0x100000001b3ULL;
}

static void fz_mix_int(fz_digest *d, uint64_t v)
{
    fz_mix(d, &v, sizeof(v));
}

static int fz_within(const char *s, size_t n, const char *base, size_t len)
{
    return (uintptr_t)s >= (uintptr_t)base && (uintptr_t)s + n <= (uintptr_t)base + len;
}

/* Checks what the parser promises about a message, then digests it. */
static void fz_message(fz_digest *d, const h1_config *cfg, h1_kind kind, const h1_msg *m)
{
    size_t i;

    FZ_CHECK(m->version_major == 1);
    FZ_CHECK(m->version_minor == 0 || m->version_minor == 1);
    FZ_CHECK(m->n_headers + m->n_trailers <= cfg->max_headers);
    FZ_CHECK(m->body_len <= cfg->max_body);
    FZ_CHECK(cfg->discard_body ? m->body.len == 0 : m->body.len == m->body_len);
    if (kind == H1_REQUEST) {
        FZ_CHECK(m->method != H1_METHOD_NONE);
        FZ_CHECK(m->method_name[0] != '\0');
        FZ_CHECK(m->target_len > 0 && m->target_len <= cfg->max_uri);
        FZ_CHECK(h1_strict_value(m->target, m->target_len));
        FZ_CHECK(m->path_len > 0 || m->target_len == 0);
        FZ_CHECK((m->path_len == 1 && m->path[0] == '/') ||
                 fz_within(m->path, m->path_len, m->target, m->target_len));
        if (m->query != NULL)
            FZ_CHECK(fz_within(m->query, m->query_len, m->target, m->target_len));
        fz_mix(d, m->method_name, strlen(m->method_name));
        fz_mix(d, m->target, m->target_len);
        fz_mix(d, m->path, m->path_len);
        fz_mix_int(d, m->query != NULL ? m->query_len : UINT64_MAX);
    } else {
        FZ_CHECK(m->status >= 100 && m->status <= 999);
        FZ_CHECK(h1_strict_value(m->reason, m->reason_len));
        fz_mix_int(d, (uint64_t)m->status);
        fz_mix(d, m->reason, m->reason_len);
    }
    for (i = 0; i < m->n_headers + m->n_trailers; i++) {
        const h1_header *h = &m->headers[i];

        FZ_CHECK(h1_strict_token(h->name, h->name_len));
        FZ_CHECK(h1_strict_value(h->value, h->value_len));
        if (h->value_len > 0) {
            FZ_CHECK(h->value[0] != ' ' && h->value[0] != '\t');
            FZ_CHECK(h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
        }
        fz_mix(d, h->name, h->name_len);
        fz_mix(d, h->value, h->value_len);
    }
    if (m->n_headers > 0)
        FZ_CHECK(h1_msg_header_n(m, m->headers[0].name, m->headers[0].name_len) == &m->headers[0]);
    fz_mix_int(d, m->n_headers);
    fz_mix_int(d, m->body_len);
    /* buf_ptr() of a buffer that never allocated is NULL + 0 */
    fz_mix(d, m->body.len > 0 ? buf_ptr(&m->body) : "", m->body.len);
    fz_mix_int(d, (uint64_t)m->version_minor << 8 | (uint64_t)m->keep_alive << 2 |
                      (uint64_t)m->chunked << 1 | m->upgrade);
    d->msgs++;
}

/* Feeds data[0..len) in pieces ending at cuts[0..ncuts) and len. */
static void fz_run(fz_digest *d, h1_kind kind, const h1_config *cfg, unsigned flags,
                   const uint8_t *data, size_t len, const size_t *cuts, size_t ncuts)
{
    static const h1_method answers[4] = {H1_METHOD_NONE, H1_HEAD, H1_CONNECT, H1_METHOD_NONE};
    h1_method answer = answers[(flags >> 4) & 3];
    size_t pos = 0, end, k, avail;
    h1_parser p;
    ssize_t n;
    char *copy;
    int rc;

    memset(d, 0, sizeof(*d));
    d->h = 0xcbf29ce484222325ULL;
    h1_parser_init(&p, kind, cfg);
    h1_parser_response_to(&p, answer);
    for (k = 0; k <= ncuts && d->err == 0; k++) {
        end = k < ncuts ? cuts[k] : len;
        while (pos < end) {
            avail = end - pos;
            copy = malloc(avail);
            if (copy == NULL)
                abort();
            memcpy(copy, data + pos, avail);
            n = h1_parser_feed(&p, copy, avail);
            if (n < 0) {
                FZ_CHECK(n > -2000);
                FZ_CHECK(h1_parser_head(&p) == NULL && !h1_should_keep_alive(&p));
                FZ_CHECK(h1_parser_feed(&p, copy, avail) == n);
                d->err = (int)n;
                free(copy);
                break;
            }
            FZ_CHECK((size_t)n <= avail);
            pos += (size_t)n;
            if (h1_parser_message(&p) != NULL) {
                FZ_CHECK(h1_parser_head(&p) == h1_parser_message(&p));
                if (flags & 4) {
                    FZ_CHECK(h1_parser_keep(&p) == 0);
                    memset(copy, 0, avail);
                    free(copy);
                    copy = NULL;
                }
                fz_message(d, cfg, kind, h1_parser_message(&p));
                if (h1_parser_message(&p)->status / 100 != 1)
                    h1_parser_response_to(&p, answer);
            } else {
                FZ_CHECK((size_t)n == avail);
            }
            free(copy);
        }
    }
    if (d->err == 0) {
        rc = h1_parser_finish(&p);
        if (rc < 0)
            d->err = rc;
        else if (rc == 1)
            fz_message(d, cfg, kind, h1_parser_message(&p));
    }
    h1_parser_free(&p);
}

static int fz_h1(h1_kind kind, const uint8_t *data, size_t size)
{
    fz_digest one, two, bytes;
    size_t len, cut, i, *cuts;
    unsigned flags;
    h1_config cfg;

    if (size < 3)
        return 0;
    flags = data[0];
    len = size - 3;
    cut = ((size_t)data[1] << 8 | data[2]) % (len + 1);
    data += 3;
    h1_config_default(&cfg);
    if (flags & 1) {
        cfg.max_header_bytes = 256;
        cfg.max_headers = 8;
        cfg.max_body = 1024;
        cfg.max_uri = 64;
    }
    cfg.discard_body = (flags & 2) != 0;

    fz_run(&one, kind, &cfg, flags, data, len, NULL, 0);
    fz_run(&two, kind, &cfg, flags, data, len, &cut, 1);
    FZ_CHECK(one.h == two.h && one.msgs == two.msgs && one.err == two.err);
    if (len > 1 && len <= 4096) {
        cuts = malloc((len - 1) * sizeof(*cuts));
        if (cuts == NULL)
            abort();
        for (i = 0; i + 1 < len; i++)
            cuts[i] = i + 1;
        fz_run(&bytes, kind, &cfg, flags, data, len, cuts, len - 1);
        free(cuts);
        FZ_CHECK(one.h == bytes.h && one.msgs == bytes.msgs && one.err == bytes.err);
    }
    return 0;
}

#endif
