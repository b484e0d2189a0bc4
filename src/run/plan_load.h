/*
 * plan_load: what the plan loader's files share: plan.c reads the top level,
 * plan_auth.c the auth section, plan_exec.c a scenario's executor,
 * plan_retry.c retry policies, plan_step.c the steps (plan_resp.c their
 * expect and capture, plan_json.c their json bodies). Internal to the loader:
 * the engine uses run/plan.h only.
 */
#ifndef TG_RUN_PLAN_LOAD_H
#define TG_RUN_PLAN_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "run/plan.h"

/* Longest file (body `@file`) read at load time, bytes. */
#define PLAN_FILE_MAX (64u << 20)

/* One load in progress. */
typedef struct plan_loader {
    plan *p;
    const config_doc *doc;
    const char *dir;            /* where relative files are; NULL = current directory */
    const config_node *headers; /* the plan's default headers mapping, or NULL */
    char *err;
    size_t errlen;
} plan_loader;

/* The variables a step may use: captures of the steps before it. */
typedef struct plan_vars {
    const char **names; /* not owned: capture names owned by the plan */
    size_t n, cap;
} plan_vars;

/* Resolves `rel` against the loader's directory (unless absolute) into a new
 * malloc'd string, or NULL on allocation failure. */
char *plan_load_path(const plan_loader *l, const char *rel);

/* Reads the whole file at `path` (at most PLAN_FILE_MAX bytes) into a new
 * malloc'd buffer *out of *len bytes followed by a NUL, owned by the caller. Returns 0, -EFBIG,
 * -EISDIR for anything but a regular file, -ENOMEM or another -errno from
 * opening or reading it. */
int plan_read_file(const char *path, char **out, size_t *len);

/* Reads the `auth` section of the plan's root mapping into l->p->auth (the
 * targets must be read first). Returns 0, -EINVAL with a message, or
 * -ENOMEM. */
int plan_auth_read(const plan_loader *l, const config_node *root);

/* Reads a retry policy: *out starts as *parent and takes the options of
 * `node` (NULL: none; a mapping; or `off`). `restart_from` is a step's
 * option: when `restart` is not NULL (a step's section), *restart is set to
 * its value node (NULL when absent), which the caller resolves; otherwise
 * the key is an error. Returns 0 or -EINVAL with a message in l->err. */
int plan_retry_read(const plan_loader *l, const config_node *node, const retry_policy *parent,
                    retry_policy *out, const config_node **restart);

/* Reads the executor options of scenario mapping `node` into *s (name,
 * executor, schedule, seed, graceful times). Returns 0, -EINVAL with a
 * message, or -ENOMEM. */
int plan_exec_read(const plan_loader *l, const config_node *node, plan_scenario *s,
                   size_t scenario_index);

/* Reads steps sequence `node` (key `key`: "steps" or "setup") of scenario s
 * into *steps / *n, checking template variables against `vars` (and the data
 * columns) and adding each step's captures to `vars`. Returns 0, -EINVAL with
 * a message, or -ENOMEM. */
int plan_steps_read(const plan_loader *l, const config_node *node, const char *key,
                    const plan_scenario *s, plan_vars *vars, plan_step **steps, size_t *n);

/* Reads a step's `expect` (default: 2xx and 3xx) into st->expect. Returns 0
 * or -EINVAL with a message. */
int plan_expect_read(const plan_loader *l, const config_node *node, plan_step *st);

/* Reads a step's `capture` mapping into st->captures. Returns 0, -EINVAL
 * with a message, or -ENOMEM. */
int plan_captures_read(const plan_loader *l, const config_node *node, plan_step *st);

/* Frees one step's contents. */
void plan_step_free(plan_step *st);

/* Sets the expect bitset to 2xx and 3xx. */
void plan_step_expect_default(plan_step *st);

/* Compiles a template from text, for the quick form: returns 0, or -EINVAL
 * with `what: message` in err, or -ENOMEM. */
int plan_tmpl_from_text(tmpl *t, const char *what, const char *text, char *err, size_t errlen);

/* Finds or adds the origin (scheme, host, port) of `u` in p->targets and
 * returns its index in *index. Returns 0, -EINVAL (message) or -ENOMEM. */
int plan_target_add(plan *p, const url *u, size_t *index, char *err, size_t errlen);

/* Whether s is an HTTP token (RFC 9110 tchar), as methods and header names
 * must be. */
bool plan_is_token(const char *s);

/* Assigns global step indices and builds p->step_names. Returns 0 or -ENOMEM. */
int plan_index_steps(plan *p);

#endif
