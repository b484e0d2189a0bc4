/*
 * plan_json: the compiler walks the YAML node once, gathering literal JSON
 * text in a buf and cutting a part at every templated string; the renderer
 * escapes template output in place in the caller's buffer.
 */
#include "run/plan_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct plan_json_builder {
    plan_json *j;
    buf lit; /* literal text since the last template part */
    const config_doc *doc;
    plan_json_check_fn check;
    void *check_ctx;
    char *err;
    size_t errlen;
} plan_json_builder;

/* Bytes `c` takes once escaped in a JSON string. */
static size_t plan_json_esc_len(unsigned char c)
{
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
        return 2;
    return c < 0x20 ? 6 : 1;
}

/* Writes the escape of c ending just before `end`; returns the new end. */
static char *plan_json_esc_back(char *end, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e = 0;

    switch (c) {
    case '"':
        e = '"';
        break;
    case '\\':
        e = '\\';
        break;
    case '\b':
        e = 'b';
        break;
    case '\f':
        e = 'f';
        break;
    case '\n':
        e = 'n';
        break;
    case '\r':
        e = 'r';
        break;
    case '\t':
        e = 't';
        break;
    default:
        break;
    }
    if (e != 0) {
        *--end = e;
        *--end = '\\';
    } else if (c < 0x20) {
        *--end = hex[c & 15];
        *--end = hex[c >> 4];
        memcpy(end - 4, "\\u00", 4);
        end -= 4;
    } else {
        *--end = (char)c;
    }
    return end;
}

/* Turns out's bytes from `start` to the end into a quoted, escaped JSON
 * string, in place. Returns 0, -ENOBUFS or -ENOMEM. */
static int plan_json_quote_tail(buf *out, size_t start)
{
    size_t raw = out->len - start, esc = 2;
    char *src, *dst;
    int rc;

    for (size_t i = 0; i < raw; i++)
        esc += plan_json_esc_len((unsigned char)buf_ptr(out)[start + i]);
    rc = buf_reserve(out, esc - raw);
    if (rc < 0)
        return rc;
    src = buf_ptr(out) + out->len;
    dst = buf_ptr(out) + start + esc;
    *--dst = '"';
    while (src > buf_ptr(out) + start)
        dst = plan_json_esc_back(dst, (unsigned char)*--src);
    *--dst = '"';
    out->len = start + esc;
    return 0;
}

/* Appends s as a quoted, escaped JSON string. */
static int plan_json_append_string(buf *out, const char *s, size_t len)
{
    size_t start = out->len;
    int rc = buf_append(out, s, len);

    if (rc < 0)
        return rc;
    rc = plan_json_quote_tail(out, start);
    if (rc < 0)
        out->len = start;
    return rc;
}

/* Whether s[0..len) is a JSON integer: -?(0|[1-9][0-9]*). */
static bool plan_json_is_int(const char *s, size_t len)
{
    size_t i = 0;

    if (i < len && s[i] == '-')
        i++;
    if (i == len)
        return false;
    if (s[i] == '0')
        return i + 1 == len;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* Whether s is a JSON number (RFC 8259 grammar). */
static bool plan_json_is_number(const char *s)
{
    const char *p = s;

    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9')
            p++;
    } else {
        return false;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* Appends a plain YAML scalar that is a number, boolean or null as JSON;
 * returns 1 if it was one, 0 if it is a string, or a negative errno. */
static int plan_json_plain(buf *out, const config_node *n)
{
    const char *s = config_scalar(n);
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};

    if (config_is_null(n))
        return buf_append_str(out, "null") < 0 ? -ENOMEM : 1;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, bools[i]) == 0)
            return buf_append_str(out, i < 3 ? "true" : "false") < 0 ? -ENOMEM : 1;
    }
    if (*s == '+')
        s++;
    if (plan_json_is_number(s))
        return buf_append_str(out, s) < 0 ? -ENOMEM : 1;
    return 0;
}

/* Moves the pending literal text into a new part. */
static int plan_json_flush(plan_json_builder *b)
{
    struct plan_json_part *parts, *p;

    if (b->lit.len == 0)
        return 0;
    parts = realloc(b->j->parts, (b->j->nparts + 1) * sizeof(*parts));
    if (parts == NULL)
        return -ENOMEM;
    b->j->parts = parts;
    p = &parts[b->j->nparts];
    memset(p, 0, sizeof(*p));
    p->lit = malloc(b->lit.len + 1);
    if (p->lit == NULL)
        return -ENOMEM;
    memcpy(p->lit, buf_ptr(&b->lit), b->lit.len);
    p->lit[b->lit.len] = '\0';
    p->lit_len = b->lit.len;
    b->j->nparts++;
    buf_reset(&b->lit);
    return 0;
}

