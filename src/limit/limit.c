#include "limit/limit.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* Ids of concurrency acquisitions (store_item.hold), unique in the process. */
static atomic_uint_fast64_t limit_hold_seq = 1;

/* Fills the decision-wide fields once the store has written the verdicts. */
static void limit_finish(limit_decision *d)
{
    d->nviolated = 0;
    d->wait_ns = 0;
    d->retry_after_s = 0;
    if (!d->admitted) {
        for (size_t i = 0; i < d->n; i++) {
            if (d->v[i].conforms)
                continue;
            d->nviolated++;
            if (d->v[i].wait_ns > d->wait_ns)
                d->wait_ns = d->v[i].wait_ns;
        }
        d->retry_after_s = algo_ceil_s(d->wait_ns);
        if (d->retry_after_s == 0)
            d->retry_after_s = 1;
    }
    for (size_t i = 0; i < d->nholds; i++)
        d->holds[i].held = d->admitted;
}

static void limit_store_done(void *arg, int status)
{
    limit_decision *d = arg;

    if (status == 0)
        limit_finish(d);
    if (d->cb != NULL)
        d->cb(d->cb_arg, status);
}

int limit_decide(const limit_policy *p, limit_store *s, const limit_request *r, uint64_t now,
                 limit_decision *d, store_cb cb, void *arg)
{
    char keys[POLICY_MAX_LIMITS][SCOPE_KEY_MAX];
    store_item items[POLICY_MAX_LIMITS];
    limit_slice caps[PATTERN_MAX_CAPTURES];
    int rc;

    d->admitted = true;
    d->n = 0;
    d->nholds = 0;
    d->nviolated = 0;
    d->wait_ns = 0;
    d->retry_after_s = 0;
    d->cb = cb;
    d->cb_arg = arg;
    for (size_t i = 0; i < p->n; i++) {
        const policy_limit *l = p->limits[i];
        store_item *it = &items[d->n];

        if (!policy_limit_matches(l, r, caps))
            continue;
        it->params = &l->params;
        it->key = keys[d->n];
        it->key_len = scope_key(&l->scope, l->name, l->name_len, r, caps, keys[d->n]);
        it->cost = l->cost;
        it->hold = 0;
        if (l->params.kind == ALGO_CONCURRENCY) {
            limit_hold *h = &d->holds[d->nholds++];

            h->limit = l;
            h->held = false;
            h->id = atomic_fetch_add(&limit_hold_seq, 1);
            it->hold = h->id;
            h->key_len = (uint16_t)it->key_len;
            memcpy(h->key, it->key, it->key_len);
        }
        d->limits[d->n++] = l;
    }
    if (d->n == 0)
        return 0;
    rc = store_decide(s, items, d->n, now, d->v, &d->admitted, limit_store_done, d);
    if (rc == 0)
        limit_finish(d);
    else if (rc != -EINPROGRESS)
        d->admitted = false;
    return rc;
}

void limit_release(limit_store *s, limit_decision *d, uint64_t now)
{
    for (size_t i = 0; i < d->nholds; i++) {
        limit_hold *h = &d->holds[i];
        store_item it;

        if (!h->held)
            continue;
        it.params = &h->limit->params;
        it.key = h->key;
        it.key_len = h->key_len;
        it.cost = h->limit->cost;
        it.hold = h->id;
        store_release(s, &it, now);
        h->held = false;
    }
}

int limit_tightest(const limit_decision *d)
{
    int best = -1;

    for (size_t i = 0; i < d->n; i++) {
        const algo_verdict *v = &d->v[i];

        if (!d->admitted) {
            if (!v->conforms && (best < 0 || v->wait_ns > d->v[best].wait_ns))
                best = (int)i;
        } else if (best < 0 || v->remaining < d->v[best].remaining) {
            best = (int)i;
        }
    }
    return best;
}
