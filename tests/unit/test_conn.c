#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/conn.h"
#include "tls_fixture.h"

/*
 * Real sockets on 127.0.0.1 with ephemeral ports: a server conn accepted from
 * a listener and a client conn, in one loop. Each test runs the loop until
 * its condition holds, under a watchdog timer that stops the loop (and fails
 * the test) if that takes too long.
 */

#define WATCHDOG_MS 15000

static tls_fixture fx;

typedef struct env env;
typedef struct peer peer;

struct peer {
    conn c;
    env *e;
    int used;
    uv_timer_t timer; /* for the test's own delays */
    void (*tick)(peer *p);
    buf got; /* every byte on_read consumed, in order */
    /* behaviour */
    int echo;             /* write back what arrives */
    int keep;             /* consume nothing */
    int pause_first;      /* pause on the first read, resume 100 ms later */
    int clear_on_newline; /* clear the read deadline once a line is in */
    size_t close_after;   /* conn_close once this many bytes arrived */
    const char *send;     /* written on connect */
    size_t send_len;
    const char *on_timeout; /* written before closing on a timeout */
    void (*connected_hook)(peer *p);
    /* observations */
    int connected, reads, drains, closed, status, nodelay, closing, late_calls;
    int timeouts[3];
    size_t max_seen;
    char saw[64], saw2[64]; /* rbuf at the latest and at the second on_read */
    size_t saw_len, saw2_len;
    int paused, reads_paused;
    uint64_t closed_at;
    int write_rc, second_write_rc;
    size_t queued_after_write, queued_after_uncork;
};

struct env {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_timer_t watchdog;
    int timed_out;
    struct sockaddr_in addr;
    conn_config scfg, ccfg;
    tls_ctx *stls, *ctls;
    const char *host;
    peer srv, cli;
    void (*accepted_hook)(env *e);
    uint64_t started;
    uint64_t last_send;
    int pings;
};

/* ---- callbacks shared by every conn ---- */

static int has_nodelay(conn *c)
{
    uv_os_fd_t fd;
    int v = 0;
    socklen_t len = sizeof(v);

    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
        return -1;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0)
        return -1;
    return v != 0;
}

static void peer_close(peer *p)
{
    p->closing = 1;
    conn_close(&p->c);
}

static void on_connect(conn *c)
{
    peer *p = c->data;

    p->late_calls += p->closing;
    p->connected++;
    p->nodelay = has_nodelay(c);
    if (p->send != NULL)
        p->write_rc = conn_write(c, p->send, p->send_len);
    if (p->connected_hook != NULL)
        p->connected_hook(p);
}

static void peer_timer_cb(uv_timer_t *t)
{
    peer *p = t->data;

    p->tick(p);
}

static void peer_after(peer *p, uint64_t ms, void (*tick)(peer *p))
{
    p->tick = tick;
    uv_timer_start(&p->timer, peer_timer_cb, ms, 0);
}

static void resume_tick(peer *p)
{
    p->paused = 0;
    conn_read_resume(&p->c);
}

static void on_read(conn *c, buf *rbuf)
{
    peer *p = c->data;
    size_t n = rbuf->len;

    p->late_calls += p->closing;
    p->reads++;
    if (n > p->max_seen)
        p->max_seen = n;
    p->saw_len = n < sizeof(p->saw) ? n : sizeof(p->saw);
    memcpy(p->saw, buf_ptr(rbuf), p->saw_len);
    p->reads_paused += p->paused;
    if (p->reads == 2) {
        p->saw2_len = p->saw_len;
        memcpy(p->saw2, p->saw, p->saw_len);
    }
    if (p->pause_first && p->reads == 1) {
        conn_read_pause(c);
        p->paused = 1;
        peer_after(p, 150, resume_tick);
        return;
    }
    if (p->keep)
        return;
    if (p->clear_on_newline && memchr(buf_ptr(rbuf), '\n', n) != NULL)
        conn_clear_read_deadline(c);
    assert_int_equal(buf_append(&p->got, buf_ptr(rbuf), n), 0);
    if (p->echo)
        assert_int_equal(conn_write(c, buf_ptr(rbuf), n), 0);
    buf_consume(rbuf, n);
    if (p->close_after != 0 && p->got.len >= p->close_after)
        peer_close(p);
}

static void on_drain(conn *c)
{
    peer *p = c->data;

    p->late_calls += p->closing;
    p->drains++;
    peer_close(p);
}

