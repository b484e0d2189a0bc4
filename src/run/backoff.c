/*
 * backoff: hand-written because it is a few integer formulas that must take
 * a seeded generator and integer nanoseconds; no Debian library offers
 * retry delays as a pure function.
 */
#include "run/backoff.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/units.h"

/* Growth: the un-jittered delay of retry n. */
typedef uint64_t (*backoff_growth_fn)(const backoff_policy *p, uint32_t n);

/* Jitter: spreads the un-jittered delay v; prev is the previous delay. */
typedef uint64_t (*backoff_jitter_fn)(const backoff_policy *p, uint64_t v, uint64_t prev, rng *r);

static uint64_t backoff_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Uniform integer in [lo, hi] (inclusive); lo when hi <= lo. */
static uint64_t backoff_uniform(rng *r, uint64_t lo, uint64_t hi)
{
    uint64_t span;

    if (hi <= lo)
        return lo;
    span = hi - lo;
    if (span == UINT64_MAX)
        return rng_next(r);
    return lo + rng_below(r, span + 1);
}

static uint64_t backoff_grow_none(const backoff_policy *p, uint32_t n)
{
    return 0;
}

static uint64_t backoff_grow_fixed(const backoff_policy *p, uint32_t n)
{
    return backoff_min(p->base_ns, p->cap_ns);
}

static uint64_t backoff_grow_exponential(const backoff_policy *p, uint32_t n)
{
    uint64_t v = backoff_min(p->base_ns, p->cap_ns);

    /* Stops as soon as the cap is reached or the value no longer grows (a
     * multiplier of 1, or a tiny base under a fractional one), so the loop is
     * short for any n. */
    for (uint32_t i = 0; i < n && v < p->cap_ns; i++) {
        unsigned __int128 next = (unsigned __int128)v * p->multiplier / BACKOFF_MULT_ONE;

        if (next >= p->cap_ns) {
            v = p->cap_ns;
            break;
        }
        if ((uint64_t)next == v)
            break;
        v = (uint64_t)next;
    }
    return v;
}

static uint64_t backoff_jitter_none(const backoff_policy *p, uint64_t v, uint64_t prev, rng *r)
{
    return v;
}

static uint64_t backoff_jitter_full(const backoff_policy *p, uint64_t v, uint64_t prev, rng *r)
{
    return backoff_uniform(r, 0, v);
}

static uint64_t backoff_jitter_equal(const backoff_policy *p, uint64_t v, uint64_t prev, rng *r)
{
    uint64_t half = v / 2;

    /* The random half is v - half, not half, so an odd v can still be reached. */
    return half + backoff_uniform(r, 0, v - half);
}

static uint64_t backoff_jitter_decorrelated(const backoff_policy *p, uint64_t v, uint64_t prev,
                                            rng *r)
{
    uint64_t base = backoff_min(p->base_ns, p->cap_ns);
    uint64_t hi;

    if (prev < base)
        prev = base;
    if (__builtin_mul_overflow(prev, 3, &hi))
        hi = UINT64_MAX;
    return backoff_min(p->cap_ns, backoff_uniform(r, base, hi));
}

static const struct {
    const char *name;
    backoff_growth_fn grow;
} backoff_kinds[BACKOFF_KIND_COUNT] = {
    [BACKOFF_NONE] = {"none", backoff_grow_none},
    [BACKOFF_FIXED] = {"fixed", backoff_grow_fixed},
    [BACKOFF_EXPONENTIAL] = {"exponential", backoff_grow_exponential},
};

static const struct {
    const char *name;
    backoff_jitter_fn apply;
} backoff_jitters[BACKOFF_JITTER_COUNT] = {
    [BACKOFF_JITTER_NONE] = {"none", backoff_jitter_none},
    [BACKOFF_JITTER_FULL] = {"full", backoff_jitter_full},
    [BACKOFF_JITTER_EQUAL] = {"equal", backoff_jitter_equal},
    [BACKOFF_JITTER_DECORRELATED] = {"decorrelated", backoff_jitter_decorrelated},
};

void backoff_policy_default(backoff_policy *p)
{
    p->kind = BACKOFF_EXPONENTIAL;
    p->jitter = BACKOFF_JITTER_FULL;
    p->base_ns = 100000000ULL;  /* 100 ms */
    p->cap_ns = 10000000000ULL; /* 10 s */
    p->multiplier = 2 * BACKOFF_MULT_ONE;
}

