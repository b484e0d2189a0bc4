#include "serve/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "serve/metrics.h"

#define WORKER_READ_MAX   (64 << 10)  /* bytes a connection may buffer unparsed */
#define WORKER_OUT_FLUSH  (64 << 10)  /* write the collected responses past this */
#define WORKER_OUT_KEEP   (256 << 10) /* a larger output buffer is freed after a write */
#define WORKER_WRITE_HIGH (1 << 20)   /* stop reading while this much waits for the peer */
#define WORKER_CONN_KEEP  256         /* closed connections kept for reuse */
#define WORKER_BACKLOG    4096

static _Thread_local worker *worker_tls;

static void worker_process(gwconn *gc);
static void worker_check_done(worker *w);

/* ---- clock and Date ---- */

worker *worker_self(void)
{
    return worker_tls;
}

uint64_t worker_now(worker *w)
{
    if (!w->now_ok) {
        w->now = clock_now_ns();
        w->now_ok = true;
    }
    return w->now;
}

uint64_t worker_wall(worker *w)
{
    if (!w->wall_ok) {
        w->wall = clock_wall_ns();
        w->wall_ok = true;
    }
    return w->wall;
}

const char *worker_date(worker *w, size_t *len)
{
    uint64_t sec = worker_wall(w) / CLOCK_NS_PER_S;

    if (sec != w->date_sec || w->date_len == 0) {
        time_t t = (time_t)sec;
        struct tm tm;

        gmtime_r(&t, &tm);
        w->date_len =
            strftime(w->date, sizeof(w->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        w->date_sec = sec;
    }
    *len = w->date_len;
    return w->date;
}

/* After the I/O of a loop pass: the next pass reads the clocks afresh. */
static void worker_on_check(uv_check_t *h)
{
    worker *w = h->data;

    w->now_ok = false;
    w->wall_ok = false;
}

/* ---- listening ---- */

/* Sets the error message for a failed socket call on `text`. */
static int worker_sock_fail(const char *text, int e, char *err, size_t errlen)
{
    if (e == EADDRINUSE)
        snprintf(err, errlen, "%s: address in use: another process listens on this port", text);
    else
        snprintf(err, errlen, "%s: %s", text, strerror(e));
    return -e;
}

/* A non-blocking socket bound to addr (not listening yet), with SO_REUSEADDR
 * (so that connections of an earlier server in TIME_WAIT do not keep the
 * port) and SO_REUSEPORT when asked. The address bound is written back. */
static int worker_sock_bind(struct sockaddr_storage *addr, const char *text, bool reuseport,
                            char *err, size_t errlen)
{
    socklen_t len =
        addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int one = 1, fd, e;

    fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return worker_sock_fail(text, errno, err, errlen);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)addr, len) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
        e = errno;
        close(fd);
        return worker_sock_fail(text, e, err, errlen);
    }
    return fd;
}

int worker_listen_socket(struct sockaddr_storage *addr, const char *text, bool reuseport, char *err,
                         size_t errlen)
{
    int fd = worker_sock_bind(addr, text, reuseport, err, errlen), e;

    if (fd < 0)
        return fd;
    if (listen(fd, WORKER_BACKLOG) < 0) {
        e = errno;
        close(fd);
        return worker_sock_fail(text, e, err, errlen);
    }
    return fd;
}

