/*
 * sched: executor schedules. Integer arithmetic (with 128-bit intermediates)
 * wherever a time is an exact function of the plan; closed-form doubles only
 * where the plan asks for a square root (ramping arrival rates).
 */
#include "run/sched.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

typedef unsigned __int128 u128;

/* floor(a * b / c) and ceil(a * b / c), c > 0; the results used here fit. */
static uint64_t sched_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
    u128 r = (u128)a * b / c;

    return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

static uint64_t sched_muldiv_ceil(uint64_t a, uint64_t b, uint64_t c)
{
    u128 r = ((u128)a * b + c - 1) / c;

    return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

static uint64_t sched_add_sat(uint64_t a, uint64_t b)
{
    uint64_t r;

    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* ---- constant-vus and ramping-vus ---- */

int sched_vus_init_constant(sched_vus *s, uint32_t vus, uint64_t duration_ns, char *err,
                            size_t errlen)
{
    sched_stage stage = {.duration_ns = duration_ns, .target = vus};

    memset(s, 0, sizeof(*s));
    if (vus == 0)
        return err_set(err, errlen, -EINVAL, "constant-vus: vus must be at least 1");
    if (duration_ns == 0)
        return err_set(err, errlen, -EINVAL, "constant-vus: duration must be greater than zero");
    return sched_vus_init_ramping(s, vus, &stage, 1, err, errlen);
}

int sched_vus_init_ramping(sched_vus *s, uint32_t start_vus, const sched_stage *stages, size_t n,
                           char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (n == 0)
        return err_set(err, errlen, -EINVAL, "ramping-vus: stages must have at least one stage");
    s->start_vus = start_vus;
    s->max_vus = start_vus;
    for (size_t i = 0; i < n; i++) {
        if (__builtin_add_overflow(s->duration_ns, stages[i].duration_ns, &s->duration_ns) ||
            s->duration_ns == SCHED_END)
            return err_set(err, errlen, -EINVAL, "ramping-vus: stages: total duration too large");
        if (stages[i].target > s->max_vus)
            s->max_vus = stages[i].target;
    }
    if (s->duration_ns == 0)
        return err_set(err, errlen, -EINVAL, "ramping-vus: the stages' total duration is zero");
    s->stages = malloc(n * sizeof(*stages));
    if (s->stages == NULL)
        return -ENOMEM;
    memcpy(s->stages, stages, n * sizeof(*stages));
    s->nstages = n;
    return 0;
}

void sched_vus_free(sched_vus *s)
{
    free(s->stages);
    memset(s, 0, sizeof(*s));
}

/* The stage running at `t` (start <= t < start + duration; zero-length stages
 * are never running), its start and the VU count it starts from. Returns
 * nstages at or after the end. */
static size_t sched_vus_stage_at(const sched_vus *s, uint64_t t, uint64_t *start, uint32_t *from)
{
    uint64_t st = 0;
    uint32_t f = s->start_vus;
    size_t k;

    for (k = 0; k < s->nstages; k++) {
        if (t - st < s->stages[k].duration_ns)
            break;
        st += s->stages[k].duration_ns;
        f = s->stages[k].target;
    }
    *start = st;
    *from = f;
    return k;
}

/* How far the count has moved from `from` at tau into a stage. */
static uint64_t sched_vus_delta(uint32_t from, const sched_stage *st, uint64_t tau)
{
    uint64_t diff = st->target > from ? st->target - from : from - st->target;

    return sched_muldiv(diff, tau, st->duration_ns);
}

uint32_t sched_vus_target(const sched_vus *s, uint64_t now)
{
    uint64_t start, delta;
    uint32_t from;
    size_t k = sched_vus_stage_at(s, now, &start, &from);

    if (k == s->nstages)
        return 0;
    delta = sched_vus_delta(from, &s->stages[k], now - start);
    return s->stages[k].target >= from ? from + (uint32_t)delta : from - (uint32_t)delta;
}

bool sched_vus_active(const sched_vus *s, uint32_t vu, uint64_t now)
{
    return vu < sched_vus_target(s, now);
}

uint64_t sched_vus_next_change(const sched_vus *s, uint64_t now)
{
    uint32_t cur = sched_vus_target(s, now);
    uint64_t t = now;

    for (;;) {
        uint64_t start, diff, tau;
        uint32_t from;
        size_t k = sched_vus_stage_at(s, t, &start, &from);
        const sched_stage *st;

        if (k == s->nstages)
            return cur != 0 && now < s->duration_ns ? s->duration_ns : SCHED_END;
        st = &s->stages[k];
        diff = st->target > from ? st->target - from : from - st->target;
        if (diff > 0) {
            /* The count moves when floor(diff * tau / D) next increases. */
            uint64_t d = sched_vus_delta(from, st, t - start);

            tau = sched_muldiv_ceil(d + 1, st->duration_ns, diff);
            if (tau < st->duration_ns)
                return start + tau;
        }
        t = start + st->duration_ns;
        if (t < s->duration_ns && sched_vus_target(s, t) != cur)
            return t;
    }
}

uint64_t sched_vus_inactive_at(const sched_vus *s, uint32_t vu, uint64_t now)
{
    uint64_t t = now;

    for (;;) {
        uint64_t start, tau;
        uint32_t from;
        size_t k;
        const sched_stage *st;

        if (t >= s->duration_ns || sched_vus_target(s, t) <= vu)
            return t;
        k = sched_vus_stage_at(s, t, &start, &from);
        st = &s->stages[k];
        if (st->target < from && vu >= st->target) {
            /* Going down: VU vu goes once floor((from - to) * tau / D) >= from - vu. */
            tau = sched_muldiv_ceil(from - vu, st->duration_ns, from - st->target);
            if (tau < st->duration_ns)
                return start + tau;
        }
        t = start + st->duration_ns;
    }
}

/* ---- constant-throughput timer ---- */

uint64_t sched_ctt_interval(const sched_ctt *c, uint32_t active)
{
    uint64_t k = 1;

    if (c->rate.count == 0)
        return 0;
    if (c->per == SCHED_CTT_ALL_ACTIVE_THREADS && active > 1)
        k = active;
    return sched_muldiv_ceil(k, c->rate.period_ns, c->rate.count);
}

uint64_t sched_ctt_next(const sched_ctt *c, uint64_t *last, uint64_t now, uint32_t active)
{
    uint64_t next = now;

    if (c->rate.count != 0 && *last != SCHED_END) {
        uint64_t due = sched_add_sat(*last, sched_ctt_interval(c, active));

        if (due > next)
            next = due;
    }
    *last = next;
    return next;
}

/* ---- thread-group ---- */

int sched_tg_check(const sched_thread_group *tg, char *err, size_t errlen)
{
    if (tg->threads == 0)
        return err_set(err, errlen, -EINVAL, "thread-group: threads must be at least 1");
    if (tg->loops == 0 && tg->duration_ns == 0)
        return err_set(err, errlen, -EINVAL, "thread-group: needs loops or duration (or both)");
    if (tg->ctt.rate.count != 0 && tg->ctt.rate.period_ns == 0)
        return err_set(err, errlen, -EINVAL,
                       "thread-group: constant_throughput: the rate has no period");
    if (tg->ctt.per != SCHED_CTT_THIS_THREAD && tg->ctt.per != SCHED_CTT_ALL_ACTIVE_THREADS)
        return err_set(err, errlen, -EINVAL, "thread-group: constant_throughput: unknown per");
    return 0;
}

uint64_t sched_tg_start(const sched_thread_group *tg, uint32_t i)
{
    return sched_muldiv(i, tg->ramp_up_ns, tg->threads);
}

uint32_t sched_tg_started(const sched_thread_group *tg, uint64_t now)
{
    uint64_t n;

    if (tg->ramp_up_ns == 0 || now >= tg->ramp_up_ns)
        return tg->threads;
    /* floor(i * R / T) <= now  <=>  i * R < (now + 1) * T. */
    n = sched_muldiv_ceil(now + 1, tg->threads, tg->ramp_up_ns);
    return n < tg->threads ? (uint32_t)n : tg->threads;
}

void sched_thread_init(sched_thread *th, uint32_t index)
{
    th->index = index;
    th->iterations = 0;
    th->ctt_last = SCHED_END;
}

uint64_t sched_tg_next(const sched_thread_group *tg, sched_thread *th, uint64_t now,
                       uint32_t active)
{
    uint64_t last = th->ctt_last;
    uint64_t t;

    if (tg->loops != 0 && th->iterations >= tg->loops)
        return SCHED_END;
    if (th->iterations == 0) {
        uint64_t start = sched_tg_start(tg, th->index);

        t = sched_ctt_next(&tg->ctt, &last, now > start ? now : start, active);
    } else {
        t = sched_ctt_next(&tg->ctt, &last, now, active);
        t = sched_add_sat(t, tg->think_time_ns);
    }
    if ((tg->duration_ns != 0 && t >= tg->duration_ns) || t == SCHED_END)
        return SCHED_END;
    th->ctt_last = last;
    th->iterations++;
    return t;
}

/* ---- constant-arrival-rate and ramping-arrival-rate ---- */

static double sched_per_ns(units_rate r)
{
    return r.count == 0 ? 0.0 : (double)r.count / (double)r.period_ns;
}

static double sched_seg_area(const struct sched_seg *g, uint64_t tau)
{
    double t = (double)tau;

    return g->r0 * t + (g->r1 - g->r0) * t * t / (2.0 * (double)g->duration_ns);
}

int sched_arrivals_init_ramping(sched_arrivals *it, units_rate start_rate,
                                const sched_rate_stage *stages, size_t n,
                                enum sched_arrivals_kind kind, uint64_t seed, char *err,
                                size_t errlen)
{
    double prev = sched_per_ns(start_rate);

    memset(it, 0, sizeof(*it));
    if (n == 0)
        return err_set(err, errlen, -EINVAL,
                       "ramping-arrival-rate: stages must have at least one stage");
    if (start_rate.count != 0 && start_rate.period_ns == 0)
        return err_set(err, errlen, -EINVAL, "ramping-arrival-rate: start_rate has no period");
    it->segs = calloc(n, sizeof(*it->segs));
    if (it->segs == NULL)
        return -ENOMEM;
    it->nsegs = n;
    for (size_t i = 0; i < n; i++) {
        struct sched_seg *g = &it->segs[i];

        if (stages[i].target.count != 0 && stages[i].target.period_ns == 0) {
            sched_arrivals_free(it);
            return err_set(err, errlen, -EINVAL,
                           "ramping-arrival-rate: stage %zu: rate has no period", i + 1);
        }
        g->start_ns = it->duration_ns;
        g->duration_ns = stages[i].duration_ns;
        g->r0 = prev;
        g->r1 = sched_per_ns(stages[i].target);
        g->area0 = it->total;
        prev = g->r1;
        if (__builtin_add_overflow(it->duration_ns, g->duration_ns, &it->duration_ns) ||
            it->duration_ns == SCHED_END) {
            sched_arrivals_free(it);
            return err_set(err, errlen, -EINVAL, "ramping-arrival-rate: total duration too large");
        }
        if (g->duration_ns > 0)
            it->total += sched_seg_area(g, g->duration_ns);
    }
    if (it->total <= 0.0) {
        sched_arrivals_free(it);
        return err_set(err, errlen, -EINVAL,
                       "ramping-arrival-rate: no arrivals (every rate is zero "
                       "or every stage is empty)");
    }
    it->kind = kind;
    it->nshards = 1;
    it->seed = seed;
    rng_seed(&it->rng, seed);
    return 0;
}

int sched_arrivals_init_constant(sched_arrivals *it, units_rate rate, uint64_t duration_ns,
                                 enum sched_arrivals_kind kind, uint64_t seed, char *err,
                                 size_t errlen)
{
    sched_rate_stage stage = {.duration_ns = duration_ns, .target = rate};
    int rc;

    memset(it, 0, sizeof(*it));
    if (rate.count == 0 || rate.period_ns == 0)
        return err_set(err, errlen, -EINVAL,
                       "constant-arrival-rate: rate must be greater than zero");
    if (duration_ns == 0)
        return err_set(err, errlen, -EINVAL,
                       "constant-arrival-rate: duration must be greater than zero");
    rc = sched_arrivals_init_ramping(it, rate, &stage, 1, kind, seed, err, errlen);
    if (rc < 0)
        return rc;
    it->exact = kind == SCHED_ARRIVALS_UNIFORM;
    it->rate = rate;
    return 0;
}

void sched_arrivals_shard(sched_arrivals *it, uint64_t k, uint64_t n)
{
    it->shard = k;
    it->nshards = n > 0 ? n : 1;
    rng_seed(&it->rng, it->seed ^ (k * 0x9e3779b97f4a7c15ULL));
}

/* The time at which the expected arrival count reaches `a` (< total). */
static uint64_t sched_invert(sched_arrivals *it, double a)
{
    const struct sched_seg *g;
    double m, tau;

    while (it->seg + 1 < it->nsegs && a >= it->segs[it->seg + 1].area0)
        it->seg++;
    g = &it->segs[it->seg];
    m = a - g->area0;
    if (m <= 0.0) {
        tau = 0.0;
    } else if (g->r1 == g->r0) {
        if (g->r0 <= 0.0)
            return SCHED_END;
        tau = m / g->r0;
    } else {
        /* r0 tau + (r1 - r0) tau^2 / 2D = m, in the form that does not cancel. */
        double k = (g->r1 - g->r0) / (double)g->duration_ns;
        double disc = g->r0 * g->r0 + 2.0 * k * m;
        double den = g->r0 + sqrt(disc > 0.0 ? disc : 0.0);

        if (den <= 0.0)
            return SCHED_END;
        tau = 2.0 * m / den;
    }
    if (tau > (double)g->duration_ns)
        tau = (double)g->duration_ns;
    return g->start_ns + (uint64_t)llround(tau);
}

uint64_t sched_next_arrival(sched_arrivals *it)
{
    uint64_t t;

    if (it->kind == SCHED_ARRIVALS_UNIFORM) {
        u128 idx = (u128)it->n * it->nshards + it->shard;

        if (it->exact) {
            u128 q = idx * it->rate.period_ns / it->rate.count;

            if (q >= it->duration_ns)
                return SCHED_END;
            t = (uint64_t)q;
        } else {
            if ((double)idx >= it->total)
                return SCHED_END;
            t = sched_invert(it, (double)idx);
        }
    } else {
        it->area += rng_exponential(&it->rng, 1.0) * (double)it->nshards;
        if (it->area >= it->total)
            return SCHED_END;
        t = sched_invert(it, it->area);
    }
    if (t >= it->duration_ns)
        return SCHED_END;
    it->n++;
    return t;
}

/* The stage running at `now`, or NULL at or after the end. */
static const struct sched_seg *sched_seg_at(const sched_arrivals *it, uint64_t now)
{
    for (size_t i = 0; i < it->nsegs; i++) {
        if (now - it->segs[i].start_ns < it->segs[i].duration_ns)
            return &it->segs[i];
    }
    return NULL;
}

double sched_arrivals_expected(const sched_arrivals *it, uint64_t now)
{
    const struct sched_seg *g = sched_seg_at(it, now);

    if (g == NULL)
        return now >= it->duration_ns ? it->total : 0.0;
    return g->area0 + sched_seg_area(g, now - g->start_ns);
}

double sched_arrivals_rate_at(const sched_arrivals *it, uint64_t now)
{
    const struct sched_seg *g = sched_seg_at(it, now);
    double tau;

    if (g == NULL)
        return 0.0;
    tau = (double)(now - g->start_ns);
    return (g->r0 + (g->r1 - g->r0) * tau / (double)g->duration_ns) * 1e9;
}

void sched_arrivals_free(sched_arrivals *it)
{
    free(it->segs);
    it->segs = NULL;
    it->nsegs = 0;
}
