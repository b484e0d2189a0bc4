#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "limit/localstore.h"

#define S CLOCK_NS_PER_S

static algo_params gcra(uint64_t count, uint64_t period, uint64_t burst)
{
    algo_params p;
    units_rate r = {count, period};
    char err[128];

    assert_int_equal(algo_params_init(&p, ALGO_GCRA, r, burst, 0, err, sizeof(err)), 0);
    return p;
}

static store_item item(const algo_params *p, const char *key, uint64_t cost)
{
    store_item it = {p, key, strlen(key), cost, 0};

    return it;
}

/* Remaining units of one key, without charging. */
static uint64_t remaining(limit_store *s, const algo_params *p, const char *key, uint64_t now)
{
    store_item it = item(p, key, 0);
    algo_verdict v;
    bool ok;

    assert_int_equal(store_decide(s, &it, 1, now, &v, &ok, NULL, NULL), 0);
    assert_true(ok);
    return v.remaining;
}

static void test_all_or_nothing(void **state)
{
    limit_store *s;
    algo_params wide = gcra(1, 3600 * S, 1000), narrow = gcra(1, 3600 * S, 700);
    store_item items[2] = {item(&wide, "wide", 1), item(&narrow, "narrow", 1)};
    algo_verdict v[2];
    bool ok;
    int admitted = 0;

    (void)state;
    assert_int_equal(localstore_new(&s, 0), 0);
    for (int i = 0; i < 800; i++) {
        assert_int_equal(store_decide(s, items, 2, 10 * S, v, &ok, NULL, NULL), 0);
        admitted += ok;
        if (!ok) {
            /* the wide limit alone would admit, and reports its uncharged state */
            assert_true(v[0].conforms);
            assert_false(v[1].conforms);
            assert_int_equal(v[0].remaining, 300);
            assert_int_equal(v[1].remaining, 0);
            assert_int_equal(v[1].wait_ns, 3600 * S);
        }
    }
    assert_int_equal(admitted, 700);
    assert_int_equal(remaining(s, &wide, "wide", 10 * S), 300);
    assert_int_equal(store_keys(s), 2);
    store_free(s);
}

static void test_release(void **state)
{
    limit_store *s;
    algo_params cap;
    units_rate none = {0, 0};
    char err[128];
    store_item it;
    algo_verdict v;
    bool ok;

    (void)state;
    assert_int_equal(algo_params_init(&cap, ALGO_CONCURRENCY, none, 0, 2, err, sizeof(err)), 0);
    it = item(&cap, "summary", 1);
    assert_int_equal(localstore_new(&s, 100), 0);
    /* a release for a key never seen is harmless and creates nothing */
    assert_int_equal(store_release(s, &it, 1), 0);
    assert_int_equal(store_keys(s), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_decide(s, &it, 1, 1, &v, &ok, NULL, NULL), 0);
        assert_true(ok);
    }
    assert_int_equal(store_decide(s, &it, 1, 1, &v, &ok, NULL, NULL), 0);
    assert_false(ok);
    assert_int_equal(store_release(s, &it, 2), 0);
    assert_int_equal(store_decide(s, &it, 1, 2, &v, &ok, NULL, NULL), 0);
    assert_true(ok);
    assert_int_equal(v.remaining, 0);
    /* more releases than acquisitions never go below zero */
    for (int i = 0; i < 5; i++)
        assert_int_equal(store_release(s, &it, 3), 0);
    it.cost = 0;
    assert_int_equal(store_decide(s, &it, 1, 3, &v, &ok, NULL, NULL), 0);
    assert_int_equal(v.remaining, 2);
    store_free(s);
}

static void test_too_many(void **state)
{
    limit_store *s;
    algo_params p = gcra(1, S, 1);
    store_item items[STORE_MAX_ITEMS + 1];
    algo_verdict v[STORE_MAX_ITEMS + 1];
    char keys[STORE_MAX_ITEMS + 1][8];
    bool ok;

    (void)state;
    assert_int_equal(localstore_new(&s, 64), 0);
    for (int i = 0; i <= STORE_MAX_ITEMS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        items[i] = item(&p, keys[i], 1);
    }
    assert_int_equal(store_decide(s, items, STORE_MAX_ITEMS + 1, 1, v, &ok, NULL, NULL), -E2BIG);
    /* 32 keys in a 64-key store (one shard): all fit, all charged */
    assert_int_equal(store_decide(s, items, STORE_MAX_ITEMS, 1, v, &ok, NULL, NULL), 0);
    assert_true(ok);
    assert_int_equal(store_keys(s), STORE_MAX_ITEMS);
    store_free(s);
}

/* Threads deciding at once on shared keys: totals stay exact, and a rejected
 * decision charges nothing, whatever the interleaving. Each thread charges
 * the shared "wide" (burst 1000000) and "narrow" (burst 50000) limits plus its
 * own limit, in an order that differs per thread (so lock ordering is
 * exercised), with costs 1-3, under a frozen clock. */
#define THREADS  4
#define ATTEMPTS 20000
#define NARROW   50000

static pthread_barrier_t start_line;

struct worker {
    limit_store *s;
    const algo_params *wide, *narrow, *own;
    char own_key[16];
    int id;
    uint64_t charged; /* units admitted */
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    uint64_t x = 88172645463325252ULL + (uint64_t)w->id;

    pthread_barrier_wait(&start_line);
    for (int i = 0; i < ATTEMPTS; i++) {
        uint64_t cost;
        store_item items[3];
        algo_verdict v[3];
        bool ok;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cost = 1 + x % 3;
        items[(w->id + 0) % 3] = item(w->wide, "wide", cost);
        items[(w->id + 1) % 3] = item(w->narrow, "narrow", cost);
        items[(w->id + 2) % 3] = item(w->own, w->own_key, cost);
        assert_int_equal(store_decide(w->s, items, 3, 5 * S, v, &ok, NULL, NULL), 0);
        if (ok)
            w->charged += cost;
    }
    return NULL;
}

static void test_threads(void **state)
{
    limit_store *s;
    algo_params wide = gcra(1, 60 * S, 1000000), narrow = gcra(1, 60 * S, NARROW);
    algo_params own = gcra(1, 60 * S, 1000000);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    uint64_t total = 0;

    (void)state;
    assert_int_equal(localstore_new(&s, 0), 0);
    assert_int_equal(pthread_barrier_init(&start_line, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].s = s;
        w[i].wide = &wide;
        w[i].narrow = &narrow;
        w[i].own = &own;
        w[i].id = i;
        snprintf(w[i].own_key, sizeof(w[i].own_key), "own-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        total += w[i].charged;
    }
    /* The narrow limit ends up full to within one request of the largest
     * cost (a cost-3 request may not fit the last 1 or 2 units)... */
    assert_true(total <= NARROW && total >= NARROW - 2);
    /* ...and every limit was charged exactly the same units. */
    assert_int_equal(remaining(s, &narrow, "narrow", 5 * S), NARROW - total);
    assert_int_equal(remaining(s, &wide, "wide", 5 * S), 1000000 - total);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(remaining(s, &own, w[i].own_key, 5 * S), 1000000 - w[i].charged);
    pthread_barrier_destroy(&start_line);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
