#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "limit/limit.h"
#include "limit/localstore.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

static void add(limit_policy *p, const char *name, const char *path, const char *const *scope,
                size_t nscope, units_rate rate, uint64_t burst, uint64_t conc)
{
    policy_spec s;
    char err[200];

    memset(&s, 0, sizeof(s));
    s.name = name;
    s.path = path;
    s.scope = scope;
    s.nscope = nscope;
    s.rate = rate;
    s.burst = burst;
    s.concurrency = conc;
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
}

static limit_request req(const char *method, const char *path, const char *token, const char *org)
{
    limit_request r;

    memset(&r, 0, sizeof(r));
    r.method = request_slice(method);
    r.path = request_slice(path);
    r.token = request_slice(token);
    r.org = request_slice(org);
    return r;
}

static const char *const TOKEN[] = {"token"};
static const char *const ORG[] = {"org"};

static void test_rejected_charges_nothing(void **state)
{
    limit_policy *p;
    limit_store *s;
    limit_decision d;
    limit_request r = req("GET", "/api/v2/users", "t1", "acme");

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    add(p, "per-token", "/api/**", TOKEN, 1, (units_rate){5, 60 * S}, 0, 0);
    add(p, "per-org", "/api/**", ORG, 1, (units_rate){3, 60 * S}, 0, 0);
    add(p, "elsewhere", "/other/**", NULL, 0, (units_rate){1, 60 * S}, 0, 0);
    assert_int_equal(localstore_new(&s, 0), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
        assert_true(d.admitted);
        assert_int_equal(d.n, 2);
        assert_string_equal(d.limits[0]->name, "per-token");
        assert_string_equal(d.limits[1]->name, "per-org");
        assert_int_equal(d.retry_after_s, 0);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
        assert_false(d.admitted);
        assert_int_equal(d.nviolated, 1);
        assert_true(d.v[0].conforms);
        assert_int_equal(d.v[0].remaining, 2); /* the token limit was not charged */
        assert_false(d.v[1].conforms);
        assert_int_equal(d.wait_ns, 20 * S);
        assert_int_equal(d.retry_after_s, 20);
        assert_int_equal(limit_tightest(&d), 1);
    }
    /* another org, same token: the token still has its 2 */
    r.org = request_slice("globex");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
        assert_true(d.admitted);
    }
    assert_int_equal(d.v[0].remaining, 0);
    assert_int_equal(limit_tightest(&d), 0);
    assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
    assert_false(d.admitted);
    assert_int_equal(d.nviolated, 1);
    assert_int_equal(d.wait_ns, 12 * S);
    /* no limit applies */
    r.path = request_slice("/health");
    assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    assert_int_equal(d.n, 0);
    assert_int_equal(limit_tightest(&d), -1);
    store_free(s);
    policy_free(p);
}

/* Retry-After is the exact wait rounded up to whole seconds, at least 1; a
 * client that waits exactly that long is admitted, and so is one that waits
 * exactly wait_ns, while one that comes back 1 ns earlier is not. */
static void test_retry_after_is_enough(void **state)
{
    /* rate and burst (0: the rate's count) of the limit under test */
    static const struct {
        units_rate rate;
        uint64_t burst;
    } rates[] = {
        {{3, S}, 0},      {{300, 60 * S}, 0}, {{20, S}, 5},
        {{7, 10 * S}, 0}, {{1, 3600 * S}, 0}, {{100000, S}, 100},
    };
    limit_policy *p;
    limit_store *s;
    limit_decision d;
    limit_request r = req("PUT", "/api/v2/scripts/1", "t1", "acme");

    (void)state;
    for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
        uint64_t now = 1000 * S + 123456789;
        int rejected = 0;

        assert_int_equal(policy_new(&p), 0);
        add(p, "writes", "/api/v2/scripts/{id}", TOKEN, 1, rates[k].rate, rates[k].burst, 0);
        add(p, "org", "/api/**", ORG, 1,
            (units_rate){rates[k].rate.count * 2, rates[k].rate.period_ns},
            rates[k].burst != 0 ? rates[k].burst : rates[k].rate.count, 0);
        assert_int_equal(localstore_new(&s, 0), 0);
        while (rejected < 50) {
            uint64_t wait, retry_after;

            assert_int_equal(limit_decide(p, s, &r, now, &d, NULL, NULL), 0);
            if (d.admitted)
                continue;
            rejected++;
            wait = d.wait_ns;
            retry_after = d.retry_after_s;
            assert_true(retry_after >= 1);
            assert_int_equal(retry_after, wait / S + (wait % S != 0) + (wait == 0));
            assert_int_equal(limit_decide(p, s, &r, now + wait - 1, &d, NULL, NULL), 0);
            assert_false(d.admitted);
            if (rejected % 2 == 0) {
                now += wait;
            } else {
                now += retry_after * S;
            }
            assert_int_equal(limit_decide(p, s, &r, now, &d, NULL, NULL), 0);
            assert_true(d.admitted);
        }
        store_free(s);
        policy_free(p);
    }
}

