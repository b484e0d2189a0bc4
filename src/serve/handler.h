/*
 * handler: the contract between the gateway (which speaks HTTP, decides
 * limits and writes responses) and the endpoints it serves (the emulated
 * platform API: OAuth token, JSON collections, analytics; and the proxy).
 *
 * The gateway parses a request, authenticates it, decides its limits, and
 * only if admitted calls the route's handler with a `handler_req`. The handler
 * fills a `handler_resp` synchronously (status, content type, extra header
 * lines, body) and returns. The gateway then applies the route's latency model
 * (a loop timer), adds the rate-limit headers and writes the response, keeping
 * pipelined responses in order.
 *
 * A handler may instead answer asynchronously (the proxy does): it returns
 * HANDLER_PENDING and later calls `req->done(req->done_ctx)` exactly once on
 * the same worker thread, after filling the response. Handlers run on worker
 * threads concurrently: any state shared between requests (entities, jobs,
 * tokens) must be thread-safe.
 */
#ifndef TG_SERVE_HANDLER_H
#define TG_SERVE_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/config.h"
#include "core/rng.h"

/* Who is calling, from the bearer token (all NULL when unauthenticated). */
typedef struct handler_identity {
    const char *token;
    const char *client;
    const char *user;
    const char *org;
} handler_identity;

/* A `{name}` segment captured by the route's path pattern. */
typedef struct handler_param {
    const char *name;
    const char *value; /* not NUL-terminated */
    size_t value_len;
} handler_param;

typedef struct handler_req {
    const char *method; /* "GET", NUL-terminated */
    const char *path;   /* without the query, not NUL-terminated */
    size_t path_len;
    const char *query; /* without '?', not NUL-terminated; may be empty */
    size_t query_len;
    const char *body;
    size_t body_len;
    const handler_param *params;
    size_t n_params;
    handler_identity id;
    const char *peer_ip; /* NUL-terminated */
    uint64_t now;        /* monotonic ns, read once per loop pass */
    uint64_t now_wall;   /* epoch ns */
    rng *rng;            /* the worker's generator */
    /* Returns the value of a request header (case-insensitive name) and its
     * length, or NULL. */
    const char *(*header)(const struct handler_req *req, const char *name, size_t *len);
    void *header_ctx;
    /* For HANDLER_PENDING only: call once when the response is filled. */
    void (*done)(void *done_ctx);
    void *done_ctx;
} handler_req;

typedef struct handler_resp {
    int status;               /* e.g. 200 */
    const char *content_type; /* static string; default "application/json" */
    buf *headers;             /* extra header lines, each "Name: value\r\n" */
    buf *body;
} handler_resp;

enum { HANDLER_DONE = 0, HANDLER_PENDING = 1 };

struct tokens;

/* What the gateway shares with every handler; it outlives all of them. */
typedef struct handler_env {
    struct tokens *tokens; /* OAuth clients and token signing (serve/tokens.h) */
} handler_env;

/* A kind of endpoint, named in the configuration (`handler: collection`). */
typedef struct handler_kind {
    const char *name;
    /* Builds the route's state from its YAML `options` mapping (NULL when the
     * route has none). Errors carry file:line:column via config_error.
     * Returns 0 and sets *state, or a negative errno. */
    int (*init)(void **state, const config_doc *doc, const config_node *options,
                const handler_env *env, char *err, size_t errlen);
    /* Serves one admitted request. Returns HANDLER_DONE or HANDLER_PENDING. */
    int (*handle)(void *state, handler_req *req, handler_resp *resp);
    /* Frees the state; NULL is accepted. */
    void (*free)(void *state);
} handler_kind;

/* Writes a JSON error body {"message": ..., "code": ..., "status": ...} and
 * sets the status: the platform's error shape, used by every handler. */
void handler_error(handler_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
