#include "serve/gateway.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/h1_write.h"
#include "core/log.h"
#include "limit/body429.h"
#include "limit/dialect.h"
#include "limit/redisstore.h"
#include "serve/metrics.h"
#include "serve/rediskv.h"
#include "serve/sharedkey.h"
#include "serve/tokens.h"
#include "serve/worker.h"

#define GATEWAY_POOL_KEEP  256        /* idle gwreqs a worker keeps */
#define GATEWAY_HDRS_MAX   (64 << 10) /* bytes of header lines a handler may add */
#define GATEWAY_BODY_MAX   (16 << 20) /* bytes of body a handler may produce */
#define GATEWAY_BUF_KEEP   (64 << 10) /* larger buffers are freed after use */
#define GATEWAY_SERVER     "Server: tollgate\r\n"
#define GATEWAY_SERVER_LEN (sizeof(GATEWAY_SERVER) - 1)

enum gwreq_state {
    GWREQ_NEW = 0,
    GWREQ_DECIDING, /* the store answers later */
    GWREQ_HANDLING, /* the handler answers later */
    GWREQ_DELAYED,  /* the latency model's timer runs */
};

static void gateway_decided(gwreq *r);

/* The Redis store of one worker, freed when the worker's loop ends. */
typedef struct gw_shared {
    worker_hook hook;
    limit_store *store; /* NULL once freed */
    rediskv *kv;        /* emulated entities; NULL once freed */
} gw_shared;

/* ---- serializing ---- */

static char *gateway_put(char *p, const char *s, size_t n)
{
    if (n > 0)
        memcpy(p, s, n);
    return p + n;
}

int gateway_write_response(buf *out, int status, const char *date, size_t date_len,
                           const char *content_type, const buf *const *extra, size_t nextra,
                           const char *body, size_t body_len, bool head, bool close,
                           bool keep_alive10)
{
    const char *reason = h1_status_reason(status);
    size_t rlen = strlen(reason);
    size_t ctlen = content_type != NULL ? strlen(content_type) : 0;
    bool no_body = status < 200 || status == 204 || status == 304;
    size_t need = 16 + rlen + date_len + GATEWAY_SERVER_LEN + 40 + 48 + 2;
    char *p, *start;
    int rc;

    if (status < 100 || status > 999)
        return -EINVAL;
    if (ctlen > 0)
        need += 16 + ctlen;
    for (size_t i = 0; i < nextra; i++)
        need += extra[i]->len;
    if (!head && !no_body)
        need += body_len;
    rc = buf_reserve(out, need);
    if (rc < 0)
        return rc;
    start = p = buf_tail(out);
    p = gateway_put(p, "HTTP/1.1 ", 9);
    *p++ = (char)('0' + status / 100);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    p = gateway_put(p, reason, rlen);
    p = gateway_put(p, "\r\n", 2);
    p = gateway_put(p, date, date_len);
    p = gateway_put(p, GATEWAY_SERVER, GATEWAY_SERVER_LEN);
    if (ctlen > 0) {
        p = gateway_put(p, "Content-Type: ", 14);
        p = gateway_put(p, content_type, ctlen);
        p = gateway_put(p, "\r\n", 2);
    }
    if (!no_body) {
        p = gateway_put(p, "Content-Length: ", 16);
        p = buf_put_u64(p, body_len);
        p = gateway_put(p, "\r\n", 2);
    }
    for (size_t i = 0; i < nextra; i++)
        p = gateway_put(p, buf_ptr(extra[i]), extra[i]->len);
    if (close)
        p = gateway_put(p, "Connection: close\r\n", 19);
    else if (keep_alive10)
        p = gateway_put(p, "Connection: keep-alive\r\n", 24);
    p = gateway_put(p, "\r\n", 2);
    if (!head && !no_body && body_len > 0)
        p = gateway_put(p, body, body_len);
    buf_commit(out, (size_t)(p - start));
    return 0;
}

/* ---- error bodies ---- */

static const char *gateway_code(int status)
{
    switch (status) {
    case 400:
        return "bad.request";
    case 401:
        return "bad.credentials";
    case 404:
        return "not.found";
    case 405:
        return "method.not.allowed";
    case 408:
        return "request.timeout";
    case 413:
        return "request.entity.too.large";
    case 414:
        return "uri.too.long";
    case 431:
        return "request.header.fields.too.large";
    case 501:
        return "not.implemented";
    case 502:
        return "bad.gateway";
    case 503:
        return "service.unavailable";
    case 504:
        return "gateway.timeout";
    case 505:
        return "http.version.not.supported";
    default:
        return status >= 500 ? "internal.server.error" : "bad.request";
    }
}

