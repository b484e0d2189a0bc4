/*
 * emu_coll: the `collection` handler kind, versioned JSON entities per org
 * under one base path (the platform's scripts, flows...):
 *
 *     GET    BASE?pageSize=25&pageNumber=1   a page, in id order
 *     POST   BASE                            create: 201, id, version 1
 *     GET    BASE/{id}
 *     PUT    BASE/{id}                       the body's version must be the current one
 *     DELETE BASE/{id}                       204
 *
 * The route is declared once, its path BASE followed by the wildcard `**` (which matches BASE
 * itself); the handler splits BASE from BASE/{id}. Options:
 *
 *     {name: scripts, base: /api/v2/scripts, max_entities: 10000, seed: 200,
 *      max_bytes: 64MiB-as-bytes}
 *
 * Collections are shared by name: two routes that declare `name: scripts`
 * (e.g. reads and writes with different latency models) serve one store, so
 * the options must agree. Each org sees only its own entities. On an org's
 * first request its `seed` entities are created with the ids seed-1 ..
 * seed-N, so plans can address them without listing (`seed-{{vu}}`).
 *
 * One mutex per collection guards everything: the version check and the
 * replacement of a PUT happen under it, so concurrent writers never lose an
 * update silently (the loser gets 409). JSON is parsed and serialized outside
 * the lock where the result does not depend on the stored state.
 *
 * Bounds: at most max_entities per org (507 collection.full), at most
 * max_bytes of stored JSON per collection (507), at most COLL_MAX_ORGS orgs.
 */
#include "serve/emulate.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"
#include "serve/emu_form.h"
#include "serve/emu_time.h"

#define COLL_MAX_ORGS     256
#define COLL_ID_MAX       40    /* bytes of an id, seed ids and UUIDs fit */
#define COLL_ENTITY_BYTES 160   /* bookkeeping bytes counted per entity besides its JSON */
#define COLL_PAGE_MAX     500   /* pageSize at most */
#define COLL_PAGE_DEFAULT 25

typedef struct coll_entity {
    char id[COLL_ID_MAX + 1];
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

typedef struct coll {
    char *name;
    char *base;
    size_t base_len;
    uint64_t max_entities, seed, max_bytes;
    pthread_mutex_t mu;
    coll_org **orgs;
    size_t norgs;
    uint64_t bytes; /* JSON plus COLL_ENTITY_BYTES per entity */
    unsigned refs;  /* routes sharing the collection, under coll_registry_mu */
    struct coll *next;
} coll;

static pthread_mutex_t coll_registry_mu = PTHREAD_MUTEX_INITIALIZER;
static coll *coll_registry;

static void coll_entity_free(coll_entity *e)
{
    if (e != NULL)
        free(e->json);
    free(e);
}

static void coll_destroy(coll *c)
{
    for (size_t i = 0; i < c->norgs; i++) {
        for (size_t j = 0; j < c->orgs[i]->n; j++)
            coll_entity_free(c->orgs[i]->ents[j]);
        free(c->orgs[i]->ents);
        free(c->orgs[i]->org);
        free(c->orgs[i]);
    }
    free(c->orgs);
    pthread_mutex_destroy(&c->mu);
    free(c->name);
    free(c->base);
    free(c);
}

/* Whether s is 1-64 of [A-Za-z0-9._-] (set) or also '/' and '~' (path). */
static bool coll_chars_ok(const char *s, bool path)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 * (path ? 4 : 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '_' || ch == '-' || (path && (ch == '/' || ch == '~'));

        if (!ok)
            return false;
    }
    return true;
}