int backoff_policy_validate(const backoff_policy *p, char *err, size_t errlen)
{
    char a[32], b[32];

    if ((unsigned)p->kind >= BACKOFF_KIND_COUNT || (unsigned)p->jitter >= BACKOFF_JITTER_COUNT)
        return err_set(err, errlen, -EINVAL, "unknown backoff or jitter kind");
    if (p->base_ns > p->cap_ns) {
        units_format_duration(p->base_ns, a, sizeof(a));
        units_format_duration(p->cap_ns, b, sizeof(b));
        return err_set(err, errlen, -EINVAL, "base %s is larger than cap %s", a, b);
    }
    if (p->multiplier < BACKOFF_MULT_ONE || p->multiplier > BACKOFF_MULT_MAX)
        return err_set(err, errlen, -EINVAL, "multiplier must be between 1 and 1000");
    return 0;
}

uint64_t backoff_target(const backoff_policy *p, uint32_t retry)
{
    return backoff_kinds[p->kind].grow(p, retry);
}

uint64_t backoff_delay(const backoff_policy *p, uint32_t retry, uint64_t prev_ns, rng *r)
{
    if (p->kind == BACKOFF_NONE)
        return 0;
    return backoff_jitters[p->jitter].apply(p, backoff_target(p, retry), prev_ns, r);
}

int backoff_parse_kind(const char *s, backoff_kind *out, char *err, size_t errlen)
{
    for (int k = 0; k < BACKOFF_KIND_COUNT; k++) {
        if (strcasecmp(s, backoff_kinds[k].name) == 0) {
            *out = (backoff_kind)k;
            return 0;
        }
    }
    return err_set(err, errlen, -EINVAL, "\"%s\": expected none, fixed or exponential", s);
}

int backoff_parse_jitter(const char *s, backoff_jitter *out, char *err, size_t errlen)
{
    for (int j = 0; j < BACKOFF_JITTER_COUNT; j++) {
        if (strcasecmp(s, backoff_jitters[j].name) == 0) {
            *out = (backoff_jitter)j;
            return 0;
        }
    }
    return err_set(err, errlen, -EINVAL, "\"%s\": expected none, full, equal or decorrelated", s);
}

int backoff_parse_multiplier(const char *s, uint32_t *out, char *err, size_t errlen)
{
    const char *p = s;
    uint64_t whole = 0, frac = 0;
    int decimals = 0;

    if (!isdigit((unsigned char)*p))
        goto bad;
    while (isdigit((unsigned char)*p) && whole <= BACKOFF_MULT_MAX)
        whole = whole * 10 + (uint64_t)(*p++ - '0');
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            goto bad;
        while (isdigit((unsigned char)*p) && decimals < 3) {
            frac = frac * 10 + (uint64_t)(*p++ - '0');
            decimals++;
        }
        if (isdigit((unsigned char)*p))
            return err_set(err, errlen, -EINVAL, "multiplier \"%s\": at most 3 decimals", s);
        for (; decimals < 3; decimals++)
            frac *= 10;
    }
    if (*p != '\0')
        goto bad;
    if (whole > BACKOFF_MULT_MAX / BACKOFF_MULT_ONE ||
        whole * BACKOFF_MULT_ONE + frac > BACKOFF_MULT_MAX ||
        whole * BACKOFF_MULT_ONE + frac < BACKOFF_MULT_ONE)
        return err_set(err, errlen, -EINVAL, "multiplier \"%s\": must be between 1 and 1000", s);
    *out = (uint32_t)(whole * BACKOFF_MULT_ONE + frac);
    return 0;
bad:
    return err_set(err, errlen, -EINVAL, "multiplier \"%s\": expected a number such as 2 or 1.5",
                   s);
}

const char *backoff_kind_name(backoff_kind k)
{
    return (unsigned)k < BACKOFF_KIND_COUNT ? backoff_kinds[k].name : "?";
}

const char *backoff_jitter_name(backoff_jitter j)
{
    return (unsigned)j < BACKOFF_JITTER_COUNT ? backoff_jitters[j].name : "?";
}
