/*
 * threshold: a table of metrics (name, kind, where the value lives in
 * threshold_metrics) drives parsing, unit checks and evaluation alike.
 */
#include "run/threshold.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/units.h"

enum threshold_kind {
    THRESHOLD_RATIO,
    THRESHOLD_LATENCY,
    THRESHOLD_RATE,
    THRESHOLD_COUNT,
    THRESHOLD_SECONDS,
};

struct threshold_metric {
    const char *name;
    enum threshold_kind kind;
    size_t off; /* of a double (ratio, rate, seconds) or a uint64_t */
};

#define THRESHOLD_M(name, kind, field)                                                             \
    {                                                                                              \
        name, kind, offsetof(threshold_metrics, field)                                             \
    }

static const struct threshold_metric threshold_table[] = {
    THRESHOLD_M("throttled_ratio", THRESHOLD_RATIO, throttled_ratio),
    THRESHOLD_M("error_ratio", THRESHOLD_RATIO, error_ratio),
    THRESHOLD_M("retry_ratio", THRESHOLD_RATIO, retry_ratio),
    THRESHOLD_M("dropped_ratio", THRESHOLD_RATIO, dropped_ratio),
    THRESHOLD_M("p50", THRESHOLD_LATENCY, attempt.p50),
    THRESHOLD_M("p90", THRESHOLD_LATENCY, attempt.p90),
    THRESHOLD_M("p95", THRESHOLD_LATENCY, attempt.p95),
    THRESHOLD_M("p99", THRESHOLD_LATENCY, attempt.p99),
    THRESHOLD_M("p999", THRESHOLD_LATENCY, attempt.p999),
    THRESHOLD_M("max", THRESHOLD_LATENCY, attempt.max),
    THRESHOLD_M("mean", THRESHOLD_LATENCY, attempt.mean),
    THRESHOLD_M("end_to_end_p50", THRESHOLD_LATENCY, end_to_end.p50),
    THRESHOLD_M("end_to_end_p90", THRESHOLD_LATENCY, end_to_end.p90),
    THRESHOLD_M("end_to_end_p95", THRESHOLD_LATENCY, end_to_end.p95),
    THRESHOLD_M("end_to_end_p99", THRESHOLD_LATENCY, end_to_end.p99),
    THRESHOLD_M("end_to_end_p999", THRESHOLD_LATENCY, end_to_end.p999),
    THRESHOLD_M("end_to_end_max", THRESHOLD_LATENCY, end_to_end.max),
    THRESHOLD_M("end_to_end_mean", THRESHOLD_LATENCY, end_to_end.mean),
    THRESHOLD_M("rate", THRESHOLD_RATE, rate),
    THRESHOLD_M("goodput", THRESHOLD_RATE, goodput),
    THRESHOLD_M("first_throttle_s", THRESHOLD_SECONDS, first_throttle_s),
    THRESHOLD_M("logical", THRESHOLD_COUNT, logical),
    THRESHOLD_M("attempts", THRESHOLD_COUNT, attempts),
    THRESHOLD_M("ok", THRESHOLD_COUNT, ok),
    THRESHOLD_M("throttled", THRESHOLD_COUNT, throttled),
    THRESHOLD_M("client_error", THRESHOLD_COUNT, client_error),
    THRESHOLD_M("server_error", THRESHOLD_COUNT, server_error),
    THRESHOLD_M("network_error", THRESHOLD_COUNT, network_error),
    THRESHOLD_M("retries", THRESHOLD_COUNT, retries),
    THRESHOLD_M("dropped", THRESHOLD_COUNT, dropped),
};

#define THRESHOLD_NMETRICS (sizeof(threshold_table) / sizeof(threshold_table[0]))

static const char *const threshold_ops[] = {"<", "<=", ">", ">=", "==", "!="};

