#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "limit/algo.h"
#include "limit/window.h"

#define S    CLOCK_NS_PER_S
#define MIN  (60 * S)
#define HOUR (3600 * S)

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void params(algo_params *p, enum algo_kind kind, uint64_t count, uint64_t period)
{
    units_rate r = {count, period};
    char err[128];

    assert_int_equal(algo_params_init(p, kind, r, 0, 0, err, sizeof(err)), 0);
}

static algo_verdict charge(const algo_params *p, algo_state *st, uint64_t now, uint64_t cost)
{
    algo_state next;
    algo_verdict v;

    if (p->kind == ALGO_FIXED_WINDOW)
        window_fixed_decide(p, st, now, cost, &next, &v);
    else
        window_sliding_decide(p, st, now, cost, &next, &v);
    if (v.conforms)
        *st = next;
    else
        assert_memory_equal(&next, st, sizeof(next));
    return v;
}

static void test_fixed_double_burst(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t boundary = 100 * MIN;

    (void)state;
    params(&p, ALGO_FIXED_WINDOW, 100, MIN);
    /* 100 in the last nanosecond of one window, 100 in the first of the next. */
    for (int i = 0; i < 100; i++)
        assert_true(charge(&p, &st, boundary - 1, 1).conforms);
    v = charge(&p, &st, boundary - 1, 1);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, 1);
    assert_int_equal(v.reset_ns, 1);
    for (int i = 0; i < 100; i++) {
        v = charge(&p, &st, boundary, 1);
        assert_true(v.conforms);
    }
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset_ns, MIN);
    v = charge(&p, &st, boundary, 1);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, MIN);
    assert_int_equal(v.full_at, boundary + MIN);
    /* 200 admitted within 2 ns: the documented double burst. */
}

/* A fixed-window client that visits every window at least once and takes
 * everything there is: quota units per window touched, exactly. */
static void fixed_horizon(uint64_t count, uint64_t period, uint64_t span)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t start = 5 * HOUR + 4321, now = start, last = start, admitted = 0, windows;

    params(&p, ALGO_FIXED_WINDOW, count, period);
    while (now <= start + span) {
        last = now;
        v = charge(&p, &st, now, 0);
        if (v.remaining > 0) {
            uint64_t r = v.remaining;

            assert_true(charge(&p, &st, now, r).conforms);
            admitted += r;
        }
        v = charge(&p, &st, now, 1);
        assert_false(v.conforms);
        assert_false(charge(&p, &st, now + v.wait_ns - 1, 1).conforms);
        now += 1 + rng() % period;
    }
    windows = last / period - start / period + 1;
    assert_int_equal(admitted, count * windows);
}

static void test_fixed_horizons(void **state)
{
    (void)state;
    fixed_horizon(1, HOUR, 24 * HOUR);
    fixed_horizon(300, MIN, 24 * HOUR);
    fixed_horizon(100000, S, 24 * HOUR);
    fixed_horizon(7, 3 * S, HOUR);
    fixed_horizon(5, 2 * S, S);
}

/* A sliding-window client that takes everything at the last nanosecond of
 * each window: the previous window still weighs 1/P then, so it gets quota
 * in its first window and quota - 1 in each later one (quota 1: every other
 * window). */
static void sliding_horizon(uint64_t count, uint64_t period, uint64_t span)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t k0 = 1000, k, admitted = 0, prev = 0, expect = 0;

    params(&p, ALGO_SLIDING_WINDOW, count, period);
    for (k = k0; (k - k0) * period <= span; k++) {
        uint64_t now = (k + 1) * period - 1, got = 0;

        v = charge(&p, &st, now, 0);
        if (v.remaining > 0) {
            got = v.remaining;
            assert_true(charge(&p, &st, now, got).conforms);
        }
        v = charge(&p, &st, now, 1);
        assert_false(v.conforms);
        assert_false(charge(&p, &st, now + v.wait_ns - 1, 1).conforms);
        /* the window's allowance: quota minus the previous window's weight
         * prev * 1/P rounded up */
        assert_int_equal(got, prev == 0 ? count : count - 1);
        expect += prev == 0 ? count : count - 1;
        admitted += got;
        prev = got;
    }
    assert_int_equal(admitted, expect);
}

static void test_sliding_horizons(void **state)
{
    (void)state;
    sliding_horizon(1, HOUR, 24 * HOUR);
    sliding_horizon(300, MIN, 24 * HOUR);
    sliding_horizon(100000, S, 24 * HOUR);
    sliding_horizon(5, 2 * S, HOUR);
}

