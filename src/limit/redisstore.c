#include "limit/redisstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/log.h"
#include "limit/redis_lua.h"

#define RS_NS_PER_S   1000000000ULL
#define RS_NS_PER_MS  1000000ULL
#define RS_MIN_PERIOD 1000ULL      /* ns: window indexes stay below 2^52 */
#define RS_MAX_SPAN   (1ULL << 52) /* ns: periods and refill times, exact in Lua */
#define RS_STUCK_MS   1000         /* a reply this late: drop the connection */
/* A connect this slow: give up and retry. hiredis' libuv adapter drops the
 * error status of a poll, so a refused asynchronous connect is noticed only
 * by this deadline; short enough to reconnect within 1 s of Redis' return. */
#define RS_CONNECT_MS 300
#define RS_KEEP_OPS   1024    /* idle ops kept for reuse */
#define RS_KEY_PREFIX "tg:l:" /* every limit key */
#define RS_PREFIX_LEN (sizeof(RS_KEY_PREFIX) - 1)
#define RS_ARGS_HEAD  4  /* ARGV before the decisions: slack, lease, holder, count */
#define RS_ARGS_DEC   3  /* ARGV per decision before its items: items, now s, now ns */
#define RS_ARGS_ITEM  10 /* ARGV per item */
#define RS_BATCH_MAX  64 /* decisions in one EVALSHA */

enum rs_state {
    RS_DOWN,       /* no connection: the tick connects */
    RS_CONNECTING, /* connect under way */
    RS_UP,         /* decisions go to Redis */
    RS_OPEN,       /* connected, but the breaker is open: probing */
};

typedef struct redisstore redisstore;

/* One decision of a batch: where its results go. */
typedef struct rs_dec {
    size_t n;
    uint64_t now;
    algo_verdict *out;
    bool *admitted;
    store_cb cb;
    void *arg;
} rs_dec;

/* A concurrency slot a decision asks for, to give back if its reply comes
 * after the decision timed out. */
typedef struct rs_cap {
    size_t key_off; /* the prefixed key's bytes in the op's keys */
    size_t key_len;
    uint64_t hold;
    size_t dec; /* the decision's index in its batch */
} rs_cap;

/* The decisions of one loop pass, sent as one EVALSHA. */
typedef struct rs_op {
    redisstore *s;
    struct rs_op *prev, *next; /* s->live (waited for) or s->zombies (timed out) */
    uint64_t first_ms;         /* uv_now() of the first decision */
    uint64_t deadline_ms;      /* by which it must be answered */
    uint64_t sent_ms;
    bool cancelled; /* the callers were answered -ETIMEDOUT; the reply is dropped */
    bool retried;   /* sent again after NOSCRIPT */
    size_t ndec, nkeys, nargs;
    rs_dec dec[RS_BATCH_MAX];
    buf keys; /* RESP bulk strings: every decision's keys, in order */
    buf args; /* RESP bulk strings: every decision's ARGV, in order */
    buf caps; /* rs_cap entries */
    buf cmd;  /* the EVALSHA in RESP, kept for a NOSCRIPT retry */
} rs_op;

typedef struct rs_list {
    rs_op *head, *tail;
} rs_list;

struct redisstore {
    limit_store base;
    uv_loop_t *loop;
    redisstore_opts o;
    redisAsyncContext *ac;
    enum rs_state state;
    bool closing;
    bool warned;  /* the current outage was logged */
    bool probing; /* a PING is out */
    unsigned fails;
    unsigned nclosed;
    uint64_t connect_ms, probe_ms;
    uv_timer_t timer;     /* the oldest live op's deadline */
    uv_timer_t tick;      /* reconnect and probe */
    uv_prepare_t prepare; /* sends the batch before the loop blocks ... */
    uv_check_t check;     /* ... or after the I/O callbacks that filled it */
    rs_op *batch;         /* decisions not sent yet */
    rs_list live, zombies;
    rs_op *free_ops;
    size_t nfree;
    char sha[41];
    char holder[17];
    redisstore_stats st;
};

/* ---- parameters ---- */

