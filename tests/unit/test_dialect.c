#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "limit/dialect.h"
#include "limit/localstore.h"

#define S    CLOCK_NS_PER_S
#define MS   CLOCK_NS_PER_MS
#define WALL (1700000000 * S + 500 * MS) /* epoch ns */

static const char *const TOKEN[] = {"token"};
static const char *const ORG[] = {"org"};

struct fixture {
    limit_policy *p;
    limit_store *s;
    limit_request r;
};

static void add(limit_policy *p, const char *name, const char *algorithm, const char *path,
                const char *const *scope_items, units_rate rate, uint64_t burst, uint64_t conc)
{
    policy_spec s;
    char err[200];

    memset(&s, 0, sizeof(s));
    s.name = name;
    s.algorithm = algorithm;
    s.path = path;
    s.scope = scope_items;
    s.nscope = scope_items != NULL ? 1 : 0;
    s.rate = rate;
    s.burst = burst;
    s.concurrency = conc;
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
}

static int setup(void **state)
{
    static struct fixture f;

    memset(&f, 0, sizeof(f));
    assert_int_equal(policy_new(&f.p), 0);
    add(f.p, "per-token", NULL, "/api/**", TOKEN, (units_rate){300, 60 * S}, 0, 0);
    add(f.p, "writes", NULL, "/api/v2/scripts/**", TOKEN, (units_rate){20, S}, 5, 0);
    add(f.p, "org-window", "fixed_window", "/api/**", ORG, (units_rate){100, 60 * S}, 0, 0);
    add(f.p, "summary-cap", NULL, "/api/summary", ORG, (units_rate){0, 0}, 0, 10);
    assert_int_equal(localstore_new(&f.s, 0), 0);
    f.r.method = request_slice("GET");
    f.r.token = request_slice("t1");
    f.r.org = request_slice("acme");
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_free(f->s);
    policy_free(f->p);
    return 0;
}

static void expect(unsigned mask, const limit_decision *d, const char *want)
{
    buf b;

    buf_init(&b, 0);
    assert_int_equal(dialect_write(mask, d, WALL, &b), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);
    assert_string_equal(buf_ptr(&b), want);
    buf_free(&b);
}

/* Two limits apply: per-token (299 left, full again in 200 ms) and the
 * org's fixed window (99 left, the window ends in 20 s: now is 1000 s and
 * windows are [960 s, 1020 s)). The tightest is the window. */
