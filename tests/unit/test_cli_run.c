#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/cli_run.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

static char err[512];
static run_options opts;
static plan p;

/* Parses a NULL-terminated list of arguments after "run". */
#define PARSE(...) parse((const char *[]){"run", __VA_ARGS__, NULL})

static int parse(const char **args)
{
    int argc = 0;

    while (args[argc] != NULL)
        argc++;
    err[0] = '\0';
    return run_cli_parse(argc, (char **)args, &opts, &p, err, sizeof(err));
}

static const char *render(const tmpl *t)
{
    static char out[256];
    tmpl_ctx ctx = {.iteration = 7, .vu = 2};
    char msg[128];
    rng r;
    buf b;

    rng_seed(&r, 1);
    ctx.rng = &r;
    buf_init(&b, 0);
    assert_int_equal(tmpl_render(t, &ctx, &b, msg, sizeof(msg)), 0);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, buf_ptr(&b));
    buf_free(&b);
    return out;
}

static void test_quick_rate(void **state)
{
    const plan_scenario *s;
    const plan_step *st;
    retry_policy one;

    (void)state;
    assert_int_equal(
        PARSE("--url", "http://127.0.0.1:8080/api/x?y=1", "--rate", "50/s", "--duration", "30s"),
        0);
    assert_string_equal(err, "");
    assert_null(opts.plan_path);
    assert_null(opts.json_path);
    assert_false(opts.quiet);
    assert_false(opts.help);
    assert_string_equal(p.name, "--url http://127.0.0.1:8080/api/x?y=1");
    assert_int_equal(p.ntargets, 1);
    assert_string_equal(p.targets[0].host, "127.0.0.1");
    assert_int_equal(p.targets[0].port, 8080);
    assert_string_equal(p.targets[0].path, "/");
    assert_false(p.targets[0].tls);
    assert_int_equal(p.connect_timeout_ns, PLAN_DEFAULT_CONNECT);
    assert_int_equal(p.response_timeout_ns, PLAN_DEFAULT_RESPONSE);
    assert_int_equal(p.threads, 0);
    assert_int_equal(p.nscenarios, 1);
    s = &p.scenarios[0];
    assert_string_equal(s->name, "default");
    assert_int_equal(s->executor, PLAN_EXEC_CONSTANT_ARRIVAL_RATE);
    assert_int_equal(s->rate.count, 50);
    assert_int_equal(s->rate.period_ns, S);
    assert_int_equal(s->duration_ns, 30 * S);
    assert_int_equal(s->arrivals, SCHED_ARRIVALS_UNIFORM);
    assert_int_equal(s->max_in_flight, PLAN_DEFAULT_IN_FLIGHT);
    assert_int_equal(s->graceful_stop_ns, PLAN_DEFAULT_GRACEFUL);
    assert_int_equal(s->nsetup, 0);
    assert_int_equal(s->nsteps, 1);
    st = &s->steps[0];
    assert_string_equal(st->method, "GET");
    assert_true(st->idempotent);
    assert_string_equal(st->name, "GET /api/x?y=1");
    assert_string_equal(render(&st->path), "/api/x?y=1");
    assert_int_equal(st->target, 0);
    assert_int_equal(st->body_kind, PLAN_BODY_NONE);
    assert_int_equal(st->nheaders, 0);
    assert_true(plan_step_expects(st, 302));
    assert_false(plan_step_expects(st, 429));
    retry_policy_default(&one, 1);
    assert_memory_equal(&p.retry, &one, sizeof(one));
    assert_memory_equal(&st->retry, &one, sizeof(one));
    assert_int_equal(p.nsteps, 1);
    assert_int_equal(st->index, 0);
    assert_string_equal(p.step_names[0], "GET /api/x?y=1");
    plan_free(&p);

    assert_int_equal(
        PARSE("--url=https://example.com", "--rate=2.5/s", "--duration=1m", "--max-in-flight", "7"),
        0);
    assert_true(p.targets[0].tls);
    assert_int_equal(p.targets[0].port, 443);
    assert_int_equal(p.scenarios[0].rate.count, 5);
    assert_int_equal(p.scenarios[0].rate.period_ns, 2 * S);
    assert_int_equal(p.scenarios[0].max_in_flight, 7);
    assert_string_equal(render(&p.scenarios[0].steps[0].path), "/");
    plan_free(&p);
}

