#include "limit/localstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct localstore {
    limit_store base;
    keystore *ks;
} localstore;

static int localstore_decide(limit_store *s, const store_item *items, size_t n, uint64_t now,
                             algo_verdict *out, bool *admitted, store_cb cb, void *arg)
{
    keystore *ks = ((localstore *)s)->ks;
    keystore_key keys[STORE_MAX_ITEMS];
    keystore_val *vals[STORE_MAX_ITEMS];
    algo_state next[STORE_MAX_ITEMS];
    uint32_t shards[STORE_MAX_ITEMS];
    size_t nshards = 0, i, j;
    bool all = true;
    int rc = 0;

    (void)cb;
    (void)arg;
    if (n > STORE_MAX_ITEMS)
        return -E2BIG;
    /* The distinct shards, in ascending order: the locking order. */
    for (i = 0; i < n; i++) {
        keys[i] = keystore_key_of(ks, items[i].key, items[i].key_len);
        for (j = 0; j < nshards && shards[j] < keys[i].shard; j++)
            continue;
        if (j < nshards && shards[j] == keys[i].shard)
            continue;
        for (size_t m = nshards; m > j; m--)
            shards[m] = shards[m - 1];
        shards[j] = keys[i].shard;
        nshards++;
    }
    for (j = 0; j < nshards; j++)
        keystore_lock(ks, shards[j]);
    for (i = 0; i < n; i++) {
        vals[i] = keystore_get(ks, &keys[i], now);
        if (vals[i] == NULL) {
            rc = -ENOSPC;
            goto unlock;
        }
        algo_get(items[i].params->kind)
            ->decide(items[i].params, &vals[i]->st, now, items[i].cost, &next[i], &out[i]);
        all = all && out[i].conforms;
    }
    for (i = 0; i < n; i++) {
        if (all) {
            vals[i]->st = next[i];
            vals[i]->full_at = out[i].full_at;
        } else if (out[i].conforms) {
            /* Not charged after all: report the state as it stays. */
            algo_get(items[i].params->kind)
                ->decide(items[i].params, &vals[i]->st, now, 0, &next[i], &out[i]);
        }
    }
    *admitted = all;
unlock:
    for (j = nshards; j > 0; j--)
        keystore_unlock(ks, shards[j - 1]);
    return rc;
}

static int localstore_release(limit_store *s, const store_item *item, uint64_t now)
{
    keystore *ks = ((localstore *)s)->ks;
    const algo_ops *ops = algo_get(item->params->kind);
    keystore_key k;
    keystore_val *v;

    (void)now;
    if (ops->release == NULL)
        return 0;
    k = keystore_key_of(ks, item->key, item->key_len);
    keystore_lock(ks, k.shard);
    v = keystore_find(ks, &k);
    if (v != NULL)
        v->full_at = ops->release(item->params, &v->st, item->cost);
    keystore_unlock(ks, k.shard);
    return 0;
}

static uint64_t localstore_keys(limit_store *s)
{
    keystore_stats st;

    keystore_stats_get(((localstore *)s)->ks, &st);
    return st.keys;
}

static void localstore_free(limit_store *s)
{
    localstore *ls = (localstore *)s;

    keystore_free(ls->ks);
    free(ls);
}

static const store_ops localstore_ops = {
    "local", localstore_decide, localstore_release, localstore_keys, localstore_free,
};

int localstore_new(limit_store **out, size_t max_keys)
{
    localstore *ls = calloc(1, sizeof(*ls));
    int rc;

    *out = NULL;
    if (ls == NULL)
        return -ENOMEM;
    rc = keystore_new(&ls->ks, max_keys == 0 ? KEYSTORE_DEFAULT_MAX_KEYS : max_keys);
    if (rc != 0)
        goto err;
    ls->base.ops = &localstore_ops;
    *out = &ls->base;
    return 0;
err:
    free(ls);
    return rc;
}

keystore *localstore_keystore(limit_store *s)
{
    return ((localstore *)s)->ks;
}
