/*
 * yamlscan: the checks are done on events because by the time the document
 * API has built a document, an alias is an index like any other and its
 * position is lost.
 */
#include "core/yamlscan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int yamlscan_fail(const char *file, const yaml_mark_t *m, char *err, size_t errlen,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int yamlscan_fail(const char *file, const yaml_mark_t *m, char *err, size_t errlen,
                         const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL || errlen == 0)
        return -EINVAL;
    n = snprintf(err, errlen, "%s:%zu:%zu: ", file, m->line + 1, m->column + 1);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* The byte at a mark (line, column in characters), or -1 past the end. */
static int yamlscan_byte_at(const char *text, size_t len, const yaml_mark_t *m)
{
    size_t i = 0, line = 0, col = 0;

    while (i < len && line < m->line)
        line += text[i++] == '\n';
    while (i < len && col < m->column && text[i] != '\n') {
        i++;
        while (i < len && ((unsigned char)text[i] & 0xc0) == 0x80)
            i++; /* UTF-8 continuation byte */
        col++;
    }
    return i < len ? (unsigned char)text[i] : -1;
}

/* Reports a libyaml reader, scanner, parser or composer error. */
int yamlscan_error(const char *file, const yaml_parser_t *p, const char *text, size_t len,
                   char *err, size_t errlen)
{
    yaml_mark_t m = p->problem_mark;
    const char *problem = p->problem != NULL ? p->problem : "invalid YAML";
    const char *tab;

    if (p->error == YAML_MEMORY_ERROR) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: out of memory", file);
        return -ENOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        m.line = 0;
        m.column = 0;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            m.column = text[i] == '\n' ? 0 : m.column + 1;
            m.line += text[i] == '\n';
        }
        if (p->problem_value != -1)
            return yamlscan_fail(file, &m, err, errlen, "%s (0x%02x)", problem, p->problem_value);
        return yamlscan_fail(file, &m, err, errlen, "%s", problem);
    }
    /* A tab is the most common cause of "cannot start any token". */
    tab = yamlscan_byte_at(text, len, &m) == '\t' ? "; YAML indents with spaces, not tabs" : "";
    if (p->context != NULL)
        return yamlscan_fail(file, &m, err, errlen, "%s (%s at %zu:%zu)%s", problem, p->context,
                             p->context_mark.line + 1, p->context_mark.column + 1, tab);
    return yamlscan_fail(file, &m, err, errlen, "%s%s", problem, tab);
}

/* The event scan: what each open collection and each anchor amounts to. */
struct yamlscan_anchor {
    char *name;
    yaml_mark_t mark;
    size_t nodes;    /* nodes in the anchored subtree, aliases expanded */
    unsigned height; /* levels of collections in it (0 for a scalar) */
    bool done;       /* its end has been seen */
};

struct yamlscan_frame {
    size_t nodes;
    unsigned height;
    int anchor;      /* index into anchors, or -1 */
    bool map;        /* a mapping: its children alternate key, value */
    size_t children; /* children completed so far */
};

struct yamlscan {
    struct yamlscan_frame frames[YAMLSCAN_MAX_DEPTH + 1]; /* [0] stands for the document */
    unsigned depth;                                       /* open collections */
    struct yamlscan_anchor anchors[YAMLSCAN_MAX_ANCHORS];
    unsigned nanchors;
    size_t alias_nodes;
    unsigned docs;
};

static void yamlscan_add(struct yamlscan *s, size_t nodes, unsigned height)
{
    struct yamlscan_frame *f = &s->frames[s->depth];

    f->nodes += nodes;
    f->children++;
    if (height + 1 > f->height)
        f->height = height + 1;
}

static int yamlscan_anchor(const char *file, struct yamlscan *s, const yaml_char_t *name,
                           const yaml_mark_t *mark, int *idx, char *err, size_t errlen)
{
    struct yamlscan_anchor *a;

    *idx = -1;
    if (name == NULL)
        return 0;
    for (unsigned i = 0; i < s->nanchors; i++) {
        a = &s->anchors[i];
        if (strcmp(a->name, (const char *)name) == 0)
            return yamlscan_fail(file, mark, err, errlen,
                                 "duplicate anchor '&%s' (first at %zu:%zu)", (const char *)name,
                                 a->mark.line + 1, a->mark.column + 1);
    }
    if (s->nanchors == YAMLSCAN_MAX_ANCHORS)
        return yamlscan_fail(file, mark, err, errlen, "more than %d anchors (&name)",
                             YAMLSCAN_MAX_ANCHORS);
    a = &s->anchors[s->nanchors];
    a->name = strdup((const char *)name);
    if (a->name == NULL)
        return -ENOMEM;
    a->mark = *mark;
    a->done = false;
    *idx = (int)s->nanchors++;
    return 0;
}

