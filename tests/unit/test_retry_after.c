#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "run/retry_after.h"

#define S CLOCK_NS_PER_S

/* Sun, 06 Nov 1994 08:49:37 GMT (the RFC's example) in epoch seconds. */
#define RFC_EXAMPLE 784111777LL
/* 2026-01-01T00:00:00Z */
#define Y2026 1767225600ULL

static uint64_t delay(const char *v, uint64_t now)
{
    uint64_t d = 12345;

    assert_int_equal(retry_after_parse(v, strlen(v), now, &d), 0);
    return d;
}

static void bad(const char *v)
{
    uint64_t d = 12345;

    assert_int_equal(retry_after_parse(v, strlen(v), Y2026 * S, &d), -EINVAL);
    assert_int_equal(d, 12345);
}

static int64_t date(const char *v, uint64_t now)
{
    int64_t t = 0;

    assert_int_equal(retry_after_parse_date(v, strlen(v), now, &t), 0);
    return t;
}

static void test_delay_seconds(void **state)
{
    (void)state;
    assert_int_equal(delay("120", Y2026 * S), 120 * S);
    assert_int_equal(delay("0", Y2026 * S), 0);
    assert_int_equal(delay("007", Y2026 * S), 7 * S);
    assert_int_equal(delay(" \t5 ", Y2026 * S), 5 * S);
    /* The wall clock plays no part in delay-seconds. */
    assert_int_equal(delay("2", 0), 2 * S);
    /* Too large for 64-bit nanoseconds: saturates. */
    assert_int_equal(delay("18446744073", 0), 18446744073ULL * S);
    assert_int_equal(delay("18446744074", 0), UINT64_MAX);
    assert_int_equal(delay("99999999999999999999999999", 0), UINT64_MAX);
}

static void test_slice_is_not_nul_terminated(void **state)
{
    const char *buf = "30XYZ";
    uint64_t d = 0;

    (void)state;
    assert_int_equal(retry_after_parse(buf, 2, 0, &d), 0);
    assert_int_equal(d, 30 * S);
    assert_int_equal(retry_after_parse(buf, 3, 0, &d), -EINVAL);
}

static void test_garbage_is_rejected(void **state)
{
    (void)state;
    bad("");
    bad("   ");
    bad("1.5");
    bad("-1");
    bad("+1");
    bad("12a");
    bad("a12");
    bad("0x10");
    bad("1 2");
    bad("soon");
    bad("Sun, 06 Nov 1994 08:49:37 UTC");
    bad("Sun, 06 Nov 1994 08:49:37");
    bad("Sun, 06 Nov 1994 08:49:37 GMT x");
    bad("Sun 06 Nov 1994 08:49:37 GMT");
    bad("Sun, 6 Nov 1994 08:49:37 GMT");
    bad("Sun, 06 November 1994 08:49:37 GMT");
    bad("Sun, 06 Nov 94 08:49:37 GMT");
    bad("Sunday, 06 Nov 1994 08:49:37 GMT");
    bad("Sun, 06-Nov-94 08:49:37 GMT");
    bad("Sunday, 06-Nov-1994 08:49:37 GMT");
    bad("Sun Nov 6 08:49:37 1994");
    bad("Sun Nov  6 08:49:37 94");
    bad("Sun Nov  6 08:49:37 1994 GMT");
    bad("Xyz, 06 Nov 1994 08:49:37 GMT");
    bad("Sun, 06 Nox 1994 08:49:37 GMT");
    bad("Sun, 06 Nov 1994 8:49:37 GMT");
    bad("Sun, 06 Nov 1994 08:49 GMT");
}

static void test_out_of_range_fields(void **state)
{
    (void)state;
    bad("Sun, 00 Nov 1994 08:49:37 GMT");
    bad("Sun, 31 Nov 1994 08:49:37 GMT");
    bad("Sun, 29 Feb 2023 08:49:37 GMT");
    bad("Sun, 29 Feb 1900 08:49:37 GMT");
    bad("Sun, 06 Nov 1994 24:00:00 GMT");
    bad("Sun, 06 Nov 1994 08:60:00 GMT");
    bad("Sun, 06 Nov 1994 08:49:61 GMT");
}

