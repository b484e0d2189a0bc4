/*
 * plan_step: the steps of a scenario (method, path, headers, body, expect,
 * capture, retry, think time), with every template's variables checked
 * against the built-ins, the data columns and the captures of earlier steps,
 * so that a typo fails at load time rather than on every iteration.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/config_get.h"
#include "run/plan_load.h"

static const char *const step_keys[] = {"name",   "method",  "path",  "headers",    "json", "body",
                                        "expect", "capture", "retry", "think_time", NULL};

/* What a template check needs to know. */
typedef struct step_check {
    const plan_loader *l;
    const plan_vars *vars;
    const char *step; /* the step's name */
    const char *key;  /* where the template is: "path", "body", a header name */
} step_check;

static bool step_var_known(const step_check *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->vars->n; i++) {
        if (strlen(c->vars->names[i]) == len && memcmp(c->vars->names[i], name, len) == 0)
            return true;
    }
    return c->l->p->has_data && feeder_column(&c->l->p->data, name, len) >= 0;
}

static int step_check_tmpl(void *ctx, const tmpl *t, const config_node *node)
{
    const step_check *c = ctx;

    for (size_t i = 0; i < tmpl_var_count(t); i++) {
        size_t len;
        const char *name = tmpl_var(t, i, &len);

        if (step_var_known(c, name, len))
            continue;
        return config_error(c->l->doc, node, c->l->err, c->l->errlen,
                            "%s: step '%s' uses '{{%.*s}}', which no earlier step captures and %s",
                            c->key, c->step, (int)len, name,
                            c->l->p->has_data ? "the data file does not provide"
                                              : "there is no data file");
    }
    return 0;
}

/* Compiles `len` bytes of `text` found at `node` into *t and checks its variables. */
static int step_tmpl(step_check *c, const config_node *node, const char *text, size_t len, tmpl *t)
{
    char msg[CONFIG_ERRLEN];
    int rc = tmpl_compile(t, text, len, msg, sizeof(msg));

    if (rc == -EINVAL)
        return config_error(c->l->doc, node, c->l->err, c->l->errlen, "%s: %s", c->key, msg);
    if (rc == 0)
        rc = step_check_tmpl(c, t, node);
    if (rc < 0)
        tmpl_free(t);
    return rc;
}

int plan_tmpl_from_text(tmpl *t, const char *what, const char *text, char *err, size_t errlen)
{
    char msg[256];
    int rc = tmpl_compile(t, text, strlen(text), msg, sizeof(msg));

    if (rc == -EINVAL)
        snprintf(err, errlen, "%s: %s", what, msg);
    return rc;
}

static int step_method(const plan_loader *l, const config_node *node, plan_step *st)
{
    static const char *const known[] = {"GET",     "HEAD",  "POST",  "PUT", "DELETE",
                                        "OPTIONS", "PATCH", "TRACE", NULL};
    const char *m = "GET";
    int rc = config_get_str(l->doc, node, "method", &m, l->err, l->errlen);
    const config_node *at = config_map_get(l->doc, node, "method");
    char up[16];
    size_t i;

    if (rc < 0)
        return rc;
    for (i = 0; m[i] != '\0' && i + 1 < sizeof(up); i++)
        up[i] = (char)toupper((unsigned char)m[i]);
    up[i] = '\0';
    if (strcmp(up, m) != 0 && m[i] == '\0') {
        for (size_t k = 0; known[k] != NULL; k++) {
            if (strcmp(known[k], up) == 0)
                return config_error(l->doc, at, l->err, l->errlen,
                                    "method: \"%s\": methods are case-sensitive (did you mean "
                                    "'%s'?)",
                                    m, up);
        }
    }
    if (!plan_is_token(m))
        return config_error(l->doc, at, l->err, l->errlen,
                            "method: \"%s\": expected an HTTP method such as GET or POST", m);
    st->method = strdup(m);
    if (st->method == NULL)
        return -ENOMEM;
    st->idempotent = retry_method_idempotent(m, strlen(m));
    return 0;
}