int redisstore_parse_url(const char *url, redisstore_opts *o, char *err, size_t errlen)
{
    const char *p, *host, *host_end, *port = NULL;
    size_t hlen;
    char *end;
    long v;

    memset(o, 0, sizeof(*o));
    o->port = 6379;
    if (strncmp(url, "redis://", 8) != 0)
        goto bad;
    host = url + 8;
    if (*host == '[') {
        host++;
        host_end = strchr(host, ']');
        if (host_end == NULL)
            goto bad;
        p = host_end + 1;
    } else {
        host_end = host + strcspn(host, ":/");
        p = host_end;
    }
    hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof(o->host))
        goto bad;
    memcpy(o->host, host, hlen);
    if (*p == ':') {
        port = p + 1;
        errno = 0;
        v = strtol(port, &end, 10);
        if (end == port || errno != 0 || v < 1 || v > 65535 || (*end != '\0' && *end != '/'))
            goto bad;
        o->port = (int)v;
        p = end;
    }
    if (*p == '/' && p[1] != '\0') {
        errno = 0;
        v = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != '\0' || errno != 0 || v < 0 || v > 65535)
            goto bad;
        o->db = (int)v;
    } else if (*p == '/') {
        /* "redis://h:1/": db 0 */
    } else if (*p != '\0') {
        goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "\"%s\": expected redis://HOST[:PORT][/DB]", url);
    return -EINVAL;
}

int redisstore_check_params(const algo_params *p, char *err, size_t errlen)
{
    if (p->kind == ALGO_CONCURRENCY)
        return 0;
    if (p->period_ns < RS_MIN_PERIOD || p->period_ns >= RS_MAX_SPAN) {
        snprintf(err, errlen,
                 "the Redis store decides periods from 1us to 52 days exactly; this period is "
                 "%" PRIu64 " ns",
                 p->period_ns);
        return -ERANGE;
    }
    if (p->kind == ALGO_GCRA && p->tol_ns >= RS_MAX_SPAN) {
        snprintf(err, errlen,
                 "the Redis store decides buckets that refill in under 52 days exactly; this "
                 "burst takes %" PRIu64 " s",
                 (uint64_t)(p->tol_ns / RS_NS_PER_S));
        return -ERANGE;
    }
    return 0;
}

/* ---- ops ---- */

static void rs_list_push(rs_list *l, rs_op *op)
{
    op->next = NULL;
    op->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
}

static void rs_list_remove(rs_list *l, rs_op *op)
{
    if (op->prev != NULL)
        op->prev->next = op->next;
    else
        l->head = op->next;
    if (op->next != NULL)
        op->next->prev = op->prev;
    else
        l->tail = op->prev;
    op->prev = op->next = NULL;
}

static rs_op *rs_op_get(redisstore *s)
{
    rs_op *op = s->free_ops;

    if (op != NULL) {
        s->free_ops = op->next;
        s->nfree--;
    } else {
        op = malloc(sizeof(*op));
        if (op == NULL)
            return NULL;
        buf_init(&op->keys, 0);
        buf_init(&op->args, 0);
        buf_init(&op->caps, 0);
        buf_init(&op->cmd, 0);
    }
    op->s = s;
    op->prev = op->next = NULL;
    op->cancelled = false;
    op->retried = false;
    op->ndec = op->nkeys = op->nargs = 0;
    buf_reset(&op->keys);
    buf_reset(&op->args);
    buf_reset(&op->caps);
    buf_reset(&op->cmd);
    return op;
}

static void rs_op_destroy(rs_op *op)
{
    buf_free(&op->keys);
    buf_free(&op->args);
    buf_free(&op->caps);
    buf_free(&op->cmd);
    free(op);
}

static void rs_op_put(redisstore *s, rs_op *op)
{
    if (s->nfree >= RS_KEEP_OPS || s->closing) {
        rs_op_destroy(op);
        return;
    }
    op->next = s->free_ops;
    s->free_ops = op;
    s->nfree++;
}

/* Answers every decision of op with status (< 0) and recycles it. */
static void rs_op_fail(redisstore *s, rs_op *op, int status)
{
    rs_dec dec[RS_BATCH_MAX];
    size_t n = op->ndec;

    memcpy(dec, op->dec, n * sizeof(dec[0]));
    rs_op_put(s, op);
    for (size_t i = 0; i < n; i++)
        dec[i].cb(dec[i].arg, status);
}

/* ---- RESP ---- */

/* Appends "$LEN\r\n" (the head of a bulk string). */
static int rs_bulk_head(buf *b, size_t n)
{
    char *p, *start;
    int rc = buf_reserve(b, 24);

    if (rc < 0)
        return rc;
    start = p = buf_tail(b);
    *p++ = '$';
    p = buf_put_u64(p, n);
    *p++ = '\r';
    *p++ = '\n';
    buf_commit(b, (size_t)(p - start));
    return 0;
}