static int coll_options(const config_doc *doc, const config_node *opt, coll *c, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"name", "base", "max_entities", "seed", "max_bytes", NULL};
    const char *name = NULL, *base = NULL;
    int64_t max_entities = 10000, seed = 0, max_bytes = 64 << 20;
    int rc = config_check_keys(doc, opt, keys, err, errlen);

    if (rc == 0 && opt == NULL)
        return config_error(doc, NULL, err, errlen,
                            "handler collection needs options {name: ..., base: ...}");
    if (rc == 0)
        rc = config_require(doc, opt, "name", err, errlen);
    if (rc == 0)
        rc = config_require(doc, opt, "base", err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, opt, "name", &name, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, opt, "base", &base, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "max_entities", 1, 1000000, &max_entities, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "seed", 0, max_entities, &seed, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "max_bytes", 4096, (int64_t)1 << 34, &max_bytes, err,
                            errlen);
    if (rc < 0)
        return rc;
    if (!coll_chars_ok(name, false))
        return config_error(doc, config_map_get(doc, opt, "name"), err, errlen,
                            "name: expected 1-64 of A-Z a-z 0-9 . _ -");
    if (base[0] != '/' || base[strlen(base) - 1] == '/' || !coll_chars_ok(base, true) ||
        strstr(base, "//") != NULL)
        return config_error(doc, config_map_get(doc, opt, "base"), err, errlen,
                            "base: expected a path such as /api/v2/scripts (no trailing '/', "
                            "no patterns)");
    c->name = (char *)name;
    c->base = (char *)base;
    c->base_len = strlen(base);
    c->max_entities = (uint64_t)max_entities;
    c->seed = (uint64_t)seed;
    c->max_bytes = (uint64_t)max_bytes;
    return 0;
}

static int coll_init(void **state, const config_doc *doc, const config_node *options,
                     const handler_env *env, char *err, size_t errlen)
{
    coll want = {0}, *c;
    int rc = coll_options(doc, options, &want, err, errlen);

    (void)env;
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&coll_registry_mu);
    for (c = coll_registry; c != NULL; c = c->next) {
        if (strcmp(c->name, want.name) != 0)
            continue;
        if (strcmp(c->base, want.base) != 0 || c->max_entities != want.max_entities ||
            c->seed != want.seed || c->max_bytes != want.max_bytes) {
            pthread_mutex_unlock(&coll_registry_mu);
            return config_error(doc, options, err, errlen,
                                "collection '%s' is declared again with other options (base "
                                "%s, max_entities, seed and max_bytes must agree)",
                                want.name, c->base);
        }
        c->refs++;
        pthread_mutex_unlock(&coll_registry_mu);
        *state = c;
        return 0;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto err;
    *c = want;
    c->name = strdup(want.name);
    c->base = strdup(want.base);
    c->refs = 1;
    if (c->name == NULL || c->base == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->name);
        free(c->base);
        free(c);
        goto err;
    }
    c->next = coll_registry;
    coll_registry = c;
    pthread_mutex_unlock(&coll_registry_mu);
    *state = c;
    return 0;
err:
    pthread_mutex_unlock(&coll_registry_mu);
    return -ENOMEM;
}

static void coll_free(void *state)
{
    coll *c = state;

    if (c == NULL)
        return;
    pthread_mutex_lock(&coll_registry_mu);
    if (--c->refs == 0) {
        for (coll **p = &coll_registry; *p != NULL; p = &(*p)->next) {
            if (*p == c) {
                *p = c->next;
                break;
            }
        }
        coll_destroy(c);
    }
    pthread_mutex_unlock(&coll_registry_mu);
}

/* Orders ids by length, then bytes: seed-2 before seed-10 before UUIDs. */
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

/* Inserts e (whose id is absent) into o. */
static int coll_insert(coll *c, coll_org *o, coll_entity *e)
{
    bool found;
    size_t at = coll_search(o, e->id, e->id_len, &found);

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
    c->bytes += e->len + COLL_ENTITY_BYTES;
    return 0;
}

/* `head` is an entity's JSON without its closing brace; appends the server
 * fields that follow the caller's. Returns a malloc'd text or NULL. */
