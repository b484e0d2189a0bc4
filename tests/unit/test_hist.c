#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hist.h"

#define N_SAMPLES 200000
#define HOUR_NS   (3600 * CLOCK_NS_PER_S)

/* This cmocka has no assert_double_equal. */
#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%.9g is not within %g of %.9g", a_, (double)(tol), b_);                      \
    } while (0)

/* splitmix64: a small deterministic generator, so failures reproduce. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static double rng_normal(double mean, double sd)
{
    double u1 = rng_unit(), u2 = rng_unit();

    return mean + sd * sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

static uint64_t gen_uniform(void)
{
    return CLOCK_NS_PER_US + rng_next() % (100 * CLOCK_NS_PER_MS);
}

static uint64_t gen_log_uniform(void)
{
    double lo = log(1e3), hi = log((double)HOUR_NS);

    return (uint64_t)exp(lo + (hi - lo) * rng_unit());
}

/* 90 % around 2 ms, 10 % around 800 ms. */
static uint64_t gen_bimodal(void)
{
    double v = rng_next() % 10 != 0 ? rng_normal(2e6, 2e5) : rng_normal(8e8, 5e7);

    return v < 1e3 ? CLOCK_NS_PER_US : (uint64_t)v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static uint64_t *fill(hist *h, uint64_t (*gen)(void), size_t n, uint64_t seed)
{
    uint64_t *v = malloc(n * sizeof(*v));

    assert_non_null(v);
    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        v[i] = gen();
        hist_record(h, v[i]);
    }
    qsort(v, n, sizeof(*v), cmp_u64);
    return v;
}

/* The exact value at percentile p, with HdrHistogram's rank rounding. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    uint64_t rank = (uint64_t)(p / 100.0 * (double)n + 0.5);

    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

static void check_distribution(uint64_t (*gen)(void), uint64_t seed)
{
    static const double ps[] = {0, 1, 10, 50, 90, 99, 99.9, 99.99, 100};
    hist h;
    uint64_t *v, exact, got, want;

    assert_int_equal(hist_init(&h), 0);
    v = fill(&h, gen, N_SAMPLES, seed);
    assert_int_equal(hist_count(&h), N_SAMPLES);
    assert_int_equal(hist_min(&h), v[0]);
    assert_int_equal(hist_max(&h), v[N_SAMPLES - 1]);
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        exact = exact_percentile(v, N_SAMPLES, ps[i]);
        got = hist_percentile(&h, ps[i]);
        /* Never below the exact value, above it by at most 0.1 %. */
        assert_true(got >= exact);
        assert_true((double)(got - exact) <= (double)exact * 0.001);
        /* Precisely: the top of the exact value's bucket, capped at max. */
        want = hist_highest_equivalent(exact);
        if (want > v[N_SAMPLES - 1])
            want = v[N_SAMPLES - 1];
        assert_int_equal(got, want);
    }
    assert_int_equal(hist_percentile(&h, 100), v[N_SAMPLES - 1]);
    free(v);
    hist_free(&h);
}

static void test_percentiles_uniform(void **state)
{
    (void)state;
    check_distribution(gen_uniform, 1);
}

static void test_percentiles_log_uniform(void **state)
{
    (void)state;
    check_distribution(gen_log_uniform, 2);
}

static void test_percentiles_bimodal(void **state)
{
    (void)state;
    check_distribution(gen_bimodal, 3);
}

/* The bucket layout, checked against its definition: below 2048 ns every value
 * has its own counter; above, a value with its top bit at position k shares a
 * counter of width 2^(k - 10) aligned on that width. */
static void test_bucket_layout(void **state)
{
    uint64_t v, width, hi;
    int k;

    (void)state;
    assert_int_equal(hist_highest_equivalent(0), 0);
    assert_int_equal(hist_highest_equivalent(2047), 2047);
    assert_int_equal(hist_highest_equivalent(2048), 2049);
    assert_int_equal(hist_highest_equivalent(HIST_HIGHEST), HIST_HIGHEST);
    assert_int_equal(hist_highest_equivalent(UINT64_MAX), HIST_HIGHEST);
    assert_true(HIST_HIGHEST > HOUR_NS);
    assert_true(HIST_COUNTS * sizeof(uint64_t) <= 300 * 1024);
    rng_state = 4;
    for (int i = 0; i < 100000; i++) {
        v = rng_next() >> (rng_next() % 64);
        if (v > HIST_HIGHEST)
            v >>= 22;
        hi = hist_highest_equivalent(v);
        if (v < 2048) {
            assert_int_equal(hi, v);
            continue;
        }
        k = 63 - __builtin_clzll(v);
        width = UINT64_C(1) << (k - 10);
        assert_int_equal(hi, v / width * width + width - 1);
        assert_true((double)(hi - v) < (double)v / 1024.0);
    }
}

