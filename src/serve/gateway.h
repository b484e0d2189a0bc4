/*
 * gateway: what the server answers to one complete request -- route, auth,
 * limits, handler, latency model -- and how that answer is written.
 *
 *   route match        404 / 405 JSON (with Allow)
 *   auth: bearer       401 JSON without a valid token
 *   limit_decide       rejected: 429, Retry-After, dialect headers, 429 body
 *   handler            HANDLER_DONE, or HANDLER_PENDING and done() later
 *   latency model      a loop timer, fixed + uniform [0, spread]
 *   response           status line, Date, Content-Type, Content-Length,
 *                      the dialect headers of every limited response, the
 *                      handler's headers, Connection when needed, body
 *
 * A request answered at once is serialized into the worker's output buffer
 * (worker.h), which the worker writes to the connection once per read, so a
 * keep-alive or pipelined connection costs no allocation and one write per
 * batch. A request that waits (a latency timer, a pending handler, an
 * asynchronous store) takes its connection out of parsing until it is
 * answered, which keeps pipelined responses in order. Concurrency slots are
 * released when the response is handed to the connection or when the
 * connection dies first.
 */
#ifndef TG_SERVE_GATEWAY_H
#define TG_SERVE_GATEWAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "core/h1.h"
#include "limit/limit.h"
#include "limit/store.h"
#include "serve/gwconf.h"
#include "serve/handler.h"

struct worker;
struct gwconn;
struct metrics;

struct gw_shared;

/* What every worker shares: the configuration, the limit store, metrics. */
typedef struct gw {
    const gw_config *cfg;
    limit_store *store;       /* in-process: the store, or the fallback of a shared one */
    struct gw_shared *shared; /* with `store: redis://`: one Redis store per worker */
    unsigned nshared;
    struct metrics *metrics;
    atomic_bool draining; /* SIGTERM seen: /healthz says so, responses close */
} gw;

/* One request from the moment it is complete until its response is written.
 * Pooled per worker; owned by the gateway. */
typedef struct gwreq {
    struct gwconn *gc; /* NULL once the connection died (orphan) */
    struct worker *w;
    struct gwreq *next_free;
    const gw_route *route;
    int route_index; /* -1: none (metrics' "unmatched") */
    int status;      /* of the response, for metrics */
    uint64_t start_ns;
    uint8_t state; /* enum in gateway.c */
    bool head;     /* HEAD: no body */
    bool http10;
    bool limited; /* d holds a decision with at least one limit */
    bool shared;  /* d was decided by the worker's shared store (release there) */
    bool timer_on;
    bool in_handle;   /* inside the handler's handle() */
    bool done_early;  /* done() was called inside handle() */
    uv_timer_t timer; /* latency model */
    handler_req hreq;
    handler_resp resp;
    buf hdrs; /* handler's extra header lines */
    buf body; /* handler's body */
    handler_param params[PATTERN_MAX_CAPTURES];
    char ip[48];      /* the ip scope's value (peer or X-Forwarded-For) */
    char token[256];  /* the bearer token, NUL-terminated */
    limit_decision d; /* last: large */
} gwreq;

/* The pool of gwreqs of one worker. */
typedef struct gateway_pool {
    gwreq *free_list;
    size_t nfree;
    size_t nlive; /* taken and not yet put back (in flight or orphaned) */
} gateway_pool;

/* With `store: redis://` (cfg->store_redis): makes one Redis store per
 * worker, on its loop (workers initialized, not started), freed by the
 * worker when its loop ends; and, unless tokens.key is set, makes the token
 * table sign with the key every gateway on that Redis shares (sharedkey.h;
 * if Redis cannot be reached now, a warning, and tokens stay local to this
 * gateway). Returns 0 (also without Redis) or -ENOMEM with a message. */
int gateway_shared_init(gw *g, struct worker *workers, unsigned n, char *err, size_t errlen);

/* Frees the shared stores the workers did not free (a worker that never ran
 * or did not finish); before worker_free, after the workers' threads ended. */
void gateway_shared_free(gw *g);

struct rediskv;

/* On a worker's thread with `store: redis://`: that worker's connection for
 * shared emulated state (serve/rediskv.h); NULL otherwise. */
struct rediskv *gateway_kv(void);

/* Answers the complete request msg of connection gc: appends the response to
 * the worker's output buffer, or takes the request asynchronous (gc->req set)
 * and later calls worker_conn_answered(gc). msg stays valid until then. */
void gateway_request(struct gwconn *gc, const h1_msg *msg);

/* Appends an error response {"message", "code", "status"} with Connection:
 * close (bad input, timeouts) to the worker's output buffer. */
void gateway_error(struct gwconn *gc, int status, const char *message);

/* The connection of an asynchronous request died: the request drops its
 * timer and limits, or, if a handler or store still has to answer, stays
 * alive as an orphan until it does. */
void gateway_conn_gone(gwreq *r);

/* Frees the pooled gwreqs (their timers close on the loop). */
void gateway_pool_free(gateway_pool *pool);

/* Appends a response to out: status line, the cached Date line, Server,
 * Content-Type (unless content_type is NULL or ""), Content-Length, the
 * lines in extra[0..nextra) (each "Name: value\r\n"), Connection: close when
 * close, Connection: keep-alive when keep_alive10, then the body unless
 * head. Returns 0 or a buf error. */
int gateway_write_response(buf *out, int status, const char *date, size_t date_len,
                           const char *content_type, const buf *const *extra, size_t nextra,
                           const char *body, size_t body_len, bool head, bool close,
                           bool keep_alive10);

/* For the proxy handler, which runs inside gateway requests: the parsed
 * request behind a handler_req (valid while the request is not an orphan),
 * the peer's address, and whether the client's connection died (then the
 * request only waits for done() and its message is gone). */
const h1_msg *gateway_req_msg(const handler_req *req);
const char *gateway_req_peer(const handler_req *req);
bool gateway_req_orphan(const handler_req *req);

#endif