/* `path`: relative to the target (its path joined in) or an absolute URL
 * whose scheme, host and port are not templated. */
static int step_path(step_check *c, const config_node *node, plan_step *st)
{
    const plan_loader *l = c->l;
    const config_node *at = config_map_get(l->doc, node, "path");
    const char *path = NULL, *rest;
    char joined[URL_MAX], origin[URL_MAX], msg[CONFIG_ERRLEN];
    url u;
    int rc = config_require(l->doc, node, "path", l->err, l->errlen);

    if (rc == 0)
        rc = config_get_str(l->doc, node, "path", &path, l->err, l->errlen);
    if (rc < 0)
        return rc;
    c->key = "path";
    if (strncmp(path, "http://", 7) != 0 && strncmp(path, "https://", 8) != 0) {
        if (url_join_path(l->p->targets[0].path, path, joined, sizeof(joined)) < 0)
            return config_error(l->doc, at, l->err, l->errlen, "path: too long");
        /* Compiled as written first, so error columns match the plan. */
        rc = step_tmpl(c, at, path, strlen(path), &st->path);
        if (rc < 0 || strcmp(joined, path) == 0)
            return rc;
        tmpl_free(&st->path);
        return step_tmpl(c, at, joined, strlen(joined), &st->path);
    }
    rest = strstr(path, "://") + 3;
    rest += strcspn(rest, "/?");
    if (memmem(path, (size_t)(rest - path), "{{", 2) != NULL)
        return config_error(l->doc, at, l->err, l->errlen,
                            "path: \"%s\": the scheme, host and port of a URL cannot be templated",
                            path);
    snprintf(origin, sizeof(origin), "%.*s", (int)(rest - path), path);
    rc = url_parse(&u, origin, msg, sizeof(msg));
    if (rc == 0) {
        rc = plan_target_add(l->p, &u, &st->target, msg, sizeof(msg));
        url_free(&u);
    }
    if (rc == -EINVAL)
        return config_error(l->doc, at, l->err, l->errlen, "path: %s", msg);
    if (rc < 0)
        return rc;
    snprintf(joined, sizeof(joined), "%s%s", *rest == '/' ? "" : "/", rest);
    return step_tmpl(c, at, joined, strlen(joined), &st->path);
}

static int step_add_header(plan_step *st, const char *name)
{
    plan_header *h = realloc(st->headers, (st->nheaders + 1) * sizeof(*h));

    if (h == NULL)
        return -ENOMEM;
    st->headers = h;
    memset(&h[st->nheaders], 0, sizeof(*h));
    h[st->nheaders].name = strdup(name);
    if (h[st->nheaders].name == NULL)
        return -ENOMEM;
    st->nheaders++;
    return 0;
}

/* The plan's headers not overridden by the step's, then the step's. */
static int step_headers(step_check *c, const config_node *node, plan_step *st)
{
    const plan_loader *l = c->l;
    const config_node *sh = config_map_get(l->doc, node, "headers");
    const config_node *maps[2] = {l->headers, sh};
    int rc = 0;

    if (sh != NULL && !config_is_map(sh))
        return config_error(l->doc, sh, l->err, l->errlen,
                            "headers: found %s, expected a mapping of names to values",
                            config_kind(sh));
    for (size_t m = 0; m < 2 && rc == 0; m++) {
        for (size_t i = 0; i < config_len(maps[m]) && rc == 0; i++) {
            const config_node *k = config_map_key(l->doc, maps[m], i);
            const config_node *v = config_map_value(l->doc, maps[m], i);
            const char *name = config_scalar(k);
            bool overridden = false;

            for (size_t j = 0; m == 0 && j < config_len(sh); j++)
                overridden |= strcasecmp(name, config_scalar(config_map_key(l->doc, sh, j))) == 0;
            if (overridden)
                continue;
            if (m == 1 && (!config_is_scalar(v) || config_is_null(v)))
                return config_error(l->doc, v, l->err, l->errlen, "%s: expected a header value",
                                    name);
            if (m == 1 && !plan_is_token(name))
                return config_error(l->doc, k, l->err, l->errlen,
                                    "headers: \"%s\": not a valid header name", name);
            rc = step_add_header(st, name);
            c->key = name;
            if (rc == 0)
                rc = step_tmpl(c, v, config_scalar(v), v->data.scalar.length,
                               &st->headers[st->nheaders - 1].value);
        }
    }
    return rc;
}