/*
 * Why the first socket starts without SO_REUSEPORT: the kernel lets a socket
 * bind or listen on a port where others listen only if all of them, old and
 * new, have SO_REUSEPORT and the same user -- it cannot tell our workers from
 * a second `tollgate serve` of the same user, which would then share the port
 * silently with limiter state of its own. So:
 *
 *   1. fds[0] is bound with SO_REUSEADDR only, fds[1..n) with SO_REUSEADDR
 *      and SO_REUSEPORT; none listens yet (bound sockets with SO_REUSEADDR
 *      that do not listen never conflict with each other, so a second server
 *      starting at the same moment may get this far too).
 *   2. listen(fds[0]) is the one exclusive step: a listening socket without
 *      SO_REUSEPORT conflicts with every other socket that listens on the
 *      port, whatever its options or user. It fails if anything listens
 *      there already (another tollgate, nginx, ...), and once it succeeded
 *      no other socket can listen on the port (nor bind, unless it has
 *      SO_REUSEADDR and never listens). Of two servers racing, the kernel lets
 *      exactly one pass this step; the other exits with "address in use".
 *   3. Only then fds[0] gets SO_REUSEPORT, and fds[1..n) listen: they join
 *      fds[0]'s reuseport group (the kernel forms the group when the second
 *      socket listens and finds the first listening with the option set), so
 *      connections are spread over all n.
 *
 * There is no moment between the check and the listening when another
 * tollgate could slip in: the check is the first listen itself. What cannot
 * be prevented is a program of the same user that opens a SO_REUSEPORT
 * socket on the port later, on purpose: with n > 1 the group must keep the
 * option (with n == 1 it never gets it, and nothing can join).
 */
