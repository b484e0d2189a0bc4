/* libFuzzer driver for the emulated platform's request parsing. The first
 * byte picks a target, the rest is its input:
 *   0  tokens_lookup on the bytes (a token a client sends)
 *   1  oauth_token: first line the Authorization value, the rest the form body
 *   2  collection:  first line "METHOD TARGET", the rest the body
 *   3  analytics_jobs: as 2, at a time taken from the input's length
 *   4  analytics_query: the body
 *   5  emu_interval_parse and emu_time_parse on the bytes
 * Handler state lives across inputs (bounded by the options below), as in a
 * running gateway. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/emu_time.h"
#include "serve/emulate.h"
#include "serve/tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tokens *tk;
static void *oauth, *coll, *jobs, *query;
static const char *auth_value;
static size_t auth_len;

static const char *fz_header(const handler_req *req, const char *name, size_t *len)
{
    (void)req;
    if (auth_value == NULL || strcasecmp(name, "Authorization") != 0)
        return NULL;
    *len = auth_len;
    return auth_value;
}

static void fz_setup(void)
{
    static const char yaml[] = "c: {name: fz, base: /c, max_entities: 50, seed: 5, max_bytes: "
                               "1048576}\nj: {max_jobs: 20}\n";
    static config_doc doc;
    handler_env env = {0};
    char err[CONFIG_ERRLEN];

    if (tokens_new(&tk, (const uint8_t *)"0123456789abcdef0123456789abcdef", 3600000000000ULL) !=
            0 ||
        tokens_add_client(tk, "demo-client", "demo-secret", "org-1", "user-1") != 0 ||
        config_load_string(&doc, "fz", yaml, sizeof(yaml) - 1, err, sizeof(err)) != 0)
        abort();
    env.tokens = tk;
    if (emu_oauth_kind.init(&oauth, &doc, NULL, &env, err, sizeof(err)) != 0 ||
        emu_coll_kind.init(&coll, &doc, config_map_get(&doc, config_root(&doc), "c"), NULL, err,
                           sizeof(err)) != 0 ||
        emu_jobs_kind.init(&jobs, &doc, config_map_get(&doc, config_root(&doc), "j"), NULL, err,
                           sizeof(err)) != 0 ||
        emu_query_kind.init(&query, &doc, NULL, NULL, err, sizeof(err)) != 0)
        abort();
}

/* Runs a handler on "METHOD TARGET\nBODY" (or only a body when line is false). */
static void fz_request(const handler_kind *k, void *st, const char *p, size_t n, bool line,
                       uint64_t now)
{
    const char *nl = line ? memchr(p, '\n', n) : NULL, *sp, *q;
    char method[8] = "POST";
    handler_req req = {0};
    handler_resp resp = {0};
    buf headers, body;
    rng r;

    if (line) {
        if (nl == NULL)
            return;
        sp = memchr(p, ' ', (size_t)(nl - p));
        if (sp == NULL || sp - p >= (long)sizeof(method))
            return;
        memcpy(method, p, (size_t)(sp - p));
        method[sp - p] = '\0';
        req.path = sp + 1;
        q = memchr(req.path, '?', (size_t)(nl - req.path));
        req.path_len = (size_t)((q != NULL ? q : nl) - req.path);
        req.query = q != NULL ? q + 1 : "";
        req.query_len = q != NULL ? (size_t)(nl - q - 1) : 0;
        req.body = nl + 1;
        req.body_len = n - (size_t)(nl + 1 - p);
    } else {
        req.path = "/";
        req.path_len = 1;
        req.query = "";
        req.body = p;
        req.body_len = n;
    }
    rng_seed(&r, n);
    buf_init(&headers, 1 << 16);
    buf_init(&body, 1 << 22);
    req.method = method;
    req.id.org = n % 3 == 0 ? NULL : n % 3 == 1 ? "org-1" : "org-2";
    req.now = now;
    req.now_wall = 1767225600000000000ULL + now;
    req.rng = &r;
    req.header = fz_header;
    resp.headers = &headers;
    resp.body = &body;
    if (k->handle(st, &req, &resp) != HANDLER_DONE || resp.status < 200 || resp.status > 599)
        abort();
    buf_free(&headers);
    buf_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    handler_identity id;
    int64_t a, b;
    const char *nl;

    if (tk == NULL)
        fz_setup();
    if (size == 0)
        return 0;
    switch (data[0] % 6) {
    case 0:
        (void)tokens_lookup(tk, p, n, 1767225600000000000ULL, &id);
        break;
    case 1:
        nl = memchr(p, '\n', n);
        auth_value = p;
        auth_len = nl != NULL ? (size_t)(nl - p) : n;
        fz_request(&emu_oauth_kind, oauth, nl != NULL ? nl + 1 : p + n,
                   nl != NULL ? n - auth_len - 1 : 0, false, 1);
        auth_value = NULL;
        break;
    case 2:
        fz_request(&emu_coll_kind, coll, p, n, true, 1);
        break;
    case 3:
        fz_request(&emu_jobs_kind, jobs, p, n, true, (uint64_t)n * 1000000000ULL);
        break;
    case 4:
        fz_request(&emu_query_kind, query, p, n, false, 1);
        break;
    default:
        if (emu_interval_parse(p, n, &a, &b) == 0 && a >= b)
            abort();
        (void)emu_time_parse(p, n, &a);
        break;
    }
    return 0;
}