int plan_read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    buf b;
    int rc = 0;

    if (f == NULL)
        return -errno;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return -EISDIR; /* not a regular file: a device or pipe could block or never end */
    }
    buf_init(&b, PLAN_FILE_MAX);
    while (rc == 0) {
        rc = buf_reserve(&b, 65536);
        if (rc < 0)
            break;
        size_t n = fread(buf_tail(&b), 1, buf_room(&b), f);
        buf_commit(&b, n);
        if (n == 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    if (rc == 0)
        rc = buf_reserve(&b, 1);
    if (rc == 0)
        *buf_tail(&b) = '\0';
    fclose(f);
    if (rc < 0) {
        buf_free(&b);
        return rc == -ENOBUFS ? -EFBIG : rc;
    }
    *out = b.data; /* off is 0: nothing was consumed */
    *len = b.len;
    return 0;
}

static int step_body(step_check *c, const config_node *node, plan_step *st)
{
    const plan_loader *l = c->l;
    const config_node *json = config_map_get(l->doc, node, "json");
    const config_node *body = config_map_get(l->doc, node, "body");
    const char *text = NULL;
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (json != NULL && body != NULL)
        return config_error(l->doc, body, l->err, l->errlen,
                            "body: a step has either json or body, not both");
    if (json != NULL) {
        bool has_ct = false;

        c->key = "json";
        st->body_kind = PLAN_BODY_JSON;
        rc = plan_json_compile(&st->json, l->doc, json, step_check_tmpl, c, l->err, l->errlen);
        for (size_t i = 0; rc == 0 && i < st->nheaders; i++)
            has_ct |= strcasecmp(st->headers[i].name, "Content-Type") == 0;
        if (rc == 0 && !has_ct) {
            rc = step_add_header(st, "Content-Type");
            if (rc == 0)
                rc = plan_tmpl_from_text(&st->headers[st->nheaders - 1].value, "Content-Type",
                                         "application/json", l->err, l->errlen);
        }
        return rc;
    }
    rc = config_get_str(l->doc, node, "body", &text, l->err, l->errlen);
    if (rc < 0 || text == NULL)
        return rc;
    c->key = "body";
    if (text[0] != '@') {
        st->body_kind = PLAN_BODY_RAW;
        return step_tmpl(c, body, text, body->data.scalar.length, &st->body);
    }
    st->body_kind = PLAN_BODY_FILE;
    st->body_file = plan_load_path(l, text + 1);
    if (st->body_file == NULL)
        return -ENOMEM;
    rc = plan_read_file(st->body_file, &data, &len);
    if (rc == -ENOMEM)
        return rc;
    if (rc == -EISDIR)
        return config_error(l->doc, body, l->err, l->errlen, "body: '%s' is not a regular file",
                            st->body_file);
    if (rc < 0)
        return config_error(l->doc, body, l->err, l->errlen, "body: cannot read '%s': %s",
                            st->body_file, strerror(-rc));
    rc = step_tmpl(c, body, data, len, &st->body);
    free(data);
    return rc;
}

static int plan_vars_add(plan_vars *v, const char *name)
{
    if (v->n == v->cap) {
        size_t cap = v->cap == 0 ? 8 : 2 * v->cap;
        const char **n = realloc(v->names, cap * sizeof(*n));

        if (n == NULL)
            return -ENOMEM;
        v->names = n;
        v->cap = cap;
    }
    v->names[v->n++] = name;
    return 0;
}

/* Refuses a name already used by another step of the scenario. */
static int step_unique(const plan_loader *l, const config_node *node, const plan_scenario *s,
                       const plan_step *st)
{
    const plan_step *lists[2] = {s->setup, s->steps};
    size_t counts[2] = {s->nsetup, s->nsteps};

    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < counts[k]; i++) {
            if (&lists[k][i] != st && lists[k][i].name != NULL &&
                strcmp(lists[k][i].name, st->name) == 0)
                return config_error(l->doc, node, l->err, l->errlen,
                                    "step name '%s' is used twice in scenario '%s'; give each "
                                    "step its own name",
                                    st->name, s->name);
        }
    }
    return 0;
}

