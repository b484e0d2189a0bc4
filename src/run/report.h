/*
 * report: what every report of a run needs besides the measurements (the
 * report_meta the engine fills), the rates derived from them, and the
 * threshold verdict.
 *
 * The engine fills a report_meta, merges every thread's stats into one
 * (stats_merge), and then: report_eval_thresholds, report_text_write,
 * report_json_write, in any order. Exit codes (decided by the caller): 0 when
 * every threshold passes, 99 when one fails, 2 for a usage error, 1 for a
 * runtime error, 130 after SIGINT (reports written with partial = true).
 */
#ifndef TG_RUN_REPORT_H
#define TG_RUN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"
#include "run/stats.h"
#include "run/threshold.h"

/* What the engine knows about the run. Every pointer is borrowed and must
 * stay valid while reports are written; NULL arrays with a count of 0 are
 * fine. */
typedef struct report_meta {
    const char *plan_name;             /* the plan file, or "--url URL" for the quick form */
    const char *const *scenario_names; /* n_scenarios names */
    size_t n_scenarios;
    const char *const *step_names; /* n_steps names, indexed like the stats' steps */
    size_t n_steps;
    double target_rate;          /* requests per second the plan asks for (open models); 0 closed */
    uint64_t planned_ns;         /* planned duration (ns); 0 when not known (loops) */
    uint64_t duration_ns;        /* measured duration (ns): run start to the last request's end */
    uint64_t start_wall_ns;      /* epoch ns of the run start */
    const threshold *thresholds; /* parsed thresholds; each keeps its text in .expr */
    size_t n_thresholds;
    bool partial;         /* interrupted (SIGINT): reports say so */
    const hist *lateness; /* open models: each iteration's first send minus its intended
                           * start (ns); NULL when no scenario is an open model */
} report_meta;

/* Rates over the measured duration, per second. */
typedef struct report_rates {
    double target;   /* meta->target_rate; 0 (JSON null) for closed models */
    double offered;  /* attempts sent / duration (retries included) */
    double achieved; /* attempts ended / duration */
    double goodput;  /* logical requests that succeeded / duration */
} report_rates;

/* Computes the rates of the merged stats s. A duration of 0 gives rates 0. */
void report_rates_of(const report_meta *m, const stats *s, report_rates *out);

/* Fills *out from the merged stats s: ratios (NaN when their denominator is
 * 0, so that a threshold on them fails, as run/threshold.h says; the
 * dropped ratio divides by iterations started plus dropped, or by logical
 * requests plus dropped when stats_add_iteration was never called),
 * attempt and end-to-end latencies (ns), achieved rate and goodput, the first
 * throttle, and the request counts. */
void report_metrics(const report_meta *m, const stats *s, threshold_metrics *out);

/* Evaluates meta's thresholds against s into out[0 .. m->n_thresholds) and
 * returns how many failed; the caller exits 99 when that is not 0. */
size_t report_eval_thresholds(const report_meta *m, const stats *s, threshold_result *out);

/* The name under which step i is reported: its name, "step N" (1-based)
 * when it has none, and "NAME #K" for the K-th step (K >= 2) of a name
 * already used, so that JSON keys stay unique. Writes at most len bytes
 * (NUL included) and returns buf. */
const char *report_step_name(const report_meta *m, size_t i, char *buf, size_t len);

#endif
