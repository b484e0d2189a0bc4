#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/pool.h"

/* ---- a scripted server on its own thread, one connection at a time ---- */

enum mode {
    KEEP,        /* 200 with Content-Length, keep-alive */
    CLOSE_HDR,   /* 200 with Connection: close, then close */
    CLOSE_AFTER, /* 200 keep-alive, but close the socket after the first response */
    EOF_BODY,    /* body delimited by the end of the stream */
    SILENT,      /* never answer */
    GARBAGE,     /* an invalid status line */
    EXTRA,       /* a response followed by bytes nobody asked for */
};

struct server {
    int fd;
    uint16_t port;
    enum mode mode;
    pthread_t tid;
    atomic_int stop;
    atomic_int conns, requests;
};

static const char ok_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Reads one request head; returns 0, or -1 at end of stream or stop. */
static int read_request(struct server *s, int fd)
{
    char b[4096];
    size_t n = 0;
    struct pollfd p = {fd, POLLIN, 0};

    while (!atomic_load(&s->stop)) {
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t r = recv(fd, b + n, sizeof(b) - n - 1, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        b[n] = '\0';
        if (strstr(b, "\r\n\r\n") != NULL)
            return 0;
    }
    return -1;
}

static void serve_conn(struct server *s, int fd)
{
    int served = 0;

    while (read_request(s, fd) == 0) {
        atomic_fetch_add(&s->requests, 1);
        switch (s->mode) {
        case KEEP:
            send_all(fd, ok_resp, sizeof(ok_resp) - 1);
            break;
        case CLOSE_HDR:
            send_str(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            return;
        case CLOSE_AFTER:
            send_all(fd, ok_resp, sizeof(ok_resp) - 1);
            if (++served == 1)
                return;
            break;
        case EOF_BODY:
            send_str(fd, "HTTP/1.1 200 OK\r\n\r\nhello, world");
            return;
        case SILENT:
            break;
        case GARBAGE:
            send_str(fd, "XTTP/1.1 200 OK\r\n\r\n");
            break;
        case EXTRA:
            send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200");
            break;
        }
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    struct pollfd p = {s->fd, POLLIN, 0};

    while (!atomic_load(&s->stop)) {
        if (poll(&p, 1, 20) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        atomic_fetch_add(&s->conns, 1);
        serve_conn(s, c);
        close(c);
    }
    return NULL;
}

static void server_start(struct server *s, enum mode m)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int one = 1;

    memset(s, 0, sizeof(*s));
    s->mode = m;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->tid, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->tid, NULL);
    close(s->fd);
}

/* ---- the client side ---- */

struct client {
    uv_loop_t loop;
    looptime lt;
    pool p;
    pool_req req;
    bool done;
    pool_result res;
    char body[64];
    size_t body_len;
    int status;
};

static void on_done(pool_req *r, const pool_result *res)
{
    struct client *c = r->owner;

    c->done = true;
    c->res = *res;
    c->status = res->msg ? res->msg->status : 0;
    c->body_len = 0;
    if (res->msg != NULL && res->msg->body.len < sizeof(c->body)) {
        c->body_len = res->msg->body.len;
        memcpy(c->body, buf_ptr(&res->msg->body), c->body_len);
    }
    c->res.msg = NULL;
}

static void client_init(struct client *c, uint16_t port, uint64_t response_timeout_ns)
{
    pool_config cfg;
    struct sockaddr_in *a = (struct sockaddr_in *)&cfg.addr;

    memset(c, 0, sizeof(*c));
    memset(&cfg, 0, sizeof(cfg));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.host = "127.0.0.1";
    cfg.connect_timeout_ns = 2 * CLOCK_NS_PER_S;
    cfg.response_timeout_ns = response_timeout_ns;
    assert_int_equal(uv_loop_init(&c->loop), 0);
    assert_int_equal(looptime_init(&c->lt, &c->loop), 0);
    pool_init(&c->p, &c->loop, &c->lt, &cfg);
    c->req.data = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    c->req.len = strlen(c->req.data);
    c->req.method = H1_GET;
    c->req.keep_body = true;
    c->req.done = on_done;
    c->req.owner = c;
}

/* Sends one request and runs the loop until its callback. */
static void client_send(struct client *c)
{
    uint64_t deadline = clock_now_ns() + 5 * CLOCK_NS_PER_S;

    c->done = false;
    assert_int_equal(pool_send(&c->p, &c->req), 0);
    assert_true(pool_req_busy(&c->req));
    while (!c->done && clock_now_ns() < deadline)
        uv_run(&c->loop, UV_RUN_ONCE);
    assert_true(c->done);
    assert_false(pool_req_busy(&c->req));
}

static void client_free(struct client *c)
{
    pool_close(&c->p, NULL);
    looptime_close(&c->lt, NULL);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    pool_free(&c->p);
    looptime_free(&c->lt);
    assert_int_equal(uv_loop_close(&c->loop), 0);
}

static void test_keep_alive_reuse(void **state)
{
    struct server s;
    struct client c;
    int i;

    (void)state;
    server_start(&s, KEEP);
    client_init(&c, s.port, CLOCK_NS_PER_S);
    for (i = 0; i < 3; i++) {
        client_send(&c);
        assert_int_equal(c.status, 200);
        assert_int_equal(c.body_len, 2);
        assert_memory_equal(c.body, "ok", 2);
        assert_int_equal(c.res.reused, i > 0);
        assert_true(c.res.sent);
        assert_int_equal(c.res.bytes_out, c.req.len);
        assert_int_equal(c.res.bytes_in, sizeof(ok_resp) - 1);
        if (i == 0)
            assert_true(c.res.connect_ns > 0);
        else
            assert_int_equal(c.res.connect_ns, 0);
        assert_true(c.res.ttfb_ns > 0 && c.res.end_ns >= c.res.start_ns);
        assert_true(c.res.send_ns >= c.res.start_ns);
    }
    assert_int_equal(c.p.opened, 1);
    assert_int_equal(c.p.nidle, 1);
    client_free(&c);
    server_stop(&s);
    assert_int_equal(atomic_load(&s.conns), 1);
    assert_int_equal(atomic_load(&s.requests), 3);
}

static void test_connection_close_honoured(void **state)
{
    struct server s;
    struct client c;

    (void)state;
    server_start(&s, CLOSE_HDR);
    client_init(&c, s.port, CLOCK_NS_PER_S);
    client_send(&c);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.p.nidle, 0);
    client_send(&c);
    assert_int_equal(c.status, 200);
    assert_false(c.res.reused);
    assert_int_equal(c.p.opened, 2);
    client_free(&c);
    server_stop(&s);
}

static void test_stale_keep_alive_is_resent(void **state)
{
    struct server s;
    struct client c;

    (void)state;
    server_start(&s, CLOSE_AFTER);
    client_init(&c, s.port, CLOCK_NS_PER_S);
    client_send(&c);
    assert_int_equal(c.status, 200);
    /* The server closed its end without saying so; the pool may not have
     * seen the end of stream yet when the next request goes out. */
    usleep(20000);
    client_send(&c);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.res.err, POOL_ERR_NONE);
    assert_int_equal(c.p.opened, 2);
    client_free(&c);
    server_stop(&s);
    assert_int_equal(atomic_load(&s.requests), 2);
}

