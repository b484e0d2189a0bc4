/*
 * h1: incremental HTTP/1.1 request and response parser on top of
 * libhttp-parser (Debian's libhttp-parser-dev 2.9.4).
 *
 * http_parser does the message framing: methods, status codes, versions,
 * Content-Length, chunked decoding, keep-alive and upgrade rules. This module
 * adds what a server and a load generator need around it:
 *
 *   - messages one at a time: a feed stops right after the last byte of a
 *     complete message, so a server answers pipelined requests in order;
 *   - the parsed message as slices (target, path, query, reason, headers)
 *     plus the body in a bounded `buf`;
 *   - per-parser limits (header bytes, header count, body bytes, URI length),
 *     each with its own error and HTTP status;
 *   - a strict check (core/h1_strict.h) of every byte http_parser consumed.
 *     Debian builds the library with HTTP_PARSER_STRICT=0 (upstream's
 *     default for the shared library; the header's default of 1 only affects
 *     code compiled against it), and that build accepts bare LF, obs-fold,
 *     "Content-Length : 5" (as a Content-Length), any two bytes after chunk
 *     data and "HXXP/1.1": request-smuggling vectors for a gateway. h1 also
 *     refuses a request Transfer-Encoding other than exactly "chunked" and
 *     framing fields in trailers. (http_parser itself refuses Content-Length
 *     with Transfer-Encoding, a repeated or non-numeric Content-Length and
 *     non-hex or overflowing chunk sizes.)
 *
 * No Debian library parses HTTP/1.1 strictly and incrementally with bounded
 * memory (picohttpparser is not packaged; llhttp ships in Debian 12 only as
 * node-llhttp, sources for Node.js), so the strict check is written by hand
 * and the framing stays http_parser's.
 *
 * Memory: a parser allocates nothing per message once warmed up. Slices point
 * into the caller's buffer when the message arrived in one feed (zero-copy),
 * and otherwise into memory the parser owns: when a feed ends inside a message,
 * the slices seen so far are copied into the parser, because the caller may
 * reuse the bytes it fed.
 */
#ifndef TG_CORE_H1_H
#define TG_CORE_H1_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/h1_strict.h"

/* Errors returned by the parser, each distinct from errno values. The HTTP
 * status a server answers with is h1_error_status(). */
enum h1_error {
    H1_ERR_MALFORMED = -1001,             /* 400: syntax error in a start line or header line */
    H1_ERR_BAD_METHOD = -1002,            /* 501: method http_parser does not know */
    H1_ERR_BAD_URI = -1003,               /* 400: invalid request target */
    H1_ERR_BAD_VERSION = -1004,           /* 505: HTTP major version other than 1 */
    H1_ERR_BAD_STATUS = -1005,            /* 502: invalid status line (responses) */
    H1_ERR_BAD_HEADER_NAME = -1006,       /* 400: empty name, bad character, space before ':' */
    H1_ERR_BAD_HEADER_VALUE = -1007,      /* 400: control character in a value */
    H1_ERR_OBS_FOLD = -1008,              /* 400: header line starting with space or tab */
    H1_ERR_BAD_LINE_END = -1009,          /* 400: bare LF or CR not followed by LF */
    H1_ERR_AMBIGUOUS_LENGTH = -1010,      /* 400: Content-Length with Transfer-Encoding, two
                                             Content-Length fields, framing fields in trailers */
    H1_ERR_BAD_CONTENT_LENGTH = -1011,    /* 400: Content-Length not a single number */
    H1_ERR_BAD_TRANSFER_ENCODING = -1012, /* 400: request Transfer-Encoding other than
                                             exactly "chunked", or on HTTP/1.0 */
    H1_ERR_BAD_CHUNK = -1013,             /* 400: bad chunk size, extension or chunk end */
    H1_ERR_HEADERS_TOO_LARGE = -1014,     /* 431: head (or trailers) over max_header_bytes */
    H1_ERR_TOO_MANY_HEADERS = -1015,      /* 431: more than max_headers fields */
    H1_ERR_BODY_TOO_LARGE = -1016,        /* 413: body over max_body */
    H1_ERR_URI_TOO_LONG = -1017,          /* 414: request target over max_uri */
    H1_ERR_TRUNCATED = -1018,             /* 400: end of stream inside a message */
    H1_ERR_AFTER_CLOSE = -1019,           /* 400: bytes after a message that ends the connection */
};

