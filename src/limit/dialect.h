/*
 * dialect: the rate-limit response headers, in every dialect clients read,
 * as a table of writers; a policy picks several at once.
 *
 * | dialect     | headers (every response of a limited route)                      |
 * |-------------|------------------------------------------------------------------|
 * | ietf        | RateLimit-Policy: "name";q=Q;w=W, ...  RateLimit: "name";r=R;t=T, ... |
 * | draft03     | RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (tightest)  |
 * | x-ratelimit | X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (s)   |
 * | github      | x-ratelimit-limit, -remaining, -used, -reset (epoch s), -resource |
 * | inin        | inin-ratelimit-count, inin-ratelimit-allowed, inin-ratelimit-reset|
 *
 * plus, on a 429, Retry-After once (spelt retry-after when github is the
 * first dialect chosen).
 *
 * ietf (draft-ietf-httpapi-ratelimit-headers-10/-11) lists every applicable
 * limit, one structured-field item each. Its RateLimit-Policy item states the
 * policy, which never changes: q quota units per w seconds. For a rate limit
 * that is the rate as written ("18/s": q=18;w=1, "300/min": q=300;w=60; a
 * period that is not whole seconds is scaled by up to 10 until it is,
 * "10/250ms": q=40;w=1, else rounded down to what fits in the period rounded
 * up, "3/333ms": q=9;w=1), and when the units available at once -- the
 * GCRA burst -- differ from q, the vendor parameter tollgate-burst gives
 * them ("18/s" with burst 5: "writes";q=18;w=1;tollgate-burst=5). A concurrency cap is q=CAP with
 * qu="concurrent-requests" and no w. The RateLimit item states the client's
 * current state under that policy: r = the units available now (at most the
 * burst), t = seconds until the allowance is whole again (r back to the
 * burst / count), rounded up: for a window its end, for a bucket the time it
 * takes to refill; a cap has no t. A bucket gives units back one every
 * period / count before that, so a rejected request's Retry-After (the time
 * until the request would pass) can be shorter than t; the draft lets
 * Retry-After take precedence.
 *
 * The other dialects describe one limit, the tightest (limit_tightest), by
 * the allowance its remaining units count down from: limit = GCRA burst,
 * window count or cap; remaining = R; reset = T (a cap: 0); "used" and inin's
 * "count" are limit - remaining. They have no room for a rate.
 *
 * The lines are written by hand, with no printf: they go out on every response
 * of a limited route.
 */
#ifndef TG_LIMIT_DIALECT_H
#define TG_LIMIT_DIALECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "limit/limit.h"

enum dialect_id {
    DIALECT_IETF,
    DIALECT_DRAFT03,
    DIALECT_XRATELIMIT,
    DIALECT_GITHUB,
    DIALECT_ININ,
    DIALECT_COUNT
};

#define DIALECT_BIT(id) (1u << (id))

typedef struct dialect {
    const char *name;        /* as configured: "ietf", "x-ratelimit", ... */
    const char *retry_after; /* how this dialect spells Retry-After */
    /* Appends this dialect's header lines ("Name: value\r\n") for d to out;
     * wall_ns is the wall clock (epoch ns) for epoch-based resets. Writes
     * nothing when no limit applies. Returns 0 or a buf error. */
    int (*write)(const limit_decision *d, uint64_t wall_ns, buf *out);
} dialect;

const dialect *dialect_get(enum dialect_id id);

/* Parses a dialect name. On failure returns -EINVAL with a message such as
 * `dialects: unknown 'ietf2', expected ietf, draft03, x-ratelimit, github or
 * inin`. */
int dialect_parse(const char *name, enum dialect_id *out, char *err, size_t errlen);

/* Checks a set: x-ratelimit and github write the same header names (which
 * compare case-insensitively), so they cannot be chosen together. Returns 0
 * or -EINVAL with a message. */
int dialect_check(unsigned mask, char *err, size_t errlen);

/* Appends the headers of every dialect in mask, in table order, then
 * Retry-After if d was rejected. Returns 0, -ENOBUFS or -ENOMEM. */
int dialect_write(unsigned mask, const limit_decision *d, uint64_t wall_ns, buf *out);

#endif
