/*
 * bench_stats: what the run statistics cost an event-loop thread.
 *
 * - record: one stats_add_sent + stats_add_attempt + stats_add_logical (the
 *   three calls a request without retry makes), uncontended, in ns;
 * - take: one stats_take_interval (what the main thread does once a second
 *   per worker, holding that worker's lock), after 10000 recordings, in us;
 *   this is the longest a worker can wait for its lock.
 * Each figure is the median of 5 runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "run/stats.h"

#define RUNS    5
#define RECORDS 2000000u
#define TAKES   200u

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp_double);
    return v[RUNS / 2];
}

static void record(stats *s, uint32_t i)
{
    stats_attempt a = {.step = i & 3,
                       .status = (i & 15) == 0 ? 429 : 200,
                       .start_ns = 1000000,
                       .end_ns = 1000000 + 100000 + (i & 0xffff) * 150,
                       .expect_ok = true};
    stats_logical l = {.step = i & 3, .ok = true, .intended_start_ns = 0, .done_ns = a.end_ns};

    stats_add_sent(s, a.step, a.start_ns);
    stats_add_attempt(s, &a);
    stats_add_logical(s, &l);
}

int main(void)
{
    double rec[RUNS], take[RUNS];
    stats s;
    stats_interval iv;

    if (stats_init(&s, 4, 0) < 0 || stats_interval_init(&iv) < 0)
        return 1;
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = clock_now_ns();
        for (uint32_t i = 0; i < RECORDS; i++)
            record(&s, i);
        rec[r] = (double)(clock_now_ns() - t0) / RECORDS;
    }
    for (int r = 0; r < RUNS; r++) {
        uint64_t spent = 0;
        for (uint32_t t = 0; t < TAKES; t++) {
            for (uint32_t i = 0; i < 10000; i++)
                record(&s, i * 7919);
            uint64_t t0 = clock_now_ns();
            stats_take_interval(&s, &iv);
            spent += clock_now_ns() - t0;
            stats_interval_reset(&iv);
        }
        take[r] = (double)spent / TAKES / 1e3;
    }
    if (s.total.attempts != (uint64_t)RUNS * (RECORDS + TAKES * 10000u))
        abort();
    printf("stats record (sent + attempt + logical): %.1f ns/request\n", median(rec));
    printf("stats_take_interval (worker lock held): %.1f us\n", median(take));
    stats_interval_free(&iv);
    stats_free(&s);
    return 0;
}
