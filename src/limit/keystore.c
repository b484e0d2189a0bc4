#include "limit/keystore.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define KEYSTORE_SECRET_SIZE 192
#define KEYSTORE_MAX_SHARDS  64
#define KEYSTORE_NONE        0u /* entry index 0 is never used: "no entry" */
#define KEYSTORE_TAIL_DROP   2  /* idle entries dropped from the LRU tail per insertion */

struct keystore_entry {
    uint64_t fp;
    keystore_val val;
    uint32_t chain; /* next entry in the bucket, or in the free list */
    uint32_t prev;  /* LRU neighbour towards the head (more recent) */
    uint32_t next;  /* LRU neighbour towards the tail (less recent) */
    uint32_t pin;   /* generation of the lock that last returned it */
};

_Static_assert(sizeof(struct keystore_entry) == 48, "a key's state must stay within 48 bytes");

struct keystore_shard {
    pthread_mutex_t lock;
    struct keystore_entry *entries; /* cap + 1, [0] unused */
    uint32_t *buckets;              /* mask + 1 heads */
    uint32_t mask;
    uint32_t cap;        /* most entries this shard holds */
    uint32_t top;        /* entries [1, top) have been used at least once */
    uint32_t free;       /* list of dropped entries, through `chain` */
    uint32_t head;       /* most recently used */
    uint32_t tail;       /* least recently used */
    uint32_t gen;        /* current pin generation, never 0 */
    uint32_t sweep_wait; /* insertions to go before the next sweep may run */
    uint64_t expired;
    uint64_t evicted;
} __attribute__((aligned(64)));

struct keystore {
    unsigned char secret[KEYSTORE_SECRET_SIZE];
    unsigned shard_bits;
    uint32_t nshards;
    uint64_t max_keys;
    uint64_t count; /* entries held, all shards (atomic) */
    uint64_t bytes;
    struct keystore_shard shards[];
};

size_t keystore_entry_size(void)
{
    return sizeof(struct keystore_entry);
}