static void test_quick_vus(void **state)
{
    const plan_scenario *s;

    (void)state;
    assert_int_equal(PARSE("--vus", "20", "--duration", "1m", "--url", "http://h/"), 0);
    s = &p.scenarios[0];
    assert_int_equal(s->executor, PLAN_EXEC_CONSTANT_VUS);
    assert_int_equal(s->vus.max_vus, 20);
    assert_int_equal(s->vus.duration_ns, 60 * S);
    assert_int_equal(sched_vus_target(&s->vus, 0), 20);
    assert_int_equal(sched_vus_target(&s->vus, 60 * S), 0);
    assert_int_equal(plan_scenario_max_vus(s), 20);
    plan_free(&p);

    assert_int_equal(
        PARSE("--url", "http://h/", "--vus", "20", "--ramp-up", "60s", "--duration", "30s"), 0);
    s = &p.scenarios[0];
    assert_int_equal(s->executor, PLAN_EXEC_THREAD_GROUP);
    assert_int_equal(s->tg.threads, 20);
    assert_int_equal(s->tg.ramp_up_ns, 60 * S);
    assert_int_equal(s->tg.duration_ns, 30 * S);
    assert_int_equal(s->tg.loops, 0);
    assert_int_equal(s->tg.think_time_ns, 0);
    assert_int_equal(s->tg.ctt.rate.count, 0);
    assert_int_equal(sched_tg_start(&s->tg, 10), 30 * S);
    assert_int_equal(plan_scenario_max_vus(s), 20);
    plan_free(&p);
}

static void test_quick_retry(void **state)
{
    retry_policy want;

    (void)state;
    assert_int_equal(
        PARSE("--url", "http://h/", "--rate", "5/s", "--duration", "5s", "--retry", "4"), 0);
    retry_policy_default(&want, 4);
    assert_int_equal(want.max_attempts, 4);
    assert_memory_equal(&p.retry, &want, sizeof(want));
    assert_memory_equal(&p.scenarios[0].retry, &want, sizeof(want));
    assert_memory_equal(&p.scenarios[0].steps[0].retry, &want, sizeof(want));
    assert_true(retry_policy_on_status(&p.retry, 429));
    assert_true(retry_policy_on_status(&p.retry, 503));
    assert_int_equal(p.retry.backoff.base_ns, 100 * MS);
    assert_int_equal(p.retry.backoff.cap_ns, 10 * S);
    assert_int_equal(p.retry.backoff.jitter, BACKOFF_JITTER_FULL);
    plan_free(&p);
}

