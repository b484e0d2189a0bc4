#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/tmpl.h"

struct vars {
    const char *names[4];
    const char *values[4];
    int lookups;
};

static int vars_lookup(void *ctx, const char *name, size_t len, const char **value,
                       size_t *value_len)
{
    struct vars *v = ctx;

    v->lookups++;
    for (int i = 0; i < 4 && v->names[i] != NULL; i++) {
        if (strlen(v->names[i]) == len && memcmp(v->names[i], name, len) == 0) {
            *value = v->values[i];
            *value_len = strlen(v->values[i]);
            return 0;
        }
    }
    return -ENOENT;
}

static void compile_ok(tmpl *t, const char *src)
{
    char err[256] = "";

    if (tmpl_compile(t, src, strlen(src), err, sizeof(err)) != 0)
        fail_msg("%s: %s", src, err);
}

/* Renders into a fresh buffer and returns a NUL-terminated copy (freed by the caller). */
static char *render(const tmpl *t, const tmpl_ctx *ctx)
{
    buf b;
    char err[256] = "", *s;

    buf_init(&b, 0);
    if (tmpl_render(t, ctx, &b, err, sizeof(err)) != 0)
        fail_msg("render: %s", err);
    s = b.len > 0 ? strndup(buf_ptr(&b), b.len) : strdup("");
    buf_free(&b);
    return s;
}

