#include "run/exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_NEVER UINT64_MAX

static void exec_tick(lt_timer *t, uint64_t now);

static bool exec_is_open(const plan_scenario *ps)
{
    return ps->executor == PLAN_EXEC_CONSTANT_ARRIVAL_RATE ||
           ps->executor == PLAN_EXEC_RAMPING_ARRIVAL_RATE;
}

static uint64_t exec_add(uint64_t a, uint64_t b)
{
    return b > EXEC_NEVER - a ? EXEC_NEVER : a + b;
}

/* ---- setup ---- */

int exec_init(xsc *x, worker *w, eng_scenario *sc, char *err, size_t errlen)
{
    const plan_scenario *ps = sc->ps;
    uint32_t n = w->eng->nthreads, k = w->index, i, count;
    int rc;

    memset(x, 0, sizeof(*x));
    x->w = w;
    x->sc = sc;
    x->ps = ps;
    x->open = exec_is_open(ps);
    x->next_arrival = SCHED_END;
    x->grace_at = EXEC_NEVER;
    looptime_timer_init(&x->timer, exec_tick, x);
    if (x->open) {
        /* Shard k of nshards, with its share of the slots. */
        if (k >= sc->nshards)
            return 0;
        count = sc->max_vus / sc->nshards + (k < sc->max_vus % sc->nshards ? 1 : 0);
        rc = plan_scenario_arrivals_init(ps, &x->it, err, errlen);
        if (rc < 0)
            return rc;
        x->has_arrivals = true;
        sched_arrivals_shard(&x->it, k, sc->nshards);
    } else {
        count = sc->max_vus / n + (k < sc->max_vus % n ? 1 : 0);
    }
    if (count == 0)
        return 0;
    x->vus = calloc(count, sizeof(*x->vus));
    if (x->vus == NULL)
        return -ENOMEM;
    for (i = 0; i < count; i++) {
        /* Global index: loop k takes k, k + N, k + 2N, ... */
        uint32_t g = x->open ? k + i * sc->nshards : k + i * n;
        rc = vu_init(&x->vus[i], w, x, g, (uint64_t)sc->vu_base + g + 1);
        if (rc < 0)
            return rc;
        x->nvus++;
        x->vus[i].gindex = g;
        sched_thread_init(&x->vus[i].th, g);
    }
    if (x->open) {
        for (i = count; i-- > 0;) {
            x->vus[i].next_free = x->free;
            x->free = &x->vus[i];
        }
    }
    return 0;
}

void exec_free(xsc *x)
{
    uint32_t i;

    for (i = 0; i < x->nvus; i++)
        vu_free(&x->vus[i]);
    free(x->vus);
    x->vus = NULL;
    x->nvus = 0;
    if (x->has_arrivals)
        sched_arrivals_free(&x->it);
    x->has_arrivals = false;
}

/* ---- common ---- */

static void exec_finish(xsc *x, uint64_t now)
{
    if (x->done)
        return;
    x->done = true;
    looptime_timer_stop(&x->w->lt, &x->timer);
    worker_scenario_done(x->w, now);
}

static void exec_vu_begin(xsc *x, vu *v)
{
    x->running++;
    atomic_fetch_add_explicit(&x->w->eng->all_active, 1, memory_order_relaxed);
    if (x->ps->executor != PLAN_EXEC_THREAD_GROUP)
        atomic_fetch_add_explicit(&x->sc->active, 1, memory_order_relaxed);
    (void)v;
}

static void exec_vu_end(xsc *x)
{
    x->running--;
    atomic_fetch_sub_explicit(&x->w->eng->all_active, 1, memory_order_relaxed);
    if (x->ps->executor != PLAN_EXEC_THREAD_GROUP)
        atomic_fetch_sub_explicit(&x->sc->active, 1, memory_order_relaxed);
}

/* Starts an iteration of v at `intended`, now or from a timer. */
static void exec_run(xsc *x, vu *v, uint64_t intended)
{
    exec_vu_begin(x, v);
    vu_start(v, intended);
}

/* Arms the scenario timer for the earlier of `when` and the graceful stop. */
static void exec_arm(xsc *x, uint64_t when)
{
    if (x->grace_at < when)
        when = x->grace_at;
    if (when == EXEC_NEVER)
        looptime_timer_stop(&x->w->lt, &x->timer);
    else
        looptime_timer_start(&x->w->lt, &x->timer, when);
}

