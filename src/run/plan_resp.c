/*
 * plan_resp: the response side of a step: which statuses are ok (`expect`)
 * and what is taken from the response for later steps (`capture`).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_get.h"
#include "run/plan_load.h"

/* Names a capture may not take: the built-ins win over variables. */
static const char *const resp_builtins[] = {"uuid",   "iteration",  "vu",
                                            "now_ms", "random_int", NULL};

/* One `expect` item: a status 100-599 or a class 1xx-5xx. */
static int step_expect_item(const plan_loader *l, const config_node *it, plan_step *st)
{
    const char *s = config_is_scalar(it) ? config_scalar(it) : "";
    char *end;
    long v;

    if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && tolower((unsigned char)s[1]) == 'x' &&
        tolower((unsigned char)s[2]) == 'x') {
        for (int c = (s[0] - '0') * 100; c < (s[0] - '0') * 100 + 100; c++)
            st->expect[c / 64] |= 1ull << (c % 64);
        return 0;
    }
    v = strtol(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || v < 100 || v > PLAN_STATUS_MAX)
        return config_error(l->doc, it, l->err, l->errlen,
                            "expect: \"%s\": expected a status 100-599 or a class 1xx-5xx", s);
    st->expect[v / 64] |= 1ull << (v % 64);
    return 0;
}

int plan_expect_read(const plan_loader *l, const config_node *node, plan_step *st)
{
    const config_node *e = config_map_get(l->doc, node, "expect");
    int rc = 0;

    if (e == NULL) {
        plan_step_expect_default(st);
        return 0;
    }
    if (config_is_map(e) || (config_is_seq(e) && config_len(e) == 0))
        return config_error(l->doc, e, l->err, l->errlen,
                            "expect: expected a status or a list of statuses such as [200, 201]");
    if (config_is_scalar(e))
        return step_expect_item(l, e, st);
    for (size_t i = 0; i < config_len(e) && rc == 0; i++)
        rc = step_expect_item(l, config_seq_item(l->doc, e, i), st);
    return rc;
}

static bool step_var_name_ok(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
            return false;
    }
    return true;
}

static int step_capture_one(const plan_loader *l, const config_node *k, const config_node *v,
                            plan_capture *c)
{
    static const char *const keys[] = {"header", "json", NULL};
    const char *var = config_scalar(k), *s = NULL;
    char msg[CONFIG_ERRLEN];
    bool header = false;
    int rc;

    if (!step_var_name_ok(var))
        return config_error(l->doc, k, l->err, l->errlen,
                            "capture: \"%s\": not a variable name (letters, digits, _ . -, "
                            "starting with a letter or _)",
                            var);
    for (size_t i = 0; resp_builtins[i] != NULL; i++) {
        if (strcmp(var, resp_builtins[i]) == 0)
            return config_error(l->doc, k, l->err, l->errlen,
                                "capture: '%s' is a built-in variable, choose another name", var);
    }
    if (config_is_map(v)) {
        rc = config_check_keys(l->doc, v, keys, l->err, l->errlen);
        if (rc < 0)
            return rc;
        header = config_map_get(l->doc, v, "header") != NULL;
        if (config_len(v) != 1)
            return config_error(l->doc, v, l->err, l->errlen,
                                "%s: expected one of {header: NAME} or {json: $.path}", var);
        v = config_map_value(l->doc, v, 0);
        s = config_is_scalar(v) ? config_scalar(v) : NULL;
    } else if (config_is_scalar(v) && !config_is_null(v)) {
        s = config_scalar(v);
        if (strncasecmp(s, "header:", 7) == 0) {
            header = true;
            for (s += 7; *s == ' '; s++)
                ;
        }
    }
    if (s == NULL || (!header && s[0] != '$'))
        return config_error(l->doc, v, l->err, l->errlen,
                            "%s: expected a JSON path such as $.id, or header:NAME", var);
    c->var = strdup(var);
    if (c->var == NULL)
        return -ENOMEM;
    rc = header ? capture_init_header(&c->cap, s, msg, sizeof(msg))
                : capture_init_json(&c->cap, s, msg, sizeof(msg));
    if (rc == -EINVAL)
        return config_error(l->doc, v, l->err, l->errlen, "%s: %s", var, msg);
    return rc;
}

int plan_captures_read(const plan_loader *l, const config_node *node, plan_step *st)
{
    const config_node *c = config_map_get(l->doc, node, "capture");
    int rc = 0;

    if (c == NULL)
        return 0;
    if (!config_is_map(c))
        return config_error(l->doc, c, l->err, l->errlen,
                            "capture: found %s, expected a mapping of variables to $.paths or "
                            "header:NAME",
                            config_kind(c));
    st->captures = calloc(config_len(c), sizeof(*st->captures));
    if (st->captures == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < config_len(c) && rc == 0; i++) {
        st->ncaptures++;
        rc = step_capture_one(l, config_map_key(l->doc, c, i), config_map_value(l->doc, c, i),
                              &st->captures[i]);
    }
    return rc;
}

void plan_step_expect_default(plan_step *st)
{
    memset(st->expect, 0, sizeof(st->expect));
    for (int s = 200; s < 400; s++)
        st->expect[s / 64] |= 1ull << (s % 64);
}
