/*
 * vu: a virtual user of `tollgate run`: runs iterations of a scenario's
 * steps on its event loop, one request at a time.
 *
 * An iteration runs the scenario's setup steps first if this VU has not run
 * them yet, then its steps in order. For each step, a logical request:
 *
 *   1. the request is built (run/reqbuild.h) with the VU's variables (values
 *      captured by earlier steps, then the CSV row) and the built-ins; with
 *      OAuth, the VU's client token is added (waiting for it if needed); a
 *      variable that is not set fails the iteration with the reason;
 *   2. before every send, the target's retry gate (run/sgate.h) is asked;
 *      a send it holds waits until a time drawn within the window after it
 *      opens (sgate_release), then asks again;
 *   3. each attempt is recorded in the thread's stats and the JTL; the
 *      Retry-After of a response closes the gate when the step's policy
 *      honours it; an expected status ends the logical request (captures are
 *      taken); otherwise retry_decide says whether to send again and after
 *      what delay (backoff plus Retry-After), and a 401 with OAuth forgets
 *      the token and sends once more with a new one. Every retry renders the
 *      request again (1.), so it carries the variables as they are then and
 *      a fresh token. A step whose policy has `restart_from` does not send
 *      itself again: after the delay the VU goes back to the named earlier
 *      step (say, a GET that captures a fresh version) and runs the steps
 *      from there; when it reaches this step again, the same logical request
 *      goes on (its attempts, backoff and intended start are kept, for
 *      max_attempts and the report), with a newly rendered request;
 *   4. the logical request is recorded with its end-to-end latency from its
 *      intended start: the iteration's intended start for the first step
 *      (the schedule's time, so a late send counts), the previous step's end
 *      plus think time for the others. The iteration goes on with the next
 *      step after the step's think time, also when a step failed.
 *
 * When the iteration ends (or fails, or is interrupted) the VU tells its
 * executor (exec_iteration_done); a logical request still waiting for a
 * restart to come back to it is then recorded as failed, and so is one whose
 * retry could not be built (a variable a restart failed to capture). Once
 * the worker is stopping, a VU sends nothing new: an iteration waiting on a
 * timer ends at once and one in flight ends when its response arrives.
 */
#ifndef TG_RUN_VU_H
#define TG_RUN_VU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "run/engine.h"
#include "run/looptime.h"
#include "run/pool.h"
#include "run/retry.h"

struct xsc;
typedef struct vu vu;

typedef void (*vu_fn)(vu *v);

/* A logical request waiting for the steps of a restart (retry.restart_from)
 * to come back to its step. */
typedef struct vu_suspended {
    bool on;
    retry_request rr;  /* attempts and previous backoff, for retry_decide */
    uint32_t attempts; /* attempts sent, for the report */
    uint64_t intended; /* its intended start (monotonic ns) */
} vu_suspended;

struct vu {
    worker *w;
    struct xsc *x;
    eng_scenario *sc;
    uint32_t index;      /* 0-based within the scenario, over every loop */
    uint64_t number;     /* {{vu}} */
    uint64_t iterations; /* iterations started ({{iteration}} of the current one is this - 1) */
    char thread_name[64];

    /* The current iteration. */
    bool running;
    bool in_start;   /* vu_start is on the stack */
    bool setup_done; /* the setup steps ran */
    bool in_setup;
    size_t step; /* index into the setup or the steps */
    const plan_step *ps;
    const eng_step *es;
    uint64_t iter_intended; /* monotonic ns */
    uint64_t req_intended;
    uint64_t next_intended;
    bool first_send; /* the next send is the iteration's first (lateness) */

    /* The current logical request. */
    retry_request rr;
    uint32_t attempts;
    bool auth_retried;
    vu_suspended *susp; /* per step of the scenario (setup, then steps) when one has
                         * restart_from, else NULL */
    size_t nsusp;
    pool_req req;
    buf out, scratch, url;
    int send_err; /* pool_send's error, reported from the timer */

    /* Variables: captured values (the scenario's nvars), the CSV row. */
    buf *vals;
    bool *set;
    char (*why)[ENGINE_REASON_MAX];
    size_t missing; /* the variable a render found unset, or SIZE_MAX */
    bool has_row;
    size_t row;

    /* OAuth. */
    size_t client;
    buf bearer;
    uint64_t token_gen;

    lt_timer timer; /* one deadline at a time: wait, backoff, gate, think time, start */
    vu_fn timer_fn;

    /* The executor's. */
    uint32_t gindex;       /* thread-group thread / global VU index */
    uint64_t interrupt_at; /* monotonic ns; UINT64_MAX: none */
    bool finished;         /* will run no more iterations */
    bool alive;            /* thread-group: counted as an active thread */
    sched_thread th;       /* thread-group progress */
    vu *next_free;         /* open model: free slots */
};

/* Sets up VU `index` of scenario x (on worker w) with {{vu}} = number.
 * Returns 0 or -ENOMEM (vu_free is then harmless). */
int vu_init(vu *v, worker *w, struct xsc *x, uint32_t index, uint64_t number);

/* Frees what the VU allocated; it must not be running. */
void vu_free(vu *v);

/* Starts an iteration (after the setup steps, the first time) whose intended
 * start is `intended` (monotonic ns, at or before now). The VU must not be
 * running. */
void vu_start(vu *v, uint64_t intended);

/* Starts an iteration at `when` (monotonic ns), from a timer; its intended
 * start is `when`. */
void vu_start_at(vu *v, uint64_t when);

/* Cancels a pending vu_start_at. */
void vu_cancel_start(vu *v);

/* The worker is stopping: a VU waiting on a timer (think time, backoff, the
 * gate, a token) ends its iteration now; one in flight ends when its
 * response arrives. */
void vu_stop(vu *v);

/* Ends the iteration at once, abandoning a request in flight (not recorded):
 * the graceful stop is over. */
void vu_interrupt(vu *v);

#endif
