/*
 * gwconf: the gateway's configuration (docs/serve.md, the schema shared with
 * the emulated endpoints), read from a loaded YAML document into the structs
 * the gateway runs on: addresses, bounds and timeouts, the limit policy (built
 * with policy_add_limit), the OAuth clients (into the token table), and the
 * routes with their handler kinds' state.
 *
 * Every error names the place in the file and what to change:
 * `gw.yaml:12:5: routes[1]: handler: unknown 'statc', expected one of: ...
 * (did you mean 'static'?)`. Command-line overrides (--listen, --threads,
 * --admin) are applied here too, so that their errors read the same way and
 * precedence lives in one place.
 */
#ifndef TG_SERVE_GWCONF_H
#define TG_SERVE_GWCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"
#include "limit/pattern.h"
#include "limit/policy.h"
#include "limit/redisstore.h"
#include "serve/handler.h"

#define GW_MAX_ROUTES  256
#define GW_MAX_THREADS 256
#define GW_MAX_CLIENTS 10000

/* What a request meets while the shared (Redis) store cannot answer. */
enum gw_store_failure {
    GW_STORE_FAIL_LOCAL, /* decide with the in-process store (default) */
    GW_STORE_FAIL_ALLOW, /* admit, without rate-limit headers */
    GW_STORE_FAIL_DENY,  /* 503 with Retry-After: 1 */
};

/* An address to listen on, as written ("127.0.0.1:8080", "[::1]:8080"). */
typedef struct gw_addr {
    struct sockaddr_storage ss;
    char text[64]; /* host:port as given, for logs */
} gw_addr;

/* One route: which requests it takes and the endpoint that answers them. */
typedef struct gw_route {
    char *path;                           /* the pattern as written (also the metrics label) */
    limit_pattern pattern;                /* `*`, `**` and `{name}` as for limits */
    char *capnames[PATTERN_MAX_CAPTURES]; /* NUL-terminated names of the captures */
    unsigned methods;                     /* bit (1u << h1_method) per allowed method; 0 = any */
    char allow[96]; /* the methods as an Allow header value ("GET, HEAD, POST") */
    const handler_kind *kind;
    void *state; /* the kind's state, from its init */
    bool bearer; /* auth: bearer */
    uint64_t latency_fixed_ns;
    uint64_t latency_spread_ns; /* uniform extra in [0, spread] */
} gw_route;

typedef struct gw_config {
    gw_addr listen;
    unsigned threads; /* >= 1 (0 in the file means the number of cores) */
    bool admin_on;
    gw_addr admin;
    bool trust_forwarded;
    uint64_t max_body;         /* bytes */
    uint64_t max_header_bytes; /* bytes */
    uint64_t max_headers;      /* fields */
    uint64_t max_uri;          /* bytes */
    uint64_t header_timeout_ns;
    uint64_t idle_timeout_ns;
    uint64_t drain_timeout_ns;
    limit_policy *policy; /* owned */
    uint64_t max_keys;
    bool store_redis;                       /* `store: redis://...` or --redis */
    redisstore_opts redis;                  /* where, when store_redis */
    enum gw_store_failure on_store_failure; /* default local */
    uint64_t store_timeout_ns;              /* default 20 ms */
    uint64_t store_lease_ns;                /* concurrency slot lease, default 60 s */
    bool tokens_key_set;                    /* tokens.key given */
    uint8_t tokens_key[32];                 /* the HMAC key tokens are signed with */
    uint64_t token_ttl_ns;
    struct tokens *tokens; /* owned; the OAuth clients and token signing */
    handler_env env;       /* what every handler shares (points at tokens) */
    gw_route *routes;      /* owned, nroutes of them, in match order */
    size_t nroutes;
} gw_config;

/* Command-line values that replace the file's. NULL / -1: not given. */
typedef struct gwconf_overrides {
    const char *listen;
    long threads;
    const char *admin;
    unsigned ncores;   /* what `threads: 0` means; 0 is taken as 1 */
    const char *redis; /* --redis URL: replaces `store` */
} gwconf_overrides;

/* Reads the configuration in doc into *c (which need not be initialized),
 * with ov applied (NULL: none). Handler kinds' init run for every route; the
 * document may be freed afterwards (nothing in *c points into it). Returns 0,
 * or a negative errno with `FILE:LINE:COL: ...` (or `--listen: ...`) in err,
 * and *c then holds nothing (gwconf_free on it is harmless). */
int gwconf_load(gw_config *c, const config_doc *doc, const gwconf_overrides *ov, char *err,
                size_t errlen);

/* Frees everything gwconf_load made, handler states included. Safe on a
 * zeroed struct and after a failed load. */
void gwconf_free(gw_config *c);

/* Parses "HOST:PORT" (an IPv4 address, a bracketed IPv6 address, "localhost"
 * or "*" for every address; a port from 0 to 65535) into *out. Returns 0 or
 * -EINVAL with a message such as `"8080": expected HOST:PORT (e.g.
 * 127.0.0.1:8080)`. */
int gwconf_parse_addr(const char *s, gw_addr *out, char *err, size_t errlen);

/* The route for a request: the first whose pattern matches `path` and whose
 * methods include `method` (an h1_method; HEAD is allowed where GET is), with
 * its captures in caps (room for PATTERN_MAX_CAPTURES). Returns the route's
 * index; -1 when no pattern matches (404); -2 when some pattern matches but
 * not with this method (405), and then *allow has the bits of the methods
 * the matching patterns take. */
int gwconf_route_match(const gw_config *c, int method, const char *path, size_t path_len,
                       limit_slice *caps, unsigned *allow);

/* Writes a method bit set as an Allow value ("GET, HEAD, POST"). */
void gwconf_allow(unsigned allow, char *out, size_t len);

#endif
