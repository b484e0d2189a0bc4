/*
 * retry_budget: how many retries a client may still send, over a sliding
 * window of 10 s.
 *
 * Retries are allowed while
 *
 *   retries in the window + 1 <= ratio x logical requests in the window
 *                                + min_per_s x 10
 *
 * so that retries add at most `ratio` to the load (0.2: 20 %), except for a
 * floor of min_per_s retries per second of the window that is always
 * allowed, so a client that sends few requests can still retry. This is
 * Finagle's RetryBudget (percentCanRetry, minRetriesPerSec, ttl 10 s); Envoy
 * (retry_budget: budget_percent, min_retry_concurrency) and gRPC (retry
 * throttling) bound retries the same way. It keeps a retry storm from
 * multiplying the load on a server that is already failing.
 *
 * The window is ten one-second slots, so memory is bounded and the count is
 * exact to the second: a request or retry counts from the start of its
 * second (now / 1e9) until ten seconds later. Time is the caller's monotonic
 * `now` (ns), which must never decrease. Not thread-safe.
 */
#ifndef TG_RUN_RETRY_BUDGET_H
#define TG_RUN_RETRY_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define RETRY_BUDGET_SLOTS 10       /* one-second slots in the window */
#define RETRY_RATIO_ONE    1000000u /* ratio fixed point: parts per million (1.0) */

typedef struct retry_budget {
    struct {
        uint64_t sec;      /* which second (now / 1e9) the slot holds; UINT64_MAX: none */
        uint32_t requests; /* logical requests started in that second (saturating) */
        uint32_t retries;  /* retries granted in that second (saturating) */
    } slot[RETRY_BUDGET_SLOTS];
} retry_budget;

/* Empties the window. Cannot fail. */
void retry_budget_init(retry_budget *b);

/* Counts one logical request (its first attempt) at now. */
void retry_budget_note_request(retry_budget *b, uint64_t now);

/* Counts one retry granted at now. */
void retry_budget_note_retry(retry_budget *b, uint64_t now);

/* Logical requests and retries counted in the window that ends at now. */
void retry_budget_window(const retry_budget *b, uint64_t now, uint64_t *requests,
                         uint64_t *retries);

/* Would one more retry at now stay within ratio_ppm (retries per logical
 * request, in parts per million, at most 100 x RETRY_RATIO_ONE) of the
 * window's requests plus min_per_s (at most 1e6) x 10? Integer arithmetic
 * only. */
bool retry_budget_allows(const retry_budget *b, uint32_t ratio_ppm, uint32_t min_per_s,
                         uint64_t now);

#endif
