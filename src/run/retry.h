/*
 * retry: whether and when to send a failed request again.
 *
 * A policy (from a plan's `retry:` section or `--retry N`) says which
 * outcomes are retried (`on`), how many attempts a logical request may make
 * in all (`max_attempts`, the first included), how long to wait (`backoff`,
 * see run/backoff.h), whether a server's Retry-After is honoured and up to
 * what length, a retry budget, and whether non-idempotent requests are
 * retried after a timeout. retry_decide applies it to one outcome.
 *
 * Non-idempotent requests (POST, PATCH, anything not listed as idempotent in
 * RFC 9110 section 9.2.2) are not retried after a timeout unless
 * `retry_non_idempotent` is set: a timeout says nothing about whether the
 * server acted, and sending a POST again may create a second order. They are
 * retried on a connect error (the request never left), on 429 (RFC 6585: the
 * request was refused by the rate limiter) and on 503 (the server declined
 * the request), because those prove it was not processed; likewise for any
 * other status the user lists in `on`.
 *
 * The retry budget (run/retry_budget.h) caps retries at `ratio` of the
 * logical requests of the last 10 s plus a floor of `min_per_s` retries per
 * second, so that retries cannot multiply the load on a failing server.
 *
 * A gate per target holds every request to that target until the longest
 * Retry-After received has passed, and then lets the requests it held go
 * spread over a window as long as the quiet period it kept (retry_gate_*),
 * so that they do not all arrive at the instant it opens.
 *
 * Nothing here reads a clock or allocates; nothing is thread-safe (one
 * budget and one gate per event-loop thread, or a lock around them).
 */
#ifndef TG_RUN_RETRY_H
#define TG_RUN_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "run/backoff.h"
#include "run/retry_budget.h"

#define RETRY_STATUS_MAX       639 /* statuses 0..639 fit the bitmap; HTTP uses 100..599 */
#define RETRY_MAX_ATTEMPTS     1000
#define RETRY_ON_CONNECT_ERROR 1u
#define RETRY_ON_TIMEOUT       2u

typedef struct retry_policy {
    uint64_t on_status[(RETRY_STATUS_MAX + 64) / 64]; /* bit s: retry on status s */
    unsigned on_errors;          /* RETRY_ON_CONNECT_ERROR | RETRY_ON_TIMEOUT */
    uint32_t max_attempts;       /* attempts per logical request, first included (>= 1) */
    backoff_policy backoff;      /* delay between attempts */
    bool honor_retry_after;      /* wait Retry-After, plus the backoff delay */
    uint64_t retry_after_max_ns; /* give up when Retry-After asks longer (ns) */
    bool budget;                 /* is the retry budget on? */
    uint32_t budget_ratio;       /* retries per logical request, ppm (200000 = 20 %) */
    uint32_t budget_min_per_s;   /* retries per second always allowed */
    bool retry_non_idempotent;   /* retry POST/PATCH after a timeout too */
} retry_policy;

typedef enum retry_outcome_kind {
    RETRY_OUTCOME_STATUS,        /* a response arrived with `status` */
    RETRY_OUTCOME_CONNECT_ERROR, /* no connection: refused, unreachable, DNS, connect timeout */
    RETRY_OUTCOME_TIMEOUT,       /* the request was (maybe partly) sent, no response in time */
    RETRY_OUTCOME_OTHER_ERROR,   /* reset after sending, TLS verification...: never retried */
} retry_outcome_kind;

/* What one attempt ended with. A connect timeout is a CONNECT_ERROR, not a
 * TIMEOUT: the request never left, so even a POST can be sent again. */
typedef struct retry_outcome {
    retry_outcome_kind kind;
    int status;              /* HTTP status when kind is RETRY_OUTCOME_STATUS */
    bool has_retry_after;    /* the response carried a valid Retry-After */
    uint64_t retry_after_ns; /* its delay from now (ns), see run/retry_after.h */
    bool idempotent;         /* retry_method_idempotent() of the request's method */
} retry_outcome;

typedef enum retry_reason {
    RETRY_REASON_NONE,                   /* retrying */
    RETRY_REASON_NOT_RETRYABLE,          /* the outcome is not in `on` */
    RETRY_REASON_NON_IDEMPOTENT_TIMEOUT, /* timeout of a non-idempotent request */
    RETRY_REASON_MAX_ATTEMPTS,           /* max_attempts reached */
    RETRY_REASON_RETRY_AFTER_TOO_LONG,   /* Retry-After above retry_after_max */
    RETRY_REASON_BUDGET,                 /* the retry budget is spent */
    RETRY_REASON_COUNT
} retry_reason;

typedef struct retry_decision {
    bool retry;          /* send again after delay_ns */
    retry_reason reason; /* RETRY_REASON_NONE when retry is true */
    uint64_t delay_ns;   /* wait this long from `now` before the next attempt */
} retry_decision;

/* Per logical request: attempts so far and the previous backoff delay. */
typedef struct retry_request {
    uint32_t attempts;      /* attempts sent or being sent (1 during the first) */
    uint64_t prev_delay_ns; /* the previous backoff delay, for decorrelated jitter */
} retry_request;

/* The earliest time a throttled target may be sent to again, and since when
 * it has been closed. */
