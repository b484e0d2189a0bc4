/*
 * retry: hand-written because the decision is a handful of integer checks
 * that must run on the event loop with the caller's time and generator; no
 * Debian library offers retry budgets or Retry-After gating as pure code.
 */
#include "run/retry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/units.h"

#define RETRY_DEFAULT_RATIO     200000u /* 20 % in ppm */
#define RETRY_DEFAULT_MIN_PER_S 10u
#define RETRY_MAX_MIN_PER_S     1000000u
#define RETRY_MAX_RATIO         (100u * RETRY_RATIO_ONE) /* 100 retries per request */

static void retry_on_add(uint64_t *set, int status)
{
    set[status / 64] |= 1ULL << (status % 64);
}

bool retry_policy_on_status(const retry_policy *p, int status)
{
    if (status < 0 || status > RETRY_STATUS_MAX)
        return false;
    return (p->on_status[status / 64] >> (status % 64)) & 1;
}

void retry_policy_default(retry_policy *p, uint32_t max_attempts)
{
    memset(p, 0, sizeof(*p));
    retry_on_add(p->on_status, 429);
    retry_on_add(p->on_status, 503);
    p->on_errors = RETRY_ON_CONNECT_ERROR;
    if (max_attempts < 1)
        max_attempts = 1;
    if (max_attempts > RETRY_MAX_ATTEMPTS)
        max_attempts = RETRY_MAX_ATTEMPTS;
    p->max_attempts = max_attempts;
    backoff_policy_default(&p->backoff);
    p->honor_retry_after = true;
    p->retry_after_max_ns = 60 * CLOCK_NS_PER_S;
    p->budget = false;
    p->budget_ratio = RETRY_DEFAULT_RATIO;
    p->budget_min_per_s = RETRY_DEFAULT_MIN_PER_S;
    p->retry_non_idempotent = false;
}

/* Reads a decimal "12" or "0.25" with at most `decimals` decimals, scaled by
 * 10^decimals; the whole text up to `end` must be the number. */
static bool retry_decimal(const char *s, const char *end, int decimals, uint64_t *out)
{
    uint64_t v = 0;
    int seen = -1; /* decimals read; -1 before the point */

    if (s == end || *s < '0' || *s > '9')
        return false;
    for (; s < end; s++) {
        if (*s == '.' && seen < 0 && s + 1 < end) {
            seen = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || seen == decimals)
            return false;
        if (v > UINT64_MAX / 100)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (seen >= 0)
            seen++;
    }
    for (seen = seen < 0 ? 0 : seen; seen < decimals; seen++) {
        if (v > UINT64_MAX / 100)
            return false;
        v *= 10;
    }
    *out = v;
    return true;
}

