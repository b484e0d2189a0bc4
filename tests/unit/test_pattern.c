#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "limit/pattern.h"

static bool match(const char *pat, const char *path)
{
    limit_pattern pt;
    char err[200];
    bool m;

    assert_int_equal(pattern_init(&pt, pat, err, sizeof(err)), 0);
    m = pattern_match(&pt, request_slice(path), NULL);
    pattern_free(&pt);
    return m;
}

static void test_rest(void **state)
{
    (void)state;
    assert_true(match("/api/v2/**", "/api/v2"));
    assert_true(match("/api/v2/**", "/api/v2/"));
    assert_true(match("/api/v2/**", "/api/v2/scripts/1/versions"));
    assert_true(match("/api/v2/**", "/api/v2?pageSize=10"));
    assert_false(match("/api/v2/**", "/api/v20"));
    assert_false(match("/api/v2/**", "/api"));
    assert_false(match("/api/v2/**", "/API/v2"));
    assert_true(match("/**", "/"));
    assert_true(match("/**", "/anything/at/all"));
    assert_false(match("/**", "*"));
    assert_false(match("/**", ""));
}

static void test_segments(void **state)
{
    (void)state;
    assert_true(match("/", "/"));
    assert_false(match("/", "/a"));
    assert_true(match("/a/*/c", "/a/b/c"));
    assert_false(match("/a/*/c", "/a//c")); /* * needs a non-empty segment */
    assert_false(match("/a/*/c", "/a/b/c/d"));
    assert_false(match("/a/*/c", "/a/b"));
    assert_true(match("/a/b", "/a/b"));
    assert_false(match("/a/b", "/a/b/")); /* a trailing slash is one more (empty) segment */
    assert_true(match("/a/b/", "/a/b/"));
    assert_true(match("/a/*", "/a/x?q=/y"));
}

static void test_captures(void **state)
{
    limit_pattern pt;
    limit_slice caps[PATTERN_MAX_CAPTURES];
    char err[200];
    size_t len;
    const char *name;

    (void)state;
    assert_int_equal(pattern_init(&pt, "/orgs/{org}/users/{user_id}/**", err, sizeof(err)), 0);
    assert_int_equal(pt.ncaptures, 2);
    assert_true(pattern_match(&pt, request_slice("/orgs/acme/users/u-7/roles"), caps));
    assert_int_equal(caps[0].n, 4);
    assert_memory_equal(caps[0].p, "acme", 4);
    assert_int_equal(caps[1].n, 3);
    assert_memory_equal(caps[1].p, "u-7", 3);
    assert_false(pattern_match(&pt, request_slice("/orgs//users/u-7"), caps));
    assert_int_equal(pattern_capture(&pt, "user_id", 7), 1);
    assert_int_equal(pattern_capture(&pt, "org", 3), 0);
    assert_int_equal(pattern_capture(&pt, "user", 4), -1);
    name = pattern_capture_name(&pt, 1, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(name, "user_id", 7);
    pattern_free(&pt);

    assert_int_equal(pattern_init(&pt, "/api/v2/scripts/{id}", err, sizeof(err)), 0);
    assert_true(pattern_match(&pt, request_slice("/api/v2/scripts/42?version=3"), caps));
    assert_int_equal(caps[0].n, 2);
    assert_memory_equal(caps[0].p, "42", 2);
    assert_false(pattern_match(&pt, request_slice("/api/v2/scripts/"), caps));
    assert_false(pattern_match(&pt, request_slice("/api/v2/scripts/42/x"), caps));
    pattern_free(&pt);
}

static void expect_error(const char *pat, const char *msg)
{
    limit_pattern pt;
    char err[200] = "";

    assert_int_equal(pattern_init(&pt, pat, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_null(pt.src);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", "path: empty, expected a pattern such as /api/v2/**");
    expect_error("api/v2", "path: 'api/v2' must start with '/'");
    expect_error("/a/**/b", "path: '**' must be the last segment in '/a/**/b'");
    expect_error("/a/b*", "path: '*' must be a whole segment in '/a/b*'");
    expect_error("/a/***", "path: '*' must be a whole segment in '/a/***'");
    expect_error("/a/{id", "path: capture '{id' in '/a/{id' must look like {name} (letters, "
                           "digits, _)");
    expect_error("/a/{}", "path: capture '{}' in '/a/{}' must look like {name} (letters, digits, "
                          "_)");
    expect_error("/a/{i-d}", "path: capture '{i-d}' in '/a/{i-d}' must look like {name} "
                             "(letters, digits, _)");
    expect_error("/a/x{id}", "path: capture 'x{id}' in '/a/x{id}' must look like {name} "
                             "(letters, digits, _)");
    expect_error("/{x}/{x}", "path: capture {x} appears twice in '/{x}/{x}'");
    expect_error("/a?b=1", "path: '/a?b=1' must not contain '?' or '#'");
    expect_error("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
                 "path: more than 8 captures in '/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rest),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_captures),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
