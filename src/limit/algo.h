/*
 * algo: what every limiting algorithm shares -- its parameters, the state it
 * keeps per key, the verdict it returns -- and the table of algorithms
 * (GCRA, fixed window, sliding-window counter, concurrency cap).
 *
 * An algorithm is a pure function of (parameters, state, now, cost): it never
 * stores anything itself, so a store (in-process hash table, later Redis) can
 * run it under its own locking and charge several limits all-or-nothing.
 * Every algorithm keeps its per-key state in 16 bytes, and the all-zero state
 * means "full allowance" for every one of them, so a key that is absent from
 * a store is exactly a key whose state is zero.
 *
 * Arithmetic is integer only. Times are nanoseconds (uint64_t) and must stay
 * below 2^62 (146 years); counts are "units" (one request costs `cost` units).
 */
#ifndef TG_LIMIT_ALGO_H
#define TG_LIMIT_ALGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/units.h"

enum algo_kind {
    ALGO_GCRA = 0,       /* token bucket stored as one theoretical arrival time */
    ALGO_FIXED_WINDOW,   /* `count` units per aligned window of `period_ns` */
    ALGO_SLIDING_WINDOW, /* previous window weighted by its remaining share + current */
    ALGO_CONCURRENCY,    /* at most `quota` requests in flight */
    ALGO_COUNT
};

/* Largest count, burst, cost or cap accepted (units). Sliding windows keep two
 * counters in 32 bits each, and GCRA products stay inside 64 bits. */
#define ALGO_MAX_UNITS 0xffffffffULL
/* Longest period, and longest time a GCRA bucket takes to refill (ns): 100 years. */
#define ALGO_MAX_SPAN_NS (100ULL * 365 * 24 * 3600 * 1000000000ULL)

typedef struct algo_params {
    enum algo_kind kind;
    uint64_t count;     /* rate numerator: units per period (window quota); 0 for concurrency */
    uint64_t period_ns; /* rate denominator, also the window length (ns); 0 for concurrency */
    uint64_t quota;     /* units available from full: GCRA burst, window count, concurrency cap */
    /* GCRA only, derived by algo_params_init: the emission interval
     * T = period_ns / count = t_ns + t_frac / count (ns), and the tolerance
     * quota * T = tol_ns + tol_frac / count (ns), kept exact as fractions. */
    uint64_t t_ns, t_frac;
    uint64_t tol_ns, tol_frac;
} algo_params;

/* Per-key state, 16 bytes. Zero means "full allowance" for every algorithm.
 *   GCRA:        a = theoretical arrival time (ns), b = its fraction (1/count ns)
 *   windows:     a = window index (now / period_ns), b = units used
 *                (sliding: b = previous window's units << 32 | current window's)
 *   concurrency: a = requests in flight */
typedef struct algo_state {
    uint64_t a;
    uint64_t b;
} algo_state;

typedef struct algo_verdict {
    bool conforms;      /* charging `cost` now is within the limit */
    uint64_t quota;     /* units available from full (the `q` of the headers) */
    uint64_t remaining; /* units still available: after the charge if it conforms, else now */
    uint64_t reset_ns;  /* ns until the state is back to full allowance (0: it is) */
    uint64_t wait_ns;   /* ns until this charge would conform (0 if it does now) */
    uint64_t full_at;   /* absolute ns from which the state is full again; UINT64_MAX:
                           not by the passing of time (concurrency held) */
} algo_verdict;

typedef struct algo_ops {
    const char *name;
    /* Evaluates charging `cost` units at `now` against *st and fills *v. If
     * v->conforms, *next receives the charged state; otherwise *next is a copy
     * of *st. A cost of 0 always conforms and reports the current state. Pure:
     * reads nothing but its arguments. */
    void (*decide)(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                   algo_state *next, algo_verdict *v);
    /* Gives back `cost` units held by an earlier conforming charge (only the
     * concurrency cap holds units; NULL for the others). Never goes below
     * zero. Returns the new full_at of the state. */
    uint64_t (*release)(const algo_params *p, algo_state *st, uint64_t cost);
} algo_ops;

/* The operations of an algorithm; `kind` must be valid. */
const algo_ops *algo_get(enum algo_kind kind);

/* "gcra", "fixed_window", "sliding_window" or "concurrency". */
const char *algo_name(enum algo_kind kind);

/* Parses an algorithm name (also "token_bucket" for gcra). On failure returns
 * -EINVAL with a message such as `algorithm: unknown 'gcr', expected gcra,
 * fixed_window, sliding_window or concurrency`. */
int algo_parse(const char *name, enum algo_kind *out, char *err, size_t errlen);

/* Fills *p for a rate-based algorithm (`rate`, `burst` units; burst 0 means
 * rate.count) or for the concurrency cap (`cap` requests; rate and burst
 * ignored). Windows take burst 0 or rate.count only. Returns 0, or -EINVAL
 * or -ERANGE with a message naming the field ("burst: ..."). */
int algo_params_init(algo_params *p, enum algo_kind kind, units_rate rate, uint64_t burst,
                     uint64_t cap, char *err, size_t errlen);

/* Nanoseconds to whole seconds, rounded up. */
static inline uint64_t algo_ceil_s(uint64_t ns)
{
    return ns / 1000000000ULL + (ns % 1000000000ULL != 0);
}

#endif
