#include "serve/kinds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"
#include "serve/proxy.h"

/* ---- static: a fixed response, for benchmarks and tests ----
 * Kept here until the emulated endpoints (serve/emulate.h) provide it. */

typedef struct static_state {
    int status;
    char *body;
    size_t len;
    const char *content_type;
} static_state;

static int static_init(void **state, const config_doc *doc, const config_node *options,
                       const handler_env *env, char *err, size_t errlen)
{
    static const char *const keys[] = {"status", "body", "content_type", NULL};
    static const char *const types[] = {"text/plain", "application/json", NULL};
    static_state *s;
    const char *body = "ok";
    int64_t status = 200;
    int type = 0, rc;

    (void)env;
    rc = config_check_keys(doc, options, keys, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, options, "status", 200, 599, &status, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, options, "body", &body, err, errlen);
    if (rc == 0)
        rc = config_get_enum(doc, options, "content_type", types, &type, err, errlen);
    if (rc < 0)
        return rc;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->status = (int)status;
    s->len = strlen(body);
    s->body = strdup(body);
    s->content_type = types[type];
    if (s->body == NULL) {
        free(s);
        return -ENOMEM;
    }
    *state = s;
    return 0;
}

static int static_handle(void *state, handler_req *req, handler_resp *resp)
{
    const static_state *s = state;

    (void)req;
    resp->status = s->status;
    resp->content_type = s->content_type;
    if (buf_append(resp->body, s->body, s->len) < 0)
        handler_error(resp, 500, "internal.server.error", "out of memory");
    return HANDLER_DONE;
}

static void static_free(void *state)
{
    static_state *s = state;

    if (s == NULL)
        return;
    free(s->body);
    free(s);
}

static const handler_kind static_kind = {"static", static_init, static_handle, static_free};

/* ---- the table ---- */

static const handler_kind *const kinds_table[] = {&proxy_kind, &static_kind};

static const char *const kinds_all[] = {
    "oauth_token",    "collection", "analytics_query", "analytics_summary",
    "analytics_jobs", "proxy",      "static",          NULL};

const handler_kind *kinds_find(const char *name)
{
    for (size_t i = 0; i < sizeof(kinds_table) / sizeof(kinds_table[0]); i++)
        if (strcmp(kinds_table[i]->name, name) == 0)
            return kinds_table[i];
    return NULL;
}

const char *const *kinds_names(void)
{
    return kinds_all;
}
