#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "limit/request.h"

static void test_headers(void **state)
{
    limit_slice names[] = {{"Host", 4}, {"X-Api-Key", 9}, {"x-api-key", 9}};
    limit_slice values[] = {{"example", 7}, {"k1", 2}, {"k2", 2}};
    limit_header_array a = {names, values, 3};
    limit_request r;
    limit_slice v;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_false(request_header(&r, "Host", 4, &v)); /* no lookup at all */
    r.header = request_array_header;
    r.header_ctx = &a;
    assert_true(request_header(&r, "X-API-KEY", 9, &v));
    assert_int_equal(v.n, 2);
    assert_memory_equal(v.p, "k1", 2); /* the first one */
    assert_true(request_header(&r, "host", 4, &v));
    assert_memory_equal(v.p, "example", 7);
    assert_false(request_header(&r, "X-Api", 5, &v));
    v = request_slice(NULL);
    assert_null(v.p);
    v = request_slice("");
    assert_non_null(v.p);
    assert_int_equal(v.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
