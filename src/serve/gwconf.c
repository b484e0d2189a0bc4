#include "serve/gwconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_get.h"
#include "core/h1.h"
#include "limit/body429.h"
#include "limit/dialect.h"
#include "limit/keystore.h"
#include "serve/kinds.h"
#include "serve/proxy.h"
#include "serve/tokens.h"

static const char *const gwconf_top_keys[] = {
    "listen",          "threads",       "admin",
    "trust_forwarded", "max_body",      "max_header_bytes",
    "max_headers",     "max_uri",       "header_timeout",
    "idle_timeout",    "drain_timeout", "headers",
    "body_429",        "store",         "on_store_failure",
    "store_timeout",   "store_lease",   "max_keys",
    "tokens",          "clients",       "limits",
    "routes",          "upstream",      NULL};

/* Methods a route may list, with their h1_method. */
static const struct {
    const char *name;
    int method;
} gwconf_methods[] = {
    {"GET", H1_GET},       {"HEAD", H1_HEAD},   {"POST", H1_POST},       {"PUT", H1_PUT},
    {"DELETE", H1_DELETE}, {"PATCH", H1_PATCH}, {"OPTIONS", H1_OPTIONS},
};
#define GWCONF_NMETHODS (sizeof(gwconf_methods) / sizeof(gwconf_methods[0]))

/* ---- addresses ---- */

int gwconf_parse_addr(const char *s, gw_addr *out, char *err, size_t errlen)
{
    char host[64];
    const char *colon, *h, *p;
    size_t hlen;
    char *end;
    long port;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;

    memset(out, 0, sizeof(*out));
    colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0') {
        snprintf(err, errlen, "\"%s\": expected HOST:PORT (e.g. 127.0.0.1:8080)", s);
        return -EINVAL;
    }
    p = colon + 1;
    errno = 0;
    port = strtol(p, &end, 10);
    if (*end != '\0' || *p < '0' || *p > '9' || errno != 0 || port < 0 || port > 65535) {
        snprintf(err, errlen, "\"%s\": port '%s' is not a number from 0 to 65535", s, p);
        return -EINVAL;
    }
    h = s;
    hlen = (size_t)(colon - s);
    if (h[0] == '[') {
        if (hlen < 2 || h[hlen - 1] != ']') {
            snprintf(err, errlen, "\"%s\": an IPv6 address goes in brackets, e.g. [::1]:8080", s);
            return -EINVAL;
        }
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen) != NULL) {
        snprintf(err, errlen, "\"%s\": an IPv6 address goes in brackets, e.g. [::1]:8080", s);
        return -EINVAL;
    }
    if (hlen >= sizeof(host)) {
        snprintf(err, errlen, "\"%s\": host too long", s);
        return -EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    else if (strcmp(host, "*") == 0)
        strcpy(host, "0.0.0.0");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
    } else {
        snprintf(err, errlen,
                 "\"%s\": host '%s' is not an IP address (expected e.g. 127.0.0.1, [::1], "
                 "localhost or *)",
                 s, host);
        return -EINVAL;
    }
    snprintf(out->text, sizeof(out->text), "%s", s);
    return 0;
}

/* A top-level address key; "off" is allowed when off_ok. *on says which. */
static int gwconf_addr_key(const config_doc *doc, const config_node *root, const char *key,
                           bool off_ok, gw_addr *out, bool *on, char *err, size_t errlen)
{
    char msg[CONFIG_ERRLEN];
    const char *s = NULL;
    int rc = config_get_str(doc, root, key, &s, err, errlen);

    if (rc < 0 || s == NULL)
        return rc;
    if (off_ok && strcmp(s, "off") == 0) {
        *on = false;
        return 0;
    }
    rc = gwconf_parse_addr(s, out, msg, sizeof(msg));
    if (rc < 0)
        return config_error(doc, config_map_get(doc, root, key), err, errlen, "%s: %s", key, msg);
    if (on != NULL)
        *on = true;
    return 0;
}