static void test_body_to_end_of_stream(void **state)
{
    struct server s;
    struct client c;

    (void)state;
    server_start(&s, EOF_BODY);
    client_init(&c, s.port, CLOCK_NS_PER_S);
    client_send(&c);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.body_len, 12);
    assert_memory_equal(c.body, "hello, world", 12);
    client_free(&c);
    server_stop(&s);
}

static void test_refused(void **state)
{
    struct server s;
    struct client c;
    uint16_t port;

    (void)state;
    server_start(&s, KEEP);
    port = s.port;
    server_stop(&s); /* nothing listens there now */
    client_init(&c, port, CLOCK_NS_PER_S);
    client_send(&c);
    assert_int_equal(c.res.err, POOL_ERR_REFUSED);
    assert_false(c.res.sent);
    assert_int_equal(c.res.code, UV_ECONNREFUSED);
    assert_string_equal(pool_err_name(c.res.err), "connection refused");
    client_free(&c);
}

static void test_response_timeout(void **state)
{
    struct server s;
    struct client c;
    uint64_t took;

    (void)state;
    server_start(&s, SILENT);
    client_init(&c, s.port, 100 * CLOCK_NS_PER_MS);
    client_send(&c);
    took = c.res.end_ns - c.res.send_ns;
    assert_int_equal(c.res.err, POOL_ERR_TIMEOUT);
    assert_true(c.res.sent);
    assert_true(took >= 99 * CLOCK_NS_PER_MS && took < 2 * CLOCK_NS_PER_S);
    client_free(&c);
    server_stop(&s);
}

static void test_invalid_response(void **state)
{
    struct server s;
    struct client c;

    (void)state;
    server_start(&s, GARBAGE);
    client_init(&c, s.port, CLOCK_NS_PER_S);
    client_send(&c);
    assert_int_equal(c.res.err, POOL_ERR_OTHER);
    assert_true(c.res.sent);
    assert_non_null(c.res.detail);
    client_free(&c);
    server_stop(&s);
}

static void test_bytes_after_response_close_the_connection(void **state)
{
    struct server s;
    struct client c;

    (void)state;
    server_start(&s, EXTRA);
    client_init(&c, s.port, CLOCK_NS_PER_S);
    client_send(&c);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.p.nidle, 0); /* not trusted with another request */
    client_free(&c);
    server_stop(&s);
}

static void test_cancel_and_close(void **state)
{
    struct server s;
    struct client c;
    int i;

    (void)state;
    server_start(&s, SILENT);
    client_init(&c, s.port, 0);
    assert_int_equal(pool_send(&c.p, &c.req), 0);
    for (i = 0; i < 20; i++)
        uv_run(&c.loop, UV_RUN_NOWAIT);
    pool_cancel(&c.p, &c.req);
    assert_false(pool_req_busy(&c.req));
    for (i = 0; i < 20; i++)
        uv_run(&c.loop, UV_RUN_NOWAIT);
    assert_false(c.done); /* a cancelled request gets no callback */
    client_free(&c);
    assert_int_equal(pool_send(&c.p, &c.req), -ESHUTDOWN);
    server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_alive_reuse),
        cmocka_unit_test(test_connection_close_honoured),
        cmocka_unit_test(test_stale_keep_alive_is_resent),
        cmocka_unit_test(test_body_to_end_of_stream),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_response_timeout),
        cmocka_unit_test(test_invalid_response),
        cmocka_unit_test(test_bytes_after_response_close_the_connection),
        cmocka_unit_test(test_cancel_and_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
