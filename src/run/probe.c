#include "run/probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/conn.h"

#define PROBE_MAX_NS (5000000000ull) /* the longest a reachability check waits */

struct probe {
    conn c;
    int status;
    bool opened, closed;
};

static void probe_on_connect(conn *c)
{
    struct probe *pr = c->data;

    pr->opened = true;
    conn_abort(c);
}

static void probe_on_close(conn *c, int status)
{
    struct probe *pr = c->data;

    pr->closed = true;
    pr->status = status;
}

int probe_targets(const plan *p, const struct sockaddr_storage *addrs, tls_ctx *tls, char *err,
                  size_t errlen)
{
    uv_loop_t loop;
    conn_config cfg;
    struct probe pr;
    uint64_t timeout = p->connect_timeout_ns;
    size_t i;
    int rc = 0;

    if (timeout == 0 || timeout > PROBE_MAX_NS)
        timeout = PROBE_MAX_NS;
    memset(&cfg, 0, sizeof(cfg));
    cfg.connect_timeout_ms = (timeout + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
    cfg.on_connect = probe_on_connect;
    cfg.on_close = probe_on_close;
    if (uv_loop_init(&loop) < 0) {
        snprintf(err, errlen, "cannot create an event loop");
        return -ENOMEM;
    }
    for (i = 0; i < p->ntargets && rc == 0; i++) {
        const url *t = &p->targets[i];
        memset(&pr, 0, sizeof(pr));
        pr.c.data = &pr;
        rc = conn_init(&loop, &pr.c, &cfg);
        if (rc < 0)
            break;
        rc = conn_connect(&pr.c, (const struct sockaddr *)&addrs[i], t->tls ? tls : NULL, t->host);
        if (rc < 0)
            conn_abort(&pr.c);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (rc < 0 || !pr.opened) {
            int st = rc < 0 ? rc : pr.status;
            if (st == TLS_ERR_VERIFY)
                snprintf(err, errlen,
                         "cannot connect to %s://%s: TLS certificate verification failed: %s "
                         "(give the CA with tls: {ca: FILE}, or use --insecure)",
                         t->scheme, t->host_header,
                         conn_tls_verify_error(&pr.c) ? conn_tls_verify_error(&pr.c) : "");
            else if (st == UV_ETIMEDOUT)
                snprintf(err, errlen, "cannot connect to %s://%s: no connection within %llu ms",
                         t->scheme, t->host_header,
                         (unsigned long long)(timeout / CLOCK_NS_PER_MS));
            else
                snprintf(err, errlen, "cannot connect to %s://%s: %s", t->scheme, t->host_header,
                         conn_strerror(st));
            rc = st < 0 ? st : -ECONNREFUSED;
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}
