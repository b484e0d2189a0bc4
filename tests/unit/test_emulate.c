#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emu_req.h"
#include "core/config_get.h"
#include "serve/emulate.h"
#include "serve/profile_builtin.h"
#include "serve/tokens.h"

static void test_kinds(void **state)
{
    static const char *const names[] = {"oauth_token",       "collection",     "analytics_query",
                                        "analytics_summary", "analytics_jobs", "static"};
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const handler_kind *k = emulate_kind_find(names[i]);

        assert_non_null(k);
        assert_string_equal(k->name, names[i]);
        assert_non_null(k->init);
        assert_non_null(k->handle);
        assert_non_null(k->free);
    }
    while (emulate_kinds[n] != NULL)
        n++;
    assert_int_equal(n, 6);
    assert_null(emulate_kind_find("proxy")); /* the gateway's */
    assert_null(emulate_kind_find("Static"));
    assert_null(emulate_kind_find(""));
}

static void test_handler_error(void **state)
{
    emu_t t;
    json_t *j;
    char longmsg[2000];

    (void)state;
    emu_t_init(&t, 1);
    buf_append_str(&t.body, "old body");
    handler_error(&t.resp, 404, "not.found", "script %s not found (%d)", "x", 7);
    assert_int_equal(t.resp.status, 404);
    assert_string_equal(t.resp.content_type, "application/json");
    assert_string_equal(emu_t_text(&t),
                        "{\"message\":\"script x not found (7)\",\"code\":\"not.found\","
                        "\"status\":404}");
    /* request bytes echoed in a message stay valid JSON */
    handler_error(&t.resp, 400, "bad.request", "path %s", "/a\"b\\c\n\xff\xfe");
    j = emu_t_json(&t);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "path /a\"b\\c???");
    json_decref(j);
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    handler_error(&t.resp, 500, "internal.server.error", "%s", longmsg);
    j = emu_t_json(&t);
    assert_non_null(j);
    assert_int_equal(json_string_length(json_object_get(j, "message")), 511);
    json_decref(j);
    /* a body bound too small for the reply: the status stands, the body is empty */
    t.body.max = 10;
    handler_error(&t.resp, 429, "too.many.requests", "slow down");
    assert_int_equal(t.resp.status, 429);
    assert_int_equal(t.body.len, 0);
    assert_int_equal(emu_reply_json(&t.resp, 200, json_pack("{s:s}", "a", "0123456789")),
                     HANDLER_DONE);
    assert_int_equal(t.resp.status, 500);
    t.body.max = 0;
    assert_int_equal(emu_reply_json(&t.resp, 201, json_pack("{s:i}", "a", 1)), HANDLER_DONE);
    assert_int_equal(t.resp.status, 201);
    assert_string_equal(emu_t_text(&t), "{\"a\":1}");
    assert_int_equal(emu_reply_empty(&t.resp, 204), HANDLER_DONE);
    assert_int_equal(t.body.len, 0);
    assert_int_equal(emu_method_not_allowed(&t.resp, "PATCH", "GET, PUT"), HANDLER_DONE);
    assert_int_equal(t.resp.status, 405);
    buf_append(&t.headers, "", 1);
    assert_string_equal(buf_ptr(&t.headers), "Allow: GET, PUT\r\n");
    emu_t_free(&t);
}

static void test_uuid(void **state)
{
    rng a, b;
    char x[EMU_UUID_LEN + 1], y[EMU_UUID_LEN + 1];

    (void)state;
    rng_seed(&a, 1);
    rng_seed(&b, 1);
    for (int i = 0; i < 100; i++) {
        emu_uuid(&a, x);
        emu_uuid(&b, y);
        assert_string_equal(x, y);
        assert_int_equal(strlen(x), 36);
        assert_int_equal(x[8], '-');
        assert_int_equal(x[13], '-');
        assert_int_equal(x[14], '4');
        assert_int_equal(x[18], '-');
        assert_non_null(strchr("89ab", x[19]));
        assert_int_equal(x[23], '-');
        assert_int_equal(strspn(x, "0123456789abcdef-"), 36);
    }
    emu_uuid(&a, x);
    rng_seed(&b, 2);
    emu_uuid(&b, y);
    assert_string_not_equal(x, y);
}

/* The built-in profile: loaded as the gateway will load it. */
static config_doc doc;
static const config_node *root;

