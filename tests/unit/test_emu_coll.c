#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "emu_req.h"
#include "core/config.h"
#include "serve/emulate.h"

#define S    1000000000ULL
#define WALL (1767225600 * S) /* 2026-01-01T00:00:00Z */

static config_doc doc;
static char err[CONFIG_ERRLEN];

/* Inits a collection from `options: {...}` YAML text. */
static int init(void **st, const char *yaml)
{
    const config_node *opts;
    int rc;

    config_free(&doc);
    assert_int_equal(config_load_string(&doc, "p.yaml", yaml, strlen(yaml), err, sizeof(err)), 0);
    opts = config_map_get(&doc, config_root(&doc), "options");
    rc = emu_coll_kind.init(st, &doc, opts, NULL, err, sizeof(err));
    return rc;
}

static void *make(const char *yaml)
{
    void *st = NULL;

    assert_int_equal(init(&st, yaml), 0);
    return st;
}

static int call(emu_t *t, void *st, const char *method, const char *target, const char *body,
                const char *org)
{
    emu_t_req(t, method, target, body, org, 1, WALL);
    return emu_t_run(t, &emu_coll_kind, st);
}

static json_t *json_of(emu_t *t)
{
    json_t *j = emu_t_json(t);

    assert_non_null(j);
    return j;
}