static char *coll_text(const coll *c, const char *head, size_t hlen, const char *id,
                       uint64_t version, const char *created, const char *modified, size_t *len)
{
    char *s = NULL;
    int n = asprintf(&s,
                     "%.*s,\"version\":%" PRIu64 ",\"dateCreated\":\"%s\",\"dateModified\":"
                     "\"%s\",\"selfUri\":\"%s/%s\"}",
                     (int)hlen, head, version, created, modified, c->base, id);

    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return s;
}

/* Serializes obj with `id` first and without the server fields, minus the
 * closing brace. Returns a malloc'd text or NULL. */
static char *coll_head(json_t *obj, const char *id, size_t *len)
{
    static const char *const server[] = {"id", "version", "dateCreated", "dateModified",
                                         "selfUri"};
    json_t *o = json_object(), *v;
    const char *key;
    char *s;

    if (o == NULL || json_object_set_new(o, "id", json_string(id)) < 0)
        goto err;
    json_object_foreach(obj, key, v) {
        bool skip = false;

        for (size_t i = 0; i < sizeof(server) / sizeof(server[0]); i++)
            skip = skip || strcmp(key, server[i]) == 0;
        if (!skip && json_object_set(o, key, v) < 0)
            goto err;
    }
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        return NULL;
    *len = strlen(s) - 1;
    return s;
err:
    json_decref(o);
    return NULL;
}

/* Creates the org's record and its seed entities. Under c->mu. */
static coll_org *coll_org_get(coll *c, const char *org, uint64_t now_wall)
{
    char created[EMU_TIME_LEN + 1];
    coll_org *o, **p;

    for (size_t i = 0; i < c->norgs; i++) {
        if (strcmp(c->orgs[i]->org, org) == 0)
            return c->orgs[i];
    }
    if (c->norgs == COLL_MAX_ORGS)
        return NULL;
    p = realloc(c->orgs, (c->norgs + 1) * sizeof(*p));
    if (p == NULL)
        return NULL;
    c->orgs = p;
    o = calloc(1, sizeof(*o));
    if (o == NULL || (o->org = strdup(org)) == NULL) {
        free(o);
        return NULL;
    }
    c->orgs[c->norgs++] = o;
    emu_time_format((int64_t)(now_wall / 1000000), created);
    for (uint64_t i = 1; i <= c->seed; i++) {
        coll_entity *e = calloc(1, sizeof(*e));
        char head[200];
        int hlen;

        if (e == NULL)
            break;
        e->id_len = (size_t)snprintf(e->id, sizeof(e->id), "seed-%" PRIu64, i);
        e->version = 1;
        memcpy(e->created, created, sizeof(created));
        hlen = snprintf(head, sizeof(head),
                        "{\"id\":\"%s\",\"name\":\"%s seed %" PRIu64 "\",\"description\":\"created "
                        "by tollgate\"",
                        e->id, c->name, i);
        e->json = coll_text(c, head, (size_t)hlen, e->id, 1, created, created, &e->len);
        if (e->json == NULL || coll_insert(c, o, e) < 0) {
            coll_entity_free(e);
            break;
        }
    }
    return o;
}

