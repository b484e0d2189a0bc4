#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_fixture.h"
#include "run/report_json.h"

static json_t *get(json_t *o, const char *path)
{
    char key[128];
    const char *dot;
    json_t *v = o;

    while (v && (dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        v = json_object_get(v, key);
        path = dot + 1;
    }
    return v ? json_object_get(v, path) : NULL;
}

static void assert_int_at(json_t *o, const char *path, json_int_t want)
{
    json_t *v = get(o, path);
    if (!json_is_integer(v))
        fail_msg("%s: not an integer", path);
    if (json_integer_value(v) != want)
        fail_msg("%s: %lld, want %lld", path, (long long)json_integer_value(v), (long long)want);
}

static void assert_num_at(json_t *o, const char *path, double want, double tol)
{
    json_t *v = get(o, path);
    if (!json_is_number(v))
        fail_msg("%s: not a number", path);
    if (fabs(json_number_value(v) - want) > tol)
        fail_msg("%s: %.9g, want %.9g", path, json_number_value(v), want);
}

static void assert_null_at(json_t *o, const char *path)
{
    json_t *v = get(o, path);
    if (!json_is_null(v))
        fail_msg("%s: not null", path);
}

/* Every key of a latency object, as numbers, or nulls when empty. */
static void assert_latency(json_t *o, const char *path, bool empty)
{
    static const char *const keys[] = {"p50", "p90", "p95", "p99", "p999", "max", "mean", "min"};
    json_t *l = get(o, path);
    assert_true(json_is_object(l));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(l, keys[i]);
        if (empty ? !json_is_null(v) : !json_is_number(v))
            fail_msg("%s.%s has the wrong type", path, keys[i]);
    }
    assert_true(json_is_integer(json_object_get(l, "count")));
    assert_int_equal(json_object_size(l), 9);
}

static const char *const request_keys[] = {
    "logical", "logical_ok", "logical_failed", "attempts",     "sent",
    "ok",      "throttled",  "client_error",   "server_error", "network_error",
    "retries", "iterations", "dropped",        "unexpected",   "iterations_failed"};

static void assert_requests(json_t *o, const char *path)
{
    json_t *r = get(o, path);
    assert_true(json_is_object(r));
    for (size_t i = 0; i < sizeof(request_keys) / sizeof(request_keys[0]); i++) {
        if (!json_is_integer(json_object_get(r, request_keys[i])))
            fail_msg("%s.%s missing", path, request_keys[i]);
    }
    assert_int_equal(json_object_size(r), sizeof(request_keys) / sizeof(request_keys[0]));
}

