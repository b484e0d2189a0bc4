#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/rng.h"
#include "limit/body429.h"
#include "limit/dialect.h"
#include "limit/limit.h"
#include "limit/localstore.h"
#include "limit/redisstore.h"
#include "redis_fixture.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

static redis_fixture fx;

static int group_setup(void **state)
{
    (void)state;
    return redis_fixture_start(&fx);
}

static int group_teardown(void **state)
{
    (void)state;
    redis_fixture_stop(&fx);
    return 0;
}

/* A blocking command on the fixture (FLUSHALL, SCRIPT FLUSH, PTTL...). */
static long long sync_cmd(const char *fmt, const char *arg)
{
    redisContext *c = redisConnect("127.0.0.1", fx.port);
    redisReply *r;
    long long v = -100;

    assert_non_null(c);
    assert_int_equal(c->err, 0);
    r = redisCommand(c, fmt, arg);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r->type == REDIS_REPLY_STATUS)
        v = 0;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

static void opts(redisstore_opts *o, int port, bool caller_clock)
{
    char url[64], err[200];

    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    assert_int_equal(redisstore_parse_url(url, o, err, sizeof(err)), 0);
    o->caller_clock = caller_clock;
}

/* Runs the loop until the store is up (at most `ms`). Returns true if up. */
static bool wait_up(uv_loop_t *loop, limit_store *s, uint64_t ms)
{
    uint64_t end = clock_now_ns() + ms * MS;

    while (!redisstore_up(s) && clock_now_ns() < end)
        uv_run(loop, UV_RUN_NOWAIT);
    return redisstore_up(s);
}

typedef struct done {
    bool called;
    int status;
} done;

static void on_done(void *arg, int status)
{
    done *d = arg;

    d->called = true;
    d->status = status;
}

/* limit_decide on an asynchronous store, run to completion. */
static int decide_wait(uv_loop_t *loop, const limit_policy *p, limit_store *s,
                       const limit_request *r, uint64_t now, limit_decision *d)
{
    done dn = {false, 0};
    int rc = limit_decide(p, s, r, now, d, on_done, &dn);

    if (rc != -EINPROGRESS)
        return rc;
    while (!dn.called)
        uv_run(loop, UV_RUN_ONCE);
    return dn.status;
}

