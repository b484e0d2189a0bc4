/*
 * sched: the schedules of `tollgate run`'s executors, as pure functions of
 * `now` (nanoseconds since the scenario started).
 *
 * Closed model (a fixed set of VUs or threads, each running iterations back to
 * back):
 *   - constant-vus / ramping-vus (k6): how many VUs should be active at `now`
 *     and which ones (the lowest indices), when that number next changes, and
 *     when a given VU stops being wanted (for k6's gracefulRampDown);
 *   - thread-group (JMeter): thread i starts at i * ramp_up / threads, then
 *     runs `loops` iterations or until `duration`, with `think_time` between
 *     iterations and an optional constant-throughput timer;
 *   - the constant-throughput timer itself (JMeter semantics: it only pauses,
 *     never catches up).
 * Open model (iterations start at times fixed in advance, whatever the server
 * does): constant-arrival-rate and ramping-arrival-rate, uniform or Poisson,
 * as an iterator of intended start times.
 *
 * Nothing here reads a clock, sleeps or allocates after init: an executor
 * drives these from a libuv timer (arm the timer for the returned time, call
 * again when it fires). docs/plan-executors.md gives the exact semantics with
 * plan examples. Hand-written because the semantics are tollgate's (k6 and
 * JMeter are programs, not libraries).
 */
#ifndef TG_RUN_SCHED_H
#define TG_RUN_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/units.h"

/* Returned instead of a time when there is nothing more to do. */
#define SCHED_END UINT64_MAX

/* ---------------------------------------------------------------------------
 * constant-vus and ramping-vus
 * ------------------------------------------------------------------------- */

/* One stage of ramping-vus: move linearly from the previous target (or
 * start_vus) to `target` VUs over `duration_ns`. A zero duration is a jump. */
typedef struct sched_stage {
    uint64_t duration_ns;
    uint32_t target; /* VUs */
} sched_stage;

typedef struct sched_vus {
    uint32_t start_vus;
    sched_stage *stages; /* owned copy */
    size_t nstages;
    uint64_t duration_ns; /* sum of the stage durations */
    uint32_t max_vus;     /* the most VUs ever wanted: allocate this many */
} sched_vus;

/* constant-vus: `vus` VUs from 0 until `duration_ns`. Returns 0, or -EINVAL
 * (vus or duration zero) with a message in err, or -ENOMEM. Free with
 * sched_vus_free. */
int sched_vus_init_constant(sched_vus *s, uint32_t vus, uint64_t duration_ns, char *err,
                            size_t errlen);

/* ramping-vus: starts with `start_vus` and follows `stages` (copied; the
 * caller keeps its array). Needs at least one stage and a total duration above
 * zero. Returns 0, -EINVAL with a message, or -ENOMEM. */
int sched_vus_init_ramping(sched_vus *s, uint32_t start_vus, const sched_stage *stages, size_t n,
                           char *err, size_t errlen);

/* Frees the stages; the schedule must be initialized again before reuse. */
void sched_vus_free(sched_vus *s);

/* How many VUs should be active at `now`. Within a stage that moves from
 * `from` to `to` over D, that is from + floor((to - from) * t / D) going up
 * and from - floor((from - to) * t / D) going down (t from the stage start):
 * a VU is added once the line reaches its number and removed once the line
 * reaches the number below it, exactly as k6 steps. 0 from the end on. */
uint32_t sched_vus_target(const sched_vus *s, uint64_t now);

/* Whether VU `vu` (0-based) should start an iteration at `now`: the active VUs
 * are always the lowest indices, vu < sched_vus_target(now). A VU that is no
 * longer wanted finishes the iteration it is running and then stops. */
bool sched_vus_active(const sched_vus *s, uint32_t vu, uint64_t now);

/* The first time after `now` at which sched_vus_target changes, or SCHED_END
 * if it never does again (it is 0 and stays 0). Arm a timer for it. */
uint64_t sched_vus_next_change(const sched_vus *s, uint64_t now);