static void test_merge_equals_single(void **state)
{
    hist all, parts[3], merged;
    uint64_t v;

    (void)state;
    assert_int_equal(hist_init(&all), 0);
    assert_int_equal(hist_init(&merged), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hist_init(&parts[i]), 0);
    rng_state = 5;
    for (int i = 0; i < 30000; i++) {
        v = i % 3 == 0 ? gen_log_uniform() : gen_bimodal();
        hist_record(&all, v);
        hist_record(&parts[i % 3], v);
    }
    hist_record_n(&all, HIST_HIGHEST + 7, 2);
    hist_record_n(&parts[1], HIST_HIGHEST + 7, 2);
    for (int i = 0; i < 3; i++)
        hist_merge(&merged, &parts[i]);
    assert_memory_equal(merged.counts, all.counts, HIST_COUNTS * sizeof(uint64_t));
    assert_int_equal(hist_count(&merged), 30002);
    assert_int_equal(hist_count(&merged), hist_count(&all));
    assert_int_equal(hist_overflows(&merged), 2);
    assert_int_equal(hist_min(&merged), hist_min(&all));
    assert_int_equal(hist_max(&merged), HIST_HIGHEST);
    assert_int_equal(hist_percentile(&merged, 99.9), hist_percentile(&all, 99.9));
    /* Merging an empty histogram changes nothing. */
    hist_reset(&parts[0]);
    hist_merge(&merged, &parts[0]);
    assert_int_equal(hist_count(&merged), 30002);
    assert_int_equal(hist_min(&merged), hist_min(&all));
    for (int i = 0; i < 3; i++)
        hist_free(&parts[i]);
    hist_free(&merged);
    hist_free(&all);
}

static void test_reset(void **state)
{
    hist h;
    uint64_t *zeros = calloc(HIST_COUNTS, sizeof(uint64_t));
    hist_iter it;

    (void)state;
    assert_non_null(zeros);
    assert_int_equal(hist_init(&h), 0);
    rng_state = 6;
    for (int i = 0; i < 10000; i++)
        hist_record(&h, gen_log_uniform());
    hist_record(&h, HIST_HIGHEST * 2);
    hist_reset(&h);
    assert_memory_equal(h.counts, zeros, HIST_COUNTS * sizeof(uint64_t));
    assert_int_equal(hist_count(&h), 0);
    assert_int_equal(hist_overflows(&h), 0);
    assert_int_equal(hist_min(&h), 0);
    assert_int_equal(hist_max(&h), 0);
    hist_record(&h, 5000);
    assert_int_equal(hist_min(&h), 5000);
    assert_int_equal(hist_max(&h), 5000);
    hist_iter_init(&it, &h);
    assert_true(hist_iter_next(&it));
    assert_int_equal(it.count, 1);
    assert_true(it.lo <= 5000 && 5000 <= it.hi);
    assert_false(hist_iter_next(&it));
    hist_free(&h);
    free(zeros);
}

static void test_min_max_mean_stddev(void **state)
{
    hist h;
    uint64_t *v;
    double mean = 0, var = 0;

    (void)state;
    /* Values below 2048 ns are exact, so mean and stddev are too. */
    assert_int_equal(hist_init(&h), 0);
    hist_record(&h, 100);
    hist_record(&h, 200);
    hist_record_n(&h, 300, 1);
    hist_record(&h, 400);
    assert_int_equal(hist_min(&h), 100);
    assert_int_equal(hist_max(&h), 400);
    assert_int_equal(hist_count(&h), 4);
    assert_near(hist_mean(&h), 250.0, 1e-9);
    assert_near(hist_stddev(&h), sqrt(12500.0), 1e-9);
    hist_free(&h);

    /* Larger values: within half a bucket of the exact figures. */
    assert_int_equal(hist_init(&h), 0);
    v = fill(&h, gen_bimodal, N_SAMPLES, 7);
    for (size_t i = 0; i < N_SAMPLES; i++)
        mean += (double)v[i];
    mean /= N_SAMPLES;
    for (size_t i = 0; i < N_SAMPLES; i++)
        var += ((double)v[i] - mean) * ((double)v[i] - mean);
    var /= N_SAMPLES;
    assert_true(fabs(hist_mean(&h) - mean) <= mean / 2048.0);
    assert_true(fabs(hist_stddev(&h) - sqrt(var)) <= sqrt(var) * 0.001);
    assert_int_equal(hist_min(&h), v[0]);
    assert_int_equal(hist_max(&h), v[N_SAMPLES - 1]);
    free(v);
    hist_free(&h);
}