static int rs_arg(buf *b, const char *p, size_t n)
{
    int rc = rs_bulk_head(b, n);

    if (rc == 0)
        rc = buf_append(b, p, n);
    if (rc == 0)
        rc = buf_append(b, "\r\n", 2);
    return rc;
}

static int rs_arg_u64(buf *b, uint64_t v)
{
    char tmp[24];
    char *end = buf_put_u64(tmp, v);

    return rs_arg(b, tmp, (size_t)(end - tmp));
}

/* ---- connection ---- */

static void rs_fail_count(redisstore *s)
{
    s->fails++;
    if (s->fails >= REDISSTORE_TRIP && s->state == RS_UP) {
        s->state = RS_OPEN;
        s->probing = false;
        log_warn("redis",
                 "%s:%d: %u decisions failed in a row; not waiting on Redis until it "
                 "answers again",
                 s->o.host, s->o.port, s->fails);
    }
}

static void rs_on_timer(uv_timer_t *t);

static void rs_arm(redisstore *s)
{
    uint64_t now = uv_now(s->loop);
    rs_op *op = s->live.head;

    if (op == NULL || s->closing) {
        uv_timer_stop(&s->timer);
        return;
    }
    uv_timer_start(&s->timer, rs_on_timer, op->deadline_ms > now ? op->deadline_ms - now : 0, 0);
}

static void rs_on_timer(uv_timer_t *t)
{
    redisstore *s = t->data;
    uint64_t now = uv_now(s->loop);
    rs_op *op;

    while ((op = s->live.head) != NULL && op->deadline_ms <= now) {
        rs_list_remove(&s->live, op);
        rs_list_push(&s->zombies, op);
        op->cancelled = true;
        s->st.timeouts += op->ndec;
        for (size_t i = 0; i < op->ndec; i++)
            rs_fail_count(s);
        for (size_t i = 0; i < op->ndec; i++)
            op->dec[i].cb(op->dec[i].arg, -ETIMEDOUT);
    }
    rs_arm(s);
}

static void rs_ignore(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)reply;
    (void)priv;
}

static void rs_load_script(redisstore *s)
{
    redisAsyncCommand(s->ac, rs_ignore, NULL, "SCRIPT LOAD %s", redis_lua_decide);
}

/* Whether reply r has the shape op's decisions expect: per decision, one
 * integer plus six per item. */
static bool rs_reply_ok(const redisReply *r, const rs_op *op)
{
    size_t want = 0;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return false;
    for (size_t i = 0; i < op->ndec; i++)
        want += 1 + 6 * op->dec[i].n;
    if (r->elements != want)
        return false;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_INTEGER)
            return false;
    return true;
}

/* Gives back the slots timed-out decisions took after all. */
static void rs_release_late(redisstore *s, rs_op *op, const redisReply *r)
{
    const rs_cap *caps = (const rs_cap *)(const void *)buf_ptr(&op->caps);
    size_t ncaps = op->caps.len / sizeof(rs_cap);
    bool admitted[RS_BATCH_MAX];
    char member[48];
    size_t at = 0;

    if (s->ac == NULL || ncaps == 0 || !rs_reply_ok(r, op))
        return;
    for (size_t i = 0; i < op->ndec; i++) {
        admitted[i] = r->element[at]->integer == 1;
        at += 1 + 6 * op->dec[i].n;
    }
    for (size_t i = 0; i < ncaps; i++) {
        const char *argv[3];
        size_t lens[3];
        int n;

        if (!admitted[caps[i].dec])
            continue;
        n = snprintf(member, sizeof(member), "%s:%" PRIu64, s->holder, caps[i].hold);
        argv[0] = "ZREM";
        lens[0] = 4;
        argv[1] = buf_ptr(&op->keys) + caps[i].key_off;
        lens[1] = caps[i].key_len;
        argv[2] = member;
        lens[2] = (size_t)n;
        redisAsyncCommandArgv(s->ac, rs_ignore, NULL, 3, argv, lens);
    }
}

