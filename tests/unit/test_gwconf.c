#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/config.h"
#include "core/h1.h"
#include "limit/body429.h"
#include "limit/dialect.h"
#include "serve/gwconf.h"

static char err[CONFIG_ERRLEN];

/* Loads yaml as "gw.yaml" with overrides ov into *c; returns gwconf_load's code. */
static int load(gw_config *c, const char *yaml, const gwconf_overrides *ov)
{
    config_doc doc;
    int rc;

    err[0] = '\0';
    assert_int_equal(config_load_string(&doc, "gw.yaml", yaml, strlen(yaml), err, sizeof(err)), 0);
    rc = gwconf_load(c, &doc, ov, err, sizeof(err));
    config_free(&doc);
    return rc;
}

static void expect_error(const char *yaml, const char *message)
{
    gw_config c;

    int rc = load(&c, yaml, NULL);

    assert_string_equal(err, message);
    assert_true(rc == -EINVAL || rc == -ERANGE);
    assert_int_equal(c.nroutes, 0);
    assert_null(c.policy);
    gwconf_free(&c);
}

static const char *port_of(const gw_addr *a, char *host, uint16_t *port)
{
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;

    inet_ntop(AF_INET, &v4->sin_addr, host, INET_ADDRSTRLEN);
    *port = ntohs(v4->sin_port);
    return host;
}

