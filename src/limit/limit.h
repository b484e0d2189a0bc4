/*
 * limit: decisions -- which limits of a policy apply to a request, and
 * whether the request is admitted by all of them.
 *
 * limit_decide matches every limit of the policy against the request, builds
 * each applicable limit's key from its scope, and asks the store to charge
 * all of them or none (store.h). The decision records, per applicable limit
 * in policy order, the verdict (quota, remaining, reset, and when violated
 * the wait), and for a rejected request the exact wait until every violated
 * limit admits it, with Retry-After = ceil(wait in s), at least 1: a client
 * that comes back after Retry-After seconds finds every limit ready (unless
 * others spent the allowance meanwhile). A concurrency cap has no known wait
 * (it frees when a response ends); alone it gives Retry-After 1.
 *
 * An admitted decision holds a slot of each applicable concurrency cap until
 * limit_release is called, which the caller does when the response is done.
 */
#ifndef TG_LIMIT_LIMIT_H
#define TG_LIMIT_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit/algo.h"
#include "limit/policy.h"
#include "limit/request.h"
#include "limit/store.h"

/* A concurrency slot an admitted decision holds, with what releasing needs. */
typedef struct limit_hold {
    const policy_limit *limit;
    bool held;
    uint64_t id; /* the acquisition's id (store_item.hold), unique in the process */
    uint16_t key_len;
    char key[SCOPE_KEY_MAX];
} limit_hold;

/* The caller allocates a decision (about 4.7 KB) and keeps it until
 * limit_release if it may hold concurrency slots. It refers to the policy's
 * limits, so the policy must outlive it. */
typedef struct limit_decision {
    bool admitted;
    size_t n;                                      /* applicable limits */
    const policy_limit *limits[POLICY_MAX_LIMITS]; /* in policy order */
    algo_verdict v[POLICY_MAX_LIMITS];             /* v[i]: verdict of limits[i] */
    size_t nviolated;       /* rejected: limits whose verdict does not conform */
    uint64_t wait_ns;       /* rejected: ns until every violated limit admits */
    uint64_t retry_after_s; /* rejected: ceil(wait_ns / 1 s), at least 1; else 0 */
    size_t nholds;
    limit_hold holds[POLICY_MAX_HOLDS];
    store_cb cb; /* completion of an asynchronous decision */
    void *cb_arg;
} limit_decision;

/* Decides request r at `now` (ns) under policy p with store s, into *d. A
 * request no limit applies to is admitted with d->n == 0. Returns 0 when *d
 * is complete; -EINPROGRESS when the store answers later, in which case
 * cb(arg, status) is called once *d is complete (cb may be NULL only with a
 * store that always answers at once, like localstore); or another negative
 * code from the store (nothing charged, cb never called). r is only read
 * during the call. */
int limit_decide(const limit_policy *p, limit_store *s, const limit_request *r, uint64_t now,
                 limit_decision *d, store_cb cb, void *arg);

/* Releases the concurrency slots d holds. Harmless to call for a rejected
 * decision, one without caps, or more than once. */
void limit_release(limit_store *s, limit_decision *d, uint64_t now);

/* The index of the limit single-valued headers report: when rejected, the
 * violated limit with the longest wait; otherwise the one with the fewest
 * remaining units; the first in policy order on ties. -1 if d->n == 0. */
int limit_tightest(const limit_decision *d);

#endif