static uint32_t keystore_pow2_at_least(uint32_t n)
{
    uint32_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

/* Sets up one shard; on failure it holds nothing and needs no cleanup. */
static int keystore_shard_init(struct keystore_shard *s, uint32_t share, uint64_t *bytes)
{
    uint32_t nb = keystore_pow2_at_least(share), cap = share + share / 8 + 8;

    memset(s, 0, sizeof(*s));
    s->cap = cap;
    s->mask = nb - 1;
    s->top = 1;
    s->gen = 1;
    /* calloc of a large block maps fresh zero pages: an entry's page becomes
     * resident only when the entry is first used. */
    s->entries = calloc((size_t)cap + 1, sizeof(*s->entries));
    s->buckets = calloc(nb, sizeof(*s->buckets));
    if (s->entries == NULL || s->buckets == NULL)
        goto err;
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        goto err;
    *bytes += ((uint64_t)cap + 1) * sizeof(*s->entries) + (uint64_t)nb * sizeof(*s->buckets);
    return 0;
err:
    free(s->entries);
    free(s->buckets);
    return -ENOMEM;
}

int keystore_new(keystore **out, size_t max_keys)
{
    keystore *ks;
    uint32_t n = KEYSTORE_MAX_SHARDS, i;
    unsigned bits = 6;
    ssize_t got;
    int rc = -ENOMEM;

    *out = NULL;
    if (max_keys < KEYSTORE_MIN_KEYS || max_keys > 0xffffffffULL)
        return -EINVAL;
    while (n > 1 && max_keys / n < KEYSTORE_MIN_KEYS) {
        n >>= 1;
        bits--;
    }
    ks = calloc(1, sizeof(*ks) + n * sizeof(ks->shards[0]));
    if (ks == NULL)
        return -ENOMEM;
    got = getrandom(ks->secret, sizeof(ks->secret), 0);
    if (got != (ssize_t)sizeof(ks->secret)) {
        free(ks);
        return got < 0 ? -errno : -EIO;
    }
    ks->shard_bits = bits;
    ks->nshards = n;
    ks->max_keys = max_keys;
    ks->bytes = sizeof(*ks) + n * sizeof(ks->shards[0]);
    for (i = 0; i < n; i++) {
        uint32_t share = (uint32_t)(max_keys / n + (i < max_keys % n));

        rc = keystore_shard_init(&ks->shards[i], share, &ks->bytes);
        if (rc != 0)
            goto err;
    }
    *out = ks;
    return 0;
err:
    ks->nshards = i;
    keystore_free(ks);
    return rc;
}

void keystore_free(keystore *ks)
{
    if (ks == NULL)
        return;
    for (uint32_t i = 0; i < ks->nshards; i++) {
        pthread_mutex_destroy(&ks->shards[i].lock);
        free(ks->shards[i].entries);
        free(ks->shards[i].buckets);
    }
    free(ks);
}

keystore_key keystore_key_of(const keystore *ks, const void *key, size_t len)
{
    XXH128_hash_t h = XXH3_128bits_withSecret(key, len, ks->secret, sizeof(ks->secret));
    keystore_key k;

    k.fp = h.low64;
    k.shard = ks->shard_bits == 0 ? 0 : (uint32_t)(h.high64 >> (64 - ks->shard_bits));
    return k;
}

void keystore_lock(keystore *ks, uint32_t shard)
{
    struct keystore_shard *s = &ks->shards[shard];

    pthread_mutex_lock(&s->lock);
    s->gen = s->gen == UINT32_MAX ? 1 : s->gen + 1;
}

void keystore_unlock(keystore *ks, uint32_t shard)
{
    pthread_mutex_unlock(&ks->shards[shard].lock);
}

static void keystore_lru_unlink(struct keystore_shard *s, uint32_t i)
{
    struct keystore_entry *e = &s->entries[i];

    if (e->prev != KEYSTORE_NONE)
        s->entries[e->prev].next = e->next;
    else
        s->head = e->next;
    if (e->next != KEYSTORE_NONE)
        s->entries[e->next].prev = e->prev;
    else
        s->tail = e->prev;
}

static void keystore_lru_push(struct keystore_shard *s, uint32_t i)
{
    struct keystore_entry *e = &s->entries[i];

    e->prev = KEYSTORE_NONE;
    e->next = s->head;
    if (s->head != KEYSTORE_NONE)
        s->entries[s->head].prev = i;
    else
        s->tail = i;
    s->head = i;
}

static void keystore_touch(struct keystore_shard *s, uint32_t i)
{
    if (s->head != i) {
        keystore_lru_unlink(s, i);
        keystore_lru_push(s, i);
    }
    s->entries[i].pin = s->gen;
}

/* Removes entry i from its bucket and the LRU list, onto the free list. */
static void keystore_drop(keystore *ks, struct keystore_shard *s, uint32_t i)
{
    struct keystore_entry *e = &s->entries[i];
    uint32_t *link = &s->buckets[e->fp & s->mask];

    while (*link != i)
        link = &s->entries[*link].chain;
    *link = e->chain;
    keystore_lru_unlink(s, i);
    e->prev = KEYSTORE_NONE; /* a dropped entry is in no list: see keystore_sweep */
    e->next = KEYSTORE_NONE;
    e->pin = 0;
    e->chain = s->free;
    s->free = i;
    __atomic_fetch_sub(&ks->count, 1, __ATOMIC_RELAXED);
}

static int keystore_idle(const struct keystore_shard *s, uint32_t i, uint64_t now)
{
    const struct keystore_entry *e = &s->entries[i];

    return e->pin != s->gen && e->val.full_at <= now;
}

/* Drops every idle entry of shard s; returns how many. */
static uint32_t keystore_sweep(keystore *ks, struct keystore_shard *s, uint64_t now)
{
    uint32_t dropped = 0;

    for (uint32_t i = 1; i < s->top; i++) {
        /* An entry in use has an LRU predecessor unless it is the head;
         * a dropped one has neither. */
        int live = s->entries[i].prev != KEYSTORE_NONE || s->head == i;

        if (live && keystore_idle(s, i, now)) {
            keystore_drop(ks, s, i);
            dropped++;
        }
    }
    return dropped;
}

static int keystore_shard_full(const struct keystore_shard *s)
{
    return s->free == KEYSTORE_NONE && s->top > s->cap;
}

static void keystore_add(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* A free entry index for an insertion into shard s, or NONE; the entry is
 * already counted in ks->count. */
static uint32_t keystore_slot(keystore *ks, struct keystore_shard *s, uint64_t now)
{
    uint64_t others;
    uint32_t i;

    for (int n = 0; n < KEYSTORE_TAIL_DROP && s->tail != KEYSTORE_NONE; n++) {
        if (!keystore_idle(s, s->tail, now))
            break;
        keystore_drop(ks, s, s->tail);
        keystore_add(&s->expired, 1);
    }
    if (s->sweep_wait > 0)
        s->sweep_wait--;
    /* Reserve a place in the global count first, so that threads inserting
     * into different shards at once cannot overshoot the bound together. */
    others = __atomic_fetch_add(&ks->count, 1, __ATOMIC_RELAXED);
    if ((others >= ks->max_keys || keystore_shard_full(s)) && s->sweep_wait == 0) {
        keystore_add(&s->expired, keystore_sweep(ks, s, now));
        s->sweep_wait = s->cap / 16 + 1;
        others = __atomic_load_n(&ks->count, __ATOMIC_RELAXED) - 1;
    }
    /* Still full, nothing idle: the least recently used unpinned entries of
     * this shard go (more than one only to come back under the bound). */
    for (int n = 0; n < 4 && (others >= ks->max_keys || keystore_shard_full(s)); n++) {
        for (i = s->tail; i != KEYSTORE_NONE && s->entries[i].pin == s->gen; i = s->entries[i].prev)
            continue;
        if (i == KEYSTORE_NONE)
            break;
        keystore_drop(ks, s, i);
        keystore_add(&s->evicted, 1);
        others--;
    }
    if (s->free != KEYSTORE_NONE) {
        i = s->free;
        s->free = s->entries[i].chain;
        return i;
    }
    if (s->top <= s->cap)
        return s->top++;
    __atomic_fetch_sub(&ks->count, 1, __ATOMIC_RELAXED);
    return KEYSTORE_NONE;
}

static uint32_t keystore_lookup(struct keystore_shard *s, uint64_t fp)
{
    uint32_t i = s->buckets[fp & s->mask];

    while (i != KEYSTORE_NONE && s->entries[i].fp != fp)
        i = s->entries[i].chain;
    return i;
}

keystore_val *keystore_get(keystore *ks, const keystore_key *k, uint64_t now)
{
    struct keystore_shard *s = &ks->shards[k->shard];
    struct keystore_entry *e;
    uint32_t i = keystore_lookup(s, k->fp), *bucket;

    if (i != KEYSTORE_NONE) {
        keystore_touch(s, i);
        return &s->entries[i].val;
    }
    i = keystore_slot(ks, s, now);
    if (i == KEYSTORE_NONE)
        return NULL;
    e = &s->entries[i];
    memset(e, 0, sizeof(*e));
    e->fp = k->fp;
    bucket = &s->buckets[k->fp & s->mask];
    e->chain = *bucket;
    *bucket = i;
    keystore_lru_push(s, i);
    e->pin = s->gen;
    return &e->val;
}

keystore_val *keystore_find(keystore *ks, const keystore_key *k)
{
    struct keystore_shard *s = &ks->shards[k->shard];
    uint32_t i = keystore_lookup(s, k->fp);

    if (i == KEYSTORE_NONE)
        return NULL;
    keystore_touch(s, i);
    return &s->entries[i].val;
}

void keystore_stats_get(const keystore *ks, keystore_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->keys = __atomic_load_n(&ks->count, __ATOMIC_RELAXED);
    out->max_keys = ks->max_keys;
    out->bytes = ks->bytes;
    for (uint32_t i = 0; i < ks->nshards; i++) {
        const struct keystore_shard *s = &ks->shards[i];

        out->expired += __atomic_load_n(&s->expired, __ATOMIC_RELAXED);
        out->evicted += __atomic_load_n(&s->evicted, __ATOMIC_RELAXED);
    }
}
