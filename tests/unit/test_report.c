#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "report_fixture.h"

static void test_rates(void **state)
{
    stats s;
    report_rates r;
    (void)state;
    assert_int_equal(stats_init(&s, 2, FX_START), 0);
    fx_fill(&s);
    report_meta m = fx_meta(NULL, 0);

    report_rates_of(&m, &s, &r);
    assert_true(r.target == 2.0);
    assert_true(fabs(r.offered - 1.3) < 1e-12);  /* 13 sent in 10 s */
    assert_true(fabs(r.achieved - 1.2) < 1e-12); /* 12 ended */
    assert_true(fabs(r.goodput - 0.8) < 1e-12);  /* 8 logical ok */

    /* Closed model, zero duration. */
    m.target_rate = 0;
    m.duration_ns = 0;
    report_rates_of(&m, &s, &r);
    assert_true(r.target == 0 && r.offered == 0 && r.achieved == 0 && r.goodput == 0);

    /* An engine that never calls stats_add_sent: offered is at least achieved. */
    m.duration_ns = 10 * FX_S;
    s.total.sent = 0;
    report_rates_of(&m, &s, &r);
    assert_true(fabs(r.offered - 1.2) < 1e-12);
    stats_free(&s);
}

static void test_metrics(void **state)
{
    stats s;
    threshold_metrics tm;
    (void)state;
    assert_int_equal(stats_init(&s, 2, FX_START), 0);
    fx_fill(&s);
    report_meta m = fx_meta(NULL, 0);
    report_metrics(&m, &s, &tm);

    assert_true(fabs(tm.throttled_ratio - 2.0 / 12) < 1e-12);
    assert_true(fabs(tm.error_ratio - 2.0 / 10) < 1e-12);
    assert_true(fabs(tm.retry_ratio - 2.0 / 10) < 1e-12);
    assert_true(fabs(tm.dropped_ratio - 5.0 / 14) < 1e-12); /* 9 started, 5 dropped */
    /* 11 latencies: 5 5 10 10 10 10 10 10 20 20 40 (ms). */
    assert_int_equal(tm.attempt.p50, hist_highest_equivalent(10 * FX_MS));
    assert_int_equal(tm.attempt.p99, 40 * FX_MS);
    assert_int_equal(tm.attempt.max, 40 * FX_MS);
    assert_true(fabs((double)tm.attempt.mean - 150.0 / 11 * FX_MS) < 150.0 / 11 * FX_MS / 1000);
    /* 10 end to end: 6 x 100, 2 x 50, 2 x 3000 (ms). */
    assert_int_equal(tm.end_to_end.p50, hist_highest_equivalent(100 * FX_MS));
    assert_int_equal(tm.end_to_end.max, 3000 * FX_MS);
    assert_true(fabs(tm.rate - 1.2) < 1e-12);
    assert_true(fabs(tm.goodput - 0.8) < 1e-12);
    assert_true(tm.has_first_throttle);
    assert_true(fabs(tm.first_throttle_s - 2.5) < 1e-12);
    assert_int_equal(tm.logical, 10);
    assert_int_equal(tm.attempts, 12);
    assert_int_equal(tm.ok, 8);
    assert_int_equal(tm.throttled, 2);
    assert_int_equal(tm.client_error, 0);
    assert_int_equal(tm.server_error, 1);
    assert_int_equal(tm.network_error, 1);
    assert_int_equal(tm.retries, 2);
    assert_int_equal(tm.dropped, 5);
    stats_free(&s);

    /* Without iterations counted, logical requests stand in. */
    s.total.iterations = 0;
    report_metrics(&m, &s, &tm);
    assert_true(fabs(tm.dropped_ratio - 5.0 / 15) < 1e-12);
    stats_free(&s);

    /* Nothing at all: ratios NaN (a threshold on them fails), no throttle. */
    assert_int_equal(stats_init(&s, 0, FX_START), 0);
    report_metrics(&m, &s, &tm);
    assert_true(isnan(tm.throttled_ratio) && isnan(tm.error_ratio) && isnan(tm.retry_ratio) &&
                isnan(tm.dropped_ratio));
    threshold t;
    threshold_result r;
    char err[128];
    assert_int_equal(threshold_parse(&t, "throttled_ratio < 0.01", err, sizeof(err)), 0);
    m.thresholds = &t;
    m.n_thresholds = 1;
    assert_int_equal(report_eval_thresholds(&m, &s, &r), 1);
    assert_false(r.pass);
    assert_false(tm.has_first_throttle);
    assert_int_equal(tm.attempt.p99, 0);
    stats_free(&s);
}

static void test_thresholds(void **state)
{
    static const char *const exprs[] = {"p99 < 500ms", "throttled_ratio < 0.1", "goodput > 0.5/s",
                                        "first_throttle_s > 5", "error_ratio < 50%"};
    threshold t[5];
    threshold_result res[5];
    char err[256];
    stats s;
    (void)state;
    for (int i = 0; i < 5; i++)
        assert_int_equal(threshold_parse(&t[i], exprs[i], err, sizeof(err)), 0);
    assert_int_equal(stats_init(&s, 2, FX_START), 0);
    fx_fill(&s);
    report_meta m = fx_meta(t, 5);

    assert_int_equal(report_eval_thresholds(&m, &s, res), 2);
    assert_true(res[0].pass);
    assert_true(fabs(res[0].value - 40.0) < 1e-9);
    assert_false(res[1].pass);
    assert_true(fabs(res[1].value - 2.0 / 12) < 1e-12);
    assert_true(res[2].pass);
    assert_false(res[3].pass);
    assert_true(fabs(res[3].value - 2.5) < 1e-12);
    assert_true(res[4].pass);

    m.n_thresholds = 0;
    assert_int_equal(report_eval_thresholds(&m, &s, res), 0);
    stats_free(&s);
}

static void test_step_names(void **state)
{
    static const char *const names[] = {"login", "", "get", "login", NULL, "login"};
    report_meta m = {.step_names = names, .n_steps = 6};
    char b[64];
    (void)state;
    assert_string_equal(report_step_name(&m, 0, b, sizeof(b)), "login");
    assert_string_equal(report_step_name(&m, 1, b, sizeof(b)), "step 2");
    assert_string_equal(report_step_name(&m, 2, b, sizeof(b)), "get");
    assert_string_equal(report_step_name(&m, 3, b, sizeof(b)), "login #2");
    assert_string_equal(report_step_name(&m, 4, b, sizeof(b)), "step 5");
    assert_string_equal(report_step_name(&m, 5, b, sizeof(b)), "login #3");
    assert_string_equal(report_step_name(&m, 6, b, sizeof(b)), "step 7"); /* beyond the names */
    assert_string_equal(report_step_name(&m, 0, b, 4), "log");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_step_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