/* Interrupts every running VU (the graceful stop is over). */
static void exec_interrupt_running(xsc *x)
{
    uint32_t i;

    for (i = 0; i < x->nvus; i++)
        vu_interrupt(&x->vus[i]);
}

/* ---- constant-vus and ramping-vus ---- */

static bool exec_vus_wanted(xsc *x, vu *v, uint64_t rel)
{
    return !x->stopping && sched_vus_active(&x->ps->vus, v->gindex, rel);
}

/* The time a VU starting an iteration at rel is interrupted: graceful
 * ramp-down after it stops being wanted, graceful stop at the end. */
static uint64_t exec_vus_interrupt_at(xsc *x, vu *v, uint64_t rel)
{
    const plan_scenario *ps = x->ps;
    uint64_t off = sched_vus_inactive_at(&ps->vus, v->gindex, rel);
    uint64_t grace = off >= ps->vus.duration_ns || ps->executor == PLAN_EXEC_CONSTANT_VUS
                         ? ps->graceful_stop_ns
                         : ps->graceful_ramp_down_ns;

    return exec_add(exec_add(x->t0, off), grace);
}

static void exec_vus_tick(xsc *x, uint64_t now)
{
    uint64_t rel = now - x->t0, next, earliest = EXEC_NEVER;
    uint32_t i;

    for (i = 0; i < x->nvus; i++) {
        vu *v = &x->vus[i];
        if (v->running && v->interrupt_at <= now)
            vu_interrupt(v);
    }
    for (i = 0; i < x->nvus; i++) {
        vu *v = &x->vus[i];
        if (!v->running && exec_vus_wanted(x, v, rel)) {
            v->interrupt_at = exec_vus_interrupt_at(x, v, rel);
            exec_run(x, v, now);
        }
    }
    if (x->done)
        return;
    for (i = 0; i < x->nvus; i++) {
        if (x->vus[i].running && x->vus[i].interrupt_at < earliest)
            earliest = x->vus[i].interrupt_at;
    }
    next = sched_vus_next_change(&x->ps->vus, rel);
    next = x->stopping || next == SCHED_END ? EXEC_NEVER : exec_add(x->t0, next);
    if (next == EXEC_NEVER && x->running == 0) {
        exec_finish(x, now);
        return;
    }
    exec_arm(x, next < earliest ? next : earliest);
}

static void exec_vus_done(xsc *x, vu *v, uint64_t now)
{
    uint64_t rel = now - x->t0;

    if (exec_vus_wanted(x, v, rel)) {
        v->interrupt_at = exec_vus_interrupt_at(x, v, rel);
        if (v->in_start) {
            /* Ended without waiting for anything: start again from the
             * scenario timer, so that a VU failing at once cannot recurse. */
            exec_arm(x, now);
            return;
        }
        exec_run(x, v, now);
        return;
    }
    if (x->running == 0 && (x->stopping || sched_vus_next_change(&x->ps->vus, rel) == SCHED_END))
        exec_finish(x, now);
}

/* ---- thread-group ---- */

static uint32_t exec_tg_active(xsc *x)
{
    return atomic_load_explicit(&x->sc->active, memory_order_relaxed);
}

/* Thread v is ready at `now`: schedules its next iteration or ends it. A
 * scheduled start counts in x->running, so that stopping finds it. */
static void exec_tg_next(xsc *x, vu *v, uint64_t now)
{
    uint64_t t;

    t = x->stopping ? SCHED_END : sched_tg_next(&x->ps->tg, &v->th, now - x->t0, exec_tg_active(x));
    if (t == SCHED_END) {
        if (!v->finished) {
            v->finished = true;
            x->finished++;
            if (v->alive) {
                v->alive = false;
                atomic_fetch_sub_explicit(&x->sc->active, 1, memory_order_relaxed);
                atomic_fetch_sub_explicit(&x->w->eng->all_active, 1, memory_order_relaxed);
            }
        }
        if (x->finished == x->nvus)
            exec_finish(x, now);
        return;
    }
    x->running++;
    vu_start_at(v, exec_add(x->t0, t));
}

static void exec_tg_done(xsc *x, vu *v, uint64_t now)
{
    x->running--;
    exec_tg_next(x, v, now);
}

