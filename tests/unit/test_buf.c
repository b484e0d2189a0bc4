#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/buf.h"

static void test_append_consume(void **state)
{
    buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "hello "), 0);
    assert_int_equal(buf_printf(&b, "%s %d", "world", 42), 0);
    assert_int_equal(b.len, 14);
    assert_memory_equal(buf_ptr(&b), "hello world 42", 14);
    buf_consume(&b, 6);
    assert_memory_equal(buf_ptr(&b), "world 42", 8);
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    assert_null(b.data);
}

static void test_long_printf(void **state)
{
    buf b;
    char big[1000];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_init(&b, 0);
    assert_int_equal(buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 1001);
    assert_int_equal(buf_ptr(&b)[1000], '>');
    buf_free(&b);
}

static void test_max_is_enforced(void **state)
{
    buf b;
    char chunk[100] = {0};

    (void)state;
    buf_init(&b, 250);
    assert_int_equal(buf_append(&b, chunk, 100), 0);
    assert_int_equal(buf_append(&b, chunk, 100), 0);
    assert_int_equal(buf_append(&b, chunk, 100), -ENOBUFS);
    assert_int_equal(b.len, 200);
    assert_int_equal(buf_printf(&b, "%0100d", 1), -ENOBUFS);
    assert_int_equal(b.len, 200);
    buf_consume(&b, 150);
    assert_int_equal(buf_append(&b, chunk, 100), 0);
    assert_int_equal(b.len, 150);
    buf_free(&b);
}

static void test_queue_does_not_grow(void **state)
{
    buf b;
    char chunk[64];
    size_t cap;

    (void)state;
    memset(chunk, 'x', sizeof(chunk));
    buf_init(&b, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
    assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
    buf_consume(&b, sizeof(chunk));
    cap = b.cap;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
        buf_consume(&b, sizeof(chunk));
    }
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 4 * sizeof(chunk));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_consume),
        cmocka_unit_test(test_long_printf),
        cmocka_unit_test(test_max_is_enforced),
        cmocka_unit_test(test_queue_does_not_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
