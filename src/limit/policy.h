/*
 * policy: an ordered list of limits, built through a C API (the gateway's
 * config loader turns YAML into policy_spec values), matched against
 * requests, and published as JSON for `GET /limits`.
 *
 * A limit has a name (unique in its policy; it names the limit in headers,
 * 429 bodies and store keys), a match (methods, a path pattern, optionally a
 * header that must be present), a scope (scope.h), and either a rate-based
 * algorithm with rate, burst and cost, or a concurrency cap. A policy also
 * chooses its header dialects (several at once) and its 429 body kind.
 */
#ifndef TG_LIMIT_POLICY_H
#define TG_LIMIT_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/units.h"
#include "limit/algo.h"
#include "limit/pattern.h"
#include "limit/request.h"
#include "limit/scope.h"

#define POLICY_MAX_LIMITS  32 /* so that one decision can always charge every limit */
#define POLICY_MAX_HOLDS   8  /* concurrency limits per policy */
#define POLICY_MAX_METHODS 16

/* What the caller fills to add a limit; every pointer is borrowed for the
 * call only. Zero / NULL fields take their defaults. */
typedef struct policy_spec {
    const char *name;           /* required: 1-64 of [A-Za-z0-9._-] */
    const char *const *methods; /* e.g. {"PUT", "POST"}; none: any method */
    size_t nmethods;
    const char *path;         /* pattern (pattern.h); NULL: any path */
    const char *header;       /* the request must carry this header; NULL: no condition */
    const char *const *scope; /* e.g. {"org", "client", "user"}; none: global */
    size_t nscope;
    const char *algorithm; /* gcra (default), fixed_window, sliding_window, concurrency;
                              NULL with only `concurrency` set means concurrency */
    units_rate rate;       /* rate-based algorithms: required, e.g. {300, 60e9} */
    uint64_t burst;        /* gcra only; 0: rate.count */
    uint64_t cost;         /* units per request; 0: 1 */
    uint64_t concurrency;  /* concurrency cap: requests in flight */
} policy_spec;

typedef struct policy_limit {
    char *name;
    size_t name_len;
    char *methods[POLICY_MAX_METHODS]; /* upper case */
    size_t nmethods;
    limit_pattern path;
    char *header;
    limit_scope scope;
    algo_params params;
    uint64_t cost;
} policy_limit;

typedef struct limit_policy {
    size_t n;
    policy_limit *limits[POLICY_MAX_LIMITS];
    size_t nholds;     /* concurrency limits */
    unsigned dialects; /* bit set of enum dialect_id (dialect.h); default: ietf */
    int body;          /* enum body429_kind (body429.h); default: problem */
} limit_policy;

/* Makes an empty policy. Returns 0 or -ENOMEM; free with policy_free. */
int policy_new(limit_policy **out);
void policy_free(limit_policy *p);

/* Validates spec and appends the limit. Returns 0, -ENOMEM, -E2BIG (more
 * than POLICY_MAX_LIMITS limits or POLICY_MAX_HOLDS caps), or -EINVAL /
 * -ERANGE with a message that starts with the field at fault, e.g.
 * `scope: unknown 'tokn', expected global, ip, token, client, user, org,
 * header:NAME or path:NAME` or `cost: 5 exceeds the burst (3): such a request
 * could never be admitted`. The policy is unchanged on failure. */
int policy_add_limit(limit_policy *p, const policy_spec *spec, char *err, size_t errlen);

/* Chooses the header dialects by name (dialect.h), replacing the current
 * set. Returns 0 or -EINVAL with a message. */
int policy_set_dialects(limit_policy *p, const char *const *names, size_t n, char *err,
                        size_t errlen);

/* Chooses the 429 body kind by name ("problem" or "platform"). */
int policy_set_body(limit_policy *p, const char *name, char *err, size_t errlen);

/* The limit named `name`, or NULL. */
const policy_limit *policy_find(const limit_policy *p, const char *name);

/* Whether limit l applies to request r; on a match caps[] (room for
 * PATTERN_MAX_CAPTURES) receives the path captures. */
bool policy_limit_matches(const policy_limit *l, const limit_request *r, limit_slice *caps);

// The published description, exactly:
//   {"limits": [{"name": "per-token", "match": {"methods": ["GET"],
//   "path": "/api/v2/**"}, "scope": ["token"], "algorithm": "gcra",
//   "rate": {"count": 300, "period_s": 60}, "burst": 300, "concurrency": null}]}
// "methods" is null for any method; "match" gains "header" when the limit
// requires one; "rate" and "burst" are null for a concurrency cap, "burst" is
// null for windows; "period_s" is a real number when not whole seconds; a
// "cost" member appears only when the cost is not 1. Returns a new reference
// (json_decref it) or NULL on allocation failure.
json_t *policy_to_json(const limit_policy *p);

/* policy_to_json as text (jansson's default spacing, as above); the caller
 * frees it with free(). NULL on allocation failure. */
char *policy_to_json_string(const limit_policy *p);

#endif
