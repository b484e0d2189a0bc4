#include "limit/window.h"

#include <stdint.h>

typedef unsigned __int128 window_u128;

#define WINDOW_LOW32 0xffffffffULL

void window_fixed_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                         algo_state *next, algo_verdict *v)
{
    uint64_t len = p->period_ns, idx = now / len, used = 0, shift = 0, end;

    *next = *st;
    if (st->a > idx) {
        shift = st->a * len - now;
        idx = st->a;
        now = st->a * len;
    }
    if (st->a == idx)
        used = st->b;
    end = (idx + 1) * len;
    v->quota = p->quota;
    v->wait_ns = 0;
    v->conforms = cost <= p->quota && used + cost <= p->quota;
    if (v->conforms) {
        used += cost;
        next->a = idx;
        next->b = used;
    } else {
        v->wait_ns = cost > p->quota ? UINT64_MAX : end - now + shift;
    }
    v->remaining = used < p->quota ? p->quota - used : 0;
    v->reset_ns = used > 0 ? end - now + shift : 0;
    v->full_at = used > 0 ? end : now;
}

/* ceil(x / d) for a 128-bit x. */
static uint64_t window_ceil_div(window_u128 x, uint64_t d)
{
    if ((x >> 64) == 0)
        return (uint64_t)x / d + ((uint64_t)x % d != 0);
    return (uint64_t)(x / d) + (x % d != 0);
}

/* Earliest offset e in [0, P) of the window after idx where a window holding
 * `prev` units as its previous one admits `cost` (cur = 0), or P if none:
 * prev * (P - e) <= (quota - cost) * P. */
static uint64_t window_next_offset(uint64_t len, uint64_t quota, uint64_t prev, uint64_t cost)
{
    window_u128 room = (window_u128)(quota - cost) * len;
    window_u128 k;

    if (prev == 0)
        return 0;
    k = room / prev; /* P - e <= floor(room / prev) */
    if (k >= len)
        return 0;
    if (k == 0)
        return len;
    return len - (uint64_t)k;
}

static uint64_t window_sliding_wait(uint64_t len, uint64_t quota, uint64_t e, uint64_t prev,
                                    uint64_t cur, uint64_t cost)
{
    uint64_t off;

    /* Still inside this window: prev * (P - e') <= (quota - cur - cost) * P. */
    if (cur + cost <= quota && prev > 0) {
        window_u128 k = (window_u128)(quota - cur - cost) * len / prev;

        if (k > 0)
            return len - (uint64_t)k - e; /* k < P - e, or it would conform now */
    }
    /* The next window, where this one's count becomes the previous one. */
    off = window_next_offset(len, quota, cur, cost);
    if (off < len)
        return len - e + off;
    /* The window after that, where nothing weighs any more. */
    return 2 * len - e;
}

void window_sliding_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                           algo_state *next, algo_verdict *v)
{
    uint64_t len = p->period_ns, q = p->quota, idx = now / len, shift = 0;
    uint64_t e, prev = 0, cur = 0, weighed;
    window_u128 load;

    *next = *st;
    if (st->a > idx) {
        shift = st->a * len - now;
        idx = st->a;
        now = st->a * len;
    }
    e = now - idx * len;
    if (st->a == idx) {
        prev = st->b >> 32;
        cur = st->b & WINDOW_LOW32;
    } else if (st->a + 1 == idx) {
        prev = st->b & WINDOW_LOW32;
    }
    v->quota = q;
    v->wait_ns = 0;
    /* units * ns: prev * (P - e) + (cur + cost) * P <= quota * P */
    load = (window_u128)prev * (len - e) + (window_u128)(cur + cost) * len;
    v->conforms = cost <= q && load <= (window_u128)q * len;
    if (v->conforms) {
        cur += cost;
        next->a = idx;
        next->b = prev << 32 | cur;
    } else {
        v->wait_ns =
            cost > q ? UINT64_MAX : window_sliding_wait(len, q, e, prev, cur, cost) + shift;
    }
    weighed = window_ceil_div((window_u128)prev * (len - e), len);
    v->remaining = cur + weighed < q ? q - cur - weighed : 0;
    if (cur > 0)
        v->full_at = (idx + 2) * len;
    else if (prev > 0 && e < len)
        v->full_at = (idx + 1) * len;
    else
        v->full_at = now;
    v->reset_ns = v->full_at - now + (v->full_at > now ? shift : 0);
}
