#include "core/h1.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define H1_BODY_KEEP_CAP (64 * 1024) /* larger body buffers are freed between messages */
#define H1_HDR_INIT_CAP  16

/* Which slice the last data callback extended. */
enum { CB_NONE, CB_URL, CB_STATUS, CB_NAME, CB_VALUE };

static const char h1_empty[] = "";
static const char h1_slash[] = "/";

void h1_config_default(h1_config *c)
{
    c->max_header_bytes = 16384;
    c->max_headers = 100;
    c->max_body = 512000;
    c->max_uri = 8192;
    c->discard_body = false;
}

static bool h1_eq_nocase(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x == y)
            continue;
        if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')
            return false;
    }
    return true;
}

static bool h1_name_is(const h1_header *h, const char *name, size_t len)
{
    return h->name_len == len && h1_eq_nocase(h->name, name, len);
}

/* ---- parser-owned copies of slices ---------------------------------------- */

static bool h1_in_store(const h1_parser *p, const char *s)
{
    return p->store != NULL && (uintptr_t)s - (uintptr_t)p->store < p->store_len;
}

/* The slice with index `i`: 0 is the target (requests) or the reason
 * (responses), then name and value of each field in order. */
static void h1_slice(h1_parser *p, size_t i, const char ***s, size_t **len)
{
    h1_header *h;

    if (i == 0) {
        if (p->kind == H1_REQUEST) {
            *s = &p->msg.target;
            *len = &p->msg.target_len;
        } else {
            *s = &p->msg.reason;
            *len = &p->msg.reason_len;
        }
        return;
    }
    h = &p->msg.headers[(i - 1) / 2];
    if (i % 2 == 1) {
        *s = &h->name;
        *len = &h->name_len;
    } else {
        *s = &h->value;
        *len = &h->value_len;
    }
}

static size_t h1_slice_count(const h1_parser *p)
{
    return 1 + 2 * p->n_fields;
}

static size_t h1_store_limit(const h1_parser *p)
{
    size_t m = p->cfg.max_header_bytes;

    return m > SIZE_MAX / 4 ? SIZE_MAX : 2 * m + 64;
}

/* Makes room for `extra` bytes in the store. Growing moves it, so every slice
 * that points into it is moved along (malloc and copy rather than realloc, so
 * that the old block is still there to tell which slices pointed into it). */
static int h1_store_reserve(h1_parser *p, size_t extra)
{
    size_t cap, i, n, *len;
    const char **s;
    char *np;

    if (p->store_cap - p->store_len >= extra)
        return 0;
    if (extra > h1_store_limit(p) - p->store_len)
        return H1_ERR_HEADERS_TOO_LARGE;
    cap = p->store_cap < 256 ? 256 : p->store_cap;
    while (cap - p->store_len < extra) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    np = malloc(cap);
    if (np == NULL)
        return -ENOMEM;
    if (p->store_len > 0) {
        memcpy(np, p->store, p->store_len);
        n = h1_slice_count(p);
        for (i = 0; i < n; i++) {
            h1_slice(p, i, &s, &len);
            if (*len > 0 && h1_in_store(p, *s))
                *s = np + (*s - p->store);
        }
    }
    free(p->store);
    p->store = np;
    p->store_cap = cap;
    return 0;
}

/* Moves slice *s (len bytes) to the end of the store. */
static int h1_store_move(h1_parser *p, const char **s, size_t len)
{
    int rc = h1_store_reserve(p, len);

    if (rc < 0)
        return rc;
    memcpy(p->store + p->store_len, *s, len);
    *s = p->store + p->store_len;
    p->store_len += len;
    return 0;
}

/* Copies the slices from index `from` on that point into caller memory into
 * the store. */
static int h1_own_slices(h1_parser *p, size_t from)
{
    size_t i, n = h1_slice_count(p), *len;
    const char **s;
    int rc;

    for (i = from; i < n; i++) {
        h1_slice(p, i, &s, &len);
        if (*len == 0 || h1_in_store(p, *s))
            continue;
        rc = h1_store_move(p, s, *len);
        if (rc < 0)
            return rc;
    }
    /* The last slice may still grow in the next feed: look at it again. */
    p->owned_upto = n - 1;
    return 0;
}

