#include "run/sgate.h"

void sgate_init(sgate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    retry_gate_init(&g->g);
    atomic_init(&g->until_ns, 0);
}

void sgate_free(sgate *g)
{
    pthread_mutex_destroy(&g->lock);
}

void sgate_note(sgate *g, uint64_t now, uint64_t retry_after_ns)
{
    pthread_mutex_lock(&g->lock);
    retry_gate_note(&g->g, now, retry_after_ns);
    atomic_store_explicit(&g->until_ns, g->g.until_ns, memory_order_release);
    pthread_mutex_unlock(&g->lock);
}

uint64_t sgate_wait(sgate *g, uint64_t now)
{
    uint64_t until = atomic_load_explicit(&g->until_ns, memory_order_acquire);

    return until > now ? until - now : 0;
}

uint64_t sgate_release(sgate *g, uint64_t now, rng *r)
{
    uint64_t when;

    if (atomic_load_explicit(&g->until_ns, memory_order_acquire) <= now)
        return now;
    pthread_mutex_lock(&g->lock);
    when = retry_gate_release(&g->g, now, r);
    pthread_mutex_unlock(&g->lock);
    return when;
}
