#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "core/clock.h"
#include "run/oauth.h"

#define S CLOCK_NS_PER_S

struct fixture {
    plan_auth auth;
    plan_oauth_client clients[2];
    oauth o;
    buf tok;
    char err[256];
};

static int setup(void **state)
{
    static struct fixture f;
    char err[128];

    memset(&f, 0, sizeof(f));
    f.clients[0].id = "demo client";
    f.clients[0].secret = "s&c=ret/+";
    f.clients[1].id = "b";
    f.clients[1].secret = "c";
    f.auth.kind = PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS;
    if (url_parse(&f.auth.token_url, "http://127.0.0.1:9000/oauth/token?x=1", err, sizeof(err)))
        return -1;
    f.auth.clients = f.clients;
    f.auth.nclients = 2;
    f.auth.refresh_before_ns = 60 * S;
    if (oauth_init(&f.o, &f.auth) != 0)
        return -1;
    buf_init(&f.tok, 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    oauth_free(&f->o);
    url_free(&f->auth.token_url);
    buf_free(&f->tok);
    return 0;
}

static enum oauth_status get(struct fixture *f, size_t c, uint64_t now, uint64_t *gen, bool *fetch)
{
    return oauth_get(&f->o, c, now, &f->tok, gen, fetch, f->err, sizeof(f->err));
}

/* One fetch at a time; the token is shared; refresh before expiry; a 401
 * forgets only the generation it was sent with. */
static void test_cache_life_cycle(void **state)
{
    struct fixture *f = *state;
    uint64_t gen = 0, gen2 = 0, t0 = 1000 * S;
    bool fetch;

    assert_int_equal(get(f, 0, t0, &gen, &fetch), OAUTH_WAIT);
    assert_true(fetch); /* the first asker fetches */
    assert_int_equal(get(f, 0, t0 + 1, &gen, &fetch), OAUTH_WAIT);
    assert_false(fetch); /* the others wait */
    assert_int_equal(get(f, 1, t0, &gen, &fetch), OAUTH_WAIT);
    assert_true(fetch); /* another client, another token */

    oauth_store(&f->o, 0, "abc", 3, 120 * S, t0 + 2);
    assert_int_equal(get(f, 0, t0 + 10 * S, &gen, &fetch), OAUTH_READY);
    assert_false(fetch);
    assert_int_equal(f->tok.len, 3);
    assert_memory_equal(buf_ptr(&f->tok), "abc", 3);

    /* 60 s before the expiry: still served, and one caller refreshes. */
    assert_int_equal(get(f, 0, t0 + 2 + 60 * S, &gen, &fetch), OAUTH_READY);
    assert_true(fetch);
    assert_int_equal(get(f, 0, t0 + 61 * S, &gen, &fetch), OAUTH_READY);
    assert_false(fetch);
    oauth_store(&f->o, 0, "def", 3, 120 * S, t0 + 62 * S);
    assert_int_equal(get(f, 0, t0 + 63 * S, &gen2, &fetch), OAUTH_READY);
    assert_int_equal(gen2, gen + 1);
    assert_memory_equal(buf_ptr(&f->tok), "def", 3);

    /* A 401 on the old token changes nothing; on the current one, refetch. */
    oauth_invalidate(&f->o, 0, gen);
    assert_int_equal(get(f, 0, t0 + 64 * S, &gen, &fetch), OAUTH_READY);
    oauth_invalidate(&f->o, 0, gen2);
    assert_int_equal(get(f, 0, t0 + 64 * S, &gen, &fetch), OAUTH_WAIT);
    assert_true(fetch);

    /* A failed fetch is reported for a second, then tried again. */
    oauth_fail(&f->o, 0, "token endpoint answered 401", t0 + 65 * S);
    assert_int_equal(get(f, 0, t0 + 65 * S + S / 2, &gen, &fetch), OAUTH_FAILED);
    assert_string_equal(f->err, "token endpoint answered 401");
    assert_int_equal(get(f, 0, t0 + 66 * S, &gen, &fetch), OAUTH_WAIT);
    assert_true(fetch);
}

/* A token that lives shorter than refresh_before is refreshed at half its life;
 * one without expires_in never expires. */
static void test_short_and_endless_tokens(void **state)
{
    struct fixture *f = *state;
    uint64_t gen, t0 = 5000 * S;
    bool fetch;

    oauth_store(&f->o, 1, "short", 5, 30 * S, t0);
    assert_int_equal(get(f, 1, t0 + 14 * S, &gen, &fetch), OAUTH_READY);
    assert_false(fetch);
    assert_int_equal(get(f, 1, t0 + 15 * S, &gen, &fetch), OAUTH_READY);
    assert_true(fetch);
    oauth_store(&f->o, 1, "forever", 7, UINT64_MAX, t0 + 16 * S);
    assert_int_equal(get(f, 1, UINT64_MAX - 1, &gen, &fetch), OAUTH_READY);
    assert_false(fetch);
}

static void test_token_request_bytes(void **state)
{
    struct fixture *f = *state;
    const char *body = "grant_type=client_credentials&client_id=demo+client"
                       "&client_secret=s%26c%3Dret%2F%2B";
    char want[512];
    buf out;

    buf_init(&out, 0);
    assert_int_equal(oauth_request(&out, &f->auth, 0), 0);
    snprintf(want, sizeof(want),
             "POST /oauth/token?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(buf_ptr(&out), want, out.len);
    buf_free(&out);
}

static void parse_ok(const char *body, const char *tok, uint64_t exp)
{
    json_t *root;
    const char *t;
    size_t len;
    uint64_t e;
    char err[128];

    assert_int_equal(oauth_parse_token(body, strlen(body), &root, &t, &len, &e, err, sizeof(err)),
                     0);
    assert_int_equal(len, strlen(tok));
    assert_memory_equal(t, tok, len);
    assert_int_equal(e, exp);
    json_decref(root);
}

static void parse_bad(const char *body, const char *msg)
{
    json_t *root;
    const char *t;
    size_t len;
    uint64_t e;
    char err[128];

    assert_int_equal(oauth_parse_token(body, strlen(body), &root, &t, &len, &e, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, msg));
}

static void test_token_response(void **state)
{
    (void)state;
    parse_ok("{\"access_token\":\"a.b\",\"token_type\":\"Bearer\",\"expires_in\":3600}", "a.b",
             3600 * S);
    parse_ok("{\"access_token\":\"x\",\"expires_in\":\"86400\"}", "x", 86400 * S);
    parse_ok("{\"access_token\":\"x\"}", "x", UINT64_MAX);
    parse_ok("{\"access_token\":\"x\",\"expires_in\":1.5}", "x", 1500000000ull);
    parse_bad("{\"token\":\"x\"}", "no access_token");
    parse_bad("{\"access_token\":\"\"}", "no access_token");
    parse_bad("<html>", "not JSON");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_life_cycle),
        cmocka_unit_test(test_short_and_endless_tokens),
        cmocka_unit_test(test_token_request_bytes),
        cmocka_unit_test(test_token_response),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
