#include "serve/coll_store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/emu_time.h"

#define COLL_ENTITY_BYTES 160 /* bookkeeping bytes charged per entity besides its JSON */

typedef struct coll_entity {
    char id[COLL_STORE_ID_MAX + 1];
    size_t id_len;
    uint64_t version;
    char created[EMU_TIME_LEN + 1];
    char *json; /* the whole entity, server fields included */
    size_t len;
} coll_entity;

typedef struct coll_org {
    char *org;
    coll_entity **ents; /* sorted by (id length, id bytes) */
    size_t n, cap;
} coll_org;

struct coll_store {
    coll_store_opts o; /* strings owned */
    pthread_mutex_t mu;
    coll_org **orgs;
    size_t norgs;
    uint64_t bytes; /* JSON plus COLL_ENTITY_BYTES per entity */
    unsigned refs;  /* under coll_registry_mu */
    struct coll_store *next;
};

static pthread_mutex_t coll_registry_mu = PTHREAD_MUTEX_INITIALIZER;
static coll_store *coll_registry;

static void coll_entity_free(coll_entity *e)
{
    if (e != NULL)
        free(e->json);
    free(e);
}

static void coll_destroy(coll_store *s)
{
    for (size_t i = 0; i < s->norgs; i++) {
        for (size_t j = 0; j < s->orgs[i]->n; j++)
            coll_entity_free(s->orgs[i]->ents[j]);
        free(s->orgs[i]->ents);
        free(s->orgs[i]->org);
        free(s->orgs[i]);
    }
    free(s->orgs);
    pthread_mutex_destroy(&s->mu);
    free((char *)s->o.name);
    free((char *)s->o.base);
    free(s);
}

int coll_store_acquire(coll_store **out, const coll_store_opts *o)
{
    coll_store *s;
    char *name = NULL, *base = NULL;

    pthread_mutex_lock(&coll_registry_mu);
    for (s = coll_registry; s != NULL; s = s->next) {
        if (strcmp(s->o.name, o->name) != 0)
            continue;
        if (strcmp(s->o.base, o->base) != 0 || s->o.max_entities != o->max_entities ||
            s->o.seed != o->seed || s->o.max_bytes != o->max_bytes) {
            pthread_mutex_unlock(&coll_registry_mu);
            return -EEXIST;
        }
        s->refs++;
        pthread_mutex_unlock(&coll_registry_mu);
        *out = s;
        return 0;
    }
    s = calloc(1, sizeof(*s));
    name = strdup(o->name);
    base = strdup(o->base);
    if (s == NULL || name == NULL || base == NULL || pthread_mutex_init(&s->mu, NULL) != 0)
        goto err;
    s->o = *o;
    s->o.name = name;
    s->o.base = base;
    s->refs = 1;
    s->next = coll_registry;
    coll_registry = s;
    pthread_mutex_unlock(&coll_registry_mu);
    *out = s;
    return 0;
err:
    pthread_mutex_unlock(&coll_registry_mu);
    free(name);
    free(base);
    free(s);
    return -ENOMEM;
}

void coll_store_release(coll_store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&coll_registry_mu);
    if (--s->refs == 0) {
        for (coll_store **p = &coll_registry; *p != NULL; p = &(*p)->next) {
            if (*p == s) {
                *p = s->next;
                break;
            }
        }
        coll_destroy(s);
    }
    pthread_mutex_unlock(&coll_registry_mu);
}

const coll_store_opts *coll_store_options(const coll_store *s)
{
    return &s->o;
}

/* Orders ids by length, then bytes. */
static int coll_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

