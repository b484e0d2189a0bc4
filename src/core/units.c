/*
 * units: hand-written because the grammar is tiny and every error must name
 * the exact unit or character at fault; no Debian library parses "1m30s".
 */
#include "core/units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"

#define UNITS_MAX_DECIMALS 9

static bool units_mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static uint64_t units_gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Reads a decimal number "123" or "1.25" at *p as mantissa / 10^scale.
 * Returns false if there is no digit at *p. Sets *overflow on overflow. */
static bool units_number(const char **p, uint64_t *mant, unsigned *scale, bool *overflow)
{
    const char *s = *p;
    uint64_t m = 0;
    unsigned sc = 0;
    bool digits = false;

    *overflow = false;
    while (isdigit((unsigned char)*s)) {
        if (!units_mul_ok(m, 10, &m) || __builtin_add_overflow(m, (uint64_t)(*s - '0'), &m))
            *overflow = true;
        s++;
        digits = true;
    }
    if (*s == '.' && isdigit((unsigned char)s[1])) {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (sc == UNITS_MAX_DECIMALS) {
                *overflow = true;
            } else if (!units_mul_ok(m, 10, &m) ||
                       __builtin_add_overflow(m, (uint64_t)(*s - '0'), &m)) {
                *overflow = true;
            }
            sc++;
            s++;
            digits = true;
        }
    }
    *p = s;
    *mant = m;
    *scale = sc;
    return digits;
}

static uint64_t units_pow10(unsigned n)
{
    uint64_t r = 1;

    while (n-- > 0)
        r *= 10;
    return r;
}

struct units_name {
    const char *name;
    uint64_t ns;
};

static const struct units_name units_duration_units[] = {
    {"ms", CLOCK_NS_PER_MS},
    {"s", CLOCK_NS_PER_S},
    {"m", 60 * CLOCK_NS_PER_S},
    {"h", 3600 * CLOCK_NS_PER_S},
};

static const struct units_name units_rate_units[] = {
    {"s", CLOCK_NS_PER_S},         {"sec", CLOCK_NS_PER_S},
    {"second", CLOCK_NS_PER_S},    {"m", 60 * CLOCK_NS_PER_S},
    {"min", 60 * CLOCK_NS_PER_S},  {"minute", 60 * CLOCK_NS_PER_S},
    {"h", 3600 * CLOCK_NS_PER_S},  {"hour", 3600 * CLOCK_NS_PER_S},
    {"d", 86400 * CLOCK_NS_PER_S}, {"day", 86400 * CLOCK_NS_PER_S},
};

static bool units_lookup(const struct units_name *table, size_t n, const char *name, size_t len,
                         uint64_t *ns)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0) {
            *ns = table[i].ns;
            return true;
        }
    }
    return false;
}

