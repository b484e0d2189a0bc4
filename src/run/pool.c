#include "run/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

#define POOL_MAX_BODY_DEFAULT (16u << 20) /* kept response body bound, bytes */
#define POOL_MAX_HEAD         (64 * 1024) /* response head bound, bytes */
#define POOL_MAX_HEADERS      256
#define POOL_SPARE_MAX        64 /* closed connections kept for reuse */

struct pool_conn {
    conn c; /* c.data points at this pool_conn */
    pool *pool;
    h1_parser keep, discard;  /* the response parser, keeping the body or not */
    h1_parser *parser;        /* the one in use for the current request */
    pool_req *req;            /* the request in flight, or NULL */
    pool_conn *next, *prev;   /* `all` list */
    pool_conn *inext, *iprev; /* idle list (or spare list, through inext) */
    uint64_t requests;        /* requests written on this connection */
    bool connected;           /* reached OPEN */
    bool idle;
};

static void pool_on_connect(conn *c);
static void pool_on_read(conn *c, buf *rbuf);
static void pool_on_close(conn *c, int status);

/* ---- lists ---- */

static void pool_idle_push(pool *p, pool_conn *pc)
{
    pc->iprev = NULL;
    pc->inext = p->idle;
    if (p->idle != NULL)
        p->idle->iprev = pc;
    p->idle = pc;
    pc->idle = true;
    p->nidle++;
}

static void pool_idle_remove(pool *p, pool_conn *pc)
{
    if (!pc->idle)
        return;
    if (pc->iprev != NULL)
        pc->iprev->inext = pc->inext;
    else
        p->idle = pc->inext;
    if (pc->inext != NULL)
        pc->inext->iprev = pc->iprev;
    pc->inext = pc->iprev = NULL;
    pc->idle = false;
    p->nidle--;
}

static void pool_all_remove(pool *p, pool_conn *pc)
{
    if (pc->prev != NULL)
        pc->prev->next = pc->next;
    else
        p->all = pc->next;
    if (pc->next != NULL)
        pc->next->prev = pc->prev;
    pc->next = pc->prev = NULL;
    p->nconns--;
}

static void pool_conn_destroy(pool_conn *pc)
{
    h1_parser_free(&pc->keep);
    h1_parser_free(&pc->discard);
    free(pc);
}

/* A closed connection's memory: kept for the next connection (its parsers
 * keep their allocations), or freed. */
static void pool_recycle(pool *p, pool_conn *pc)
{
    if (p->closing || p->nspare >= POOL_SPARE_MAX) {
        pool_conn_destroy(pc);
        return;
    }
    pc->inext = p->spare;
    p->spare = pc;
    p->nspare++;
}

/* ---- setup ---- */

