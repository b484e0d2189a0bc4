#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/progress.h"

#define MS CLOCK_NS_PER_MS
#define S  CLOCK_NS_PER_S

static void test_render(void **state)
{
    char line[256];
    progress_snapshot p = {.elapsed_ns = 12 * S + 900 * MS,
                           .total_ns = 30 * S,
                           .rate = 487.46,
                           .attempts = 6000,
                           .ok = 5812,
                           .throttled = 186,
                           .errors = 2,
                           .has_p99 = true,
                           .p99_ns = 41234567,
                           .in_flight = 64};
    (void)state;
    size_t n = progress_render(line, sizeof(line), &p);
    assert_string_equal(line,
                        "12s/30s  487.5/s  ok 5812  429 3.1%  err 2  p99 41.2ms  in flight 64");
    assert_int_equal(n, strlen(line));

    /* No total (loops), no p99 yet, nothing sent. */
    progress_snapshot z = {.elapsed_ns = 999 * MS};
    progress_render(line, sizeof(line), &z);
    assert_string_equal(line, "0s  0.0/s  ok 0  429 0.0%  err 0  p99 -  in flight 0");

    /* Truncation keeps a terminated string and reports the full length. */
    char tiny[10];
    n = progress_render(tiny, sizeof(tiny), &p);
    assert_string_equal(tiny, "12s/30s  ");
    assert_int_equal(
        n, strlen("12s/30s  487.5/s  ok 5812  429 3.1%  err 2  p99 41.2ms  in flight 64"));
}

static void test_fill(void **state)
{
    stats_counts c;
    timeline tl;
    stats_interval iv;
    progress_snapshot p;
    (void)state;
    stats_counts_init(&c);
    c.sent = 110;
    c.attempts = 100;
    c.cls[STATS_OK] = 80;
    c.cls[STATS_THROTTLED] = 10;
    c.cls[STATS_CLIENT_ERROR] = 4;
    c.cls[STATS_SERVER_ERROR] = 3;
    c.cls[STATS_NETWORK_ERROR] = 3;

    /* Without a timeline: the average rate since the start. */
    progress_snapshot_fill(&p, &c, NULL, 4 * S, 10 * S);
    assert_true(p.rate == 25.0);
    assert_int_equal(p.errors, 10);
    assert_int_equal(p.in_flight, 10);
    assert_int_equal(p.ok, 80);
    assert_int_equal(p.throttled, 10);
    assert_false(p.has_p99);
    assert_int_equal(p.total_ns, 10 * S);

    /* With one: the last row's rate over its own span, and its p99. */
    assert_int_equal(stats_interval_init(&iv), 0);
    timeline_init(&tl, 0);
    iv.attempts = 10;
    assert_int_equal(timeline_add(&tl, &iv, 1 * S), 0);
    iv.attempts = 30;
    hist_record(&iv.latency, 7 * MS);
    assert_int_equal(timeline_add(&tl, &iv, 1 * S + 500 * MS), 0);
    progress_snapshot_fill(&p, &c, &tl, 2 * S, 0);
    assert_true(p.rate == 60.0); /* 30 in 0.5 s */
    assert_true(p.has_p99);
    assert_int_equal(p.p99_ns, 7 * MS);

    /* More ended than sent (the engine does not call stats_add_sent). */
    c.sent = 0;
    progress_snapshot_fill(&p, &c, &tl, 2 * S, 0);
    assert_int_equal(p.in_flight, 0);
    timeline_free(&tl);
    stats_interval_free(&iv);
}

static size_t drain(int fd, char *buf, size_t len)
{
    ssize_t n = read(fd, buf, len - 1);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    return (size_t)n;
}

static void test_draw_rate_limited(void **state)
{
    int fds[2];
    char out[512];
    progress pr;
    progress_snapshot p = {.elapsed_ns = 1 * S, .ok = 1, .attempts = 1};
    (void)state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);

    progress_init(&pr, fds[1], true);
    assert_int_equal(progress_update(&pr, &p, 1000 * MS), 1);
    drain(fds[0], out, sizeof(out));
    assert_string_equal(out, "\r1s  0.0/s  ok 1  429 0.0%  err 0  p99 -  in flight 0\x1b[K");

    /* At most 4 a second: 249 ms later nothing, 250 ms later again. */
    assert_int_equal(progress_update(&pr, &p, 1249 * MS), 0);
    assert_int_equal(drain(fds[0], out, sizeof(out)), 0);
    assert_int_equal(progress_update(&pr, &p, 1250 * MS), 1);
    assert_true(drain(fds[0], out, sizeof(out)) > 0);
    int drawn = 0;
    for (uint64_t t = 1251; t <= 2250; t++)
        drawn += progress_update(&pr, &p, t * MS);
    assert_int_equal(drawn, 4);
    drain(fds[0], out, sizeof(out));
    /* progress_draw ignores the limit. */
    assert_int_equal(progress_draw(&pr, &p, 2251 * MS), 1);
    drain(fds[0], out, sizeof(out));

    assert_int_equal(progress_end(&pr), 0);
    drain(fds[0], out, sizeof(out));
    assert_string_equal(out, "\r\x1b[K");
    assert_int_equal(progress_end(&pr), 0); /* nothing on the line any more */
    assert_int_equal(drain(fds[0], out, sizeof(out)), 0);

    /* Disabled: never writes. */
    progress_init(&pr, fds[1], false);
    assert_int_equal(progress_update(&pr, &p, 5 * S), 0);
    assert_int_equal(progress_draw(&pr, &p, 6 * S), 0);
    assert_int_equal(progress_end(&pr), 0);
    assert_int_equal(drain(fds[0], out, sizeof(out)), 0);

    /* A pipe is not a terminal; --quiet wins anyway. */
    assert_false(progress_enabled(fds[1], false));
    assert_false(progress_enabled(fds[1], true));
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_draw_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
