/*
 * reqbuild: a plan step's HTTP/1.1 request as the bytes to send: the request
 * line with the rendered path, Host, the step's headers with their templates
 * rendered, an optional bearer token, Content-Length and the body (raw text,
 * a file's text, or the compiled `json:` body).
 *
 * Templates render into a scratch buffer first and the request is then
 * serialized in one piece with core/h1_write.h, which refuses header values
 * with control characters, so a captured value cannot split the request.
 * Both buffers are the caller's and keep their memory between requests: a
 * step costs no allocation once they have grown to its size. A step without
 * any placeholder (reqbuild_is_static) is rendered once per thread and its
 * bytes reused for every request.
 */
#ifndef TG_RUN_REQBUILD_H
#define TG_RUN_REQBUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "run/plan.h"
#include "run/tmpl.h"

/* Whether the step's request never changes: no placeholder in its path,
 * header values or body. (A bearer token still changes it.) */
bool reqbuild_is_static(const plan_step *st);

/* Appends the step's request to `out` (emptied first), using `scratch` for
 * the rendered pieces. `host` is the Host header value of the step's target.
 * `bearer` (len bytes; NULL for none) is sent as `Authorization: Bearer
 * TOKEN` unless the step sets Authorization itself. Returns 0; -ENOENT with
 * the template's message when a variable is not set (`step 'update' needs
 * 'version', which was not captured`); -EINVAL with a message when a rendered
 * value cannot be sent (a control character in a header value, a space in
 * the path); -ENOBUFS or -ENOMEM. */
int reqbuild_render(buf *out, buf *scratch, const plan_step *st, const char *host,
                    const tmpl_ctx *ctx, const char *bearer, size_t bearer_len, char *err,
                    size_t errlen);

#endif
