#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/units.h"

static uint64_t dur(const char *s)
{
    uint64_t ns = 0;
    char err[256];

    assert_int_equal(units_parse_duration(s, &ns, err, sizeof(err)), 0);
    return ns;
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(dur("250ms"), 250 * CLOCK_NS_PER_MS);
    assert_int_equal(dur("30s"), 30 * CLOCK_NS_PER_S);
    assert_int_equal(dur("1m30s"), 90 * CLOCK_NS_PER_S);
    assert_int_equal(dur("2h"), 7200 * CLOCK_NS_PER_S);
    assert_int_equal(dur("1.5s"), 1500 * CLOCK_NS_PER_MS);
    assert_int_equal(dur("0"), 0);
    assert_int_equal(dur("1h1m1s1ms"), 3661001 * CLOCK_NS_PER_MS);
    assert_int_equal(dur("0.001ms"), 1000);
}

static void expect_duration_error(const char *s, int code, const char *msg)
{
    uint64_t ns = 77;
    char err[256] = "";

    assert_int_equal(units_parse_duration(s, &ns, err, sizeof(err)), code);
    assert_string_equal(err, msg);
    assert_int_equal(ns, 77);
}

static void test_duration_errors(void **state)
{
    (void)state;
    expect_duration_error("30 sec", -EINVAL, "\"30 sec\": unknown unit 'sec', expected ms, s, m or h");
    expect_duration_error("30", -EINVAL, "\"30\": missing unit, expected ms, s, m or h");
    expect_duration_error("", -EINVAL, "\"\": empty duration, expected e.g. 250ms, 30s, 1m30s");
    expect_duration_error("-5s", -EINVAL, "\"-5s\": a duration cannot be negative");
    expect_duration_error("5s!", -EINVAL, "\"5s!\": expected a number at '!', e.g. 250ms, 30s, 1m30s");
    expect_duration_error("99999999999h", -ERANGE, "\"99999999999h\": duration too large");
}

static units_rate rate(const char *s)
{
    units_rate r = {0, 0};
    char err[256];

    assert_int_equal(units_parse_rate(s, &r, err, sizeof(err)), 0);
    return r;
}

static void test_rates(void **state)
{
    units_rate r;

    (void)state;
    r = rate("50/s");
    assert_int_equal(r.count, 50);
    assert_int_equal(r.period_ns, CLOCK_NS_PER_S);
    r = rate("300/min");
    assert_int_equal(r.count, 300);
    assert_int_equal(r.period_ns, 60 * CLOCK_NS_PER_S);
    r = rate("3000/m");
    assert_int_equal(r.count, 3000);
    assert_int_equal(r.period_ns, 60 * CLOCK_NS_PER_S);
    r = rate("10/h");
    assert_int_equal(r.count, 10);
    assert_int_equal(r.period_ns, 3600 * CLOCK_NS_PER_S);
    r = rate("0.5/s");
    assert_int_equal(r.count, 1);
    assert_int_equal(r.period_ns, 2 * CLOCK_NS_PER_S);
    r = rate("2.5/s");
    assert_int_equal(r.count, 5);
    assert_int_equal(r.period_ns, 2 * CLOCK_NS_PER_S);
    r = rate("100/10s");
    assert_int_equal(r.count, 100);
    assert_int_equal(r.period_ns, 10 * CLOCK_NS_PER_S);
    r = rate("7/min");
    assert_int_equal(r.count, 7);
    assert_int_equal(r.period_ns, 60 * CLOCK_NS_PER_S);
    assert_true(units_rate_per_s(rate("300/min")) == 5.0);
}

static void expect_rate_error(const char *s, const char *msg)
{
    units_rate r = {0, 0};
    char err[256] = "";

    assert_int_equal(units_parse_rate(s, &r, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
}

static void test_rate_errors(void **state)
{
    (void)state;
    expect_rate_error("50 per s", "\"50 per s\": expected N/unit (e.g. 50/s, 300/min)");
    expect_rate_error("50/fortnight",
                      "\"50/fortnight\": unknown unit 'fortnight', expected s, min, h or d (e.g. 50/s, 300/min)");
    expect_rate_error("0/s", "\"0/s\": a rate must be greater than zero");
    expect_rate_error("/s", "\"/s\": expected N/unit (e.g. 50/s, 300/min)");
    expect_rate_error("5/0s", "\"5/0s\": the period must be greater than zero");
}

static void test_format(void **state)
{
    char buf[64];
    units_rate r = {5, 2 * CLOCK_NS_PER_S};

    (void)state;
    units_format_duration(90 * CLOCK_NS_PER_S, buf, sizeof(buf));
    assert_string_equal(buf, "1m30s");
    units_format_duration(250 * CLOCK_NS_PER_MS, buf, sizeof(buf));
    assert_string_equal(buf, "250ms");
    units_format_duration(7200 * CLOCK_NS_PER_S, buf, sizeof(buf));
    assert_string_equal(buf, "2h");
    units_format_rate(r, buf, sizeof(buf));
    assert_string_equal(buf, "5/2s");
    r.count = 300;
    r.period_ns = 60 * CLOCK_NS_PER_S;
    units_format_rate(r, buf, sizeof(buf));
    assert_string_equal(buf, "300/min");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations), cmocka_unit_test(test_duration_errors),
        cmocka_unit_test(test_rates),     cmocka_unit_test(test_rate_errors),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
