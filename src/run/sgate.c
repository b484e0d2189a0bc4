#include "run/sgate.h"

#include "run/retry.h"

void sgate_init(sgate *g)
{
    atomic_init(&g->until_ns, 0);
}

void sgate_note(sgate *g, uint64_t now, uint64_t retry_after_ns)
{
    uint64_t cur = atomic_load_explicit(&g->until_ns, memory_order_relaxed);
    retry_gate tmp;

    do {
        tmp.until_ns = cur;
        retry_gate_note(&tmp, now, retry_after_ns);
        if (tmp.until_ns == cur)
            return;
    } while (!atomic_compare_exchange_weak_explicit(&g->until_ns, &cur, tmp.until_ns,
                                                    memory_order_relaxed, memory_order_relaxed));
}

uint64_t sgate_wait(sgate *g, uint64_t now)
{
    retry_gate tmp;

    tmp.until_ns = atomic_load_explicit(&g->until_ns, memory_order_relaxed);
    return retry_gate_wait(&tmp, now);
}