static void on_timeout(conn *c, enum conn_timeout kind)
{
    peer *p = c->data;

    p->late_calls += p->closing;
    p->timeouts[kind]++;
    if (p->on_timeout != NULL) {
        assert_int_equal(conn_write(c, p->on_timeout, strlen(p->on_timeout)), 0);
        peer_close(p);
    }
}

static void on_close(conn *c, int status)
{
    peer *p = c->data;

    p->closed++;
    p->status = status;
    p->closed_at = uv_now(c->tcp.loop);
}

/* ---- the environment ---- */

static void on_connection(uv_stream_t *server, int status)
{
    env *e = server->data;
    peer *p = &e->srv;

    assert_int_equal(status, 0);
    assert_false(p->used);
    assert_int_equal(conn_init(&e->loop, &p->c, &e->scfg), 0);
    p->c.data = p;
    p->used = 1;
    assert_int_equal(conn_accept(&p->c, &e->listener, e->stls), 0);
    p->nodelay = has_nodelay(&p->c);
    if (e->accepted_hook != NULL)
        e->accepted_hook(e);
}

static void watchdog_cb(uv_timer_t *t)
{
    env *e = t->data;

    e->timed_out = 1;
    uv_stop(&e->loop);
}

static void peer_init(env *e, peer *p)
{
    memset(p, 0, sizeof(*p));
    p->e = e;
    buf_init(&p->got, 0);
    uv_timer_init(&e->loop, &p->timer);
    p->timer.data = p;
}

static void config_init(conn_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->on_connect = on_connect;
    cfg->on_read = on_read;
    cfg->on_drain = on_drain;
    cfg->on_close = on_close;
}

/* tls: 0 plain, 1 server and client with the fixture's certificate as CA. */
static void env_init(env *e, int tls)
{
    char err[256];
    int len = sizeof(e->addr);

    memset(e, 0, sizeof(*e));
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(uv_tcp_init(&e->loop, &e->listener), 0);
    e->listener.data = e;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &e->addr), 0);
    assert_int_equal(uv_tcp_bind(&e->listener, (struct sockaddr *)&e->addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&e->listener, 16, on_connection), 0);
    assert_int_equal(uv_tcp_getsockname(&e->listener, (struct sockaddr *)&e->addr, &len), 0);
    uv_timer_init(&e->loop, &e->watchdog);
    e->watchdog.data = e;
    uv_timer_start(&e->watchdog, watchdog_cb, WATCHDOG_MS, 0);
    peer_init(e, &e->srv);
    peer_init(e, &e->cli);
    config_init(&e->scfg);
    config_init(&e->ccfg);
    if (tls) {
        assert_int_equal(tls_ctx_new_server(&e->stls, fx.cert, fx.key, err, sizeof(err)), 0);
        assert_int_equal(tls_ctx_new_client(&e->ctls, 0, fx.cert, err, sizeof(err)), 0);
        e->host = "localhost";
    }
}

static void env_connect(env *e)
{
    peer *p = &e->cli;

    assert_int_equal(conn_init(&e->loop, &p->c, &e->ccfg), 0);
    p->c.data = p;
    p->used = 1;
    uv_update_time(&e->loop);
    e->started = uv_now(&e->loop);
    assert_int_equal(conn_connect(&p->c, (struct sockaddr *)&e->addr, e->ctls, e->host), 0);
}

static int both_closed(env *e)
{
    return e->srv.closed && e->cli.closed;
}

static int client_closed(env *e)
{
    return e->cli.closed;
}

static void env_run(env *e, int (*done)(env *e))
{
    while (!e->timed_out && !done(e))
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_false(e->timed_out);
}

static void close_cb(uv_handle_t *h)
{
}

static void peer_finish(peer *p)
{
    if (p->used && !p->closed)
        conn_abort(&p->c);
    uv_close((uv_handle_t *)&p->timer, close_cb);
}

/* Closes everything and checks that nothing was left open or called twice. */
static void env_finish(env *e)
{
    peer_finish(&e->srv);
    peer_finish(&e->cli);
    uv_close((uv_handle_t *)&e->listener, close_cb);
    uv_close((uv_handle_t *)&e->watchdog, close_cb);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    assert_true(e->srv.closed <= 1);
    assert_int_equal(e->cli.closed, e->cli.used ? 1 : 0);
    assert_int_equal(e->srv.late_calls, 0);
    assert_int_equal(e->cli.late_calls, 0);
    buf_free(&e->srv.got);
    buf_free(&e->cli.got);
    tls_ctx_free(e->stls);
    tls_ctx_free(e->ctls);
}

