#include "serve/proxy.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/config_get.h"
#include "core/conn.h"
#include "core/h1.h"
#include "core/log.h"
#include "core/url.h"
#include "serve/gateway.h"
#include "serve/gwconf.h"
#include "serve/worker.h"

#define PROXY_MAX_WAITING 4096 /* requests queued for a connection, per worker */
#define PROXY_READ_MAX    (64 << 10)

typedef struct proxy_upstream {
    url u;
    struct sockaddr_storage addr;
    uint64_t connect_timeout_ns;
    uint64_t timeout_ns;
    uint64_t max_connections;
} proxy_upstream;

struct proxy_pool;

/* One forwarded request. */
typedef struct proxy_job {
    handler_req *req;
    handler_resp *resp;
    h1_method method;
    bool idempotent;
    int attempts;
    struct proxy_job *next;
} proxy_job;

/* One connection to the upstream. */
typedef struct proxy_conn {
    conn c;
    struct proxy_pool *pool;
    h1_parser p;
    proxy_job *job;
    struct proxy_conn *next_idle;
    struct proxy_conn *next_all, *prev_all;
    bool reused;  /* answered a request before: the upstream may have closed it meanwhile */
    bool got_any; /* bytes of the current response arrived */
} proxy_conn;

typedef struct proxy_pool {
    struct proxy_state *st;
    worker *w;
    conn_config ccfg;
    h1_config h1cfg;
    proxy_conn *idle;
    proxy_conn *all;
    size_t nconns;
    size_t max;
    proxy_job *wait_head, *wait_tail;
    size_t nwait;
    proxy_job *free_jobs;
    buf out; /* a request being serialized */
    bool closed;
    worker_hook hook; /* closes the pool when the worker ends */
} proxy_pool;

typedef struct proxy_state {
    proxy_upstream up;
    proxy_pool *pools[GW_MAX_THREADS];
} proxy_state;

static void proxy_dispatch(proxy_pool *pool, proxy_job *job);
static void proxy_conn_free_slot(proxy_conn *pc);

/* ---- configuration ---- */

static int proxy_parse(const config_doc *doc, const config_node *m, proxy_upstream *up,
                       bool need_url, char *err, size_t errlen)
{
    static const char *const keys[] = {"url", "connect_timeout", "timeout", "max_connections",
                                       NULL};
    char msg[CONFIG_ERRLEN];
    const char *s = NULL;
    int rc;

    rc = config_check_keys(doc, m, keys, err, errlen);
    if (rc == 0 && need_url && m == NULL)
        return config_error(doc, NULL, err, errlen,
                            "a proxy route needs an upstream: add 'upstream: {url: ...}'");
    if (rc == 0 && need_url)
        rc = config_require(doc, m, "url", err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, m, "url", &s, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, m, "connect_timeout", &up->connect_timeout_ns, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, m, "timeout", &up->timeout_ns, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, m, "max_connections", &up->max_connections, err, errlen);
    if (rc < 0)
        return rc;
    if (m != NULL && config_map_get(doc, m, "max_connections") != NULL &&
        (up->max_connections == 0 || up->max_connections > 1000000))
        return config_error(doc, config_map_get(doc, m, "max_connections"), err, errlen,
                            "max_connections: expected an integer from 1 to 1000000");
    if (m != NULL && config_map_get(doc, m, "timeout") != NULL && up->timeout_ns < 1000000)
        return config_error(doc, config_map_get(doc, m, "timeout"), err, errlen,
                            "timeout: expected at least 1ms");
    if (m != NULL && config_map_get(doc, m, "connect_timeout") != NULL &&
        up->connect_timeout_ns < 1000000)
        return config_error(doc, config_map_get(doc, m, "connect_timeout"), err, errlen,
                            "connect_timeout: expected at least 1ms");
    if (s == NULL)
        return 0;
    url_free(&up->u);
    rc = url_parse(&up->u, s, msg, sizeof(msg));
    if (rc == 0 && up->u.tls) {
        url_free(&up->u);
        return config_error(doc, config_map_get(doc, m, "url"), err, errlen,
                            "url: \"%s\": https upstreams are not supported, expected http://", s);
    }
    if (rc < 0)
        return config_error(doc, config_map_get(doc, m, "url"), err, errlen, "url: %s", msg);
    return 0;
}

