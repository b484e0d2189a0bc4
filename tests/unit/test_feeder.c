#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/feeder.h"
#include "run/tmpl.h"

static void parse_ok(feeder *f, const char *csv)
{
    char err[256] = "";

    if (feeder_parse(f, "users.csv", csv, strlen(csv), err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void expect_cell(const feeder *f, size_t r, size_t c, const char *want, size_t want_len)
{
    size_t len;
    const char *v = feeder_value(f, r, c, &len);

    assert_int_equal(len, want_len);
    assert_memory_equal(v, want, len);
    assert_int_equal(v[len], '\0');
}
#define expect_str(f, r, c, s) expect_cell(f, r, c, s, strlen(s))

static void expect_error(const char *csv, size_t len, const char *msg)
{
    feeder f;
    char err[256] = "";

    assert_int_equal(feeder_parse(&f, "users.csv", csv, len, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_null(f.data);
}
#define expect_err(csv, msg) expect_error(csv, strlen(csv), msg)

static void test_basic(void **state)
{
    feeder f;

    (void)state;
    parse_ok(&f, "id,name\n1,alice\n2,bob\n");
    assert_int_equal(f.ncols, 2);
    assert_int_equal(f.nrows, 2);
    assert_string_equal(feeder_column_name(&f, 1), "name");
    assert_int_equal(feeder_column(&f, "name", 4), 1);
    assert_int_equal(feeder_column(&f, "nam", 3), -ENOENT);
    expect_str(&f, 0, 0, "1");
    expect_str(&f, 0, 1, "alice");
    expect_str(&f, 1, 1, "bob");
    feeder_free(&f);
    feeder_free(&f);

    /* No final line break; empty fields. */
    parse_ok(&f, "a,b,c\r\n,,x");
    assert_int_equal(f.nrows, 1);
    expect_str(&f, 0, 0, "");
    expect_str(&f, 0, 1, "");
    expect_str(&f, 0, 2, "x");
    feeder_free(&f);
}

static void test_rfc4180_quoting(void **state)
{
    feeder f;

    (void)state;
    parse_ok(&f, "\xEF\xBB\xBF"
                 "name,note\r\n"
                 "\"Smith, J\",\"said \"\"hi\"\"\r\nand left\"\r\n"
                 "\n"
                 "\"\",plain\r\n"
                 "\r\n");
    assert_string_equal(feeder_column_name(&f, 0), "name"); /* BOM skipped */
    assert_int_equal(f.nrows, 2);                           /* blank lines skipped */
    expect_str(&f, 0, 0, "Smith, J");
    expect_str(&f, 0, 1, "said \"hi\"\r\nand left");
    expect_str(&f, 1, 0, ""); /* a quoted empty field is a value */
    expect_str(&f, 1, 1, "plain");
    feeder_free(&f);

    /* A single column with a quoted empty value keeps its row. */
    parse_ok(&f, "v\n\"\"\nx\n");
    assert_int_equal(f.nrows, 2);
    feeder_free(&f);

    /* Quoted fields may hold NUL bytes; the length says so. */
    static const char nul[] = "k\n\"a\0b\"\n";
    char err[128];
    assert_int_equal(feeder_parse(&f, "n.csv", nul, sizeof(nul) - 1, err, sizeof(err)), 0);
    expect_cell(&f, 0, 0, "a\0b", 3);
    feeder_free(&f);
}

static void test_errors(void **state)
{
    (void)state;
    /* The line is the record's first line, counting lines inside quotes. */
    expect_err("id,name,role,team\n1,a,b,c\n2,\"multi\nline\",x,y\n3,c,d\n",
               "users.csv:5: 3 fields, expected 4 as in the header");
    expect_err("id,name\n1,\"open\n2,x\n", "users.csv:2: unterminated quoted field");
    expect_err("id,name\n1,\"a\"b\n", "users.csv:2: unexpected 'b' after a closing quote");
    expect_err("id,name\n1,5'10\"\n", "users.csv:2: '\"' inside an unquoted field (quote the "
                                      "field and double the quote: \"\")");
    expect_err("id,name,id\n1,2,3\n", "users.csv:1: column 'id' appears twice (columns 1 and 3)");
    expect_err("\nid,,x\n1,2,3\n", "users.csv:2: column 2 has no name");
    expect_err("", "users.csv:1: empty file, expected a header row");
    expect_err("\r\n\n", "users.csv:1: empty file, expected a header row");
    expect_err("id,name\n\n", "users.csv:3: no data rows after the header");
    expect_err("id\n1,2\n", "users.csv:2: 2 fields, expected 1 as in the header");
}

static void test_rows_round_robin_and_per_vu(void **state)
{
    feeder f;

    (void)state;
    parse_ok(&f, "u\na\nb\nc\n");
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(feeder_next_row(&f), i % 3);
    assert_int_equal(feeder_row_for_vu(&f, 0), 0);
    assert_int_equal(feeder_row_for_vu(&f, 4), 1);
    assert_int_equal(feeder_row_for_vu(&f, 3000000001ULL), 1);
    feeder_free(&f);
}

static void *take_rows(void *arg)
{
    feeder *f = arg;
    size_t *counts = calloc(f->nrows, sizeof(*counts));

    for (int i = 0; i < 30000; i++)
        counts[feeder_next_row(f)]++;
    return counts;
}

static void test_round_robin_across_threads(void **state)
{
    feeder f;
    pthread_t th[4];
    size_t total[5] = {0};

    (void)state;
    parse_ok(&f, "u\n1\n2\n3\n4\n5\n");
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, take_rows, &f), 0);
    for (int i = 0; i < 4; i++) {
        size_t *counts;

        assert_int_equal(pthread_join(th[i], (void **)&counts), 0);
        for (int r = 0; r < 5; r++)
            total[r] += counts[r];
        free(counts);
    }
    /* 120000 rows handed out: no position taken twice, so each row exactly 24000 times. */
    for (int r = 0; r < 5; r++)
        assert_int_equal(total[r], 24000);
    feeder_free(&f);
}

static void test_as_template_variables(void **state)
{
    feeder f;
    tmpl t;
    feeder_row row;
    tmpl_ctx ctx = {.lookup = feeder_lookup, .lookup_ctx = &row, .step = "login"};
    buf b;
    char err[128];

    (void)state;
    parse_ok(&f, "user,password\nalice,s3cret\nbob,\"p,w\"\n");
    assert_int_equal(tmpl_compile(&t, "{{user}}:{{password}}", 21, err, sizeof(err)), 0);
    buf_init(&b, 0);
    row.f = &f;
    row.row = 1;
    assert_int_equal(tmpl_render(&t, &ctx, &b, err, sizeof(err)), 0);
    assert_int_equal(b.len, 7);
    assert_memory_equal(buf_ptr(&b), "bob:p,w", 7);
    tmpl_free(&t);
    assert_int_equal(tmpl_compile(&t, "{{email}}", 9, err, sizeof(err)), 0);
    assert_int_equal(tmpl_render(&t, &ctx, &b, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "step 'login' needs 'email', which was not captured");
    tmpl_free(&t);
    buf_free(&b);
    feeder_free(&f);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/tg_feeder_XXXXXX";
    int fd = mkstemp(path);
    feeder f;
    char err[256];
    char want[300];

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "k,v\n1,2\n3,4\n", 12), 12);
    close(fd);
    assert_int_equal(feeder_load(&f, path, 0, err, sizeof(err)), 0);
    assert_int_equal(f.nrows, 2);
    expect_str(&f, 1, 1, "4");
    feeder_free(&f);
    /* The bound: 12 bytes do not fit in 11. */
    assert_int_equal(feeder_load(&f, path, 11, err, sizeof(err)), -EFBIG);
    snprintf(want, sizeof(want), "%s: larger than the feeder limit of 11 bytes", path);
    assert_string_equal(err, want);
    assert_int_equal(feeder_load(&f, path, 12, err, sizeof(err)), 0);
    feeder_free(&f);
    unlink(path);
    assert_int_equal(feeder_load(&f, path, 0, err, sizeof(err)), -ENOENT);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_rfc4180_quoting),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rows_round_robin_and_per_vu),
        cmocka_unit_test(test_round_robin_across_threads),
        cmocka_unit_test(test_as_template_variables),
        cmocka_unit_test(test_load_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