static void test_anonymous_share_one_budget(void **state)
{
    limit_policy *p;
    limit_store *s;
    limit_decision d;
    limit_request anon1 = req("GET", "/x", NULL, NULL), anon2 = req("GET", "/y", NULL, NULL);
    limit_request known = req("GET", "/x", "t1", NULL);

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    add(p, "per-token", NULL, TOKEN, 1, (units_rate){2, 60 * S}, 0, 0);
    assert_int_equal(localstore_new(&s, 0), 0);
    anon1.ip = request_slice("10.0.0.1");
    anon2.ip = request_slice("10.0.0.2");
    assert_int_equal(limit_decide(p, s, &anon1, S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    assert_int_equal(limit_decide(p, s, &anon2, S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    assert_int_equal(limit_decide(p, s, &anon1, S, &d, NULL, NULL), 0);
    assert_false(d.admitted); /* the limit applies: no escape by sending no token */
    assert_int_equal(limit_decide(p, s, &known, S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    assert_int_equal(d.v[0].remaining, 1);
    store_free(s);
    policy_free(p);
}

static void test_concurrency(void **state)
{
    limit_policy *p;
    limit_store *s;
    limit_decision d1, d2, d3;
    limit_request r = req("GET", "/summary", "t1", "acme");

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    add(p, "summary-cap", "/summary", ORG, 1, (units_rate){0, 0}, 0, 2);
    add(p, "per-token", NULL, TOKEN, 1, (units_rate){100, S}, 0, 0);
    assert_int_equal(localstore_new(&s, 0), 0);
    assert_int_equal(limit_decide(p, s, &r, S, &d1, NULL, NULL), 0);
    assert_int_equal(limit_decide(p, s, &r, S, &d2, NULL, NULL), 0);
    assert_true(d1.admitted && d2.admitted);
    assert_int_equal(d1.nholds, 1);
    assert_true(d1.holds[0].held);
    assert_int_equal(d2.v[0].remaining, 0);
    assert_int_equal(limit_decide(p, s, &r, S, &d3, NULL, NULL), 0);
    assert_false(d3.admitted);
    assert_int_equal(d3.wait_ns, 0);
    assert_int_equal(d3.retry_after_s, 1);
    assert_false(d3.holds[0].held);
    assert_int_equal(d3.v[1].remaining, 98); /* the rate limit was not charged */
    limit_release(s, &d3, S);                /* a rejected decision holds nothing */
    limit_release(s, &d1, S);
    assert_false(d1.holds[0].held);
    limit_release(s, &d1, S); /* twice is harmless */
    assert_int_equal(limit_decide(p, s, &r, S, &d3, NULL, NULL), 0);
    assert_true(d3.admitted);
    assert_int_equal(d3.v[0].remaining, 0);
    limit_release(s, &d2, S);
    limit_release(s, &d3, S);
    assert_int_equal(limit_decide(p, s, &r, S, &d1, NULL, NULL), 0);
    assert_int_equal(d1.v[0].remaining, 1);
    limit_release(s, &d1, S);
    store_free(s);
    policy_free(p);
}

/* A store that answers later, as a Redis store will: it decides through a
 * local store but reports -EINPROGRESS and calls back when told to. */
struct later {
    limit_store base;
    limit_store *inner;
    store_cb cb;
    void *arg;
    int status;
};

static int later_decide(limit_store *s, const store_item *items, size_t n, uint64_t now,
                        algo_verdict *out, bool *admitted, store_cb cb, void *arg)
{
    struct later *l = (struct later *)s;

    l->status = store_decide(l->inner, items, n, now, out, admitted, NULL, NULL);
    l->cb = cb;
    l->arg = arg;
    return -EINPROGRESS;
}

static int later_release(limit_store *s, const store_item *item, uint64_t now)
{
    return store_release(((struct later *)s)->inner, item, now);
}

static uint64_t later_keys(limit_store *s)
{
    return store_keys(((struct later *)s)->inner);
}

static void later_free(limit_store *s)
{
    (void)s;
}

static const store_ops later_ops = {"later", later_decide, later_release, later_keys, later_free};

static int done_calls;

static void done(void *arg, int status)
{
    limit_decision *d = arg;

    assert_int_equal(status, 0);
    assert_false(d->admitted);
    assert_int_equal(d->retry_after_s, 30); /* finished before the callback runs */
    done_calls++;
}

static void test_async_store(void **state)
{
    limit_policy *p;
    struct later l;
    limit_decision d;
    limit_request r = req("GET", "/x", "t1", NULL);

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    add(p, "per-token", NULL, TOKEN, 1, (units_rate){2, 60 * S}, 0, 0);
    memset(&l, 0, sizeof(l));
    l.base.ops = &later_ops;
    assert_int_equal(localstore_new(&l.inner, 0), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(limit_decide(p, &l.base, &r, S, &d, NULL, NULL), -EINPROGRESS);
        l.cb(l.arg, l.status);
        assert_true(d.admitted);
    }
    assert_int_equal(limit_decide(p, &l.base, &r, S, &d, done, &d), -EINPROGRESS);
    assert_int_equal(done_calls, 0);
    l.cb(l.arg, l.status);
    assert_int_equal(done_calls, 1);
    assert_int_equal(store_keys(&l.base), 1);
    store_free(l.inner);
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejected_charges_nothing),
        cmocka_unit_test(test_retry_after_is_enough),
        cmocka_unit_test(test_anonymous_share_one_budget),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_async_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
