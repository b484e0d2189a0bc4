#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_req.h"
#include "core/config.h"
#include "serve/emu_analytics.h"
#include "serve/emu_time.h"
#include "serve/emulate.h"

#define S    1000000000ULL
#define WALL (1767268800 * S) /* 2026-01-01T12:00:00Z */
#define DAY  "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"

static void *query_state(const char *yaml)
{
    config_doc doc;
    char err[CONFIG_ERRLEN];
    void *st = NULL;

    assert_int_equal(config_load_string(&doc, "p.yaml", yaml, strlen(yaml), err, sizeof(err)), 0);
    assert_int_equal(emu_query_kind.init(&st, &doc,
                                         config_map_get(&doc, config_root(&doc), "options"), NULL,
                                         err, sizeof(err)),
                     0);
    config_free(&doc);
    return st;
}

static int query(emu_t *t, void *st, const char *body)
{
    emu_t_req(t, "POST", "/api/v2/analytics/conversations/details/query", body, "org-1", 1, WALL);
    return emu_t_run(t, &emu_query_kind, st);
}

static int convs(emu_convs *cv, const char *interval)
{
    return emu_convs_init(cv, interval, strlen(interval));
}

static void test_convs(void **state)
{
    emu_convs a, b;
    buf x, y;

    (void)state;
    assert_int_equal(emu_convs_init(&a, DAY, strlen(DAY)), 0);
    assert_int_equal(a.start_ms, 1767225600000LL);
    assert_int_equal(a.end_ms, 1767312000000LL);
    assert_true(a.total >= 24 * 40 && a.total <= 24 * 80 && a.total % 24 == 0);
    /* another spelling of the same interval is another data set */
    assert_int_equal(convs(&b, "2026-01-01T00:00:00.000Z/2026-01-02T00:00:00Z"), 0);
    assert_int_not_equal(a.seed, b.seed);
    /* 90 minutes: two started hours */
    assert_int_equal(convs(&b, "2026-01-01T00:00:00Z/2026-01-01T01:30:00Z"), 0);
    assert_true(b.total >= 80 && b.total <= 160 && b.total % 2 == 0);
    /* 10 ms: at most one conversation per ms */
    assert_int_equal(convs(&b, "2026-01-01T00:00:00Z/2026-01-01T00:00:00.010Z"), 0);
    assert_int_equal(b.total, 10);
    /* a century: capped */
    assert_int_equal(convs(&b, "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z"), 0);
    assert_int_equal(b.total, EMU_CONVS_MAX);
    assert_int_equal(convs(&b, "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z"), -EINVAL);
    assert_int_equal(convs(&b, "2026-01-01T00:00:00Z/2026-01-01T00:00:00Z"), -EINVAL);
    assert_int_equal(convs(&b, ""), -EINVAL);
    /* conversation i is the same alone or within a range; starts increase */
    buf_init(&x, 0);
    buf_init(&y, 0);
    assert_int_equal(emu_convs_append_range(&a, 5, 3, &x), 0);
    assert_int_equal(emu_convs_append(&a, 6, &y), 0);
    buf_append(&x, "", 1);
    buf_append(&y, "", 1);
    assert_non_null(strstr(buf_ptr(&x), buf_ptr(&y)));
    {
        char prev[EMU_TIME_LEN + 1] = "";

        for (uint64_t i = 0; i < a.total; i += 97) {
            json_t *j;
            const char *start;

            buf_reset(&y);
            assert_int_equal(emu_convs_append(&a, i, &y), 0);
            j = json_loadb(buf_ptr(&y), y.len, 0, NULL);
            assert_non_null(j);
            start = json_string_value(json_object_get(j, "conversationStart"));
            assert_non_null(start);
            assert_true(strcmp(start, prev) > 0);
            assert_true(strcmp(start, "2026-01-01T00:00:00.000Z") >= 0);
            assert_true(strcmp(start, "2026-01-02T00:00:00.000Z") < 0);
            snprintf(prev, sizeof(prev), "%s", start);
            assert_int_equal(json_array_size(json_object_get(j, "participants")), 2);
            json_decref(j);
        }
    }
    buf_free(&x);
    buf_free(&y);
}

/* Same query, same bytes: on another handler state and another rng too. */
static void test_query_deterministic(void **state)
{
    void *s1 = query_state("options: {max_page_size: 100}\n"), *s2 = query_state("x: 1\n");
    emu_t t1, t2;
    const char *body =
        "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 50, \"pageNumber\": 3}}";

    (void)state;
    emu_t_init(&t1, 1);
    emu_t_init(&t2, 2);
    assert_int_equal(query(&t1, s1, body), 200);
    assert_int_equal(query(&t2, s2, body), 200);
    assert_int_equal(t1.body.len, t2.body.len);
    assert_memory_equal(buf_ptr(&t1.body), buf_ptr(&t2.body), t1.body.len);
    assert_string_equal(t1.resp.content_type, "application/json");
    assert_int_equal(query(&t2, s2,
                           "{\"interval\": \"2026-01-01T00:00:00Z/2026-01-03T00:00:00Z\", "
                           "\"paging\": {\"pageSize\": 50, \"pageNumber\": 3}}"),
                     200);
    assert_false(t1.body.len == t2.body.len &&
                 memcmp(buf_ptr(&t1.body), buf_ptr(&t2.body), t1.body.len) == 0);
    emu_query_kind.free(s1);
    emu_query_kind.free(s2);
    emu_t_free(&t1);
    emu_t_free(&t2);
}

/* Page 2 of 10 is items 10..19 of one page of 30; the last page is short;
 * past the end is empty; totalHits is the interval's count. */
