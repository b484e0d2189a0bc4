#include "core/conn.h"
#include "core/conn_internal.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define CONN_NEVER      UINT64_MAX
#define CONN_READ_CHUNK (16 * 1024)  /* bytes asked of the socket per read */
#define CONN_KEEP_MAX   (256 * 1024) /* write buffer kept after a write completes, bytes */
#define CONN_WRITE_MAX  (1u << 20)   /* most bytes handed to one uv_write or uv_try_write */

static void conn_uv_timer(uv_timer_t *t);

static uint64_t conn_now(const conn *c)
{
    return uv_now(c->tcp.loop);
}

static void conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;

    if (--c->open_handles > 0)
        return;
    c->ops->free(c);
    buf_free(&c->rbuf);
    buf_free(&c->wq);
    buf_free(&c->wflight);
    c->cfg->on_close(c, c->status);
}

/* Closes the handles; on_close follows from the loop. A close already under
 * way keeps the reason it started with. */
static void conn_teardown(conn *c, int status)
{
    if (c->state == CONN_CLOSED)
        return;
    if (c->state != CONN_CLOSING)
        c->status = status;
    c->state = CONN_CLOSED;
    c->redeliver = 0;
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

/* ---- timers: one uv timer, armed for the earliest deadline ---- */

static uint64_t conn_due(const conn *c, enum conn_timeout kind)
{
    switch (kind) {
    case CONN_TIMEOUT_CONNECT:
        if (c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKING)
            return c->connect_due;
        return CONN_NEVER;
    case CONN_TIMEOUT_READ:
        if (c->state == CONN_HANDSHAKING || c->state == CONN_OPEN)
            return c->read_due;
        return CONN_NEVER;
    case CONN_TIMEOUT_IDLE:
        if (c->cfg->idle_timeout_ms != 0 && c->state != CONN_INIT && c->state != CONN_CLOSED)
            return c->last_active + c->cfg->idle_timeout_ms;
        return CONN_NEVER;
    }
    return CONN_NEVER;
}

static uint64_t conn_next_due(const conn *c, enum conn_timeout *kind)
{
    static const enum conn_timeout kinds[] = {CONN_TIMEOUT_CONNECT, CONN_TIMEOUT_READ,
                                              CONN_TIMEOUT_IDLE};
    uint64_t due = CONN_NEVER, d;
    size_t i;

    *kind = CONN_TIMEOUT_IDLE;
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        d = conn_due(c, kinds[i]);
        if (d < due) {
            due = d;
            *kind = kinds[i];
        }
    }
    return due;
}

/* Arms the timer unless it already fires no later than the next deadline.
 * Activity moves the idle deadline later without touching the timer: when
 * the timer fires early, conn_uv_timer finds nothing due and re-arms. */
static void conn_timer_arm(conn *c)
{
    enum conn_timeout kind;
    uint64_t now, due = conn_next_due(c, &kind);

    if (due == CONN_NEVER || (c->timer_due != CONN_NEVER && c->timer_due <= due))
        return;
    now = conn_now(c);
    uv_timer_start(&c->timer, conn_uv_timer, due > now ? due - now : 0, 0);
    c->timer_due = due;
}

static void conn_fail(conn *c, int status);

static void conn_uv_timer(uv_timer_t *t)
{
    conn *c = t->data;
    enum conn_timeout kind;
    uint64_t now = conn_now(c);
    int was_closing, rc;

    c->timer_due = CONN_NEVER;
    if (c->redeliver) {
        c->redeliver = 0;
        rc = c->ops->bytes_in(c, 0);
        if (rc < 0)
            conn_fail(c, rc);
        if (c->state == CONN_CLOSED)
            return;
    }
    if (conn_next_due(c, &kind) <= now) {
        was_closing = c->state == CONN_CLOSING;
        if (!was_closing && c->cfg->on_timeout != NULL) {
            c->cfg->on_timeout(c, kind);
            if (c->state == CONN_CLOSED)
                return;
        }
        if (was_closing || (c->state != CONN_CLOSING && conn_due(c, kind) <= now)) {
            conn_teardown(c, UV_ETIMEDOUT);
            return;
        }
    }
    conn_timer_arm(c);
}

/* ---- reading ---- */

/* Room for the next read at the end of the read buffer: a chunk, or what is
 * left under the bound; 0 when the buffer is full. */
size_t conn__rbuf_room(conn *c, char **p)
{
    buf *b = &c->rbuf;
    size_t left = b->max - b->len;
    size_t want = left < CONN_READ_CHUNK ? left : CONN_READ_CHUNK;

    *p = NULL;
    if (want == 0)
        return 0;
    if (buf_room(b) < want && buf_reserve(b, want) < 0 && buf_room(b) == 0)
        return 0;
    *p = buf_tail(b);
    return buf_room(b) < left ? buf_room(b) : left;
}