void exec_iteration_started(xsc *x, vu *v)
{
    /* A JMeter thread is active from its first iteration until it ends. */
    if (x->ps->executor == PLAN_EXEC_THREAD_GROUP && !v->alive) {
        v->alive = true;
        atomic_fetch_add_explicit(&x->sc->active, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&x->w->eng->all_active, 1, memory_order_relaxed);
    }
}

/* ---- arrival rates ---- */

static void exec_open_tick(xsc *x, uint64_t now)
{
    worker *w = x->w;
    vu *v;

    while (!x->arrivals_done && x->next_arrival != SCHED_END &&
           exec_add(x->t0, x->next_arrival) <= now) {
        v = x->free;
        if (v != NULL) {
            x->free = v->next_free;
            exec_run(x, v, exec_add(x->t0, x->next_arrival));
        } else {
            stats_add_dropped(&w->st, now);
        }
        x->next_arrival = sched_next_arrival(&x->it);
    }
    if (x->done)
        return;
    if (x->next_arrival == SCHED_END || x->stopping) {
        x->arrivals_done = true;
        if (x->running == 0) {
            exec_finish(x, now);
            return;
        }
        if (x->grace_at == EXEC_NEVER)
            x->grace_at = exec_add(exec_add(x->t0, x->it.duration_ns), x->ps->graceful_stop_ns);
        exec_arm(x, EXEC_NEVER);
        return;
    }
    exec_arm(x, exec_add(x->t0, x->next_arrival));
}

static void exec_open_done(xsc *x, vu *v, uint64_t now)
{
    v->next_free = x->free;
    x->free = v;
    if (x->arrivals_done && x->running == 0)
        exec_finish(x, now);
}

/* ---- the executor ---- */

static void exec_tick(lt_timer *t, uint64_t now)
{
    xsc *x = t->data;

    if (x->done)
        return;
    if (now >= x->grace_at) {
        x->grace_at = EXEC_NEVER;
        exec_interrupt_running(x);
        if (x->done)
            return;
    }
    if (x->open)
        exec_open_tick(x, now);
    else if (x->ps->executor == PLAN_EXEC_THREAD_GROUP)
        exec_arm(x, EXEC_NEVER);
    else
        exec_vus_tick(x, now);
}

void exec_start(xsc *x, uint64_t t0)
{
    const plan_scenario *ps = x->ps;
    uint32_t i;

    x->t0 = t0;
    if (x->nvus == 0) {
        exec_finish(x, t0);
        return;
    }
    if (x->open) {
        x->next_arrival = sched_next_arrival(&x->it);
        exec_open_tick(x, t0);
        return;
    }
    if (ps->executor == PLAN_EXEC_THREAD_GROUP) {
        if (ps->tg.duration_ns != 0)
            x->grace_at = exec_add(exec_add(t0, ps->tg.duration_ns), ps->graceful_stop_ns);
        for (i = 0; i < x->nvus && !x->done; i++)
            exec_tg_next(x, &x->vus[i], t0);
        if (!x->done)
            exec_arm(x, EXEC_NEVER);
        return;
    }
    exec_vus_tick(x, t0);
}

void exec_iteration_done(xsc *x, vu *v, uint64_t now)
{
    if (x->open) {
        exec_vu_end(x);
        exec_open_done(x, v, now);
    } else if (x->ps->executor == PLAN_EXEC_THREAD_GROUP) {
        exec_tg_done(x, v, now);
    } else {
        exec_vu_end(x);
        exec_vus_done(x, v, now);
    }
}

void exec_stop(xsc *x)
{
    uint32_t i;

    if (x->done)
        return;
    x->stopping = true;
    if (x->open) {
        x->arrivals_done = true;
        exec_arm(x, EXEC_NEVER);
    }
    for (i = 0; i < x->nvus && !x->done; i++) {
        vu *v = &x->vus[i];
        if (x->ps->executor == PLAN_EXEC_THREAD_GROUP && !v->running && !v->finished) {
            vu_cancel_start(v);
            exec_tg_done(x, v, looptime_now(&x->w->lt));
        } else {
            vu_stop(v);
        }
    }
    if (!x->done && x->running == 0)
        exec_finish(x, looptime_now(&x->w->lt));
}

void exec_interrupt(xsc *x)
{
    if (x->done)
        return;
    exec_interrupt_running(x);
    if (!x->done && x->running == 0)
        exec_finish(x, looptime_now(&x->w->lt));
}
