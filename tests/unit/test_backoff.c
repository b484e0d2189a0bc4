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
#include "core/rng.h"
#include "run/backoff.h"

#define MS CLOCK_NS_PER_MS
#define S  CLOCK_NS_PER_S

static backoff_policy policy(backoff_kind kind, backoff_jitter jitter, uint64_t base, uint64_t cap,
                             uint32_t mult)
{
    backoff_policy p = {
        .kind = kind, .jitter = jitter, .base_ns = base, .cap_ns = cap, .multiplier = mult};

    assert_int_equal(backoff_policy_validate(&p, NULL, 0), 0);
    return p;
}

static void test_default_policy(void **state)
{
    backoff_policy p;

    (void)state;
    backoff_policy_default(&p);
    assert_int_equal(p.kind, BACKOFF_EXPONENTIAL);
    assert_int_equal(p.jitter, BACKOFF_JITTER_FULL);
    assert_int_equal(p.base_ns, 100 * MS);
    assert_int_equal(p.cap_ns, 10 * S);
    assert_int_equal(p.multiplier, 2000);
}

static void test_none_is_zero_whatever_the_jitter(void **state)
{
    rng r;

    (void)state;
    rng_seed(&r, 1);
    for (int j = 0; j < BACKOFF_JITTER_COUNT; j++) {
        backoff_policy p = policy(BACKOFF_NONE, (backoff_jitter)j, 100 * MS, 10 * S, 2000);
        for (uint32_t n = 0; n < 5; n++)
            assert_int_equal(backoff_delay(&p, n, 500 * MS, &r), 0);
    }
}

static void test_fixed_is_base(void **state)
{
    backoff_policy p = policy(BACKOFF_FIXED, BACKOFF_JITTER_NONE, 250 * MS, 10 * S, 2000);

    (void)state;
    for (uint32_t n = 0; n < 20; n++)
        assert_int_equal(backoff_delay(&p, n, 0, NULL), 250 * MS);
    assert_int_equal(backoff_delay(&p, UINT32_MAX, 0, NULL), 250 * MS);
}

static void test_exponential_doubles_then_caps(void **state)
{
    backoff_policy p = policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_NONE, 100 * MS, 10 * S, 2000);
    const uint64_t want[] = {100 * MS,  200 * MS,  400 * MS, 800 * MS, 1600 * MS,
                             3200 * MS, 6400 * MS, 10 * S,   10 * S};

    (void)state;
    for (uint32_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        assert_int_equal(backoff_delay(&p, n, 0, NULL), want[n]);
    assert_int_equal(backoff_delay(&p, 1000, 0, NULL), 10 * S);
    assert_int_equal(backoff_delay(&p, UINT32_MAX, 0, NULL), 10 * S);
}

static void test_fractional_multiplier_is_exact(void **state)
{
    backoff_policy p = policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_NONE, 100 * MS, 10 * S, 1500);

    (void)state;
    assert_int_equal(backoff_delay(&p, 0, 0, NULL), 100000000);
    assert_int_equal(backoff_delay(&p, 1, 0, NULL), 150000000);
    assert_int_equal(backoff_delay(&p, 2, 0, NULL), 225000000);
    assert_int_equal(backoff_delay(&p, 3, 0, NULL), 337500000);
    assert_int_equal(backoff_delay(&p, 4, 0, NULL), 506250000);
    /* 1 ns base under x1.5: 1 -> 1 (truncated), stays 1 and stops early. */
    p.base_ns = 1;
    assert_int_equal(backoff_delay(&p, UINT32_MAX, 0, NULL), 1);
}

static void test_multiplier_one_and_no_cap_saturate(void **state)
{
    backoff_policy one = policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_NONE, 3 * S, 10 * S, 1000);
    backoff_policy nocap =
        policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_NONE, 1 * S, BACKOFF_NO_CAP, 2000);

    (void)state;
    assert_int_equal(backoff_delay(&one, UINT32_MAX, 0, NULL), 3 * S);
    assert_int_equal(backoff_delay(&nocap, 10, 0, NULL), 1024 * S);
    /* 1e9 * 2^34 ~ 1.7e19 still fits below 2^64 ~ 1.8e19; 2^35 does not. */
    assert_int_equal(backoff_delay(&nocap, 34, 0, NULL), 17179869184ULL * S);
    assert_int_equal(backoff_delay(&nocap, 35, 0, NULL), UINT64_MAX);
    assert_int_equal(backoff_delay(&nocap, 200, 0, NULL), UINT64_MAX);
}

/* Draws n samples of retry `retry` (prev as given) and checks bounds; returns
 * the mean and fills ten equal-width bins over [lo, hi]. */
