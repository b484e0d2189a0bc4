/*
 * plan: the top level of a plan file (target, tls, timeouts, headers, auth,
 * data, thresholds, the plan's retry policy) and the plan's lifetime.
 * Scenarios' executors are read in plan_exec.c, steps in plan_step.c.
 */
#include "run/plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/config_get.h"
#include "run/plan_load.h"

static const char *const plan_keys[] = {"name",       "target",    "tls",  "timeouts", "threads",
                                        "seed",       "headers",   "auth", "retry",    "data",
                                        "thresholds", "scenarios", NULL};

static const char *const plan_executor_names[] = {"constant-vus",         "ramping-vus",
                                                  "thread-group",         "constant-arrival-rate",
                                                  "ramping-arrival-rate", NULL};

const char *plan_executor_name(plan_executor e)
{
    return e < PLAN_EXEC_COUNT ? plan_executor_names[e] : "?";
}

void plan_init(plan *p)
{
    memset(p, 0, sizeof(*p));
}

bool plan_step_expects(const plan_step *s, int status)
{
    if (status < 0 || status > PLAN_STATUS_MAX)
        return false;
    return (s->expect[status / 64] >> (status % 64)) & 1u;
}

uint32_t plan_scenario_max_vus(const plan_scenario *s)
{
    switch (s->executor) {
    case PLAN_EXEC_CONSTANT_VUS:
    case PLAN_EXEC_RAMPING_VUS:
        return s->vus.max_vus;
    case PLAN_EXEC_THREAD_GROUP:
        return s->tg.threads;
    default:
        return s->max_in_flight;
    }
}

int plan_scenario_arrivals_init(const plan_scenario *s, sched_arrivals *it, char *err,
                                size_t errlen)
{
    if (s->executor == PLAN_EXEC_CONSTANT_ARRIVAL_RATE)
        return sched_arrivals_init_constant(it, s->rate, s->duration_ns, s->arrivals, s->seed, err,
                                            errlen);
    if (s->executor == PLAN_EXEC_RAMPING_ARRIVAL_RATE)
        return sched_arrivals_init_ramping(it, s->start_rate, s->stages, s->nstages, s->arrivals,
                                           s->seed, err, errlen);
    snprintf(err, errlen, "scenario '%s' is not an arrival-rate scenario", s->name);
    return -EINVAL;
}

char *plan_load_path(const plan_loader *l, const char *rel)
{
    size_t dl, rl = strlen(rel);
    char *s;

    if (rel[0] == '/' || l->dir == NULL || l->dir[0] == '\0')
        return strdup(rel);
    dl = strlen(l->dir);
    s = malloc(dl + rl + 2);
    if (s == NULL)
        return NULL;
    memcpy(s, l->dir, dl);
    s[dl] = '/';
    memcpy(s + dl + 1, rel, rl + 1);
    return s;
}

