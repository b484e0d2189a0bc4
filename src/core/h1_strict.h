/*
 * h1_strict: an incremental check of HTTP/1.1 message bytes against the
 * RFC 9112 grammar, for the bytes http_parser has already accepted.
 *
 * Debian's libhttp_parser is built with HTTP_PARSER_STRICT=0, and that build
 * lets through what request smuggling is made of: bare LF line ends, a CR not
 * followed by LF, obs-fold, whitespace between a header name and its colon
 * ("Content-Length : 5" counts as a Content-Length), any two bytes after
 * chunk data, anything up to CR in a chunk extension, HTTP/0.9 request lines,
 * "HXXP/1.1", repeated spaces in the request line. The h1 parser runs this
 * check over exactly the bytes http_parser consumed, so a message both accept
 * is a message every strict peer reads the same way.
 *
 * Checked: the start line (method token, one SP, a target of visible ASCII or
 * obs-text, one SP, "HTTP/1." DIGIT; or "HTTP/1." DIGIT SP 3DIGIT [SP
 * reason]), CRLF (and only CRLF) after every line, header lines as token ":"
 * value without control characters, and for chunked bodies the chunk-size
 * lines (hex, optional whitespace before ';' extensions, at most 4096 bytes),
 * the CRLF after each chunk's data and the trailer lines. Empty lines before
 * a start line are allowed (RFC 9112 2.2). It also enforces the head limits
 * at the exact byte where they are crossed, so that a message is refused the
 * same way however it was split into feeds: bytes of the head (and, counted
 * afresh, of the trailers), header fields (head and trailers together), and
 * target length. Content-Length bodies are not looked at (http_parser counts
 * them).
 *
 * Hand-written because that is the part http_parser leaves out; it is a
 * table-driven state machine that reads each byte once, eight at a time in
 * values and targets.
 */
#ifndef TG_CORE_H1_STRICT_H
#define TG_CORE_H1_STRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The check's state; the fields are private. */
typedef struct h1_strict {
    size_t max_header_bytes;
    size_t max_headers;
    size_t max_uri;
    size_t head_bytes; /* of the head, then of the trailers */
    size_t count;      /* target bytes, then bytes of the current chunk-size line */
    size_t fields;     /* header fields, trailers included */
    uint64_t chunk;    /* chunk size being read, then chunk bytes left */
    uint8_t state;
    uint8_t idx; /* position inside "HTTP/1.x" or the status code */
    bool response;
    bool trailers;
    bool chunked;
} h1_strict;

/* Prepares a check for requests or responses with the given limits (SIZE_MAX
 * disables one). Cannot fail. */
void h1_strict_init(h1_strict *s, bool response, size_t max_header_bytes, size_t max_headers,
                    size_t max_uri);

/* Starts over at the beginning of a message. */
void h1_strict_next(h1_strict *s);

/* Checks the next n bytes of the stream. `chunked` tells whether the body of
 * the current message is chunked, needed when the head ends in these bytes
 * (http_parser has decided it by then). Returns 0 or the first violation as
 * an enum h1_error (see core/h1.h); the state is meaningless after an error. */
int h1_strict_scan(h1_strict *s, const void *data, size_t n, bool chunked);

/* Whether a message may end where the check stands: after the head for a
 * body that is not chunked (or after its Content-Length bytes), after the
 * trailers for a chunked one. */
bool h1_strict_ended(const h1_strict *s, bool chunked);

/* Whether s[0..n) is a token (a valid method or header name, not empty),
 * and whether it is a valid field value (no control character but HTAB). */
bool h1_strict_token(const char *s, size_t n);
bool h1_strict_value(const char *s, size_t n);

#endif
