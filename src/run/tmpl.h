/*
 * tmpl: `{{...}}` templates in request paths, headers and bodies.
 *
 *   {{name}}              a variable: a capture from an earlier step or a CSV
 *                         feeder column, looked up through the caller
 *   {{uuid}}              a random version 4 UUID (from the VU's rng)
 *   {{iteration}}         the iteration number (the executor's count)
 *   {{vu}}                the VU number
 *   {{random_int(a,b)}}   a uniform integer in [a, b]
 *   {{now_ms}}            wall-clock milliseconds since the epoch (passed in)
 *
 * Spaces inside the braces are ignored. A template is compiled once, when the
 * plan is loaded, into literal slices and placeholders; rendering is a loop
 * that appends to a buf. Built-ins win over variables of the same name.
 * There is no escape for a literal "{{".
 *
 * Hand-written: the language is five built-ins and a lookup, and its errors
 * must point into the plan; Debian's template engines (mustache, jinja-like)
 * are neither small C libraries nor allocation-free per render.
 */
#ifndef TG_RUN_TMPL_H
#define TG_RUN_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/rng.h"

/* Looks up variable `name` (name_len bytes, not NUL-terminated). Returns 0 and
 * sets *value and *value_len (which must stay valid until the render returns), or
 * -ENOENT when the variable is not set. */
typedef int (*tmpl_lookup_fn)(void *ctx, const char *name, size_t name_len, const char **value,
                              size_t *value_len);

/* What a render needs besides the template. */
typedef struct tmpl_ctx {
    rng *rng;              /* for uuid and random_int; required if the template uses them */
    uint64_t iteration;    /* {{iteration}} */
    uint64_t vu;           /* {{vu}} */
    uint64_t now_ms;       /* {{now_ms}}: epoch milliseconds */
    tmpl_lookup_fn lookup; /* variables; NULL = none are set */
    void *lookup_ctx;
    const char *step; /* the step's name, for messages; may be NULL */
} tmpl_ctx;

enum tmpl_kind {
    TMPL_LITERAL = 0,
    TMPL_VAR,
    TMPL_UUID,
    TMPL_ITERATION,
    TMPL_VU,
    TMPL_RANDOM_INT,
    TMPL_NOW_MS,
};

struct tmpl_part {
    enum tmpl_kind kind;
    size_t off, len; /* literal text or variable name, in src */
    int64_t lo, hi;  /* random_int bounds */
};

typedef struct tmpl {
    char *src; /* owned copy of the template */
    size_t len;
    struct tmpl_part *parts; /* owned */
    size_t nparts;
} tmpl;

/* Compiles `len` bytes at `src` (copied). Returns 0, -ENOMEM, or -EINVAL with
 * a message that gives the position, e.g.
 *   column 7: unknown function 'random_float', expected random_int(a,b)
 *   line 3, column 12: unterminated '{{'
 * Free with tmpl_free. */
int tmpl_compile(tmpl *t, const char *src, size_t len, char *err, size_t errlen);

/* Frees the template; tmpl_free on a zeroed or freed template does nothing. */
void tmpl_free(tmpl *t);

/* Whether the template has no placeholder (send t->src as it is). */
bool tmpl_is_static(const tmpl *t);

/* The variables a template uses, in order (repeats included), so a plan
 * loader can check them before the run: how many there are, and the i-th
 * (i < count) as a pointer into t->src with its length in *len. */
size_t tmpl_var_count(const tmpl *t);
const char *tmpl_var(const tmpl *t, size_t i, size_t *len);

/* Appends the rendered template to `out`. Returns 0; -ENOENT when a variable
 * is not set, with a message such as
 *   step 'update' needs 'version', which was not captured
 * (the executor fails the iteration with it); or -ENOBUFS / -ENOMEM from the
 * buffer. On failure `out` holds what it held before the call. */
int tmpl_render(const tmpl *t, const tmpl_ctx *ctx, buf *out, char *err, size_t errlen);

/* Writes a random version 4 UUID (36 characters and a NUL) into out. */
void tmpl_uuid(rng *r, char out[37]);

#endif