/* Extends slice (*s, *len) with `n` bytes at `at`, which follow it in the
 * message. Contiguous bytes in the caller's buffer just extend the slice;
 * otherwise the slice is continued in the store. */
static int h1_slice_extend(h1_parser *p, const char **s, size_t *len, const char *at, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    if (*len == 0) {
        *s = at;
        *len = n;
        return 0;
    }
    if (!h1_in_store(p, *s)) {
        if (*s + *len == at) {
            *len += n;
            return 0;
        }
        rc = h1_store_move(p, s, *len);
        if (rc < 0)
            return rc;
    } else if (*s + *len != p->store + p->store_len) {
        rc = h1_store_move(p, s, *len);
        if (rc < 0)
            return rc;
    }
    rc = h1_store_reserve(p, n);
    if (rc < 0)
        return rc;
    memcpy(p->store + p->store_len, at, n);
    p->store_len += n;
    *len += n;
    return 0;
}

/* ---- http_parser callbacks ------------------------------------------------- */

static int h1_fail(h1_parser *p, int err)
{
    p->cb_err = err;
    return -1;
}

static int h1_on_message_begin(http_parser *hp)
{
    h1_parser *p = hp->data;

    p->in_message = true;
    return 0;
}

/* Start line pieces (target, reason) may come in several callbacks when a
 * feed ends inside them: the first piece is kept as a slice, later ones
 * extend it. */
static int h1_on_piece(h1_parser *p, int cb, const char **slice, size_t *len, const char *at,
                       size_t n)
{
    int rc;

    if (p->last_cb != cb) {
        *slice = n > 0 ? at : h1_empty;
        *len = n;
        p->last_cb = cb;
        return 0;
    }
    rc = h1_slice_extend(p, slice, len, at, n);
    return rc < 0 ? h1_fail(p, rc) : 0;
}

static int h1_on_url(http_parser *hp, const char *at, size_t n)
{
    h1_parser *p = hp->data;

    return h1_on_piece(p, CB_URL, &p->msg.target, &p->msg.target_len, at, n);
}

static int h1_on_status(http_parser *hp, const char *at, size_t n)
{
    h1_parser *p = hp->data;

    return h1_on_piece(p, CB_STATUS, &p->msg.reason, &p->msg.reason_len, at, n);
}

static int h1_on_header_field(http_parser *hp, const char *at, size_t n)
{
    h1_parser *p = hp->data;
    h1_header *h;
    size_t cap;
    int rc;

    if (p->last_cb == CB_NAME) {
        h = &p->msg.headers[p->n_fields - 1];
        rc = h1_slice_extend(p, &h->name, &h->name_len, at, n);
        return rc < 0 ? h1_fail(p, rc) : 0;
    }
    if (p->n_fields >= p->cfg.max_headers)
        return h1_fail(p, H1_ERR_TOO_MANY_HEADERS);
    if (p->n_fields == p->hdr_cap) {
        cap = p->hdr_cap == 0 ? H1_HDR_INIT_CAP : 2 * p->hdr_cap;
        if (cap > p->cfg.max_headers)
            cap = p->cfg.max_headers;
        h = realloc(p->msg.headers, cap * sizeof(*h));
        if (h == NULL)
            return h1_fail(p, -ENOMEM);
        p->msg.headers = h;
        p->hdr_cap = cap;
    }
    h = &p->msg.headers[p->n_fields++];
    h->name = at;
    h->name_len = n;
    h->value = h1_empty;
    h->value_len = 0;
    p->last_cb = CB_NAME;
    return 0;
}

static int h1_on_header_value(http_parser *hp, const char *at, size_t n)
{
    h1_parser *p = hp->data;
    h1_header *h;
    int rc;

    if (p->n_fields == 0)
        return h1_fail(p, H1_ERR_MALFORMED);
    h = &p->msg.headers[p->n_fields - 1];
    if (p->last_cb != CB_VALUE) {
        h->value = n > 0 ? at : h1_empty;
        h->value_len = n;
        p->last_cb = CB_VALUE;
        return 0;
    }
    rc = h1_slice_extend(p, &h->value, &h->value_len, at, n);
    return rc < 0 ? h1_fail(p, rc) : 0;
}

