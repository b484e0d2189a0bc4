#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "core/clock.h"
#include "run/stats.h"

#define MS    CLOCK_NS_PER_MS
#define S     CLOCK_NS_PER_S
#define START (1000 * S)

static stats_attempt att(size_t step, int status, stats_neterr ne, uint64_t end_s_ms,
                         uint64_t latency_ms)
{
    stats_attempt a = {0};
    a.step = step;
    a.status = status;
    a.neterr = ne;
    a.end_ns = START + end_s_ms * MS;
    a.start_ns = a.end_ns - latency_ms * MS;
    a.bytes_in = 100;
    a.bytes_out = 10;
    a.expect_ok = status >= 200 && status < 400;
    return a;
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(stats_classify(200, STATS_NETERR_NONE), STATS_OK);
    assert_int_equal(stats_classify(204, STATS_NETERR_NONE), STATS_OK);
    assert_int_equal(stats_classify(302, STATS_NETERR_NONE), STATS_OK);
    assert_int_equal(stats_classify(399, STATS_NETERR_NONE), STATS_OK);
    assert_int_equal(stats_classify(429, STATS_NETERR_NONE), STATS_THROTTLED);
    assert_int_equal(stats_classify(400, STATS_NETERR_NONE), STATS_CLIENT_ERROR);
    assert_int_equal(stats_classify(428, STATS_NETERR_NONE), STATS_CLIENT_ERROR);
    assert_int_equal(stats_classify(430, STATS_NETERR_NONE), STATS_CLIENT_ERROR);
    assert_int_equal(stats_classify(499, STATS_NETERR_NONE), STATS_CLIENT_ERROR);
    assert_int_equal(stats_classify(500, STATS_NETERR_NONE), STATS_SERVER_ERROR);
    assert_int_equal(stats_classify(599, STATS_NETERR_NONE), STATS_SERVER_ERROR);
    assert_int_equal(stats_classify(600, STATS_NETERR_NONE), STATS_SERVER_ERROR);
    assert_int_equal(stats_classify(0, STATS_NETERR_NONE), STATS_NETWORK_ERROR);
    assert_int_equal(stats_classify(0, STATS_NETERR_TLS), STATS_NETWORK_ERROR);
    /* A network error wins over a status the engine may have half-parsed. */
    assert_int_equal(stats_classify(200, STATS_NETERR_RESET), STATS_NETWORK_ERROR);
    assert_string_equal(stats_class_name(STATS_THROTTLED), "throttled");
    assert_string_equal(stats_class_name(STATS_NETWORK_ERROR), "network_error");
    assert_string_equal(stats_neterr_name(STATS_NETERR_TLS), "tls");
    assert_string_equal(stats_neterr_name(STATS_NETERR_REFUSED), "refused");
}

