/*
 * keystore: the bounded table of per-key limit state behind the in-process
 * store.
 *
 * A key (the bytes a policy builds from a limit's name and the request's
 * identity) is hashed with XXH3-128 under a 192-byte secret drawn from
 * getrandom() when the table is made, so nobody outside the process can
 * choose keys that collide. Only the hash is kept: its low 64 bits are the
 * key's fingerprint (and pick the bucket), its high bits pick the shard; two
 * keys share state only if 64 + log2(shards) hash bits agree (for 10^6 live
 * keys, a chance below 10^-9). An entry is 48 bytes: fingerprint 8, algorithm
 * state 16, full-at time 8, bucket chain and LRU links 12, pin 4 -- plus 4
 * bytes of bucket array per key. nginx's limit_req needs 128 + the key.
 *
 * The table is split into up to 64 shards, each with its own lock, bucket
 * array, entry array and LRU list, so worker threads rarely contend. The
 * bound is global: an insertion first reserves its place in a shared count
 * of keys, and if that exceeds `max_keys` it makes room in its own shard, so
 * the table holds at most max_keys keys however they spread over shards. Each
 * shard's entry array is sized once for its share of max_keys plus 1/8 + 8
 * (hash spread), and nothing ever grows; its pages become resident only as
 * entries are first used. (Only if a shard has nothing it may drop -- every
 * entry pinned by the decision in progress -- does an insertion go past the
 * bound, within that shard's array; later insertions come back under it.)
 *
 * Dropping a key whose state is back to full allowance loses nothing (an
 * absent key reads as zero state, which is full allowance), so such "idle"
 * keys go first: each insertion drops up to 2 idle keys from the cold end of
 * its shard's LRU list, and an insertion that finds the table (or its shard)
 * full first sweeps the shard and drops every idle key in it (at most one
 * sweep per 1/16 of the shard's size in insertions, so the cost stays O(16)
 * entry visits per insertion). Only when no idle key was found does the least
 * recently used key of the shard go, with its state.
 *
 * Locking: every call but keystore_key_of and keystore_stats needs the key's
 * shard locked by the caller. A caller that needs several shards locks them
 * in ascending order (deadlock-free) and unlocks them all afterwards.
 */
#ifndef TG_LIMIT_KEYSTORE_H
#define TG_LIMIT_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "limit/algo.h"

#define KEYSTORE_DEFAULT_MAX_KEYS 1000000
/* The smallest bound accepted; every shard holds at least this many entries,
 * which is more than one decision can pin. */
#define KEYSTORE_MIN_KEYS 64

typedef struct keystore keystore;

/* Where a key lives: its fingerprint and shard. */
typedef struct keystore_key {
    uint64_t fp;
    uint32_t shard;
} keystore_key;

/* The value part of an entry, owned by the table; valid while its shard
 * stays locked. A new entry is all zero. `full_at` must be kept current by
 * whoever changes `st`: the absolute ns from which the state is back to full
 * allowance (0 or any time <= now: idle; UINT64_MAX: not by time). */
typedef struct keystore_val {
    algo_state st;
    uint64_t full_at;
} keystore_val;

typedef struct keystore_stats {
    uint64_t keys;     /* entries held now */
    uint64_t max_keys; /* the bound */
    uint64_t bytes;    /* bytes allocated for the table (reserved once, the memory bound) */
    uint64_t expired;  /* idle entries dropped (nothing lost) */
    uint64_t evicted;  /* entries dropped with state (least recently used, table full) */
} keystore_stats;

/* Makes a table of at most max_keys (>= KEYSTORE_MIN_KEYS) entries with a
 * fresh random secret. Returns 0, -EINVAL for a bound that is too small,
 * -ENOMEM, or the error of getrandom(). The caller frees it with
 * keystore_free. */
int keystore_new(keystore **out, size_t max_keys);
void keystore_free(keystore *ks);

/* Hashes key bytes under the table's secret. No lock needed. */
keystore_key keystore_key_of(const keystore *ks, const void *key, size_t len);

/* Locks / unlocks one shard. Locking also starts a new pin generation:
 * entries returned by keystore_get while the lock is held are never dropped
 * to make room before the shard is unlocked. */
void keystore_lock(keystore *ks, uint32_t shard);
void keystore_unlock(keystore *ks, uint32_t shard);

/* The value for k (its shard locked), created zeroed if absent, which may
 * drop another entry of the shard (see above). The entry becomes the most
 * recently used and is pinned until the shard is unlocked. Returns NULL only
 * if the shard's array is full and every entry in it pinned (impossible with
 * fewer than KEYSTORE_MIN_KEYS keys per decision). */
keystore_val *keystore_get(keystore *ks, const keystore_key *k, uint64_t now);

/* The value for k (its shard locked), or NULL if absent; creates nothing. */
keystore_val *keystore_find(keystore *ks, const keystore_key *k);

/* Counters, read without locks (each field is exact, the set is not a
 * snapshot). */
void keystore_stats_get(const keystore *ks, keystore_stats *out);

/* Bytes per entry, for reports. */
size_t keystore_entry_size(void);

#endif
