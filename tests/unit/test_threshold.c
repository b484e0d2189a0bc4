#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/clock.h"
#include "run/threshold.h"

#define MS CLOCK_NS_PER_MS

static threshold parse_ok(const char *expr)
{
    threshold t;
    char err[512] = "";
    int rc = threshold_parse(&t, expr, err, sizeof(err));

    if (rc != 0)
        fail_msg("%s: %s", expr, err);
    return t;
}

static void expect_error(const char *expr, const char *msg)
{
    threshold t;
    char err[1024] = "";

    assert_int_equal(threshold_parse(&t, expr, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
}

static threshold_metrics sample(void)
{
    threshold_metrics m;

    memset(&m, 0, sizeof(m));
    m.throttled_ratio = 0.02;
    m.error_ratio = 0.0005;
    m.attempt.p50 = 120 * MS;
    m.attempt.p95 = 1500 * MS;
    m.attempt.p99 = 500 * MS; /* exactly the limit below */
    m.end_to_end.p99 = 2100 * MS;
    m.goodput = 45.0;
    m.rate = 100.0;
    m.dropped = 0;
    m.attempts = 1000;
    return m;
}

static bool pass(const char *expr, const threshold_metrics *m)
{
    threshold t = parse_ok(expr);
    return threshold_eval(&t, m).pass;
}

static void test_parse_fields(void **state)
{
    threshold t;

    (void)state;
    t = parse_ok("  p95 <= 1.5s ");
    assert_string_equal(t.expr, "p95 <= 1.5s");
    assert_string_equal(threshold_metric_name(&t), "p95");
    assert_int_equal(t.op, THRESHOLD_LE);
    assert_int_equal(t.limit_ns, 1500 * MS);
    assert_string_equal(threshold_unit(&t), "ms");
    t = parse_ok("goodput>45/s");
    assert_int_equal(t.op, THRESHOLD_GT);
    assert_true(t.limit == 45.0);
    assert_string_equal(threshold_unit(&t), "/s");
    t = parse_ok("rate >= 3000/min");
    assert_true(t.limit == 50.0);
    t = parse_ok("throttled_ratio < 1%");
    assert_true(t.limit == 0.01);
    t = parse_ok("dropped == 0");
    assert_int_equal(t.op, THRESHOLD_EQ);
    assert_int_equal(t.limit_n, 0);
    t = parse_ok("attempts != 18446744073709551615");
    assert_int_equal(t.limit_n, UINT64_MAX);
    t = parse_ok("first_throttle_s > 5");
    assert_true(t.limit == 5.0);
    assert_string_equal(threshold_unit(&t), "s");
    t = parse_ok("end_to_end_p99 < 2s");
    assert_int_equal(t.limit_ns, 2000 * MS);
}

static void test_eval_exact(void **state)
{
    threshold_metrics m = sample();
    threshold t;
    threshold_result r;

    (void)state;
    /* Latencies compare exactly in ns: 500 ms is not < 500 ms, and 1 ns more
     * than the limit fails <=. */
    assert_false(pass("p99 < 500ms", &m));
    assert_true(pass("p99 <= 500ms", &m));
    assert_true(pass("p99 == 0.5s", &m));
    m.attempt.p99 = 500 * MS + 1;
    assert_false(pass("p99 <= 500ms", &m));
    assert_true(pass("p99 > 500ms", &m));
    assert_true(pass("p99 != 500ms", &m));
    assert_true(pass("p95 <= 1.5s", &m));
    assert_false(pass("end_to_end_p99 < 2s", &m));
    assert_true(pass("p50 >= 120ms", &m));

    assert_false(pass("throttled_ratio < 0.01", &m));
    assert_true(pass("throttled_ratio <= 2%", &m));
    assert_true(pass("error_ratio < 0.001", &m));
    assert_false(pass("goodput > 45/s", &m));
    assert_true(pass("goodput >= 2700/min", &m));
    assert_true(pass("rate >= 100/s", &m));
    assert_true(pass("dropped == 0", &m));
    m.dropped = 1;
    assert_false(pass("dropped == 0", &m));
    assert_true(pass("attempts > 999", &m));
    assert_false(pass("attempts > 1000", &m));

    /* The observed value comes back in report units. */
    t = parse_ok("end_to_end_p99 < 2s");
    r = threshold_eval(&t, &m);
    assert_false(r.pass);
    assert_true(r.value == 2100.0);
    t = parse_ok("throttled_ratio < 0.01");
    assert_true(threshold_eval(&t, &m).value == 0.02);
}

static void test_first_throttle_and_nan(void **state)
{
    threshold_metrics m = sample();
    threshold t;

    (void)state;
    /* Never throttled: infinitely late. */
    assert_true(pass("first_throttle_s > 5", &m));
    assert_false(pass("first_throttle_s < 5", &m));
    t = parse_ok("first_throttle_s > 5");
    assert_true(isinf(threshold_eval(&t, &m).value));
    m.has_first_throttle = true;
    m.first_throttle_s = 4.2;
    assert_false(pass("first_throttle_s > 5", &m));
    assert_true(pass("first_throttle_s <= 4.2", &m));
    /* A ratio of nothing cannot pass, whatever the operator. */
    m.error_ratio = NAN;
    assert_false(pass("error_ratio < 0.001", &m));
    assert_false(pass("error_ratio != 0.5", &m));
}

static void test_eval_all_counts_failures(void **state)
{
    threshold_metrics m = sample();
    threshold t[4];
    threshold_result r[4];

    (void)state;
    t[0] = parse_ok("p99 <= 500ms");
    t[1] = parse_ok("throttled_ratio < 0.01");
    t[2] = parse_ok("dropped == 0");
    t[3] = parse_ok("goodput > 45/s");
    assert_int_equal(threshold_eval_all(t, 4, &m, r), 2);
    assert_true(r[0].pass);
    assert_false(r[1].pass);
    assert_true(r[2].pass);
    assert_false(r[3].pass);
    assert_int_equal(threshold_eval_all(t, 1, &m, r), 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("p99 < 500 sec", "\"p99 < 500 sec\": unknown unit 'sec', expected ms, s, m or h");
    expect_error("p99 < 500", "\"p99 < 500\": missing unit, expected ms, s, m or h");
    expect_error("p99 < 5/s", "\"p99 < 5/s\": p99 is a latency, expected a duration such as 500ms");
    expect_error(
        "p98.5x < 1s",
        "\"p98.5x < 1s\": unknown metric 'p98.5x', expected one of: throttled_ratio, error_ratio, "
        "retry_ratio, dropped_ratio, p50, p90, p95, p99, p999, max, mean, end_to_end_p50, "
        "end_to_end_p90, end_to_end_p95, end_to_end_p99, end_to_end_p999, end_to_end_max, "
        "end_to_end_mean, rate, goodput, first_throttle_s, logical, attempts, ok, throttled, "
        "client_error, server_error, network_error, retries, dropped");
    expect_error("error_ratio < 1s", "\"error_ratio < 1s\": error_ratio is a ratio, expected a "
                                     "plain number such as 0.01 or 1%");
    expect_error("error_ratio < 5",
                 "\"error_ratio < 5\": error_ratio is a ratio between 0 and 1, got 5 (write 0.05 "
                 "or 5%)");
    expect_error("goodput > 45",
                 "\"goodput > 45\": goodput is a rate, expected N/unit such as 45/s");
    expect_error("goodput > 45 per s",
                 "\"goodput > 45 per s\": expected N/unit (e.g. 50/s, 300/min)");
    expect_error("goodput > 45/fortnight", "\"goodput > 45/fortnight\": unknown unit 'fortnight', "
                                           "expected s, min, h or d (e.g. 50/s, 300/min)");
    expect_error("dropped == 0/s",
                 "\"dropped == 0/s\": dropped is a count, expected a whole number such as 0");
    expect_error("dropped == 1.5",
                 "\"dropped == 1.5\": dropped is a count, expected a whole number such as 0");
    expect_error("dropped == 99999999999999999999", "\"dropped == 99999999999999999999\": number "
                                                    "too large");
    expect_error("first_throttle_s > 5s", "\"first_throttle_s > 5s\": first_throttle_s is in "
                                          "seconds, expected a plain number such as 5");
    expect_error("p99 = 1s", "\"p99 = 1s\": '=' is not an operator, use '=='");
    expect_error("p99 1s", "\"p99 1s\": expected an operator (<, <=, >, >=, ==, !=) after 'p99'");
    expect_error("p99 =< 1s",
                 "\"p99 =< 1s\": expected an operator (<, <=, >, >=, ==, !=) after 'p99'");
    expect_error("p99 <", "\"p99 <\": missing a value after '<'");
    expect_error("   ", "\"\": empty threshold, expected e.g. p99 < 500ms or error_ratio < 0.01");
    expect_error("< 1s", "\"< 1s\": expected a metric name first");
}

static void test_too_long(void **state)
{
    char expr[300];
    threshold t;
    char err[256];

    (void)state;
    memset(expr, 'a', sizeof(expr) - 1);
    expr[sizeof(expr) - 1] = '\0';
    assert_int_equal(threshold_parse(&t, expr, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long (at most 127 characters)"));
    /* A small error buffer truncates, never overflows. */
    assert_int_equal(threshold_parse(&t, "p99 < 500 sec", err, 8), -EINVAL);
    assert_string_equal(err, "\"p99 < ");
    assert_int_equal(threshold_parse(&t, "p99 < 500 sec", NULL, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_eval_exact),
        cmocka_unit_test(test_first_throttle_and_nan),
        cmocka_unit_test(test_eval_all_counts_failures),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_too_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
