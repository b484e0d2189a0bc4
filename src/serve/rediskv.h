/*
 * rediskv: one asynchronous Redis connection per worker loop, for the
 * emulated platform's shared state (collections, emu_coll.c): a script call
 * (EVAL) with a deadline, answered on the loop's thread.
 *
 * The limit store (limit/redisstore.c) has its own connection, built around
 * batching decisions; this one is plain: each call is one EVAL, sent at
 * once. hiredis 0.14 has no command timeouts, so each call carries a libuv
 * timer. The connection is made on the first call and again on the first
 * call after it was lost; a connect that has not completed within
 * REDISKV_CONNECT_MS is abandoned (hiredis' libuv adapter does not report a
 * refused asynchronous connect). No breaker: while Redis hangs, every call
 * waits its full timeout.
 */
#ifndef TG_SERVE_REDISKV_H
#define TG_SERVE_REDISKV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <hiredis/hiredis.h>

#include "limit/redisstore.h"

#define REDISKV_CONNECT_MS 300

typedef struct rediskv rediskv;

/* The answer to one call: r is the reply when status is 0 (it lives only
 * during the callback); status is -ETIMEDOUT (no reply within the timeout),
 * -ECONNRESET (the connection was lost or closed) or -EPROTO (an error
 * reply, r then set). */
typedef void (*rediskv_cb)(void *arg, const redisReply *r, int status);

/* Makes a context on `loop` for Redis at o (host, port, db); calls time out
 * after o->timeout_ns (0: 20 ms). Nothing connects until the first call.
 * Returns 0 or -ENOMEM. Everything else happens on the loop's thread. */
int rediskv_new(rediskv **out, uv_loop_t *loop, const redisstore_opts *o);

/* Sends EVAL script with nkeys keys then the rest of argv (argc strings of
 * lens[i] bytes, keys first). Returns 0 and later calls cb exactly once on
 * the loop's thread, or returns a negative errno (-ECONNREFUSED, -ENOMEM)
 * and never calls it. */
int rediskv_eval(rediskv *kv, const char *script, size_t nkeys, size_t argc, const char **argv,
                 const size_t *lens, rediskv_cb cb, void *arg);

/* Closes the connection: calls not answered yet complete with -ECONNRESET
 * (now). Then frees the context once its timers are closed (on the loop's
 * next run). NULL is accepted. */
void rediskv_free(rediskv *kv);

#endif
