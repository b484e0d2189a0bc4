#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/plan.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

static char dir[64];
static char err[CONFIG_ERRLEN];

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_plan.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    write_file("users.csv", "username,password\nalice,pw1\nbob,pw2\n");
    write_file("body.txt", "name={{username}}\n");
    return 0;
}

static int teardown(void **state)
{
    char path[256];

    (void)state;
    for (const char *const *f = (const char *const[]){"users.csv", "body.txt", "plan.yaml", NULL};
         *f != NULL; f++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *f);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

/* Variables for rendering: a NULL-terminated list of name, value pairs. */
static int lookup(void *ctx, const char *name, size_t len, const char **v, size_t *vlen)
{
    for (const char *const *kv = ctx; kv[0] != NULL; kv += 2) {
        if (strlen(kv[0]) == len && memcmp(kv[0], name, len) == 0) {
            *v = kv[1];
            *vlen = strlen(kv[1]);
            return 0;
        }
    }
    return -ENOENT;
}

static const char *render(const tmpl *t, const plan_json *j, const char *const *vars)
{
    static char out[1024];
    tmpl_ctx ctx = {.vu = 3, .iteration = 9, .lookup = lookup, .lookup_ctx = (void *)vars};
    char msg[256];
    buf b;

    buf_init(&b, 0);
    if (t != NULL)
        assert_int_equal(tmpl_render(t, &ctx, &b, msg, sizeof(msg)), 0);
    else
        assert_int_equal(plan_json_render(j, &ctx, &b, msg, sizeof(msg)), 0);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, buf_ptr(&b));
    buf_free(&b);
    return out;
}

static const char full_plan[] =
    "name: full\n"
    "target: http://127.0.0.1:8080/api\n"
    "tls: {insecure: true}\n"
    "timeouts: {connect: 2s, response: 10s}\n"
    "threads: 2\n"
    "seed: 42\n"
    "headers: {User-Agent: tollgate, X-Run: \"{{vu}}\"}\n"
    "auth:\n"
    "  kind: oauth2_client_credentials\n"
    "  token_url: /oauth/token\n"
    "  clients:\n"
    "    - {id: c1, secret: s1}\n"
    "    - {id: c2, secret: s2}\n"
    "  refresh_before: 30s\n"
    "retry:\n"
    "  on: [429, 503, 5xx, connect-error, timeout]\n"
    "  max_attempts: 5\n"
    "  backoff: exponential\n"
    "  base: 200ms\n"
    "  cap: 20s\n"
    "  multiplier: 1.5\n"
    "  jitter: decorrelated\n"
    "  honor_retry_after: true\n"
    "  retry_after_max: 30s\n"
    "  budget: {ratio: 0.2, min_per_s: 10}\n"
    "  retry_non_idempotent: false\n"
    "data: {csv: users.csv, mode: per_vu}\n"
    "thresholds:\n"
    "  - throttled_ratio < 0.01\n"
    "  - p99 < 500ms\n"
    "scenarios:\n"
    "  cv:\n"
    "    executor: constant-vus\n"
    "    vus: 20\n"
    "    duration: 30s\n"
    "    steps:\n"
    "      - {name: ping, path: /ping}\n"
    "  rv:\n"
    "    executor: ramping-vus\n"
    "    start_vus: 2\n"
    "    stages:\n"
    "      - {duration: 10s, target: 10}\n"
    "      - {duration: 5s, target: 0}\n"
    "    graceful_ramp_down: 5s\n"
    "    retry: {max_attempts: 2, backoff: fixed, jitter: none}\n"
    "    steps:\n"
    "      - name: ping\n"
    "        path: ping\n"
    "        retry: {on: [409], jitter: equal}\n"
    "  tg:\n"
    "    executor: thread-group\n"
    "    threads: 150\n"
    "    ramp_up: 60s\n"
    "    loops: 100\n"
    "    duration: 10m\n"
    "    think_time: 500ms\n"
    "    constant_throughput: {rate: 600/min, per: all_active_threads}\n"
    "    retry: off\n"
    "    steps:\n"
    "      - {method: POST, path: \"/login?u={{username}}\", body: \"pw={{password}}\"}\n"
    "  car:\n"
    "    executor: constant-arrival-rate\n"
    "    rate: 2.5/s\n"
    "    duration: 1m\n"
    "    arrivals: poisson\n"
    "    max_in_flight: 50\n"
    "    seed: 7\n"
    "    graceful_stop: 3s\n"
    "    setup:\n"
    "      - {name: create, method: POST, path: /scripts, json: {name: \"load-{{vu}}\"},\n"
    "         capture: {script_id: $.id}}\n"
    "    steps:\n"
    "      - name: get\n"
    "        path: /scripts/{{script_id}}?u={{username}}\n"
    "        headers: {Accept: application/json, user-agent: custom}\n"
    "        expect: [200, 304]\n"
    "        capture: {version: $.version, etag: \"header:ETag\", other: {header: X-Other}}\n"
    "      - name: put\n"
    "        method: PUT\n"
    "        path: /scripts/{{script_id}}\n"
    "        json: {name: s, version: \"{{version}}\", n: 3, f: 1.5, ok: true, nothing: null,\n"
    "               q: \"42\", tags: [a, \"{{etag}}\"], it: \"{{ iteration }}\"}\n"
    "        expect: 2xx\n"
    "        think_time: 100ms\n"
    "        retry: {budget: off, retry_non_idempotent: true, cap: none, retry_after_max: 5s,\n"
    "                honor_retry_after: false, base: 50ms, multiplier: 3, backoff: none}\n"
    "  rar:\n"
    "    executor: ramping-arrival-rate\n"
    "    start_rate: 0/s\n"
    "    stages:\n"
    "      - {duration: 10s, target: 100/s}\n"
    "      - {duration: 30s, target: 0/s}\n"
    "    steps:\n"
    "      - {name: ext, method: DELETE, path: \"https://other.example:8443/x/{{username}}\",\n"
    "         body: \"@body.txt\"}\n";

