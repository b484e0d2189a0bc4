#include "limit/scope.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/err.h"

#define SCOPE_ABSENT 0xfe /* length byte: the request lacks this part */
#define SCOPE_DIGEST 0xff /* length byte: 16 bytes of digest follow */

static const struct {
    const char *name;
    enum scope_kind kind;
    char tag;
} scope_names[] = {
    {"global", SCOPE_GLOBAL, 'g'}, {"ip", SCOPE_IP, 'i'},     {"token", SCOPE_TOKEN, 't'},
    {"client", SCOPE_CLIENT, 'c'}, {"user", SCOPE_USER, 'u'}, {"org", SCOPE_ORG, 'o'},
    {"header", SCOPE_HEADER, 'h'}, {"path", SCOPE_PATH, 'p'},
};

/* RFC 9110 token characters, what a header name is made of. */
static bool scope_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int scope_part_parse(scope_part *part, const char *item, const limit_pattern *path,
                            char *err, size_t errlen)
{
    const char *colon;
    size_t len, k;

    if (item == NULL)
        item = "";
    colon = strchr(item, ':');
    len = colon != NULL ? (size_t)(colon - item) : strlen(item);
    for (k = 0; k < sizeof(scope_names) / sizeof(scope_names[0]); k++)
        if (strlen(scope_names[k].name) == len && strncmp(scope_names[k].name, item, len) == 0)
            break;
    if (k == sizeof(scope_names) / sizeof(scope_names[0]))
        return err_set(err, errlen, -EINVAL,
                       "scope: unknown '%s', expected global, ip, token, client, user, org, "
                       "header:NAME or path:NAME",
                       item);
    part->kind = scope_names[k].kind;
    part->tag = scope_names[k].tag;
    part->capture = -1;
    if (part->kind != SCOPE_HEADER && part->kind != SCOPE_PATH) {
        if (colon != NULL)
            return err_set(err, errlen, -EINVAL, "scope: '%s' takes no ':NAME'", item);
        return 0;
    }
    if (colon == NULL || colon[1] == '\0')
        return err_set(err, errlen, -EINVAL, "scope: '%s' needs a name, e.g. %s:%s", item,
                       scope_names[k].name, part->kind == SCOPE_HEADER ? "X-Api-Key" : "id");
    if (part->kind == SCOPE_HEADER) {
        for (const char *c = colon + 1; *c != '\0'; c++)
            if (!scope_tchar(*c))
                return err_set(err, errlen, -EINVAL, "scope: '%s' is not a valid header name",
                               colon + 1);
    } else {
        part->capture = pattern_capture(path, colon + 1, strlen(colon + 1));
        if (part->capture < 0)
            return err_set(err, errlen, -EINVAL, "scope: path:%s names no capture {%s} in '%s'",
                           colon + 1, colon + 1, path->src);
    }
    part->name = strdup(colon + 1);
    part->name_len = strlen(colon + 1);
    return part->name == NULL ? -ENOMEM : 0;
}

static bool scope_same(const scope_part *a, const scope_part *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == SCOPE_HEADER)
        return strcasecmp(a->name, b->name) == 0;
    if (a->kind == SCOPE_PATH)
        return strcmp(a->name, b->name) == 0;
    return true;
}

int scope_init(limit_scope *sc, const char *const *items, size_t n, const limit_pattern *path,
               char *err, size_t errlen)
{
    int rc;

    memset(sc, 0, sizeof(*sc));
    if (n == 0) {
        sc->n = 1;
        sc->parts[0].kind = SCOPE_GLOBAL;
        sc->parts[0].tag = 'g';
        sc->parts[0].capture = -1;
        return 0;
    }
    if (n > SCOPE_MAX_PARTS)
        return err_set(err, errlen, -EINVAL, "scope: more than %d parts", SCOPE_MAX_PARTS);
    if (items == NULL)
        return err_set(err, errlen, -EINVAL, "scope: %zu parts announced, none given", n);
    for (size_t i = 0; i < n; i++) {
        rc = scope_part_parse(&sc->parts[i], items[i], path, err, errlen);
        sc->n = i + 1;
        if (rc != 0)
            goto err;
        for (size_t j = 0; j < i; j++) {
            if (scope_same(&sc->parts[i], &sc->parts[j])) {
                rc = err_set(err, errlen, -EINVAL, "scope: '%s' appears twice", items[i]);
                goto err;
            }
        }
    }
    if (n > 1) {
        for (size_t i = 0; i < n; i++) {
            if (sc->parts[i].kind == SCOPE_GLOBAL) {
                rc = err_set(err, errlen, -EINVAL,
                             "scope: global cannot be combined with other parts");
                goto err;
            }
        }
    }
    return 0;
err:
    scope_free(sc);
    return rc;
}

void scope_free(limit_scope *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        free(sc->parts[i].name);
    memset(sc, 0, sizeof(*sc));
}

/* Appends one value: as is, as a digest, or the absent marker. */
static size_t scope_value(char *out, limit_slice v)
{
    XXH128_hash_t h;

    if (v.p == NULL) {
        out[0] = (char)SCOPE_ABSENT;
        return 1;
    }
    if (v.n <= SCOPE_VALUE_MAX) {
        out[0] = (char)v.n;
        memcpy(out + 1, v.p, v.n);
        return 1 + v.n;
    }
    h = XXH3_128bits(v.p, v.n);
    out[0] = (char)SCOPE_DIGEST;
    memcpy(out + 1, &h.low64, 8);
    memcpy(out + 9, &h.high64, 8);
    return 17;
}

size_t scope_key(const limit_scope *sc, const char *name, size_t name_len, const limit_request *r,
                 const limit_slice *caps, char *out)
{
    size_t at;
    limit_slice v, absent = {NULL, 0};

    out[0] = (char)name_len;
    memcpy(out + 1, name, name_len);
    at = 1 + name_len;
    for (size_t i = 0; i < sc->n; i++) {
        const scope_part *part = &sc->parts[i];

        out[at++] = part->tag;
        switch (part->kind) {
        case SCOPE_GLOBAL:
            continue;
        case SCOPE_IP:
            v = r->ip;
            break;
        case SCOPE_TOKEN:
            v = r->token;
            break;
        case SCOPE_CLIENT:
            v = r->client;
            break;
        case SCOPE_USER:
            v = r->user;
            break;
        case SCOPE_ORG:
            v = r->org;
            break;
        case SCOPE_HEADER:
            if (!request_header(r, part->name, part->name_len, &v))
                v = absent;
            break;
        default:
            v = caps != NULL ? caps[part->capture] : absent;
        }
        at += scope_value(out + at, v);
    }
    return at;
}

void scope_part_string(const scope_part *part, char *buf, size_t len)
{
    const char *kind = "?";

    for (size_t k = 0; k < sizeof(scope_names) / sizeof(scope_names[0]); k++)
        if (scope_names[k].kind == part->kind)
            kind = scope_names[k].name;
    if (part->name != NULL)
        snprintf(buf, len, "%s:%s", kind, part->name);
    else
        snprintf(buf, len, "%s", kind);
}
