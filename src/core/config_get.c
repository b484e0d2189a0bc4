/*
 * config_get: each getter finds its scalar through config_value, which
 * handles absent keys, nulls and non-scalars the same way for all of them,
 * then parses the text with the strictest standard function that fits.
 */
#include "core/config_get.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Checks that v (labelled `label` in messages) is a non-null scalar without
 * NUL bytes. */
static int config_check_scalar(const config_doc *doc, const config_node *v, const char *label,
                               const char *expected, char *err, size_t errlen)
{
    if (config_is_null(v))
        return config_error(doc, v, err, errlen, "%s: no value, expected %s", label, expected);
    if (!config_is_scalar(v))
        return config_error(doc, v, err, errlen, "%s: expected %s, found %s", label, expected,
                            config_kind(v));
    if (strlen(config_scalar(v)) != v->data.scalar.length)
        return config_error(doc, v, err, errlen, "%s: contains a NUL character, expected %s", label,
                            expected);
    return 0;
}

/* Looks key up for a getter: 1 with the scalar in *s, 0 if absent, or an
 * error. */
static int config_value(const config_doc *doc, const config_node *map, const char *key,
                        const char *expected, const config_node **v, const char **s, char *err,
                        size_t errlen)
{
    int rc;

    *v = NULL;
    *s = NULL;
    if (map == NULL)
        return 0;
    if (!config_is_map(map))
        return config_error(doc, map, err, errlen, "expected a mapping with '%s', found %s", key,
                            config_kind(map));
    *v = config_map_get(doc, map, key);
    if (*v == NULL)
        return 0;
    rc = config_check_scalar(doc, *v, key, expected, err, errlen);
    if (rc < 0)
        return rc;
    *s = config_scalar(*v);
    return 1;
}

int config_get_str(const config_doc *doc, const config_node *map, const char *key, const char **out,
                   char *err, size_t errlen)
{
    const config_node *v;
    const char *s;
    int rc = config_value(doc, map, key, "a string", &v, &s, err, errlen);

    if (rc > 0)
        *out = s;
    return rc < 0 ? rc : 0;
}

/* Describes [min, max] as "an integer from 1 to 10", "... of at least 1"... */
static void config_int_desc(int64_t min, int64_t max, char *out, size_t outlen)
{
    if (min > INT64_MIN && max < INT64_MAX)
        snprintf(out, outlen, "an integer from %" PRId64 " to %" PRId64, min, max);
    else if (min > INT64_MIN)
        snprintf(out, outlen, "an integer of at least %" PRId64, min);
    else if (max < INT64_MAX)
        snprintf(out, outlen, "an integer of at most %" PRId64, max);
    else
        snprintf(out, outlen, "an integer");
}

int config_get_int(const config_doc *doc, const config_node *map, const char *key, int64_t min,
                   int64_t max, int64_t *out, char *err, size_t errlen)
{
    const config_node *v;
    const char *s, *p;
    char desc[96], *end;
    long long x;
    int rc;

    config_int_desc(min, max, desc, sizeof(desc));
    rc = config_value(doc, map, key, desc, &v, &s, err, errlen);
    if (rc <= 0)
        return rc;
    p = s + (*s == '-' || *s == '+');
    errno = 0;
    x = strtoll(s, &end, 10);
    if (!isdigit((unsigned char)*p) || *end != '\0')
        return config_error(doc, v, err, errlen, "%s: \"%s\": expected %s", key, s, desc);
    if (errno == ERANGE || x < min || x > max) {
        config_error(doc, v, err, errlen, "%s: \"%s\": out of range, expected %s", key, s, desc);
        return -ERANGE;
    }
    *out = x;
    return 0;
}

int config_get_u64(const config_doc *doc, const config_node *map, const char *key, uint64_t *out,
                   char *err, size_t errlen)
{
    const config_node *v;
    const char *s;
    char *end;
    unsigned long long x;
    int rc = config_value(doc, map, key, "a non-negative integer", &v, &s, err, errlen);

    if (rc <= 0)
        return rc;
    errno = 0;
    x = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end != '\0')
        return config_error(doc, v, err, errlen, "%s: \"%s\": expected a non-negative integer", key,
                            s);
    if (errno == ERANGE) {
        config_error(doc, v, err, errlen,
                     "%s: \"%s\": out of range, expected a non-negative integer up to %" PRIu64,
                     key, s, UINT64_MAX);
        return -ERANGE;
    }
    *out = x;
    return 0;
}

