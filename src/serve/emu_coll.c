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
 * The route is declared once, its path BASE followed by the wildcard `**`
 * (which matches BASE itself); the handler splits BASE from BASE/{id} and
 * answers 405 itself. Options:
 *
 *     {name: scripts, base: /api/v2/scripts, max_entities: 10000, seed: 200,
 *      max_bytes: 67108864}
 *
 * Collections are shared by name (coll_store.h): two routes that declare
 * `name: scripts`, e.g. reads and writes with different latency models, serve
 * one store, so their options must agree. Each org sees only its own
 * entities. The `seed` entities (seed-1 .. seed-N) exist in every org from its
 * first request, so plans can address them without listing (`seed-{{vu}}`).
 *
 * Concurrent PUTs never lose an update silently: the version check and the
 * replacement are one step under the store's lock; the loser gets 409 with
 * the current version. JSON is parsed and serialized before the lock is taken.
 *
 * With `store: redis://` (the gateway made a per-worker rediskv) entities
 * live in Redis instead, so gateways on one Redis share them: each request is
 * one Lua script call, answered asynchronously (HANDLER_PENDING), the PUT's
 * version check and write one atomic step there; no answer within the store
 * timeout, or no connection: 503. max_bytes and the org bound are in-memory
 * bounds only.
 *
 * Full (max_entities per org, max_bytes per collection, 256 orgs): 507 with
 * code collection.full. 507 rather than 400 or 429: the request is fine and
 * retrying will not help until something is deleted; a load test should
 * count it as neither a client error nor throttling.
 */
#include "serve/emulate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"
#include "serve/coll_store.h"
#include "serve/emu_form.h"
#include "serve/emu_time.h"
#include "serve/gateway.h"
#include "serve/rediskv.h"

#define COLL_PAGE_MAX     500 /* pageSize at most */
#define COLL_PAGE_DEFAULT 25

/* Whether s is 1-64 of [A-Za-z0-9._-] or, for a path, up to 256 of those
 * and '/' and '~' (nothing JSON or a URL would need to escape). */
static bool coll_chars_ok(const char *s, bool path)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 * (path ? 4 : 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
                  (path && (ch == '/' || ch == '~'));

        if (!ok)
            return false;
    }
    return true;
}

static int coll_options(const config_doc *doc, const config_node *opt, coll_store_opts *o,
                        char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "base", "max_entities", "seed", "max_bytes", NULL};
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
        rc = config_get_str(doc, opt, "name", &o->name, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, opt, "base", &o->base, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "max_entities", 1, 1000000, &max_entities, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "seed", 0, max_entities, &seed, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "max_bytes", 4096, (int64_t)1 << 34, &max_bytes, err, errlen);
    if (rc < 0)
        return rc;
    if (!coll_chars_ok(o->name, false))
        return config_error(doc, config_map_get(doc, opt, "name"), err, errlen,
                            "name: expected 1-64 of A-Z a-z 0-9 . _ -");
    if (o->base[0] != '/' || o->base[strlen(o->base) - 1] == '/' || !coll_chars_ok(o->base, true) ||
        strstr(o->base, "//") != NULL)
        return config_error(doc, config_map_get(doc, opt, "base"), err, errlen,
                            "base: expected a path such as /api/v2/scripts (no trailing '/', "
                            "no patterns)");
    o->max_entities = (uint64_t)max_entities;
    o->seed = (uint64_t)seed;
    o->max_bytes = (uint64_t)max_bytes;
    return 0;
}

static int coll_init(void **state, const config_doc *doc, const config_node *options,
                     const handler_env *env, char *err, size_t errlen)
{
    coll_store_opts o = {0};
    coll_store *s;
    int rc = coll_options(doc, options, &o, err, errlen);

    (void)env;
    if (rc < 0)
        return rc;
    rc = coll_store_acquire(&s, &o);
    if (rc == -EEXIST)
        return config_error(doc, options, err, errlen,
                            "collection '%s' is declared again with other options (base, "
                            "max_entities, seed and max_bytes must agree)",
                            o.name);
    if (rc < 0)
        return rc;
    *state = s;
    return 0;
}

