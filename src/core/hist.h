/*
 * hist: a log-linear latency histogram in the HdrHistogram style.
 *
 * Values are nanoseconds (uint64_t). Counters are grouped in buckets: bucket 0
 * holds 2048 counters of width 1 ns (values 0 .. 2047 ns, exact); bucket b >= 1
 * holds 1024 counters of width 2^b ns covering [2^(b+10), 2^(b+11)). A value
 * is therefore kept with a relative error below 1/1024 (three significant
 * decimal digits) from 1 ns up, and in particular over 1 us .. 1 h, which is
 * what a load generator measures. There are HIST_BUCKETS = 32 buckets, so the
 * highest trackable value is HIST_HIGHEST = 2^42 - 1 ns (about 73.3 minutes),
 * and the counters take a constant HIST_COUNTS * 8 = 270,336 bytes, allocated
 * once by hist_init. A unit of 1 ns (rather than HdrHistogram's usual 1 us)
 * keeps sub-microsecond figures such as in-process decision costs exact for
 * the price of 10 more buckets (80 KB).
 *
 * Values above HIST_HIGHEST are recorded as HIST_HIGHEST and counted by
 * hist_overflows. No sample is stored: recording is one counter increment
 * found with a count-leading-zeros and a shift (no division), plus the exact
 * min and max.
 *
 * A histogram is not thread-safe, by design: each thread records into its own
 * and the owner merges them (hist_merge) when the threads are done.
 *
 * Written by hand because Debian packages no C HdrHistogram (only the Java and
 * Go ones); wrk2 embeds its own copy for the same reason. The printed
 * percentile distribution follows the text format of HdrHistogram's
 * percentile output so its plotter reads ours.
 */
#ifndef TG_CORE_HIST_H
#define TG_CORE_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS  11 /* 2^11 = 2048 sub-buckets: 3 significant digits */
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_BUCKETS   32
#define HIST_COUNTS    ((HIST_BUCKETS + 1) << (HIST_SUB_BITS - 1)) /* 33792 counters */
#define HIST_HIGHEST   ((UINT64_C(1) << (HIST_BUCKETS + HIST_SUB_BITS - 1)) - 1) /* ns */

typedef struct hist {
    uint64_t *counts;   /* HIST_COUNTS counters, owned */
    uint64_t total;     /* samples recorded, overflows included */
    uint64_t overflows; /* samples above HIST_HIGHEST, recorded as HIST_HIGHEST */
    uint64_t min;       /* exact smallest recorded value (ns); UINT64_MAX when empty */
    uint64_t max;       /* exact largest recorded value (ns, after clamping); 0 when empty */
} hist;

/* One non-empty bucket, for reports. */
typedef struct hist_iter {
    const hist *h;
    uint32_t next;       /* next counter to look at */
    uint64_t lo;         /* lowest value of the bucket (ns) */
    uint64_t hi;         /* highest value of the bucket, inclusive (ns) */
    uint64_t count;      /* samples in the bucket */
    uint64_t cumulative; /* samples in this bucket and every lower one */
} hist_iter;

/* Initializes an empty histogram, allocating its counters (270 KB). Returns 0,
 * or -ENOMEM with *h left empty (hist_free on it is harmless). */
int hist_init(hist *h);

/* Frees the counters. The histogram must be initialized again before use. */
void hist_free(hist *h);

/* Records one value in nanoseconds. Values above HIST_HIGHEST are recorded as
 * HIST_HIGHEST and counted in hist_overflows. */
void hist_record(hist *h, uint64_t value_ns);

/* Records `count` samples of the same value (count 0 does nothing). */
void hist_record_n(hist *h, uint64_t value_ns, uint64_t count);

/* Adds every sample of src into dst, as if they had been recorded into dst
 * (counts, min, max and overflows). src is unchanged. */
void hist_merge(hist *dst, const hist *src);

/* Forgets every sample, keeping the allocation. */
void hist_reset(hist *h);

/* The value at percentile p (0 <= p <= 100; outside values are clamped), with
 * HdrHistogram's conventions: the sample of rank round(p/100 * count), at
 * least 1, is found in the counters, and the answer is the highest value
 * equivalent to it (the top of its bucket), so it is never below the exact
 * answer and above it by less than 1/1024. The answer is capped at the exact
 * max, so hist_percentile(h, 100) == hist_max(h). Returns 0 when empty. */
uint64_t hist_percentile(const hist *h, double p);

/* The highest value that lands in the same counter as value_ns (the
 * "highest equivalent value"); values above HIST_HIGHEST give HIST_HIGHEST. */
uint64_t hist_highest_equivalent(uint64_t value_ns);

/* Mean and population standard deviation in nanoseconds, computed from the
 * counters with each sample taken at the middle of its bucket (as HdrHistogram
 * does): within 1/2048 of the exact mean. Both are 0 when empty. */
double hist_mean(const hist *h);
double hist_stddev(const hist *h);

/* Exact smallest and largest recorded values (after clamping); 0 when empty. */
uint64_t hist_min(const hist *h);
uint64_t hist_max(const hist *h);

/* Samples recorded (overflows included), and how many of them were above
 * HIST_HIGHEST. */
uint64_t hist_count(const hist *h);
uint64_t hist_overflows(const hist *h);

/* Iterates over the non-empty buckets in increasing order of value:
 *     hist_iter it;
 *     hist_iter_init(&it, h);
 *     while (hist_iter_next(&it))
 *         use(it.lo, it.hi, it.count, it.cumulative);
 * The histogram must not change during the iteration. */
void hist_iter_init(hist_iter *it, const hist *h);
bool hist_iter_next(hist_iter *it);

/* Writes HdrHistogram's "percentile distribution" (the "Detailed Percentile
 * spectrum" of wrk2 --latency), which HdrHistogram's plotter reads: a header
 * line, a blank line, one row per reporting percentile ("Value Percentile
 * TotalCount 1/(1-Percentile)"), a final row at percentile 1.000000, and three
 * "#[...]" lines with mean, standard deviation, max, total count, buckets and
 * sub-buckets. Reporting percentiles step by 1/ticks_per_half_distance of the
 * remaining distance to 100 %, halving the step each time half the remaining
 * distance is covered (ticks 5: 0, 10, ..., 50, 55, ..., 75, 77.5, ...).
 * Values are divided by unit_scale (1e6 prints milliseconds) and shown with
 * three decimals; values are the highest equivalent values, capped at the
 * exact max, and the footer's Max is the exact max. An empty histogram prints
 * a single row of zeros at percentile 1.000000. Returns 0, -EINVAL if
 * ticks_per_half_distance < 1 or unit_scale <= 0, or -EIO if writing fails. */
int hist_print_percentiles(FILE *out, const hist *h, int ticks_per_half_distance,
                           double unit_scale);

#endif