static int mode_tcp = 0, mode_tls = 1;

static int env_mode(void **state)
{
    return *(int *)*state;
}

/* ---- tests that run over TCP and TLS ---- */

static void test_echo(void **state)
{
    static const char msg[] = "hello, conn";
    env e;

    env_init(&e, env_mode(state));
    e.srv.echo = 1;
    e.cli.send = msg;
    e.cli.send_len = sizeof(msg) - 1;
    e.cli.close_after = sizeof(msg) - 1;
    env_connect(&e);
    env_run(&e, both_closed);

    assert_int_equal(e.cli.connected, 1);
    assert_int_equal(e.cli.write_rc, 0);
    assert_int_equal(e.cli.got.len, sizeof(msg) - 1);
    assert_memory_equal(buf_ptr(&e.cli.got), msg, sizeof(msg) - 1);
    assert_int_equal(e.srv.got.len, sizeof(msg) - 1);
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(conn_err_kind(e.cli.status), CONN_ERR_NONE);
    assert_int_equal(e.srv.status, UV_EOF);
    assert_int_equal(conn_err_kind(e.srv.status), CONN_ERR_CLOSED);
    assert_int_equal(e.srv.connected, 0); /* on_connect is for client conns */
    assert_int_equal(e.cli.nodelay, 1);
    assert_int_equal(e.srv.nodelay, 1);
    env_finish(&e);
}

#define LARGE (8u << 20)

static char pattern_byte(size_t i)
{
    return (char)(i * 131 + (i >> 13));
}

static void large_write_hook(peer *p)
{
    static char *data;
    size_t i;

    if (data == NULL) {
        data = malloc(LARGE);
        assert_non_null(data);
        for (i = 0; i < LARGE; i++)
            data[i] = pattern_byte(i);
    }
    p->write_rc = conn_write(&p->c, data, LARGE);
    p->queued_after_write = conn_write_queued(&p->c);
    p->second_write_rc = conn_write(&p->c, "x", 1);
    free(data);
    data = NULL;
}

static void pause_at_accept(env *e)
{
    conn_read_pause(&e->srv.c);
    peer_after(&e->srv, 150, resume_tick);
}

static void test_large_write_drains(void **state)
{
    env e;
    size_t i, bad = 0;

    env_init(&e, env_mode(state));
    /* The server reads nothing for 150 ms, so the kernel cannot take 8 MiB
     * at once and the client must queue. */
    e.accepted_hook = pause_at_accept;
    e.ccfg.write_max = 1u << 20;
    e.cli.connected_hook = large_write_hook; /* on_drain closes */
    env_connect(&e);
    env_run(&e, both_closed);

    assert_int_equal(e.cli.write_rc, 0);
    assert_true(e.cli.queued_after_write > e.ccfg.write_max);
    assert_int_equal(e.cli.second_write_rc, -ENOBUFS);
    assert_int_equal(e.cli.drains, 1);
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(e.srv.status, UV_EOF);
    assert_int_equal(e.srv.got.len, LARGE);
    for (i = 0; i < LARGE; i++)
        bad += buf_ptr(&e.srv.got)[i] != pattern_byte(i);
    assert_int_equal(bad, 0);
    env_finish(&e);
}

static void test_read_bound_enforced(void **state)
{
    static char data[4096];
    env e;

    env_init(&e, env_mode(state));
    e.scfg.read_max = 1024;
    e.srv.keep = 1; /* never consumes */
    memset(data, 'a', sizeof(data));
    e.cli.send = data;
    e.cli.send_len = sizeof(data);
    env_connect(&e);
    env_run(&e, both_closed);

    assert_int_equal(e.srv.status, UV_ENOBUFS);
    assert_int_equal(conn_err_kind(e.srv.status), CONN_ERR_OTHER);
    assert_int_equal(e.srv.max_seen, 1024);
    /* The peer sees the connection end: cleanly or reset, as the kernel chooses. */
    assert_true(conn_err_kind(e.cli.status) == CONN_ERR_CLOSED ||
                conn_err_kind(e.cli.status) == CONN_ERR_RESET);
    env_finish(&e);
}