static void test_three_date_forms(void **state)
{
    uint64_t now = Y2026 * S;

    (void)state;
    assert_int_equal(date("Sun, 06 Nov 1994 08:49:37 GMT", now), RFC_EXAMPLE);
    assert_int_equal(date("Sunday, 06-Nov-94 08:49:37 GMT", now), RFC_EXAMPLE);
    assert_int_equal(date("Sun Nov  6 08:49:37 1994", now), RFC_EXAMPLE);
    assert_int_equal(date("Sun Nov 06 08:49:37 1994", now), RFC_EXAMPLE);
    assert_int_equal(date("sun, 06 nov 1994 08:49:37 gmt", now), RFC_EXAMPLE);
    assert_int_equal(date("  Sun, 06 Nov 1994 08:49:37 GMT\t", now), RFC_EXAMPLE);
    /* The weekday is not checked against the date. */
    assert_int_equal(date("Mon, 06 Nov 1994 08:49:37 GMT", now), RFC_EXAMPLE);
}

static void test_calendar_arithmetic(void **state)
{
    uint64_t now = Y2026 * S;

    (void)state;
    assert_int_equal(date("Thu, 01 Jan 1970 00:00:00 GMT", now), 0);
    assert_int_equal(date("Wed, 31 Dec 1969 23:59:59 GMT", now), -1);
    assert_int_equal(date("Thu, 29 Feb 2024 00:00:00 GMT", now), 1709164800);
    assert_int_equal(date("Fri, 01 Mar 2024 00:00:00 GMT", now), 1709251200);
    assert_int_equal(date("Tue, 29 Feb 2000 12:00:00 GMT", now), 951825600);
    assert_int_equal(date("Thu, 01 Jan 2026 00:00:00 GMT", now), (int64_t)Y2026);
    assert_int_equal(date("Wed, 31 Dec 2025 23:59:60 GMT", now), (int64_t)Y2026);
    assert_int_equal(date("Fri, 31 Dec 9999 23:59:59 GMT", now), 253402300799LL);
    assert_int_equal(date("Sat, 01 Jan 0000 00:00:00 GMT", now), -62167219200LL);
}

static void test_rfc850_two_digit_year(void **state)
{
    uint64_t now = Y2026 * S; /* the year 2026 */

    (void)state;
    /* 2030 and 2076 are at most 50 years ahead; 2077 is more: 1977. */
    assert_int_equal(date("Tuesday, 01-Jan-30 00:00:00 GMT", now), 1893456000);
    assert_int_equal(date("Wednesday, 01-Jan-76 00:00:00 GMT", now), 3345062400LL);
    assert_int_equal(date("Saturday, 01-Jan-77 00:00:00 GMT", now), 220924800);
    assert_int_equal(date("Saturday, 01-Jan-00 00:00:00 GMT", now), 946684800);
    /* Seen from 1994 the window is [1945, 2044]: "30" is 2030, "50" is 1950. */
    assert_int_equal(date("Tuesday, 01-Jan-30 00:00:00 GMT", RFC_EXAMPLE * S), 1893456000);
    assert_int_equal(date("Sunday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE * S), RFC_EXAMPLE);
    assert_int_equal(date("Sunday, 01-Jan-50 00:00:00 GMT", RFC_EXAMPLE * S), -631152000);
}

static void test_date_to_delay(void **state)
{
    uint64_t example_ns = RFC_EXAMPLE * S;

    (void)state;
    assert_int_equal(delay("Sun, 06 Nov 1994 08:49:37 GMT", example_ns - 37 * S), 37 * S);
    assert_int_equal(delay("Sunday, 06-Nov-94 08:49:37 GMT", example_ns - 37 * S), 37 * S);
    assert_int_equal(delay("Sun Nov  6 08:49:37 1994", example_ns - 37 * S), 37 * S);
    /* Sub-second wall clock: 9.75 s to go. */
    assert_int_equal(delay("Sun, 06 Nov 1994 08:49:37 GMT", example_ns - 10 * S + 250000000),
                     9750000000ULL);
    /* At or after the date: no wait. */
    assert_int_equal(delay("Sun, 06 Nov 1994 08:49:37 GMT", example_ns), 0);
    assert_int_equal(delay("Sun, 06 Nov 1994 08:49:37 GMT", example_ns + 1), 0);
    assert_int_equal(delay("Sun, 06 Nov 1994 08:49:37 GMT", Y2026 * S), 0);
    assert_int_equal(delay("Wed, 31 Dec 1969 23:59:59 GMT", Y2026 * S), 0);
    /* Beyond 64-bit nanoseconds: saturates. */
    assert_int_equal(delay("Fri, 31 Dec 9999 23:59:59 GMT", Y2026 * S), UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_seconds),
        cmocka_unit_test(test_slice_is_not_nul_terminated),
        cmocka_unit_test(test_garbage_is_rejected),
        cmocka_unit_test(test_out_of_range_fields),
        cmocka_unit_test(test_three_date_forms),
        cmocka_unit_test(test_calendar_arithmetic),
        cmocka_unit_test(test_rfc850_two_digit_year),
        cmocka_unit_test(test_date_to_delay),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