static void test_query_paging(void **state)
{
    void *st = query_state("options: {max_page_size: 30}\n");
    emu_t t;
    emu_convs cv;
    json_t *big, *j;
    char body[256];
    uint64_t last;

    (void)state;
    emu_t_init(&t, 1);
    assert_int_equal(emu_convs_init(&cv, DAY, strlen(DAY)), 0);
    assert_int_equal(query(&t, st, "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 30}}"),
                     200);
    big = emu_t_json(&t);
    assert_int_equal(json_integer_value(json_object_get(big, "totalHits")), cv.total);
    assert_int_equal(json_array_size(json_object_get(big, "conversations")), 30);
    assert_int_equal(query(&t, st,
                           "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 10, "
                           "\"pageNumber\": 2}, \"order\": \"asc\"}"),
                     200);
    j = emu_t_json(&t);
    for (size_t i = 0; i < 10; i++)
        assert_true(json_equal(json_array_get(json_object_get(j, "conversations"), i),
                               json_array_get(json_object_get(big, "conversations"), 10 + i)));
    json_decref(j);
    json_decref(big);
    /* defaults: 25 per page, page 1 */
    assert_int_equal(query(&t, st, "{\"interval\": \"" DAY "\"}"), 200);
    j = emu_t_json(&t);
    assert_int_equal(json_array_size(json_object_get(j, "conversations")), 25);
    json_decref(j);
    last = (cv.total + 29) / 30;
    snprintf(body, sizeof(body),
             "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 30, \"pageNumber\": %llu}}",
             (unsigned long long)last);
    assert_int_equal(query(&t, st, body), 200);
    j = emu_t_json(&t);
    assert_int_equal(json_array_size(json_object_get(j, "conversations")),
                     cv.total - (last - 1) * 30);
    json_decref(j);
    snprintf(body, sizeof(body),
             "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 30, \"pageNumber\": %llu}}",
             (unsigned long long)last + 1);
    assert_int_equal(query(&t, st, body), 200);
    j = emu_t_json(&t);
    assert_int_equal(json_array_size(json_object_get(j, "conversations")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "totalHits")), cv.total);
    json_decref(j);
    emu_query_kind.free(st);
    emu_t_free(&t);
}

static void test_query_errors(void **state)
{
    void *st = query_state("options: {max_page_size: 30}\n");
    emu_t t;
    json_t *j;

    (void)state;
    emu_t_init(&t, 1);
    assert_int_equal(query(&t, st, "{}"), 400);
    j = emu_t_json(&t);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "bad.request");
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "interval"));
    json_decref(j);
    assert_int_equal(query(&t, st, "{\"interval\": \"yesterday\"}"), 400);
    assert_int_equal(query(&t, st, "{\"interval\": \"2026-01-01T00:00:00Z\"}"), 400);
    assert_int_equal(query(&t, st, "{\"interval\": \"2026-02-30T00:00:00Z/2026-03-01T00:00:00Z\"}"),
                     400);
    assert_int_equal(query(&t, st, "{\"interval\": 5}"), 400);
    assert_int_equal(query(&t, st, "nope"), 400);
    assert_int_equal(query(&t, st, "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 31}}"),
                     400);
    assert_int_equal(query(&t, st, "{\"interval\": \"" DAY "\", \"paging\": {\"pageSize\": 0}}"),
                     400);
    assert_int_equal(
        query(&t, st, "{\"interval\": \"" DAY "\", \"paging\": {\"pageNumber\": \"1\"}}"), 400);
    assert_int_equal(query(&t, st, "{\"interval\": \"" DAY "\", \"paging\": 3}"), 400);
    emu_t_req(&t, "GET", "/q", NULL, NULL, 1, WALL);
    assert_int_equal(emu_t_run(&t, &emu_query_kind, st), 405);
    emu_query_kind.free(st);
    emu_t_free(&t);
}

static void test_summary(void **state)
{
    char err[CONFIG_ERRLEN];
    void *st = NULL;
    emu_t t;
    json_t *j, *k;

    (void)state;
    assert_int_equal(emu_summary_kind.init(&st, NULL, NULL, NULL, err, sizeof(err)), 0);
    emu_t_init(&t, 1);
    /* no interval: today (UTC) */
    emu_t_req(&t, "GET", "/summary", NULL, "org-1", 1, WALL);
    assert_int_equal(emu_t_run(&t, &emu_summary_kind, st), 200);
    j = emu_t_json(&t);
    assert_string_equal(json_string_value(json_object_get(j, "interval")),
                        "2026-01-01T00:00:00.000Z/2026-01-02T00:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(j, "inbound")) +
                         json_integer_value(json_object_get(j, "outbound")),
                     json_integer_value(json_object_get(j, "conversationCount")));
    assert_true(json_is_real(json_object_get(j, "abandonRate")));
    /* the same interval, given explicitly and percent-encoded, is the same summary */
    emu_t_req(&t, "GET",
              "/summary?interval=2026-01-01T00%3A00%3A00.000Z%2F2026-01-02T00:00:00.000Z", NULL,
              "org-2", 1, WALL + 86400 * S);
    assert_int_equal(emu_t_run(&t, &emu_summary_kind, st), 200);
    k = emu_t_json(&t);
    assert_true(json_equal(j, k));
    json_decref(j);
    json_decref(k);
    emu_t_req(&t, "GET", "/summary?interval=bad", NULL, "org-1", 1, WALL);
    assert_int_equal(emu_t_run(&t, &emu_summary_kind, st), 400);
    emu_t_req(&t, "POST", "/summary", "{}", "org-1", 1, WALL);
    assert_int_equal(emu_t_run(&t, &emu_summary_kind, st), 405);
    emu_summary_kind.free(st);
    emu_t_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convs),        cmocka_unit_test(test_query_deterministic),
        cmocka_unit_test(test_query_paging), cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