static void test_attempt_counters(void **state)
{
    stats s;
    (void)state;
    assert_int_equal(stats_init(&s, 2, START), 0);

    stats_attempt a[] = {
        att(0, 200, STATS_NETERR_NONE, 100, 10),
        att(0, 201, STATS_NETERR_NONE, 200, 20),
        att(0, 429, STATS_NETERR_NONE, 3000, 5),
        att(0, 429, STATS_NETERR_NONE, 2000, 7),
        att(1, 404, STATS_NETERR_NONE, 300, 1),
        att(1, 500, STATS_NETERR_NONE, 400, 2),
        att(1, 600, STATS_NETERR_NONE, 500, 3),
        att(1, 0, STATS_NETERR_REFUSED, 600, 1),
        att(1, 0, STATS_NETERR_TIMEOUT, 700, 30000),
        att(1, 0, STATS_NETERR_NONE, 800, 1),   /* no status, no kind: "other" */
        att(7, 302, STATS_NETERR_NONE, 900, 4), /* unknown step: total only */
    };
    a[1].is_retry = true;
    a[3].is_retry = true;
    a[8].is_retry = true;
    a[4].expect_ok = true; /* the step expects 404 */
    rlhdr_info rl1 = {
        .dialects = RLHDR_X, .has_limit = true, .limit = 50, .has_remaining = true, .remaining = 7};
    rlhdr_info rl2 = {.dialects = RLHDR_ININ, .has_remaining = true, .remaining = 3};
    a[0].rl = &rl1;
    a[2].rl = &rl2;
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
        stats_add_sent(&s, a[i].step, a[i].start_ns);
        stats_add_attempt(&s, &a[i]);
    }
    stats_add_sent(&s, 0, START); /* still in flight */

    const stats_counts *t = &s.total;
    assert_int_equal(t->sent, 12);
    assert_int_equal(t->attempts, 11);
    assert_int_equal(t->retries, 3);
    assert_int_equal(t->cls[STATS_OK], 3);
    assert_int_equal(t->cls[STATS_THROTTLED], 2);
    assert_int_equal(t->cls[STATS_CLIENT_ERROR], 1);
    assert_int_equal(t->cls[STATS_SERVER_ERROR], 2);
    assert_int_equal(t->cls[STATS_NETWORK_ERROR], 3);
    assert_int_equal(t->neterr[STATS_NETERR_REFUSED], 1);
    assert_int_equal(t->neterr[STATS_NETERR_TIMEOUT], 1);
    assert_int_equal(t->neterr[STATS_NETERR_OTHER], 1);
    assert_int_equal(t->neterr[STATS_NETERR_RESET], 0);
    assert_int_equal(t->unexpected, 11 - 3 - 1);
    assert_int_equal(t->bytes_in, 1100);
    assert_int_equal(t->bytes_out, 110);
    assert_int_equal(t->first_throttle_ns,
                     2 * S); /* the earlier of the two, not the first recorded */

    assert_int_equal(s.steps[0].c.attempts, 4);
    assert_int_equal(s.steps[0].c.sent, 5);
    assert_int_equal(s.steps[0].c.cls[STATS_OK], 2);
    assert_int_equal(s.steps[0].c.cls[STATS_THROTTLED], 2);
    assert_int_equal(s.steps[0].c.retries, 2);
    assert_int_equal(s.steps[0].c.first_throttle_ns, 2 * S);
    assert_int_equal(s.steps[1].c.attempts, 6);
    assert_int_equal(s.steps[1].c.cls[STATS_NETWORK_ERROR], 3);
    assert_int_equal(s.steps[1].c.first_throttle_ns, STATS_NONE);

    assert_int_equal(s.status[200 - STATS_STATUS_MIN], 1);
    assert_int_equal(s.status[201 - STATS_STATUS_MIN], 1);
    assert_int_equal(s.status[429 - STATS_STATUS_MIN], 2);
    assert_int_equal(s.status[404 - STATS_STATUS_MIN], 1);
    assert_int_equal(s.status[302 - STATS_STATUS_MIN], 1);
    assert_int_equal(s.status_other, 1); /* 600; network errors are no status */

    /* Latency of attempts with a response only: 8 of them, 1 .. 20 ms. */
    assert_int_equal(hist_count(&s.latency), 8);
    assert_int_equal(hist_min(&s.latency), 1 * MS);
    assert_int_equal(hist_max(&s.latency), 20 * MS);
    assert_int_equal(hist_count(&s.steps[0].latency), 4);
    assert_int_equal(hist_max(&s.steps[0].latency), 20 * MS);
    assert_int_equal(hist_count(&s.steps[1].latency), 3);

    assert_true(s.rl.has_limit);
    assert_int_equal(s.rl.limit, 50);
    assert_int_equal(s.rl.min_remaining, 3);
    assert_int_equal(s.iv.min_remaining, 3);
    assert_int_equal(s.iv.attempts, 11);
    assert_int_equal(s.iv.errors, 6);
    stats_free(&s);
}

static void test_logical(void **state)
{
    stats s;
    (void)state;
    assert_int_equal(stats_init(&s, 1, START), 0);

    stats_logical ok = {.step = 0,
                        .ok = true,
                        .intended_start_ns = START + 1 * S,
                        .done_ns = START + 1 * S + 250 * MS,
                        .attempts = 3};
    stats_add_logical(&s, &ok);
    stats_logical fail = {.step = 0,
                          .ok = false,
                          .giveup = RETRY_REASON_MAX_ATTEMPTS,
                          .intended_start_ns = START + 2 * S,
                          .done_ns = START + 4 * S,
                          .attempts = 5};
    stats_add_logical(&s, &fail);
    fail.giveup = RETRY_REASON_BUDGET;
    stats_add_logical(&s, &fail);
    fail.giveup = RETRY_REASON_NONE;           /* failed without a retry decision */
    fail.done_ns = fail.intended_start_ns - 1; /* clock skew: recorded as 0 */
    stats_add_logical(&s, &fail);

    assert_int_equal(s.total.logical, 4);
    assert_int_equal(s.total.logical_ok, 1);
    assert_int_equal(s.total.logical_failed, 3);
    assert_int_equal(s.steps[0].c.logical_failed, 3);
    assert_int_equal(s.giveups[RETRY_REASON_MAX_ATTEMPTS], 1);
    assert_int_equal(s.giveups[RETRY_REASON_BUDGET], 1);
    assert_int_equal(s.giveups[RETRY_REASON_NONE], 0);
    assert_int_equal(hist_count(&s.e2e), 4);
    assert_int_equal(hist_min(&s.e2e), 0);
    assert_int_equal(hist_max(&s.e2e), 2 * S);
    assert_int_equal(hist_count(&s.steps[0].e2e), 4);
    assert_int_equal(hist_percentile(&s.e2e, 50.0), hist_highest_equivalent(250 * MS));

    stats_add_dropped(&s, START);
    stats_add_dropped(&s, START);
    assert_int_equal(s.total.dropped, 2);
    assert_int_equal(s.iv.dropped, 2);
    assert_int_equal(s.iv.logical, 4);
    assert_int_equal(s.iv.logical_ok, 1);
    stats_free(&s);
}

