/*
 * sgate: a retry gate (run/retry.h) shared by every event-loop thread of a
 * run, one per target: once any thread receives a Retry-After from a target,
 * no thread sends to that target before it has passed.
 *
 * The deadline is one atomic word moved forward with compare-and-swap using
 * retry_gate_note's rule (the longest Retry-After wins; a shorter one never
 * reopens the gate early), so asking the gate before every send costs one
 * atomic load and no lock.
 */
#ifndef TG_RUN_SGATE_H
#define TG_RUN_SGATE_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct sgate {
    _Atomic uint64_t until_ns; /* monotonic ns; 0: open */
} sgate;

/* Opens the gate. Cannot fail. */
void sgate_init(sgate *g);

/* Records a Retry-After of retry_after_ns received at `now` (monotonic ns),
 * as retry_gate_note does. Safe from any thread. */
void sgate_note(sgate *g, uint64_t now, uint64_t retry_after_ns);

/* How long (ns) a send at `now` must still wait; 0 when open. Safe from any
 * thread. */
uint64_t sgate_wait(sgate *g, uint64_t now);

#endif
