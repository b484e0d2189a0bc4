#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "run/stats.h"
#include "run/timeline.h"

#define MS    CLOCK_NS_PER_MS
#define S     CLOCK_NS_PER_S
#define START (50 * S)

static void attempt(stats *s, int status, uint64_t latency_ms, const rlhdr_info *rl)
{
    stats_attempt a = {.status = status,
                       .start_ns = START,
                       .end_ns = START + latency_ms * MS,
                       .expect_ok = true,
                       .rl = rl};
    if (status == 0)
        a.neterr = STATS_NETERR_TIMEOUT;
    stats_add_sent(s, 0, START);
    stats_add_attempt(s, &a);
}

static void test_rows(void **state)
{
    stats s;
    stats_interval iv;
    timeline tl;
    (void)state;
    assert_int_equal(stats_init(&s, 1, START), 0);
    assert_int_equal(stats_interval_init(&iv), 0);
    timeline_init(&tl, START);
    assert_null(timeline_last(&tl));

    /* Second 1: 100 ok attempts of 1..100 ms, 3 throttled of 200 ms. */
    for (uint64_t i = 1; i <= 100; i++)
        attempt(&s, 200, i, NULL);
    rlhdr_info rl = {.has_remaining = true, .remaining = 4};
    for (int i = 0; i < 3; i++)
        attempt(&s, 429, 200, &rl);
    stats_logical l = {.ok = true, .intended_start_ns = START, .done_ns = START + 300 * MS};
    stats_add_logical(&s, &l);
    stats_take_interval(&s, &iv);
    assert_int_equal(timeline_add(&tl, &iv, START + 1 * S), 0);
    stats_interval_reset(&iv);

    /* Second 2: nothing but a network error and a drop. */
    attempt(&s, 0, 5, NULL);
    stats_add_dropped(&s, START);
    stats_take_interval(&s, &iv);
    assert_int_equal(timeline_add(&tl, &iv, START + 2 * S), 0);
    stats_interval_reset(&iv);

    /* A last, partial row at 2.5 s. */
    stats_take_interval(&s, &iv);
    assert_int_equal(timeline_add(&tl, &iv, START + 2 * S + 500 * MS), 0);

    assert_int_equal(tl.n, 3);
    const timeline_row *r = &tl.rows[0];
    assert_true(r->t_s == 1.0);
    assert_int_equal(r->sent, 103);
    assert_int_equal(r->attempts, 103);
    assert_int_equal(r->ok, 100);
    assert_int_equal(r->throttled, 3);
    assert_int_equal(r->errors, 0);
    assert_true(r->has_latency);
    /* Rank round(0.5 * 103) = 52: the 52 ms sample; rank 102 (p99) is 200 ms. */
    assert_int_equal(r->p50_ns, hist_highest_equivalent(52 * MS));
    assert_int_equal(r->p99_ns, 200 * MS); /* capped at the exact max */
    assert_true(r->has_e2e);
    assert_int_equal(r->e2e_p99_ns, 300 * MS);
    assert_true(r->has_remaining);
    assert_int_equal(r->min_remaining, 4);
    assert_int_equal(r->logical_ok, 1);

    r = &tl.rows[1];
    assert_true(r->t_s == 2.0);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(r->errors, 1);
    assert_int_equal(r->dropped, 1);
    assert_false(r->has_latency); /* a network error has no latency */
    assert_int_equal(r->p99_ns, 0);
    assert_false(r->has_e2e);
    assert_false(r->has_remaining);

    r = timeline_last(&tl);
    assert_ptr_equal(r, &tl.rows[2]);
    assert_true(r->t_s == 2.5);
    assert_int_equal(r->attempts, 0);

    timeline_free(&tl);
    stats_interval_free(&iv);
    stats_free(&s);
}

static void test_grows(void **state)
{
    stats_interval iv;
    timeline tl;
    (void)state;
    assert_int_equal(stats_interval_init(&iv), 0);
    timeline_init(&tl, 0);
    for (uint64_t i = 1; i <= 1000; i++) {
        iv.sent = i;
        assert_int_equal(timeline_add(&tl, &iv, i * S), 0);
    }
    assert_int_equal(tl.n, 1000);
    assert_true(tl.cap >= 1000 && tl.cap < 2000);
    assert_int_equal(tl.rows[999].sent, 1000);
    assert_true(tl.rows[999].t_s == 1000.0);
    /* A time before the start is row 0 s. */
    assert_int_equal(timeline_add(&tl, &iv, 0), 0);
    timeline_free(&tl);
    timeline_init(&tl, 10 * S);
    assert_int_equal(timeline_add(&tl, &iv, 5 * S), 0);
    assert_true(tl.rows[0].t_s == 0.0);
    timeline_free(&tl);
    stats_interval_free(&iv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