static void test_iteration_failures(void **state)
{
    stats s;
    char reason[64], longer[400];
    (void)state;
    assert_int_equal(stats_init(&s, 0, START), 0);

    stats_add_iteration_failed(&s, "missing captured value 'token'");
    stats_add_iteration_failed(&s, "missing captured value 'token'");
    stats_add_iteration_failed(&s, NULL);
    for (int i = 0; i < 40; i++) {
        snprintf(reason, sizeof(reason), "reason %d", i);
        stats_add_iteration_failed(&s, reason);
    }
    assert_int_equal(s.total.iterations_failed, 43);
    assert_int_equal(s.n_failures, STATS_FAILURES_MAX);
    assert_string_equal(s.failures[0].reason, "missing captured value 'token'");
    assert_int_equal(s.failures[0].count, 2);
    assert_string_equal(s.failures[1].reason, "unknown");
    assert_string_equal(s.failures[2].reason, "reason 0");
    /* 32 slots: 2 used above, 30 "reason N", 10 counted together. */
    assert_int_equal(s.failures_other, 10);
    /* A known reason still counts in its slot when the table is full. */
    stats_add_iteration_failed(&s, "reason 5");
    assert_int_equal(s.failures[7].count, 2);
    assert_int_equal(s.failures_other, 10);
    stats_free(&s);

    assert_int_equal(stats_init(&s, 0, START), 0);
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    stats_add_iteration_failed(&s, longer);
    stats_add_iteration_failed(&s, longer); /* same truncated reason */
    assert_int_equal(s.n_failures, 1);
    assert_int_equal(strlen(s.failures[0].reason), STATS_REASON_MAX - 1);
    assert_int_equal(s.failures[0].count, 2);
    stats_free(&s);
}

/* The i-th of a deterministic mix of records. */
static void record(stats *s, uint64_t i)
{
    static const int statuses[] = {200, 200, 429, 404, 503, 0, 0, 302, 201, 429, 500};
    int st = statuses[i % 11];
    stats_attempt a =
        att(i % 3, st, st ? STATS_NETERR_NONE : (i % 2 ? STATS_NETERR_RESET : STATS_NETERR_TLS),
            10 + i % 5000, 1 + i % 97);
    rlhdr_info rl = {.dialects = RLHDR_DRAFT, .has_remaining = true, .remaining = 10000 - i % 9000};
    a.is_retry = i % 4 == 0;
    a.bytes_in = i % 1000;
    a.rl = i % 3 == 0 ? &rl : NULL;
    stats_add_sent(s, a.step, a.start_ns);
    stats_add_attempt(s, &a);
    if (i % 2 == 0) {
        stats_logical l = {.step = i % 3,
                           .ok = i % 6 != 0,
                           .intended_start_ns = START,
                           .done_ns = START + (i % 3000) * MS,
                           .attempts = 1};
        l.giveup = l.ok ? RETRY_REASON_NONE : (retry_reason)(1 + i % 5);
        stats_add_logical(s, &l);
    }
    if (i % 101 == 0)
        stats_add_dropped(s, START);
    if (i % 7 == 0)
        stats_add_iteration(s, START);
    if (i % 211 == 0)
        stats_add_iteration_failed(s, i % 2 ? "odd" : "even");
    if (i % 13 == 0)
        stats_add_token(s, i % 39 != 0);
}

static void assert_counts_equal(const stats_counts *a, const stats_counts *b)
{
    assert_memory_equal(a, b, sizeof(*a));
}

static void assert_hist_equal(const hist *a, const hist *b)
{
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->min, b->min);
    assert_int_equal(a->max, b->max);
    assert_memory_equal(a->counts, b->counts, HIST_COUNTS * sizeof(uint64_t));
}