/* Hands the read buffer to on_read. A buffer left full, with reading not
 * paused, can never complete a message: that is UV_ENOBUFS. */
int conn__deliver(conn *c)
{
    if (c->rbuf.len == 0 || c->state != CONN_OPEN || c->paused)
        return 0;
    if (c->cfg->on_read != NULL)
        c->cfg->on_read(c, &c->rbuf);
    if (c->state == CONN_OPEN && !c->paused && c->rbuf.len >= c->rbuf.max)
        return UV_ENOBUFS;
    return 0;
}

static void conn_uv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    conn *c = h->data;

    c->ops->alloc(c, b);
}

static void conn_uv_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    conn *c = s->data;
    int rc;

    if (nread == 0 || c->state == CONN_CLOSED)
        return;
    if (nread < 0) {
        conn_fail(c, (int)nread);
        return;
    }
    c->last_active = conn_now(c);
    rc = c->ops->bytes_in(c, (size_t)nread);
    if (rc < 0)
        conn_fail(c, rc);
}

int conn__read_on(conn *c)
{
    int rc;

    if (c->reading)
        return 0;
    rc = uv_read_start((uv_stream_t *)&c->tcp, conn_uv_alloc, conn_uv_read);
    if (rc == 0)
        c->reading = 1;
    return rc;
}

static void conn_read_off(conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
}

/* ---- writing: straight to the socket, else into wq. An empty wflight
 * swaps with wq before uv_write, so appends never move bytes in flight ---- */

static void conn_uv_write(uv_write_t *req, int status);

static int conn_write_start(conn *c)
{
    buf tmp;
    uv_buf_t b;
    size_t n;
    int rc;

    if (c->writing)
        return 0;
    if (c->wflight.len == 0) {
        if (c->corked || c->wq.len == 0)
            return 0;
        tmp = c->wflight;
        c->wflight = c->wq;
        c->wq = tmp;
    }
    /* Bounded requests make write_cb, which counts as activity for the idle
     * timeout, run while a large queue drains to a slow reader. */
    n = c->wflight.len < CONN_WRITE_MAX ? c->wflight.len : CONN_WRITE_MAX;
    b = uv_buf_init(buf_ptr(&c->wflight), (unsigned int)n);
    rc = uv_write(&c->req.write, (uv_stream_t *)&c->tcp, &b, 1, conn_uv_write);
    if (rc < 0)
        return rc;
    c->writing = 1;
    c->inflight = (uint32_t)n;
    return 0;
}

/* Writes what the socket takes at once, queueing nothing. Returns the number
 * of bytes written (possibly 0) or a negative error. */
static ssize_t conn_try(conn *c, const char *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, n < CONN_WRITE_MAX ? (unsigned int)n : CONN_WRITE_MAX);
    int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);

    if (w == UV_EAGAIN)
        return 0;
    if (w > 0)
        c->last_active = conn_now(c);
    return w;
}

int conn__send(conn *c, const char *p, size_t n)
{
    ssize_t w;
    int rc;

    if (!c->writing && !c->corked && c->wq.len == 0) {
        w = conn_try(c, p, n);
        if (w < 0)
            return (int)w;
        if ((size_t)w == n)
            return 0;
        p += w;
        n -= (size_t)w;
    }
    rc = buf_append(&c->wq, p, n);
    if (rc < 0)
        return rc;
    return conn_write_start(c);
}

/* Sends what the queue holds, trying the socket at once first. */
static int conn_flush(conn *c)
{
    ssize_t w;

    if (c->writing || c->corked || c->wq.len == 0)
        return 0;
    w = conn_try(c, buf_ptr(&c->wq), c->wq.len);
    if (w < 0)
        return (int)w;
    buf_consume(&c->wq, (size_t)w);
    return conn_write_start(c);
}

static void conn_uv_write(uv_write_t *req, int status)
{
    conn *c = req->handle->data;
    int rc;

    c->writing = 0;
    if (c->state == CONN_CLOSED)
        return;
    if (status < 0) {
        conn_teardown(c, status);
        return;
    }
    buf_consume(&c->wflight, c->inflight);
    if (c->wflight.len == 0 && c->wflight.cap > CONN_KEEP_MAX)
        buf_free(&c->wflight);
    c->last_active = conn_now(c);
    rc = conn_write_start(c);
    if (rc < 0) {
        conn_teardown(c, rc);
        return;
    }
    if (c->writing || c->wq.len > 0)
        return;
    if (c->state == CONN_CLOSING)
        conn_teardown(c, c->status);
    else if (c->state == CONN_OPEN && c->cfg->on_drain != NULL)
        c->cfg->on_drain(c); /* not for handshake bytes: the owner wrote none */
}

