/*
 * emu_jobs: the `analytics_jobs` kind, the platform's asynchronous analytics
 * (bulk export) jobs, declared once as BASE followed by the wildcard `**`:
 *
 *     POST   BASE                        {"interval": ...} -> 202 {"jobId": ...}
 *     GET    BASE/{id}                   {"id", "state", "submissionDate", "expirationDate"}
 *     GET    BASE/{id}/results?cursor=   {"conversations": [...], "cursor"} (409 unless FULFILLED)
 *     DELETE BASE/{id}                   202: cancels a QUEUED or RUNNING job, deletes any other
 *
 * No timer runs: a job's state is a function of `now` (monotonic ns) and its
 * creation time. With t = now - created:
 *
 *     t < run_after       QUEUED
 *     t < fulfil_after    RUNNING
 *     t < expire_after    FULFILLED (FAILED when the interval is longer than max_interval)
 *     otherwise           EXPIRED (a FAILED job stays FAILED)
 *
 * and a job cancelled while QUEUED or RUNNING is CANCELLED. A job's results
 * are the first min(results, totalHits) conversations of its interval, the
 * same as analytics_query's, in pages of page_size. Jobs belong to the org
 * that submitted them. At most max_jobs per org are kept: jobs are reaped
 * lazily once 2 x expire_after old, and when an org is at its bound its
 * oldest CANCELLED, FAILED or EXPIRED job makes room; a submission that finds
 * no such job is answered 429, Retry-After the time until one of the org's
 * jobs finishes that way.
 *
 * With `store: redis://` (a per-worker rediskv) jobs live in Redis instead,
 * shared by the gateways on it, answered asynchronously: a job's creation is
 * its epoch ms there, placed on this process' monotonic timeline when read,
 * so the states above hold (on the wall clock); Redis expiry does the
 * reaping; max_jobs is not enforced; no answer in time: 503.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"
#include "serve/b64.h"
#include "serve/emu_analytics.h"
#include "serve/emu_form.h"
#include "serve/emu_time.h"
#include "serve/emulate.h"
#include "serve/gateway.h"
#include "serve/rediskv.h"

#define JOBS_MAX_TOTAL 65536 /* jobs across every org */
#define JOBS_NS_MS     1000000ULL

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_FULFILLED, JOB_FAILED, JOB_CANCELLED, JOB_EXPIRED };

static const char *const job_state_names[] = {"QUEUED", "RUNNING",   "FULFILLED",
                                              "FAILED", "CANCELLED", "EXPIRED"};

typedef struct job {
    char id[EMU_UUID_LEN + 1];
    char *org;
    emu_convs cv;
    uint64_t created;      /* monotonic ns */
    uint64_t created_wall; /* epoch ns */
    bool failed;           /* the interval is too long: FAILED instead of FULFILLED */
    bool cancelled;
} job;

typedef struct jobs {
    char *base;
    size_t base_len;
    uint64_t run_after, fulfil_after, expire_after, max_interval; /* ns */
    uint64_t results, page_size, max_jobs;
    pthread_mutex_t mu;
    job **v;
    size_t n;
} jobs;

static void jobs_free(void *state)
{
    jobs *s = state;

    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]->org);
        free(s->v[i]);
    }
    free(s->v);
    free(s->base);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int jobs_options(const config_doc *doc, const config_node *opt, jobs *s, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"base",         "run_after",    "fulfil_after",
                                       "expire_after", "results",      "page_size",
                                       "max_jobs",     "max_interval", NULL};
    int64_t results = 250, page = 100, max_jobs = 100;
    int rc = config_check_keys(doc, opt, keys, err, errlen);

    if (rc == 0)
        rc = config_get_duration(doc, opt, "run_after", &s->run_after, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, opt, "fulfil_after", &s->fulfil_after, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, opt, "expire_after", &s->expire_after, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, opt, "max_interval", &s->max_interval, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "results", 0, EMU_CONVS_MAX, &results, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "page_size", 1, 1000, &page, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, opt, "max_jobs", 1, 10000, &max_jobs, err, errlen);
    if (rc < 0)
        return rc;
    if (s->run_after > s->fulfil_after || s->fulfil_after >= s->expire_after)
        return config_error(doc, opt, err, errlen,
                            "expected run_after <= fulfil_after < expire_after");
    if (s->expire_after > UINT64_MAX / 4)
        return config_error(doc, config_map_get(doc, opt, "expire_after"), err, errlen,
                            "expire_after: too long");
    s->results = (uint64_t)results;
    s->page_size = (uint64_t)page;
    s->max_jobs = (uint64_t)max_jobs;
    return 0;
}

