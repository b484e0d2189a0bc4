#include "limit/policy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "limit/body429.h"
#include "limit/dialect.h"

int policy_new(limit_policy **out)
{
    limit_policy *p = calloc(1, sizeof(*p));

    *out = p;
    if (p == NULL)
        return -ENOMEM;
    p->dialects = DIALECT_BIT(DIALECT_IETF);
    p->body = BODY429_PROBLEM;
    return 0;
}

static void policy_limit_free(policy_limit *l)
{
    if (l == NULL)
        return;
    free(l->name);
    for (size_t i = 0; i < l->nmethods; i++)
        free(l->methods[i]);
    pattern_free(&l->path);
    free(l->header);
    scope_free(&l->scope);
    free(l);
}

void policy_free(limit_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        policy_limit_free(p->limits[i]);
    free(p);
}

static bool policy_name_ok(const char *name)
{
    size_t n = name == NULL ? 0 : strlen(name);

    if (n == 0 || n > SCOPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
            return false;
    return true;
}

/* RFC 9110 token: what methods and header names are made of. */
static bool policy_token_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
            return false;
    return true;
}

static int policy_methods(policy_limit *l, const policy_spec *spec, char *err, size_t errlen)
{
    if (spec->nmethods > POLICY_MAX_METHODS)
        return err_set(err, errlen, -EINVAL, "methods: more than %d", POLICY_MAX_METHODS);
    if (spec->nmethods > 0 && spec->methods == NULL)
        return err_set(err, errlen, -EINVAL, "methods: %zu announced, none given", spec->nmethods);
    for (size_t i = 0; i < spec->nmethods; i++) {
        char *m;

        if (!policy_token_ok(spec->methods[i]))
            return err_set(err, errlen, -EINVAL, "methods: '%s' is not a method name",
                           spec->methods[i] == NULL ? "" : spec->methods[i]);
        m = strdup(spec->methods[i]);
        if (m == NULL)
            return -ENOMEM;
        for (char *c = m; *c != '\0'; c++)
            *c = (char)toupper((unsigned char)*c);
        l->methods[l->nmethods++] = m;
    }
    return 0;
}

static int policy_algorithm(policy_limit *l, const policy_spec *spec, char *err, size_t errlen)
{
    enum algo_kind kind = ALGO_GCRA;
    int rc;

    if (spec->algorithm != NULL) {
        rc = algo_parse(spec->algorithm, &kind, err, errlen);
        if (rc != 0)
            return rc;
    } else if (spec->concurrency > 0 && spec->rate.count == 0) {
        kind = ALGO_CONCURRENCY;
    }
    if (kind == ALGO_CONCURRENCY) {
        if (spec->rate.count != 0 || spec->burst != 0)
            return err_set(err, errlen, -EINVAL,
                           "rate: a concurrency cap takes no rate or burst, only concurrency");
        if (spec->cost > 1)
            return err_set(err, errlen, -EINVAL,
                           "cost: a concurrency cap counts requests, cost must be 1");
    } else if (spec->concurrency != 0) {
        return err_set(err, errlen, -EINVAL, "concurrency: only for algorithm concurrency, not %s",
                       algo_name(kind));
    }
    rc =
        algo_params_init(&l->params, kind, spec->rate, spec->burst, spec->concurrency, err, errlen);
    if (rc != 0)
        return rc;
    l->cost = spec->cost == 0 ? 1 : spec->cost;
    if (l->cost > l->params.quota)
        return err_set(err, errlen, -EINVAL,
                       "cost: %" PRIu64 " exceeds the %s (%" PRIu64
                       "): such a request could never be admitted",
                       l->cost, kind == ALGO_GCRA ? "burst" : "rate's count", l->params.quota);
    return 0;
}

static int policy_limit_build(policy_limit *l, const policy_spec *spec, char *err, size_t errlen)
{
    int rc;

    l->name = strdup(spec->name);
    if (l->name == NULL)
        return -ENOMEM;
    l->name_len = strlen(l->name);
    rc = policy_methods(l, spec, err, errlen);
    if (rc != 0)
        return rc;
    rc = pattern_init(&l->path, spec->path == NULL ? "/**" : spec->path, err, errlen);
    if (rc != 0)
        return rc;
    if (spec->header != NULL) {
        if (!policy_token_ok(spec->header))
            return err_set(err, errlen, -EINVAL, "header: '%s' is not a valid header name",
                           spec->header);
        l->header = strdup(spec->header);
        if (l->header == NULL)
            return -ENOMEM;
    }
    rc = scope_init(&l->scope, spec->scope, spec->nscope, &l->path, err, errlen);
    if (rc != 0)
        return rc;
    return policy_algorithm(l, spec, err, errlen);
}