static void send_def_tick(peer *p)
{
    assert_int_equal(conn_write(&p->c, "def", 3), 0);
}

static void send_def_later(peer *p)
{
    peer_after(p, 50, send_def_tick);
}

static void test_pause_resume_redelivers(void **state)
{
    env e;

    env_init(&e, env_mode(state));
    e.srv.pause_first = 1; /* sees "abc", pauses without consuming, resumes at 150 ms */
    e.srv.echo = 1;
    e.cli.send = "abc";
    e.cli.send_len = 3;
    e.cli.connected_hook = send_def_later; /* "def" at 50 ms, while paused */
    e.cli.close_after = 6;
    env_connect(&e);
    env_run(&e, both_closed);

    /* "abc" paused; "abc" again after resuming, before any new byte; "def". */
    assert_int_equal(e.srv.reads, 3);
    assert_int_equal(e.srv.reads_paused, 0);
    assert_int_equal(e.srv.saw2_len, 3);
    assert_memory_equal(e.srv.saw2, "abc", 3);
    assert_int_equal(e.cli.got.len, 6);
    assert_memory_equal(buf_ptr(&e.cli.got), "abcdef", 6);
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(e.srv.status, UV_EOF);
    env_finish(&e);
}

static void abort_hook(peer *p)
{
    char *data = calloc(1, LARGE);

    assert_non_null(data);
    assert_int_equal(conn_write(&p->c, data, LARGE), 0);
    p->queued_after_write = conn_write_queued(&p->c);
    free(data);
    p->closing = 1;
    conn_abort(&p->c);
    assert_int_equal(conn_write(&p->c, "x", 1), -EPIPE);
    conn_close(&p->c); /* a no-op now */
}

static void test_abort_drops_queue(void **state)
{
    env e;

    env_init(&e, env_mode(state));
    e.accepted_hook = pause_at_accept;
    e.cli.connected_hook = abort_hook;
    env_connect(&e);
    env_run(&e, both_closed);

    assert_true(e.cli.queued_after_write > 0);
    assert_int_equal(e.cli.closed, 1);
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(e.cli.drains, 0);
    /* What was queued never left. */
    assert_true(e.srv.got.len <= LARGE - e.cli.queued_after_write);
    env_finish(&e);
}

static void cork_hook(peer *p)
{
    conn_cork(&p->c);
    assert_int_equal(conn_write(&p->c, "one,", 4), 0);
    assert_int_equal(conn_write(&p->c, "two,", 4), 0);
    assert_int_equal(conn_write(&p->c, "three", 5), 0);
    p->queued_after_write = conn_write_queued(&p->c);
    conn_uncork(&p->c);
    p->queued_after_uncork = conn_write_queued(&p->c);
}

static void test_cork_batches_writes(void **state)
{
    env e;

    env_init(&e, env_mode(state));
    e.srv.echo = 1;
    e.cli.connected_hook = cork_hook;
    e.cli.close_after = 13;
    env_connect(&e);
    env_run(&e, both_closed);

    /* Plain text is queued as is; TLS queues three records of ciphertext. */
    if (env_mode(state) == mode_tcp)
        assert_int_equal(e.cli.queued_after_write, 13);
    else
        assert_true(e.cli.queued_after_write > 13);
    assert_int_equal(e.cli.queued_after_uncork, 0);
    assert_int_equal(e.cli.got.len, 13);
    assert_memory_equal(buf_ptr(&e.cli.got), "one,two,three", 13);
    assert_int_equal(e.cli.status, 0);
    env_finish(&e);
}

/* ---- plain TCP only ---- */

