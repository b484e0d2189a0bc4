/*
 * rlhdr: what a response's rate-limit header fields say, in every dialect
 * servers use, reduced to one limit / remaining / reset / Retry-After.
 *
 *   IETF      RateLimit: "name";r=50;t=30   RateLimit-Policy: "name";q=100;w=60
 *             (draft-ietf-httpapi-ratelimit-headers, structured fields; with
 *             several policies the one with the lowest remaining r counts, and
 *             its limit is the q of the policy of the same name; without a
 *             RateLimit field the first policy gives the limit; an integer
 *             policy item, `10;w=1` of older drafts, is its own quota)
 *   DRAFT     RateLimit-Limit / -Remaining / -Reset (drafts 00-06)
 *   X         X-RateLimit-Limit / -Remaining / -Reset
 *   GITHUB    the same names plus x-ratelimit-used or -resource; a missing
 *             remaining is limit - used
 *   ININ      inin-ratelimit-count / -allowed / -reset (Genesys Cloud):
 *             limit = allowed, remaining = allowed - count
 *   RETRY_AFTER  Retry-After, both forms (run/retry_after.h)
 *
 * Names are matched without regard to case. When several dialects are
 * present each value is taken from the first in the order above that has it.
 * A repeated field counts once: its first valid value. Count values must be
 * non-negative integers, optionally followed by `, ...` or `;...` (lists of
 * the drafts); anything else is ignored, never guessed at.
 *
 * Reset values are seconds, possibly with decimals ("1.5"), and servers send
 * either a delay or an epoch time under the same names. One rule reads all
 * of them: a value below 1e9 (31.7 years) is a delay; a value within
 * [now - 1 day, now + 366 days] of the wall clock is epoch seconds (a past
 * one is a reset of 0); a value within that window when read as epoch
 * milliseconds is epoch milliseconds; anything else is ignored. No plausible
 * delay reaches 1e9 s and no plausible epoch time is below it (2001-09-09),
 * so the two cannot be confused.
 *
 * What a whole run saw is accumulated by run/rlhdr_stats.h.
 */
#ifndef TG_RUN_RLHDR_H
#define TG_RUN_RLHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One response header field as slices into the caller's buffer. */
typedef struct rlhdr_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} rlhdr_field;

#define RLHDR_IETF        0x01u /* RateLimit / RateLimit-Policy */
#define RLHDR_DRAFT       0x02u /* RateLimit-Limit / -Remaining / -Reset */
#define RLHDR_X           0x04u /* X-RateLimit-* */
#define RLHDR_GITHUB      0x08u /* x-ratelimit-* with -used or -resource */
#define RLHDR_ININ        0x10u /* inin-ratelimit-* */
#define RLHDR_RETRY_AFTER 0x20u /* Retry-After */

typedef struct rlhdr_info {
    unsigned dialects; /* RLHDR_* bits of dialects that gave at least one valid value */
    bool has_limit, has_remaining, has_reset, has_window, has_retry_after;
    uint64_t limit;          /* requests allowed per window */
    uint64_t remaining;      /* requests left in the current window */
    uint64_t reset_ns;       /* until the current window resets, from now (ns) */
    uint64_t window_ns;      /* the window's length (ns; IETF w=) */
    uint64_t retry_after_ns; /* Retry-After as a delay from now (ns) */
} rlhdr_info;

/* Reads fields[0..n) of one response received at now_wall_ns (epoch ns, for
 * epoch resets and HTTP dates) into *out, which is overwritten. Fields of
 * other names are skipped. Cannot fail; reads nothing past the slices. */
void rlhdr_read(const rlhdr_field *fields, size_t n, uint64_t now_wall_ns, rlhdr_info *out);

/* The dialect names of the bits in `dialects`, e.g. "ietf,x", for reports;
 * writes at most len bytes (NUL included) and returns buf. */
const char *rlhdr_dialect_names(unsigned dialects, char *buf, size_t len);

#endif