static void test_merge_equals_one(void **state)
{
    stats one, parts[3], merged;
    (void)state;
    assert_int_equal(stats_init(&one, 3, START), 0);
    assert_int_equal(stats_init(&merged, 3, START), 0);
    for (int p = 0; p < 3; p++)
        assert_int_equal(stats_init(&parts[p], 3, START), 0);
    for (uint64_t i = 0; i < 20000; i++) {
        record(&one, i);
        record(&parts[(i * 7919) % 3], i);
    }
    for (int p = 0; p < 3; p++)
        stats_merge(&merged, &parts[p]);

    assert_counts_equal(&merged.total, &one.total);
    for (int k = 0; k < 3; k++) {
        assert_counts_equal(&merged.steps[k].c, &one.steps[k].c);
        assert_hist_equal(&merged.steps[k].latency, &one.steps[k].latency);
        assert_hist_equal(&merged.steps[k].e2e, &one.steps[k].e2e);
    }
    assert_hist_equal(&merged.latency, &one.latency);
    assert_hist_equal(&merged.e2e, &one.e2e);
    assert_memory_equal(merged.status, one.status, sizeof(one.status));
    assert_memory_equal(merged.giveups, one.giveups, sizeof(one.giveups));
    assert_int_equal(merged.rl.min_remaining, one.rl.min_remaining);
    assert_int_equal(merged.rl.min_remaining, 10000 - 8997); /* largest i % 9000 with i % 3 == 0 */
    assert_int_equal(merged.n_failures, 2);
    uint64_t total_failures = merged.failures[0].count + merged.failures[1].count;
    assert_int_equal(total_failures, one.total.iterations_failed);
    assert_int_equal(one.total.attempts, 20000);
    assert_int_equal(one.total.dropped, 199);     /* 0, 101, ..., 19998 */
    assert_int_equal(one.total.iterations, 2858); /* 0, 7, ..., 19999 */
    assert_true(one.total.first_throttle_ns != STATS_NONE);
    /* Token requests are counted apart from any step's attempts. */
    assert_int_equal(one.token_requests, 1539); /* 0, 13, ..., 19994 */
    assert_int_equal(one.token_failures, 513);  /* 0, 39, ..., 19968 */
    assert_int_equal(merged.token_requests, one.token_requests);
    assert_int_equal(merged.token_failures, one.token_failures);

    for (int p = 0; p < 3; p++)
        stats_free(&parts[p]);
    stats_free(&merged);
    stats_free(&one);
}

static void test_take_interval(void **state)
{
    stats a, b;
    stats_interval iv;
    (void)state;
    assert_int_equal(stats_init(&a, 1, START), 0);
    assert_int_equal(stats_init(&b, 1, START), 0);
    assert_int_equal(stats_interval_init(&iv), 0);

    stats_attempt x = att(0, 200, STATS_NETERR_NONE, 100, 10);
    stats_attempt y = att(0, 429, STATS_NETERR_NONE, 200, 30);
    stats_attempt z = att(0, 0, STATS_NETERR_RESET, 300, 5);
    rlhdr_info rl = {.has_remaining = true, .remaining = 9};
    y.rl = &rl;
    stats_add_sent(&a, 0, 0);
    stats_add_attempt(&a, &x);
    stats_add_attempt(&a, &y);
    stats_add_sent(&b, 0, 0);
    stats_add_attempt(&b, &z);
    stats_add_dropped(&b, 0);

    stats_take_interval(&a, &iv);
    stats_take_interval(&b, &iv);
    assert_int_equal(iv.sent, 2);
    assert_int_equal(iv.attempts, 3);
    assert_int_equal(iv.ok, 1);
    assert_int_equal(iv.throttled, 1);
    assert_int_equal(iv.errors, 1);
    assert_int_equal(iv.dropped, 1);
    assert_true(iv.has_remaining);
    assert_int_equal(iv.min_remaining, 9);
    assert_int_equal(hist_count(&iv.latency), 2);
    assert_int_equal(hist_max(&iv.latency), 30 * MS);

    /* The workers' intervals start over; their totals do not. */
    assert_int_equal(a.iv.attempts, 0);
    assert_int_equal(hist_count(&a.iv.latency), 0);
    assert_false(a.iv.has_remaining);
    assert_int_equal(a.total.attempts, 2);
    stats_interval_reset(&iv);
    stats_take_interval(&a, &iv);
    assert_int_equal(iv.attempts, 0);
    assert_int_equal(hist_count(&iv.latency), 0);

    stats_counts c;
    stats_counts_init(&c);
    stats_peek(&a, &c);
    stats_peek(&b, &c);
    assert_int_equal(c.attempts, 3);
    assert_int_equal(c.sent, 2);
    assert_int_equal(c.cls[STATS_NETWORK_ERROR], 1);
    assert_int_equal(c.dropped, 1);
    assert_int_equal(c.first_throttle_ns, 200 * MS);

    stats_interval_free(&iv);
    stats_free(&a);
    stats_free(&b);
}

