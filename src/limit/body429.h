/*
 * body429: the body of a 429 response, in one of two kinds.
 *
 *   problem   application/problem+json (RFC 9457) with the quota-exceeded
 *             problem type of draft-ietf-httpapi-ratelimit-headers:
 *             {"type": "https://iana.org/assignments/http-problem-types#quota-exceeded",
 *              "title": "Request cannot be satisfied as assigned quota has been exceeded",
 *              "status": 429, "detail": "Retry the request in 2 seconds",
 *              "violated-policies": ["per-token"]}
 *   platform  application/json, as the contact-center platform answers:
 *             {"message": "Rate limit exceeded the maximum. Retry the request in [2] seconds",
 *              "code": "too.many.requests", "status": 429,
 *              "limit": {"key": "per-token", "value": 300}}
 *
 * N is Retry-After; "violated-policies" lists every violated limit in limit_policy
 * order; the platform body's "limit" is the tightest one (limit_tightest)
 * and its quota. Written by hand, not with jansson: the shape is fixed, a 429
 * flood makes this a hot path, and the only strings (limit names) are
 * escaped as JSON strings all the same.
 */
#ifndef TG_LIMIT_BODY429_H
#define TG_LIMIT_BODY429_H

#include <stddef.h>

#include "core/buf.h"
#include "limit/limit.h"

enum body429_kind {
    BODY429_PROBLEM,
    BODY429_PLATFORM,
};

/* Parses "problem" or "platform". On failure returns -EINVAL with a message
 * such as `body: unknown 'html', expected problem or platform`. */
int body429_parse(const char *name, enum body429_kind *out, char *err, size_t errlen);

/* The Content-Type of a kind. */
const char *body429_content_type(enum body429_kind kind);

/* Appends the body for rejected decision d. Returns 0, -EINVAL if d was
 * admitted, -ENOBUFS or -ENOMEM. */
int body429_write(enum body429_kind kind, const limit_decision *d, buf *out);

#endif