int proxy_upstream_check(const config_doc *doc, const config_node *upstream, char *err,
                         size_t errlen)
{
    proxy_upstream up;
    int rc;

    memset(&up, 0, sizeof(up));
    rc = proxy_parse(doc, upstream, &up, false, err, errlen);
    url_free(&up.u);
    return rc;
}

static int proxy_resolve(proxy_upstream *up, const config_doc *doc, const config_node *at,
                         char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", up->u.port);
    rc = getaddrinfo(up->u.host, port, &hints, &res);
    if (rc != 0 || res == NULL)
        return config_error(doc, at, err, errlen, "url: cannot resolve '%s': %s", up->u.host,
                            gai_strerror(rc));
    memcpy(&up->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static int proxy_init(void **state, const config_doc *doc, const config_node *options,
                      const handler_env *env, char *err, size_t errlen)
{
    const config_node *top = config_map_get(doc, config_root(doc), "upstream");
    const config_node *at;
    proxy_state *st;
    int rc;

    (void)env;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return -ENOMEM;
    st->up.connect_timeout_ns = 2 * CLOCK_NS_PER_S;
    st->up.timeout_ns = 30 * CLOCK_NS_PER_S;
    st->up.max_connections = 256;
    rc = proxy_parse(doc, top, &st->up,
                     options == NULL || config_map_get(doc, options, "url") == NULL, err, errlen);
    if (rc == 0)
        rc = proxy_parse(doc, options, &st->up, false, err, errlen);
    if (rc == 0) {
        at = config_map_get(doc, options, "url");
        if (at == NULL)
            at = config_map_get(doc, top, "url");
        rc = proxy_resolve(&st->up, doc, at, err, errlen);
    }
    if (rc < 0) {
        url_free(&st->up.u);
        free(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* ---- answering ---- */

static void proxy_job_put(proxy_pool *pool, proxy_job *job)
{
    job->next = pool->free_jobs;
    pool->free_jobs = job;
}

/* Ends a job: the response is filled; the gateway takes over. */
static void proxy_finish(proxy_pool *pool, proxy_job *job)
{
    handler_req *req = job->req;

    proxy_job_put(pool, job);
    req->done(req->done_ctx);
}

static void proxy_fail(proxy_pool *pool, proxy_job *job, int status, const char *message)
{
    buf_reset(job->resp->headers);
    buf_reset(job->resp->body);
    job->resp->content_type = NULL;
    handler_error(job->resp, status, status == 504 ? "gateway.timeout" : "bad.gateway", "%s",
                  message);
    proxy_finish(pool, job);
}

/* Whether a header is hop-by-hop (or rewritten by the proxy) and is not
 * forwarded, in either direction. */
static bool proxy_hop(const char *name, size_t n)
{
    static const char *const hop[] = {"Connection",
                                      "Keep-Alive",
                                      "Proxy-Connection",
                                      "Proxy-Authenticate",
                                      "Proxy-Authorization",
                                      "TE",
                                      "Trailer",
                                      "Transfer-Encoding",
                                      "Upgrade",
                                      "Content-Length",
                                      "Host",
                                      "Expect",
                                      "Date",
                                      "Server",
                                      NULL};

    for (size_t i = 0; hop[i] != NULL; i++)
        if (strlen(hop[i]) == n && strncasecmp(hop[i], name, n) == 0)
            return true;
    return false;
}

/* Whether the Connection header of msg lists name. */
static bool proxy_listed(const h1_msg *msg, const char *name, size_t n)
{
    for (size_t i = 0; i < msg->n_headers; i++) {
        const h1_header *h = &msg->headers[i];
        size_t k = 0;

        if (h->name_len != 10 || strncasecmp(h->name, "Connection", 10) != 0)
            continue;
        while (k < h->value_len) {
            size_t start, end;

            while (k < h->value_len && (h->value[k] == ' ' || h->value[k] == ','))
                k++;
            start = k;
            while (k < h->value_len && h->value[k] != ',')
                k++;
            end = k;
            while (end > start && h->value[end - 1] == ' ')
                end--;
            if (end - start == n && strncasecmp(h->value + start, name, n) == 0)
                return true;
        }
    }
    return false;
}

static int proxy_line(buf *out, const char *name, size_t nlen, const char *value, size_t vlen)
{
    int rc = buf_reserve(out, nlen + vlen + 4);

    if (rc < 0)
        return rc;
    buf_append(out, name, nlen);
    buf_append(out, ": ", 2);
    buf_append(out, value, vlen);
    return buf_append(out, "\r\n", 2);
}

/* Serializes job's request for the upstream into pool->out. */
static int proxy_serialize(proxy_pool *pool, proxy_job *job)
{
    const proxy_upstream *up = &pool->st->up;
    const h1_msg *m = gateway_req_msg(job->req);
    const h1_header *xff = h1_msg_header(m, "X-Forwarded-For");
    const char *peer = gateway_req_peer(job->req);
    buf *out = &pool->out;
    char path[URL_MAX + 16];
    int rc = 0;

    buf_reset(out);
    if (strcmp(up->u.path, "/") == 0) {
        rc = buf_printf(out, "%s %.*s", m->method_name, (int)m->path_len, m->path);
    } else {
        char req_path[URL_MAX];

        if (m->path_len >= sizeof(req_path))
            return -E2BIG;
        memcpy(req_path, m->path, m->path_len);
        req_path[m->path_len] = '\0';
        if (url_join_path(up->u.path, req_path, path, sizeof(path)) < 0)
            return -E2BIG;
        rc = buf_printf(out, "%s %s", m->method_name, path);
    }
    if (rc == 0 && m->query != NULL)
        rc = buf_printf(out, "?%.*s", (int)m->query_len, m->query);
    if (rc == 0)
        rc = buf_printf(out, " HTTP/1.1\r\nHost: %s\r\n", up->u.host_header);
    for (size_t i = 0; i < m->n_headers && rc == 0; i++) {
        const h1_header *h = &m->headers[i];

        if (proxy_hop(h->name, h->name_len) || proxy_listed(m, h->name, h->name_len) ||
            (h->name_len == 15 && strncasecmp(h->name, "X-Forwarded-For", 15) == 0) ||
            (h->name_len == 17 && strncasecmp(h->name, "X-Forwarded-Proto", 17) == 0))
            continue;
        rc = proxy_line(out, h->name, h->name_len, h->value, h->value_len);
    }
    if (rc == 0 && xff != NULL)
        rc =
            buf_printf(out, "X-Forwarded-For: %.*s, %s\r\n", (int)xff->value_len, xff->value, peer);
    else if (rc == 0)
        rc = buf_printf(out, "X-Forwarded-For: %s\r\n", peer);
    if (rc == 0)
        rc = buf_append_str(out, "X-Forwarded-Proto: http\r\n");
    if (rc == 0 &&
        (m->body.len > 0 || m->method == H1_POST || m->method == H1_PUT || m->method == H1_PATCH))
        rc = buf_printf(out, "Content-Length: %zu\r\n", m->body.len);
    if (rc == 0)
        rc = buf_append(out, "\r\n", 2);
    if (rc == 0 && m->body.len > 0)
        rc = buf_append(out, buf_ptr(&m->body), m->body.len);
    return rc;
}

/* Relays a complete upstream response into the job's handler_resp. */
static int proxy_relay(proxy_job *job, const h1_msg *msg)
{
    handler_resp *resp = job->resp;
    int rc = 0;

    buf_reset(resp->headers);
    buf_reset(resp->body);
    resp->status = msg->status;
    resp->content_type = ""; /* the upstream's Content-Type is among the headers, if any */
    for (size_t i = 0; i < msg->n_headers && rc == 0; i++) {
        const h1_header *h = &msg->headers[i];

        if (proxy_hop(h->name, h->name_len) || proxy_listed(msg, h->name, h->name_len))
            continue;
        rc = proxy_line(resp->headers, h->name, h->name_len, h->value, h->value_len);
    }
    if (rc == 0 && msg->body.len > 0)
        rc = buf_append(resp->body, buf_ptr(&msg->body), msg->body.len);
    return rc;
}

/* ---- connections ---- */

static void proxy_send(proxy_conn *pc, proxy_job *job)
{
    proxy_pool *pool = pc->pool;
    int rc;

    if (gateway_req_orphan(job->req)) {
        /* Nobody waits for the answer any more, and the request is gone. */
        proxy_fail(pool, job, 502, "the client went away");
        proxy_conn_free_slot(pc);
        return;
    }
    pc->job = job;
    pc->got_any = false;
    job->attempts++;
    rc = proxy_serialize(pool, job);
    if (rc < 0) {
        pc->job = NULL;
        proxy_fail(pool, job, 502, "the request could not be forwarded");
        conn_close(&pc->c);
        return;
    }
    h1_parser_response_to(&pc->p, job->method);
    conn_set_read_deadline(&pc->c, pool->st->up.timeout_ns / CLOCK_NS_PER_MS);
    conn_write(&pc->c, buf_ptr(&pool->out), pool->out.len); /* failures reach on_close */
}

/* A connection is free: it takes the next waiting job or goes idle. */
static void proxy_conn_free_slot(proxy_conn *pc)
{
    proxy_pool *pool = pc->pool;
    proxy_job *job = pool->wait_head;

    pc->job = NULL;
    pc->reused = true;
    conn_clear_read_deadline(&pc->c);
    if (job != NULL) {
        pool->wait_head = job->next;
        if (pool->wait_head == NULL)
            pool->wait_tail = NULL;
        pool->nwait--;
        proxy_send(pc, job);
        return;
    }
    pc->next_idle = pool->idle;
    pool->idle = pc;
}

static void proxy_on_connect(conn *c)
{
    proxy_conn *pc = c->data;

    if (pc->job != NULL)
        proxy_send(pc, pc->job);
    else
        proxy_conn_free_slot(pc);
}

static void proxy_on_read(conn *c, buf *rbuf)
{
    proxy_conn *pc = c->data;
    proxy_pool *pool = pc->pool;

    while (rbuf->len > 0 && conn_state(c) == CONN_OPEN) {
        ssize_t n = h1_parser_feed(&pc->p, buf_ptr(rbuf), rbuf->len);
        const h1_msg *msg;
        proxy_job *job = pc->job;

        if (n < 0 || job == NULL) {
            if (job != NULL) {
                pc->job = NULL;
                proxy_fail(pool, job, 502,
                           n == H1_ERR_BODY_TOO_LARGE ? "the upstream response is too large"
                                                      : "the upstream sent an invalid response");
            }
            conn_abort(c);
            return;
        }
        pc->got_any = true;
        msg = h1_parser_message(&pc->p);
        if (msg == NULL) {
            buf_consume(rbuf, (size_t)n);
            return;
        }
        if (msg->status < 200) {
            buf_consume(rbuf, (size_t)n);
            continue; /* 1xx: the final response follows */
        }
        pc->job = NULL;
        if (proxy_relay(job, msg) < 0)
            proxy_fail(pool, job, 502, "the upstream response could not be relayed");
        else
            proxy_finish(pool, job);
        buf_consume(rbuf, (size_t)n);
        if (!h1_should_keep_alive(&pc->p) || pool->closed) {
            conn_close(c);
            return;
        }
        proxy_conn_free_slot(pc);
    }
}

static void proxy_unlink(proxy_conn *pc)
{
    proxy_pool *pool = pc->pool;
    proxy_conn **pp;

    for (pp = &pool->idle; *pp != NULL; pp = &(*pp)->next_idle) {
        if (*pp == pc) {
            *pp = pc->next_idle;
            break;
        }
    }
    if (pc->prev_all != NULL)
        pc->prev_all->next_all = pc->next_all;
    else
        pool->all = pc->next_all;
    if (pc->next_all != NULL)
        pc->next_all->prev_all = pc->prev_all;
    pool->nconns--;
}

static proxy_conn *proxy_conn_open(proxy_pool *pool, proxy_job *job);

static void proxy_on_close(conn *c, int status)
{
    proxy_conn *pc = c->data;
    proxy_pool *pool = pc->pool;
    proxy_job *job = pc->job;
    bool retry;

    proxy_unlink(pc);
    h1_parser_free(&pc->p);
    retry = job != NULL && !pool->closed && pc->reused && !pc->got_any && job->idempotent &&
            job->attempts < 2 && status != UV_ETIMEDOUT;
    free(pc);
    if (job != NULL) {
        if (retry)
            proxy_dispatch(pool, job);
        else if (status == UV_ETIMEDOUT)
            proxy_fail(pool, job, 504, "the upstream did not answer in time");
        else if (status == UV_ECONNREFUSED)
            proxy_fail(pool, job, 502, "the upstream refused the connection");
        else
            proxy_fail(pool, job, 502, "the upstream closed the connection");
    }
    /* A slot freed: a waiting request gets a new connection. */
    if (!pool->closed && pool->wait_head != NULL && pool->nconns < pool->max) {
        proxy_job *next = pool->wait_head;

        pool->wait_head = next->next;
        if (pool->wait_head == NULL)
            pool->wait_tail = NULL;
        pool->nwait--;
        if (proxy_conn_open(pool, next) == NULL)
            proxy_fail(pool, next, 502, "cannot connect to the upstream");
    }
}

/* Opens a connection for job. Returns NULL (job untouched) on failure. */
static proxy_conn *proxy_conn_open(proxy_pool *pool, proxy_job *job)
{
    proxy_conn *pc = calloc(1, sizeof(*pc));

    if (pc == NULL)
        return NULL;
    pc->pool = pool;
    pc->c.data = pc;
    if (conn_init(&pool->w->loop, &pc->c, &pool->ccfg) < 0) {
        free(pc);
        return NULL;
    }
    h1_parser_init(&pc->p, H1_RESPONSE, &pool->h1cfg);
    pc->next_all = pool->all;
    if (pool->all != NULL)
        pool->all->prev_all = pc;
    pool->all = pc;
    pool->nconns++;
    if (conn_connect(&pc->c, (const struct sockaddr *)&pool->st->up.addr, NULL, NULL) < 0) {
        conn_abort(&pc->c); /* on_close frees it; no job attached yet */
        return NULL;
    }
    pc->job = job;
    return pc;
}

static void proxy_dispatch(proxy_pool *pool, proxy_job *job)
{
    proxy_conn *pc = pool->idle;

    if (pool->closed) {
        proxy_fail(pool, job, 502, "the gateway is shutting down");
        return;
    }
    if (pc != NULL) {
        pool->idle = pc->next_idle;
        pc->next_idle = NULL;
        proxy_send(pc, job);
        return;
    }
    if (pool->nconns < pool->max) {
        if (proxy_conn_open(pool, job) == NULL)
            proxy_fail(pool, job, 502, "cannot connect to the upstream");
        return;
    }
    if (pool->nwait >= PROXY_MAX_WAITING) {
        proxy_fail(pool, job, 503, "too many requests wait for an upstream connection");
        return;
    }
    job->next = NULL;
    if (pool->wait_tail != NULL)
        pool->wait_tail->next = job;
    else
        pool->wait_head = job;
    pool->wait_tail = job;
    pool->nwait++;
}

/* The worker is ending: every connection closes, waiting requests fail. */
static void proxy_pool_close(void *arg)
{
    proxy_pool *pool = arg;

    pool->closed = true;
    while (pool->wait_head != NULL) {
        proxy_job *job = pool->wait_head;

        pool->wait_head = job->next;
        pool->nwait--;
        proxy_fail(pool, job, 502, "the gateway is shutting down");
    }
    pool->wait_tail = NULL;
    for (proxy_conn *pc = pool->all; pc != NULL; pc = pc->next_all)
        conn_abort(&pc->c);
}

static proxy_pool *proxy_pool_of(proxy_state *st, worker *w)
{
    proxy_pool *pool = st->pools[w->id];
    unsigned threads = w->g->cfg->threads;

    if (pool != NULL)
        return pool;
    pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return NULL;
    pool->st = st;
    pool->w = w;
    pool->max = (st->up.max_connections + threads - 1) / threads;
    if (pool->max == 0)
        pool->max = 1;
    pool->ccfg.read_max = PROXY_READ_MAX;
    pool->ccfg.connect_timeout_ms = st->up.connect_timeout_ns / CLOCK_NS_PER_MS;
    pool->ccfg.idle_timeout_ms = st->up.timeout_ns / CLOCK_NS_PER_MS + 60000;
    pool->ccfg.on_connect = proxy_on_connect;
    pool->ccfg.on_read = proxy_on_read;
    pool->ccfg.on_close = proxy_on_close;
    h1_config_default(&pool->h1cfg);
    pool->h1cfg.max_body = PROXY_MAX_RESPONSE;
    pool->h1cfg.max_header_bytes = 64 << 10;
    pool->h1cfg.max_headers = 200;
    buf_init(&pool->out, 0);
    pool->hook.fn = proxy_pool_close;
    pool->hook.arg = pool;
    worker_on_stop(w, &pool->hook);
    st->pools[w->id] = pool;
    return pool;
}

static int proxy_handle(void *state, handler_req *req, handler_resp *resp)
{
    proxy_state *st = state;
    worker *w = worker_self();
    proxy_pool *pool = w != NULL ? proxy_pool_of(st, w) : NULL;
    proxy_job *job;
    const h1_msg *msg = gateway_req_msg(req);

    if (pool == NULL) {
        handler_error(resp, 502, "bad.gateway", "the upstream is not reachable from here");
        return HANDLER_DONE;
    }
    job = pool->free_jobs;
    if (job != NULL)
        pool->free_jobs = job->next;
    else
        job = malloc(sizeof(*job));
    if (job == NULL) {
        handler_error(resp, 502, "bad.gateway", "out of memory");
        return HANDLER_DONE;
    }
    job->req = req;
    job->resp = resp;
    job->method = msg->method;
    job->attempts = 0;
    job->next = NULL;
    job->idempotent = msg->method != H1_POST && msg->method != H1_PATCH &&
                      msg->method != H1_CONNECT && msg->method != H1_METHOD_OTHER;
    proxy_dispatch(pool, job);
    return HANDLER_PENDING;
}

static void proxy_free(void *state)
{
    proxy_state *st = state;

    if (st == NULL)
        return;
    for (size_t i = 0; i < GW_MAX_THREADS; i++) {
        proxy_pool *pool = st->pools[i];

        if (pool == NULL)
            continue;
        while (pool->free_jobs != NULL) {
            proxy_job *job = pool->free_jobs;

            pool->free_jobs = job->next;
            free(job);
        }
        buf_free(&pool->out);
        free(pool);
    }
    url_free(&st->up.u);
    free(st);
}

const handler_kind proxy_kind = {"proxy", proxy_init, proxy_handle, proxy_free};
