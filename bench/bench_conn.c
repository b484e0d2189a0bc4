/*
 * bench_conn: request/response round trips over 64 keep-alive connections on
 * one thread and one loop (client and server conns in the same loop), through
 * conn (plain and TLS) against the same exchange written directly on libuv
 * streams (the peer: the least any libuv program can do). Also counts
 * allocations per round trip in the steady state, which must be 0 for conn
 * over TCP: reads land in the conn's buffer and writes go out with
 * uv_try_write.
 *
 *   build/bench_conn [seconds per round and variant, default 1]
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/conn.h"

#define NCONN        64
#define BENCH_ROUNDS 5

static const char req[] = "GET /api/v2/users/me HTTP/1.1\r\nHost: bench\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Content-Length: 27\r\n\r\n{\"id\":42,\"name\":\"tollgate\"}";
#define REQ_LEN  (sizeof(req) - 1)
#define RESP_LEN (sizeof(resp) - 1)

/* ---- counting allocator: glibc lets a program interpose malloc; not under
 * AddressSanitizer, which owns malloc itself ---- */

static uint64_t allocs;

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_COUNTS_ALLOCS 0
#else
#define BENCH_COUNTS_ALLOCS 1

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n)
{
    allocs++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    allocs++;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    allocs++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}
#endif

/* ---- shared run state ---- */

static uv_loop_t loop;
static uv_tcp_t listener;
static struct sockaddr_in addr;
static uint64_t trips;
static int stopping;

/* ---- variant 1: conn ---- */

typedef struct side {
    conn c;
    int client;
} side;

static side servers[NCONN], clients[NCONN];
static int nservers;
static conn_config scfg, ccfg;
static tls_ctx *stls, *ctls, *run_tls; /* run_tls: the server's, in the TLS run */

static void side_read(conn *c, buf *rbuf)
{
    side *s = c->data;
    size_t need = s->client ? RESP_LEN : REQ_LEN;

    while (rbuf->len >= need) {
        buf_consume(rbuf, need);
        if (s->client) {
            trips++;
            if (!stopping)
                conn_write(c, req, REQ_LEN);
        } else {
            conn_write(c, resp, RESP_LEN);
        }
    }
}

static void side_connect(conn *c)
{
    conn_write(c, req, REQ_LEN);
}

static void side_close(conn *c, int status)
{
    if (!stopping)
        fprintf(stderr, "bench_conn: connection closed: %s\n", conn_strerror(status));
}

static void conn_on_connection(uv_stream_t *l, int status)
{
    side *s = &servers[nservers++];

    conn_init(&loop, &s->c, &scfg);
    s->c.data = s;
    conn_accept(&s->c, &listener, run_tls);
}

/* ---- variant 2: libuv streams directly ---- */

typedef struct raw {
    uv_tcp_t tcp;
    uv_connect_t creq;
    int client;
    size_t have;
    char rbuf[16384];
} raw;

static raw rservers[NCONN], rclients[NCONN];
static int nrservers;

static void raw_send(raw *r, const char *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned int)n);

    /* Small messages to a reading peer always fit in the socket buffer. */
    uv_try_write((uv_stream_t *)&r->tcp, &b, 1);
}

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    raw *r = h->data;

    b->base = r->rbuf + r->have;
    b->len = sizeof(r->rbuf) - r->have;
}

static void raw_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    raw *r = st->data;
    size_t need = r->client ? RESP_LEN : REQ_LEN;

    if (n <= 0)
        return;
    r->have += (size_t)n;
    while (r->have >= need) {
        memmove(r->rbuf, r->rbuf + need, r->have - need);
        r->have -= need;
        if (r->client) {
            trips++;
            if (!stopping)
                raw_send(r, req, REQ_LEN);
        } else {
            raw_send(r, resp, RESP_LEN);
        }
    }
}

static void raw_connected(uv_connect_t *creq, int status)
{
    raw *r = creq->data;

    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
    raw_send(r, req, REQ_LEN);
}

static void raw_on_connection(uv_stream_t *l, int status)
{
    raw *r = &rservers[nrservers++];

    uv_tcp_init(&loop, &r->tcp);
    r->tcp.data = r;
    uv_accept(l, (uv_stream_t *)&r->tcp);
    uv_tcp_nodelay(&r->tcp, 1);
    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
}

/* ---- driver ---- */

static void noop_close(uv_handle_t *h)
{
}

static void listen_on(uv_connection_cb cb)
{
    int len = sizeof(addr);

    uv_tcp_init(&loop, &listener);
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&listener, (struct sockaddr *)&addr, 0);
    uv_listen((uv_stream_t *)&listener, NCONN, cb);
    uv_tcp_getsockname(&listener, (struct sockaddr *)&addr, &len);
}

static void stop_cb(uv_timer_t *t)
{
    uv_stop(&loop);
}

/* Runs the loop for `ms`, returning round trips per second and storing the
 * allocations per round trip. */
