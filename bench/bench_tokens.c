/*
 * bench_tokens: what the emulated platform costs per request on its hot
 * paths: checking a bearer token (HMAC-SHA256 of the payload, constant-time
 * compare, client lookup), checking a client secret (SHA-256), issuing a
 * token, and serving a collection GET and a static response.
 *
 * Each figure is the median of 5 runs, each timed with clock_now_ns over many
 * operations on one thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "serve/emulate.h"
#include "serve/tokens.h"

#define RUNS 5
#define OPS  200000u
#define WALL 1767225600000000000ULL

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp_double);
    return v[RUNS / 2];
}

typedef void (*bench_fn)(void *ctx, uint32_t i);

static double bench(bench_fn f, void *ctx)
{
    double runs[RUNS];

    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = clock_now_ns();

        for (uint32_t i = 0; i < OPS; i++)
            f(ctx, i);
        runs[r] = (double)(clock_now_ns() - t0) / OPS;
    }
    return median(runs);
}

typedef struct ctx {
    tokens *t;
    char token[TOKENS_MAX_LEN];
    size_t len;
    void *coll, *stat;
    handler_req req;
    handler_resp resp;
    buf headers, body;
    rng rng;
    unsigned fails;
} ctx;

static void do_lookup(void *p, uint32_t i)
{
    ctx *c = p;
    handler_identity id;

    (void)i;
    c->fails += tokens_lookup(c->t, c->token, c->len, WALL, &id) != 0;
}

static void do_secret(void *p, uint32_t i)
{
    ctx *c = p;

    (void)i;
    c->fails += tokens_check_secret(c->t, "demo-05", "demo-secret") != 0;
}

static void do_issue(void *p, uint32_t i)
{
    ctx *c = p;
    char out[TOKENS_MAX_LEN];

    (void)i;
    c->fails += tokens_issue(c->t, "demo-05", WALL, out, sizeof(out)) != 0;
}

static void do_handle(void *state, const handler_kind *k, ctx *c, const char *path)
{
    c->req.path = path;
    c->req.path_len = strlen(path);
    buf_reset(&c->body);
    buf_reset(&c->headers);
    k->handle(state, &c->req, &c->resp);
    c->fails += c->resp.status != 200;
}

static void do_coll_get(void *p, uint32_t i)
{
    ctx *c = p;
    static const char *const ids[] = {"/api/v2/scripts/seed-1", "/api/v2/scripts/seed-77",
                                      "/api/v2/scripts/seed-150", "/api/v2/scripts/seed-200"};

    do_handle(c->coll, &emu_coll_kind, c, ids[i & 3]);
}

static void do_static(void *p, uint32_t i)
{
    ctx *c = p;

    (void)i;
    do_handle(c->stat, &emu_static_kind, c, "/ping");
}

int main(void)
{
    static const char yaml[] = "coll: {name: scripts, base: /api/v2/scripts, seed: 200}\n";
    ctx c = {0};
    config_doc doc;
    char err[CONFIG_ERRLEN];
    char name[16];

    if (tokens_new(&c.t, NULL, 86400ULL * 1000000000ULL) != 0)
        return 1;
    for (int i = 1; i <= 20; i++) {
        snprintf(name, sizeof(name), "demo-%02d", i);
        tokens_add_client(c.t, name, "demo-secret", i <= 10 ? "org-1" : "org-2", name);
    }
    tokens_issue(c.t, "demo-05", WALL, c.token, sizeof(c.token));
    c.len = strlen(c.token);
    if (config_load_string(&doc, "bench", yaml, sizeof(yaml) - 1, err, sizeof(err)) != 0 ||
        emu_coll_kind.init(&c.coll, &doc, config_map_get(&doc, config_root(&doc), "coll"), NULL,
                           err, sizeof(err)) != 0 ||
        emu_static_kind.init(&c.stat, &doc, NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    buf_init(&c.headers, 0);
    buf_init(&c.body, 0);
    rng_seed(&c.rng, 1);
    c.req.method = "GET";
    c.req.query = "";
    c.req.id.org = "org-1";
    c.req.now_wall = WALL;
    c.req.rng = &c.rng;
    c.resp.headers = &c.headers;
    c.resp.body = &c.body;
    printf("tokens_lookup (bearer check)    %8.0f ns/op\n", bench(do_lookup, &c));
    printf("tokens_check_secret             %8.0f ns/op\n", bench(do_secret, &c));
    printf("tokens_issue                    %8.0f ns/op\n", bench(do_issue, &c));
    printf("collection GET /{id} (200 seeds) %7.0f ns/op\n", bench(do_coll_get, &c));
    printf("static 200 ok                   %8.0f ns/op\n", bench(do_static, &c));
    emu_coll_kind.free(c.coll);
    emu_static_kind.free(c.stat);
    config_free(&doc);
    buf_free(&c.headers);
    buf_free(&c.body);
    tokens_free(c.t);
    if (c.fails != 0) {
        fprintf(stderr, "bench_tokens: %u operations failed\n", c.fails);
        return 1;
    }
    return 0;
}
