/*
 * plan_exec: a scenario's executor and its options (each executor takes its
 * own set of keys; a key of another executor is an error that lists the
 * right ones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_get.h"
#include "run/plan_load.h"

#define PLAN_MAX_VUS 1000000 /* VUs, threads, stage targets, max_in_flight */

/* Keys every scenario may have. */
static const char *const exec_common[] = {"executor",      "steps", "setup", "retry",
                                          "graceful_stop", "seed",  NULL};

/* Keys of each executor, by plan_executor. */
static const char *const *const exec_keys[PLAN_EXEC_COUNT] = {
    (const char *const[]){"vus", "duration", NULL},
    (const char *const[]){"start_vus", "stages", "graceful_ramp_down", NULL},
    (const char *const[]){"threads", "ramp_up", "loops", "duration", "think_time",
                          "constant_throughput", NULL},
    (const char *const[]){"rate", "duration", "arrivals", "max_in_flight", NULL},
    (const char *const[]){"start_rate", "stages", "arrivals", "max_in_flight", NULL},
};

static const char *const exec_names[] = {"constant-vus",         "ramping-vus",
                                         "thread-group",         "constant-arrival-rate",
                                         "ramping-arrival-rate", NULL};

static bool exec_in(const char *const *names, const char *s)
{
    for (; *names != NULL; names++) {
        if (strcmp(*names, s) == 0)
            return true;
    }
    return false;
}

/* Checks the scenario's keys against executor e's set. */
static int exec_check_keys(const plan_loader *l, const config_node *node, plan_executor e)
{
    const char *allowed[24];
    char list[512];
    size_t n = 0;

    for (size_t i = 0; exec_common[i] != NULL; i++)
        allowed[n++] = exec_common[i];
    for (size_t i = 0; exec_keys[e][i] != NULL; i++)
        allowed[n++] = exec_keys[e][i];
    allowed[n] = NULL;
    for (size_t i = 0; i < config_len(node); i++) {
        const config_node *k = config_map_key(l->doc, node, i);
        const char *key = config_scalar(k);

        if (exec_in(allowed, key))
            continue;
        for (int other = 0; other < PLAN_EXEC_COUNT; other++) {
            if (!exec_in(exec_keys[other], key))
                continue;
            config_names(allowed, list, sizeof(list));
            return config_error(l->doc, k, l->err, l->errlen,
                                "%s: not an option of executor %s, which takes: %s", key,
                                exec_names[e], list);
        }
    }
    return config_check_keys(l->doc, node, allowed, l->err, l->errlen);
}

/* A rate that may be zero ("0/s"), as stage targets and start_rate are. */
static int exec_rate0(const plan_loader *l, const config_node *map, const char *key,
                      units_rate *out)
{
    const config_node *v = config_map_get(l->doc, map, key);
    const char *s = config_scalar(v);
    char one[64], msg[CONFIG_ERRLEN];
    int rc;

    if (v == NULL || s == NULL || config_is_null(v) || s[0] != '0' || (s[1] != '/' && s[1] != '\0'))
        return config_get_rate(l->doc, map, key, out, l->err, l->errlen);
    snprintf(one, sizeof(one), "1%s", s[1] == '\0' ? "/s" : s + 1);
    rc = units_parse_rate(one, out, msg, sizeof(msg));
    if (rc < 0)
        return config_error(l->doc, v, l->err, l->errlen,
                            "%s: \"%s\": expected N/unit (e.g. 0/s, 50/s, 300/min)", key, s);
    out->count = 0;
    return 0;
}

static int exec_u32(const plan_loader *l, const config_node *map, const char *key, int64_t min,
                    uint32_t *out)
{
    int64_t v = *out;
    int rc = config_get_int(l->doc, map, key, min, PLAN_MAX_VUS, &v, l->err, l->errlen);

    *out = (uint32_t)v;
    return rc;
}