static void load_full(plan *p)
{
    char path[256];

    write_file("plan.yaml", full_plan);
    snprintf(path, sizeof(path), "%s/plan.yaml", dir);
    err[0] = '\0';
    assert_int_equal(plan_load_file(p, path, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void test_full_top(void **state)
{
    plan p;

    (void)state;
    load_full(&p);
    assert_string_equal(p.name, "full");
    assert_int_equal(p.ntargets, 2);
    assert_string_equal(p.targets[0].host, "127.0.0.1");
    assert_int_equal(p.targets[0].port, 8080);
    assert_string_equal(p.targets[0].path, "/api");
    assert_true(p.targets[1].tls);
    assert_string_equal(p.targets[1].host, "other.example");
    assert_int_equal(p.targets[1].port, 8443);
    assert_true(p.tls_insecure);
    assert_null(p.tls_ca);
    assert_int_equal(p.connect_timeout_ns, 2 * S);
    assert_int_equal(p.response_timeout_ns, 10 * S);
    assert_int_equal(p.threads, 2);
    assert_int_equal(p.seed, 42);
    assert_int_equal(p.auth.kind, PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS);
    assert_string_equal(p.auth.token_url.target, "/api/oauth/token");
    assert_int_equal(p.auth.token_target, 0);
    assert_int_equal(p.auth.nclients, 2);
    assert_string_equal(p.auth.clients[1].id, "c2");
    assert_string_equal(p.auth.clients[1].secret, "s2");
    assert_int_equal(p.auth.refresh_before_ns, 30 * S);
    assert_true(p.has_data);
    assert_int_equal(p.data_mode, PLAN_DATA_PER_VU);
    assert_int_equal(p.data.nrows, 2);
    assert_int_equal(p.nthresholds, 2);
    assert_string_equal(p.thresholds[1].expr, "p99 < 500ms");
    assert_int_equal(p.thresholds[1].limit_ns, 500 * MS);
    assert_int_equal(p.nscenarios, 5);
    assert_int_equal(p.nsteps, 7);
    const char *names[] = {"cv/ping", "rv/ping", "POST /login?u={{username}}", "create", "get",
                           "put",     "ext"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(p.step_names[i], names[i]);
    assert_int_equal(p.scenarios[3].setup[0].index, 3);
    assert_int_equal(p.scenarios[3].steps[1].index, 5);
    assert_int_equal(p.scenarios[4].steps[0].index, 6);
    plan_free(&p);
    assert_null(p.scenarios);
}

static void test_full_executors(void **state)
{
    plan p;
    const plan_scenario *s;

    (void)state;
    load_full(&p);
    s = &p.scenarios[0];
    assert_string_equal(s->name, "cv");
    assert_int_equal(s->executor, PLAN_EXEC_CONSTANT_VUS);
    assert_int_equal(s->vus.max_vus, 20);
    assert_int_equal(s->vus.duration_ns, 30 * S);
    assert_int_equal(sched_vus_target(&s->vus, 29 * S), 20);
    assert_int_equal(s->graceful_stop_ns, 30 * S);
    assert_int_equal(s->seed, 42);
    assert_int_equal(plan_scenario_max_vus(s), 20);

    s = &p.scenarios[1];
    assert_int_equal(s->executor, PLAN_EXEC_RAMPING_VUS);
    assert_int_equal(s->vus.start_vus, 2);
    assert_int_equal(s->vus.nstages, 2);
    assert_int_equal(s->vus.stages[0].target, 10);
    assert_int_equal(s->vus.stages[1].duration_ns, 5 * S);
    assert_int_equal(s->vus.max_vus, 10);
    assert_int_equal(s->graceful_ramp_down_ns, 5 * S);
    assert_int_equal(s->seed, 43);

    s = &p.scenarios[2];
    assert_int_equal(s->executor, PLAN_EXEC_THREAD_GROUP);
    assert_int_equal(s->tg.threads, 150);
    assert_int_equal(s->tg.ramp_up_ns, 60 * S);
    assert_int_equal(s->tg.loops, 100);
    assert_int_equal(s->tg.duration_ns, 600 * S);
    assert_int_equal(s->tg.think_time_ns, 500 * MS);
    assert_int_equal(s->tg.ctt.rate.count, 600);
    assert_int_equal(s->tg.ctt.rate.period_ns, 60 * S);
    assert_int_equal(s->tg.ctt.per, SCHED_CTT_ALL_ACTIVE_THREADS);
    assert_int_equal(sched_tg_start(&s->tg, 149), 59600 * MS);

    s = &p.scenarios[3];
    assert_int_equal(s->executor, PLAN_EXEC_CONSTANT_ARRIVAL_RATE);
    assert_int_equal(s->rate.count, 5);
    assert_int_equal(s->rate.period_ns, 2 * S);
    assert_int_equal(s->duration_ns, 60 * S);
    assert_int_equal(s->arrivals, SCHED_ARRIVALS_POISSON);
    assert_int_equal(s->max_in_flight, 50);
    assert_int_equal(s->seed, 7);
    assert_int_equal(s->graceful_stop_ns, 3 * S);
    assert_int_equal(plan_scenario_max_vus(s), 50);

    s = &p.scenarios[4];
    assert_int_equal(s->executor, PLAN_EXEC_RAMPING_ARRIVAL_RATE);
    assert_int_equal(s->start_rate.count, 0);
    assert_int_equal(s->nstages, 2);
    assert_int_equal(s->stages[0].target.count, 100);
    assert_int_equal(s->stages[0].target.period_ns, S);
    assert_int_equal(s->stages[1].target.count, 0);
    assert_int_equal(s->stages[1].duration_ns, 30 * S);
    assert_int_equal(s->arrivals, SCHED_ARRIVALS_UNIFORM);
    assert_int_equal(s->max_in_flight, PLAN_DEFAULT_IN_FLIGHT);
    assert_int_equal(s->seed, 46);
    {
        sched_arrivals it;
        char msg[128];

        assert_int_equal(plan_scenario_arrivals_init(s, &it, msg, sizeof(msg)), 0);
        /* N(t) = 5 t^2 over the first stage: arrival 5 at 1 s. */
        for (int i = 0; i < 5; i++)
            sched_next_arrival(&it);
        assert_true(llabs((long long)sched_next_arrival(&it) - (long long)S) <= 1);
        sched_arrivals_free(&it);
        assert_int_equal(plan_scenario_arrivals_init(&p.scenarios[0], &it, msg, sizeof(msg)),
                         -EINVAL);
    }
    plan_free(&p);
}

static void assert_on(const retry_policy *r, const int *statuses, size_t n, unsigned errors)
{
    size_t seen = 0;

    for (int s = 0; s <= RETRY_STATUS_MAX; s++) {
        if (retry_policy_on_status(r, s)) {
            assert_true(seen < n);
            assert_int_equal(s, statuses[seen]);
            seen++;
        }
    }
    assert_int_equal(seen, n);
    assert_int_equal(r->on_errors, errors);
}

static void test_full_retry(void **state)
{
    int on409[] = {409}, plan_on[101];
    retry_policy want;
    plan p;
    const retry_policy *r;

    (void)state;
    plan_on[0] = 429;
    for (int i = 0; i < 100; i++)
        plan_on[1 + i] = 500 + i; /* 503 is in 5xx */
    load_full(&p);

    r = &p.retry;
    assert_on(r, plan_on, 101, RETRY_ON_CONNECT_ERROR | RETRY_ON_TIMEOUT);
    assert_int_equal(r->max_attempts, 5);
    assert_int_equal(r->backoff.kind, BACKOFF_EXPONENTIAL);
    assert_int_equal(r->backoff.base_ns, 200 * MS);
    assert_int_equal(r->backoff.cap_ns, 20 * S);
    assert_int_equal(r->backoff.multiplier, 1500);
    assert_int_equal(r->backoff.jitter, BACKOFF_JITTER_DECORRELATED);
    assert_true(r->honor_retry_after);
    assert_int_equal(r->retry_after_max_ns, 30 * S);
    assert_true(r->budget);
    assert_int_equal(r->budget_ratio, 200000);
    assert_int_equal(r->budget_min_per_s, 10);
    assert_false(r->retry_non_idempotent);

    /* cv inherits the plan's policy unchanged, down to its step. */
    assert_memory_equal(&p.scenarios[0].retry, &p.retry, sizeof(retry_policy));
    assert_memory_equal(&p.scenarios[0].steps[0].retry, &p.retry, sizeof(retry_policy));

    /* rv: scenario overrides three options; its step two more. */
    want = p.retry;
    want.max_attempts = 2;
    want.backoff.kind = BACKOFF_FIXED;
    want.backoff.jitter = BACKOFF_JITTER_NONE;
    assert_memory_equal(&p.scenarios[1].retry, &want, sizeof(want));
    r = &p.scenarios[1].steps[0].retry;
    assert_on(r, on409, 1, 0);
    assert_int_equal(r->backoff.jitter, BACKOFF_JITTER_EQUAL);
    assert_int_equal(r->max_attempts, 2);
    assert_int_equal(r->backoff.kind, BACKOFF_FIXED);
    assert_int_equal(r->backoff.base_ns, 200 * MS);
    assert_true(r->budget);

    /* tg: retry off keeps the options but makes one attempt. */
    want = p.retry;
    want.max_attempts = 1;
    assert_memory_equal(&p.scenarios[2].retry, &want, sizeof(want));

    /* car/put: every remaining option at step level. */
    r = &p.scenarios[3].steps[1].retry;
    assert_int_equal(r->max_attempts, 5);
    assert_false(r->budget);
    assert_true(r->retry_non_idempotent);
    assert_int_equal(r->backoff.cap_ns, BACKOFF_NO_CAP);
    assert_int_equal(r->retry_after_max_ns, 5 * S);
    assert_false(r->honor_retry_after);
    assert_int_equal(r->backoff.base_ns, 50 * MS);
    assert_int_equal(r->backoff.multiplier, 3000);
    assert_int_equal(r->backoff.kind, BACKOFF_NONE);
    assert_memory_equal(&p.scenarios[3].steps[0].retry, &p.retry, sizeof(retry_policy));
    plan_free(&p);
}

static void test_full_steps(void **state)
{
    const char *const vars[] = {"username", "alice", "password", "pw1",     "script_id", "S1",
                                "version",  "7",     "etag",     "W/\"x\"", NULL};
    const char *const vars2[] = {"version", "v7", "etag", "e", NULL};
    const plan_step *st;
    char path[256];
    plan p;

    (void)state;
    load_full(&p);
    st = &p.scenarios[0].steps[0];
    assert_string_equal(st->method, "GET");
    assert_true(st->idempotent);
    assert_string_equal(render(&st->path, NULL, vars), "/api/ping");
    assert_string_equal(render(&p.scenarios[1].steps[0].path, NULL, vars), "/api/ping");
    assert_int_equal(st->body_kind, PLAN_BODY_NONE);
    assert_true(plan_step_expects(st, 200));
    assert_true(plan_step_expects(st, 399));
    assert_false(plan_step_expects(st, 400));
    assert_false(plan_step_expects(st, 199));
    assert_int_equal(st->nheaders, 2);
    assert_string_equal(st->headers[0].name, "User-Agent");
    assert_string_equal(st->headers[1].name, "X-Run");
    assert_string_equal(render(&st->headers[1].value, NULL, vars), "3");

    st = &p.scenarios[2].steps[0];
    assert_string_equal(st->method, "POST");
    assert_false(st->idempotent);
    assert_int_equal(st->body_kind, PLAN_BODY_RAW);
    assert_string_equal(render(&st->body, NULL, vars), "pw=pw1");
    assert_string_equal(render(&st->path, NULL, vars), "/api/login?u=alice");

    st = &p.scenarios[3].setup[0];
    assert_int_equal(st->body_kind, PLAN_BODY_JSON);
    assert_string_equal(render(NULL, &st->json, vars), "{\"name\":\"load-3\"}");
    assert_int_equal(st->ncaptures, 1);
    assert_string_equal(st->captures[0].var, "script_id");
    assert_int_equal(st->captures[0].cap.kind, CAPTURE_JSON);

    st = &p.scenarios[3].steps[0];
    assert_string_equal(render(&st->path, NULL, vars), "/api/scripts/S1?u=alice");
    assert_int_equal(st->nheaders, 3);
    assert_string_equal(st->headers[0].name, "X-Run");
    assert_string_equal(st->headers[1].name, "Accept");
    assert_string_equal(st->headers[2].name, "user-agent");
    assert_string_equal(render(&st->headers[2].value, NULL, vars), "custom");
    assert_true(plan_step_expects(st, 200));
    assert_true(plan_step_expects(st, 304));
    assert_false(plan_step_expects(st, 201));
    assert_int_equal(st->ncaptures, 3);
    assert_int_equal(st->captures[1].cap.kind, CAPTURE_HEADER);
    assert_string_equal(st->captures[1].cap.text, "ETag");
    assert_int_equal(st->captures[2].cap.kind, CAPTURE_HEADER);
    assert_string_equal(st->captures[2].cap.text, "X-Other");

    st = &p.scenarios[3].steps[1];
    assert_string_equal(st->method, "PUT");
    assert_string_equal(render(NULL, &st->json, vars),
                        "{\"name\":\"s\",\"version\":7,\"n\":3,\"f\":1.5,\"ok\":true,"
                        "\"nothing\":null,\"q\":\"42\",\"tags\":[\"a\",\"W/\\\"x\\\"\"],\"it\":9}");
    assert_string_equal(render(NULL, &st->json, vars2),
                        "{\"name\":\"s\",\"version\":\"v7\",\"n\":3,\"f\":1.5,\"ok\":true,"
                        "\"nothing\":null,\"q\":\"42\",\"tags\":[\"a\",\"e\"],\"it\":9}");
    assert_int_equal(st->nheaders, 3);
    assert_string_equal(st->headers[2].name, "Content-Type");
    assert_string_equal(render(&st->headers[2].value, NULL, vars), "application/json");
    assert_true(plan_step_expects(st, 299));
    assert_false(plan_step_expects(st, 300));
    assert_int_equal(st->think_time_ns, 100 * MS);

    st = &p.scenarios[4].steps[0];
    assert_int_equal(st->target, 1);
    assert_string_equal(render(&st->path, NULL, vars), "/x/alice");
    assert_int_equal(st->body_kind, PLAN_BODY_FILE);
    snprintf(path, sizeof(path), "%s/body.txt", dir);
    assert_string_equal(st->body_file, path);
    assert_string_equal(render(&st->body, NULL, vars), "name=alice\n");
    assert_true(st->idempotent);
    plan_free(&p);
}

/* JSON strings are escaped; control characters as \u00XX. */
static void test_json_escape(void **state)
{
    const char *const vars[] = {"v", "a\"b\\c\n\x01", "n", "-12", "z", "012", NULL};
    plan p;
    const char *text = "target: http://h\nscenarios:\n  s:\n    executor: constant-vus\n"
                       "    vus: 1\n    duration: 1s\n    steps:\n"
                       "      - path: /\n        data: x\n";
    const char *text2 = "target: http://h\ndata: {csv: users.csv}\nscenarios:\n  s:\n"
                        "    executor: constant-vus\n    vus: 1\n    duration: 1s\n    steps:\n"
                        "      - path: /\n        json: {a: \"{{username}}\", \"k\\\"\": [+5, "
                        "\"x{{username}}\", 1e3, .5, ~, \"\"]}\n";

    (void)state;
    (void)vars;
    assert_int_equal(plan_load_string(&p, "plan.yaml", dir, text, strlen(text), err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(
        err,
        "plan.yaml:9:9: unknown key 'data', expected one of: name, method, "
        "path, headers, json, body, expect, capture, retry, think_time (did you mean 'path'?)");
    assert_int_equal(plan_load_string(&p, "plan.yaml", dir, text2, strlen(text2), err, sizeof(err)),
                     0);
    {
        const char *const v1[] = {"username", "a\"b\\c\n\x01", NULL};
        const char *const v2[] = {"username", "-12", NULL};
        const char *const v3[] = {"username", "012", NULL};
        const plan_json *j = &p.scenarios[0].steps[0].json;

        assert_string_equal(render(NULL, j, v1),
                            "{\"a\":\"a\\\"b\\\\c\\n\\u0001\",\"k\\\"\":[5,\"xa\\\"b\\\\c\\n"
                            "\\u0001\",1e3,\".5\",null,\"\"]}");
        assert_string_equal(render(NULL, j, v2),
                            "{\"a\":-12,\"k\\\"\":[5,\"x-12\",1e3,\".5\",null,\"\"]}");
        assert_string_equal(render(NULL, j, v3),
                            "{\"a\":\"012\",\"k\\\"\":[5,\"x012\",1e3,\".5\",null,\"\"]}");
    }
    plan_free(&p);
}

/* Loads text as plan.yaml from the fixtures directory; expects failure with `want`. */
static void fails(const char *text, const char *want)
{
    plan p;

    err[0] = '\0';
    if (plan_load_string(&p, "plan.yaml", dir, text, strlen(text), err, sizeof(err)) != -EINVAL)
        fail_msg("%s\nloaded or failed otherwise: %s", text, err);
    assert_string_equal(err, want);
    assert_null(p.scenarios);
}

#define HEAD "target: http://127.0.0.1:8080\nscenarios:\n  s:\n"
#define CV   HEAD "    executor: constant-vus\n    vus: 2\n    duration: 5s\n"

static void test_errors_values(void **state)
{
    (void)state;
    fails(HEAD "    executor: constant-arrival-rate\n    rate: 50 per s\n    duration: 1s\n"
               "    steps: [{path: /}]\n",
          "plan.yaml:5:11: rate: \"50 per s\": expected N/unit (e.g. 50/s, 300/min)");
    fails("target: http://h\nscenarioz: {}\n",
          "plan.yaml:2:1: unknown key 'scenarioz', expected one of: name, target, tls, timeouts, "
          "threads, seed, headers, auth, retry, data, thresholds, scenarios (did you mean "
          "'scenarios'?)");
    fails("target: ftp://h\nscenarios: {}\n",
          "plan.yaml:1:9: target: \"ftp://h\": unknown scheme 'ftp', expected http or https");
    fails("scenarios: {}\n", "plan.yaml:1:1: missing key 'target'");
    fails("target: http://h\nscenarios: {}\n",
          "plan.yaml:2:12: scenarios: expected a mapping of scenario names to scenarios");
    fails(HEAD "    executor: constant-vu\n",
          "plan.yaml:4:15: executor: \"constant-vu\": expected one of: constant-vus, ramping-vus, "
          "thread-group, constant-arrival-rate, ramping-arrival-rate (did you mean "
          "'constant-vus'?)");
    fails(HEAD "    executor: constant-vus\n    vus: 2\n    rate: 5/s\n    duration: 1s\n",
          "plan.yaml:6:5: rate: not an option of executor constant-vus, which takes: executor, "
          "steps, setup, retry, graceful_stop, seed, vus, duration");
    fails(HEAD "    executor: thread-group\n    threads: 2\n    stages: []\n",
          "plan.yaml:6:5: stages: not an option of executor thread-group, which takes: executor, "
          "steps, setup, retry, graceful_stop, seed, threads, ramp_up, loops, duration, "
          "think_time, constant_throughput");
    fails(HEAD "    executor: constant-vus\n    vus: 2\n    steps: [{path: /}]\n",
          "plan.yaml:4:5: missing key 'duration'");
    fails(HEAD "    executor: constant-arrival-rate\n    duration: 10s\n    steps: [{path: /}]\n",
          "plan.yaml:4:5: missing key 'rate'");
    fails(HEAD "    executor: constant-vus\n    vus: 0\n    duration: 1s\n",
          "plan.yaml:5:10: vus: \"0\": out of range, expected an integer from 1 to 1000000");
    fails(HEAD "    executor: ramping-vus\n    stages: [{duration: 1s}]\n",
          "plan.yaml:5:14: missing key 'target'");
    fails(HEAD "    executor: ramping-arrival-rate\n    stages: [{duration: 1s, target: 0/s}]\n"
               "    steps: [{path: /}]\n",
          "plan.yaml:4:5: ramping-arrival-rate: no arrivals (every rate is zero or every stage is "
          "empty)");
    fails(CV "    steps: []\n", "plan.yaml:7:12: steps: expected a list of steps");
    fails(CV "    steps: [{path: /, hedaers: {}}]\n",
          "plan.yaml:7:23: unknown key 'hedaers', expected one of: name, method, path, headers, "
          "json, body, expect, capture, retry, think_time (did you mean 'headers'?)");
    fails(CV "    steps: [{path: /, method: get}]\n",
          "plan.yaml:7:31: method: \"get\": methods are case-sensitive (did you mean 'GET'?)");
    fails(CV "    steps: [{path: /, body: x, json: {}}]\n",
          "plan.yaml:7:29: body: a step has either json or body, not both");
    fails(CV "    steps: [{name: a, path: /}, {name: a, path: /x}]\n",
          "plan.yaml:7:33: step name 'a' is used twice in scenario 's'; give each step its own "
          "name");
    fails(CV "    steps: [{path: /, expect: [200, 2xy]}]\n",
          "plan.yaml:7:37: expect: \"2xy\": expected a status 100-599 or a class 1xx-5xx");
    fails(CV "    steps: [{path: /, capture: {id: \"$.items[*].id\"}}]\n",
          "plan.yaml:7:37: id: \"$.items[*].id\": wildcards are not supported, use an index such "
          "as [0] (column 9)");
    fails(CV "    steps: [{path: /, capture: {vu: $.id}}]\n",
          "plan.yaml:7:33: capture: 'vu' is a built-in variable, choose another name");
    fails("target: http://h/api/v2\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n"
          "    duration: 5s\n    steps: [{path: \"/{{random_float(1,2)}}\"}]\n",
          "plan.yaml:7:20: path: column 2: unknown function 'random_float', expected "
          "random_int(a,b)");
    fails(CV "    steps: [{path: \"https://{{host}}/x\"}]\n",
          "plan.yaml:7:20: path: \"https://{{host}}/x\": the scheme, host and port of a URL "
          "cannot be templated");
}

static void test_errors_files(void **state)
{
    char want[512];

    (void)state;
    snprintf(want, sizeof(want),
             "plan.yaml:7:29: body: cannot read '%s/missing.txt': No such file or directory", dir);
    fails(CV "    steps: [{path: /, body: \"@missing.txt\"}]\n", want);
    snprintf(want, sizeof(want), "plan.yaml:2:13: csv: %s/nope.csv: No such file or directory",
             dir);
    fails("target: http://h\ndata: {csv: nope.csv}\nscenarios: {}\n", want);
    snprintf(want, sizeof(want),
             "plan.yaml:2:11: ca: cannot read '%s/ca.pem': No such file or "
             "directory",
             dir);
    fails("target: http://h\ntls: {ca: ca.pem}\nscenarios: {}\n", want);
}

static void test_errors_other(void **state)
{
    (void)state;
    fails("target: http://h\nthresholds: [p99 < 500 sec]\nscenarios: {}\n",
          "plan.yaml:2:14: thresholds[0]: \"p99 < 500 sec\": unknown unit 'sec', expected ms, s, "
          "m or h");
    fails("target: http://h\ntimeouts: {connect: 0}\nscenarios: {}\n",
          "plan.yaml:2:21: connect: \"0\": expected a duration above 0");
}

static void test_errors_retry(void **state)
{
    (void)state;
    fails("target: http://h\nretry: {max_attempts: 0}\nscenarios: {}\n",
          "plan.yaml:2:23: max_attempts: \"0\": expected an integer from 1 to 1000");
    fails("target: http://h\nretry: {max_attempts: 3, on: [429, 42]}\nscenarios: {}\n",
          "plan.yaml:2:36: on: \"42\": expected a status 100-599, 4xx, 5xx, connect-error or "
          "timeout");
    fails("target: http://h\nretry: {on: [429]}\nscenarios: {}\n",
          "plan.yaml:2:8: retry: max_attempts is missing, and without it a request makes 1 "
          "attempt (no retries)");
    fails("target: http://h\nretry: {max_attempts: 3, tries: 2}\nscenarios: {}\n",
          "plan.yaml:2:26: unknown key 'tries', expected one of: on, max_attempts, backoff, base, "
          "cap, multiplier, jitter, honor_retry_after, retry_after_max, budget, "
          "retry_non_idempotent, restart_from");
    fails("target: http://h\nretry: {max_attempts: 3, base: 20s}\nscenarios: {}\n",
          "plan.yaml:2:8: retry: base 20s is larger than cap 10s");
    fails("target: http://h\nretry: {max_attempts: 3, budget: {ratio: 2x}}\nscenarios: {}\n",
          "plan.yaml:2:42: budget.ratio: \"2x\": expected a ratio from 0 to 100 such as 0.2 or "
          "20%");
    fails("target: http://h\nretry: {max_attempts: 3, jitter: ful}\nscenarios: {}\n",
          "plan.yaml:2:34: jitter: \"ful\": expected none, full, equal or decorrelated");
    fails("target: http://h\nretry: sometimes\nscenarios: {}\n",
          "plan.yaml:2:8: retry: \"sometimes\": expected a mapping of retry options, or off");
}

/* `retry: {restart_from: STEP}` names an earlier step of the same list;
 * anything else is refused at load time with the value's position. */
static void test_restart_from(void **state)
{
    const char *ok = CV "    setup:\n"
                        "      - {name: login, path: /login}\n"
                        "      - {name: again, path: /again, retry: {max_attempts: 2, "
                        "restart_from: login}}\n"
                        "    steps:\n"
                        "      - {name: get, path: /s, capture: {version: $.version}}\n"
                        "      - {name: other, path: /o}\n"
                        "      - name: put\n"
                        "        method: PUT\n"
                        "        path: /s\n"
                        "        json: {version: \"{{version}}\"}\n"
                        "        retry: {on: [409, 429], max_attempts: 4, restart_from: get}\n"
                        "      - {name: last, path: /l, retry: {max_attempts: 2}}\n";
    plan p;

    (void)state;
    assert_int_equal(plan_load_string(&p, "plan.yaml", dir, ok, strlen(ok), err, sizeof(err)), 0);
    assert_true(p.scenarios[0].setup[1].restart);
    assert_int_equal(p.scenarios[0].setup[1].restart_from, 0);
    assert_false(p.scenarios[0].steps[0].restart);
    assert_false(p.scenarios[0].steps[1].restart);
    assert_true(p.scenarios[0].steps[2].restart);
    assert_int_equal(p.scenarios[0].steps[2].restart_from, 0);
    assert_int_equal(p.scenarios[0].steps[2].retry.max_attempts, 4);
    assert_true(retry_policy_on_status(&p.scenarios[0].steps[2].retry, 409));
    assert_false(p.scenarios[0].steps[3].restart);
    plan_free(&p);

    fails(CV "    steps:\n"
             "      - {name: get, path: /s}\n"
             "      - {name: put, path: /s, retry: {max_attempts: 3, restart_from: gett}}\n",
          "plan.yaml:9:70: restart_from: \"gett\": no earlier step of scenario 's' has that "
          "name");
    fails(CV "    steps:\n"
             "      - {name: put, path: /s, retry: {max_attempts: 3, restart_from: get}}\n"
             "      - {name: get, path: /s}\n",
          "plan.yaml:8:70: restart_from: \"get\" comes after step 'put'; a retry can only go "
          "back to an earlier step");
    fails(CV "    steps:\n"
             "      - {name: put, path: /s, retry: {max_attempts: 3, restart_from: put}}\n",
          "plan.yaml:8:70: restart_from: \"put\" is this step; name an earlier step of scenario "
          "'s' (a plain retry sends this step again)");
    fails(CV "    setup: [{name: login, path: /login}]\n"
             "    steps:\n"
             "      - {name: put, path: /s, retry: {max_attempts: 3, restart_from: login}}\n",
          "plan.yaml:9:70: restart_from: \"login\" is in the scenario's setup; a step can only "
          "restart from an earlier step of its own list (steps)");
    fails(CV "    steps:\n"
             "      - {name: get, path: /s}\n"
             "      - {name: put, path: /s, retry: {max_attempts: 3, restart_from: [get]}}\n",
          "plan.yaml:9:70: restart_from: expected the name of an earlier step");
    fails("target: http://h\nretry: {max_attempts: 3, restart_from: get}\nscenarios: {}\n",
          "plan.yaml:2:40: restart_from: only a step's retry section can name a step to restart "
          "from");
    fails(CV "    retry: {max_attempts: 3, restart_from: get}\n"
             "    steps: [{name: get, path: /s}]\n",
          "plan.yaml:7:44: restart_from: only a step's retry section can name a step to restart "
          "from");
    /* A section that cannot retry cannot restart either. */
    fails(CV "    steps:\n"
             "      - {name: get, path: /s}\n"
             "      - {name: put, path: /s, retry: {restart_from: get}}\n",
          "plan.yaml:9:38: retry: max_attempts is missing, and without it a request makes 1 "
          "attempt (no retries)");
}

static void test_template_vars(void **state)
{
    (void)state;
    /* A capture of a later step is not available. */
    fails(CV "    steps:\n"
             "      - name: put\n"
             "        method: PUT\n"
             "        path: /scripts/{{version}}\n"
             "      - {name: get, path: /s, capture: {version: $.version}}\n",
          "plan.yaml:10:15: path: step 'put' uses '{{version}}', which no earlier step captures "
          "and there is no data file");
    fails("target: http://h\ndata: {csv: users.csv}\nscenarios:\n  s:\n"
          "    executor: constant-vus\n    vus: 1\n    duration: 1s\n"
          "    steps:\n"
          "      - {name: a, path: /, headers: {X-U: \"{{username}}-{{usr}}\"}}\n",
          "plan.yaml:9:43: X-U: step 'a' uses '{{usr}}', which no earlier step captures and the "
          "data file does not provide");
    fails(CV "    steps:\n      - {name: a, path: /, json: {x: [1, \"{{id}}\"]}}\n",
          "plan.yaml:8:42: json: step 'a' uses '{{id}}', which no earlier step captures and "
          "there is no data file");
    fails(CV "    steps:\n      - {name: a, path: /, body: \"id={{id}}\"}\n",
          "plan.yaml:8:34: body: step 'a' uses '{{id}}', which no earlier step captures and "
          "there is no data file");
    /* The plan's default headers are checked for each step. */
    fails("target: http://h\nheaders: {Authorization: \"Bearer {{tok}}\"}\nscenarios:\n  s:\n"
          "    executor: constant-vus\n    vus: 1\n    duration: 1s\n"
          "    steps:\n      - {name: a, path: /}\n",
          "plan.yaml:2:26: Authorization: step 'a' uses '{{tok}}', which no earlier step "
          "captures and there is no data file");
    /* The same step may not use its own capture; setup captures and feeder
     * columns are available; built-ins always are. */
    fails(CV "    steps:\n      - {name: a, path: \"/{{id}}\", capture: {id: $.id}}\n",
          "plan.yaml:8:25: path: step 'a' uses '{{id}}', which no earlier step captures and "
          "there is no data file");
    {
        const char *ok = "target: http://h\ndata: {csv: users.csv}\nscenarios:\n  s:\n"
                         "    executor: constant-vus\n    vus: 1\n    duration: 1s\n"
                         "    setup: [{path: /login, capture: {tok: $.t}}]\n"
                         "    steps:\n"
                         "      - {path: \"/{{tok}}/{{username}}/{{uuid}}/{{vu}}/{{iteration}}/"
                         "{{now_ms}}/{{random_int(1,9)}}\", capture: {v: $.v}}\n"
                         "      - {path: \"/{{v}}\"}\n";
        plan p;

        assert_int_equal(plan_load_string(&p, "plan.yaml", dir, ok, strlen(ok), err, sizeof(err)),
                         0);
        assert_int_equal(p.scenarios[0].nsetup, 1);
        assert_string_equal(p.step_names[0], "GET /login");
        assert_string_equal(p.step_names[2], "GET /{{v}}");
        plan_free(&p);
    }
}

/* Every file in plans/examples/ loads (the tests run from the source root). */
static void test_examples(void **state)
{
    DIR *d = opendir("plans/examples");
    struct dirent *e;
    size_t loaded = 0;
    char path[512];
    plan p;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);

        if (n < 5 || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        snprintf(path, sizeof(path), "plans/examples/%s", e->d_name);
        err[0] = '\0';
        if (plan_load_file(&p, path, err, sizeof(err)) != 0)
            fail_msg("%s: %s", path, err);
        assert_true(p.nscenarios >= 1);
        plan_free(&p);
        loaded++;
    }
    closedir(d);
    assert_true(loaded >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_top),      cmocka_unit_test(test_full_executors),
        cmocka_unit_test(test_full_retry),    cmocka_unit_test(test_full_steps),
        cmocka_unit_test(test_json_escape),   cmocka_unit_test(test_errors_values),
        cmocka_unit_test(test_errors_other),  cmocka_unit_test(test_errors_files),
        cmocka_unit_test(test_errors_retry),  cmocka_unit_test(test_restart_from),
        cmocka_unit_test(test_template_vars), cmocka_unit_test(test_examples),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
