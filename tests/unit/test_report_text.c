#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_fixture.h"
#include "run/report_text.h"

/* The summary as one string (the caller frees it). */
static char *summary(const report_meta *m, const stats *s, const threshold_result *res,
                     bool latency)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(report_text_write(out, m, s, res, latency), 0);
    fclose(out);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);
    while ((p = strstr(p, line))) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
        p++;
    }
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_summary(void **state)
{
    static const char *const exprs[] = {"p99 < 500ms", "throttled_ratio < 0.1", "goodput > 0.5/s",
                                        "first_throttle_s > 5", "attempts >= 12"};
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

    char *text = summary(&m, &s, res, false);
    assert_line(text, "tollgate run: plan.yaml");
    assert_line(text, "duration       10.00 s (planned 10 s)");
    assert_line(text,
                "requests       10 logical (8 ok, 2 failed), 12 attempts, 2 retries, 5 dropped");
    assert_line(text, "  ok                   8   66.7 %");
    assert_line(text, "  throttled            2   16.7 %   first 429 after 2.50 s");
    assert_line(text, "  client_error         0    0.0 %");
    assert_line(text, "  server_error         1    8.3 %");
    assert_line(text, "  network_error        1    8.3 %   refused 1");
    assert_line(text, "status         200: 8   429: 2   503: 1");
    assert_line(text,
                "rate           target 2.0/s   offered 1.3/s   achieved 1.2/s   goodput 0.8/s");
    assert_line(text,
                "latency ms     p50 10.00   p90 20.00   p99 40.00   p99.9 40.00   max 40.00   "
                "mean 13.63");
    assert_line(text, "end to end ms  p50 100.0   p90 3000.0   p99 3000.0   p99.9 3000.0   max "
                      "3000.0   mean 670.0");
    assert_line(text,
                "rate limit     limit 300   min remaining 0   reset 30.0 s   (x,retry-after)");
    assert_line(text,
                "step                      logical  attempts       ok  429 %  errors    p50 ms "
                "   p99 ms  e2e p99 ms");
    assert_line(text,
                "login                           6         8        6   25.0       0     10.00 "
                "    10.00       100.0");
    assert_line(text,
                "get                             4         4        2    0.0       2     20.00 "
                "    40.00      3000.0");
    assert_line(text, "give-ups       max_attempts 1   budget 1");
    assert_line(text, "iterations failed");
    assert_line(text, "         3  missing captured value 'id'");
    assert_line(text, "thresholds");
    assert_line(text, "  \u2713 p99 < 500ms                              40 ms");
    assert_line(text, "  \u2717 throttled_ratio < 0.1                    0.1667");
    assert_line(text, "  \u2713 goodput > 0.5/s                          0.8/s");
    assert_line(text, "  \u2717 first_throttle_s > 5                     2.5 s");
    assert_line(text, "  \u2713 attempts >= 12                           12");
    assert_null(strstr(text, "Percentile"));
    /* Readable at 100 columns (the check marks are 3 bytes, 1 column). */
    for (char *line = text, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        size_t cols = 0;
        for (char *c = line; c < end; c++)
            cols += ((unsigned char)*c & 0xC0) != 0x80;
        if (cols > 100)
            fail_msg("line wider than 100 columns: %.*s", (int)(end - line), line);
    }
    free(text);

    /* --latency adds both distributions in milliseconds. */
    text = summary(&m, &s, res, true);
    const char *a = strstr(text, "Latency distribution of attempts (ms)");
    const char *e = strstr(text, "End-to-end latency distribution of logical requests (ms)");
    assert_non_null(a);
    assert_non_null(e);
    assert_true(a < e);
    assert_non_null(strstr(a, "       Value   Percentile   TotalCount 1/(1-Percentile)"));
    assert_non_null(strstr(a, "      40.000     1.000000           11          inf"));
    assert_non_null(strstr(e, "    3000.000     1.000000           10          inf"));
    free(text);

    /* Partial, no thresholds evaluated. */
    m.partial = true;
    text = summary(&m, &s, NULL, false);
    assert_line(text, "tollgate run: plan.yaml (partial: interrupted)");
    assert_null(strstr(text, "thresholds"));
    free(text);
    stats_free(&s);
}

static void test_empty_run(void **state)
{
    stats s;
    (void)state;
    assert_int_equal(stats_init(&s, 0, FX_START), 0);
    report_meta m = {.plan_name = "--url http://127.0.0.1:1/", .duration_ns = 1500 * FX_MS};
    char *text = summary(&m, &s, NULL, false);
    assert_line(text, "tollgate run: --url http://127.0.0.1:1/");
    assert_line(text, "duration       1.50 s");
    assert_line(text, "requests       0 logical (0 ok, 0 failed), 0 attempts, 0 retries");
    assert_line(text, "  ok                   0    0.0 %");
    assert_line(text, "status         none");
    assert_line(text, "rate           offered 0.0/s   achieved 0.0/s   goodput 0.0/s");
    assert_line(text, "latency ms     none");
    assert_line(text, "end to end ms  none");
    assert_line(text, "rate limit     no rate-limit headers seen");
    assert_null(strstr(text, "step "));
    assert_null(strstr(text, "give-ups"));
    assert_null(strstr(text, "first 429"));
    free(text);

    /* Only Retry-After, and a threshold on a missing 429. */
    threshold t;
    threshold_result r;
    char err[128];
    assert_int_equal(threshold_parse(&t, "first_throttle_s > 5", err, sizeof(err)), 0);
    rlhdr_info ra = {.dialects = RLHDR_RETRY_AFTER, .has_retry_after = true, .retry_after_ns = 1};
    stats_attempt at = {.status = 503, .rl = &ra};
    stats_add_attempt(&s, &at);
    m.thresholds = &t;
    m.n_thresholds = 1;
    assert_int_equal(report_eval_thresholds(&m, &s, &r), 0);
    text = summary(&m, &s, &r, false);
    assert_line(text, "rate limit     only Retry-After seen");
    assert_line(text, "  \u2713 first_throttle_s > 5                     none");
    free(text);
    stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_empty_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
