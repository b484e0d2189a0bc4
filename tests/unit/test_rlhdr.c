#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "run/rlhdr.h"

#define S CLOCK_NS_PER_S
/* 2026-01-01T00:00:00Z, the wall clock of every response here. */
#define NOW_S 1767225600ULL
#define NOW   (NOW_S * S)

/* Reads "Name: value" lines (value after ": ") as one response. */
static rlhdr_info read_lines(const char *const *lines, size_t n)
{
    rlhdr_field f[16];
    rlhdr_info info;

    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(lines[i], ':');
        assert_non_null(colon);
        f[i].name = lines[i];
        f[i].name_len = (size_t)(colon - lines[i]);
        f[i].value = colon + 2;
        f[i].value_len = strlen(colon + 2);
    }
    rlhdr_read(f, n, NOW, &info);
    return info;
}

#define READ(...)                                                                                  \
    read_lines((const char *const[]){__VA_ARGS__},                                                 \
               sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void assert_nothing(rlhdr_info i)
{
    assert_int_equal(i.dialects, 0);
    assert_false(i.has_limit || i.has_remaining || i.has_reset || i.has_window ||
                 i.has_retry_after);
}

static void test_ietf_single_policy(void **state)
{
    rlhdr_info i =
        READ("RateLimit: \"default\";r=50;t=30", "RateLimit-Policy: \"default\";q=100;w=60");

    (void)state;
    assert_int_equal(i.dialects, RLHDR_IETF);
    assert_true(i.has_limit && i.has_remaining && i.has_reset && i.has_window);
    assert_int_equal(i.limit, 100);
    assert_int_equal(i.remaining, 50);
    assert_int_equal(i.reset_ns, 30 * S);
    assert_int_equal(i.window_ns, 60 * S);
    assert_false(i.has_retry_after);
}

static void test_ietf_lowest_remaining_wins(void **state)
{
    rlhdr_info i;

    (void)state;
    i = READ("ratelimit: \"day\";r=900;t=3600, \"burst\";r=3;t=1",
             "ratelimit-policy: \"burst\";q=10;w=1, \"day\";q=1000;w=86400");
    assert_int_equal(i.remaining, 3);
    assert_int_equal(i.reset_ns, 1 * S);
    assert_int_equal(i.limit, 10);
    assert_int_equal(i.window_ns, 1 * S);
    /* Split over two field lines, tokens as names. */
    i = READ("RateLimit: burst;r=8;t=1", "RateLimit: day;r=2;t=7200",
             "RateLimit-Policy: burst;q=10;w=1", "RateLimit-Policy: day;q=1000;w=86400");
    assert_int_equal(i.remaining, 2);
    assert_int_equal(i.reset_ns, 7200 * S);
    assert_int_equal(i.limit, 1000);
    assert_int_equal(i.window_ns, 86400 * S);
    /* Ties keep the first; items without a usable r do not compete. */
    i = READ("RateLimit: \"a\";r=-1, \"b\";r=2.5, \"c\";r=7;t=9, \"d\";t=1, \"e\";r=7;t=4");
    assert_int_equal(i.remaining, 7);
    assert_int_equal(i.reset_ns, 9 * S);
    assert_false(i.has_limit);
}

static void test_ietf_policy_forms(void **state)
{
    rlhdr_info i;

    (void)state;
    /* Policy alone: the first with a quota. */
    i = READ("RateLimit-Policy: \"x\";w=5, \"y\";q=300;w=60, \"z\";q=5");
    assert_int_equal(i.dialects, RLHDR_IETF);
    assert_false(i.has_remaining);
    assert_int_equal(i.limit, 300);
    assert_int_equal(i.window_ns, 60 * S);
    /* Older drafts: the item is the quota. */
    i = READ("RateLimit-Policy: 10;w=1, 50;w=60");
    assert_int_equal(i.limit, 10);
    assert_int_equal(i.window_ns, 1 * S);
    /* A RateLimit item whose name has no policy: no limit is guessed. */
    i = READ("RateLimit: \"other\";r=4", "RateLimit-Policy: \"default\";q=100");
    assert_int_equal(i.remaining, 4);
    assert_false(i.has_limit);
    /* Partition keys and unknown parameters are skipped. */
    i = READ("RateLimit: \"default\";r=1;t=2;pk=:dXNlcjE=:;zz=?1",
             "RateLimit-Policy: \"default\";q=3;qu=\"requests\";w=4;pk=:dXNlcjE=:");
    assert_int_equal(i.remaining, 1);
    assert_int_equal(i.limit, 3);
}

static void test_ietf_malformed_ignored(void **state)
{
    (void)state;
    /* One bad member invalidates the whole field (RFC 8941). */
    assert_nothing(READ("RateLimit: \"a\";r=5, \"b\";r="));
    assert_nothing(READ("RateLimit: limit=100, remaining=50, reset=5"));
    assert_nothing(READ("RateLimit: \"a\";r=5,"));
    assert_nothing(READ("RateLimit-Policy: \"default\";q=-5;w=-1"));
    /* A valid line still counts when another is broken. */
    rlhdr_info i = READ("RateLimit: \"a\";r=5 junk", "RateLimit: \"b\";r=6");
    assert_int_equal(i.remaining, 6);
}

static void test_draft(void **state)
{
    rlhdr_info i =
        READ("RateLimit-Limit: 100, 100;w=60", "RateLimit-Remaining: 42", "RateLimit-Reset: 7");

    (void)state;
    assert_int_equal(i.dialects, RLHDR_DRAFT);
    assert_int_equal(i.limit, 100);
    assert_int_equal(i.remaining, 42);
    assert_int_equal(i.reset_ns, 7 * S);
    assert_false(i.has_window);
}

static void test_x_ratelimit_reset_forms(void **state)
{
    rlhdr_info i;

    (void)state;
    i = READ("X-RateLimit-Limit: 60", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 30");
    assert_int_equal(i.dialects, RLHDR_X);
    assert_int_equal(i.limit, 60);
    assert_true(i.has_remaining);
    assert_int_equal(i.remaining, 0);
    assert_int_equal(i.reset_ns, 30 * S);
    /* Fractional delay. */
    assert_int_equal(READ("X-RateLimit-Reset: 1.25").reset_ns, 1250000000);
    /* The largest delay. */
    assert_int_equal(READ("X-RateLimit-Reset: 999999999").reset_ns, 999999999ULL * S);
    /* Epoch seconds, now + 90 s, also with decimals. */
    assert_int_equal(READ("X-RateLimit-Reset: 1767225690").reset_ns, 90 * S);
    assert_int_equal(READ("X-RateLimit-Reset: 1767225690.5").reset_ns, 90500000000ULL);
    /* Epoch milliseconds, now + 2.5 s. */
    assert_int_equal(READ("X-RateLimit-Reset: 1767225602500").reset_ns, 2500000000ULL);
    /* Epoch up to a day in the past: reset already happened. */
    i = READ("X-RateLimit-Reset: 1767225000");
    assert_true(i.has_reset);
    assert_int_equal(i.reset_ns, 0);
    /* Implausible: neither a delay nor a time near now. */
    assert_nothing(READ("X-RateLimit-Reset: 1500000000"));
    assert_nothing(READ("X-RateLimit-Reset: 5000000000"));
    assert_nothing(READ("X-RateLimit-Reset: 1000000000"));
    assert_nothing(READ("X-RateLimit-Reset: 99999999999999"));
}

static void test_malformed_values_ignored(void **state)
{
    const char *bad[] = {"",    "abc",  "-1",  "+5", "1e3", "12abc",
                         "1.5", "0x10", "5 6", "  ", "1.",  "99999999999999999999999"};
    char line[128];

    (void)state;
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        snprintf(line, sizeof(line), "X-RateLimit-Remaining: %s", bad[k]);
        assert_nothing(READ(line));
        snprintf(line, sizeof(line), "inin-ratelimit-allowed: %s", bad[k]);
        assert_nothing(READ(line));
    }
    assert_nothing(READ("X-RateLimit-Reset: soon"));
    assert_nothing(READ("X-RateLimit-Reset: 1.1234567891"));
    assert_nothing(READ("RateLimit-Reset: -3"));
    assert_nothing(READ("Retry-After: tomorrow"));
    /* A bad value leaves the good ones alone. */
    rlhdr_info i = READ("X-RateLimit-Limit: lots", "X-RateLimit-Remaining: 7");
    assert_false(i.has_limit);
    assert_int_equal(i.remaining, 7);
    /* Spaces around a value are fine. */
    assert_int_equal(READ("X-RateLimit-Limit:  10 ").limit, 10);
}

static void test_repeated_field_first_valid_wins(void **state)
{
    rlhdr_info i =
        READ("X-RateLimit-Remaining: abc", "X-RateLimit-Remaining: 5", "x-ratelimit-remaining: 3");

    (void)state;
    assert_int_equal(i.remaining, 5);
}

static void test_github(void **state)
{
    rlhdr_info i;

    (void)state;
    i = READ("x-ratelimit-limit: 5000", "x-ratelimit-remaining: 4999", "x-ratelimit-used: 1",
             "x-ratelimit-reset: 1767229200", "x-ratelimit-resource: core");
    assert_int_equal(i.dialects, RLHDR_GITHUB);
    assert_int_equal(i.limit, 5000);
    assert_int_equal(i.remaining, 4999);
    assert_int_equal(i.reset_ns, 3600 * S);
    /* Remaining from limit - used when absent, never below 0. */
    i = READ("x-ratelimit-limit: 60", "x-ratelimit-used: 45");
    assert_int_equal(i.remaining, 15);
    i = READ("x-ratelimit-limit: 60", "x-ratelimit-used: 61");
    assert_true(i.has_remaining);
    assert_int_equal(i.remaining, 0);
    /* -resource alone is enough to tell GitHub. */
    assert_int_equal(READ("x-ratelimit-resource: search").dialects, RLHDR_GITHUB);
}

static void test_inin(void **state)
{
    rlhdr_info i;

    (void)state;
    i = READ("inin-ratelimit-count: 180", "inin-ratelimit-allowed: 300", "inin-ratelimit-reset: 42",
             "Retry-After: 2");
    assert_int_equal(i.dialects, RLHDR_ININ | RLHDR_RETRY_AFTER);
    assert_int_equal(i.limit, 300);
    assert_int_equal(i.remaining, 120);
    assert_int_equal(i.reset_ns, 42 * S);
    assert_int_equal(i.retry_after_ns, 2 * S);
    i = READ("ININ-RATELIMIT-COUNT: 301", "Inin-RateLimit-Allowed: 300");
    assert_int_equal(i.remaining, 0);
    /* Count without allowed: no remaining, but the dialect is seen. */
    i = READ("inin-ratelimit-count: 12");
    assert_int_equal(i.dialects, RLHDR_ININ);
    assert_false(i.has_remaining || i.has_limit);
}

static void test_retry_after(void **state)
{
    rlhdr_info i;

    (void)state;
    i = READ("Retry-After: 120");
    assert_int_equal(i.dialects, RLHDR_RETRY_AFTER);
    assert_true(i.has_retry_after);
    assert_int_equal(i.retry_after_ns, 120 * S);
    i = READ("retry-after: Thu, 01 Jan 2026 00:00:05 GMT");
    assert_int_equal(i.retry_after_ns, 5 * S);
    i = READ("Retry-After: soon", "Retry-After: 3");
    assert_int_equal(i.retry_after_ns, 3 * S);
}

static void test_precedence(void **state)
{
    rlhdr_info i;

    (void)state;
    /* IETF over X; X fills what IETF lacks. */
    i = READ("X-RateLimit-Limit: 10", "X-RateLimit-Remaining: 9", "X-RateLimit-Reset: 60",
             "RateLimit: \"p\";r=4", "RateLimit-Policy: \"p\";q=5");
    assert_int_equal(i.dialects, RLHDR_IETF | RLHDR_X);
    assert_int_equal(i.limit, 5);
    assert_int_equal(i.remaining, 4);
    assert_int_equal(i.reset_ns, 60 * S);
    /* Draft over inin. */
    i = READ("inin-ratelimit-allowed: 300", "inin-ratelimit-count: 1", "RateLimit-Limit: 20");
    assert_int_equal(i.dialects, RLHDR_DRAFT | RLHDR_ININ);
    assert_int_equal(i.limit, 20);
    assert_int_equal(i.remaining, 299);
}

static void test_names_and_slices(void **state)
{
    /* Values and names are slices of one buffer, not NUL-terminated. */
    const char buf[] = "X-RateLimit-Limit100X-RateLimit-Limitx7";
    rlhdr_field f[2] = {
        {buf, 17, buf + 17, 3},
        {buf + 20, 18, buf + 38, 1}, /* "X-RateLimit-Limitx": not a known name */
    };
    rlhdr_info i;
    char names[64];

    (void)state;
    rlhdr_read(f, 2, NOW, &i);
    assert_int_equal(i.limit, 100);
    assert_nothing(READ("X-RateLimit: 5", "RateLimit-Limits: 5", "Content-Length: 5"));
    rlhdr_read(NULL, 0, NOW, &i);
    assert_nothing(i);
    assert_string_equal(
        rlhdr_dialect_names(RLHDR_IETF | RLHDR_X | RLHDR_RETRY_AFTER, names, sizeof(names)),
        "ietf,x,retry-after");
    assert_string_equal(rlhdr_dialect_names(0, names, sizeof(names)), "");
    assert_string_equal(rlhdr_dialect_names(RLHDR_DRAFT | RLHDR_GITHUB | RLHDR_ININ, names, 10),
                        "draft,git");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ietf_single_policy),
        cmocka_unit_test(test_ietf_lowest_remaining_wins),
        cmocka_unit_test(test_ietf_policy_forms),
        cmocka_unit_test(test_ietf_malformed_ignored),
        cmocka_unit_test(test_draft),
        cmocka_unit_test(test_x_ratelimit_reset_forms),
        cmocka_unit_test(test_malformed_values_ignored),
        cmocka_unit_test(test_repeated_field_first_valid_wins),
        cmocka_unit_test(test_github),
        cmocka_unit_test(test_inin),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_names_and_slices),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