/* Splits the path: 0 for BASE (id_len 0), 1 for BASE/{id}, -ENOENT else. */
static int coll_path(const coll *c, const handler_req *req, const char **id, size_t *id_len)
{
    const char *p = req->path, *rest;
    size_t n = req->path_len, rlen;

    if (n < c->base_len || memcmp(p, c->base, c->base_len) != 0)
        return -ENOENT;
    rest = p + c->base_len;
    rlen = n - c->base_len;
    *id = NULL;
    *id_len = 0;
    if (rlen == 0 || (rlen == 1 && rest[0] == '/'))
        return 0;
    if (rest[0] != '/' || rlen - 1 > COLL_ID_MAX)
        return -ENOENT;
    /* Every id this collection hands out is made of these characters. */
    for (size_t i = 1; i < rlen; i++) {
        char ch = rest[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return -ENOENT;
    }
    *id = rest + 1;
    *id_len = rlen - 1;
    return 1;
}

static int coll_list(coll *c, handler_req *req, handler_resp *resp)
{
    unsigned long size = COLL_PAGE_DEFAULT, number = 1;
    const char *q = req->query != NULL ? req->query : "";
    uint64_t total, first, count;
    coll_org *o;
    buf *b = resp->body;
    int rc = 0;

    if (emu_form_get_uint(q, req->query_len, "pageSize", 1, COLL_PAGE_MAX, &size) < 0) {
        handler_error(resp, 400, "bad.request", "pageSize must be an integer from 1 to %d",
                      COLL_PAGE_MAX);
        return HANDLER_DONE;
    }
    if (emu_form_get_uint(q, req->query_len, "pageNumber", 1, 1000000000, &number) < 0) {
        handler_error(resp, 400, "bad.request", "pageNumber must be an integer from 1");
        return HANDLER_DONE;
    }
    buf_reset(b);
    pthread_mutex_lock(&c->mu);
    o = coll_org_get(c, emu_org(req), req->now_wall);
    total = o != NULL ? o->n : 0;
    first = (uint64_t)(number - 1) * size;
    count = first < total ? (total - first < size ? total - first : size) : 0;
    rc = buf_append_str(b, "{\"entities\":[");
    for (uint64_t i = 0; i < count && rc == 0; i++) {
        const coll_entity *e = o->ents[first + i];

        if (i > 0)
            rc = buf_append(b, ",", 1);
        if (rc == 0)
            rc = buf_append(b, e->json, e->len);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == 0)
        rc = buf_printf(b, "],\"pageSize\":%lu,\"pageNumber\":%lu,\"total\":%" PRIu64
                        ",\"pageCount\":%" PRIu64 "}",
                        size, number, total, (total + size - 1) / size);
    if (o == NULL)
        handler_error(resp, 507, "insufficient.storage", "too many organizations");
    else if (rc < 0)
        handler_error(resp, 500, "internal.server.error", "the page could not be built");
    else {
        resp->status = 200;
        resp->content_type = "application/json";
    }
    return HANDLER_DONE;
}

static int coll_create(coll *c, handler_req *req, handler_resp *resp)
{
    char id[EMU_UUID_LEN + 1], now[EMU_TIME_LEN + 1], loc[COLL_ID_MAX + 300];
    coll_entity *e = NULL;
    json_t *obj;
    char *head;
    size_t hlen;
    coll_org *o;
    int rc = 0;

    if (emu_body_object(req, resp, &obj) < 0)
        return HANDLER_DONE;
    emu_uuid(req->rng, id);
    emu_time_format((int64_t)(req->now_wall / 1000000), now);
    head = coll_head(obj, id, &hlen);
    json_decref(obj);
    e = calloc(1, sizeof(*e));
    if (head == NULL || e == NULL)
        goto nomem;
    memcpy(e->id, id, sizeof(id));
    e->id_len = EMU_UUID_LEN;
    e->version = 1;
    memcpy(e->created, now, sizeof(now));
    e->json = coll_text(c, head, hlen, id, 1, now, now, &e->len);
    free(head);
    head = NULL;
    if (e->json == NULL)
        goto nomem;
    buf_reset(resp->body);
    pthread_mutex_lock(&c->mu);
    o = coll_org_get(c, emu_org(req), req->now_wall);
    if (o == NULL || o->n >= c->max_entities ||
        c->bytes + e->len + COLL_ENTITY_BYTES > c->max_bytes) {
        uint64_t n = o != NULL ? o->n : 0;

        pthread_mutex_unlock(&c->mu);
        coll_entity_free(e);
        handler_error(resp, 507, "collection.full",
                      "%s holds %" PRIu64 " entities for this organization (at most %" PRIu64
                      ", %" PRIu64 " bytes in all); DELETE some",
                      c->name, n, c->max_entities, c->max_bytes);
        return HANDLER_DONE;
    }
    rc = coll_insert(c, o, e);
    if (rc < 0) {
        pthread_mutex_unlock(&c->mu);
        goto nomem;
    }
    /* Copied under the lock: once it is released, a PUT may free e->json. */
    rc = buf_append(resp->body, e->json, e->len);
    pthread_mutex_unlock(&c->mu);
    if (rc < 0)
        goto fail;
    snprintf(loc, sizeof(loc), "%s/%s", c->base, id);
    emu_header_add(resp, "Location", loc);
    resp->status = 201;
    resp->content_type = "application/json";
    return HANDLER_DONE;
nomem:
    free(head);
    coll_entity_free(e);
fail:
    handler_error(resp, 500, "internal.server.error", "the entity could not be stored");
    return HANDLER_DONE;
}

/* Reads the body's version: an integer, or a string of digits (as lenient as
 * the platform's JSON binding). Returns 0, or -EINVAL. */
static int coll_body_version(const json_t *obj, uint64_t *out)
{
    const json_t *v = json_object_get(obj, "version");
    const char *s;
    uint64_t x = 0;

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 18)
        return -EINVAL;
    s = json_string_value(v);
    for (size_t i = 0; i < json_string_length(v); i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *out = x;
    return 0;
}

static int coll_conflict(handler_resp *resp, uint64_t sent, uint64_t current)
{
    char msg[160];

    snprintf(msg, sizeof(msg),
             "version %" PRIu64 " is not the current version of the entity; current version %" PRIu64
             ", fetch it and apply the change again",
             sent, current);
    return emu_reply_json(resp, 409,
                          json_pack("{s:s, s:s, s:i, s:I}", "message", msg, "code", "conflict",
                                    "status", 409, "currentVersion", (json_int_t)current));
}

static int coll_not_found(const coll *c, handler_resp *resp, const char *id, size_t len)
{
    handler_error(resp, 404, "not.found", "%s %.*s not found", c->name, (int)len, id);
    return HANDLER_DONE;
}

static int coll_get(coll *c, handler_req *req, handler_resp *resp, const char *id, size_t len)
{
    coll_org *o;
    coll_entity *e;
    int rc;

    buf_reset(resp->body);
    pthread_mutex_lock(&c->mu);
    o = coll_org_get(c, emu_org(req), req->now_wall);
    e = o != NULL ? coll_find(o, id, len) : NULL;
    rc = e != NULL ? buf_append(resp->body, e->json, e->len) : 0;
    pthread_mutex_unlock(&c->mu);
    if (e == NULL)
        return coll_not_found(c, resp, id, len);
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "the entity could not be sent");
        return HANDLER_DONE;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

static int coll_put(coll *c, handler_req *req, handler_resp *resp, const char *id, size_t len)
{
    char now[EMU_TIME_LEN + 1], key[COLL_ID_MAX + 1];
    const json_t *bid;
    uint64_t version, current = 0;
    coll_org *o;
    coll_entity *e;
    char *head, *text = NULL;
    size_t hlen, tlen = 0;
    json_t *obj;
    int rc = 0;

    if (emu_body_object(req, resp, &obj) < 0)
        return HANDLER_DONE;
    memcpy(key, id, len);
    key[len] = '\0';
    bid = json_object_get(obj, "id");
    if (bid != NULL && (!json_is_string(bid) || json_string_length(bid) != len ||
                        memcmp(json_string_value(bid), id, len) != 0)) {
        json_decref(obj);
        handler_error(resp, 400, "bad.request", "the body's id does not match %s in the path",
                      key);
        return HANDLER_DONE;
    }
    if (coll_body_version(obj, &version) < 0) {
        json_decref(obj);
        handler_error(resp, 400, "bad.request",
                      "version is required: the entity's current version, an integer");
        return HANDLER_DONE;
    }
    head = coll_head(obj, key, &hlen);
    json_decref(obj);
    if (head == NULL)
        goto nomem;
    emu_time_format((int64_t)(req->now_wall / 1000000), now);
    buf_reset(resp->body);
    pthread_mutex_lock(&c->mu);
    o = coll_org_get(c, emu_org(req), req->now_wall);
    e = o != NULL ? coll_find(o, id, len) : NULL;
    if (e == NULL || e->version != version) {
        current = e != NULL ? e->version : 0;
        pthread_mutex_unlock(&c->mu);
        free(head);
        if (e == NULL)
            return coll_not_found(c, resp, id, len);
        return coll_conflict(resp, version, current);
    }
    text = coll_text(c, head, hlen, key, version + 1, e->created, now, &tlen);
    if (text != NULL && c->bytes - e->len + tlen > c->max_bytes) {
        pthread_mutex_unlock(&c->mu);
        free(head);
        free(text);
        handler_error(resp, 507, "collection.full",
                      "%s would exceed its %" PRIu64 " bytes; DELETE some entities", c->name,
                      c->max_bytes);
        return HANDLER_DONE;
    }
    if (text != NULL) {
        c->bytes = c->bytes - e->len + tlen;
        free(e->json);
        e->json = text;
        e->len = tlen;
        e->version = version + 1;
        rc = buf_append(resp->body, text, tlen);
    }
    pthread_mutex_unlock(&c->mu);
    free(head);
    if (text == NULL)
        goto nomem;
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "the entity could not be sent");
        return HANDLER_DONE;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    return HANDLER_DONE;
nomem:
    handler_error(resp, 500, "internal.server.error", "the entity could not be stored");
    return HANDLER_DONE;
}

