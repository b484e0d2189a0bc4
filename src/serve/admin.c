#include "serve/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "limit/policy.h"
#include "serve/metrics.h"
#include "serve/worker.h"

typedef struct admin_conn {
    conn c;
    admin *a;
    h1_parser p;
    struct admin_conn *prev, *next;
} admin_conn;

static int admin_reply(buf *out, int status, const char *ct, const char *extra, const char *body,
                       size_t len, const char *date, size_t date_len, bool head, bool close)
{
    buf hdrs;
    const buf *extras[1] = {&hdrs};
    int rc;

    buf_init(&hdrs, 0);
    if (extra != NULL)
        buf_append_str(&hdrs, extra);
    rc = gateway_write_response(out, status, date, date_len, ct, extras, 1, body, len, head, close,
                                false);
    buf_free(&hdrs);
    return rc;
}

static bool admin_is(const char *path, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(path, want, len) == 0;
}

int admin_respond(gw *g, const char *limits_json, const char *method, const char *path,
                  size_t path_len, const char *date, size_t date_len, bool close, buf *out)
{
    bool head = strcmp(method, "HEAD") == 0;
    const char *json = "application/json";
    buf body;
    int rc;

    if (!admin_is(path, path_len, "/metrics") && !admin_is(path, path_len, "/limits") &&
        !admin_is(path, path_len, "/healthz")) {
        static const char nf[] = "{\"message\": \"not found: try /metrics, /limits or /healthz\", "
                                 "\"code\": \"not.found\", \"status\": 404}";

        return admin_reply(out, 404, json, NULL, nf, sizeof(nf) - 1, date, date_len, head, close);
    }
    if (strcmp(method, "GET") != 0 && !head) {
        static const char na[] = "{\"message\": \"the admin endpoints only answer GET\", "
                                 "\"code\": \"method.not.allowed\", \"status\": 405}";

        return admin_reply(out, 405, json, "Allow: GET, HEAD\r\n", na, sizeof(na) - 1, date,
                           date_len, head, close);
    }
    if (admin_is(path, path_len, "/limits"))
        return admin_reply(out, 200, json, NULL, limits_json, strlen(limits_json), date, date_len,
                           head, close);
    if (admin_is(path, path_len, "/healthz")) {
        static const char ok[] = "{\"status\": \"ok\"}";
        static const char dr[] = "{\"status\": \"draining\"}";

        if (atomic_load(&g->draining))
            return admin_reply(out, 503, json, NULL, dr, sizeof(dr) - 1, date, date_len, head,
                               close);
        return admin_reply(out, 200, json, NULL, ok, sizeof(ok) - 1, date, date_len, head, close);
    }
    {
        metrics_gauges ga;

        ga.store_keys = store_keys(g->store);
        ga.store_max_keys = g->cfg->max_keys;
        ga.draining = atomic_load(&g->draining);
        buf_init(&body, 0);
        rc = metrics_render(g->metrics, &ga, &body);
        if (rc == 0)
            rc = admin_reply(out, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
                             buf_ptr(&body), body.len, date, date_len, head, close);
        buf_free(&body);
    }
    return rc;
}

