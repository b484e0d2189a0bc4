/*
 * report_text: the final summary of `tollgate run` for people, on stdout,
 * readable at 100 columns:
 *
 *   tollgate run: plan.yaml (partial: interrupted)
 *   duration       30.02 s (planned 30 s)
 *   requests       1200 logical (1100 ok, 100 failed), 1350 attempts, 150 retries, 3 dropped
 *     ok                1100   81.5 %
 *     throttled          200   14.8 %   first 429 after 5.20 s
 *     ...
 *   status         200: 1100   404: 20   429: 200   503: 25
 *   rate           target 50.0/s   offered 45.0/s   achieved 45.0/s   goodput 36.7/s
 *   latency ms     p50 12.30   p90 20.10   p99 41.20   p99.9 80.50   max 120.0   mean 14.20
 *   end to end ms  p50 ...
 *   rate limit     limit 300   min remaining 0   reset 12.0 s   (inin, retry-after)
 *   steps ... (a table), give-ups, failures, thresholds with a check mark or a cross.
 *
 * With --latency, HdrHistogram's percentile distribution of attempt latency
 * and of end-to-end latency follows, in milliseconds (core/hist.h's format).
 */
#ifndef TG_RUN_REPORT_TEXT_H
#define TG_RUN_REPORT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "run/report.h"
#include "run/stats.h"

/* Writes the summary of the merged stats s to out. results holds
 * m->n_thresholds results (report_eval_thresholds), or is NULL when they were
 * not evaluated (the thresholds section is then left out). With `latency`,
 * the two percentile distributions follow. Returns 0 or -EIO. */
int report_text_write(FILE *out, const report_meta *m, const stats *s,
                      const threshold_result *results, bool latency);

#endif
