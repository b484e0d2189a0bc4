#include "limit/algo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "limit/conc.h"
#include "limit/gcra.h"
#include "limit/window.h"

static const algo_ops algo_table[ALGO_COUNT] = {
    [ALGO_GCRA] = {"gcra", gcra_decide, NULL},
    [ALGO_FIXED_WINDOW] = {"fixed_window", window_fixed_decide, NULL},
    [ALGO_SLIDING_WINDOW] = {"sliding_window", window_sliding_decide, NULL},
    [ALGO_CONCURRENCY] = {"concurrency", conc_decide, conc_release},
};

const algo_ops *algo_get(enum algo_kind kind)
{
    return &algo_table[kind];
}

const char *algo_name(enum algo_kind kind)
{
    return algo_table[kind].name;
}

int algo_parse(const char *name, enum algo_kind *out, char *err, size_t errlen)
{
    for (int k = 0; k < ALGO_COUNT; k++) {
        if (strcmp(name, algo_table[k].name) == 0) {
            *out = (enum algo_kind)k;
            return 0;
        }
    }
    if (strcmp(name, "token_bucket") == 0) {
        *out = ALGO_GCRA;
        return 0;
    }
    return err_set(err, errlen, -EINVAL,
                   "algorithm: unknown '%s', expected gcra, fixed_window, sliding_window or "
                   "concurrency",
                   name);
}

static int algo_params_gcra(algo_params *p, char *err, size_t errlen)
{
    uint64_t whole, carry;

    /* T = period / count, exactly: t_ns + t_frac / count. */
    p->t_ns = p->period_ns / p->count;
    p->t_frac = p->period_ns % p->count;
    /* quota * T; quota * t_frac < 2^64 because both are below 2^32. */
    if (__builtin_mul_overflow(p->quota, p->t_ns, &whole) || whole > ALGO_MAX_SPAN_NS)
        goto too_long;
    carry = p->quota * p->t_frac;
    p->tol_ns = whole + carry / p->count;
    p->tol_frac = carry % p->count;
    if (p->tol_ns > ALGO_MAX_SPAN_NS)
        goto too_long;
    return 0;
too_long:
    return err_set(err, errlen, -ERANGE,
                   "burst: %" PRIu64 " at %" PRIu64 " per %" PRIu64
                   " ns takes more than 100 years to refill",
                   p->quota, p->count, p->period_ns);
}

int algo_params_init(algo_params *p, enum algo_kind kind, units_rate rate, uint64_t burst,
                     uint64_t cap, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    if (kind == ALGO_CONCURRENCY) {
        if (cap == 0 || cap > ALGO_MAX_UNITS)
            return err_set(err, errlen, -ERANGE,
                           "concurrency: %" PRIu64 " is out of range, expected 1 to %llu", cap,
                           ALGO_MAX_UNITS);
        p->quota = cap;
        return 0;
    }
    if (rate.count == 0 || rate.period_ns == 0)
        return err_set(err, errlen, -EINVAL, "rate: missing, expected N/unit (e.g. 300/min)");
    if (rate.count > ALGO_MAX_UNITS)
        return err_set(err, errlen, -ERANGE,
                       "rate: count %" PRIu64 " is too large, at most %llu per period", rate.count,
                       ALGO_MAX_UNITS);
    if (rate.period_ns > ALGO_MAX_SPAN_NS)
        return err_set(err, errlen, -ERANGE, "rate: period is longer than 100 years");
    p->count = rate.count;
    p->period_ns = rate.period_ns;
    if (burst == 0)
        burst = rate.count;
    if (kind != ALGO_GCRA && burst != rate.count)
        return err_set(err, errlen, -EINVAL,
                       "burst: only gcra takes a burst; a %s admits the rate's count (%" PRIu64
                       ") per window",
                       algo_name(kind), rate.count);
    if (burst > ALGO_MAX_UNITS)
        return err_set(err, errlen, -ERANGE, "burst: %" PRIu64 " is too large, at most %llu", burst,
                       ALGO_MAX_UNITS);
    p->quota = burst;
    if (kind == ALGO_GCRA)
        return algo_params_gcra(p, err, errlen);
    return 0;
}
