/*
 * sfv: hand-written because no Debian package parses HTTP Structured Field
 * Values in C; this is the List-of-Items subset the rate-limit fields use,
 * following the parsing algorithms of RFC 8941 section 4.2.
 */
#include "run/sfv.h"

#include <errno.h>
#include <string.h>

typedef struct sfv_cursor {
    const char *p;
    const char *end;
} sfv_cursor;

static bool sfv_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool sfv_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool sfv_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool sfv_tchar(char c)
{
    return sfv_alpha(c) || sfv_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool sfv_base64(char c)
{
    return sfv_alpha(c) || sfv_digit(c) || c == '+' || c == '/' || c == '=';
}

static bool sfv_at(const sfv_cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

/* RFC 8941 4.2.4: integers up to 15 digits, decimals up to 12.3 digits. */
static bool sfv_number(sfv_cursor *c, sfv_bare *out)
{
    int64_t sign = 1, v = 0;
    int digits = 0, frac = -1; /* fraction digits; -1 before the point */

    if (sfv_at(c, '-')) {
        sign = -1;
        c->p++;
    }
    if (c->p >= c->end || !sfv_digit(*c->p))
        return false;
    for (; c->p < c->end; c->p++) {
        char ch = *c->p;
        if (sfv_digit(ch)) {
            v = v * 10 + (ch - '0');
            if (frac >= 0)
                frac++;
            else
                digits++;
        } else if (ch == '.' && frac < 0) {
            if (digits > 12)
                return false;
            frac = 0;
        } else {
            break;
        }
        if (digits > 15 || frac > 3)
            return false;
    }
    if (frac == 0)
        return false; /* "1." */
    if (frac < 0) {
        out->type = SFV_INTEGER;
    } else {
        out->type = SFV_DECIMAL;
        for (; frac < 3; frac++)
            v *= 10;
    }
    out->integer = sign * v;
    return true;
}

static bool sfv_string(sfv_cursor *c, sfv_bare *out)
{
    const char *start = ++c->p; /* after the opening quote */

    for (; c->p < c->end; c->p++) {
        char ch = *c->p;
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end || (*c->p != '"' && *c->p != '\\'))
                return false;
        } else if (ch == '"') {
            out->type = SFV_STRING;
            out->text = start;
            out->text_len = (size_t)(c->p - start);
            c->p++;
            return true;
        } else if ((unsigned char)ch < 0x20 || (unsigned char)ch > 0x7e) {
            return false;
        }
    }
    return false;
}

static bool sfv_token(sfv_cursor *c, sfv_bare *out)
{
    const char *start = c->p;

    c->p++; /* ALPHA or "*", checked by the caller */
    while (c->p < c->end && (sfv_tchar(*c->p) || *c->p == ':' || *c->p == '/'))
        c->p++;
    out->type = SFV_TOKEN;
    out->text = start;
    out->text_len = (size_t)(c->p - start);
    return true;
}

static bool sfv_bytes(sfv_cursor *c, sfv_bare *out)
{
    const char *start = ++c->p;

    while (c->p < c->end && sfv_base64(*c->p))
        c->p++;
    if (!sfv_at(c, ':'))
        return false;
    out->type = SFV_BYTES;
    out->text = start;
    out->text_len = (size_t)(c->p - start);
    c->p++;
    return true;
}

static bool sfv_bare_item(sfv_cursor *c, sfv_bare *out)
{
    char ch;

    out->integer = 0;
    out->text = NULL;
    out->text_len = 0;
    if (c->p >= c->end)
        return false;
    ch = *c->p;
    if (ch == '-' || sfv_digit(ch))
        return sfv_number(c, out);
    if (ch == '"')
        return sfv_string(c, out);
    if (ch == '*' || sfv_alpha(ch))
        return sfv_token(c, out);
    if (ch == ':')
        return sfv_bytes(c, out);
    if (ch == '?') {
        if (c->end - c->p < 2 || (c->p[1] != '0' && c->p[1] != '1'))
            return false;
        out->type = SFV_BOOLEAN;
        out->integer = c->p[1] - '0';
        c->p += 2;
        return true;
    }
    if (ch == '@') {
        c->p++;
        if (!sfv_number(c, out) || out->type != SFV_INTEGER)
            return false;
        out->type = SFV_DATE;
        return true;
    }
    return false;
}

static bool sfv_key(sfv_cursor *c, sfv_param *param)
{
    const char *start = c->p;

    if (c->p >= c->end || !(sfv_lcalpha(*c->p) || *c->p == '*'))
        return false;
    while (c->p < c->end && (sfv_lcalpha(*c->p) || sfv_digit(*c->p) || *c->p == '_' ||
                             *c->p == '-' || *c->p == '.' || *c->p == '*'))
        c->p++;
    param->key = start;
    param->key_len = (size_t)(c->p - start);
    return true;
}

static bool sfv_item_parse(sfv_cursor *c, sfv_item *item)
{
    item->nparams = 0;
    if (!sfv_bare_item(c, &item->value))
        return false;
    while (sfv_at(c, ';')) {
        sfv_param *param;

        if (item->nparams == SFV_MAX_PARAMS)
            return false;
        param = &item->params[item->nparams++];
        c->p++;
        while (sfv_at(c, ' '))
            c->p++;
        if (!sfv_key(c, param))
            return false;
        if (sfv_at(c, '=')) {
            c->p++;
            if (!sfv_bare_item(c, &param->value))
                return false;
        } else {
            param->value = (sfv_bare){.type = SFV_BOOLEAN, .integer = 1};
        }
    }
    return true;
}

static void sfv_ows(sfv_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* One pass over the list; fn may be NULL (validation only). */
static int sfv_walk(const char *s, size_t len, sfv_item_fn fn, void *ctx)
{
    sfv_cursor c = {s, s + len};
    sfv_item item;

    while (c.p < c.end && *c.p == ' ')
        c.p++;
    while (c.end > c.p && c.end[-1] == ' ')
        c.end--;
    while (c.p < c.end) {
        if (!sfv_item_parse(&c, &item))
            return -EINVAL;
        if (fn != NULL)
            fn(&item, ctx);
        sfv_ows(&c);
        if (c.p == c.end)
            break;
        if (*c.p != ',')
            return -EINVAL;
        c.p++;
        sfv_ows(&c);
        if (c.p == c.end)
            return -EINVAL; /* trailing comma */
    }
    return 0;
}

int sfv_parse_list(const char *s, size_t len, sfv_item_fn fn, void *ctx)
{
    /* Validate everything first so that an invalid field yields nothing. */
    if (sfv_walk(s, len, NULL, NULL) != 0)
        return -EINVAL;
    return sfv_walk(s, len, fn, ctx);
}

const sfv_param *sfv_item_param(const sfv_item *item, const char *key)
{
    size_t n = strlen(key);

    for (size_t i = item->nparams; i-- > 0;) {
        const sfv_param *p = &item->params[i];
        if (p->key_len == n && memcmp(p->key, key, n) == 0)
            return p;
    }
    return NULL;
}
