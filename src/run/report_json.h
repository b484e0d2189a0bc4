/*
 * report_json: `--json FILE`, the machine-readable report of a run, schema
 * version 1 (every field, its unit and when it is null: docs/report.md).
 *
 * Fields are only ever added within a schema version; a rename, removal or
 * change of meaning increments `version`. Numbers are rounded to a microsecond
 * for milliseconds and to a thousandth otherwise, and printed with at most 12
 * significant digits. The file is written atomically: to a temporary file in
 * the same directory, synced, then renamed over FILE, so a reader never sees
 * half a report, even after Ctrl-C.
 *
 * Built with jansson (libjansson-dev).
 */
#ifndef TG_RUN_REPORT_JSON_H
#define TG_RUN_REPORT_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "run/report.h"
#include "run/stats.h"
#include "run/timeline.h"

#define REPORT_JSON_VERSION 1

/* Builds the report of the merged stats s. tl may be NULL (an empty
 * timeline); results holds m->n_thresholds results from
 * report_eval_thresholds, or is NULL when they were not evaluated (then every
 * threshold is reported with value null and pass false). Returns a new
 * reference the caller json_decref's, or NULL when out of memory. */
json_t *report_json_build(const report_meta *m, const stats *s, const timeline *tl,
                          const threshold_result *results);

/* Builds the report and writes it to `path` atomically (temp file + rename).
 * Returns 0, or a negative errno with a message naming the file in err. */
int report_json_write(const char *path, const report_meta *m, const stats *s, const timeline *tl,
                      const threshold_result *results, char *err, size_t errlen);

#endif