void gateway_error(gwconn *gc, int status, const char *message)
{
    worker *w = gc->w;
    handler_resp resp;
    buf body, none;
    const buf *extra[1] = {&none};
    const char *date;
    size_t date_len;

    buf_init(&body, 0);
    buf_init(&none, 0);
    resp.status = status;
    resp.content_type = NULL;
    resp.headers = &none;
    resp.body = &body;
    handler_error(&resp, status, gateway_code(status), "%s", message);
    date = worker_date(w, &date_len);
    gateway_write_response(&w->out, status, date, date_len, "application/json", extra, 0,
                           buf_ptr(&body), body.len, false, true, false);
    buf_free(&body);
    metrics_request(w->m, -1, status, 0);
}

/* ---- the pool ---- */

static void gateway_req_closed(uv_handle_t *h)
{
    gwreq *r = h->data;

    buf_free(&r->hdrs);
    buf_free(&r->body);
    free(r);
}

static gwreq *gateway_req_get(worker *w)
{
    gwreq *r = w->pool.free_list;

    if (r != NULL) {
        w->pool.free_list = r->next_free;
        w->pool.nfree--;
    } else {
        r = malloc(sizeof(*r));
        if (r == NULL)
            return NULL;
        uv_timer_init(&w->loop, &r->timer);
        r->timer.data = r;
        buf_init(&r->hdrs, GATEWAY_HDRS_MAX);
        buf_init(&r->body, GATEWAY_BODY_MAX);
    }
    w->pool.nlive++;
    r->w = w;
    r->next_free = NULL;
    r->route = NULL;
    r->route_index = -1;
    r->status = 0;
    r->state = GWREQ_NEW;
    r->limited = false;
    r->shared = false;
    r->d.n = 0;
    r->d.nholds = 0;
    r->d.admitted = true;
    r->token[0] = '\0';
    return r;
}

static void gateway_req_put(gwreq *r)
{
    worker *w = r->w;

    buf_reset(&r->hdrs);
    buf_reset(&r->body);
    if (r->hdrs.cap > GATEWAY_BUF_KEEP)
        buf_free(&r->hdrs);
    if (r->body.cap > GATEWAY_BUF_KEEP)
        buf_free(&r->body);
    w->pool.nlive--;
    if (w->pool.nfree < GATEWAY_POOL_KEEP) {
        r->next_free = w->pool.free_list;
        w->pool.free_list = r;
        w->pool.nfree++;
    } else {
        uv_close((uv_handle_t *)&r->timer, gateway_req_closed);
    }
    if (w->stopping)
        worker_req_ended(w);
}

void gateway_pool_free(gateway_pool *pool)
{
    while (pool->free_list != NULL) {
        gwreq *r = pool->free_list;

        pool->free_list = r->next_free;
        uv_close((uv_handle_t *)&r->timer, gateway_req_closed);
    }
    pool->nfree = 0;
}

/* ---- the shared store ---- */

static limit_store *gateway_shared_store(worker *w)
{
    gw *g = w->g;

    return w->id < g->nshared ? g->shared[w->id].store : NULL;
}

static void gateway_shared_stop(void *arg)
{
    gw_shared *sh = arg;
    limit_store *s = sh->store;

    sh->store = NULL;
    store_free(s);
    rediskv_free(sh->kv);
    sh->kv = NULL;
}

rediskv *gateway_kv(void)
{
    worker *w = worker_self();

    if (w == NULL || w->g == NULL || w->id >= w->g->nshared)
        return NULL;
    return w->g->shared[w->id].kv;
}