int units_parse_duration(const char *s, uint64_t *out_ns, char *err, size_t errlen)
{
    const char *p = s;
    uint64_t total = 0;
    bool any = false;

    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0')
        return err_set(err, errlen, -EINVAL,
                       "\"%s\": empty duration, expected e.g. 250ms, 30s, 1m30s", s);
    if (strcmp(p, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    while (*p != '\0') {
        uint64_t mant, unit_ns, v;
        unsigned scale;
        bool overflow;
        const char *u;

        if (!units_number(&p, &mant, &scale, &overflow)) {
            if (*p == '-')
                return err_set(err, errlen, -EINVAL, "\"%s\": a duration cannot be negative", s);
            return err_set(err, errlen, -EINVAL,
                           "\"%s\": expected a number at '%s', e.g. 250ms, 30s, 1m30s", s, p);
        }
        if (overflow)
            return err_set(err, errlen, -ERANGE, "\"%s\": number too large", s);
        while (*p == ' ')
            p++;
        u = p;
        while (isalpha((unsigned char)*p))
            p++;
        if (p == u)
            return err_set(err, errlen, -EINVAL, "\"%s\": missing unit, expected ms, s, m or h", s);
        if (!units_lookup(units_duration_units,
                          sizeof(units_duration_units) / sizeof(units_duration_units[0]), u,
                          (size_t)(p - u), &unit_ns))
            return err_set(err, errlen, -EINVAL,
                           "\"%s\": unknown unit '%.*s', expected ms, s, m or h", s, (int)(p - u),
                           u);
        /* mant / 10^scale units: exact when unit_ns is a multiple of 10^scale. */
        if (!units_mul_ok(mant, unit_ns, &v))
            return err_set(err, errlen, -ERANGE, "\"%s\": duration too large", s);
        v /= units_pow10(scale);
        if (__builtin_add_overflow(total, v, &total))
            return err_set(err, errlen, -ERANGE, "\"%s\": duration too large", s);
        any = true;
        while (*p == ' ')
            p++;
    }
    if (!any)
        return err_set(err, errlen, -EINVAL, "\"%s\": expected e.g. 250ms, 30s, 1m30s", s);
    *out_ns = total;
    return 0;
}

int units_parse_rate(const char *s, units_rate *out, char *err, size_t errlen)
{
    const char *p = s;
    const char *slash;
    uint64_t mant, period, scale_pow, g;
    unsigned scale;
    bool overflow;

    while (isspace((unsigned char)*p))
        p++;
    slash = strchr(p, '/');
    if (slash == NULL || !units_number(&p, &mant, &scale, &overflow) || p != slash)
        return err_set(err, errlen, -EINVAL, "\"%s\": expected N/unit (e.g. 50/s, 300/min)", s);
    if (overflow)
        return err_set(err, errlen, -ERANGE, "\"%s\": number too large", s);
    if (mant == 0)
        return err_set(err, errlen, -EINVAL, "\"%s\": a rate must be greater than zero", s);
    p = slash + 1;
    if (isdigit((unsigned char)*p)) {
        char sub[128];
        int rc = units_parse_duration(p, &period, sub, sizeof(sub));

        if (rc < 0)
            return err_set(err, errlen, rc, "\"%s\": period: %s", s, sub);
        if (period == 0)
            return err_set(err, errlen, -EINVAL, "\"%s\": the period must be greater than zero", s);
    } else {
        size_t len = strcspn(p, " \t");

        if (len == 0 || p[len] != '\0' ||
            !units_lookup(units_rate_units, sizeof(units_rate_units) / sizeof(units_rate_units[0]),
                          p, len, &period))
            return err_set(
                err, errlen, -EINVAL,
                "\"%s\": unknown unit '%s', expected s, min, h or d (e.g. 50/s, 300/min)", s, p);
    }
    scale_pow = units_pow10(scale);
    if (!units_mul_ok(period, scale_pow, &period))
        return err_set(err, errlen, -ERANGE, "\"%s\": too many decimals for this period", s);
    /* Only the decimal scaling is reduced away: "300/min" stays 300 per 60 s so
     * that N remains the default burst. */
    g = units_gcd(mant, scale_pow);
    out->count = mant / g;
    out->period_ns = period / g;
    return 0;
}

int units_format_duration(uint64_t ns, char *buf, size_t len)
{
    uint64_t h = ns / (3600 * CLOCK_NS_PER_S);
    uint64_t m = ns / (60 * CLOCK_NS_PER_S) % 60;
    uint64_t sec = ns / CLOCK_NS_PER_S % 60;
    uint64_t sub = ns % CLOCK_NS_PER_S;

    if (ns == 0)
        return snprintf(buf, len, "0s");
    if (ns < CLOCK_NS_PER_MS)
        return snprintf(buf, len, "%.3gus", (double)ns / 1e3);
    if (ns < CLOCK_NS_PER_S)
        return snprintf(buf, len, "%.4gms", (double)ns / 1e6);
    if (h == 0 && m == 0 && sub != 0)
        return snprintf(buf, len, "%.4gs", (double)ns / 1e9);
    {
        int n = 0;
        if (h > 0)
            n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, "%" PRIu64 "h", h);
        if (m > 0)
            n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, "%" PRIu64 "m", m);
        if (sec > 0 || sub > 0)
            n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, "%" PRIu64 "s", sec);
        return n;
    }
}

int units_format_rate(units_rate rate, char *buf, size_t len)
{
    static const struct units_name names[] = {{"s", CLOCK_NS_PER_S},
                                              {"min", 60 * CLOCK_NS_PER_S},
                                              {"h", 3600 * CLOCK_NS_PER_S},
                                              {"d", 86400 * CLOCK_NS_PER_S}};
    char d[64];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (rate.period_ns == names[i].ns)
            return snprintf(buf, len, "%" PRIu64 "/%s", rate.count, names[i].name);
    }
    units_format_duration(rate.period_ns, d, sizeof(d));
    return snprintf(buf, len, "%" PRIu64 "/%s", rate.count, d);
}

double units_rate_per_s(units_rate rate)
{
    return (double)rate.count * 1e9 / (double)rate.period_ns;
}
