/*
 * emu_req: what the unit tests of the emulated endpoints use to call a
 * handler the way the gateway does: a handler_req built from a method, a
 * target ("/path?query"), a body, an org and header pairs, and a
 * handler_resp with its two buffers.
 */
#ifndef TG_TESTS_EMU_REQ_H
#define TG_TESTS_EMU_REQ_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/handler.h"

typedef struct emu_t {
    handler_req req;
    handler_resp resp;
    buf headers, body;
    rng rng;
    const char *hdrs[8]; /* name, value, name, value..., NULL */
} emu_t;

static inline const char *emu_t_header(const handler_req *req, const char *name, size_t *len)
{
    const char *const *h = req->header_ctx;

    for (size_t i = 0; h != NULL && h[i] != NULL; i += 2) {
        if (strcasecmp(h[i], name) == 0) {
            *len = strlen(h[i + 1]);
            return h[i + 1];
        }
    }
    return NULL;
}

static inline void emu_t_init(emu_t *t, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    buf_init(&t->headers, 0);
    buf_init(&t->body, 0);
    rng_seed(&t->rng, seed);
    t->resp.headers = &t->headers;
    t->resp.body = &t->body;
}

static inline void emu_t_free(emu_t *t)
{
    buf_free(&t->headers);
    buf_free(&t->body);
}

/* Fills the request (strings are borrowed) and resets the response. */
static inline void emu_t_req(emu_t *t, const char *method, const char *target, const char *body,
                             const char *org, uint64_t now, uint64_t now_wall)
{
    const char *q = strchr(target, '?');

    memset(&t->req, 0, sizeof(t->req));
    t->req.method = method;
    t->req.path = target;
    t->req.path_len = q != NULL ? (size_t)(q - target) : strlen(target);
    t->req.query = q != NULL ? q + 1 : "";
    t->req.query_len = q != NULL ? strlen(q + 1) : 0;
    t->req.body = body;
    t->req.body_len = body != NULL ? strlen(body) : 0;
    t->req.id.org = org;
    t->req.now = now;
    t->req.now_wall = now_wall;
    t->req.rng = &t->rng;
    t->req.header = emu_t_header;
    t->req.header_ctx = t->hdrs;
    buf_reset(&t->headers);
    buf_reset(&t->body);
    t->resp.status = 0;
    t->resp.content_type = NULL;
}

/* Runs the handler and returns the status. */
static inline int emu_t_run(emu_t *t, const handler_kind *k, void *state)
{
    int rc = k->handle(state, &t->req, &t->resp);

    (void)rc;
    return t->resp.status;
}

/* The response body as NUL-terminated text (valid until the next call). */
static inline const char *emu_t_text(emu_t *t)
{
    buf_append(&t->body, "", 1);
    t->body.len--;
    return buf_ptr(&t->body);
}

/* The response body parsed as JSON (a new reference), or NULL. */
static inline json_t *emu_t_json(emu_t *t)
{
    return json_loadb(buf_ptr(&t->body), t->body.len, 0, NULL);
}

#endif
