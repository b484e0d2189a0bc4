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
#include "serve/emulate.h"

#define S    1000000000ULL
#define T0   (1000 * S)
#define WALL (1767225600 * S)
#define BASE "/api/v2/analytics/conversations/details/jobs"
#define DAY  "{\"interval\": \"2026-01-01T00:00:00Z/2026-01-02T00:00:00Z\"}"

static config_doc doc;
static char err[CONFIG_ERRLEN];
static void *st;
static emu_t t;

static int make(const char *yaml)
{
    assert_int_equal(config_load_string(&doc, "p.yaml", yaml, strlen(yaml), err, sizeof(err)), 0);
    return emu_jobs_kind.init(&st, &doc, config_map_get(&doc, config_root(&doc), "options"), NULL,
                              err, sizeof(err));
}

static int setup(void **state)
{
    (void)state;
    emu_t_init(&t, 5);
    assert_int_equal(make("options: {run_after: 2s, fulfil_after: 5s, expire_after: 1h, results: "
                          "250, page_size: 100, max_jobs: 3, max_interval: 744h}\n"),
                     0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    emu_jobs_kind.free(st);
    config_free(&doc);
    emu_t_free(&t);
    return 0;
}

static int call(const char *method, const char *target, const char *body, const char *org,
                uint64_t now)
{
    emu_t_req(&t, method, target, body, org, now, WALL + now);
    return emu_t_run(&t, &emu_jobs_kind, st);
}

/* Submits a job at `now`; its id goes into id. */
static void submit(const char *body, const char *org, uint64_t now, char id[EMU_UUID_LEN + 1])
{
    json_t *j;

    assert_int_equal(call("POST", BASE, body, org, now), 202);
    j = emu_t_json(&t);
    snprintf(id, EMU_UUID_LEN + 1, "%s", json_string_value(json_object_get(j, "jobId")));
    assert_int_equal(strlen(id), EMU_UUID_LEN);
    json_decref(j);
}

/* The job's state at `now`, or NULL when the GET is not a 200. */
static const char *state_at(const char *id, const char *org, uint64_t now)
{
    static char out[32];
    char target[128];
    json_t *j;

    snprintf(target, sizeof(target), BASE "/%s", id);
    if (call("GET", target, NULL, org, now) != 200)
        return NULL;
    j = emu_t_json(&t);
    snprintf(out, sizeof(out), "%s", json_string_value(json_object_get(j, "state")));
    assert_string_equal(json_string_value(json_object_get(j, "id")), id);
    json_decref(j);
    return out;
}

static void test_states(void **state)
{
    char id[EMU_UUID_LEN + 1], target[128];
    json_t *j;

    (void)state;
    submit(DAY, "org-1", T0, id);
    assert_string_equal(state_at(id, "org-1", T0), "QUEUED");
    assert_string_equal(state_at(id, "org-1", T0 + 2 * S - 1), "QUEUED");
    assert_string_equal(state_at(id, "org-1", T0 + 2 * S), "RUNNING");
    assert_string_equal(state_at(id, "org-1", T0 + 5 * S - 1), "RUNNING");
    assert_string_equal(state_at(id, "org-1", T0 + 5 * S), "FULFILLED");
    j = emu_t_json(&t);
    assert_string_equal(json_string_value(json_object_get(j, "submissionDate")),
                        "2026-01-01T00:16:40.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "expirationDate")),
                        "2026-01-01T01:16:40.000Z");
    json_decref(j);
    assert_string_equal(state_at(id, "org-1", T0 + 3600 * S - 1), "FULFILLED");
    assert_string_equal(state_at(id, "org-1", T0 + 3600 * S), "EXPIRED");
    assert_string_equal(state_at(id, "org-1", T0 + 7200 * S - 1), "EXPIRED");
    assert_null(state_at(id, "org-1", T0 + 7200 * S)); /* reaped */
    assert_int_equal(t.resp.status, 404);
    /* another org never sees it */
    submit(DAY, "org-1", T0, id);
    assert_null(state_at(id, "org-2", T0 + 5 * S));
    assert_int_equal(t.resp.status, 404);
    /* results before FULFILLED, and after EXPIRED: 409 with the state */
    snprintf(target, sizeof(target), BASE "/%s/results", id);
    assert_int_equal(call("GET", target, NULL, "org-1", T0 + 3 * S), 409);
    j = emu_t_json(&t);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "RUNNING");
    assert_string_equal(json_string_value(json_object_get(j, "code")), "conflict");
    json_decref(j);
    assert_int_equal(call("GET", target, NULL, "org-1", T0 + 3600 * S), 409);
    assert_int_equal(call("GET", target, NULL, "org-2", T0 + 10 * S), 404);
}

