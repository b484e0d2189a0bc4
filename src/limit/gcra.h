/*
 * gcra: the generic cell rate algorithm, i.e. a token bucket stored as one
 * theoretical arrival time (TAT).
 *
 * With emission interval T = period / count and tolerance quota * T (quota =
 * burst), a charge of `cost` units at `now` conforms iff
 *
 *     max(TAT, now) + cost * T - now <= quota * T
 *
 * and then TAT becomes max(TAT, now) + cost * T. The bucket is full when
 * TAT <= now. Over any horizon H a client that keeps up is admitted exactly
 * quota + floor(H * count / period) units (± 1 for where H ends): T and TAT
 * are kept as exact fractions (ns plus a remainder in 1/count ns), so no
 * rounding accumulates, whatever the rate.
 */
#ifndef TG_LIMIT_GCRA_H
#define TG_LIMIT_GCRA_H

#include "limit/algo.h"

/* The algo_ops decide function for GCRA (see algo.h). A cost above the quota
 * never conforms; its wait_ns is UINT64_MAX. Otherwise wait_ns is exact: at
 * now + wait_ns the same charge conforms, one nanosecond earlier it does not. */
void gcra_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                 algo_state *next, algo_verdict *v);

#endif