static void free_store(uv_loop_t *loop, limit_store *s)
{
    store_free(s);
    uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- parsing and bounds ---- */

static void test_parse_url(void **state)
{
    redisstore_opts o;
    char err[200];

    (void)state;
    assert_int_equal(redisstore_parse_url("redis://10.1.2.3:7000/2", &o, err, sizeof(err)), 0);
    assert_string_equal(o.host, "10.1.2.3");
    assert_int_equal(o.port, 7000);
    assert_int_equal(o.db, 2);
    assert_int_equal(redisstore_parse_url("redis://cache", &o, err, sizeof(err)), 0);
    assert_string_equal(o.host, "cache");
    assert_int_equal(o.port, 6379);
    assert_int_equal(o.db, 0);
    assert_int_equal(redisstore_parse_url("redis://[::1]:6380/", &o, err, sizeof(err)), 0);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 6380);
    assert_int_equal(redisstore_parse_url("redis://h:0", &o, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"redis://h:0\": expected redis://HOST[:PORT][/DB]");
    assert_int_equal(redisstore_parse_url("redis://h:1/x", &o, err, sizeof(err)), -EINVAL);
    assert_int_equal(redisstore_parse_url("http://h", &o, err, sizeof(err)), -EINVAL);
    assert_int_equal(redisstore_parse_url("redis://:1", &o, err, sizeof(err)), -EINVAL);
}

static void test_check_params(void **state)
{
    algo_params p;
    char err[200];

    (void)state;
    assert_int_equal(
        algo_params_init(&p, ALGO_GCRA, (units_rate){5000, 3600 * S}, 0, 0, err, sizeof(err)), 0);
    assert_int_equal(redisstore_check_params(&p, err, sizeof(err)), 0);
    /* 1000 per year: the period is past 2^52 ns. */
    assert_int_equal(algo_params_init(&p, ALGO_FIXED_WINDOW, (units_rate){1000, 365 * 86400 * S}, 0,
                                      0, err, sizeof(err)),
                     0);
    assert_int_equal(redisstore_check_params(&p, err, sizeof(err)), -ERANGE);
    assert_non_null(strstr(err, "52 days"));
    /* 1 per day with a burst of 100: refills in 100 days. */
    assert_int_equal(
        algo_params_init(&p, ALGO_GCRA, (units_rate){1, 86400 * S}, 100, 0, err, sizeof(err)), 0);
    assert_int_equal(redisstore_check_params(&p, err, sizeof(err)), -ERANGE);
    assert_int_equal(
        algo_params_init(&p, ALGO_CONCURRENCY, (units_rate){0, 0}, 0, 7, err, sizeof(err)), 0);
    assert_int_equal(redisstore_check_params(&p, err, sizeof(err)), 0);
}

/* ---- equivalence ---- */

typedef struct lim {
    const char *name, *path, *algorithm, *scope;
    units_rate rate;
    uint64_t burst, cost, conc;
} lim;

static const lim LIMITS[] = {
    {"g-5s", "/a/**", "gcra", "token", {5, S}, 5, 0, 0},
    {"g-frac", "/a/**", "gcra", "org", {3, S}, 7, 0, 0},
    {"g-7-2s", "/b/**", "gcra", "token", {7, 2 * S}, 0, 0, 0},
    {"g-day", "/b/**", "gcra", "org", {1000, 86400 * S}, 50, 0, 0},
    {"g-fast", "/c/**", "gcra", NULL, {99999, S}, 3, 0, 0},
    {"g-5000h", "/b/**", "gcra", "token", {5000, 3600 * S}, 0, 0, 0}, /* tol x count > 2^52 */
    {"g-9999h", "/c/**", "gcra", "token", {9999, 3600 * S}, 0, 0, 0}, /* and T fractional */
    {"g-hour-cost", "/a/**", "gcra", "org", {10, 3600 * S}, 0, 3, 0},
    {"fixed", "/a/**", "fixed_window", "token", {4, 1500 * MS}, 0, 0, 0},
    {"fixed-day", "/c/**", "fixed_window", "org", {20, 86400 * S}, 0, 0, 0},
    {"slide", "/b/**", "sliding_window", "token", {5, S}, 0, 0, 0},
    {"slide-odd", "/c/**", "sliding_window", "org", {3, 700 * MS}, 0, 0, 0},
    {"slide-day", "/b/**", "sliding_window", NULL, {1000, 86400 * S}, 0, 0, 0},
    {"cap", "/c/**", "concurrency", "token", {0, 0}, 0, 0, 2},
};

static limit_policy *make_policy(void)
{
    static const char *const dialects[] = {"ietf", "draft03", "x-ratelimit", "inin"};
    limit_policy *p;
    char err[200];

    assert_int_equal(policy_new(&p), 0);
    for (size_t i = 0; i < sizeof(LIMITS) / sizeof(LIMITS[0]); i++) {
        const lim *l = &LIMITS[i];
        policy_spec s;

        memset(&s, 0, sizeof(s));
        s.name = l->name;
        s.path = l->path;
        s.algorithm = l->algorithm;
        s.scope = l->scope != NULL ? &l->scope : NULL;
        s.nscope = l->scope != NULL ? 1 : 0;
        s.rate = l->rate;
        s.burst = l->burst;
        s.cost = l->cost;
        s.concurrency = l->conc;
        assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
        assert_int_equal(redisstore_check_params(&p->limits[i]->params, err, sizeof(err)), 0);
    }
    assert_int_equal(policy_set_dialects(p, dialects, 4, err, sizeof(err)), 0);
    return p;
}

static void same_decision(const limit_policy *p, const limit_decision *a, const limit_decision *b,
                          uint64_t wall, size_t step)
{
    buf ha, hb;

    if (a->admitted != b->admitted || a->n != b->n)
        fail_msg("step %zu: admitted %d/%d, n %zu/%zu", step, a->admitted, b->admitted, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const algo_verdict *x = &a->v[i], *y = &b->v[i];

        assert_ptr_equal(a->limits[i], b->limits[i]);
        if (x->conforms != y->conforms || x->quota != y->quota || x->remaining != y->remaining ||
            x->reset_ns != y->reset_ns || x->wait_ns != y->wait_ns || x->full_at != y->full_at)
            fail_msg("step %zu, limit %s: local {%d q%llu r%llu reset %llu wait %llu full %llu} "
                     "redis {%d q%llu r%llu reset %llu wait %llu full %llu}",
                     step, a->limits[i]->name, x->conforms, (unsigned long long)x->quota,
                     (unsigned long long)x->remaining, (unsigned long long)x->reset_ns,
                     (unsigned long long)x->wait_ns, (unsigned long long)x->full_at, y->conforms,
                     (unsigned long long)y->quota, (unsigned long long)y->remaining,
                     (unsigned long long)y->reset_ns, (unsigned long long)y->wait_ns,
                     (unsigned long long)y->full_at);
    }
    assert_int_equal(a->nviolated, b->nviolated);
    assert_int_equal(a->wait_ns, b->wait_ns);
    assert_int_equal(a->retry_after_s, b->retry_after_s);
    buf_init(&ha, 0);
    buf_init(&hb, 0);
    assert_int_equal(dialect_write(p->dialects, a, wall, &ha), 0);
    assert_int_equal(dialect_write(p->dialects, b, wall, &hb), 0);
    if (!a->admitted) {
        assert_int_equal(body429_write(BODY429_PROBLEM, a, &ha), 0);
        assert_int_equal(body429_write(BODY429_PROBLEM, b, &hb), 0);
    }
    assert_int_equal(ha.len, hb.len);
    assert_memory_equal(buf_ptr(&ha), buf_ptr(&hb), ha.len);
    buf_free(&ha);
    buf_free(&hb);
}

#define HELD_MAX 6

/* The same random request sequence under one virtual clock, through the
 * in-process store and the Redis store (caller_clock): every verdict field,
 * the decision-wide fields, the header lines and the 429 bodies must be
 * identical. The clock starts at a 2023 epoch time so that every product the
 * script forms is far past 2^53. */
static void test_equivalence(void **state)
{
    static const char *const TOKENS[] = {"t1", "t2", "t3"};
    static const char *const ORGS[] = {"o1", "o2"};
    static const char *const PATHS[] = {"/a/x", "/b/y", "/c/z"};
    limit_policy *p = make_policy();
    limit_store *ls, *rs;
    redisstore_opts o;
    uv_loop_t loop;
    rng g;
    uint64_t now = 1700000000ULL * S + 123456789ULL;
    limit_decision *held_l = calloc(HELD_MAX, sizeof(limit_decision));
    limit_decision *held_r = calloc(HELD_MAX, sizeof(limit_decision));
    limit_decision *dl = malloc(sizeof(*dl)), *dr = malloc(sizeof(*dr));
    size_t nheld = 0, admitted = 0, refused = 0;

    (void)state;
    assert_int_equal(sync_cmd("FLUSHALL", NULL), 0);
    rng_seed(&g, 7);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(localstore_new(&ls, 0), 0);
    opts(&o, fx.port, true);
    o.slack_ms = 3600 * 1000;    /* the virtual clock runs ahead of Redis' own */
    o.lease_ns = 1000000ULL * S; /* leases never expire here */
    o.timeout_ns = 5 * S;        /* a sanitizer build under load is slow */
    assert_int_equal(redisstore_new(&rs, &loop, &o), 0);
    assert_true(wait_up(&loop, rs, 2000));
    for (size_t step = 0; step < 2500; step++) {
        uint64_t r = rng_below(&g, 100);
        limit_request lr;

        if (r < 20)
            now += 0;
        else if (r < 30)
            now += rng_below(&g, 1000);
        else if (r < 70)
            now += rng_below(&g, 50 * MS);
        else if (r < 96)
            now += rng_below(&g, S);
        else
            now += rng_below(&g, 7200 * S);
        if (nheld > 0 && rng_below(&g, 100) < 35) {
            size_t k = rng_below(&g, nheld);

            limit_release(ls, &held_l[k], now);
            limit_release(rs, &held_r[k], now);
            held_l[k] = held_l[nheld - 1];
            held_r[k] = held_r[nheld - 1];
            nheld--;
        }
        memset(&lr, 0, sizeof(lr));
        lr.method = request_slice("GET");
        lr.path = request_slice(PATHS[rng_below(&g, 3)]);
        lr.token = request_slice(TOKENS[rng_below(&g, 3)]);
        lr.org = request_slice(ORGS[rng_below(&g, 2)]);
        assert_int_equal(limit_decide(p, ls, &lr, now, dl, NULL, NULL), 0);
        assert_int_equal(decide_wait(&loop, p, rs, &lr, now, dr), 0);
        same_decision(p, dl, dr, 1700000000ULL * S, step);
        if (dl->admitted)
            admitted++;
        else
            refused++;
        if (dl->admitted && dl->nholds > 0) {
            if (nheld == HELD_MAX) {
                limit_release(ls, dl, now);
                limit_release(rs, dr, now);
            } else {
                held_l[nheld] = *dl;
                held_r[nheld] = *dr;
                nheld++;
            }
        }
    }
    /* Both outcomes were exercised, plenty of each. */
    assert_true(admitted > 500);
    assert_true(refused > 500);
    free_store(&loop, rs);
    store_free(ls);
    assert_int_equal(uv_loop_close(&loop), 0);
    policy_free(p);
    free(held_l);
    free(held_r);
    free(dl);
    free(dr);
}

/* Decisions issued in one loop pass travel as one EVALSHA and are decided
 * in order: 40 of them on two keys at increasing times give what the
 * in-process store gives one by one. */
static void test_batch(void **state)
{
    static const char *const TOKENS[] = {"t1", "t2"};
    limit_policy *p = make_policy();
    limit_store *ls, *rs;
    redisstore_opts o;
    redisstore_stats st;
    uv_loop_t loop;
    enum { N = 40 };
    limit_decision *dl = calloc(N, sizeof(*dl)), *dr = calloc(N, sizeof(*dr));
    done dn[N];
    uint64_t now = 1700000000ULL * S;
    bool all;

    (void)state;
    assert_int_equal(sync_cmd("FLUSHALL", NULL), 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(localstore_new(&ls, 0), 0);
    opts(&o, fx.port, true);
    o.slack_ms = 3600 * 1000;
    o.lease_ns = 1000000ULL * S;
    o.timeout_ns = 5 * S;
    assert_int_equal(redisstore_new(&rs, &loop, &o), 0);
    assert_true(wait_up(&loop, rs, 2000));
    for (int i = 0; i < N; i++) {
        limit_request lr;

        memset(&lr, 0, sizeof(lr));
        lr.method = request_slice("GET");
        lr.path = request_slice(i % 3 == 0 ? "/b/y" : "/a/x");
        lr.token = request_slice(TOKENS[i % 2]);
        lr.org = request_slice("o1");
        now += 37 * MS;
        memset(&dn[i], 0, sizeof(dn[i]));
        assert_int_equal(limit_decide(p, ls, &lr, now, &dl[i], NULL, NULL), 0);
        assert_int_equal(limit_decide(p, rs, &lr, now, &dr[i], on_done, &dn[i]), -EINPROGRESS);
    }
    do {
        uv_run(&loop, UV_RUN_ONCE);
        all = true;
        for (int i = 0; i < N; i++)
            all = all && dn[i].called;
    } while (!all);
    for (int i = 0; i < N; i++) {
        assert_int_equal(dn[i].status, 0);
        same_decision(p, &dl[i], &dr[i], 1700000000ULL * S, (size_t)i);
    }
    redisstore_stats_get(rs, &st);
    assert_int_equal(st.decisions, N);
    assert_int_equal(st.calls, 1);
    free_store(&loop, rs);
    store_free(ls);
    assert_int_equal(uv_loop_close(&loop), 0);
    policy_free(p);
    free(dl);
    free(dr);
}

/* ---- Redis' own clock, expiry, script reload, leases ---- */

static void one_limit(limit_policy **out, const char *algorithm, units_rate rate, uint64_t conc)
{
    policy_spec s;
    char err[200];

    assert_int_equal(policy_new(out), 0);
    memset(&s, 0, sizeof(s));
    s.name = "l";
    s.algorithm = algorithm;
    s.rate = rate;
    s.concurrency = conc;
    assert_int_equal(policy_add_limit(*out, &s, err, sizeof(err)), 0);
}

static limit_request any_request(void)
{
    limit_request lr;

    memset(&lr, 0, sizeof(lr));
    lr.method = request_slice("GET");
    lr.path = request_slice("/");
    return lr;
}

/* With Redis' TIME: a 5/s bucket admits 5 at once and refuses the 6th with a
 * wait near 200 ms; the key expires at full refill (PTTL <= 1 s). */
static void test_redis_clock_and_expiry(void **state)
{
    limit_policy *p;
    limit_store *rs;
    redisstore_opts o;
    uv_loop_t loop;
    limit_decision *d = malloc(sizeof(*d));
    limit_request lr = any_request();

    (void)state;
    assert_int_equal(sync_cmd("FLUSHALL", NULL), 0);
    one_limit(&p, "gcra", (units_rate){5, S}, 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    opts(&o, fx.port, false);
    o.timeout_ns = 5 * S;
    assert_int_equal(redisstore_new(&rs, &loop, &o), 0);
    assert_true(wait_up(&loop, rs, 2000));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(decide_wait(&loop, p, rs, &lr, 1000, d), 0);
        assert_true(d->admitted);
        assert_int_equal(d->v[0].remaining, (uint64_t)(4 - i));
    }
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 1000, d), 0);
    assert_false(d->admitted);
    assert_int_equal(d->retry_after_s, 1);
    assert_true(d->wait_ns > 0 && d->wait_ns <= 200 * MS);
    {
        redisContext *c = redisConnect("127.0.0.1", fx.port);
        redisReply *r = redisCommand(c, "KEYS tg:l:*"), *t;

        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 1);
        t = redisCommand(c, "PTTL %b", r->element[0]->str, (size_t)r->element[0]->len);
        assert_int_equal(t->type, REDIS_REPLY_INTEGER);
        /* 5 requests of a 5/s bucket: full again within 1 s. */
        assert_true(t->integer > 0 && t->integer <= 1000);
        freeReplyObject(t);
        freeReplyObject(r);
        redisFree(c);
    }
    free_store(&loop, rs);
    assert_int_equal(uv_loop_close(&loop), 0);
    policy_free(p);
    free(d);
}

