/*
 * store: where limit state lives, behind a table of four functions so that
 * the in-process store (localstore) and a shared one (Redis, later) are
 * interchangeable, chosen once when the gateway starts.
 *
 * The unit of work is a whole decision, not a key: `decide` receives every
 * limit that applies to one request -- its algorithm parameters, its key and
 * its cost -- and must charge all of them or none, atomically with respect to
 * every other decision. That is what lets a Redis store do one round trip per
 * decision (one script call that runs the same algorithms, see algo.h, over
 * all the keys), and what makes "a rejected request charges nothing" hold
 * with any number of gateway threads or processes.
 *
 * A store may answer synchronously (the in-process one always does) or later
 * on the caller's event loop (Redis): `decide` returns 0 when the results are
 * already written, or -EINPROGRESS when it will write them and then call
 * `cb(arg, status)` exactly once. A call that returns any other error never
 * calls `cb`.
 */
#ifndef TG_LIMIT_STORE_H
#define TG_LIMIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit/algo.h"

/* Most limits one decision can charge. */
#define STORE_MAX_ITEMS 32

typedef struct limit_store limit_store;

/* One limit of one decision. The key bytes identify the limit's state (the
 * policy builds them from the limit's name and the request's identity); keys
 * within one call are distinct. A store copies what it keeps: the item and
 * its key only need to live until `decide` returns. */
typedef struct store_item {
    const algo_params *params;
    const char *key;
    size_t key_len;
    uint64_t cost; /* units charged if the decision admits */
    /* Concurrency caps: the caller's id of this acquisition, unique in the
     * process and passed again to `release` (a shared store records which
     * holder took a slot, so that only that holder's release frees it and a
     * lease can expire it); 0 for other algorithms. */
    uint64_t hold;
} store_item;

typedef void (*store_cb)(void *arg, int status);

typedef struct store_ops {
    const char *name;
    /* Decides items[0..n) (n <= STORE_MAX_ITEMS) at `now` (ns): out[i] gets
     * item i's verdict (see algo.h) and *admitted whether every item
     * conforms. If all conform every state is charged; otherwise none is, and
     * the verdicts of the conforming items describe the uncharged state. `out`
     * and `admitted` must stay valid until the results are written. Returns 0
     * (done), -EINPROGRESS (cb follows), -E2BIG (too many items), or another
     * negative code (no result, cb never called). */
    int (*decide)(limit_store *s, const store_item *items, size_t n, uint64_t now,
                  algo_verdict *out, bool *admitted, store_cb cb, void *arg);
    /* Gives back what an admitted decision holds for one item (a concurrency
     * slot). Releasing something not held -- an unknown key, a second
     * release -- is harmless. May complete later; returns 0 or a negative
     * code. */
    int (*release)(limit_store *s, const store_item *item, uint64_t now);
    /* Keys currently held, for metrics (may be approximate). */
    uint64_t (*keys)(limit_store *s);
    void (*free)(limit_store *s);
} store_ops;

/* Every store implementation starts with this. */
struct limit_store {
    const store_ops *ops;
};

static inline int store_decide(limit_store *s, const store_item *items, size_t n, uint64_t now,
                               algo_verdict *out, bool *admitted, store_cb cb, void *arg)
{
    return s->ops->decide(s, items, n, now, out, admitted, cb, arg);
}

static inline int store_release(limit_store *s, const store_item *item, uint64_t now)
{
    return s->ops->release(s, item, now);
}

static inline uint64_t store_keys(limit_store *s)
{
    return s->ops->keys(s);
}

/* Frees a store made by any constructor; NULL is fine. */
static inline void store_free(limit_store *s)
{
    if (s != NULL)
        s->ops->free(s);
}

#endif
