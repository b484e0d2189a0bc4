#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "core/clock.h"
#include "limit/body429.h"
#include "limit/localstore.h"

#define S CLOCK_NS_PER_S

static const char *const TOKEN[] = {"token"};
static const char *const ORG[] = {"org"};

static void add(limit_policy *p, const char *name, const char *const *scope_items, units_rate rate)
{
    policy_spec s;
    char err[200];

    memset(&s, 0, sizeof(s));
    s.name = name;
    s.scope = scope_items;
    s.nscope = scope_items != NULL ? 1 : 0;
    s.rate = rate;
    assert_int_equal(policy_add_limit(p, &s, err, sizeof(err)), 0);
}

static char *body(enum body429_kind kind, const limit_decision *d)
{
    static char text[1024];
    buf b;

    buf_init(&b, 0);
    assert_int_equal(body429_write(kind, d, &b), 0);
    assert_true(b.len < sizeof(text));
    memcpy(text, buf_ptr(&b), b.len);
    text[b.len] = '\0';
    buf_free(&b);
    return text;
}

/* A request over both its token's and its org's limits: per-token (2/min)
 * frees a unit in 30 s, per-org (3/min) in 20 s; Retry-After is 30. */
static void test_bodies(void **state)
{
    limit_policy *p;
    limit_store *s;
    limit_decision d;
    limit_request r;
    json_t *j;
    buf b;

    (void)state;
    assert_int_equal(policy_new(&p), 0);
    add(p, "per-token", TOKEN, (units_rate){2, 60 * S});
    add(p, "per-org", ORG, (units_rate){3, 60 * S});
    add(p, "global", NULL, (units_rate){1000, S});
    assert_int_equal(localstore_new(&s, 0), 0);
    memset(&r, 0, sizeof(r));
    r.method = request_slice("GET");
    r.path = request_slice("/x");
    r.token = request_slice("t1");
    r.org = request_slice("acme");
    for (int i = 0; i < 2; i++)
        assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
    r.token = request_slice("t2");
    assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
    assert_true(d.admitted);
    buf_init(&b, 0);
    assert_int_equal(body429_write(BODY429_PROBLEM, &d, &b), -EINVAL); /* admitted */
    buf_free(&b);
    r.token = request_slice("t1");
    assert_int_equal(limit_decide(p, s, &r, 10 * S, &d, NULL, NULL), 0);
    assert_false(d.admitted);
    assert_int_equal(d.nviolated, 2);
    assert_int_equal(d.retry_after_s, 30);
    assert_string_equal(
        body(BODY429_PROBLEM, &d),
        "{\"type\": \"https://iana.org/assignments/http-problem-types#quota-exceeded\", "
        "\"title\": \"Request cannot be satisfied as assigned quota has been exceeded\", "
        "\"status\": 429, \"detail\": \"Retry the request in 30 seconds\", "
        "\"violated-policies\": [\"per-token\", \"per-org\"]}");
    assert_string_equal(body(BODY429_PLATFORM, &d),
                        "{\"message\": \"Rate limit exceeded the maximum. Retry the request in "
                        "[30] seconds\", \"code\": \"too.many.requests\", \"status\": 429, "
                        "\"limit\": {\"key\": \"per-token\", \"value\": 2}}");
    j = json_loads(body(BODY429_PROBLEM, &d), 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 429);
    json_decref(j);
    assert_string_equal(body429_content_type(BODY429_PROBLEM), "application/problem+json");
    assert_string_equal(body429_content_type(BODY429_PLATFORM), "application/json");
    store_free(s);
    policy_free(p);
}

/* Names are validated by the policy, but the writer escapes all the same. */
static void test_escaping(void **state)
{
    policy_limit odd;
    limit_decision d;
    json_t *j;
    const char *name = "a\"b\\c\nd\x01";

    (void)state;
    memset(&odd, 0, sizeof(odd));
    memset(&d, 0, sizeof(d));
    odd.name = (char *)name;
    d.n = 1;
    d.limits[0] = &odd;
    d.v[0].quota = 7;
    d.nviolated = 1;
    d.retry_after_s = 1;
    assert_string_equal(
        body(BODY429_PROBLEM, &d),
        "{\"type\": \"https://iana.org/assignments/http-problem-types#quota-exceeded\", "
        "\"title\": \"Request cannot be satisfied as assigned quota has been exceeded\", "
        "\"status\": 429, \"detail\": \"Retry the request in 1 second\", "
        "\"violated-policies\": [\"a\\\"b\\\\c\\u000ad\\u0001\"]}");
    j = json_loads(body(BODY429_PLATFORM, &d), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "limit"), "key")),
                        name);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "limit"), "value")), 7);
    json_decref(j);
}

static void test_parse(void **state)
{
    enum body429_kind k;
    char err[100];

    (void)state;
    assert_int_equal(body429_parse("problem", &k, err, sizeof(err)), 0);
    assert_int_equal(k, BODY429_PROBLEM);
    assert_int_equal(body429_parse("platform", &k, err, sizeof(err)), 0);
    assert_int_equal(k, BODY429_PLATFORM);
    assert_int_equal(body429_parse("Problem", &k, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "body: unknown 'Problem', expected problem or platform");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
