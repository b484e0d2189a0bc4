#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "run/sfv.h"

/* Copies of what the callback saw, since items only live during the call. */
typedef struct seen {
    int n;
    sfv_item items[12];
} seen;

static void collect(const sfv_item *item, void *ctx)
{
    seen *s = ctx;

    if (s->n < 12)
        s->items[s->n] = *item;
    s->n++;
}

static seen parse_ok(const char *v)
{
    seen s = {0};

    assert_int_equal(sfv_parse_list(v, strlen(v), collect, &s), 0);
    return s;
}

static void parse_bad(const char *v)
{
    seen s = {0};

    assert_int_equal(sfv_parse_list(v, strlen(v), collect, &s), -EINVAL);
    assert_int_equal(s.n, 0);
}

static void assert_text(const sfv_bare *b, sfv_type type, const char *text)
{
    assert_int_equal(b->type, type);
    assert_int_equal(b->text_len, strlen(text));
    assert_memory_equal(b->text, text, b->text_len);
}

static int64_t int_param(const sfv_item *item, const char *key)
{
    const sfv_param *p = sfv_item_param(item, key);

    assert_non_null(p);
    assert_int_equal(p->value.type, SFV_INTEGER);
    return p->value.integer;
}

static void test_ratelimit_list(void **state)
{
    seen s = parse_ok("\"default\";r=50;t=30, \"burst\";r=3;t=1");

    (void)state;
    assert_int_equal(s.n, 2);
    assert_text(&s.items[0].value, SFV_STRING, "default");
    assert_int_equal(s.items[0].nparams, 2);
    assert_int_equal(int_param(&s.items[0], "r"), 50);
    assert_int_equal(int_param(&s.items[0], "t"), 30);
    assert_text(&s.items[1].value, SFV_STRING, "burst");
    assert_int_equal(int_param(&s.items[1], "r"), 3);
    assert_null(sfv_item_param(&s.items[1], "q"));
    assert_null(sfv_item_param(&s.items[1], "rr"));
}

static void test_bare_item_types(void **state)
{
    seen s = parse_ok("-12, 1.5, -0.25, abc/def:x*, :aGk=:, ?0, ?1, @1700000000, "
                      "\"a\\\"b\\\\c\", *tok");

    (void)state;
    assert_int_equal(s.n, 10);
    assert_int_equal(s.items[0].value.type, SFV_INTEGER);
    assert_int_equal(s.items[0].value.integer, -12);
    assert_int_equal(s.items[1].value.type, SFV_DECIMAL);
    assert_int_equal(s.items[1].value.integer, 1500);
    assert_int_equal(s.items[2].value.integer, -250);
    assert_text(&s.items[3].value, SFV_TOKEN, "abc/def:x*");
    assert_text(&s.items[4].value, SFV_BYTES, "aGk=");
    assert_int_equal(s.items[5].value.type, SFV_BOOLEAN);
    assert_int_equal(s.items[5].value.integer, 0);
    assert_int_equal(s.items[6].value.integer, 1);
    assert_int_equal(s.items[7].value.type, SFV_DATE);
    assert_int_equal(s.items[7].value.integer, 1700000000);
    assert_text(&s.items[8].value, SFV_STRING, "a\\\"b\\\\c");
    assert_text(&s.items[9].value, SFV_TOKEN, "*tok");
}

static void test_parameters(void **state)
{
    seen s = parse_ok("x;a;b=?0;c=2;c=3; d=\"v\";pk=:cGs=:;e.f-g_h*=1");
    const sfv_param *p;

    (void)state;
    assert_int_equal(s.n, 1);
    p = sfv_item_param(&s.items[0], "a");
    assert_int_equal(p->value.type, SFV_BOOLEAN);
    assert_int_equal(p->value.integer, 1);
    assert_int_equal(sfv_item_param(&s.items[0], "b")->value.integer, 0);
    /* A repeated key: the last value counts. */
    assert_int_equal(int_param(&s.items[0], "c"), 3);
    assert_text(&sfv_item_param(&s.items[0], "d")->value, SFV_STRING, "v");
    assert_text(&sfv_item_param(&s.items[0], "pk")->value, SFV_BYTES, "cGs=");
    assert_int_equal(int_param(&s.items[0], "e.f-g_h*"), 1);
}

static void test_whitespace_and_empty(void **state)
{
    seen s;

    (void)state;
    s = parse_ok("");
    assert_int_equal(s.n, 0);
    s = parse_ok("   ");
    assert_int_equal(s.n, 0);
    s = parse_ok("  1 ,\t2,3  ");
    assert_int_equal(s.n, 3);
    assert_int_equal(s.items[2].value.integer, 3);
}

static void test_limits(void **state)
{
    char many[512];
    int len = 0;

    (void)state;
    parse_ok("999999999999999");
    parse_bad("9999999999999999");
    parse_ok("999999999999.999");
    parse_bad("9999999999999.9");
    parse_bad("1.1234");
    len += snprintf(many, sizeof(many), "x");
    for (int i = 0; i < SFV_MAX_PARAMS; i++)
        len += snprintf(many + len, sizeof(many) - (size_t)len, ";k%d=%d", i, i);
    parse_ok(many);
    snprintf(many + len, sizeof(many) - (size_t)len, ";one=1");
    parse_bad(many);
}

static void test_invalid_fields_yield_nothing(void **state)
{
    (void)state;
    parse_bad("1,");
    parse_bad("1,,2");
    parse_bad(",1");
    parse_bad("\"ok\";r=1, (a b)");
    parse_bad("\"unterminated");
    parse_bad("\"bad \\x escape\"");
    parse_bad("\"tab\tinside\"");
    parse_bad("1.");
    parse_bad("-");
    parse_bad("-a");
    parse_bad("x;R=1");
    parse_bad("x;=1");
    parse_bad("x;r=");
    parse_bad("?2");
    parse_bad("@1.5");
    parse_bad(":not base64!:");
    parse_bad("%\"display\"");
    parse_bad("12abc");
    parse_bad("a b");
    parse_bad("\t1");
    parse_bad("limit=100, remaining=50");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_list), cmocka_unit_test(test_bare_item_types),
        cmocka_unit_test(test_parameters),     cmocka_unit_test(test_whitespace_and_empty),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_invalid_fields_yield_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
