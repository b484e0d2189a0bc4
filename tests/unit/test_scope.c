#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "limit/scope.h"

static limit_pattern path;

static int setup(void **state)
{
    char err[200];

    (void)state;
    return pattern_init(&path, "/api/v2/scripts/{id}", err, sizeof(err));
}

static int teardown(void **state)
{
    (void)state;
    pattern_free(&path);
    return 0;
}

static void expect_error(const char *const *items, size_t n, const char *msg)
{
    limit_scope sc;
    char err[200] = "";

    assert_int_equal(scope_init(&sc, items, n, &path, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_int_equal(sc.n, 0);
}

static void test_parse(void **state)
{
    const char *items[] = {"org", "client", "user", "header:X-Api-Key", "path:id", "ip", "token"};
    limit_scope sc;
    char err[200], s[80];

    (void)state;
    assert_int_equal(scope_init(&sc, items, 7, &path, err, sizeof(err)), 0);
    assert_int_equal(sc.n, 7);
    assert_int_equal(sc.parts[0].kind, SCOPE_ORG);
    assert_int_equal(sc.parts[3].kind, SCOPE_HEADER);
    assert_string_equal(sc.parts[3].name, "X-Api-Key");
    assert_int_equal(sc.parts[4].kind, SCOPE_PATH);
    assert_int_equal(sc.parts[4].capture, 0);
    scope_part_string(&sc.parts[3], s, sizeof(s));
    assert_string_equal(s, "header:X-Api-Key");
    scope_part_string(&sc.parts[4], s, sizeof(s));
    assert_string_equal(s, "path:id");
    scope_part_string(&sc.parts[1], s, sizeof(s));
    assert_string_equal(s, "client");
    scope_free(&sc);
    assert_int_equal(scope_init(&sc, NULL, 0, &path, err, sizeof(err)), 0);
    assert_int_equal(sc.n, 1);
    assert_int_equal(sc.parts[0].kind, SCOPE_GLOBAL);
    scope_free(&sc);
}

static void test_errors(void **state)
{
    const char *tokn[] = {"tokn"};
    const char *header[] = {"header"};
    const char *header2[] = {"header:"};
    const char *badname[] = {"header:X Key"};
    const char *nocap[] = {"path:idd"};
    const char *named[] = {"ip:v4"};
    const char *twice[] = {"token", "org", "token"};
    const char *twice_hdr[] = {"header:a", "header:A"};
    const char *global[] = {"global", "ip"};
    const char *many[] = {"ip",       "token",    "client",   "user",    "org",
                          "header:a", "header:b", "header:c", "header:d"};

    (void)state;
    expect_error(tokn, 1,
                 "scope: unknown 'tokn', expected global, ip, token, client, user, org, "
                 "header:NAME or path:NAME");
    expect_error(header, 1, "scope: 'header' needs a name, e.g. header:X-Api-Key");
    expect_error(header2, 1, "scope: 'header:' needs a name, e.g. header:X-Api-Key");
    expect_error(badname, 1, "scope: 'X Key' is not a valid header name");
    expect_error(nocap, 1, "scope: path:idd names no capture {idd} in '/api/v2/scripts/{id}'");
    expect_error(named, 1, "scope: 'ip:v4' takes no ':NAME'");
    expect_error(twice, 3, "scope: 'token' appears twice");
    expect_error(twice_hdr, 2, "scope: 'header:A' appears twice");
    expect_error(global, 2, "scope: global cannot be combined with other parts");
    expect_error(many, 9, "scope: more than 8 parts");
}

static size_t key_of(const char *const *items, size_t n, const char *name, const limit_request *r,
                     const char *path_s, char *out)
{
    limit_scope sc;
    limit_slice caps[PATTERN_MAX_CAPTURES];
    char err[200];
    size_t len;

    assert_int_equal(scope_init(&sc, items, n, &path, err, sizeof(err)), 0);
    assert_true(pattern_match(&path, request_slice(path_s), caps));
    len = scope_key(&sc, name, strlen(name), r, caps, out);
    assert_true(len <= SCOPE_KEY_MAX);
    scope_free(&sc);
    return len;
}

static bool same_key(const char *const *items, size_t n, const limit_request *a,
                     const limit_request *b)
{
    char ka[SCOPE_KEY_MAX], kb[SCOPE_KEY_MAX];
    size_t la = key_of(items, n, "lim", a, "/api/v2/scripts/1", ka);
    size_t lb = key_of(items, n, "lim", b, "/api/v2/scripts/1", kb);

    return la == lb && memcmp(ka, kb, la) == 0;
}

static void test_keys(void **state)
{
    const char *token[] = {"token"};
    const char *ocu[] = {"org", "client", "user"};
    const char *hdr[] = {"header:x-api-key"};
    const char *pid[] = {"path:id"};
    limit_slice names[] = {{"X-API-KEY", 9}};
    limit_slice values[] = {{"abc", 3}};
    limit_header_array hs = {names, values, 1};
    limit_request a, b;
    char k[SCOPE_KEY_MAX], k2[SCOPE_KEY_MAX];
    size_t len, len2;
    const char long1[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.signature-a";
    const char long2[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.signature-b";

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.token = request_slice("xy");
    /* exact bytes: name length, name, tag, value length, value */
    len = key_of(token, 1, "a", &a, "/api/v2/scripts/1", k);
    assert_int_equal(len, 6);
    assert_memory_equal(k,
                        "\x01"
                        "a"
                        "t"
                        "\x02"
                        "xy",
                        6);
    /* the limit's name is part of the key */
    len2 = key_of(token, 1, "b", &a, "/api/v2/scripts/1", k2);
    assert_true(len2 == len && memcmp(k, k2, len) != 0);
    /* absent, empty and present tokens are three different budgets */
    b.token = request_slice("");
    assert_false(same_key(token, 1, &a, &b));
    b.token.p = NULL;
    assert_false(same_key(token, 1, &a, &b));
    len = key_of(token, 1, "a", &b, "/api/v2/scripts/1", k);
    assert_int_equal(len, 4);
    assert_memory_equal(k,
                        "\x01"
                        "a"
                        "t"
                        "\xfe",
                        4);
    a.token.p = NULL;
    assert_true(same_key(token, 1, &a, &b)); /* all anonymous requests share one */
    /* long values are digested; a one-byte difference still separates them */
    a.token = request_slice(long1);
    b.token = request_slice(long2);
    assert_false(same_key(token, 1, &a, &b));
    b.token = request_slice(long1);
    assert_true(same_key(token, 1, &a, &b));
    len = key_of(token, 1, "a", &a, "/api/v2/scripts/1", k);
    assert_int_equal(len, 2 + 1 + 1 + 16);
    /* org+client+user: a client-credentials token (no user) keys per org+client */
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.org = b.org = request_slice("acme");
    a.client = request_slice("c1");
    b.client = request_slice("c2");
    assert_false(same_key(ocu, 3, &a, &b));
    b.client = request_slice("c1");
    assert_true(same_key(ocu, 3, &a, &b));
    b.user = request_slice("u1");
    assert_false(same_key(ocu, 3, &a, &b));
    /* org "ab" + client "c" differs from org "a" + client "bc" */
    a.org = request_slice("ab");
    a.client = request_slice("c");
    b.org = request_slice("a");
    b.client = request_slice("bc");
    b.user.p = NULL;
    assert_false(same_key(ocu, 3, &a, &b));
    /* headers, by case-insensitive name */
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.header = request_array_header;
    a.header_ctx = &hs;
    len = key_of(hdr, 1, "h", &a, "/api/v2/scripts/1", k);
    assert_memory_equal(k,
                        "\x01"
                        "h"
                        "h"
                        "\x03"
                        "abc",
                        len);
    assert_false(same_key(hdr, 1, &a, &b));
    /* path captures */
    len = key_of(pid, 1, "p", &b, "/api/v2/scripts/42", k);
    assert_memory_equal(k,
                        "\x01"
                        "p"
                        "p"
                        "\x02"
                        "42",
                        len);
    len2 = key_of(pid, 1, "p", &b, "/api/v2/scripts/43", k2);
    assert_true(len2 == len && memcmp(k, k2, len) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
