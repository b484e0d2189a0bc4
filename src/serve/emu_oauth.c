/*
 * emu_oauth: the `oauth_token` handler kind, POST /oauth/token with the
 * client credentials grant (RFC 6749 section 4.4). Credentials come either in
 * `Authorization: Basic base64(id:secret)` (each part form-encoded, section
 * 2.3.1) or as `client_id` and `client_secret` in the form body, never both.
 * Errors use OAuth's shape, {"error": ..., "error_description": ...}, not the
 * platform's. Clients, secrets, keys and token lifetime live in serve/tokens.h.
 */
#include "serve/emulate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <strings.h>
#include <string.h>

#include "core/config.h"
#include "serve/b64.h"
#include "serve/emu_form.h"
#include "serve/tokens.h"

#define OAUTH_SECRET_MAX 256 /* bytes of a client secret we read */

static int oauth_init(void **state, const config_doc *doc, const config_node *options,
                      const handler_env *env, char *err, size_t errlen)
{
    static const char *const none[] = {NULL};
    int rc = config_check_keys(doc, options, none, err, errlen);

    if (rc < 0)
        return rc;
    if (env == NULL || env->tokens == NULL)
        return config_error(doc, options, err, errlen,
                            "handler oauth_token needs OAuth clients (the top-level `clients`)");
    *state = env->tokens;
    return 0;
}

static int oauth_error(handler_resp *resp, int status, const char *error, const char *desc)
{
    return emu_reply_json(resp, status,
                          json_pack("{s:s, s:s}", "error", error, "error_description", desc));
}

/* Splits "Basic base64(id:secret)" into id and secret. Returns 1 when the
 * header is Basic, 0 when absent (or another scheme), -EINVAL when it is
 * Basic but malformed. */
static int oauth_basic(const handler_req *req, char *id, size_t idlen, char *secret,
                       size_t secretlen)
{
    char raw[B64_DEC_ROOM(4 * (TOKENS_ID_MAX + OAUTH_SECRET_MAX) / 3 + 8)];
    size_t len;
    const char *h = emu_header(req, "Authorization", &len), *colon;
    int n, a, b;

    if (h == NULL || len < 6 || strncasecmp(h, "Basic ", 6) != 0)
        return 0;
    h += 6;
    len -= 6;
    while (len > 0 && (*h == ' ' || h[len - 1] == ' ')) {
        if (*h == ' ')
            h++;
        len--;
    }
    n = b64_decode(h, len, false, raw, sizeof(raw));
    if (n < 0)
        return -EINVAL;
    colon = memchr(raw, ':', (size_t)n);
    if (colon == NULL)
        return -EINVAL;
    a = emu_form_decode(raw, (size_t)(colon - raw), true, id, idlen);
    b = emu_form_decode(colon + 1, (size_t)n - (size_t)(colon - raw) - 1, true, secret, secretlen);
    if (a <= 0 || b < 0 || strlen(id) != (size_t)a || strlen(secret) != (size_t)b)
        return -EINVAL;
    return 1;
}

static int oauth_handle(void *state, handler_req *req, handler_resp *resp)
{
    const tokens *t = state;
    char grant[32], id[TOKENS_ID_MAX + 1], secret[OAUTH_SECRET_MAX + 1];
    char fid[TOKENS_ID_MAX + 1], fsecret[OAUTH_SECRET_MAX + 1], token[TOKENS_MAX_LEN];
    const char *body = req->body != NULL ? req->body : "";
    size_t idn = 0, sn = 0;
    int basic, rc, fi, fs;

    if (!emu_method_is(req, "POST"))
        return emu_method_not_allowed(resp, req->method, "POST");
    rc = emu_form_get(body, req->body_len, "grant_type", grant, sizeof(grant), NULL);
    if (rc == 0)
        return oauth_error(resp, 400, "invalid_request",
                           "grant_type is required (an application/x-www-form-urlencoded body)");
    if (rc < 0 && rc != -ENOBUFS)
        return oauth_error(resp, 400, "invalid_request", "malformed grant_type");
    if (rc < 0 || strcmp(grant, "client_credentials") != 0)
        return oauth_error(resp, 400, "unsupported_grant_type",
                           "only grant_type=client_credentials is supported");
    basic = oauth_basic(req, id, sizeof(id), secret, sizeof(secret));
    fi = emu_form_get(body, req->body_len, "client_id", fid, sizeof(fid), &idn);
    fs = emu_form_get(body, req->body_len, "client_secret", fsecret, sizeof(fsecret), &sn);
    if (fi == -EEXIST || fs == -EEXIST || fi == -EINVAL || fs == -EINVAL)
        return oauth_error(resp, 400, "invalid_request", "malformed or repeated client parameters");
    if (basic != 0 && (fi > 0 || fs > 0))
        return oauth_error(resp, 400, "invalid_request",
                           "client credentials in both the Authorization header and the body");
    if (basic == 0) {
        if (fi != 1 || fs != 1 || strlen(fid) != idn || strlen(fsecret) != sn)
            return oauth_error(resp, 401, "invalid_client",
                               fi == 0 && fs == 0 ? "no client credentials"
                                                  : "client authentication failed");
        memcpy(id, fid, idn + 1);
        memcpy(secret, fsecret, sn + 1);
    }
    if (basic < 0 || tokens_check_secret(t, id, secret) < 0) {
        if (basic != 0)
            emu_header_add(resp, "WWW-Authenticate", "Basic realm=\"tollgate\"");
        return oauth_error(resp, 401, "invalid_client", "client authentication failed");
    }
    rc = tokens_issue(t, id, req->now_wall, token, sizeof(token));
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "no token could be issued (%s)",
                      strerror(-rc));
        return HANDLER_DONE;
    }
    emu_header_add(resp, "Cache-Control", "no-store");
    emu_header_add(resp, "Pragma", "no-cache");
    return emu_reply_json(resp, 200,
                          json_pack("{s:s, s:s, s:I}", "access_token", token, "token_type",
                                    "bearer", "expires_in",
                                    (json_int_t)(tokens_ttl_ns(t) / 1000000000ULL)));
}

static void oauth_free(void *state)
{
    (void)state; /* the tokens belong to the gateway */
}

const handler_kind emu_oauth_kind = {
    .name = "oauth_token",
    .init = oauth_init,
    .handle = oauth_handle,
    .free = oauth_free,
};