typedef enum h1_kind {
    H1_REQUEST = 0,
    H1_RESPONSE = 1,
} h1_kind;

/* Request methods. Methods http_parser knows but that are not listed here are
 * H1_METHOD_OTHER (their name is in h1_msg.method_name). */
typedef enum h1_method {
    H1_METHOD_NONE = 0, /* responses */
    H1_GET,
    H1_HEAD,
    H1_POST,
    H1_PUT,
    H1_DELETE,
    H1_PATCH,
    H1_OPTIONS,
    H1_CONNECT,
    H1_TRACE,
    H1_METHOD_OTHER,
} h1_method;

/* One header field: name and value as byte ranges (not NUL-terminated). The
 * value has no leading or trailing whitespace. */
typedef struct h1_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} h1_header;

/* Limits, per parser. Set a limit to SIZE_MAX to disable it. */
typedef struct h1_config {
    size_t max_header_bytes; /* bytes of start line + header lines + final CRLF, and
                                again for the trailers (default 16384) */
    size_t max_headers;      /* header fields, trailers included (default 100) */
    size_t max_body;         /* body bytes after chunked decoding (default 512000) */
    size_t max_uri;          /* request-target bytes (default 8192) */
    bool discard_body;       /* count body bytes but do not keep them (load generators) */
} h1_config;

/* A parsed message. Every pointer stays valid until the next message begins
 * (the next h1_parser_feed() or h1_parser_finish() after the message
 * completed), h1_parser_reset() or h1_parser_free(). Slices may point into the bytes the caller fed
 * in the feed that completed the message: the caller keeps those bytes unchanged while it uses the
 * message, or calls h1_parser_keep() first. */
typedef struct h1_msg {
    /* Requests. */
    h1_method method;
    const char *method_name; /* NUL-terminated, static ("GET", "M-SEARCH") */
    const char *target;      /* request-target as sent */
    size_t target_len;
    const char *path; /* "/a/b" of "/a/b?x=1" and "http://h/a/b?x=1"; "/" for
                         "http://h"; "*"; the authority for CONNECT */
    size_t path_len;
    const char *query; /* "x=1" after '?' (NULL and 0 without '?'); no fragment */
    size_t query_len;

    /* Responses. */
    int status;         /* 100..999 */
    const char *reason; /* reason phrase, may be empty */
    size_t reason_len;

    /* Both. */
    int version_major;  /* always 1 */
    int version_minor;  /* 0 or 1 (higher minors are read as 1.1) */
    h1_header *headers; /* n_headers fields, then n_trailers trailer fields */
    size_t n_headers;
    size_t n_trailers;
    buf body;          /* decoded body (empty with discard_body) */
    uint64_t body_len; /* body bytes seen, kept or not */
    bool chunked;      /* the body was chunked */
    bool keep_alive;   /* see h1_should_keep_alive() */
    bool upgrade;      /* Upgrade (requests, 101 responses) or CONNECT */
} h1_msg;

/* A parser, allocated by the caller (e.g. inside its connection struct). The
 * fields after `msg` are private. */
typedef struct h1_parser {
    h1_msg msg;

    /* private */
    http_parser hp;
    h1_config cfg;
    h1_kind kind;
    int err;       /* sticky error, 0 if none */
    int cb_err;    /* error raised inside a callback */
    bool complete; /* msg is complete; the next feed starts a new message */
    bool msg_done; /* http_parser reported the end of the message in this feed */
    bool head_done;
    bool in_message;
    bool closed; /* the last message ended the connection */
    bool body_chunked;
    uint8_t last_cb;       /* which slice the last data callback extended */
    h1_method response_to; /* method of the request the next response answers */
    size_t path_off;       /* path and query as offsets into target (SIZE_MAX: none) */
    size_t query_off;
    size_t hdr_cap;    /* headers allocated */
    size_t n_fields;   /* fields begun (head + trailers) */
    size_t owned_upto; /* slices before this index are in the store or empty */
    char *store;       /* copies of slices that crossed feeds */
    size_t store_len;
    size_t store_cap;
    h1_strict sc; /* the strict check of the bytes http_parser consumed */
} h1_parser;

