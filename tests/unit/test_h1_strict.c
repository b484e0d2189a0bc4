#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/h1.h"
#include "core/h1_strict.h"

/* Scans text in one piece and one byte at a time; both must agree. */
static int scan(bool response, size_t max_bytes, size_t max_fields, size_t max_uri,
                const char *text, bool chunked, bool *ended)
{
    size_t len = strlen(text), i;
    h1_strict s;
    int one, bytes = 0;

    h1_strict_init(&s, response, max_bytes, max_fields, max_uri);
    one = h1_strict_scan(&s, text, len, chunked);
    *ended = one == 0 && h1_strict_ended(&s, chunked);
    h1_strict_init(&s, response, max_bytes, max_fields, max_uri);
    for (i = 0; i < len && bytes == 0; i++)
        bytes = h1_strict_scan(&s, text + i, 1, chunked);
    assert_int_equal(one, bytes);
    if (one == 0)
        assert_int_equal(*ended, h1_strict_ended(&s, chunked));
    return one;
}

static int req(const char *text, bool chunked, bool *ended)
{
    return scan(false, 16384, 100, 8192, text, chunked, ended);
}

static void test_heads(void **state)
{
    bool ended;

    (void)state;
    assert_int_equal(req("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, &ended), 0);
    assert_true(ended);
    assert_int_equal(req("GET / HTTP/1.1\r\nHost: x\r\n", false, &ended), 0);
    assert_false(ended);
    assert_int_equal(req("\r\nGET /a?b HTTP/1.0\r\nX:\r\nY: \t z\t\r\n\r\n", false, &ended), 0);
    assert_true(ended);
    assert_int_equal(req("GET / HTTP/1.1\r\nX : y\r\n\r\n", false, &ended), H1_ERR_BAD_HEADER_NAME);
    assert_int_equal(req("GET / HTTP/1.1\r\nX: y\r\n z\r\n\r\n", false, &ended), H1_ERR_OBS_FOLD);
    assert_int_equal(req("GET / HTTP/1.1\r\nX: y\n\r\n", false, &ended), H1_ERR_BAD_LINE_END);
    assert_int_equal(req("GET / HTTP/1.1\r\nX: y\r\r\n", false, &ended), H1_ERR_BAD_LINE_END);
    assert_int_equal(req("GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", false, &ended),
                     H1_ERR_BAD_HEADER_VALUE);
    assert_int_equal(req("GET / HTTP/3.0\r\n\r\n", false, &ended), H1_ERR_BAD_VERSION);
    assert_int_equal(req("GET / HTTPS/1.1\r\n\r\n", false, &ended), H1_ERR_MALFORMED);
    assert_int_equal(req("GET /\x01 HTTP/1.1\r\n\r\n", false, &ended), H1_ERR_BAD_URI);
    assert_int_equal(scan(true, 16384, 100, 8192, "HTTP/1.1 404 Not Found\r\n\r\n", false, &ended),
                     0);
    assert_true(ended);
    assert_int_equal(scan(true, 16384, 100, 8192, "HTTP/1.1 404 Not\x01\r\n\r\n", false, &ended),
                     H1_ERR_BAD_STATUS);
    assert_int_equal(scan(true, 16384, 100, 8192, "HTTP/1.1 4044\r\n\r\n", false, &ended),
                     H1_ERR_BAD_STATUS);
}

static void test_chunks(void **state)
{
    static const char head[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    char text[512];
    bool ended;

    (void)state;
    snprintf(text, sizeof(text), "%s%s", head, "A\r\n0123456789\r\n0\r\nT: 1\r\n\r\n");
    assert_int_equal(req(text, true, &ended), 0);
    assert_true(ended);
    /* the same bytes read as a Content-Length message end after the head */
    assert_int_equal(req(text, false, &ended), 0);
    assert_true(ended);
    snprintf(text, sizeof(text), "%s%s", head, "A\r\n0123456789\r\n0\r\n");
    assert_int_equal(req(text, true, &ended), 0);
    assert_false(ended);
    snprintf(text, sizeof(text), "%s%s", head, "A\r\n0123456789XY0\r\n\r\n");
    assert_int_equal(req(text, true, &ended), H1_ERR_BAD_CHUNK);
    snprintf(text, sizeof(text), "%s%s", head, "1\t;a=b\r\nx\r\n0\r\n\r\n");
    assert_int_equal(req(text, true, &ended), 0);
    snprintf(text, sizeof(text), "%s%s", head, "1 x\r\nx\r\n0\r\n\r\n");
    assert_int_equal(req(text, true, &ended), H1_ERR_BAD_CHUNK);
    snprintf(text, sizeof(text), "%s%s", head, "10000000000000000\r\n");
    assert_int_equal(req(text, true, &ended), H1_ERR_BAD_CHUNK);
    snprintf(text, sizeof(text), "%s%s", head, "0\r\nT : 1\r\n\r\n");
    assert_int_equal(req(text, true, &ended), H1_ERR_BAD_HEADER_NAME);
}

static void test_limits_at_the_byte(void **state)
{
    bool ended;

    (void)state;
    /* 27 bytes of head */
    assert_int_equal(scan(false, 27, 100, 100, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, &ended),
                     0);
    assert_int_equal(scan(false, 26, 100, 100, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, &ended),
                     H1_ERR_HEADERS_TOO_LARGE);
    /* a syntax error before the limit wins, one after it does not */
    assert_int_equal(
        scan(false, 20, 100, 100, "GET / HTTP/1.1\r\nH\x01st: x\r\n\r\n", false, &ended),
        H1_ERR_BAD_HEADER_NAME);
    assert_int_equal(
        scan(false, 17, 100, 100, "GET / HTTP/1.1\r\nH\x01st: x\r\n\r\n", false, &ended),
        H1_ERR_HEADERS_TOO_LARGE);
    assert_int_equal(scan(false, 100, 1, 100, "GET / HTTP/1.1\r\nA: 1\r\n\r\n", false, &ended), 0);
    assert_int_equal(
        scan(false, 100, 1, 100, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", false, &ended),
        H1_ERR_TOO_MANY_HEADERS);
    assert_int_equal(scan(false, 100, 100, 3, "GET /ab HTTP/1.1\r\n\r\n", false, &ended), 0);
    assert_int_equal(scan(false, 100, 100, 3, "GET /abc HTTP/1.1\r\n\r\n", false, &ended),
                     H1_ERR_URI_TOO_LONG);
}

static void test_token_value(void **state)
{
    (void)state;
    assert_true(h1_strict_token("Content-Type", 12));
    assert_true(h1_strict_token("x!#$%&'*+-.^_`|~9", 17));
    assert_false(h1_strict_token("", 0));
    assert_false(h1_strict_token("a b", 3));
    assert_false(h1_strict_token("a:b", 3));
    assert_false(h1_strict_token("caf\xc3\xa9", 5));
    assert_true(h1_strict_value("", 0));
    assert_true(h1_strict_value("a\tb c \xff", 7));
    assert_true(h1_strict_value("0123456789abcdefghijklmnop", 26));
    assert_false(h1_strict_value("0123456789abcdef\r\nX: y", 22));
    assert_false(h1_strict_value("0123456789abcde\x7f", 16));
    assert_false(h1_strict_value("01234567\n", 9));
    assert_false(h1_strict_value("a\0b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_limits_at_the_byte),
        cmocka_unit_test(test_token_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
