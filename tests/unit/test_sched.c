#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "run/sched.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

static units_rate rate(uint64_t count, uint64_t period_ns)
{
    units_rate r = {count, period_ns};
    return r;
}

/* ---- thread-group ---- */

static void test_tg_ramp_up_starts(void **state)
{
    sched_thread_group tg = {.threads = 150, .ramp_up_ns = 60 * S, .loops = 1};
    sched_thread_group odd = {.threads = 7, .ramp_up_ns = 1 * S, .loops = 1};
    char err[128];

    (void)state;
    assert_int_equal(sched_tg_check(&tg, err, sizeof(err)), 0);
    assert_int_equal(sched_tg_start(&tg, 0), 0);
    assert_int_equal(sched_tg_start(&tg, 1), 400 * MS);
    assert_int_equal(sched_tg_start(&tg, 149), 59600 * MS);
    assert_int_equal(sched_tg_start(&odd, 3), 428571428);
    assert_int_equal(sched_tg_start(&odd, 6), 857142857);

    /* started(now) agrees with counting the start times one by one. */
    for (uint64_t now = 0; now < 2 * S; now += 7919 * CLOCK_NS_PER_US) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < odd.threads; i++)
            n += sched_tg_start(&odd, i) <= now;
        assert_int_equal(sched_tg_started(&odd, now), n);
    }
    assert_int_equal(sched_tg_started(&odd, 428571427), 3);
    assert_int_equal(sched_tg_started(&odd, 428571428), 4);
    assert_int_equal(sched_tg_started(&tg, 0), 1);
    assert_int_equal(sched_tg_started(&tg, 400 * MS - 1), 1);
    assert_int_equal(sched_tg_started(&tg, 400 * MS), 2);
}

static void test_tg_loops_and_think_time(void **state)
{
    sched_thread_group tg = {
        .threads = 4, .ramp_up_ns = 2 * S, .loops = 3, .think_time_ns = 100 * MS};
    sched_thread th;

    (void)state;
    sched_thread_init(&th, 2);
    /* First iteration at the thread's ramp-up start, even if asked early. */
    assert_int_equal(sched_tg_next(&tg, &th, 0, 1), 1 * S);
    /* Then think_time after each iteration's end. */
    assert_int_equal(sched_tg_next(&tg, &th, 1 * S + 30 * MS, 1), 1 * S + 130 * MS);
    assert_int_equal(sched_tg_next(&tg, &th, 2 * S, 1), 2 * S + 100 * MS);
    assert_int_equal(th.iterations, 3);
    assert_int_equal(sched_tg_next(&tg, &th, 3 * S, 1), SCHED_END);
    assert_int_equal(th.iterations, 3);
}

static void test_tg_duration(void **state)
{
    sched_thread_group tg = {.threads = 10, .ramp_up_ns = 10 * S, .duration_ns = 5 * S};
    sched_thread late, th;
    uint64_t t = 0;
    int n = 0;

    (void)state;
    /* Thread 5 would start at 5 s, which is the end: it never runs. */
    sched_thread_init(&late, 5);
    assert_int_equal(sched_tg_next(&tg, &late, 0, 1), SCHED_END);
    sched_thread_init(&th, 4);
    assert_int_equal(sched_tg_next(&tg, &th, 0, 1), 4 * S);
    /* Iterations of 300 ms back to back: 4.0, 4.3, 4.6, 4.9 start; 5.2 does not. */
    t = 4 * S;
    while ((t = sched_tg_next(&tg, &th, t + 300 * MS, 1)) != SCHED_END)
        n++;
    assert_int_equal(n, 3);
    assert_int_equal(th.iterations, 4);
    assert_int_equal(sched_tg_check(&(sched_thread_group){.threads = 1}, NULL, 0), -EINVAL);
}

/* ---- constant-throughput timer ---- */

