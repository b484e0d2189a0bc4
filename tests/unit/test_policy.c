#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "limit/body429.h"
#include "limit/dialect.h"
#include "limit/policy.h"

#define S CLOCK_NS_PER_S

static const char *const GET[] = {"GET"};
static const char *const TOKEN[] = {"token"};

static void test_published_shape(void **state)
{
    limit_policy *p;
    policy_spec s;
    char err[200], *json;
    const char *const writes[] = {"put", "POST"};
    const char *const ocu[] = {"org", "client", "user"};
    const char *const entity[] = {"path:id"};

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    memset(&s, 0, sizeof(s));
    s.name = "per-token";
    s.methods = GET;
    s.nmethods = 1;
    s.path = "/api/v2/**";
    s.scope = TOKEN;
    s.nscope = 1;
    s.rate = (units_rate){300, 60 * S};
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    json = policy_to_json_string(p);
    assert_string_equal(json, "{\"limits\": [{\"name\": \"per-token\", \"match\": {\"methods\": "
                              "[\"GET\"], \"path\": \"/api/v2/**\"}, \"scope\": [\"token\"], "
                              "\"algorithm\": \"gcra\", \"rate\": {\"count\": 300, \"period_s\": "
                              "60}, \"burst\": 300, \"concurrency\": null}]}");
    free(json);

    memset(&s, 0, sizeof(s));
    s.name = "script-writes";
    s.methods = writes;
    s.nmethods = 2;
    s.path = "/api/v2/scripts/{id}";
    s.scope = entity;
    s.nscope = 1;
    s.rate = (units_rate){5, 2 * S}; /* 2.5/s */
    s.burst = 3;
    s.cost = 2;
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    memset(&s, 0, sizeof(s));
    s.name = "org-window";
    s.scope = ocu;
    s.nscope = 3;
    s.algorithm = "sliding_window";
    s.rate = (units_rate){3000, 500 * CLOCK_NS_PER_MS};
    s.header = "X-Org";
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    memset(&s, 0, sizeof(s));
    s.name = "summary";
    s.path = "/api/v2/analytics/conversations/details/summary";
    s.concurrency = 10; /* no algorithm named: a cap */
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    assert_int_equal(p->nholds, 1);
    json = policy_to_json_string(p);
    assert_string_equal(
        json,
        "{\"limits\": [{\"name\": \"per-token\", \"match\": {\"methods\": [\"GET\"], \"path\": "
        "\"/api/v2/**\"}, \"scope\": [\"token\"], \"algorithm\": \"gcra\", \"rate\": {\"count\": "
        "300, \"period_s\": 60}, \"burst\": 300, \"concurrency\": null}, "
        "{\"name\": \"script-writes\", \"match\": {\"methods\": [\"PUT\", \"POST\"], \"path\": "
        "\"/api/v2/scripts/{id}\"}, \"scope\": [\"path:id\"], \"algorithm\": \"gcra\", \"rate\": "
        "{\"count\": 5, \"period_s\": 2}, \"burst\": 3, \"concurrency\": null, \"cost\": 2}, "
        "{\"name\": \"org-window\", \"match\": {\"methods\": null, \"path\": \"/**\", \"header\": "
        "\"X-Org\"}, \"scope\": [\"org\", \"client\", \"user\"], \"algorithm\": "
        "\"sliding_window\", \"rate\": {\"count\": 3000, \"period_s\": 0.5}, \"burst\": null, "
        "\"concurrency\": null}, "
        "{\"name\": \"summary\", \"match\": {\"methods\": null, \"path\": "
        "\"/api/v2/analytics/conversations/details/summary\"}, \"scope\": [\"global\"], "
        "\"algorithm\": \"concurrency\", \"rate\": null, \"burst\": null, \"concurrency\": 10}]}");
    free(json);
    assert_non_null(policy_find(p, "summary"));
    assert_null(policy_find(p, "nope"));
    policy_free(p);
}

static void expect_error(limit_policy *p, const policy_spec *s, int code, const char *msg)
{
    char err[200] = "";
    size_t n = p->n;

    assert_int_equal(policy_add_limit(p, s, err, sizeof(err)), code);
    assert_string_equal(err, msg);
    assert_int_equal(p->n, n);
}

