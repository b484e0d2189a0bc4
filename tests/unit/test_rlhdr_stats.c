#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "run/rlhdr_stats.h"

#define S CLOCK_NS_PER_S

static rlhdr_info info(unsigned dialects, int64_t limit, int64_t remaining, int64_t reset_s)
{
    rlhdr_info i = {.dialects = dialects};

    if (limit >= 0) {
        i.has_limit = true;
        i.limit = (uint64_t)limit;
    }
    if (remaining >= 0) {
        i.has_remaining = true;
        i.remaining = (uint64_t)remaining;
    }
    if (reset_s >= 0) {
        i.has_reset = true;
        i.reset_ns = (uint64_t)reset_s * S;
    }
    return i;
}

static void test_accumulates(void **state)
{
    rlhdr_stats s;
    rlhdr_info none = {0};

    (void)state;
    rlhdr_stats_init(&s);
    assert_false(s.has_limit || s.has_remaining || s.has_reset);
    rlhdr_stats_add(&s, &none, 1 * S);
    assert_int_equal(s.responses, 0);

    rlhdr_stats_add(&s, &(rlhdr_info){.dialects = RLHDR_X}, 1 * S);
    assert_int_equal(s.responses, 0); /* a dialect bit alone is no value */

    rlhdr_info a = info(RLHDR_X, 300, 12, 40);
    rlhdr_stats_add(&s, &a, 10 * S);
    rlhdr_info b = info(RLHDR_ININ, 250, 30, -1);
    rlhdr_stats_add(&s, &b, 11 * S);
    rlhdr_info c = info(RLHDR_X, -1, 5, 3);
    rlhdr_stats_add(&s, &c, 12 * S);
    rlhdr_info d = info(RLHDR_RETRY_AFTER, -1, -1, -1);
    d.has_retry_after = true;
    d.retry_after_ns = 1 * S;
    rlhdr_stats_add(&s, &d, 13 * S);

    assert_int_equal(s.responses, 4);
    assert_int_equal(s.dialects, RLHDR_X | RLHDR_ININ | RLHDR_RETRY_AFTER);
    assert_int_equal(s.limit, 250); /* the last one seen */
    assert_int_equal(s.limit_seen_ns, 11 * S);
    assert_int_equal(s.min_remaining, 5);
    assert_int_equal(s.reset_ns, 3 * S);
    assert_int_equal(s.reset_at_ns, 15 * S);
    assert_int_equal(s.reset_seen_ns, 12 * S);
}

static void test_zero_remaining_is_a_minimum(void **state)
{
    rlhdr_stats s;
    rlhdr_info a = info(RLHDR_X, 10, 0, -1), b = info(RLHDR_X, 10, 8, -1);

    (void)state;
    rlhdr_stats_init(&s);
    rlhdr_stats_add(&s, &a, 1);
    rlhdr_stats_add(&s, &b, 2);
    assert_true(s.has_remaining);
    assert_int_equal(s.min_remaining, 0);
}

static void test_reset_at_saturates(void **state)
{
    rlhdr_stats s;
    rlhdr_info a = {.dialects = RLHDR_X, .has_reset = true, .reset_ns = UINT64_MAX - 5};

    (void)state;
    rlhdr_stats_init(&s);
    rlhdr_stats_add(&s, &a, 10);
    assert_int_equal(s.reset_at_ns, UINT64_MAX);
}

static void test_merge(void **state)
{
    rlhdr_stats t1, t2, empty;
    rlhdr_info a = info(RLHDR_X, 100, 40, 10), b = info(RLHDR_IETF, 90, 55, 20);

    (void)state;
    rlhdr_stats_init(&t1);
    rlhdr_stats_init(&t2);
    rlhdr_stats_init(&empty);
    rlhdr_stats_add(&t1, &a, 5 * S);
    rlhdr_stats_add(&t2, &b, 7 * S);
    rlhdr_stats_merge(&t1, &t2);
    assert_int_equal(t1.responses, 2);
    assert_int_equal(t1.dialects, RLHDR_X | RLHDR_IETF);
    assert_int_equal(t1.limit, 90);         /* later */
    assert_int_equal(t1.min_remaining, 40); /* lower */
    assert_int_equal(t1.reset_ns, 20 * S);
    assert_int_equal(t1.reset_at_ns, 27 * S);
    /* Merging in an older or empty one changes nothing but counts. */
    rlhdr_stats_init(&t2);
    rlhdr_info old = info(RLHDR_X, 1, 99, 1);
    rlhdr_stats_add(&t2, &old, 1 * S);
    rlhdr_stats_merge(&t1, &t2);
    rlhdr_stats_merge(&t1, &empty);
    assert_int_equal(t1.responses, 3);
    assert_int_equal(t1.limit, 90);
    assert_int_equal(t1.min_remaining, 40);
    assert_int_equal(t1.reset_ns, 20 * S);
    /* Into an empty one: a copy. */
    rlhdr_stats_merge(&empty, &t1);
    assert_int_equal(empty.limit, 90);
    assert_int_equal(empty.min_remaining, 40);
    assert_int_equal(empty.reset_at_ns, 27 * S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accumulates),
        cmocka_unit_test(test_zero_remaining_is_a_minimum),
        cmocka_unit_test(test_reset_at_saturates),
        cmocka_unit_test(test_merge),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
