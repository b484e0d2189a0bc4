/*
 * dialect: the rate-limit response headers, in every dialect clients read,
 * as a table of writers; a policy picks several at once.
 *
 * | dialect     | headers (every response of a limited route)                     |
 * |-------------|------------------------------------------------------------------|
 * | ietf        | RateLimit-Policy: "name";q=Q;w=W, ...  RateLimit: "name";r=R;t=T, ... |
 * | draft03     | RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (tightest)  |
 * | x-ratelimit | X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (s)   |
 * | github      | x-ratelimit-limit, -remaining, -used, -reset (epoch s), -resource |
 * | inin        | inin-ratelimit-count, inin-ratelimit-allowed, inin-ratelimit-reset|
 *
 * plus, on a 429, Retry-After once (spelt retry-after when github is the
 * first dialect chosen). The ietf dialect lists every applicable limit (one
 * structured-field item each, draft-ietf-httpapi-ratelimit-headers); the
 * others describe the tightest limit (limit_tightest). Values: Q = quota
 * (GCRA burst, window count, cap), R = remaining, T and every "reset" =
 * seconds until the limit is back to full allowance, rounded up; W = the
 * time a full quota takes to come back, rounded up, at least 1. A
 * concurrency cap has no window and no reset: its ietf items carry no w and
 * no t, and the single-limit dialects report reset 0. "used" and inin's
 * "count" are quota - remaining.
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
