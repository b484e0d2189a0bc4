/*
 * A small run shared by the report tests (included, not a test of its own):
 *
 *   step 0 "login": 6 x 200 (10 ms), 2 x 429 (5 ms; the first ends at 2.5 s),
 *                   2 of the 8 are retries; 6 logical ok (100 ms end to end)
 *   step 1 "get":   2 x 200 (20 ms), 1 x 503 (40 ms), 1 refused;
 *                   2 logical ok (50 ms), 2 failed (max_attempts, budget; 3 s)
 *   9 iterations started, 5 dropped, 3 failed "missing captured value 'id'", one attempt
 *   still in flight (13 sent); rate-limit headers: limit 300, remaining 12
 *   then 0, reset 30 s. The run lasted 10 s, target 2/s.
 */
#ifndef TEST_REPORT_FIXTURE_H
#define TEST_REPORT_FIXTURE_H

#include "core/clock.h"
#include "run/report.h"
#include "run/stats.h"

#define FX_MS    CLOCK_NS_PER_MS
#define FX_S     CLOCK_NS_PER_S
#define FX_START (100 * FX_S)

static const char *const fx_steps[] = {"login", "get"};
static const char *const fx_scenarios[] = {"browse"};

static inline void fx_attempt(stats *s, size_t step, int status, stats_neterr ne, uint64_t end_ms,
                              uint64_t latency_ms, bool retry, const rlhdr_info *rl)
{
    stats_attempt a = {.step = step,
                       .status = status,
                       .neterr = ne,
                       .is_retry = retry,
                       .end_ns = FX_START + end_ms * FX_MS,
                       .bytes_in = 1000,
                       .bytes_out = 100,
                       .expect_ok = status >= 200 && status < 400,
                       .rl = rl};
    a.start_ns = a.end_ns - latency_ms * FX_MS;
    stats_add_sent(s, step, a.start_ns);
    stats_add_attempt(s, &a);
}

static inline void fx_logical(stats *s, size_t step, bool ok, retry_reason why, uint64_t e2e_ms)
{
    stats_logical l = {.step = step,
                       .ok = ok,
                       .giveup = why,
                       .intended_start_ns = FX_START + FX_S,
                       .done_ns = FX_START + FX_S + e2e_ms * FX_MS,
                       .attempts = 1};
    stats_add_logical(s, &l);
}

static inline void fx_fill(stats *s)
{
    rlhdr_info rl1 = {.dialects = RLHDR_X,
                      .has_limit = true,
                      .limit = 300,
                      .has_remaining = true,
                      .remaining = 12,
                      .has_reset = true,
                      .reset_ns = 30 * FX_S};
    rlhdr_info rl2 = {
        .dialects = RLHDR_RETRY_AFTER | RLHDR_X, .has_remaining = true, .remaining = 0};

    for (int i = 0; i < 6; i++)
        fx_attempt(s, 0, 200, STATS_NETERR_NONE, 1000 + (uint64_t)i * 100, 10, i == 0,
                   i == 0 ? &rl1 : NULL);
    fx_attempt(s, 0, 429, STATS_NETERR_NONE, 4000, 5, false, &rl2);
    fx_attempt(s, 0, 429, STATS_NETERR_NONE, 2500, 5, true, NULL);
    fx_attempt(s, 1, 200, STATS_NETERR_NONE, 5000, 20, false, NULL);
    fx_attempt(s, 1, 200, STATS_NETERR_NONE, 5100, 20, false, NULL);
    fx_attempt(s, 1, 503, STATS_NETERR_NONE, 6000, 40, false, NULL);
    fx_attempt(s, 1, 0, STATS_NETERR_REFUSED, 7000, 1, false, NULL);
    stats_add_sent(s, 1, FX_START + 9 * FX_S);
    for (int i = 0; i < 6; i++)
        fx_logical(s, 0, true, RETRY_REASON_NONE, 100);
    fx_logical(s, 1, true, RETRY_REASON_NONE, 50);
    fx_logical(s, 1, true, RETRY_REASON_NONE, 50);
    fx_logical(s, 1, false, RETRY_REASON_MAX_ATTEMPTS, 3000);
    fx_logical(s, 1, false, RETRY_REASON_BUDGET, 3000);
    for (int i = 0; i < 5; i++)
        stats_add_dropped(s, FX_START);
    for (int i = 0; i < 9; i++)
        stats_add_iteration(s, FX_START);
    for (int i = 0; i < 3; i++)
        stats_add_iteration_failed(s, "missing captured value 'id'");
}

static inline report_meta fx_meta(const threshold *t, size_t n)
{
    report_meta m = {.plan_name = "plan.yaml",
                     .scenario_names = fx_scenarios,
                     .n_scenarios = 1,
                     .step_names = fx_steps,
                     .n_steps = 2,
                     .target_rate = 2.0,
                     .planned_ns = 10 * FX_S,
                     .duration_ns = 10 * FX_S,
                     .start_wall_ns = 1700000000123ULL * FX_MS,
                     .thresholds = t,
                     .n_thresholds = n,
                     .partial = false};
    return m;
}

#endif