/* Pages of 100, 100, 50 follow the cursors to the end; together they are
 * the interval's first 250 conversations, as the query endpoint has them. */
static void test_results(void **state)
{
    char id[EMU_UUID_LEN + 1], target[256], cursor[64] = "";
    emu_convs cv;
    buf expect, got;
    int pages = 0;

    (void)state;
    submit(DAY, "org-1", T0, id);
    buf_init(&expect, 0);
    buf_init(&got, 0);
    for (;;) {
        json_t *j, *convs;
        const json_t *next;

        if (cursor[0] != '\0')
            snprintf(target, sizeof(target), BASE "/%s/results?cursor=%s", id, cursor);
        else
            snprintf(target, sizeof(target), BASE "/%s/results", id);
        assert_int_equal(call("GET", target, NULL, "org-1", T0 + 6 * S), 200);
        j = emu_t_json(&t);
        convs = json_object_get(j, "conversations");
        assert_int_equal(json_array_size(convs), pages < 2 ? 100 : 50);
        for (size_t i = 0; i < json_array_size(convs); i++) {
            char *s = json_dumps(json_array_get(convs, i), JSON_COMPACT | JSON_PRESERVE_ORDER);

            buf_append_str(&got, s);
            free(s);
        }
        pages++;
        next = json_object_get(j, "cursor");
        if (next == NULL) {
            json_decref(j);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(j);
        assert_true(pages < 10);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(emu_convs_init(&cv, "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", 41), 0);
    for (uint64_t i = 0; i < 250; i++)
        assert_int_equal(emu_convs_append(&cv, i, &expect), 0);
    assert_int_equal(got.len, expect.len);
    assert_memory_equal(buf_ptr(&got), buf_ptr(&expect), got.len);
    /* cursors that were never handed out */
    snprintf(target, sizeof(target), BASE "/%s/results?cursor=garbage!", id);
    assert_int_equal(call("GET", target, NULL, "org-1", T0 + 6 * S), 400);
    snprintf(target, sizeof(target), BASE "/%s/results?cursor=MjUw", id); /* "250" */
    assert_int_equal(call("GET", target, NULL, "org-1", T0 + 6 * S), 400);
    snprintf(target, sizeof(target), BASE "/%s/results?cursor=MTAw", id); /* "100" */
    assert_int_equal(call("GET", target, NULL, "org-1", T0 + 6 * S), 200);
    buf_free(&expect);
    buf_free(&got);
}

static void test_cancel_and_fail(void **state)
{
    char id[EMU_UUID_LEN + 1], target[128];
    json_t *j;

    (void)state;
    submit(DAY, "org-1", T0, id);
    snprintf(target, sizeof(target), BASE "/%s", id);
    assert_int_equal(call("DELETE", target, NULL, "org-1", T0 + 3 * S), 202);
    assert_int_equal(t.body.len, 0);
    assert_string_equal(state_at(id, "org-1", T0 + 3 * S), "CANCELLED");
    assert_string_equal(state_at(id, "org-1", T0 + 3599 * S), "CANCELLED");
    /* deleting a finished job removes it */
    assert_int_equal(call("DELETE", target, NULL, "org-1", T0 + 10 * S), 202);
    assert_null(state_at(id, "org-1", T0 + 10 * S));
    assert_int_equal(call("DELETE", target, NULL, "org-1", T0 + 10 * S), 404);
    /* an interval over max_interval (31 days) fails when it would fulfil */
    submit("{\"interval\": \"2026-01-01T00:00:00Z/2026-02-01T00:00:01Z\"}", "org-1", T0, id);
    assert_string_equal(state_at(id, "org-1", T0 + 4 * S), "RUNNING");
    assert_string_equal(state_at(id, "org-1", T0 + 5 * S), "FAILED");
    j = emu_t_json(&t);
    assert_non_null(json_string_value(json_object_get(j, "errorMessage")));
    json_decref(j);
    assert_string_equal(state_at(id, "org-1", T0 + 3600 * S), "FAILED");
    submit("{\"interval\": \"2026-01-01T00:00:00Z/2026-02-01T00:00:00Z\"}", "org-1", T0, id);
    assert_string_equal(state_at(id, "org-1", T0 + 5 * S), "FULFILLED");
}

/* max_jobs 3: a fourth job is refused, Retry-After until the soonest one
 * expires; a finished one (cancelled, failed, expired) makes room; other
 * orgs are unaffected. */
static void test_bound(void **state)
{
    char ids[4][EMU_UUID_LEN + 1], target[128], other[EMU_UUID_LEN + 1];
    json_t *j;

    (void)state;
    submit(DAY, "org-1", T0, ids[0]);
    submit(DAY, "org-1", T0 + S, ids[1]);
    submit(DAY, "org-1", T0 + 2 * S, ids[2]);
    assert_int_equal(call("POST", BASE, DAY, "org-1", T0 + 3 * S), 429);
    j = emu_t_json(&t);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "too.many.requests");
    json_decref(j);
    buf_append(&t.headers, "", 1);
    assert_string_equal(buf_ptr(&t.headers), "Retry-After: 3597\r\n");
    submit(DAY, "org-2", T0 + 3 * S, other);
    snprintf(target, sizeof(target), BASE "/%s", ids[1]);
    assert_int_equal(call("DELETE", target, NULL, "org-1", T0 + 3 * S), 202); /* cancelled */
    submit(DAY, "org-1", T0 + 4 * S, ids[3]);
    assert_null(state_at(ids[1], "org-1", T0 + 4 * S)); /* made room */
    assert_string_equal(state_at(ids[0], "org-1", T0 + 4 * S), "RUNNING");
    assert_int_equal(call("POST", BASE, DAY, "org-1", T0 + 3600 * S - 1), 429);
    buf_append(&t.headers, "", 1);
    assert_string_equal(buf_ptr(&t.headers), "Retry-After: 1\r\n");
    submit(DAY, "org-1", T0 + 3600 * S, ids[1]); /* the first one expired: it goes */
    assert_null(state_at(ids[0], "org-1", T0 + 3600 * S));
    assert_string_equal(state_at(ids[2], "org-1", T0 + 3600 * S), "FULFILLED");
}

static void test_requests(void **state)
{
    char id[EMU_UUID_LEN + 1], target[128];
    void *d = NULL, *kept;

    (void)state;
    assert_int_equal(call("POST", BASE, "{}", "o", T0), 400);
    assert_int_equal(call("POST", BASE, "{\"interval\": \"2026\"}", "o", T0), 400);
    assert_int_equal(call("POST", BASE, "x", "o", T0), 400);
    assert_int_equal(call("GET", BASE, NULL, "o", T0), 405);
    submit(DAY, "o", T0, id);
    snprintf(target, sizeof(target), BASE "/%s", id);
    assert_int_equal(call("PUT", target, "{}", "o", T0), 405);
    buf_append(&t.headers, "", 1);
    assert_string_equal(buf_ptr(&t.headers), "Allow: GET, DELETE\r\n");
    snprintf(target, sizeof(target), BASE "/%s/results", id);
    assert_int_equal(call("DELETE", target, NULL, "o", T0), 405);
    snprintf(target, sizeof(target), BASE "/%s/other", id);
    assert_int_equal(call("GET", target, NULL, "o", T0), 404);
    assert_int_equal(call("GET", BASE "/nope", NULL, "o", T0), 404);
    assert_int_equal(call("GET", "/api/v2/elsewhere", NULL, "o", T0), 404);
    /* option errors */
    config_free(&doc);
    assert_int_equal(make("options: {run_after: 6s, fulfil_after: 5s}\n"), -EINVAL);
    assert_non_null(strstr(err, "run_after <= fulfil_after < expire_after"));
    config_free(&doc);
    assert_int_equal(make("options: {fulfil_afterr: 5s}\n"), -EINVAL);
    assert_non_null(strstr(err, "did you mean 'fulfil_after'"));
    config_free(&doc);
    assert_int_equal(make("options: {page_size: 0}\n"), -ERANGE);
    config_free(&doc);
    /* defaults: run_after 2s, fulfil_after 5s */
    assert_int_equal(emu_jobs_kind.init(&d, NULL, NULL, NULL, err, sizeof(err)), 0);
    kept = st;
    st = d;
    submit(DAY, "o", T0, id);
    assert_string_equal(state_at(id, "o", T0 + 2 * S - 1), "QUEUED");
    assert_string_equal(state_at(id, "o", T0 + 5 * S - 1), "RUNNING");
    assert_string_equal(state_at(id, "o", T0 + 5 * S), "FULFILLED");
    st = kept;
    emu_jobs_kind.free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
