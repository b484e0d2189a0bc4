#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "emu_req.h"
#include "core/config.h"
#include "serve/emulate.h"

static config_doc doc;
static char err[CONFIG_ERRLEN];

static int init(void **st, const char *yaml)
{
    config_free(&doc);
    assert_int_equal(config_load_string(&doc, "p.yaml", yaml, strlen(yaml), err, sizeof(err)), 0);
    return emu_static_kind.init(st, &doc, config_map_get(&doc, config_root(&doc), "options"), NULL,
                                err, sizeof(err));
}

static void test_defaults(void **state)
{
    void *st = NULL;
    emu_t t;

    (void)state;
    emu_t_init(&t, 1);
    assert_int_equal(init(&st, "x: 1\n"), 0);
    emu_t_req(&t, "GET", "/ping", NULL, NULL, 1, 1);
    assert_int_equal(emu_t_run(&t, &emu_static_kind, st), 200);
    assert_string_equal(t.resp.content_type, "text/plain");
    assert_string_equal(emu_t_text(&t), "ok");
    /* every method, every time, the same bytes */
    emu_t_req(&t, "DELETE", "/other", "body", "org", 2, 2);
    assert_int_equal(emu_t_run(&t, &emu_static_kind, st), 200);
    assert_string_equal(emu_t_text(&t), "ok");
    assert_int_equal(t.headers.len, 0);
    emu_static_kind.free(st);
    emu_static_kind.free(NULL);
    emu_t_free(&t);
}

static void test_options(void **state)
{
    void *st = NULL;
    emu_t t;

    (void)state;
    emu_t_init(&t, 1);
    assert_int_equal(init(&st, "options: {status: 503, body: '{\"busy\": true}', content_type: "
                               "application/json}\n"),
                     0);
    emu_t_req(&t, "POST", "/x", NULL, NULL, 1, 1);
    assert_int_equal(emu_t_run(&t, &emu_static_kind, st), 503);
    assert_string_equal(t.resp.content_type, "application/json");
    assert_string_equal(emu_t_text(&t), "{\"busy\": true}");
    emu_static_kind.free(st);
    assert_int_equal(init(&st, "options: {status: 204}\n"), 0);
    assert_int_equal(emu_t_run(&t, &emu_static_kind, st), 204);
    assert_int_equal(t.body.len, 0);
    emu_static_kind.free(st);
    assert_int_equal(init(&st, "options: {body: ''}\n"), 0);
    assert_int_equal(emu_t_run(&t, &emu_static_kind, st), 200);
    assert_int_equal(t.body.len, 0);
    emu_static_kind.free(st);
    /* a body bound smaller than the body: 500 */
    assert_int_equal(init(&st, "options: {body: '0123456789'}\n"), 0);
    t.body.max = 4;
    emu_t_run(&t, &emu_static_kind, st);
    assert_int_equal(t.resp.status, 500);
    t.body.max = 0;
    emu_static_kind.free(st);

    assert_int_equal(init(&st, "options: {status: 99}\n"), -ERANGE);
    assert_non_null(strstr(err, "p.yaml:1:19: status:"));
    assert_int_equal(init(&st, "options: {status: 600}\n"), -ERANGE);
    assert_int_equal(init(&st, "options: {status: ok}\n"), -EINVAL);
    assert_int_equal(init(&st, "options: {statuss: 200}\n"), -EINVAL);
    assert_non_null(strstr(err, "did you mean 'status'"));
    assert_int_equal(init(&st, "options: {status: 204, body: x}\n"), -EINVAL);
    assert_non_null(strstr(err, "body: a 204 response has no body"));
    assert_int_equal(init(&st, "options: {content_type: ''}\n"), -EINVAL);
    assert_int_equal(init(&st, "options: {content_type: \"text/plain\\r\\nX: y\"}\n"), -EINVAL);
    emu_t_free(&t);
}

static int teardown(void **state)
{
    (void)state;
    config_free(&doc);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