/* SCRIPT FLUSH: the next decision meets NOSCRIPT, loads the script and is
 * answered all the same. */
static void test_noscript_reload(void **state)
{
    limit_policy *p;
    limit_store *rs;
    redisstore_opts o;
    redisstore_stats st;
    uv_loop_t loop;
    limit_decision *d = malloc(sizeof(*d));
    limit_request lr = any_request();

    (void)state;
    assert_int_equal(sync_cmd("FLUSHALL", NULL), 0);
    one_limit(&p, "fixed_window", (units_rate){2, 60 * S}, 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    opts(&o, fx.port, true);
    o.timeout_ns = 5 * S;
    assert_int_equal(redisstore_new(&rs, &loop, &o), 0);
    assert_true(wait_up(&loop, rs, 2000));
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 10 * S, d), 0);
    assert_true(d->admitted);
    assert_int_equal(sync_cmd("SCRIPT FLUSH", NULL), 0);
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 10 * S, d), 0);
    assert_true(d->admitted);
    assert_int_equal(d->v[0].remaining, 0);
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 10 * S, d), 0);
    assert_false(d->admitted);
    /* The window of [0, 60 s) ends 50 s after 10 s. */
    assert_int_equal(d->wait_ns, 50 * S);
    redisstore_stats_get(rs, &st);
    assert_int_equal(st.reloads, 1);
    assert_int_equal(st.decisions, 3);
    free_store(&loop, rs);
    assert_int_equal(uv_loop_close(&loop), 0);
    policy_free(p);
    free(d);
}