/* The `stages` sequence, checked item by item: a mapping of duration and target. */
static int exec_stages(const plan_loader *l, const config_node *node, const config_node **items,
                       size_t *n)
{
    static const char *const keys[] = {"duration", "target", NULL};
    const config_node *st = config_map_get(l->doc, node, "stages");
    int rc = config_require(l->doc, node, "stages", l->err, l->errlen);

    if (rc < 0)
        return rc;
    if (!config_is_seq(st) || config_len(st) == 0)
        return config_error(l->doc, st, l->err, l->errlen,
                            "stages: expected a list of {duration, target}");
    *n = config_len(st);
    for (size_t i = 0; i < *n && rc == 0; i++) {
        items[i] = config_seq_item(l->doc, st, i);
        rc = config_check_keys(l->doc, items[i], keys, l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, items[i], "duration", l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, items[i], "target", l->err, l->errlen);
    }
    return rc;
}

static int exec_vus(const plan_loader *l, const config_node *node, plan_scenario *s)
{
    const config_node **items;
    sched_stage *stages;
    uint32_t start = 0;
    size_t n = 0;
    char msg[256];
    int rc;

    if (s->executor == PLAN_EXEC_CONSTANT_VUS) {
        uint32_t vus = 0;
        uint64_t dur = 0;

        rc = config_require(l->doc, node, "vus", l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, node, "duration", l->err, l->errlen);
        if (rc == 0)
            rc = exec_u32(l, node, "vus", 1, &vus);
        if (rc == 0)
            rc = config_get_duration(l->doc, node, "duration", &dur, l->err, l->errlen);
        if (rc == 0 && dur == 0)
            rc = config_error(l->doc, config_map_get(l->doc, node, "duration"), l->err, l->errlen,
                              "duration: \"0\": expected a duration above 0");
        if (rc == 0 && sched_vus_init_constant(&s->vus, vus, dur, msg, sizeof(msg)) < 0)
            rc = config_error(l->doc, node, l->err, l->errlen, "%s", msg);
        return rc;
    }
    s->graceful_ramp_down_ns = PLAN_DEFAULT_GRACEFUL;
    rc = config_get_duration(l->doc, node, "graceful_ramp_down", &s->graceful_ramp_down_ns, l->err,
                             l->errlen);
    if (rc == 0)
        rc = exec_u32(l, node, "start_vus", 0, &start);
    if (rc < 0)
        return rc;
    items = calloc(config_len(config_map_get(l->doc, node, "stages")) + 1, sizeof(*items));
    stages = calloc(config_len(config_map_get(l->doc, node, "stages")) + 1, sizeof(*stages));
    rc = items == NULL || stages == NULL ? -ENOMEM : exec_stages(l, node, items, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = config_get_duration(l->doc, items[i], "duration", &stages[i].duration_ns, l->err,
                                 l->errlen);
        if (rc == 0)
            rc = exec_u32(l, items[i], "target", 0, &stages[i].target);
    }
    if (rc == 0 && sched_vus_init_ramping(&s->vus, start, stages, n, msg, sizeof(msg)) < 0)
        rc = config_error(l->doc, config_map_get(l->doc, node, "stages"), l->err, l->errlen, "%s",
                          msg);
    free(items);
    free(stages);
    return rc;
}