static void test_sync_failures_run_no_callback(void **state)
{
    env e;
    char err[256];
    tls_ctx *verifying;

    (void)state;
    env_init(&e, 1);
    assert_int_equal(conn_init(&e.loop, &e.cli.c, &e.ccfg), 0);
    e.cli.c.data = &e.cli;
    e.cli.used = 1;
    /* A server context cannot connect, and a verifying one needs a host. */
    assert_int_equal(conn_connect(&e.cli.c, (struct sockaddr *)&e.addr, e.stls, "localhost"),
                     -EINVAL);
    assert_int_equal(tls_ctx_new_client(&verifying, 0, fx.cert, err, sizeof(err)), 0);
    assert_int_equal(conn_connect(&e.cli.c, (struct sockaddr *)&e.addr, verifying, NULL), -EINVAL);
    tls_ctx_free(verifying);
    assert_int_equal(conn_state(&e.cli.c), CONN_INIT);
    assert_int_equal(conn_write(&e.cli.c, "x", 1), -ENOTCONN);
    uv_run(&e.loop, UV_RUN_NOWAIT);
    assert_int_equal(e.cli.connected + e.cli.closed + e.cli.reads, 0);
    conn_close(&e.cli.c);
    assert_int_equal(conn_state(&e.cli.c), CONN_CLOSED);
    env_run(&e, client_closed);
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(e.cli.connected, 0);
    assert_false(e.srv.used);
    env_finish(&e);
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_connect_refused(void **state)
{
    env e;

    (void)state;
    env_init(&e, 0);
    e.addr.sin_port = htons((uint16_t)free_port());
    env_connect(&e);
    env_run(&e, client_closed);

    assert_int_equal(e.cli.status, UV_ECONNREFUSED);
    assert_int_equal(conn_err_kind(e.cli.status), CONN_ERR_REFUSED);
    assert_string_equal(conn_err_kind_name(conn_err_kind(e.cli.status)), "refused");
    assert_int_equal(e.cli.connected, 0);
    env_finish(&e);
}

/* A listener with backlog 0 that never accepts: once one connection fills
 * its queue, the kernel drops further SYNs and a connect just hangs. */
static void test_connect_timeout(void **state)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int lfd, fill[3], i;
    env e;

    (void)state;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    for (i = 0; i < 3; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof(a));
    }
    usleep(50 * 1000);

    env_init(&e, 0);
    e.ccfg.connect_timeout_ms = 200;
    e.ccfg.on_timeout = on_timeout;
    e.addr = a;
    env_connect(&e);
    env_run(&e, client_closed);

    assert_int_equal(e.cli.status, UV_ETIMEDOUT);
    assert_int_equal(conn_err_kind(e.cli.status), CONN_ERR_TIMEOUT);
    assert_int_equal(e.cli.timeouts[CONN_TIMEOUT_CONNECT], 1);
    assert_int_equal(e.cli.connected, 0);
    assert_true(e.cli.closed_at - e.started >= 200);
    assert_true(e.cli.closed_at - e.started < 3000);
    env_finish(&e);
    for (i = 0; i < 3; i++)
        close(fill[i]);
    close(lfd);
}

static void ping_tick(peer *p)
{
    env *e = p->e;

    assert_int_equal(conn_write(&p->c, "x", 1), 0);
    e->last_send = uv_now(&e->loop);
    if (++e->pings < 4)
        peer_after(p, 50, ping_tick);
}

static void start_pings(peer *p)
{
    ping_tick(p);
}

static void test_idle_timeout_closes(void **state)
{
    env e;

    (void)state;
    env_init(&e, 0);
    e.scfg.idle_timeout_ms = 200; /* no on_timeout: the conn aborts itself */
    e.srv.echo = 1;
    e.cli.connected_hook = start_pings; /* 4 bytes, 50 ms apart, keep it alive */
    env_connect(&e);
    env_run(&e, both_closed);

    assert_int_equal(e.srv.status, UV_ETIMEDOUT);
    assert_int_equal(e.cli.status, UV_EOF);
    assert_int_equal(e.cli.got.len, 4);
    assert_true(e.srv.closed_at >= e.last_send + 200);
    assert_true(e.srv.closed_at - e.started >= 150 + 200);
    assert_true(e.srv.closed_at - e.started < 3000);
    env_finish(&e);
}

static void set_deadline_100(env *e)
{
    conn_set_read_deadline(&e->srv.c, 100);
}

static void test_read_deadline_fires(void **state)
{
    env e;

    (void)state;
    env_init(&e, 0);
    e.scfg.on_timeout = on_timeout;
    e.accepted_hook = set_deadline_100;
    e.srv.on_timeout = "408\n";
    e.cli.send = "GET / HT"; /* never completed */
    e.cli.send_len = 8;
    env_connect(&e);
    env_run(&e, both_closed);

    assert_int_equal(e.srv.timeouts[CONN_TIMEOUT_READ], 1);
    assert_int_equal(e.srv.timeouts[CONN_TIMEOUT_IDLE], 0);
    assert_int_equal(e.srv.status, 0);
    assert_true(e.srv.closed_at - e.started >= 100);
    assert_int_equal(e.cli.got.len, 4);
    assert_memory_equal(buf_ptr(&e.cli.got), "408\n", 4);
    assert_int_equal(e.cli.status, UV_EOF);
    env_finish(&e);
}