/* Drops trailing whitespace from the values of fields [from, to);
 * http_parser already dropped the leading whitespace. */
static void h1_trim_values(h1_parser *p, size_t from, size_t to)
{
    h1_header *h;
    size_t i;

    for (i = from; i < to; i++) {
        h = &p->msg.headers[i];
        while (h->value_len > 0 &&
               (h->value[h->value_len - 1] == ' ' || h->value[h->value_len - 1] == '\t'))
            h->value_len--;
    }
}

static h1_method h1_method_from(unsigned m)
{
    switch (m) {
    case HTTP_GET:
        return H1_GET;
    case HTTP_HEAD:
        return H1_HEAD;
    case HTTP_POST:
        return H1_POST;
    case HTTP_PUT:
        return H1_PUT;
    case HTTP_DELETE:
        return H1_DELETE;
    case HTTP_PATCH:
        return H1_PATCH;
    case HTTP_OPTIONS:
        return H1_OPTIONS;
    case HTTP_CONNECT:
        return H1_CONNECT;
    case HTTP_TRACE:
        return H1_TRACE;
    default:
        return H1_METHOD_OTHER;
    }
}

/* A request may use Transfer-Encoding only as one field whose value is
 * exactly "chunked", and only in HTTP/1.1 (RFC 9112 6.1, 6.3). http_parser
 * takes "gzip, chunked", repeated fields and HTTP/1.0 messages. */
static int h1_check_request_te(h1_parser *p)
{
    const h1_header *h;
    size_t i, count = 0;
    bool ok = true;

    for (i = 0; i < p->msg.n_headers; i++) {
        h = &p->msg.headers[i];
        if (!h1_name_is(h, "transfer-encoding", 17))
            continue;
        count++;
        if (h->value_len != 7 || !h1_eq_nocase(h->value, "chunked", 7))
            ok = false;
    }
    if (count == 0)
        return 0;
    if (count > 1 || !ok || p->hp.http_minor == 0)
        return H1_ERR_BAD_TRANSFER_ENCODING;
    return 0;
}

/* Finds path and query in the target; they are kept as offsets because the
 * target may still move into the store. */
static void h1_split_target(h1_parser *p)
{
    const char *t = p->msg.target, *e = t + p->msg.target_len, *s, *q;

    p->path_off = SIZE_MAX;
    p->query_off = SIZE_MAX;
    p->msg.path_len = 0;
    p->msg.query_len = 0;
    if (p->msg.method == H1_CONNECT || t == e || t[0] == '*') {
        p->path_off = 0;
        p->msg.path_len = p->msg.target_len;
        return;
    }
    s = t;
    if (t[0] != '/') {
        /* absolute-form: skip "scheme://authority" */
        s = memchr(t, ':', (size_t)(e - t));
        s = s != NULL && e - s >= 3 && s[1] == '/' && s[2] == '/' ? s + 3 : t;
        while (s < e && *s != '/' && *s != '?' && *s != '#')
            s++;
    }
    for (q = s; q < e && *q != '?' && *q != '#'; q++)
        ;
    if (q > s) {
        p->path_off = (size_t)(s - t);
        p->msg.path_len = (size_t)(q - s);
    }
    if (q < e && *q == '?') {
        p->query_off = (size_t)(q + 1 - t);
        for (s = q + 1; s < e && *s != '#'; s++)
            ;
        p->msg.query_len = (size_t)(s - (q + 1));
    }
}

/* Points path and query into the target where it is now. */
static void h1_fix_derived(h1_parser *p)
{
    if (p->kind != H1_REQUEST)
        return;
    p->msg.path = p->path_off == SIZE_MAX ? h1_slash : p->msg.target + p->path_off;
    if (p->path_off == SIZE_MAX)
        p->msg.path_len = 1;
    p->msg.query = p->query_off == SIZE_MAX ? NULL : p->msg.target + p->query_off;
}

