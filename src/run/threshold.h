/*
 * threshold: pass/fail conditions on a run's results, so `tollgate run` can
 * gate CI ("throttled_ratio < 0.01", "p99 < 500ms", "goodput > 45/s").
 *
 * An expression is `METRIC OP VALUE` with OP one of < <= > >= == !=. VALUE is
 * written in the metric's own kind of unit: a duration for latencies ("500ms",
 * "1.5s"), a rate for rates ("45/s", "3000/min"), a plain number for ratios
 * ("0.01", or "1%") and for first_throttle_s (seconds), a whole number for
 * counts. A unit on the wrong kind of metric is an error. Parse once when the
 * plan is loaded, evaluate against the final metrics; the caller turns any
 * failure into exit code 99.
 *
 * Hand-written: a one-line grammar whose errors must name the metric and unit.
 */
#ifndef TG_RUN_THRESHOLD_H
#define TG_RUN_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THRESHOLD_EXPR_MAX 128

/* Latency summary, all in nanoseconds. */
typedef struct threshold_latency {
    uint64_t p50, p90, p95, p99, p999, max, mean;
} threshold_latency;

/* What the report fills in before thresholds are evaluated. */
typedef struct threshold_metrics {
    /* Ratios in [0, 1]. */
    double throttled_ratio; /* throttled attempts / attempts */
    double error_ratio;     /* logical requests that failed in the end / logical */
    double retry_ratio;     /* retries / logical requests */
    double dropped_ratio;   /* dropped iterations / (started + dropped) */
    /* Latency per attempt, and end to end per logical request (retries and
     * waits included, from the intended start). */
    threshold_latency attempt;
    threshold_latency end_to_end;
    /* Per second over the run. */
    double rate;    /* achieved: attempts completed / s */
    double goodput; /* logical requests that succeeded / s */
    /* Seconds from the start to the first 429, if there was one. */
    bool has_first_throttle;
    double first_throttle_s;
    /* Counts, as in the report's `requests` object. */
    uint64_t logical, attempts, ok, throttled, client_error, server_error, network_error, retries,
        dropped;
} threshold_metrics;

enum threshold_op {
    THRESHOLD_LT = 0,
    THRESHOLD_LE,
    THRESHOLD_GT,
    THRESHOLD_GE,
    THRESHOLD_EQ,
    THRESHOLD_NE,
};

/* A parsed threshold. */
typedef struct threshold {
    char expr[THRESHOLD_EXPR_MAX]; /* as written, trimmed */
    unsigned metric;               /* internal index */
    enum threshold_op op;
    uint64_t limit_ns; /* latencies */
    uint64_t limit_n;  /* counts */
    double limit;      /* everything, in report units (ms for latencies, per s for rates) */
} threshold;

/* The outcome of one threshold. `value` is what was observed, in report units:
 * milliseconds for latencies, per second for rates, seconds for
 * first_throttle_s (+infinity when there was no 429), the ratio or count
 * itself otherwise. */
typedef struct threshold_result {
    bool pass;
    double value;
} threshold_result;

/* Parses `expr` into *t. Returns 0, or -EINVAL with a message that quotes the
 * expression, e.g.
 *   "p99 < 500 sec": unknown unit 'sec', expected ms, s, m or h
 *   "p98.5x < 1s": unknown metric 'p98.5x', expected one of: throttled_ratio, ...
 *   "error_ratio < 1s": error_ratio is a ratio, expected a plain number such as 0.01 or 1%
 */
int threshold_parse(threshold *t, const char *expr, char *err, size_t errlen);

/* Evaluates a threshold. Latencies and counts compare exactly as integers.
 * A value that is not a number (a ratio of nothing) fails. With no 429 at all,
 * first_throttle_s is +infinity: "first_throttle_s > 5" passes. */
threshold_result threshold_eval(const threshold *t, const threshold_metrics *m);

/* Evaluates n thresholds into out[0..n) and returns how many failed. */
size_t threshold_eval_all(const threshold *t, size_t n, const threshold_metrics *m,
                          threshold_result *out);

/* The metric's name ("p99") and the unit its values are reported in ("ms",
 * "/s", "s" or ""). */
const char *threshold_metric_name(const threshold *t);
const char *threshold_unit(const threshold *t);

#endif