/* ---- state changes ---- */

int conn__opened(conn *c)
{
    int rc = 0;

    c->state = CONN_OPEN;
    c->connect_due = CONN_NEVER;
    if (c->paused)
        conn_read_off(c);
    else
        rc = conn__read_on(c);
    if (rc == 0 && c->client && c->cfg->on_connect != NULL)
        c->cfg->on_connect(c);
    return rc;
}

static void conn_close_with(conn *c, int status)
{
    int rc;

    if (c->state == CONN_CLOSING || c->state == CONN_CLOSED)
        return;
    if (c->state != CONN_OPEN) {
        conn_teardown(c, status);
        return;
    }
    c->state = CONN_CLOSING;
    c->status = status;
    c->redeliver = 0;
    c->corked = 0;
    c->last_active = conn_now(c); /* the idle timeout now bounds the flush */
    conn_read_off(c);
    rc = c->ops->shutdown(c);
    if (rc == 0)
        rc = conn_flush(c);
    if (rc < 0 || (!c->writing && c->wq.len == 0))
        conn_teardown(c, status);
    else
        conn_timer_arm(c);
}

/* The peer ended the stream: finish writing, then close (unless a close is
 * under way already, or the conn was not OPEN yet). Anything else is fatal
 * at once. */
static void conn_fail(conn *c, int status)
{
    if (status == UV_EOF)
        conn_close_with(c, UV_EOF);
    else
        conn_teardown(c, status);
}

/* ---- plain TCP ---- */

static int conn_tcp_start(conn *c)
{
    return conn__opened(c);
}

static void conn_tcp_alloc(conn *c, uv_buf_t *b)
{
    b->len = conn__rbuf_room(c, &b->base);
}

static int conn_tcp_bytes_in(conn *c, size_t n)
{
    buf_commit(&c->rbuf, n);
    return conn__deliver(c);
}

static int conn_tcp_write(conn *c, const char *p, size_t n)
{
    return conn__send(c, p, n);
}

static int conn_tcp_shutdown(conn *c)
{
    return 0;
}

static void conn_tcp_free(conn *c)
{
}

static const struct conn_ops conn_tcp_ops = {
    conn_tcp_start, conn_tcp_alloc,    conn_tcp_bytes_in,
    conn_tcp_write, conn_tcp_shutdown, conn_tcp_free,
};

/* ---- public API ---- */

int conn_init(uv_loop_t *loop, conn *c, const conn_config *cfg)
{
    void *data = c->data;
    int rc;

    memset(c, 0, sizeof(*c));
    c->data = data;
    rc = uv_tcp_init(loop, &c->tcp);
    if (rc < 0)
        return rc;
    uv_timer_init(loop, &c->timer); /* cannot fail */
    c->tcp.data = c;
    c->timer.data = c;
    c->cfg = cfg;
    c->ops = &conn_tcp_ops;
    buf_init(&c->rbuf, cfg->read_max != 0 ? cfg->read_max : CONN_READ_MAX_DEFAULT);
    buf_init(&c->wq, 0);
    buf_init(&c->wflight, 0);
    c->connect_due = CONN_NEVER;
    c->read_due = CONN_NEVER;
    c->timer_due = CONN_NEVER;
    c->state = CONN_INIT;
    c->open_handles = 2;
    return 0;
}

/* Starts the clocks of a conn that just left INIT. */
static void conn_started(conn *c, int handshake)
{
    uint64_t now = conn_now(c);

    c->last_active = now;
    if (handshake && c->cfg->connect_timeout_ms != 0)
        c->connect_due = now + c->cfg->connect_timeout_ms;
    conn_timer_arm(c);
}

static void conn_uv_connect(uv_connect_t *req, int status)
{
    conn *c = req->handle->data;
    int rc;

    if (c->state != CONN_CONNECTING)
        return; /* aborted meanwhile: status is UV_ECANCELED */
    if (status < 0) {
        conn_teardown(c, status);
        return;
    }
    c->last_active = conn_now(c);
    uv_tcp_nodelay(&c->tcp, 1);
    rc = c->ops->start(c);
    if (rc < 0)
        conn_fail(c, rc);
}

int conn_connect(conn *c, const struct sockaddr *addr, tls_ctx *tls, const char *host)
{
    int rc;

    if (c->state != CONN_INIT || (tls != NULL && tls_ctx_is_server(tls)))
        return -EINVAL;
    if (tls != NULL) {
        rc = tls_session_init(&c->tls, tls, host);
        if (rc < 0)
            return rc;
    }
    uv_tcp_nodelay(&c->tcp, 1); /* libuv applies it when it creates the socket */
    rc = uv_tcp_connect(&c->req.connect, &c->tcp, addr, conn_uv_connect);
    if (rc < 0) {
        tls_session_free(&c->tls);
        return rc;
    }
    c->ops = tls != NULL ? &conn__tls_ops : &conn_tcp_ops;
    c->client = 1;
    c->state = CONN_CONNECTING;
    conn_started(c, 1);
    return 0;
}

