#include "core/hist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST_HALF (HIST_SUB_COUNT / 2) /* 1024: counters per bucket above bucket 0 */

/* Counter index of a value (<= HIST_HIGHEST). The bucket is the number of bits
 * above the top HIST_SUB_BITS ones (0 for values below 2048); the counter
 * within it is the value's top HIST_SUB_BITS bits. Bucket b >= 1 starts at
 * index (b + 1) * 1024 and its sub-buckets are 1024 .. 2047, hence
 * (b << 10) + (v >> b), which for b = 0 is simply v. */
static inline uint32_t hist_index(uint64_t v)
{
    unsigned bucket =
        63 - (unsigned)__builtin_clzll(v | (HIST_SUB_COUNT - 1)) - (HIST_SUB_BITS - 1);

    return (bucket << (HIST_SUB_BITS - 1)) + (uint32_t)(v >> bucket);
}

/* Lowest value of counter i, and the width of its value range (ns). */
static uint64_t hist_lowest(uint32_t i)
{
    unsigned bucket;

    if (i < HIST_SUB_COUNT)
        return i;
    bucket = (i >> (HIST_SUB_BITS - 1)) - 1;
    return (uint64_t)((i & (HIST_HALF - 1)) | HIST_HALF) << bucket;
}

static uint64_t hist_width(uint32_t i)
{
    if (i < HIST_SUB_COUNT)
        return 1;
    return UINT64_C(1) << ((i >> (HIST_SUB_BITS - 1)) - 1);
}

int hist_init(hist *h)
{
    h->total = 0;
    h->overflows = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->counts = calloc(HIST_COUNTS, sizeof(*h->counts));
    if (h->counts == NULL)
        return -ENOMEM;
    return 0;
}

void hist_free(hist *h)
{
    free(h->counts);
    h->counts = NULL;
    h->total = 0;
    h->overflows = 0;
    h->min = UINT64_MAX;
    h->max = 0;
}

void hist_record_n(hist *h, uint64_t value_ns, uint64_t count)
{
    if (count == 0)
        return;
    if (value_ns > HIST_HIGHEST) {
        value_ns = HIST_HIGHEST;
        h->overflows += count;
    }
    h->counts[hist_index(value_ns)] += count;
    h->total += count;
    if (value_ns < h->min)
        h->min = value_ns;
    if (value_ns > h->max)
        h->max = value_ns;
}

void hist_record(hist *h, uint64_t value_ns)
{
    hist_record_n(h, value_ns, 1);
}

