/*
 * fuzz_config: loads the input as a YAML document and walks every node,
 * calling every getter on every key of every mapping.
 *
 * Beyond what the sanitizers catch, it checks the module's promises: a
 * failure always comes with a message that starts with the file name and
 * fits the buffer; mapping keys are scalars; the walk stays within the depth
 * and node bounds that yamlscan enforces (aliases included).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_get.h"
#include "core/yamlscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"rate", "burst", "mode", "a", "key", "proxy", NULL};

struct walk {
    const config_doc *doc;
    size_t visited;
    size_t limit;
};

static void check(int rc, const char *err)
{
    if (rc >= 0 || rc == -ENOMEM)
        return;
    if (strnlen(err, CONFIG_ERRLEN) >= CONFIG_ERRLEN || strncmp(err, "fuzz.yaml", 9) != 0)
        __builtin_trap();
}

static void getters(const config_doc *doc, const config_node *map, const char *key)
{
    char err[CONFIG_ERRLEN];
    const char *s, **list = NULL;
    size_t n = 0;
    int64_t i;
    uint64_t u;
    bool b;
    double d;
    units_rate r;
    int e;

    err[0] = '\0';
    check(config_get_str(doc, map, key, &s, err, sizeof(err)), err);
    check(config_get_int(doc, map, key, -1000, 1000, &i, err, sizeof(err)), err);
    check(config_get_int(doc, map, key, INT64_MIN, INT64_MAX, &i, err, sizeof(err)), err);
    check(config_get_u64(doc, map, key, &u, err, sizeof(err)), err);
    check(config_get_bool(doc, map, key, &b, err, sizeof(err)), err);
    check(config_get_double(doc, map, key, &d, err, sizeof(err)), err);
    check(config_get_duration(doc, map, key, &u, err, sizeof(err)), err);
    check(config_get_rate(doc, map, key, &r, err, sizeof(err)), err);
    check(config_get_enum(doc, map, key, names, &e, err, sizeof(err)), err);
    check(config_get_str_list(doc, map, key, &list, &n, err, sizeof(err)), err);
    free(list);
    check(config_require(doc, map, key, err, sizeof(err)), err);
}

static void walk(struct walk *w, const config_node *n, unsigned depth)
{
    char err[CONFIG_ERRLEN];

    /* Bounds promised by yamlscan: depth, and nodes reached through aliases. */
    if (n == NULL || depth > YAMLSCAN_MAX_DEPTH || ++w->visited > w->limit)
        __builtin_trap();
    if (config_is_map(n)) {
        err[0] = '\0';
        check(config_check_keys(w->doc, n, names, err, sizeof(err)), err);
        for (size_t i = 0; i < config_len(n); i++) {
            const char *key = config_scalar(config_map_key(w->doc, n, i));

            if (key == NULL)
                __builtin_trap();
            getters(w->doc, n, key);
            walk(w, config_map_value(w->doc, n, i), depth + 1);
        }
    } else if (config_is_seq(n)) {
        for (size_t i = 0; i < config_len(n); i++)
            walk(w, config_seq_item(w->doc, n, i), depth + 1);
        /* Getters on something that is not a mapping must refuse cleanly. */
        getters(w->doc, n, "rate");
    } else {
        if (config_scalar(n) == NULL)
            __builtin_trap();
        (void)config_is_null(n);
        (void)config_suggest(names, config_scalar(n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CONFIG_ERRLEN] = "";
    config_doc doc;
    struct walk w;
    int rc;

    rc = config_load_string(&doc, "fuzz.yaml", (const char *)data, size, err, sizeof(err));
    check(rc, err);
    if (rc < 0) {
        if (rc != -ENOMEM && err[0] == '\0')
            __builtin_trap();
        return 0;
    }
    w.doc = &doc;
    w.visited = 0;
    w.limit = (size_t)(doc.ydoc.nodes.top - doc.ydoc.nodes.start) + YAMLSCAN_MAX_ALIAS_NODES;
    /* The root counts as depth 0; a scalar root is depth 0 too. */
    walk(&w, config_root(&doc), 0);
    config_free(&doc);
    return 0;
}