/* The steps list being read, for restart_from: the steps before the one
 * being read are loaded, the later ones are only YAML. */
typedef struct step_list {
    const config_node *seq; /* the YAML sequence */
    const char *key;        /* "steps" or "setup" */
    plan_step *steps;       /* steps[0 .. index) are read */
    size_t index;           /* the step being read */
} step_list;

/* Resolves `retry: {restart_from: NAME}` (at node v) of step st, the
 * list's step `index`, to an earlier step of the same list. */
static int step_restart(const plan_loader *l, const config_node *v, const plan_scenario *s,
                        const step_list *sl, plan_step *st)
{
    const char *name = config_scalar(v);
    const char *other = strcmp(sl->key, "setup") == 0 ? "steps" : "setup";
    const plan_step *ol = strcmp(sl->key, "setup") == 0 ? s->steps : s->setup;
    size_t on = strcmp(sl->key, "setup") == 0 ? s->nsteps : s->nsetup;

    for (size_t i = 0; i < sl->index; i++) {
        if (strcmp(sl->steps[i].name, name) == 0) {
            st->restart = true;
            st->restart_from = i;
            return 0;
        }
    }
    if (strcmp(st->name, name) == 0)
        return config_error(l->doc, v, l->err, l->errlen,
                            "restart_from: \"%s\" is this step; name an earlier step of "
                            "scenario '%s' (a plain retry sends this step again)",
                            name, s->name);
    for (size_t i = sl->index + 1; i < config_len(sl->seq); i++) {
        const config_node *n = config_map_get(l->doc, config_seq_item(l->doc, sl->seq, i), "name");

        if (n != NULL && config_is_scalar(n) && strcmp(config_scalar(n), name) == 0)
            return config_error(l->doc, v, l->err, l->errlen,
                                "restart_from: \"%s\" comes after step '%s'; a retry can only "
                                "go back to an earlier step",
                                name, st->name);
    }
    for (size_t i = 0; i < on; i++) {
        if (ol[i].name != NULL && strcmp(ol[i].name, name) == 0)
            return config_error(l->doc, v, l->err, l->errlen,
                                "restart_from: \"%s\" is in the scenario's %s; a step can only "
                                "restart from an earlier step of its own list (%s)",
                                name, other, sl->key);
    }
    return config_error(l->doc, v, l->err, l->errlen,
                        "restart_from: \"%s\": no earlier step of scenario '%s' has that name",
                        name, s->name);
}

