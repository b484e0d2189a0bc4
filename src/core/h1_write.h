/*
 * h1_write: HTTP/1.1 response and request serializers, the counterpart of the
 * h1 parser.
 *
 * A message is written into a `buf` in one piece: the size is computed first,
 * the buffer grows once, and the bytes are copied in; status lines of the
 * known codes are precomputed, so no printf runs on the hot path. Framing
 * headers (Content-Length, Connection, Host) are added unless the caller
 * supplies them. Header names must be tokens and values must not contain
 * control characters (CR and LF in particular), which keeps a value taken from
 * a request or a template from splitting the message.
 *
 * Hand-written because http_parser only parses, and the rest is a few memcpys.
 */
#ifndef TG_CORE_H1_WRITE_H
#define TG_CORE_H1_WRITE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/h1.h"

enum h1_write_flags {
    H1_WRITE_CLOSE = 1 << 0,      /* add "Connection: close" */
    H1_WRITE_KEEP_ALIVE = 1 << 1, /* add "Connection: keep-alive" (answers to HTTP/1.0) */
    H1_WRITE_HEAD = 1 << 2,       /* response to HEAD: Content-Length of body_len, no body */
};

/* Appends an HTTP/1.1 response to `out`: status line, `headers[0..n)`,
 * "Content-Length: body_len" unless the headers have Content-Length or
 * Transfer-Encoding (then the body is written as given, e.g. already chunked),
 * a Connection field as the flags ask unless the headers have one, then the
 * body. 1xx, 204 and 304 responses get neither Content-Length nor body. With
 * body == NULL and body_len > 0 only the head is written, announcing body_len
 * bytes the caller sends itself (e.g. from its own buffer with writev).
 * Returns 0; -EINVAL for a status outside 100..999, a header name that is not
 * a token or a value with a control character; -ENOBUFS or -ENOMEM when `out`
 * cannot grow. `out` is unchanged on failure. */
int h1_write_response(buf *out, int status, const h1_header *headers, size_t n, const void *body,
                      size_t body_len, unsigned flags);

/* Appends an HTTP/1.1 request: "METHOD target HTTP/1.1", "Host: host" unless
 * `host` is NULL or the headers have Host, `headers[0..n)`, "Content-Length:
 * body_len" when there is a body (body != NULL or body_len > 0) or the method
 * is POST, PUT or PATCH, unless the headers have Content-Length or
 * Transfer-Encoding, "Connection: close" with H1_WRITE_CLOSE, then the body.
 * `method` and `host` are NUL-terminated; the target is target[0..target_len).
 * Returns 0, -EINVAL (method not a token, target empty or with a space or
 * control character, bad header or host), -ENOBUFS or -ENOMEM; `out` is
 * unchanged on failure. */
int h1_write_request(buf *out, const char *method, const char *target, size_t target_len,
                     const char *host, const h1_header *headers, size_t n, const void *body,
                     size_t body_len, unsigned flags);

/* The reason phrase of a status code ("Too Many Requests"), or "" for a code
 * without a registered phrase. */
const char *h1_status_reason(int status);

#endif
