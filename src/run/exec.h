/*
 * exec: a scenario's executor on one event loop: when its VUs start
 * iterations (docs/plan-executors.md has the exact semantics; the times
 * come from run/sched.h).
 *
 *   constant-vus, ramping-vus  VU i runs while i < target(now); a timer at
 *                              each change of the target starts VUs; a VU
 *                              that is no longer wanted ends its iteration,
 *                              and is interrupted graceful_ramp_down (or
 *                              graceful_stop at the end) after that;
 *   thread-group               thread i starts at i x ramp_up / threads,
 *                              then sched_tg_next gives each next start
 *                              (loops, duration, think_time, the constant-
 *                              throughput timer, which never catches up);
 *   constant-/ramping-arrival-rate
 *                              iterations start at the arrival times of this
 *                              loop's shard, each on a free slot of
 *                              max_in_flight; an arrival that finds no free
 *                              slot is counted as dropped, never delayed.
 *
 * A loop's share: VU (thread) g runs on loop g mod N; arrival shard k of
 * nshards with slots max_in_flight / nshards (the first ones get one more).
 * Times passed to sched are relative to the run start; timers are absolute.
 */
#ifndef TG_RUN_EXEC_H
#define TG_RUN_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "run/engine.h"
#include "run/looptime.h"
#include "run/sched.h"
#include "run/vu.h"

typedef struct xsc {
    worker *w;
    eng_scenario *sc;
    const plan_scenario *ps;
    vu *vus; /* this loop's VUs, or slots */
    uint32_t nvus;
    uint32_t running;  /* VUs in an iteration */
    uint32_t finished; /* closed model: VUs done for good */
    bool open;
    bool has_arrivals; /* `it` is initialized */
    bool arrivals_done;
    bool stopping;
    bool done;
    sched_arrivals it;
    uint64_t next_arrival; /* relative ns, SCHED_END */
    vu *free;              /* open model: free slots */
    uint64_t t0;           /* the run start, monotonic ns */
    uint64_t grace_at;     /* interrupt what still runs then (monotonic; UINT64_MAX none) */
    lt_timer timer;        /* arrivals, target changes, the graceful stop */
} xsc;

/* Sets up this loop's share of scenario sc. Returns 0, -ENOMEM, or -EINVAL
 * with a message (the arrival schedule). exec_free is harmless after a
 * failure. */
int exec_init(xsc *x, worker *w, eng_scenario *sc, char *err, size_t errlen);

/* Starts the schedule at t0 (monotonic ns). A scenario with nothing to do on
 * this loop is done at once. */
void exec_start(xsc *x, uint64_t t0);

/* Called by a VU as an iteration starts. */
void exec_iteration_started(xsc *x, vu *v);

/* Called by a VU whose iteration ended (completed, failed or interrupted) at
 * `now`. */
void exec_iteration_done(xsc *x, vu *v, uint64_t now);

/* No new iterations; VUs waiting on timers end now, those in flight when
 * their response arrives. */
void exec_stop(xsc *x);

/* Ends every iteration still running at once. */
void exec_interrupt(xsc *x);

/* Frees the VUs; no iteration may be running. */
void exec_free(xsc *x);

/* Called by exec when this loop's share of a scenario is done (defined by
 * the engine). */
void worker_scenario_done(worker *w, uint64_t now);

#endif
