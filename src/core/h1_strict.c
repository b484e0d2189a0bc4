#include "core/h1_strict.h"

#include <stdint.h>
#include <string.h>

#include "core/h1.h"

/* Byte classes for the strict check (RFC 9110 5.1, 5.5; RFC 9112 3.2). */
#define H1_TCHAR 1 /* token characters: header names, methods */
#define H1_VCHAR 2 /* field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text */
#define H1_UCHAR 4 /* request-target bytes: VCHAR and obs-text */
#define H1_HEX   8

static const uint8_t h1_strict_class[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  0, 0, 0, 0, 0, 0, /* 0x00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, /* 0x10 */
    2,  7,  6,  7,  7,  7,  7,  7,  6,  6,  7, 7, 6, 7, 7, 6, /* 0x20 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6, 6, 6, 6, 6, 6, /* 0x30 */
    6,  15, 15, 15, 15, 15, 15, 7,  7,  7,  7, 7, 7, 7, 7, 7, /* 0x40 */
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, 6, 6, 6, 7, 7, /* 0x50 */
    7,  15, 15, 15, 15, 15, 15, 7,  7,  7,  7, 7, 7, 7, 7, 7, /* 0x60 */
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, 6, 7, 6, 7, 0, /* 0x70 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0x80 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0x90 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0xa0 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0xb0 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0xc0 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0xd0 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0xe0 */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, 6, 6, 6, 6, 6, /* 0xf0 */
};

/* Word-at-a-time skipping over the bytes of a class: a word is skipped when
 * none of its bytes is below `lo` (0x20 or 0x21) or equal to 0x7f; any other
 * word is finished a byte at a time with the table. Values and targets are
 * most of a head, so this is most of the strict check's cost. */
#define H1_ONES 0x0101010101010101ULL
#define H1_HIGH 0x8080808080808080ULL

static size_t h1_strict_skip(const unsigned char *d, size_t i, size_t n, uint8_t cls, uint64_t lo)
{
    uint64_t w, below, del;

    while (n - i >= 8) {
        memcpy(&w, d + i, 8);
        /* bytes < lo (bytes >= 0x80 are fine: the ~w term drops them) */
        below = (w - H1_ONES * lo) & ~w & H1_HIGH;
        del = ((w ^ (H1_ONES * 0x7f)) - H1_ONES) & ~(w ^ (H1_ONES * 0x7f)) & H1_HIGH;
        if ((below | del) != 0)
            break;
        i += 8;
    }
    while (i < n && (h1_strict_class[d[i]] & cls))
        i++;
    return i;
}

#define H1_MAX_CHUNK_LINE 4096 /* bytes of a chunk-size line, extensions included */

/* States of the strict check. Head states come first (SC_IS_HEAD). */
enum {
    SC_START,
    SC_START_LF,
    SC_METHOD,
    SC_TARGET,
    SC_VERSION,
    SC_RES_CODE,
    SC_RES_REASON,
    SC_LINE_LF,
    SC_FIELD_START,
    SC_NAME,
    SC_VALUE,
    SC_VALUE_LF,
    SC_HEAD_LF,
    SC_CHUNK_START,
    SC_CHUNK_SIZE,
    SC_CHUNK_BWS,
    SC_CHUNK_EXT,
    SC_CHUNK_LF,
    SC_CHUNK_DATA,
    SC_CHUNK_DATA_CR,
    SC_CHUNK_DATA_LF,
    SC_BODY, /* bytes counted by http_parser (Content-Length, to EOF) or none */
    SC_DONE, /* after the trailers */
};
#define SC_IS_HEAD(s) ((s) <= SC_HEAD_LF)

bool h1_strict_token(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        if (!(h1_strict_class[(unsigned char)s[i]] & H1_TCHAR))
            return false;
    }
    return true;
}

bool h1_strict_value(const char *s, size_t n)
{
    return h1_strict_skip((const unsigned char *)s, 0, n, H1_VCHAR, 0x20) == n;
}

