#include "serve/emulate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const handler_kind *const emulate_kinds[] = {
    &emu_oauth_kind,  &emu_coll_kind, &emu_query_kind, &emu_summary_kind, &emu_jobs_kind,
    &emu_static_kind, NULL,
};

const handler_kind *emulate_kind_find(const char *name)
{
    for (size_t i = 0; emulate_kinds[i] != NULL; i++) {
        if (strcmp(emulate_kinds[i]->name, name) == 0)
            return emulate_kinds[i];
    }
    return NULL;
}

/* Serializes j into the (reset) body; 0 or a negative errno. */
static int emu_dump(handler_resp *resp, const json_t *j, size_t flags)
{
    size_t n = json_dumpb(j, NULL, 0, flags);
    int rc;

    buf_reset(resp->body);
    if (n == 0)
        return -ENOMEM;
    rc = buf_reserve(resp->body, n);
    if (rc < 0)
        return rc;
    if (json_dumpb(j, buf_tail(resp->body), n, flags) != n)
        return -ENOMEM;
    buf_commit(resp->body, n);
    return 0;
}

void handler_error(handler_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Messages may quote request bytes; JSON strings must be UTF-8. */
    for (char *p = msg; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    }
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(resp->body);
    j = json_pack("{s:s, s:s, s:i}", "message", msg, "code", code, "status", status);
    if (j == NULL || emu_dump(resp, j, JSON_COMPACT) < 0)
        buf_reset(resp->body);
    json_decref(j);
}

int emu_reply_json(handler_resp *resp, int status, json_t *j)
{
    int rc = j == NULL ? -ENOMEM : emu_dump(resp, j, JSON_COMPACT);

    json_decref(j);
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "the response could not be built (%s)",
                      strerror(-rc));
        return HANDLER_DONE;
    }
    resp->status = status;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

int emu_reply_empty(handler_resp *resp, int status)
{
    buf_reset(resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

int emu_header_add(handler_resp *resp, const char *name, const char *value)
{
    return buf_printf(resp->headers, "%s: %s\r\n", name, value);
}

int emu_method_not_allowed(handler_resp *resp, const char *method, const char *allow)
{
    handler_error(resp, 405, "method.not.allowed", "%s is not allowed here; allowed: %s", method,
                  allow);
    emu_header_add(resp, "Allow", allow);
    return HANDLER_DONE;
}

int emu_body_object(const handler_req *req, handler_resp *resp, json_t **out)
{
    json_error_t e;
    json_t *j =
        json_loadb(req->body != NULL ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &e);

    if (j == NULL) {
        handler_error(resp, 400, "bad.request", "the body is not JSON: %s at line %d column %d",
                      e.text, e.line, e.column);
        return -EINVAL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        handler_error(resp, 400, "bad.request", "the body must be a JSON object");
        return -EINVAL;
    }
    *out = j;
    return 0;
}

const char *emu_header(const handler_req *req, const char *name, size_t *len)
{
    if (req->header == NULL)
        return NULL;
    return req->header(req, name, len);
}

const char *emu_org(const handler_req *req)
{
    return req->id.org != NULL ? req->id.org : "";
}

void emu_uuid(rng *r, char out[EMU_UUID_LEN + 1])
{
    uint64_t hi = rng_next(r), lo = rng_next(r);

    hi = (hi & ~0xf000ULL) | 0x4000ULL;       /* version 4 */
    lo = (lo & ~(3ULL << 62)) | (2ULL << 62); /* variant 10 */
    snprintf(out, EMU_UUID_LEN + 1,
             "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64, hi >> 32,
             (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, (uint64_t)(lo & 0xffffffffffffULL));
}

bool emu_method_is(const handler_req *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}
