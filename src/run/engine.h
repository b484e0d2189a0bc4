/*
 * engine: runs a loaded plan (run/plan.h): one libuv loop per thread, each
 * with its own connection pools (run/pool.h), timers (run/looptime.h),
 * statistics (run/stats.h) and its share of every scenario's VUs or
 * arrivals (run/exec.h), which run iterations of steps (run/vu.h).
 *
 * Shared by the threads, read-only once the run started: the plan, the
 * resolved addresses and TLS context of its targets, each scenario's
 * variables and each step's prepared request (static steps). Shared and
 * written, without locks on the hot path: the retry gate of each target
 * (run/sgate.h), the active-VU counts (atomics), the OAuth token cache
 * (run/oauth.h, a mutex per client), the CSV feeder's round-robin position
 * (an atomic) and the JTL writer (its own mutex).
 *
 * Work is split between N threads the way wrk does it: VU (or thread-group
 * thread) i runs on loop i mod N, and each open-model scenario's arrivals are
 * sharded (run/sched.h, sched_arrivals_shard) over min(N, max_in_flight)
 * loops, each with its share of max_in_flight.
 *
 * Life cycle: engine_init (resolve, TLS, scenario tables), a reachability
 * check if wanted (run/probe.h), engine_start (threads; they start together at
 * run_start_ns), then the caller's own loop polls engine_done, reads each
 * worker's stats for progress, may call engine_stop (SIGINT), and finally
 * engine_join and engine_free.
 */
#ifndef TG_RUN_ENGINE_H
#define TG_RUN_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/buf.h"
#include "core/hist.h"
#include "core/rng.h"
#include "core/tls.h"
#include "run/looptime.h"
#include "run/oauth.h"
#include "run/plan.h"
#include "run/pool.h"
#include "run/report_jtl.h"
#include "run/retry_budget.h"
#include "run/sgate.h"
#include "run/stats.h"

#define ENGINE_STOP_GRACE_NS (2000000000ull) /* in-flight work allowed after engine_stop */
#define ENGINE_REASON_MAX    128             /* bytes kept of a failed capture's reason */

struct xsc;
typedef struct engine engine;

/* A scenario's shared part. */
typedef struct eng_scenario {
    const plan_scenario *ps;
    size_t index;
    uint32_t max_vus;        /* VUs (or slots) in all loops */
    uint32_t vu_base;        /* {{vu}} of this scenario's VU i is vu_base + i + 1 */
    uint32_t nshards;        /* open model: loops that take part */
    _Atomic uint32_t active; /* VUs in an iteration (thread-group: threads started, not done) */
    size_t nvars;            /* variables captured by the scenario's steps */
    const char **var_names;  /* nvars, borrowed from the plan */
    size_t *var_lens;
    bool *var_setup;     /* captured by a setup step only: kept across iterations */
    uint64_t planned_ns; /* the schedule's length, 0 when unknown (loops) */
    double target_rate;  /* open model: mean arrivals per second */
} eng_scenario;

/* A step's shared part, indexed like plan.step_names. */
typedef struct eng_step {
    const plan_step *ps;
    eng_scenario *sc;
    bool is_static;    /* no placeholder: the request is prepared once per loop */
    bool json_capture; /* keep and parse the response body */
    size_t *capvar;    /* ps->ncaptures variable indices into sc's variables */
    h1_method method;  /* for the response parser (HEAD) */
    char *url_prefix;  /* "http://host:port", for JTL URLs */
} eng_step;

/* One event-loop thread. */
typedef struct worker {
    engine *eng;
    uint32_t index;
    pthread_t tid;
    bool started;
    bool has_loop, has_lt, has_wake, has_stats; /* what worker_setup made */
    uv_loop_t loop;
    looptime lt;
    uv_async_t wake; /* engine_stop */
    pool *pools;     /* plan.ntargets */
    retry_budget budget;
    rng rng;
    stats st;
    hist lateness;   /* open model: first send of an iteration minus its intended start (ns) */
    buf *static_req; /* plan.nsteps: the prepared request of static steps (len 0 otherwise) */
    oauth_fetcher *fetchers; /* one per OAuth client */
    struct xsc *xs;          /* one per scenario */
    size_t nxs, live;        /* scenarios, and those not done on this loop */
    bool stopping;           /* no new work */
    lt_timer stop_timer;     /* the in-flight grace after engine_stop */
    lt_timer close_timer;    /* closes the loop from a clean stack */
    bool closing;
    int open_closers; /* handles and pools still closing */
    uint64_t end_ns;  /* when the last of its work ended */
    int err;
    char errmsg[256];
} worker;

/* What the caller provides. */
typedef struct engine_opts {
    uint32_t threads;   /* 0: the plan's, else one per core */
    report_jtl *jtl;    /* shared JTL writer, or NULL */
    uv_async_t *notify; /* sent (from a worker thread) when a worker finished; may be NULL */
} engine_opts;

struct engine {
    const plan *plan;
    engine_opts opts;
    uint32_t nthreads;
    worker *workers;
    eng_scenario *scs;              /* plan.nscenarios */
    eng_step *steps;                /* plan.nsteps */
    struct sockaddr_storage *addrs; /* plan.ntargets */
    tls_ctx *tls;                   /* client context when a target is https */
    sgate *gates;                   /* plan.ntargets */
    size_t ngates;                  /* gates initialized (sgate_init) */
    bool has_auth;
    oauth oauth;
    uint64_t run_start_ns;  /* monotonic */
    uint64_t start_wall_ns; /* epoch */
    uint64_t planned_ns;    /* the longest scenario schedule; 0 when unknown */
    double target_rate;     /* sum of the open-model scenarios' rates */
    pthread_mutex_t lock;   /* start-up: workers ready, then go (or abort) */
    pthread_cond_t cond;
    pthread_mutex_t wake_lock; /* a worker's wake handle may close while signalled */
    uint32_t nready;
    bool go, abort_start;
    bool sync_ok;                /* lock, cond and wake_lock are initialized */
    _Atomic uint32_t all_active; /* VUs in an iteration, every scenario */
    _Atomic uint32_t left;       /* workers still running */
    _Atomic int stop;            /* engine_stop was called */
};

/* Prepares a run of `p` (borrowed; it must outlive the engine): resolves
 * every target's address, builds the TLS context (plan.tls_insecure,
 * plan.tls_ca) if a target uses https, lays out the scenarios and steps.
 * Returns 0; -EINVAL, -ENOENT... with one line in err (`cannot resolve
 * 'api.example': Name or service not known`, the TLS context's message); or
 * -ENOMEM. On failure engine_free is harmless. */
int engine_init(engine *e, const plan *p, const engine_opts *o, char *err, size_t errlen);

/* Starts the threads; they start the scenarios together at run_start_ns.
 * Returns 0, or a negative error with a message (a thread or loop could not
 * be set up; nothing runs then). */
int engine_start(engine *e, char *err, size_t errlen);

/* No new work from now on; requests in flight get ENGINE_STOP_GRACE_NS to
 * finish, then are abandoned. Safe from any thread (a signal handler's loop). */
void engine_stop(engine *e);

/* Whether every worker has finished. */
bool engine_done(engine *e);

/* Waits for the threads. Returns the first worker error (0 if none), with
 * its message in err. */
int engine_join(engine *e, char *err, size_t errlen);

/* Monotonic time at which the last work ended (after engine_join). */
uint64_t engine_end_ns(const engine *e);

/* Releases everything; harmless after a failed engine_init. */
void engine_free(engine *e);

#endif