/* The index of id in o, or where it would go; *found says which. */
static size_t coll_search(const coll_org *o, const char *id, size_t len, bool *found)
{
    size_t lo = 0, hi = o->n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = coll_cmp(o->ents[mid]->id, o->ents[mid]->id_len, id, len);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static coll_entity *coll_find(const coll_org *o, const char *id, size_t len)
{
    bool found;
    size_t i = coll_search(o, id, len, &found);

    return found ? o->ents[i] : NULL;
}

/* Inserts e (whose id is absent) into o and charges its bytes. */
static int coll_insert(coll_store *s, coll_org *o, coll_entity *e)
{
    bool found;
    size_t at = coll_search(o, e->id, e->id_len, &found);

    if (found)
        return -EEXIST;
    if (o->n == o->cap) {
        size_t cap = o->cap == 0 ? 16 : o->cap * 2;
        coll_entity **p = realloc(o->ents, cap * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        o->ents = p;
        o->cap = cap;
    }
    memmove(&o->ents[at + 1], &o->ents[at], (o->n - at) * sizeof(*o->ents));
    o->ents[at] = e;
    o->n++;
    s->bytes += e->len + COLL_ENTITY_BYTES;
    return 0;
}

/* Completes `head` (an entity's JSON without its closing brace) with the
 * server fields. Returns a malloc'd text or NULL. */
static char *coll_text(const coll_store *s, const char *head, size_t hlen, const char *id,
                       uint64_t version, const char *created, const char *modified, size_t *len)
{
    char *t = NULL;
    int n = asprintf(&t,
                     "%.*s,\"version\":%" PRIu64 ",\"dateCreated\":\"%s\",\"dateModified\":"
                     "\"%s\",\"selfUri\":\"%s/%s\"}",
                     (int)hlen, head, version, created, modified, s->o.base, id);

    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return t;
}

static coll_entity *coll_entity_new(const coll_store *s, const char *id, const char *head,
                                    size_t hlen, uint64_t now_wall)
{
    coll_entity *e = calloc(1, sizeof(*e));
    size_t len = strlen(id);

    if (e == NULL || len > COLL_STORE_ID_MAX || hlen > INT32_MAX)
        goto err;
    memcpy(e->id, id, len + 1);
    e->id_len = len;
    e->version = 1;
    emu_time_format((int64_t)(now_wall / 1000000), e->created);
    e->json = coll_text(s, head, hlen, e->id, 1, e->created, e->created, &e->len);
    if (e->json == NULL)
        goto err;
    return e;
err:
    coll_entity_free(e);
    return NULL;
}

/* The org's record, made (with its seed entities) on first use; NULL when it
 * cannot be. Under s->mu. */
static coll_org *coll_org_get(coll_store *s, const char *org, uint64_t now_wall)
{
    coll_org *o, **p;

    for (size_t i = 0; i < s->norgs; i++) {
        if (strcmp(s->orgs[i]->org, org) == 0)
            return s->orgs[i];
    }
    if (s->norgs == COLL_STORE_MAX_ORGS)
        return NULL;
    p = realloc(s->orgs, (s->norgs + 1) * sizeof(*p));
    if (p == NULL)
        return NULL;
    s->orgs = p;
    o = calloc(1, sizeof(*o));
    if (o == NULL || (o->org = strdup(org)) == NULL) {
        free(o);
        return NULL;
    }
    s->orgs[s->norgs++] = o;
    for (uint64_t i = 1; i <= s->o.seed; i++) {
        char id[32], head[200];
        int hlen;
        coll_entity *e;

        snprintf(id, sizeof(id), "seed-%" PRIu64, i);
        hlen = snprintf(head, sizeof(head),
                        "{\"id\":\"%s\",\"name\":\"%s seed %" PRIu64 "\",\"description\":\"created "
                        "by tollgate\"",
                        id, s->o.name, i);
        e = coll_entity_new(s, id, head, (size_t)hlen, now_wall);
        if (e == NULL || coll_insert(s, o, e) < 0) {
            coll_entity_free(e);
            break; /* out of memory: the org has fewer seeds */
        }
    }
    return o;
}

int coll_store_list(coll_store *s, const char *org, uint64_t now_wall, uint64_t first,
                    uint64_t count, buf *out, uint64_t *total)
{
    coll_org *o;
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    o = coll_org_get(s, org, now_wall);
    if (o == NULL) {
        pthread_mutex_unlock(&s->mu);
        return -ENOSPC;
    }
    *total = o->n;
    for (uint64_t i = first; i < o->n && i - first < count && rc == 0; i++) {
        if (i > first)
            rc = buf_append(out, ",", 1);
        if (rc == 0)
            rc = buf_append(out, o->ents[i]->json, o->ents[i]->len);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int coll_store_get(coll_store *s, const char *org, uint64_t now_wall, const char *id, size_t len,
                   buf *out)
{
    coll_org *o;
    coll_entity *e;
    int rc;

    pthread_mutex_lock(&s->mu);
    o = coll_org_get(s, org, now_wall);
    e = o != NULL ? coll_find(o, id, len) : NULL;
    rc = o == NULL ? -ENOSPC : e == NULL ? -ENOENT : buf_append(out, e->json, e->len);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int coll_store_create(coll_store *s, const char *org, uint64_t now_wall, const char *id,
                      const char *head, size_t hlen, buf *out)
{
    coll_entity *e = coll_entity_new(s, id, head, hlen, now_wall);
    coll_org *o;
    int rc;

    if (e == NULL)
        return -ENOMEM;
    pthread_mutex_lock(&s->mu);
    o = coll_org_get(s, org, now_wall);
    if (o == NULL || o->n >= s->o.max_entities ||
        s->bytes + e->len + COLL_ENTITY_BYTES > s->o.max_bytes)
        rc = -ENOSPC;
    else
        rc = coll_insert(s, o, e);
    /* Copied under the lock: once it is released, a PUT may free e->json. */
    if (rc == 0)
        rc = buf_append(out, e->json, e->len);
    else
        coll_entity_free(e);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int coll_store_replace(coll_store *s, const char *org, uint64_t now_wall, const char *id,
                       size_t len, uint64_t version, const char *head, size_t hlen, buf *out,
                       uint64_t *current)
{
    char now[EMU_TIME_LEN + 1];
    coll_entity *e = NULL;
    coll_org *o;
    char *text = NULL;
    size_t tlen = 0;
    int rc;

    emu_time_format((int64_t)(now_wall / 1000000), now);
    pthread_mutex_lock(&s->mu);
    o = coll_org_get(s, org, now_wall);
    if (o != NULL)
        e = coll_find(o, id, len);
    if (o == NULL) {
        rc = -ENOSPC;
    } else if (e == NULL) {
        rc = -ENOENT;
    } else if (e->version != version) {
        *current = e->version;
        rc = -ESTALE;
    } else if ((text = coll_text(s, head, hlen, e->id, version + 1, e->created, now, &tlen)) ==
               NULL) {
        rc = -ENOMEM;
    } else if (s->bytes - e->len + tlen > s->o.max_bytes) {
        free(text);
        rc = -ENOSPC;
    } else {
        s->bytes = s->bytes - e->len + tlen;
        free(e->json);
        e->json = text;
        e->len = tlen;
        e->version = version + 1;
        rc = buf_append(out, text, tlen);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int coll_store_delete(coll_store *s, const char *org, uint64_t now_wall, const char *id, size_t len)
{
    coll_entity *e = NULL;
    coll_org *o;
    bool found = false;
    size_t at = 0;

    pthread_mutex_lock(&s->mu);
    o = coll_org_get(s, org, now_wall);
    if (o != NULL)
        at = coll_search(o, id, len, &found);
    if (found) {
        e = o->ents[at];
        memmove(&o->ents[at], &o->ents[at + 1], (o->n - at - 1) * sizeof(*o->ents));
        o->n--;
        s->bytes -= e->len + COLL_ENTITY_BYTES;
    }
    pthread_mutex_unlock(&s->mu);
    coll_entity_free(e);
    return e != NULL ? 0 : -ENOENT;
}