static int plan_json_scalar(plan_json_builder *b, const config_node *n)
{
    const char *s = config_scalar(n);
    size_t len = n->data.scalar.length;
    struct plan_json_part *parts, *p;
    char msg[256];
    tmpl t;
    int rc;

    rc = plan_json_plain(&b->lit, n);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    rc = tmpl_compile(&t, s, len, msg, sizeof(msg));
    if (rc == -EINVAL)
        return config_error(b->doc, n, b->err, b->errlen, "json: %s", msg);
    if (rc < 0)
        return rc;
    if (b->check != NULL) {
        rc = b->check(b->check_ctx, &t, n);
        if (rc < 0)
            goto err;
    }
    if (tmpl_is_static(&t)) {
        tmpl_free(&t);
        return plan_json_append_string(&b->lit, s, len);
    }
    rc = plan_json_flush(b);
    if (rc < 0)
        goto err;
    parts = realloc(b->j->parts, (b->j->nparts + 1) * sizeof(*parts));
    if (parts == NULL) {
        rc = -ENOMEM;
        goto err;
    }
    b->j->parts = parts;
    p = &parts[b->j->nparts++];
    memset(p, 0, sizeof(*p));
    p->bare = t.nparts == 1;
    p->t = t;
    return 0;
err:
    tmpl_free(&t);
    return rc;
}

static int plan_json_node(plan_json_builder *b, const config_node *n)
{
    size_t len = config_len(n);
    int rc = 0;

    if (config_is_scalar(n))
        return plan_json_scalar(b, n);
    if (config_is_seq(n)) {
        rc = buf_append(&b->lit, "[", 1);
        for (size_t i = 0; i < len && rc == 0; i++) {
            if (i > 0)
                rc = buf_append(&b->lit, ",", 1);
            if (rc == 0)
                rc = plan_json_node(b, config_seq_item(b->doc, n, i));
        }
        return rc < 0 ? rc : buf_append(&b->lit, "]", 1);
    }
    rc = buf_append(&b->lit, "{", 1);
    for (size_t i = 0; i < len && rc == 0; i++) {
        const config_node *k = config_map_key(b->doc, n, i);

        if (i > 0)
            rc = buf_append(&b->lit, ",", 1);
        if (rc == 0)
            rc = plan_json_append_string(&b->lit, config_scalar(k), k->data.scalar.length);
        if (rc == 0)
            rc = buf_append(&b->lit, ":", 1);
        if (rc == 0)
            rc = plan_json_node(b, config_map_value(b->doc, n, i));
    }
    return rc < 0 ? rc : buf_append(&b->lit, "}", 1);
}

int plan_json_compile(plan_json *j, const config_doc *doc, const config_node *node,
                      plan_json_check_fn check, void *check_ctx, char *err, size_t errlen)
{
    plan_json_builder b = {j, {0}, doc, check, check_ctx, err, errlen};
    int rc;

    memset(j, 0, sizeof(*j));
    buf_init(&b.lit, 0);
    rc = plan_json_node(&b, node);
    if (rc == 0)
        rc = plan_json_flush(&b);
    buf_free(&b.lit);
    if (rc < 0) {
        if (rc == -ENOMEM)
            config_error(doc, node, err, errlen, "json: out of memory");
        plan_json_free(j);
    }
    return rc;
}

void plan_json_free(plan_json *j)
{
    for (size_t i = 0; i < j->nparts; i++) {
        free(j->parts[i].lit);
        tmpl_free(&j->parts[i].t);
    }
    free(j->parts);
    memset(j, 0, sizeof(*j));
}

int plan_json_render(const plan_json *j, const tmpl_ctx *ctx, buf *out, char *err, size_t errlen)
{
    size_t before = out->len;
    int rc = 0;

    for (size_t i = 0; i < j->nparts && rc == 0; i++) {
        const struct plan_json_part *p = &j->parts[i];
        size_t start = out->len;

        if (p->lit != NULL) {
            rc = buf_append(out, p->lit, p->lit_len);
            continue;
        }
        rc = tmpl_render(&p->t, ctx, out, err, errlen);
        if (rc == 0 && !(p->bare && plan_json_is_int(buf_ptr(out) + start, out->len - start)))
            rc = plan_json_quote_tail(out, start);
    }
    if (rc < 0)
        out->len = before;
    if (rc == -ENOBUFS || rc == -ENOMEM)
        snprintf(err, errlen, "rendered request too large");
    return rc;
}