void h1_strict_init(h1_strict *p, bool response, size_t max_header_bytes, size_t max_headers,
                    size_t max_uri)
{
    memset(p, 0, sizeof(*p));
    p->response = response;
    p->max_header_bytes = max_header_bytes;
    p->max_headers = max_headers;
    p->max_uri = max_uri;
    h1_strict_next(p);
}

void h1_strict_next(h1_strict *p)
{
    p->state = SC_START;
    p->idx = 0;
    p->trailers = false;
    p->chunked = false;
    p->head_bytes = 0;
    p->count = 0;
    p->fields = 0;
    p->chunk = 0;
}

bool h1_strict_ended(const h1_strict *p, bool chunked)
{
    return p->state == (chunked ? SC_DONE : SC_BODY);
}

static int h1_strict_hex(unsigned char c)
{
    if (c <= '9')
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

/* The error for a bad start line: responses report a bad status line. */
static int h1_strict_start_err(const h1_strict *p, int err)
{
    return p->response ? H1_ERR_BAD_STATUS : err;
}

/* Checks head (or trailer) bytes d[0..n) and stops after the head's final LF.
 * Sets *used to the bytes looked at. */
static int h1_strict_head(h1_strict *p, const unsigned char *d, size_t n, size_t *used)
{
    static const char proto[] = "HTTP/";
    size_t i = 0, s;
    unsigned char c;
    int rc = 0;

    while (i < n) {
        c = d[i];
        switch (p->state) {
        case SC_START:
            if (c == '\r') {
                p->state = SC_START_LF;
                i++;
            } else if (p->response) {
                p->state = SC_VERSION;
                p->idx = 0;
            } else if (h1_strict_class[c] & H1_TCHAR) {
                p->state = SC_METHOD;
                i++;
            } else {
                rc = c == '\n' ? H1_ERR_BAD_LINE_END : H1_ERR_MALFORMED;
                goto out;
            }
            break;
        case SC_START_LF:
            if (c != '\n') {
                rc = H1_ERR_BAD_LINE_END;
                goto out;
            }
            p->state = SC_START;
            i++;
            break;
        case SC_METHOD:
            while (i < n && (h1_strict_class[d[i]] & H1_TCHAR))
                i++;
            if (i == n)
                break;
            if (d[i] != ' ') {
                rc = H1_ERR_MALFORMED;
                goto out;
            }
            i++;
            p->state = SC_TARGET;
            p->count = 0;
            break;
        case SC_TARGET:
            s = i;
            i = h1_strict_skip(d, i, n, H1_UCHAR, 0x21);
            p->count += i - s;
            if (p->count > p->max_uri) {
                rc = H1_ERR_URI_TOO_LONG;
                goto out;
            }
            if (i == n)
                break;
            if (d[i] != ' ' || p->count == 0) {
                rc =
                    d[i] == ' ' || d[i] == '\r' || d[i] == '\n' ? H1_ERR_MALFORMED : H1_ERR_BAD_URI;
                goto out;
            }
            i++;
            p->state = SC_VERSION;
            p->idx = 0;
            break;
        case SC_VERSION:
            /* "HTTP/" DIGIT "." DIGIT, major version 1 */
            if (p->idx < 5) {
                if (c != (unsigned char)proto[p->idx]) {
                    rc = h1_strict_start_err(p, H1_ERR_MALFORMED);
                    goto out;
                }
            } else if (p->idx == 5) {
                if (c != '1') {
                    rc = c >= '0' && c <= '9' ? H1_ERR_BAD_VERSION
                                              : h1_strict_start_err(p, H1_ERR_MALFORMED);
                    goto out;
                }
            } else if (p->idx == 6) {
                if (c != '.') {
                    rc = h1_strict_start_err(p, H1_ERR_MALFORMED);
                    goto out;
                }
            } else if (p->idx == 7) {
                if (c < '0' || c > '9') {
                    rc = h1_strict_start_err(p, H1_ERR_MALFORMED);
                    goto out;
                }
            } else if (!p->response) {
                if (c != '\r') {
                    rc = c == '\n' ? H1_ERR_BAD_LINE_END : H1_ERR_MALFORMED;
                    goto out;
                }
                p->state = SC_LINE_LF;
            } else {
                if (c != ' ') {
                    rc = H1_ERR_BAD_STATUS;
                    goto out;
                }
                p->state = SC_RES_CODE;
                p->idx = 0;
                i++;
                break;
            }
            p->idx++;
            i++;
            break;
        case SC_RES_CODE:
            /* 3DIGIT, then SP and a reason, or CRLF at once */
            if (p->idx < 3) {
                if (c < (p->idx == 0 ? '1' : '0') || c > '9') {
                    rc = H1_ERR_BAD_STATUS;
                    goto out;
                }
                p->idx++;
            } else if (c == ' ') {
                p->state = SC_RES_REASON;
            } else if (c == '\r') {
                p->state = SC_LINE_LF;
            } else {
                rc = c == '\n' ? H1_ERR_BAD_LINE_END : H1_ERR_BAD_STATUS;
                goto out;
            }
            i++;
            break;
        case SC_RES_REASON:
            i = h1_strict_skip(d, i, n, H1_VCHAR, 0x20);
            if (i == n)
                break;
            if (d[i] != '\r') {
                rc = d[i] == '\n' ? H1_ERR_BAD_LINE_END : H1_ERR_BAD_STATUS;
                goto out;
            }
            p->state = SC_LINE_LF;
            i++;
            break;
        case SC_LINE_LF:
        case SC_VALUE_LF:
            if (c != '\n') {
                rc = H1_ERR_BAD_LINE_END;
                goto out;
            }
            p->state = SC_FIELD_START;
            i++;
            break;
        case SC_FIELD_START:
            /* Whole header lines in the buffer are checked in one go; the
             * states below take over where a line is cut or wrong. */
            while (h1_strict_class[c] & H1_TCHAR) {
                size_t e = i + 1;

                while (e < n && (h1_strict_class[d[e]] & H1_TCHAR))
                    e++;
                if (e == n || d[e] != ':')
                    break;
                e = h1_strict_skip(d, e + 1, n, H1_VCHAR, 0x20);
                if (n - e < 3 || d[e] != '\r' || d[e + 1] != '\n')
                    break;
                if (++p->fields > p->max_headers) {
                    rc = H1_ERR_TOO_MANY_HEADERS;
                    goto out;
                }
                i = e + 2;
                c = d[i];
            }
            if (c == '\r') {
                p->state = SC_HEAD_LF;
            } else if (h1_strict_class[c] & H1_TCHAR) {
                if (++p->fields > p->max_headers) {
                    rc = H1_ERR_TOO_MANY_HEADERS;
                    goto out;
                }
                p->state = SC_NAME;
            } else if (c == ' ' || c == '\t') {
                rc = H1_ERR_OBS_FOLD;
                goto out;
            } else {
                rc = c == '\n' ? H1_ERR_BAD_LINE_END : H1_ERR_BAD_HEADER_NAME;
                goto out;
            }
            i++;
            break;
        case SC_NAME:
            while (i < n && (h1_strict_class[d[i]] & H1_TCHAR))
                i++;
            if (i == n)
                break;
            if (d[i] != ':') {
                rc = H1_ERR_BAD_HEADER_NAME;
                goto out;
            }
            p->state = SC_VALUE;
            i++;
            break;
        case SC_VALUE:
            i = h1_strict_skip(d, i, n, H1_VCHAR, 0x20);
            if (i == n)
                break;
            if (d[i] != '\r') {
                rc = d[i] == '\n' ? H1_ERR_BAD_LINE_END : H1_ERR_BAD_HEADER_VALUE;
                goto out;
            }
            p->state = SC_VALUE_LF;
            i++;
            break;
        case SC_HEAD_LF:
            if (c != '\n') {
                rc = H1_ERR_BAD_LINE_END;
                goto out;
            }
            i++;
            if (p->trailers)
                p->state = SC_DONE;
            else
                p->state = p->chunked ? SC_CHUNK_START : SC_BODY;
            goto out;
        default:
            rc = H1_ERR_MALFORMED;
            goto out;
        }
    }
out:
    *used = i;
    return rc;
}

/* Checks chunk framing bytes d[0..n) up to the trailers. */
static int h1_strict_chunks(h1_strict *p, const unsigned char *d, size_t n, size_t *used)
{
    size_t i = 0, s;
    uint64_t k;
    unsigned char c;
    int rc = 0;

    while (i < n && !SC_IS_HEAD(p->state)) {
        c = d[i];
        switch (p->state) {
        case SC_CHUNK_START:
            if (!(h1_strict_class[c] & H1_HEX)) {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            p->chunk = (uint64_t)h1_strict_hex(c);
            p->count = 1;
            p->state = SC_CHUNK_SIZE;
            i++;
            break;
        case SC_CHUNK_SIZE:
            if (h1_strict_class[c] & H1_HEX) {
                if (p->chunk > (UINT64_MAX >> 4)) {
                    rc = H1_ERR_BAD_CHUNK;
                    goto out;
                }
                p->chunk = p->chunk << 4 | (uint64_t)h1_strict_hex(c);
            } else if (c == ';') {
                p->state = SC_CHUNK_EXT;
            } else if (c == ' ' || c == '\t') {
                p->state = SC_CHUNK_BWS;
            } else if (c == '\r') {
                p->state = SC_CHUNK_LF;
            } else {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            p->count++;
            i++;
            break;
        case SC_CHUNK_BWS:
            if (c == ';') {
                p->state = SC_CHUNK_EXT;
            } else if (c != ' ' && c != '\t') {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            p->count++;
            i++;
            break;
        case SC_CHUNK_EXT:
            s = i;
            i = h1_strict_skip(d, i, n, H1_VCHAR, 0x20);
            p->count += i - s;
            if (i == n)
                break;
            if (d[i] != '\r') {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            p->state = SC_CHUNK_LF;
            p->count++;
            i++;
            break;
        case SC_CHUNK_LF:
            if (c != '\n') {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            i++;
            if (p->chunk == 0) {
                /* last chunk: trailers follow, checked like a head */
                p->trailers = true;
                p->head_bytes = 0;
                p->state = SC_FIELD_START;
            } else {
                p->state = SC_CHUNK_DATA;
            }
            break;
        case SC_CHUNK_DATA:
            k = n - i < p->chunk ? n - i : p->chunk;
            i += (size_t)k;
            p->chunk -= k;
            if (p->chunk == 0)
                p->state = SC_CHUNK_DATA_CR;
            break;
        case SC_CHUNK_DATA_CR:
            if (c != '\r') {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            p->state = SC_CHUNK_DATA_LF;
            i++;
            break;
        case SC_CHUNK_DATA_LF:
            if (c != '\n') {
                rc = H1_ERR_BAD_CHUNK;
                goto out;
            }
            p->state = SC_CHUNK_START;
            i++;
            break;
        case SC_BODY:
            i = n;
            break;
        default:
            rc = H1_ERR_MALFORMED;
            goto out;
        }
        if (p->count > H1_MAX_CHUNK_LINE) {
            rc = H1_ERR_BAD_CHUNK;
            goto out;
        }
    }
out:
    *used = i;
    return rc;
}

int h1_strict_scan(h1_strict *p, const void *data, size_t n, bool chunked)
{
    const unsigned char *d = data;
    size_t i = 0, used, lim, room;
    int rc;

    p->chunked = chunked;
    while (i < n) {
        if (SC_IS_HEAD(p->state)) {
            room = p->max_header_bytes - p->head_bytes;
            lim = n - i < room ? n - i : room;
            rc = h1_strict_head(p, d + i, lim, &used);
            p->head_bytes += used;
            i += used;
            if (rc < 0)
                return rc;
            if (SC_IS_HEAD(p->state) && i < n)
                return H1_ERR_HEADERS_TOO_LARGE;
        } else {
            rc = h1_strict_chunks(p, d + i, n - i, &used);
            i += used;
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}