static double sample(const backoff_policy *p, uint32_t retry, uint64_t prev, int n, uint64_t lo,
                     uint64_t hi, int bins[10])
{
    rng r;
    double sum = 0;

    rng_seed(&r, 20240601);
    memset(bins, 0, 10 * sizeof(int));
    for (int i = 0; i < n; i++) {
        uint64_t d = backoff_delay(p, retry, prev, &r);
        assert_true(d >= lo && d <= hi);
        sum += (double)d;
        int b = (int)((double)(d - lo) * 10.0 / (double)(hi - lo + 1));
        bins[b]++;
    }
    return sum / n;
}

/* Uniform over [lo, hi]: each of the ten bins holds n/10 samples; the
 * standard deviation of a bin count is sqrt(n * 0.1 * 0.9) (134 for n =
 * 200000), so 6 sd (800) is a band a correct generator never leaves. */
static void assert_uniform_bins(const int bins[10], int n)
{
    for (int i = 0; i < 10; i++)
        assert_true(abs(bins[i] - n / 10) < 800);
}

static void test_full_jitter_mean_is_half(void **state)
{
    backoff_policy p = policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_FULL, 100 * MS, 10 * S, 2000);
    const int n = 200000;
    int bins[10];
    double mean;

    (void)state;
    /* Retry 3: v = 800 ms, mean 400 ms; sd of one draw 800/sqrt(12) = 231 ms,
     * of the mean 231/sqrt(n) = 0.52 ms: +-4 ms is more than 7 sd. */
    mean = sample(&p, 3, 0, n, 0, 800 * MS, bins);
    assert_true(fabs(mean - 400.0 * MS) < 4.0 * MS);
    assert_uniform_bins(bins, n);
    /* Retry 20 is capped: uniform in [0, 10 s], mean 5 s (+-50 ms = 7 sd). */
    mean = sample(&p, 20, 0, n, 0, 10 * S, bins);
    assert_true(fabs(mean - 5.0 * S) < 50.0 * MS);
    assert_uniform_bins(bins, n);
}

static void test_equal_jitter_mean_is_three_quarters(void **state)
{
    backoff_policy p = policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_EQUAL, 100 * MS, 10 * S, 2000);
    const int n = 200000;
    int bins[10];
    double mean;

    (void)state;
    /* Retry 3: v = 800 ms, uniform in [400, 800] ms, mean 600 ms; sd of the
     * mean 115/sqrt(n) = 0.26 ms: +-2 ms is more than 7 sd. */
    mean = sample(&p, 3, 0, n, 400 * MS, 800 * MS, bins);
    assert_true(fabs(mean - 600.0 * MS) < 2.0 * MS);
    assert_uniform_bins(bins, n);
    /* Fixed growth with equal jitter: [125, 250] ms, mean 187.5 ms. */
    p.kind = BACKOFF_FIXED;
    p.base_ns = 250 * MS;
    mean = sample(&p, 7, 0, n, 125 * MS, 250 * MS, bins);
    assert_true(fabs(mean - 187.5 * MS) < 1.0 * MS);
}

static void test_decorrelated_first_and_next(void **state)
{
    backoff_policy p =
        policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_DECORRELATED, 100 * MS, 10 * S, 2000);
    const int n = 200000;
    int bins[10];
    double mean, lo, hi, expect;

    (void)state;
    /* First retry (prev 0 counts as base): uniform in [100, 300] ms, mean 200. */
    mean = sample(&p, 0, 0, n, 100 * MS, 300 * MS, bins);
    assert_true(fabs(mean - 200.0 * MS) < 1.0 * MS);
    assert_uniform_bins(bins, n);
    /* After a 1 s delay: uniform in [0.1, 3] s, mean 1.55 s (sd of mean 1.9 ms).
     * The retry number does not matter. */
    mean = sample(&p, 9, 1 * S, n, 100 * MS, 3 * S, bins);
    assert_true(fabs(mean - 1550.0 * MS) < 15.0 * MS);
    assert_uniform_bins(bins, n);
    /* After 5 s: uniform in [0.1, 15] s clipped at the 10 s cap. The mean is
     * P(U < cap) * E[U | U < cap] + P(U >= cap) * cap. */
    lo = 0.1 * S;
    hi = 15.0 * S;
    expect =
        (10.0 * S - lo) / (hi - lo) * (lo + 10.0 * S) / 2 + (hi - 10.0 * S) / (hi - lo) * 10 * S;
    mean = sample(&p, 0, 5 * S, n, 100 * MS, 10 * S, bins);
    /* sd of one draw ~3.7 s, of the mean 8.3 ms: +-60 ms is 7 sd. */
    assert_true(fabs(mean - expect) < 60.0 * MS);
}

static void test_decorrelated_hits_cap_as_often_as_expected(void **state)
{
    backoff_policy p =
        policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_DECORRELATED, 100 * MS, 10 * S, 2000);
    const int n = 200000;
    int at_cap = 0;
    rng r;

    (void)state;
    rng_seed(&r, 3);
    /* After 5 s the draw is uniform in [0.1, 15] s: P(>= 10 s) = 5 / 14.9 =
     * 0.3356, i.e. 67114 of n; sd sqrt(n p (1 - p)) = 211, band 7 sd. */
    for (int i = 0; i < n; i++)
        at_cap += backoff_delay(&p, 0, 5 * S, &r) == 10 * S;
    assert_true(abs(at_cap - 67114) < 1500);
}

