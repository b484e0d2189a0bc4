#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yamlscan.h"

static int scan(const char *text, char *err, size_t errlen)
{
    err[0] = '\0';
    return yamlscan_check("t.yaml", text, strlen(text), err, errlen);
}

static void expect_ok(const char *text)
{
    char err[512];

    assert_int_equal(scan(text, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void expect_error(const char *text, const char *msg)
{
    char err[512];

    assert_int_equal(scan(text, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_ok("");
    expect_ok("a: 1\nb: [1, 2]\n");
    expect_error("a: 1\nb\n",
                 "t.yaml:3:1: could not find expected ':' (while scanning a simple key at 2:1)");
    expect_error("a: [1, 2\nb: 3\n", "t.yaml:2:2: did not find expected ',' or ']' (while parsing "
                                     "a flow sequence at 1:4)");
    expect_error("a:\n  b: 1\n c: 2\n",
                 "t.yaml:3:2: did not find expected key (while parsing a block mapping at 1:1)");
    expect_error("key: \"unterminated\n", "t.yaml:2:1: found unexpected end of stream (while "
                                          "scanning a quoted scalar at 1:6)");
    expect_error("a: 1\n  b: 2\n", "t.yaml:2:4: mapping values are not allowed in this context");
    /* Columns count characters, not bytes. */
    expect_error("\xc3\xa9: 1\n  b: 2\n",
                 "t.yaml:2:4: mapping values are not allowed in this context");
}

static void test_tab_hint(void **state)
{
    (void)state;
    expect_error("a:\n\t- 1\n", "t.yaml:2:1: found character that cannot start any token (while "
                                "scanning for the next token at 2:1); YAML indents with spaces, "
                                "not tabs");
    /* A non-tab at the same kind of error gets no hint. */
    expect_error("b: \t@\n", "t.yaml:1:5: found character that cannot start any token (while "
                             "scanning for the next token at 1:5)");
}

static void test_reader_errors(void **state)
{
    (void)state;
    expect_error("a: 1\nb: \x01\n", "t.yaml:2:4: control characters are not allowed (0x01)");
    expect_error("a: \xff\n", "t.yaml:1:4: invalid leading UTF-8 octet (0xff)");
}

static void test_one_document(void **state)
{
    (void)state;
    expect_ok("---\na: 1\n...\n");
    expect_error("a: 1\n---\nb: 2\n",
                 "t.yaml:2:1: a second YAML document; expected one document per file");
    expect_error("--- 1\n--- 2\n",
                 "t.yaml:2:1: a second YAML document; expected one document per file");
}

/* n nested flow sequences, "[[[...]]]". */
static char *nested(int n)
{
    char *s = malloc((size_t)n * 2 + 1);

    assert_non_null(s);
    memset(s, '[', (size_t)n);
    memset(s + n, ']', (size_t)n);
    s[2 * n] = '\0';
    return s;
}

static void test_depth(void **state)
{
    char err[512];
    char *s;

    (void)state;
    s = nested(YAMLSCAN_MAX_DEPTH);
    expect_ok(s);
    free(s);
    s = nested(YAMLSCAN_MAX_DEPTH + 1);
    assert_int_equal(scan(s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.yaml:1:65: nested deeper than 64 levels");
    free(s);
    /* Far deeper input stops at the limit, without building anything. */
    s = nested(1000000);
    assert_int_equal(scan(s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.yaml:1:65: nested deeper than 64 levels");
    free(s);
}

static void test_aliases_allowed(void **state)
{
    (void)state;
    expect_ok("defaults: &d {timeout: 5s, retries: 3}\n"
              "a: *d\n"
              "b: *d\n"
              "token: &t abc\n"
              "c: [*t, *t]\n");
}

static void test_alias_errors(void **state)
{
    (void)state;
    expect_error("a: &x 1\nb: *y\n", "t.yaml:2:4: undefined alias '*y'");
    expect_error("a: &x [1, *x]\n", "t.yaml:1:11: alias '*x' refers to a node that contains it");
    expect_error("a: &x {k: *x}\n", "t.yaml:1:11: alias '*x' refers to a node that contains it");
    expect_error("a: &x 1\nb: &x 2\n", "t.yaml:2:4: duplicate anchor '&x' (first at 1:4)");
    /* An alias used before its anchor is undefined. */
    expect_error("a: *x\nb: &x 1\n", "t.yaml:1:4: undefined alias '*x'");
}

static void test_keys(void **state)
{
    (void)state;
    expect_ok("k: &k key\nm: {x: *k, y: [*k]}\n&a key2: 1\n");
    expect_error("k: &k key\n*k : 1\n", "t.yaml:2:1: an alias cannot be a mapping key");
    expect_error("a: &k x\nb: {*k : 1}\n", "t.yaml:2:5: an alias cannot be a mapping key");
    expect_error("? [a, b]\n: 1\n", "t.yaml:1:3: mapping keys must be scalars, found a sequence");
    expect_error("{[a]: 1}\n", "t.yaml:1:2: mapping keys must be scalars, found a sequence");
    expect_error("- a\n- {x: 1, ? {a: 1} : 2}\n",
                 "t.yaml:2:12: mapping keys must be scalars, found a mapping");
}

static void test_billion_laughs(void **state)
{
    const char *laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";

    (void)state;
    /* a = 10 nodes, b = 1 + 9 * 10 = 91, c = 820, d = 7381: the aliases in b,
     * c and d stand for 90 + 819 + 7380 = 8289 nodes, and the first *d in e
     * takes the total past 10000. */
    expect_error(laughs, "t.yaml:5:8: aliases expand to more than 10000 nodes");
}

static void test_alias_depth(void **state)
{
    char err[512];
    char text[512];
    char *deep = nested(40);
    char open[30], close[30];

    (void)state;
    /* A 40-deep anchored node used 30 levels down (the mapping and 29
     * sequences) is 70 levels deep once expanded. */
    memset(open, '[', 29);
    open[29] = '\0';
    memset(close, ']', 29);
    close[29] = '\0';
    snprintf(text, sizeof(text), "a: &x %s\nb: %s*x%s\n", deep, open, close);
    free(deep);
    assert_int_equal(scan(text, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.yaml:2:33: alias '*x' nests deeper than 64 levels");
    /* 24 sequences down (25 levels) it is 65 deep: refused; 23 down, 64: fine. */
    memset(close, ']', 24);
    close[24] = '\0';
    deep = nested(40);
    snprintf(text, sizeof(text), "a: &x %s\nb: %s*x%s\n", deep, open + 5, close);
    assert_int_equal(scan(text, err, sizeof(err)), -EINVAL);
    close[23] = '\0';
    snprintf(text, sizeof(text), "a: &x %s\nb: %s*x%s\n", deep, open + 6, close);
    free(deep);
    expect_ok(text);
}

static void test_anchor_count(void **state)
{
    char text[4096];
    char err[512];
    size_t o = 0;

    (void)state;
    for (int i = 0; i < YAMLSCAN_MAX_ANCHORS; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "k%d: &a%d v\n", i, i);
    expect_ok(text);
    snprintf(text + o, sizeof(text) - o, "last: &z v\n");
    assert_int_equal(scan(text, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.yaml:65:7: more than 64 anchors (&name)");
}

static void test_message_buffer(void **state)
{
    char err[10];

    (void)state;
    assert_int_equal(yamlscan_check("t.yaml", "a: *x", 5, NULL, 0), -EINVAL);
    assert_int_equal(yamlscan_check("t.yaml", "a: *x", 5, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.yaml:1:");
    /* Not NUL-terminated input: only len bytes are read. */
    assert_int_equal(yamlscan_check("t.yaml", "a: 1\n---\n", 5, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_errors),  cmocka_unit_test(test_tab_hint),
        cmocka_unit_test(test_reader_errors),  cmocka_unit_test(test_one_document),
        cmocka_unit_test(test_depth),          cmocka_unit_test(test_aliases_allowed),
        cmocka_unit_test(test_alias_errors),   cmocka_unit_test(test_keys),
        cmocka_unit_test(test_billion_laughs), cmocka_unit_test(test_alias_depth),
        cmocka_unit_test(test_anchor_count),   cmocka_unit_test(test_message_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
