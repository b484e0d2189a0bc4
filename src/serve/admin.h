/*
 * admin: the operations listener, on its own thread and loop so that a
 * scrape never competes with traffic on a worker:
 *
 *   GET /metrics   Prometheus text (metrics.h)
 *   GET /limits    the published policy, {"limits": [...]} (policy_to_json)
 *   GET /healthz   200 {"status": "ok"}, 503 {"status": "draining"} on shutdown
 */
#ifndef TG_SERVE_ADMIN_H
#define TG_SERVE_ADMIN_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

#include "core/conn.h"
#include "core/h1.h"
#include "serve/gateway.h"

struct admin_conn;

typedef struct admin {
    gw *g;
    pthread_t thread;
    bool started;
    bool loop_ok;
    bool stopping;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;
    conn_config ccfg;
    h1_config h1cfg;
    char *limits_json; /* the policy, rendered once */
    struct admin_conn *conns;
} admin;

/* Listens on addr (the calling thread binds, so errors come before any
 * traffic) and serves on a new thread. Returns 0, or a negative errno with a
 * message; on failure nothing needs freeing. */
int admin_start(admin *a, gw *g, const gw_addr *addr, char *err, size_t errlen);

/* Closes the listener and every connection, ends the thread and frees. */
void admin_stop(admin *a);

/* Appends the full HTTP response to `GET path` (status, headers, body) to
 * out; date is a "Date: ...\r\n" line. For the thread above and for tests. */
int admin_respond(gw *g, const char *limits_json, const char *method, const char *path,
                  size_t path_len, const char *date, size_t date_len, bool close, buf *out);

#endif
