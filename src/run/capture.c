/*
 * capture: a path is parsed once into key and index segments that point into
 * an owned copy of its text; evaluation walks a jansson tree with them.
 */
#include "run/capture.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

/* A path error: `"PATH": MESSAGE (column N)`. */
static int capture_path_fail(capture *c, const char *at, const char *msg, char *err, size_t errlen)
{
    err_set(err, errlen, -EINVAL, "\"%s\": %s (column %zu)", c->text, msg,
            (size_t)(at - c->text) + 1);
    capture_free(c);
    return -EINVAL;
}

static bool capture_int(const char **p, int64_t *out)
{
    const char *s = *p;
    bool neg = *s == '-';
    uint64_t v = 0;

    if (neg)
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    for (; isdigit((unsigned char)*s); s++) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v) ||
            v > (uint64_t)INT64_MAX)
            return false;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    *p = s;
    return true;
}

/* Parses one "[...]" at p (just past the '['); returns the position after ']'
 * or NULL with *msg set. */
static const char *capture_bracket(const char *p, struct capture_seg *seg, const char **msg)
{
    if (*p == '\'' || *p == '"') {
        const char *close = strchr(p + 1, *p);

        if (close == NULL) {
            *msg = "unterminated quoted key";
            return NULL;
        }
        seg->key = p + 1;
        seg->len = (size_t)(close - p - 1);
        p = close + 1;
    } else if (*p == '*') {
        *msg = "wildcards are not supported, use an index such as [0]";
        return NULL;
    } else if (*p == '?') {
        *msg = "filters are not supported";
        return NULL;
    } else if (!capture_int(&p, &seg->index)) {
        *msg = "expected an index such as [0] or a quoted key such as ['name']";
        return NULL;
    } else if (*p == ':') {
        *msg = "slices are not supported, use an index such as [0]";
        return NULL;
    }
    if (*p != ']') {
        *msg = "expected ']'";
        return NULL;
    }
    return p + 1;
}

int capture_init_json(capture *c, const char *path, char *err, size_t errlen)
{
    const char *p, *msg = NULL;
    size_t max = 0;

    memset(c, 0, sizeof(*c));
    c->kind = CAPTURE_JSON;
    c->text = strdup(path);
    for (p = path; *p != '\0'; p++)
        max += *p == '.' || *p == '[';
    c->segs = calloc(max + 1, sizeof(*c->segs));
    if (c->text == NULL || c->segs == NULL) {
        capture_free(c);
        return -ENOMEM;
    }
    p = c->text;
    if (*p != '$')
        return capture_path_fail(c, p, "a path starts with '$', e.g. $.id or $.items[0].id", err,
                                 errlen);
    p++;
    while (*p != '\0') {
        struct capture_seg *seg = &c->segs[c->nsegs];
        const char *at = p;

        if (*p == '.') {
            p++;
            if (*p == '.')
                return capture_path_fail(c, at, "recursive descent ('..') is not supported", err,
                                         errlen);
            if (*p == '*')
                return capture_path_fail(
                    c, p, "wildcards are not supported, use an index such as [0]", err, errlen);
            seg->key = p;
            while (*p != '\0' && strchr(".[] \t", *p) == NULL)
                p++;
            seg->len = (size_t)(p - seg->key);
            if (seg->len == 0)
                return capture_path_fail(c, p, "expected a key after '.'", err, errlen);
        } else if (*p == '[') {
            p = capture_bracket(p + 1, seg, &msg);
            if (p == NULL)
                return capture_path_fail(c, at + 1, msg, err, errlen);
        } else {
            return capture_path_fail(c, p, "expected '.key' or '[index]'", err, errlen);
        }
        seg->end = (size_t)(p - c->text);
        c->nsegs++;
    }
    return 0;
}

int capture_init_header(capture *c, const char *name, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->kind = CAPTURE_HEADER;
    if (*name == '\0')
        return err_set(err, errlen, -EINVAL, "empty header name");
    for (const char *p = name; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~", *p) == NULL)
            return err_set(err, errlen, -EINVAL, "\"%s\": '%c' cannot appear in a header name",
                           name, *p);
    }
    c->text = strdup(name);
    return c->text == NULL ? -ENOMEM : 0;
}