static int load_profile(void **state)
{
    const struct profile_builtin *p = profile_builtin_find("contact-center");
    char err[CONFIG_ERRLEN];

    (void)state;
    assert_non_null(p);
    assert_int_equal(
        config_load_string(&doc, "contact-center.yaml", p->text, p->len, err, sizeof(err)), 0);
    root = config_root(&doc);
    return 0;
}

static int free_profile(void **state)
{
    (void)state;
    config_free(&doc);
    return 0;
}

static void check_keys(const config_node *map, const char *const keys[])
{
    char err[CONFIG_ERRLEN] = "";

    if (config_check_keys(&doc, map, keys, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static const config_node *get(const config_node *map, const char *key)
{
    const config_node *n = config_map_get(&doc, map, key);

    if (n == NULL)
        fail_msg("missing key %s", key);
    return n;
}

static const char *str(const config_node *map, const char *key)
{
    const char *s = NULL;
    char err[CONFIG_ERRLEN];

    assert_int_equal(config_get_str(&doc, map, key, &s, err, sizeof(err)), 0);
    assert_non_null(s);
    return s;
}

/* The limit called `name`. */
static const config_node *limit(const char *name)
{
    const config_node *limits = get(root, "limits");

    for (size_t i = 0; i < config_len(limits); i++) {
        const config_node *l = config_seq_item(&doc, limits, i);

        if (strcmp(str(l, "name"), name) == 0)
            return l;
    }
    fail_msg("no limit %s", name);
    return NULL;
}

/* Every key is one of SERVE-SCHEMA.md's; every value has the schema's type. */
static void test_profile_schema(void **state)
{
    static const char *const top[] = {"listen",          "threads",       "admin",
                                      "trust_forwarded", "max_body",      "max_header_bytes",
                                      "max_headers",     "max_uri",       "header_timeout",
                                      "idle_timeout",    "drain_timeout", "headers",
                                      "body_429",        "store",         "max_keys",
                                      "tokens",          "clients",       "limits",
                                      "routes",          "upstream",      NULL};
    static const char *const limit_keys[] = {"name",  "match", "scope",       "algorithm", "rate",
                                             "burst", "cost",  "concurrency", NULL};
    static const char *const match_keys[] = {"methods", "path", "header", NULL};
    static const char *const route_keys[] = {"path",    "methods", "handler", "auth",
                                             "latency", "options", NULL};
    static const char *const latency_keys[] = {"fixed", "spread", NULL};
    static const char *const client_keys[] = {"id", "secret", "org", "user", NULL};
    const config_node *limits = get(root, "limits"), *routes = get(root, "routes");
    const config_node *clients = get(root, "clients");
    char err[CONFIG_ERRLEN];
    uint64_t ns;
    int64_t n;
    bool b;

    (void)state;
    check_keys(root, top);
    assert_string_equal(str(root, "listen"), "127.0.0.1:8080");
    assert_string_equal(str(root, "admin"), "127.0.0.1:9090");
    assert_string_equal(str(root, "body_429"), "platform");
    assert_string_equal(str(root, "store"), "memory");
    assert_int_equal(config_get_int(&doc, root, "max_body", 0, INT64_MAX, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 512000);
    assert_int_equal(config_get_bool(&doc, root, "trust_forwarded", &b, err, sizeof(err)), 0);
    assert_false(b);
    for (const char *const *k =
             (const char *const[]){"header_timeout", "idle_timeout", "drain_timeout", NULL};
         *k != NULL; k++)
        assert_int_equal(config_get_duration(&doc, root, *k, &ns, err, sizeof(err)), 0);
    {
        const char **h = NULL;
        size_t nh = 0;

        assert_int_equal(config_get_str_list(&doc, root, "headers", &h, &nh, err, sizeof(err)), 0);
        assert_int_equal(nh, 2);
        assert_string_equal(h[0], "inin");
        assert_string_equal(h[1], "ietf");
        free(h);
    }
    check_keys(get(root, "tokens"), (const char *const[]){"ttl", NULL});
    assert_int_equal(config_get_duration(&doc, get(root, "tokens"), "ttl", &ns, err, sizeof(err)),
                     0);
    assert_int_equal(ns, 86400ULL * 1000000000ULL);
    for (size_t i = 0; i < config_len(clients); i++)
        check_keys(config_seq_item(&doc, clients, i), client_keys);
    for (size_t i = 0; i < config_len(limits); i++) {
        const config_node *l = config_seq_item(&doc, limits, i), *m = get(l, "match");
        units_rate r;
        const char **scope = NULL;
        size_t ns_ = 0;

        check_keys(l, limit_keys);
        check_keys(m, match_keys);
        assert_int_equal(config_get_rate(&doc, l, "rate", &r, err, sizeof(err)), 0);
        assert_int_equal(config_get_int(&doc, l, "burst", 1, INT64_MAX, &n, err, sizeof(err)), 0);
        assert_int_equal(config_get_int(&doc, l, "concurrency", 1, INT64_MAX, &n, err, sizeof(err)),
                         0);
        assert_int_equal(config_get_str_list(&doc, l, "scope", &scope, &ns_, err, sizeof(err)), 0);
        assert_true(ns_ >= 1);
        free(scope);
        assert_int_equal(str(m, "path")[0], '/');
        assert_true((config_map_get(&doc, l, "rate") == NULL) !=
                    (config_map_get(&doc, l, "concurrency") == NULL));
    }
    for (size_t i = 0; i < config_len(routes); i++) {
        const config_node *r = config_seq_item(&doc, routes, i), *lat = get(r, "latency");

        check_keys(r, route_keys);
        check_keys(lat, latency_keys);
        assert_int_equal(config_get_duration(&doc, lat, "fixed", &ns, err, sizeof(err)), 0);
        assert_int_equal(config_get_duration(&doc, lat, "spread", &ns, err, sizeof(err)), 0);
        assert_true(strcmp(str(r, "auth"), "none") == 0 || strcmp(str(r, "auth"), "bearer") == 0);
    }
}

/* The clients load into a token table, and every route's handler kind builds
 * its state from the route's options. */
static void test_profile_routes(void **state)
{
    const config_node *clients = get(root, "clients"), *routes = get(root, "routes");
    handler_env env = {0};
    tokens *tk = NULL;
    size_t org1 = 0, org2 = 0;
    char err[CONFIG_ERRLEN];

    (void)state;
    assert_int_equal(tokens_new(&tk, NULL, 86400ULL * 1000000000ULL), 0);
    for (size_t i = 0; i < config_len(clients); i++) {
        const config_node *c = config_seq_item(&doc, clients, i);

        assert_int_equal(
            tokens_add_client(tk, str(c, "id"), str(c, "secret"), str(c, "org"), str(c, "user")),
            0);
        org1 += strcmp(str(c, "org"), "org-1") == 0;
        org2 += strcmp(str(c, "org"), "org-2") == 0;
    }
    assert_int_equal(tokens_count(tk), 21);
    assert_int_equal(org1, 11);
    assert_int_equal(org2, 10);
    assert_int_equal(tokens_check_secret(tk, "demo-client", "demo-secret"), 0);
    assert_int_equal(tokens_check_secret(tk, "demo-20", "demo-secret"), 0);
    env.tokens = tk;
    for (size_t i = 0; i < config_len(routes); i++) {
        const config_node *r = config_seq_item(&doc, routes, i);
        const handler_kind *k = emulate_kind_find(str(r, "handler"));
        void *st = NULL;

        assert_non_null(k);
        if (k->init(&st, &doc, config_map_get(&doc, r, "options"), &env, err, sizeof(err)) != 0)
            fail_msg("route %s: %s", str(r, "path"), err);
        assert_non_null(st);
        k->free(st);
    }
    tokens_free(tk);
}

/* A GCRA bucket, as the limiter defines it, in time units of 1/count ns so
 * the arithmetic is exact: admit iff max(tat, now) + period <= now + burst *
 * period. */
typedef struct sim_gcra {
    uint64_t count, period, burst, tat;
} sim_gcra;

static sim_gcra sim_limit(const char *name)
{
    const config_node *l = limit(name);
    char err[CONFIG_ERRLEN];
    units_rate r;
    int64_t burst;

    assert_int_equal(config_get_rate(&doc, l, "rate", &r, err, sizeof(err)), 0);
    burst = (int64_t)r.count;
    assert_int_equal(config_get_int(&doc, l, "burst", 1, INT64_MAX, &burst, err, sizeof(err)), 0);
    return (sim_gcra){r.count, r.period_ns, (uint64_t)burst, 0};
}

static bool sim_conforms(const sim_gcra *g, uint64_t now)
{
    uint64_t t = now * g->count, base = g->tat > t ? g->tat : t;

    return base + g->period <= t + g->burst * g->period;
}

static void sim_charge(sim_gcra *g, uint64_t now)
{
    uint64_t t = now * g->count;

    g->tat = (g->tat > t ? g->tat : t) + g->period;
}

/* Script updates at a constant 5 / 20 / 50 req/s for 60 s against the
 * profile's script-writes limit: none, some (~10 %), about 60 % throttled. */
static void test_profile_script_updates(void **state)
{
    static const uint64_t rates[] = {5, 20, 50};
    double share[3];

    (void)state;
    for (int i = 0; i < 3; i++) {
        sim_gcra g = sim_limit("script-writes");
        uint64_t sent = 0, throttled = 0, first = 0;

        for (uint64_t k = 0; k < 60 * rates[i]; k++) {
            uint64_t now = k * 1000000000ULL / rates[i];

            sent++;
            if (sim_conforms(&g, now)) {
                sim_charge(&g, now);
            } else {
                throttled++;
                first = first != 0 ? first : now;
            }
        }
        share[i] = (double)throttled / (double)sent;
        print_message("script updates at %2llu req/s: %5.1f %% throttled, first 429 at %.2f s\n",
                      (unsigned long long)rates[i], 100 * share[i], (double)first / 1e9);
        if (i == 1)
            assert_true(first >= 2000000000ULL && first <= 3000000000ULL);
    }
    assert_true(share[0] == 0.0);
    assert_true(share[1] > 0.05 && share[1] < 0.15);
    assert_true(share[2] > 0.55 && share[2] < 0.70);
}

/* 20 threads PUT the same script with no ramp-up, then 10 req/s together:
 * both script limits decide each request (atomically: a rejection charges
 * neither). 15 of the first 20 are throttled; about half afterwards. */
static void test_profile_same_script(void **state)
{
    sim_gcra org = sim_limit("script-writes"), ent = sim_limit("script-entity-writes");
    uint64_t throttled = 0;

    (void)state;
    for (int k = 0; k < 120; k++) {
        uint64_t now = k < 20 ? 0 : (uint64_t)(k - 19) * 100000000ULL;

        if (sim_conforms(&org, now) && sim_conforms(&ent, now)) {
            sim_charge(&org, now);
            sim_charge(&ent, now);
        } else {
            throttled++;
        }
        if (k == 19)
            assert_int_equal(throttled, 15);
    }
    print_message("same script: %llu of 120 throttled\n", (unsigned long long)throttled);
    assert_true(throttled >= 15 + 40 && throttled <= 15 + 60);
}

/* The numbers the issue fixes. */
static void test_profile_numbers(void **state)
{
    sim_gcra g;
    int64_t n = 0;
    char err[CONFIG_ERRLEN];
    const char **scope = NULL;
    size_t ns = 0;

    (void)state;
    g = sim_limit("per-token");
    assert_int_equal(g.count, 300);
    assert_int_equal(g.period, 60000000000ULL);
    g = sim_limit("per-client-user");
    assert_int_equal(g.count, 3000);
    assert_int_equal(g.period, 60000000000ULL);
    assert_int_equal(
        config_get_str_list(&doc, limit("per-client-user"), "scope", &scope, &ns, err, sizeof(err)),
        0);
    assert_int_equal(ns, 3);
    assert_string_equal(scope[0], "org");
    assert_string_equal(scope[1], "client");
    assert_string_equal(scope[2], "user");
    free(scope);
    assert_int_equal(config_get_str_list(&doc, limit("script-entity-writes"), "scope", &scope, &ns,
                                         err, sizeof(err)),
                     0);
    assert_string_equal(scope[ns - 1], "path:id");
    free(scope);
    assert_int_equal(config_get_int(&doc, limit("summary-concurrency"), "concurrency", 1, 1000, &n,
                                    err, sizeof(err)),
                     0);
    assert_int_equal(n, 10);
    g = sim_limit("script-writes");
    assert_true(g.count * 1000000000ULL / g.period >= 15 &&
                g.count * 1000000000ULL / g.period <= 20);
    assert_true(g.burst <= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_handler_error),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test_setup_teardown(test_profile_schema, load_profile, free_profile),
        cmocka_unit_test_setup_teardown(test_profile_routes, load_profile, free_profile),
        cmocka_unit_test_setup_teardown(test_profile_script_updates, load_profile, free_profile),
        cmocka_unit_test_setup_teardown(test_profile_same_script, load_profile, free_profile),
        cmocka_unit_test_setup_teardown(test_profile_numbers, load_profile, free_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