static int step_read(const plan_loader *l, const config_node *node, const plan_scenario *s,
                     plan_vars *vars, const step_list *sl, plan_step *st)
{
    step_check c = {l, vars, NULL, NULL};
    const char *name = NULL, *path = NULL;
    const config_node *restart = NULL;
    int rc;

    if (!config_is_map(node))
        return config_error(l->doc, node, l->err, l->errlen,
                            "step: found %s, expected a mapping with at least a path",
                            config_kind(node));
    rc = config_check_keys(l->doc, node, step_keys, l->err, l->errlen);
    if (rc == 0)
        rc = step_method(l, node, st);
    if (rc == 0)
        rc = config_get_str(l->doc, node, "name", &name, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, node, "path", &path, l->err, l->errlen);
    if (rc < 0)
        return rc;
    if (name != NULL)
        st->name = strdup(name);
    else if (asprintf(&st->name, "%s %s", st->method, path != NULL ? path : "") < 0)
        st->name = NULL;
    if (st->name == NULL)
        return -ENOMEM;
    c.step = st->name;
    rc = step_unique(l, node, s, st);
    if (rc == 0)
        rc = step_path(&c, node, st);
    if (rc == 0)
        rc = step_headers(&c, node, st);
    if (rc == 0)
        rc = step_body(&c, node, st);
    if (rc == 0)
        rc = plan_expect_read(l, node, st);
    if (rc == 0)
        rc = plan_captures_read(l, node, st);
    if (rc == 0)
        rc = plan_retry_read(l, config_map_get(l->doc, node, "retry"), &s->retry, &st->retry,
                             &restart);
    if (rc == 0 && restart != NULL)
        rc = step_restart(l, restart, s, sl, st);
    if (rc == 0)
        rc = config_get_duration(l->doc, node, "think_time", &st->think_time_ns, l->err, l->errlen);
    for (size_t i = 0; i < st->ncaptures && rc == 0; i++)
        rc = plan_vars_add(vars, st->captures[i].var);
    return rc;
}

int plan_steps_read(const plan_loader *l, const config_node *node, const char *key,
                    const plan_scenario *s, plan_vars *vars, plan_step **steps, size_t *n)
{
    int rc = 0;

    if (!config_is_seq(node) || config_len(node) == 0)
        return config_error(l->doc, node, l->err, l->errlen, "%s: expected a list of steps", key);
    *steps = calloc(config_len(node), sizeof(plan_step));
    if (*steps == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < config_len(node) && rc == 0; i++) {
        step_list sl = {node, key, *steps, i};

        (*n)++;
        rc = step_read(l, config_seq_item(l->doc, node, i), s, vars, &sl, &(*steps)[i]);
    }
    return rc;
}

void plan_step_free(plan_step *st)
{
    free(st->name);
    free(st->method);
    tmpl_free(&st->path);
    for (size_t i = 0; i < st->nheaders; i++) {
        free(st->headers[i].name);
        tmpl_free(&st->headers[i].value);
    }
    free(st->headers);
    tmpl_free(&st->body);
    free(st->body_file);
    plan_json_free(&st->json);
    for (size_t i = 0; i < st->ncaptures; i++) {
        free(st->captures[i].var);
        capture_free(&st->captures[i].cap);
    }
    free(st->captures);
    memset(st, 0, sizeof(*st));
}

/* Whether a scenario other than `self` has a step named `name`. */
static bool plan_name_shared(const plan *p, size_t self, const char *name)
{
    for (size_t k = 0; k < p->nscenarios; k++) {
        const plan_scenario *s = &p->scenarios[k];

        for (size_t i = 0; k != self && i < s->nsetup + s->nsteps; i++) {
            const plan_step *st = i < s->nsetup ? &s->setup[i] : &s->steps[i - s->nsetup];

            if (strcmp(st->name, name) == 0)
                return true;
        }
    }
    return false;
}

int plan_index_steps(plan *p)
{
    size_t total = 0, idx = 0;

    for (size_t k = 0; k < p->nscenarios; k++)
        total += p->scenarios[k].nsetup + p->scenarios[k].nsteps;
    p->step_names = calloc(total + 1, sizeof(char *));
    if (p->step_names == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < p->nscenarios; k++) {
        plan_scenario *s = &p->scenarios[k];

        for (size_t i = 0; i < s->nsetup + s->nsteps; i++, idx++) {
            plan_step *st = i < s->nsetup ? &s->setup[i] : &s->steps[i - s->nsetup];
            int n;

            st->index = (uint32_t)idx;
            if (plan_name_shared(p, k, st->name))
                n = asprintf(&p->step_names[idx], "%s/%s", s->name, st->name);
            else
                n = (p->step_names[idx] = strdup(st->name)) == NULL ? -1 : 0;
            if (n < 0) {
                p->step_names[idx] = NULL;
                return -ENOMEM;
            }
            p->nsteps++;
        }
    }
    return 0;
}