static int jobs_init(void **state, const config_doc *doc, const config_node *options,
                     const handler_env *env, char *err, size_t errlen)
{
    static const char *const base_default = "/api/v2/analytics/conversations/details/jobs";
    const char *base = base_default;
    jobs *s = calloc(1, sizeof(*s));
    int rc;

    (void)env;
    if (s == NULL)
        return -ENOMEM;
    s->run_after = 2000000000ULL;
    s->fulfil_after = 5000000000ULL;
    s->expire_after = 3600000000000ULL;
    s->max_interval = 31 * 86400000000000ULL;
    rc = jobs_options(doc, options, s, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, options, "base", &base, err, errlen);
    if (rc == 0 && (base[0] != '/' || base[strlen(base) - 1] == '/'))
        rc = config_error(doc, config_map_get(doc, options, "base"), err, errlen,
                          "base: expected a path such as %s", base_default);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->base = strdup(base);
    if (s->base == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->base);
        free(s);
        return -ENOMEM;
    }
    s->base_len = strlen(base);
    *state = s;
    return 0;
}

static enum job_state job_state_at(const jobs *s, const job *j, uint64_t now)
{
    uint64_t t = now > j->created ? now - j->created : 0;

    if (j->cancelled)
        return JOB_CANCELLED;
    if (t < s->run_after)
        return JOB_QUEUED;
    if (t < s->fulfil_after)
        return JOB_RUNNING;
    if (j->failed)
        return JOB_FAILED;
    return t < s->expire_after ? JOB_FULFILLED : JOB_EXPIRED;
}

/* Removes job i (under s->mu). */
static void jobs_remove(jobs *s, size_t i)
{
    free(s->v[i]->org);
    free(s->v[i]);
    s->v[i] = s->v[--s->n];
}

/* Reaps every job at least 2 x expire_after old (under s->mu). */
static void jobs_reap(jobs *s, uint64_t now)
{
    for (size_t i = 0; i < s->n;) {
        if (now >= s->v[i]->created && now - s->v[i]->created >= 2 * s->expire_after)
            jobs_remove(s, i);
        else
            i++;
    }
}

/* The index of the org's job `id`, or -1 (under s->mu). */
static long jobs_find(const jobs *s, const char *org, const char *id, size_t len)
{
    if (len != EMU_UUID_LEN)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(s->v[i]->id, id, len) == 0 && strcmp(s->v[i]->org, org) == 0)
            return (long)i;
    }
    return -1;
}

/* When job j can be evicted to make room: once CANCELLED, FAILED or EXPIRED. */
static uint64_t job_evictable_at(const jobs *s, const job *j)
{
    if (j->cancelled)
        return j->created;
    return j->created + (j->failed ? s->fulfil_after : s->expire_after);
}

/* Makes room for one more job of `org` (under s->mu): returns 0, or the ns
 * until one of the org's jobs can be evicted. */
static uint64_t jobs_room(jobs *s, const char *org, uint64_t now)
{
    size_t count = 0, victim = SIZE_MAX;
    uint64_t soonest = UINT64_MAX;

    jobs_reap(s, now);
    for (size_t i = 0; i < s->n; i++) {
        const job *j = s->v[i];
        uint64_t at;

        if (strcmp(j->org, org) != 0)
            continue;
        count++;
        at = job_evictable_at(s, j);
        if (at > now) {
            soonest = at < soonest ? at : soonest;
        } else if (victim == SIZE_MAX || j->created < s->v[victim]->created) {
            victim = i; /* the oldest finished job */
        }
    }
    if (count < s->max_jobs && s->n < JOBS_MAX_TOTAL)
        return 0;
    if (victim != SIZE_MAX) {
        jobs_remove(s, victim);
        return 0;
    }
    if (soonest == UINT64_MAX)
        return 1000000000ULL; /* the table is full of other orgs' jobs */
    return soonest - now;
}