int plan_target_add(plan *p, const url *u, size_t *index, char *err, size_t errlen)
{
    char origin[URL_MAX + 16];
    url *t;
    int rc;

    for (size_t i = 0; i < p->ntargets; i++) {
        if (p->targets[i].tls == u->tls && p->targets[i].port == u->port &&
            strcmp(p->targets[i].host, u->host) == 0) {
            *index = i;
            return 0;
        }
    }
    t = realloc(p->targets, (p->ntargets + 1) * sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    p->targets = t;
    snprintf(origin, sizeof(origin), "%s://%s%s", u->scheme, u->host_header,
             p->ntargets == 0 ? u->target : "");
    rc = url_parse(&t[p->ntargets], origin, err, errlen);
    if (rc < 0)
        return rc;
    *index = p->ntargets++;
    return 0;
}

/* Reads the `target` URL into targets[0]. */
static int plan_read_target(plan_loader *l, const config_node *root)
{
    const config_node *n = config_map_get(l->doc, root, "target");
    const char *s = NULL;
    char msg[CONFIG_ERRLEN];
    size_t idx;
    url u;
    int rc;

    rc = config_require(l->doc, root, "target", l->err, l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, root, "target", &s, l->err, l->errlen);
    if (rc < 0)
        return rc;
    rc = url_parse(&u, s, msg, sizeof(msg));
    if (rc == -EINVAL)
        return config_error(l->doc, n, l->err, l->errlen, "target: %s", msg);
    if (rc < 0)
        return rc;
    if (u.query[0] != '\0') {
        url_free(&u);
        return config_error(l->doc, n, l->err, l->errlen,
                            "target: \"%s\": a base URL cannot have a query, put it in the "
                            "step paths",
                            s);
    }
    rc = plan_target_add(l->p, &u, &idx, msg, sizeof(msg));
    url_free(&u);
    return rc;
}

/* A duration above zero, or the default when absent. */
static int plan_positive_duration(plan_loader *l, const config_node *map, const char *key,
                                  uint64_t *out)
{
    int rc = config_get_duration(l->doc, map, key, out, l->err, l->errlen);

    if (rc == 0 && *out == 0)
        return config_error(l->doc, config_map_get(l->doc, map, key), l->err, l->errlen,
                            "%s: \"0\": expected a duration above 0", key);
    return rc;
}

static int plan_read_net(plan_loader *l, const config_node *root)
{
    static const char *const tls_keys[] = {"insecure", "ca", NULL};
    static const char *const timeout_keys[] = {"connect", "response", NULL};
    const config_node *tls = config_map_get(l->doc, root, "tls");
    const config_node *to = config_map_get(l->doc, root, "timeouts");
    const char *ca = NULL;
    int64_t threads = 0;
    int rc;

    l->p->connect_timeout_ns = PLAN_DEFAULT_CONNECT;
    l->p->response_timeout_ns = PLAN_DEFAULT_RESPONSE;
    l->p->seed = PLAN_DEFAULT_SEED;
    rc = config_check_keys(l->doc, tls, tls_keys, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_bool(l->doc, tls, "insecure", &l->p->tls_insecure, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, tls, "ca", &ca, l->err, l->errlen);
    if (rc == 0 && ca != NULL) {
        l->p->tls_ca = plan_load_path(l, ca);
        if (l->p->tls_ca == NULL)
            return -ENOMEM;
        if (access(l->p->tls_ca, R_OK) != 0)
            return config_error(l->doc, config_map_get(l->doc, tls, "ca"), l->err, l->errlen,
                                "ca: cannot read '%s': %s", l->p->tls_ca, strerror(errno));
    }
    if (rc == 0)
        rc = config_check_keys(l->doc, to, timeout_keys, l->err, l->errlen);
    if (rc == 0)
        rc = plan_positive_duration(l, to, "connect", &l->p->connect_timeout_ns);
    if (rc == 0)
        rc = plan_positive_duration(l, to, "response", &l->p->response_timeout_ns);
    if (rc == 0)
        rc = config_get_int(l->doc, root, "threads", 0, 1024, &threads, l->err, l->errlen);
    l->p->threads = (uint32_t)threads;
    if (rc == 0)
        rc = config_get_u64(l->doc, root, "seed", &l->p->seed, l->err, l->errlen);
    return rc;
}

bool plan_is_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
            return false;
    }
    return true;
}

static int plan_read_headers(plan_loader *l, const config_node *root)
{
    const config_node *h = config_map_get(l->doc, root, "headers");

    if (h == NULL)
        return 0;
    if (!config_is_map(h))
        return config_error(l->doc, h, l->err, l->errlen,
                            "headers: found %s, expected a mapping of names to values",
                            config_kind(h));
    for (size_t i = 0; i < config_len(h); i++) {
        const config_node *k = config_map_key(l->doc, h, i);
        const config_node *v = config_map_value(l->doc, h, i);

        if (!plan_is_token(config_scalar(k)))
            return config_error(l->doc, k, l->err, l->errlen,
                                "headers: \"%s\": not a valid header name", config_scalar(k));
        if (!config_is_scalar(v) || config_is_null(v))
            return config_error(l->doc, v, l->err, l->errlen, "%s: expected a header value",
                                config_scalar(k));
    }
    l->headers = h;
    return 0;
}

