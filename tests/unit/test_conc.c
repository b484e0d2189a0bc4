#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "limit/algo.h"
#include "limit/conc.h"

static void test_cap_and_release(void **state)
{
    algo_params p;
    algo_state st = {0, 0}, next;
    algo_verdict v;
    units_rate none = {0, 0};
    char err[128];

    (void)state;
    assert_int_equal(algo_params_init(&p, ALGO_CONCURRENCY, none, 0, 3, err, sizeof(err)), 0);
    for (int i = 0; i < 3; i++) {
        conc_decide(&p, &st, 100, 1, &next, &v);
        assert_true(v.conforms);
        assert_int_equal(v.remaining, 2 - i);
        assert_int_equal(v.full_at, UINT64_MAX);
        st = next;
    }
    conc_decide(&p, &st, 100, 1, &next, &v);
    assert_false(v.conforms);
    assert_int_equal(v.wait_ns, 0);
    assert_int_equal(v.reset_ns, 0);
    assert_int_equal(next.a, 3);
    assert_int_equal(conc_release(&p, &st, 1), UINT64_MAX);
    conc_decide(&p, &st, 100, 1, &next, &v);
    assert_true(v.conforms);
    st = next;
    /* releases never go below zero */
    for (int i = 0; i < 3; i++)
        conc_release(&p, &st, 1);
    assert_int_equal(st.a, 0);
    assert_int_equal(conc_release(&p, &st, 1), 0);
    assert_int_equal(st.a, 0);
    conc_decide(&p, &st, 100, 0, &next, &v);
    assert_int_equal(v.remaining, 3);
    assert_int_equal(v.full_at, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_and_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