static int64_t int_of(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *str_of(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_crud(void **state)
{
    void *st = make("options: {name: scripts, base: /api/v2/scripts}\n");
    char id[64], target[128], body[256];
    emu_t t;
    json_t *j;

    (void)state;
    emu_t_init(&t, 7);
    assert_int_equal(call(&t, st, "POST", "/api/v2/scripts",
                          "{\"name\": \"a\", \"version\": 9, \"id\": \"x\", \"n\": [1, 2]}",
                          "org-1"),
                     201);
    j = json_of(&t);
    snprintf(id, sizeof(id), "%s", str_of(j, "id"));
    assert_int_equal(strlen(id), EMU_UUID_LEN);
    assert_int_equal(id[14], '4');
    assert_int_equal(int_of(j, "version"), 1); /* server fields win over the body's */
    assert_string_equal(str_of(j, "name"), "a");
    assert_string_equal(str_of(j, "dateCreated"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(str_of(j, "dateModified"), "2026-01-01T00:00:00.000Z");
    snprintf(target, sizeof(target), "/api/v2/scripts/%s", id);
    assert_string_equal(str_of(j, "selfUri"), target);
    json_decref(j);
    buf_append(&t.headers, "", 1);
    assert_non_null(strstr(buf_ptr(&t.headers), "Location: /api/v2/scripts/"));

    assert_int_equal(call(&t, st, "GET", target, NULL, "org-1"), 200);
    j = json_of(&t);
    assert_string_equal(str_of(j, "id"), id);
    assert_int_equal(json_array_size(json_object_get(j, "n")), 2);
    json_decref(j);
    /* the id comes first in the stored text */
    assert_memory_equal(emu_t_text(&t), "{\"id\":\"", 7);

    snprintf(body, sizeof(body), "{\"id\": \"%s\", \"name\": \"b\", \"version\": 1}", id);
    t.req.now_wall = WALL;
    emu_t_req(&t, "PUT", target, body, "org-1", 1, WALL + 5 * S);
    assert_int_equal(emu_t_run(&t, &emu_coll_kind, st), 200);
    j = json_of(&t);
    assert_int_equal(int_of(j, "version"), 2);
    assert_string_equal(str_of(j, "name"), "b");
    assert_null(json_object_get(j, "n")); /* replaced, not merged */
    assert_string_equal(str_of(j, "dateCreated"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(str_of(j, "dateModified"), "2026-01-01T00:00:05.000Z");
    json_decref(j);

    /* stale version: 409 with the current one */
    assert_int_equal(call(&t, st, "PUT", target, body, "org-1"), 409);
    j = json_of(&t);
    assert_string_equal(str_of(j, "code"), "conflict");
    assert_int_equal(int_of(j, "status"), 409);
    assert_int_equal(int_of(j, "currentVersion"), 2);
    assert_non_null(strstr(str_of(j, "message"), "current version 2"));
    json_decref(j);
    /* a version as a string of digits is read too */
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": \"2\", \"name\": \"c\"}", "org-1"),
                     200);
    j = json_of(&t);
    assert_int_equal(int_of(j, "version"), 3);
    json_decref(j);

    assert_int_equal(call(&t, st, "DELETE", target, NULL, "org-1"), 204);
    assert_int_equal(t.body.len, 0);
    assert_int_equal(call(&t, st, "GET", target, NULL, "org-1"), 404);
    assert_int_equal(call(&t, st, "DELETE", target, NULL, "org-1"), 404);
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": 3}", "org-1"), 404);
    emu_coll_kind.free(st);
    emu_t_free(&t);
}

static void test_bad_requests(void **state)
{
    void *st = make("options: {name: scripts, base: /api/v2/scripts}\n");
    char target[128];
    emu_t t;
    json_t *j;

    (void)state;
    emu_t_init(&t, 7);
    assert_int_equal(call(&t, st, "POST", "/api/v2/scripts", "not json", "o"), 400);
    j = json_of(&t);
    assert_string_equal(str_of(j, "code"), "bad.request");
    assert_int_equal(int_of(j, "status"), 400);
    json_decref(j);
    assert_int_equal(call(&t, st, "POST", "/api/v2/scripts", "[1]", "o"), 400);
    assert_int_equal(call(&t, st, "POST", "/api/v2/scripts", "", "o"), 400);
    assert_int_equal(call(&t, st, "POST", "/api/v2/scripts", "{\"a\": 1, \"a\": 2}", "o"), 400);
    assert_int_equal(call(&t, st, "POST", "/api/v2/scripts/", "{}", "o"), 201);
    j = json_of(&t);
    snprintf(target, sizeof(target), "/api/v2/scripts/%s", str_of(j, "id"));
    json_decref(j);
    assert_int_equal(call(&t, st, "PUT", target, "{\"name\": \"no version\"}", "o"), 400);
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": \"1x\"}", "o"), 400);
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": 1.5}", "o"), 400);
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": 1, \"id\": \"other\"}", "o"), 400);
    j = json_of(&t);
    assert_non_null(strstr(str_of(j, "message"), "does not match"));
    json_decref(j);
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": 1, \"id\": 5}", "o"), 400);
    assert_int_equal(call(&t, st, "PUT", target, "7", "o"), 400);
    assert_int_equal(call(&t, st, "PATCH", target, "{}", "o"), 405);
    buf_append(&t.headers, "", 1);
    assert_string_equal(buf_ptr(&t.headers), "Allow: GET, PUT, DELETE\r\n");
    assert_int_equal(call(&t, st, "DELETE", "/api/v2/scripts", NULL, "o"), 405);
    buf_append(&t.headers, "", 1);
    assert_string_equal(buf_ptr(&t.headers), "Allow: GET, POST\r\n");
    assert_int_equal(call(&t, st, "GET", "/api/v2/scripts/a/b", NULL, "o"), 404);
    assert_int_equal(call(&t, st, "GET", "/api/v2/scriptsx", NULL, "o"), 404);
    assert_int_equal(call(&t, st, "GET", "/api/v2/scripts/\xff\"", NULL, "o"), 404);
    j = json_of(&t); /* the echo of odd bytes stays valid JSON */
    assert_string_equal(str_of(j, "code"), "not.found");
    json_decref(j);
    emu_coll_kind.free(st);
    emu_t_free(&t);
}

