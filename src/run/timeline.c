/*
 * timeline: a growable array of rows; percentiles are taken from the
 * interval's histograms when the row is added.
 */
#include "run/timeline.h"

#include <errno.h>
#include <stdlib.h>

void timeline_init(timeline *tl, uint64_t run_start_ns)
{
    tl->run_start_ns = run_start_ns;
    tl->rows = NULL;
    tl->n = tl->cap = 0;
}

void timeline_free(timeline *tl)
{
    free(tl->rows);
    tl->rows = NULL;
    tl->n = tl->cap = 0;
}

int timeline_add(timeline *tl, const stats_interval *iv, uint64_t now)
{
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 64;
        timeline_row *rows = realloc(tl->rows, cap * sizeof(*rows));
        if (!rows)
            return -ENOMEM;
        tl->rows = rows;
        tl->cap = cap;
    }
    timeline_row *r = &tl->rows[tl->n++];
    uint64_t since = now > tl->run_start_ns ? now - tl->run_start_ns : 0;
    /* Whole milliseconds, so that rows print as 1, 2, 3.25 rather than 0.999999. */
    r->t_s = (double)((since + 500000) / 1000000) / 1e3;
    r->sent = iv->sent;
    r->attempts = iv->attempts;
    r->ok = iv->ok;
    r->throttled = iv->throttled;
    r->errors = iv->errors;
    r->logical = iv->logical;
    r->logical_ok = iv->logical_ok;
    r->dropped = iv->dropped;
    r->has_latency = hist_count(&iv->latency) > 0;
    r->p50_ns = hist_percentile(&iv->latency, 50.0);
    r->p99_ns = hist_percentile(&iv->latency, 99.0);
    r->has_e2e = hist_count(&iv->e2e) > 0;
    r->e2e_p99_ns = hist_percentile(&iv->e2e, 99.0);
    r->has_remaining = iv->has_remaining;
    r->min_remaining = iv->has_remaining ? iv->min_remaining : 0;
    return 0;
}

const timeline_row *timeline_last(const timeline *tl)
{
    return tl->n > 0 ? &tl->rows[tl->n - 1] : NULL;
}