static void test_errors(void **state)
{
    limit_policy *p;
    policy_spec s, ok;
    const char *const bad_method[] = {"GET", "P UT"};
    const char *const tokn[] = {"tokn"};
    char err[200], name[16];

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    memset(&ok, 0, sizeof(ok));
    ok.name = "a";
    ok.rate = (units_rate){10, S};
    assert_int_equal(policy_add_limit(p, &ok, err, sizeof(err)), 0);
    s = ok;
    expect_error(p, &s, -EINVAL, "name: 'a' is already used by another limit");
    s.name = "per token";
    expect_error(p, &s, -EINVAL,
                 "name: 'per token' must be 1 to 64 letters, digits, '.', '_' or '-'");
    s.name = NULL;
    expect_error(p, &s, -EINVAL, "name: '' must be 1 to 64 letters, digits, '.', '_' or '-'");
    s = ok;
    s.name = "b";
    s.methods = bad_method;
    s.nmethods = 2;
    expect_error(p, &s, -EINVAL, "methods: 'P UT' is not a method name");
    s = ok;
    s.name = "b";
    s.scope = tokn;
    s.nscope = 1;
    expect_error(p, &s, -EINVAL,
                 "scope: unknown 'tokn', expected global, ip, token, client, user, org, "
                 "header:NAME or path:NAME");
    s = ok;
    s.name = "b";
    s.path = "/a/**/b";
    expect_error(p, &s, -EINVAL, "path: '**' must be the last segment in '/a/**/b'");
    s = ok;
    s.name = "b";
    s.header = "X:Y";
    expect_error(p, &s, -EINVAL, "header: 'X:Y' is not a valid header name");
    s = ok;
    s.name = "b";
    s.algorithm = "leaky";
    expect_error(p, &s, -EINVAL,
                 "algorithm: unknown 'leaky', expected gcra, fixed_window, sliding_window or "
                 "concurrency");
    s = ok;
    s.name = "b";
    s.burst = 3;
    s.cost = 5;
    expect_error(p, &s, -EINVAL,
                 "cost: 5 exceeds the burst (3): such a request could never be admitted");
    s = ok;
    s.name = "b";
    s.algorithm = "fixed_window";
    s.cost = 11;
    expect_error(p, &s, -EINVAL,
                 "cost: 11 exceeds the rate's count (10): such a request could never be "
                 "admitted");
    s = ok;
    s.name = "b";
    s.algorithm = "concurrency";
    s.concurrency = 4;
    expect_error(p, &s, -EINVAL,
                 "rate: a concurrency cap takes no rate or burst, only concurrency");
    s = ok;
    s.name = "b";
    s.concurrency = 4;
    expect_error(p, &s, -EINVAL, "concurrency: only for algorithm concurrency, not gcra");
    s = ok;
    s.name = "b";
    s.rate = (units_rate){0, 0};
    expect_error(p, &s, -EINVAL, "rate: missing, expected N/unit (e.g. 300/min)");
    /* bounds: 8 caps, 32 limits */
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "cap%d", i);
        s.name = name;
        s.concurrency = 1;
        assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    }
    s.name = "cap8";
    expect_error(p, &s, -E2BIG, "concurrency: at most 8 concurrency caps per policy");
    s = ok;
    for (int i = 0; p->n < POLICY_MAX_LIMITS; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        s.name = name;
        assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    }
    s.name = "one-more";
    expect_error(p, &s, -E2BIG, "limits: at most 32 per policy");
    policy_free(p);
}

static void test_matching(void **state)
{
    limit_policy *p;
    policy_spec s;
    limit_request r;
    limit_slice caps[PATTERN_MAX_CAPTURES];
    limit_slice names[] = {{"x-org", 5}};
    limit_slice values[] = {{"", 0}};
    limit_header_array hs = {names, values, 1};
    const char *const writes[] = {"PUT", "POST"};
    char err[200];
    const policy_limit *l;

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    memset(&s, 0, sizeof(s));
    s.name = "w";
    s.methods = writes;
    s.nmethods = 2;
    s.path = "/api/v2/scripts/{id}";
    s.header = "X-Org";
    s.rate = (units_rate){10, S};
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
    l = p->limits[0];
    memset(&r, 0, sizeof(r));
    r.method = request_slice("PUT");
    r.path = request_slice("/api/v2/scripts/7");
    assert_false(policy_limit_matches(l, &r, caps)); /* header missing */
    r.header = request_array_header;
    r.header_ctx = &hs;
    assert_true(policy_limit_matches(l, &r, caps)); /* present, even empty */
    assert_memory_equal(caps[0].p, "7", 1);
    r.method = request_slice("GET");
    assert_false(policy_limit_matches(l, &r, caps));
    r.method = request_slice("put"); /* methods are case-sensitive on the wire */
    assert_false(policy_limit_matches(l, &r, caps));
    r.method = request_slice("POST");
    r.path = request_slice("/api/v2/flows/7");
    assert_false(policy_limit_matches(l, &r, caps));
    policy_free(p);
}

static void test_dialects_and_body(void **state)
{
    limit_policy *p;
    const char *const two[] = {"inin", "ietf"};
    const char *const clash[] = {"github", "x-ratelimit"};
    const char *const bad[] = {"ietf", "ietf2"};
    char err[200];

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    assert_int_equal(p->dialects, DIALECT_BIT(DIALECT_IETF));
    assert_int_equal(p->body, BODY429_PROBLEM);
    assert_int_equal(policy_set_dialects(p, two, 2, err, sizeof(err)), 0);
    assert_int_equal(p->dialects, DIALECT_BIT(DIALECT_IETF) | DIALECT_BIT(DIALECT_ININ));
    assert_int_equal(policy_set_dialects(p, clash, 2, err, sizeof(err)), -EINVAL);
    assert_string_equal(
        err, "dialects: x-ratelimit and github both write X-RateLimit-Limit, choose one");
    assert_int_equal(policy_set_dialects(p, bad, 2, err, sizeof(err)), -EINVAL);
    assert_string_equal(err,
                        "dialects: unknown 'ietf2', expected ietf, draft03, x-ratelimit, github or "
                        "inin");
    assert_int_equal(p->dialects, DIALECT_BIT(DIALECT_IETF) | DIALECT_BIT(DIALECT_ININ));
    assert_int_equal(policy_set_body(p, "platform", err, sizeof(err)), 0);
    assert_int_equal(p->body, BODY429_PLATFORM);
    assert_int_equal(policy_set_body(p, "html", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "body: unknown 'html', expected problem or platform");
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_shape),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_dialects_and_body),
    };
    (void)GET;
    (void)TOKEN;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