static int exec_thread_group(const plan_loader *l, const config_node *node, plan_scenario *s)
{
    static const char *const ctt_keys[] = {"rate", "per", NULL};
    static const char *const pers[] = {"this_thread", "all_active_threads", NULL};
    const config_node *ctt = config_map_get(l->doc, node, "constant_throughput");
    sched_thread_group *tg = &s->tg;
    char msg[256];
    int per = 0;
    int rc = config_require(l->doc, node, "threads", l->err, l->errlen);

    if (rc == 0)
        rc = exec_u32(l, node, "threads", 1, &tg->threads);
    if (rc == 0)
        rc = config_get_duration(l->doc, node, "ramp_up", &tg->ramp_up_ns, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_u64(l->doc, node, "loops", &tg->loops, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_duration(l->doc, node, "duration", &tg->duration_ns, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_duration(l->doc, node, "think_time", &tg->think_time_ns, l->err, l->errlen);
    if (rc == 0 && ctt != NULL) {
        rc = config_check_keys(l->doc, ctt, ctt_keys, l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, ctt, "rate", l->err, l->errlen);
        if (rc == 0)
            rc = config_get_rate(l->doc, ctt, "rate", &tg->ctt.rate, l->err, l->errlen);
        if (rc == 0)
            rc = config_get_enum(l->doc, ctt, "per", pers, &per, l->err, l->errlen);
        tg->ctt.per = (enum sched_ctt_per)per;
    }
    if (rc < 0)
        return rc;
    /* JMeter's default: one loop when neither loops nor duration is given. */
    if (tg->loops == 0 && tg->duration_ns == 0 && config_map_get(l->doc, node, "loops") == NULL &&
        config_map_get(l->doc, node, "duration") == NULL)
        tg->loops = 1;
    if (sched_tg_check(tg, msg, sizeof(msg)) < 0)
        return config_error(l->doc, node, l->err, l->errlen, "%s", msg);
    return 0;
}

static int exec_arrivals(const plan_loader *l, const config_node *node, plan_scenario *s)
{
    static const char *const kinds[] = {"uniform", "poisson", NULL};
    const config_node **items = NULL;
    sched_arrivals it;
    char msg[256];
    size_t n = 0;
    int kind = 0;
    int rc;

    s->max_in_flight = PLAN_DEFAULT_IN_FLIGHT;
    rc = config_get_enum(l->doc, node, "arrivals", kinds, &kind, l->err, l->errlen);
    if (rc == 0)
        rc = exec_u32(l, node, "max_in_flight", 1, &s->max_in_flight);
    s->arrivals = (enum sched_arrivals_kind)kind;
    if (rc == 0 && s->executor == PLAN_EXEC_CONSTANT_ARRIVAL_RATE) {
        rc = config_require(l->doc, node, "rate", l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, node, "duration", l->err, l->errlen);
        if (rc == 0)
            rc = config_get_rate(l->doc, node, "rate", &s->rate, l->err, l->errlen);
        if (rc == 0)
            rc = config_get_duration(l->doc, node, "duration", &s->duration_ns, l->err, l->errlen);
        if (rc == 0 && s->duration_ns == 0)
            rc = config_error(l->doc, config_map_get(l->doc, node, "duration"), l->err, l->errlen,
                              "duration: \"0\": expected a duration above 0");
    } else if (rc == 0) {
        rc = exec_rate0(l, node, "start_rate", &s->start_rate);
        n = config_len(config_map_get(l->doc, node, "stages"));
        items = calloc(n + 1, sizeof(*items));
        s->stages = calloc(n + 1, sizeof(*s->stages));
        if (rc == 0)
            rc = items == NULL || s->stages == NULL ? -ENOMEM : exec_stages(l, node, items, &n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = config_get_duration(l->doc, items[i], "duration", &s->stages[i].duration_ns,
                                     l->err, l->errlen);
            if (rc == 0)
                rc = exec_rate0(l, items[i], "target", &s->stages[i].target);
            if (rc == 0)
                s->nstages++;
        }
        free(items);
    }
    if (rc < 0)
        return rc;
    rc = plan_scenario_arrivals_init(s, &it, msg, sizeof(msg));
    if (rc == -EINVAL)
        return config_error(l->doc, node, l->err, l->errlen, "%s", msg);
    if (rc == 0)
        sched_arrivals_free(&it);
    return rc;
}

int plan_exec_read(const plan_loader *l, const config_node *node, plan_scenario *s,
                   size_t scenario_index)
{
    int kind = 0;
    int rc;

    if (!config_is_map(node))
        return config_error(l->doc, node, l->err, l->errlen,
                            "scenario '%s': found %s, expected a mapping", s->name,
                            config_kind(node));
    rc = config_require(l->doc, node, "executor", l->err, l->errlen);
    if (rc == 0)
        rc = config_get_enum(l->doc, node, "executor", exec_names, &kind, l->err, l->errlen);
    if (rc < 0)
        return rc;
    s->executor = (plan_executor)kind;
    s->seed = l->p->seed + scenario_index;
    s->graceful_stop_ns = PLAN_DEFAULT_GRACEFUL;
    rc = exec_check_keys(l, node, s->executor);
    if (rc == 0)
        rc = config_get_u64(l->doc, node, "seed", &s->seed, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_duration(l->doc, node, "graceful_stop", &s->graceful_stop_ns, l->err,
                                 l->errlen);
    if (rc < 0)
        return rc;
    switch (s->executor) {
    case PLAN_EXEC_CONSTANT_VUS:
    case PLAN_EXEC_RAMPING_VUS:
        return exec_vus(l, node, s);
    case PLAN_EXEC_THREAD_GROUP:
        return exec_thread_group(l, node, s);
    default:
        return exec_arrivals(l, node, s);
    }
}
