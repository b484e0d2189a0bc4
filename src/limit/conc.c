#include "limit/conc.h"

#include <stdint.h>

void conc_decide(const algo_params *p, const algo_state *st, uint64_t now, uint64_t cost,
                 algo_state *next, algo_verdict *v)
{
    uint64_t held = st->a;

    *next = *st;
    v->quota = p->quota;
    v->wait_ns = 0;
    v->reset_ns = 0;
    v->conforms = cost <= p->quota && held <= p->quota - cost;
    if (v->conforms) {
        held += cost;
        next->a = held;
    }
    v->remaining = held < p->quota ? p->quota - held : 0;
    v->full_at = held > 0 ? UINT64_MAX : now;
}

uint64_t conc_release(const algo_params *p, algo_state *st, uint64_t cost)
{
    (void)p;
    st->a = st->a > cost ? st->a - cost : 0;
    return st->a > 0 ? UINT64_MAX : 0;
}
