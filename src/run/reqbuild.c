#include "run/reqbuild.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/h1_write.h"

#define REQBUILD_MAX_HEADERS 128

bool reqbuild_is_static(const plan_step *st)
{
    size_t i;

    if (!tmpl_is_static(&st->path))
        return false;
    for (i = 0; i < st->nheaders; i++) {
        if (!tmpl_is_static(&st->headers[i].value))
            return false;
    }
    if (st->body_kind == PLAN_BODY_RAW || st->body_kind == PLAN_BODY_FILE)
        return tmpl_is_static(&st->body);
    if (st->body_kind == PLAN_BODY_JSON) {
        for (i = 0; i < st->json.nparts; i++) {
            if (st->json.parts[i].lit == NULL && !tmpl_is_static(&st->json.parts[i].t))
                return false;
        }
    }
    return true;
}

/* Whether a header value has a control character (other than HTAB), which
 * h1_write_request refuses. */
static bool reqbuild_has_ctl(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

/* A rendered piece: an offset range in the scratch buffer. */
struct piece {
    size_t off, len;
};

static int reqbuild_piece(const tmpl *t, const tmpl_ctx *ctx, buf *scratch, struct piece *pc,
                          char *err, size_t errlen)
{
    size_t before = scratch->len;
    int rc = tmpl_render(t, ctx, scratch, err, errlen);

    if (rc < 0)
        return rc;
    pc->off = before;
    pc->len = scratch->len - before;
    return 0;
}

int reqbuild_render(buf *out, buf *scratch, const plan_step *st, const char *host,
                    const tmpl_ctx *ctx, const char *bearer, size_t bearer_len, char *err,
                    size_t errlen)
{
    struct piece path, body = {0, 0}, vals[REQBUILD_MAX_HEADERS], auth = {0, 0};
    h1_header hdr[REQBUILD_MAX_HEADERS + 1];
    size_t n = st->nheaders, i, nh = 0;
    bool has_auth = false, has_body = false;
    int rc;

    if (n > REQBUILD_MAX_HEADERS) {
        snprintf(err, errlen, "step '%s' has more than %d headers", st->name, REQBUILD_MAX_HEADERS);
        return -EINVAL;
    }
    buf_reset(out);
    buf_reset(scratch);
    rc = reqbuild_piece(&st->path, ctx, scratch, &path, err, errlen);
    if (rc < 0)
        return rc;
    for (i = 0; i < n; i++) {
        rc = reqbuild_piece(&st->headers[i].value, ctx, scratch, &vals[i], err, errlen);
        if (rc < 0)
            return rc;
        if (strcasecmp(st->headers[i].name, "Authorization") == 0)
            has_auth = true;
    }
    if (st->body_kind == PLAN_BODY_RAW || st->body_kind == PLAN_BODY_FILE) {
        rc = reqbuild_piece(&st->body, ctx, scratch, &body, err, errlen);
        has_body = true;
    } else if (st->body_kind == PLAN_BODY_JSON) {
        body.off = scratch->len;
        rc = plan_json_render(&st->json, ctx, scratch, err, errlen);
        body.len = scratch->len - body.off;
        has_body = true;
    }
    if (rc < 0)
        return rc;
    if (bearer != NULL && !has_auth) {
        auth.off = scratch->len;
        rc = buf_append(scratch, "Bearer ", 7);
        if (rc == 0)
            rc = buf_append(scratch, bearer, bearer_len);
        if (rc < 0)
            return rc;
        auth.len = 7 + bearer_len;
    }
    /* The scratch buffer is complete: pointers into it are now stable. */
    for (i = 0; i < n; i++) {
        hdr[nh].name = st->headers[i].name;
        hdr[nh].name_len = strlen(st->headers[i].name);
        hdr[nh].value = buf_ptr(scratch) + vals[i].off;
        hdr[nh].value_len = vals[i].len;
        nh++;
    }
    if (auth.len > 0) {
        hdr[nh].name = "Authorization";
        hdr[nh].name_len = 13;
        hdr[nh].value = buf_ptr(scratch) + auth.off;
        hdr[nh].value_len = auth.len;
        nh++;
    }
    rc = h1_write_request(out, st->method, buf_ptr(scratch) + path.off, path.len, host, hdr, nh,
                          has_body ? buf_ptr(scratch) + body.off : NULL, body.len, 0);
    if (rc == -EINVAL) {
        for (i = 0; i < nh; i++) {
            if (reqbuild_has_ctl(hdr[i].value, hdr[i].value_len)) {
                snprintf(err, errlen, "step '%s': the value of header '%s' has a control character",
                         st->name, hdr[i].name);
                return rc;
            }
        }
        snprintf(
            err, errlen,
            "step '%s': the path '%.*s' cannot be sent (empty, or a space or control character)",
            st->name, (int)(path.len > 200 ? 200 : path.len), buf_ptr(scratch) + path.off);
    } else if (rc < 0) {
        snprintf(err, errlen, "step '%s': request too large", st->name);
    }
    return rc;
}