/* Paging math on 7 entities: pages of 3 hold 3, 3, 1; past the end is empty. */
static void test_paging(void **state)
{
    void *st = make("options: {name: s, base: /s}\n");
    emu_t t;
    json_t *j;
    char seen[7][EMU_UUID_LEN + 1];

    (void)state;
    emu_t_init(&t, 9);
    assert_int_equal(call(&t, st, "GET", "/s", NULL, "o"), 200);
    j = json_of(&t);
    assert_int_equal(json_array_size(json_object_get(j, "entities")), 0);
    assert_int_equal(int_of(j, "total"), 0);
    assert_int_equal(int_of(j, "pageCount"), 0);
    assert_int_equal(int_of(j, "pageSize"), 25);
    assert_int_equal(int_of(j, "pageNumber"), 1);
    json_decref(j);
    for (int i = 0; i < 7; i++)
        assert_int_equal(call(&t, st, "POST", "/s", "{}", "o"), 201);
    for (int page = 1; page <= 4; page++) {
        char target[64];
        size_t expect = page <= 2 ? 3 : page == 3 ? 1 : 0;
        const json_t *ents;

        snprintf(target, sizeof(target), "/s?pageNumber=%d&pageSize=3", page);
        assert_int_equal(call(&t, st, "GET", target, NULL, "o"), 200);
        j = json_of(&t);
        ents = json_object_get(j, "entities");
        assert_int_equal(json_array_size(ents), expect);
        assert_int_equal(int_of(j, "total"), 7);
        assert_int_equal(int_of(j, "pageCount"), 3);
        assert_int_equal(int_of(j, "pageSize"), 3);
        assert_int_equal(int_of(j, "pageNumber"), page);
        for (size_t k = 0; k < expect; k++) {
            int idx = (page - 1) * 3 + (int)k;

            snprintf(seen[idx], sizeof(seen[idx]), "%s", str_of(json_array_get(ents, k), "id"));
            if (idx > 0) /* listed in id order, so pages never overlap */
                assert_true(strcmp(seen[idx - 1], seen[idx]) < 0);
        }
        json_decref(j);
    }
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=500", NULL, "o"), 200);
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=501", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=0", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=abc", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?pageNumber=0", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?pageNumber=-1", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=2&pageSize=3", NULL, "o"), 400);
    assert_int_equal(call(&t, st, "GET", "/s?other=1&pageSize=%32", NULL, "o"), 200);
    j = json_of(&t);
    assert_int_equal(int_of(j, "pageSize"), 2);
    assert_int_equal(int_of(j, "pageCount"), 4);
    json_decref(j);
    emu_coll_kind.free(st);
    emu_t_free(&t);
}

static void test_orgs(void **state)
{
    void *st = make("options: {name: s, base: /s}\n");
    char target[64];
    emu_t t;
    json_t *j;

    (void)state;
    emu_t_init(&t, 3);
    assert_int_equal(call(&t, st, "POST", "/s", "{\"owner\": 1}", "org-1"), 201);
    j = json_of(&t);
    snprintf(target, sizeof(target), "/s/%s", str_of(j, "id"));
    json_decref(j);
    assert_int_equal(call(&t, st, "GET", target, NULL, "org-1"), 200);
    assert_int_equal(call(&t, st, "GET", target, NULL, "org-2"), 404);
    j = json_of(&t);
    assert_string_equal(str_of(j, "code"), "not.found");
    json_decref(j);
    assert_int_equal(call(&t, st, "PUT", target, "{\"version\": 1}", "org-2"), 404);
    assert_int_equal(call(&t, st, "DELETE", target, NULL, "org-2"), 404);
    assert_int_equal(call(&t, st, "GET", target, NULL, NULL), 404); /* anonymous org */
    assert_int_equal(call(&t, st, "GET", "/s", NULL, "org-2"), 200);
    j = json_of(&t);
    assert_int_equal(int_of(j, "total"), 0);
    json_decref(j);
    assert_int_equal(call(&t, st, "GET", target, NULL, "org-1"), 200);
    emu_coll_kind.free(st);
    emu_t_free(&t);
}

/* Seeds: seed-1..seed-N per org on first access, listed first, in number
 * order; they count towards max_entities (507 when full). */