typedef struct retry_gate {
    uint64_t until_ns; /* monotonic ns; 0: open */
    uint64_t since_ns; /* monotonic ns: when the current (or last) closed period began */
} retry_gate;

/* Fills *p with the `--retry N` policy: up to max_attempts attempts on 429,
 * 503 and connect errors; exponential backoff, base 100 ms, cap 10 s,
 * multiplier 2, full jitter; Retry-After honoured up to 60 s; no budget; no
 * retry of non-idempotent requests after a timeout (timeouts are not in `on`
 * anyway). max_attempts is clamped to [1, RETRY_MAX_ATTEMPTS]. Cannot fail. */
void retry_policy_default(retry_policy *p, uint32_t max_attempts);

/* Sets one option from its text, as written in a plan: `on` (statuses, "4xx"
 * or "5xx", "connect-error", "timeout", separated by commas or spaces; it
 * replaces the whole set), `max_attempts`, `backoff`, `base`, `cap` (a
 * duration or "none"), `multiplier`, `jitter`, `honor_retry_after`,
 * `retry_after_max`, `retry_non_idempotent` (true/false/yes/no), `budget`
 * ("off" or "none" turns it off), `budget.ratio` ("0.2" or "20%") and
 * `budget.min_per_s` (setting either turns the budget on, the other keeping
 * its default of 0.2 and 10). Returns 0, or -EINVAL with a message naming the
 * key and value, such as `max_attempts: "0": expected an integer from 1 to
 * 1000` or `unknown retry option "tries"`, in err (if errlen > 0). */
int retry_policy_set(retry_policy *p, const char *key, const char *value, char *err, size_t errlen);

/* Checks the policy as a whole (base <= cap, ...). Returns 0 or -EINVAL with
 * a message. Call it once all options are set. */
int retry_policy_validate(const retry_policy *p, char *err, size_t errlen);

/* Is status s (0..RETRY_STATUS_MAX) in `on`? */
bool retry_policy_on_status(const retry_policy *p, int status);

/* Is the method idempotent per RFC 9110 section 9.2.2 (GET, HEAD, OPTIONS,
 * TRACE, PUT, DELETE)? Method names are case-sensitive. */
bool retry_method_idempotent(const char *method, size_t len);

/* Starts logical request *req before its first attempt, and counts it in the
 * budget b (NULL: no budget) at `now` (monotonic ns). */
void retry_begin(retry_request *req, retry_budget *b, uint64_t now);

/* Decides what to do after attempt number req->attempts ended with *o at
 * `now` (monotonic ns). Checks, in order: `on`, the non-idempotent timeout
 * rule, max_attempts, retry_after_max, the budget; the first that fails gives
 * up with its reason. Otherwise the delay is the backoff delay (jittered as
 * the policy says) PLUS the Retry-After delay when that is honoured: the
 * retry never goes before Retry-After, and clients told the same Retry-After
 * keep their jitter instead of all coming back at that instant. The retry is
 * counted in the budget, req->attempts is incremented and the backoff delay
 * alone is kept in req->prev_delay_ns. `r` may be NULL only for unjittered
 * backoff, b may be NULL when the policy has no budget. The caller must also
 * ask the target's gate (retry_gate_wait, retry_gate_release) before
 * sending. */
retry_decision retry_decide(const retry_policy *p, retry_budget *b, retry_request *req,
                            const retry_outcome *o, uint64_t now, rng *r);

/* Opens the gate. Cannot fail. */
void retry_gate_init(retry_gate *g);

/* Records that a response received at `now` (monotonic ns) asked for
 * retry_after_ns of quiet: the gate stays closed until now + retry_after_ns,
 * or longer if an earlier Retry-After asked for longer (a shorter one never
 * reopens it early). A note that closes an open gate starts a new closed
 * period at `now`; one that extends a closed gate keeps its start. The
 * executor calls it for every Retry-After it receives when the policy
 * honours Retry-After, whatever retry_decide says: even a request given up
 * on leaves the target throttled. */
void retry_gate_note(retry_gate *g, uint64_t now, uint64_t retry_after_ns);

/* How long (ns) a request to the target must still wait at `now`; 0 when the
 * gate is open. The executor asks before every send. */
uint64_t retry_gate_wait(const retry_gate *g, uint64_t now);

/* How long the current closed period lasts (ns): until_ns - since_ns, the
 * quiet the server asked for in all; 0 when the gate was never closed. */
uint64_t retry_gate_spread(const retry_gate *g);

/* When (monotonic ns) a request that finds the gate closed at `now` may be
 * sent: a time drawn uniformly from [until, until + spread] (inclusive) with
 * r, spread being retry_gate_spread. Requests held while the target was
 * quiet thus go out spread over a window as long as the quiet itself, at
 * about the rate they arrived, instead of all at once when it opens; none
 * goes before `until`. Returns `now` when the gate is open at `now`. The
 * caller asks the gate again at the time returned (it may have closed once
 * more). Saturates at UINT64_MAX. */
uint64_t retry_gate_release(const retry_gate *g, uint64_t now, rng *r);

/* "max_attempts", "budget", ... for reports; "retry" for RETRY_REASON_NONE. */
const char *retry_reason_name(retry_reason r);

#endif