static void test_defaults(void **state)
{
    gwconf_overrides ov = {NULL, -1, NULL, 6, NULL};
    char host[INET_ADDRSTRLEN];
    uint16_t port;
    gw_config c;

    (void)state;
    assert_int_equal(load(&c, "routes:\n  - {path: /x, handler: static}\n", &ov), 0);
    assert_string_equal(port_of(&c.listen, host, &port), "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_true(c.admin_on);
    port_of(&c.admin, host, &port);
    assert_int_equal(port, 9090);
    assert_int_equal(c.threads, 6); /* threads: 0 is the number of cores */
    assert_false(c.trust_forwarded);
    assert_int_equal(c.max_body, 512000);
    assert_int_equal(c.max_header_bytes, 16384);
    assert_int_equal(c.max_headers, 100);
    assert_int_equal(c.max_uri, 8192);
    assert_int_equal(c.header_timeout_ns, 10000000000ULL);
    assert_int_equal(c.idle_timeout_ns, 60000000000ULL);
    assert_int_equal(c.drain_timeout_ns, 5000000000ULL);
    assert_int_equal(c.max_keys, 1000000);
    assert_int_equal(c.token_ttl_ns, 86400000000000ULL);
    assert_int_equal(c.policy->n, 0);
    assert_int_equal(c.policy->dialects, DIALECT_BIT(DIALECT_IETF));
    assert_int_equal(c.policy->body, BODY429_PROBLEM);
    assert_non_null(c.tokens);
    assert_ptr_equal(c.env.tokens, c.tokens);
    assert_int_equal(c.nroutes, 1);
    assert_string_equal(c.routes[0].path, "/x");
    assert_int_equal(c.routes[0].methods, 0);
    assert_false(c.routes[0].bearer);
    gwconf_free(&c);
}

static const char full[] = "listen: 0.0.0.0:7000\n"
                           "threads: 3\n"
                           "admin: \"off\"\n"
                           "trust_forwarded: true\n"
                           "max_body: 1000\n"
                           "max_header_bytes: 2048\n"
                           "max_headers: 20\n"
                           "max_uri: 512\n"
                           "header_timeout: 2s\n"
                           "idle_timeout: 30s\n"
                           "drain_timeout: 250ms\n"
                           "headers: [inin, github]\n"
                           "body_429: platform\n"
                           "store: memory\n"
                           "max_keys: 5000\n"
                           "tokens: {ttl: 1h}\n"
                           "clients:\n"
                           "  - {id: a, secret: s, org: o, user: u}\n"
                           "  - {id: b, secret: t}\n"
                           "limits:\n"
                           "  - name: per-token\n"
                           "    match: {methods: [GET, POST], path: /api/**, header: X-K}\n"
                           "    scope: [token]\n"
                           "    algorithm: sliding_window\n"
                           "    rate: 300/min\n"
                           "    cost: 2\n"
                           "  - name: cap\n"
                           "    concurrency: 4\n"
                           "routes:\n"
                           "  - path: /api/items/{id}\n"
                           "    methods: [GET, POST]\n"
                           "    handler: static\n"
                           "    auth: bearer\n"
                           "    latency: {fixed: 5ms, spread: 10ms}\n"
                           "    options: {status: 201, body: made}\n"
                           "  - path: /oauth/token\n"
                           "    methods: [POST]\n"
                           "    handler: oauth_token\n";

static void test_full(void **state)
{
    gwconf_overrides ov = {NULL, -1, NULL, 6, NULL};
    char host[INET_ADDRSTRLEN];
    uint16_t port;
    gw_config c;

    (void)state;
    assert_int_equal(load(&c, full, &ov), 0);
    assert_string_equal(port_of(&c.listen, host, &port), "0.0.0.0");
    assert_int_equal(port, 7000);
    assert_string_equal(c.listen.text, "0.0.0.0:7000");
    assert_int_equal(c.threads, 3);
    assert_false(c.admin_on);
    assert_true(c.trust_forwarded);
    assert_int_equal(c.max_body, 1000);
    assert_int_equal(c.max_header_bytes, 2048);
    assert_int_equal(c.max_headers, 20);
    assert_int_equal(c.max_uri, 512);
    assert_int_equal(c.header_timeout_ns, 2000000000ULL);
    assert_int_equal(c.idle_timeout_ns, 30000000000ULL);
    assert_int_equal(c.drain_timeout_ns, 250000000ULL);
    assert_int_equal(c.max_keys, 5000);
    assert_int_equal(c.token_ttl_ns, 3600000000000ULL);
    assert_int_equal(c.policy->dialects, DIALECT_BIT(DIALECT_ININ) | DIALECT_BIT(DIALECT_GITHUB));
    assert_int_equal(c.policy->body, BODY429_PLATFORM);
    assert_int_equal(c.policy->n, 2);
    assert_string_equal(c.policy->limits[0]->name, "per-token");
    assert_int_equal(c.policy->limits[0]->params.kind, ALGO_SLIDING_WINDOW);
    assert_int_equal(c.policy->limits[0]->cost, 2);
    assert_string_equal(c.policy->limits[0]->header, "X-K");
    assert_int_equal(c.policy->limits[1]->params.kind, ALGO_CONCURRENCY);
    assert_int_equal(c.policy->limits[1]->params.quota, 4);
    assert_int_equal(c.nroutes, 2);
    assert_int_equal(c.routes[0].methods, (1u << H1_GET) | (1u << H1_HEAD) | (1u << H1_POST));
    assert_true(c.routes[0].bearer);
    assert_int_equal(c.routes[0].latency_fixed_ns, 5000000);
    assert_int_equal(c.routes[0].latency_spread_ns, 10000000);
    assert_string_equal(c.routes[0].capnames[0], "id");
    assert_null(c.routes[0].capnames[1]);
    assert_string_equal(c.routes[0].kind->name, "static");
    assert_string_equal(c.routes[1].kind->name, "oauth_token");
    assert_int_equal(c.routes[1].methods, 1u << H1_POST);
    gwconf_free(&c);
}

static void test_overrides(void **state)
{
    gwconf_overrides ov = {"[::1]:9000", 2, "127.0.0.1:9999", 6, NULL};
    const struct sockaddr_in6 *v6;
    char host[INET_ADDRSTRLEN];
    uint16_t port;
    gw_config c;

    (void)state;
    assert_int_equal(load(&c, full, &ov), 0);
    v6 = (const struct sockaddr_in6 *)&c.listen.ss;
    assert_int_equal(v6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(v6->sin6_port), 9000);
    assert_int_equal(c.threads, 2);
    assert_true(c.admin_on); /* the file said off */
    port_of(&c.admin, host, &port);
    assert_int_equal(port, 9999);
    gwconf_free(&c);

    ov.admin = "off";
    ov.threads = 0;
    assert_int_equal(
        load(&c, "admin: 127.0.0.1:1\nroutes:\n  - {path: /x, handler: static}\n", &ov), 0);
    assert_false(c.admin_on);
    assert_int_equal(c.threads, 6);
    gwconf_free(&c);

    ov.listen = "8080";
    assert_int_equal(load(&c, full, &ov), -EINVAL);
    assert_string_equal(err, "--listen: \"8080\": expected HOST:PORT (e.g. 127.0.0.1:8080)");
    ov.listen = NULL;
    ov.threads = 300;
    assert_int_equal(load(&c, full, &ov), -EINVAL);
    assert_string_equal(err, "--threads: 300: expected an integer from 0 to 256");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(
        "limts: []\nroutes: []\n",
        "gw.yaml:1:1: unknown key 'limts', expected one of: listen, threads, admin, "
        "trust_forwarded, max_body, max_header_bytes, max_headers, max_uri, "
        "header_timeout, idle_timeout, drain_timeout, headers, body_429, store, on_store_failure, "
        "store_timeout, store_lease, max_keys, "
        "tokens, clients, limits, routes, upstream (did you mean 'limits'?)");
    expect_error("listen: 8080\nroutes: []\n",
                 "gw.yaml:1:9: listen: \"8080\": expected HOST:PORT (e.g. 127.0.0.1:8080)");
    expect_error("listen: 127.0.0.1:99999\n",
                 "gw.yaml:1:9: listen: \"127.0.0.1:99999\": port '99999' is not a number from 0 "
                 "to 65535");
    expect_error("listen: example.com:80\n",
                 "gw.yaml:1:9: listen: \"example.com:80\": host 'example.com' is not an IP address "
                 "(expected e.g. 127.0.0.1, [::1], localhost or *)");
    expect_error(
        "threads: 1000\n",
        "gw.yaml:1:10: threads: \"1000\": out of range, expected an integer from 0 to 256");
    expect_error("max_uri: 3\nroutes: []\n", "gw.yaml:1:10: max_uri: expected at least 16");
    expect_error("max_keys: 10\n", "gw.yaml:1:11: max_keys: expected at least 64");
    expect_error("store: redis://h:1:2\n",
                 "gw.yaml:1:8: store: \"redis://h:1:2\": expected memory or "
                 "redis://HOST[:PORT][/DB]");
    expect_error("headers: [inin, ietf2]\n",
                 "gw.yaml:1:17: headers: unknown 'ietf2', expected ietf, draft03, x-ratelimit, "
                 "github or inin");
    expect_error("headers: [github, x-ratelimit]\n",
                 "gw.yaml:1:10: headers: x-ratelimit and github both write X-RateLimit-Limit, "
                 "choose one");
    expect_error("body_429: html\n",
                 "gw.yaml:1:11: body_429: unknown 'html', expected problem or platform");
    expect_error("tokens: {ttl: 0}\n", "gw.yaml:1:15: ttl: expected a duration above 0");
    expect_error("clients:\n  - {id: a, secret: s}\n  - {id: a, secret: t}\n",
                 "gw.yaml:3:10: id: 'a' is already used by another client");
    expect_error("clients:\n  - {id: a}\n", "gw.yaml:2:5: missing key 'secret'");
    expect_error("limits:\n  - name: x\n    rate: 5/s\n    scope: [tokn]\n",
                 "gw.yaml:4:12: scope: unknown 'tokn', expected global, ip, token, client, user, "
                 "org, header:NAME or path:NAME");
    expect_error("limits:\n  - name: x\n    rate: 5 per s\n",
                 "gw.yaml:3:11: rate: \"5 per s\": expected N/unit (e.g. 50/s, 300/min)");
    expect_error("limits:\n  - name: x\n", "gw.yaml:2:5: limits[0]: missing key 'rate' (or "
                                           "concurrency)");
    expect_error("limits:\n  - name: x\n    rate: 1/s\n    concurrency: 3\n",
                 "gw.yaml:3:11: rate: a limit has either a rate or a concurrency cap, not both");
    expect_error("limits:\n  - name: x\n    rate: 1/s\n    match: {path: /a/**/b}\n",
                 "gw.yaml:4:19: path: '**' must be the last segment in '/a/**/b'");
    expect_error("limits:\n  - name: x\n    rate: 1/s\n    burst: 2\n    cost: 5\n",
                 "gw.yaml:5:11: cost: 5 exceeds the burst (2): such a request could never be "
                 "admitted");
    expect_error("limits:\n  - {name: x, rate: 1/s}\n  - {name: x, rate: 2/s}\n",
                 "gw.yaml:3:12: name: 'x' is already used by another limit");
    expect_error("limits:\n  - {name: x, rate: 1/s, match: {methods: [GET], pth: /}}\n",
                 "gw.yaml:2:50: unknown key 'pth', expected one of: methods, path, header (did "
                 "you mean 'path'?)");
    expect_error("threads: 1\n", "gw.yaml:1:1: missing key 'routes'");
    expect_error("routes: []\n", "gw.yaml:1:9: routes: expected at least one route");
    expect_error("routes:\n  - {path: x, handler: static}\n",
                 "gw.yaml:2:12: path: 'x' must start with '/'");
    expect_error("routes:\n  - {path: /x, handler: static, methods: [GET, FETCH]}\n",
                 "gw.yaml:2:48: methods: unknown 'FETCH', expected GET, HEAD, POST, PUT, DELETE, "
                 "PATCH or OPTIONS");
    expect_error("routes:\n  - {path: /x, handler: statc}\n",
                 "gw.yaml:2:25: handler: unknown 'statc', expected one of: oauth_token, "
                 "collection, analytics_query, analytics_summary, analytics_jobs, static, proxy "
                 "(did you mean 'static'?)");
    expect_error("routes:\n  - {path: /x, handler: static, auth: basic}\n",
                 "gw.yaml:2:39: auth: \"basic\": expected one of: none, bearer");
    expect_error("routes:\n  - {path: /x, handler: static, latency: {fixed: 1s, jitter: 2s}}\n",
                 "gw.yaml:2:54: unknown key 'jitter', expected one of: fixed, spread");
    expect_error("routes:\n  - {path: /x, handler: static, options: [1]}\n",
                 "gw.yaml:2:42: options: expected a mapping, found a sequence");
    /* the handler kind's own errors keep their position */
    expect_error("routes:\n  - {path: /x, handler: static, options: {status: 99}}\n",
                 "gw.yaml:2:51: status: \"99\": out of range, expected an integer from 200 to 599");
    expect_error("routes:\n  - {path: /x, handler: proxy}\n",
                 "gw.yaml: a proxy route needs an upstream: add 'upstream: {url: ...}'");
    expect_error("upstream: {url: 'https://h'}\nroutes:\n  - {path: /x, handler: static}\n",
                 "gw.yaml:1:17: url: \"https://h\": https upstreams are not supported, expected "
                 "http://");
    expect_error("upstream: {url: http://127.0.0.1:1, max_connections: 0}\n",
                 "gw.yaml:1:54: max_connections: expected an integer from 1 to 1000000");
}

/* The shared store: defaults, every key, --redis over `store`, tokens.key,
 * and limits the Redis store cannot decide exactly. */
static void test_store(void **state)
{
    gwconf_overrides ov = {NULL, -1, NULL, 1, "redis://10.0.0.9:7001/3"};
    gw_config c;

    (void)state;
    assert_int_equal(load(&c, "routes:\n  - {path: /x, handler: static}\n", NULL), 0);
    assert_false(c.store_redis);
    assert_int_equal(c.on_store_failure, GW_STORE_FAIL_LOCAL);
    assert_int_equal(c.store_timeout_ns, 20 * 1000000ULL);
    assert_int_equal(c.store_lease_ns, 60 * 1000000000ULL);
    assert_false(c.tokens_key_set);
    gwconf_free(&c);
    assert_int_equal(load(&c,
                          "store: redis://cache:6380/2\non_store_failure: deny\n"
                          "store_timeout: 50ms\nstore_lease: 2m\n"
                          "tokens: {key: "
                          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f}\n"
                          "routes:\n  - {path: /x, handler: static}\n",
                          NULL),
                     0);
    assert_true(c.store_redis);
    assert_string_equal(c.redis.host, "cache");
    assert_int_equal(c.redis.port, 6380);
    assert_int_equal(c.redis.db, 2);
    assert_int_equal(c.redis.timeout_ns, 50 * 1000000ULL);
    assert_int_equal(c.redis.lease_ns, 120 * 1000000000ULL);
    assert_false(c.redis.caller_clock);
    assert_int_equal(c.on_store_failure, GW_STORE_FAIL_DENY);
    assert_true(c.tokens_key_set);
    assert_int_equal(c.tokens_key[0], 0x00);
    assert_int_equal(c.tokens_key[31], 0x1f);
    gwconf_free(&c);
    assert_int_equal(load(&c,
                          "store: memory\non_store_failure: allow\n"
                          "routes:\n  - {path: /x, handler: static}\n",
                          &ov),
                     0);
    assert_true(c.store_redis);
    assert_string_equal(c.redis.host, "10.0.0.9");
    assert_int_equal(c.redis.port, 7001);
    assert_int_equal(c.redis.db, 3);
    assert_int_equal(c.on_store_failure, GW_STORE_FAIL_ALLOW);
    gwconf_free(&c);
    ov.redis = "redis://h:x";
    assert_int_equal(load(&c, "routes:\n  - {path: /x, handler: static}\n", &ov), -EINVAL);
    assert_string_equal(err, "--redis: \"redis://h:x\": expected redis://HOST[:PORT][/DB]");
    gwconf_free(&c);
    expect_error("store: mysql://h\nroutes:\n  - {path: /x, handler: static}\n",
                 "gw.yaml:1:8: store: \"mysql://h\": expected memory or redis://HOST[:PORT][/DB]");
    expect_error("store_timeout: 0ms\nroutes:\n  - {path: /x, handler: static}\n",
                 "gw.yaml:1:16: store_timeout: expected 1ms to 10s");
    expect_error("tokens: {key: abc}\nroutes:\n  - {path: /x, handler: static}\n",
                 "gw.yaml:1:15: key: expected 64 hex digits (32 bytes), e.g. from `openssl rand "
                 "-hex 32`");
    expect_error("store: redis://h\nlimits:\n  - {name: a, rate: 10/s}\n"
                 "  - {name: b, rate: 1/h, burst: 2000}\nroutes:\n  - {path: /x, handler: "
                 "static}\n",
                 "gw.yaml:4:5: limits[1] 'b': the Redis store decides buckets that refill in "
                 "under 52 days exactly; this burst takes 7200000 s");
}

