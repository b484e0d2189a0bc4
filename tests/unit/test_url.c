#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/url.h"

static void expect_url(const char *s, const char *scheme, int tls, const char *host, int port,
                       const char *host_header, const char *path, const char *query,
                       const char *target)
{
    url u;
    char err[512] = "";

    assert_int_equal(url_parse(&u, s, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_string_equal(u.scheme, scheme);
    assert_int_equal(u.tls, tls);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    assert_string_equal(u.host_header, host_header);
    assert_string_equal(u.path, path);
    assert_string_equal(u.query, query);
    assert_string_equal(u.target, target);
    url_free(&u);
    assert_null(u.mem);
    assert_null(u.host);
}

static void test_valid(void **state)
{
    (void)state;
    expect_url("http://example.com", "http", 0, "example.com", 80, "example.com", "/", "", "/");
    expect_url("https://example.com", "https", 1, "example.com", 443, "example.com", "/", "", "/");
    expect_url("http://localhost:8080/api/v2/users?page=2&size=10", "http", 0, "localhost", 8080,
               "localhost:8080", "/api/v2/users", "page=2&size=10", "/api/v2/users?page=2&size=10");
    expect_url("https://api.example.com:8443/x", "https", 1, "api.example.com", 8443,
               "api.example.com:8443", "/x", "", "/x");
    /* A default port written out is not repeated in the Host header. */
    expect_url("http://h:80/", "http", 0, "h", 80, "h", "/", "", "/");
    expect_url("https://h:443", "https", 1, "h", 443, "h", "/", "", "/");
    /* The other scheme's default port is not a default. */
    expect_url("https://h:80", "https", 1, "h", 80, "h:80", "/", "", "/");
    expect_url("http://h:443", "http", 0, "h", 443, "h:443", "/", "", "/");
    /* Query without a path; bare '?' is dropped from the target. */
    expect_url("http://h?a=1", "http", 0, "h", 80, "h", "/", "a=1", "/?a=1");
    expect_url("http://h/p?", "http", 0, "h", 80, "h", "/p", "", "/p");
    /* Schemes are case-insensitive; host kept as written. */
    expect_url("HTTPS://Example.COM/", "https", 1, "Example.COM", 443, "Example.COM", "/", "", "/");
    expect_url("http://10.0.0.1:9000/a%20b", "http", 0, "10.0.0.1", 9000, "10.0.0.1:9000", "/a%20b",
               "", "/a%20b");
    expect_url("http://my_host-1.local/", "http", 0, "my_host-1.local", 80, "my_host-1.local", "/",
               "", "/");
    expect_url("http://h:00080/", "http", 0, "h", 80, "h", "/", "", "/");
    expect_url("http://h:65535/", "http", 0, "h", 65535, "h:65535", "/", "", "/");
}

static void test_ipv6(void **state)
{
    url u;
    char err[256];

    (void)state;
    expect_url("http://[::1]:8080/x", "http", 0, "::1", 8080, "[::1]:8080", "/x", "", "/x");
    expect_url("https://[2001:db8::7]/", "https", 1, "2001:db8::7", 443, "[2001:db8::7]", "/", "",
               "/");
    expect_url("http://[::ffff:10.0.0.1]", "http", 0, "::ffff:10.0.0.1", 80, "[::ffff:10.0.0.1]",
               "/", "", "/");
    assert_int_equal(url_parse(&u, "http://[::1]:8080/", err, sizeof(err)), 0);
    assert_true(u.ipv6);
    url_free(&u);
    assert_int_equal(url_parse(&u, "http://h/", err, sizeof(err)), 0);
    assert_false(u.ipv6);
    url_free(&u);
}

static void expect_error(const char *s, const char *msg)
{
    url u;
    char err[512] = "";

    memset(&u, 0xa5, sizeof(u));
    assert_int_equal(url_parse(&u, s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    /* A failed parse leaves a zeroed url that needs no url_free. */
    assert_null(u.mem);
    assert_null(u.host);
    assert_int_equal(u.port, 0);
    url_free(&u);
}

static void test_scheme_errors(void **state)
{
    (void)state;
    expect_error("ftp://x", "\"ftp://x\": unknown scheme 'ftp', expected http or https");
    expect_error("ws://h/", "\"ws://h/\": unknown scheme 'ws', expected http or https");
    expect_error("example.com/x",
                 "\"example.com/x\": missing scheme, expected http:// or https:// before the host");
    expect_error("localhost:8080",
                 "\"localhost:8080\": missing scheme, expected http:// or https:// before the "
                 "host");
    expect_error("http:/h", "\"http:/h\": missing scheme, expected http:// or https:// before the "
                            "host");
    expect_error("", "\"\": missing scheme, expected http:// or https:// before the host");
    expect_error("://h", "\"://h\": missing scheme, expected http:// or https:// before the host");
}

static void test_host_errors(void **state)
{
    (void)state;
    expect_error("http://", "\"http://\": empty host");
    expect_error("http:///path", "\"http:///path\": empty host");
    expect_error("http://:8080/", "\"http://:8080/\": empty host");
    expect_error("https://[]:1/", "\"https://[]:1/\": empty host");
    expect_error("http://[::1/", "\"http://[::1/\": missing ']' after IPv6 address");
    expect_error("http://[::g]/", "\"http://[::g]/\": invalid IPv6 address '::g'");
    expect_error("http://[10.0.0.1]/", "\"http://[10.0.0.1]/\": invalid IPv6 address '10.0.0.1'");
    expect_error("http://[::1]x/",
                 "\"http://[::1]x/\": unexpected 'x' after ']', expected ':PORT' or '/'");
    expect_error("http://::1/",
                 "\"http://::1/\": IPv6 addresses must be in brackets, e.g. http://[::1]:8080/");
    expect_error("http://a!b/", "\"http://a!b/\": invalid character '!' in host 'a!b'");
    expect_error("http://h\xc3\xa9.fr/",
                 "\"http://h\xc3\xa9.fr/\": non-ASCII host; write it in its ASCII (xn--) form");
}

static void test_port_errors(void **state)
{
    (void)state;
    expect_error("http://h:0/", "\"http://h:0/\": invalid port '0', expected a number from 1 to "
                                "65535");
    expect_error("http://h:65536/",
                 "\"http://h:65536/\": invalid port '65536', expected a number from 1 to 65535");
    expect_error("http://h:99999999999999999999/",
                 "\"http://h:99999999999999999999/\": invalid port '99999999999999999999', "
                 "expected a number from 1 to 65535");
    expect_error("http://h:80a/",
                 "\"http://h:80a/\": invalid port '80a', expected a number from 1 to 65535");
    expect_error("http://h:-1/",
                 "\"http://h:-1/\": invalid port '-1', expected a number from 1 to 65535");
    expect_error("http://h:/", "\"http://h:/\": empty port after ':', expected a number from 1 "
                               "to 65535");
    expect_error("http://[::1]:/",
                 "\"http://[::1]:/\": empty port after ':', expected a number from 1 to 65535");
}

static void test_refused_parts(void **state)
{
    (void)state;
    expect_error("http://user:pw@h/",
                 "\"http://user:pw@h/\": credentials in the URL (user@host) are not supported; "
                 "send an Authorization header instead");
    expect_error("https://h/docs#top", "\"https://h/docs#top\": fragments ('#top') are never sent "
                                       "to the server; remove them");
    expect_error("http://h#x", "\"http://h#x\": fragments ('#x') are never sent to the server; "
                               "remove them");
    expect_error("http://h/a b",
                 "\"http://h/a b\": contains a space at offset 10; encode it as %20");
    expect_error("http://h/a\nb",
                 "\"http://h/a\\x0ab\": contains a control character (0x0a) at offset 10");
    expect_error("http://h/\x7f", "\"http://h/\\x7f\": contains a control character (0x7f) at "
                                  "offset 9");
    expect_error("http://h/a%2", "\"http://h/a%2\": invalid percent-encoding '%2' at offset 10, "
                                 "expected %XX with two hex digits");
    expect_error("http://h/?q=%zz1",
                 "\"http://h/?q=%zz1\": invalid percent-encoding '%zz' at offset 12, expected %XX "
                 "with two hex digits");
}

static void test_limits(void **state)
{
    static char s[URL_MAX + 2];
    char err[512];
    url u;
    size_t n;

    (void)state;
    /* Exactly URL_MAX bytes is accepted; one more is refused. */
    n = (size_t)snprintf(s, sizeof(s), "http://h/");
    memset(s + n, 'a', URL_MAX - n);
    s[URL_MAX] = '\0';
    assert_int_equal(url_parse(&u, s, err, sizeof(err)), 0);
    assert_int_equal(strlen(u.path), URL_MAX - 8);
    url_free(&u);
    s[URL_MAX] = 'a';
    s[URL_MAX + 1] = '\0';
    assert_int_equal(url_parse(&u, s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "\": longer than 8192 bytes"));
    /* The URL is quoted in part: 160 bytes, then "...". */
    assert_int_equal(strlen(err), 1 + 160 + 3 + strlen("\": longer than 8192 bytes"));

    memset(s, 'h', 300);
    memcpy(s, "http://", 7);
    s[300] = '\0';
    assert_int_equal(url_parse(&u, s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "\": host longer than 255 bytes"));

    /* No message buffer: still fails cleanly. */
    assert_int_equal(url_parse(&u, "ftp://x", NULL, 0), -EINVAL);
    /* A short buffer gets a truncated, terminated message. */
    assert_int_equal(url_parse(&u, "ftp://x", err, 8), -EINVAL);
    assert_string_equal(err, "\"ftp://");
}

static void expect_join(const char *base, const char *path, const char *want)
{
    char out[64];

    assert_int_equal(url_join_path(base, path, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void test_join_path(void **state)
{
    char out[8];

    (void)state;
    expect_join("/api/v2", "/users", "/api/v2/users");
    expect_join("/api/v2/", "users", "/api/v2/users");
    expect_join("/api/v2/", "/users", "/api/v2/users");
    expect_join("/api/v2", "users?page=2", "/api/v2/users?page=2");
    expect_join("/", "/users", "/users");
    expect_join("", "users", "/users");
    expect_join("/api", "", "/api");
    expect_join("/api/", "", "/api/");
    expect_join("", "", "/");
    expect_join("/", "", "/");
    expect_join("/api", "/", "/api/");
    expect_join("/api//", "//x", "/api///x");

    assert_int_equal(url_join_path("/abc", "defg", out, sizeof(out)), -ENOSPC);
    assert_string_equal(out, "");
    assert_int_equal(url_join_path("/ab", "def", out, sizeof(out)), 0);
    assert_string_equal(out, "/ab/def");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),         cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_scheme_errors), cmocka_unit_test(test_host_errors),
        cmocka_unit_test(test_port_errors),   cmocka_unit_test(test_refused_parts),
        cmocka_unit_test(test_limits),        cmocka_unit_test(test_join_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
