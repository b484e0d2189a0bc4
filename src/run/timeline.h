/*
 * timeline: the per-second rows of a run (sent, ok, throttled, errors, p50,
 * p99, min remaining), kept by the main thread.
 *
 * Once a second the main thread takes every worker's interval into one
 * stats_interval (stats_take_interval), appends it here with timeline_add,
 * and resets it. A row holds numbers only (about 100 bytes), computed from
 * the interval's histograms when it is added, so memory grows by one row per
 * second, never per sample. A row counts what was recorded between two takes:
 * attempts by the time they ended, `sent` by the time they were sent.
 */
#ifndef TG_RUN_TIMELINE_H
#define TG_RUN_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/stats.h"

typedef struct timeline_row {
    double t_s; /* seconds from the run start to the row's end */
    uint64_t sent, attempts, ok, throttled, errors; /* errors: client + server + network */
    uint64_t logical, logical_ok, dropped;
    bool has_latency;        /* some attempt got a response in the row */
    uint64_t p50_ns, p99_ns; /* attempt latency (ns); 0 without has_latency */
    bool has_e2e;            /* some logical request ended in the row */
    uint64_t e2e_p99_ns;     /* end-to-end latency (ns) */
    bool has_remaining;      /* some response carried a remaining count */
    uint64_t min_remaining;  /* the lowest remaining seen in the row */
} timeline_row;

typedef struct timeline {
    uint64_t run_start_ns; /* monotonic */
    timeline_row *rows;
    size_t n, cap;
} timeline;

/* Initializes an empty timeline of a run that started at run_start_ns
 * (monotonic). Allocates nothing; cannot fail. */
void timeline_init(timeline *tl, uint64_t run_start_ns);

void timeline_free(timeline *tl);

/* Appends the row of interval *iv, which ended at `now` (monotonic ns). The
 * interval is not changed (the caller resets it). Returns 0 or -ENOMEM (the
 * timeline is then unchanged). */
int timeline_add(timeline *tl, const stats_interval *iv, uint64_t now);

/* The last row, or NULL when there is none. */
const timeline_row *timeline_last(const timeline *tl);

#endif