static void test_admitted(void **state)
{
    struct fixture *f = *state;
    limit_decision d;

    f->r.path = request_slice("/api/v2/users");
    assert_int_equal(limit_decide(f->p, f->s, &f->r, 1000 * S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    assert_int_equal(d.n, 2);
    expect(DIALECT_BIT(DIALECT_IETF), &d,
           "RateLimit-Policy: \"per-token\";q=300;w=60, \"org-window\";q=100;w=60\r\n"
           "RateLimit: \"per-token\";r=299;t=1, \"org-window\";r=99;t=20\r\n");
    expect(DIALECT_BIT(DIALECT_DRAFT03), &d,
           "RateLimit-Limit: 100\r\nRateLimit-Remaining: 99\r\nRateLimit-Reset: 20\r\n");
    expect(DIALECT_BIT(DIALECT_XRATELIMIT), &d,
           "X-RateLimit-Limit: 100\r\nX-RateLimit-Remaining: 99\r\nX-RateLimit-Reset: 20\r\n");
    expect(DIALECT_BIT(DIALECT_GITHUB), &d,
           "x-ratelimit-limit: 100\r\nx-ratelimit-remaining: 99\r\nx-ratelimit-used: 1\r\n"
           "x-ratelimit-reset: 1700000021\r\nx-ratelimit-resource: org-window\r\n");
    expect(
        DIALECT_BIT(DIALECT_ININ), &d,
        "inin-ratelimit-count: 1\r\ninin-ratelimit-allowed: 100\r\ninin-ratelimit-reset: 20\r\n");
    expect(
        DIALECT_BIT(DIALECT_ININ) | DIALECT_BIT(DIALECT_IETF), &d,
        "RateLimit-Policy: \"per-token\";q=300;w=60, \"org-window\";q=100;w=60\r\n"
        "RateLimit: \"per-token\";r=299;t=1, \"org-window\";r=99;t=20\r\n"
        "inin-ratelimit-count: 1\r\ninin-ratelimit-allowed: 100\r\ninin-ratelimit-reset: 20\r\n");
    /* nothing applies: nothing written */
    f->r.path = request_slice("/health");
    assert_int_equal(limit_decide(f->p, f->s, &f->r, 1000 * S, &d, NULL, NULL), 0);
    expect(DIALECT_BIT(DIALECT_IETF) | DIALECT_BIT(DIALECT_GITHUB), &d, "");
}

/* Script writes: 20/s with a burst of 5. The policy item says 20 per second
 * with 5 at once; the single-limit dialects count down from the burst. The
 * sixth write at the same instant is refused for 50 ms: Retry-After 1, once,
 * after every dialect. */
static void test_rejected(void **state)
{
    struct fixture *f = *state;
    limit_decision d;

    f->r.method = request_slice("PUT");
    f->r.path = request_slice("/api/v2/scripts/9");
    f->r.token = request_slice("t2");
    f->r.org = request_slice("globex");
    for (int i = 0; i < 6; i++)
        assert_int_equal(limit_decide(f->p, f->s, &f->r, 2000 * S, &d, NULL, NULL), 0);
    assert_false(d.admitted);
    assert_int_equal(d.wait_ns, 50 * MS);
    assert_int_equal(d.n, 3);
    expect(DIALECT_BIT(DIALECT_IETF), &d,
           "RateLimit-Policy: \"per-token\";q=300;w=60, \"writes\";q=20;w=1;tollgate-burst=5, "
           "\"org-window\";q=100;w=60\r\n"
           "RateLimit: \"per-token\";r=295;t=1, \"writes\";r=0;t=1, \"org-window\";r=95;t=40\r\n"
           "Retry-After: 1\r\n");
    expect(DIALECT_BIT(DIALECT_DRAFT03), &d,
           "RateLimit-Limit: 5\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset: 1\r\n"
           "Retry-After: 1\r\n");
    expect(DIALECT_BIT(DIALECT_XRATELIMIT), &d,
           "X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1\r\n"
           "Retry-After: 1\r\n");
    expect(DIALECT_BIT(DIALECT_GITHUB), &d,
           "x-ratelimit-limit: 5\r\nx-ratelimit-remaining: 0\r\nx-ratelimit-used: 5\r\n"
           "x-ratelimit-reset: 1700000001\r\nx-ratelimit-resource: writes\r\nretry-after: 1\r\n");
    expect(DIALECT_BIT(DIALECT_ININ), &d,
           "inin-ratelimit-count: 5\r\ninin-ratelimit-allowed: 5\r\ninin-ratelimit-reset: 1\r\n"
           "Retry-After: 1\r\n");
    expect(DIALECT_BIT(DIALECT_ININ) | DIALECT_BIT(DIALECT_DRAFT03), &d,
           "RateLimit-Limit: 5\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset: 1\r\n"
           "inin-ratelimit-count: 5\r\ninin-ratelimit-allowed: 5\r\ninin-ratelimit-reset: 1\r\n"
           "Retry-After: 1\r\n");
    expect(0, &d, "Retry-After: 1\r\n");
}

/* A concurrency cap has no window and no reset. */
static void test_concurrency_items(void **state)
{
    struct fixture *f = *state;
    limit_decision d;

    f->r.method = request_slice("GET");
    f->r.path = request_slice("/api/summary");
    f->r.token = request_slice("t3");
    f->r.org = request_slice("initech");
    assert_int_equal(limit_decide(f->p, f->s, &f->r, 3000 * S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    expect(DIALECT_BIT(DIALECT_IETF), &d,
           "RateLimit-Policy: \"per-token\";q=300;w=60, \"org-window\";q=100;w=60, "
           "\"summary-cap\";q=10;qu=\"concurrent-requests\"\r\n"
           "RateLimit: \"per-token\";r=299;t=1, \"org-window\";r=99;t=60, \"summary-cap\";r=9\r\n");
    expect(DIALECT_BIT(DIALECT_DRAFT03), &d,
           "RateLimit-Limit: 10\r\nRateLimit-Remaining: 9\r\nRateLimit-Reset: 0\r\n");
    limit_release(f->s, &d, 3000 * S);
}

/* The policy item states the rate as written, q units per w whole seconds,
 * with the burst beside it when it differs; sub-second periods are scaled by
 * up to 10, else rounded down to what fits in the period rounded up. The
 * RateLimit item: units available now, seconds until the allowance is whole. */
static void test_policy_items_state_the_rate(void **state)
{
    static const char *const GLOBAL[] = {"global"};
    limit_policy *p;
    limit_store *s;
    limit_request r;
    limit_decision d;

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    add(p, "script-writes", NULL, "/r", GLOBAL, (units_rate){18, S}, 5, 0);
    add(p, "per-token", NULL, "/r", GLOBAL, (units_rate){300, 60 * S}, 0, 0);
    add(p, "quarter", NULL, "/r", GLOBAL, (units_rate){10, 250 * MS}, 0, 0);
    add(p, "slow", NULL, "/r", GLOBAL, (units_rate){1, 1500 * MS}, 0, 0);
    add(p, "odd", NULL, "/r", GLOBAL, (units_rate){3, 333 * MS}, 0, 0);
    add(p, "fixed", "fixed_window", "/r", GLOBAL, (units_rate){5, 2 * S}, 0, 0);
    add(p, "sliding", "sliding_window", "/r", GLOBAL, (units_rate){100, 10 * S}, 0, 0);
    add(p, "deep", NULL, "/r", GLOBAL, (units_rate){10, S}, 50, 0);
    assert_int_equal(localstore_new(&s, 0), 0);
    memset(&r, 0, sizeof(r));
    r.method = request_slice("GET");
    r.path = request_slice("/r");
    assert_int_equal(limit_decide(p, s, &r, 1000 * S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    assert_int_equal(d.n, 8);
    expect(DIALECT_BIT(DIALECT_IETF), &d,
           "RateLimit-Policy: \"script-writes\";q=18;w=1;tollgate-burst=5, "
           "\"per-token\";q=300;w=60, \"quarter\";q=40;w=1;tollgate-burst=10, "
           "\"slow\";q=2;w=3;tollgate-burst=1, \"odd\";q=9;w=1;tollgate-burst=3, "
           "\"fixed\";q=5;w=2, \"sliding\";q=100;w=10, \"deep\";q=10;w=1;tollgate-burst=50\r\n"
           "RateLimit: \"script-writes\";r=4;t=1, \"per-token\";r=299;t=1, \"quarter\";r=9;t=1, "
           "\"slow\";r=0;t=2, \"odd\";r=2;t=1, \"fixed\";r=4;t=2, \"sliding\";r=99;t=20, "
           "\"deep\";r=49;t=1\r\n");
    /* the single-limit dialects: the tightest (slow, nothing left), by its burst */
    expect(DIALECT_BIT(DIALECT_XRATELIMIT), &d,
           "X-RateLimit-Limit: 1\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 2\r\n");
    store_free(s);
    policy_free(p);
}

/* Headers that would not fit the buffer's bound are refused whole. */
static void test_bounded_buffer(void **state)
{
    struct fixture *f = *state;
    limit_decision d;
    buf b;

    f->r.method = request_slice("GET");
    f->r.path = request_slice("/api/v2/users");
    f->r.token = request_slice("t4");
    f->r.org = request_slice("hooli");
    assert_int_equal(limit_decide(f->p, f->s, &f->r, 4000 * S, &d, NULL, NULL), 0);
    buf_init(&b, 40);
    assert_int_equal(buf_append(&b, "X: 1\r\n", 6), 0);
    assert_int_equal(dialect_write(DIALECT_BIT(DIALECT_IETF), &d, WALL, &b), -ENOBUFS);
    assert_int_equal(b.len, 6);
    assert_memory_equal(buf_ptr(&b), "X: 1\r\n", 6);
    buf_free(&b);
}

static void test_names(void **state)
{
    enum dialect_id id;
    char err[200];

    (void)state;
    for (int i = 0; i < DIALECT_COUNT; i++) {
        assert_int_equal(
            dialect_parse(dialect_get((enum dialect_id)i)->name, &id, err, sizeof(err)), 0);
        assert_int_equal(id, i);
    }
    assert_string_equal(dialect_get(DIALECT_XRATELIMIT)->name, "x-ratelimit");
    assert_int_equal(dialect_parse("X-RateLimit", &id, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "dialects: unknown 'X-RateLimit', expected ietf, draft03, "
                             "x-ratelimit, github or inin");
    assert_int_equal(
        dialect_check(DIALECT_BIT(DIALECT_GITHUB) | DIALECT_BIT(DIALECT_IETF), err, sizeof(err)),
        0);
    assert_int_equal(dialect_check(DIALECT_BIT(DIALECT_GITHUB) | DIALECT_BIT(DIALECT_XRATELIMIT),
                                   err, sizeof(err)),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admitted),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_concurrency_items),
        cmocka_unit_test(test_policy_items_state_the_rate),
        cmocka_unit_test(test_bounded_buffer),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