static int plan_read_data(plan_loader *l, const config_node *root)
{
    static const char *const keys[] = {"csv", "mode", NULL};
    static const char *const modes[] = {"round_robin", "per_vu", NULL};
    const config_node *d = config_map_get(l->doc, root, "data");
    const char *csv = NULL;
    char msg[CONFIG_ERRLEN];
    char *path;
    int mode = 0, rc;

    if (d == NULL)
        return 0;
    rc = config_check_keys(l->doc, d, keys, l->err, l->errlen);
    if (rc == 0)
        rc = config_require(l->doc, d, "csv", l->err, l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, d, "csv", &csv, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_enum(l->doc, d, "mode", modes, &mode, l->err, l->errlen);
    if (rc < 0)
        return rc;
    l->p->data_mode = (plan_data_mode)mode;
    path = plan_load_path(l, csv);
    if (path == NULL)
        return -ENOMEM;
    rc = feeder_load(&l->p->data, path, 0, msg, sizeof(msg));
    free(path);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return config_error(l->doc, config_map_get(l->doc, d, "csv"), l->err, l->errlen, "csv: %s",
                            msg);
    l->p->has_data = true;
    return 0;
}

static int plan_read_thresholds(plan_loader *l, const config_node *root)
{
    const char **exprs = NULL;
    const config_node *n = config_map_get(l->doc, root, "thresholds");
    char msg[CONFIG_ERRLEN];
    size_t cnt = 0;
    int rc;

    rc = config_get_str_list(l->doc, root, "thresholds", &exprs, &cnt, l->err, l->errlen);
    if (rc < 0 || cnt == 0)
        return rc;
    l->p->thresholds = calloc(cnt, sizeof(threshold));
    if (l->p->thresholds == NULL) {
        free(exprs);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cnt && rc == 0; i++) {
        rc = threshold_parse(&l->p->thresholds[i], exprs[i], msg, sizeof(msg));
        if (rc < 0)
            rc = config_error(l->doc, config_is_seq(n) ? config_seq_item(l->doc, n, i) : n, l->err,
                              l->errlen, "thresholds[%zu]: %s", i, msg);
        else
            l->p->nthresholds++;
    }
    free(exprs);
    return rc;
}

/* Reads one scenario: executor, retry, setup and steps. */
static int plan_read_scenario(plan_loader *l, const config_node *key, const config_node *node,
                              size_t index)
{
    plan_scenario *s = &l->p->scenarios[index];
    plan_vars vars = {0};
    int rc;

    s->name = strdup(config_scalar(key));
    if (s->name == NULL)
        return -ENOMEM;
    rc = plan_exec_read(l, node, s, index);
    if (rc == 0)
        rc = plan_retry_read(l, config_map_get(l->doc, node, "retry"), &l->p->retry, &s->retry,
                             NULL);
    if (rc == 0 && config_map_get(l->doc, node, "setup") != NULL)
        rc = plan_steps_read(l, config_map_get(l->doc, node, "setup"), "setup", s, &vars, &s->setup,
                             &s->nsetup);
    if (rc == 0)
        rc = config_require(l->doc, node, "steps", l->err, l->errlen);
    if (rc == 0)
        rc = plan_steps_read(l, config_map_get(l->doc, node, "steps"), "steps", s, &vars, &s->steps,
                             &s->nsteps);
    free(vars.names);
    return rc;
}

static int plan_read_scenarios(plan_loader *l, const config_node *root)
{
    const config_node *sc = config_map_get(l->doc, root, "scenarios");
    int rc = config_require(l->doc, root, "scenarios", l->err, l->errlen);

    if (rc < 0)
        return rc;
    if (!config_is_map(sc) || config_len(sc) == 0)
        return config_error(l->doc, sc, l->err, l->errlen,
                            "scenarios: expected a mapping of scenario names to scenarios");
    l->p->scenarios = calloc(config_len(sc), sizeof(plan_scenario));
    if (l->p->scenarios == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < config_len(sc) && rc == 0; i++) {
        l->p->nscenarios++;
        rc = plan_read_scenario(l, config_map_key(l->doc, sc, i), config_map_value(l->doc, sc, i),
                                i);
    }
    return rc;
}

static int plan_read(plan_loader *l, const char *default_name)
{
    const config_node *root = config_root(l->doc);
    const char *name = default_name;
    retry_policy none;
    int rc;

    retry_policy_default(&none, 1);
    rc = config_check_keys(l->doc, root, plan_keys, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, root, "name", &name, l->err, l->errlen);
    if (rc == 0 && (l->p->name = strdup(name)) == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = plan_read_target(l, root);
    if (rc == 0)
        rc = plan_read_net(l, root);
    if (rc == 0)
        rc = plan_read_headers(l, root);
    if (rc == 0)
        rc = plan_read_data(l, root);
    if (rc == 0)
        rc = plan_auth_read(l, root);
    if (rc == 0)
        rc = plan_read_thresholds(l, root);
    if (rc == 0)
        rc = plan_retry_read(l, config_map_get(l->doc, root, "retry"), &none, &l->p->retry, NULL);
    if (rc == 0)
        rc = plan_read_scenarios(l, root);
    if (rc == 0)
        rc = plan_index_steps(l->p);
    return rc;
}

/* Loads an already parsed document; frees it. */
static int plan_load_doc(plan *p, config_doc *doc, const char *dir, const char *default_name,
                         char *err, size_t errlen)
{
    plan_loader l = {p, doc, dir, NULL, err, errlen};
    int rc = plan_read(&l, default_name);

    if (rc == -ERANGE) /* a number out of range is one more plan error */
        rc = -EINVAL;
    if (rc == -ENOMEM)
        config_error(doc, NULL, err, errlen, "out of memory");
    config_free(doc);
    if (rc < 0)
        plan_free(p);
    return rc;
}

int plan_load_string(plan *p, const char *name, const char *dir, const char *text, size_t len,
                     char *err, size_t errlen)
{
    config_doc doc;
    int rc;

    plan_init(p);
    rc = config_load_string(&doc, name, text, len, err, errlen);
    if (rc < 0)
        return rc;
    return plan_load_doc(p, &doc, dir, name, err, errlen);
}

int plan_load_file(plan *p, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    char *dir = NULL, *stem;
    config_doc doc;
    int rc;

    plan_init(p);
    rc = config_load_file(&doc, path, err, errlen);
    if (rc < 0)
        return rc;
    stem = strdup(base);
    if (slash != NULL)
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (stem == NULL || (slash != NULL && dir == NULL)) {
        rc = -ENOMEM;
        config_error(&doc, NULL, err, errlen, "out of memory");
        config_free(&doc);
        goto out;
    }
    if (strrchr(stem, '.') != NULL && strrchr(stem, '.') != stem)
        *strrchr(stem, '.') = '\0';
    rc = plan_load_doc(p, &doc, dir, stem, err, errlen);
    if (rc == 0 && (p->path = strdup(path)) == NULL) {
        plan_free(p);
        rc = -ENOMEM;
    }
out:
    free(stem);
    free(dir);
    return rc;
}

static void plan_scenario_free(plan_scenario *s)
{
    free(s->name);
    sched_vus_free(&s->vus);
    free(s->stages);
    for (size_t i = 0; i < s->nsetup; i++)
        plan_step_free(&s->setup[i]);
    free(s->setup);
    for (size_t i = 0; i < s->nsteps; i++)
        plan_step_free(&s->steps[i]);
    free(s->steps);
}

void plan_free(plan *p)
{
    free(p->name);
    free(p->path);
    for (size_t i = 0; i < p->ntargets; i++)
        url_free(&p->targets[i]);
    free(p->targets);
    free(p->tls_ca);
    url_free(&p->auth.token_url);
    for (size_t i = 0; i < p->auth.nclients; i++) {
        free(p->auth.clients[i].id);
        free(p->auth.clients[i].secret);
    }
    free(p->auth.clients);
    free(p->auth.scope);
    feeder_free(&p->data);
    free(p->thresholds);
    for (size_t i = 0; i < p->nscenarios; i++)
        plan_scenario_free(&p->scenarios[i]);
    free(p->scenarios);
    for (size_t i = 0; i < p->nsteps; i++)
        free(p->step_names[i]);
    free(p->step_names);
    memset(p, 0, sizeof(*p));
}