int config_get_bool(const config_doc *doc, const config_node *map, const char *key, bool *out,
                    char *err, size_t errlen)
{
    static const char *const words[] = {"false", "true", "no", "yes", "off", "on"};
    const char *expected = "true or false (or yes/no, on/off)";
    const config_node *v;
    const char *s;
    int rc = config_value(doc, map, key, expected, &v, &s, err, errlen);

    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(s, words[i]) == 0) {
            *out = (i % 2) == 1;
            return 0;
        }
    }
    return config_error(doc, v, err, errlen, "%s: \"%s\": expected %s", key, s, expected);
}

int config_get_double(const config_doc *doc, const config_node *map, const char *key, double *out,
                      char *err, size_t errlen)
{
    const config_node *v;
    const char *s;
    char *end;
    double x;
    int rc = config_value(doc, map, key, "a number", &v, &s, err, errlen);

    if (rc <= 0)
        return rc;
    /* Decimal only: strtod would also take "inf", "nan" and hex floats. */
    x = strtod(s, &end);
    if (*s == '\0' || strspn(s, "0123456789+-.eE") != strlen(s) || *end != '\0')
        return config_error(doc, v, err, errlen, "%s: \"%s\": expected a number", key, s);
    if (!isfinite(x)) {
        config_error(doc, v, err, errlen, "%s: \"%s\": out of range, expected a finite number", key,
                     s);
        return -ERANGE;
    }
    *out = x;
    return 0;
}

int config_get_duration(const config_doc *doc, const config_node *map, const char *key,
                        uint64_t *out_ns, char *err, size_t errlen)
{
    const config_node *v;
    const char *s;
    char msg[CONFIG_ERRLEN];
    int rc =
        config_value(doc, map, key, "a duration (e.g. 250ms, 30s, 1m30s)", &v, &s, err, errlen);

    if (rc <= 0)
        return rc;
    rc = units_parse_duration(s, out_ns, msg, sizeof(msg));
    if (rc < 0)
        config_error(doc, v, err, errlen, "%s: %s", key, msg);
    return rc;
}

int config_get_rate(const config_doc *doc, const config_node *map, const char *key, units_rate *out,
                    char *err, size_t errlen)
{
    const config_node *v;
    const char *s;
    char msg[CONFIG_ERRLEN];
    int rc = config_value(doc, map, key, "a rate (e.g. 50/s, 300/min)", &v, &s, err, errlen);

    if (rc <= 0)
        return rc;
    rc = units_parse_rate(s, out, msg, sizeof(msg));
    if (rc < 0)
        config_error(doc, v, err, errlen, "%s: %s", key, msg);
    return rc;
}

int config_get_enum(const config_doc *doc, const config_node *map, const char *key,
                    const char *const names[], int *out, char *err, size_t errlen)
{
    char list[CONFIG_ERRLEN], expected[CONFIG_ERRLEN + 16];
    const config_node *v;
    const char *s, *hint;
    int rc;

    config_names(names, list, sizeof(list));
    snprintf(expected, sizeof(expected), "one of: %s", list);
    rc = config_value(doc, map, key, expected, &v, &s, err, errlen);
    if (rc <= 0)
        return rc;
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    hint = config_suggest(names, s);
    return config_error(doc, v, err, errlen, "%s: \"%s\": expected %s%s%s%s", key, s, expected,
                        hint != NULL ? " (did you mean '" : "", hint != NULL ? hint : "",
                        hint != NULL ? "'?)" : "");
}

int config_get_str_list(const config_doc *doc, const config_node *map, const char *key,
                        const char ***out, size_t *n, char *err, size_t errlen)
{
    const char *expected = "a string or a list of strings";
    const config_node *v;
    const char **list;
    size_t count;
    char label[128];
    int rc;

    if (map != NULL && !config_is_map(map))
        return config_error(doc, map, err, errlen, "expected a mapping with '%s', found %s", key,
                            config_kind(map));
    v = config_map_get(doc, map, key);
    if (v == NULL)
        return 0;
    if (!config_is_seq(v)) {
        rc = config_check_scalar(doc, v, key, expected, err, errlen);
        if (rc < 0)
            return rc;
    }
    count = config_is_seq(v) ? config_len(v) : 1;
    for (size_t i = 0; i < count && config_is_seq(v); i++) {
        snprintf(label, sizeof(label), "%.100s[%zu]", key, i);
        rc = config_check_scalar(doc, config_seq_item(doc, v, i), label, "a string", err, errlen);
        if (rc < 0)
            return rc;
    }
    list = count > 0 ? malloc(count * sizeof(*list)) : NULL;
    if (count > 0 && list == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++)
        list[i] = config_scalar(config_is_seq(v) ? config_seq_item(doc, v, i) : v);
    *out = list;
    *n = count;
    return 0;
}