static void test_quick_request(void **state)
{
    const plan_step *st;
    char path[] = "/tmp/test_cli_run.XXXXXX", arg[64];
    int fd;

    (void)state;
    assert_int_equal(PARSE("--url", "http://h/items/{{vu}}", "-X", "PUT", "-H",
                           "Accept: application/json", "-HX-Id:{{uuid}}", "--header",
                           "X-It:  {{iteration}}", "--body", "n={{iteration}}", "--vus", "1",
                           "--duration", "1s"),
                     0);
    st = &p.scenarios[0].steps[0];
    assert_string_equal(st->method, "PUT");
    assert_string_equal(st->name, "PUT /items/{{vu}}");
    assert_string_equal(render(&st->path), "/items/2");
    assert_int_equal(st->nheaders, 3);
    assert_string_equal(st->headers[0].name, "Accept");
    assert_string_equal(render(&st->headers[0].value), "application/json");
    assert_string_equal(st->headers[1].name, "X-Id");
    assert_int_equal(strlen(render(&st->headers[1].value)), 36);
    assert_string_equal(st->headers[2].name, "X-It");
    assert_string_equal(render(&st->headers[2].value), "7");
    assert_int_equal(st->body_kind, PLAN_BODY_RAW);
    assert_string_equal(render(&st->body), "n=7");
    plan_free(&p);

    /* --body without -X is a POST; @FILE reads the file. */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"vu\": {{vu}}}", 14), 14);
    close(fd);
    snprintf(arg, sizeof(arg), "@%s", path);
    assert_int_equal(PARSE("--url", "http://h/", "--body", arg, "--vus", "1", "--duration", "1s"),
                     0);
    st = &p.scenarios[0].steps[0];
    assert_string_equal(st->method, "POST");
    assert_false(st->idempotent);
    assert_int_equal(st->body_kind, PLAN_BODY_FILE);
    assert_string_equal(st->body_file, path);
    assert_string_equal(render(&st->body), "{\"vu\": 2}");
    plan_free(&p);
    unlink(path);
}

static void test_output_flags(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--url", "http://h/", "--rate", "1/s", "--duration", "1s", "--json",
                           "r.json", "--jtl", "r.jtl", "--latency", "-q", "--threads", "4", "-k",
                           "--threshold", "p99 < 500ms", "--threshold", "throttled_ratio < 1%"),
                     0);
    assert_string_equal(opts.json_path, "r.json");
    assert_string_equal(opts.jtl_path, "r.jtl");
    assert_true(opts.latency);
    assert_true(opts.quiet);
    assert_int_equal(p.threads, 4);
    assert_true(p.tls_insecure);
    assert_int_equal(p.nthresholds, 2);
    assert_string_equal(p.thresholds[0].expr, "p99 < 500ms");
    assert_int_equal(p.thresholds[0].limit_ns, 500 * MS);
    assert_string_equal(p.thresholds[1].expr, "throttled_ratio < 1%");
    plan_free(&p);

    /* A plan file: the output flags and thresholds apply to it. */
    assert_int_equal(PARSE("plans/examples/constant-vus.yaml", "--threads", "3", "--insecure",
                           "--threshold", "dropped == 0"),
                     0);
    assert_string_equal(opts.plan_path, "plans/examples/constant-vus.yaml");
    assert_string_equal(p.name, "list-scripts");
    assert_int_equal(p.threads, 3);
    assert_true(p.tls_insecure);
    assert_int_equal(p.nthresholds, 3);
    assert_string_equal(p.thresholds[2].expr, "dropped == 0");
    assert_int_equal(p.scenarios[0].executor, PLAN_EXEC_CONSTANT_VUS);
    plan_free(&p);

    assert_int_equal(PARSE("--help"), 0);
    assert_true(opts.help);
    assert_int_equal(PARSE("-h"), 0);
    assert_true(opts.help);
    assert_non_null(strstr(run_cli_usage, "--ramp-up D"));
    plan_free(&p);
}

/* Each bad command line fails with -EINVAL and exactly this message. */
static void bad(const char **args, const char *want)
{
    if (parse(args) != -EINVAL)
        fail_msg("accepted: %s", args[1]);
    assert_string_equal(err, want);
    assert_null(p.scenarios);
    assert_null(p.targets);
}

#define BAD(want, ...) bad((const char *[]){"run", __VA_ARGS__, NULL}, want)
#define Q              "--url", "http://h/"