int conn_accept(conn *c, uv_tcp_t *listener, tls_ctx *tls)
{
    int rc;

    if (c->state != CONN_INIT || (tls != NULL && !tls_ctx_is_server(tls)))
        return -EINVAL;
    rc = uv_accept((uv_stream_t *)listener, (uv_stream_t *)&c->tcp);
    if (rc < 0)
        return rc;
    uv_tcp_nodelay(&c->tcp, 1);
    if (tls != NULL) {
        rc = tls_session_init(&c->tls, tls, NULL);
        if (rc < 0)
            return rc;
        c->ops = &conn__tls_ops;
    }
    rc = c->ops->start(c);
    if (rc < 0) {
        c->state = CONN_INIT;
        return rc;
    }
    conn_started(c, tls != NULL);
    return 0;
}

int conn_write(conn *c, const void *data, size_t len)
{
    int rc;

    if (c->state == CONN_CLOSING || c->state == CONN_CLOSED)
        return -EPIPE;
    if (c->state != CONN_OPEN)
        return -ENOTCONN;
    if (c->cfg->write_max != 0 && conn_write_queued(c) > c->cfg->write_max)
        return -ENOBUFS;
    if (len == 0)
        return 0;
    rc = c->ops->write(c, data, len);
    if (rc < 0)
        conn_teardown(c, rc);
    return rc;
}

size_t conn_write_queued(const conn *c)
{
    /* libuv may have written part of the request in flight already. */
    size_t pending = c->writing ? uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) : 0;

    return c->wq.len + (c->wflight.len - (c->writing ? c->inflight : 0)) + pending;
}

void conn_cork(conn *c)
{
    if (c->state == CONN_OPEN)
        c->corked = 1;
}

void conn_uncork(conn *c)
{
    int rc;

    if (!c->corked)
        return;
    c->corked = 0;
    rc = conn_flush(c);
    if (rc < 0)
        conn_teardown(c, rc);
}

void conn_read_pause(conn *c)
{
    c->paused = 1;
    if (c->state == CONN_OPEN)
        conn_read_off(c);
}

void conn_read_resume(conn *c)
{
    int rc;

    if (!c->paused)
        return;
    c->paused = 0;
    if (c->state != CONN_OPEN)
        return;
    rc = conn__read_on(c);
    if (rc < 0) {
        conn_teardown(c, rc);
        return;
    }
    /* Buffered bytes (and, under TLS, records already received) are
     * delivered from the timer, so that on_read never runs inside this call. */
    c->redeliver = 1;
    c->timer_due = conn_now(c);
    uv_timer_start(&c->timer, conn_uv_timer, 0, 0);
}

void conn_set_read_deadline(conn *c, uint64_t ms)
{
    c->read_due = conn_now(c) + ms;
    conn_timer_arm(c);
}

void conn_clear_read_deadline(conn *c)
{
    c->read_due = CONN_NEVER;
}

void conn_close(conn *c)
{
    conn_close_with(c, 0);
}

void conn_abort(conn *c)
{
    conn_teardown(c, 0);
}

enum conn_state conn_state(const conn *c)
{
    return (enum conn_state)c->state;
}

enum conn_err_kind conn_err_kind(int status)
{
    switch (status) {
    case 0:
        return CONN_ERR_NONE;
    case UV_EOF:
        return CONN_ERR_CLOSED;
    case UV_ECONNREFUSED:
        return CONN_ERR_REFUSED;
    case UV_ECONNRESET:
    case UV_EPIPE:
    case UV_ECONNABORTED:
        return CONN_ERR_RESET;
    case UV_ETIMEDOUT:
        return CONN_ERR_TIMEOUT;
    case TLS_ERR_PROTO:
    case TLS_ERR_VERIFY:
        return CONN_ERR_TLS;
    default:
        return CONN_ERR_OTHER;
    }
}

const char *conn_err_kind_name(enum conn_err_kind kind)
{
    static const char *const names[] = {"none",    "closed", "refused", "reset",
                                        "timeout", "tls",    "other"};

    if ((size_t)kind >= sizeof(names) / sizeof(names[0]))
        return "other";
    return names[kind];
}

const char *conn_strerror(int status)
{
    const char *s = tls_strerror(status);

    if (s != NULL)
        return s;
    if (status == 0)
        return "closed by us";
    return uv_strerror(status);
}

const char *conn_tls_verify_error(const conn *c)
{
    return tls_verify_error(&c->tls);
}