static void test_clamping(void **state)
{
    hist h;

    (void)state;
    assert_int_equal(hist_init(&h), 0);
    hist_record(&h, CLOCK_NS_PER_MS);
    hist_record(&h, HIST_HIGHEST);
    hist_record(&h, HIST_HIGHEST + 1);
    hist_record(&h, 5 * HOUR_NS);
    hist_record_n(&h, UINT64_MAX, 3);
    assert_int_equal(hist_count(&h), 7);
    assert_int_equal(hist_overflows(&h), 5);
    assert_int_equal(hist_max(&h), HIST_HIGHEST);
    assert_int_equal(hist_percentile(&h, 100), HIST_HIGHEST);
    assert_int_equal(hist_percentile(&h, 50), HIST_HIGHEST);
    assert_int_equal(hist_percentile(&h, 0), hist_highest_equivalent(CLOCK_NS_PER_MS));
    assert_int_equal(h.counts[HIST_COUNTS - 1], 6);
    hist_free(&h);
}

static void test_zero_count(void **state)
{
    hist h;
    hist_iter it;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_int_equal(hist_init(&h), 0);
    hist_record_n(&h, 1234, 0);
    assert_int_equal(hist_count(&h), 0);
    assert_int_equal(hist_min(&h), 0);
    assert_int_equal(hist_max(&h), 0);
    assert_int_equal(hist_percentile(&h, 0), 0);
    assert_int_equal(hist_percentile(&h, 50), 0);
    assert_int_equal(hist_percentile(&h, 100), 0);
    assert_true(hist_mean(&h) == 0.0);
    assert_true(hist_stddev(&h) == 0.0);
    hist_iter_init(&it, &h);
    assert_false(hist_iter_next(&it));
    f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hist_print_percentiles(f, &h, 5, 1e6), 0);
    fclose(f);
    assert_string_equal(text, "       Value   Percentile   TotalCount 1/(1-Percentile)\n"
                              "\n"
                              "       0.000     1.000000            0          inf\n"
                              "#[Mean    =        0.000, StdDeviation   =        0.000]\n"
                              "#[Max     =        0.000, Total count    =            0]\n"
                              "#[Buckets =           32, SubBuckets     =         2048]\n");
    free(text);
    hist_free(&h);
}

static void test_iterator(void **state)
{
    hist h;
    hist_iter it;
    uint64_t seen = 0, prev_hi = 0, buckets = 0;

    (void)state;
    assert_int_equal(hist_init(&h), 0);
    hist_record_n(&h, 10, 3);
    hist_record(&h, 3000);
    hist_record(&h, 3001); /* same 2-ns counter as 3000 */
    hist_record(&h, CLOCK_NS_PER_S);
    hist_iter_init(&it, &h);
    assert_true(hist_iter_next(&it));
    assert_int_equal(it.lo, 10);
    assert_int_equal(it.hi, 10);
    assert_int_equal(it.count, 3);
    assert_true(hist_iter_next(&it));
    assert_int_equal(it.lo, 3000);
    assert_int_equal(it.hi, 3001);
    assert_int_equal(it.count, 2);
    assert_int_equal(it.cumulative, 5);
    assert_true(hist_iter_next(&it));
    assert_true(it.lo <= CLOCK_NS_PER_S && CLOCK_NS_PER_S <= it.hi);
    assert_int_equal(it.cumulative, 6);
    assert_false(hist_iter_next(&it));
    hist_free(&h);

    assert_int_equal(hist_init(&h), 0);
    rng_state = 8;
    for (int i = 0; i < 50000; i++)
        hist_record(&h, gen_log_uniform());
    hist_iter_init(&it, &h);
    while (hist_iter_next(&it)) {
        assert_true(it.count > 0);
        assert_true(buckets == 0 || it.lo > prev_hi);
        assert_true(it.hi >= it.lo);
        seen += it.count;
        assert_int_equal(it.cumulative, seen);
        prev_hi = it.hi;
        buckets++;
    }
    assert_int_equal(seen, 50000);
    assert_true(buckets > 1000);
    hist_free(&h);
}

/* 1 .. 100 ns, one each (exact values), one tick per half distance: the
 * reporting percentiles are 0, 50, 75, 87.5, ... and each row shows the first
 * value whose cumulative share reaches it. */
static void test_print_small_exact(void **state)
{
    hist h;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_int_equal(hist_init(&h), 0);
    for (uint64_t v = 1; v <= 100; v++)
        hist_record(&h, v);
    f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hist_print_percentiles(f, &h, 1, 1.0), 0);
    fclose(f);
    assert_string_equal(text, "       Value   Percentile   TotalCount 1/(1-Percentile)\n"
                              "\n"
                              "       1.000     0.000000            1         1.00\n"
                              "      50.000     0.500000           50         2.00\n"
                              "      75.000     0.750000           75         4.00\n"
                              "      88.000     0.875000           88         8.00\n"
                              "      94.000     0.937500           94        16.00\n"
                              "      97.000     0.968750           97        32.00\n"
                              "      99.000     0.984375           99        64.00\n"
                              "     100.000     0.992188          100       128.00\n"
                              "     100.000     1.000000          100          inf\n"
                              "#[Mean    =       50.500, StdDeviation   =       28.866]\n"
                              "#[Max     =      100.000, Total count    =          100]\n"
                              "#[Buckets =           32, SubBuckets     =         2048]\n");
    free(text);
    hist_free(&h);
}