static int threshold_fail(char *err, size_t errlen, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes `"expr": ` followed by the formatted message. */
static int threshold_fail(char *err, size_t errlen, const char *expr, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL || errlen == 0)
        return -EINVAL;
    n = snprintf(err, errlen, "\"%s\": ", expr);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Re-prefixes a units error (`"rhs": message`) with the whole expression. */
static int threshold_units_fail(char *err, size_t errlen, const char *expr, const char *rhs,
                                const char *uerr)
{
    size_t rl = strlen(rhs);

    if (uerr[0] == '"' && strncmp(uerr + 1, rhs, rl) == 0 && strncmp(uerr + 1 + rl, "\": ", 3) == 0)
        uerr += rl + 4;
    return threshold_fail(err, errlen, expr, "%s", uerr);
}

/* A plain decimal number ("0.01", "5", ".5") with an optional '%'. Returns
 * false if s is anything else. */
static bool threshold_plain(const char *s, double *out, bool *percent)
{
    const char *p = s;
    bool digits = false;

    while (isdigit((unsigned char)*p)) {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    *percent = *p == '%';
    if (*percent)
        p++;
    if (*p != '\0')
        return false;
    *out = strtod(s, NULL);
    return true;
}

static int threshold_value(threshold *t, const struct threshold_metric *m, const char *rhs,
                           char *err, size_t errlen)
{
    char uerr[160];
    double v;
    bool pct;

    switch (m->kind) {
    case THRESHOLD_RATIO:
        if (!threshold_plain(rhs, &v, &pct))
            return threshold_fail(err, errlen, t->expr,
                                  "%s is a ratio, expected a plain number such as 0.01 or 1%%",
                                  m->name);
        if (pct)
            v /= 100.0;
        if (v > 1.0)
            return threshold_fail(err, errlen, t->expr,
                                  "%s is a ratio between 0 and 1, got %s (write 0.05 or 5%%)",
                                  m->name, rhs);
        t->limit = v;
        return 0;
    case THRESHOLD_SECONDS:
        if (!threshold_plain(rhs, &v, &pct) || pct)
            return threshold_fail(err, errlen, t->expr,
                                  "%s is in seconds, expected a plain number such as 5", m->name);
        t->limit = v;
        return 0;
    case THRESHOLD_COUNT: {
        const char *p = rhs;
        uint64_t n = 0;

        for (; isdigit((unsigned char)*p); p++) {
            if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *p - '0', &n))
                return threshold_fail(err, errlen, t->expr, "number too large");
        }
        if (p == rhs || *p != '\0')
            return threshold_fail(err, errlen, t->expr,
                                  "%s is a count, expected a whole number such as 0", m->name);
        t->limit_n = n;
        t->limit = (double)n;
        return 0;
    }
    case THRESHOLD_LATENCY:
        if (strchr(rhs, '/') != NULL)
            return threshold_fail(err, errlen, t->expr,
                                  "%s is a latency, expected a duration such as 500ms", m->name);
        if (units_parse_duration(rhs, &t->limit_ns, uerr, sizeof(uerr)) < 0)
            return threshold_units_fail(err, errlen, t->expr, rhs, uerr);
        t->limit = (double)t->limit_ns / (double)CLOCK_NS_PER_MS;
        return 0;
    case THRESHOLD_RATE: {
        units_rate r;

        if (threshold_plain(rhs, &v, &pct))
            return threshold_fail(err, errlen, t->expr,
                                  "%s is a rate, expected N/unit such as 45/s", m->name);
        if (units_parse_rate(rhs, &r, uerr, sizeof(uerr)) < 0)
            return threshold_units_fail(err, errlen, t->expr, rhs, uerr);
        t->limit = units_rate_per_s(r);
        return 0;
    }
    }
    return -EINVAL;
}

static void threshold_metric_list(char *out, size_t len)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < THRESHOLD_NMETRICS && n < len; i++) {
        int w = snprintf(out + n, len - n, "%s%s", i > 0 ? ", " : "", threshold_table[i].name);

        if (w < 0)
            break;
        n += (size_t)w;
    }
}