void capture_free(capture *c)
{
    free(c->text);
    free(c->segs);
    memset(c, 0, sizeof(*c));
}

static const char *capture_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

/* Appends v as template text. */
static int capture_render(const json_t *v, buf *out)
{
    char num[40];
    double d;
    size_t n;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return buf_append(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf_append_str(out, num);
    case JSON_REAL:
        d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.0e18) {
            snprintf(num, sizeof(num), "%lld", (long long)d);
        } else {
            for (int prec = 15; prec <= 17; prec++) {
                snprintf(num, sizeof(num), "%.*g", prec, d);
                if (strtod(num, NULL) == d)
                    break;
            }
        }
        return buf_append_str(out, num);
    case JSON_TRUE:
        return buf_append_str(out, "true");
    case JSON_FALSE:
        return buf_append_str(out, "false");
    case JSON_OBJECT:
    case JSON_ARRAY: {
        int rc;

        n = json_dumpb(v, NULL, 0, JSON_COMPACT);
        rc = buf_reserve(out, n);
        if (rc < 0)
            return rc;
        buf_commit(out, json_dumpb(v, buf_tail(out), n, JSON_COMPACT));
        return 0;
    }
    case JSON_NULL:
        break;
    }
    return -ENOENT;
}

int capture_json(const capture *c, const json_t *root, buf *out, char *err, size_t errlen)
{
    const json_t *v = root;
    const char *t = c->text;
    size_t before = out->len;
    int rc;

    if (v == NULL)
        return err_set(err, errlen, -ENOENT, "%s: the response body is not JSON", t);
    for (size_t i = 0; i < c->nsegs; i++) {
        const struct capture_seg *s = &c->segs[i];
        int at = (int)(i == 0 ? 1 : c->segs[i - 1].end); /* the path up to v */

        if (s->key != NULL) {
            if (!json_is_object(v))
                return err_set(err, errlen, -ENOENT, "%.*s: %.*s is %s, not an object", (int)s->end,
                               t, at, t, capture_type(v));
            v = json_object_getn(v, s->key, s->len);
            if (v == NULL)
                return err_set(err, errlen, -ENOENT, "%.*s: no key '%.*s' in %.*s", (int)s->end, t,
                               (int)s->len, s->key, at, t);
        } else {
            size_t n;
            int64_t idx = s->index;

            if (!json_is_array(v))
                return err_set(err, errlen, -ENOENT, "%.*s: %.*s is %s, not an array", (int)s->end,
                               t, at, t, capture_type(v));
            n = json_array_size(v);
            if (idx < 0)
                idx += (int64_t)n;
            if (idx < 0 || (uint64_t)idx >= n)
                return err_set(err, errlen, -ENOENT,
                               "%.*s: index %lld is out of range (the array has %zu elements)",
                               (int)s->end, t, (long long)s->index, n);
            v = json_array_get(v, (size_t)idx);
        }
    }
    rc = capture_render(v, out);
    if (rc < 0)
        out->len = before;
    if (rc == -ENOENT)
        return err_set(err, errlen, rc, "%s is null", t);
    if (rc < 0)
        return err_set(err, errlen, rc, "%s: value too large", t);
    return 0;
}

int capture_header_value(const capture *c, const capture_header *h, size_t n, buf *out, char *err,
                         size_t errlen)
{
    size_t nlen = strlen(c->text);

    for (size_t i = 0; i < n; i++) {
        const char *v = h[i].value;
        size_t len = h[i].value_len;
        int rc;

        if (h[i].name_len != nlen || strncasecmp(h[i].name, c->text, nlen) != 0)
            continue;
        while (len > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        rc = buf_append(out, v, len);
        return rc < 0 ? err_set(err, errlen, rc, "header '%s': value too large", c->text) : 0;
    }
    return err_set(err, errlen, -ENOENT, "no header '%s' in the response", c->text);
}