static int retry_set_on(retry_policy *p, const char *v, char *err, size_t errlen)
{
    uint64_t set[sizeof(p->on_status) / sizeof(p->on_status[0])] = {0};
    unsigned errors = 0;
    const char *s = v;
    int count = 0;

    for (;;) {
        const char *t;
        size_t n;
        uint64_t status;

        while (*s == ',' || *s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            break;
        t = s;
        while (*s != '\0' && *s != ',' && *s != ' ' && *s != '\t')
            s++;
        n = (size_t)(s - t);
        count++;
        if (n == 13 && strncasecmp(t, "connect-error", n) == 0) {
            errors |= RETRY_ON_CONNECT_ERROR;
        } else if (n == 7 && strncasecmp(t, "timeout", n) == 0) {
            errors |= RETRY_ON_TIMEOUT;
        } else if (n == 3 && t[0] >= '1' && t[0] <= '5' && (t[1] | 0x20) == 'x' &&
                   (t[2] | 0x20) == 'x') {
            for (int i = 0; i < 100; i++)
                retry_on_add(set, (t[0] - '0') * 100 + i);
        } else if (retry_decimal(t, s, 0, &status) && status >= 100 && status <= 599) {
            retry_on_add(set, (int)status);
        } else {
            return err_set(err, errlen, -EINVAL,
                           "on: \"%.*s\": expected a status 100-599, 4xx, 5xx, "
                           "connect-error or timeout",
                           (int)n, t);
        }
    }
    if (count == 0)
        return err_set(err, errlen, -EINVAL,
                       "on: expected at least one status, connect-error or "
                       "timeout");
    memcpy(p->on_status, set, sizeof(set));
    p->on_errors = errors;
    return 0;
}

static int retry_set_max_attempts(retry_policy *p, const char *v, char *err, size_t errlen)
{
    uint64_t n;

    if (!retry_decimal(v, v + strlen(v), 0, &n) || n < 1 || n > RETRY_MAX_ATTEMPTS)
        return err_set(err, errlen, -EINVAL,
                       "max_attempts: \"%s\": expected an integer from 1 to %d", v,
                       RETRY_MAX_ATTEMPTS);
    p->max_attempts = (uint32_t)n;
    return 0;
}

static int retry_duration(const char *key, const char *v, uint64_t *out, char *err, size_t errlen)
{
    char msg[160];

    if (units_parse_duration(v, out, msg, sizeof(msg)) != 0)
        return err_set(err, errlen, -EINVAL, "%s: %s", key, msg);
    return 0;
}

static int retry_set_base(retry_policy *p, const char *v, char *err, size_t errlen)
{
    return retry_duration("base", v, &p->backoff.base_ns, err, errlen);
}

static int retry_set_cap(retry_policy *p, const char *v, char *err, size_t errlen)
{
    if (strcasecmp(v, "none") == 0) {
        p->backoff.cap_ns = BACKOFF_NO_CAP;
        return 0;
    }
    return retry_duration("cap", v, &p->backoff.cap_ns, err, errlen);
}

static int retry_set_retry_after_max(retry_policy *p, const char *v, char *err, size_t errlen)
{
    return retry_duration("retry_after_max", v, &p->retry_after_max_ns, err, errlen);
}

/* Wraps a backoff parser's message with the key. */
static int retry_keyed(int rc, const char *key, const char *msg, char *err, size_t errlen)
{
    return rc == 0 ? 0 : err_set(err, errlen, -EINVAL, "%s: %s", key, msg);
}

static int retry_set_backoff(retry_policy *p, const char *v, char *err, size_t errlen)
{
    char msg[160];

    return retry_keyed(backoff_parse_kind(v, &p->backoff.kind, msg, sizeof(msg)), "backoff", msg,
                       err, errlen);
}

static int retry_set_jitter(retry_policy *p, const char *v, char *err, size_t errlen)
{
    char msg[160];

    return retry_keyed(backoff_parse_jitter(v, &p->backoff.jitter, msg, sizeof(msg)), "jitter", msg,
                       err, errlen);
}

static int retry_set_multiplier(retry_policy *p, const char *v, char *err, size_t errlen)
{
    char msg[160];

    return retry_keyed(backoff_parse_multiplier(v, &p->backoff.multiplier, msg, sizeof(msg)),
                       "multiplier", msg, err, errlen);
}

static int retry_bool(const char *key, const char *v, bool *out, char *err, size_t errlen)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) {
        *out = true;
        return 0;
    }
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) {
        *out = false;
        return 0;
    }
    return err_set(err, errlen, -EINVAL, "%s: \"%s\": expected true or false", key, v);
}

static int retry_set_honor(retry_policy *p, const char *v, char *err, size_t errlen)
{
    return retry_bool("honor_retry_after", v, &p->honor_retry_after, err, errlen);
}

static int retry_set_non_idempotent(retry_policy *p, const char *v, char *err, size_t errlen)
{
    return retry_bool("retry_non_idempotent", v, &p->retry_non_idempotent, err, errlen);
}

static int retry_set_budget(retry_policy *p, const char *v, char *err, size_t errlen)
{
    if (strcasecmp(v, "off") != 0 && strcasecmp(v, "none") != 0)
        return err_set(err, errlen, -EINVAL,
                       "budget: \"%s\": expected off, or a mapping with ratio and min_per_s", v);
    p->budget = false;
    return 0;
}