static int h1_on_headers_complete(http_parser *hp)
{
    h1_parser *p = hp->data;
    int rc, skip = 0;
    uint64_t cl = hp->content_length;

    p->msg.n_headers = p->n_fields;
    h1_trim_values(p, 0, p->n_fields);
    p->msg.version_major = hp->http_major;
    p->msg.version_minor = hp->http_minor > 0 ? 1 : 0;
    if (p->kind == H1_REQUEST) {
        p->msg.method = h1_method_from(hp->method);
        p->msg.method_name = http_method_str((enum http_method)hp->method);
        rc = h1_check_request_te(p);
        if (rc < 0)
            return h1_fail(p, rc);
        h1_split_target(p);
    } else {
        p->msg.status = hp->status_code;
        /* 1xx, 204 and 304 never have a body (RFC 9112 6.3); http_parser
         * reads one when Content-Length says so. */
        if (hp->status_code / 100 == 1 || hp->status_code == 204 || hp->status_code == 304 ||
            p->response_to == H1_HEAD)
            skip = 1;
        else if (p->response_to == H1_CONNECT && hp->status_code / 100 == 2)
            skip = 2;
    }
    if (skip == 0 && !(hp->flags & F_CHUNKED) && cl != ULLONG_MAX) {
        if (cl > p->cfg.max_body)
            return h1_fail(p, H1_ERR_BODY_TOO_LARGE);
        if (!p->cfg.discard_body && cl > 0) {
            rc = buf_reserve(&p->msg.body, (size_t)cl);
            if (rc < 0)
                return h1_fail(p, rc == -ENOBUFS ? H1_ERR_BODY_TOO_LARGE : rc);
        }
    }
    p->body_chunked = skip == 0 && (hp->flags & F_CHUNKED);
    p->head_done = true;
    return skip;
}

static int h1_on_chunk_header(http_parser *hp)
{
    h1_parser *p = hp->data;
    uint64_t n = hp->content_length;

    if (n > p->cfg.max_body || p->msg.body_len > p->cfg.max_body - n)
        return h1_fail(p, H1_ERR_BODY_TOO_LARGE);
    return 0;
}

static int h1_on_body(http_parser *hp, const char *at, size_t n)
{
    h1_parser *p = hp->data;
    int rc;

    if (n > p->cfg.max_body || p->msg.body_len > p->cfg.max_body - n)
        return h1_fail(p, H1_ERR_BODY_TOO_LARGE);
    if (!p->cfg.discard_body) {
        rc = buf_append(&p->msg.body, at, n);
        if (rc < 0)
            return h1_fail(p, rc == -ENOBUFS ? H1_ERR_BODY_TOO_LARGE : rc);
    }
    p->msg.body_len += n;
    return 0;
}