static void test_parse_addr(void **state)
{
    char host[INET_ADDRSTRLEN];
    uint16_t port;
    gw_addr a;

    (void)state;
    assert_int_equal(gwconf_parse_addr("localhost:80", &a, err, sizeof(err)), 0);
    assert_string_equal(port_of(&a, host, &port), "127.0.0.1");
    assert_int_equal(port, 80);
    assert_int_equal(gwconf_parse_addr("*:0", &a, err, sizeof(err)), 0);
    assert_string_equal(port_of(&a, host, &port), "0.0.0.0");
    assert_int_equal(port, 0);
    assert_int_equal(gwconf_parse_addr("[::]:443", &a, err, sizeof(err)), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(gwconf_parse_addr("::1:80", &a, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"::1:80\": an IPv6 address goes in brackets, e.g. [::1]:8080");
    assert_int_equal(gwconf_parse_addr("1.2.3.4:", &a, err, sizeof(err)), -EINVAL);
    assert_int_equal(gwconf_parse_addr("1.2.3.4:+80", &a, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"1.2.3.4:+80\": port '+80' is not a number from 0 to 65535");
}

static void test_route_match(void **state)
{
    limit_slice caps[PATTERN_MAX_CAPTURES];
    char allow[96];
    unsigned mask;
    gw_config c;

    (void)state;
    assert_int_equal(load(&c,
                          "routes:\n"
                          "  - {path: '/items/{id}', methods: [GET], handler: static}\n"
                          "  - {path: '/items/{id}', methods: [DELETE], handler: static}\n"
                          "  - {path: /items, methods: [POST], handler: static}\n"
                          "  - {path: /any/**, handler: static}\n",
                          NULL),
                     0);
    assert_int_equal(gwconf_route_match(&c, H1_GET, "/items/42", 9, caps, &mask), 0);
    assert_int_equal(caps[0].n, 2);
    assert_memory_equal(caps[0].p, "42", 2);
    assert_int_equal(gwconf_route_match(&c, H1_HEAD, "/items/42", 9, caps, &mask), 0);
    assert_int_equal(gwconf_route_match(&c, H1_DELETE, "/items/42", 9, caps, &mask), 1);
    assert_int_equal(gwconf_route_match(&c, H1_PUT, "/items/42", 9, caps, &mask), -2);
    gwconf_allow(mask, allow, sizeof(allow));
    assert_string_equal(allow, "GET, HEAD, DELETE");
    assert_int_equal(gwconf_route_match(&c, H1_GET, "/items", 6, caps, &mask), -2);
    gwconf_allow(mask, allow, sizeof(allow));
    assert_string_equal(allow, "POST");
    assert_int_equal(gwconf_route_match(&c, H1_PATCH, "/any/x/y", 8, caps, &mask), 3);
    assert_int_equal(gwconf_route_match(&c, H1_GET, "/any", 4, caps, &mask), 3);
    assert_int_equal(gwconf_route_match(&c, H1_GET, "/other", 6, caps, &mask), -1);
    assert_int_equal(gwconf_route_match(&c, H1_GET, "/items/1/2", 10, caps, &mask), -1);
    gwconf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_full),
        cmocka_unit_test(test_overrides),  cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse_addr), cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
