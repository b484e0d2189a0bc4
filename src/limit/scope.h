/*
 * scope: what a limit counts per -- the parts of a request that make its key.
 *
 *   global        one budget for everyone
 *   ip            per peer address
 *   token         per bearer token
 *   client, user, org   per the token's client, user or organization
 *   header:NAME   per value of request header NAME
 *   path:NAME     per value of the path capture {NAME}
 *
 * Several parts combine ("org", "client", "user": one budget per org+client+
 * user). A part the request lacks -- no token, a client-credentials token
 * without a user, no such header -- is not skipped: it takes a distinct
 * "absent" value, so every request lacking it shares one budget for that
 * limit. Skipping the limit instead would let a client escape a per-token
 * limit by sending no token, and a client-credentials token would escape a
 * per-org+client+user limit; sharing one "anonymous" budget never fails open
 * and keeps the limit's meaning for what is present (org+client above). A
 * policy that wants anonymous traffic limited per address adds an ip limit.
 *
 * Key bytes: the limit name, then per part a tag byte and the value: up to
 * SCOPE_VALUE_MAX bytes as they are, longer ones as their 128-bit XXH3 digest
 * (unkeyed, so every gateway builds the same key for a shared store), and the
 * "absent" marker. The encoding is length-prefixed, so no two different
 * requests map to the same key bytes.
 */
#ifndef TG_LIMIT_SCOPE_H
#define TG_LIMIT_SCOPE_H

#include <stddef.h>

#include "limit/pattern.h"
#include "limit/request.h"

#define SCOPE_MAX_PARTS 8
#define SCOPE_NAME_MAX  64 /* longest limit name */
#define SCOPE_VALUE_MAX 32 /* longer values are keyed by their digest */
#define SCOPE_KEY_MAX   (1 + SCOPE_NAME_MAX + SCOPE_MAX_PARTS * (2 + SCOPE_VALUE_MAX))

enum scope_kind {
    SCOPE_GLOBAL,
    SCOPE_IP,
    SCOPE_TOKEN,
    SCOPE_CLIENT,
    SCOPE_USER,
    SCOPE_ORG,
    SCOPE_HEADER,
    SCOPE_PATH,
};

typedef struct scope_part {
    enum scope_kind kind;
    char tag;   /* the part's byte in keys */
    char *name; /* header:NAME / path:NAME: NAME (owned), else NULL */
    size_t name_len;
    int capture; /* path:NAME: the capture's index in the limit's pattern */
} scope_part;

typedef struct limit_scope {
    size_t n;
    scope_part parts[SCOPE_MAX_PARTS];
} limit_scope;

/* Parses items[0..n) ("token", "header:X-Api-Key", ...; n == 0 means
 * global) against the limit's path pattern (for path:NAME). Returns 0,
 * -ENOMEM, or -EINVAL with a message such as `scope: unknown 'tokn',
 * expected global, ip, token, client, user, org, header:NAME or path:NAME`.
 * On failure *sc holds nothing to free. */
int scope_init(limit_scope *sc, const char *const *items, size_t n, const limit_pattern *path,
               char *err, size_t errlen);
void scope_free(limit_scope *sc);

/* Writes the key of limit `name` (name_len <= SCOPE_NAME_MAX bytes) for
 * request r (caps: the path captures of the limit's pattern) into out, which
 * has room for SCOPE_KEY_MAX bytes, and returns its length. */
size_t scope_key(const limit_scope *sc, const char *name, size_t name_len, const limit_request *r,
                 const limit_slice *caps, char *out);

/* Writes part i as written ("token", "header:X-Api-Key") into buf. */
void scope_part_string(const scope_part *part, char *buf, size_t len);

#endif
