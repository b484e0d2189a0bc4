/*
 * The field-report plans of `make demo` (plans/field-reports/): every one
 * loads with plan_load_file, and keeps what scripts/demo.sh relies on: the
 * target it rewrites, the OAuth pool, the `# demo-*:` header lines, an
 * "as run" and a "fix" plan for every report, the retry policies that make
 * the difference between the two, and a total planned time that fits the
 * demo's two minutes. The tests run from the source root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "run/plan.h"

#define FIELD_DIR   "plans/field-reports"
#define MAX_PLANS   64
#define MAX_REPORTS 16
#define LINE_MAX_   512
#define DEMO_BUDGET (100ull * CLOCK_NS_PER_S) /* planned seconds of every plan together */

/* The `# demo-*:` lines of one plan's header, and what plan_load_file made of it. */
typedef struct field_plan {
    char file[sizeof(FIELD_DIR) + 1 + 256]; /* a d_name has at most 255 bytes */
    char report[LINE_MAX_];
    char kase[LINE_MAX_]; /* "as run" or "fix" */
    char step[LINE_MAX_]; /* a step name, or "all" */
    char expect[LINE_MAX_];
    char verdict[LINE_MAX_];
    plan p;
} field_plan;

static field_plan plans[MAX_PLANS];
static size_t nplans;

