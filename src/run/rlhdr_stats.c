/*
 * rlhdr_stats: a few fields folded per response; nothing to borrow.
 */
#include "run/rlhdr_stats.h"

#include <string.h>

void rlhdr_stats_init(rlhdr_stats *s)
{
    memset(s, 0, sizeof(*s));
}

void rlhdr_stats_add(rlhdr_stats *s, const rlhdr_info *info, uint64_t now)
{
    if (!info->has_limit && !info->has_remaining && !info->has_reset && !info->has_window &&
        !info->has_retry_after)
        return;
    s->responses++;
    s->dialects |= info->dialects;
    if (info->has_limit) {
        s->has_limit = true;
        s->limit = info->limit;
        s->limit_seen_ns = now;
    }
    if (info->has_remaining && (!s->has_remaining || info->remaining < s->min_remaining)) {
        s->has_remaining = true;
        s->min_remaining = info->remaining;
    }
    if (info->has_reset) {
        s->has_reset = true;
        s->reset_ns = info->reset_ns;
        s->reset_seen_ns = now;
        if (__builtin_add_overflow(now, info->reset_ns, &s->reset_at_ns))
            s->reset_at_ns = UINT64_MAX;
    }
}

void rlhdr_stats_merge(rlhdr_stats *dst, const rlhdr_stats *src)
{
    dst->dialects |= src->dialects;
    dst->responses += src->responses;
    if (src->has_limit && (!dst->has_limit || src->limit_seen_ns >= dst->limit_seen_ns)) {
        dst->has_limit = true;
        dst->limit = src->limit;
        dst->limit_seen_ns = src->limit_seen_ns;
    }
    if (src->has_remaining && (!dst->has_remaining || src->min_remaining < dst->min_remaining)) {
        dst->has_remaining = true;
        dst->min_remaining = src->min_remaining;
    }
    if (src->has_reset && (!dst->has_reset || src->reset_seen_ns >= dst->reset_seen_ns)) {
        dst->has_reset = true;
        dst->reset_ns = src->reset_ns;
        dst->reset_at_ns = src->reset_at_ns;
        dst->reset_seen_ns = src->reset_seen_ns;
    }
}