/* Fills `c` with the defaults. */
void h1_config_default(h1_config *c);

/* Initializes a parser for requests or responses with the limits in `cfg`
 * (copied; NULL means the defaults). Allocates nothing; cannot fail. */
void h1_parser_init(h1_parser *p, h1_kind kind, const h1_config *cfg);

/* Frees what the parser allocated; it must be initialized again before use. */
void h1_parser_free(h1_parser *p);

/* Forgets any message and error, for a new connection; keeps the allocations. */
void h1_parser_reset(h1_parser *p);

/* Parses `len` bytes. Returns the number of bytes consumed, or a negative
 * error (enum h1_error or -ENOMEM). Either every byte is consumed and the
 * message is not complete yet, or the feed stops right after the last byte of
 * a complete message: then h1_parser_message() returns it and the caller
 * feeds the remaining bytes (the next pipelined message) after handling it.
 * The bytes consumed are the caller's to discard, except that the message's
 * slices may point into those of the feed that completed it (see h1_msg).
 * After an error the parser is dead: every later feed returns the same error.
 * A feed after a message that was not keep-alive returns H1_ERR_AFTER_CLOSE
 * (if len > 0). */
ssize_t h1_parser_feed(h1_parser *p, const void *data, size_t len);

/* Tells the parser that the stream ended (the peer closed). Returns 1 when
 * this completes a message (a response whose body runs to the end of the
 * stream; h1_parser_message() returns it), 0 when no message was in progress,
 * or H1_ERR_TRUNCATED (or the parser's earlier error). */
int h1_parser_finish(h1_parser *p);

/* The complete message after a feed that completed one, else NULL. */
const h1_msg *h1_parser_message(const h1_parser *p);

/* The message as soon as its head is complete (its body may still be
 * arriving), else NULL: a server uses this to answer "Expect: 100-continue"
 * or to reject a request before reading its body. The body fields are only
 * final once h1_parser_message() returns the message. */
const h1_msg *h1_parser_head(const h1_parser *p);

/* Copies the slices of the current message that point into bytes the caller
 * fed into parser-owned memory, so the caller may reuse its buffer while it
 * still holds the message. Returns 0 or -ENOMEM. */
int h1_parser_keep(h1_parser *p);

/* Response parsers: the next response answers a request with method `m`.
 * H1_HEAD means the response has no body whatever its headers say; H1_CONNECT
 * means a 2xx response has no body and ends HTTP on the connection. Applies to
 * the next final (non-1xx) response, then is forgotten. */
void h1_parser_response_to(h1_parser *p, h1_method m);

/* Whether the connection may carry another message: false once a message
 * ended the connection or the parser failed. A message keeps the connection
 * in HTTP/1.1 unless it says "Connection: close", and in HTTP/1.0 only if it
 * says "Connection: keep-alive"; a response whose body ran to the end of the
 * stream, an upgrade and a CONNECT end it. */
bool h1_should_keep_alive(const h1_parser *p);

/* The first header field named `name` (ASCII case-insensitive), or NULL.
 * h1_msg_trailer() looks among the trailers. */
const h1_header *h1_msg_header(const h1_msg *m, const char *name);
const h1_header *h1_msg_header_n(const h1_msg *m, const char *name, size_t name_len);
const h1_header *h1_msg_trailer(const h1_msg *m, const char *name);

/* A short description of a parser error (or of -errno), for logs. */
const char *h1_strerror(int err);

/* The status a server answers a request that failed with `err`: 400, 413,
 * 414, 431, 501, 505; 502 for errors only responses produce; 500 for -ENOMEM
 * and anything else. */
int h1_error_status(int err);

#endif
