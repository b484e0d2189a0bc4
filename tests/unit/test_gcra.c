#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/clock.h"
#include "limit/algo.h"
#include "limit/gcra.h"

#define S    CLOCK_NS_PER_S
#define MIN  (60 * S)
#define HOUR (3600 * S)

typedef unsigned __int128 u128;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void params(algo_params *p, uint64_t count, uint64_t period, uint64_t burst)
{
    units_rate r = {count, period};
    char err[128];

    assert_int_equal(algo_params_init(p, ALGO_GCRA, r, burst, 0, err, sizeof(err)), 0);
}

/* Charges `cost` and, if it conforms, commits the new state. */
static algo_verdict charge(const algo_params *p, algo_state *st, uint64_t now, uint64_t cost)
{
    algo_state next;
    algo_verdict v;

    gcra_decide(p, st, now, cost, &next, &v);
    if (v.conforms)
        *st = next;
    else
        assert_memory_equal(&next, st, sizeof(next));
    return v;
}

static void test_default_burst(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t now = 1000 * S;

    (void)state;
    params(&p, 300, MIN, 0); /* 300/min: 300 at once, then one per 200 ms */
    assert_int_equal(p.quota, 300);
    for (int i = 0; i < 300; i++) {
        v = charge(&p, &st, now, 1);
        assert_true(v.conforms);
        assert_int_equal(v.remaining, 299 - i);
    }
    assert_int_equal(v.reset_ns, MIN);
    v = charge(&p, &st, now, 1);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, 200 * CLOCK_NS_PER_MS);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset_ns, MIN);
    v = charge(&p, &st, now + 200 * CLOCK_NS_PER_MS - 1, 1);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, 1);
    v = charge(&p, &st, now + 200 * CLOCK_NS_PER_MS, 1);
    assert_true(v.conforms);
    assert_int_equal(v.remaining, 0);
    /* After a full refill the bucket holds 300, not more. */
    v = charge(&p, &st, now + 10 * MIN, 0);
    assert_true(v.conforms);
    assert_int_equal(v.remaining, 300);
    assert_int_equal(v.reset_ns, 0);
    assert_int_equal(v.full_at, now + 10 * MIN);
}

static void test_burst_and_cost(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t now = 5 * S;

    (void)state;
    params(&p, 20, S, 5); /* 20/s, burst 5: T = 50 ms */
    v = charge(&p, &st, now, 3);
    assert_true(v.conforms);
    assert_int_equal(v.remaining, 2);
    v = charge(&p, &st, now, 3);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, 50 * CLOCK_NS_PER_MS); /* one more unit needed */
    v = charge(&p, &st, now, 2);
    assert_true(v.conforms);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset_ns, 250 * CLOCK_NS_PER_MS);
    v = charge(&p, &st, now, 6); /* above the burst: never */
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, UINT64_MAX);
}

static void test_fractional_interval(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t now = 0;

    (void)state;
    params(&p, 3, S, 0); /* T = 333333333 1/3 ns, burst 3 */
    assert_int_equal(p.t_ns, 333333333);
    assert_int_equal(p.t_frac, 1);
    assert_int_equal(p.tol_ns, S);
    assert_int_equal(p.tol_frac, 0);
    assert_true(charge(&p, &st, now, 3).conforms);
    v = charge(&p, &st, now, 1);
    assert_int_equal(v.wait_ns, 333333334); /* ceil(333333333.33) */
    now += v.wait_ns;
    assert_true(charge(&p, &st, now, 1).conforms);
    /* The 2/3 ns the client waited too long are not lost: TAT stays exact. */
    v = charge(&p, &st, now, 1);
    assert_int_equal(v.wait_ns, 333333333);
    now += v.wait_ns;
    assert_true(charge(&p, &st, now, 1).conforms);
    v = charge(&p, &st, now, 1);
    assert_int_equal(v.wait_ns, 333333333);
    assert_int_equal(now + v.wait_ns, S); /* three intervals end on 1 s exactly */
}