static void test_ctt_paces_and_never_catches_up(void **state)
{
    sched_ctt c = {.rate = rate(600, 60 * S), .per = SCHED_CTT_THIS_THREAD};
    uint64_t last = SCHED_END;

    (void)state;
    assert_int_equal(sched_ctt_interval(&c, 20), 100 * MS);
    /* Fast responses (5 ms): the timer holds each start 100 ms after the last. */
    assert_int_equal(sched_ctt_next(&c, &last, 0, 1), 0);
    assert_int_equal(sched_ctt_next(&c, &last, 5 * MS, 1), 100 * MS);
    assert_int_equal(sched_ctt_next(&c, &last, 105 * MS, 1), 200 * MS);
    /* A 350 ms response: ready at 550 ms, 250 ms late. It starts at once... */
    assert_int_equal(sched_ctt_next(&c, &last, 550 * MS, 1), 550 * MS);
    /* ...and the following starts keep the full interval from there: no burst
     * at 300, 400, 500 ms to make up for the missed slots. */
    assert_int_equal(sched_ctt_next(&c, &last, 555 * MS, 1), 650 * MS);
    assert_int_equal(sched_ctt_next(&c, &last, 655 * MS, 1), 750 * MS);
    /* Ready exactly on time. */
    assert_int_equal(sched_ctt_next(&c, &last, 850 * MS, 1), 850 * MS);
}

static void test_ctt_lateness_not_compensated_over_time(void **state)
{
    sched_ctt c = {.rate = rate(10, S), .per = SCHED_CTT_THIS_THREAD};
    uint64_t last = SCHED_END, ready = 0, starts = 0, t;

    (void)state;
    /* Every tenth response takes 1 s, the others 1 ms. A timer that caught up
     * would still start 1000 iterations in 100 s. This one loses the slots it
     * missed: cycles of 10 starts take 0.9 s + 1 s = 1.9 s, and 53 cycles
     * start before 100 s (the 54th would begin at 100.7 s): 530 starts. */
    for (;;) {
        t = sched_ctt_next(&c, &last, ready, 1);
        if (t >= 100 * S)
            break;
        assert_int_equal(t, (starts / 10) * 1900 * MS + (starts % 10) * 100 * MS);
        starts++;
        ready = t + ((starts % 10 == 0) ? 1 * S : 1 * MS);
    }
    assert_int_equal(starts, 530);
}

static void test_ctt_shared_by_active_threads(void **state)
{
    sched_ctt c = {.rate = rate(10, S), .per = SCHED_CTT_ALL_ACTIVE_THREADS};
    sched_ctt odd = {.rate = rate(3, S), .per = SCHED_CTT_THIS_THREAD};
    sched_ctt none = {.rate = rate(0, 0)};
    uint64_t last = 1 * S;

    (void)state;
    assert_int_equal(sched_ctt_interval(&c, 20), 2 * S);
    assert_int_equal(sched_ctt_interval(&c, 1), 100 * MS);
    assert_int_equal(sched_ctt_interval(&c, 0), 100 * MS);
    /* Rounded up: a thread never exceeds its rate. */
    assert_int_equal(sched_ctt_interval(&odd, 1), 333333334);
    /* With 5 active threads each waits 500 ms after its last start. */
    assert_int_equal(sched_ctt_next(&c, &last, 1 * S + 10 * MS, 5), 1500 * MS);
    assert_int_equal(sched_ctt_next(&none, &last, 7, 5), 7);
}

static void test_tg_with_timer_and_think_time(void **state)
{
    /* JMeter adds timers: the throughput timer releases, then think time. */
    sched_thread_group tg = {.threads = 1,
                             .loops = 10,
                             .think_time_ns = 20 * MS,
                             .ctt = {.rate = rate(10, S), .per = SCHED_CTT_THIS_THREAD}};
    sched_thread th;

    (void)state;
    sched_thread_init(&th, 0);
    assert_int_equal(sched_tg_next(&tg, &th, 0, 1), 0);
    /* Ready at 50 ms: the timer releases at 100 ms, think time adds 20 ms. */
    assert_int_equal(sched_tg_next(&tg, &th, 50 * MS, 1), 120 * MS);
    /* The timer measures from its own release (100 ms), not the start. */
    assert_int_equal(sched_tg_next(&tg, &th, 150 * MS, 1), 220 * MS);
    /* Late: ready at 500 ms, released at once. */
    assert_int_equal(sched_tg_next(&tg, &th, 500 * MS, 1), 520 * MS);
}

