/*
 * yamlscan: one pass over libyaml's events that refuses, before the document
 * API loads anything, what that API cannot bound or point at afterwards:
 *
 *   - a second document in the stream (yaml_parser_load would silently stop
 *     after the first);
 *   - nesting deeper than YAMLSCAN_MAX_DEPTH mappings and sequences;
 *   - anchors and aliases beyond what a configuration file needs. libyaml's
 *     loader turns an alias into one more reference to the anchored node, so a
 *     "billion laughs" document loads small and then makes every walk over it
 *     exponential, and `&a [*a]` makes a cycle. Here an alias may refer only
 *     to a node that is complete (no cycles), the nodes that all aliases stand
 *     for are counted (a nested alias counts everything it expands to) and may
 *     total at most YAMLSCAN_MAX_ALIAS_NODES, an alias may not nest deeper than
 *     YAMLSCAN_MAX_DEPTH once expanded, and at most YAMLSCAN_MAX_ANCHORS
 *     anchors are defined, each once (libyaml looks anchors up linearly, so
 *     the count also bounds that cost);
 *   - mapping keys that are not scalars written out: a sequence, a mapping
 *     or an alias as a key (an aliased key would have no position of its own
 *     for a "duplicate key" or "unknown key" message).
 *
 * Every refusal names the position of the event at fault. Also here:
 * yamlscan_error, which turns any libyaml parser failure into a
 * `FILE:LINE:COL: problem (context at LINE:COL)` message.
 */
#ifndef TG_CORE_YAMLSCAN_H
#define TG_CORE_YAMLSCAN_H

#include <stddef.h>
#include <yaml.h>

#define YAMLSCAN_MAX_DEPTH       64    /* nested mappings and sequences */
#define YAMLSCAN_MAX_ANCHORS     64    /* &name definitions per document */
#define YAMLSCAN_MAX_ALIAS_NODES 10000 /* nodes that aliases may stand for, in total */

/* Parses the `len` bytes of `text` as a YAML stream (events only, nothing is
 * built) and checks the bounds above. Returns 0; -EINVAL with a message
 * `FILE:LINE:COL: ...` in err (if errlen > 0) for a syntax error or a refused
 * document; or -ENOMEM. An empty stream passes. */
int yamlscan_check(const char *file, const char *text, size_t len, char *err, size_t errlen);

/* Writes the error that made a libyaml parser fail on `text` (the same
 * `len` bytes it was given) as `FILE:LINE:COL: problem (context at L:C)`,
 * 1-based. Returns -ENOMEM for a memory error, else -EINVAL. */
int yamlscan_error(const char *file, const yaml_parser_t *p, const char *text, size_t len,
                   char *err, size_t errlen);

#endif