void pool_init(pool *p, uv_loop_t *loop, looptime *lt, const pool_config *cfg)
{
    memset(p, 0, sizeof(*p));
    p->loop = loop;
    p->lt = lt;
    p->cfg = *cfg;
    if (p->cfg.max_body == 0)
        p->cfg.max_body = POOL_MAX_BODY_DEFAULT;
    p->ccfg.connect_timeout_ms = (cfg->connect_timeout_ns + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
    p->ccfg.on_connect = pool_on_connect;
    p->ccfg.on_read = pool_on_read;
    p->ccfg.on_close = pool_on_close;
    h1_config_default(&p->keep_cfg);
    p->keep_cfg.max_header_bytes = POOL_MAX_HEAD;
    p->keep_cfg.max_headers = POOL_MAX_HEADERS;
    p->keep_cfg.max_body = p->cfg.max_body;
    p->discard_cfg = p->keep_cfg;
    p->discard_cfg.max_body = SIZE_MAX;
    p->discard_cfg.discard_body = true;
}

const char *pool_err_name(enum pool_err e)
{
    switch (e) {
    case POOL_ERR_NONE:
        return "";
    case POOL_ERR_REFUSED:
        return "connection refused";
    case POOL_ERR_RESET:
        return "connection reset";
    case POOL_ERR_TIMEOUT:
        return "timeout";
    case POOL_ERR_TLS:
        return "TLS error";
    case POOL_ERR_OTHER:
        break;
    }
    return "network error";
}

bool pool_req_busy(const pool_req *r)
{
    return r->pc != NULL;
}

/* ---- results ---- */

static void pool_result_base(pool *p, pool_req *r, pool_result *res)
{
    memset(res, 0, sizeof(*res));
    res->sent = r->send_ns != 0;
    res->reused = r->reused;
    res->start_ns = r->start_ns;
    res->send_ns = r->send_ns;
    res->end_ns = looptime_now(p->lt);
    res->ttfb_ns = r->ttfb_ns;
    res->connect_ns = r->connect_ns;
    res->bytes_in = r->bytes_in;
    res->bytes_out = r->send_ns != 0 ? r->len : 0;
}

static void pool_fail(pool *p, pool_req *r, enum pool_err err, int code, const char *detail)
{
    pool_result res;

    pool_result_base(p, r, &res);
    res.err = err;
    res.code = code;
    res.detail = detail;
    r->pc = NULL;
    r->done(r, &res);
}

/* ---- sending ---- */

/* Writes r on the OPEN connection pc. Returns 0 or the conn_write error (the
 * connection is then unusable). */
static int pool_write(pool *p, pool_conn *pc, pool_req *r)
{
    int rc;

    pc->req = r;
    r->pc = pc;
    pc->parser = r->keep_body ? &pc->keep : &pc->discard;
    h1_parser_reset(pc->parser);
    h1_parser_response_to(pc->parser, r->method);
    rc = conn_write(&pc->c, r->data, r->len);
    if (rc < 0) {
        pc->req = NULL;
        r->pc = NULL;
        return rc;
    }
    r->send_ns = looptime_now(p->lt);
    if (r->send_ns == 0)
        r->send_ns = 1;
    pc->requests++;
    if (p->cfg.response_timeout_ns != 0)
        conn_set_read_deadline(&pc->c, (p->cfg.response_timeout_ns + CLOCK_NS_PER_MS - 1) /
                                           CLOCK_NS_PER_MS);
    return 0;
}

/* Opens a new connection for r. Returns 0 (the request follows on connect)
 * or a negative error with r untouched. */
static int pool_open(pool *p, pool_req *r)
{
    pool_conn *pc = p->spare;
    int rc;

    if (pc != NULL) {
        p->spare = pc->inext;
        p->nspare--;
    } else {
        pc = calloc(1, sizeof(*pc));
        if (pc == NULL)
            return -ENOMEM;
        h1_parser_init(&pc->keep, H1_RESPONSE, &p->keep_cfg);
        h1_parser_init(&pc->discard, H1_RESPONSE, &p->discard_cfg);
    }
    pc->pool = p;
    pc->c.data = pc;
    pc->req = NULL;
    pc->requests = 0;
    pc->connected = false;
    pc->idle = false;
    pc->inext = pc->iprev = NULL;
    rc = conn_init(p->loop, &pc->c, &p->ccfg);
    if (rc < 0) {
        pool_recycle(p, pc);
        return rc;
    }
    rc = conn_connect(&pc->c, (const struct sockaddr *)&p->cfg.addr, p->cfg.tls, p->cfg.host);
    if (rc < 0) {
        /* The conn is INIT: closing it runs on_close, which recycles pc. */
        pc->req = NULL;
        p->nconns++;
        pc->prev = NULL;
        pc->next = p->all;
        if (p->all != NULL)
            p->all->prev = pc;
        p->all = pc;
        conn_abort(&pc->c);
        return rc;
    }
    pc->next = p->all;
    pc->prev = NULL;
    if (p->all != NULL)
        p->all->prev = pc;
    p->all = pc;
    p->nconns++;
    p->opened++;
    pc->req = r;
    r->pc = pc;
    r->reused = false;
    r->connect_start_ns = looptime_now(p->lt);
    return 0;
}

int pool_send(pool *p, pool_req *r)
{
    pool_conn *pc;

    if (p->closing)
        return -ESHUTDOWN;
    r->start_ns = looptime_now(p->lt);
    r->send_ns = 0;
    r->connect_ns = 0;
    r->ttfb_ns = 0;
    r->bytes_in = 0;
    r->resent = false;
    r->pc = NULL;
    while ((pc = p->idle) != NULL) {
        pool_idle_remove(p, pc);
        if (conn_state(&pc->c) != CONN_OPEN)
            continue; /* closing: its on_close will recycle it */
        r->reused = true;
        if (pool_write(p, pc, r) == 0)
            return 0;
        conn_abort(&pc->c);
    }
    return pool_open(p, r);
}

void pool_cancel(pool *p, pool_req *r)
{
    pool_conn *pc = r->pc;

    (void)p;
    if (pc == NULL)
        return;
    pc->req = NULL;
    r->pc = NULL;
    conn_abort(&pc->c);
}

/* ---- connection callbacks ---- */

static void pool_on_connect(conn *c)
{
    pool_conn *pc = c->data;
    pool *p = pc->pool;
    pool_req *r = pc->req;
    int rc;

    pc->connected = true;
    if (r == NULL) {
        conn_close(c); /* cancelled while connecting */
        return;
    }
    r->connect_ns = looptime_now(p->lt) - r->connect_start_ns;
    if (r->connect_ns == 0)
        r->connect_ns = 1;
    rc = pool_write(p, pc, r);
    if (rc < 0) {
        /* conn_write aborted the connection: report the request from here
         * with the write's error; on_close finds no request. */
        pool_fail(p, r, POOL_ERR_RESET, rc, conn_strerror(rc));
    }
}

/* Delivers the complete response in pc's parser to r. */
static void pool_deliver(pool *p, pool_req *r, const h1_msg *msg)
{
    pool_result res;

    pool_result_base(p, r, &res);
    res.msg = msg;
    r->pc = NULL;
    r->done(r, &res);
}

static void pool_on_read(conn *c, buf *rbuf)
{
    pool_conn *pc = c->data;
    pool *p = pc->pool;
    pool_req *r = pc->req;
    const h1_msg *msg;
    size_t len = rbuf->len;
    ssize_t n;
    bool keep;

    if (r == NULL) {
        conn_abort(c); /* bytes nobody asked for */
        return;
    }
    if (r->ttfb_ns == 0) {
        r->ttfb_ns = looptime_now(p->lt) - r->start_ns;
        if (r->ttfb_ns == 0)
            r->ttfb_ns = 1;
    }
    n = h1_parser_feed(pc->parser, buf_ptr(rbuf), len);
    if (n < 0) {
        pc->req = NULL;
        conn_abort(c);
        r->bytes_in += len;
        pool_fail(p, r, POOL_ERR_OTHER, (int)n, h1_strerror((int)n));
        return;
    }
    r->bytes_in += (uint64_t)n;
    msg = h1_parser_message(pc->parser);
    if (msg == NULL) {
        buf_consume(rbuf, (size_t)n);
        return;
    }
    /* Bytes after the response were sent before any request asked for them:
     * the connection cannot be trusted with another one. */
    keep = h1_should_keep_alive(pc->parser) && (size_t)n == len && !p->closing;
    pc->req = NULL;
    conn_clear_read_deadline(c);
    if (keep)
        pool_idle_push(p, pc);
    else
        conn_close(c);
    pool_deliver(p, r, msg);
    /* The callback may have put a new request on this connection; its
     * response cannot be in rbuf yet. */
    buf_consume(rbuf, (size_t)n);
}

/* The failure of a request whose connection closed with `status`. */
static enum pool_err pool_classify(const pool_conn *pc, int status)
{
    switch (conn_err_kind(status)) {
    case CONN_ERR_TLS:
        return POOL_ERR_TLS;
    case CONN_ERR_TIMEOUT:
        return POOL_ERR_TIMEOUT;
    case CONN_ERR_REFUSED:
        return POOL_ERR_REFUSED;
    case CONN_ERR_CLOSED:
    case CONN_ERR_RESET:
        return pc->connected ? POOL_ERR_RESET : POOL_ERR_REFUSED;
    case CONN_ERR_NONE:
    case CONN_ERR_OTHER:
        break;
    }
    return pc->connected ? POOL_ERR_OTHER : POOL_ERR_REFUSED;
}

static void pool_on_close(conn *c, int status)
{
    pool_conn *pc = c->data;
    pool *p = pc->pool;
    pool_req *r = pc->req;
    enum pool_err err;
    const char *detail;
    int rc;

    pool_idle_remove(p, pc);
    pool_all_remove(p, pc);
    pc->req = NULL;
    if (r != NULL) {
        r->pc = NULL;
        if (status == UV_EOF && pc->connected) {
            rc = h1_parser_finish(pc->parser);
            if (rc == 1) {
                /* A body delimited by the end of the stream. */
                pool_deliver(p, r, h1_parser_message(pc->parser));
                goto done;
            }
        }
        err = pool_classify(pc, status);
        if (r->reused && !r->resent && r->bytes_in == 0 &&
            (err == POOL_ERR_RESET || (err == POOL_ERR_OTHER && status == UV_EPIPE))) {
            /* The server closed this keep-alive connection as we reused it. */
            uint64_t start = r->start_ns;
            r->resent = true;
            p->resends++;
            rc = pool_open(p, r);
            if (rc == 0) {
                r->start_ns = start;
                r->resent = true;
                goto done;
            }
        }
        detail = conn_strerror(status);
        if (status == TLS_ERR_VERIFY && conn_tls_verify_error(c) != NULL)
            detail = conn_tls_verify_error(c);
        else if (status == UV_EOF)
            detail = "the server closed the connection before a full response";
        else if (status == 0)
            detail = "connection closed";
        pool_fail(p, r, err, status, detail);
    }
done:
    pool_recycle(p, pc);
    if (p->closing && p->nconns == 0 && p->on_closed != NULL) {
        void (*cb)(pool *) = p->on_closed;
        p->on_closed = NULL;
        cb(p);
    }
}

/* ---- shutdown ---- */

void pool_close(pool *p, void (*on_closed)(pool *p))
{
    pool_conn *pc;

    p->closing = true;
    p->on_closed = on_closed;
    for (pc = p->all; pc != NULL; pc = pc->next) {
        if (pc->req != NULL) {
            pc->req->pc = NULL;
            pc->req = NULL;
        }
        conn_abort(&pc->c);
    }
    if (p->nconns == 0 && p->on_closed != NULL) {
        p->on_closed = NULL;
        on_closed(p);
    }
}

void pool_free(pool *p)
{
    pool_conn *pc;

    while ((pc = p->spare) != NULL) {
        p->spare = pc->inext;
        pool_conn_destroy(pc);
    }
    p->nspare = 0;
}