static void test_bad_flags(void **state)
{
    (void)state;
    BAD("unknown option '--rat' (did you mean '--rate'?)", Q, "--rat", "5/s");
    BAD("unknown option '--ramp_up' (did you mean '--ramp-up'?)", Q, "--ramp_up", "5s");
    BAD("unknown option '-Z' (see tollgate run --help)", Q, "-Z");
    BAD("unknown option '--verbose' (see tollgate run --help)", Q, "--verbose");
    BAD("--rate: \"50 per s\": expected N/unit (e.g. 50/s, 300/min)", Q, "--rate", "50 per s",
        "--duration", "1s");
    BAD("--duration: missing value, expected a duration such as 30s", Q, "--rate", "5/s",
        "--duration");
    BAD("--duration: \"30 sec\": unknown unit 'sec', expected ms, s, m or h", Q, "--rate", "5/s",
        "--duration", "30 sec");
    BAD("--duration: \"0\": expected a duration above 0", Q, "--rate", "5/s", "--duration", "0");
    BAD("--rate given twice", Q, "--rate", "5/s", "--rate", "6/s");
    BAD("--quiet takes no value", Q, "--quiet=yes");
    BAD("the quick form needs one of --rate (open model) or --vus (closed model)", Q, "--rate",
        "5/s", "--vus", "2", "--duration", "1s");
    BAD("the quick form needs one of --rate (open model) or --vus (closed model)", Q, "--duration",
        "1s");
    BAD("the quick form needs --duration (e.g. --duration 30s)", Q, "--vus", "2");
    BAD("--ramp-up: only with --vus", Q, "--rate", "5/s", "--ramp-up", "5s", "--duration", "1s");
    BAD("--max-in-flight: only with --rate", Q, "--vus", "1", "--max-in-flight", "5", "--duration",
        "1s");
    BAD("--vus: \"0\": expected an integer from 1 to 1000000", Q, "--vus", "0", "--duration", "1s");
    BAD("--vus: \"-3\": expected an integer from 1 to 1000000", Q, "--vus", "-3", "--duration",
        "1s");
    BAD("--retry: \"0\": expected an integer from 1 to 1000", Q, "--vus", "1", "--duration", "1s",
        "--retry", "0");
    BAD("--threads: \"2000\": expected an integer from 0 to 1024", Q, "--vus", "1", "--duration",
        "1s", "--threads", "2000");
    BAD("--url: \"ftp://h\": unknown scheme 'ftp', expected http or https", "--url", "ftp://h",
        "--vus", "1", "--duration", "1s");
    BAD("--header: \"Accept\": expected 'Name: value'", Q, "-H", "Accept", "--vus", "1",
        "--duration", "1s");
    BAD("--header: \"X Y: z\": 'X Y' is not a valid header name", Q, "-H", "X Y: z", "--vus", "1",
        "--duration", "1s");
    BAD("--method: \"GE T\": expected an HTTP method such as GET", Q, "-X", "GE T", "--vus", "1",
        "--duration", "1s");
    BAD("--body: '{{id}}' is not a built-in (uuid, iteration, vu, now_ms, random_int(a,b)), and "
        "the quick form has no captures or data file",
        Q, "--body", "id={{id}}", "--vus", "1", "--duration", "1s");
    BAD("--body: cannot read '/nonexistent/b.json': No such file or directory", Q, "--body",
        "@/nonexistent/b.json", "--vus", "1", "--duration", "1s");
    BAD("--body: '/tmp' is not a regular file", Q, "--body", "@/tmp", "--vus", "1", "--duration",
        "1s");
    BAD("--threshold: \"p99 < 500 sec\": unknown unit 'sec', expected ms, s, m or h", Q, "--vus",
        "1", "--duration", "1s", "--threshold", "p99 < 500 sec");
    BAD("expected a plan file or --url (see tollgate run --help)", "--rate", "5/s");
    BAD("--rate: only in the quick form (with --url, without a plan file)",
        "plans/examples/constant-vus.yaml", "--rate", "5/s");
    BAD("unexpected argument 'b.yaml' (the plan file is 'a.yaml')", "a.yaml", "b.yaml");
    BAD("nope.yaml: cannot read: No such file or directory", "nope.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_rate),   cmocka_unit_test(test_quick_vus),
        cmocka_unit_test(test_quick_retry),  cmocka_unit_test(test_quick_request),
        cmocka_unit_test(test_output_flags), cmocka_unit_test(test_bad_flags),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