/* The first time at or after `now` at which VU `vu` is no longer wanted
 * (never later than the end of the schedule). A VU running an iteration at
 * that time gets the graceful ramp-down (or graceful stop, at the end) period
 * from then on to finish it before the executor interrupts it. */
uint64_t sched_vus_inactive_at(const sched_vus *s, uint32_t vu, uint64_t now);

/* ---------------------------------------------------------------------------
 * constant-throughput timer (JMeter)
 * ------------------------------------------------------------------------- */

enum sched_ctt_per {
    SCHED_CTT_THIS_THREAD = 0,    /* each thread is paced to `rate` on its own */
    SCHED_CTT_ALL_ACTIVE_THREADS, /* `rate` is shared: interval = active / rate */
};

/* A constant-throughput timer. rate.count == 0 means no timer. JMeter's field
 * is samples per minute: "600/min" here is JMeter's 600.0. */
typedef struct sched_ctt {
    units_rate rate;
    enum sched_ctt_per per;
} sched_ctt;

/* The pause between two iteration starts of one thread, in ns, rounded up so
 * the timer never lets a thread exceed its rate: ceil(period / count) for
 * this_thread, ceil(active * period / count) for all_active_threads (active is
 * taken as at least 1). 0 when there is no timer. */
uint64_t sched_ctt_interval(const sched_ctt *c, uint32_t active);

/* The time at which a thread that is ready at `now` may start its next
 * iteration: max(now, *last + interval), or `now` when *last is SCHED_END (its
 * first iteration). The result is stored in *last. A thread that is late is not
 * compensated: it starts at `now`, and its next start is measured from there,
 * so lateness never turns into a burst. */
uint64_t sched_ctt_next(const sched_ctt *c, uint64_t *last, uint64_t now, uint32_t active);

/* ---------------------------------------------------------------------------
 * thread-group (JMeter)
 * ------------------------------------------------------------------------- */

/* Filled by the caller (e.g. from the plan), then checked with sched_tg_check. */
typedef struct sched_thread_group {
    uint32_t threads;
    uint64_t ramp_up_ns;
    uint64_t loops;       /* iterations per thread; 0 = until duration */
    uint64_t duration_ns; /* no iteration starts at or after this; 0 = until loops */
    uint64_t think_time_ns;
    sched_ctt ctt;
} sched_thread_group;

/* One thread's progress, kept by the executor. */
typedef struct sched_thread {
    uint32_t index;      /* 0-based */
    uint64_t iterations; /* iterations started so far */
    uint64_t ctt_last;   /* the timer's last release; SCHED_END before the first */
} sched_thread;

/* Returns 0 or -EINVAL with a message (no threads; neither loops nor duration;
 * a timer rate with a zero period). */
int sched_tg_check(const sched_thread_group *tg, char *err, size_t errlen);

/* When thread i starts: i * ramp_up / threads, exactly (integer ns, rounded
 * down). Thread 0 starts at 0. */
uint64_t sched_tg_start(const sched_thread_group *tg, uint32_t i);

/* How many threads have started by `now` (start <= now). */
uint32_t sched_tg_started(const sched_thread_group *tg, uint64_t now);

/* Sets a thread's progress to "not started". */
void sched_thread_init(sched_thread *th, uint32_t index);

/* When thread `th` starts its next iteration, given that it is ready at `now`
 * (for the first call, any time up to its start; afterwards, the time its
 * previous iteration ended), with `active` threads running (for a shared
 * timer). The first iteration starts at max(now, start). Later ones start at
 * ctt(now) + think_time, where ctt(x) is sched_ctt_next (x itself without a
 * timer): JMeter adds its timers, and the throughput timer measures from its
 * own previous release. Returns SCHED_END (and changes nothing) once the
 * thread has run `loops` iterations or when that time is at or after
 * `duration`; otherwise counts the iteration and returns its start. */
uint64_t sched_tg_next(const sched_thread_group *tg, sched_thread *th, uint64_t now,
                       uint32_t active);