int policy_add_limit(limit_policy *p, const policy_spec *spec, char *err, size_t errlen)
{
    policy_limit *l;
    int rc;

    if (!policy_name_ok(spec->name))
        return err_set(err, errlen, -EINVAL,
                       "name: '%s' must be 1 to %d letters, digits, '.', '_' or '-'",
                       spec->name == NULL ? "" : spec->name, SCOPE_NAME_MAX);
    if (policy_find(p, spec->name) != NULL)
        return err_set(err, errlen, -EINVAL, "name: '%s' is already used by another limit",
                       spec->name);
    if (p->n == POLICY_MAX_LIMITS)
        return err_set(err, errlen, -E2BIG, "limits: at most %d per policy", POLICY_MAX_LIMITS);
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    rc = policy_limit_build(l, spec, err, errlen);
    if (rc != 0)
        goto err;
    if (l->params.kind == ALGO_CONCURRENCY && p->nholds == POLICY_MAX_HOLDS) {
        rc = err_set(err, errlen, -E2BIG, "concurrency: at most %d concurrency caps per policy",
                     POLICY_MAX_HOLDS);
        goto err;
    }
    if (l->params.kind == ALGO_CONCURRENCY)
        p->nholds++;
    p->limits[p->n++] = l;
    return 0;
err:
    if (rc == -ENOMEM)
        err_set(err, errlen, rc, "out of memory");
    policy_limit_free(l);
    return rc;
}

int policy_set_dialects(limit_policy *p, const char *const *names, size_t n, char *err,
                        size_t errlen)
{
    unsigned mask = 0;
    enum dialect_id id;
    int rc;

    for (size_t i = 0; i < n; i++) {
        rc = dialect_parse(names[i], &id, err, errlen);
        if (rc != 0)
            return rc;
        mask |= DIALECT_BIT(id);
    }
    rc = dialect_check(mask, err, errlen);
    if (rc != 0)
        return rc;
    p->dialects = mask;
    return 0;
}

int policy_set_body(limit_policy *p, const char *name, char *err, size_t errlen)
{
    enum body429_kind kind;
    int rc = body429_parse(name, &kind, err, errlen);

    if (rc == 0)
        p->body = kind;
    return rc;
}

const policy_limit *policy_find(const limit_policy *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (name != NULL && strcmp(p->limits[i]->name, name) == 0)
            return p->limits[i];
    return NULL;
}

bool policy_limit_matches(const policy_limit *l, const limit_request *r, limit_slice *caps)
{
    limit_slice v;

    if (l->nmethods > 0) {
        size_t i;

        for (i = 0; i < l->nmethods; i++)
            if (r->method.p != NULL && strlen(l->methods[i]) == r->method.n &&
                memcmp(l->methods[i], r->method.p, r->method.n) == 0)
                break;
        if (i == l->nmethods)
            return false;
    }
    if (!pattern_match(&l->path, r->path, caps))
        return false;
    return l->header == NULL || request_header(r, l->header, strlen(l->header), &v);
}

/* The rate's period in seconds: an integer when whole, else a real. */
static json_t *policy_period(uint64_t ns)
{
    if (ns % 1000000000ULL == 0)
        return json_integer((json_int_t)(ns / 1000000000ULL));
    return json_real((double)ns / 1e9);
}

static json_t *policy_limit_json(const policy_limit *l)
{
    const algo_params *ap = &l->params;
    json_t *o = json_object(), *match = json_object(), *parts = json_array(), *methods;
    char part[SCOPE_NAME_MAX + 16];

    if (o == NULL || match == NULL || parts == NULL)
        goto err;
    methods = l->nmethods > 0 ? json_array() : json_null();
    for (size_t i = 0; i < l->nmethods; i++)
        json_array_append_new(methods, json_string(l->methods[i]));
    json_object_set_new(match, "methods", methods);
    json_object_set_new(match, "path", json_string(l->path.src));
    if (l->header != NULL)
        json_object_set_new(match, "header", json_string(l->header));
    for (size_t i = 0; i < l->scope.n; i++) {
        scope_part_string(&l->scope.parts[i], part, sizeof(part));
        json_array_append_new(parts, json_string(part));
    }
    json_object_set_new(o, "name", json_string(l->name));
    json_object_set_new(o, "match", match);
    json_object_set_new(o, "scope", parts);
    json_object_set_new(o, "algorithm", json_string(algo_name(ap->kind)));
    if (ap->kind == ALGO_CONCURRENCY) {
        json_object_set_new(o, "rate", json_null());
        json_object_set_new(o, "burst", json_null());
        json_object_set_new(o, "concurrency", json_integer((json_int_t)ap->quota));
    } else {
        json_object_set_new(o, "rate",
                            json_pack("{s:I, s:o}", "count", (json_int_t)ap->count, "period_s",
                                      policy_period(ap->period_ns)));
        json_object_set_new(
            o, "burst", ap->kind == ALGO_GCRA ? json_integer((json_int_t)ap->quota) : json_null());
        json_object_set_new(o, "concurrency", json_null());
    }
    if (l->cost != 1)
        json_object_set_new(o, "cost", json_integer((json_int_t)l->cost));
    return o;
err:
    json_decref(o);
    json_decref(match);
    json_decref(parts);
    return NULL;
}

json_t *policy_to_json(const limit_policy *p)
{
    json_t *limits = json_array();

    if (limits == NULL)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        json_t *l = policy_limit_json(p->limits[i]);

        if (l == NULL || json_array_append_new(limits, l) != 0) {
            json_decref(limits);
            return NULL;
        }
    }
    return json_pack("{s:o}", "limits", limits);
}

char *policy_to_json_string(const limit_policy *p)
{
    json_t *j = policy_to_json(p);
    char *s;

    if (j == NULL)
        return NULL;
    s = json_dumps(j, JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}
