/*
 * oauth: OAuth 2.0 client credentials (RFC 6749 section 4.4) for `tollgate
 * run`'s `auth: oauth2_client_credentials`: one access token per client of
 * the plan's pool, shared by every VU that uses that client on any thread.
 *
 * A token is fetched the first time a VU needs it (POST token_url with a
 * form body: grant_type=client_credentials, client_id, client_secret and
 * scope), cached, and refreshed in the background once it is within
 * `refresh_before` of its expiry (or past half its life when it lives
 * shorter than that). While no token is usable, VUs wait and ask again. A
 * 429 or 503 from the token endpoint is retried after its Retry-After, which
 * also closes the target's gate (run/sgate.h), so no VU sends there before
 * it passes; connect errors are retried with backoff. A 401 on a request
 * forgets the token that request carried (oauth_invalidate), so the next
 * request fetches a new one: the caller retries once.
 *
 * Two halves: `oauth` is the cache shared by threads (a mutex per client,
 * taken for a few instructions per request); `oauth_fetcher` does one
 * client's fetches on one event loop, through that thread's pool to the
 * token endpoint. Built on jansson for the token response.
 */
#ifndef TG_RUN_OAUTH_H
#define TG_RUN_OAUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/rng.h"
#include "run/looptime.h"
#include "run/plan.h"
#include "run/pool.h"
#include "run/retry.h"
#include "run/sgate.h"
#include "run/stats.h"

#define OAUTH_FAIL_HOLD_NS (1000000000ull) /* a failed fetch is reported for 1 s */
#define OAUTH_ERR_MAX      200

/* What oauth_get says. */
enum oauth_status {
    OAUTH_READY = 0, /* a token is in `out` */
    OAUTH_WAIT,      /* no usable token yet: ask again shortly */
    OAUTH_FAILED,    /* the last fetch failed (within OAUTH_FAIL_HOLD_NS): see err */
};

/* One client's token, shared by threads. */
typedef struct oauth_slot {
    pthread_mutex_t lock;
    buf token;           /* the access token, empty when none */
    uint64_t gen;        /* incremented with every new token */
    uint64_t expires_ns; /* monotonic; UINT64_MAX: no expiry given */
    uint64_t refresh_ns; /* fetch a new one from then on */
    bool valid;
    bool fetching;
    uint64_t failed_ns; /* when the last fetch failed; 0: it did not */
    char error[OAUTH_ERR_MAX];
    uint64_t fetches; /* tokens received */
} oauth_slot;

typedef struct oauth {
    const plan_auth *auth; /* borrowed from the plan */
    oauth_slot *slots;     /* auth->nclients, owned */
    size_t n;
} oauth;

/* Sets up an empty cache for the clients of `a` (borrowed; it must outlive
 * the cache). Returns 0 or -ENOMEM. */
int oauth_init(oauth *o, const plan_auth *a);

/* Frees the cache. */
void oauth_free(oauth *o);

/* Client c's token at `now` (monotonic ns). READY: the token is copied into
 * `out` (replacing its contents) and its generation stored in *gen; a token
 * due for refresh is still returned. WAIT: there is no usable token. With
 * READY or WAIT, *fetch is set when the caller has been chosen to fetch a
 * new token (it then calls oauth_fetcher_start on its thread); otherwise a
 * fetch is under way or not needed. FAILED: the last fetch failed less than
 * OAUTH_FAIL_HOLD_NS ago, and err says why. */
enum oauth_status oauth_get(oauth *o, size_t c, uint64_t now, buf *out, uint64_t *gen, bool *fetch,
                            char *err, size_t errlen);

/* A request carrying token generation `gen` of client c was answered 401:
 * forget that token, unless a newer one has replaced it already. */
void oauth_invalidate(oauth *o, size_t c, uint64_t gen);

/* Stores a fetched token valid for expires_in_ns from now (UINT64_MAX: no
 * expiry given) and ends the fetch. refresh_before comes from the plan. */
void oauth_store(oauth *o, size_t c, const char *token, size_t len, uint64_t expires_in_ns,
                 uint64_t now);

/* Ends a fetch that failed for `why`. */
void oauth_fail(oauth *o, size_t c, const char *why, uint64_t now);

/* Appends the token request of client c to out: POST token_url with the
 * form body. Returns 0, -ENOBUFS or -ENOMEM. */
int oauth_request(buf *out, const plan_auth *a, size_t c);

/* Reads a token response body (JSON with access_token and optional
 * expires_in seconds) into *tok / *len (pointing into the returned jansson
 * tree *root, which the caller json_decref's) and *expires_in_ns (UINT64_MAX
 * without expires_in). Returns 0 or -EINVAL with a message. */
struct json_t;
int oauth_parse_token(const char *body, size_t body_len, struct json_t **root, const char **tok,
                      size_t *len, uint64_t *expires_in_ns, char *err, size_t errlen);

/* One client's fetches on one event loop. */
typedef struct oauth_fetcher {
    oauth *o;
    size_t client;
    pool *pool;  /* the thread's pool to the token endpoint */
    sgate *gate; /* the token endpoint's gate */
    looptime *lt;
    rng *rng;
    stats *st;           /* where token requests are counted, or NULL */
    retry_policy policy; /* up to 5 attempts on 429, 503, connect errors and timeouts */
    retry_request rr;
    pool_req req;
    buf bytes; /* the serialized request */
    lt_timer timer;
    bool busy;
} oauth_fetcher;

/* Sets up a fetcher for client `client` of o. Borrows everything. Every
 * token request that ends (a response or a network error) is counted in st
 * with stats_add_token, unless st is NULL. Cannot fail. */
void oauth_fetcher_init(oauth_fetcher *f, oauth *o, size_t client, pool *pl, sgate *gate,
                        looptime *lt, rng *r, stats *st);

/* Starts a fetch (after oauth_get chose the caller). The outcome goes to the
 * shared cache (oauth_store or oauth_fail); waiting VUs see it when they ask
 * again. Does nothing if a fetch is under way on this fetcher. */
void oauth_fetcher_start(oauth_fetcher *f);

/* Abandons a fetch under way (the run is stopping): the cache is told it
 * failed, so no VU waits for it. */
void oauth_fetcher_stop(oauth_fetcher *f);

/* Frees the request buffer; the fetcher must be stopped. */
void oauth_fetcher_free(oauth_fetcher *f);

#endif
