/*
 * rlhdr_stats: what the rate-limit headers of a run's responses said, for
 * reports: the last limit seen, the lowest remaining, the last reset, and
 * which dialects the server spoke. One per event-loop thread, merged at the
 * end; not thread-safe.
 */
#ifndef TG_RUN_RLHDR_STATS_H
#define TG_RUN_RLHDR_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "run/rlhdr.h"

/* What a run saw across its responses. */
typedef struct rlhdr_stats {
    unsigned dialects;  /* every dialect seen */
    uint64_t responses; /* responses with at least one value */
    bool has_limit, has_remaining, has_reset;
    uint64_t limit;         /* the last limit seen */
    uint64_t limit_seen_ns; /* when it was seen (monotonic ns) */
    uint64_t min_remaining; /* the lowest remaining seen */
    uint64_t reset_ns;      /* the last reset seen, as a delay (ns) */
    uint64_t reset_at_ns;   /* ... and as a monotonic time: seen + delay */
    uint64_t reset_seen_ns; /* when it was seen (monotonic ns) */
} rlhdr_stats;

/* Empties the statistics. Cannot fail. */
void rlhdr_stats_init(rlhdr_stats *s);

/* Records one response's values seen at `now` (monotonic ns); a response
 * without any value changes nothing. */
void rlhdr_stats_add(rlhdr_stats *s, const rlhdr_info *info, uint64_t now);

/* Folds src (another thread's statistics) into dst: the later limit and
 * reset, the lower minimum. */
void rlhdr_stats_merge(rlhdr_stats *dst, const rlhdr_stats *src);

#endif