/* ---- shared in Redis (`store: redis://`) ----
 *
 * A job is the hash tg:job:ORG:ID (i: its interval, w: created, epoch ms,
 * x: cancelled), expiring 2 x expire_after after creation (the reaping).
 * ARGV[1] is the op; put: interval, created ms, ttl ms; get; delete: the
 * epoch ms before which a job is past RUNNING (it is then deleted, else
 * cancelled). Replies: put {1}; get {1, interval, created, cancelled} or {0};
 * delete {1} or {0}. max_jobs is not enforced there: expiry bounds the
 * jobs kept. */
static const char jobs_lua[] =
    "local k, op = KEYS[1], ARGV[1]\n"
    "if op == 'put' then\n"
    "  redis.call('HSET', k, 'i', ARGV[2], 'w', ARGV[3], 'x', 0)\n"
    "  redis.call('PEXPIRE', k, ARGV[4])\n"
    "  return {1}\n"
    "end\n"
    "local h = redis.call('HMGET', k, 'i', 'w', 'x')\n"
    "if not h[1] then return {0} end\n"
    "if op == 'get' then return {1, h[1], h[2], h[3]} end\n"
    "if tonumber(h[2]) > tonumber(ARGV[2]) then redis.call('HSET', k, 'x', 1)\n"
    "else redis.call('DEL', k) end\n"
    "return {1}\n";

typedef struct jobs_job {
    jobs *s;
    handler_req *req;
    handler_resp *resp;
    int which; /* 0 submit, 1 status or DELETE, 2 results */
    bool del;
    char id[EMU_UUID_LEN + 1];
} jobs_job;

static int jobs_status(jobs *s, const job *j, uint64_t now, handler_resp *resp);
static int jobs_results(jobs *s, const job *j, handler_req *req, handler_resp *resp);

static bool jobs_reply_int(const redisReply *r, size_t i, long long *v)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_INTEGER)
        return false;
    *v = r->element[i]->integer;
    return true;
}

static bool jobs_reply_str(const redisReply *r, size_t i)
{
    return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING;
}

/* Answers a job read from Redis: its creation is placed on this process'
 * monotonic timeline, so the state is computed from now as for a local job. */
static void jobs_redis_answer(jobs_job *jj, const redisReply *r)
{
    handler_req *req = jj->req;
    long long st = 0;
    job j;
    uint64_t wall_ms, now_ms = req->now_wall / JOBS_NS_MS, age;

    if (!jobs_reply_int(r, 0, &st)) {
        handler_error(jj->resp, 503, "service.unavailable", "unexpected answer from Redis");
        return;
    }
    if (jj->which == 0) {
        emu_reply_json(jj->resp, 202, json_pack("{s:s}", "jobId", jj->id));
        return;
    }
    if (st == 0) {
        handler_error(jj->resp, 404, "not.found", "analytics job %s not found", jj->id);
        return;
    }
    if (jj->del) {
        emu_reply_empty(jj->resp, 202);
        return;
    }
    memset(&j, 0, sizeof(j));
    if (!jobs_reply_str(r, 1) || !jobs_reply_str(r, 2) || !jobs_reply_str(r, 3) ||
        emu_convs_init(&j.cv, r->element[1]->str, r->element[1]->len) < 0) {
        handler_error(jj->resp, 503, "service.unavailable", "unexpected answer from Redis");
        return;
    }
    memcpy(j.id, jj->id, sizeof(j.id));
    wall_ms = strtoull(r->element[2]->str, NULL, 10);
    age = now_ms > wall_ms ? (now_ms - wall_ms) * JOBS_NS_MS : 0;
    j.created = req->now > age ? req->now - age : 0;
    j.created_wall = wall_ms * JOBS_NS_MS;
    j.cancelled = r->element[3]->str[0] == '1';
    j.failed = (uint64_t)(j.cv.end_ms - j.cv.start_ms) > jj->s->max_interval / JOBS_NS_MS;
    if (jj->which == 2)
        jobs_results(jj->s, &j, req, jj->resp);
    else
        jobs_status(jj->s, &j, req->now, jj->resp);
}