int gateway_shared_init(gw *g, worker *workers, unsigned n, char *err, size_t errlen)
{
    const gw_config *cfg = g->cfg;
    uint8_t key[TOKENS_KEY_LEN];
    char msg[256];
    int rc;

    if (!cfg->store_redis)
        return 0;
    g->shared = calloc(n, sizeof(*g->shared));
    if (g->shared == NULL)
        goto nomem;
    for (unsigned i = 0; i < n; i++) {
        gw_shared *sh = &g->shared[i];

        if (redisstore_new(&sh->store, &workers[i].loop, &cfg->redis) < 0)
            goto nomem;
        g->nshared = i + 1; /* gateway_shared_free frees what was made */
        if (rediskv_new(&sh->kv, &workers[i].loop, &cfg->redis) < 0)
            goto nomem;
        sh->hook.fn = gateway_shared_stop;
        sh->hook.arg = sh;
        worker_on_stop(&workers[i], &sh->hook);
    }
    log_info("serve",
             "limit store: redis://%s:%d/%d (on_store_failure: %s, store_timeout: %llu ms)",
             cfg->redis.host, cfg->redis.port, cfg->redis.db,
             cfg->on_store_failure == GW_STORE_FAIL_LOCAL   ? "local"
             : cfg->on_store_failure == GW_STORE_FAIL_ALLOW ? "allow"
                                                            : "deny",
             (unsigned long long)(cfg->store_timeout_ns / 1000000ULL));
    if (cfg->tokens_key_set)
        return 0;
    rc = sharedkey_get(&cfg->redis, SHAREDKEY_TOKENS, key, sizeof(key), 1000000000ULL, msg,
                       sizeof(msg));
    if (rc == 0)
        rc = tokens_set_key(cfg->tokens, key);
    if (rc < 0)
        log_warn("serve",
                 "%s: tokens are signed with a key of this gateway only (other gateways reject "
                 "them); set tokens.key to share one",
                 msg);
    memset(key, 0, sizeof(key));
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

void gateway_shared_free(gw *g)
{
    for (unsigned i = 0; i < g->nshared; i++) {
        limit_store *s = g->shared[i].store;

        g->shared[i].store = NULL;
        store_free(s);
        rediskv_free(g->shared[i].kv);
        g->shared[i].kv = NULL;
    }
    free(g->shared);
    g->shared = NULL;
    g->nshared = 0;
}

/* ---- answering ---- */

/* The last step of every request: writes the response (unless the
 * connection died), releases concurrency slots, counts, recycles. */
static void gateway_respond(gwreq *r)
{
    worker *w = r->w;
    gwconn *gc = r->gc;
    const gw_config *cfg = w->g->cfg;
    uint64_t now = worker_now(w);

    if (gc != NULL) {
        const buf *extra[1] = {&r->hdrs};
        bool async = gc->req == r;
        bool close = gc->close_after || w->stopping;
        const char *date, *ct = r->resp.content_type;
        size_t date_len;

        if (r->limited)
            dialect_write(cfg->policy->dialects, &r->d, worker_wall(w), &r->hdrs);
        if (ct == NULL)
            ct = "application/json";
        date = worker_date(w, &date_len);
        if (gateway_write_response(&w->out, r->status, date, date_len, ct, extra, 1,
                                   buf_ptr(&r->body), r->body.len, r->head, close,
                                   r->http10 && !close) < 0) {
            r->status = 500;
            gc->close_after = true;
            gateway_error(gc, 500, "the response could not be written");
        }
        if (async)
            worker_conn_answered(gc);
    }
    if (r->d.nholds > 0) {
        limit_store *st = r->shared ? gateway_shared_store(w) : w->g->store;

        if (st != NULL) /* a shared store already gone: the lease frees the slot */
            limit_release(st, &r->d, now);
    }
    metrics_request(w->m, r->route_index, r->status, now - r->start_ns);
    metrics_inflight(w->m, -1);
    gateway_req_put(r);
}

/* An error answer from the gateway itself, in the platform's JSON shape. */
static void gateway_fail(gwreq *r, int status, const char *message)
{
    r->resp.status = status;
    r->resp.content_type = NULL;
    r->resp.headers = &r->hdrs;
    r->resp.body = &r->body;
    buf_reset(&r->body);
    handler_error(&r->resp, status, gateway_code(status), "%s", message);
    r->status = status;
    gateway_respond(r);
}

/* The request goes on waiting (a timer, the handler, the store): the
 * connection keeps reading meanwhile, to notice a client that goes away, so
 * the message is copied out of the read buffer first and the request's
 * slices follow it. If that copy fails, the worker stops reading instead. */
static void gateway_detach(gwreq *r)
{
    gwconn *gc = r->gc;
    const h1_msg *msg = r->hreq.header_ctx;
    const char *old = msg->path;

    gc->req = r;
    if (h1_parser_keep(&gc->p) < 0) {
        gc->hold_reads = true;
        return;
    }
    r->hreq.path = msg->path;
    r->hreq.query = msg->query != NULL ? msg->query : "";
    for (size_t i = 0; i < r->hreq.n_params; i++)
        r->params[i].value = msg->path + (r->params[i].value - old);
}

static void gateway_timer_fired(uv_timer_t *t)
{
    gwreq *r = t->data;

    r->timer_on = false;
    gateway_respond(r);
}

/* The handler filled r->resp: applies the latency model, then answers. */
static void gateway_handled(gwreq *r)
{
    const gw_route *rt = r->route;
    uint64_t delay = rt->latency_fixed_ns, ms;

    r->status = r->resp.status;
    if (r->status < 100 || r->status > 999) {
        buf_reset(&r->hdrs);
        gateway_fail(r, 500, "the endpoint produced no valid status");
        return;
    }
    if (r->gc == NULL) {
        gateway_respond(r);
        return;
    }
    if (rt->latency_spread_ns > 0)
        delay += rng_below(&r->w->rng, rt->latency_spread_ns + 1);
    if (delay == 0) {
        gateway_respond(r);
        return;
    }
    ms = (delay + 999999) / 1000000;
    r->state = GWREQ_DELAYED;
    if (r->gc->req != r)
        gateway_detach(r);
    r->timer_on = true;
    uv_timer_start(&r->timer, gateway_timer_fired, ms, 0);
}

static void gateway_handler_done(void *ctx)
{
    gwreq *r = ctx;

    if (r->in_handle) {
        r->done_early = true; /* answered inside handle(): gateway_decided goes on */
        return;
    }
    r->state = GWREQ_NEW;
    gateway_handled(r);
}

static void gateway_store_failed(gwreq *r);

static void gateway_store_done(void *arg, int status)
{
    gwreq *r = arg;

    if (status < 0) {
        gateway_store_failed(r);
        return;
    }
    r->state = GWREQ_NEW;
    gateway_decided(r);
}

static const char *gateway_handler_header(const handler_req *req, const char *name, size_t *len)
{
    const h1_header *h = h1_msg_header(req->header_ctx, name);

    if (h == NULL)
        return NULL;
    *len = h->value_len;
    return h->value;
}

static bool gateway_limit_header(void *ctx, const char *name, size_t name_len, limit_slice *value)
{
    const h1_header *h = h1_msg_header_n(ctx, name, name_len);

    if (h == NULL)
        return false;
    value->p = h->value;
    value->n = h->value_len;
    return true;
}

static const gwreq *gateway_of(const handler_req *req)
{
    return (const gwreq *)(const void *)((const char *)req - offsetof(gwreq, hreq));
}

const h1_msg *gateway_req_msg(const handler_req *req)
{
    return req->header_ctx;
}

const char *gateway_req_peer(const handler_req *req)
{
    const gwreq *r = gateway_of(req);

    return r->gc != NULL ? r->gc->ip : r->ip;
}

bool gateway_req_orphan(const handler_req *req)
{
    return gateway_of(req)->gc == NULL;
}

/* Counts the limits a rejected decision violated. */
static void gateway_count_throttled(gwreq *r)
{
    const limit_policy *p = r->w->g->cfg->policy;

    for (size_t i = 0; i < r->d.n; i++) {
        if (r->d.v[i].conforms)
            continue;
        for (size_t k = 0; k < p->n; k++)
            if (p->limits[k] == r->d.limits[i])
                metrics_throttled(r->w->m, k);
    }
}

static void gateway_decided(gwreq *r)
{
    const limit_policy *p = r->w->g->cfg->policy;
    int rc;

    r->limited = r->d.n > 0;
    if (r->gc == NULL) {
        r->status = r->d.admitted ? 200 : 429;
        gateway_respond(r);
        return;
    }
    if (!r->d.admitted) {
        gateway_count_throttled(r);
        r->status = 429;
        r->resp.content_type = body429_content_type((enum body429_kind)p->body);
        if (body429_write((enum body429_kind)p->body, &r->d, &r->body) < 0)
            buf_reset(&r->body);
        gateway_respond(r);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = NULL;
    r->resp.headers = &r->hdrs;
    r->resp.body = &r->body;
    r->hreq.now = worker_now(r->w);
    r->hreq.now_wall = worker_wall(r->w);
    r->state = GWREQ_HANDLING;
    r->in_handle = true;
    r->done_early = false;
    rc = r->route->kind->handle(r->route->state, &r->hreq, &r->resp);
    r->in_handle = false;
    if (rc == HANDLER_PENDING && !r->done_early) {
        if (r->gc->req != r)
            gateway_detach(r);
        return;
    }
    r->state = GWREQ_NEW;
    gateway_handled(r);
}

/* The limit view of r, from its message (valid while r has a connection)
 * and identity. */
static void gateway_limit_request(const gwreq *r, limit_request *lr)
{
    const h1_msg *msg = r->hreq.header_ctx;

    memset(lr, 0, sizeof(*lr));
    lr->method.p = msg->method_name;
    lr->method.n = strlen(msg->method_name);
    lr->path.p = msg->path;
    lr->path.n = msg->path_len;
    lr->ip = request_slice(r->ip);
    lr->token = request_slice(r->hreq.id.token);
    lr->client = request_slice(r->hreq.id.client);
    lr->user = request_slice(r->hreq.id.user);
    lr->org = request_slice(r->hreq.id.org);
    lr->header = gateway_limit_header;
    lr->header_ctx = (void *)msg;
}

/* Decides r with the in-process store, which always answers at once. */
static void gateway_decide_local(gwreq *r)
{
    worker *w = r->w;
    limit_request lr;

    gateway_limit_request(r, &lr);
    r->shared = false;
    r->state = GWREQ_NEW;
    if (limit_decide(w->g->cfg->policy, w->g->store, &lr, worker_now(w), &r->d, NULL, NULL) < 0) {
        r->d.nholds = 0;
        gateway_fail(r, 503, "the limit store is unavailable");
        return;
    }
    gateway_decided(r);
}

/* The shared store could not decide r (down, breaker open, timed out):
 * on_store_failure says what r meets. */
static void gateway_store_failed(gwreq *r)
{
    r->state = GWREQ_NEW;
    r->shared = false;
    r->d.nholds = 0;
    if (r->gc == NULL) { /* nobody waits for the answer */
        r->d.n = 0;
        r->status = 503;
        gateway_respond(r);
        return;
    }
    switch (r->w->g->cfg->on_store_failure) {
    case GW_STORE_FAIL_LOCAL:
        gateway_decide_local(r);
        return;
    case GW_STORE_FAIL_ALLOW:
        r->d.n = 0;
        r->d.admitted = true;
        gateway_decided(r);
        return;
    case GW_STORE_FAIL_DENY:
        r->d.n = 0;
        buf_printf(&r->hdrs, "Retry-After: 1\r\n");
        gateway_fail(r, 503, "the limit store is unavailable");
        return;
    }
}

/* Decides r's limits: with the worker's shared store if there is one (the
 * answer comes later), else in-process. */
static void gateway_decide(gwreq *r)
{
    worker *w = r->w;
    limit_store *shared = gateway_shared_store(w);
    limit_request lr;
    int rc;

    if (shared == NULL) {
        gateway_decide_local(r);
        return;
    }
    gateway_limit_request(r, &lr);
    r->shared = true;
    r->state = GWREQ_DECIDING;
    rc = limit_decide(w->g->cfg->policy, shared, &lr, worker_now(w), &r->d, gateway_store_done, r);
    if (rc == -EINPROGRESS) {
        gateway_detach(r);
        return;
    }
    if (rc < 0) {
        gateway_store_failed(r);
        return;
    }
    r->state = GWREQ_NEW;
    gateway_decided(r);
}

/* Whether a path is one limits and routes can judge: absolute, without dot
 * segments (also percent-encoded), encoded slashes, backslashes or NULs,
 * which an upstream could read differently from the patterns. */
static bool gateway_path_ok(const char *p, size_t n)
{
    size_t seglen = 0, dots = 0; /* units in the segment, and how many are dots */

    if (n == 0 || p[0] != '/')
        return false;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if (seglen > 0 && seglen == dots && dots <= 2)
                return false;
            seglen = 0;
            dots = 0;
            continue;
        }
        seglen++;
        if (p[i] == '\\')
            return false;
        if (p[i] == '.') {
            dots++;
        } else if (p[i] == '%') {
            char a, b;

            if (i + 2 >= n)
                return false;
            a = p[i + 1];
            b = (char)(p[i + 2] | 0x20);
            if (a == '2' && b == 'e')
                dots++;
            else if ((a == '2' && b == 'f') || (a == '5' && b == 'c') || (a == '0' && b == '0'))
                return false;
            i += 2;
        }
    }
    return true;
}