static void coll_free(void *state)
{
    coll_store_release(state);
}

/* Serializes obj with `id` first and without the server fields, minus the
 * closing brace. Returns a malloc'd text or NULL. */
static char *coll_head(json_t *obj, const char *id, size_t *len)
{
    static const char *const server[] = {"id", "version", "dateCreated", "dateModified", "selfUri"};
    json_t *o = json_object(), *v;
    const char *key;
    char *s;

    if (o == NULL || json_object_set_new(o, "id", json_string(id)) < 0)
        goto err;
    json_object_foreach(obj, key, v)
    {
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

/* Splits the path: 0 for BASE, 1 for BASE/{id}, -ENOENT for anything else
 * (including ids with characters no id of ours has). */
static int coll_path(const coll_store *s, const handler_req *req, const char **id, size_t *len)
{
    const coll_store_opts *o = coll_store_options(s);
    size_t blen = strlen(o->base), rlen;
    const char *rest;

    if (req->path_len < blen || memcmp(req->path, o->base, blen) != 0)
        return -ENOENT;
    rest = req->path + blen;
    rlen = req->path_len - blen;
    if (rlen == 0 || (rlen == 1 && rest[0] == '/'))
        return 0;
    if (rest[0] != '/' || rlen - 1 > COLL_STORE_ID_MAX)
        return -ENOENT;
    for (size_t i = 1; i < rlen; i++) {
        char ch = rest[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return -ENOENT;
    }
    *id = rest + 1;
    *len = rlen - 1;
    return 1;
}

/* Answers a store error; rc is negative. */
static int coll_fail(const coll_store *s, handler_resp *resp, int rc, const char *id, size_t len)
{
    const coll_store_opts *o = coll_store_options(s);

    if (rc == -ENOENT)
        handler_error(resp, 404, "not.found", "%s %.*s not found", o->name, (int)len, id);
    else if (rc == -ENOSPC)
        handler_error(resp, 507, "collection.full",
                      "%s is full: at most %" PRIu64 " entities per organization and %" PRIu64
                      " bytes in all; DELETE some",
                      o->name, o->max_entities, o->max_bytes);
    else
        handler_error(resp, 500, "internal.server.error", "%s: %s", o->name, strerror(-rc));
    return HANDLER_DONE;
}

static int coll_ok(handler_resp *resp, int status)
{
    resp->status = status;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

/* ---- shared in Redis (`store: redis://`) ----
 *
 * KEYS[1] is the org's prefix tg:coll:NAME:ORG; entity ID is the hash
 * PREFIX:ID (h: its JSON head, v: version, c: created, m: modified), the
 * sorted set PREFIX# lists the ids (members "LL" .. id, LL its two-digit
 * length: the in-memory store's order), and PREFIX! marks the org seeded.
 * ARGV: op, base, name, seeds, now (ISO), max_entities, id, then the op's
 * arguments. Every reply is an array whose first element is a status. */
static const char coll_lua[] =
    "local p, op, base, name = KEYS[1], ARGV[1], ARGV[2], ARGV[3]\n"
    "local nseed, now, maxn, id = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]\n"
    "local idx = p .. '#'\n"
    "local function mem(i) return string.format('%02d', #i) .. i end\n"
    "local function text(i, h)\n"
    "  return h[1] .. ',\"version\":' .. h[2] .. ',\"dateCreated\":\"' .. h[3] ..\n"
    "    '\",\"dateModified\":\"' .. h[4] .. '\",\"selfUri\":\"' .. base .. '/' .. i .. '\"}'\n"
    "end\n"
    "if redis.call('SET', p .. '!', '1', 'NX') then\n"
    "  for n = 1, nseed do\n"
    "    local i = 'seed-' .. n\n"
    "    redis.call('HSET', p .. ':' .. i, 'h', '{\"id\":\"' .. i .. '\",\"name\":\"' .. name ..\n"
    "      ' seed ' .. n .. '\",\"description\":\"created by tollgate\"', 'v', 1, 'c', now, 'm', "
    "now)\n"
    "    redis.call('ZADD', idx, 0, mem(i))\n"
    "  end\n"
    "end\n"
    "local k = p .. ':' .. id\n"
    "if op == 'list' then\n"
    "  local first, count = tonumber(ARGV[8]), tonumber(ARGV[9])\n"
    "  local out = {redis.call('ZCARD', idx)}\n"
    "  for _, m in ipairs(redis.call('ZRANGE', idx, first, first + count - 1)) do\n"
    "    local i = string.sub(m, 3)\n"
    "    local h = redis.call('HMGET', p .. ':' .. i, 'h', 'v', 'c', 'm')\n"
    "    if h[1] then out[#out + 1] = text(i, h) end\n"
    "  end\n"
    "  return out\n"
    "elseif op == 'get' then\n"
    "  local h = redis.call('HMGET', k, 'h', 'v', 'c', 'm')\n"
    "  if not h[1] then return {0} end\n"
    "  return {1, text(id, h)}\n"
    "elseif op == 'create' then\n"
    "  if redis.call('EXISTS', k) == 1 then return {-3} end\n"
    "  if redis.call('ZCARD', idx) >= maxn then return {-2} end\n"
    "  redis.call('HSET', k, 'h', ARGV[8], 'v', 1, 'c', now, 'm', now)\n"
    "  redis.call('ZADD', idx, 0, mem(id))\n"
    "  return {1, text(id, {ARGV[8], '1', now, now})}\n"
    "elseif op == 'put' then\n"
    "  local h = redis.call('HMGET', k, 'h', 'v', 'c', 'm')\n"
    "  if not h[1] then return {0} end\n"
    "  if h[2] ~= ARGV[8] then return {-1, tonumber(h[2])} end\n"
    "  local v = tostring(tonumber(h[2]) + 1)\n"
    "  redis.call('HSET', k, 'h', ARGV[9], 'v', v, 'm', now)\n"
    "  return {1, text(id, {ARGV[9], v, h[3], now})}\n"
    "elseif op == 'delete' then\n"
    "  if redis.call('DEL', k) == 0 then return {0} end\n"
    "  redis.call('ZREM', idx, mem(id))\n"
    "  return {1}\n"
    "end\n"
    "return redis.error_reply('unknown op')\n";

enum coll_op { COLL_LIST, COLL_GET, COLL_CREATE, COLL_PUT, COLL_DELETE };

/* One request waiting on Redis. */
typedef struct coll_job {
    const coll_store *s;
    handler_req *req;
    handler_resp *resp;
    enum coll_op op;
    char id[COLL_STORE_ID_MAX + 1];
    uint64_t version;           /* PUT: the version sent */
    unsigned long size, number; /* list: the page */
} coll_job;

static int coll_fail(const coll_store *s, handler_resp *resp, int rc, const char *id, size_t len);
static int coll_ok(handler_resp *resp, int status);
static int coll_conflict(handler_resp *resp, uint64_t sent, uint64_t current);

static bool coll_int(const redisReply *r, size_t i, long long *v)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_INTEGER)
        return false;
    *v = r->element[i]->integer;
    return true;
}

static bool coll_str(const redisReply *r, size_t i)
{
    return r->type == REDIS_REPLY_ARRAY && i < r->elements &&
           r->element[i]->type == REDIS_REPLY_STRING;
}

/* Fills the response from the script's reply. */
static void coll_redis_answer(coll_job *j, const redisReply *r)
{
    handler_resp *resp = j->resp;
    const coll_store_opts *o = coll_store_options(j->s);
    size_t idlen = strlen(j->id);
    long long st = 0;
    int rc = 0;

    if (!coll_int(r, 0, &st)) {
        handler_error(resp, 503, "service.unavailable", "%s: unexpected answer from Redis",
                      o->name);
        return;
    }
    buf_reset(resp->body);
    if (j->op == COLL_LIST) {
        uint64_t total = st < 0 ? 0 : (uint64_t)st;

        rc = buf_append_str(resp->body, "{\"entities\":[");
        for (size_t i = 1; rc == 0 && i < r->elements; i++) {
            if (!coll_str(r, i))
                continue;
            if (i > 1)
                rc = buf_append(resp->body, ",", 1);
            if (rc == 0)
                rc = buf_append(resp->body, r->element[i]->str, r->element[i]->len);
        }
        if (rc == 0)
            rc = buf_printf(resp->body,
                            "],\"pageSize\":%lu,\"pageNumber\":%lu,\"total\":%" PRIu64
                            ",\"pageCount\":%" PRIu64 "}",
                            j->size, j->number, total, (total + j->size - 1) / j->size);
        if (rc < 0)
            coll_fail(j->s, resp, rc, "", 0);
        else
            coll_ok(resp, 200);
        return;
    }
    if (st == 0) {
        coll_fail(j->s, resp, -ENOENT, j->id, idlen);
        return;
    }
    if (st == -1) {
        long long cur = 0;

        coll_int(r, 1, &cur);
        coll_conflict(resp, j->version, cur < 0 ? 0 : (uint64_t)cur);
        return;
    }
    if (st == -2 || st == -3) {
        coll_fail(j->s, resp, st == -2 ? -ENOSPC : -EEXIST, j->id, idlen);
        return;
    }
    if (j->op == COLL_DELETE) {
        emu_reply_empty(resp, 204);
        return;
    }
    if (!coll_str(r, 1)) {
        handler_error(resp, 503, "service.unavailable", "%s: unexpected answer from Redis",
                      o->name);
        return;
    }
    rc = buf_append(resp->body, r->element[1]->str, r->element[1]->len);
    if (rc < 0) {
        coll_fail(j->s, resp, rc, j->id, idlen);
        return;
    }
    if (j->op == COLL_CREATE) {
        char loc[300];

        snprintf(loc, sizeof(loc), "%s/%s", o->base, j->id);
        emu_header_add(resp, "Location", loc);
        coll_ok(resp, 201);
        return;
    }
    coll_ok(resp, 200);
}

static void coll_redis_done(void *arg, const redisReply *r, int status)
{
    coll_job *j = arg;
    handler_req *req = j->req;

    if (status == 0)
        coll_redis_answer(j, r);
    else
        handler_error(j->resp, 503, "service.unavailable",
                      "%s: the shared store (Redis) did not answer: %s",
                      coll_store_options(j->s)->name,
                      status == -ETIMEDOUT                               ? "timed out"
                      : status == -EPROTO && r != NULL && r->str != NULL ? r->str
                                                                         : strerror(-status));
    free(j);
    req->done(req->done_ctx);
}

/* Sends op to Redis: HANDLER_PENDING, or HANDLER_DONE with a 503 when it
 * cannot be sent. a1 and a2 (may be NULL) are the op's arguments. */
static int coll_redis(const coll_store *s, rediskv *kv, handler_req *req, handler_resp *resp,
                      coll_job *tmpl, const char *a1, size_t l1, const char *a2, size_t l2)
{
    const coll_store_opts *o = coll_store_options(s);
    static const char *const ops[] = {"list", "get", "create", "put", "delete"};
    char prefix[600], seeds[24], maxn[24], now[EMU_TIME_LEN + 1];
    const char *argv[10];
    size_t lens[10], n = 0;
    coll_job *j;
    int plen, rc;

    plen = snprintf(prefix, sizeof(prefix), "tg:coll:%s:%s", o->name, emu_org(req));
    if (plen < 0 || (size_t)plen >= sizeof(prefix)) {
        handler_error(resp, 400, "bad.request", "organization name too long");
        return HANDLER_DONE;
    }
    snprintf(seeds, sizeof(seeds), "%" PRIu64, o->seed);
    snprintf(maxn, sizeof(maxn), "%" PRIu64, o->max_entities);
    emu_time_format((int64_t)(req->now_wall / 1000000), now);
#define COLL_ARG(p, l) (argv[n] = (p), lens[n] = (l), n++)
    COLL_ARG(prefix, (size_t)plen);
    COLL_ARG(ops[tmpl->op], strlen(ops[tmpl->op]));
    COLL_ARG(o->base, strlen(o->base));
    COLL_ARG(o->name, strlen(o->name));
    COLL_ARG(seeds, strlen(seeds));
    COLL_ARG(now, strlen(now));
    COLL_ARG(maxn, strlen(maxn));
    COLL_ARG(tmpl->id, strlen(tmpl->id));
    if (a1 != NULL)
        COLL_ARG(a1, l1);
    if (a2 != NULL)
        COLL_ARG(a2, l2);
#undef COLL_ARG
    j = malloc(sizeof(*j));
    if (j == NULL) {
        handler_error(resp, 503, "service.unavailable", "out of memory");
        return HANDLER_DONE;
    }
    *j = *tmpl;
    j->s = s;
    j->req = req;
    j->resp = resp;
    rc = rediskv_eval(kv, coll_lua, 1, n, argv, lens, coll_redis_done, j);
    if (rc < 0) {
        free(j);
        handler_error(resp, 503, "service.unavailable",
                      "%s: the shared store (Redis) is not reachable: %s", o->name, strerror(-rc));
        return HANDLER_DONE;
    }
    return HANDLER_PENDING;
}

static int coll_list(coll_store *s, handler_req *req, handler_resp *resp)
{
    unsigned long size = COLL_PAGE_DEFAULT, number = 1;
    const char *q = req->query != NULL ? req->query : "";
    uint64_t total = 0;
    int rc;

    if (emu_form_get_uint(q, req->query_len, "pageSize", 1, COLL_PAGE_MAX, &size) < 0) {
        handler_error(resp, 400, "bad.request", "pageSize must be an integer from 1 to %d",
                      COLL_PAGE_MAX);
        return HANDLER_DONE;
    }
    if (emu_form_get_uint(q, req->query_len, "pageNumber", 1, 1000000000, &number) < 0) {
        handler_error(resp, 400, "bad.request", "pageNumber must be an integer from 1");
        return HANDLER_DONE;
    }
    if (gateway_kv() != NULL) {
        char a[24], b[24];
        coll_job t = {.op = COLL_LIST, .size = size, .number = number};
        int la = snprintf(a, sizeof(a), "%" PRIu64, (uint64_t)(number - 1) * size);
        int lb = snprintf(b, sizeof(b), "%lu", size);

        return coll_redis(s, gateway_kv(), req, resp, &t, a, (size_t)la, b, (size_t)lb);
    }
    buf_reset(resp->body);
    rc = buf_append_str(resp->body, "{\"entities\":[");
    if (rc == 0)
        rc = coll_store_list(s, emu_org(req), req->now_wall, (uint64_t)(number - 1) * size, size,
                             resp->body, &total);
    if (rc == 0)
        rc = buf_printf(resp->body,
                        "],\"pageSize\":%lu,\"pageNumber\":%lu,\"total\":%" PRIu64
                        ",\"pageCount\":%" PRIu64 "}",
                        size, number, total, (total + size - 1) / size);
    return rc < 0 ? coll_fail(s, resp, rc, "", 0) : coll_ok(resp, 200);
}

static int coll_create(coll_store *s, handler_req *req, handler_resp *resp)
{
    char id[EMU_UUID_LEN + 1], loc[300];
    json_t *obj;
    char *head;
    size_t hlen = 0;
    int rc;

    if (emu_body_object(req, resp, &obj) < 0)
        return HANDLER_DONE;
    emu_uuid(req->rng, id);
    head = coll_head(obj, id, &hlen);
    json_decref(obj);
    if (head != NULL && gateway_kv() != NULL) {
        coll_job t = {.op = COLL_CREATE};

        memcpy(t.id, id, sizeof(id));
        rc = coll_redis(s, gateway_kv(), req, resp, &t, head, hlen, NULL, 0);
        free(head);
        return rc;
    }
    buf_reset(resp->body);
    rc = head == NULL
             ? -ENOMEM
             : coll_store_create(s, emu_org(req), req->now_wall, id, head, hlen, resp->body);
    free(head);
    if (rc < 0)
        return coll_fail(s, resp, rc, id, EMU_UUID_LEN);
    snprintf(loc, sizeof(loc), "%s/%s", coll_store_options(s)->base, id);
    emu_header_add(resp, "Location", loc);
    return coll_ok(resp, 201);
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
             "version %" PRIu64
             " is not the current version of the entity; current version %" PRIu64
             ", fetch it and apply the change again",
             sent, current);
    return emu_reply_json(resp, 409,
                          json_pack("{s:s, s:s, s:i, s:I}", "message", msg, "code", "conflict",
                                    "status", 409, "currentVersion", (json_int_t)current));
}

static int coll_put(coll_store *s, handler_req *req, handler_resp *resp, const char *id, size_t len)
{
    char key[COLL_STORE_ID_MAX + 1];
    const json_t *bid;
    uint64_t version, current = 0;
    char *head;
    size_t hlen = 0;
    json_t *obj;
    int rc;

    if (emu_body_object(req, resp, &obj) < 0)
        return HANDLER_DONE;
    memcpy(key, id, len);
    key[len] = '\0';
    bid = json_object_get(obj, "id");
    if (bid != NULL && (!json_is_string(bid) || strcmp(json_string_value(bid), key) != 0)) {
        json_decref(obj);
        handler_error(resp, 400, "bad.request", "the body's id does not match %s in the path", key);
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
    if (head != NULL && gateway_kv() != NULL) {
        coll_job t = {.op = COLL_PUT, .version = version};
        char v[24];
        int lv = snprintf(v, sizeof(v), "%" PRIu64, version);

        memcpy(t.id, key, len + 1);
        rc = coll_redis(s, gateway_kv(), req, resp, &t, v, (size_t)lv, head, hlen);
        free(head);
        return rc;
    }
    buf_reset(resp->body);
    rc = head == NULL ? -ENOMEM
                      : coll_store_replace(s, emu_org(req), req->now_wall, id, len, version, head,
                                           hlen, resp->body, &current);
    free(head);
    if (rc == -ESTALE)
        return coll_conflict(resp, version, current);
    return rc < 0 ? coll_fail(s, resp, rc, id, len) : coll_ok(resp, 200);
}

static int coll_handle(void *state, handler_req *req, handler_resp *resp)
{
    coll_store *s = state;
    const char *id = NULL;
    size_t len = 0;
    int which = coll_path(s, req, &id, &len), rc;

    if (which < 0) {
        handler_error(resp, 404, "not.found", "no such resource: %.*s", (int)req->path_len,
                      req->path);
        return HANDLER_DONE;
    }
    if (which == 0) {
        if (emu_method_is(req, "GET"))
            return coll_list(s, req, resp);
        if (emu_method_is(req, "POST"))
            return coll_create(s, req, resp);
        return emu_method_not_allowed(resp, req->method, "GET, POST");
    }
    if (emu_method_is(req, "PUT"))
        return coll_put(s, req, resp, id, len);
    if (gateway_kv() != NULL && (emu_method_is(req, "GET") || emu_method_is(req, "DELETE"))) {
        coll_job t = {.op = emu_method_is(req, "GET") ? COLL_GET : COLL_DELETE};

        memcpy(t.id, id, len);
        t.id[len] = '\0';
        return coll_redis(s, gateway_kv(), req, resp, &t, NULL, 0, NULL, 0);
    }
    if (emu_method_is(req, "GET")) {
        buf_reset(resp->body);
        rc = coll_store_get(s, emu_org(req), req->now_wall, id, len, resp->body);
        return rc < 0 ? coll_fail(s, resp, rc, id, len) : coll_ok(resp, 200);
    }
    if (emu_method_is(req, "DELETE")) {
        rc = coll_store_delete(s, emu_org(req), req->now_wall, id, len);
        return rc < 0 ? coll_fail(s, resp, rc, id, len) : emu_reply_empty(resp, 204);
    }
    return emu_method_not_allowed(resp, req->method, "GET, PUT, DELETE");
}

const handler_kind emu_coll_kind = {
    .name = "collection",
    .init = coll_init,
    .handle = coll_handle,
    .free = coll_free,
};