/* ---- constant-vus and ramping-vus ---- */

static void test_constant_vus(void **state)
{
    sched_vus s;
    char err[128];

    (void)state;
    assert_int_equal(sched_vus_init_constant(&s, 20, 30 * S, err, sizeof(err)), 0);
    assert_int_equal(s.max_vus, 20);
    assert_int_equal(sched_vus_target(&s, 0), 20);
    assert_int_equal(sched_vus_target(&s, 30 * S - 1), 20);
    assert_int_equal(sched_vus_target(&s, 30 * S), 0);
    assert_true(sched_vus_active(&s, 19, 0));
    assert_false(sched_vus_active(&s, 20, 0));
    assert_int_equal(sched_vus_next_change(&s, 0), 30 * S);
    assert_int_equal(sched_vus_next_change(&s, 30 * S), SCHED_END);
    assert_int_equal(sched_vus_inactive_at(&s, 3, 5 * S), 30 * S);
    sched_vus_free(&s);
    assert_int_equal(sched_vus_init_constant(&s, 0, 30 * S, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "constant-vus: vus must be at least 1");
}

static void test_ramping_vus_steps(void **state)
{
    sched_stage st[] = {{10 * S, 10}, {5 * S, 10}, {10 * S, 0}};
    sched_vus s;

    (void)state;
    assert_int_equal(sched_vus_init_ramping(&s, 0, st, 3, NULL, 0), 0);
    assert_int_equal(s.duration_ns, 25 * S);
    assert_int_equal(s.max_vus, 10);
    assert_int_equal(sched_vus_target(&s, 0), 0);
    assert_int_equal(sched_vus_target(&s, 1 * S - 1), 0);
    assert_int_equal(sched_vus_target(&s, 1 * S), 1);
    assert_int_equal(sched_vus_target(&s, 10 * S - 1), 9);
    assert_int_equal(sched_vus_target(&s, 10 * S), 10);
    assert_int_equal(sched_vus_target(&s, 15 * S), 10);
    /* Down: a VU goes once the line reaches the number below it. */
    assert_int_equal(sched_vus_target(&s, 16 * S - 1), 10);
    assert_int_equal(sched_vus_target(&s, 16 * S), 9);
    assert_int_equal(sched_vus_target(&s, 25 * S - 1), 1);
    assert_int_equal(sched_vus_target(&s, 25 * S), 0);

    assert_int_equal(sched_vus_next_change(&s, 0), 1 * S);
    assert_int_equal(sched_vus_next_change(&s, 9500 * MS), 10 * S);
    assert_int_equal(sched_vus_next_change(&s, 10 * S), 16 * S);
    assert_int_equal(sched_vus_next_change(&s, 24500 * MS), 25 * S);
    assert_int_equal(sched_vus_next_change(&s, 25 * S), SCHED_END);

    /* The highest VUs go first. */
    assert_int_equal(sched_vus_inactive_at(&s, 9, 12 * S), 16 * S);
    assert_int_equal(sched_vus_inactive_at(&s, 5, 12 * S), 20 * S);
    assert_int_equal(sched_vus_inactive_at(&s, 0, 12 * S), 25 * S);
    assert_int_equal(sched_vus_inactive_at(&s, 3, 1 * S), 1 * S); /* not yet started */
    assert_int_equal(sched_vus_inactive_at(&s, 3, 4 * S), 22 * S);
    sched_vus_free(&s);
}

static void test_ramping_vus_uneven_and_jumps(void **state)
{
    /* 0 -> 3 over 10 s: k6 adds VU n at ceil(n * 10 s / 3). A zero-length
     * stage is a jump; a later ramp starts from the jumped-to count. */
    sched_stage st[] = {{10 * S, 3}, {0, 8}, {4 * S, 8}, {3 * S, 5}};
    sched_vus s;
    uint64_t t;

    (void)state;
    assert_int_equal(sched_vus_init_ramping(&s, 0, st, 4, NULL, 0), 0);
    assert_int_equal(sched_vus_next_change(&s, 0), 3333333334);
    assert_int_equal(sched_vus_target(&s, 3333333333), 0);
    assert_int_equal(sched_vus_target(&s, 3333333334), 1);
    assert_int_equal(sched_vus_next_change(&s, 3333333334), 6666666667);
    assert_int_equal(sched_vus_target(&s, 10 * S - 1), 2);
    assert_int_equal(sched_vus_target(&s, 10 * S), 8);
    assert_int_equal(sched_vus_next_change(&s, 8 * S), 10 * S);
    assert_int_equal(sched_vus_next_change(&s, 10 * S), 15 * S);
    assert_int_equal(sched_vus_target(&s, 15 * S), 7);
    assert_int_equal(s.max_vus, 8);

    /* Walking next_change visits every change, and nothing changes between:
     * up to 1, 2, the jump to 8, down to 7, 6, then 0 at the end (17 s, where
     * the last ramp would have reached 5). */
    t = 0;
    int changes = 0;
    while ((t = sched_vus_next_change(&s, t)) != SCHED_END) {
        changes++;
        assert_int_not_equal(sched_vus_target(&s, t), sched_vus_target(&s, t - 1));
    }
    assert_int_equal(changes, 6);
    for (uint64_t now = 0; now < s.duration_ns; now += 12345678) {
        uint64_t next = sched_vus_next_change(&s, now);
        assert_true(next > now);
        assert_int_equal(sched_vus_target(&s, next - 1), sched_vus_target(&s, now));
    }
    sched_vus_free(&s);

    /* Starting with a jump: the VUs are there at 0. */
    sched_stage jump[] = {{0, 5}, {10 * S, 5}};
    assert_int_equal(sched_vus_init_ramping(&s, 0, jump, 2, NULL, 0), 0);
    assert_int_equal(sched_vus_target(&s, 0), 5);
    sched_vus_free(&s);

    sched_stage empty[] = {{0, 5}};
    char err[128];
    assert_int_equal(sched_vus_init_ramping(&s, 0, empty, 1, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "ramping-vus: the stages' total duration is zero");
}

/* ---- arrivals ---- */

static void test_uniform_exact_no_drift(void **state)
{
    sched_arrivals it;
    uint64_t t, prev = 0, n = 0;

    (void)state;
    /* 3/s for 10 h: exactly 108000 arrivals at floor(n * 1e9 / 3). */
    assert_int_equal(sched_arrivals_init_constant(&it, rate(3, S), 36000 * S,
                                                  SCHED_ARRIVALS_UNIFORM, 1, NULL, 0),
                     0);
    while ((t = sched_next_arrival(&it)) != SCHED_END) {
        assert_true(t >= prev);
        if (n == 1)
            assert_int_equal(t, 333333333);
        if (n == 2)
            assert_int_equal(t, 666666666);
        if (n == 3)
            assert_int_equal(t, 1 * S);
        prev = t;
        n++;
    }
    assert_int_equal(n, 108000);
    /* The last one: 107999 / 3 s = 35999.666666666 s, no accumulated error. */
    assert_int_equal(prev, 35999666666666ULL);
    assert_int_equal(sched_next_arrival(&it), SCHED_END);
    sched_arrivals_free(&it);
}

/* Counts arrivals per ms over `ms` ms, then checks that every 10 s window (at
 * every 1 ms offset) holds `want` arrivals within +-0.5 %. */
static void check_windows(sched_arrivals *it, uint64_t ms, double (*want)(uint64_t, uint64_t),
                          uint64_t *total)
{
    uint32_t *bins = calloc(ms, sizeof(*bins));
    uint64_t t, win = 0, w = 10000;

    assert_non_null(bins);
    *total = 0;
    while ((t = sched_next_arrival(it)) != SCHED_END) {
        assert_true(t / MS < ms);
        bins[t / MS]++;
        (*total)++;
    }
    for (uint64_t i = 0; i < ms; i++) {
        win += bins[i];
        if (i >= w)
            win -= bins[i - w];
        if (i + 1 >= w) {
            double expect = want(i + 1 - w, i + 1);
            assert_true(fabs((double)win - expect) <= 0.005 * expect);
        }
    }
    free(bins);
}

static double want_10k(uint64_t from_ms, uint64_t to_ms)
{
    return (double)(to_ms - from_ms) * 10.0;
}

static double want_1234_5(uint64_t from_ms, uint64_t to_ms)
{
    return (double)(to_ms - from_ms) * 1.2345;
}

static void test_uniform_windows(void **state)
{
    sched_arrivals it;
    uint64_t total;

    (void)state;
    assert_int_equal(sched_arrivals_init_constant(&it, rate(10000, S), 60 * S,
                                                  SCHED_ARRIVALS_UNIFORM, 1, NULL, 0),
                     0);
    check_windows(&it, 60000, want_10k, &total);
    assert_int_equal(total, 600000);
    sched_arrivals_free(&it);
    /* 1234.5/s is 2469 per 2 s. */
    assert_int_equal(sched_arrivals_init_constant(&it, rate(2469, 2 * S), 120 * S,
                                                  SCHED_ARRIVALS_UNIFORM, 1, NULL, 0),
                     0);
    check_windows(&it, 120000, want_1234_5, &total);
    assert_int_equal(total, 148140);
    sched_arrivals_free(&it);
}

static void test_poisson_mean_and_spread(void **state)
{
    sched_arrivals it, again;
    uint64_t t, prev = 0, n = 0, win[20] = {0};
    double sum = 0, sumsq = 0, mean, sd;

    (void)state;
    /* 1000/s for 200 s: about 200000 arrivals, gaps exponential with mean 1 ms. */
    assert_int_equal(sched_arrivals_init_constant(&it, rate(1000, S), 200 * S,
                                                  SCHED_ARRIVALS_POISSON, 42, NULL, 0),
                     0);
    assert_int_equal(sched_arrivals_init_constant(&again, rate(1000, S), 200 * S,
                                                  SCHED_ARRIVALS_POISSON, 42, NULL, 0),
                     0);
    while ((t = sched_next_arrival(&it)) != SCHED_END) {
        double gap = (double)(t - prev);

        assert_true(t >= prev);
        assert_int_equal(sched_next_arrival(&again), t);
        sum += gap;
        sumsq += gap * gap;
        win[t / (10 * S)]++;
        prev = t;
        n++;
    }
    mean = sum / (double)n;
    sd = sqrt(sumsq / (double)n - mean * mean);
    /* Count: Poisson, sd = sqrt(200000) = 447; allow 5 sd. */
    assert_true(llabs((long long)n - 200000) < 2236);
    /* Mean gap 1 ms with a standard error of 1 ms / sqrt(n) = 2.2 us; 5 se. */
    assert_true(fabs(mean - 1e6) < 11200);
    /* Exponential gaps: the standard deviation equals the mean. */
    assert_true(fabs(sd / mean - 1.0) < 0.02);
    /* Every 10 s window: 10000 expected, sd 100; allow 5 sd. */
    for (int i = 0; i < 20; i++)
        assert_true(llabs((long long)win[i] - 10000) < 500);
    sched_arrivals_free(&it);
    sched_arrivals_free(&again);

    /* Another seed, another sequence. */
    assert_int_equal(sched_arrivals_init_constant(&it, rate(1000, S), 1 * S, SCHED_ARRIVALS_POISSON,
                                                  42, NULL, 0),
                     0);
    assert_int_equal(sched_arrivals_init_constant(&again, rate(1000, S), 1 * S,
                                                  SCHED_ARRIVALS_POISSON, 43, NULL, 0),
                     0);
    assert_int_not_equal(sched_next_arrival(&it), sched_next_arrival(&again));
    sched_arrivals_free(&it);
    sched_arrivals_free(&again);
}

static void test_ramping_rate_closed_form(void **state)
{
    sched_rate_stage st[] = {{10 * S, {100, S}}};
    sched_arrivals it;
    uint64_t t, n = 0;

    (void)state;
    /* 0 -> 100/s over 10 s: N(t) = 5 t^2, arrival n at sqrt(n / 5) s. */
    assert_int_equal(
        sched_arrivals_init_ramping(&it, rate(0, S), st, 1, SCHED_ARRIVALS_UNIFORM, 1, NULL, 0), 0);
    while ((t = sched_next_arrival(&it)) != SCHED_END) {
        long double want = sqrtl((long double)n / 5.0L) * 1e9L;

        assert_true(fabsl((long double)t - want) <= 1.0L);
        if (n == 5)
            assert_int_equal(t, 1 * S);
        if (n == 125)
            assert_int_equal(t, 5 * S);
        n++;
    }
    assert_int_equal(n, 500);
    assert_true(fabs(sched_arrivals_expected(&it, 3 * S) - 45.0) < 1e-9);
    assert_true(fabs(sched_arrivals_rate_at(&it, 3 * S) - 30.0) < 1e-9);
    assert_true(fabs(sched_arrivals_expected(&it, 20 * S) - 500.0) < 1e-9);
    assert_true(sched_arrivals_rate_at(&it, 20 * S) == 0.0);
    sched_arrivals_free(&it);
}

/* Expected arrivals by t for the schedule below, written independently:
 * 50/s -> 150/s over 10 s, 150/s for 20 s, 150/s -> 0 over 10 s (per s). */
static long double multi_area(long double t)
{
    if (t < 10)
        return 50 * t + 5 * t * t;
    if (t < 30)
        return 1000 + 150 * (t - 10);
    t -= 30;
    return 4000 + 150 * t - 7.5L * t * t;
}

static void test_ramping_rate_multi_stage(void **state)
{
    sched_rate_stage st[] = {{10 * S, {150, S}}, {20 * S, {300, 2 * S}}, {10 * S, {0, S}}};
    sched_arrivals it;
    uint64_t t, n = 0, prev = 0, win[4] = {0};

    (void)state;
    assert_int_equal(
        sched_arrivals_init_ramping(&it, rate(50, S), st, 3, SCHED_ARRIVALS_UNIFORM, 1, NULL, 0),
        0);
    while ((t = sched_next_arrival(&it)) != SCHED_END) {
        /* Bisection on the independent integral: the solution of N(t) = n. */
        long double lo = 0, hi = 40;

        for (int i = 0; i < 100; i++) {
            long double mid = (lo + hi) / 2;
            if (multi_area(mid) < (long double)n)
                lo = mid;
            else
                hi = mid;
        }
        assert_true(fabsl((long double)t - lo * 1e9L) < 2.0L); /* well under 1 us */
        assert_true(t >= prev);
        win[t / (10 * S)]++;
        prev = t;
        n++;
    }
    assert_int_equal(n, 4750);
    /* Each 10 s window holds the integral of the rate over it: arrivals
     * [0, 1000), [1000, 2500), [2500, 4000), [4000, 4750). */
    assert_int_equal(win[0], 1000);
    assert_int_equal(win[1], 1500);
    assert_int_equal(win[2], 1500);
    assert_int_equal(win[3], 750);
    sched_arrivals_free(&it);
}

static void test_ramping_rate_zero_stage_and_errors(void **state)
{
    sched_rate_stage st[] = {{5 * S, {0, S}}, {10 * S, {10, S}}, {0, {100, S}}};
    sched_rate_stage none[] = {{5 * S, {0, S}}};
    sched_arrivals it;
    char err[160];

    (void)state;
    /* Nothing while the rate is zero: the first arrival is at 5 s. */
    assert_int_equal(
        sched_arrivals_init_ramping(&it, rate(0, S), st, 3, SCHED_ARRIVALS_UNIFORM, 1, NULL, 0), 0);
    assert_int_equal(sched_next_arrival(&it), 5 * S);
    /* N(t) = t^2 / 2 over the ramp: arrival 1 at sqrt(2) s into it, 2 at 2 s. */
    assert_int_equal(sched_next_arrival(&it), 5 * S + 1414213562);
    assert_int_equal(sched_next_arrival(&it), 7 * S);
    sched_arrivals_free(&it);

    assert_int_equal(sched_arrivals_init_ramping(&it, rate(0, S), none, 1, SCHED_ARRIVALS_UNIFORM,
                                                 1, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "ramping-arrival-rate: no arrivals (every rate is zero or every "
                             "stage is empty)");
    assert_int_equal(sched_arrivals_init_constant(&it, rate(10, S), 0, SCHED_ARRIVALS_UNIFORM, 1,
                                                  err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "constant-arrival-rate: duration must be greater than zero");
}

static void test_shards_partition_the_schedule(void **state)
{
    sched_arrivals full, part[3];
    uint64_t next[3], t;

    (void)state;
    assert_int_equal(sched_arrivals_init_constant(&full, rate(7, 3 * S), 60 * S,
                                                  SCHED_ARRIVALS_UNIFORM, 1, NULL, 0),
                     0);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(sched_arrivals_init_constant(&part[k], rate(7, 3 * S), 60 * S,
                                                      SCHED_ARRIVALS_UNIFORM, 1, NULL, 0),
                         0);
        sched_arrivals_shard(&part[k], (uint64_t)k, 3);
        next[k] = sched_next_arrival(&part[k]);
    }
    /* Merging the shards gives back the unsharded schedule, in order. */
    while ((t = sched_next_arrival(&full)) != SCHED_END) {
        int k = 0;
        for (int j = 1; j < 3; j++) {
            if (next[j] < next[k])
                k = j;
        }
        assert_int_equal(next[k], t);
        next[k] = sched_next_arrival(&part[k]);
    }
    for (int k = 0; k < 3; k++) {
        assert_int_equal(next[k], SCHED_END);
        sched_arrivals_free(&part[k]);
    }
    assert_int_equal(full.n, 140);
    sched_arrivals_free(&full);

    /* Poisson shards: four processes at a quarter of the rate add up. */
    uint64_t n = 0;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(sched_arrivals_init_constant(&full, rate(1000, S), 50 * S,
                                                      SCHED_ARRIVALS_POISSON, 9, NULL, 0),
                         0);
        sched_arrivals_shard(&full, (uint64_t)k, 4);
        while (sched_next_arrival(&full) != SCHED_END)
            n++;
        sched_arrivals_free(&full);
    }
    assert_true(llabs((long long)n - 50000) < 1118); /* 5 sd */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tg_ramp_up_starts),
        cmocka_unit_test(test_tg_loops_and_think_time),
        cmocka_unit_test(test_tg_duration),
        cmocka_unit_test(test_ctt_paces_and_never_catches_up),
        cmocka_unit_test(test_ctt_lateness_not_compensated_over_time),
        cmocka_unit_test(test_ctt_shared_by_active_threads),
        cmocka_unit_test(test_tg_with_timer_and_think_time),
        cmocka_unit_test(test_constant_vus),
        cmocka_unit_test(test_ramping_vus_steps),
        cmocka_unit_test(test_ramping_vus_uneven_and_jumps),
        cmocka_unit_test(test_uniform_exact_no_drift),
        cmocka_unit_test(test_uniform_windows),
        cmocka_unit_test(test_poisson_mean_and_spread),
        cmocka_unit_test(test_ramping_rate_closed_form),
        cmocka_unit_test(test_ramping_rate_multi_stage),
        cmocka_unit_test(test_ramping_rate_zero_stage_and_errors),
        cmocka_unit_test(test_shards_partition_the_schedule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
