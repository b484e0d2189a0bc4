/*
 * bench_hist: the cost of recording a value and of a percentile query.
 *
 * Values are log-uniform over 1 us .. 10 s (latencies a load generator sees),
 * drawn beforehand so the generator is not timed. Each figure is the median of
 * 5 runs, each run timed with clock_now_ns over many operations.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/hist.h"

#define RUNS          5
#define VALUES        (1u << 16) /* pre-drawn values, cycled through */
#define RECORD_OPS    (20u * 1000 * 1000)
#define QUERY_SAMPLES (1000u * 1000)
#define QUERY_OPS     20000u

static uint64_t rng_state = 42;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t log_uniform(void)
{
    double u = (double)(rng_next() >> 11) / 9007199254740992.0;

    return (uint64_t)exp(log(1e3) + u * (log(1e10) - log(1e3)));
}

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

static double bench_record(hist *h, const uint64_t *values)
{
    uint64_t t0, t1;

    hist_reset(h);
    t0 = clock_now_ns();
    for (uint32_t i = 0; i < RECORD_OPS; i++)
        hist_record(h, values[i & (VALUES - 1)]);
    t1 = clock_now_ns();
    if (hist_count(h) != RECORD_OPS)
        abort();
    return (double)(t1 - t0) / RECORD_OPS;
}

static double bench_percentile(const hist *h)
{
    static const double ps[] = {50, 90, 99, 99.9, 99.99, 75, 25, 100};
    uint64_t t0, t1, sink = 0;

    t0 = clock_now_ns();
    for (uint32_t i = 0; i < QUERY_OPS; i++)
        sink += hist_percentile(h, ps[i % (sizeof(ps) / sizeof(ps[0]))]);
    t1 = clock_now_ns();
    if (sink == 0)
        abort();
    return (double)(t1 - t0) / QUERY_OPS;
}

int main(void)
{
    static uint64_t values[VALUES];
    double rec[RUNS], query[RUNS];
    unsigned in_use = 0;
    hist_iter it;
    hist h;

    if (hist_init(&h) < 0)
        return 1;
    for (uint32_t i = 0; i < VALUES; i++)
        values[i] = log_uniform();
    for (int r = 0; r < RUNS; r++)
        rec[r] = bench_record(&h, values);

    hist_reset(&h);
    for (uint32_t i = 0; i < QUERY_SAMPLES; i++)
        hist_record(&h, log_uniform());
    for (int r = 0; r < RUNS; r++)
        query[r] = bench_percentile(&h);
    hist_iter_init(&it, &h);
    while (hist_iter_next(&it))
        in_use++;

    printf("hist_record: %.1f ns/op\n", median(rec));
    printf("hist_percentile: %.1f ns/op (%u samples, %u buckets in use)\n", median(query),
           QUERY_SAMPLES, in_use);
    hist_free(&h);
    return 0;
}