static int h1_on_message_complete(http_parser *hp)
{
    h1_parser *p = hp->data;
    const h1_header *h;
    size_t i;

    p->msg.n_trailers = p->n_fields - p->msg.n_headers;
    h1_trim_values(p, p->msg.n_headers, p->n_fields);
    /* Trailers must not change the framing (RFC 9110 6.5.1). */
    for (i = p->msg.n_headers; i < p->n_fields; i++) {
        h = &p->msg.headers[i];
        if (h1_name_is(h, "content-length", 14) || h1_name_is(h, "transfer-encoding", 17))
            return h1_fail(p, H1_ERR_AMBIGUOUS_LENGTH);
    }
    p->msg.chunked = p->body_chunked;
    p->msg.upgrade = hp->upgrade;
    p->msg.keep_alive = http_should_keep_alive(hp) && !hp->upgrade;
    if (p->kind == H1_RESPONSE && hp->status_code / 100 != 1)
        p->response_to = H1_METHOD_NONE;
    p->msg_done = true;
    /* Stop after this message so that the caller answers it first. */
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings h1_settings = {
    .on_message_begin = h1_on_message_begin,
    .on_url = h1_on_url,
    .on_status = h1_on_status,
    .on_header_field = h1_on_header_field,
    .on_header_value = h1_on_header_value,
    .on_headers_complete = h1_on_headers_complete,
    .on_body = h1_on_body,
    .on_message_complete = h1_on_message_complete,
    .on_chunk_header = h1_on_chunk_header,
    .on_chunk_complete = NULL,
};

/* ---- strict check ---------------------------------------------------------- */

/* ---- parser ------------------------------------------------------------------ */

/* Starts a new message: the previous one's slices and body are forgotten. */
static void h1_msg_next(h1_parser *p)
{
    h1_msg *m = &p->msg;

    m->method = H1_METHOD_NONE;
    m->method_name = h1_empty;
    m->target = h1_empty;
    m->target_len = 0;
    m->path = h1_empty;
    m->path_len = 0;
    m->query = NULL;
    m->query_len = 0;
    m->status = 0;
    m->reason = h1_empty;
    m->reason_len = 0;
    m->version_major = 0;
    m->version_minor = 0;
    m->n_headers = 0;
    m->n_trailers = 0;
    if (m->body.cap > H1_BODY_KEEP_CAP)
        buf_free(&m->body);
    buf_reset(&m->body);
    m->body_len = 0;
    m->chunked = false;
    m->keep_alive = false;
    m->upgrade = false;

    p->complete = false;
    p->msg_done = false;
    p->head_done = false;
    p->in_message = false;
    p->body_chunked = false;
    p->last_cb = CB_NONE;
    p->path_off = SIZE_MAX;
    p->query_off = SIZE_MAX;
    p->n_fields = 0;
    p->owned_upto = 0;
    p->store_len = 0;
    h1_strict_next(&p->sc);
}

void h1_parser_init(h1_parser *p, h1_kind kind, const h1_config *cfg)
{
    memset(p, 0, sizeof(*p));
    if (cfg != NULL)
        p->cfg = *cfg;
    else
        h1_config_default(&p->cfg);
    p->kind = kind;
    h1_strict_init(&p->sc, kind == H1_RESPONSE, p->cfg.max_header_bytes, p->cfg.max_headers,
                   p->cfg.max_uri);
    /* The body limit is checked before appending; the bound on the buffer
     * only backs it up. */
    buf_init(&p->msg.body, p->cfg.max_body == SIZE_MAX ? 0 : p->cfg.max_body);
    http_parser_init(&p->hp, kind == H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
    p->hp.data = p;
    h1_msg_next(p);
}

void h1_parser_free(h1_parser *p)
{
    buf_free(&p->msg.body);
    free(p->msg.headers);
    free(p->store);
    p->msg.headers = NULL;
    p->hdr_cap = 0;
    p->store = NULL;
    p->store_cap = 0;
    p->store_len = 0;
}

void h1_parser_reset(h1_parser *p)
{
    http_parser_init(&p->hp, p->kind == H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
    p->hp.data = p;
    p->err = 0;
    p->cb_err = 0;
    p->closed = false;
    p->response_to = H1_METHOD_NONE;
    h1_msg_next(p);
}

/* Maps an http_parser error to ours. */
static int h1_map_hpe(const h1_parser *p, enum http_errno e)
{
    if (e >= HPE_CB_message_begin && e <= HPE_CB_chunk_complete)
        return p->cb_err != 0 ? p->cb_err : H1_ERR_MALFORMED;
    switch (e) {
    case HPE_INVALID_EOF_STATE:
        return H1_ERR_TRUNCATED;
    case HPE_HEADER_OVERFLOW:
        return H1_ERR_HEADERS_TOO_LARGE;
    case HPE_CLOSED_CONNECTION:
        return H1_ERR_AFTER_CLOSE;
    case HPE_INVALID_STATUS:
        return H1_ERR_BAD_STATUS;
    case HPE_INVALID_METHOD:
        return H1_ERR_BAD_METHOD;
    case HPE_INVALID_URL:
    case HPE_INVALID_HOST:
    case HPE_INVALID_PORT:
    case HPE_INVALID_PATH:
    case HPE_INVALID_QUERY_STRING:
    case HPE_INVALID_FRAGMENT:
        return H1_ERR_BAD_URI;
    case HPE_LF_EXPECTED:
        return H1_ERR_BAD_LINE_END;
    case HPE_INVALID_CONTENT_LENGTH:
        /* also what http_parser reports for an overflowing chunk size */
        return p->head_done ? H1_ERR_BAD_CHUNK : H1_ERR_BAD_CONTENT_LENGTH;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return H1_ERR_AMBIGUOUS_LENGTH;
    case HPE_INVALID_CHUNK_SIZE:
        return H1_ERR_BAD_CHUNK;
    case HPE_INVALID_TRANSFER_ENCODING:
        return H1_ERR_BAD_TRANSFER_ENCODING;
    default:
        /* a response's start line is its status line */
        return p->kind == H1_RESPONSE ? H1_ERR_BAD_STATUS : H1_ERR_MALFORMED;
    }
}

/* A message completed at the end of the bytes checked: the check must agree
 * that it ended there. */
static int h1_complete(h1_parser *p)
{
    if (!h1_strict_ended(&p->sc, p->body_chunked))
        return H1_ERR_MALFORMED;
    p->complete = true;
    p->closed = !p->msg.keep_alive;
    return 0;
}

ssize_t h1_parser_feed(h1_parser *p, const void *data, size_t len)
{
    enum http_errno e;
    size_t n, checked;
    int rc;

    if (p->err != 0)
        return p->err;
    if (p->complete)
        h1_msg_next(p);
    if (len == 0)
        return 0;
    if (p->closed) {
        p->err = H1_ERR_AFTER_CLOSE;
        return p->err;
    }
    n = http_parser_execute(&p->hp, &h1_settings, data, len);
    e = HTTP_PARSER_ERRNO(&p->hp);
    if (e == HPE_PAUSED)
        http_parser_pause(&p->hp, 0);
    /* After a syntax error, check the offending byte too: the strict check
     * names the problem more precisely. */
    checked = n;
    if (e != HPE_OK && e != HPE_PAUSED && e > HPE_CB_chunk_complete && n < len)
        checked = n + 1;
    rc = h1_strict_scan(&p->sc, data, checked, p->body_chunked);
    if (rc == 0 && e != HPE_OK && e != HPE_PAUSED)
        rc = h1_map_hpe(p, e);
    if (rc == 0 && p->msg_done)
        rc = h1_complete(p);
    else if (rc == 0 && n != len)
        rc = H1_ERR_MALFORMED;
    if (rc == 0 && !p->complete && p->in_message)
        rc = h1_own_slices(p, p->owned_upto);
    if (rc < 0) {
        p->err = rc;
        return rc;
    }
    if (p->head_done)
        h1_fix_derived(p);
    return (ssize_t)n;
}

int h1_parser_finish(h1_parser *p)
{
    enum http_errno e;

    if (p->err != 0)
        return p->err;
    if (p->complete)
        h1_msg_next(p);
    if (!p->in_message)
        return 0;
    http_parser_execute(&p->hp, &h1_settings, NULL, 0);
    e = HTTP_PARSER_ERRNO(&p->hp);
    if (e == HPE_PAUSED) {
        http_parser_pause(&p->hp, 0);
        p->complete = true;
        p->closed = true;
        h1_fix_derived(p);
        return 1;
    }
    p->err = e == HPE_OK || e == HPE_INVALID_EOF_STATE ? H1_ERR_TRUNCATED : h1_map_hpe(p, e);
    return p->err;
}

const h1_msg *h1_parser_message(const h1_parser *p)
{
    return p->complete ? &p->msg : NULL;
}

const h1_msg *h1_parser_head(const h1_parser *p)
{
    return p->head_done && p->err == 0 ? &p->msg : NULL;
}

int h1_parser_keep(h1_parser *p)
{
    int rc;

    if (!p->in_message && !p->complete)
        return 0;
    rc = h1_own_slices(p, 0);
    if (rc < 0)
        return rc == H1_ERR_HEADERS_TOO_LARGE ? -ENOMEM : rc;
    if (p->head_done)
        h1_fix_derived(p);
    return 0;
}

void h1_parser_response_to(h1_parser *p, h1_method m)
{
    p->response_to = m;
}

bool h1_should_keep_alive(const h1_parser *p)
{
    return !p->closed && p->err == 0;
}

const h1_header *h1_msg_header_n(const h1_msg *m, const char *name, size_t name_len)
{
    size_t i;

    for (i = 0; i < m->n_headers; i++) {
        if (h1_name_is(&m->headers[i], name, name_len))
            return &m->headers[i];
    }
    return NULL;
}

const h1_header *h1_msg_header(const h1_msg *m, const char *name)
{
    return h1_msg_header_n(m, name, strlen(name));
}

const h1_header *h1_msg_trailer(const h1_msg *m, const char *name)
{
    size_t i, len = strlen(name);

    for (i = m->n_headers; i < m->n_headers + m->n_trailers; i++) {
        if (h1_name_is(&m->headers[i], name, len))
            return &m->headers[i];
    }
    return NULL;
}

const char *h1_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case H1_ERR_MALFORMED:
        return "malformed HTTP message";
    case H1_ERR_BAD_METHOD:
        return "unknown request method";
    case H1_ERR_BAD_URI:
        return "invalid request target";
    case H1_ERR_BAD_VERSION:
        return "unsupported HTTP version";
    case H1_ERR_BAD_STATUS:
        return "invalid status line";
    case H1_ERR_BAD_HEADER_NAME:
        return "invalid header name";
    case H1_ERR_BAD_HEADER_VALUE:
        return "invalid character in header value";
    case H1_ERR_OBS_FOLD:
        return "folded header line (obs-fold)";
    case H1_ERR_BAD_LINE_END:
        return "line not ended by CRLF";
    case H1_ERR_AMBIGUOUS_LENGTH:
        return "ambiguous message length";
    case H1_ERR_BAD_CONTENT_LENGTH:
        return "invalid Content-Length";
    case H1_ERR_BAD_TRANSFER_ENCODING:
        return "unsupported Transfer-Encoding";
    case H1_ERR_BAD_CHUNK:
        return "invalid chunked encoding";
    case H1_ERR_HEADERS_TOO_LARGE:
        return "header section too large";
    case H1_ERR_TOO_MANY_HEADERS:
        return "too many header fields";
    case H1_ERR_BODY_TOO_LARGE:
        return "body too large";
    case H1_ERR_URI_TOO_LONG:
        return "request target too long";
    case H1_ERR_TRUNCATED:
        return "connection closed inside a message";
    case H1_ERR_AFTER_CLOSE:
        return "data after the last message of the connection";
    default:
        return err < 0 && err > -1000 ? strerror(-err) : "unknown error";
    }
}

int h1_error_status(int err)
{
    switch (err) {
    case H1_ERR_MALFORMED:
    case H1_ERR_BAD_URI:
    case H1_ERR_BAD_HEADER_NAME:
    case H1_ERR_BAD_HEADER_VALUE:
    case H1_ERR_OBS_FOLD:
    case H1_ERR_BAD_LINE_END:
    case H1_ERR_AMBIGUOUS_LENGTH:
    case H1_ERR_BAD_CONTENT_LENGTH:
    case H1_ERR_BAD_TRANSFER_ENCODING:
    case H1_ERR_BAD_CHUNK:
    case H1_ERR_TRUNCATED:
    case H1_ERR_AFTER_CLOSE:
        return 400;
    case H1_ERR_BAD_METHOD:
        return 501;
    case H1_ERR_BAD_VERSION:
        return 505;
    case H1_ERR_BAD_STATUS:
        return 502;
    case H1_ERR_HEADERS_TOO_LARGE:
    case H1_ERR_TOO_MANY_HEADERS:
        return 431;
    case H1_ERR_BODY_TOO_LARGE:
        return 413;
    case H1_ERR_URI_TOO_LONG:
        return 414;
    default:
        return 500;
    }
}