static void check_report(json_t *j)
{
    /* Top level: every key and nothing else. */
    static const char *const top[] = {"version",
                                      "tool",
                                      "plan",
                                      "scenarios",
                                      "partial",
                                      "start",
                                      "start_ms",
                                      "duration_s",
                                      "planned_duration_s",
                                      "requests",
                                      "network_errors",
                                      "status",
                                      "status_other",
                                      "bytes",
                                      "rate",
                                      "throttled_ratio",
                                      "error_ratio",
                                      "latency_ms",
                                      "end_to_end_ms",
                                      "first_throttle_s",
                                      "ratelimit",
                                      "steps",
                                      "timeline",
                                      "thresholds",
                                      "thresholds_passed",
                                      "give_ups",
                                      "failures",
                                      "lateness_ms",
                                      "auth"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        if (!json_object_get(j, top[i]))
            fail_msg("missing key %s", top[i]);
    }
    assert_int_equal(json_object_size(j), sizeof(top) / sizeof(top[0]));

    assert_int_at(j, "version", 1);
    assert_string_equal(json_string_value(get(j, "plan")), "plan.yaml");
    assert_string_equal(json_string_value(json_array_get(get(j, "scenarios"), 0)), "browse");
    assert_true(json_is_false(get(j, "partial")));
    assert_string_equal(json_string_value(get(j, "start")), "2023-11-14T22:13:20.123Z");
    assert_int_at(j, "start_ms", 1700000000123LL);
    assert_num_at(j, "duration_s", 10.0, 0);
    assert_num_at(j, "planned_duration_s", 10.0, 0);

    assert_requests(j, "requests");
    assert_int_at(j, "requests.logical", 10);
    assert_int_at(j, "requests.logical_ok", 8);
    assert_int_at(j, "requests.logical_failed", 2);
    assert_int_at(j, "requests.attempts", 12);
    assert_int_at(j, "requests.sent", 13);
    assert_int_at(j, "requests.ok", 8);
    assert_int_at(j, "requests.throttled", 2);
    assert_int_at(j, "requests.client_error", 0);
    assert_int_at(j, "requests.server_error", 1);
    assert_int_at(j, "requests.network_error", 1);
    assert_int_at(j, "requests.retries", 2);
    assert_int_at(j, "requests.dropped", 5);
    assert_int_at(j, "requests.iterations", 9);
    assert_int_at(j, "requests.unexpected", 4);
    assert_int_at(j, "requests.iterations_failed", 3);
    assert_int_at(j, "network_errors.refused", 1);
    assert_int_at(j, "network_errors.reset", 0);
    assert_int_at(j, "network_errors.timeout", 0);
    assert_int_at(j, "network_errors.tls", 0);
    assert_int_at(j, "network_errors.other", 0);
    assert_int_equal(json_object_size(get(j, "network_errors")), 5);

    assert_int_equal(json_object_size(get(j, "status")), 3);
    assert_int_at(j, "status.200", 8);
    assert_int_at(j, "status.429", 2);
    assert_int_at(j, "status.503", 1);
    assert_int_at(j, "status_other", 0);
    assert_int_at(j, "bytes.received", 12000);
    assert_int_at(j, "bytes.sent", 1200);

    assert_num_at(j, "rate.target", 2.0, 0);
    assert_num_at(j, "rate.offered", 1.3, 1e-9);
    assert_num_at(j, "rate.achieved", 1.2, 1e-9);
    assert_num_at(j, "rate.goodput", 0.8, 1e-9);
    assert_num_at(j, "throttled_ratio", 0.166667, 1e-9);
    assert_num_at(j, "error_ratio", 0.2, 1e-9);

    assert_latency(j, "latency_ms", false);
    assert_num_at(j, "latency_ms.p50", 10.0, 0.01);
    assert_num_at(j, "latency_ms.p99", 40.0, 0);
    assert_num_at(j, "latency_ms.max", 40.0, 0);
    assert_num_at(j, "latency_ms.min", 5.0, 0);
    assert_num_at(j, "latency_ms.mean", 150.0 / 11, 0.01);
    assert_int_at(j, "latency_ms.count", 11);
    assert_latency(j, "end_to_end_ms", false);
    assert_num_at(j, "end_to_end_ms.p50", 100.0, 0.1);
    assert_num_at(j, "end_to_end_ms.max", 3000.0, 0);
    assert_int_at(j, "end_to_end_ms.count", 10);
    assert_num_at(j, "first_throttle_s", 2.5, 0);

    /* Send lateness of 1, 2, ..., 100 ms: percentiles are bucket tops, never
     * below the exact value and above it by less than 1/1024. */
    assert_int_equal(json_object_size(get(j, "lateness_ms")), 6);
    assert_num_at(j, "lateness_ms.p50", 50.0 + 0.024, 0.025);
    assert_num_at(j, "lateness_ms.p90", 90.0 + 0.044, 0.045);
    assert_num_at(j, "lateness_ms.p99", 99.0 + 0.048, 0.049);
    assert_num_at(j, "lateness_ms.p999", 100.0 + 0.049, 0.05);
    assert_num_at(j, "lateness_ms.max", 100.0, 0);
    assert_int_at(j, "lateness_ms.count", 100);
    assert_int_at(j, "auth.token_requests", 4);
    assert_int_at(j, "auth.token_failures", 1);
    assert_int_equal(json_object_size(get(j, "auth")), 2);

    assert_int_at(j, "ratelimit.limit", 300);
    assert_int_at(j, "ratelimit.min_remaining", 0);
    assert_num_at(j, "ratelimit.reset_s", 30.0, 0);
    assert_int_at(j, "ratelimit.responses", 2);
    json_t *d = get(j, "ratelimit.dialects");
    assert_int_equal(json_array_size(d), 2);
    assert_string_equal(json_string_value(json_array_get(d, 0)), "x");
    assert_string_equal(json_string_value(json_array_get(d, 1)), "retry-after");

    json_t *steps = get(j, "steps");
    assert_int_equal(json_object_size(steps), 2);
    json_t *login = json_object_get(steps, "login"), *g = json_object_get(steps, "get");
    assert_non_null(login);
    assert_non_null(g);
    assert_int_at(login, "index", 0);
    assert_requests(login, "requests");
    assert_int_at(login, "requests.attempts", 8);
    assert_int_at(login, "requests.throttled", 2);
    assert_int_at(login, "requests.retries", 2);
    assert_int_at(login, "requests.logical", 6);
    assert_num_at(login, "throttled_ratio", 0.25, 0);
    assert_num_at(login, "first_throttle_s", 2.5, 0);
    assert_latency(login, "latency_ms", false);
    assert_num_at(login, "latency_ms.max", 10.0, 0);
    assert_latency(login, "end_to_end_ms", false);
    assert_int_at(g, "index", 1);
    assert_int_at(g, "requests.logical_failed", 2);
    assert_int_at(g, "network_errors.refused", 1);
    assert_null_at(g, "first_throttle_s");
    assert_num_at(g, "latency_ms.max", 40.0, 0);

    json_t *tl = get(j, "timeline");
    assert_int_equal(json_array_size(tl), 2);
    json_t *r0 = json_array_get(tl, 0), *r1 = json_array_get(tl, 1);
    static const char *const row_keys[] = {"t",
                                           "sent",
                                           "attempts",
                                           "ok",
                                           "throttled",
                                           "errors",
                                           "logical",
                                           "logical_ok",
                                           "dropped",
                                           "p50_ms",
                                           "p99_ms",
                                           "end_to_end_p99_ms",
                                           "min_remaining"};
    for (size_t i = 0; i < sizeof(row_keys) / sizeof(row_keys[0]); i++)
        assert_non_null(json_object_get(r0, row_keys[i]));
    assert_int_equal(json_object_size(r0), sizeof(row_keys) / sizeof(row_keys[0]));
    assert_num_at(r0, "t", 1.0, 0);
    assert_int_at(r0, "sent", 13);
    assert_int_at(r0, "attempts", 12);
    assert_int_at(r0, "ok", 8);
    assert_int_at(r0, "throttled", 2);
    assert_int_at(r0, "errors", 2);
    assert_int_at(r0, "dropped", 5);
    assert_num_at(r0, "p99_ms", 40.0, 0);
    assert_int_at(r0, "min_remaining", 0);
    assert_num_at(r1, "t", 2.0, 0);
    assert_int_at(r1, "attempts", 0);
    assert_null_at(r1, "p50_ms");
    assert_null_at(r1, "p99_ms");
    assert_null_at(r1, "end_to_end_p99_ms");
    assert_null_at(r1, "min_remaining");

    json_t *th = get(j, "thresholds");
    assert_int_equal(json_array_size(th), 3);
    json_t *t0 = json_array_get(th, 0), *t1 = json_array_get(th, 1), *t2 = json_array_get(th, 2);
    assert_string_equal(json_string_value(json_object_get(t0, "expr")), "p99 < 500ms");
    assert_string_equal(json_string_value(json_object_get(t0, "metric")), "p99");
    assert_string_equal(json_string_value(json_object_get(t0, "unit")), "ms");
    assert_num_at(t0, "value", 40.0, 0);
    assert_true(json_is_true(json_object_get(t0, "pass")));
    assert_num_at(t1, "value", 0.166667, 1e-9);
    assert_true(json_is_false(json_object_get(t1, "pass")));
    assert_null_at(t2, "value"); /* "none": +infinity is no JSON number */
    assert_true(json_is_false(json_object_get(t2, "pass")));
    assert_true(json_is_false(get(j, "thresholds_passed")));

    json_t *gu = get(j, "give_ups");
    assert_int_equal(json_object_size(gu), RETRY_REASON_COUNT - 1);
    assert_int_at(gu, "max_attempts", 1);
    assert_int_at(gu, "budget", 1);
    assert_int_at(gu, "not_retryable", 0);
    json_t *f = get(j, "failures");
    assert_int_equal(json_array_size(f), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "reason")),
                        "missing captured value 'id'");
    assert_int_at(json_array_get(f, 0), "count", 3);
}