static int retry_set_budget_ratio(retry_policy *p, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    uint64_t ppm;
    bool ok;

    /* "20%" is read with 4 decimals of a percent, "0.2" with 6 of a ratio:
     * either way the result is in parts per million. */
    if (n > 0 && v[n - 1] == '%')
        ok = retry_decimal(v, v + n - 1, 4, &ppm);
    else
        ok = retry_decimal(v, v + n, 6, &ppm);
    if (!ok || ppm > RETRY_MAX_RATIO)
        return err_set(err, errlen, -EINVAL,
                       "budget.ratio: \"%s\": expected a ratio from 0 to 100 such as 0.2 "
                       "or 20%%",
                       v);
    p->budget = true;
    p->budget_ratio = (uint32_t)ppm;
    return 0;
}

static int retry_set_budget_min(retry_policy *p, const char *v, char *err, size_t errlen)
{
    uint64_t n;

    if (!retry_decimal(v, v + strlen(v), 0, &n) || n > RETRY_MAX_MIN_PER_S)
        return err_set(err, errlen, -EINVAL,
                       "budget.min_per_s: \"%s\": expected an integer from 0 to %u", v,
                       RETRY_MAX_MIN_PER_S);
    p->budget = true;
    p->budget_min_per_s = (uint32_t)n;
    return 0;
}

static const struct {
    const char *key;
    int (*set)(retry_policy *p, const char *v, char *err, size_t errlen);
} retry_options[] = {
    {"on", retry_set_on},
    {"max_attempts", retry_set_max_attempts},
    {"backoff", retry_set_backoff},
    {"base", retry_set_base},
    {"cap", retry_set_cap},
    {"multiplier", retry_set_multiplier},
    {"jitter", retry_set_jitter},
    {"honor_retry_after", retry_set_honor},
    {"retry_after_max", retry_set_retry_after_max},
    {"budget", retry_set_budget},
    {"budget.ratio", retry_set_budget_ratio},
    {"budget.min_per_s", retry_set_budget_min},
    {"retry_non_idempotent", retry_set_non_idempotent},
};

int retry_policy_set(retry_policy *p, const char *key, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(retry_options) / sizeof(retry_options[0]); i++) {
        if (strcmp(key, retry_options[i].key) == 0)
            return retry_options[i].set(p, value, err, errlen);
    }
    return err_set(err, errlen, -EINVAL,
                   "unknown retry option \"%s\" (expected on, max_attempts, backoff, base, "
                   "cap, multiplier, jitter, honor_retry_after, retry_after_max, budget, "
                   "retry_non_idempotent)",
                   key);
}

int retry_policy_validate(const retry_policy *p, char *err, size_t errlen)
{
    if (p->max_attempts < 1 || p->max_attempts > RETRY_MAX_ATTEMPTS)
        return err_set(err, errlen, -EINVAL, "max_attempts: expected an integer from 1 to %d",
                       RETRY_MAX_ATTEMPTS);
    return backoff_policy_validate(&p->backoff, err, errlen);
}

bool retry_method_idempotent(const char *m, size_t len)
{
    static const char *const idempotent[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};

    for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++) {
        if (strlen(idempotent[i]) == len && memcmp(m, idempotent[i], len) == 0)
            return true;
    }
    return false;
}

void retry_begin(retry_request *req, retry_budget *b, uint64_t now)
{
    req->attempts = 1;
    req->prev_delay_ns = 0;
    if (b != NULL)
        retry_budget_note_request(b, now);
}

static bool retry_is_on(const retry_policy *p, const retry_outcome *o)
{
    switch (o->kind) {
    case RETRY_OUTCOME_STATUS:
        return retry_policy_on_status(p, o->status);
    case RETRY_OUTCOME_CONNECT_ERROR:
        return (p->on_errors & RETRY_ON_CONNECT_ERROR) != 0;
    case RETRY_OUTCOME_TIMEOUT:
        return (p->on_errors & RETRY_ON_TIMEOUT) != 0;
    default:
        return false;
    }
}