static void jobs_redis_done(void *arg, const redisReply *r, int status)
{
    jobs_job *jj = arg;
    handler_req *req = jj->req;

    if (status == 0)
        jobs_redis_answer(jj, r);
    else
        handler_error(jj->resp, 503, "service.unavailable",
                      "analytics jobs: the shared store (Redis) did not answer: %s",
                      status == -ETIMEDOUT                               ? "timed out"
                      : status == -EPROTO && r != NULL && r->str != NULL ? r->str
                                                                         : strerror(-status));
    free(jj);
    req->done(req->done_ctx);
}

/* Sends one op: HANDLER_PENDING, or HANDLER_DONE with a 503. argv[0] is
 * set here to the job's key. */
static int jobs_redis(jobs *s, rediskv *kv, handler_req *req, handler_resp *resp, int which,
                      bool del, const char *id, size_t argc, const char **argv, size_t *lens)
{
    char key[400];
    int klen = snprintf(key, sizeof(key), "tg:job:%s:%s", emu_org(req), id);
    jobs_job *jj;
    int rc;

    if (klen < 0 || (size_t)klen >= sizeof(key)) {
        handler_error(resp, 400, "bad.request", "organization name too long");
        return HANDLER_DONE;
    }
    argv[0] = key;
    lens[0] = (size_t)klen;
    jj = calloc(1, sizeof(*jj));
    if (jj == NULL) {
        handler_error(resp, 503, "service.unavailable", "out of memory");
        return HANDLER_DONE;
    }
    jj->s = s;
    jj->req = req;
    jj->resp = resp;
    jj->which = which;
    jj->del = del;
    memcpy(jj->id, id, EMU_UUID_LEN);
    rc = rediskv_eval(kv, jobs_lua, 1, argc, argv, lens, jobs_redis_done, jj);
    if (rc < 0) {
        free(jj);
        handler_error(resp, 503, "service.unavailable",
                      "analytics jobs: the shared store (Redis) is not reachable: %s",
                      strerror(-rc));
        return HANDLER_DONE;
    }
    return HANDLER_PENDING;
}