static void test_decorrelated_chain_stays_in_bounds(void **state)
{
    backoff_policy p =
        policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_DECORRELATED, 100 * MS, 2 * S, 2000);
    rng r;
    uint64_t prev = 0;
    int at_cap = 0, went_down = 0;

    (void)state;
    rng_seed(&r, 99);
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t d = backoff_delay(&p, i, prev, &r);
        assert_true(d >= 100 * MS && d <= 2 * S);
        at_cap += d == 2 * S;
        went_down += d < prev;
        prev = d;
    }
    /* Not a ratchet: it both reaches the cap and comes back down. */
    assert_true(at_cap > 10000);
    assert_true(went_down > 10000);
}

static void test_reproducible_from_seed(void **state)
{
    backoff_policy p = policy(BACKOFF_EXPONENTIAL, BACKOFF_JITTER_FULL, 100 * MS, 10 * S, 2000);
    rng a, b;

    (void)state;
    rng_seed(&a, 5);
    rng_seed(&b, 5);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(backoff_delay(&p, i % 8, 0, &a), backoff_delay(&p, i % 8, 0, &b));
}

static void test_parse(void **state)
{
    backoff_kind k;
    backoff_jitter j;
    uint32_t m = 0;
    char err[128];

    (void)state;
    assert_int_equal(backoff_parse_kind("exponential", &k, err, sizeof(err)), 0);
    assert_int_equal(k, BACKOFF_EXPONENTIAL);
    assert_int_equal(backoff_parse_kind("Fixed", &k, err, sizeof(err)), 0);
    assert_int_equal(k, BACKOFF_FIXED);
    assert_int_equal(backoff_parse_kind("linear", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"linear\": expected none, fixed or exponential");
    assert_int_equal(backoff_parse_jitter("decorrelated", &j, err, sizeof(err)), 0);
    assert_int_equal(j, BACKOFF_JITTER_DECORRELATED);
    assert_int_equal(backoff_parse_jitter("half", &j, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"half\": expected none, full, equal or decorrelated");
    assert_string_equal(backoff_kind_name(BACKOFF_NONE), "none");
    assert_string_equal(backoff_jitter_name(BACKOFF_JITTER_EQUAL), "equal");

    assert_int_equal(backoff_parse_multiplier("2", &m, err, sizeof(err)), 0);
    assert_int_equal(m, 2000);
    assert_int_equal(backoff_parse_multiplier("1.5", &m, err, sizeof(err)), 0);
    assert_int_equal(m, 1500);
    assert_int_equal(backoff_parse_multiplier("1.125", &m, err, sizeof(err)), 0);
    assert_int_equal(m, 1125);
    assert_int_equal(backoff_parse_multiplier("1000", &m, err, sizeof(err)), 0);
    assert_int_equal(m, 1000000);
    m = 7;
    assert_int_equal(backoff_parse_multiplier("1.2345", &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "multiplier \"1.2345\": at most 3 decimals");
    assert_int_equal(backoff_parse_multiplier("0.5", &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "multiplier \"0.5\": must be between 1 and 1000");
    assert_int_equal(backoff_parse_multiplier("1000.001", &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(backoff_parse_multiplier("99999999999999999999", &m, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(backoff_parse_multiplier("2x", &m, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "multiplier \"2x\": expected a number such as 2 or 1.5");
    assert_int_equal(backoff_parse_multiplier("", &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(backoff_parse_multiplier("1.", &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(backoff_parse_multiplier("-2", &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(m, 7);
}

static void test_validate(void **state)
{
    backoff_policy p;
    char err[128];

    (void)state;
    backoff_policy_default(&p);
    p.base_ns = 20 * S;
    assert_int_equal(backoff_policy_validate(&p, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "base 20s is larger than cap 10s");
    backoff_policy_default(&p);
    p.multiplier = 999;
    assert_int_equal(backoff_policy_validate(&p, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "multiplier must be between 1 and 1000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_none_is_zero_whatever_the_jitter),
        cmocka_unit_test(test_fixed_is_base),
        cmocka_unit_test(test_exponential_doubles_then_caps),
        cmocka_unit_test(test_fractional_multiplier_is_exact),
        cmocka_unit_test(test_multiplier_one_and_no_cap_saturate),
        cmocka_unit_test(test_full_jitter_mean_is_half),
        cmocka_unit_test(test_equal_jitter_mean_is_three_quarters),
        cmocka_unit_test(test_decorrelated_first_and_next),
        cmocka_unit_test(test_decorrelated_hits_cap_as_often_as_expected),
        cmocka_unit_test(test_decorrelated_chain_stays_in_bounds),
        cmocka_unit_test(test_reproducible_from_seed),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_validate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