/* A client that sends one unit at a time and, when refused, waits exactly
 * wait_ns: refused one ns earlier, admitted then. */
static void exact_waits(uint64_t count, uint64_t period, uint64_t burst, int admissions)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t start = 77 * S + 12345, now = start, admitted = 0;

    params(&p, count, period, burst);
    while (admitted < (uint64_t)admissions) {
        v = charge(&p, &st, now, 1);
        if (v.conforms) {
            admitted++;
            continue;
        }
        assert_true(v.wait_ns > 0);
        assert_false(charge(&p, &st, now + v.wait_ns - 1, 1).conforms);
        now += v.wait_ns;
    }
    /* admitted = burst + floor(elapsed * count / period), to the unit */
    assert_int_equal(admitted, p.quota + (uint64_t)((u128)(now - start) * count / period));
}

static void test_exact_waits(void **state)
{
    (void)state;
    exact_waits(1, HOUR, 0, 30);
    exact_waits(300, MIN, 0, 5000);
    exact_waits(7, S, 0, 5000);
    exact_waits(3, S, 1, 2000);
    exact_waits(99999, S, 0, 300000);
    exact_waits(100000, S, 10, 20000);
}

/* A client that keeps up for `horizon`: at each visit it takes everything
 * available in one charge, then comes back before anything can be lost (never
 * later than the bucket refills) and never earlier than one unit is ready.
 * Whatever the rate, it is admitted burst + rate * elapsed. */
static void horizon(uint64_t count, uint64_t period, uint64_t burst, uint64_t span)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t start = 3 * HOUR + 987654321, now = start, last = start, admitted = 0, expect;

    params(&p, count, period, burst);
    while (now <= start + span) {
        uint64_t lo, hi;

        last = now;
        v = charge(&p, &st, now, 0);
        if (v.remaining > 0) {
            uint64_t r = v.remaining;

            assert_true(charge(&p, &st, now, r).conforms);
            admitted += r;
        }
        v = charge(&p, &st, now, 1);
        assert_false(v.conforms);
        lo = v.wait_ns;
        v = charge(&p, &st, now, 0);
        hi = v.reset_ns > lo ? v.reset_ns - 1 : lo;
        now += lo + rng() % (hi - lo + 1);
    }
    expect = p.quota + (uint64_t)((u128)(last - start) * count / period);
    assert_true(admitted + 1 >= expect && admitted <= expect + 1);
    assert_int_equal(admitted, expect); /* in fact exact */
}

static void test_horizons(void **state)
{
    static const struct {
        uint64_t count, period;
    } rates[] = {
        {1, HOUR},   {10, HOUR}, {1, MIN},   {300, MIN}, {3000, MIN}, {7, S},
        {3, 10 * S}, {1000, S},  {5, 2 * S}, {99999, S}, {100000, S},
    };
    static const uint64_t spans[] = {S, HOUR, 24 * HOUR};

    (void)state;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        for (size_t j = 0; j < sizeof(spans) / sizeof(spans[0]); j++)
            horizon(rates[i].count, rates[i].period, 0, spans[j]);
    /* explicit bursts, shorter horizons (more visits) */
    horizon(20, S, 5, 60 * S);
    horizon(100000, S, 100, 10 * S);
    horizon(1, MIN, 10, 24 * HOUR);
    horizon(7, S, 3, HOUR);
}

static void test_time_never_runs_backwards_in_state(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;

    (void)state;
    params(&p, 10, S, 0);
    for (int i = 0; i < 10; i++)
        assert_true(charge(&p, &st, 2 * S, 1).conforms);
    /* An older clock reading (another thread's) sees the same bucket, never a fuller one. */
    v = charge(&p, &st, 2 * S - 50 * CLOCK_NS_PER_MS, 1);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, 150 * CLOCK_NS_PER_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_burst),
        cmocka_unit_test(test_burst_and_cost),
        cmocka_unit_test(test_fractional_interval),
        cmocka_unit_test(test_exact_waits),
        cmocka_unit_test(test_horizons),
        cmocka_unit_test(test_time_never_runs_backwards_in_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
