/*
 * sgate: a retry gate (run/retry.h) shared by every event-loop thread of a
 * run, one per target: once any thread receives a Retry-After from a target,
 * no thread sends to that target before it has passed, and the sends it held
 * are let go spread over a window (retry_gate_release) rather than at once.
 *
 * The gate's state (deadline and start of the closed period) changes under a
 * mutex with retry_gate_note's rule (the longest Retry-After wins; a shorter
 * one never reopens the gate early). The deadline is also kept in an atomic
 * word, so that asking an open gate before every send costs one atomic load
 * and no lock; the lock is taken only to note a Retry-After and to draw a
 * release time from a closed gate, both rare.
 */
#ifndef TG_RUN_SGATE_H
#define TG_RUN_SGATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/rng.h"
#include "run/retry.h"

typedef struct sgate {
    pthread_mutex_t lock;      /* guards g */
    retry_gate g;              /* the whole state */
    _Atomic uint64_t until_ns; /* g.until_ns, readable without the lock; 0: open */
} sgate;

/* Opens the gate. Cannot fail. */
void sgate_init(sgate *g);

/* Releases the mutex; no thread may use the gate any more. */
void sgate_free(sgate *g);

/* Records a Retry-After of retry_after_ns received at `now` (monotonic ns),
 * as retry_gate_note does. Safe from any thread. */
void sgate_note(sgate *g, uint64_t now, uint64_t retry_after_ns);

/* How long (ns) a send at `now` must still wait; 0 when open. Safe from any
 * thread. */
uint64_t sgate_wait(sgate *g, uint64_t now);

/* When (monotonic ns) a send that finds the gate closed at `now` may go, as
 * retry_gate_release draws it with r (the calling thread's generator):
 * uniformly within [until, until + the closed period's length]; `now` when
 * the gate is open. The caller asks the gate again then. Safe from any
 * thread. */
uint64_t sgate_release(sgate *g, uint64_t now, rng *r);

#endif
