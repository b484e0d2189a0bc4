/*
 * plan: a `tollgate run` plan (docs/plan.md), loaded from YAML or built from
 * the quick-form flags (run/cli_run.h), fully resolved for the engine: URLs
 * parsed, durations in nanoseconds, templates compiled, captures parsed, the
 * CSV data loaded, thresholds parsed, retry policies resolved through
 * plan -> scenario -> step, executor parameters in the form run/sched.h takes.
 * The engine reads it and never looks at YAML.
 *
 * Loading is strict: unknown keys are errors with a "did you mean", every
 * error is one line `plan.yaml:12:5: rate: "50 per s": expected N/unit (e.g.
 * 50/s, 300/min)`, and a step that uses a template variable which is neither
 * a built-in, a data column, nor captured by an earlier step (or a setup
 * step) of its scenario is refused before any load is sent.
 *
 * A loaded plan is read-only: several event-loop threads may read it at once.
 */
#ifndef TG_RUN_PLAN_H
#define TG_RUN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/units.h"
#include "core/url.h"
#include "run/capture.h"
#include "run/feeder.h"
#include "run/plan_json.h"
#include "run/retry.h"
#include "run/sched.h"
#include "run/threshold.h"
#include "run/tmpl.h"

#define PLAN_STATUS_MAX        599                     /* expect statuses are 100..599 */
#define PLAN_DEFAULT_CONNECT   (5ull * 1000000000ull)  /* connect timeout, ns */
#define PLAN_DEFAULT_RESPONSE  (30ull * 1000000000ull) /* response timeout, ns */
#define PLAN_DEFAULT_GRACEFUL  (30ull * 1000000000ull) /* graceful_stop / _ramp_down, ns */
#define PLAN_DEFAULT_IN_FLIGHT 1000u /* max_in_flight of the arrival-rate executors */
#define PLAN_DEFAULT_REFRESH   (60ull * 1000000000ull) /* auth refresh_before, ns */
#define PLAN_DEFAULT_SEED      1u                      /* plan seed when none is given */

typedef enum plan_executor {
    PLAN_EXEC_CONSTANT_VUS = 0,
    PLAN_EXEC_RAMPING_VUS,
    PLAN_EXEC_THREAD_GROUP,
    PLAN_EXEC_CONSTANT_ARRIVAL_RATE,
    PLAN_EXEC_RAMPING_ARRIVAL_RATE,
    PLAN_EXEC_COUNT
} plan_executor;

typedef enum plan_body_kind {
    PLAN_BODY_NONE = 0,
    PLAN_BODY_RAW,  /* body: "text {{var}}"   -> step.body */
    PLAN_BODY_JSON, /* json: {...}            -> step.json */
    PLAN_BODY_FILE, /* body: "@payload.json"  -> step.body (the file's text), step.body_file */
} plan_body_kind;

typedef enum plan_data_mode {
    PLAN_DATA_ROUND_ROBIN = 0, /* each iteration takes the next row (feeder_next_row) */
    PLAN_DATA_PER_VU,          /* VU v always uses row v % rows (feeder_row_for_vu) */
} plan_data_mode;

typedef enum plan_auth_kind {
    PLAN_AUTH_NONE = 0,
    PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS,
} plan_auth_kind;

/* A header sent with a request; the value is a template. */
typedef struct plan_header {
    char *name; /* owned, as written */
    tmpl value;
} plan_header;

/* `capture: {var: $.path}` or `{var: "header:ETag"}` / `{var: {header: ETag}}`. */
typedef struct plan_capture {
    char *var; /* owned: the variable it sets */
    capture cap;
} plan_capture;

typedef struct plan_step {
    char *name;           /* owned; unique within its scenario */
    uint32_t index;       /* global step index, 0..plan.nsteps-1: plan.step_names[index] */
    char *method;         /* owned, upper case as written ("GET" by default) */
    bool idempotent;      /* retry_method_idempotent(method) */
    size_t target;        /* index into plan.targets: where to connect */
    tmpl path;            /* request-target (path and query), the target URL's path joined in */
    plan_header *headers; /* owned: the plan's default headers merged with the step's (the
                           * step's win, names compared case-insensitively), plus
                           * Content-Type: application/json for a json body that sets none */
    size_t nheaders;
    plan_body_kind body_kind;
    tmpl body;              /* RAW and FILE: the body template (a FILE's whole text) */
    char *body_file;        /* FILE: owned path, resolved against the plan's directory */
    plan_json json;         /* JSON */
    plan_capture *captures; /* owned */
    size_t ncaptures;
    uint64_t expect[(PLAN_STATUS_MAX + 64) / 64]; /* bit s: status s is ok; default 200..399 */
    uint64_t think_time_ns;                       /* pause after this step */
    retry_policy retry;  /* resolved: plan, then scenario, then step options */
    bool restart;        /* retry.restart_from was given: */
    size_t restart_from; /* a retry goes back to this step, an earlier one of the same list
                          * (setup or steps), and comes back here through the steps between */
} plan_step;

