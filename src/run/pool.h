/*
 * pool: the keep-alive HTTP/1.1 connections of one event-loop thread to one
 * target (scheme, host, port), for `tollgate run`.
 *
 * A request is a pool_req whose bytes the caller serialized (run/reqbuild.h);
 * pool_send puts it on an idle connection of the pool, or opens a new one
 * (TCP, and TLS with SNI and verification when the pool has a TLS context),
 * writes it, and parses the response with core/h1.h. The caller gets one
 * callback per request: the response, or why there was none. Nothing is
 * allocated per request once the pool has as many connections as requests
 * in flight: connections keep their read buffer and parsers, and closed
 * connections are recycled.
 *
 * Behaviour:
 *   - a connection goes back to the pool after a complete response, unless
 *     the response ended the connection (`Connection: close`, HTTP/1.0
 *     without keep-alive, a body that ran to the end of the stream) or the
 *     server sent bytes after it; it is then closed;
 *   - connect timeout: from the start of the TCP connect to the end of the
 *     TLS handshake; response timeout: from the request's write to the last
 *     byte of the response;
 *   - a request sent on a reused connection that the server had closed in
 *     the meantime (end of stream or reset before any response byte) is sent
 *     once more on a new connection, as browsers and curl do: a keep-alive
 *     race is not the server's answer;
 *   - failures are classified (pool_err) and say whether the request left
 *     (`sent`): a connect failure never sent anything, so any request may be
 *     retried; a timeout or a reset after the write leaves doubt.
 *
 * Times are monotonic ns from the loop's looptime (read once per loop pass).
 * One pool per target per thread; nothing here is thread-safe.
 */
#ifndef TG_RUN_POOL_H
#define TG_RUN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/conn.h"
#include "core/h1.h"
#include "core/tls.h"
#include "run/looptime.h"

/* Why a request got no response. */
enum pool_err {
    POOL_ERR_NONE = 0, /* a response arrived */
    POOL_ERR_REFUSED,  /* no connection: refused, unreachable */
    POOL_ERR_RESET,    /* the connection was reset or closed before a full response */
    POOL_ERR_TIMEOUT,  /* connect or response timeout */
    POOL_ERR_TLS,      /* TLS handshake or certificate verification failed */
    POOL_ERR_OTHER,    /* anything else: an invalid response, out of memory... */
};

typedef struct pool_config {
    struct sockaddr_storage addr; /* where to connect */
    tls_ctx *tls;                 /* client context for https targets, else NULL; shared */
    const char *host;             /* name for SNI and certificate checks (borrowed) */
    uint64_t connect_timeout_ns;  /* 0 = none */
    uint64_t response_timeout_ns; /* 0 = none */
    size_t max_body;              /* bound on a kept response body, bytes; 0 = 16 MiB */
} pool_config;

/* The outcome of one request. Pointers are valid only during the callback,
 * and the response only until the callback sends another request on this
 * pool (the connection may be reused at once, which resets its parser). */
typedef struct pool_result {
    const h1_msg *msg;   /* the response, or NULL on failure */
    enum pool_err err;   /* POOL_ERR_NONE with a response */
    int code;            /* the conn close status behind err (libuv or TLS_ERR_*), or an h1 error */
    const char *detail;  /* a sentence for people on failure, else NULL */
    bool sent;           /* the request was written (a failure after it leaves doubt) */
    bool reused;         /* it went on a connection that had carried a request before */
    uint64_t start_ns;   /* pool_send (the connect began then, on a new connection) */
    uint64_t send_ns;    /* the request's write; 0 if never written */
    uint64_t end_ns;     /* the last byte or the failure */
    uint64_t ttfb_ns;    /* start to the first response byte; 0 if none */
    uint64_t connect_ns; /* TCP connect + TLS handshake time; 0 on a reused connection */
    uint64_t bytes_in;   /* response bytes received, head included */
    uint64_t bytes_out;  /* request bytes written */
} pool_result;

typedef struct pool_req pool_req;

/* Called once per pool_send that returned 0, from the loop (never from within
 * pool_send), unless the request was cancelled or the pool closed. */
typedef void (*pool_done_cb)(pool_req *r, const pool_result *res);

struct pool_req {
    /* Set by the caller before pool_send, unchanged until the callback. */
    const char *data; /* the serialized request (borrowed until the callback) */
    size_t len;
    h1_method method; /* H1_HEAD: the response has no body */
    bool keep_body;   /* keep the response body (captures, tokens); else only count it */
    pool_done_cb done;
    void *owner;

    /* Private to pool.c. */
    struct pool_conn *pc;
    uint64_t start_ns, send_ns, connect_start_ns, connect_ns, ttfb_ns, bytes_in;
    bool reused, resent;
};

typedef struct pool_conn pool_conn;

typedef struct pool {
    uv_loop_t *loop;
    looptime *lt;
    pool_config cfg;
    conn_config ccfg;
    h1_config keep_cfg, discard_cfg;
    pool_conn *idle;  /* connections waiting for a request, most recent first */
    pool_conn *all;   /* every live connection */
    pool_conn *spare; /* closed connections kept for reuse */
    size_t nconns, nidle, nspare;
    uint64_t opened;  /* connections opened over the pool's life */
    uint64_t resends; /* requests sent again after a keep-alive race */
    bool closing;
    void (*on_closed)(struct pool *p);
    void *data; /* the owner's */
} pool;

/* Prepares a pool on `loop` with `cfg` (copied; the tls context and host
 * must outlive the pool). Allocates nothing; cannot fail. */
void pool_init(pool *p, uv_loop_t *loop, looptime *lt, const pool_config *cfg);

/* Sends r (its caller fields set) on an idle connection or a new one.
 * Returns 0 and calls r->done later, or a negative error (-ENOMEM, or
 * -ESHUTDOWN once the pool is closing) with no callback. */
int pool_send(pool *p, pool_req *r);

/* Forgets r: its connection, which cannot carry another request while a
 * response is owed, is aborted, and r->done is not called. Harmless on a
 * request that is not in flight. */
void pool_cancel(pool *p, pool_req *r);

/* Whether r is in flight (sent with pool_send, callback not yet run). */
bool pool_req_busy(const pool_req *r);

/* Aborts every connection (requests in flight are cancelled: no callback)
 * and refuses new requests. `on_closed` (may be NULL) runs once every
 * connection's handles are closed, from the loop, or at once if there are
 * none; then pool_free may run. */
void pool_close(pool *p, void (*on_closed)(pool *p));

/* Frees the recycled connections, after pool_close completed. */
void pool_free(pool *p);

/* "connection refused", "connection reset", "timeout", "TLS error",
 * "network error" (for JTL and messages), and "" for POOL_ERR_NONE. */
const char *pool_err_name(enum pool_err e);

#endif
