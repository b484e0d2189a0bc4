/*
 * stats: what a `tollgate run` measured, per event-loop thread, for the
 * progress line, the per-second timeline and the final reports.
 *
 * Each worker thread owns one `stats` and records into it: one
 * stats_add_sent when an HTTP attempt is sent, one stats_add_attempt when it
 * ends (response or network error), one stats_add_logical when a logical
 * request is finished (after its retries), stats_add_dropped for an open-model
 * iteration that found no free slot, stats_add_iteration when an iteration
 * starts, and stats_add_iteration_failed for an
 * iteration abandoned for a reason of its own (a missing captured value...).
 *
 * Attempts are classed by status: ok (2xx and 3xx), throttled (429),
 * client_error (other 4xx), server_error (5xx), network_error (no response:
 * refused, reset, timeout, TLS, other). Latency per attempt (end - start) is
 * recorded per step and in total for attempts that got a response; end-to-end
 * latency per logical request is measured from its INTENDED start (the
 * schedule's time, not the send time) to its end, retries and backoff waits
 * included, so that a slow server cannot hide behind coordinated omission.
 *
 * Threads: every function taking a `stats *` locks that stats' mutex for the
 * few counter and histogram updates it makes; the lock is uncontended except
 * when the main thread reads (stats_peek 4 times a second for the progress
 * line, stats_take_interval once a second for the timeline) or merges at the
 * end (stats_merge). Memory is fixed at stats_init (a few histograms of 270 KB
 * per step and thread), never per sample or per second: the interval's
 * histograms are taken-and-reset, and a timeline row keeps numbers only.
 *
 * Merging: the main thread initializes one more `stats` with the same n_steps
 * and run start and stats_merge's every worker's into it; the reports read
 * the merged one's fields directly (they are documented below).
 */
#ifndef TG_RUN_STATS_H
#define TG_RUN_STATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"
#include "run/retry.h"
#include "run/rlhdr.h"
#include "run/rlhdr_stats.h"

#define STATS_NONE         UINT64_MAX /* "never" for times such as first_throttle_ns */
#define STATS_STATUS_MIN   100        /* statuses counted one by one: 100..599 */
#define STATS_STATUS_MAX   599
#define STATS_FAILURES_MAX 32  /* distinct iteration-failure reasons kept */
#define STATS_REASON_MAX   160 /* bytes kept of a reason, NUL included */

/* The class of an attempt. */
typedef enum stats_class {
    STATS_OK = 0,        /* 2xx, 3xx (and 1xx, which a client never sees as final) */
    STATS_THROTTLED,     /* 429 */
    STATS_CLIENT_ERROR,  /* other 4xx */
    STATS_SERVER_ERROR,  /* 5xx, and any status outside 100..599 */
    STATS_NETWORK_ERROR, /* no response */
    STATS_CLASS_COUNT
} stats_class;

/* Why an attempt got no response. */
typedef enum stats_neterr {
    STATS_NETERR_NONE = 0, /* a response arrived */
    STATS_NETERR_REFUSED,  /* connection refused (or host unreachable, DNS failure) */
    STATS_NETERR_RESET,    /* connection reset or closed before a full response */
    STATS_NETERR_TIMEOUT,  /* connect or response timeout */
    STATS_NETERR_TLS,      /* handshake or certificate verification failed */
    STATS_NETERR_OTHER,    /* anything else (a parse error of the response...) */
    STATS_NETERR_COUNT
} stats_neterr;

/* One HTTP attempt, as the engine reports it. Strings are borrowed for the
 * duration of the call only. */
