/*
 * emu_static: the `static` handler kind, one fixed response for every
 * request, for benchmarks and tests:
 *
 *     options: {status: 200, body: "ok", content_type: text/plain}
 *
 * (those are the defaults; a 204 or 304 has no body). The body is copied at
 * init; handling is one append.
 */
#include "serve/emulate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"

typedef struct emu_static {
    int status;
    char *content_type;
    char *body;
    size_t body_len;
} emu_static;

static void static_free(void *state)
{
    emu_static *s = state;

    if (s == NULL)
        return;
    free(s->content_type);
    free(s->body);
    free(s);
}

static int static_init(void **state, const config_doc *doc, const config_node *options,
                       const handler_env *env, char *err, size_t errlen)
{
    static const char *const keys[] = {"status", "body", "content_type", NULL};
    const char *body = "ok", *ctype = "text/plain";
    int64_t status = 200;
    emu_static *s;
    int rc;

    (void)env;
    rc = config_check_keys(doc, options, keys, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, options, "status", 200, 599, &status, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, options, "body", &body, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, options, "content_type", &ctype, err, errlen);
    if (rc < 0)
        return rc;
    if (status == 204 || status == 304) {
        if (config_map_get(doc, options, "body") != NULL && body[0] != '\0')
            return config_error(doc, config_map_get(doc, options, "body"), err, errlen,
                                "body: a %d response has no body", (int)status);
        body = "";
    }
    if (ctype[0] == '\0' || strpbrk(ctype, "\r\n") != NULL)
        return config_error(doc, config_map_get(doc, options, "content_type"), err, errlen,
                            "content_type: expected a media type such as text/plain");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto err;
    s->status = (int)status;
    s->content_type = strdup(ctype);
    s->body = strdup(body);
    if (s->content_type == NULL || s->body == NULL)
        goto err;
    s->body_len = strlen(body);
    *state = s;
    return 0;
err:
    static_free(s);
    return -ENOMEM;
}

static int static_handle(void *state, handler_req *req, handler_resp *resp)
{
    const emu_static *s = state;

    (void)req;
    buf_reset(resp->body);
    if (buf_append(resp->body, s->body, s->body_len) < 0) {
        handler_error(resp, 500, "internal.server.error", "the response could not be built");
        return HANDLER_DONE;
    }
    resp->status = s->status;
    resp->content_type = s->content_type;
    return HANDLER_DONE;
}

const handler_kind emu_static_kind = {
    .name = "static",
    .init = static_init,
    .handle = static_handle,
    .free = static_free,
};
