#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "run/retry_budget.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

/* 20 % of requests plus 1 retry per second (10 per window). */
#define RATIO 200000u
#define MIN   1u

static uint64_t retries_granted(retry_budget *b, uint64_t now, int tries)
{
    uint64_t n = 0;

    for (int i = 0; i < tries; i++) {
        if (!retry_budget_allows(b, RATIO, MIN, now))
            break;
        retry_budget_note_retry(b, now);
        n++;
    }
    return n;
}

static void test_floor_alone(void **state)
{
    retry_budget b;
    uint64_t req, ret;

    (void)state;
    retry_budget_init(&b);
    /* No requests at all: the floor, 1/s x 10 s, is 10 retries. */
    assert_int_equal(retries_granted(&b, 5 * S, 100), 10);
    retry_budget_window(&b, 5 * S, &req, &ret);
    assert_int_equal(req, 0);
    assert_int_equal(ret, 10);
}

static void test_ratio_plus_floor(void **state)
{
    retry_budget b;

    (void)state;
    retry_budget_init(&b);
    for (int i = 0; i < 100; i++)
        retry_budget_note_request(&b, 1 * S + (uint64_t)i * MS);
    /* 100 requests: 20 % is 20, plus the floor of 10. */
    assert_int_equal(retries_granted(&b, 1 * S + 500 * MS, 100), 30);
    /* 5 more requests earn exactly one more retry (5 x 0.2). */
    for (int i = 0; i < 4; i++)
        retry_budget_note_request(&b, 2 * S);
    assert_false(retry_budget_allows(&b, RATIO, MIN, 2 * S));
    retry_budget_note_request(&b, 2 * S);
    assert_int_equal(retries_granted(&b, 2 * S, 100), 1);
}

static void test_window_slides_by_the_second(void **state)
{
    retry_budget b;
    uint64_t req, ret;

    (void)state;
    retry_budget_init(&b);
    for (int i = 0; i < 100; i++)
        retry_budget_note_request(&b, 3 * S + 999 * MS);
    assert_int_equal(retries_granted(&b, 3 * S + 999 * MS, 100), 30);
    /* Second 3 counts through second 12 (3 + 9) and is gone at second 13. */
    assert_false(retry_budget_allows(&b, RATIO, MIN, 12 * S + 999999999));
    retry_budget_window(&b, 12 * S + 999999999, &req, &ret);
    assert_int_equal(req, 100);
    assert_int_equal(ret, 30);
    retry_budget_window(&b, 13 * S, &req, &ret);
    assert_int_equal(req, 0);
    assert_int_equal(ret, 0);
    assert_int_equal(retries_granted(&b, 13 * S, 100), 10);
}

static void test_old_slots_are_recycled(void **state)
{
    retry_budget b;
    uint64_t req, ret;

    (void)state;
    retry_budget_init(&b);
    /* One request per second for 35 s: the window always holds the last 10. */
    for (uint64_t t = 0; t < 35; t++)
        retry_budget_note_request(&b, t * S);
    retry_budget_window(&b, 34 * S, &req, &ret);
    assert_int_equal(req, 10);
    retry_budget_window(&b, 40 * S, &req, &ret);
    assert_int_equal(req, 4); /* seconds 31..34 */
}

static void test_zero_floor_and_ratio(void **state)
{
    retry_budget b;

    (void)state;
    retry_budget_init(&b);
    assert_false(retry_budget_allows(&b, RATIO, 0, 0));
    for (int i = 0; i < 4; i++)
        retry_budget_note_request(&b, 0);
    assert_false(retry_budget_allows(&b, RATIO, 0, 0)); /* 0.8 retries earned */
    retry_budget_note_request(&b, 0);
    assert_true(retry_budget_allows(&b, RATIO, 0, 0)); /* 1.0 */
    retry_budget_note_retry(&b, 0);
    for (int i = 0; i < 4; i++)
        retry_budget_note_request(&b, 0);
    assert_false(retry_budget_allows(&b, RATIO, 0, 0)); /* 1.8 earned, 1 spent */
    assert_false(retry_budget_allows(&b, 0, 0, 0));
}

static void test_large_counts_do_not_overflow(void **state)
{
    retry_budget b;

    (void)state;
    retry_budget_init(&b);
    for (int i = 0; i < RETRY_BUDGET_SLOTS; i++) {
        b.slot[i].sec = (uint64_t)i;
        b.slot[i].requests = UINT32_MAX;
        b.slot[i].retries = UINT32_MAX;
    }
    /* 10 x (2^32 - 1) requests at ratio 100: room for far more retries. */
    assert_true(retry_budget_allows(&b, 100 * RETRY_RATIO_ONE, 1000000, 9 * S));
    /* At ratio 1 retries equal requests: full. */
    assert_false(retry_budget_allows(&b, RETRY_RATIO_ONE, 0, 9 * S));
    /* Saturating counters. */
    retry_budget_note_request(&b, 9 * S);
    assert_int_equal(b.slot[9].requests, UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_floor_alone),
        cmocka_unit_test(test_ratio_plus_floor),
        cmocka_unit_test(test_window_slides_by_the_second),
        cmocka_unit_test(test_old_slots_are_recycled),
        cmocka_unit_test(test_zero_floor_and_ratio),
        cmocka_unit_test(test_large_counts_do_not_overflow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