/* Writes every decision's results from a reply of the right shape. */
static void rs_fill(const redisReply *r, rs_op *op)
{
    size_t at = 0;

    for (size_t d = 0; d < op->ndec; d++) {
        rs_dec *dec = &op->dec[d];

        *dec->admitted = r->element[at++]->integer == 1;
        for (size_t i = 0; i < dec->n; i++, at += 6) {
            redisReply **e = r->element + at;
            algo_verdict *v = &dec->out[i];

            v->conforms = e[0]->integer != 0;
            v->quota = (uint64_t)e[1]->integer;
            v->remaining = (uint64_t)e[2]->integer;
            v->reset_ns = (uint64_t)e[3]->integer;
            v->wait_ns = e[4]->integer < 0 ? UINT64_MAX : (uint64_t)e[4]->integer;
            v->full_at = e[5]->integer < 0 ? UINT64_MAX : dec->now + (uint64_t)e[5]->integer;
        }
    }
}

static void rs_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    rs_op *op = priv;
    redisstore *s = op->s;
    redisReply *r = reply;
    int status = 0;

    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
        !op->retried && !op->cancelled && !s->closing && s->ac == ac) {
        /* Redis restarted or its scripts were flushed: load the script and
         * send the decisions again behind it, on the same connection. */
        op->retried = true;
        s->st.reloads++;
        rs_load_script(s);
        if (redisAsyncFormattedCommand(ac, rs_on_reply, op, buf_ptr(&op->cmd), op->cmd.len) ==
            REDIS_OK)
            return;
    }
    if (op->cancelled) {
        rs_list_remove(&s->zombies, op);
        rs_release_late(s, op, r);
        rs_op_put(s, op);
        return;
    }
    rs_list_remove(&s->live, op);
    if (r == NULL) {
        status = -ECONNRESET;
    } else if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis", "%s:%d: %s", s->o.host, s->o.port, r->str);
        status = -EPROTO;
    } else if (!rs_reply_ok(r, op)) {
        status = -EPROTO;
    }
    rs_arm(s);
    if (status < 0) {
        s->st.errors += op->ndec;
        for (size_t i = 0; i < op->ndec; i++)
            rs_fail_count(s);
        rs_op_fail(s, op, status);
        return;
    }
    rs_fill(r, op);
    s->fails = 0;
    s->st.decisions += op->ndec;
    {
        rs_dec dec[RS_BATCH_MAX];
        size_t n = op->ndec;

        memcpy(dec, op->dec, n * sizeof(dec[0]));
        rs_op_put(s, op);
        for (size_t i = 0; i < n; i++)
            dec[i].cb(dec[i].arg, 0);
    }
}

static void rs_on_connect(const redisAsyncContext *ac, int status)
{
    redisstore *s = ac->data;

    if (s->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback. */
        if (!s->warned)
            log_warn("redis", "%s:%d: cannot connect: %s; retrying every %d ms", s->o.host,
                     s->o.port, ac->errstr, REDISSTORE_RETRY_MS);
        s->warned = true;
        s->ac = NULL;
        s->state = RS_DOWN;
        return;
    }
    if (s->warned)
        log_info("redis", "%s:%d: connected again; shared decisions resume", s->o.host, s->o.port);
    s->warned = false;
    s->state = RS_UP;
    s->fails = 0;
    s->st.connects++;
}

static void rs_on_disconnect(const redisAsyncContext *ac, int status)
{
    redisstore *s = ac->data;

    (void)status;
    if (s->ac != ac)
        return;
    s->ac = NULL;
    if (s->closing)
        return;
    s->state = RS_DOWN;
    if (!s->warned)
        log_warn("redis", "%s:%d: connection lost%s%s; reconnecting every %d ms", s->o.host,
                 s->o.port, ac->errstr[0] != '\0' ? ": " : "", ac->errstr, REDISSTORE_RETRY_MS);
    s->warned = true;
}