static void test_seed_and_bounds(void **state)
{
    void *st = make("options: {name: s, base: /s, seed: 12, max_entities: 13}\n");
    emu_t t;
    json_t *j;
    const json_t *ents;

    (void)state;
    emu_t_init(&t, 3);
    assert_int_equal(call(&t, st, "GET", "/s/seed-7", NULL, "org-1"), 200);
    j = json_of(&t);
    assert_string_equal(str_of(j, "id"), "seed-7");
    assert_string_equal(str_of(j, "name"), "s seed 7");
    assert_int_equal(int_of(j, "version"), 1);
    json_decref(j);
    assert_int_equal(call(&t, st, "GET", "/s/seed-13", NULL, "org-1"), 404);
    assert_int_equal(call(&t, st, "GET", "/s/seed-0", NULL, "org-1"), 404);
    assert_int_equal(call(&t, st, "PUT", "/s/seed-12", "{\"version\": 1, \"x\": 1}", "org-2"), 200);
    assert_int_equal(call(&t, st, "GET", "/s/seed-12", NULL, "org-1"), 200);
    j = json_of(&t);
    assert_int_equal(int_of(j, "version"), 1); /* org-2's seed-12 is its own */
    json_decref(j);
    assert_int_equal(call(&t, st, "POST", "/s", "{}", "org-1"), 201);
    assert_int_equal(call(&t, st, "POST", "/s", "{}", "org-1"), 507);
    j = json_of(&t);
    assert_string_equal(str_of(j, "code"), "collection.full");
    assert_int_equal(int_of(j, "status"), 507);
    json_decref(j);
    assert_int_equal(call(&t, st, "DELETE", "/s/seed-1", NULL, "org-1"), 204);
    assert_int_equal(call(&t, st, "POST", "/s", "{}", "org-1"), 201);
    assert_int_equal(call(&t, st, "GET", "/s?pageSize=3", NULL, "org-1"), 200);
    j = json_of(&t);
    ents = json_object_get(j, "entities");
    assert_int_equal(int_of(j, "total"), 13);
    assert_string_equal(str_of(json_array_get(ents, 0), "id"), "seed-2");
    assert_string_equal(str_of(json_array_get(ents, 1), "id"), "seed-3");
    assert_string_equal(str_of(json_array_get(ents, 2), "id"), "seed-4");
    json_decref(j);
    emu_coll_kind.free(st);

    /* max_bytes bounds the stored JSON of the whole collection */
    st = make("options: {name: b, base: /b, max_bytes: 4096}\n");
    {
        char big[3000];
        int i;

        memset(big, 'x', sizeof(big));
        memcpy(big, "{\"a\":\"", 6);
        memcpy(big + sizeof(big) - 3, "\"}", 3);
        assert_int_equal(call(&t, st, "POST", "/b", big, "o"), 201);
        for (i = 0; i < 3 && call(&t, st, "POST", "/b", big, "o") == 201; i++)
            ;
        assert_int_equal(i, 0);
        assert_int_equal(t.resp.status, 507);
    }
    emu_coll_kind.free(st);
    emu_t_free(&t);
}

