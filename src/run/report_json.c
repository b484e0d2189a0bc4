/*
 * report_json: a jansson tree built from the merged stats; allocation
 * failures are remembered by the builder and reported once at the end.
 */
#include "run/report_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The tree under construction and whether an allocation failed. */
typedef struct report_json_ctx {
    bool oom;
} report_json_ctx;

static void put(report_json_ctx *c, json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v || json_object_set_new(obj, key, v) != 0)
        c->oom = true;
}

static void push(report_json_ctx *c, json_t *arr, json_t *v)
{
    if (!arr || !v || json_array_append_new(arr, v) != 0)
        c->oom = true;
}

static json_t *jint(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A number rounded to `scale` (1000: three decimals); null when not finite. */
static json_t *jnum(double v, double scale)
{
    if (!isfinite(v))
        return json_null();
    v = round(v * scale) / scale;
    if (v == 0)
        v = 0; /* no -0 */
    return json_real(v);
}

static json_t *jms(uint64_t ns)
{
    return jnum((double)ns / 1e6, 1000);
}

/* {p50, p90, p95, p99, p999, max, mean, min, count}; values null when empty. */
static json_t *report_json_latency(report_json_ctx *c, const hist *h)
{
    json_t *o = json_object();
    bool empty = hist_count(h) == 0;
    static const struct {
        const char *key;
        double p;
    } pcts[] = {{"p50", 50.0}, {"p90", 90.0}, {"p95", 95.0}, {"p99", 99.0}, {"p999", 99.9}};

    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        put(c, o, pcts[i].key, empty ? json_null() : jms(hist_percentile(h, pcts[i].p)));
    put(c, o, "max", empty ? json_null() : jms(hist_max(h)));
    put(c, o, "mean", empty ? json_null() : jnum(hist_mean(h) / 1e6, 1000));
    put(c, o, "min", empty ? json_null() : jms(hist_min(h)));
    put(c, o, "count", jint(hist_count(h)));
    return o;
}

/* {p50, p90, p99, p999, max, count} of the open-model send lateness; values
 * null (count 0) without an open-model scenario or before any send. */
static json_t *report_json_lateness(report_json_ctx *c, const hist *h)
{
    json_t *o = json_object();
    bool empty = h == NULL || hist_count(h) == 0;
    static const struct {
        const char *key;
        double p;
    } pcts[] = {{"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p999", 99.9}};

    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        put(c, o, pcts[i].key, empty ? json_null() : jms(hist_percentile(h, pcts[i].p)));
    put(c, o, "max", empty ? json_null() : jms(hist_max(h)));
    put(c, o, "count", jint(empty ? 0 : hist_count(h)));
    return o;
}

static json_t *report_json_requests(report_json_ctx *c, const stats_counts *k)
{
    json_t *o = json_object();

    put(c, o, "logical", jint(k->logical));
    put(c, o, "logical_ok", jint(k->logical_ok));
    put(c, o, "logical_failed", jint(k->logical_failed));
    put(c, o, "attempts", jint(k->attempts));
    put(c, o, "sent", jint(k->sent > k->attempts ? k->sent : k->attempts));
    put(c, o, "ok", jint(k->cls[STATS_OK]));
    put(c, o, "throttled", jint(k->cls[STATS_THROTTLED]));
    put(c, o, "client_error", jint(k->cls[STATS_CLIENT_ERROR]));
    put(c, o, "server_error", jint(k->cls[STATS_SERVER_ERROR]));
    put(c, o, "network_error", jint(k->cls[STATS_NETWORK_ERROR]));
    put(c, o, "retries", jint(k->retries));
    put(c, o, "iterations", jint(k->iterations));
    put(c, o, "dropped", jint(k->dropped));
    put(c, o, "unexpected", jint(k->unexpected));
    put(c, o, "iterations_failed", jint(k->iterations_failed));
    return o;
}

static json_t *report_json_neterrs(report_json_ctx *c, const stats_counts *k)
{
    json_t *o = json_object();

    for (int i = STATS_NETERR_REFUSED; i < STATS_NETERR_COUNT; i++)
        put(c, o, stats_neterr_name((stats_neterr)i), jint(k->neterr[i]));
    return o;
}

static json_t *report_json_first_throttle(const stats_counts *k)
{
    if (k->first_throttle_ns == STATS_NONE)
        return json_null();
    return jnum((double)k->first_throttle_ns / 1e9, 1000);
}

static json_t *report_json_ratio(uint64_t num, uint64_t den)
{
    return den ? jnum((double)num / (double)den, 1e6) : json_null();
}

static json_t *report_json_step(report_json_ctx *c, const stats_step *st, size_t index)
{
    json_t *o = json_object();

    put(c, o, "index", jint(index));
    put(c, o, "requests", report_json_requests(c, &st->c));
    put(c, o, "network_errors", report_json_neterrs(c, &st->c));
    put(c, o, "throttled_ratio", report_json_ratio(st->c.cls[STATS_THROTTLED], st->c.attempts));
    put(c, o, "latency_ms", report_json_latency(c, &st->latency));
    put(c, o, "end_to_end_ms", report_json_latency(c, &st->e2e));
    put(c, o, "first_throttle_s", report_json_first_throttle(&st->c));
    return o;
}

static json_t *report_json_row(report_json_ctx *c, const timeline_row *r)
{
    json_t *o = json_object();

    put(c, o, "t", jnum(r->t_s, 1000));
    put(c, o, "sent", jint(r->sent));
    put(c, o, "attempts", jint(r->attempts));
    put(c, o, "ok", jint(r->ok));
    put(c, o, "throttled", jint(r->throttled));
    put(c, o, "errors", jint(r->errors));
    put(c, o, "logical", jint(r->logical));
    put(c, o, "logical_ok", jint(r->logical_ok));
    put(c, o, "dropped", jint(r->dropped));
    put(c, o, "p50_ms", r->has_latency ? jms(r->p50_ns) : json_null());
    put(c, o, "p99_ms", r->has_latency ? jms(r->p99_ns) : json_null());
    put(c, o, "end_to_end_p99_ms", r->has_e2e ? jms(r->e2e_p99_ns) : json_null());
    put(c, o, "min_remaining", r->has_remaining ? jint(r->min_remaining) : json_null());
    return o;
}

static json_t *report_json_ratelimit(report_json_ctx *c, const rlhdr_stats *rl)
{
    json_t *o = json_object();
    json_t *dialects = json_array();
    char names[128];

    put(c, o, "limit", rl->has_limit ? jint(rl->limit) : json_null());
    put(c, o, "min_remaining", rl->has_remaining ? jint(rl->min_remaining) : json_null());
    put(c, o, "reset_s", rl->has_reset ? jnum((double)rl->reset_ns / 1e9, 1000) : json_null());
    put(c, o, "responses", jint(rl->responses));
    rlhdr_dialect_names(rl->dialects, names, sizeof(names));
    for (char *p = names, *save = NULL, *tok; (tok = strtok_r(p, ",", &save)); p = NULL)
        push(c, dialects, json_string(tok));
    put(c, o, "dialects", dialects);
    return o;
}

static json_t *report_json_thresholds(report_json_ctx *c, const report_meta *m,
                                      const threshold_result *results)
{
    json_t *a = json_array();

    for (size_t i = 0; i < m->n_thresholds; i++) {
        const threshold *t = &m->thresholds[i];
        json_t *o = json_object();
        put(c, o, "expr", json_string(t->expr));
        put(c, o, "metric", json_string(threshold_metric_name(t)));
        put(c, o, "unit", json_string(threshold_unit(t)));
        put(c, o, "value", results ? jnum(results[i].value, 1e6) : json_null());
        put(c, o, "pass", json_boolean(results && results[i].pass));
        push(c, a, o);
    }
    return a;
}

static json_t *report_json_start(uint64_t wall_ns)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    char date[32], text[48];

    if (!gmtime_r(&secs, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return json_null();
    snprintf(text, sizeof(text), "%s.%03uZ", date, (unsigned)(wall_ns / 1000000 % 1000));
    return json_string(text);
}

json_t *report_json_build(const report_meta *m, const stats *s, const timeline *tl,
                          const threshold_result *results)
{
    report_json_ctx c = {false};
    json_t *root = json_object();
    json_t *scen = json_array(), *status = json_object(), *steps = json_object();
    json_t *bytes = json_object(), *rate = json_object(), *rows = json_array();
    json_t *giveups = json_object(), *failures = json_array(), *auth = json_object();
    report_rates r;
    size_t failed = 0;

    report_rates_of(m, s, &r);
    put(&c, root, "version", json_integer(REPORT_JSON_VERSION));
    put(&c, root, "tool", json_string("tollgate " TG_VERSION));
    put(&c, root, "plan", m->plan_name ? json_string(m->plan_name) : json_null());
    for (size_t i = 0; i < m->n_scenarios; i++)
        push(&c, scen, json_string(m->scenario_names[i] ? m->scenario_names[i] : ""));
    put(&c, root, "scenarios", scen);
    put(&c, root, "partial", json_boolean(m->partial));
    put(&c, root, "start", m->start_wall_ns ? report_json_start(m->start_wall_ns) : json_null());
    put(&c, root, "start_ms", jint(m->start_wall_ns / 1000000));
    put(&c, root, "duration_s", jnum((double)m->duration_ns / 1e9, 1000));
    put(&c, root, "planned_duration_s",
        m->planned_ns ? jnum((double)m->planned_ns / 1e9, 1000) : json_null());

    put(&c, root, "requests", report_json_requests(&c, &s->total));
    put(&c, root, "network_errors", report_json_neterrs(&c, &s->total));
    for (int st = STATS_STATUS_MIN; st <= STATS_STATUS_MAX; st++) {
        uint64_t n = s->status[st - STATS_STATUS_MIN];
        char key[8];
        if (n == 0)
            continue;
        snprintf(key, sizeof(key), "%d", st);
        put(&c, status, key, jint(n));
    }
    put(&c, root, "status", status);
    put(&c, root, "status_other", jint(s->status_other));
    put(&c, bytes, "received", jint(s->total.bytes_in));
    put(&c, bytes, "sent", jint(s->total.bytes_out));
    put(&c, root, "bytes", bytes);

    put(&c, rate, "target", r.target > 0 ? jnum(r.target, 1000) : json_null());
    put(&c, rate, "offered", jnum(r.offered, 1000));
    put(&c, rate, "achieved", jnum(r.achieved, 1000));
    put(&c, rate, "goodput", jnum(r.goodput, 1000));
    put(&c, root, "rate", rate);
    put(&c, root, "throttled_ratio",
        report_json_ratio(s->total.cls[STATS_THROTTLED], s->total.attempts));
    put(&c, root, "error_ratio", report_json_ratio(s->total.logical_failed, s->total.logical));

    put(&c, root, "latency_ms", report_json_latency(&c, &s->latency));
    put(&c, root, "end_to_end_ms", report_json_latency(&c, &s->e2e));
    put(&c, root, "lateness_ms", report_json_lateness(&c, m->lateness));
    put(&c, root, "first_throttle_s", report_json_first_throttle(&s->total));
    put(&c, root, "ratelimit", report_json_ratelimit(&c, &s->rl));

    for (size_t i = 0; i < s->n_steps; i++) {
        char name[256];
        report_step_name(m, i, name, sizeof(name));
        put(&c, steps, name, report_json_step(&c, &s->steps[i], i));
    }
    put(&c, root, "steps", steps);

    for (size_t i = 0; tl && i < tl->n; i++)
        push(&c, rows, report_json_row(&c, &tl->rows[i]));
    put(&c, root, "timeline", rows);

    put(&c, root, "thresholds", report_json_thresholds(&c, m, results));
    for (size_t i = 0; results && i < m->n_thresholds; i++)
        failed += !results[i].pass;
    put(&c, root, "thresholds_passed", json_boolean(results ? failed == 0 : m->n_thresholds == 0));

    for (int i = RETRY_REASON_NONE + 1; i < RETRY_REASON_COUNT; i++)
        put(&c, giveups, retry_reason_name((retry_reason)i), jint(s->giveups[i]));
    put(&c, root, "give_ups", giveups);
    for (size_t i = 0; i < s->n_failures; i++) {
        json_t *o = json_object();
        put(&c, o, "reason", json_string(s->failures[i].reason));
        put(&c, o, "count", jint(s->failures[i].count));
        push(&c, failures, o);
    }
    if (s->failures_other > 0) {
        json_t *o = json_object();
        put(&c, o, "reason", json_string("(other reasons)"));
        put(&c, o, "count", jint(s->failures_other));
        push(&c, failures, o);
    }
    put(&c, root, "failures", failures);
    put(&c, auth, "token_requests", jint(s->token_requests));
    put(&c, auth, "token_failures", jint(s->token_failures));
    put(&c, root, "auth", auth);

    if (c.oom) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int report_json_write(const char *path, const report_meta *m, const stats *s, const timeline *tl,
                      const threshold_result *results, char *err, size_t errlen)
{
    json_t *root = report_json_build(m, s, tl, results);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof(".tmpXXXXXX"));
    FILE *f = NULL;
    int fd = -1, rc = -ENOMEM;

    if (!root || !tmp)
        goto err;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = -errno;
        goto err;
    }
    /* mkstemp creates the file 0600; a report is as readable as other files
     * (umask is process-wide state, so the usual 0644 is set instead). */
    (void)fchmod(fd, 0644);
    f = fdopen(fd, "w");
    if (!f) {
        rc = -errno;
        close(fd);
        unlink(tmp);
        goto err;
    }
    errno = 0;
    if (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) != 0 ||
        fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = errno ? -errno : -EIO;
        fclose(f);
        unlink(tmp);
        goto err;
    }
    if (fclose(f) != 0) {
        rc = -errno;
        unlink(tmp);
        goto err;
    }
    if (rename(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
        goto err;
    }
    free(tmp);
    json_decref(root);
    return 0;
err:
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    free(tmp);
    json_decref(root);
    return rc;
}