static int jobs_submit(jobs *s, handler_req *req, handler_resp *resp)
{
    const char *org = emu_org(req);
    char id[EMU_UUID_LEN + 1];
    const json_t *interval;
    json_t *body;
    uint64_t wait;
    job *j;

    if (emu_body_object(req, resp, &body) < 0)
        return HANDLER_DONE;
    interval = json_object_get(body, "interval");
    j = calloc(1, sizeof(*j));
    if (j == NULL || (j->org = strdup(org)) == NULL) {
        json_decref(body);
        free(j);
        handler_error(resp, 500, "internal.server.error", "the job could not be stored");
        return HANDLER_DONE;
    }
    if (!json_is_string(interval) ||
        emu_convs_init(&j->cv, json_string_value(interval), json_string_length(interval)) < 0) {
        json_decref(body);
        free(j->org);
        free(j);
        handler_error(resp, 400, "bad.request",
                      "interval is required: START/END in ISO 8601 with START before END");
        return HANDLER_DONE;
    }
    j->failed = (uint64_t)(j->cv.end_ms - j->cv.start_ms) > s->max_interval / JOBS_NS_MS;
    j->created = req->now;
    j->created_wall = req->now_wall;
    emu_uuid(req->rng, j->id);
    memcpy(id, j->id, sizeof(id));
    if (gateway_kv() != NULL) {
        const json_t *iv = json_object_get(body, "interval");
        char w[24], ttl[24];
        const char *argv[5] = {NULL, "put", json_string_value(iv), w, ttl};
        size_t lens[5] = {0, 3, json_string_length(iv), 0, 0};
        int rc;

        lens[3] =
            (size_t)snprintf(w, sizeof(w), "%" PRIu64, (uint64_t)(req->now_wall / JOBS_NS_MS));
        lens[4] = (size_t)snprintf(ttl, sizeof(ttl), "%" PRIu64,
                                   (uint64_t)(2 * s->expire_after / JOBS_NS_MS + 1));
        rc = jobs_redis(s, gateway_kv(), req, resp, 0, false, id, 5, argv, lens);
        json_decref(body);
        free(j->org);
        free(j);
        return rc;
    }
    json_decref(body);
    pthread_mutex_lock(&s->mu);
    wait = jobs_room(s, org, req->now);
    if (wait == 0) {
        job **v = s->v;

        if (s->n % 64 == 0)
            v = realloc(s->v, (s->n + 64) * sizeof(*v));
        if (v != NULL) {
            s->v = v;
            s->v[s->n++] = j;
            j = NULL;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (j != NULL) {
        char ra[24];

        free(j->org);
        free(j);
        if (wait == 0) {
            handler_error(resp, 500, "internal.server.error", "the job could not be stored");
            return HANDLER_DONE;
        }
        snprintf(ra, sizeof(ra), "%" PRIu64, (uint64_t)((wait + 999999999ULL) / 1000000000ULL));
        handler_error(resp, 429, "too.many.requests",
                      "this organization has %" PRIu64 " analytics jobs; retry in %s s or DELETE "
                      "finished ones",
                      s->max_jobs, ra);
        emu_header_add(resp, "Retry-After", ra);
        return HANDLER_DONE;
    }
    return emu_reply_json(resp, 202, json_pack("{s:s}", "jobId", id));
}

static int jobs_status(jobs *s, const job *j, uint64_t now, handler_resp *resp)
{
    enum job_state st = job_state_at(s, j, now);
    char sub[EMU_TIME_LEN + 1], exp[EMU_TIME_LEN + 1];
    int64_t created_ms = (int64_t)(j->created_wall / JOBS_NS_MS);
    json_t *o;

    emu_time_format(created_ms, sub);
    emu_time_format(created_ms + (int64_t)(s->expire_after / JOBS_NS_MS), exp);
    o = json_pack("{s:s, s:s, s:s, s:s}", "id", j->id, "state", job_state_names[st],
                  "submissionDate", sub, "expirationDate", exp);
    if (o != NULL && st == JOB_FAILED)
        json_object_set_new(o, "errorMessage",
                            json_string("the interval is longer than this platform exports"));
    return emu_reply_json(resp, 200, o);
}

/* Reads the cursor (base64url of a decimal offset); 0 without one. */
static int jobs_cursor(const handler_req *req, uint64_t n, uint64_t *off)
{
    char cur[64], dec[64];
    size_t len = 0;
    int rc = emu_form_get(req->query != NULL ? req->query : "", req->query_len, "cursor", cur,
                          sizeof(cur), &len);
    uint64_t x = 0;
    int dn;

    *off = 0;
    if (rc == 0)
        return 0;
    if (rc < 0)
        return -EINVAL;
    dn = b64_decode(cur, len, true, dec, sizeof(dec));
    if (dn <= 0 || dn > 18)
        return -EINVAL;
    for (int i = 0; i < dn; i++) {
        if (dec[i] < '0' || dec[i] > '9')
            return -EINVAL;
        x = x * 10 + (uint64_t)(dec[i] - '0');
    }
    if (x == 0 || x >= n)
        return -EINVAL;
    *off = x;
    return 0;
}

/* Called with the job copied out of the table: the results need no lock. */
static int jobs_results(jobs *s, const job *j, handler_req *req, handler_resp *resp)
{
    enum job_state st = job_state_at(s, j, req->now);
    uint64_t n = j->cv.total < s->results ? j->cv.total : s->results, off, count;
    int rc;

    if (st != JOB_FULFILLED) {
        json_t *o =
            json_pack("{s:s, s:s, s:i, s:s}", "message",
                      st < JOB_FULFILLED ? "the job has no results yet: poll it until FULFILLED"
                                         : "the job has no results: it is not FULFILLED",
                      "code", "conflict", "status", 409, "state", job_state_names[st]);
        return emu_reply_json(resp, 409, o);
    }
    if (jobs_cursor(req, n, &off) < 0) {
        handler_error(resp, 400, "bad.request", "cursor: not a cursor of this job's results");
        return HANDLER_DONE;
    }
    count = n - off < s->page_size ? n - off : s->page_size;
    buf_reset(resp->body);
    rc = buf_append_str(resp->body, "{\"conversations\":[");
    if (rc == 0)
        rc = emu_convs_append_range(&j->cv, off, count, resp->body);
    if (rc == 0)
        rc = buf_append(resp->body, "]", 1);
    if (rc == 0 && off + count < n) {
        char num[24], cur[B64_ENC_ROOM(24)];
        int len = snprintf(num, sizeof(num), "%" PRIu64, off + count);

        b64url_encode(num, (size_t)len, cur, sizeof(cur));
        rc = buf_printf(resp->body, ",\"cursor\":\"%s\"", cur);
    }
    if (rc == 0)
        rc = buf_append(resp->body, "}", 1);
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "the page could not be built");
        return HANDLER_DONE;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

/* Splits BASE, BASE/{id} and BASE/{id}/results: 0, 1, 2, or -ENOENT. */
static int jobs_path(const jobs *s, const handler_req *req, const char **id, size_t *len)
{
    const char *p = req->path, *rest, *slash;
    size_t n = req->path_len, rlen;

    if (n < s->base_len || memcmp(p, s->base, s->base_len) != 0)
        return -ENOENT;
    rest = p + s->base_len;
    rlen = n - s->base_len;
    if (rlen == 0 || (rlen == 1 && rest[0] == '/'))
        return 0;
    if (rest[0] != '/')
        return -ENOENT;
    *id = rest + 1;
    slash = memchr(rest + 1, '/', rlen - 1);
    if (slash == NULL) {
        *len = rlen - 1;
        return 1;
    }
    *len = (size_t)(slash - *id);
    if ((size_t)(rest + rlen - slash) == 8 && memcmp(slash, "/results", 8) == 0)
        return 2;
    return -ENOENT;
}

static int jobs_handle(void *state, handler_req *req, handler_resp *resp)
{
    jobs *s = state;
    const char *id = NULL, *org = emu_org(req);
    size_t len = 0;
    int which = jobs_path(s, req, &id, &len), rc = 0;
    long i;
    job copy;

    if (which < 0) {
        handler_error(resp, 404, "not.found", "no such resource: %.*s", (int)req->path_len,
                      req->path);
        return HANDLER_DONE;
    }
    if (which == 0)
        return emu_method_is(req, "POST") ? jobs_submit(s, req, resp)
                                          : emu_method_not_allowed(resp, req->method, "POST");
    if (which == 2 && !emu_method_is(req, "GET"))
        return emu_method_not_allowed(resp, req->method, "GET");
    if (which == 1 && !emu_method_is(req, "GET") && !emu_method_is(req, "DELETE"))
        return emu_method_not_allowed(resp, req->method, "GET, DELETE");
    if (gateway_kv() != NULL) {
        char idz[EMU_UUID_LEN + 1], before[24];
        bool del = emu_method_is(req, "DELETE");
        const char *argv[3] = {NULL, del ? "delete" : "get", before};
        size_t lens[3] = {0, del ? 6 : 3, 0};
        uint64_t now_ms = req->now_wall / JOBS_NS_MS, run_ms = s->fulfil_after / JOBS_NS_MS;

        if (len != EMU_UUID_LEN || memchr(id, ':', len) != NULL) {
            handler_error(resp, 404, "not.found", "analytics job %.*s not found", (int)len, id);
            return HANDLER_DONE;
        }
        memcpy(idz, id, len);
        idz[len] = '\0';
        lens[2] = (size_t)snprintf(before, sizeof(before), "%" PRIu64,
                                   (uint64_t)now_ms > run_ms ? now_ms - run_ms : 0);
        return jobs_redis(s, gateway_kv(), req, resp, which, del, idz, del ? 3 : 2, argv, lens);
    }
    pthread_mutex_lock(&s->mu);
    jobs_reap(s, req->now);
    i = jobs_find(s, org, id, len);
    if (i >= 0) {
        copy = *s->v[i];
        if (emu_method_is(req, "DELETE")) {
            enum job_state st = job_state_at(s, s->v[i], req->now);

            if (st == JOB_QUEUED || st == JOB_RUNNING)
                s->v[i]->cancelled = true;
            else
                jobs_remove(s, (size_t)i);
            rc = 1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (i < 0) {
        handler_error(resp, 404, "not.found", "analytics job %.*s not found", (int)len, id);
        return HANDLER_DONE;
    }
    if (rc == 1)
        return emu_reply_empty(resp, 202);
    copy.org = NULL; /* the copy must not outlive the lock's view of the string */
    if (which == 2)
        return jobs_results(s, &copy, req, resp);
    return jobs_status(s, &copy, req->now, resp);
}

const handler_kind emu_jobs_kind = {
    .name = "analytics_jobs",
    .init = jobs_init,
    .handle = jobs_handle,
    .free = jobs_free,
};