typedef struct plan_scenario {
    char *name; /* owned */
    plan_executor executor;
    uint64_t seed; /* for arrivals: poisson and the scenario's rngs (plan seed + index) */
    uint64_t graceful_stop_ns;

    /* constant-vus, ramping-vus: initialized schedule (sched_vus_init_*). */
    sched_vus vus;
    uint64_t graceful_ramp_down_ns; /* ramping-vus */

    /* thread-group: checked with sched_tg_check. */
    sched_thread_group tg;

    /* constant-arrival-rate (rate, duration_ns) and ramping-arrival-rate
     * (start_rate, stages): the parameters of sched_arrivals_init_*; see
     * plan_scenario_arrivals_init. */
    units_rate rate;
    uint64_t duration_ns;
    units_rate start_rate;    /* count 0 = zero */
    sched_rate_stage *stages; /* owned */
    size_t nstages;
    enum sched_arrivals_kind arrivals;
    uint32_t max_in_flight;

    retry_policy retry; /* resolved: plan, then scenario options */
    plan_step *setup;   /* owned: run once per VU before its first iteration */
    size_t nsetup;
    plan_step *steps; /* owned: one iteration */
    size_t nsteps;
} plan_scenario;

typedef struct plan_oauth_client {
    char *id;     /* owned */
    char *secret; /* owned */
} plan_oauth_client;

typedef struct plan_auth {
    plan_auth_kind kind;
    url token_url;       /* parsed, absolute (a relative token_url is joined to the target) */
    size_t token_target; /* index into plan.targets of token_url's origin */
    plan_oauth_client *clients; /* owned: VU i uses clients[i % nclients] */
    size_t nclients;
    char *scope; /* owned, or NULL */
    uint64_t refresh_before_ns;
} plan_auth;

typedef struct plan {
    char *name;   /* owned: `name:`, or the file name without extension, or "--url URL" */
    char *path;   /* owned: the plan file, or NULL for the quick form */
    url *targets; /* owned: distinct origins (scheme, host, port), one connection pool each;
                   * targets[0] is `target` (its path is the base already joined into every
                   * relative step path); the others, absolute step URLs' and the token URL's
                   * origins, have path "/" */
    size_t ntargets;
    bool tls_insecure; /* tls.insecure: do not verify certificates */
    char *tls_ca;      /* owned: CA file resolved against the plan's directory, or NULL */
    uint64_t connect_timeout_ns;
    uint64_t response_timeout_ns;
    uint32_t threads; /* event-loop threads; 0 = one per core */
    uint64_t seed;
    plan_auth auth;
    bool has_data;
    feeder data; /* loaded CSV, if has_data */
    plan_data_mode data_mode;
    threshold *thresholds; /* owned; each keeps its source text in .expr */
    size_t nthresholds;
    retry_policy retry;       /* the plan's policy (retry_policy_default(1) plus `retry:`) */
    plan_scenario *scenarios; /* owned */
    size_t nscenarios;
    size_t nsteps;     /* setup and iteration steps of every scenario */
    char **step_names; /* owned: by global index; "name", or "scenario/name" when two
                        * scenarios have a step of that name */
} plan;

/* Zeroes *p so plan_free is harmless. Cannot fail. */
void plan_init(plan *p);

/* Loads the plan file at `path` into *p (which need not be initialized).
 * Relative `@file` bodies, `data.csv` and `tls.ca` are resolved against the
 * plan file's directory. Returns 0; or -EINVAL with one line in err, e.g.
 * `plan.yaml:12:5: rate: "50 per s": expected N/unit (e.g. 50/s, 300/min)`,
 * -ENOENT and other -errno for unreadable files (message in err), -ENOMEM.
 * On failure *p holds nothing (plan_free is harmless). */
int plan_load_file(plan *p, const char *path, char *err, size_t errlen);

/* The same for `len` bytes of YAML; `name` stands for the file name in
 * messages and `dir` (NULL = the current directory) is where relative files
 * are looked up. */
int plan_load_string(plan *p, const char *name, const char *dir, const char *text, size_t len,
                     char *err, size_t errlen);

/* Releases everything the plan owns and zeroes it. */
void plan_free(plan *p);

/* Whether status s is ok for the step (in its `expect`). */
bool plan_step_expects(const plan_step *s, int status);

/* Initializes an arrivals iterator for an arrival-rate scenario, from its
 * rate/duration or start_rate/stages, kind and seed. Returns what
 * sched_arrivals_init_* returns; -EINVAL for a closed-model scenario. */
int plan_scenario_arrivals_init(const plan_scenario *s, sched_arrivals *it, char *err,
                                size_t errlen);

/* How many VUs (threads, or in-flight slots) the scenario may run at once:
 * vus.max_vus, tg.threads or max_in_flight. */
uint32_t plan_scenario_max_vus(const plan_scenario *s);

/* "constant-vus", ... as written in plans. */
const char *plan_executor_name(plan_executor e);

#endif