/* ---- limits ---- */

/* The text after "field: " in a message from the limit module. */
static const char *gwconf_after_field(const char *msg)
{
    const char *p = strstr(msg, ": ");

    return p != NULL ? p + 2 : msg;
}

/* Where the limit module's message about `field` points: the field's value in
 * the limit (or its match), else the limit itself. */
static const config_node *gwconf_limit_field(const config_doc *doc, const config_node *lim,
                                             const char *msg)
{
    const config_node *n, *match = config_map_get(doc, lim, "match");
    char field[32];
    size_t len = strcspn(msg, ":");

    if (len == 0 || len >= sizeof(field))
        return lim;
    memcpy(field, msg, len);
    field[len] = '\0';
    n = config_map_get(doc, lim, field);
    if (n == NULL && match != NULL && config_is_map(match))
        n = config_map_get(doc, match, field);
    return n != NULL ? n : lim;
}

static int gwconf_limit(limit_policy *pol, const config_doc *doc, const config_node *lim, size_t i,
                        char *err, size_t errlen)
{
    static const char *const keys[] = {"name",  "match", "scope",       "algorithm", "rate",
                                       "burst", "cost",  "concurrency", NULL};
    static const char *const match_keys[] = {"methods", "path", "header", NULL};
    char msg[CONFIG_ERRLEN];
    const config_node *match;
    const char **methods = NULL, **scope = NULL;
    size_t nmethods = 0, nscope = 0;
    policy_spec spec;
    uint64_t burst = 0, cost = 0, conc = 0;
    int rc;

    memset(&spec, 0, sizeof(spec));
    if (!config_is_map(lim))
        return config_error(doc, lim, err, errlen, "limits[%zu]: expected a mapping, found %s", i,
                            config_kind(lim));
    rc = config_check_keys(doc, lim, keys, err, errlen);
    if (rc == 0)
        rc = config_require(doc, lim, "name", err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, lim, "name", &spec.name, err, errlen);
    match = config_map_get(doc, lim, "match");
    if (rc == 0 && match != NULL)
        rc = config_check_keys(doc, match, match_keys, err, errlen);
    if (rc == 0)
        rc = config_get_str_list(doc, match, "methods", &methods, &nmethods, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, match, "path", &spec.path, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, match, "header", &spec.header, err, errlen);
    if (rc == 0)
        rc = config_get_str_list(doc, lim, "scope", &scope, &nscope, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, lim, "algorithm", &spec.algorithm, err, errlen);
    if (rc == 0)
        rc = config_get_rate(doc, lim, "rate", &spec.rate, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, lim, "burst", &burst, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, lim, "cost", &cost, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, lim, "concurrency", &conc, err, errlen);
    if (rc == 0 && config_map_get(doc, lim, "concurrency") != NULL) {
        if (conc == 0)
            rc = config_error(doc, config_map_get(doc, lim, "concurrency"), err, errlen,
                              "concurrency: expected at least 1");
        else if (config_map_get(doc, lim, "rate") != NULL)
            rc = config_error(doc, config_map_get(doc, lim, "rate"), err, errlen,
                              "rate: a limit has either a rate or a concurrency cap, not both");
        else if (spec.algorithm != NULL)
            rc = config_error(doc, config_map_get(doc, lim, "algorithm"), err, errlen,
                              "algorithm: a concurrency cap takes no algorithm");
        if (rc == 0)
            spec.algorithm = "concurrency";
    } else if (rc == 0 && config_map_get(doc, lim, "rate") == NULL) {
        rc = config_error(doc, lim, err, errlen, "limits[%zu]: missing key 'rate' (or concurrency)",
                          i);
    }
    if (rc == 0) {
        spec.methods = methods;
        spec.nmethods = nmethods;
        spec.scope = scope;
        spec.nscope = nscope;
        spec.burst = burst;
        spec.cost = cost;
        spec.concurrency = conc;
        if (config_map_get(doc, lim, "burst") != NULL && burst == 0)
            rc = config_error(doc, config_map_get(doc, lim, "burst"), err, errlen,
                              "burst: expected at least 1");
        else if (config_map_get(doc, lim, "cost") != NULL && cost == 0)
            rc = config_error(doc, config_map_get(doc, lim, "cost"), err, errlen,
                              "cost: expected at least 1");
    }
    if (rc == 0) {
        msg[0] = '\0';
        rc = policy_add_limit(pol, &spec, msg, sizeof(msg));
        if (rc == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        else if (rc < 0)
            config_error(doc, gwconf_limit_field(doc, lim, msg), err, errlen, "%s", msg);
    }
    free(methods);
    free(scope);
    return rc;
}

static int gwconf_policy(gw_config *c, const config_doc *doc, const config_node *root, char *err,
                         size_t errlen)
{
    char msg[CONFIG_ERRLEN];
    const config_node *limits, *n;
    const char **names = NULL;
    size_t nnames = 0;
    unsigned mask = 0;
    enum dialect_id id;
    enum body429_kind body;
    const char *s;
    int rc;

    rc = policy_new(&c->policy);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    rc = config_get_str_list(doc, root, "headers", &names, &nnames, err, errlen);
    if (rc < 0)
        return rc;
    n = config_map_get(doc, root, "headers");
    for (size_t i = 0; i < nnames && rc == 0; i++) {
        rc = dialect_parse(names[i], &id, msg, sizeof(msg));
        if (rc < 0)
            rc = config_error(doc, config_is_seq(n) ? config_seq_item(doc, n, i) : n, err, errlen,
                              "headers: %s", gwconf_after_field(msg));
        else
            mask |= DIALECT_BIT(id);
    }
    if (rc == 0 && n != NULL && dialect_check(mask, msg, sizeof(msg)) < 0)
        rc = config_error(doc, n, err, errlen, "headers: %s", gwconf_after_field(msg));
    if (rc == 0 && n != NULL)
        rc = policy_set_dialects(c->policy, names, nnames, msg, sizeof(msg));
    free(names);
    if (rc < 0)
        return rc;
    s = NULL;
    rc = config_get_str(doc, root, "body_429", &s, err, errlen);
    if (rc == 0 && s != NULL && body429_parse(s, &body, msg, sizeof(msg)) < 0)
        rc = config_error(doc, config_map_get(doc, root, "body_429"), err, errlen, "body_429: %s",
                          gwconf_after_field(msg));
    if (rc == 0 && s != NULL)
        rc = policy_set_body(c->policy, s, msg, sizeof(msg));
    if (rc < 0)
        return rc;
    limits = config_map_get(doc, root, "limits");
    if (limits == NULL)
        return 0;
    if (!config_is_seq(limits))
        return config_error(doc, limits, err, errlen, "limits: expected a list, found %s",
                            config_kind(limits));
    for (size_t i = 0; i < config_len(limits); i++) {
        rc = gwconf_limit(c->policy, doc, config_seq_item(doc, limits, i), i, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- clients ---- */

/* tokens.key: 64 hex digits, the HMAC key every gateway of a platform signs
 * its tokens with. */
static int gwconf_tokens_key(gw_config *c, const config_doc *doc, const config_node *tok, char *err,
                             size_t errlen)
{
    const char *hex = NULL;
    int rc = config_get_str(doc, tok, "key", &hex, err, errlen);

    if (rc < 0 || hex == NULL)
        return rc;
    if (strlen(hex) != 2 * sizeof(c->tokens_key))
        goto bad;
    for (size_t i = 0; i < sizeof(c->tokens_key); i++) {
        unsigned v;

        if (!isxdigit((unsigned char)hex[2 * i]) || !isxdigit((unsigned char)hex[2 * i + 1]) ||
            sscanf(hex + 2 * i, "%2x", &v) != 1)
            goto bad;
        c->tokens_key[i] = (uint8_t)v;
    }
    c->tokens_key_set = true;
    return 0;
bad:
    return config_error(doc, config_map_get(doc, tok, "key"), err, errlen,
                        "key: expected 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`");
}

static int gwconf_clients(gw_config *c, const config_doc *doc, const config_node *root, char *err,
                          size_t errlen)
{
    static const char *const keys[] = {"id", "secret", "org", "user", NULL};
    static const char *const tkeys[] = {"ttl", "key", NULL};
    const config_node *list = config_map_get(doc, root, "clients");
    const config_node *tok = config_map_get(doc, root, "tokens");
    int rc;

    c->token_ttl_ns = 24ULL * 3600 * 1000000000ULL;
    rc = config_check_keys(doc, tok, tkeys, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, tok, "ttl", &c->token_ttl_ns, err, errlen);
    if (rc == 0 && tok != NULL && config_map_get(doc, tok, "ttl") != NULL && c->token_ttl_ns == 0)
        rc = config_error(doc, config_map_get(doc, tok, "ttl"), err, errlen,
                          "ttl: expected a duration above 0");
    if (rc == 0)
        rc = gwconf_tokens_key(c, doc, tok, err, errlen);
    if (rc < 0)
        return rc;
    rc = tokens_new(&c->tokens, c->tokens_key_set ? c->tokens_key : NULL, c->token_ttl_ns);
    if (rc < 0) {
        snprintf(err, errlen, "tokens: %s", strerror(-rc));
        return rc;
    }
    c->env.tokens = c->tokens;
    if (list == NULL)
        return 0;
    if (!config_is_seq(list))
        return config_error(doc, list, err, errlen, "clients: expected a list, found %s",
                            config_kind(list));
    if (config_len(list) > GW_MAX_CLIENTS)
        return config_error(doc, list, err, errlen, "clients: at most %d", GW_MAX_CLIENTS);
    for (size_t i = 0; i < config_len(list); i++) {
        const config_node *m = config_seq_item(doc, list, i);
        const char *v[4] = {NULL, NULL, NULL, NULL};

        if (!config_is_map(m))
            return config_error(doc, m, err, errlen, "clients[%zu]: expected a mapping, found %s",
                                i, config_kind(m));
        rc = config_check_keys(doc, m, keys, err, errlen);
        if (rc == 0)
            rc = config_require(doc, m, "id", err, errlen);
        if (rc == 0)
            rc = config_require(doc, m, "secret", err, errlen);
        for (size_t k = 0; k < 4 && rc == 0; k++)
            rc = config_get_str(doc, m, keys[k], &v[k], err, errlen);
        if (rc < 0)
            return rc;
        rc = tokens_add_client(c->tokens, v[0], v[1], v[2], v[3]);
        if (rc == -EEXIST)
            return config_error(doc, config_map_get(doc, m, "id"), err, errlen,
                                "id: '%s' is already used by another client", v[0]);
        if (rc == -EINVAL)
            return config_error(doc, config_map_get(doc, m, "id"), err, errlen,
                                "id: expected 1 to %d bytes", TOKENS_ID_MAX);
        if (rc < 0) {
            snprintf(err, errlen, "out of memory");
            return rc;
        }
    }
    return 0;
}

/* ---- routes ---- */

static void gwconf_allow_text(unsigned mask, char *out, size_t len)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < GWCONF_NMETHODS; i++) {
        if (!(mask & (1u << gwconf_methods[i].method)))
            continue;
        o += (size_t)snprintf(out + o, len - o, "%s%s", o > 0 ? ", " : "", gwconf_methods[i].name);
        if (o >= len)
            break;
    }
}

static int gwconf_route(gw_config *c, gw_route *r, const config_doc *doc, const config_node *m,
                        size_t i, char *err, size_t errlen)
{
    static const char *const keys[] = {"path",    "methods", "handler", "auth",
                                       "latency", "options", NULL};
    static const char *const lat_keys[] = {"fixed", "spread", NULL};
    static const char *const auths[] = {"none", "bearer", NULL};
    char msg[CONFIG_ERRLEN];
    const char **methods = NULL;
    size_t nmethods = 0, n;
    const char *path = NULL, *handler = NULL, *hint, *capname;
    const config_node *lat, *opts, *hn;
    int auth = 0, rc;

    if (!config_is_map(m))
        return config_error(doc, m, err, errlen, "routes[%zu]: expected a mapping, found %s", i,
                            config_kind(m));
    rc = config_check_keys(doc, m, keys, err, errlen);
    if (rc == 0)
        rc = config_require(doc, m, "path", err, errlen);
    if (rc == 0)
        rc = config_require(doc, m, "handler", err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, m, "path", &path, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, m, "handler", &handler, err, errlen);
    if (rc == 0)
        rc = config_get_enum(doc, m, "auth", auths, &auth, err, errlen);
    if (rc == 0)
        rc = config_get_str_list(doc, m, "methods", &methods, &nmethods, err, errlen);
    lat = config_map_get(doc, m, "latency");
    if (rc == 0)
        rc = config_check_keys(doc, lat, lat_keys, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, lat, "fixed", &r->latency_fixed_ns, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, lat, "spread", &r->latency_spread_ns, err, errlen);
    if (rc < 0)
        goto out;
    r->bearer = auth == 1;
    for (size_t k = 0; k < nmethods; k++) {
        size_t j;

        for (j = 0; j < GWCONF_NMETHODS; j++)
            if (strcmp(methods[k], gwconf_methods[j].name) == 0)
                break;
        if (j == GWCONF_NMETHODS) {
            const config_node *mn = config_map_get(doc, m, "methods");

            rc =
                config_error(doc, config_is_seq(mn) ? config_seq_item(doc, mn, k) : mn, err, errlen,
                             "methods: unknown '%s', expected GET, HEAD, POST, PUT, DELETE, "
                             "PATCH or OPTIONS",
                             methods[k]);
            goto out;
        }
        r->methods |= 1u << gwconf_methods[j].method;
    }
    if (r->methods & (1u << H1_GET))
        r->methods |= 1u << H1_HEAD;
    gwconf_allow_text(r->methods, r->allow, sizeof(r->allow));
    if (path[0] != '/') {
        rc = config_error(doc, config_map_get(doc, m, "path"), err, errlen,
                          "path: '%s' must start with '/'", path);
        goto out;
    }
    rc = pattern_init(&r->pattern, path, msg, sizeof(msg));
    if (rc < 0) {
        config_error(doc, config_map_get(doc, m, "path"), err, errlen, "%s", msg);
        goto out;
    }
    r->path = strdup(path);
    if (r->path == NULL)
        goto nomem;
    for (size_t k = 0; k < r->pattern.ncaptures; k++) {
        capname = pattern_capture_name(&r->pattern, k, &n);
        r->capnames[k] = strndup(capname, n);
        if (r->capnames[k] == NULL)
            goto nomem;
    }
    r->kind = kinds_find(handler);
    hn = config_map_get(doc, m, "handler");
    if (r->kind == NULL) {
        char list[CONFIG_ERRLEN];

        config_names((const char *const *)kinds_names(), list, sizeof(list));
        hint = config_suggest(kinds_names(), handler);
        rc = config_error(doc, hn, err, errlen, "handler: unknown '%s', expected one of: %s%s%s%s",
                          handler, list, hint != NULL ? " (did you mean '" : "",
                          hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
        goto out;
    }
    opts = config_map_get(doc, m, "options");
    if (opts != NULL && config_is_null(opts))
        opts = NULL;
    if (opts != NULL && !config_is_map(opts)) {
        rc = config_error(doc, opts, err, errlen, "options: expected a mapping, found %s",
                          config_kind(opts));
        goto out;
    }
    rc = r->kind->init(&r->state, doc, opts, &c->env, err, errlen);
    if (rc < 0)
        r->kind = NULL; /* nothing to free */
out:
    free(methods);
    return rc;
nomem:
    free(methods);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

static int gwconf_routes(gw_config *c, const config_doc *doc, const config_node *root, char *err,
                         size_t errlen)
{
    const config_node *list = config_map_get(doc, root, "routes");
    int rc;

    if (list == NULL)
        return config_error(doc, root, err, errlen, "missing key 'routes'");
    if (!config_is_seq(list))
        return config_error(doc, list, err, errlen, "routes: expected a list, found %s",
                            config_kind(list));
    if (config_len(list) == 0)
        return config_error(doc, list, err, errlen, "routes: expected at least one route");
    if (config_len(list) > GW_MAX_ROUTES)
        return config_error(doc, list, err, errlen, "routes: at most %d", GW_MAX_ROUTES);
    c->routes = calloc(config_len(list), sizeof(*c->routes));
    if (c->routes == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < config_len(list); i++) {
        c->nroutes = i + 1;
        rc = gwconf_route(c, &c->routes[i], doc, config_seq_item(doc, list, i), i, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- the limit store ---- */

static int gwconf_store(gw_config *c, const config_doc *doc, const config_node *root,
                        const char *store, const gwconf_overrides *ov, char *err, size_t errlen)
{
    static const char *const modes[] = {"local", "allow", "deny"};
    const char *mode = NULL;
    char msg[CONFIG_ERRLEN];
    int rc;

    c->store_timeout_ns = 20 * 1000000ULL;
    c->store_lease_ns = 60 * 1000000000ULL;
    rc = config_get_str(doc, root, "on_store_failure", &mode, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, root, "store_timeout", &c->store_timeout_ns, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, root, "store_lease", &c->store_lease_ns, err, errlen);
    if (rc < 0)
        return rc;
    if (mode != NULL) {
        size_t k;

        for (k = 0; k < 3 && strcmp(mode, modes[k]) != 0; k++)
            continue;
        if (k == 3)
            return config_error(doc, config_map_get(doc, root, "on_store_failure"), err, errlen,
                                "on_store_failure: unknown '%s', expected local, allow or deny",
                                mode);
        c->on_store_failure = (enum gw_store_failure)k;
    }
    if (c->store_timeout_ns < 1000000ULL || c->store_timeout_ns > 10 * 1000000000ULL)
        return config_error(doc, config_map_get(doc, root, "store_timeout"), err, errlen,
                            "store_timeout: expected 1ms to 10s");
    if (c->store_lease_ns < 1000000000ULL)
        return config_error(doc, config_map_get(doc, root, "store_lease"), err, errlen,
                            "store_lease: expected at least 1s");
    if (ov != NULL && ov->redis != NULL) {
        if (redisstore_parse_url(ov->redis, &c->redis, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "--redis: %s", msg);
            return -EINVAL;
        }
        c->store_redis = true;
    } else if (store != NULL && strcmp(store, "memory") != 0) {
        if (strncmp(store, "redis://", 8) != 0 ||
            redisstore_parse_url(store, &c->redis, msg, sizeof(msg)) < 0)
            return config_error(doc, config_map_get(doc, root, "store"), err, errlen,
                                "store: \"%s\": expected memory or redis://HOST[:PORT][/DB]",
                                store);
        c->store_redis = true;
    }
    c->redis.timeout_ns = c->store_timeout_ns;
    c->redis.lease_ns = c->store_lease_ns;
    return 0;
}

/* Every limit must be one the Redis store decides exactly. */
static int gwconf_check_shared(gw_config *c, const config_doc *doc, const config_node *root,
                               char *err, size_t errlen)
{
    const config_node *limits = config_map_get(doc, root, "limits");
    char msg[CONFIG_ERRLEN];

    if (!c->store_redis)
        return 0;
    for (size_t i = 0; i < c->policy->n; i++) {
        if (redisstore_check_params(&c->policy->limits[i]->params, msg, sizeof(msg)) == 0)
            continue;
        return config_error(doc, config_seq_item(doc, limits, i), err, errlen,
                            "limits[%zu] '%s': %s", i, c->policy->limits[i]->name, msg);
    }
    return 0;
}

/* ---- the whole file ---- */

static int gwconf_scalars(gw_config *c, const config_doc *doc, const config_node *root,
                          const gwconf_overrides *ov, char *err, size_t errlen)
{
    int64_t threads = 0;
    const char *store = NULL;
    int rc;

    rc = gwconf_addr_key(doc, root, "listen", false, &c->listen, NULL, err, errlen);
    if (rc == 0)
        rc = config_get_int(doc, root, "threads", 0, GW_MAX_THREADS, &threads, err, errlen);
    if (rc == 0)
        rc = gwconf_addr_key(doc, root, "admin", true, &c->admin, &c->admin_on, err, errlen);
    if (rc == 0)
        rc = config_get_bool(doc, root, "trust_forwarded", &c->trust_forwarded, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, root, "max_body", &c->max_body, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, root, "max_header_bytes", &c->max_header_bytes, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, root, "max_headers", &c->max_headers, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, root, "max_uri", &c->max_uri, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, root, "header_timeout", &c->header_timeout_ns, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, root, "idle_timeout", &c->idle_timeout_ns, err, errlen);
    if (rc == 0)
        rc = config_get_duration(doc, root, "drain_timeout", &c->drain_timeout_ns, err, errlen);
    if (rc == 0)
        rc = config_get_str(doc, root, "store", &store, err, errlen);
    if (rc == 0)
        rc = config_get_u64(doc, root, "max_keys", &c->max_keys, err, errlen);
    if (rc < 0)
        return rc;
    if (c->max_header_bytes < 256)
        return config_error(doc, config_map_get(doc, root, "max_header_bytes"), err, errlen,
                            "max_header_bytes: expected at least 256");
    if (c->max_headers < 1)
        return config_error(doc, config_map_get(doc, root, "max_headers"), err, errlen,
                            "max_headers: expected at least 1");
    if (c->max_uri < 16)
        return config_error(doc, config_map_get(doc, root, "max_uri"), err, errlen,
                            "max_uri: expected at least 16");
    if (c->max_body > (1ULL << 30))
        return config_error(doc, config_map_get(doc, root, "max_body"), err, errlen,
                            "max_body: expected at most 1073741824 (1 GiB)");
    if (c->header_timeout_ns < 1000000ULL)
        return config_error(doc, config_map_get(doc, root, "header_timeout"), err, errlen,
                            "header_timeout: expected at least 1ms");
    if (c->idle_timeout_ns < 1000000ULL)
        return config_error(doc, config_map_get(doc, root, "idle_timeout"), err, errlen,
                            "idle_timeout: expected at least 1ms");
    if (c->max_keys < KEYSTORE_MIN_KEYS)
        return config_error(doc, config_map_get(doc, root, "max_keys"), err, errlen,
                            "max_keys: expected at least %d", KEYSTORE_MIN_KEYS);
    rc = gwconf_store(c, doc, root, store, ov, err, errlen);
    if (rc < 0)
        return rc;
    c->threads = (unsigned)threads;
    if (ov != NULL && ov->threads >= 0) {
        if (ov->threads > GW_MAX_THREADS) {
            snprintf(err, errlen, "--threads: %ld: expected an integer from 0 to %d", ov->threads,
                     GW_MAX_THREADS);
            return -EINVAL;
        }
        c->threads = (unsigned)ov->threads;
    }
    if (c->threads == 0)
        c->threads = ov != NULL && ov->ncores > 0 ? ov->ncores : 1;
    if (c->threads > GW_MAX_THREADS)
        c->threads = GW_MAX_THREADS;
    return 0;
}

static int gwconf_apply_overrides(gw_config *c, const gwconf_overrides *ov, char *err,
                                  size_t errlen)
{
    char msg[CONFIG_ERRLEN];

    if (ov == NULL)
        return 0;
    if (ov->listen != NULL && gwconf_parse_addr(ov->listen, &c->listen, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "--listen: %s", msg);
        return -EINVAL;
    }
    if (ov->admin != NULL && strcmp(ov->admin, "off") == 0) {
        c->admin_on = false;
    } else if (ov->admin != NULL) {
        if (gwconf_parse_addr(ov->admin, &c->admin, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "--admin: %s", msg);
            return -EINVAL;
        }
        c->admin_on = true;
    }
    return 0;
}

int gwconf_load(gw_config *c, const config_doc *doc, const gwconf_overrides *ov, char *err,
                size_t errlen)
{
    const config_node *root = config_root(doc);
    char msg[CONFIG_ERRLEN];
    int rc;

    memset(c, 0, sizeof(*c));
    gwconf_parse_addr("127.0.0.1:8080", &c->listen, msg, sizeof(msg));
    gwconf_parse_addr("127.0.0.1:9090", &c->admin, msg, sizeof(msg));
    c->admin_on = true;
    c->max_body = 512000;
    c->max_header_bytes = 16384;
    c->max_headers = 100;
    c->max_uri = 8192;
    c->header_timeout_ns = 10ULL * 1000000000ULL;
    c->idle_timeout_ns = 60ULL * 1000000000ULL;
    c->drain_timeout_ns = 5ULL * 1000000000ULL;
    c->max_keys = KEYSTORE_DEFAULT_MAX_KEYS;

    if (!config_is_map(root)) {
        rc = config_error(doc, root, err, errlen, "expected a mapping at the top, found %s",
                          config_kind(root));
        goto err;
    }
    rc = config_check_keys(doc, root, gwconf_top_keys, err, errlen);
    if (rc == 0)
        rc = gwconf_scalars(c, doc, root, ov, err, errlen);
    if (rc == 0)
        rc = gwconf_apply_overrides(c, ov, err, errlen);
    if (rc == 0)
        rc = gwconf_policy(c, doc, root, err, errlen);
    if (rc == 0)
        rc = gwconf_check_shared(c, doc, root, err, errlen);
    if (rc == 0)
        rc = gwconf_clients(c, doc, root, err, errlen);
    if (rc == 0)
        rc = proxy_upstream_check(doc, config_map_get(doc, root, "upstream"), err, errlen);
    if (rc == 0)
        rc = gwconf_routes(c, doc, root, err, errlen);
    if (rc < 0)
        goto err;
    return 0;
err:
    gwconf_free(c);
    return rc;
}

void gwconf_free(gw_config *c)
{
    for (size_t i = 0; i < c->nroutes; i++) {
        gw_route *r = &c->routes[i];

        if (r->kind != NULL && r->kind->free != NULL)
            r->kind->free(r->state);
        free(r->path);
        pattern_free(&r->pattern);
        for (size_t k = 0; k < PATTERN_MAX_CAPTURES; k++)
            free(r->capnames[k]);
    }
    free(c->routes);
    tokens_free(c->tokens);
    policy_free(c->policy);
    memset(c, 0, sizeof(*c));
}

int gwconf_route_match(const gw_config *c, int method, const char *path, size_t path_len,
                       limit_slice *caps, unsigned *allow)
{
    limit_slice p = {path, path_len};
    unsigned bit = 1u << method;
    bool path_seen = false;

    *allow = 0;
    for (size_t i = 0; i < c->nroutes; i++) {
        const gw_route *r = &c->routes[i];

        if (!pattern_match(&r->pattern, p, caps))
            continue;
        if (r->methods == 0 || (r->methods & bit))
            return (int)i;
        path_seen = true;
        *allow |= r->methods;
    }
    return path_seen ? -2 : -1;
}

void gwconf_allow(unsigned allow, char *out, size_t len)
{
    gwconf_allow_text(allow, out, len);
}