/* A cap of 2 across two stores (two gateways): the third acquisition is
 * refused; a release from the holder frees a slot; a slot whose holder never
 * releases it expires with its lease. */
static void test_cap_leases(void **state)
{
    limit_policy *p;
    limit_store *a, *b;
    redisstore_opts o;
    uv_loop_t loop;
    limit_decision *d1 = malloc(sizeof(*d1)), *d2 = malloc(sizeof(*d2));
    limit_decision *d3 = malloc(sizeof(*d3));
    limit_request lr = any_request();
    uint64_t now = 1700000000ULL * S;

    (void)state;
    assert_int_equal(sync_cmd("FLUSHALL", NULL), 0);
    one_limit(&p, NULL, (units_rate){0, 0}, 2);
    assert_int_equal(uv_loop_init(&loop), 0);
    opts(&o, fx.port, true);
    o.timeout_ns = 5 * S;
    o.lease_ns = 60 * S;
    assert_int_equal(redisstore_new(&a, &loop, &o), 0);
    assert_int_equal(redisstore_new(&b, &loop, &o), 0);
    assert_true(wait_up(&loop, a, 2000));
    assert_true(wait_up(&loop, b, 2000));
    assert_int_equal(decide_wait(&loop, p, a, &lr, now, d1), 0);
    assert_true(d1->admitted);
    assert_int_equal(decide_wait(&loop, p, b, &lr, now, d2), 0);
    assert_true(d2->admitted);
    assert_int_equal(d2->v[0].remaining, 0);
    assert_int_equal(decide_wait(&loop, p, a, &lr, now, d3), 0);
    assert_false(d3->admitted);
    assert_int_equal(d3->retry_after_s, 1);
    /* b gives its slot back: one is free (b's next command runs after its
     * release; another connection's could overtake it). */
    limit_release(b, d2, now);
    assert_int_equal(decide_wait(&loop, p, b, &lr, now + S, d3), 0);
    assert_true(d3->admitted);
    assert_int_equal(decide_wait(&loop, p, a, &lr, now + S, d2), 0);
    assert_false(d2->admitted);
    /* Nobody releases: 60 s after d1 (and 59 s after d3) d1's lease is gone. */
    assert_int_equal(decide_wait(&loop, p, b, &lr, now + 60 * S + MS, d2), 0);
    assert_true(d2->admitted);
    assert_int_equal(d2->v[0].remaining, 0);
    store_free(a);
    free_store(&loop, b);
    assert_int_equal(uv_loop_close(&loop), 0);
    policy_free(p);
    free(d1);
    free(d2);
    free(d3);
}

