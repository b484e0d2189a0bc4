/*
 * cli_run: `tollgate run`'s flags. The arguments are read into a table of
 * values first (so every flag is checked the same way: unknown, missing
 * value, given twice), then turned into a plan.
 */
#include "run/cli_run.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "run/plan_load.h"

const char run_cli_usage[] =
    "usage: tollgate run PLAN.yaml [OPTIONS]\n"
    "       tollgate run --url URL [-X METHOD] [-H 'K: V']... [--body @FILE|TEXT]\n"
    "                    (--rate 50/s [--max-in-flight N] | --vus 20 [--ramp-up 60s])\n"
    "                    --duration 30s [--retry N] [OPTIONS]\n"
    "\n"
    "Runs a load test: from a plan file (docs/plan.md), or one request in a loop\n"
    "(the quick form).\n"
    "\n"
    "quick form:\n"
    "  --url URL            the request's URL (http or https)\n"
    "  -X, --method M       HTTP method (default GET, or POST with --body)\n"
    "  -H, --header 'K: V'  a request header (repeatable)\n"
    "  --body @FILE|TEXT    request body, or the contents of FILE\n"
    "  --rate N/unit        open model: start N iterations per unit (50/s, 300/min)\n"
    "  --max-in-flight N    with --rate: iterations running at once (default 1000);\n"
    "                       one that finds no free slot is counted as dropped\n"
    "  --vus N              closed model: N virtual users in a loop\n"
    "  --ramp-up D          with --vus: user i starts at i x D / N (JMeter thread group)\n"
    "  --duration D         how long to run (30s, 5m)\n"
    "  --retry N            up to N attempts per request on 429, 503 and connect errors\n"
    "                       (exponential backoff 100ms..10s, full jitter, Retry-After)\n"
    "\n"
    "options:\n"
    "  --json FILE          write the JSON report (docs/report.md)\n"
    "  --jtl FILE           write one JMeter CSV row per attempt\n"
    "  --latency            print the latency percentile distribution\n"
    "  --quiet, -q          no progress line\n"
    "  --threads N          event-loop threads (default: the plan's, else one per core)\n"
    "  --insecure, -k       do not verify TLS certificates\n"
    "  --threshold EXPR     pass/fail condition, e.g. 'p99 < 500ms' (repeatable)\n"
    "  --help, -h           this text\n"
    "\n"
    "exit status: 0 thresholds pass, 99 a threshold failed, 2 usage or plan error,\n"
    "1 runtime error, 130 interrupted (reports are written with partial: true)\n";

enum run_flag_id {
    F_JSON,
    F_JTL,
    F_LATENCY,
    F_QUIET,
    F_THREADS,
    F_INSECURE,
    F_THRESHOLD,
    F_HELP,
    F_URL, /* the quick-form flags from here on */
    F_METHOD,
    F_HEADER,
    F_BODY,
    F_RATE,
    F_MAX_IN_FLIGHT,
    F_VUS,
    F_RAMP_UP,
    F_DURATION,
    F_RETRY,
    F_COUNT
};

struct run_flag {
    const char *name; /* without the leading "--" */
    char letter;      /* short form, or 0 */
    const char *hint; /* expected value, or NULL for a switch */
};

static const struct run_flag run_flags[F_COUNT] = {
    [F_JSON] = {"json", 0, "a file name"},
    [F_JTL] = {"jtl", 0, "a file name"},
    [F_LATENCY] = {"latency", 0, NULL},
    [F_QUIET] = {"quiet", 'q', NULL},
    [F_THREADS] = {"threads", 0, "an integer from 0 to 1024"},
    [F_INSECURE] = {"insecure", 'k', NULL},
    [F_THRESHOLD] = {"threshold", 0, "an expression such as 'p99 < 500ms'"},
    [F_HELP] = {"help", 'h', NULL},
    [F_URL] = {"url", 0, "a URL such as http://127.0.0.1:8080/path"},
    [F_METHOD] = {"method", 'X', "an HTTP method such as GET"},
    [F_HEADER] = {"header", 'H', "'Name: value'"},
    [F_BODY] = {"body", 0, "@FILE or TEXT"},
    [F_RATE] = {"rate", 0, "N/unit (e.g. 50/s, 300/min)"},
    [F_MAX_IN_FLIGHT] = {"max-in-flight", 0, "an integer from 1 to 1000000"},
    [F_VUS] = {"vus", 0, "an integer from 1 to 1000000"},
    [F_RAMP_UP] = {"ramp-up", 0, "a duration such as 60s"},
    [F_DURATION] = {"duration", 0, "a duration such as 30s"},
    [F_RETRY] = {"retry", 0, "an integer from 1 to 1000"},
};

