#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "limit/algo.h"

static void test_names(void **state)
{
    enum algo_kind k;
    char err[160];

    (void)state;
    for (int i = 0; i < ALGO_COUNT; i++) {
        assert_int_equal(algo_parse(algo_name((enum algo_kind)i), &k, err, sizeof(err)), 0);
        assert_int_equal(k, i);
        assert_non_null(algo_get(k)->decide);
    }
    assert_int_equal(algo_parse("token_bucket", &k, err, sizeof(err)), 0);
    assert_int_equal(k, ALGO_GCRA);
    assert_int_equal(algo_parse("gcr", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "algorithm: unknown 'gcr', expected gcra, fixed_window, "
                             "sliding_window or concurrency");
    assert_null(algo_get(ALGO_GCRA)->release);
    assert_non_null(algo_get(ALGO_CONCURRENCY)->release);
}

static void test_params(void **state)
{
    algo_params p;
    units_rate r = {300, 60 * CLOCK_NS_PER_S}, none = {0, 0};
    char err[160];

    (void)state;
    assert_int_equal(algo_params_init(&p, ALGO_GCRA, r, 0, 0, err, sizeof(err)), 0);
    assert_int_equal(p.quota, 300);
    assert_int_equal(p.t_ns, 200 * CLOCK_NS_PER_MS);
    assert_int_equal(p.tol_ns, 60 * CLOCK_NS_PER_S);
    assert_int_equal(algo_params_init(&p, ALGO_GCRA, r, 10, 0, err, sizeof(err)), 0);
    assert_int_equal(algo_params_init(&p, ALGO_FIXED_WINDOW, r, 10, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "burst: only gcra takes a burst; a fixed_window admits the rate's "
                             "count (300) per window");
    assert_int_equal(algo_params_init(&p, ALGO_SLIDING_WINDOW, r, 300, 0, err, sizeof(err)), 0);
    assert_int_equal(algo_params_init(&p, ALGO_GCRA, none, 0, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "rate: missing, expected N/unit (e.g. 300/min)");
    r.count = 5000000000ULL;
    assert_int_equal(algo_params_init(&p, ALGO_GCRA, r, 0, 0, err, sizeof(err)), -ERANGE);
    assert_string_equal(err, "rate: count 5000000000 is too large, at most 4294967295 per period");
    r.count = 1;
    r.period_ns = 365 * 24 * 3600 * CLOCK_NS_PER_S; /* 1/year, burst 200: 200 years */
    assert_int_equal(algo_params_init(&p, ALGO_GCRA, r, 200, 0, err, sizeof(err)), -ERANGE);
    assert_non_null(strstr(err, "burst: 200 at 1 per"));
    assert_int_equal(algo_params_init(&p, ALGO_CONCURRENCY, none, 0, 0, err, sizeof(err)), -ERANGE);
    assert_string_equal(err, "concurrency: 0 is out of range, expected 1 to 4294967295");
    assert_int_equal(algo_params_init(&p, ALGO_CONCURRENCY, none, 0, 10, err, sizeof(err)), 0);
    assert_int_equal(p.quota, 10);
    assert_int_equal(algo_ceil_s(1), 1);
    assert_int_equal(algo_ceil_s(CLOCK_NS_PER_S), 1);
    assert_int_equal(algo_ceil_s(CLOCK_NS_PER_S + 1), 2);
    assert_int_equal(algo_ceil_s(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