/* Threads record while the main thread takes intervals and peeks. */
#define HAMMER_THREADS 4
#define HAMMER_RECORDS 100000

static void *hammer(void *arg)
{
    stats *s = arg;
    for (uint64_t i = 0; i < HAMMER_RECORDS; i++) {
        stats_attempt a = att(i % 2, i % 10 == 0 ? 429 : 200, STATS_NETERR_NONE, 1, 1 + i % 7);
        stats_add_sent(s, a.step, 0);
        stats_add_attempt(s, &a);
        stats_logical l = {.step = i % 2, .ok = true, .intended_start_ns = 0, .done_ns = i};
        stats_add_logical(s, &l);
    }
    return NULL;
}

static void test_threads(void **state)
{
    stats s[HAMMER_THREADS], merged;
    pthread_t th[HAMMER_THREADS];
    stats_interval iv;
    uint64_t attempts = 0, ok = 0, throttled = 0, sent = 0, logical = 0, lat = 0, takes = 0;
    (void)state;

    assert_int_equal(stats_interval_init(&iv), 0);
    for (int t = 0; t < HAMMER_THREADS; t++) {
        assert_int_equal(stats_init(&s[t], 2, 0), 0);
        assert_int_equal(pthread_create(&th[t], NULL, hammer, &s[t]), 0);
    }
    for (;;) {
        stats_counts c;
        stats_counts_init(&c);
        for (int t = 0; t < HAMMER_THREADS; t++)
            stats_peek(&s[t], &c);
        /* A consistent view: every ended attempt was counted as sent, and
         * the classes add up. */
        assert_true(c.sent >= c.attempts);
        assert_int_equal(c.cls[STATS_OK] + c.cls[STATS_THROTTLED], c.attempts);
        stats_interval_reset(&iv);
        for (int t = 0; t < HAMMER_THREADS; t++)
            stats_take_interval(&s[t], &iv);
        assert_int_equal(iv.ok + iv.throttled, iv.attempts);
        assert_int_equal(hist_count(&iv.latency), iv.attempts);
        attempts += iv.attempts;
        ok += iv.ok;
        throttled += iv.throttled;
        sent += iv.sent;
        logical += iv.logical;
        lat += hist_count(&iv.latency);
        takes++;
        if (c.attempts == HAMMER_THREADS * (uint64_t)HAMMER_RECORDS &&
            c.logical == HAMMER_THREADS * (uint64_t)HAMMER_RECORDS && iv.attempts == 0 &&
            iv.logical == 0)
            break;
    }
    for (int t = 0; t < HAMMER_THREADS; t++)
        pthread_join(th[t], NULL);

    uint64_t n = HAMMER_THREADS * (uint64_t)HAMMER_RECORDS;
    assert_int_equal(attempts, n);
    assert_int_equal(sent, n);
    assert_int_equal(logical, n);
    assert_int_equal(lat, n);
    assert_int_equal(throttled, n / 10);
    assert_int_equal(ok, n - n / 10);
    assert_true(takes >= 2);

    assert_int_equal(stats_init(&merged, 2, 0), 0);
    for (int t = 0; t < HAMMER_THREADS; t++)
        stats_merge(&merged, &s[t]);
    assert_int_equal(merged.total.attempts, n);
    assert_int_equal(merged.total.cls[STATS_THROTTLED], n / 10);
    assert_int_equal(merged.steps[0].c.attempts, n / 2);
    assert_int_equal(hist_count(&merged.latency), n);
    assert_int_equal(hist_count(&merged.e2e), n);
    assert_int_equal(hist_max(&merged.latency), 7 * MS);
    assert_int_equal(merged.status[200 - STATS_STATUS_MIN], n - n / 10);

    stats_free(&merged);
    for (int t = 0; t < HAMMER_THREADS; t++)
        stats_free(&s[t]);
    stats_interval_free(&iv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),         cmocka_unit_test(test_attempt_counters),
        cmocka_unit_test(test_logical),          cmocka_unit_test(test_iteration_failures),
        cmocka_unit_test(test_merge_equals_one), cmocka_unit_test(test_take_interval),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