/* The arguments, read but not yet checked. */
typedef struct run_args {
    const char *val[F_COUNT]; /* a flag's value ("" for a switch), NULL if absent */
    const char **headers;     /* every -H, in order */
    size_t nheaders;
    const char **thresholds; /* every --threshold, in order */
    size_t nthresholds;
    const char *plan_path;
} run_args;

static int run_unknown(const char *arg, char *err, size_t errlen)
{
    const char *names[F_COUNT + 1];
    const char *hint;

    for (size_t i = 0; i < F_COUNT; i++)
        names[i] = run_flags[i].name;
    names[F_COUNT] = NULL;
    hint = arg[1] == '-' ? config_suggest(names, arg + 2) : NULL;
    if (hint != NULL)
        return err_set(err, errlen, -EINVAL, "unknown option '%s' (did you mean '--%s'?)", arg,
                       hint);
    return err_set(err, errlen, -EINVAL, "unknown option '%s' (see tollgate run --help)", arg);
}

static int run_push(const char ***list, size_t *n, const char *v)
{
    const char **l = realloc(*list, (*n + 1) * sizeof(*l));

    if (l == NULL)
        return -ENOMEM;
    l[(*n)++] = v;
    *list = l;
    return 0;
}

/* Finds the flag of argument `a` ("--rate", "--rate=5/s", "-X", "-XPUT"). */
static int run_flag_of(const char *a, const char **inline_val)
{
    size_t n;

    *inline_val = NULL;
    if (a[1] != '-') {
        for (int f = 0; f < F_COUNT; f++) {
            if (run_flags[f].letter != 0 && run_flags[f].letter == a[1]) {
                if (a[2] != '\0')
                    *inline_val = a + 2;
                return f;
            }
        }
        return -1;
    }
    n = strcspn(a + 2, "=");
    if (a[2 + n] == '=')
        *inline_val = a + 3 + n;
    for (int f = 0; f < F_COUNT; f++) {
        if (strlen(run_flags[f].name) == n && strncmp(run_flags[f].name, a + 2, n) == 0)
            return f;
    }
    return -1;
}

static int run_read_args(int argc, char **argv, run_args *a, char *err, size_t errlen)
{
    bool options_end = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        int f;

        if (options_end || arg[0] != '-' || arg[1] == '\0') {
            if (a->plan_path != NULL)
                return err_set(err, errlen, -EINVAL,
                               "unexpected argument '%s' (the plan file is '%s')", arg,
                               a->plan_path);
            a->plan_path = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_end = true;
            continue;
        }
        f = run_flag_of(arg, &v);
        if (f < 0)
            return run_unknown(arg, err, errlen);
        if (run_flags[f].hint == NULL && v != NULL)
            return err_set(err, errlen, -EINVAL, "--%s takes no value", run_flags[f].name);
        if (run_flags[f].hint != NULL && v == NULL) {
            if (i + 1 >= argc)
                return err_set(err, errlen, -EINVAL, "--%s: missing value, expected %s",
                               run_flags[f].name, run_flags[f].hint);
            v = argv[++i];
        }
        if (f == F_HEADER || f == F_THRESHOLD) {
            if (run_push(f == F_HEADER ? &a->headers : &a->thresholds,
                         f == F_HEADER ? &a->nheaders : &a->nthresholds, v) < 0)
                return -ENOMEM;
        } else if (a->val[f] != NULL) {
            return err_set(err, errlen, -EINVAL, "--%s given twice", run_flags[f].name);
        }
        a->val[f] = v != NULL ? v : "";
    }
    return 0;
}

/* An unsigned integer flag in [min, max]. */
static int run_uint(const run_args *a, int f, uint64_t min, uint64_t max, uint64_t *out, char *err,
                    size_t errlen)
{
    const char *s = a->val[f];
    char *end;
    unsigned long long v;

    if (s == NULL)
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 || v < min || v > max)
        return err_set(err, errlen, -EINVAL, "--%s: \"%s\": expected %s", run_flags[f].name, s,
                       run_flags[f].hint);
    *out = v;
    return 0;
}

