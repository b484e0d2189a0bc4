/*
 * config: libyaml parses; this file adds the bounds, the strictness and the
 * messages. A load is two passes over the text: a scan of libyaml's events
 * checks, with exact positions, what the document API cannot tell afterwards
 * (a second document, depth, anchors, what aliases stand for, keys that are
 * not scalars), then yaml_parser_load builds the document and every mapping
 * is checked for duplicate keys.
 */
#include "core/config.h"

#include "core/yamlscan.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest key or value that gets a "did you mean" hint. */
#define CONFIG_HINT_MAX 32

int config_error(const config_doc *doc, const config_node *node, char *err, size_t errlen,
                 const char *fmt, ...)
{
    const char *name = doc->name != NULL ? doc->name : "(config)";
    va_list ap;
    int n;

    if (err == NULL || errlen == 0)
        return -EINVAL;
    if (node != NULL)
        n = snprintf(err, errlen, "%s:%zu:%zu: ", name, node->start_mark.line + 1,
                     node->start_mark.column + 1);
    else
        n = snprintf(err, errlen, "%s: ", name);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

const char *config_kind(const config_node *n)
{
    if (config_is_map(n))
        return "a mapping";
    if (config_is_seq(n))
        return "a sequence";
    return "a scalar";
}

static const config_node *config_node_at(const config_doc *doc, int index)
{
    if (index < 1 || index > doc->ydoc.nodes.top - doc->ydoc.nodes.start)
        return NULL;
    return &doc->ydoc.nodes.start[index - 1];
}

/* Orders key scalars by text, then by position. */
static int config_key_cmp(const void *a, const void *b)
{
    const config_node *x = *(const config_node *const *)a;
    const config_node *y = *(const config_node *const *)b;
    size_t lx = x->data.scalar.length, ly = y->data.scalar.length;
    int c = memcmp(x->data.scalar.value, y->data.scalar.value, lx < ly ? lx : ly);

    if (c != 0)
        return c;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return (x->start_mark.index > y->start_mark.index) -
           (x->start_mark.index < y->start_mark.index);
}

/* Refuses duplicate keys, in O(n log n) per mapping. Non-scalar keys were
 * refused by yamlscan; the check here only keeps config_key_cmp safe. */
static int config_check_mappings(const config_doc *doc, char *err, size_t errlen)
{
    const config_node **keys = NULL;
    size_t cap = 0;
    int rc = 0;

    for (const config_node *m = doc->ydoc.nodes.start; rc == 0 && m < doc->ydoc.nodes.top; m++) {
        size_t n = config_len(m);
        const config_node *dup = NULL, *first = NULL;

        if (!config_is_map(m))
            continue;
        if (n > cap) {
            const config_node **k = realloc(keys, n * sizeof(*keys));

            if (k == NULL) {
                rc = -ENOMEM;
                break;
            }
            keys = k;
            cap = n;
        }
        for (size_t i = 0; rc == 0 && i < n; i++) {
            keys[i] = config_map_key(doc, m, i);
            if (keys[i] == NULL || !config_is_scalar(keys[i]))
                rc = config_error(doc, keys[i] != NULL ? keys[i] : m, err, errlen,
                                  "mapping keys must be scalars, found %s",
                                  keys[i] != NULL ? config_kind(keys[i]) : "nothing");
        }
        if (rc < 0 || n < 2)
            continue;
        qsort(keys, n, sizeof(*keys), config_key_cmp);
        for (size_t i = 1; i < n; i++) {
            if (keys[i]->data.scalar.length != keys[i - 1]->data.scalar.length ||
                memcmp(keys[i]->data.scalar.value, keys[i - 1]->data.scalar.value,
                       keys[i]->data.scalar.length) != 0)
                continue;
            if (dup == NULL || keys[i]->start_mark.index < dup->start_mark.index) {
                dup = keys[i];
                first = keys[i - 1];
            }
        }
        if (dup != NULL)
            rc = config_error(doc, dup, err, errlen, "duplicate key '%s' (first at %zu:%zu)",
                              (const char *)dup->data.scalar.value, first->start_mark.line + 1,
                              first->start_mark.column + 1);
    }
    free(keys);
    return rc;
}

int config_load_string(config_doc *doc, const char *name, const char *text, size_t len, char *err,
                       size_t errlen)
{
    yaml_parser_t p;
    int rc;

    memset(doc, 0, sizeof(*doc));
    doc->name = strdup(name);
    if (doc->name == NULL) {
        rc = -ENOMEM;
        goto err;
    }
    if (len > CONFIG_MAX_BYTES) {
        config_error(doc, NULL, err, errlen, "larger than %u bytes, the limit for a YAML file",
                     CONFIG_MAX_BYTES);
        rc = -EFBIG;
        goto err;
    }
    rc = yamlscan_check(doc->name, text, len, err, errlen);
    if (rc < 0)
        goto err;
    if (!yaml_parser_initialize(&p)) {
        rc = -ENOMEM;
        goto err;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc->ydoc)) {
        rc = yamlscan_error(doc->name, &p, text, len, err, errlen);
        yaml_parser_delete(&p);
        goto err;
    }
    yaml_parser_delete(&p);
    doc->loaded = true;
    if (config_root(doc) == NULL || config_is_null(config_root(doc))) {
        rc = config_error(doc, NULL, err, errlen, "empty document (no YAML content)");
        goto err;
    }
    rc = config_check_mappings(doc, err, errlen);
    if (rc < 0)
        goto err;
    return 0;
err:
    if (rc == -ENOMEM)
        config_error(doc, NULL, err, errlen, "out of memory");
    config_free(doc);
    return rc;
}

