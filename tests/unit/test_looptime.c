#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rng.h"
#include "run/looptime.h"

#define N 200

struct rec {
    uint64_t fired[N];
    size_t n;
    uint64_t last_now;
};

static struct rec rec;

static void on_fire(lt_timer *t, uint64_t now)
{
    rec.fired[rec.n++] = t->due;
    rec.last_now = now;
}

static void setup_lt(uv_loop_t *loop, looptime *lt)
{
    assert_int_equal(uv_loop_init(loop), 0);
    assert_int_equal(looptime_init(lt, loop), 0);
}

static void teardown_lt(uv_loop_t *loop, looptime *lt)
{
    looptime_close(lt, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    looptime_free(lt);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* Timers run in deadline order, only up to `now`, whatever the order of starts. */
static void test_heap_order_virtual_time(void **state)
{
    uv_loop_t loop;
    looptime lt;
    lt_timer t[N];
    rng r;
    size_t i;

    (void)state;
    setup_lt(&loop, &lt);
    rng_seed(&r, 42);
    memset(&rec, 0, sizeof(rec));
    for (i = 0; i < N; i++) {
        looptime_timer_init(&t[i], on_fire, NULL);
        assert_int_equal(looptime_timer_start(&lt, &t[i], 1000 + rng_below(&r, 100000)), 0);
    }
    /* Move some, stop some. */
    for (i = 0; i < N; i += 7)
        looptime_timer_start(&lt, &t[i], 500 + i);
    for (i = 3; i < N; i += 10)
        looptime_timer_stop(&lt, &t[i]);
    looptime_run(&lt, 50000);
    for (i = 1; i < rec.n; i++)
        assert_true(rec.fired[i - 1] <= rec.fired[i]);
    for (i = 0; i < rec.n; i++)
        assert_true(rec.fired[i] <= 50000);
    size_t first = rec.n;
    looptime_run(&lt, UINT64_MAX - 1);
    for (i = 1; i < rec.n; i++)
        assert_true(rec.fired[i - 1] <= rec.fired[i]);
    /* Every timer fired once except the 20 stopped ones. */
    assert_int_equal(rec.n, N - 20);
    assert_true(first > 0 && first < rec.n);
    for (i = 0; i < N; i++)
        assert_false(looptime_timer_active(&t[i]));
    assert_int_equal(lt.n, 0);
    teardown_lt(&loop, &lt);
}

static lt_timer again;
static int again_count;

static void on_again(lt_timer *t, uint64_t now)
{
    looptime *lt = t->data;

    if (++again_count < 5)
        looptime_timer_start(lt, t, now + 10);
}

/* A callback may start its own timer again; a deadline after `now` waits
 * for a later pass. */
static void test_restart_from_callback(void **state)
{
    uv_loop_t loop;
    looptime lt;

    (void)state;
    setup_lt(&loop, &lt);
    again_count = 0;
    looptime_timer_init(&again, on_again, &lt);
    looptime_timer_start(&lt, &again, 100);
    looptime_run(&lt, 100);
    assert_int_equal(again_count, 1);
    assert_true(looptime_timer_active(&again));
    assert_int_equal(again.due, 110);
    looptime_run(&lt, 1000);
    assert_int_equal(again_count, 2);
    assert_int_equal(again.due, 1010);
    while (looptime_timer_active(&again))
        looptime_run(&lt, again.due);
    assert_int_equal(again_count, 5);
    teardown_lt(&loop, &lt);
}

struct real {
    looptime *lt;
    uint64_t due[3];
    uint64_t at[3];
    int n;
};

static void on_real(lt_timer *t, uint64_t now)
{
    struct real *r = t->data;

    (void)now;
    r->due[r->n] = t->due;
    r->at[r->n] = clock_now_ns();
    r->n++;
}

/* On a real loop the timerfd wakes it: never before the deadline, and soon
 * after it (sub-millisecond deadlines included). */
static void test_real_loop_never_early(void **state)
{
    uv_loop_t loop;
    looptime lt;
    lt_timer t[3];
    struct real r;
    uint64_t now;
    int i;

    (void)state;
    setup_lt(&loop, &lt);
    memset(&r, 0, sizeof(r));
    now = looptime_now(&lt);
    for (i = 0; i < 3; i++) {
        looptime_timer_init(&t[i], on_real, &r);
        looptime_timer_start(&lt, &t[i], now + 300000 + (uint64_t)i * 1700000);
    }
    /* Pending timers keep the loop alive; it ends when they have run. */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.n, 3);
    for (i = 0; i < 3; i++) {
        assert_true(r.at[i] >= r.due[i]);
        assert_true(r.at[i] - r.due[i] < 200 * CLOCK_NS_PER_MS); /* a loaded test machine */
    }
    teardown_lt(&loop, &lt);
}

/* The clock is read once per pass, and wall times follow the offset. */
static void test_clock_cache_and_wall(void **state)
{
    uv_loop_t loop;
    looptime lt;
    uint64_t a, b, c, wall;

    (void)state;
    setup_lt(&loop, &lt);
    a = looptime_now(&lt);
    b = looptime_now(&lt);
    assert_int_equal(a, b);
    c = looptime_refresh(&lt);
    assert_true(c >= a);
    wall = looptime_wall(&lt, c);
    assert_true(wall > 1600000000ull * CLOCK_NS_PER_S);
    assert_true(llabs((long long)(wall - clock_wall_ns())) < (long long)CLOCK_NS_PER_S);
    assert_int_equal(looptime_wall(&lt, c + 5) - wall, 5);
    teardown_lt(&loop, &lt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order_virtual_time),
        cmocka_unit_test(test_restart_from_callback),
        cmocka_unit_test(test_real_loop_never_early),
        cmocka_unit_test(test_clock_cache_and_wall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
