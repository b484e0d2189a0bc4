#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "serve/gateway.h"

static const char date[] = "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n";

/* Serializes a response and returns it NUL-terminated in out. */
static const char *resp_text(buf *out, int status, const char *ct, const char *extra,
                             const char *body, bool head, bool close, bool ka10)
{
    buf x;
    const buf *extras[1] = {&x};

    buf_init(&x, 0);
    buf_append_str(&x, extra);
    buf_reset(out);
    assert_int_equal(gateway_write_response(out, status, date, strlen(date), ct, extras, 1, body,
                                            strlen(body), head, close, ka10),
                     0);
    buf_append(out, "", 1);
    buf_free(&x);
    return buf_ptr(out);
}

static void test_response(void **state)
{
    buf out;

    (void)state;
    buf_init(&out, 0);
    assert_string_equal(resp_text(&out, 200, "text/plain", "X-A: 1\r\n", "ok", false, false, false),
                        "HTTP/1.1 200 OK\r\n"
                        "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n"
                        "Server: tollgate\r\n"
                        "Content-Type: text/plain\r\n"
                        "Content-Length: 2\r\n"
                        "X-A: 1\r\n"
                        "\r\n"
                        "ok");
    /* HEAD: the length of the body that is not sent */
    assert_string_equal(
        resp_text(&out, 429, "application/json", "", "{\"a\": 1}", true, true, false),
        "HTTP/1.1 429 Too Many Requests\r\n"
        "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n"
        "Server: tollgate\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 8\r\n"
        "Connection: close\r\n"
        "\r\n");
    /* no body and no length for 204; "" as the content type writes none */
    assert_string_equal(resp_text(&out, 204, "", "", "ignored", false, false, true),
                        "HTTP/1.1 204 No Content\r\n"
                        "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n"
                        "Server: tollgate\r\n"
                        "Connection: keep-alive\r\n"
                        "\r\n");
    /* a status without a registered phrase keeps an empty reason */
    assert_string_equal(resp_text(&out, 599, NULL, "", "", false, false, false),
                        "HTTP/1.1 599 \r\n"
                        "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n"
                        "Server: tollgate\r\n"
                        "Content-Length: 0\r\n"
                        "\r\n");
    buf_reset(&out);
    assert_int_equal(gateway_write_response(&out, 42, date, strlen(date), NULL, NULL, 0, "", 0,
                                            false, false, false),
                     -EINVAL);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

static void test_bounded(void **state)
{
    buf out;

    (void)state;
    buf_init(&out, 64);
    assert_int_equal(gateway_write_response(&out, 200, date, strlen(date), "text/plain", NULL, 0,
                                            "ok", 2, false, false, false),
                     -ENOBUFS);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
