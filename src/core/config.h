/*
 * config: YAML files (the gateway's `serve --config`, the plans of `run`)
 * loaded with libyaml's document API, walked through a small typed view of its
 * nodes, with errors that say where: `plan.yaml:12:5: unknown key 'ratee',
 * expected one of: rate, burst (did you mean 'rate'?)`. Typed getters are in
 * config_get.h.
 *
 * Loading is strict so that a typo never silently changes a test:
 *   - one document per file; an empty file (or only comments, or only a
 *     null) is an error;
 *   - mapping keys are scalars, and a key may appear once per mapping;
 *   - input is at most CONFIG_MAX_BYTES; nesting, anchors and aliases are
 *     bounded as yamlscan.h describes (at most 64 levels; at most 64 anchors;
 *     aliases may not recurse and may stand for at most 10000 nodes in all,
 *     so a "billion laughs" document is refused at load time). Anchors and
 *     aliases that stay within the bounds work: libyaml makes an alias one
 *     more reference to the anchored node, so a walk may reach a node twice,
 *     and visits at most the document's own nodes plus 10000. YAML 1.1 merge
 *     keys (`<<: *base`) are not supported (libyaml does not implement them):
 *     `<<` is an ordinary key, hence an unknown one.
 * Unknown keys are errors too, through config_check_keys, which readers run
 * on every mapping they read.
 *
 * Nodes and strings taken from a document point into it and stay valid until
 * config_free.
 */
#ifndef TG_CORE_CONFIG_H
#define TG_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (4u << 20) /* input size, bytes */
#define CONFIG_ERRLEN    512        /* err buffer size that holds every message (long values cut) */

/* A node of a loaded document: a scalar, a sequence or a mapping. */
typedef yaml_node_t config_node;

typedef struct config_doc {
    yaml_document_t ydoc;
    char *name; /* owned copy of the name used in messages */
    bool loaded;
} config_doc;

/* Loads the single YAML document in `path` into *doc, which need not be
 * initialized. On success returns 0 and *doc must be released with
 * config_free. On failure returns a negative errno (-ENOENT, -EFBIG, -EINVAL
 * for YAML errors and refused documents, -ENOMEM...) with a message in err,
 * e.g. `plan.yaml:3:1: could not find expected ':' (while scanning a simple
 * key at 2:1)`, and *doc holds nothing (config_free is harmless). */
int config_load_file(config_doc *doc, const char *path, char *err, size_t errlen);

/* The same for `len` bytes of text that need not be NUL-terminated; `name`
 * stands for the file name in messages and is copied. */
int config_load_string(config_doc *doc, const char *name, const char *text, size_t len, char *err,
                       size_t errlen);

/* Releases the document. Safe on a document whose load failed, and on a
 * zeroed one. Every node and string taken from it becomes invalid. */
void config_free(config_doc *doc);

/* The top-level node; never NULL after a successful load. */
const config_node *config_root(const config_doc *doc);

bool config_is_map(const config_node *n);
bool config_is_seq(const config_node *n);
bool config_is_scalar(const config_node *n);

/* True for a plain `~`, `null`, `Null`, `NULL` or empty scalar, or `!!null`. */
bool config_is_null(const config_node *n);

/* The text of a scalar (NUL-terminated), or NULL if n is not a scalar. */
const char *config_scalar(const config_node *n);

/* 1-based line and column where the node starts. */
unsigned long config_line(const config_node *n);
unsigned long config_column(const config_node *n);

/* Items of a sequence, pairs of a mapping, 0 for a scalar or NULL. */
size_t config_len(const config_node *n);

/* The i-th item of a sequence (i < config_len), or NULL if seq is not a
 * sequence or i is out of range. */
const config_node *config_seq_item(const config_doc *doc, const config_node *seq, size_t i);

/* The key (always a scalar) and the value of the i-th pair of a mapping, in
 * document order, or NULL if map is not a mapping or i is out of range. */
const config_node *config_map_key(const config_doc *doc, const config_node *map, size_t i);
const config_node *config_map_value(const config_doc *doc, const config_node *map, size_t i);

/* The value under `key` in a mapping, or NULL if the key is absent, or map is
 * NULL or not a mapping. */
const config_node *config_map_get(const config_doc *doc, const config_node *map, const char *key);

/* Formats `FILE:LINE:COL: <message>` (just `FILE: <message>` when node is
 * NULL) into err and returns -EINVAL, for callers' own checks. */
int config_error(const config_doc *doc, const config_node *node, char *err, size_t errlen,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "a mapping", "a sequence" or "a scalar", for messages ("found a mapping"). */
const char *config_kind(const config_node *n);

/* The name in the NULL-terminated `names` closest to s within 2 edits
 * (insert, delete, replace, swap of neighbours) and fewer edits than the name
 * has characters, or NULL; for "did you mean" hints. Names and s longer than
 * 32 bytes get no suggestion. */
const char *config_suggest(const char *const names[], const char *s);

/* Writes the NULL-terminated `names` as "a, b, c" (cut to fit outlen). */
void config_names(const char *const names[], char *out, size_t outlen);

/* Checks that every key of `map` is in the NULL-terminated list `allowed`.
 * Returns 0, or -EINVAL with `FILE:LINE:COL: unknown key 'ratee', expected
 * one of: rate, burst (did you mean 'rate'?)` at the first unknown key; the
 * hint names the closest allowed key within 2 edits (insert, delete, replace,
 * swap). A map that is not a mapping is an error; NULL passes. */
int config_check_keys(const config_doc *doc, const config_node *map, const char *const allowed[],
                      char *err, size_t errlen);

/* Returns 0 if `key` is in `map`, else -EINVAL with `FILE:LINE:COL: missing
 * key 'url'` at the mapping (or `FILE: missing key 'url'` if map is NULL). */
int config_require(const config_doc *doc, const config_node *map, const char *key, char *err,
                   size_t errlen);

#endif
