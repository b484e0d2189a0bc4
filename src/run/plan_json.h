/*
 * plan_json: a step's `json:` body, a YAML mapping (or sequence) sent as
 * JSON, compiled once when the plan is loaded into a flat list of parts:
 * literal JSON text and string templates. Rendering appends the literal text
 * and each template's value as a JSON string (escaped), so an iteration costs
 * one pass and no tree.
 *
 *   json: {name: "s", version: "{{version}}", n: 3, tags: [a, b], ok: true}
 *
 * compiles to `{"name":"s","version":` + {{version}} + `,"n":3,"tags":["a","b"],"ok":true}`.
 *
 * YAML scalars become JSON values by their YAML type: plain (unquoted)
 * integers, decimals, true/false and null are sent as such; everything else,
 * and every quoted scalar, is a string. A string that is exactly one
 * placeholder (`"{{version}}"`, `"{{iteration}}"`) whose value is a JSON
 * integer (`-?(0|[1-9][0-9]*)`) is sent as a number: captured versions and
 * counters keep their type. Mapping keys are plain text (no templates).
 *
 * Hand-written: jansson could build the tree, but would serialize the whole
 * document on every iteration; the literal parts never change.
 */
#ifndef TG_RUN_PLAN_JSON_H
#define TG_RUN_PLAN_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "run/tmpl.h"

/* One part: literal JSON text, or a template rendered as a JSON string. */
struct plan_json_part {
    char *lit; /* owned literal JSON text (NULL for a template part) */
    size_t lit_len;
    tmpl t;    /* a template part's string (zeroed for a literal part) */
    bool bare; /* the string is exactly one placeholder: an integer value is sent as a number */
};

typedef struct plan_json {
    struct plan_json_part *parts; /* owned */
    size_t nparts;
} plan_json;

/* Called for every string template compiled, with the YAML node it came
 * from, so the plan loader can check the variables it uses. A non-zero return
 * stops the compilation and is returned by plan_json_compile. */
typedef int (*plan_json_check_fn)(void *ctx, const tmpl *t, const config_node *node);

/* Compiles `node` (a mapping, a sequence or a scalar of `doc`) into *j.
 * `check` may be NULL. Returns 0; -EINVAL with `FILE:LINE:COL: json: ...` in
 * err for a bad template; the check's return; or -ENOMEM. On failure *j holds
 * nothing (plan_json_free is harmless). */
int plan_json_compile(plan_json *j, const config_doc *doc, const config_node *node,
                      plan_json_check_fn check, void *check_ctx, char *err, size_t errlen);

/* Frees the parts; harmless on a zeroed or freed plan_json. */
void plan_json_free(plan_json *j);

/* Appends the JSON text to out. Returns 0; -ENOENT with tmpl_render's
 * message when a variable is not set; -ENOBUFS or -ENOMEM from the buffer.
 * On failure out holds what it held before the call. */
int plan_json_render(const plan_json *j, const tmpl_ctx *ctx, buf *out, char *err, size_t errlen);

#endif
