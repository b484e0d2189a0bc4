/*
 * plan_auth: the `auth:` section, OAuth2 client credentials: the token URL
 * (relative to the target or absolute), the pool of clients and how long
 * before expiry a token is refreshed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"
#include "run/plan_load.h"

int plan_auth_read(const plan_loader *l, const config_node *root)
{
    static const char *const keys[] = {"kind",           "token_url", "clients",
                                       "refresh_before", "scope",     NULL};
    static const char *const client_keys[] = {"id", "secret", NULL};
    static const char *const kinds[] = {"oauth2_client_credentials", NULL};
    const config_node *a = config_map_get(l->doc, root, "auth");
    const config_node *cl, *tn;
    plan_auth *au = &l->p->auth;
    const char *tok = NULL, *scope = NULL;
    char msg[CONFIG_ERRLEN], full[2 * URL_MAX];
    int kind = 0, rc;

    au->refresh_before_ns = PLAN_DEFAULT_REFRESH;
    if (a == NULL)
        return 0;
    rc = config_check_keys(l->doc, a, keys, l->err, l->errlen);
    for (size_t i = 0; rc == 0 && i < 3; i++)
        rc = config_require(l->doc, a, keys[i], l->err, l->errlen);
    if (rc == 0)
        rc = config_get_enum(l->doc, a, "kind", kinds, &kind, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, a, "token_url", &tok, l->err, l->errlen);
    if (rc == 0)
        rc = config_get_duration(l->doc, a, "refresh_before", &au->refresh_before_ns, l->err,
                                 l->errlen);
    if (rc == 0)
        rc = config_get_str(l->doc, a, "scope", &scope, l->err, l->errlen);
    if (rc < 0)
        return rc;
    au->kind = PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS;
    if (scope != NULL && (au->scope = strdup(scope)) == NULL)
        return -ENOMEM;
    tn = config_map_get(l->doc, a, "token_url");
    if (strncmp(tok, "http://", 7) == 0 || strncmp(tok, "https://", 8) == 0) {
        snprintf(full, sizeof(full), "%s", tok);
    } else {
        const url *t = &l->p->targets[0];
        int n = snprintf(full, sizeof(full), "%s://%s", t->scheme, t->host_header);

        if (url_join_path(t->path, tok, full + n, sizeof(full) - (size_t)n) < 0)
            return config_error(l->doc, tn, l->err, l->errlen, "token_url: too long");
    }
    rc = url_parse(&au->token_url, full, msg, sizeof(msg));
    if (rc == 0)
        rc = plan_target_add(l->p, &au->token_url, &au->token_target, msg, sizeof(msg));
    if (rc == -EINVAL)
        return config_error(l->doc, tn, l->err, l->errlen, "token_url: %s", msg);
    if (rc < 0)
        return rc;
    cl = config_map_get(l->doc, a, "clients");
    if (!config_is_seq(cl) || config_len(cl) == 0)
        return config_error(l->doc, cl, l->err, l->errlen,
                            "clients: expected a list of {id, secret}");
    au->clients = calloc(config_len(cl), sizeof(*au->clients));
    if (au->clients == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < config_len(cl); i++) {
        const config_node *c = config_seq_item(l->doc, cl, i);
        const char *id = NULL, *secret = NULL;

        rc = config_check_keys(l->doc, c, client_keys, l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, c, "id", l->err, l->errlen);
        if (rc == 0)
            rc = config_require(l->doc, c, "secret", l->err, l->errlen);
        if (rc == 0)
            rc = config_get_str(l->doc, c, "id", &id, l->err, l->errlen);
        if (rc == 0)
            rc = config_get_str(l->doc, c, "secret", &secret, l->err, l->errlen);
        if (rc < 0)
            return rc;
        au->nclients++;
        au->clients[i].id = strdup(id);
        au->clients[i].secret = strdup(secret);
        if (au->clients[i].id == NULL || au->clients[i].secret == NULL)
            return -ENOMEM;
    }
    return 0;
}