/* ---- failures ---- */

/* A server that accepts connections (the kernel's backlog) and never
 * answers: every decision times out after timeout_ns; after
 * REDISSTORE_TRIP of them the breaker opens and decide refuses at once. */
static void test_timeout_and_breaker(void **state)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    limit_policy *p;
    limit_store *rs;
    redisstore_opts o;
    redisstore_stats st;
    uv_loop_t loop;
    limit_decision *d = malloc(sizeof(*d));
    limit_request lr = any_request();
    done dn;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 16), 0);
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    one_limit(&p, "gcra", (units_rate){5, S}, 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    opts(&o, ntohs(a.sin_port), true);
    o.timeout_ns = 20 * MS;
    assert_int_equal(redisstore_new(&rs, &loop, &o), 0);
    assert_true(wait_up(&loop, rs, 2000));
    for (int i = 0; i < REDISSTORE_TRIP; i++) {
        uint64_t t0 = clock_now_ns(), took;

        memset(&dn, 0, sizeof(dn));
        assert_int_equal(limit_decide(p, rs, &lr, 0, d, on_done, &dn), -EINPROGRESS);
        while (!dn.called)
            uv_run(&loop, UV_RUN_ONCE);
        took = clock_now_ns() - t0;
        assert_int_equal(dn.status, -ETIMEDOUT);
        assert_true(took >= 19 * MS);
        assert_true(took < 500 * MS);
    }
    assert_false(redisstore_up(rs));
    assert_int_equal(limit_decide(p, rs, &lr, 0, d, on_done, &dn), -EAGAIN);
    redisstore_stats_get(rs, &st);
    assert_int_equal(st.timeouts, REDISSTORE_TRIP);
    assert_int_equal(st.refused, 1);
    free_store(&loop, rs);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(lfd);
    policy_free(p);
    free(d);
}