int config_load_file(config_doc *doc, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;

    memset(doc, 0, sizeof(*doc));
    if (f == NULL) {
        rc = -errno;
        goto io;
    }
    /* Reading one byte past the limit is enough to know the file is too large. */
    while (rc == 0 && !feof(f) && len <= CONFIG_MAX_BYTES) {
        if (len == cap) {
            char *t;

            cap = cap == 0 ? 65536 : cap * 2;
            cap = cap > CONFIG_MAX_BYTES + 1 ? CONFIG_MAX_BYTES + 1 : cap;
            t = realloc(text, cap);
            if (t == NULL) {
                rc = -ENOMEM;
                break;
            }
            text = t;
        }
        len += fread(text + len, 1, cap - len, f);
        if (ferror(f))
            rc = errno != 0 ? -errno : -EIO;
    }
    fclose(f);
    if (rc < 0)
        goto io;
    rc = config_load_string(doc, path, text != NULL ? text : "", len, err, errlen);
    free(text);
    return rc;
io:
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
    free(text);
    return rc;
}

void config_free(config_doc *doc)
{
    if (doc->loaded)
        yaml_document_delete(&doc->ydoc);
    free(doc->name);
    memset(doc, 0, sizeof(*doc));
}

const config_node *config_root(const config_doc *doc)
{
    return config_node_at(doc, 1);
}

bool config_is_map(const config_node *n)
{
    return n != NULL && n->type == YAML_MAPPING_NODE;
}

bool config_is_seq(const config_node *n)
{
    return n != NULL && n->type == YAML_SEQUENCE_NODE;
}

bool config_is_scalar(const config_node *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE;
}

bool config_is_null(const config_node *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

    if (!config_is_scalar(n))
        return false;
    if (n->tag != NULL && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        if (strcmp((const char *)n->data.scalar.value, nulls[i]) == 0)
            return true;
    }
    return false;
}

const char *config_scalar(const config_node *n)
{
    return config_is_scalar(n) ? (const char *)n->data.scalar.value : NULL;
}

unsigned long config_line(const config_node *n)
{
    return (unsigned long)n->start_mark.line + 1;
}

unsigned long config_column(const config_node *n)
{
    return (unsigned long)n->start_mark.column + 1;
}

