#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "run/plan.h"
#include "run/reqbuild.h"

static const char plan_text[] =
    "target: http://127.0.0.1:8080/api\n"
    "headers: {User-Agent: tg}\n"
    "scenarios:\n"
    "  s:\n"
    "    executor: constant-vus\n"
    "    vus: 1\n"
    "    duration: 1s\n"
    "    setup:\n"
    "      - {name: mk, method: POST, path: /items, json: {n: 1}, capture: {id: $.id, v: $.v}}\n"
    "    steps:\n"
    "      - {name: plain, path: /ping}\n"
    "      - name: put\n"
    "        method: PUT\n"
    "        path: /items/{{id}}?i={{iteration}}\n"
    "        headers: {If-Match: \"{{v}}\"}\n"
    "        json: {version: \"{{v}}\", who: \"vu-{{vu}}\"}\n"
    "      - {name: auth, path: /x, headers: {Authorization: \"Basic abc\"}}\n"
    "      - {name: raw, method: POST, path: /r, body: \"a={{vu}}\"}\n";

struct vars {
    const char *id, *v;
};

static int lookup(void *ctx, const char *name, size_t len, const char **value, size_t *value_len)
{
    struct vars *vs = ctx;
    const char *val = NULL;

    if (len == 2 && memcmp(name, "id", 2) == 0)
        val = vs->id;
    else if (len == 1 && name[0] == 'v')
        val = vs->v;
    if (val == NULL)
        return -ENOENT;
    *value = val;
    *value_len = strlen(val);
    return 0;
}

struct fixture {
    plan p;
    buf out, scratch;
    struct vars vars;
    tmpl_ctx ctx;
    char err[256];
};

static int setup(void **state)
{
    static struct fixture f;
    char err[256] = "";

    memset(&f, 0, sizeof(f));
    if (plan_load_string(&f.p, "t.yaml", NULL, plan_text, strlen(plan_text), err, sizeof(err)) !=
        0) {
        print_error("%s\n", err);
        return -1;
    }
    buf_init(&f.out, 0);
    buf_init(&f.scratch, 0);
    f.vars.id = "7";
    f.vars.v = "3";
    f.ctx.iteration = 4;
    f.ctx.vu = 2;
    f.ctx.lookup = lookup;
    f.ctx.lookup_ctx = &f.vars;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    buf_free(&f->out);
    buf_free(&f->scratch);
    plan_free(&f->p);
    return 0;
}

static const plan_step *step(struct fixture *f, size_t i)
{
    return &f->p.scenarios[0].steps[i];
}

static void assert_bytes(const buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(buf_ptr(b), want, b->len) != 0)
        fail_msg("got:\n%.*s\nwant:\n%s", (int)b->len, buf_ptr(b), want);
}

static int render(struct fixture *f, size_t i, const char *bearer)
{
    f->err[0] = '\0';
    f->ctx.step = step(f, i)->name;
    return reqbuild_render(&f->out, &f->scratch, step(f, i), "127.0.0.1:8080", &f->ctx, bearer,
                           bearer ? strlen(bearer) : 0, f->err, sizeof(f->err));
}

static void test_static_detection(void **state)
{
    struct fixture *f = *state;

    assert_true(reqbuild_is_static(step(f, 0)));
    assert_false(reqbuild_is_static(step(f, 1)));
    assert_true(reqbuild_is_static(step(f, 2)));
    assert_false(reqbuild_is_static(step(f, 3)));
    assert_true(reqbuild_is_static(&f->p.scenarios[0].setup[0]));
}

static void test_get_with_default_headers(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(render(f, 0, NULL), 0);
    assert_bytes(&f->out, "GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                          "User-Agent: tg\r\n\r\n");
}

static void test_templates_json_and_bearer(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"version\":3,\"who\":\"vu-2\"}";
    char want[512];

    assert_int_equal(render(f, 1, "tok.en"), 0);
    snprintf(want, sizeof(want),
             "PUT /api/items/7?i=4 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: tg\r\n"
             "If-Match: 3\r\nContent-Type: application/json\r\nAuthorization: Bearer tok.en\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    assert_bytes(&f->out, want);
}

static void test_step_authorization_wins(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(render(f, 2, "tok"), 0);
    assert_bytes(&f->out, "GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: tg\r\n"
                          "Authorization: Basic abc\r\n\r\n");
}

static void test_raw_body(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(render(f, 3, NULL), 0);
    assert_bytes(&f->out, "POST /api/r HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: tg\r\n"
                          "Content-Length: 3\r\n\r\na=2");
}

static void test_missing_variable(void **state)
{
    struct fixture *f = *state;

    f->vars.v = NULL;
    assert_int_equal(render(f, 1, NULL), -ENOENT);
    assert_string_equal(f->err, "step 'put' needs 'v', which was not captured");
    f->vars.v = "3";
}

static void test_control_character_refused(void **state)
{
    struct fixture *f = *state;

    f->vars.v = "a\r\nX-Evil: 1";
    assert_int_equal(render(f, 1, NULL), -EINVAL);
    assert_string_equal(f->err,
                        "step 'put': the value of header 'If-Match' has a control character");
    f->vars.v = "3";
    f->vars.id = "a b";
    assert_int_equal(render(f, 1, NULL), -EINVAL);
    assert_non_null(strstr(f->err, "the path '/api/items/a b?i=4' cannot be sent"));
    f->vars.id = "7";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_detection),
        cmocka_unit_test(test_get_with_default_headers),
        cmocka_unit_test(test_templates_json_and_bearer),
        cmocka_unit_test(test_step_authorization_wins),
        cmocka_unit_test(test_raw_body),
        cmocka_unit_test(test_missing_variable),
        cmocka_unit_test(test_control_character_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