void hist_merge(hist *dst, const hist *src)
{
    uint32_t i, end;

    if (src->total == 0)
        return;
    end = hist_index(src->max);
    for (i = hist_index(src->min); i <= end; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->overflows += src->overflows;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

void hist_reset(hist *h)
{
    uint32_t lo, hi;

    if (h->total != 0) {
        /* Only the counters between min and max can be non-zero. */
        lo = hist_index(h->min);
        hi = hist_index(h->max);
        memset(h->counts + lo, 0, (size_t)(hi - lo + 1) * sizeof(*h->counts));
    }
    h->total = 0;
    h->overflows = 0;
    h->min = UINT64_MAX;
    h->max = 0;
}

uint64_t hist_highest_equivalent(uint64_t value_ns)
{
    uint32_t i;

    if (value_ns > HIST_HIGHEST)
        value_ns = HIST_HIGHEST;
    i = hist_index(value_ns);
    return hist_lowest(i) + hist_width(i) - 1;
}

/* The counter holding the sample of the given rank (1 .. total): the lowest
 * counter whose cumulative count reaches it. Ranks in the upper half are
 * found from the top, where fewer counters usually need to be summed. */
static uint32_t hist_rank_index(const hist *h, uint64_t rank)
{
    uint32_t i = hist_index(h->min);
    uint64_t sum = 0;
    uint64_t above_allowed;

    if (rank <= h->total / 2) {
        for (;; i++) {
            sum += h->counts[i];
            if (sum >= rank)
                return i;
        }
    }
    /* Walking down, stop at the first counter whose samples, added to those
     * above it, exceed the samples allowed above the answer. */
    above_allowed = h->total - rank;
    for (i = hist_index(h->max);; i--) {
        sum += h->counts[i];
        if (sum > above_allowed)
            return i;
    }
}

uint64_t hist_percentile(const hist *h, double p)
{
    uint64_t rank, v;

    if (h->total == 0)
        return 0;
    if (!(p > 0.0))
        p = 0.0;
    if (p > 100.0)
        p = 100.0;
    rank = (uint64_t)(p / 100.0 * (double)h->total + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank > h->total)
        rank = h->total;
    v = hist_highest_equivalent(hist_lowest(hist_rank_index(h, rank)));
    return v < h->max ? v : h->max;
}

void hist_iter_init(hist_iter *it, const hist *h)
{
    it->h = h;
    it->next = h->total != 0 ? hist_index(h->min) : HIST_COUNTS;
    it->lo = 0;
    it->hi = 0;
    it->count = 0;
    it->cumulative = 0;
}

bool hist_iter_next(hist_iter *it)
{
    const hist *h = it->h;
    uint32_t i;

    if (it->cumulative >= h->total)
        return false;
    for (i = it->next; h->counts[i] == 0; i++)
        ;
    it->next = i + 1;
    it->lo = hist_lowest(i);
    it->hi = it->lo + hist_width(i) - 1;
    it->count = h->counts[i];
    it->cumulative += it->count;
    return true;
}

/* The middle of a bucket, where HdrHistogram places its samples for the mean. */
static double hist_iter_mid(const hist_iter *it)
{
    return (double)(it->lo + (it->hi - it->lo + 1) / 2);
}

double hist_mean(const hist *h)
{
    hist_iter it;
    double sum = 0.0;

    if (h->total == 0)
        return 0.0;
    hist_iter_init(&it, h);
    while (hist_iter_next(&it))
        sum += hist_iter_mid(&it) * (double)it.count;
    return sum / (double)h->total;
}

double hist_stddev(const hist *h)
{
    hist_iter it;
    double mean, d, sum = 0.0;

    if (h->total == 0)
        return 0.0;
    mean = hist_mean(h);
    hist_iter_init(&it, h);
    while (hist_iter_next(&it)) {
        d = hist_iter_mid(&it) - mean;
        sum += d * d * (double)it.count;
    }
    return sqrt(sum / (double)h->total);
}

uint64_t hist_min(const hist *h)
{
    return h->total != 0 ? h->min : 0;
}

uint64_t hist_max(const hist *h)
{
    return h->max;
}

uint64_t hist_count(const hist *h)
{
    return h->total;
}

uint64_t hist_overflows(const hist *h)
{
    return h->overflows;
}

/* One row of the distribution; p is a fraction (0 .. 1). */
static int hist_print_row(FILE *out, uint64_t value, double unit_scale, double p, uint64_t total)
{
    double inverse = p < 1.0 ? 1.0 / (1.0 - p) : INFINITY;

    if (fprintf(out, "%12.3f %12f %12" PRIu64 " %12.2f\n", (double)value / unit_scale, p, total,
                inverse) < 0)
        return -EIO;
    return 0;
}

/* The step from one reporting percentile to the next: the remaining distance
 * to 100 is cut in halves, and each half is reported in `ticks` steps. */
static double hist_print_step(double percentile, int ticks)
{
    int halvings = (int)floor(log2(100.0 / (100.0 - percentile)));

    return ldexp(100.0 / ticks, -(halvings + 1));
}

int hist_print_percentiles(FILE *out, const hist *h, int ticks_per_half_distance, double unit_scale)
{
    hist_iter it;
    double target = 0.0; /* next reporting percentile, 0 .. 100 */
    double current;
    uint64_t value = 0;
    int rc;

    if (ticks_per_half_distance < 1 || !(unit_scale > 0.0))
        return -EINVAL;
    if (fprintf(out, "%12s %12s %12s %12s\n\n", "Value", "Percentile", "TotalCount",
                "1/(1-Percentile)") < 0)
        return -EIO;
    hist_iter_init(&it, h);
    while (hist_iter_next(&it)) {
        value = it.hi < h->max ? it.hi : h->max;
        current = 100.0 * (double)it.cumulative / (double)h->total;
        /* Every reporting percentile reached inside this bucket gets a row;
         * the last bucket gets one row, then the final 100 % row below. */
        while (target <= current) {
            rc = hist_print_row(out, value, unit_scale, target / 100.0, it.cumulative);
            if (rc < 0)
                return rc;
            if (it.cumulative == h->total)
                break;
            target += hist_print_step(target, ticks_per_half_distance);
        }
    }
    rc = hist_print_row(out, value, unit_scale, 1.0, h->total);
    if (rc < 0)
        return rc;
    if (fprintf(out,
                "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n"
                "#[Max     = %12.3f, Total count    = %12" PRIu64 "]\n"
                "#[Buckets = %12d, SubBuckets     = %12d]\n",
                hist_mean(h) / unit_scale, hist_stddev(h) / unit_scale,
                (double)hist_max(h) / unit_scale, h->total, HIST_BUCKETS, (int)HIST_SUB_COUNT) < 0)
        return -EIO;
    return 0;
}
