#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "serve/coll_store.h"

#define WALL 1767225600000000000ULL /* 2026-01-01T00:00:00Z, ns */

static const char *text(buf *b)
{
    buf_append(b, "", 1);
    b->len--;
    return buf_ptr(b);
}

static void test_entities(void **state)
{
    coll_store_opts o = {
        .name = "s", .base = "/s", .max_entities = 100, .seed = 0, .max_bytes = 1 << 20};
    coll_store *s = NULL;
    uint64_t total = 0, current = 0;
    buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(coll_store_acquire(&s, &o), 0);
    assert_string_equal(coll_store_options(s)->name, "s");
    assert_int_equal(coll_store_create(s, "o", WALL, "b-1", "{\"id\":\"b-1\",\"x\":1", 17, &b), 0);
    assert_string_equal(text(&b), "{\"id\":\"b-1\",\"x\":1,\"version\":1,\"dateCreated\":"
                                  "\"2026-01-01T00:00:00.000Z\",\"dateModified\":"
                                  "\"2026-01-01T00:00:00.000Z\",\"selfUri\":\"/s/b-1\"}");
    buf_reset(&b);
    assert_int_equal(coll_store_create(s, "o", WALL, "b-1", "{\"id\":\"b-1\"", 11, &b), -EEXIST);
    assert_int_equal(coll_store_create(s, "o", WALL, "a-22", "{\"id\":\"a-22\"", 12, &b), 0);
    assert_int_equal(coll_store_create(s, "o", WALL, "c-3", "{\"id\":\"c-3\"", 11, &b), 0);
    /* (length, bytes) order: b-1, c-3, a-22 */
    buf_reset(&b);
    assert_int_equal(coll_store_list(s, "o", WALL, 1, 5, &b, &total), 0);
    assert_int_equal(total, 3);
    assert_memory_equal(text(&b), "{\"id\":\"c-3\"", 11);
    assert_non_null(strstr(text(&b), "},{\"id\":\"a-22\""));
    buf_reset(&b);
    assert_int_equal(coll_store_list(s, "o", WALL, 3, 5, &b, &total), 0);
    assert_int_equal(b.len, 0);
    /* compare-and-set */
    assert_int_equal(coll_store_replace(s, "o", WALL + 1000000000, "b-1", 3, 2, "{\"id\":\"b-1\"",
                                        11, &b, &current),
                     -ESTALE);
    assert_int_equal(current, 1);
    assert_int_equal(coll_store_replace(s, "o", WALL + 1000000000, "b-1", 3, 1, "{\"id\":\"b-1\"",
                                        11, &b, &current),
                     0);
    assert_string_equal(text(&b), "{\"id\":\"b-1\",\"version\":2,\"dateCreated\":"
                                  "\"2026-01-01T00:00:00.000Z\",\"dateModified\":"
                                  "\"2026-01-01T00:00:01.000Z\",\"selfUri\":\"/s/b-1\"}");
    assert_int_equal(coll_store_replace(s, "p", WALL, "b-1", 3, 2, "{}", 1, &b, &current), -ENOENT);
    buf_reset(&b);
    assert_int_equal(coll_store_get(s, "o", WALL, "b-1", 3, &b), 0);
    assert_non_null(strstr(text(&b), "\"version\":2"));
    assert_int_equal(coll_store_get(s, "p", WALL, "b-1", 3, &b), -ENOENT);
    assert_int_equal(coll_store_get(s, "o", WALL, "b-", 2, &b), -ENOENT);
    assert_int_equal(coll_store_delete(s, "p", WALL, "b-1", 3), -ENOENT);
    assert_int_equal(coll_store_delete(s, "o", WALL, "b-1", 3), 0);
    assert_int_equal(coll_store_delete(s, "o", WALL, "b-1", 3), -ENOENT);
    assert_int_equal(coll_store_list(s, "o", WALL, 0, 5, &b, &total), 0);
    assert_int_equal(total, 2);
    coll_store_release(s);
    buf_free(&b);
}

static void test_sharing_and_bounds(void **state)
{
    coll_store_opts o = {
        .name = "t", .base = "/t", .max_entities = 3, .seed = 2, .max_bytes = 1 << 20};
    coll_store *a = NULL, *b = NULL;
    uint64_t total = 0;
    buf out;

    (void)state;
    buf_init(&out, 0);
    assert_int_equal(coll_store_acquire(&a, &o), 0);
    assert_int_equal(coll_store_acquire(&b, &o), 0);
    assert_ptr_equal(a, b);
    o.seed = 1;
    assert_int_equal(coll_store_acquire(&b, &o), -EEXIST);
    assert_int_equal(coll_store_list(a, "o", WALL, 0, 10, &out, &total), 0);
    assert_int_equal(total, 2); /* seeded */
    assert_non_null(strstr(text(&out), "\"id\":\"seed-1\",\"name\":\"t seed 1\""));
    assert_int_equal(coll_store_create(a, "o", WALL, "x", "{\"id\":\"x\"", 9, &out), 0);
    assert_int_equal(coll_store_create(a, "o", WALL, "y", "{\"id\":\"y\"", 9, &out), -ENOSPC);
    assert_int_equal(coll_store_create(a, "p", WALL, "y", "{\"id\":\"y\"", 9, &out), 0);
    /* orgs are bounded */
    for (int i = 0; i < COLL_STORE_MAX_ORGS - 2; i++) {
        char org[16];

        snprintf(org, sizeof(org), "org-%d", i);
        assert_int_equal(coll_store_get(a, org, WALL, "seed-1", 6, &out), 0);
    }
    assert_int_equal(coll_store_get(a, "one-too-many", WALL, "seed-1", 6, &out), -ENOSPC);
    assert_int_equal(coll_store_list(a, "one-too-many", WALL, 0, 1, &out, &total), -ENOSPC);
    coll_store_release(a);
    coll_store_release(b);
    coll_store_release(NULL);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_sharing_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
