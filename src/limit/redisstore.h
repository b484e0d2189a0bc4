/*
 * redisstore: the limit store (store.h) kept in Redis, so that several
 * gateways share one budget per key.
 *
 * One round trip per decision: every item of a decision goes into one
 * EVALSHA of the script in redis_lua.c, which runs the same algorithms as
 * the in-process store (gcra.c, window.c, conc.c) over the stored states,
 * charges all or none, and returns every verdict. The script is loaded once
 * per connection with SCRIPT LOAD and loaded again when Redis answers
 * NOSCRIPT (after a restart or SCRIPT FLUSH). Keys expire by themselves:
 * each charged key gets PX at its full refill (plus an optional slack), so
 * Redis holds no dead state.
 *
 * Clock: by default the script reads Redis' TIME, so every gateway decides
 * on one clock and skew between gateways changes no decision. The caller's
 * `now` then only places full_at on the caller's timeline (now + the time
 * to full). With `caller_clock` the caller's `now` goes in instead; that is
 * how the equivalence test drives both stores with one virtual clock.
 *
 * Concurrency caps are sorted sets of leases: a slot is a member
 * "HOLDER:HOLD" scored with its lease deadline (Redis ms), released with
 * ZREM, and a slot whose holder crashed expires after `lease_ns`.
 *
 * Domain: Lua numbers are doubles, so the script refuses nothing it cannot
 * compute exactly; redisstore_check_params tells which limits fit: periods
 * and GCRA refill times from 1 us to 2^52 ns (52 days).
 *
 * Asynchronous on one libuv loop through hiredis' libuv adapter: one store
 * per event loop (a gateway makes one per worker thread), never shared
 * between threads. The decisions issued in one loop pass (up to 64) go out
 * together as one EVALSHA, sent from a prepare and a check handle (before
 * the loop blocks, and after the I/O callbacks that made them): the script
 * decides them in turn, each atomically, so one round trip and one script
 * call serve a whole pass. A decision not answered within
 * `timeout_ns` completes with -ETIMEDOUT (a late reply is dropped, and slots
 * it took are given back); after REDISSTORE_TRIP consecutive failures the
 * store stops waiting (a circuit breaker): decide returns -EAGAIN at once
 * until a probe PING is answered in time. A lost connection is retried
 * every REDISSTORE_RETRY_MS; meanwhile decide returns -ENOTCONN at once.
 */
#ifndef TG_LIMIT_REDISSTORE_H
#define TG_LIMIT_REDISSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "limit/algo.h"
#include "limit/store.h"

#define REDISSTORE_TRIP     5   /* consecutive failures that open the breaker */
#define REDISSTORE_RETRY_MS 100 /* reconnect and probe period */
#define REDISSTORE_HOST_MAX 256

/* Where and how. */
typedef struct redisstore_opts {
    char host[REDISSTORE_HOST_MAX];
    int port;
    int db;
    uint64_t timeout_ns; /* per decision; 0 means 20 ms */
    uint64_t lease_ns;   /* concurrency slot lease; 0 means 60 s */
    uint64_t slack_ms;   /* added to every key's expiry (tests with a virtual clock) */
    bool caller_clock;   /* decide on the caller's now instead of Redis TIME */
} redisstore_opts;

/* Fills o from "redis://HOST[:PORT][/DB]" (port 6379 and db 0 by default;
 * other fields get their defaults). Returns 0 or -EINVAL with a message such
 * as `"redis://h:x": bad port, expected redis://HOST[:PORT][/DB]`. */
int redisstore_parse_url(const char *url, redisstore_opts *o, char *err, size_t errlen);

/* Whether the script can decide a limit with these parameters exactly:
 * 0, or -ERANGE with a message naming the bound. */
int redisstore_check_params(const algo_params *p, char *err, size_t errlen);

/* Makes a store on `loop` and starts connecting (decide returns -ENOTCONN
 * until connected). Returns 0 or -ENOMEM. Everything else about the store
 * happens on the loop's thread. The store keeps the loop alive (its
 * reconnect timer) until store_free, which, there (or once the loop no
 * longer runs), fails pending decisions with -ECONNRESET and closes its
 * handles; the loop finishes closing them on its next run. */
int redisstore_new(limit_store **out, uv_loop_t *loop, const redisstore_opts *o);

/* Counters of one store (read on its loop's thread). */
typedef struct redisstore_stats {
    uint64_t decisions; /* answered by Redis */
    uint64_t calls;     /* EVALSHA sent (one per batch of decisions) */
    uint64_t timeouts;  /* completed with -ETIMEDOUT */
    uint64_t errors;    /* failed by a lost connection or an error reply */
    uint64_t refused;   /* decide refused at once (down or breaker open) */
    uint64_t reloads;   /* NOSCRIPT answered by loading the script again */
    uint64_t connects;  /* successful connections */
} redisstore_stats;

void redisstore_stats_get(limit_store *s, redisstore_stats *out);

/* Whether decisions currently go to Redis (connected, breaker closed). */
bool redisstore_up(limit_store *s);

#endif