static void close_tick(peer *p)
{
    peer_close(p);
}

static void close_later(peer *p)
{
    peer_after(p, 250, close_tick);
}

static void test_read_deadline_cleared(void **state)
{
    env e;

    (void)state;
    env_init(&e, 0);
    e.scfg.on_timeout = on_timeout;
    e.accepted_hook = set_deadline_100;
    e.srv.clear_on_newline = 1;
    e.srv.echo = 1;
    e.cli.send = "hello\n";
    e.cli.send_len = 6;
    e.cli.connected_hook = close_later; /* well past the cleared deadline */
    env_connect(&e);
    env_run(&e, both_closed);

    assert_int_equal(e.srv.timeouts[CONN_TIMEOUT_READ], 0);
    assert_int_equal(e.srv.status, UV_EOF);
    assert_int_equal(e.cli.status, 0);
    assert_true(e.cli.closed_at - e.started >= 250);
    assert_memory_equal(buf_ptr(&e.cli.got), "hello\n", 6);
    env_finish(&e);
}

static void test_err_kinds(void **state)
{
    (void)state;
    assert_int_equal(conn_err_kind(0), CONN_ERR_NONE);
    assert_int_equal(conn_err_kind(UV_EOF), CONN_ERR_CLOSED);
    assert_int_equal(conn_err_kind(UV_ECONNREFUSED), CONN_ERR_REFUSED);
    assert_int_equal(conn_err_kind(UV_ECONNRESET), CONN_ERR_RESET);
    assert_int_equal(conn_err_kind(UV_EPIPE), CONN_ERR_RESET);
    assert_int_equal(conn_err_kind(-ECONNRESET), CONN_ERR_RESET);
    assert_int_equal(conn_err_kind(UV_ETIMEDOUT), CONN_ERR_TIMEOUT);
    assert_int_equal(conn_err_kind(TLS_ERR_VERIFY), CONN_ERR_TLS);
    assert_int_equal(conn_err_kind(TLS_ERR_PROTO), CONN_ERR_TLS);
    assert_int_equal(conn_err_kind(UV_ENOBUFS), CONN_ERR_OTHER);
    assert_string_equal(conn_err_kind_name(CONN_ERR_TIMEOUT), "timeout");
    assert_string_equal(conn_err_kind_name(CONN_ERR_TLS), "tls");
    assert_string_equal(conn_err_kind_name((enum conn_err_kind)99), "other");
    assert_non_null(strstr(conn_strerror(TLS_ERR_VERIFY), "verification"));
    assert_string_equal(conn_strerror(UV_ECONNREFUSED), uv_strerror(UV_ECONNREFUSED));
}

/* ---- TLS verification against the project's own server ---- */

static void tls_client_run(env *e, int insecure, const char *ca, const char *host)
{
    char err[256];

    tls_ctx_free(e->ctls);
    e->ctls = NULL;
    assert_int_equal(tls_ctx_new_client(&e->ctls, insecure, ca, err, sizeof(err)), 0);
    e->host = host;
    e->srv.echo = 1;
    e->cli.send = "hi";
    e->cli.send_len = 2;
    e->cli.close_after = 2;
    env_connect(e);
    env_run(e, both_closed);
}

static void test_tls_default_verify_rejects_self_signed(void **state)
{
    env e;

    (void)state;
    env_init(&e, 1);
    tls_client_run(&e, 0, NULL, "localhost");
    assert_int_equal(e.cli.status, TLS_ERR_VERIFY);
    assert_int_equal(conn_err_kind(e.cli.status), CONN_ERR_TLS);
    assert_int_equal(e.cli.connected, 0);
    assert_int_equal(e.srv.reads, 0);
    /* The server hears the client's alert. */
    assert_int_equal(conn_err_kind(e.srv.status), CONN_ERR_TLS);
    env_finish(&e);
}

static void test_tls_insecure_accepts(void **state)
{
    env e;

    (void)state;
    env_init(&e, 1);
    tls_client_run(&e, 1, NULL, "localhost");
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(e.cli.connected, 1);
    assert_memory_equal(buf_ptr(&e.cli.got), "hi", 2);
    env_finish(&e);
}

