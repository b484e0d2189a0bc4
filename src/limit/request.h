/*
 * request: the view of a request that limit decisions read -- method, path,
 * headers and the caller's identity -- as slices into the caller's memory.
 * Nothing here parses HTTP; the gateway fills it from its own parser and
 * token table.
 */
#ifndef TG_LIMIT_REQUEST_H
#define TG_LIMIT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes [p, p + n) in someone else's buffer. p == NULL means "absent",
 * which is not the same as present and empty. */
typedef struct limit_slice {
    const char *p;
    size_t n;
} limit_slice;

/* Finds header `name` (case-insensitive, name_len bytes) and stores its
 * value in *value. Returns true if present. */
typedef bool (*limit_header_fn)(void *ctx, const char *name, size_t name_len, limit_slice *value);

typedef struct limit_request {
    limit_slice method; /* "GET", case-sensitive */
    limit_slice path;   /* "/api/v2/scripts/42"; a query string after '?' is ignored */
    /* Identity; any may be absent (p == NULL). */
    limit_slice ip;         /* the peer's address as text */
    limit_slice token;      /* the bearer token */
    limit_slice client;     /* the token's client id */
    limit_slice user;       /* the token's user id */
    limit_slice org;        /* the token's organization id */
    limit_header_fn header; /* NULL: no headers */
    void *header_ctx;
} limit_request;

/* Headers as two parallel arrays, for request_array_header. */
typedef struct limit_header_array {
    const limit_slice *names;
    const limit_slice *values;
    size_t n;
} limit_header_array;

/* A limit_header_fn over a limit_header_array passed as ctx: the first
 * header whose name matches. */
bool request_array_header(void *ctx, const char *name, size_t name_len, limit_slice *value);

/* Looks header `name` up through r->header; false if absent or no lookup. */
bool request_header(const limit_request *r, const char *name, size_t name_len, limit_slice *value);

/* A slice over a NUL-terminated string (NULL stays absent). */
limit_slice request_slice(const char *s);

#endif