int worker_listen_group(struct sockaddr_storage *addr, const char *text, unsigned n, int *fds,
                        char *err, size_t errlen)
{
    int one = 1, rc = 0;
    unsigned i;

    for (i = 0; i < n; i++)
        fds[i] = -1;
    for (i = 0; i < n && rc >= 0; i++) {
        rc = worker_sock_bind(addr, text, i > 0, err, errlen);
        fds[i] = rc;
    }
    if (rc >= 0 && listen(fds[0], WORKER_BACKLOG) < 0)
        rc = worker_sock_fail(text, errno, err, errlen);
    if (rc >= 0 && n > 1 && setsockopt(fds[0], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        rc = worker_sock_fail(text, errno, err, errlen);
    for (i = 1; i < n && rc >= 0; i++)
        if (listen(fds[i], WORKER_BACKLOG) < 0)
            rc = worker_sock_fail(text, errno, err, errlen);
    if (rc >= 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
    return rc;
}

/* ---- writing ---- */

/* Writes the responses collected in w->out to gc. */
static void worker_flush(gwconn *gc)
{
    worker *w = gc->w;

    if (w->out.len == 0)
        return;
    if (conn_state(&gc->c) == CONN_OPEN) {
        conn_write(&gc->c, buf_ptr(&w->out), w->out.len);
        if (conn_state(&gc->c) == CONN_OPEN && conn_write_queued(&gc->c) > WORKER_WRITE_HIGH)
            gc->write_blocked = true;
    }
    buf_reset(&w->out);
    if (w->out.cap > WORKER_OUT_KEEP)
        buf_free(&w->out);
}

static void worker_pause(gwconn *gc)
{
    if (!gc->paused) {
        gc->paused = true;
        conn_read_pause(&gc->c);
    }
}

/* What the connection does once a batch of requests is answered. While a
 * request waits, reading goes on (a client that goes away is noticed, and
 * its concurrency slots come back), but nothing more is parsed. */
static void worker_settle(gwconn *gc)
{
    if (conn_state(&gc->c) != CONN_OPEN)
        return;
    if (gc->write_blocked || (gc->req != NULL && gc->hold_reads))
        worker_pause(gc);
    else if (gc->req == NULL && gc->close_after)
        conn_close(&gc->c);
}

void worker_conn_answered(gwconn *gc)
{
    worker *w = gc->w;

    gc->req = NULL;
    gc->hold_reads = false;
    worker_flush(gc);
    if (conn_state(&gc->c) != CONN_OPEN)
        return;
    if (gc->close_after || w->stopping) {
        conn_close(&gc->c);
        return;
    }
    if (gc->write_blocked)
        return; /* on_drain goes on */
    if (gc->paused) {
        gc->paused = false;
        conn_read_resume(&gc->c); /* bytes already buffered come back through on_read */
    } else if (gc->c.rbuf.len > 0) {
        worker_process(gc);
    }
}

/* ---- reading ---- */

/* A message is under way but not complete: the header deadline runs while
 * its head is incomplete; once the head is in, "Expect: 100-continue" is
 * answered. */
static void worker_partial(gwconn *gc)
{
    worker *w = gc->w;
    const h1_msg *head = h1_parser_head(&gc->p);

    if (head == NULL) {
        if (!gc->in_head) {
            conn_set_read_deadline(&gc->c, w->g->cfg->header_timeout_ns / CLOCK_NS_PER_MS);
            gc->in_head = true;
        }
        return;
    }
    if (gc->in_head) {
        conn_clear_read_deadline(&gc->c);
        gc->in_head = false;
    }
    if (!gc->continued && head->version_minor >= 1) {
        const h1_header *e = h1_msg_header(head, "Expect");

        if (e != NULL && e->value_len == 12 && strncasecmp(e->value, "100-continue", 12) == 0)
            buf_append(&w->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        gc->continued = true;
    }
}

static void worker_process(gwconn *gc)
{
    worker *w = gc->w;
    buf *rb = &gc->c.rbuf;

    while (gc->req == NULL && !gc->close_after && !gc->write_blocked && rb->len > 0 &&
           conn_state(&gc->c) == CONN_OPEN) {
        ssize_t n = h1_parser_feed(&gc->p, buf_ptr(rb), rb->len);
        const h1_msg *msg;

        if (n < 0) {
            gc->close_after = true;
            gateway_error(gc, h1_error_status((int)n), h1_strerror((int)n));
            break;
        }
        msg = h1_parser_message(&gc->p);
        /* The message's slices may point into these bytes: consuming only
         * moves the buffer's start, and nothing refills it before the
         * request is answered (reading is paused while it waits). */
        buf_consume(rb, (size_t)n);
        if (msg == NULL) {
            worker_partial(gc);
            break;
        }
        if (gc->in_head) {
            conn_clear_read_deadline(&gc->c);
            gc->in_head = false;
        }
        gc->continued = false;
        if (!h1_should_keep_alive(&gc->p) || w->stopping)
            gc->close_after = true;
        gateway_request(gc, msg);
        if (w->out.len >= WORKER_OUT_FLUSH)
            worker_flush(gc);
    }
    worker_flush(gc);
    worker_settle(gc);
}

static void worker_on_read(conn *c, buf *rbuf)
{
    gwconn *gc = c->data;

    if (gc->req != NULL) {
        /* Waiting for an answer: keep what comes (pipelined requests) up to
         * a bound, then let TCP hold the rest back. */
        if (rbuf->len >= WORKER_READ_MAX / 2)
            worker_pause(gc);
        return;
    }
    worker_process(gc);
}

static void worker_on_drain(conn *c)
{
    gwconn *gc = c->data;

    if (!gc->write_blocked)
        return;
    gc->write_blocked = false;
    if (gc->req == NULL && !gc->close_after) {
        gc->paused = false;
        conn_read_resume(c);
    } else if (gc->req == NULL) {
        conn_close(c);
    }
}

static void worker_on_timeout(conn *c, enum conn_timeout kind)
{
    gwconn *gc = c->data;

    if (kind != CONN_TIMEOUT_READ || !gc->in_head || gc->req != NULL)
        return; /* the conn aborts */
    gc->in_head = false;
    gc->close_after = true;
    gateway_error(gc, 408, "the request head did not arrive in time");
    worker_flush(gc);
    conn_close(c);
}

/* ---- connections ---- */

static void worker_conn_free(gwconn *gc)
{
    h1_parser_free(&gc->p);
    free(gc);
}

static void worker_on_close(conn *c, int status)
{
    gwconn *gc = c->data;
    worker *w = gc->w;

    (void)status;
    if (gc->req != NULL) {
        gwreq *r = gc->req;

        gc->req = NULL;
        gateway_conn_gone(r);
    }
    if (gc->prev != NULL)
        gc->prev->next = gc->next;
    else
        w->conns = gc->next;
    if (gc->next != NULL)
        gc->next->prev = gc->prev;
    w->nconns--;
    metrics_conns(w->m, -1);
    if (w->nfree_conns < WORKER_CONN_KEEP && !w->finished) {
        h1_parser_reset(&gc->p);
        gc->next = w->free_conns;
        w->free_conns = gc;
        w->nfree_conns++;
    } else {
        worker_conn_free(gc);
    }
    worker_check_done(w);
}

static void worker_peer_ip(gwconn *gc)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    strcpy(gc->ip, "unknown");
    if (uv_tcp_getpeername(&gc->c.tcp, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, gc->ip, sizeof(gc->ip));
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, gc->ip, sizeof(gc->ip));
}

static void worker_on_connection(uv_stream_t *server, int status)
{
    worker *w = server->data;
    gwconn *gc;

    if (status < 0) {
        log_warn("serve", "accept: %s", uv_strerror(status));
        return;
    }
    gc = w->free_conns;
    if (gc != NULL) {
        w->free_conns = gc->next;
        w->nfree_conns--;
    } else {
        gc = calloc(1, sizeof(*gc));
        if (gc == NULL) {
            log_warn("serve", "accept: out of memory");
            return;
        }
        h1_parser_init(&gc->p, H1_REQUEST, &w->h1cfg);
    }
    gc->w = w;
    gc->req = NULL;
    gc->in_head = false;
    gc->close_after = false;
    gc->continued = false;
    gc->write_blocked = false;
    gc->hold_reads = false;
    gc->paused = false;
    gc->c.data = gc;
    if (conn_init(&w->loop, &gc->c, &w->ccfg) < 0) {
        worker_conn_free(gc);
        return;
    }
    gc->prev = NULL;
    gc->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = gc;
    w->conns = gc;
    w->nconns++;
    metrics_conns(w->m, 1);
    if (conn_accept(&gc->c, &w->listener, NULL) < 0) {
        conn_abort(&gc->c);
        return;
    }
    worker_peer_ip(gc);
    conn_set_read_deadline(&gc->c, w->g->cfg->header_timeout_ns / CLOCK_NS_PER_MS);
    gc->in_head = true;
}

/* ---- stopping ---- */

static void worker_run_hooks(worker *w)
{
    worker_hook *h = w->hooks;

    w->hooks = NULL;
    for (; h != NULL; h = h->next)
        h->fn(h->arg);
}

static void worker_check_done(worker *w)
{
    if (!w->stopping || w->finished || w->nconns > 0 || w->pool.nlive > 0)
        return;
    w->finished = true;
    worker_run_hooks(w);
    while (w->free_conns != NULL) {
        gwconn *gc = w->free_conns;

        w->free_conns = gc->next;
        worker_conn_free(gc);
    }
    w->nfree_conns = 0;
    gateway_pool_free(&w->pool);
    uv_timer_stop(&w->drain_timer);
    /* The loop ends once nothing holds it; the wake handle stays open (not
     * counted) so that a late worker_abort is harmless; worker_free closes it. */
    uv_unref((uv_handle_t *)&w->wake);
}

static void worker_abort_all(worker *w)
{
    for (gwconn *gc = w->conns; gc != NULL; gc = gc->next)
        conn_abort(&gc->c);
    worker_run_hooks(w); /* fails what the proxy still waits for */
}

static void worker_on_drain_timer(uv_timer_t *t)
{
    worker *w = t->data;

    if (w->nconns > 0)
        log_warn("serve", "worker %u: drain deadline passed, closing %zu connections", w->id,
                 w->nconns);
    worker_abort_all(w);
    worker_check_done(w);
}

static void worker_begin_stop(worker *w)
{
    uint64_t ms = w->g->cfg->drain_timeout_ns / CLOCK_NS_PER_MS;

    w->stopping = true;
    uv_close((uv_handle_t *)&w->listener, NULL);
    for (gwconn *gc = w->conns; gc != NULL; gc = gc->next) {
        if (gc->req != NULL)
            gc->close_after = true; /* its response says Connection: close */
        else
            conn_close(&gc->c);
    }
    uv_timer_start(&w->drain_timer, worker_on_drain_timer, ms, 0);
    worker_check_done(w);
}

static void worker_on_wake(uv_async_t *a)
{
    worker *w = a->data;
    int cmd = atomic_load(&w->command);

    if (cmd >= 1 && !w->stopping)
        worker_begin_stop(w);
    if (cmd == 2 && !w->finished) {
        worker_abort_all(w);
        worker_check_done(w);
    }
}

void worker_req_ended(worker *w)
{
    worker_check_done(w);
}

void worker_on_stop(worker *w, worker_hook *h)
{
    h->next = w->hooks;
    w->hooks = h;
}

/* ---- life cycle ---- */

int worker_init(worker *w, gw *g, unsigned id, int listen_fd)
{
    const gw_config *cfg = g->cfg;
    int rc;

    memset(w, 0, sizeof(*w));
    w->g = g;
    w->id = id;
    w->listen_fd = listen_fd;
    atomic_init(&w->command, 0);
    atomic_init(&w->exited, false);
    rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        close(listen_fd);
        return rc;
    }
    w->loop_ok = true;
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    rc = uv_tcp_open(&w->listener, listen_fd);
    if (rc < 0) {
        close(listen_fd);
        return rc;
    }
    uv_async_init(&w->loop, &w->wake, worker_on_wake);
    w->wake.data = w;
    uv_check_init(&w->loop, &w->check);
    w->check.data = w;
    uv_check_start(&w->check, worker_on_check);
    uv_unref((uv_handle_t *)&w->check);
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_unref((uv_handle_t *)&w->drain_timer);

    w->ccfg.read_max = WORKER_READ_MAX;
    w->ccfg.idle_timeout_ms = cfg->idle_timeout_ns / CLOCK_NS_PER_MS;
    w->ccfg.on_read = worker_on_read;
    w->ccfg.on_drain = worker_on_drain;
    w->ccfg.on_timeout = worker_on_timeout;
    w->ccfg.on_close = worker_on_close;
    h1_config_default(&w->h1cfg);
    w->h1cfg.max_body = cfg->max_body;
    w->h1cfg.max_header_bytes = cfg->max_header_bytes;
    w->h1cfg.max_headers = cfg->max_headers;
    w->h1cfg.max_uri = cfg->max_uri;
    rng_seed_random(&w->rng);
    buf_init(&w->out, 0);
    w->m = metrics_worker_of(g->metrics, id);
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int rc;

    worker_tls = w;
    rc = uv_listen((uv_stream_t *)&w->listener, WORKER_BACKLOG, worker_on_connection);
    if (rc < 0)
        log_error("serve", "worker %u: listen: %s", w->id, uv_strerror(rc));
    uv_run(&w->loop, UV_RUN_DEFAULT);
    atomic_store(&w->exited, true);
    return NULL;
}

int worker_start(worker *w)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);

    if (rc != 0)
        return -rc;
    w->started = true;
    return 0;
}

void worker_stop(worker *w)
{
    int expected = 0;

    atomic_compare_exchange_strong(&w->command, &expected, 1);
    uv_async_send(&w->wake);
}

void worker_abort(worker *w)
{
    atomic_store(&w->command, 2);
    uv_async_send(&w->wake);
}

void worker_join(worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
}

static void worker_close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void worker_free(worker *w)
{
    if (!w->loop_ok)
        return;
    w->stopping = true;
    w->finished = true;
    while (w->free_conns != NULL) {
        gwconn *gc = w->free_conns;

        w->free_conns = gc->next;
        worker_conn_free(gc);
    }
    gateway_pool_free(&w->pool);
    uv_walk(&w->loop, worker_close_any, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    buf_free(&w->out);
    w->loop_ok = false;
}