static int yamlscan_alias(const char *file, struct yamlscan *s, const yaml_event_t *ev, char *err,
                          size_t errlen)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const yaml_mark_t *m = &ev->start_mark;

    for (unsigned i = 0; i < s->nanchors; i++) {
        struct yamlscan_anchor *a = &s->anchors[i];

        if (strcmp(a->name, name) != 0)
            continue;
        if (!a->done)
            return yamlscan_fail(file, m, err, errlen,
                                 "alias '*%s' refers to a node that contains it", name);
        if (s->depth + a->height > YAMLSCAN_MAX_DEPTH)
            return yamlscan_fail(file, m, err, errlen, "alias '*%s' nests deeper than %d levels",
                                 name, YAMLSCAN_MAX_DEPTH);
        s->alias_nodes += a->nodes;
        if (s->alias_nodes > YAMLSCAN_MAX_ALIAS_NODES)
            return yamlscan_fail(file, m, err, errlen, "aliases expand to more than %d nodes",
                                 YAMLSCAN_MAX_ALIAS_NODES);
        yamlscan_add(s, a->nodes, a->height);
        return 0;
    }
    return yamlscan_fail(file, m, err, errlen, "undefined alias '*%s'", name);
}

static int yamlscan_event(const char *file, struct yamlscan *s, const yaml_event_t *ev, char *err,
                          size_t errlen)
{
    const yaml_mark_t *m = &ev->start_mark;
    const struct yamlscan_frame *top = &s->frames[s->depth];
    bool key = top->map && top->children % 2 == 0;
    struct yamlscan_frame f;
    int idx, rc = 0;

    /* Keys must be scalars written out, so that every key has its own position. */
    if (key && ev->type == YAML_ALIAS_EVENT)
        return yamlscan_fail(file, m, err, errlen, "an alias cannot be a mapping key");
    if (key && (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT))
        return yamlscan_fail(file, m, err, errlen, "mapping keys must be scalars, found a %s",
                             ev->type == YAML_SEQUENCE_START_EVENT ? "sequence" : "mapping");
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++s->docs > 1)
            return yamlscan_fail(file, m, err, errlen,
                                 "a second YAML document; expected one document per file");
        break;
    case YAML_SCALAR_EVENT:
        rc = yamlscan_anchor(file, s, ev->data.scalar.anchor, m, &idx, err, errlen);
        if (idx >= 0) {
            s->anchors[idx].nodes = 1;
            s->anchors[idx].height = 0;
            s->anchors[idx].done = true;
        }
        yamlscan_add(s, 1, 0);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (s->depth == YAMLSCAN_MAX_DEPTH)
            return yamlscan_fail(file, m, err, errlen, "nested deeper than %d levels",
                                 YAMLSCAN_MAX_DEPTH);
        rc = yamlscan_anchor(file, s,
                             ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                                                                   : ev->data.mapping_start.anchor,
                             m, &idx, err, errlen);
        s->frames[++s->depth] =
            (struct yamlscan_frame){1, 1, idx, ev->type == YAML_MAPPING_START_EVENT, 0};
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        f = s->frames[s->depth--];
        if (f.anchor >= 0) {
            s->anchors[f.anchor].nodes = f.nodes;
            s->anchors[f.anchor].height = f.height;
            s->anchors[f.anchor].done = true;
        }
        yamlscan_add(s, f.nodes, f.height);
        break;
    case YAML_ALIAS_EVENT:
        return yamlscan_alias(file, s, ev, err, errlen);
    default:
        break;
    }
    return rc;
}

int yamlscan_check(const char *file, const char *text, size_t len, char *err, size_t errlen)
{
    struct yamlscan s;
    yaml_parser_t p;
    yaml_event_t ev;
    bool end = false;
    int rc = 0;

    memset(&s, 0, sizeof(s));
    if (!yaml_parser_initialize(&p))
        return -ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (rc == 0 && !end) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = yamlscan_error(file, &p, text, len, err, errlen);
            break;
        }
        rc = yamlscan_event(file, &s, &ev, err, errlen);
        end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    for (unsigned i = 0; i < s.nanchors; i++)
        free(s.anchors[i].name);
    yaml_parser_delete(&p);
    return rc;
}
