#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emu_req.h"
#include "serve/emulate.h"
#include "serve/tokens.h"

#define S    1000000000ULL
#define WALL (1767225600 * S)

static tokens *tk;
static void *st;
static emu_t t;

static int setup(void **state)
{
    handler_env env = {0};
    char err[256];

    (void)state;
    assert_int_equal(tokens_new(&tk, NULL, 3600 * S), 0);
    assert_int_equal(tokens_add_client(tk, "demo-client", "demo-secret", "org-1", "user-1"), 0);
    assert_int_equal(tokens_add_client(tk, "odd id", "p&ss=w:rd", "org-2", "user-2"), 0);
    env.tokens = tk;
    assert_int_equal(emu_oauth_kind.init(&st, NULL, NULL, &env, err, sizeof(err)), 0);
    emu_t_init(&t, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    emu_oauth_kind.free(st);
    tokens_free(tk);
    emu_t_free(&t);
    return 0;
}

static int post(const char *body, const char *authorization)
{
    t.hdrs[0] = authorization != NULL ? "Authorization" : NULL;
    t.hdrs[1] = authorization;
    t.hdrs[2] = NULL;
    emu_t_req(&t, "POST", "/oauth/token", body, NULL, 1, WALL);
    return emu_t_run(&t, &emu_oauth_kind, st);
}

static const char *headers(void)
{
    buf_append(&t.headers, "", 1);
    t.headers.len--;
    return buf_ptr(&t.headers);
}

/* A 200 carries a bearer token that tokens_lookup accepts for the client. */
static void check_issued(const char *client)
{
    json_t *j = emu_t_json(&t);
    const char *tok;
    handler_identity id = {0};

    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "token_type")), "bearer");
    assert_int_equal(json_integer_value(json_object_get(j, "expires_in")), 3600);
    tok = json_string_value(json_object_get(j, "access_token"));
    assert_non_null(tok);
    assert_int_equal(tokens_lookup(tk, tok, strlen(tok), WALL + S, &id), 0);
    assert_string_equal(id.client, client);
    assert_int_equal(tokens_lookup(tk, tok, strlen(tok), WALL + 3600 * S, &id), -ETIMEDOUT);
    assert_string_equal(t.resp.content_type, "application/json");
    assert_non_null(strstr(headers(), "Cache-Control: no-store\r\n"));
    json_decref(j);
}

static void check_error(int status, const char *error)
{
    json_t *j = emu_t_json(&t);

    assert_int_equal(t.resp.status, status);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "error")), error);
    assert_non_null(json_string_value(json_object_get(j, "error_description")));
    json_decref(j);
}

static void test_basic(void **state)
{
    (void)state;
    /* base64("demo-client:demo-secret") */
    assert_int_equal(
        post("grant_type=client_credentials", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="), 200);
    check_issued("demo-client");
    /* the scheme is case-insensitive */
    assert_int_equal(
        post("grant_type=client_credentials", "basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="), 200);
    /* base64("odd+id:p%26ss%3Dw%3Ard"): both parts form-encoded (RFC 6749 2.3.1) */
    assert_int_equal(
        post("grant_type=client_credentials", "Basic b2RkK2lkOnAlMjZzcyUzRHclM0FyZA=="), 200);
    check_issued("odd id");
    /* base64("demo-client:wrong") */
    assert_int_equal(post("grant_type=client_credentials", "Basic ZGVtby1jbGllbnQ6d3Jvbmc="), 401);
    check_error(401, "invalid_client");
    assert_non_null(strstr(headers(), "WWW-Authenticate: Basic realm=\"tollgate\"\r\n"));
    /* not base64; no colon (base64("demo-client")) */
    assert_int_equal(post("grant_type=client_credentials", "Basic !!!"), 401);
    check_error(401, "invalid_client");
    assert_int_equal(post("grant_type=client_credentials", "Basic ZGVtby1jbGllbnQ="), 401);
    check_error(401, "invalid_client");
}

static void test_form(void **state)
{
    (void)state;
    assert_int_equal(
        post("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret", NULL),
        200);
    check_issued("demo-client");
    assert_int_equal(post("client_secret=p%26ss%3Dw%3Ard&grant_type=client_credentials&client_id="
                          "odd+id",
                          NULL),
                     200);
    check_issued("odd id");
    assert_int_equal(
        post("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secreT", NULL),
        401);
    check_error(401, "invalid_client");
    assert_null(strstr(headers(), "WWW-Authenticate"));
    assert_int_equal(post("grant_type=client_credentials&client_id=nobody&client_secret=x", NULL),
                     401);
    check_error(401, "invalid_client");
    assert_int_equal(post("grant_type=client_credentials", NULL), 401);
    check_error(401, "invalid_client");
    assert_int_equal(post("grant_type=client_credentials&client_id=demo-client", NULL), 401);
    check_error(401, "invalid_client");
    /* %00 inside a secret never matches */
    assert_int_equal(post("grant_type=client_credentials&client_id=demo-client&client_secret=demo-"
                          "secret%00x",
                          NULL),
                     401);
    /* bad escape, repeated parameter, both kinds of credentials */
    assert_int_equal(post("grant_type=client_credentials&client_id=demo%zz&client_secret=x", NULL),
                     400);
    check_error(400, "invalid_request");
    assert_int_equal(post("grant_type=client_credentials&client_id=a&client_id=demo-client&"
                          "client_secret=demo-secret",
                          NULL),
                     400);
    check_error(400, "invalid_request");
    assert_int_equal(post("grant_type=client_credentials&client_id=demo-client&client_secret=demo-"
                          "secret",
                          "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="),
                     400);
    check_error(400, "invalid_request");
}

static void test_grant(void **state)
{
    (void)state;
    assert_int_equal(
        post("grant_type=password&client_id=demo-client&client_secret=demo-secret", NULL), 400);
    check_error(400, "unsupported_grant_type");
    assert_int_equal(
        post("grant_type=client_credentialsXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", NULL), 400);
    check_error(400, "unsupported_grant_type");
    assert_int_equal(post("client_id=demo-client&client_secret=demo-secret", NULL), 400);
    check_error(400, "invalid_request");
    assert_int_equal(post("{\"grant_type\": \"client_credentials\"}", NULL), 400);
    check_error(400, "invalid_request");
    assert_int_equal(post(NULL, NULL), 400);
    check_error(400, "invalid_request");
    emu_t_req(&t, "GET", "/oauth/token", NULL, NULL, 1, WALL);
    assert_int_equal(emu_t_run(&t, &emu_oauth_kind, st), 405);
    assert_non_null(strstr(headers(), "Allow: POST\r\n"));
}

static void test_init_errors(void **state)
{
    handler_env env = {0};
    config_doc doc;
    char err[CONFIG_ERRLEN];
    void *s = NULL;

    (void)state;
    assert_int_equal(config_load_string(&doc, "p.yaml", "options: {x: 1}\n", 16, err, sizeof(err)),
                     0);
    env.tokens = tk;
    assert_int_equal(emu_oauth_kind.init(&s, &doc,
                                         config_map_get(&doc, config_root(&doc), "options"), &env,
                                         err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "p.yaml:1:11: unknown key 'x'"));
    env.tokens = NULL;
    assert_int_equal(emu_oauth_kind.init(&s, &doc, NULL, &env, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "needs OAuth clients"));
    config_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_grant),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
