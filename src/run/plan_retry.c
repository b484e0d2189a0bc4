/*
 * plan_retry: `retry:` sections at plan, scenario and step level. Each level
 * starts from the policy of the level above and sets only the options it
 * names, through retry_policy_set, so the text of every option is read in
 * one place (run/retry.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/config_get.h"
#include "run/plan_load.h"

static const char *const retry_keys[] = {"on",
                                         "max_attempts",
                                         "backoff",
                                         "base",
                                         "cap",
                                         "multiplier",
                                         "jitter",
                                         "honor_retry_after",
                                         "retry_after_max",
                                         "budget",
                                         "retry_non_idempotent",
                                         "restart_from",
                                         NULL};

/* Sets one option, putting the node's position in front of retry's message. */
static int retry_set_at(const plan_loader *l, retry_policy *p, const config_node *at,
                        const char *key, const char *value)
{
    char msg[CONFIG_ERRLEN];

    if (retry_policy_set(p, key, value, msg, sizeof(msg)) < 0)
        return config_error(l->doc, at, l->err, l->errlen, "%s", msg);
    return 0;
}

/* `on`: a scalar, or a list whose items are checked one by one. */
static int retry_read_on(const plan_loader *l, retry_policy *p, const config_node *v)
{
    retry_policy scratch = *p;
    buf all;
    int rc = 0;

    if (config_is_scalar(v) && !config_is_null(v))
        return retry_set_at(l, p, v, "on", config_scalar(v));
    if (!config_is_seq(v))
        return config_error(l->doc, v, l->err, l->errlen,
                            "on: expected a list of statuses, 4xx, 5xx, connect-error, timeout");
    buf_init(&all, 0);
    for (size_t i = 0; i < config_len(v) && rc == 0; i++) {
        const config_node *it = config_seq_item(l->doc, v, i);

        if (!config_is_scalar(it) || config_is_null(it))
            rc = config_error(l->doc, it, l->err, l->errlen,
                              "on[%zu]: expected a status, 4xx, 5xx, connect-error or timeout", i);
        if (rc == 0)
            rc = retry_set_at(l, &scratch, it, "on", config_scalar(it));
        if (rc == 0)
            rc = buf_printf(&all, "%s%s", i > 0 ? "," : "", config_scalar(it));
    }
    if (rc == 0)
        rc = buf_append(&all, "", 1);
    if (rc == 0)
        rc = retry_set_at(l, p, v, "on", buf_ptr(&all));
    buf_free(&all);
    return rc;
}

static int retry_read_budget(const plan_loader *l, retry_policy *p, const config_node *v)
{
    static const char *const keys[] = {"ratio", "min_per_s", NULL};
    const config_node *r, *m;
    int rc;

    if (!config_is_map(v))
        return retry_set_at(l, p, v, "budget", config_scalar(v) != NULL ? config_scalar(v) : "");
    rc = config_check_keys(l->doc, v, keys, l->err, l->errlen);
    r = config_map_get(l->doc, v, "ratio");
    m = config_map_get(l->doc, v, "min_per_s");
    if (rc == 0 && r == NULL && m == NULL)
        rc = config_error(l->doc, v, l->err, l->errlen,
                          "budget: expected ratio and/or min_per_s, or off");
    if (rc == 0 && r != NULL)
        rc = retry_set_at(l, p, r, "budget.ratio", config_is_scalar(r) ? config_scalar(r) : "");
    if (rc == 0 && m != NULL)
        rc = retry_set_at(l, p, m, "budget.min_per_s", config_is_scalar(m) ? config_scalar(m) : "");
    return rc;
}

/* `restart_from: STEP`: kept for the step reader, which knows the steps. */
static int retry_read_restart(const plan_loader *l, const config_node *v,
                              const config_node **restart)
{
    if (restart == NULL)
        return config_error(l->doc, v, l->err, l->errlen,
                            "restart_from: only a step's retry section can name a step to "
                            "restart from");
    if (!config_is_scalar(v) || config_is_null(v) || config_scalar(v)[0] == '\0')
        return config_error(l->doc, v, l->err, l->errlen,
                            "restart_from: expected the name of an earlier step");
    *restart = v;
    return 0;
}

int plan_retry_read(const plan_loader *l, const config_node *node, const retry_policy *parent,
                    retry_policy *out, const config_node **restart)
{
    char msg[CONFIG_ERRLEN];
    int rc = 0;

    *out = *parent;
    if (restart != NULL)
        *restart = NULL;
    if (node == NULL)
        return 0;
    if (config_is_scalar(node)) {
        const char *s = config_scalar(node);

        if (strcasecmp(s, "off") != 0 && strcasecmp(s, "none") != 0 &&
            strcasecmp(s, "false") != 0 && strcasecmp(s, "no") != 0)
            return config_error(l->doc, node, l->err, l->errlen,
                                "retry: \"%s\": expected a mapping of retry options, or off", s);
        out->max_attempts = 1;
        return 0;
    }
    rc = config_check_keys(l->doc, node, retry_keys, l->err, l->errlen);
    for (size_t i = 0; i < config_len(node) && rc == 0; i++) {
        const char *key = config_scalar(config_map_key(l->doc, node, i));
        const config_node *v = config_map_value(l->doc, node, i);

        if (strcmp(key, "restart_from") == 0)
            rc = retry_read_restart(l, v, restart);
        else if (strcmp(key, "on") == 0)
            rc = retry_read_on(l, out, v);
        else if (strcmp(key, "budget") == 0)
            rc = retry_read_budget(l, out, v);
        else if (!config_is_scalar(v) || config_is_null(v))
            rc = config_error(l->doc, v, l->err, l->errlen, "%s: found %s, expected a value", key,
                              config_is_null(v) ? "no value" : config_kind(v));
        else
            rc = retry_set_at(l, out, v, key, config_scalar(v));
    }
    if (rc < 0)
        return rc;
    if (config_map_get(l->doc, node, "max_attempts") == NULL && out->max_attempts == 1)
        return config_error(l->doc, node, l->err, l->errlen,
                            "retry: max_attempts is missing, and without it a request makes 1 "
                            "attempt (no retries)");
    if (retry_policy_validate(out, msg, sizeof(msg)) < 0)
        return config_error(l->doc, node, l->err, l->errlen, "retry: %s", msg);
    return 0;
}