/* ---------------------------------------------------------------------------
 * constant-arrival-rate and ramping-arrival-rate
 * ------------------------------------------------------------------------- */

enum sched_arrivals_kind {
    SCHED_ARRIVALS_UNIFORM = 0, /* evenly spaced */
    SCHED_ARRIVALS_POISSON,     /* exponential gaps with the same mean */
};

/* One stage of ramping-arrival-rate: move linearly from the previous rate (or
 * the start rate) to `target` over `duration_ns`. A rate with count 0 is zero
 * (units_parse_rate refuses "0/s", so the plan loader builds it). */
typedef struct sched_rate_stage {
    uint64_t duration_ns;
    units_rate target;
} sched_rate_stage;

/* Internal: one stage in per-ns doubles. */
struct sched_seg {
    uint64_t start_ns;
    uint64_t duration_ns;
    double r0, r1; /* arrivals per ns at the start and end */
    double area0;  /* expected arrivals before the stage */
};

/* An iterator over intended start times. */
typedef struct sched_arrivals {
    enum sched_arrivals_kind kind;
    bool exact;      /* constant uniform: integer formula */
    units_rate rate; /* constant rate (exact) */
    uint64_t duration_ns;
    struct sched_seg *segs; /* owned */
    size_t nsegs;
    double total; /* expected arrivals over the whole schedule */
    uint64_t shard, nshards;
    uint64_t seed;
    rng rng;
    uint64_t n;  /* arrivals returned so far by this iterator */
    double area; /* Poisson: the unit-rate process's position */
    size_t seg;  /* current stage */
} sched_arrivals;

/* constant-arrival-rate: `rate` from 0 until `duration_ns`. Poisson arrivals
 * draw from an rng seeded with `seed`. Returns 0, -EINVAL with a message (zero
 * rate or duration), or -ENOMEM. Free with sched_arrivals_free. */
int sched_arrivals_init_constant(sched_arrivals *it, units_rate rate, uint64_t duration_ns,
                                 enum sched_arrivals_kind kind, uint64_t seed, char *err,
                                 size_t errlen);

/* ramping-arrival-rate: the rate starts at `start_rate` (count 0 = zero) and
 * follows `stages` (copied) linearly, so the expected number of arrivals by
 * time t is the integral of the rate, N(t). Uniform arrival n (0, 1, 2...) is
 * at the t where N(t) = n, solved in closed form per stage (the error is well
 * under 1 ns for any schedule of days). Poisson arrivals are at N(t) = s_k,
 * where s_k are the arrivals of a unit-rate Poisson process. Returns 0,
 * -EINVAL with a message, or -ENOMEM. */
int sched_arrivals_init_ramping(sched_arrivals *it, units_rate start_rate,
                                const sched_rate_stage *stages, size_t n,
                                enum sched_arrivals_kind kind, uint64_t seed, char *err,
                                size_t errlen);

/* Makes this iterator produce only shard k of n (0 <= k < n), for one event
 * loop per thread: uniform arrivals k, k+n, k+2n...; Poisson, an independent
 * process at 1/n of the rate (the superposition of the n shards is a Poisson
 * process at the full rate). Call before the first sched_next_arrival. */
void sched_arrivals_shard(sched_arrivals *it, uint64_t k, uint64_t n);

/* The intended start time (ns) of the next arrival, never earlier than the
 * previous one, or SCHED_END once the schedule's duration is reached. The
 * executor starts the iteration at that time if it has a free slot and counts
 * it as dropped otherwise; latency is measured from this time. */
uint64_t sched_next_arrival(sched_arrivals *it);

/* The expected number of arrivals in [0, now] over all shards, N(now), for
 * reports ("offered" versus "target"). */
double sched_arrivals_expected(const sched_arrivals *it, uint64_t now);

/* The target rate at `now` in arrivals per second, for progress and reports. */
double sched_arrivals_rate_at(const sched_arrivals *it, uint64_t now);

/* Frees the stages. */
void sched_arrivals_free(sched_arrivals *it);

#endif