static int run_duration(const run_args *a, int f, uint64_t *out, char *err, size_t errlen)
{
    char msg[256];

    if (a->val[f] == NULL)
        return 0;
    if (units_parse_duration(a->val[f], out, msg, sizeof(msg)) < 0)
        return err_set(err, errlen, -EINVAL, "--%s: %s", run_flags[f].name, msg);
    if (f == F_DURATION && *out == 0)
        return err_set(err, errlen, -EINVAL, "--duration: \"%s\": expected a duration above 0",
                       a->val[f]);
    return 0;
}

/* Compiles a quick-form template; only built-ins are available. */
static int run_tmpl(tmpl *t, int f, const char *text, char *err, size_t errlen)
{
    char what[32];
    size_t len;
    const char *v;
    int rc;

    snprintf(what, sizeof(what), "--%s", run_flags[f].name);
    rc = plan_tmpl_from_text(t, what, text, err, errlen);
    if (rc < 0 || tmpl_var_count(t) == 0)
        return rc;
    v = tmpl_var(t, 0, &len);
    return err_set(err, errlen, -EINVAL,
                   "--%s: '{{%.*s}}' is not a built-in (uuid, iteration, vu, now_ms, "
                   "random_int(a,b)), and the quick form has no captures or data file",
                   run_flags[f].name, (int)len, v);
}