static retry_decision retry_give_up(retry_reason why)
{
    return (retry_decision){.retry = false, .reason = why, .delay_ns = 0};
}

retry_decision retry_decide(const retry_policy *p, retry_budget *b, retry_request *req,
                            const retry_outcome *o, uint64_t now, rng *r)
{
    bool honor = p->honor_retry_after && o->has_retry_after;
    uint64_t delay;

    if (!retry_is_on(p, o))
        return retry_give_up(RETRY_REASON_NOT_RETRYABLE);
    if (o->kind == RETRY_OUTCOME_TIMEOUT && !o->idempotent && !p->retry_non_idempotent)
        return retry_give_up(RETRY_REASON_NON_IDEMPOTENT_TIMEOUT);
    if (req->attempts >= p->max_attempts)
        return retry_give_up(RETRY_REASON_MAX_ATTEMPTS);
    if (honor && o->retry_after_ns > p->retry_after_max_ns)
        return retry_give_up(RETRY_REASON_RETRY_AFTER_TOO_LONG);
    if (p->budget && b != NULL &&
        !retry_budget_allows(b, p->budget_ratio, p->budget_min_per_s, now))
        return retry_give_up(RETRY_REASON_BUDGET);

    delay = backoff_delay(&p->backoff, req->attempts > 0 ? req->attempts - 1 : 0,
                          req->prev_delay_ns, r);
    req->prev_delay_ns = delay;
    req->attempts++;
    /* Retry-After plus the jittered backoff, not the larger of the two: with
     * the larger, every retry whose backoff is shorter than Retry-After (all
     * the early ones) waits exactly Retry-After and the clients throttled
     * together come back together. */
    if (honor && __builtin_add_overflow(delay, o->retry_after_ns, &delay))
        delay = UINT64_MAX;
    if (b != NULL)
        retry_budget_note_retry(b, now);
    return (retry_decision){.retry = true, .reason = RETRY_REASON_NONE, .delay_ns = delay};
}

void retry_gate_init(retry_gate *g)
{
    g->until_ns = 0;
    g->since_ns = 0;
}

void retry_gate_note(retry_gate *g, uint64_t now, uint64_t retry_after_ns)
{
    uint64_t until;

    if (__builtin_add_overflow(now, retry_after_ns, &until))
        until = UINT64_MAX;
    if (until <= g->until_ns)
        return;
    if (g->until_ns <= now)
        g->since_ns = now; /* it was open: a new closed period */
    g->until_ns = until;
}

uint64_t retry_gate_wait(const retry_gate *g, uint64_t now)
{
    return g->until_ns > now ? g->until_ns - now : 0;
}

uint64_t retry_gate_spread(const retry_gate *g)
{
    return g->until_ns > g->since_ns ? g->until_ns - g->since_ns : 0;
}

uint64_t retry_gate_release(const retry_gate *g, uint64_t now, rng *r)
{
    uint64_t spread = retry_gate_spread(g), off, when;

    if (g->until_ns <= now)
        return now;
    off = spread == UINT64_MAX ? rng_next(r) : rng_below(r, spread + 1);
    if (__builtin_add_overflow(g->until_ns, off, &when))
        when = UINT64_MAX;
    return when;
}

const char *retry_reason_name(retry_reason r)
{
    static const char *const names[RETRY_REASON_COUNT] = {
        [RETRY_REASON_NONE] = "retry",
        [RETRY_REASON_NOT_RETRYABLE] = "not_retryable",
        [RETRY_REASON_NON_IDEMPOTENT_TIMEOUT] = "non_idempotent_timeout",
        [RETRY_REASON_MAX_ATTEMPTS] = "max_attempts",
        [RETRY_REASON_RETRY_AFTER_TOO_LONG] = "retry_after_too_long",
        [RETRY_REASON_BUDGET] = "budget",
    };

    return (unsigned)r < RETRY_REASON_COUNT ? names[r] : "?";
}