static void rs_connect(redisstore *s)
{
    redisAsyncContext *ac = redisAsyncConnect(s->o.host, s->o.port);

    if (ac == NULL)
        return;
    if (ac->err != 0) {
        if (!s->warned)
            log_warn("redis", "%s:%d: cannot connect: %s; retrying every %d ms", s->o.host,
                     s->o.port, ac->errstr, REDISSTORE_RETRY_MS);
        s->warned = true;
        redisAsyncFree(ac);
        return;
    }
    ac->data = s;
    if (redisLibuvAttach(ac, s->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return;
    }
    s->ac = ac;
    s->state = RS_CONNECTING;
    s->connect_ms = uv_now(s->loop);
    redisAsyncSetConnectCallback(ac, rs_on_connect);
    redisAsyncSetDisconnectCallback(ac, rs_on_disconnect);
    /* Sent as soon as the connection is up, before any decision. */
    if (s->o.db != 0)
        redisAsyncCommand(ac, rs_ignore, NULL, "SELECT %d", s->o.db);
    rs_load_script(s);
}

/* Drops the connection (hung Redis, slow connect); the tick reconnects. Ops
 * still waiting are answered -ECONNRESET by hiredis' free. */
static void rs_drop(redisstore *s, const char *why)
{
    redisAsyncContext *ac = s->ac;

    if (ac == NULL)
        return;
    s->state = RS_DOWN;
    if (!s->warned)
        log_warn("redis", "%s:%d: %s; reconnecting every %d ms", s->o.host, s->o.port, why,
                 REDISSTORE_RETRY_MS);
    s->warned = true;
    redisAsyncFree(ac);
    s->ac = NULL;
}

static void rs_on_probe(redisAsyncContext *ac, void *reply, void *priv)
{
    redisstore *s = priv;
    redisReply *r = reply;

    (void)ac;
    s->probing = false;
    if (r == NULL || r->type == REDIS_REPLY_ERROR || s->state != RS_OPEN)
        return;
    if (uv_now(s->loop) - s->probe_ms > s->o.timeout_ns / RS_NS_PER_MS)
        return; /* answered, but late: the next tick probes again */
    s->state = RS_UP;
    s->fails = 0;
    log_info("redis", "%s:%d: answering again; shared decisions resume", s->o.host, s->o.port);
}

static void rs_on_tick(uv_timer_t *t)
{
    redisstore *s = t->data;
    uint64_t now = uv_now(s->loop);
    const rs_op *oldest = s->zombies.head != NULL ? s->zombies.head : s->live.head;

    if (s->closing)
        return;
    if (oldest != NULL && now - oldest->sent_ms > RS_STUCK_MS) {
        rs_drop(s, "no answer for 1 s");
        return;
    }
    switch (s->state) {
    case RS_DOWN:
        rs_connect(s);
        break;
    case RS_CONNECTING:
        if (now - s->connect_ms > RS_CONNECT_MS)
            rs_drop(s, "cannot connect");
        break;
    case RS_OPEN:
        if (!s->probing && s->ac != NULL &&
            redisAsyncCommand(s->ac, rs_on_probe, s, "PING") == REDIS_OK) {
            s->probing = true;
            s->probe_ms = now;
        }
        break;
    case RS_UP:
        break;
    }
}

/* ---- the store ---- */

/* Sends the batch: one EVALSHA for every decision of this loop pass. */
static void rs_flush(redisstore *s)
{
    rs_op *op = s->batch;
    buf *b;
    int rc;

    if (op == NULL)
        return;
    s->batch = NULL;
    uv_prepare_stop(&s->prepare);
    uv_check_stop(&s->check);
    if (s->ac == NULL || s->closing) {
        rs_op_fail(s, op, -ENOTCONN);
        return;
    }
    b = &op->cmd;
    rc = buf_printf(b, "*%zu\r\n", 3 + op->nkeys + RS_ARGS_HEAD + op->nargs);
    if (rc == 0)
        rc = rs_arg(b, "EVALSHA", 7);
    if (rc == 0)
        rc = rs_arg(b, s->sha, 40);
    if (rc == 0)
        rc = rs_arg_u64(b, op->nkeys);
    if (rc == 0)
        rc = buf_append(b, buf_ptr(&op->keys), op->keys.len);
    if (rc == 0)
        rc = rs_arg_u64(b, s->o.slack_ms);
    if (rc == 0)
        rc = rs_arg_u64(b, s->o.lease_ns / RS_NS_PER_MS);
    if (rc == 0)
        rc = rs_arg(b, s->holder, strlen(s->holder));
    if (rc == 0)
        rc = rs_arg_u64(b, op->ndec);
    if (rc == 0)
        rc = buf_append(b, buf_ptr(&op->args), op->args.len);
    if (rc == 0 &&
        redisAsyncFormattedCommand(s->ac, rs_on_reply, op, buf_ptr(b), b->len) != REDIS_OK)
        rc = -EIO;
    if (rc < 0) {
        rs_op_fail(s, op, rc);
        return;
    }
    s->st.calls++;
    op->sent_ms = uv_now(s->loop);
    op->deadline_ms = op->first_ms + (s->o.timeout_ns + RS_NS_PER_MS - 1) / RS_NS_PER_MS;
    rs_list_push(&s->live, op);
    if (s->live.head == op)
        rs_arm(s);
}

static void rs_on_prepare(uv_prepare_t *h)
{
    rs_flush(h->data);
}

static void rs_on_check(uv_check_t *h)
{
    rs_flush(h->data);
}

/* Appends one decision's keys and ARGV to op. */
static int rs_append(redisstore *s, rs_op *op, const store_item *items, size_t n, uint64_t now)
{
    buf *k = &op->keys, *a = &op->args;
    int rc = rs_arg_u64(a, n);

    if (rc == 0 && s->o.caller_clock) {
        rc = rs_arg_u64(a, now / RS_NS_PER_S);
        if (rc == 0)
            rc = rs_arg_u64(a, now % RS_NS_PER_S);
    } else if (rc == 0) {
        rc = rs_arg(a, "", 0);
        if (rc == 0)
            rc = rs_arg(a, "0", 1);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const algo_params *p = items[i].params;
        uint64_t ct = 0, ctf = 0, cost = items[i].cost;

        rc = rs_bulk_head(k, RS_PREFIX_LEN + items[i].key_len);
        if (rc == 0 && p->kind == ALGO_CONCURRENCY) {
            rs_cap c = {k->len, RS_PREFIX_LEN + items[i].key_len, items[i].hold, op->ndec};

            rc = buf_append(&op->caps, (const char *)&c, sizeof(c));
        }
        if (rc == 0)
            rc = buf_append(k, RS_KEY_PREFIX, RS_PREFIX_LEN);
        if (rc == 0)
            rc = buf_append(k, items[i].key, items[i].key_len);
        if (rc == 0)
            rc = buf_append(k, "\r\n", 2);
        if (p->kind == ALGO_GCRA) {
            /* cost x T = cost * t_ns + cost * t_frac / count, exactly */
            unsigned __int128 carry = (unsigned __int128)cost * p->t_frac;

            ct = cost * p->t_ns + (uint64_t)(carry / p->count);
            ctf = (uint64_t)(carry % p->count);
        }
        uint64_t f[RS_ARGS_ITEM] = {
            (uint64_t)p->kind, p->count,    p->period_ns, p->quota, cost, ct, ctf,
            p->tol_ns,         p->tol_frac, items[i].hold};
        for (size_t j = 0; j < RS_ARGS_ITEM && rc == 0; j++)
            rc = rs_arg_u64(a, f[j]);
    }
    return rc;
}

static int rs_decide(limit_store *base, const store_item *items, size_t n, uint64_t now,
                     algo_verdict *out, bool *admitted, store_cb cb, void *arg)
{
    redisstore *s = (redisstore *)base;
    size_t klen, alen, clen;
    rs_dec *d;
    rs_op *op;
    int rc;

    if (n > STORE_MAX_ITEMS)
        return -E2BIG;
    if (s->closing || s->state != RS_UP || s->ac == NULL) {
        s->st.refused++;
        return s->state == RS_OPEN ? -EAGAIN : -ENOTCONN;
    }
    for (size_t i = 0; i < n; i++)
        if (redisstore_check_params(items[i].params, NULL, 0) < 0)
            return -ERANGE;
    if (s->batch == NULL) {
        s->batch = rs_op_get(s);
        if (s->batch == NULL)
            return -ENOMEM;
        s->batch->first_ms = uv_now(s->loop);
        uv_prepare_start(&s->prepare, rs_on_prepare);
        uv_check_start(&s->check, rs_on_check);
    }
    op = s->batch;
    klen = op->keys.len;
    alen = op->args.len;
    clen = op->caps.len;
    rc = rs_append(s, op, items, n, now);
    if (rc < 0) {
        /* Take this decision's bytes back out; the others stay. */
        op->keys.len = klen;
        op->args.len = alen;
        op->caps.len = clen;
        return rc;
    }
    d = &op->dec[op->ndec++];
    d->n = n;
    d->now = now;
    d->out = out;
    d->admitted = admitted;
    d->cb = cb;
    d->arg = arg;
    op->nkeys += n;
    op->nargs += RS_ARGS_DEC + RS_ARGS_ITEM * n;
    if (op->ndec == RS_BATCH_MAX)
        rs_flush(s);
    return -EINPROGRESS;
}

static int rs_release(limit_store *base, const store_item *item, uint64_t now)
{
    redisstore *s = (redisstore *)base;
    char key[RS_PREFIX_LEN + 512], member[48];
    const char *argv[3];
    size_t lens[3];
    int n;

    (void)now;
    if (item->params->kind != ALGO_CONCURRENCY || s->ac == NULL || s->closing ||
        s->state == RS_CONNECTING || item->key_len > sizeof(key) - RS_PREFIX_LEN)
        return 0; /* not held here, or the lease gives it back */
    memcpy(key, RS_KEY_PREFIX, RS_PREFIX_LEN);
    memcpy(key + RS_PREFIX_LEN, item->key, item->key_len);
    n = snprintf(member, sizeof(member), "%s:%" PRIu64, s->holder, item->hold);
    argv[0] = "ZREM";
    lens[0] = 4;
    argv[1] = key;
    lens[1] = RS_PREFIX_LEN + item->key_len;
    argv[2] = member;
    lens[2] = (size_t)n;
    return redisAsyncCommandArgv(s->ac, rs_ignore, NULL, 3, argv, lens) == REDIS_OK ? 0 : -EIO;
}

static uint64_t rs_keys(limit_store *base)
{
    (void)base;
    return 0; /* Redis counts them: DBSIZE */
}

static void rs_closed(uv_handle_t *h)
{
    redisstore *s = h->data;

    if (++s->nclosed < 4)
        return;
    while (s->free_ops != NULL) {
        rs_op *op = s->free_ops;

        s->free_ops = op->next;
        rs_op_destroy(op);
    }
    free(s);
}

static void rs_free(limit_store *base)
{
    redisstore *s = (redisstore *)base;
    redisAsyncContext *ac = s->ac;
    rs_op *batch = s->batch;

    s->closing = true;
    s->ac = NULL;
    s->batch = NULL;
    if (batch != NULL)
        rs_op_fail(s, batch, -ECONNRESET);
    if (ac != NULL)
        redisAsyncFree(ac); /* answers every op -ECONNRESET, frees the zombies */
    uv_timer_stop(&s->timer);
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->timer, rs_closed);
    uv_close((uv_handle_t *)&s->tick, rs_closed);
    uv_close((uv_handle_t *)&s->prepare, rs_closed);
    uv_close((uv_handle_t *)&s->check, rs_closed);
}