/* Builds the fixture's report with a two-row timeline and 3 thresholds
 * ("first_throttle_s < 1" is evaluated on a run without a 429: value none),
 * a send lateness of 1, 2, ..., 100 ms, and 4 token requests of which 1
 * failed. */
static void fixture(stats *s, timeline *tl, threshold t[3], threshold_result res[3], hist *late)
{
    stats_interval iv;
    char err[256];
    stats empty;

    assert_int_equal(hist_init(late), 0);
    for (uint64_t ms = 1; ms <= 100; ms++)
        hist_record(late, ms * FX_MS);
    assert_int_equal(stats_init(s, 2, FX_START), 0);
    stats_add_token(s, true);
    stats_add_token(s, false);
    stats_add_token(s, true);
    stats_add_token(s, true);
    assert_int_equal(stats_interval_init(&iv), 0);
    timeline_init(tl, FX_START);
    fx_fill(s);
    stats_take_interval(s, &iv);
    assert_int_equal(timeline_add(tl, &iv, FX_START + FX_S), 0);
    stats_interval_reset(&iv);
    stats_take_interval(s, &iv);
    assert_int_equal(timeline_add(tl, &iv, FX_START + 2 * FX_S), 0);
    stats_interval_free(&iv);

    assert_int_equal(threshold_parse(&t[0], "p99 < 500ms", err, sizeof(err)), 0);
    assert_int_equal(threshold_parse(&t[1], "throttled_ratio < 0.1", err, sizeof(err)), 0);
    assert_int_equal(threshold_parse(&t[2], "first_throttle_s < 1", err, sizeof(err)), 0);
    report_meta m = fx_meta(t, 2);
    assert_int_equal(report_eval_thresholds(&m, s, res), 1);
    assert_int_equal(stats_init(&empty, 0, FX_START), 0);
    m.thresholds = &t[2];
    m.n_thresholds = 1;
    assert_int_equal(report_eval_thresholds(&m, &empty, &res[2]), 1);
    stats_free(&empty);
}

