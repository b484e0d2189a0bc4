#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "serve/emu_form.h"

static int get(const char *s, const char *key, char *out, size_t outlen)
{
    size_t n = 0;
    int rc = emu_form_get(s, strlen(s), key, out, outlen, &n);

    if (rc == 1)
        assert_int_equal(n, strlen(out));
    return rc;
}

static void test_decode(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(emu_form_decode("a+b%20c%2B", 10, true, out, sizeof(out)), 6);
    assert_string_equal(out, "a b c+");
    assert_int_equal(emu_form_decode("a+b", 3, false, out, sizeof(out)), 3);
    assert_string_equal(out, "a+b");
    assert_int_equal(emu_form_decode("%41%6a%6A", 9, true, out, sizeof(out)), 3);
    assert_string_equal(out, "Ajj");
    assert_int_equal(emu_form_decode("%00", 3, true, out, sizeof(out)), 1);
    assert_int_equal(out[0], '\0');
    assert_int_equal(emu_form_decode("%4", 2, true, out, sizeof(out)), -EINVAL);
    assert_int_equal(emu_form_decode("%", 1, true, out, sizeof(out)), -EINVAL);
    assert_int_equal(emu_form_decode("%zz", 3, true, out, sizeof(out)), -EINVAL);
    assert_int_equal(emu_form_decode("abcd", 4, true, out, 4), -ENOBUFS);
    assert_int_equal(emu_form_decode("abc", 3, true, out, 4), 3);
    assert_int_equal(emu_form_decode("", 0, true, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(emu_form_decode("", 0, true, out, 0), -ENOBUFS);
}

static void test_get(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(get("a=1&b=two&c", "b", out, sizeof(out)), 1);
    assert_string_equal(out, "two");
    assert_int_equal(get("a=1&b=two&c", "c", out, sizeof(out)), 1);
    assert_string_equal(out, "");
    assert_int_equal(get("a=1&b=two&c", "d", out, sizeof(out)), 0);
    assert_int_equal(get("", "a", out, sizeof(out)), 0);
    assert_int_equal(get("&&a=1&&", "a", out, sizeof(out)), 1);
    assert_string_equal(out, "1");
    assert_int_equal(get("a=1&a=2", "a", out, sizeof(out)), -EEXIST);
    assert_int_equal(get("client%5Fid=x+y", "client_id", out, sizeof(out)), 1);
    assert_string_equal(out, "x y");
    assert_int_equal(get("ab=1", "a", out, sizeof(out)), 0);
    assert_int_equal(get("a=b=c", "a", out, sizeof(out)), 1);
    assert_string_equal(out, "b=c");
    assert_int_equal(get("a=%zz", "a", out, sizeof(out)), -EINVAL);
    assert_int_equal(get("%zz=1&a=2", "a", out, sizeof(out)), -EINVAL);
    assert_int_equal(get("a=0123456789abcdefg", "a", out, sizeof(out)), -ENOBUFS);
}

static void test_uint(void **state)
{
    unsigned long v = 99;

    (void)state;
    assert_int_equal(emu_form_get_uint("n=42", 4, "n", 1, 100, &v), 1);
    assert_int_equal(v, 42);
    v = 99;
    assert_int_equal(emu_form_get_uint("m=42", 4, "n", 1, 100, &v), 0);
    assert_int_equal(v, 99);
    assert_int_equal(emu_form_get_uint("n=0", 3, "n", 1, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=101", 5, "n", 1, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=", 2, "n", 0, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=-1", 4, "n", 0, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=1.5", 5, "n", 0, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=+1", 4, "n", 0, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=99999999999999999999999", 25, "n", 0, 100, &v), -EINVAL);
    assert_int_equal(emu_form_get_uint("n=%35", 5, "n", 0, 100, &v), 1);
    assert_int_equal(v, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_uint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