static int run_headers(const run_args *a, plan_step *st, char *err, size_t errlen)
{
    for (size_t i = 0; i < a->nheaders; i++) {
        const char *h = a->headers[i], *colon = strchr(h, ':'), *v;
        plan_header *nh;
        int rc;

        if (colon == NULL || colon == h)
            return err_set(err, errlen, -EINVAL, "--header: \"%s\": expected 'Name: value'", h);
        nh = realloc(st->headers, (st->nheaders + 1) * sizeof(*nh));
        if (nh == NULL)
            return -ENOMEM;
        st->headers = nh;
        nh = &nh[st->nheaders];
        memset(nh, 0, sizeof(*nh));
        nh->name = strndup(h, (size_t)(colon - h));
        if (nh->name == NULL)
            return -ENOMEM;
        st->nheaders++;
        if (!plan_is_token(nh->name))
            return err_set(err, errlen, -EINVAL,
                           "--header: \"%s\": '%s' is not a valid header name", h, nh->name);
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        rc = run_tmpl(&nh->value, F_HEADER, v, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int run_body(const run_args *a, plan_step *st, char *err, size_t errlen)
{
    const char *b = a->val[F_BODY];
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (b == NULL)
        return 0;
    if (b[0] != '@') {
        st->body_kind = PLAN_BODY_RAW;
        return run_tmpl(&st->body, F_BODY, b, err, errlen);
    }
    st->body_kind = PLAN_BODY_FILE;
    st->body_file = strdup(b + 1);
    if (st->body_file == NULL)
        return -ENOMEM;
    rc = plan_read_file(st->body_file, &data, &len);
    if (rc == -ENOMEM)
        return rc;
    if (rc == -EISDIR)
        return err_set(err, errlen, -EINVAL, "--body: '%s' is not a regular file", st->body_file);
    if (rc < 0)
        return err_set(err, errlen, -EINVAL, "--body: cannot read '%s': %s", st->body_file,
                       strerror(-rc));
    if (memchr(data, '\0', len) != NULL) {
        free(data);
        return err_set(err, errlen, -EINVAL, "--body: '%s' contains a NUL byte", st->body_file);
    }
    rc = plan_tmpl_from_text(&st->body, "--body", data != NULL ? data : "", err, errlen);
    free(data);
    if (rc == 0 && tmpl_var_count(&st->body) > 0) {
        tmpl_free(&st->body);
        return err_set(err, errlen, -EINVAL,
                       "--body: '%s' uses variables, and the quick form has no captures or data "
                       "file",
                       st->body_file);
    }
    return rc;
}

/* The scenario's executor from --rate, or --vus with or without --ramp-up. */
static int run_executor(const run_args *a, plan_scenario *s, char *err, size_t errlen)
{
    uint64_t vus = 0, dur = 0, ramp = 0, inflight = PLAN_DEFAULT_IN_FLIGHT;
    char msg[256];
    int rc;

    if ((a->val[F_RATE] == NULL) == (a->val[F_VUS] == NULL))
        return err_set(err, errlen, -EINVAL,
                       "the quick form needs one of --rate (open model) or --vus "
                       "(closed model)");
    if (a->val[F_DURATION] == NULL)
        return err_set(err, errlen, -EINVAL,
                       "the quick form needs --duration (e.g. --duration 30s)");
    if (a->val[F_RAMP_UP] != NULL && a->val[F_VUS] == NULL)
        return err_set(err, errlen, -EINVAL, "--ramp-up: only with --vus");
    if (a->val[F_MAX_IN_FLIGHT] != NULL && a->val[F_RATE] == NULL)
        return err_set(err, errlen, -EINVAL, "--max-in-flight: only with --rate");
    rc = run_duration(a, F_DURATION, &dur, err, errlen);
    if (rc == 0)
        rc = run_duration(a, F_RAMP_UP, &ramp, err, errlen);
    if (rc == 0)
        rc = run_uint(a, F_VUS, 1, 1000000, &vus, err, errlen);
    if (rc == 0)
        rc = run_uint(a, F_MAX_IN_FLIGHT, 1, 1000000, &inflight, err, errlen);
    if (rc < 0)
        return rc;
    if (a->val[F_RATE] != NULL) {
        if (units_parse_rate(a->val[F_RATE], &s->rate, msg, sizeof(msg)) < 0)
            return err_set(err, errlen, -EINVAL, "--rate: %s", msg);
        s->executor = PLAN_EXEC_CONSTANT_ARRIVAL_RATE;
        s->duration_ns = dur;
        s->arrivals = SCHED_ARRIVALS_UNIFORM;
        s->max_in_flight = (uint32_t)inflight;
        return 0;
    }
    if (a->val[F_RAMP_UP] != NULL) {
        s->executor = PLAN_EXEC_THREAD_GROUP;
        s->tg.threads = (uint32_t)vus;
        s->tg.ramp_up_ns = ramp;
        s->tg.duration_ns = dur;
        return sched_tg_check(&s->tg, err, errlen) < 0 ? -EINVAL : 0;
    }
    s->executor = PLAN_EXEC_CONSTANT_VUS;
    rc = sched_vus_init_constant(&s->vus, (uint32_t)vus, dur, err, errlen);
    return rc == -EINVAL || rc == 0 ? rc : -ENOMEM;
}

/* Builds the one-scenario, one-step plan of the quick form. */
static int run_quick(const run_args *a, plan *p, char *err, size_t errlen)
{
    uint64_t attempts = 1;
    char msg[256], origin[URL_MAX + 16];
    plan_scenario *s;
    plan_step *st;
    url u, o;
    int rc;

    rc = run_uint(a, F_RETRY, 1, RETRY_MAX_ATTEMPTS, &attempts, err, errlen);
    if (rc < 0)
        return rc;
    if (url_parse(&u, a->val[F_URL], msg, sizeof(msg)) < 0)
        return err_set(err, errlen, -EINVAL, "--url: %s", msg);
    snprintf(origin, sizeof(origin), "%s://%s", u.scheme, u.host_header);
    rc = url_parse(&o, origin, err, errlen);
    if (rc == 0) {
        rc = plan_target_add(p, &o, &(size_t){0}, err, errlen);
        url_free(&o);
    }
    if (asprintf(&p->name, "--url %s", a->val[F_URL]) < 0)
        p->name = NULL;
    p->scenarios = calloc(1, sizeof(*p->scenarios));
    if (rc < 0 || p->name == NULL || p->scenarios == NULL)
        goto out;
    p->nscenarios = 1;
    s = &p->scenarios[0];
    s->seed = p->seed;
    s->graceful_stop_ns = PLAN_DEFAULT_GRACEFUL;
    retry_policy_default(&p->retry, (uint32_t)attempts);
    s->retry = p->retry;
    s->name = strdup("default");
    s->steps = calloc(1, sizeof(*s->steps));
    if (s->name == NULL || s->steps == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    s->nsteps = 1;
    st = &s->steps[0];
    st->retry = p->retry;
    plan_step_expect_default(st);
    rc = run_executor(a, s, err, errlen);
    if (rc == 0 && a->val[F_METHOD] != NULL && !plan_is_token(a->val[F_METHOD]))
        rc = err_set(err, errlen, -EINVAL, "--method: \"%s\": expected %s", a->val[F_METHOD],
                     run_flags[F_METHOD].hint);
    if (rc < 0)
        goto out;
    st->method = strdup(a->val[F_METHOD] != NULL ? a->val[F_METHOD]
                        : a->val[F_BODY] != NULL ? "POST"
                                                 : "GET");
    if (st->method == NULL || asprintf(&st->name, "%s %s", st->method, u.target) < 0) {
        st->name = NULL;
        rc = -ENOMEM;
        goto out;
    }
    st->idempotent = retry_method_idempotent(st->method, strlen(st->method));
    rc = run_tmpl(&st->path, F_URL, u.target, err, errlen);
    if (rc == 0)
        rc = run_headers(a, st, err, errlen);
    if (rc == 0)
        rc = run_body(a, st, err, errlen);
    if (rc == 0)
        rc = plan_index_steps(p);
out:
    url_free(&u);
    if (rc == 0 && (p->name == NULL || p->scenarios == NULL))
        rc = -ENOMEM;
    return rc;
}

/* Applies --threads, --insecure and --threshold to a loaded or built plan. */
static int run_apply(const run_args *a, plan *p, char *err, size_t errlen)
{
    uint64_t threads = 0;
    threshold *t;
    char msg[256];
    int rc;

    rc = run_uint(a, F_THREADS, 0, 1024, &threads, err, errlen);
    if (rc < 0)
        return rc;
    if (a->val[F_THREADS] != NULL)
        p->threads = (uint32_t)threads;
    if (a->val[F_INSECURE] != NULL)
        p->tls_insecure = true;
    if (a->nthresholds == 0)
        return 0;
    t = realloc(p->thresholds, (p->nthresholds + a->nthresholds) * sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    p->thresholds = t;
    for (size_t i = 0; i < a->nthresholds; i++) {
        if (threshold_parse(&t[p->nthresholds], a->thresholds[i], msg, sizeof(msg)) < 0)
            return err_set(err, errlen, -EINVAL, "--threshold: %s", msg);
        p->nthresholds++;
    }
    return 0;
}

int run_cli_parse(int argc, char **argv, run_options *opts, plan *p, char *err, size_t errlen)
{
    run_args a = {0};
    int rc;

    memset(opts, 0, sizeof(*opts));
    plan_init(p);
    p->connect_timeout_ns = PLAN_DEFAULT_CONNECT;
    p->response_timeout_ns = PLAN_DEFAULT_RESPONSE;
    p->seed = PLAN_DEFAULT_SEED;
    rc = run_read_args(argc, argv, &a, err, errlen);
    if (rc < 0 || a.val[F_HELP] != NULL) {
        opts->help = rc == 0;
        goto out;
    }
    opts->plan_path = a.plan_path;
    opts->json_path = a.val[F_JSON];
    opts->jtl_path = a.val[F_JTL];
    opts->latency = a.val[F_LATENCY] != NULL;
    opts->quiet = a.val[F_QUIET] != NULL;
    if (a.plan_path != NULL) {
        for (int f = F_URL; f < F_COUNT; f++) {
            if (a.val[f] != NULL) {
                rc = err_set(err, errlen, -EINVAL,
                             "--%s: only in the quick form (with --url, without a plan file)",
                             run_flags[f].name);
                goto out;
            }
        }
        rc = plan_load_file(p, a.plan_path, err, errlen);
        if (rc < 0 && rc != -ENOMEM)
            rc = -EINVAL;
    } else if (a.val[F_URL] != NULL) {
        rc = run_quick(&a, p, err, errlen);
    } else {
        rc = err_set(err, errlen, -EINVAL,
                     "expected a plan file or --url (see tollgate run --help)");
    }
    if (rc == 0)
        rc = run_apply(&a, p, err, errlen);
out:
    free(a.headers);
    free(a.thresholds);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc < 0)
        plan_free(p);
    return rc;
}
