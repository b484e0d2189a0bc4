/*
 * progress: the live progress line of `tollgate run` on a terminal:
 *
 *   12s/30s  487.5/s  ok 5812  429 3.1%  err 2  p99 41.2ms  in flight 64
 *
 * elapsed / planned duration (whole seconds; no "/total" when the duration is
 * not known), attempts ended per second over the last timeline row, ok
 * attempts, the share of attempts throttled (429), attempts that got another
 * error (client, server or network), the p99 attempt latency of the last
 * timeline row ("p99 -" before there is one), and attempts sent but not ended.
 *
 * It is redrawn in place ("\r", the line, then "\x1b[K" to clear what a
 * longer previous line left) at most 4 times a second, and only when the
 * caller enabled it: output is a terminal and --quiet was not given
 * (progress_enabled). progress_render is pure so tests can check the text.
 */
#ifndef TG_RUN_PROGRESS_H
#define TG_RUN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/stats.h"
#include "run/timeline.h"

#define PROGRESS_INTERVAL_NS 250000000ULL /* at most 4 redraws a second */

/* What the line shows. */
typedef struct progress_snapshot {
    uint64_t elapsed_ns;
    uint64_t total_ns; /* planned duration; 0 when not known */
    double rate;       /* attempts ended per second, recently */
    uint64_t attempts, ok, throttled, errors;
    bool has_p99;
    uint64_t p99_ns; /* recent p99 attempt latency */
    uint64_t in_flight;
} progress_snapshot;

/* The drawing state. */
typedef struct progress {
    int fd;
    bool enabled;
    bool drawn;       /* something is on the line */
    uint64_t last_ns; /* when it was last drawn (monotonic ns) */
} progress;

/* Fills *p from run totals c (stats_peek of every thread), the timeline's
 * last rows (rate and p99; tl may be NULL or empty: the rate is then the
 * average since the start and p99 unknown), and the times. */
void progress_snapshot_fill(progress_snapshot *p, const stats_counts *c, const timeline *tl,
                            uint64_t elapsed_ns, uint64_t total_ns);

/* Writes the line's text (no "\r", no escape, no newline) into buf, at most
 * len bytes with the NUL, and returns the length it has (or would have, as
 * snprintf). */
size_t progress_render(char *buf, size_t len, const progress_snapshot *p);

/* Is a progress line wanted on fd: a terminal, and not --quiet? */
bool progress_enabled(int fd, bool quiet);

/* Prepares drawing on fd; nothing is ever written when !enabled. */
void progress_init(progress *pr, int fd, bool enabled);

/* Draws the line if enabled and at least PROGRESS_INTERVAL_NS passed since
 * the last drawing (the first is drawn at once). Returns 1 when drawn, 0 when
 * not, or a negative errno when writing failed. */
int progress_update(progress *pr, const progress_snapshot *p, uint64_t now);

/* Draws the line now, whatever the time (when enabled). Returns as above. */
int progress_draw(progress *pr, const progress_snapshot *p, uint64_t now);

/* Clears the line if something was drawn, so the summary starts on a clean
 * line. Returns 0 or a negative errno. */
int progress_end(progress *pr);

#endif
