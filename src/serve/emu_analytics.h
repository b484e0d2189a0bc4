/*
 * emu_analytics: the synthetic conversation details behind the analytics
 * endpoints (the `analytics_query` and `analytics_summary` kinds live in
 * emu_analytics.c, `analytics_jobs` in emu_jobs.c).
 *
 * Everything is a function of the interval text: its hash (XXH3) seeds the
 * count and every conversation, and conversation i is generated from the hash
 * and i alone, so a page never depends on the pages before it, the same
 * query always gives the same bytes, and a job's results are the query's
 * conversations.
 */
#ifndef TG_SERVE_EMU_ANALYTICS_H
#define TG_SERVE_EMU_ANALYTICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define EMU_INTERVAL_MAX 100     /* bytes of an interval's text */
#define EMU_CONVS_MAX    1000000 /* conversations in any interval, at most */

/* The conversations of one interval. */
typedef struct emu_convs {
    uint64_t seed;            /* XXH3 of the interval's text */
    int64_t start_ms, end_ms; /* epoch ms */
    uint64_t total;           /* how many: totalHits */
} emu_convs;

/* Reads an interval "START/END" (emu_time.h; at most EMU_INTERVAL_MAX bytes)
 * and derives its conversations: 40 to 80 per started hour (chosen by the
 * hash), at most one per millisecond and at most EMU_CONVS_MAX. Returns 0,
 * or -EINVAL. */
int emu_convs_init(emu_convs *cv, const char *interval, size_t len);

/* Appends conversation i (< cv->total) as a JSON object to b. Conversation
 * starts increase with i. Returns 0 or a negative errno from buf. */
int emu_convs_append(const emu_convs *cv, uint64_t i, buf *b);

/* Appends conversations [first, first + n) separated by commas. */
int emu_convs_append_range(const emu_convs *cv, uint64_t first, uint64_t n, buf *b);

#endif
