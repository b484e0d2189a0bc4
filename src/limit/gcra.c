#include "limit/gcra.h"

#include <stdint.h>

typedef unsigned __int128 gcra_u128;

/* floor((d_ns * count + d_frac) / period): how many whole intervals T fit in
 * d = d_ns + d_frac / count ns. The product needs 128 bits only for spans of
 * centuries; the common case divides in 64 bits. */
static uint64_t gcra_intervals(const algo_params *p, uint64_t d_ns, uint64_t d_frac)
{
    gcra_u128 x = (gcra_u128)d_ns * p->count + d_frac;

    if ((x >> 64) == 0)
        return (uint64_t)x / p->period_ns;
    return (uint64_t)(x / p->period_ns);
}

/* Fills remaining, reset and full_at for a bucket whose TAT is tat_ns +
 * tat_frac / count, with tat >= now. */
static void gcra_report(const algo_params *p, uint64_t tat_ns, uint64_t tat_frac, uint64_t now,
                        algo_verdict *v)
{
    uint64_t ahead_ns = tat_ns - now; /* TAT - now, whole ns ... */
    uint64_t ahead_frac = tat_frac;   /* ... plus this many 1/count ns */
    uint64_t d_ns, d_frac;

    v->reset_ns = ahead_ns + (ahead_frac != 0);
    v->full_at = tat_ns + (tat_frac != 0);
    /* remaining = floor((tolerance - ahead) / T), 0 if ahead exceeds it. */
    if (ahead_ns > p->tol_ns || (ahead_ns == p->tol_ns && ahead_frac > p->tol_frac)) {
        v->remaining = 0;
        return;
    }
    d_ns = p->tol_ns - ahead_ns;
    if (p->tol_frac >= ahead_frac) {
        d_frac = p->tol_frac - ahead_frac;
    } else {
        d_ns--;
        d_frac = p->tol_frac + p->count - ahead_frac;
    }
    v->remaining = gcra_intervals(p, d_ns, d_frac);
}

void gcra_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                 algo_state *next, algo_verdict *v)
{
    uint64_t tat_ns = st->a, tat_frac = st->b;
    uint64_t carry, new_ns, new_frac, ahead_ns;

    *next = *st;
    v->quota = p->quota;
    v->wait_ns = 0;
    /* A bucket that refilled past full starts from now: TAT = max(TAT, now). */
    if (tat_ns < now) {
        tat_ns = now;
        tat_frac = 0;
    }
    if (cost > p->quota) {
        v->conforms = false;
        v->wait_ns = UINT64_MAX;
        gcra_report(p, tat_ns, tat_frac, now, v);
        return;
    }
    /* new TAT = TAT + cost * T. cost * t_frac + tat_frac < 2^64 since cost,
     * t_frac and tat_frac are all below 2^32; cost * t_ns <= tol_ns. */
    carry = cost * p->t_frac + tat_frac;
    new_ns = tat_ns + cost * p->t_ns;
    new_frac = carry;
    if (carry >= p->count) {
        new_ns += carry / p->count;
        new_frac = carry % p->count;
    }
    ahead_ns = new_ns - now;
    if (ahead_ns < p->tol_ns || (ahead_ns == p->tol_ns && new_frac <= p->tol_frac)) {
        v->conforms = true;
        next->a = new_ns;
        next->b = new_frac;
        gcra_report(p, new_ns, new_frac, now, v);
        return;
    }
    /* wait = ceil(new TAT - now - tolerance), in ns. */
    v->conforms = false;
    if (new_frac >= p->tol_frac)
        v->wait_ns = ahead_ns - p->tol_ns + (new_frac != p->tol_frac);
    else
        v->wait_ns = ahead_ns - p->tol_ns; /* (ahead_ns - tol_ns - 1) + 1 */
    gcra_report(p, tat_ns, tat_frac, now, v);
}
