#include "core/h1_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct h1_status_line {
    const char *line; /* "HTTP/1.1 200 OK\r\n" */
    const char *reason;
    size_t len;
} h1_status_line;

/* Status lines of the codes http_parser names, indexed by code - 100. */
#define H1_LINE(num, name, string) "HTTP/1.1 " #num " " #string "\r\n"
#define XX(num, name, string)                                                                      \
    [num - 100] = {H1_LINE(num, name, string), #string, sizeof(H1_LINE(num, name, string)) - 1},
static const h1_status_line h1_status_lines[900] = {HTTP_STATUS_MAP(XX)};
#undef XX
#undef H1_LINE

const char *h1_status_reason(int status)
{
    if (status < 100 || status > 999 || h1_status_lines[status - 100].reason == NULL)
        return "";
    return h1_status_lines[status - 100].reason;
}

/* Writes v in decimal at p; returns the digits written (at most 20). */
static size_t h1_u64_dec(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

static size_t h1_dec_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static bool h1_is_name(const h1_header *h, const char *name, size_t len)
{
    size_t i;

    if (h->name_len != len)
        return false;
    for (i = 0; i < len; i++) {
        if ((h->name[i] | 0x20) != name[i])
            return false;
    }
    return true;
}

/* What the caller's headers already say, and their size on the wire. */
typedef struct h1_hdr_scan {
    size_t bytes;
    bool length; /* Content-Length or Transfer-Encoding */
    bool connection;
    bool host;
} h1_hdr_scan;

static int h1_scan_headers(const h1_header *headers, size_t n, h1_hdr_scan *sc)
{
    const h1_header *h;
    size_t i;

    memset(sc, 0, sizeof(*sc));
    for (i = 0; i < n; i++) {
        h = &headers[i];
        if (!h1_strict_token(h->name, h->name_len) || !h1_strict_value(h->value, h->value_len))
            return -EINVAL;
        sc->bytes += h->name_len + 2 + h->value_len + 2;
        switch (h->name_len) {
        case 4:
            sc->host |= h1_is_name(h, "host", 4);
            break;
        case 10:
            sc->connection |= h1_is_name(h, "connection", 10);
            break;
        case 14:
            sc->length |= h1_is_name(h, "content-length", 14);
            break;
        case 17:
            sc->length |= h1_is_name(h, "transfer-encoding", 17);
            break;
        default:
            break;
        }
    }
    return 0;
}

static char *h1_put(char *p, const void *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *h1_put_headers(char *p, const h1_header *headers, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p = h1_put(p, headers[i].name, headers[i].name_len);
        *p++ = ':';
        *p++ = ' ';
        p = h1_put(p, headers[i].value, headers[i].value_len);
        *p++ = '\r';
        *p++ = '\n';
    }
    return p;
}

#define H1_LIT(s) (s), (sizeof(s) - 1)

int h1_write_response(buf *out, int status, const h1_header *headers, size_t n, const void *body,
                      size_t body_len, unsigned flags)
{
    const h1_status_line *sl;
    const char *conn = NULL;
    size_t conn_len = 0, total, line_len;
    bool add_length, no_body;
    h1_hdr_scan sc;
    char *p;
    int rc;

    if (status < 100 || status > 999)
        return -EINVAL;
    rc = h1_scan_headers(headers, n, &sc);
    if (rc < 0)
        return rc;
    sl = &h1_status_lines[status - 100];
    line_len = sl->line != NULL ? sl->len : sizeof("HTTP/1.1 000 \r\n") - 1;
    no_body = status < 200 || status == 204 || status == 304;
    add_length = !no_body && !sc.length;
    if (!sc.connection && (flags & H1_WRITE_CLOSE)) {
        conn = "Connection: close\r\n";
        conn_len = sizeof("Connection: close\r\n") - 1;
    } else if (!sc.connection && (flags & H1_WRITE_KEEP_ALIVE)) {
        conn = "Connection: keep-alive\r\n";
        conn_len = sizeof("Connection: keep-alive\r\n") - 1;
    }
    if (no_body || (flags & H1_WRITE_HEAD))
        body = NULL;
    total = line_len + sc.bytes + conn_len + 2;
    if (add_length)
        total += sizeof("Content-Length: \r\n") - 1 + h1_dec_len(body_len);
    if (body != NULL) {
        if (body_len > SIZE_MAX - total)
            return -ENOMEM;
        total += body_len;
    }
    rc = buf_reserve(out, total);
    if (rc < 0)
        return rc;
    p = buf_tail(out);
    if (sl->line != NULL) {
        p = h1_put(p, sl->line, sl->len);
    } else {
        p = h1_put(p, H1_LIT("HTTP/1.1 "));
        p += h1_u64_dec(p, (uint64_t)status);
        p = h1_put(p, H1_LIT(" \r\n"));
    }
    p = h1_put_headers(p, headers, n);
    if (add_length) {
        p = h1_put(p, H1_LIT("Content-Length: "));
        p += h1_u64_dec(p, body_len);
        *p++ = '\r';
        *p++ = '\n';
    }
    if (conn != NULL)
        p = h1_put(p, conn, conn_len);
    *p++ = '\r';
    *p++ = '\n';
    if (body != NULL && body_len > 0)
        p = h1_put(p, body, body_len);
    buf_commit(out, (size_t)(p - buf_tail(out)));
    return 0;
}

int h1_write_request(buf *out, const char *method, const char *target, size_t target_len,
                     const char *host, const h1_header *headers, size_t n, const void *body,
                     size_t body_len, unsigned flags)
{
    size_t method_len = strlen(method), host_len = 0, total, i;
    bool add_host, add_length, has_body = body != NULL || body_len > 0;
    h1_hdr_scan sc;
    char *p;
    int rc;

    if (!h1_strict_token(method, method_len) || target_len == 0)
        return -EINVAL;
    for (i = 0; i < target_len; i++) {
        unsigned char c = (unsigned char)target[i];

        if (c <= ' ' || c == 0x7f)
            return -EINVAL;
    }
    rc = h1_scan_headers(headers, n, &sc);
    if (rc < 0)
        return rc;
    add_host = host != NULL && !sc.host;
    if (add_host) {
        host_len = strlen(host);
        if (host_len == 0 || !h1_strict_value(host, host_len))
            return -EINVAL;
    }
    add_length = !sc.length && (has_body || strcmp(method, "POST") == 0 ||
                                strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0);
    total = method_len + 1 + target_len + sizeof(" HTTP/1.1\r\n") - 1 + sc.bytes + 2;
    if (add_host)
        total += sizeof("Host: \r\n") - 1 + host_len;
    if (add_length)
        total += sizeof("Content-Length: \r\n") - 1 + h1_dec_len(body_len);
    if (!sc.connection && (flags & H1_WRITE_CLOSE))
        total += sizeof("Connection: close\r\n") - 1;
    if (body != NULL) {
        if (body_len > SIZE_MAX - total)
            return -ENOMEM;
        total += body_len;
    }
    rc = buf_reserve(out, total);
    if (rc < 0)
        return rc;
    p = buf_tail(out);
    p = h1_put(p, method, method_len);
    *p++ = ' ';
    p = h1_put(p, target, target_len);
    p = h1_put(p, H1_LIT(" HTTP/1.1\r\n"));
    if (add_host) {
        p = h1_put(p, H1_LIT("Host: "));
        p = h1_put(p, host, host_len);
        *p++ = '\r';
        *p++ = '\n';
    }
    p = h1_put_headers(p, headers, n);
    if (add_length) {
        p = h1_put(p, H1_LIT("Content-Length: "));
        p += h1_u64_dec(p, body_len);
        *p++ = '\r';
        *p++ = '\n';
    }
    if (!sc.connection && (flags & H1_WRITE_CLOSE))
        p = h1_put(p, H1_LIT("Connection: close\r\n"));
    *p++ = '\r';
    *p++ = '\n';
    if (body != NULL && body_len > 0)
        p = h1_put(p, body, body_len);
    buf_commit(out, (size_t)(p - buf_tail(out)));
    return 0;
}