size_t config_len(const config_node *n)
{
    if (config_is_map(n))
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (config_is_seq(n))
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

const config_node *config_seq_item(const config_doc *doc, const config_node *seq, size_t i)
{
    if (!config_is_seq(seq) || i >= config_len(seq))
        return NULL;
    return config_node_at(doc, seq->data.sequence.items.start[i]);
}

const config_node *config_map_key(const config_doc *doc, const config_node *map, size_t i)
{
    if (!config_is_map(map) || i >= config_len(map))
        return NULL;
    return config_node_at(doc, map->data.mapping.pairs.start[i].key);
}

const config_node *config_map_value(const config_doc *doc, const config_node *map, size_t i)
{
    if (!config_is_map(map) || i >= config_len(map))
        return NULL;
    return config_node_at(doc, map->data.mapping.pairs.start[i].value);
}

/* True if the scalar k is exactly the C string s. */
static bool config_key_is(const config_node *k, const char *s)
{
    size_t n = strlen(s);

    return config_is_scalar(k) && k->data.scalar.length == n &&
           memcmp(k->data.scalar.value, s, n) == 0;
}

const config_node *config_map_get(const config_doc *doc, const config_node *map, const char *key)
{
    for (size_t i = 0; i < config_len(map); i++) {
        if (config_key_is(config_map_key(doc, map, i), key))
            return config_map_value(doc, map, i);
    }
    return NULL;
}

/* Edit distance with adjacent swaps counted as one edit (optimal string
 * alignment); UINT_MAX for strings too long to be worth a hint. */
static unsigned config_distance(const char *a, const char *b)
{
    unsigned char d[CONFIG_HINT_MAX + 1][CONFIG_HINT_MAX + 1];
    size_t la = strlen(a), lb = strlen(b);

    if (la > CONFIG_HINT_MAX || lb > CONFIG_HINT_MAX)
        return UINT_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

            if (d[i - 1][j] + 1u < v)
                v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v)
                v = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < v)
                v = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)v;
        }
    }
    return d[la][lb];
}

const char *config_suggest(const char *const names[], const char *s)
{
    const char *found = NULL;
    unsigned best = 3;

    for (size_t i = 0; names[i] != NULL; i++) {
        unsigned d = config_distance(s, names[i]);

        if (d < best && d < strlen(names[i])) {
            best = d;
            found = names[i];
        }
    }
    return found;
}

void config_names(const char *const names[], char *out, size_t outlen)
{
    size_t o = 0;

    if (outlen > 0)
        out[0] = '\0';
    for (size_t i = 0; names[i] != NULL && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i > 0 ? ", " : "", names[i]);
}

int config_check_keys(const config_doc *doc, const config_node *map, const char *const allowed[],
                      char *err, size_t errlen)
{
    char list[CONFIG_ERRLEN];

    if (map != NULL && !config_is_map(map))
        return config_error(doc, map, err, errlen, "expected a mapping, found %s",
                            config_kind(map));
    for (size_t i = 0; i < config_len(map); i++) {
        const config_node *k = config_map_key(doc, map, i);
        const char *hint;
        size_t j = 0;

        while (allowed[j] != NULL && !config_key_is(k, allowed[j]))
            j++;
        if (allowed[j] != NULL)
            continue;
        config_names(allowed, list, sizeof(list));
        hint = config_suggest(allowed, config_scalar(k));
        return config_error(doc, k, err, errlen, "unknown key '%s', expected one of: %s%s%s%s",
                            config_scalar(k), list, hint != NULL ? " (did you mean '" : "",
                            hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
    }
    return 0;
}

int config_require(const config_doc *doc, const config_node *map, const char *key, char *err,
                   size_t errlen)
{
    if (map != NULL && !config_is_map(map))
        return config_error(doc, map, err, errlen, "expected a mapping with '%s', found %s", key,
                            config_kind(map));
    if (config_map_get(doc, map, key) != NULL)
        return 0;
    return config_error(doc, map, err, errlen, "missing key '%s'", key);
}