/* Copies the value of header line `# KEY: value` into out ("" when absent). */
static void header_get(const char *text, const char *key, char *out, size_t outlen)
{
    char pat[64];
    const char *s, *e;
    size_t n;

    out[0] = '\0';
    snprintf(pat, sizeof(pat), "\n# %s: ", key);
    s = strstr(text, pat);
    if (s == NULL)
        return;
    s += strlen(pat);
    e = strchr(s, '\n');
    n = e == NULL ? strlen(s) : (size_t)(e - s);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)n + 2);
    if (text != NULL) {
        text[0] = '\n'; /* so that the first line matches "\n# KEY: " too */
        if (fread(text + 1, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    return text;
}

/* Loads every .yaml of the directory once, for all the tests. */
static int setup(void **state)
{
    DIR *d = opendir(FIELD_DIR);
    struct dirent *e;

    (void)state;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL && nplans < MAX_PLANS) {
        size_t n = strlen(e->d_name);
        field_plan *fp = &plans[nplans];
        char err[CONFIG_ERRLEN] = "";
        char *text;

        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        snprintf(fp->file, sizeof(fp->file), FIELD_DIR "/%s", e->d_name);
        if (plan_load_file(&fp->p, fp->file, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", fp->file, err);
            closedir(d);
            return -1;
        }
        text = read_text(fp->file);
        if (text == NULL) {
            closedir(d);
            return -1;
        }
        header_get(text, "demo-report", fp->report, sizeof(fp->report));
        header_get(text, "demo-case", fp->kase, sizeof(fp->kase));
        header_get(text, "demo-step", fp->step, sizeof(fp->step));
        header_get(text, "demo-expect", fp->expect, sizeof(fp->expect));
        header_get(text, "demo-verdict", fp->verdict, sizeof(fp->verdict));
        free(text);
        nplans++;
    }
    closedir(d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nplans; i++)
        plan_free(&plans[i].p);
    return 0;
}

/* The directory holds the plans of the four field reports of issue 6 and the
 * flows report, two each at least. */
static void test_all_load(void **state)
{
    (void)state;
    assert_true(nplans >= 10);
    for (size_t i = 0; i < nplans; i++)
        assert_true(plans[i].p.nscenarios >= 1);
}

/* scripts/demo.sh substitutes the port of `target: http://127.0.0.1:8080`, the
 * built-in profile's default listen address, and every plan logs in with the
 * profile's demo clients at /oauth/token. */
static void test_target_and_auth(void **state)
{
    (void)state;
    for (size_t i = 0; i < nplans; i++) {
        const plan *p = &plans[i].p;

        assert_string_equal(p->targets[0].host, "127.0.0.1");
        assert_int_equal(p->targets[0].port, 8080);
        assert_false(p->targets[0].tls);
        assert_int_equal(p->auth.kind, PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS);
        assert_string_equal(p->auth.token_url.target, "/oauth/token");
        assert_int_equal(p->auth.token_target, 0);
        assert_true(p->auth.nclients >= 1);
        for (size_t c = 0; c < p->auth.nclients; c++) {
            assert_int_equal(strncmp(p->auth.clients[c].id, "demo-", 5), 0);
            assert_string_equal(p->auth.clients[c].secret, "demo-secret");
        }
    }
}

static const plan_step *step_named(const plan *p, const char *name)
{
    for (size_t s = 0; s < p->nscenarios; s++) {
        for (size_t k = 0; k < p->scenarios[s].nsteps; k++) {
            if (strcmp(p->scenarios[s].steps[k].name, name) == 0)
                return &p->scenarios[s].steps[k];
        }
    }
    return NULL;
}

/* Every plan says what it reproduces and what to expect, in the lines the
 * demo's table reads; the step it shows exists. */
static void test_headers(void **state)
{
    (void)state;
    for (size_t i = 0; i < nplans; i++) {
        const field_plan *fp = &plans[i];

        assert_true(strlen(fp->report) > 0);
        assert_true(strcmp(fp->kase, "as run") == 0 || strcmp(fp->kase, "fix") == 0);
        assert_true(strlen(fp->expect) > 0);
        assert_string_equal(fp->verdict, strcmp(fp->kase, "fix") == 0 ? "fixed" : "reproduced");
        assert_true(strlen(fp->step) > 0);
        if (strcmp(fp->step, "all") != 0)
            assert_non_null(step_named(&fp->p, fp->step));
    }
}

/* Each report has at least one plan as the user ran it and one fix. */
static void test_pairs(void **state)
{
    const char *reports[MAX_REPORTS];
    size_t nreports = 0;

    (void)state;
    for (size_t i = 0; i < nplans; i++) {
        size_t r;
        for (r = 0; r < nreports; r++) {
            if (strcmp(reports[r], plans[i].report) == 0)
                break;
        }
        if (r == nreports) {
            assert_true(nreports < MAX_REPORTS);
            reports[nreports++] = plans[i].report;
        }
    }
    assert_true(nreports >= 5);
    for (size_t r = 0; r < nreports; r++) {
        int as_run = 0, fix = 0;
        for (size_t i = 0; i < nplans; i++) {
            if (strcmp(plans[i].report, reports[r]) != 0)
                continue;
            as_run += strcmp(plans[i].kase, "as run") == 0;
            fix += strcmp(plans[i].kase, "fix") == 0;
        }
        assert_true(as_run >= 1);
        assert_true(fix >= 1);
    }
}

/* As the users ran them (JMeter): one attempt, Retry-After not honoured, so
 * that a 429 neither waits nor closes the target's gate. The fixes retry 429
 * (or, for the async jobs, poll on 409) and honour Retry-After; the step they
 * show backs off exponentially with full jitter. */
static void test_retry_policies(void **state)
{
    (void)state;
    for (size_t i = 0; i < nplans; i++) {
        const field_plan *fp = &plans[i];
        const plan *p = &fp->p;
        bool fix = strcmp(fp->kase, "fix") == 0, any_retry = false;

        for (size_t s = 0; s < p->nscenarios; s++) {
            for (size_t k = 0; k < p->scenarios[s].nsteps; k++) {
                const retry_policy *r = &p->scenarios[s].steps[k].retry;
                if (!fix) {
                    assert_int_equal(r->max_attempts, 1);
                    assert_false(r->honor_retry_after);
                } else if (r->max_attempts > 1) {
                    any_retry = true;
                    assert_true(r->honor_retry_after);
                }
            }
        }
        if (fix)
            assert_true(any_retry);
        if (fix && strcmp(fp->step, "all") != 0) {
            const retry_policy *r = &step_named(p, fp->step)->retry;
            assert_true(retry_policy_on_status(r, 429));
            assert_true(r->max_attempts >= 3);
            assert_int_equal(r->backoff.kind, BACKOFF_EXPONENTIAL);
            assert_int_equal(r->backoff.jitter, BACKOFF_JITTER_FULL);
        }
    }
}

/* The same-script fix is a true read-modify-write: the PUT is retried on 409
 * and 429 by going back to the GET that captures the version it sends
 * (restart_from), with the plan's exponential backoff and full jitter,
 * honouring Retry-After; re-sending the same version after a 409 could never
 * succeed. */
static void test_same_script_fix_reads_again(void **state)
{
    const field_plan *fp = NULL;
    const plan_scenario *sc;
    const plan_step *get, *put;

    (void)state;
    for (size_t i = 0; i < nplans; i++) {
        if (strcmp(plans[i].file, FIELD_DIR "/same-script-fix.yaml") == 0)
            fp = &plans[i];
    }
    assert_non_null(fp);
    sc = &fp->p.scenarios[0];
    assert_int_equal(sc->nsteps, 2);
    get = &sc->steps[0];
    put = &sc->steps[1];
    assert_string_equal(get->name, "get-script");
    assert_string_equal(put->name, "put-script");
    assert_int_equal(get->ncaptures, 1);
    assert_string_equal(get->captures[0].var, "version");
    assert_string_equal(put->method, "PUT");
    assert_true(put->restart);
    assert_int_equal(put->restart_from, 0);
    assert_true(retry_policy_on_status(&put->retry, 409));
    assert_true(retry_policy_on_status(&put->retry, 429));
    assert_true(put->retry.honor_retry_after);
    assert_int_equal(put->retry.backoff.kind, BACKOFF_EXPONENTIAL);
    assert_int_equal(put->retry.backoff.jitter, BACKOFF_JITTER_FULL);
    assert_true(put->retry.max_attempts >= 3);
    assert_false(get->restart);
}

/* How long a scenario is planned to send: an open model's duration; a thread
 * group's duration, or for loops alone the last thread's start plus its
 * paced loops. */
static uint64_t scenario_planned_ns(const plan_scenario *s)
{
    const sched_thread_group *tg = &s->tg;

    switch (s->executor) {
    case PLAN_EXEC_CONSTANT_ARRIVAL_RATE:
        return s->duration_ns;
    case PLAN_EXEC_THREAD_GROUP:
        if (tg->duration_ns > 0)
            return tg->duration_ns;
        return tg->ramp_up_ns +
               (tg->loops > 0 ? tg->loops - 1 : 0) * sched_ctt_interval(&tg->ctt, tg->threads);
    default:
        fail_msg("field plans use constant-arrival-rate and thread-group");
    }
    return 0;
}

/* The demo runs every plan one after the other and must end within two
 * minutes, with the server start and the requests still in flight at each
 * plan's end: the plans together are planned for at most 100 s. */
static void test_time_budget(void **state)
{
    uint64_t total = 0;

    (void)state;
    for (size_t i = 0; i < nplans; i++) {
        uint64_t longest = 0;
        for (size_t s = 0; s < plans[i].p.nscenarios; s++) {
            uint64_t t = scenario_planned_ns(&plans[i].p.scenarios[s]);
            longest = t > longest ? t : longest;
        }
        total += longest;
    }
    assert_true(total > 0);
    assert_true(total <= DEMO_BUDGET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_load),
        cmocka_unit_test(test_target_and_auth),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_retry_policies),
        cmocka_unit_test(test_time_budget),
        cmocka_unit_test(test_same_script_fix_reads_again),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