static void test_options(void **state)
{
    void *a = NULL, *b = NULL, *c = NULL;
    emu_t t;

    (void)state;
    assert_int_equal(init(&a, "options: {name: s, base: /s, nam: x}\n"), -EINVAL);
    assert_non_null(strstr(err, "p.yaml:1:30: unknown key 'nam'"));
    assert_int_equal(init(&a, "options: {base: /s}\n"), -EINVAL);
    assert_non_null(strstr(err, "missing key 'name'"));
    assert_int_equal(init(&a, "x: 1\n"), -EINVAL);
    assert_int_equal(init(&a, "options: {name: s, base: /s/}\n"), -EINVAL);
    assert_non_null(strstr(err, "base:"));
    assert_int_equal(init(&a, "options: {name: s, base: /s/**}\n"), -EINVAL);
    assert_int_equal(init(&a, "options: {name: 's s', base: /s}\n"), -EINVAL);
    assert_int_equal(init(&a, "options: {name: s, base: /s, seed: 11, max_entities: 10}\n"),
                     -ERANGE);
    assert_non_null(strstr(err, "seed"));
    /* one name, one store: a second route shares the first one's entities */
    assert_int_equal(init(&a, "options: {name: shared, base: /sh, seed: 1}\n"), 0);
    assert_int_equal(init(&b, "options: {name: shared, base: /sh, seed: 1}\n"), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(init(&c, "options: {name: shared, base: /other, seed: 1}\n"), -EINVAL);
    assert_non_null(strstr(err, "declared again"));
    emu_t_init(&t, 1);
    assert_int_equal(call(&t, a, "PUT", "/sh/seed-1", "{\"version\": 1}", "o"), 200);
    emu_coll_kind.free(a);
    assert_int_equal(call(&t, b, "GET", "/sh/seed-1", NULL, "o"), 200);
    {
        json_t *j = json_of(&t);

        assert_int_equal(int_of(j, "version"), 2);
        json_decref(j);
    }
    emu_coll_kind.free(b);
    /* freed for good: a new one starts afresh */
    assert_int_equal(init(&a, "options: {name: shared, base: /sh, seed: 1}\n"), 0);
    assert_int_equal(call(&t, a, "GET", "/sh/seed-1", NULL, "o"), 200);
    {
        json_t *j = json_of(&t);

        assert_int_equal(int_of(j, "version"), 1);
        json_decref(j);
    }
    emu_coll_kind.free(a);
    emu_coll_kind.free(NULL);
    emu_t_free(&t);
}

/* 4 threads x 1000 read-modify-write cycles on one entity, each retrying on
 * 409: no update is lost, so the final version is 1 + the successful PUTs and
 * the counter every PUT incremented equals them. */
#define RMW_THREADS 4
#define RMW_CYCLES  1000

typedef struct rmw_arg {
    void *st;
    int id;
    int ok, conflicts;
} rmw_arg;

static void *rmw_thread(void *p)
{
    rmw_arg *a = p;
    emu_t t;
    char body[128];

    emu_t_init(&t, (uint64_t)a->id + 100);
    for (int i = 0; i < RMW_CYCLES; i++) {
        for (;;) {
            json_t *j;
            json_int_t v, count;
            int status;

            emu_t_req(&t, "GET", "/c/seed-1", NULL, "org", 1, WALL);
            if (emu_t_run(&t, &emu_coll_kind, a->st) != 200)
                return NULL;
            j = emu_t_json(&t);
            v = json_integer_value(json_object_get(j, "version"));
            count = json_integer_value(json_object_get(j, "count"));
            json_decref(j);
            snprintf(body, sizeof(body), "{\"version\": %lld, \"count\": %lld}", (long long)v,
                     (long long)count + 1);
            emu_t_req(&t, "PUT", "/c/seed-1", body, "org", 1, WALL);
            status = emu_t_run(&t, &emu_coll_kind, a->st);
            if (status == 200) {
                a->ok++;
                break;
            }
            if (status != 409)
                return NULL;
            a->conflicts++;
        }
    }
    emu_t_free(&t);
    return NULL;
}

static void test_concurrent_puts(void **state)
{
    void *st = make("options: {name: c, base: /c, seed: 1}\n");
    pthread_t th[RMW_THREADS];
    rmw_arg args[RMW_THREADS];
    int ok = 0, conflicts = 0;
    emu_t t;
    json_t *j;

    (void)state;
    emu_t_init(&t, 1);
    assert_int_equal(call(&t, st, "PUT", "/c/seed-1", "{\"version\": 1, \"count\": 0}", "org"),
                     200);
    for (int i = 0; i < RMW_THREADS; i++) {
        args[i] = (rmw_arg){.st = st, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, rmw_thread, &args[i]), 0);
    }
    for (int i = 0; i < RMW_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        conflicts += args[i].conflicts;
    }
    assert_int_equal(ok, RMW_THREADS * RMW_CYCLES);
    assert_int_equal(call(&t, st, "GET", "/c/seed-1", NULL, "org"), 200);
    j = json_of(&t);
    assert_int_equal(int_of(j, "version"), 2 + ok); /* 1, + the setup PUT, + every success */
    assert_int_equal(int_of(j, "count"), ok);
    json_decref(j);
    print_message("concurrent PUTs: %d ok, %d conflicts (409) retried\n", ok, conflicts);
    emu_coll_kind.free(st);
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
        cmocka_unit_test(test_crud),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_seed_and_bounds),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_concurrent_puts),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