typedef struct stats_attempt {
    size_t step;             /* step index, 0 .. n_steps-1 */
    int status;              /* HTTP status; 0 when neterr != STATS_NETERR_NONE */
    stats_neterr neterr;     /* STATS_NETERR_NONE when a response arrived */
    bool is_retry;           /* attempt number > 1 of its logical request */
    uint64_t start_ns;       /* monotonic ns: when the attempt was sent (or connect began) */
    uint64_t end_ns;         /* monotonic ns: when it ended (last byte or error) */
    uint64_t start_wall_ns;  /* epoch ns of start_ns, for the JTL timeStamp */
    uint64_t ttfb_ns;        /* start to first response byte (JTL Latency); 0 if none */
    uint64_t connect_ns;     /* connect (+TLS) time (JTL Connect); 0 on a reused connection */
    uint64_t bytes_in;       /* bytes received, headers included */
    uint64_t bytes_out;      /* bytes sent, headers included */
    const char *url;         /* the full URL (JTL only); may be NULL */
    const char *label;       /* the step's name (JTL only); may be NULL */
    const char *thread_name; /* e.g. "scenario 1-3" (JTL only); may be NULL */
    uint32_t grp_threads;    /* active VUs of this scenario (JTL only) */
    uint32_t all_threads;    /* active VUs of every scenario (JTL only) */
    const char *failure;     /* why the attempt failed, for people; NULL when it did not */
    bool expect_ok;          /* the status is one the step expects */
    const rlhdr_info *rl;    /* rate-limit headers of the response; may be NULL */
} stats_attempt;

/* One logical request, finished: it succeeded, or it failed and was given up
 * (possibly after retries). */
typedef struct stats_logical {
    size_t step;                /* step index, 0 .. n_steps-1 */
    bool ok;                    /* the request succeeded in the end */
    retry_reason giveup;        /* why it was not retried further when !ok;
                                   RETRY_REASON_NONE when ok or not known */
    uint64_t intended_start_ns; /* monotonic ns: when the schedule meant it to start */
    uint64_t done_ns;           /* monotonic ns: when its last attempt ended */
    uint32_t attempts;          /* attempts it made (>= 1; 0 if it never sent one) */
} stats_logical;

/* Counters of a step or of the whole run. */
typedef struct stats_counts {
    uint64_t sent;                       /* attempts sent (stats_add_sent) */
    uint64_t attempts;                   /* attempts ended (stats_add_attempt) */
    uint64_t retries;                    /* ended attempts that were retries */
    uint64_t cls[STATS_CLASS_COUNT];     /* ended attempts per class */
    uint64_t neterr[STATS_NETERR_COUNT]; /* network errors per kind ([0] unused) */
    uint64_t unexpected;                 /* ended attempts with !expect_ok */
    uint64_t logical;                    /* logical requests finished */
    uint64_t logical_ok;                 /* ... that succeeded */
    uint64_t logical_failed;             /* ... that failed */
    uint64_t iterations;                 /* iterations started (total only) */
    uint64_t dropped;                    /* iterations dropped (total only) */
    uint64_t iterations_failed;          /* iterations failed (total only) */
    uint64_t bytes_in, bytes_out;        /* over every ended attempt */
    uint64_t first_throttle_ns;          /* first 429's end, from the run start; STATS_NONE */
} stats_counts;

/* One step's counters and latencies. */
typedef struct stats_step {
    stats_counts c;
    hist latency; /* per attempt with a response: end - start (ns) */
    hist e2e;     /* per logical request: done - intended start (ns) */
} stats_step;

/* A distinct iteration-failure reason and how often it happened. */
typedef struct stats_failure {
    char reason[STATS_REASON_MAX];
    uint64_t count;
} stats_failure;

/* What happened between two stats_take_interval calls (the caller's own
 * accumulator: the main thread adds every thread's interval into one). */
typedef struct stats_interval {
    uint64_t sent, attempts, ok, throttled, errors; /* errors: client + server + network */
    uint64_t logical, logical_ok, dropped;
    bool has_remaining;
    uint64_t min_remaining; /* lowest rate-limit remaining seen */
    hist latency;           /* attempt latencies */
    hist e2e;               /* end-to-end latencies */
} stats_interval;

/* Per thread (or merged). Fields may be read directly once no other thread
 * writes to the stats (after the workers have stopped, or on a merged copy). */
