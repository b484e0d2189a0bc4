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
    json_decref(body);
    j->failed = (uint64_t)(j->cv.end_ms - j->cv.start_ms) > s->max_interval / JOBS_NS_MS;
    j->created = req->now;
    j->created_wall = req->now_wall;
    emu_uuid(req->rng, j->id);
    memcpy(id, j->id, sizeof(id));
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
