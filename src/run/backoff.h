/*
 * backoff: how long to wait before the next retry.
 *
 * A policy has a growth kind and a jitter kind. The growth gives the
 * un-jittered delay of retry n (n = 0 before the first retry):
 *
 *   none         0 (retry at once; jitter is ignored)
 *   fixed        min(cap, base)
 *   exponential  min(cap, base * multiplier^n)
 *
 * The jitter then spreads that value v so that clients throttled together do
 * not come back together (definitions of the AWS Architecture Blog,
 * "Exponential Backoff And Jitter"):
 *
 *   none          v
 *   full          uniform in [0, v]                      (mean v/2)
 *   equal         v/2 + uniform in [0, v/2]              (mean 3v/4)
 *   decorrelated  min(cap, uniform in [base, 3 * prev])  (prev = the previous
 *                 delay, base before the first retry)
 *
 * Decorrelated jitter carries its own growth (up to 3x the previous delay) and
 * ignores the multiplier; `backoff: none` still means no delay at all.
 *
 * All values are integer nanoseconds. The multiplier is fixed point in
 * thousandths (2000 = x2, 1500 = x1.5): each step computes
 * v = v * multiplier / 1000 in 128-bit integers, truncating, so a fractional
 * multiplier loses less than 1 ns per step and no floating point is involved.
 * Every computation saturates instead of overflowing.
 *
 * Randomness comes from the caller's seeded rng, so a run is reproducible.
 */
#ifndef TG_RUN_BACKOFF_H
#define TG_RUN_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

typedef enum backoff_kind {
    BACKOFF_NONE,
    BACKOFF_FIXED,
    BACKOFF_EXPONENTIAL,
    BACKOFF_KIND_COUNT
} backoff_kind;

typedef enum backoff_jitter {
    BACKOFF_JITTER_NONE,
    BACKOFF_JITTER_FULL,
    BACKOFF_JITTER_EQUAL,
    BACKOFF_JITTER_DECORRELATED,
    BACKOFF_JITTER_COUNT
} backoff_jitter;

#define BACKOFF_MULT_ONE 1000u      /* multiplier fixed-point unit: x1.000 */
#define BACKOFF_MULT_MAX 1000000u   /* x1000, far beyond any sensible policy */
#define BACKOFF_NO_CAP   UINT64_MAX /* cap_ns value meaning "no cap" */

typedef struct backoff_policy {
    backoff_kind kind;
    backoff_jitter jitter;
    uint64_t base_ns;    /* first delay (ns) */
    uint64_t cap_ns;     /* no delay exceeds this (ns); BACKOFF_NO_CAP for none */
    uint32_t multiplier; /* growth per retry, thousandths (2000 = x2) */
} backoff_policy;

/* Fills *p with exponential growth, base 100 ms, cap 10 s, multiplier 2 and
 * full jitter (the defaults of `--retry N`). Cannot fail. */
void backoff_policy_default(backoff_policy *p);

/* Checks that base <= cap and BACKOFF_MULT_ONE <= multiplier <=
 * BACKOFF_MULT_MAX. Returns 0, or -EINVAL with a message such as
 * `base 20s is larger than cap 10s` in err (if errlen > 0). */
int backoff_policy_validate(const backoff_policy *p, char *err, size_t errlen);

/* The delay (ns) before retry number `retry` (0 before the first retry) of
 * one logical request. `prev_ns` is the delay this function returned for the
 * previous retry of the same request (0 before the first); only decorrelated
 * jitter uses it. `r` is only used by jittered policies and may be NULL when
 * the jitter is none. The policy must have passed backoff_policy_validate. */
uint64_t backoff_delay(const backoff_policy *p, uint32_t retry, uint64_t prev_ns, rng *r);

/* The un-jittered delay of retry `retry` (ns): the "v" above. */
uint64_t backoff_target(const backoff_policy *p, uint32_t retry);

/* Reads "none", "fixed" or "exponential". Returns 0 or -EINVAL with a message
 * naming the accepted words. */
int backoff_parse_kind(const char *s, backoff_kind *out, char *err, size_t errlen);

/* Reads "none", "full", "equal" or "decorrelated". Returns 0 or -EINVAL. */
int backoff_parse_jitter(const char *s, backoff_jitter *out, char *err, size_t errlen);

/* Reads a multiplier such as "2", "1.5" or "1.125" (at most 3 decimals,
 * between 1 and 1000) into thousandths. Returns 0 or -EINVAL. */
int backoff_parse_multiplier(const char *s, uint32_t *out, char *err, size_t errlen);

/* The words above, for reports. */
const char *backoff_kind_name(backoff_kind k);
const char *backoff_jitter_name(backoff_jitter j);

#endif
