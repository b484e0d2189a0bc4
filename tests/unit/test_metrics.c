#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "serve/metrics.h"

static const char *const les[] = {"0.0001", "0.0005", "0.001", "0.0025", "0.005", "0.01",
                                  "0.025",  "0.05",   "0.1",   "0.25",   "0.5",   "1",
                                  "2.5",    "5",      "10",    "+Inf"};

/* The bucket lines of one route whose cumulative counts are cum[]. */
static void buckets(buf *out, const char *route, const unsigned cum[16])
{
    for (int i = 0; i < 16; i++)
        buf_printf(out, "tollgate_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %u\n",
                   route, les[i], cum[i]);
}

static void test_render(void **state)
{
    const char *routes[] = {"/a", "/b\"\\"};
    const char *limits[] = {"first", "second"};
    metrics_gauges g = {7, 100, 0};
    static const unsigned cum_a[16] = {0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3};
    static const unsigned cum_b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    static const unsigned cum_none[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    metrics_worker *w0, *w1;
    buf out, want;
    metrics *m;

    (void)state;
    assert_int_equal(metrics_new(&m, 2, routes, 2, limits, 2), 0);
    w0 = metrics_worker_of(m, 0);
    w1 = metrics_worker_of(m, 1);
    metrics_request(w0, 0, 200, 300000);      /* 300 us */
    metrics_request(w0, -1, 404, 0);          /* no route */
    metrics_request(w1, 0, 200, 2000000);     /* 2 ms */
    metrics_request(w1, 0, 418, 20000000000); /* a status without its own slot; 20 s */
    metrics_request(w1, 1, 503, 500000000);   /* 500 ms, on the bound */
    metrics_throttled(w0, 1);
    metrics_throttled(w1, 1);
    metrics_throttled(w1, 1);
    metrics_inflight(w0, 2);
    metrics_inflight(w1, -1);
    metrics_conns(w1, 3);

    buf_init(&out, 0);
    buf_init(&want, 0);
    assert_int_equal(metrics_render(m, &g, &out), 0);
    buf_append_str(&want,
                   "# HELP tollgate_requests_total Responses sent, by route (pattern as "
                   "configured) and status.\n"
                   "# TYPE tollgate_requests_total counter\n"
                   "tollgate_requests_total{route=\"/a\",status=\"200\"} 2\n"
                   "tollgate_requests_total{route=\"/a\",status=\"4xx\"} 1\n"
                   "tollgate_requests_total{route=\"/b\\\"\\\\\",status=\"503\"} 1\n"
                   "tollgate_requests_total{route=\"(none)\",status=\"404\"} 1\n"
                   "# HELP tollgate_throttled_total Requests rejected with 429, by violated "
                   "limit.\n"
                   "# TYPE tollgate_throttled_total counter\n"
                   "tollgate_throttled_total{limit=\"second\"} 3\n"
                   "# HELP tollgate_request_duration_seconds Time from a complete request to its "
                   "response, by route.\n"
                   "# TYPE tollgate_request_duration_seconds histogram\n");
    buckets(&want, "/a", cum_a);
    buf_append_str(&want, "tollgate_request_duration_seconds_sum{route=\"/a\"} 20.002300000\n"
                          "tollgate_request_duration_seconds_count{route=\"/a\"} 3\n");
    buckets(&want, "/b\\\"\\\\", cum_b);
    buf_append_str(&want,
                   "tollgate_request_duration_seconds_sum{route=\"/b\\\"\\\\\"} 0.500000000\n"
                   "tollgate_request_duration_seconds_count{route=\"/b\\\"\\\\\"} 1\n");
    buckets(&want, "(none)", cum_none);
    buf_append_str(&want,
                   "tollgate_request_duration_seconds_sum{route=\"(none)\"} 0.000000000\n"
                   "tollgate_request_duration_seconds_count{route=\"(none)\"} 1\n"
                   "# HELP tollgate_in_flight_requests Requests received and not answered yet.\n"
                   "# TYPE tollgate_in_flight_requests gauge\n"
                   "tollgate_in_flight_requests 1\n"
                   "# HELP tollgate_open_connections Client connections open.\n"
                   "# TYPE tollgate_open_connections gauge\n"
                   "tollgate_open_connections 3\n"
                   "# HELP tollgate_limit_keys Keys held by the limit store.\n"
                   "# TYPE tollgate_limit_keys gauge\n"
                   "tollgate_limit_keys 7\n"
                   "# HELP tollgate_limit_keys_max Most keys the limit store holds.\n"
                   "# TYPE tollgate_limit_keys_max gauge\n"
                   "tollgate_limit_keys_max 100\n"
                   "# HELP tollgate_draining 1 while shutting down (finishing in-flight "
                   "requests).\n"
                   "# TYPE tollgate_draining gauge\n"
                   "tollgate_draining 0\n");
    buf_append(&out, "", 1);
    buf_append(&want, "", 1);
    assert_string_equal(buf_ptr(&out), buf_ptr(&want));
    buf_free(&out);
    buf_free(&want);
    metrics_free(m);
}

static void test_empty(void **state)
{
    metrics_gauges g = {0, 64, 1};
    buf out;
    metrics *m;

    (void)state;
    assert_int_equal(metrics_new(&m, 1, NULL, 0, NULL, 0), 0);
    buf_init(&out, 0);
    assert_int_equal(metrics_render(m, &g, &out), 0);
    buf_append(&out, "", 1);
    /* no series without samples, but every gauge */
    assert_null(strstr(buf_ptr(&out), "tollgate_requests_total{"));
    assert_null(strstr(buf_ptr(&out), "_bucket{"));
    assert_non_null(strstr(buf_ptr(&out), "\ntollgate_in_flight_requests 0\n"));
    assert_non_null(strstr(buf_ptr(&out), "\ntollgate_draining 1\n"));
    buf_free(&out);
    metrics_free(m);
    metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