typedef struct stats {
    pthread_mutex_t lock;
    uint64_t run_start_ns; /* monotonic ns */
    size_t n_steps;
    stats_step *steps; /* n_steps */
    stats_counts total;
    hist latency;                                             /* every attempt with a response */
    hist e2e;                                                 /* every logical request */
    uint64_t status[STATS_STATUS_MAX - STATS_STATUS_MIN + 1]; /* ended attempts per status */
    uint64_t status_other;                                    /* statuses outside 100..599 */
    uint64_t giveups[RETRY_REASON_COUNT]; /* failed logical requests per give-up reason */
    rlhdr_stats rl;
    stats_failure failures[STATS_FAILURES_MAX];
    size_t n_failures;
    uint64_t failures_other; /* failures whose reason did not fit the table */
    uint64_t token_requests; /* OAuth token requests answered or failed (retries included) */
    uint64_t token_failures; /* ... that brought no token (error status, network, bad body) */
    stats_interval iv;       /* the current interval (reset by stats_take_interval) */
} stats;

/* The class of a status, or STATS_NETWORK_ERROR when neterr is set. */
stats_class stats_classify(int status, stats_neterr neterr);

/* "ok", "throttled", "client_error", "server_error", "network_error". */
const char *stats_class_name(stats_class c);

/* "none", "refused", "reset", "timeout", "tls", "other". */
const char *stats_neterr_name(stats_neterr k);

/* Initializes empty statistics for n_steps steps (n_steps may be 0) of a run
 * that started at run_start_ns (monotonic). Allocates 2 histograms per step
 * plus 4. Returns 0, or -ENOMEM with *s left so that stats_free is harmless. */
int stats_init(stats *s, size_t n_steps, uint64_t run_start_ns);

/* Frees everything stats_init allocated. No thread may use s any more. */
void stats_free(stats *s);

/* Counts one attempt sent for step `step` (an index out of range counts in
 * the total only). Call it when the request is written (or its connection
 * begins); `now` is unused today but kept for a sent-time series. With
 * stats_add_attempt's count it gives the requests in flight and the offered
 * rate. */
void stats_add_sent(stats *s, size_t step, uint64_t now);

/* Records one ended attempt: its class, status, network-error kind, retry
 * flag, bytes, latency (when it got a response), rate-limit headers (when
 * a->rl is not NULL) and, for a 429, the first throttle time. Cannot fail. */
void stats_add_attempt(stats *s, const stats_attempt *a);

/* Records one finished logical request: its outcome, its give-up reason when
 * it failed, and its end-to-end latency from the intended start (0 when
 * done_ns < intended_start_ns). Cannot fail. */
void stats_add_logical(stats *s, const stats_logical *l);

/* Counts one iteration (of any executor) started at `now`, for the
 * dropped_ratio threshold: dropped / (started + dropped). */
void stats_add_iteration(stats *s, uint64_t now);

/* Counts one open-model iteration that found no free slot at `now`. */
void stats_add_dropped(stats *s, uint64_t now);

/* Counts one iteration that failed for `reason` (copied, truncated to
 * STATS_REASON_MAX - 1 bytes). The first STATS_FAILURES_MAX distinct reasons
 * are counted one by one, later ones together in failures_other. */
void stats_add_iteration_failed(stats *s, const char *reason);

/* Counts one OAuth token request that ended (a response or a network
 * error); `ok` when it brought a token. Token requests are not attempts of
 * any step: they are counted here only. Cannot fail. */
void stats_add_token(stats *s, bool ok);

/* Adds s's run totals (counters only) into *acc, under s's lock, for the
 * progress line. The caller zeroes *acc first (stats_counts_init) and adds
 * every thread's. */
void stats_counts_init(stats_counts *c);
void stats_peek(stats *s, stats_counts *acc);

/* Initializes an empty interval accumulator (2 histograms). Returns 0 or
 * -ENOMEM (stats_interval_free is then harmless). */
int stats_interval_init(stats_interval *iv);
void stats_interval_free(stats_interval *iv);

/* Empties an interval accumulator, keeping its histograms' memory. */
void stats_interval_reset(stats_interval *iv);

/* Adds what s recorded since the previous take into *acc and starts a new
 * interval in s, atomically under s's lock. The main thread calls it once a
 * second for every thread, then appends acc to the timeline. */
void stats_take_interval(stats *s, stats_interval *acc);

/* Adds every sample and counter of src into dst (steps by index; src must
 * have as many steps as dst, or fewer), under src's lock: counters, statuses,
 * histograms, give-ups, failures, token requests, rate-limit statistics, the
 * earliest throttle. dst must not be in use by another thread. */
void stats_merge(stats *dst, stats *src);

#endif
