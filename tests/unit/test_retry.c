#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/rng.h"
#include "run/retry.h"

#define S  CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

static retry_outcome status(int code)
{
    return (retry_outcome){.kind = RETRY_OUTCOME_STATUS, .status = code, .idempotent = true};
}

static retry_outcome throttled(int code, uint64_t retry_after_ns)
{
    retry_outcome o = status(code);

    o.has_retry_after = true;
    o.retry_after_ns = retry_after_ns;
    return o;
}

static retry_outcome error(retry_outcome_kind kind, bool idempotent)
{
    return (retry_outcome){.kind = kind, .idempotent = idempotent};
}

static void set(retry_policy *p, const char *key, const char *value)
{
    char err[256] = "";

    if (retry_policy_set(p, key, value, err, sizeof(err)) != 0)
        fail_msg("%s: %s", key, err);
}

static void set_fails(retry_policy *p, const char *key, const char *value, const char *msg)
{
    retry_policy before = *p;
    char err[256] = "";

    assert_int_equal(retry_policy_set(p, key, value, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
    assert_memory_equal(&before, p, sizeof(before));
}

/* Decides once for a fresh request that has made `attempts` attempts. */
static retry_decision decide_at(const retry_policy *p, uint32_t attempts, retry_outcome o)
{
    retry_request req = {.attempts = attempts, .prev_delay_ns = 0};
    rng r;

    rng_seed(&r, 11);
    return retry_decide(p, NULL, &req, &o, 0, &r);
}

static void assert_gives_up(retry_decision d, retry_reason why)
{
    assert_false(d.retry);
    assert_int_equal(d.reason, why);
    assert_int_equal(d.delay_ns, 0);
}

static void test_default_policy(void **state)
{
    retry_policy p;

    (void)state;
    retry_policy_default(&p, 4);
    assert_int_equal(p.max_attempts, 4);
    assert_true(retry_policy_on_status(&p, 429));
    assert_true(retry_policy_on_status(&p, 503));
    assert_false(retry_policy_on_status(&p, 500));
    assert_false(retry_policy_on_status(&p, 502));
    assert_false(retry_policy_on_status(&p, 200));
    assert_false(retry_policy_on_status(&p, -1));
    assert_false(retry_policy_on_status(&p, 100000));
    assert_int_equal(p.on_errors, RETRY_ON_CONNECT_ERROR);
    assert_int_equal(p.backoff.kind, BACKOFF_EXPONENTIAL);
    assert_int_equal(p.backoff.jitter, BACKOFF_JITTER_FULL);
    assert_int_equal(p.backoff.base_ns, 100 * MS);
    assert_int_equal(p.backoff.cap_ns, 10 * S);
    assert_true(p.honor_retry_after);
    assert_int_equal(p.retry_after_max_ns, 60 * S);
    assert_false(p.budget);
    assert_false(p.retry_non_idempotent);
    assert_int_equal(retry_policy_validate(&p, NULL, 0), 0);
    retry_policy_default(&p, 0);
    assert_int_equal(p.max_attempts, 1);
    retry_policy_default(&p, 5000);
    assert_int_equal(p.max_attempts, RETRY_MAX_ATTEMPTS);
}

static void test_attempts_and_backoff(void **state)
{
    retry_policy p;
    retry_request req;
    retry_outcome o = status(429);
    rng r;
    uint32_t sends = 1;
    retry_decision d;

    (void)state;
    retry_policy_default(&p, 4);
    rng_seed(&r, 1);
    retry_begin(&req, NULL, 0);
    assert_int_equal(req.attempts, 1);
    /* Full jitter over 100, 200 and 400 ms, then max_attempts. */
    for (uint64_t cap = 100 * MS; cap <= 400 * MS; cap *= 2) {
        d = retry_decide(&p, NULL, &req, &o, 0, &r);
        assert_true(d.retry);
        assert_int_equal(d.reason, RETRY_REASON_NONE);
        assert_true(d.delay_ns <= cap);
        assert_int_equal(req.prev_delay_ns, d.delay_ns);
        sends++;
        assert_int_equal(req.attempts, sends);
    }
    assert_int_equal(sends, 4);
    assert_gives_up(retry_decide(&p, NULL, &req, &o, 0, &r), RETRY_REASON_MAX_ATTEMPTS);
    assert_int_equal(req.attempts, 4);
    /* max_attempts 1: never a retry. */
    retry_policy_default(&p, 1);
    assert_gives_up(decide_at(&p, 1, o), RETRY_REASON_MAX_ATTEMPTS);
}

static void test_exact_delays_without_jitter(void **state)
{
    retry_policy p;
    retry_request req;
    retry_outcome o = status(503);
    const uint64_t want[] = {250 * MS, 375 * MS, 562500000, 843750000, 1 * S, 1 * S};

    (void)state;
    retry_policy_default(&p, 10);
    set(&p, "jitter", "none");
    set(&p, "base", "250ms");
    set(&p, "cap", "1s");
    set(&p, "multiplier", "1.5");
    retry_begin(&req, NULL, 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        retry_decision d = retry_decide(&p, NULL, &req, &o, 0, NULL);
        assert_true(d.retry);
        assert_int_equal(d.delay_ns, want[i]);
    }
}

static void test_not_retryable(void **state)
{
    retry_policy p;

    (void)state;
    retry_policy_default(&p, 3);
    assert_gives_up(decide_at(&p, 1, status(200)), RETRY_REASON_NOT_RETRYABLE);
    assert_gives_up(decide_at(&p, 1, status(404)), RETRY_REASON_NOT_RETRYABLE);
    assert_gives_up(decide_at(&p, 1, status(500)), RETRY_REASON_NOT_RETRYABLE);
    assert_gives_up(decide_at(&p, 1, error(RETRY_OUTCOME_TIMEOUT, true)),
                    RETRY_REASON_NOT_RETRYABLE);
    assert_gives_up(decide_at(&p, 1, error(RETRY_OUTCOME_OTHER_ERROR, true)),
                    RETRY_REASON_NOT_RETRYABLE);
    assert_true(decide_at(&p, 1, error(RETRY_OUTCOME_CONNECT_ERROR, true)).retry);
    /* Not retryable is checked before max_attempts. */
    assert_gives_up(decide_at(&p, 3, status(200)), RETRY_REASON_NOT_RETRYABLE);
}

static void test_non_idempotent(void **state)
{
    retry_policy p;
    retry_outcome post429 = status(429), post503 = status(503);

    (void)state;
    retry_policy_default(&p, 3);
    set(&p, "on", "429, 503, connect-error, timeout");
    post429.idempotent = false;
    post503.idempotent = false;
    /* Proven unprocessed: retried even for POST. */
    assert_true(decide_at(&p, 1, post429).retry);
    assert_true(decide_at(&p, 1, post503).retry);
    assert_true(decide_at(&p, 1, error(RETRY_OUTCOME_CONNECT_ERROR, false)).retry);
    /* A timeout might have been processed. */
    assert_true(decide_at(&p, 1, error(RETRY_OUTCOME_TIMEOUT, true)).retry);
    assert_gives_up(decide_at(&p, 1, error(RETRY_OUTCOME_TIMEOUT, false)),
                    RETRY_REASON_NON_IDEMPOTENT_TIMEOUT);
    set(&p, "retry_non_idempotent", "true");
    assert_true(decide_at(&p, 1, error(RETRY_OUTCOME_TIMEOUT, false)).retry);
}

static void test_methods(void **state)
{
    (void)state;
    assert_true(retry_method_idempotent("GET", 3));
    assert_true(retry_method_idempotent("HEAD", 4));
    assert_true(retry_method_idempotent("OPTIONS", 7));
    assert_true(retry_method_idempotent("TRACE", 5));
    assert_true(retry_method_idempotent("PUT", 3));
    assert_true(retry_method_idempotent("DELETE", 6));
    assert_false(retry_method_idempotent("POST", 4));
    assert_false(retry_method_idempotent("PATCH", 5));
    assert_false(retry_method_idempotent("CONNECT", 7));
    assert_false(retry_method_idempotent("get", 3));
    assert_false(retry_method_idempotent("GETX", 4));
    assert_false(retry_method_idempotent("GETX", 2));
    assert_false(retry_method_idempotent("", 0));
}

static void test_retry_after(void **state)
{
    retry_policy p;
    retry_decision d;

    (void)state;
    retry_policy_default(&p, 5);
    /* Retry-After plus the jittered backoff (full jitter, <= 100 ms). */
    d = decide_at(&p, 1, throttled(429, 5 * S));
    assert_true(d.retry);
    assert_in_range(d.delay_ns, 5 * S, 5 * S + 100 * MS);
    /* Without jitter, exactly the sum, whichever is longer. */
    set(&p, "jitter", "none");
    set(&p, "backoff", "fixed");
    set(&p, "base", "3s");
    d = decide_at(&p, 1, throttled(503, 2 * S));
    assert_int_equal(d.delay_ns, 5 * S);
    d = decide_at(&p, 1, throttled(503, 7 * S));
    assert_int_equal(d.delay_ns, 10 * S);
    /* A Retry-After of 0 (or a date in the past): the backoff alone. */
    d = decide_at(&p, 1, throttled(429, 0));
    assert_int_equal(d.delay_ns, 3 * S);
    /* Up to retry_after_max inclusive; above it, give up. */
    d = decide_at(&p, 1, throttled(429, 60 * S));
    assert_int_equal(d.delay_ns, 63 * S);
    assert_gives_up(decide_at(&p, 1, throttled(429, 60 * S + 1)),
                    RETRY_REASON_RETRY_AFTER_TOO_LONG);
    /* max_attempts comes first. */
    assert_gives_up(decide_at(&p, 5, throttled(429, 120 * S)), RETRY_REASON_MAX_ATTEMPTS);
    /* Not honoured: ignored, and never too long. */
    set(&p, "honor_retry_after", "false");
    d = decide_at(&p, 1, throttled(429, 120 * S));
    assert_true(d.retry);
    assert_int_equal(d.delay_ns, 3 * S);
}

/* Clients told the same Retry-After keep their jitter: under full jitter the
 * delay minus Retry-After is uniform over [0, v] (v the exponential value of
 * the retry), never below Retry-After; so N clients throttled together come
 * back spread over v, not at one instant. And the backoff kept for the next
 * retry (decorrelated jitter's "previous") is the backoff alone. */
static void test_retry_after_keeps_jitter(void **state)
{
    enum { N = 200000, BINS = 10 };
    retry_policy p;
    retry_outcome o = throttled(429, 1 * S);
    uint64_t counts[BINS] = {0};
    double sum = 0;
    rng r;

    (void)state;
    retry_policy_default(&p, 10);
    set(&p, "base", "200ms");
    rng_seed(&r, 42);
    for (int i = 0; i < N; i++) {
        /* Third retry: v = 200 ms x 2^2 = 800 ms. */
        retry_request req = {.attempts = 3, .prev_delay_ns = 0};
        retry_decision d = retry_decide(&p, NULL, &req, &o, 5 * S, &r);
        uint64_t extra;

        assert_true(d.retry);
        assert_true(d.delay_ns >= 1 * S);
        extra = d.delay_ns - 1 * S;
        assert_true(extra <= 800 * MS);
        assert_int_equal(req.prev_delay_ns, extra);
        sum += (double)extra;
        counts[extra * BINS / (800 * MS + 1)]++;
    }
    /* Mean v/2 = 400 ms; the standard error of the mean of U[0, v] over N
     * draws is v / sqrt(12 N) = 0.52 ms: 5 ms is about 10 of them. */
    assert_true(sum / N > 395e6 && sum / N < 405e6);
    /* Uniform: each tenth holds N/10 = 20000 +- 4 % (about 7 standard
     * deviations of a binomial count). */
    for (int b = 0; b < BINS; b++)
        assert_in_range(counts[b], 19200, 20800);
}

static void test_decorrelated_uses_previous_delay(void **state)
{
    retry_policy p;
    retry_request req;
    retry_outcome o = status(429);
    rng r;
    uint64_t prev = 0;

    (void)state;
    retry_policy_default(&p, RETRY_MAX_ATTEMPTS);
    set(&p, "jitter", "decorrelated");
    set(&p, "base", "10ms");
    set(&p, "cap", "1h");
    rng_seed(&r, 8);
    retry_begin(&req, NULL, 0);
    for (int i = 0; i < 200; i++) {
        retry_decision d = retry_decide(&p, NULL, &req, &o, 0, &r);
        uint64_t lo = 10 * MS, hi = 3 * (prev < lo ? lo : prev);
        assert_true(d.retry);
        assert_true(d.delay_ns >= lo && d.delay_ns <= hi);
        prev = d.delay_ns;
    }
}

static void test_budget_in_decisions(void **state)
{
    retry_policy p;
    retry_budget b;
    retry_request req[200];
    retry_outcome o = status(503);
    rng r;
    int granted = 0;
    uint64_t requests, retries;

    (void)state;
    retry_policy_default(&p, 3);
    set(&p, "budget.ratio", "10%");
    set(&p, "budget.min_per_s", "1");
    assert_true(p.budget);
    retry_budget_init(&b);
    rng_seed(&r, 2);
    /* 200 requests fail at t = 1 s: 10 % of 200 + 10 = 30 retries. */
    for (int i = 0; i < 200; i++)
        retry_begin(&req[i], &b, 1 * S);
    for (int i = 0; i < 200; i++) {
        retry_decision d = retry_decide(&p, &b, &req[i], &o, 1 * S, &r);
        if (d.retry) {
            granted++;
            continue;
        }
        assert_int_equal(d.reason, RETRY_REASON_BUDGET);
        assert_int_equal(req[i].attempts, 1);
    }
    assert_int_equal(granted, 30);
    retry_budget_window(&b, 1 * S, &requests, &retries);
    assert_int_equal(requests, 200);
    assert_int_equal(retries, 30);
    /* Giving up for another reason spends nothing. */
    assert_gives_up(retry_decide(&p, &b, &req[0], &(retry_outcome){.status = 404}, 1 * S, &r),
                    RETRY_REASON_NOT_RETRYABLE);
    retry_budget_window(&b, 1 * S, &requests, &retries);
    assert_int_equal(retries, 30);
    /* Ten seconds on, the window is empty again: the floor of 10. */
    granted = 0;
    for (int i = 0; i < 200; i++)
        granted += retry_decide(&p, &b, &req[i], &o, 11 * S, &r).retry;
    assert_int_equal(granted, 10);
    /* Turning the budget off lifts it. */
    set(&p, "budget", "off");
    assert_true(retry_decide(&p, &b, &req[199], &o, 11 * S, &r).retry);
}

static void test_gate(void **state)
{
    retry_gate g;

    (void)state;
    retry_gate_init(&g);
    assert_int_equal(retry_gate_wait(&g, 0), 0);
    assert_int_equal(retry_gate_wait(&g, 5 * S), 0);
    retry_gate_note(&g, 1 * S, 2 * S);
    assert_int_equal(retry_gate_wait(&g, 1 * S), 2 * S);
    assert_int_equal(retry_gate_wait(&g, 1500 * MS), 1500 * MS);
    assert_int_equal(retry_gate_wait(&g, 3 * S - 1), 1);
    assert_int_equal(retry_gate_wait(&g, 3 * S), 0);
    /* A shorter Retry-After never reopens early; a longer one extends. */
    retry_gate_note(&g, 2 * S, 5 * S);
    retry_gate_note(&g, 3 * S, 1 * S);
    assert_int_equal(retry_gate_wait(&g, 4 * S), 3 * S);
    retry_gate_note(&g, 4 * S, 0);
    assert_int_equal(retry_gate_wait(&g, 4 * S), 3 * S);
    /* Saturates instead of wrapping. */
    retry_gate_note(&g, 10 * S, UINT64_MAX);
    assert_int_equal(retry_gate_wait(&g, 10 * S), UINT64_MAX - 10 * S);
}

/* The closed period: it starts with the note that closes an open gate, is
 * extended (same start) by longer notes while closed, and a note after the
 * gate reopened starts a new one. */
static void test_gate_spread(void **state)
{
    retry_gate g;
    rng r;

    (void)state;
    rng_seed(&r, 3);
    retry_gate_init(&g);
    assert_int_equal(retry_gate_spread(&g), 0);
    assert_int_equal(retry_gate_release(&g, 7 * S, &r), 7 * S); /* open: now */
    retry_gate_note(&g, 10 * S, 1 * S);
    assert_int_equal(g.since_ns, 10 * S);
    assert_int_equal(retry_gate_spread(&g), 1 * S);
    retry_gate_note(&g, 10 * S + 300 * MS, 1 * S); /* extends: 11.3 s, same start */
    assert_int_equal(g.since_ns, 10 * S);
    assert_int_equal(g.until_ns, 11 * S + 300 * MS);
    assert_int_equal(retry_gate_spread(&g), 1300 * MS);
    retry_gate_note(&g, 10 * S + 500 * MS, 100 * MS); /* shorter: nothing changes */
    assert_int_equal(retry_gate_spread(&g), 1300 * MS);
    /* Open again at 11.3 s: a send then goes at once. */
    assert_int_equal(retry_gate_release(&g, 11 * S + 300 * MS, &r), 11 * S + 300 * MS);
    /* A note after it reopened: a new closed period of its own. */
    retry_gate_note(&g, 20 * S, 2 * S);
    assert_int_equal(g.since_ns, 20 * S);
    assert_int_equal(retry_gate_spread(&g), 2 * S);
    /* A note at the very instant the gate opens starts a new period too. */
    retry_gate_note(&g, 22 * S, 1 * S);
    assert_int_equal(g.since_ns, 22 * S);
    assert_int_equal(retry_gate_spread(&g), 1 * S);
}

/* Sends held by a closed gate are released uniformly over [until, until +
 * spread]: never before the gate opens (the Retry-After), at most spread
 * after, mean until + spread/2, and no 10 ms slot holds much more than its
 * share: 1000 sends held during a 1 s Retry-After come out over 1 s at about
 * 10 per 10 ms, instead of 1000 at one instant. */
static void test_gate_release_distribution(void **state)
{
    enum { N = 200000, HELD = 1000, SLOTS = 100 };
    retry_gate g;
    rng r;
    double sum = 0;
    uint64_t slots[SLOTS] = {0}, most = 0;

    (void)state;
    rng_seed(&r, 99);
    retry_gate_init(&g);
    retry_gate_note(&g, 50 * S, 1 * S); /* closed from 50 s until 51 s */
    for (int i = 0; i < N; i++) {
        /* Asked at any time while closed, the answer has the same law. */
        uint64_t now = 50 * S + (uint64_t)i % 1000 * MS;
        uint64_t when = retry_gate_release(&g, now, &r);

        assert_true(when >= 51 * S);
        assert_true(when <= 52 * S);
        sum += (double)(when - 51 * S);
    }
    /* Mean 500 ms; standard error 1 s / sqrt(12 N) = 0.65 ms. */
    assert_true(sum / N > 495e6 && sum / N < 505e6);
    /* HELD sends in 10 ms slots: each expects 10; with a binomial(1000,
     * 0.01) count, more than 25 in any of 100 slots is a 1e-4 event. */
    for (int i = 0; i < HELD; i++) {
        uint64_t off = retry_gate_release(&g, 50 * S, &r) - 51 * S;
        slots[off >= 1 * S ? SLOTS - 1 : off / (10 * MS)]++;
    }
    for (int b = 0; b < SLOTS; b++)
        most = slots[b] > most ? slots[b] : most;
    assert_true(most <= 25);
    /* Saturation: a gate closed to the end of time releases at its end. */
    retry_gate_note(&g, 60 * S, UINT64_MAX);
    assert_int_equal(retry_gate_release(&g, 61 * S, &r), UINT64_MAX);
}

static void test_set_options(void **state)
{
    retry_policy p;

    (void)state;
    retry_policy_default(&p, 3);
    set(&p, "on", "5xx,429 timeout");
    assert_true(retry_policy_on_status(&p, 500));
    assert_true(retry_policy_on_status(&p, 599));
    assert_true(retry_policy_on_status(&p, 429));
    assert_false(retry_policy_on_status(&p, 403));
    assert_false(retry_policy_on_status(&p, 600));
    assert_false(retry_policy_on_status(&p, 428));
    assert_int_equal(p.on_errors, RETRY_ON_TIMEOUT);
    set(&p, "on", "connect-error");
    assert_false(retry_policy_on_status(&p, 429));
    assert_int_equal(p.on_errors, RETRY_ON_CONNECT_ERROR);
    set(&p, "on", "4XX");
    assert_true(retry_policy_on_status(&p, 400) && retry_policy_on_status(&p, 499));
    assert_false(retry_policy_on_status(&p, 500));
    set(&p, "max_attempts", "7");
    assert_int_equal(p.max_attempts, 7);
    set(&p, "backoff", "fixed");
    assert_int_equal(p.backoff.kind, BACKOFF_FIXED);
    set(&p, "base", "1.5s");
    assert_int_equal(p.backoff.base_ns, 1500 * MS);
    set(&p, "cap", "none");
    assert_int_equal(p.backoff.cap_ns, BACKOFF_NO_CAP);
    set(&p, "cap", "2m");
    assert_int_equal(p.backoff.cap_ns, 120 * S);
    set(&p, "multiplier", "3");
    assert_int_equal(p.backoff.multiplier, 3000);
    set(&p, "jitter", "equal");
    assert_int_equal(p.backoff.jitter, BACKOFF_JITTER_EQUAL);
    set(&p, "honor_retry_after", "no");
    assert_false(p.honor_retry_after);
    set(&p, "retry_after_max", "5m");
    assert_int_equal(p.retry_after_max_ns, 300 * S);
    set(&p, "retry_non_idempotent", "yes");
    assert_true(p.retry_non_idempotent);
    set(&p, "budget.ratio", "0.25");
    assert_true(p.budget);
    assert_int_equal(p.budget_ratio, 250000);
    assert_int_equal(p.budget_min_per_s, 10);
    set(&p, "budget.ratio", "12.5%");
    assert_int_equal(p.budget_ratio, 125000);
    set(&p, "budget.ratio", "2");
    assert_int_equal(p.budget_ratio, 2000000);
    set(&p, "budget", "off");
    assert_false(p.budget);
    set(&p, "budget.min_per_s", "0");
    assert_true(p.budget);
    assert_int_equal(p.budget_min_per_s, 0);
    assert_int_equal(p.budget_ratio, 2000000);
    assert_int_equal(retry_policy_validate(&p, NULL, 0), 0);
}

static void test_set_errors(void **state)
{
    retry_policy p;
    char err[256];

    (void)state;
    retry_policy_default(&p, 3);
    set_fails(&p, "tries", "3",
              "unknown retry option \"tries\" (expected on, max_attempts, backoff, base, cap, "
              "multiplier, jitter, honor_retry_after, retry_after_max, budget, "
              "retry_non_idempotent)");
    set_fails(&p, "on", "429, 600",
              "on: \"600\": expected a status 100-599, 4xx, 5xx, connect-error or timeout");
    set_fails(&p, "on", "42",
              "on: \"42\": expected a status 100-599, 4xx, 5xx, connect-error "
              "or timeout");
    set_fails(&p, "on", "6xx",
              "on: \"6xx\": expected a status 100-599, 4xx, 5xx, "
              "connect-error or timeout");
    set_fails(&p, "on", "reset",
              "on: \"reset\": expected a status 100-599, 4xx, 5xx, "
              "connect-error or timeout");
    set_fails(&p, "on", " , ", "on: expected at least one status, connect-error or timeout");
    set_fails(&p, "max_attempts", "0", "max_attempts: \"0\": expected an integer from 1 to 1000");
    set_fails(&p, "max_attempts", "1001",
              "max_attempts: \"1001\": expected an integer from 1 to 1000");
    set_fails(&p, "max_attempts", "3x", "max_attempts: \"3x\": expected an integer from 1 to 1000");
    set_fails(&p, "max_attempts", "", "max_attempts: \"\": expected an integer from 1 to 1000");
    set_fails(&p, "backoff", "linear", "backoff: \"linear\": expected none, fixed or exponential");
    set_fails(&p, "jitter", "half", "jitter: \"half\": expected none, full, equal or decorrelated");
    set_fails(&p, "multiplier", "0.5",
              "multiplier: multiplier \"0.5\": must be between 1 and "
              "1000");
    set_fails(&p, "honor_retry_after", "maybe",
              "honor_retry_after: \"maybe\": expected true or false");
    set_fails(&p, "budget", "on",
              "budget: \"on\": expected off, or a mapping with ratio and min_per_s");
    set_fails(&p, "budget.ratio", "101",
              "budget.ratio: \"101\": expected a ratio from 0 to 100 such as 0.2 or 20%");
    set_fails(&p, "budget.ratio", "0.1234567",
              "budget.ratio: \"0.1234567\": expected a ratio from 0 to 100 such as 0.2 or 20%");
    set_fails(&p, "budget.ratio", "%",
              "budget.ratio: \"%\": expected a ratio from 0 to 100 such as 0.2 or 20%");
    set_fails(&p, "budget.ratio", "-0.2",
              "budget.ratio: \"-0.2\": expected a ratio from 0 to 100 such as 0.2 or 20%");
    set_fails(&p, "budget.min_per_s", "1.5",
              "budget.min_per_s: \"1.5\": expected an integer from 0 to 1000000");
    /* Duration errors carry units' message after the key. */
    assert_int_equal(retry_policy_set(&p, "base", "1 sec", err, sizeof(err)), -EINVAL);
    assert_true(strncmp(err, "base: \"1 sec\"", 13) == 0);
    assert_int_equal(retry_policy_set(&p, "retry_after_max", "soon", err, sizeof(err)), -EINVAL);
    assert_true(strncmp(err, "retry_after_max: ", 17) == 0);
    /* Whole-policy checks. */
    set(&p, "base", "20s");
    assert_int_equal(retry_policy_validate(&p, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "base 20s is larger than cap 10s");
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(retry_reason_name(RETRY_REASON_NONE), "retry");
    assert_string_equal(retry_reason_name(RETRY_REASON_NOT_RETRYABLE), "not_retryable");
    assert_string_equal(retry_reason_name(RETRY_REASON_NON_IDEMPOTENT_TIMEOUT),
                        "non_idempotent_timeout");
    assert_string_equal(retry_reason_name(RETRY_REASON_MAX_ATTEMPTS), "max_attempts");
    assert_string_equal(retry_reason_name(RETRY_REASON_RETRY_AFTER_TOO_LONG),
                        "retry_after_too_long");
    assert_string_equal(retry_reason_name(RETRY_REASON_BUDGET), "budget");
    assert_string_equal(retry_reason_name(RETRY_REASON_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_attempts_and_backoff),
        cmocka_unit_test(test_exact_delays_without_jitter),
        cmocka_unit_test(test_not_retryable),
        cmocka_unit_test(test_non_idempotent),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_decorrelated_uses_previous_delay),
        cmocka_unit_test(test_budget_in_decisions),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_gate_spread),
        cmocka_unit_test(test_gate_release_distribution),
        cmocka_unit_test(test_retry_after_keeps_jitter),
        cmocka_unit_test(test_set_options),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_reason_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
