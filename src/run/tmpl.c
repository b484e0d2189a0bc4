/*
 * tmpl: compile `{{...}}` once into parts, render by appending each part.
 */
#include "run/tmpl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct tmpl_builtin {
    const char *name;
    enum tmpl_kind kind;
};

static const struct tmpl_builtin tmpl_builtins[] = {
    {"uuid", TMPL_UUID},
    {"iteration", TMPL_ITERATION},
    {"vu", TMPL_VU},
    {"now_ms", TMPL_NOW_MS},
};

/* "line L, column C" (or "column C" on a one-line template) of offset `at`. */
static void tmpl_where(const char *src, size_t len, size_t at, char *out, size_t outlen)
{
    size_t line = 1, col = 1;
    bool multiline = memchr(src, '\n', len) != NULL;

    for (size_t i = 0; i < at; i++) {
        col++;
        if (src[i] == '\n') {
            line++;
            col = 1;
        }
    }
    if (multiline)
        snprintf(out, outlen, "line %zu, column %zu", line, col);
    else
        snprintf(out, outlen, "column %zu", col);
}

static bool tmpl_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

static const char *tmpl_skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Reads a signed decimal integer at *p. */
static bool tmpl_int(const char **p, const char *end, int64_t *out)
{
    const char *s = tmpl_skip_space(*p, end);
    bool neg = false;
    uint64_t v = 0;
    bool digits = false;

    if (s < end && (*s == '-' || *s == '+')) {
        neg = *s == '-';
        s++;
    }
    while (s < end && isdigit((unsigned char)*s)) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v))
            return false;
        s++;
        digits = true;
    }
    if (!digits || v > (uint64_t)INT64_MAX + neg)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    *p = tmpl_skip_space(s, end);
    return true;
}

/* Compiles the inside of one `{{...}}`, [p, end) in t->src; errors without
 * the position, which the caller adds. */
static int tmpl_placeholder(tmpl *t, struct tmpl_part *part, const char *p, const char *end,
                            char *err, size_t errlen)
{
    const char *name, *name_end;

    p = tmpl_skip_space(p, end);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    name = p;
    while (p < end && tmpl_name_char(*p))
        p++;
    name_end = p;
    if (name == name_end)
        return err_set(err, errlen, -EINVAL, "expected a name inside '{{ }}'");
    if (!isalpha((unsigned char)*name) && *name != '_')
        return err_set(err, errlen, -EINVAL, "'%.*s' must start with a letter or '_'",
                       (int)(name_end - name), name);
    p = tmpl_skip_space(p, end);
    if (p < end && *p == '(') {
        int64_t lo, hi;

        if ((size_t)(name_end - name) != 10 || memcmp(name, "random_int", 10) != 0)
            return err_set(err, errlen, -EINVAL,
                           "unknown function '%.*s', expected random_int(a,b)",
                           (int)(name_end - name), name);
        p++;
        if (!tmpl_int(&p, end, &lo) || p >= end || *p != ',')
            return err_set(err, errlen, -EINVAL,
                           "random_int takes two integers, e.g. random_int(1,100)");
        p++;
        if (!tmpl_int(&p, end, &hi) || p >= end || *p != ')' || p + 1 != end)
            return err_set(err, errlen, -EINVAL,
                           "random_int takes two integers, e.g. random_int(1,100)");
        if (lo > hi)
            return err_set(err, errlen, -EINVAL,
                           "random_int(%lld,%lld): the first bound is above the second",
                           (long long)lo, (long long)hi);
        part->kind = TMPL_RANDOM_INT;
        part->lo = lo;
        part->hi = hi;
        return 0;
    }
    if (p != end)
        return err_set(err, errlen, -EINVAL, "unexpected '%c' after '%.*s'", *p,
                       (int)(name_end - name), name);
    part->kind = TMPL_VAR;
    part->off = (size_t)(name - t->src);
    part->len = (size_t)(name_end - name);
    for (size_t i = 0; i < sizeof(tmpl_builtins) / sizeof(tmpl_builtins[0]); i++) {
        if (strlen(tmpl_builtins[i].name) == part->len &&
            memcmp(tmpl_builtins[i].name, name, part->len) == 0)
            part->kind = tmpl_builtins[i].kind;
    }
    return 0;
}