static double measure(uint64_t ms, double *allocs_per_trip)
{
    static uv_timer_t t;
    uint64_t t0, a0, n0;
    double secs;

    uv_timer_init(&loop, &t);
    uv_timer_start(&t, stop_cb, 300, 0); /* warm up: connect, handshake, grow buffers */
    uv_run(&loop, UV_RUN_DEFAULT);
    n0 = trips;
    a0 = allocs;
    t0 = clock_now_ns();
    uv_timer_start(&t, stop_cb, ms, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    secs = (double)(clock_now_ns() - t0) / 1e9;
    *allocs_per_trip = BENCH_COUNTS_ALLOCS ? (double)(allocs - a0) / (double)(trips - n0) : -1;
    uv_close((uv_handle_t *)&t, noop_close);
    return (double)(trips - n0) / secs;
}

static double run_conn(uint64_t ms, int tls, double *apt)
{
    double rate;
    int i;

    uv_loop_init(&loop);
    trips = 0;
    stopping = 0;
    nservers = 0;
    run_tls = tls ? stls : NULL;
    listen_on(conn_on_connection);
    scfg.on_read = side_read;
    scfg.on_close = side_close;
    ccfg = scfg;
    ccfg.on_connect = side_connect;
    for (i = 0; i < NCONN; i++) {
        clients[i].client = 1;
        conn_init(&loop, &clients[i].c, &ccfg);
        clients[i].c.data = &clients[i];
        conn_connect(&clients[i].c, (struct sockaddr *)&addr, tls ? ctls : NULL, "localhost");
    }
    rate = measure(ms, apt);
    stopping = 1;
    for (i = 0; i < NCONN; i++)
        conn_abort(&clients[i].c);
    for (i = 0; i < nservers; i++)
        conn_abort(&servers[i].c);
    uv_close((uv_handle_t *)&listener, noop_close);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rate;
}

static double run_raw(uint64_t ms, double *apt)
{
    double rate;
    int i;

    uv_loop_init(&loop);
    trips = 0;
    stopping = 0;
    nrservers = 0;
    listen_on(raw_on_connection);
    for (i = 0; i < NCONN; i++) {
        raw *r = &rclients[i];

        memset(r, 0, sizeof(*r));
        r->client = 1;
        uv_tcp_init(&loop, &r->tcp);
        r->tcp.data = r;
        r->creq.data = r;
        uv_tcp_nodelay(&r->tcp, 1);
        uv_tcp_connect(&r->creq, &r->tcp, (struct sockaddr *)&addr, raw_connected);
    }
    rate = measure(ms, apt);
    stopping = 1;
    for (i = 0; i < NCONN; i++)
        uv_close((uv_handle_t *)&rclients[i].tcp, noop_close);
    for (i = 0; i < nrservers; i++)
        uv_close((uv_handle_t *)&rservers[i].tcp, noop_close);
    uv_close((uv_handle_t *)&listener, noop_close);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rate;
}

/* Writes a throw-away certificate for the TLS variant. */
static int make_cert(char *dir, size_t dirlen, char *err, size_t errlen)
{
    char cmd[512], cert[128], key[128];

    snprintf(dir, dirlen, "/tmp/tg-bench-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
             " -subj /CN=localhost -days 1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0)
        return -1;
    if (tls_ctx_new_server(&stls, cert, key, err, errlen) < 0 ||
        tls_ctx_new_client(&ctls, 0, cert, err, errlen) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static double best(double a, double b)
{
    return a > b ? a : b;
}

int main(int argc, char **argv)
{
    uint64_t ms = (argc > 1 ? (uint64_t)atoi(argv[1]) : 1) * 1000;
    double raw_rate = 0, tcp_rate = 0, tls_rate = 0, raw_a, tcp_a, tls_a;
    char dir[64], err[256];
    int round;

    signal(SIGPIPE, SIG_IGN);
    if (make_cert(dir, sizeof(dir), err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_conn: cannot make a TLS certificate: %s\n", err);
        return 1;
    }
    /* Interleaved rounds, best of each: on a shared machine the other
     * processes only ever slow a round down. */
    for (round = 0; round < BENCH_ROUNDS; round++) {
        raw_rate = best(raw_rate, run_raw(ms, &raw_a));
        tcp_rate = best(tcp_rate, run_conn(ms, 0, &tcp_a));
        tls_rate = best(tls_rate, run_conn(ms, 1, &tls_a));
    }
    printf("round trips/s, %d keep-alive connections, client and server on one loop,"
           " best of %d rounds of %llu ms:\n",
           NCONN, BENCH_ROUNDS, (unsigned long long)ms);
    printf("  libuv streams (peer) %10.0f   allocs/trip %.3f\n", raw_rate, raw_a);
    printf("  conn, TCP            %10.0f   allocs/trip %.3f   ratio %.2f\n", tcp_rate, tcp_a,
           tcp_rate / raw_rate);
    printf("  conn, TLS            %10.0f   allocs/trip %.3f   ratio %.2f\n", tls_rate, tls_a,
           tls_rate / raw_rate);
    tls_ctx_free(stls);
    tls_ctx_free(ctls);
    return 0;
}