static void test_tls_ca_file_and_host(void **state)
{
    static const char *hosts[] = {"localhost", "127.0.0.1"};
    size_t i;
    env e;

    (void)state;
    for (i = 0; i < 2; i++) {
        env_init(&e, 1);
        tls_client_run(&e, 0, fx.cert, hosts[i]);
        assert_int_equal(e.cli.status, 0);
        assert_int_equal(e.cli.connected, 1);
        assert_int_equal(e.cli.got.len, 2);
        assert_memory_equal(buf_ptr(&e.cli.got), "hi", 2);
        assert_null(conn_tls_verify_error(&e.cli.c));
        assert_int_equal(e.srv.status, UV_EOF);
        env_finish(&e);
    }
}

static void test_tls_host_mismatch(void **state)
{
    env e;

    (void)state;
    env_init(&e, 1);
    tls_client_run(&e, 0, fx.cert, "wrong.example");
    assert_int_equal(e.cli.status, TLS_ERR_VERIFY);
    assert_int_equal(e.cli.connected, 0);
    assert_non_null(conn_tls_verify_error(&e.cli.c));
    assert_non_null(strstr(conn_tls_verify_error(&e.cli.c), "mismatch"));
    env_finish(&e);
}

/* ---- interop with a real `openssl s_server` ---- */

/* Starts `openssl s_server -rev` (it answers each line reversed) on an
 * ephemeral port and returns its pid; *port receives the port it printed. */
static pid_t s_server_start(int *port, int *out_fd)
{
    int fds[2], devnull;
    pid_t pid;
    char line[256];
    size_t len = 0;
    struct pollfd pfd;
    char *at;
    ssize_t n;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(devnull, 2);
        close(fds[0]);
        execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", fx.cert, "-key",
               fx.key, "-rev", "-naccept", "1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *port = 0;
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    while (*port == 0 && len < sizeof(line) - 1 && poll(&pfd, 1, 5000) == 1) {
        n = read(fds[0], line + len, sizeof(line) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = '\0';
        at = strstr(line, "ACCEPT 127.0.0.1:");
        if (at != NULL && strchr(at, '\n') != NULL)
            *port = atoi(at + strlen("ACCEPT 127.0.0.1:"));
    }
    *out_fd = fds[0];
    return pid;
}

static void test_tls_interop_openssl_s_server(void **state)
{
    env e;
    int port, out_fd, wstatus;
    pid_t pid;

    (void)state;
    pid = s_server_start(&port, &out_fd);
    assert_true(port > 0);
    env_init(&e, 1);
    e.addr.sin_port = htons((uint16_t)port);
    e.cli.send = "hello\n";
    e.cli.send_len = 6;
    e.cli.close_after = 6;
    env_connect(&e);
    env_run(&e, client_closed);
    kill(pid, SIGTERM);
    waitpid(pid, &wstatus, 0);
    close(out_fd);

    assert_int_equal(e.cli.connected, 1);
    assert_int_equal(e.cli.status, 0);
    assert_int_equal(e.cli.got.len, 6);
    assert_memory_equal(buf_ptr(&e.cli.got), "olleh\n", 6);
    env_finish(&e);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return tls_fixture_make(&fx);
}

static int group_teardown(void **state)
{
    (void)state;
    tls_fixture_remove(&fx);
    return 0;
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &mode_tcp), cmocka_unit_test_prestate(fn, &mode_tls)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_echo),
        BOTH(test_large_write_drains),
        BOTH(test_read_bound_enforced),
        BOTH(test_pause_resume_redelivers),
        BOTH(test_abort_drops_queue),
        BOTH(test_cork_batches_writes),
        cmocka_unit_test(test_sync_failures_run_no_callback),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_idle_timeout_closes),
        cmocka_unit_test(test_read_deadline_fires),
        cmocka_unit_test(test_read_deadline_cleared),
        cmocka_unit_test(test_err_kinds),
        cmocka_unit_test(test_tls_default_verify_rejects_self_signed),
        cmocka_unit_test(test_tls_insecure_accepts),
        cmocka_unit_test(test_tls_ca_file_and_host),
        cmocka_unit_test(test_tls_host_mismatch),
        cmocka_unit_test(test_tls_interop_openssl_s_server),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