/* Redis stops: decisions fail at once (or with -ECONNRESET); it comes back
 * on the same port: the store is up again within 1 s and decides. */
static void test_reconnect(void **state)
{
    limit_policy *p;
    limit_store *rs;
    redisstore_opts o;
    uv_loop_t loop;
    limit_decision *d = malloc(sizeof(*d));
    limit_request lr = any_request();
    uint64_t t0, end;
    int rc;

    (void)state;
    assert_int_equal(sync_cmd("FLUSHALL", NULL), 0);
    one_limit(&p, "gcra", (units_rate){100, S}, 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    opts(&o, fx.port, false);
    o.timeout_ns = 2 * S;
    assert_int_equal(redisstore_new(&rs, &loop, &o), 0);
    assert_true(wait_up(&loop, rs, 2000));
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 0, d), 0);
    redis_fixture_stop(&fx);
    rc = decide_wait(&loop, p, rs, &lr, 0, d);
    assert_true(rc == -ECONNRESET || rc == -ENOTCONN);
    /* Down for a while: decide refuses at once, without waiting. */
    end = clock_now_ns() + 300 * MS;
    while (clock_now_ns() < end)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 0, d), -ENOTCONN);
    assert_int_equal(redis_fixture_start(&fx), 0);
    t0 = clock_now_ns();
    assert_true(wait_up(&loop, rs, 1000));
    assert_true(clock_now_ns() - t0 <= 1000 * MS);
    assert_int_equal(decide_wait(&loop, p, rs, &lr, 0, d), 0);
    assert_true(d->admitted);
    free_store(&loop, rs);
    assert_int_equal(uv_loop_close(&loop), 0);
    policy_free(p);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test(test_check_params),
        cmocka_unit_test(test_equivalence),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_redis_clock_and_expiry),
        cmocka_unit_test(test_noscript_reload),
        cmocka_unit_test(test_cap_leases),
        cmocka_unit_test(test_timeout_and_breaker),
        cmocka_unit_test(test_reconnect),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
