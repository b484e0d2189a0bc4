#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "core/clock.h"

static void test_monotonic_advances(void **state)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    uint64_t a, b, prev;

    (void)state;
    a = clock_now_ns();
    prev = a;
    for (int i = 0; i < 100000; i++) {
        uint64_t t = clock_now_ns();
        assert_true(t >= prev);
        prev = t;
    }
    nanosleep(&ts, NULL);
    b = clock_now_ns();
    /* A 20 ms sleep lasts at least 20 ms, and not a minute. */
    assert_true(b - a >= 20 * CLOCK_NS_PER_MS);
    assert_true(b - a < 60 * CLOCK_NS_PER_S);
}

static void test_wall_is_epoch(void **state)
{
    uint64_t w = clock_wall_ns();

    (void)state;
    /* Between 2020-01-01 and 2100-01-01. */
    assert_true(w > 1577836800ULL * CLOCK_NS_PER_S);
    assert_true(w < 4102444800ULL * CLOCK_NS_PER_S);
    assert_true((uint64_t)time(NULL) - w / CLOCK_NS_PER_S <= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic_advances),
        cmocka_unit_test(test_wall_is_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