/* The first X-Forwarded-For hop, if it is an address. */
static bool gateway_forwarded_ip(const h1_msg *msg, char *out, size_t outlen)
{
    const h1_header *h = h1_msg_header(msg, "X-Forwarded-For");
    unsigned char addr[16];
    size_t n;

    if (h == NULL)
        return false;
    n = 0;
    while (n < h->value_len && h->value[n] != ',')
        n++;
    while (n > 0 && (h->value[n - 1] == ' ' || h->value[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, h->value, n);
    out[n] = '\0';
    return inet_pton(AF_INET, out, addr) == 1 || inet_pton(AF_INET6, out, addr) == 1;
}

void gateway_request(gwconn *gc, const h1_msg *msg)
{
    worker *w = gc->w;
    const gw_config *cfg = w->g->cfg;
    limit_slice caps[PATTERN_MAX_CAPTURES];
    handler_identity id = {NULL, NULL, NULL, NULL};
    const h1_header *auth;
    unsigned allow;
    gwreq *r;
    int idx;

    r = gateway_req_get(w);
    if (r == NULL) {
        gc->close_after = true;
        gateway_error(gc, 500, "out of memory");
        return;
    }
    r->gc = gc;
    r->start_ns = worker_now(w);
    r->head = msg->method == H1_HEAD;
    r->http10 = msg->version_minor == 0;
    r->resp.content_type = NULL;
    r->resp.headers = &r->hdrs;
    r->resp.body = &r->body;
    metrics_inflight(w->m, 1);

    if (!gateway_path_ok(msg->path, msg->path_len)) {
        gc->close_after = true; /* bad input: answer, then close */
        gateway_fail(r, 400, "the request target must be an absolute path without dot segments");
        return;
    }
    idx = gwconf_route_match(cfg, msg->method, msg->path, msg->path_len, caps, &allow);
    if (idx == -1) {
        gateway_fail(r, 404, "no route matches the path");
        return;
    }
    if (idx == -2) {
        char allow_text[96];

        gwconf_allow(allow, allow_text, sizeof(allow_text));
        buf_printf(&r->hdrs, "Allow: %s\r\n", allow_text);
        gateway_fail(r, 405, "the method is not allowed on this path");
        return;
    }
    r->route = &cfg->routes[idx];
    r->route_index = idx;

    auth = h1_msg_header(msg, "Authorization");
    if (auth != NULL && auth->value_len > 7 && strncasecmp(auth->value, "Bearer ", 7) == 0 &&
        auth->value_len - 7 < sizeof(r->token)) {
        memcpy(r->token, auth->value + 7, auth->value_len - 7);
        r->token[auth->value_len - 7] = '\0';
        if (tokens_lookup(cfg->tokens, r->token, auth->value_len - 7, worker_wall(w), &id) < 0)
            memset(&id, 0, sizeof(id));
    }
    if (r->route->bearer && id.token == NULL) {
        gateway_fail(r, 401,
                     auth == NULL ? "no bearer token in the Authorization header"
                                  : "the bearer token is not valid or has expired");
        return;
    }
    if (!cfg->trust_forwarded || !gateway_forwarded_ip(msg, r->ip, sizeof(r->ip)))
        snprintf(r->ip, sizeof(r->ip), "%s", gc->ip);

    memset(&r->hreq, 0, sizeof(r->hreq));
    r->hreq.method = r->head ? "GET" : msg->method_name;
    r->hreq.path = msg->path;
    r->hreq.path_len = msg->path_len;
    r->hreq.query = msg->query != NULL ? msg->query : "";
    r->hreq.query_len = msg->query_len;
    r->hreq.body = buf_ptr(&msg->body);
    r->hreq.body_len = msg->body.len;
    for (size_t i = 0; i < r->route->pattern.ncaptures; i++) {
        r->params[i].name = r->route->capnames[i];
        r->params[i].value = caps[i].p;
        r->params[i].value_len = caps[i].n;
    }
    r->hreq.params = r->params;
    r->hreq.n_params = r->route->pattern.ncaptures;
    r->hreq.id = id;
    r->hreq.peer_ip = r->ip;
    r->hreq.rng = &w->rng;
    r->hreq.header = gateway_handler_header;
    r->hreq.header_ctx = (void *)msg;
    r->hreq.done = gateway_handler_done;
    r->hreq.done_ctx = r;

    gateway_decide(r);
}

void gateway_conn_gone(gwreq *r)
{
    r->gc = NULL;
    if (r->state == GWREQ_DELAYED && r->timer_on) {
        uv_timer_stop(&r->timer);
        r->timer_on = false;
        gateway_respond(r);
    }
    /* DECIDING and HANDLING: the store or the handler calls back, and the
     * request ends there. */
}