int threshold_parse(threshold *t, const char *expr, char *err, size_t errlen)
{
    const char *p = expr, *name, *op;
    size_t len, nlen;
    unsigned i;
    char names[512];

    memset(t, 0, sizeof(*t));
    while (isspace((unsigned char)*p))
        p++;
    len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    if (len >= sizeof(t->expr)) {
        snprintf(t->expr, sizeof(t->expr), "%.40s...", p);
        return threshold_fail(err, errlen, t->expr, "too long (at most %zu characters)",
                              sizeof(t->expr) - 1);
    }
    memcpy(t->expr, p, len);
    t->expr[len] = '\0';
    if (len == 0)
        return threshold_fail(err, errlen, t->expr,
                              "empty threshold, expected e.g. p99 < 500ms or error_ratio < 0.01");

    p = name = t->expr;
    while (*p != '\0' && !isspace((unsigned char)*p) && strchr("<>=!", *p) == NULL)
        p++;
    nlen = (size_t)(p - name);
    for (i = 0; i < THRESHOLD_NMETRICS; i++) {
        if (strlen(threshold_table[i].name) == nlen &&
            strncmp(threshold_table[i].name, name, nlen) == 0)
            break;
    }
    if (nlen == 0)
        return threshold_fail(err, errlen, t->expr, "expected a metric name first");
    if (i == THRESHOLD_NMETRICS) {
        threshold_metric_list(names, sizeof(names));
        return threshold_fail(err, errlen, t->expr, "unknown metric '%.*s', expected one of: %s",
                              (int)nlen, name, names);
    }
    t->metric = i;

    while (isspace((unsigned char)*p))
        p++;
    op = p;
    while (*p != '\0' && strchr("<>=!", *p) != NULL)
        p++;
    for (i = 0; i < 6; i++) {
        if (strlen(threshold_ops[i]) == (size_t)(p - op) &&
            strncmp(threshold_ops[i], op, (size_t)(p - op)) == 0)
            break;
    }
    if (i == 6) {
        if (p - op == 1 && *op == '=')
            return threshold_fail(err, errlen, t->expr, "'=' is not an operator, use '=='");
        return threshold_fail(err, errlen, t->expr,
                              "expected an operator (<, <=, >, >=, ==, !=) after '%s'",
                              threshold_table[t->metric].name);
    }
    t->op = (enum threshold_op)i;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0')
        return threshold_fail(err, errlen, t->expr, "missing a value after '%s'",
                              threshold_ops[t->op]);
    return threshold_value(t, &threshold_table[t->metric], p, err, errlen);
}

/* Whether a three-way comparison c (< 0, 0, > 0) satisfies op. */
static bool threshold_holds(enum threshold_op op, int c)
{
    switch (op) {
    case THRESHOLD_LT:
        return c < 0;
    case THRESHOLD_LE:
        return c <= 0;
    case THRESHOLD_GT:
        return c > 0;
    case THRESHOLD_GE:
        return c >= 0;
    case THRESHOLD_EQ:
        return c == 0;
    case THRESHOLD_NE:
        return c != 0;
    }
    return false;
}

static bool threshold_cmp_u(enum threshold_op op, uint64_t a, uint64_t b)
{
    return threshold_holds(op, (a > b) - (a < b));
}

/* A NaN value (a ratio of nothing) never passes. */
static bool threshold_cmp_d(enum threshold_op op, double a, double b)
{
    if (isnan(a))
        return false;
    return threshold_holds(op, (a > b) - (a < b));
}

threshold_result threshold_eval(const threshold *t, const threshold_metrics *m)
{
    const struct threshold_metric *d = &threshold_table[t->metric];
    const char *base = (const char *)m + d->off;
    threshold_result r = {false, 0.0};
    uint64_t u;
    double v;

    switch (d->kind) {
    case THRESHOLD_LATENCY:
        memcpy(&u, base, sizeof(u));
        r.pass = threshold_cmp_u(t->op, u, t->limit_ns);
        r.value = (double)u / (double)CLOCK_NS_PER_MS;
        break;
    case THRESHOLD_COUNT:
        memcpy(&u, base, sizeof(u));
        r.pass = threshold_cmp_u(t->op, u, t->limit_n);
        r.value = (double)u;
        break;
    case THRESHOLD_SECONDS:
        v = m->has_first_throttle ? m->first_throttle_s : INFINITY;
        r.pass = threshold_cmp_d(t->op, v, t->limit);
        r.value = v;
        break;
    case THRESHOLD_RATIO:
    case THRESHOLD_RATE:
        memcpy(&v, base, sizeof(v));
        r.pass = threshold_cmp_d(t->op, v, t->limit);
        r.value = v;
        break;
    }
    return r;
}

size_t threshold_eval_all(const threshold *t, size_t n, const threshold_metrics *m,
                          threshold_result *out)
{
    size_t failed = 0;

    for (size_t i = 0; i < n; i++) {
        out[i] = threshold_eval(&t[i], m);
        failed += !out[i].pass;
    }
    return failed;
}

const char *threshold_metric_name(const threshold *t)
{
    return threshold_table[t->metric].name;
}

const char *threshold_unit(const threshold *t)
{
    switch (threshold_table[t->metric].kind) {
    case THRESHOLD_LATENCY:
        return "ms";
    case THRESHOLD_RATE:
        return "/s";
    case THRESHOLD_SECONDS:
        return "s";
    case THRESHOLD_RATIO:
    case THRESHOLD_COUNT:
        break;
    }
    return "";
}
