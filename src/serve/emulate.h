/*
 * emulate: the endpoints of the emulated platform API (`tollgate serve`'s
 * default mode), as handler kinds the gateway looks up by the name a route
 * gives in `handler:`, and the small helpers they share (JSON replies, the
 * platform's error shape, identifiers).
 *
 *   oauth_token        POST /oauth/token, client credentials (emu_oauth.c)
 *   collection         versioned JSON collections per org (emu_coll.c)
 *   analytics_query    synthetic conversation details, paged (emu_analytics.c)
 *   analytics_summary  a synthetic summary (emu_analytics.c)
 *   analytics_jobs     asynchronous analytics jobs (emu_jobs.c)
 *   static             a fixed response, for benchmarks and tests (emu_static.c)
 *
 * docs/emulate.md describes every endpoint; profiles/contact-center.yaml
 * wires them into the built-in profile.
 */
#ifndef TG_SERVE_EMULATE_H
#define TG_SERVE_EMULATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"
#include "serve/handler.h"

#define EMU_UUID_LEN 36 /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */

/* Every emulated kind, ended by NULL. `proxy` is not among them: it belongs
 * to the gateway. */
extern const handler_kind *const emulate_kinds[];

extern const handler_kind emu_oauth_kind;
extern const handler_kind emu_coll_kind;
extern const handler_kind emu_query_kind;
extern const handler_kind emu_summary_kind;
extern const handler_kind emu_jobs_kind;
extern const handler_kind emu_static_kind;

/* The emulated kind called `name`, or NULL. */
const handler_kind *emulate_kind_find(const char *name);

/* Replaces the body with `j` serialized (compact) and sets the status and the
 * JSON content type. Takes the reference to j (decrefs it). When the body
 * cannot hold it (the buffer's bound, or memory) the reply becomes a 500
 * error instead. Returns HANDLER_DONE, so handlers can `return` it. */
int emu_reply_json(handler_resp *resp, int status, json_t *j);

/* A reply with a status and no body (204, 202 without content). */
int emu_reply_empty(handler_resp *resp, int status);

/* Appends the header line "name: value\r\n" to the response. Returns 0 or a
 * negative errno from buf. */
int emu_header_add(handler_resp *resp, const char *name, const char *value);

/* 405 with `Allow: <allow>` and the platform's error body. */
int emu_method_not_allowed(handler_resp *resp, const char *method, const char *allow);

/* Parses the request body as one JSON object. Returns 0 and a new reference
 * in *out, or answers 400 (not JSON, or not an object) and returns -EINVAL. */
int emu_body_object(const handler_req *req, handler_resp *resp, json_t **out);

/* The value of request header `name`, or NULL (also when the request has no
 * header callback). */
const char *emu_header(const handler_req *req, const char *name, size_t *len);

/* The caller's org, or "" for a request without one (a route with
 * `auth: none`), so such callers share one anonymous org. */
const char *emu_org(const handler_req *req);

/* A random version 4 UUID from r, NUL-terminated. */
void emu_uuid(rng *r, char out[EMU_UUID_LEN + 1]);

/* Whether the method is `m` (methods are upper case). */
bool emu_method_is(const handler_req *req, const char *m);

#endif