static void test_build(void **state)
{
    stats s;
    timeline tl;
    threshold t[3];
    threshold_result res[3];
    hist late;
    (void)state;
    fixture(&s, &tl, t, res, &late);
    report_meta m = fx_meta(t, 3);
    m.lateness = &late;
    json_t *j = report_json_build(&m, &s, &tl, res);
    assert_non_null(j);
    check_report(j);
    json_decref(j);
    timeline_free(&tl);
    stats_free(&s);
    hist_free(&late);
}

static void test_write_and_parse_back(void **state)
{
    stats s;
    timeline tl;
    threshold t[3];
    threshold_result res[3];
    char dir[] = "/tmp/test_report_json_XXXXXX", path[128], err[256];
    json_error_t jerr;
    hist late;
    (void)state;
    fixture(&s, &tl, t, res, &late);
    report_meta m = fx_meta(t, 3);
    m.lateness = &late;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/report.json", dir);

    /* Replaces an existing file. */
    FILE *old = fopen(path, "w");
    fputs("old", old);
    fclose(old);
    assert_int_equal(report_json_write(path, &m, &s, &tl, res, err, sizeof(err)), 0);
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("%s", jerr.text);
    check_report(j);
    json_decref(j);

    /* The number text is short: rounded, no 0.30000000000000004. */
    FILE *in = fopen(path, "r");
    char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, in);
    text[n] = '\0';
    fclose(in);
    assert_non_null(strstr(text, "\"offered\": 1.3,"));
    assert_non_null(strstr(text, "\"throttled_ratio\": 0.166667,"));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    /* No temporary file left behind. */
    DIR *dd = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dd)))
        files += e->d_name[0] != '.';
    closedir(dd);
    assert_int_equal(files, 1);
    unlink(path);
    rmdir(dir);

    /* A partial, empty run without timeline or thresholds: nulls where there
     * is nothing. */
    stats empty;
    assert_int_equal(stats_init(&empty, 1, FX_START), 0);
    report_meta me = {.step_names = NULL, .n_steps = 1, .partial = true, .duration_ns = 0};
    j = report_json_build(&me, &empty, NULL, NULL);
    assert_non_null(j);
    assert_true(json_is_true(get(j, "partial")));
    assert_null_at(j, "plan");
    assert_null_at(j, "start");
    assert_null_at(j, "planned_duration_s");
    assert_null_at(j, "rate.target");
    assert_num_at(j, "rate.offered", 0, 0);
    assert_null_at(j, "throttled_ratio");
    assert_null_at(j, "error_ratio");
    assert_latency(j, "latency_ms", true);
    assert_latency(j, "end_to_end_ms", true);
    assert_int_at(j, "latency_ms.count", 0);
    assert_null_at(j, "first_throttle_s");
    /* A closed model (no lateness histogram): every lateness value null. */
    assert_null_at(j, "lateness_ms.p50");
    assert_null_at(j, "lateness_ms.p90");
    assert_null_at(j, "lateness_ms.p99");
    assert_null_at(j, "lateness_ms.p999");
    assert_null_at(j, "lateness_ms.max");
    assert_int_at(j, "lateness_ms.count", 0);
    assert_int_at(j, "auth.token_requests", 0);
    assert_int_at(j, "auth.token_failures", 0);
    assert_null_at(j, "ratelimit.limit");
    assert_null_at(j, "ratelimit.min_remaining");
    assert_null_at(j, "ratelimit.reset_s");
    assert_int_equal(json_array_size(get(j, "ratelimit.dialects")), 0);
    assert_non_null(json_object_get(get(j, "steps"), "step 1"));
    assert_null_at(json_object_get(get(j, "steps"), "step 1"), "throttled_ratio");
    assert_int_equal(json_array_size(get(j, "timeline")), 0);
    assert_int_equal(json_array_size(get(j, "thresholds")), 0);
    assert_true(json_is_true(get(j, "thresholds_passed")));
    assert_int_equal(json_object_size(get(j, "status")), 0);
    json_decref(j);
    stats_free(&empty);

    /* A directory that does not exist: a message naming the file. */
    assert_int_equal(
        report_json_write("/nonexistent-dir/r.json", &m, &s, &tl, res, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "/nonexistent-dir/r.json: No such file or directory");
    timeline_free(&tl);
    stats_free(&s);
    hist_free(&late);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_write_and_parse_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
