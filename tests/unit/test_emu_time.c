#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "serve/emu_time.h"

static int parse(const char *s, int64_t *ms)
{
    return emu_time_parse(s, strlen(s), ms);
}

static void test_format(void **state)
{
    char out[EMU_TIME_LEN + 1];

    (void)state;
    emu_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    emu_time_format(1767225600000LL, out);
    assert_string_equal(out, "2026-01-01T00:00:00.000Z");
    emu_time_format(1709208000123LL, out); /* a leap day */
    assert_string_equal(out, "2024-02-29T12:00:00.123Z");
    emu_time_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    emu_time_format(253402300799999LL, out);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    emu_time_format(INT64_MAX, out); /* clamped */
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    emu_time_format(INT64_MIN / 2, out);
    assert_string_equal(out, "0001-01-01T00:00:00.000Z");
}

/* Round trips agree with gmtime_r over a range of days. */
static void test_round_trip(void **state)
{
    (void)state;
    for (int64_t s = -2208988800LL; s < 4102444800LL; s += 86400 * 37 + 3723) {
        char out[EMU_TIME_LEN + 1], ref[40];
        time_t tt = (time_t)s;
        struct tm tm;
        int64_t back;

        gmtime_r(&tt, &tm);
        strftime(ref, sizeof(ref), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        emu_time_format(s * 1000, out);
        assert_string_equal(out, ref);
        assert_int_equal(parse(out, &back), 0);
        assert_int_equal(back, s * 1000);
    }
}

static void test_parse(void **state)
{
    int64_t ms = 0;

    (void)state;
    assert_int_equal(parse("2026-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 1767225600000LL);
    assert_int_equal(parse("2026-01-01T00:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1767225600500LL);
    assert_int_equal(parse("2026-01-01T00:00:00.123456789Z", &ms), 0);
    assert_int_equal(ms, 1767225600123LL);
    assert_int_equal(parse("2026-01-01T02:00:00+02:00", &ms), 0);
    assert_int_equal(ms, 1767225600000LL);
    assert_int_equal(parse("2025-12-31T19:30:00-04:30", &ms), 0);
    assert_int_equal(ms, 1767225600000LL);
    assert_int_equal(parse("2024-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(parse("2000-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(parse("1900-02-29T00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2025-02-29T00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-04-31T00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-13-01T00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T24:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:60:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:00:60Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:00:00", &ms), -EINVAL); /* a zone is required */
    assert_int_equal(parse("2026-01-01 00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:00:00.Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:00:00.1234567890Z", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:00:00Zx", &ms), -EINVAL);
    assert_int_equal(parse("2026-01-01T00:00:00+0200", &ms), -EINVAL);
    assert_int_equal(parse("2026-1-01T00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("0000-01-01T00:00:00Z", &ms), -EINVAL);
    assert_int_equal(parse("", &ms), -EINVAL);
}

static void test_interval(void **state)
{
    const char *s = "2026-01-01T00:00:00Z/2026-01-02T00:00:00.000Z";
    int64_t a = 0, b = 0;

    (void)state;
    assert_int_equal(emu_interval_parse(s, strlen(s), &a, &b), 0);
    assert_int_equal(a, 1767225600000LL);
    assert_int_equal(b, 1767312000000LL);
    s = "2026-01-01T00:00:00Z/2026-01-01T00:00:00Z";
    assert_int_equal(emu_interval_parse(s, strlen(s), &a, &b), -EINVAL);
    s = "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z";
    assert_int_equal(emu_interval_parse(s, strlen(s), &a, &b), -EINVAL);
    s = "2026-01-01T00:00:00Z";
    assert_int_equal(emu_interval_parse(s, strlen(s), &a, &b), -EINVAL);
    s = "2026-01-01T00:00:00Z/";
    assert_int_equal(emu_interval_parse(s, strlen(s), &a, &b), -EINVAL);
    s = "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z/2026-01-03T00:00:00Z";
    assert_int_equal(emu_interval_parse(s, strlen(s), &a, &b), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