static int coll_delete(coll *c, handler_req *req, handler_resp *resp, const char *id, size_t len)
{
    coll_entity *e = NULL;
    coll_org *o;
    bool found = false;
    size_t at = 0;

    pthread_mutex_lock(&c->mu);
    o = coll_org_get(c, emu_org(req), req->now_wall);
    if (o != NULL)
        at = coll_search(o, id, len, &found);
    if (found) {
        e = o->ents[at];
        memmove(&o->ents[at], &o->ents[at + 1], (o->n - at - 1) * sizeof(*o->ents));
        o->n--;
        c->bytes -= e->len + COLL_ENTITY_BYTES;
    }
    pthread_mutex_unlock(&c->mu);
    if (e == NULL)
        return coll_not_found(c, resp, id, len);
    coll_entity_free(e);
    return emu_reply_empty(resp, 204);
}

static int coll_handle(void *state, handler_req *req, handler_resp *resp)
{
    coll *c = state;
    const char *id;
    size_t len;
    int which = coll_path(c, req, &id, &len);

    if (which < 0) {
        handler_error(resp, 404, "not.found", "no such resource: %.*s", (int)req->path_len,
                      req->path);
        return HANDLER_DONE;
    }
    if (which == 0) {
        if (emu_method_is(req, "GET"))
            return coll_list(c, req, resp);
        if (emu_method_is(req, "POST"))
            return coll_create(c, req, resp);
        return emu_method_not_allowed(resp, req->method, "GET, POST");
    }
    if (emu_method_is(req, "GET"))
        return coll_get(c, req, resp, id, len);
    if (emu_method_is(req, "PUT"))
        return coll_put(c, req, resp, id, len);
    if (emu_method_is(req, "DELETE"))
        return coll_delete(c, req, resp, id, len);
    return emu_method_not_allowed(resp, req->method, "GET, PUT, DELETE");
}

const handler_kind emu_coll_kind = {
    .name = "collection",
    .init = coll_init,
    .handle = coll_handle,
    .free = coll_free,
};