static void expect_compile_error(const char *src, const char *msg)
{
    tmpl t;
    char err[256] = "";

    assert_int_equal(tmpl_compile(&t, src, strlen(src), err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_null(t.src);
}

static void test_variables(void **state)
{
    struct vars v = {{"id", "version"}, {"abc-123", "7"}, 0};
    tmpl_ctx ctx = {.lookup = vars_lookup, .lookup_ctx = &v, .step = "update"};
    tmpl t;
    size_t len;
    const char *name;
    char *s;

    (void)state;
    compile_ok(&t, "/api/v2/flows/{{id}}/versions/{{ version }}");
    assert_int_equal(t.nparts, 4);
    assert_false(tmpl_is_static(&t));
    assert_int_equal(tmpl_var_count(&t), 2);
    name = tmpl_var(&t, 1, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(name, "version", 7);
    assert_null(tmpl_var(&t, 2, &len));
    s = render(&t, &ctx);
    assert_string_equal(s, "/api/v2/flows/abc-123/versions/7");
    free(s);
    tmpl_free(&t);
    tmpl_free(&t); /* twice is harmless */

    compile_ok(&t, "{{id}}{{id}}");
    assert_int_equal(t.nparts, 2);
    s = render(&t, &ctx);
    assert_string_equal(s, "abc-123abc-123");
    free(s);
    tmpl_free(&t);
}

static void test_static(void **state)
{
    tmpl t;
    tmpl_ctx ctx = {0};
    char *s;

    (void)state;
    compile_ok(&t, "GET /health {not a placeholder} }} {");
    assert_true(tmpl_is_static(&t));
    s = render(&t, &ctx);
    assert_string_equal(s, "GET /health {not a placeholder} }} {");
    free(s);
    tmpl_free(&t);
    compile_ok(&t, "");
    assert_true(tmpl_is_static(&t));
    s = render(&t, &ctx);
    assert_string_equal(s, "");
    free(s);
    tmpl_free(&t);
}

static void test_builtins(void **state)
{
    struct vars v = {{"vu"}, {"shadowed"}, 0};
    tmpl_ctx ctx = {.iteration = 41,
                    .vu = 3,
                    .now_ms = 1700000000123ULL,
                    .lookup = vars_lookup,
                    .lookup_ctx = &v};
    tmpl t;
    char *s;

    (void)state;
    compile_ok(&t, "{\"vu\": {{vu}}, \"it\": {{iteration}}, \"at\": {{ now_ms }}}");
    s = render(&t, &ctx);
    assert_string_equal(s, "{\"vu\": 3, \"it\": 41, \"at\": 1700000000123}");
    assert_int_equal(v.lookups, 0); /* built-ins win and never ask */
    free(s);
    tmpl_free(&t);
}

static void test_uuid_v4(void **state)
{
    rng r, again;
    tmpl t;
    tmpl_ctx ctx = {.rng = &r};
    int variants[4] = {0};
    char *s, u[37];

    (void)state;
    rng_seed(&r, 5);
    rng_seed(&again, 5);
    compile_ok(&t, "id={{uuid}}");
    for (int i = 0; i < 4000; i++) {
        s = render(&t, &ctx);
        tmpl_uuid(&again, u);
        assert_int_equal(strlen(s), 3 + 36);
        assert_string_equal(s + 3, u); /* same seed, same uuids */
        for (int k = 0; k < 36; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23)
                assert_int_equal(u[k], '-');
            else
                assert_non_null(strchr("0123456789abcdef", u[k]));
        }
        assert_int_equal(u[14], '4');
        assert_non_null(strchr("89ab", u[19]));
        variants[strchr("89ab", u[19]) - "89ab"]++;
        free(s);
    }
    /* The variant's two free bits are random: each of 8, 9, a, b ~1000 times. */
    for (int k = 0; k < 4; k++)
        assert_true(variants[k] > 850 && variants[k] < 1150);
    tmpl_free(&t);
}

static void test_random_int(void **state)
{
    rng r;
    tmpl t;
    tmpl_ctx ctx = {.rng = &r};
    int seen[11] = {0};
    char *s;

    (void)state;
    rng_seed(&r, 1);
    compile_ok(&t, "{{random_int( -5 , 5 )}}");
    for (int i = 0; i < 2000; i++) {
        char *end;
        long v;

        s = render(&t, &ctx);
        v = strtol(s, &end, 10);
        assert_int_equal(*end, '\0');
        assert_true(v >= -5 && v <= 5);
        seen[v + 5]++;
        free(s);
    }
    for (int k = 0; k < 11; k++)
        assert_true(seen[k] > 100);
    tmpl_free(&t);
    compile_ok(&t, "{{random_int(7,7)}}");
    s = render(&t, &ctx);
    assert_string_equal(s, "7");
    free(s);
    tmpl_free(&t);
    compile_ok(&t, "{{random_int(-9223372036854775808,-9223372036854775808)}}");
    s = render(&t, &ctx);
    assert_string_equal(s, "-9223372036854775808");
    free(s);
    tmpl_free(&t);
}

static void test_compile_errors(void **state)
{
    (void)state;
    expect_compile_error("{{random_float(1,2)}}",
                         "column 1: unknown function 'random_float', expected random_int(a,b)");
    expect_compile_error("/a/{{uuid()}}",
                         "column 4: unknown function 'uuid', expected random_int(a,b)");
    expect_compile_error("ab{{x", "column 3: unterminated '{{'");
    expect_compile_error("{\n  \"name\": \"{{ vu }}\",\n  \"n\": {{random_int(1)}}\n}",
                         "line 3, column 8: random_int takes two integers, e.g. random_int(1,100)");
    expect_compile_error("{{random_int(5,1)}}",
                         "column 1: random_int(5,1): the first bound is above the second");
    expect_compile_error("{{random_int(1,9223372036854775808)}}",
                         "column 1: random_int takes two integers, e.g. random_int(1,100)");
    expect_compile_error("{{random_int(1,2) x}}",
                         "column 1: random_int takes two integers, e.g. random_int(1,100)");
    expect_compile_error("x{{ }}", "column 2: expected a name inside '{{ }}'");
    expect_compile_error("{{9lives}}", "column 1: '9lives' must start with a letter or '_'");
    expect_compile_error("{{a b}}", "column 1: unexpected 'b' after 'a'");
    expect_compile_error("{{a {{b}}", "column 1: unexpected '{' after 'a'");
}

static void test_missing_variable(void **state)
{
    struct vars v = {{"id"}, {"1"}, 0};
    tmpl_ctx ctx = {.lookup = vars_lookup, .lookup_ctx = &v, .step = "update"};
    tmpl t;
    buf b;
    char err[128] = "";

    (void)state;
    compile_ok(&t, "/scripts/{{id}}?v={{version}}");
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "keep"), 0);
    assert_int_equal(tmpl_render(&t, &ctx, &b, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "step 'update' needs 'version', which was not captured");
    assert_int_equal(b.len, 4); /* unchanged */
    assert_memory_equal(buf_ptr(&b), "keep", 4);
    ctx.step = NULL;
    ctx.lookup = NULL;
    assert_int_equal(tmpl_render(&t, &ctx, &b, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "'id' is needed but was not captured");
    buf_free(&b);
    tmpl_free(&t);
}

static void test_buffer_bound(void **state)
{
    tmpl t;
    tmpl_ctx ctx = {.iteration = 123456789};
    buf b;
    char err[128];

    (void)state;
    compile_ok(&t, "0123456789-{{iteration}}");
    buf_init(&b, 16);
    assert_int_equal(tmpl_render(&t, &ctx, &b, err, sizeof(err)), -ENOBUFS);
    assert_int_equal(b.len, 0);
    b.max = 20;
    assert_int_equal(tmpl_render(&t, &ctx, &b, err, sizeof(err)), 0);
    assert_int_equal(b.len, 20);
    assert_memory_equal(buf_ptr(&b), "0123456789-123456789", 20);
    buf_free(&b);
    tmpl_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables),        cmocka_unit_test(test_static),
        cmocka_unit_test(test_builtins),         cmocka_unit_test(test_uuid_v4),
        cmocka_unit_test(test_random_int),       cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_missing_variable), cmocka_unit_test(test_buffer_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
