/*
 * window: the two window counters real platforms use, so users can rehearse
 * against either.
 *
 * Fixed window: time is cut into aligned windows [k*P, (k+1)*P) of the
 * `now` timeline; each admits `quota` units. Exact, but a client can get
 * 2 * quota through in an instant across a boundary (the "double burst").
 *
 * Sliding-window counter: the previous window's count weighted by the share
 * of it still inside a window-long span ending now, plus the current count:
 *
 *     admit iff prev * (P - e) / P + cur + cost <= quota     (e = now - k*P)
 *
 * evaluated as prev * (P - e) + (cur + cost) * P <= quota * P in 128 bits,
 * without rounding. Its error bound, against a true sliding log: every
 * aligned window admits at most quota, and any span of length P admits at
 * most 2 * quota - 1 (reached only when the previous window's requests all
 * came at its very end); a client that keeps sending gets quota in its first
 * window and then quota - 1 per window (quota 1: one every second window),
 * because the previous window still weighs (P - e) / P > 0 until the end.
 */
#ifndef TG_LIMIT_WINDOW_H
#define TG_LIMIT_WINDOW_H

#include "limit/algo.h"

/* The algo_ops decide functions (see algo.h). A cost above the quota never
 * conforms (wait_ns UINT64_MAX); otherwise wait_ns is exact. A `now` earlier
 * than the state's window (another thread's slightly older clock reading) is
 * taken as the start of that window. */
void window_fixed_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                         algo_state *next, algo_verdict *v);
void window_sliding_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                           algo_state *next, algo_verdict *v);

#endif
