#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/capture.h"

static const char *doc_text =
    "{\"id\": \"f-1\", \"version\": 7, \"ratio\": 0.1, \"big\": 3.0, \"neg\": -2.5e-3,"
    " \"huge\": 1e20, \"ok\": true, \"off\": false, \"gone\": null,"
    " \"odd.key\": {\"x y\": \"spaced\"},"
    " \"entities\": [{\"id\": \"a\", \"tags\": [\"t1\", \"t2\"]}, {\"id\": \"b\"}],"
    " \"meta\": {\"page\": {\"next\": \"/p/2\", \"sizes\": [10, 20]}}}";

static json_t *doc(void)
{
    json_error_t e;
    json_t *j = json_loads(doc_text, 0, &e);

    assert_non_null(j);
    return j;
}

/* Captures `path` from the test document and compares the text. */
static void expect_captured(const char *path, const char *want)
{
    capture c;
    json_t *j = doc();
    buf b;
    char err[256] = "";

    assert_int_equal(capture_init_json(&c, path, err, sizeof(err)), 0);
    buf_init(&b, 0);
    if (capture_json(&c, j, &b, err, sizeof(err)) != 0)
        fail_msg("%s: %s", path, err);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(buf_ptr(&b), want, b.len);
    buf_free(&b);
    capture_free(&c);
    json_decref(j);
}

static void expect_missing(const char *path, const char *msg)
{
    capture c;
    json_t *j = doc();
    buf b;
    char err[256] = "";

    assert_int_equal(capture_init_json(&c, path, err, sizeof(err)), 0);
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "prev"), 0);
    assert_int_equal(capture_json(&c, j, &b, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, msg);
    assert_int_equal(b.len, 4);
    buf_free(&b);
    capture_free(&c);
    json_decref(j);
}

static void expect_bad_path(const char *path, const char *msg)
{
    capture c;
    char err[256] = "";

    assert_int_equal(capture_init_json(&c, path, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_null(c.text);
}

static void test_values(void **state)
{
    (void)state;
    expect_captured("$.id", "f-1");
    expect_captured("$.version", "7");
    expect_captured("$.ratio", "0.1");
    expect_captured("$.big", "3");
    expect_captured("$.neg", "-0.0025");
    expect_captured("$.huge", "1e+20");
    expect_captured("$.ok", "true");
    expect_captured("$.off", "false");
    expect_captured("$.entities[0].id", "a");
    expect_captured("$.entities[1].id", "b");
    expect_captured("$.entities[-1].id", "b");
    expect_captured("$.entities[0].tags[1]", "t2");
    expect_captured("$.meta.page.next", "/p/2");
    expect_captured("$.meta.page.sizes", "[10,20]");
    expect_captured("$.meta.page", "{\"next\":\"/p/2\",\"sizes\":[10,20]}");
    expect_captured("$['odd.key'][\"x y\"]", "spaced");
}

static void test_whole_document(void **state)
{
    capture c;
    json_t *j = json_loads("[1,2]", 0, NULL);
    buf b;

    (void)state;
    assert_int_equal(capture_init_json(&c, "$", NULL, 0), 0);
    assert_int_equal(c.nsegs, 0);
    buf_init(&b, 0);
    assert_int_equal(capture_json(&c, j, &b, NULL, 0), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(buf_ptr(&b), "[1,2]", 5);
    buf_free(&b);
    capture_free(&c);
    json_decref(j);
}

static void test_missing(void **state)
{
    (void)state;
    expect_missing("$.versions", "$.versions: no key 'versions' in $");
    expect_missing("$.meta.page.prev", "$.meta.page.prev: no key 'prev' in $.meta.page");
    expect_missing("$.entities[2].id",
                   "$.entities[2]: index 2 is out of range (the array has 2 elements)");
    expect_missing("$.entities[-3]",
                   "$.entities[-3]: index -3 is out of range (the array has 2 elements)");
    expect_missing("$.entities.id", "$.entities.id: $.entities is an array, not an object");
    expect_missing("$.id[0]", "$.id[0]: $.id is a string, not an array");
    expect_missing("$.version.major", "$.version.major: $.version is a number, not an object");
    expect_missing("$.gone", "$.gone is null");
    expect_missing("$.gone.x", "$.gone.x: $.gone is null, not an object");
}

static void test_not_json(void **state)
{
    capture c;
    buf b;
    char err[128];

    (void)state;
    assert_int_equal(capture_init_json(&c, "$.id", NULL, 0), 0);
    buf_init(&b, 0);
    assert_int_equal(capture_json(&c, NULL, &b, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "$.id: the response body is not JSON");
    capture_free(&c);
}

static void test_bad_paths(void **state)
{
    (void)state;
    expect_bad_path("id", "\"id\": a path starts with '$', e.g. $.id or $.items[0].id (column 1)");
    expect_bad_path("$.entities[*].id", "\"$.entities[*].id\": wildcards are not supported, use an "
                                        "index such as [0] (column 12)");
    expect_bad_path("$.*", "\"$.*\": wildcards are not supported, use an index such as [0] "
                           "(column 3)");
    expect_bad_path("$..id", "\"$..id\": recursive descent ('..') is not supported (column 2)");
    expect_bad_path("$.a.", "\"$.a.\": expected a key after '.' (column 5)");
    expect_bad_path("$.a[x]", "\"$.a[x]\": expected an index such as [0] or a quoted key such as "
                              "['name'] (column 5)");
    expect_bad_path("$.a[0", "\"$.a[0\": expected ']' (column 5)");
    expect_bad_path("$.a[0:2]",
                    "\"$.a[0:2]\": slices are not supported, use an index such as [0] (column 5)");
    expect_bad_path("$.a[?(@.x)]", "\"$.a[?(@.x)]\": filters are not supported (column 5)");
    expect_bad_path("$['a", "\"$['a\": unterminated quoted key (column 3)");
    expect_bad_path("$a", "\"$a\": expected '.key' or '[index]' (column 2)");
    expect_bad_path("$.a b", "\"$.a b\": expected '.key' or '[index]' (column 4)");
    expect_bad_path("$[99999999999999999999]", "\"$[99999999999999999999]\": expected an index "
                                               "such as [0] or a quoted key such as ['name'] "
                                               "(column 3)");
}

static void test_headers(void **state)
{
    capture c;
    capture_header h[] = {
        {"Content-Type", 12, "application/json", 16},
        {"etag", 4, "  \"v7\"\t", 7},
        {"ETag", 4, "\"second\"", 8},
    };
    buf b;
    char err[128];

    (void)state;
    assert_int_equal(capture_init_header(&c, "ETag", err, sizeof(err)), 0);
    buf_init(&b, 0);
    assert_int_equal(capture_header_value(&c, h, 3, &b, err, sizeof(err)), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(buf_ptr(&b), "\"v7\"", 4); /* first match, trimmed */
    assert_int_equal(capture_header_value(&c, h, 1, &b, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "no header 'ETag' in the response");
    assert_int_equal(b.len, 4);
    buf_free(&b);
    capture_free(&c);
    assert_int_equal(capture_init_header(&c, "X Version", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"X Version\": ' ' cannot appear in a header name");
    assert_int_equal(capture_init_header(&c, "", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "empty header name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),    cmocka_unit_test(test_whole_document),
        cmocka_unit_test(test_missing),   cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_bad_paths), cmocka_unit_test(test_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