static size_t admin_date(char *out, size_t len)
{
    time_t t = (time_t)(clock_wall_ns() / CLOCK_NS_PER_S);
    struct tm tm;

    gmtime_r(&t, &tm);
    return strftime(out, len, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

static void admin_on_read(conn *c, buf *rbuf)
{
    admin_conn *ac = c->data;
    admin *a = ac->a;
    char date[64];
    size_t dlen = admin_date(date, sizeof(date));
    buf out;

    buf_init(&out, 0);
    while (rbuf->len > 0 && conn_state(c) == CONN_OPEN) {
        ssize_t n = h1_parser_feed(&ac->p, buf_ptr(rbuf), rbuf->len);
        const h1_msg *msg;
        bool keep;

        if (n < 0) {
            char body[160];
            int st = h1_error_status((int)n);
            int len = snprintf(body, sizeof(body),
                               "{\"message\": \"%s\", \"code\": \"bad.request\", \"status\": %d}",
                               h1_strerror((int)n), st);

            admin_reply(&out, st, "application/json", NULL, body, (size_t)len, date, dlen, false,
                        true);
            conn_write(c, buf_ptr(&out), out.len);
            conn_close(c);
            buf_free(&out);
            return;
        }
        msg = h1_parser_message(&ac->p);
        if (msg == NULL) {
            buf_consume(rbuf, (size_t)n);
            break;
        }
        keep = h1_should_keep_alive(&ac->p) && !a->stopping;
        admin_respond(a->g, a->limits_json, msg->method_name, msg->path, msg->path_len, date, dlen,
                      !keep, &out);
        buf_consume(rbuf, (size_t)n);
        if (!keep) {
            conn_write(c, buf_ptr(&out), out.len);
            conn_close(c);
            buf_free(&out);
            return;
        }
    }
    if (out.len > 0)
        conn_write(c, buf_ptr(&out), out.len);
    buf_free(&out);
}

static void admin_on_close(conn *c, int status)
{
    admin_conn *ac = c->data;
    admin *a = ac->a;

    (void)status;
    if (ac->prev != NULL)
        ac->prev->next = ac->next;
    else
        a->conns = ac->next;
    if (ac->next != NULL)
        ac->next->prev = ac->prev;
    h1_parser_free(&ac->p);
    free(ac);
}

static void admin_on_connection(uv_stream_t *server, int status)
{
    admin *a = server->data;
    admin_conn *ac;

    if (status < 0)
        return;
    ac = calloc(1, sizeof(*ac));
    if (ac == NULL)
        return;
    ac->a = a;
    ac->c.data = ac;
    if (conn_init(&a->loop, &ac->c, &a->ccfg) < 0) {
        free(ac);
        return;
    }
    h1_parser_init(&ac->p, H1_REQUEST, &a->h1cfg);
    ac->next = a->conns;
    if (a->conns != NULL)
        a->conns->prev = ac;
    a->conns = ac;
    if (conn_accept(&ac->c, &a->listener, NULL) < 0)
        conn_abort(&ac->c);
}

static void admin_on_wake(uv_async_t *h)
{
    admin *a = h->data;

    a->stopping = true;
    uv_close((uv_handle_t *)&a->listener, NULL);
    uv_close((uv_handle_t *)&a->wake, NULL);
    for (admin_conn *ac = a->conns; ac != NULL; ac = ac->next)
        conn_abort(&ac->c);
}

static void *admin_main(void *arg)
{
    admin *a = arg;

    uv_run(&a->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void admin_close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void admin_free(admin *a)
{
    if (a->loop_ok) {
        uv_walk(&a->loop, admin_close_any, NULL);
        uv_run(&a->loop, UV_RUN_DEFAULT);
        uv_loop_close(&a->loop);
    }
    free(a->limits_json);
    memset(a, 0, sizeof(*a));
}

int admin_start(admin *a, gw *g, const gw_addr *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss = addr->ss;
    int fd, rc;

    memset(a, 0, sizeof(*a));
    a->g = g;
    a->limits_json = policy_to_json_string(g->cfg->policy);
    if (a->limits_json == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    fd = worker_listen_socket(&ss, addr->text, false, err, errlen);
    if (fd < 0) {
        admin_free(a);
        return fd;
    }
    rc = uv_loop_init(&a->loop);
    if (rc < 0) {
        close(fd);
        admin_free(a);
        snprintf(err, errlen, "admin: %s", uv_strerror(rc));
        return rc;
    }
    a->loop_ok = true;
    uv_tcp_init(&a->loop, &a->listener);
    a->listener.data = a;
    uv_async_init(&a->loop, &a->wake, admin_on_wake);
    a->wake.data = a;
    a->ccfg.read_max = 16 << 10;
    a->ccfg.idle_timeout_ms = 30000;
    a->ccfg.on_read = admin_on_read;
    a->ccfg.on_close = admin_on_close;
    h1_config_default(&a->h1cfg);
    a->h1cfg.max_body = 0;
    a->h1cfg.max_header_bytes = 8192;
    rc = uv_tcp_open(&a->listener, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&a->listener, 128, admin_on_connection);
    if (rc == 0)
        rc = -pthread_create(&a->thread, NULL, admin_main, a);
    if (rc < 0) {
        if (uv_fileno((uv_handle_t *)&a->listener, &(uv_os_fd_t){0}) != 0)
            close(fd);
        snprintf(err, errlen, "%s: %s", addr->text, strerror(-rc));
        admin_free(a);
        return rc;
    }
    a->started = true;
    return 0;
}

void admin_stop(admin *a)
{
    if (!a->started) {
        admin_free(a);
        return;
    }
    uv_async_send(&a->wake);
    pthread_join(a->thread, NULL);
    admin_free(a);
}
