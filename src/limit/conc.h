/*
 * conc: the concurrency cap -- at most `quota` requests of one key in flight.
 *
 * A conforming charge acquires `cost` slots (one per request); the caller
 * gives them back with the release function when the response is done. The
 * count never goes below zero, so a release that finds nothing held (an
 * unknown key, a double release) changes nothing. The cap has no notion of
 * time: a full cap has no known wait (wait_ns 0, which Retry-After turns
 * into 1 s) and nothing resets by itself (reset_ns 0).
 */
#ifndef TG_LIMIT_CONC_H
#define TG_LIMIT_CONC_H

#include "limit/algo.h"

/* The algo_ops decide function (see algo.h). */
void conc_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                 algo_state *next, algo_verdict *v);

/* The algo_ops release function: gives back up to `cost` slots; returns 0
 * (full again) when none is held any more, else UINT64_MAX. */
uint64_t conc_release(const algo_params *p, algo_state *st, uint64_t cost);

#endif