int tmpl_compile(tmpl *t, const char *src, size_t len, char *err, size_t errlen)
{
    size_t cap = 1, i = 0, lit = 0;
    char where[64], msg[160];
    int rc = -ENOMEM;

    memset(t, 0, sizeof(*t));
    /* Each "{{" adds at most two parts. */
    for (size_t k = 0; k + 1 < len; k++)
        cap += (src[k] == '{' && src[k + 1] == '{') ? 2 : 0;
    t->src = malloc(len + 1);
    t->parts = calloc(cap, sizeof(*t->parts));
    if (t->src == NULL || t->parts == NULL)
        goto err;
    memcpy(t->src, src, len);
    t->src[len] = '\0';
    t->len = len;
    while (i + 1 < len) {
        const char *close;

        if (t->src[i] != '{' || t->src[i + 1] != '{') {
            i++;
            continue;
        }
        close = memmem(t->src + i + 2, len - i - 2, "}}", 2);
        if (close == NULL) {
            rc = -EINVAL;
            snprintf(msg, sizeof(msg), "unterminated '{{'");
        } else {
            rc = tmpl_placeholder(t, &t->parts[t->nparts + (i > lit)], t->src + i + 2, close, msg,
                                  sizeof(msg));
        }
        if (rc < 0) {
            tmpl_where(t->src, len, i, where, sizeof(where));
            err_set(err, errlen, rc, "%s: %s", where, msg);
            goto err;
        }
        if (i > lit) {
            t->parts[t->nparts++] =
                (struct tmpl_part){.kind = TMPL_LITERAL, .off = lit, .len = i - lit};
        }
        t->nparts++;
        i = lit = (size_t)(close - t->src) + 2;
    }
    if (len > lit)
        t->parts[t->nparts++] =
            (struct tmpl_part){.kind = TMPL_LITERAL, .off = lit, .len = len - lit};
    return 0;
err:
    tmpl_free(t);
    return rc;
}

void tmpl_free(tmpl *t)
{
    free(t->src);
    free(t->parts);
    memset(t, 0, sizeof(*t));
}

bool tmpl_is_static(const tmpl *t)
{
    return t->nparts == 0 || (t->nparts == 1 && t->parts[0].kind == TMPL_LITERAL);
}

size_t tmpl_var_count(const tmpl *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->nparts; i++)
        n += t->parts[i].kind == TMPL_VAR;
    return n;
}

const char *tmpl_var(const tmpl *t, size_t i, size_t *len)
{
    for (size_t k = 0; k < t->nparts; k++) {
        if (t->parts[k].kind == TMPL_VAR && i-- == 0) {
            *len = t->parts[k].len;
            return t->src + t->parts[k].off;
        }
    }
    *len = 0;
    return NULL;
}

void tmpl_uuid(rng *r, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    uint64_t hi = rng_next(r), lo = rng_next(r);
    size_t n = 0;

    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[b[i] >> 4];
        out[n++] = hex[b[i] & 15];
    }
    out[n] = '\0';
}

static int tmpl_append_u64(buf *out, uint64_t v)
{
    char s[24];
    size_t n = sizeof(s);

    do {
        s[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return buf_append(out, s + n, sizeof(s) - n);
}

static int tmpl_append_i64(buf *out, int64_t v)
{
    int rc;

    if (v >= 0)
        return tmpl_append_u64(out, (uint64_t)v);
    rc = buf_append(out, "-", 1);
    return rc < 0 ? rc : tmpl_append_u64(out, 0 - (uint64_t)v);
}

int tmpl_render(const tmpl *t, const tmpl_ctx *ctx, buf *out, char *err, size_t errlen)
{
    size_t before = out->len;
    int rc = 0;

    for (size_t i = 0; i < t->nparts && rc == 0; i++) {
        const struct tmpl_part *p = &t->parts[i];
        char uuid[37];
        const char *v;
        size_t vlen;

        switch (p->kind) {
        case TMPL_LITERAL:
            rc = buf_append(out, t->src + p->off, p->len);
            break;
        case TMPL_VAR:
            rc = ctx->lookup != NULL
                     ? ctx->lookup(ctx->lookup_ctx, t->src + p->off, p->len, &v, &vlen)
                     : -ENOENT;
            if (rc == 0) {
                rc = buf_append(out, v, vlen);
            } else if (ctx->step != NULL) {
                err_set(err, errlen, rc, "step '%s' needs '%.*s', which was not captured",
                        ctx->step, (int)p->len, t->src + p->off);
            } else {
                err_set(err, errlen, rc, "'%.*s' is needed but was not captured", (int)p->len,
                        t->src + p->off);
            }
            break;
        case TMPL_UUID:
            tmpl_uuid(ctx->rng, uuid);
            rc = buf_append(out, uuid, 36);
            break;
        case TMPL_ITERATION:
            rc = tmpl_append_u64(out, ctx->iteration);
            break;
        case TMPL_VU:
            rc = tmpl_append_u64(out, ctx->vu);
            break;
        case TMPL_NOW_MS:
            rc = tmpl_append_u64(out, ctx->now_ms);
            break;
        case TMPL_RANDOM_INT:
            rc = tmpl_append_i64(out, rng_range(ctx->rng, p->lo, p->hi));
            break;
        }
    }
    if (rc < 0)
        out->len = before;
    if (rc == -ENOBUFS || rc == -ENOMEM)
        err_set(err, errlen, rc, "rendered request too large");
    return rc;
}
