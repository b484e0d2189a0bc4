#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config_get.h"

/* Each test loads its YAML into `doc`; `root` is its top mapping. */
static config_doc doc;
static const config_node *root;
static char err[CONFIG_ERRLEN];

static void load(const char *text)
{
    err[0] = '\0';
    assert_int_equal(config_load_string(&doc, "plan.yaml", text, strlen(text), err, sizeof(err)),
                     0);
    root = config_root(&doc);
}

static int teardown(void **state)
{
    (void)state;
    config_free(&doc);
    return 0;
}

static void test_str(void **state)
{
    const char *s = "default";

    (void)state;
    load("name: tollgate\nnum: 42\nquoted: \"a: b\"\nempty: ''\nblock: |\n  line1\n  line2\n"
         "nul: \"a\\0b\"\nnothing:\nlist: [a]\n");
    assert_int_equal(config_get_str(&doc, root, "missing", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "default");
    assert_int_equal(config_get_str(&doc, NULL, "name", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "default");
    assert_int_equal(config_get_str(&doc, root, "name", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "tollgate");
    assert_int_equal(config_get_str(&doc, root, "num", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "42");
    assert_int_equal(config_get_str(&doc, root, "quoted", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "a: b");
    assert_int_equal(config_get_str(&doc, root, "empty", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "");
    assert_int_equal(config_get_str(&doc, root, "block", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "line1\nline2\n");

    s = "kept";
    assert_int_equal(config_get_str(&doc, root, "nul", &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:8:6: nul: contains a NUL character, expected a string");
    assert_int_equal(config_get_str(&doc, root, "nothing", &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:9:9: nothing: no value, expected a string");
    assert_int_equal(config_get_str(&doc, root, "list", &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:10:7: list: expected a string, found a sequence");
    assert_int_equal(
        config_get_str(&doc, config_map_get(&doc, root, "list"), "x", &s, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "plan.yaml:10:7: expected a mapping with 'x', found a sequence");
    assert_string_equal(s, "kept");
}

static void test_int(void **state)
{
    int64_t v = -7;

    (void)state;
    load("port: 8080\nneg: -5\nplus: +3\nzero: 0\nbig: 70000\nword: eighty\nfloat: 1.5\n"
         "hex: 0x10\nspace: ' 5'\nhuge: 99999999999999999999\nmin: -9223372036854775808\n"
         "quoted: \"443\"\nempty: ''\n");
    assert_int_equal(config_get_int(&doc, root, "missing", 1, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -7);
    assert_int_equal(config_get_int(&doc, root, "port", 1, 65535, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 8080);
    assert_int_equal(config_get_int(&doc, root, "neg", -10, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -5);
    assert_int_equal(config_get_int(&doc, root, "plus", 0, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 3);
    assert_int_equal(config_get_int(&doc, root, "quoted", 1, 65535, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 443);
    assert_int_equal(config_get_int(&doc, root, "min", INT64_MIN, 0, &v, err, sizeof(err)), 0);
    assert_true(v == INT64_MIN);
    /* Bounds are inclusive. */
    assert_int_equal(config_get_int(&doc, root, "port", 8080, 8080, &v, err, sizeof(err)), 0);

    v = 1;
    assert_int_equal(config_get_int(&doc, root, "zero", 1, 65535, &v, err, sizeof(err)), -ERANGE);
    assert_string_equal(err,
                        "plan.yaml:4:7: zero: \"0\": out of range, expected an integer from 1 to "
                        "65535");
    assert_int_equal(config_get_int(&doc, root, "big", 1, 65535, &v, err, sizeof(err)), -ERANGE);
    assert_string_equal(
        err, "plan.yaml:5:6: big: \"70000\": out of range, expected an integer from 1 to "
             "65535");
    assert_int_equal(config_get_int(&doc, root, "neg", 0, INT64_MAX, &v, err, sizeof(err)),
                     -ERANGE);
    assert_string_equal(err,
                        "plan.yaml:2:6: neg: \"-5\": out of range, expected an integer of at least "
                        "0");
    assert_int_equal(config_get_int(&doc, root, "port", INT64_MIN, 100, &v, err, sizeof(err)),
                     -ERANGE);
    assert_string_equal(err, "plan.yaml:1:7: port: \"8080\": out of range, expected an integer of "
                             "at most 100");
    assert_int_equal(config_get_int(&doc, root, "huge", INT64_MIN, INT64_MAX, &v, err, sizeof(err)),
                     -ERANGE);
    assert_string_equal(err, "plan.yaml:10:7: huge: \"99999999999999999999\": out of range, "
                             "expected an integer");
    assert_int_equal(config_get_int(&doc, root, "word", 1, 65535, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err,
                        "plan.yaml:6:7: word: \"eighty\": expected an integer from 1 to 65535");
    assert_int_equal(config_get_int(&doc, root, "float", 1, 65535, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:7:8: float: \"1.5\": expected an integer from 1 to 65535");
    assert_int_equal(config_get_int(&doc, root, "hex", 1, 65535, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:8:6: hex: \"0x10\": expected an integer from 1 to 65535");
    assert_int_equal(config_get_int(&doc, root, "space", 1, 65535, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:9:8: space: \" 5\": expected an integer from 1 to 65535");
    assert_int_equal(config_get_int(&doc, root, "empty", 1, 65535, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:13:8: empty: \"\": expected an integer from 1 to 65535");
    assert_int_equal(v, 1);
}

static void test_u64(void **state)
{
    uint64_t v = 9;

    (void)state;
    load("body: 512000\nmax: 18446744073709551615\nover: 18446744073709551616\nneg: -1\n"
         "plus: +1\nword: lots\n");
    assert_int_equal(config_get_u64(&doc, root, "missing", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 9);
    assert_int_equal(config_get_u64(&doc, root, "body", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 512000);
    assert_int_equal(config_get_u64(&doc, root, "max", &v, err, sizeof(err)), 0);
    assert_true(v == UINT64_MAX);
    v = 9;
    assert_int_equal(config_get_u64(&doc, root, "over", &v, err, sizeof(err)), -ERANGE);
    assert_string_equal(err, "plan.yaml:3:7: over: \"18446744073709551616\": out of range, "
                             "expected a non-negative integer up to 18446744073709551615");
    assert_int_equal(config_get_u64(&doc, root, "neg", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:4:6: neg: \"-1\": expected a non-negative integer");
    assert_int_equal(config_get_u64(&doc, root, "plus", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:5:7: plus: \"+1\": expected a non-negative integer");
    assert_int_equal(config_get_u64(&doc, root, "word", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:6:7: word: \"lots\": expected a non-negative integer");
    assert_int_equal(v, 9);
}

static void test_bool(void **state)
{
    static const char *const keys[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    static const bool want[] = {true, false, true, false, true, false, true, false};
    bool v;

    (void)state;
    load("a: true\nb: false\nc: yes\nd: no\ne: on\nf: off\ng: True\nh: NO\nbad: maybe\n"
         "one: 1\nnothing: ~\n");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        v = !want[i];
        assert_int_equal(config_get_bool(&doc, root, keys[i], &v, err, sizeof(err)), 0);
        assert_int_equal(v, want[i]);
    }
    v = true;
    assert_int_equal(config_get_bool(&doc, root, "missing", &v, err, sizeof(err)), 0);
    assert_true(v);
    assert_int_equal(config_get_bool(&doc, root, "bad", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(
        err, "plan.yaml:9:6: bad: \"maybe\": expected true or false (or yes/no, on/off)");
    assert_int_equal(config_get_bool(&doc, root, "one", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err,
                        "plan.yaml:10:6: one: \"1\": expected true or false (or yes/no, on/off)");
    assert_int_equal(config_get_bool(&doc, root, "nothing", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:11:10: nothing: no value, expected true or false (or "
                             "yes/no, on/off)");
    assert_true(v);
}

static void test_double(void **state)
{
    double v = 7.0;

    (void)state;
    load("a: 0.5\nb: -3\nc: 1e3\nd: .25\nbad: 1.2.3\ninf: inf\nyinf: .inf\nnan: nan\n"
         "hex: 0x1p3\nhuge: 1e999\nword: half\nsp: '1 '\n");
    assert_int_equal(config_get_double(&doc, root, "missing", &v, err, sizeof(err)), 0);
    assert_true(v == 7.0);
    assert_int_equal(config_get_double(&doc, root, "a", &v, err, sizeof(err)), 0);
    assert_true(v == 0.5);
    assert_int_equal(config_get_double(&doc, root, "b", &v, err, sizeof(err)), 0);
    assert_true(v == -3.0);
    assert_int_equal(config_get_double(&doc, root, "c", &v, err, sizeof(err)), 0);
    assert_true(v == 1000.0);
    assert_int_equal(config_get_double(&doc, root, "d", &v, err, sizeof(err)), 0);
    assert_true(v == 0.25);
    v = 7.0;
    assert_int_equal(config_get_double(&doc, root, "bad", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:5:6: bad: \"1.2.3\": expected a number");
    assert_int_equal(config_get_double(&doc, root, "inf", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:6:6: inf: \"inf\": expected a number");
    assert_int_equal(config_get_double(&doc, root, "yinf", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:7:7: yinf: \".inf\": expected a number");
    assert_int_equal(config_get_double(&doc, root, "nan", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:8:6: nan: \"nan\": expected a number");
    assert_int_equal(config_get_double(&doc, root, "hex", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:9:6: hex: \"0x1p3\": expected a number");
    assert_int_equal(config_get_double(&doc, root, "huge", &v, err, sizeof(err)), -ERANGE);
    assert_string_equal(err, "plan.yaml:10:7: huge: \"1e999\": out of range, expected a finite "
                             "number");
    assert_int_equal(config_get_double(&doc, root, "word", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:11:7: word: \"half\": expected a number");
    assert_int_equal(config_get_double(&doc, root, "sp", &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:12:5: sp: \"1 \": expected a number");
    assert_true(v == 7.0);
}

static void test_duration(void **state)
{
    uint64_t ns = 5;

    (void)state;
    load("timeout: 250ms\nramp: 1m30s\nzero: 0\nbad: 30 sec\nnounit: 30\nlist: [1s]\n");
    assert_int_equal(config_get_duration(&doc, root, "missing", &ns, err, sizeof(err)), 0);
    assert_int_equal(ns, 5);
    assert_int_equal(config_get_duration(&doc, root, "timeout", &ns, err, sizeof(err)), 0);
    assert_int_equal(ns, 250 * CLOCK_NS_PER_MS);
    assert_int_equal(config_get_duration(&doc, root, "ramp", &ns, err, sizeof(err)), 0);
    assert_int_equal(ns, 90 * CLOCK_NS_PER_S);
    assert_int_equal(config_get_duration(&doc, root, "zero", &ns, err, sizeof(err)), 0);
    assert_int_equal(ns, 0);
    ns = 5;
    assert_int_equal(config_get_duration(&doc, root, "bad", &ns, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:4:6: bad: \"30 sec\": unknown unit 'sec', expected ms, s, "
                             "m or h");
    assert_int_equal(config_get_duration(&doc, root, "nounit", &ns, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:5:9: nounit: \"30\": missing unit, expected ms, s, m or h");
    assert_int_equal(config_get_duration(&doc, root, "list", &ns, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:6:7: list: expected a duration (e.g. 250ms, 30s, 1m30s), "
                             "found a sequence");
    assert_int_equal(ns, 5);
}

static void test_rate(void **state)
{
    units_rate r = {1, 2};
    const config_node *lim;

    (void)state;
    load("limits:\n"
         "  - rate: 300/min\n"
         "  - rate: 2.5/s\n"
         "  - rate: 50 per s\n"
         "  - rate:\n");
    lim = config_map_get(&doc, root, "limits");

    assert_int_equal(config_get_rate(&doc, root, "rate", &r, err, sizeof(err)), 0);
    assert_int_equal(r.count, 1);
    assert_int_equal(
        config_get_rate(&doc, config_seq_item(&doc, lim, 0), "rate", &r, err, sizeof(err)), 0);
    assert_int_equal(r.count, 300);
    assert_int_equal(r.period_ns, 60 * CLOCK_NS_PER_S);
    assert_int_equal(
        config_get_rate(&doc, config_seq_item(&doc, lim, 1), "rate", &r, err, sizeof(err)), 0);
    assert_int_equal(r.count, 5);
    assert_int_equal(r.period_ns, 2 * CLOCK_NS_PER_S);
    assert_int_equal(
        config_get_rate(&doc, config_seq_item(&doc, lim, 2), "rate", &r, err, sizeof(err)),
        -EINVAL);
    /* The shape the brief asked for, to the character. */
    assert_string_equal(err,
                        "plan.yaml:4:11: rate: \"50 per s\": expected N/unit (e.g. 50/s, 300/min)");
    assert_int_equal(
        config_get_rate(&doc, config_seq_item(&doc, lim, 3), "rate", &r, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "plan.yaml:5:10: rate: no value, expected a rate (e.g. 50/s, "
                             "300/min)");
    assert_int_equal(r.count, 5);
}

static void test_enum(void **state)
{
    static const char *const modes[] = {"emulate", "proxy", NULL};
    int v = -1;

    (void)state;
    load("a: emulate\nb: proxy\nc: proxi\nd: Proxy\ne: mirror\n");
    assert_int_equal(config_get_enum(&doc, root, "missing", modes, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -1);
    assert_int_equal(config_get_enum(&doc, root, "a", modes, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 0);
    assert_int_equal(config_get_enum(&doc, root, "b", modes, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 1);
    v = -1;
    assert_int_equal(config_get_enum(&doc, root, "c", modes, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:3:4: c: \"proxi\": expected one of: emulate, proxy (did "
                             "you mean 'proxy'?)");
    assert_int_equal(config_get_enum(&doc, root, "d", modes, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:4:4: d: \"Proxy\": expected one of: emulate, proxy (did "
                             "you mean 'proxy'?)");
    assert_int_equal(config_get_enum(&doc, root, "e", modes, &v, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:5:4: e: \"mirror\": expected one of: emulate, proxy");
    assert_int_equal(v, -1);
}

static void test_str_list(void **state)
{
    const char **list = NULL;
    size_t n = 99;

    (void)state;
    load("one: token\nmany: [org, client, user]\nblock:\n  - a\n  - 2\nnone: []\n"
         "bad: [a, [b]]\nnull_item: [a, ~]\nmap: {a: 1}\nnothing:\n");
    assert_int_equal(config_get_str_list(&doc, root, "missing", &list, &n, err, sizeof(err)), 0);
    assert_null(list);
    assert_int_equal(n, 99);
    assert_int_equal(config_get_str_list(&doc, root, "one", &list, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "token");
    free(list);
    assert_int_equal(config_get_str_list(&doc, root, "many", &list, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0], "org");
    assert_string_equal(list[1], "client");
    assert_string_equal(list[2], "user");
    free(list);
    assert_int_equal(config_get_str_list(&doc, root, "block", &list, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[1], "2");
    free(list);
    list = (const char **)&n;
    assert_int_equal(config_get_str_list(&doc, root, "none", &list, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_null(list);

    n = 99;
    assert_int_equal(config_get_str_list(&doc, root, "bad", &list, &n, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:7:10: bad[1]: expected a string, found a sequence");
    assert_int_equal(config_get_str_list(&doc, root, "null_item", &list, &n, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "plan.yaml:8:16: null_item[1]: no value, expected a string");
    assert_int_equal(config_get_str_list(&doc, root, "map", &list, &n, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:9:6: map: expected a string or a list of strings, found a "
                             "mapping");
    assert_int_equal(config_get_str_list(&doc, root, "nothing", &list, &n, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "plan.yaml:10:9: nothing: no value, expected a string or a list of "
                             "strings");
    assert_int_equal(n, 99);
    assert_null(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_str, teardown),
        cmocka_unit_test_teardown(test_int, teardown),
        cmocka_unit_test_teardown(test_u64, teardown),
        cmocka_unit_test_teardown(test_bool, teardown),
        cmocka_unit_test_teardown(test_double, teardown),
        cmocka_unit_test_teardown(test_duration, teardown),
        cmocka_unit_test_teardown(test_rate, teardown),
        cmocka_unit_test_teardown(test_enum, teardown),
        cmocka_unit_test_teardown(test_str_list, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