static void test_print_parse_back(void **state)
{
    static const char *first_ticks[] = {"0.000000", "0.100000", "0.200000", "0.300000",
                                        "0.400000", "0.500000", "0.550000", "0.600000",
                                        "0.650000", "0.700000", "0.750000", "0.775000"};
    hist h;
    uint64_t *v, total, prev_total = 0, top;
    double value, p, inverse, prev_value = -1, prev_p = -1, mean, sd, max;
    char *text = NULL, *line, *save = NULL;
    char pcol[32];
    size_t len = 0, rows = 0;
    int buckets, sub_buckets;
    FILE *f;

    (void)state;
    assert_int_equal(hist_init(&h), 0);
    v = fill(&h, gen_log_uniform, 100000, 9);
    f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hist_print_percentiles(f, &h, 5, 1e6), 0);
    fclose(f);

    line = strtok_r(text, "\n", &save);
    assert_string_equal(line, "       Value   Percentile   TotalCount 1/(1-Percentile)");
    assert_int_equal(text[strlen(line) + 1], '\n'); /* the blank line */
    for (line = strtok_r(NULL, "\n", &save); line != NULL && line[0] != '#';
         line = strtok_r(NULL, "\n", &save)) {
        assert_int_equal(sscanf(line, "%lf %31s %" SCNu64 " %lf", &value, pcol, &total, &inverse),
                         4);
        p = strtod(pcol, NULL);
        if (rows < sizeof(first_ticks) / sizeof(first_ticks[0]))
            assert_string_equal(pcol, first_ticks[rows]);
        assert_true(p >= prev_p && value >= prev_value && total >= prev_total);
        assert_true(total >= 1 && total <= 100000);
        assert_true((double)total >= p * 100000 - 0.1); /* the percentile is reached */
        /* The row's value is the top of the bucket holding its last sample. */
        top = hist_highest_equivalent(v[total - 1]);
        if (top > v[99999])
            top = v[99999];
        assert_near(value, (double)top / 1e6, 0.0005 + 1e-9);
        if (p < 1.0)
            assert_near(inverse, 1.0 / (1.0 - p), 0.005 + 1e-6 * inverse * inverse);
        prev_p = p;
        prev_value = value;
        prev_total = total;
        rows++;
    }
    assert_true(rows > 50);
    assert_true(prev_p == 1.0);
    assert_true(isinf(inverse));
    assert_int_equal(prev_total, 100000);
    assert_near(prev_value, (double)v[99999] / 1e6, 0.0005 + 1e-9);

    assert_non_null(line);
    assert_int_equal(sscanf(line, "#[Mean    = %lf, StdDeviation   = %lf]", &mean, &sd), 2);
    assert_near(mean, hist_mean(&h) / 1e6, 0.0005 + 1e-9);
    assert_near(sd, hist_stddev(&h) / 1e6, 0.0005 + 1e-9);
    line = strtok_r(NULL, "\n", &save);
    assert_non_null(line);
    assert_int_equal(sscanf(line, "#[Max     = %lf, Total count    = %" SCNu64 "]", &max, &total),
                     2);
    assert_near(max, (double)v[99999] / 1e6, 0.0005 + 1e-9);
    assert_int_equal(total, 100000);
    line = strtok_r(NULL, "\n", &save);
    assert_non_null(line);
    assert_int_equal(sscanf(line, "#[Buckets = %d, SubBuckets     = %d]", &buckets, &sub_buckets),
                     2);
    assert_int_equal(buckets, 32);
    assert_int_equal(sub_buckets, 2048);
    assert_null(strtok_r(NULL, "\n", &save));

    assert_int_equal(hist_print_percentiles(stdout, &h, 0, 1.0), -EINVAL);
    assert_int_equal(hist_print_percentiles(stdout, &h, 5, 0.0), -EINVAL);
    free(text);
    free(v);
    hist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_uniform), cmocka_unit_test(test_percentiles_log_uniform),
        cmocka_unit_test(test_percentiles_bimodal), cmocka_unit_test(test_bucket_layout),
        cmocka_unit_test(test_merge_equals_single), cmocka_unit_test(test_reset),
        cmocka_unit_test(test_min_max_mean_stddev), cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_zero_count),          cmocka_unit_test(test_iterator),
        cmocka_unit_test(test_print_small_exact),   cmocka_unit_test(test_print_parse_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