static const store_ops rs_ops = {"redis", rs_decide, rs_release, rs_keys, rs_free};

int redisstore_new(limit_store **out, uv_loop_t *loop, const redisstore_opts *o)
{
    redisstore *s = calloc(1, sizeof(*s));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    uint64_t id = 0;

    *out = NULL;
    if (s == NULL)
        return -ENOMEM;
    s->base.ops = &rs_ops;
    s->loop = loop;
    s->o = *o;
    if (s->o.timeout_ns == 0)
        s->o.timeout_ns = 20 * RS_NS_PER_MS;
    if (s->o.lease_ns == 0)
        s->o.lease_ns = 60 * RS_NS_PER_S;
    if (EVP_Digest(redis_lua_decide, strlen(redis_lua_decide), md, &mdlen, EVP_sha1(), NULL) != 1 ||
        mdlen != 20)
        goto err;
    for (unsigned i = 0; i < 20; i++)
        snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
    if (getrandom(&id, sizeof(id), 0) != sizeof(id))
        goto err;
    snprintf(s->holder, sizeof(s->holder), "%016" PRIx64, id);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, rs_on_tick, REDISSTORE_RETRY_MS, REDISSTORE_RETRY_MS);
    uv_prepare_init(loop, &s->prepare);
    s->prepare.data = s;
    uv_unref((uv_handle_t *)&s->prepare);
    uv_check_init(loop, &s->check);
    s->check.data = s;
    uv_unref((uv_handle_t *)&s->check);
    s->state = RS_DOWN;
    rs_connect(s);
    *out = &s->base;
    return 0;
err:
    free(s);
    return -ENOMEM;
}

void redisstore_stats_get(limit_store *base, redisstore_stats *out)
{
    *out = ((redisstore *)base)->st;
}

bool redisstore_up(limit_store *base)
{
    return ((redisstore *)base)->state == RS_UP;
}