static void test_sliding_weights(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;
    uint64_t w = 10 * MIN; /* a window start */

    (void)state;
    params(&p, ALGO_SLIDING_WINDOW, 100, MIN);
    assert_true(charge(&p, &st, w + 30 * S, 80).conforms);
    /* next window, a quarter in: 80 * 3/4 = 60 still weigh, 40 remain */
    v = charge(&p, &st, w + MIN + 15 * S, 0);
    assert_int_equal(v.remaining, 40);
    assert_int_equal(v.reset_ns, 45 * S);
    v = charge(&p, &st, w + MIN + 15 * S, 41);
    assert_false(v.conforms);
    /* 80 * (60 - e) / 60 <= 59 needs e >= 15.75 s */
    assert_int_equal(v.wait_ns, 750 * CLOCK_NS_PER_MS);
    assert_true(charge(&p, &st, w + MIN + 15 * S + v.wait_ns, 41).conforms);
    /* 41 now in the current window: full again only two windows on */
    v = charge(&p, &st, w + MIN + 20 * S, 0);
    assert_int_equal(v.full_at, w + 3 * MIN);
    /* more than this window can hold: wait into the next ones */
    v = charge(&p, &st, w + MIN + 20 * S, 60);
    assert_false(v.conforms);
    /* next window: 41 * (60 - e) / 60 + 60 <= 100, e >= 1.4634... s -> 1463414635 ns */
    assert_int_equal(v.wait_ns, 40 * S + 1463414635);
    assert_false(charge(&p, &st, w + MIN + 20 * S + v.wait_ns - 1, 60).conforms);
    assert_true(charge(&p, &st, w + MIN + 20 * S + v.wait_ns, 60).conforms);
}

/* The documented bound: every aligned window admits at most quota, every span
 * of length P at most 2 * quota - 1, and that worst case is reached. */
static void test_sliding_error_bound(void **state)
{
    const uint64_t q = 10, len = 1000;
    algo_params p;
    algo_state st = {0, 0};
    uint64_t *times = malloc(200000 * sizeof(*times));
    size_t n = 0, lo = 0, worst = 0, per_window = 0;
    uint64_t now = 50 * len, win = now / len;

    (void)state;
    assert_non_null(times);
    params(&p, ALGO_SLIDING_WINDOW, q, len);
    while (n < 200000 && now < 4000000) {
        uint64_t cost = 1 + rng() % 3;

        if (charge(&p, &st, now, cost).conforms) {
            if (now / len != win) {
                win = now / len;
                per_window = 0;
            }
            per_window += cost;
            assert_true(per_window <= q);
            for (uint64_t c = 0; c < cost; c++)
                times[n++] = now;
        }
        /* bursts and lulls, some right at window ends */
        switch (rng() % 4) {
        case 0:
            now += rng() % 3;
            break;
        case 1:
            now += rng() % (2 * len);
            break;
        case 2:
            now = (now / len + 2) * len - 1 - rng() % 4;
            break;
        default:
            now += rng() % 97;
        }
    }
    for (size_t hi = 0; hi < n; hi++) {
        while (times[lo] + len <= times[hi])
            lo++;
        if (hi - lo + 1 > worst)
            worst = hi - lo + 1;
    }
    assert_true(worst <= 2 * q - 1);
    assert_true(worst > q); /* the random walk did cross window ends with bursts */
    free(times);

    /* The worst case: q at the end of a window that follows an empty one,
     * then q - 1 two ns before the end of the next: 2q - 1 within P. */
    memset(&st, 0, sizeof(st));
    assert_true(charge(&p, &st, 8 * len - 1, q).conforms);
    assert_true(charge(&p, &st, 9 * len - 2, q - 1).conforms);
    assert_false(charge(&p, &st, 9 * len - 2, 1).conforms);
}

static void test_backwards_clock(void **state)
{
    algo_params p;
    algo_state st = {0, 0};
    algo_verdict v;

    (void)state;
    params(&p, ALGO_FIXED_WINDOW, 2, S);
    assert_true(charge(&p, &st, 10 * S, 2).conforms);
    /* a reading from just before the window started counts in that window */
    v = charge(&p, &st, 10 * S - 5, 1);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, S + 5);
    params(&p, ALGO_SLIDING_WINDOW, 2, S);
    memset(&st, 0, sizeof(st));
    assert_true(charge(&p, &st, 10 * S, 2).conforms);
    v = charge(&p, &st, 10 * S - 5, 1);
    assert_false(v.conforms);
    assert_int_equal(v.remaining, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_double_burst),  cmocka_unit_test(test_fixed_horizons),
        cmocka_unit_test(test_sliding_horizons),    cmocka_unit_test(test_sliding_weights),
        cmocka_unit_test(test_sliding_error_bound), cmocka_unit_test(test_backwards_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
