#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"

static void test_reproducible(void **state)
{
    rng a, b, c;

    (void)state;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    rng_seed(&c, 43);
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a);
        assert_int_equal(x, rng_next(&b));
        assert_int_not_equal(x, rng_next(&c));
    }
}

static void test_below_is_uniform(void **state)
{
    rng r;
    int counts[10] = {0};
    const int n = 200000;

    (void)state;
    rng_seed(&r, 7);
    for (int i = 0; i < n; i++) {
        uint64_t v = rng_below(&r, 10);
        assert_true(v < 10);
        counts[v]++;
    }
    /* Each bucket expects 20000 with sd ~134; 6 sd is a safe band. */
    for (int i = 0; i < 10; i++)
        assert_true(abs(counts[i] - n / 10) < 800);
}

static void test_range_inclusive(void **state)
{
    rng r;
    int seen_lo = 0, seen_hi = 0;

    (void)state;
    rng_seed(&r, 1);
    for (int i = 0; i < 10000; i++) {
        int64_t v = rng_range(&r, -3, 3);
        assert_true(v >= -3 && v <= 3);
        seen_lo |= v == -3;
        seen_hi |= v == 3;
    }
    assert_true(seen_lo && seen_hi);
}

static void test_double_and_exponential_means(void **state)
{
    rng r;
    double sum = 0, esum = 0;
    const int n = 400000;

    (void)state;
    rng_seed(&r, 99);
    for (int i = 0; i < n; i++) {
        double d = rng_double(&r);
        assert_true(d >= 0.0 && d < 1.0);
        sum += d;
        esum += rng_exponential(&r, 5.0);
    }
    assert_true(fabs(sum / n - 0.5) < 0.005);
    assert_true(fabs(esum / n - 5.0) < 0.05);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_below_is_uniform),
        cmocka_unit_test(test_range_inclusive),
        cmocka_unit_test(test_double_and_exponential_means),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
