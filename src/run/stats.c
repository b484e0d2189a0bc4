/*
 * stats: counters and histograms behind one mutex per thread.
 *
 * A mutex rather than atomics because one record touches a dozen counters and
 * three histograms that the main thread must see together (a timeline row
 * whose ok + throttled + errors equals its attempts); uncontended, it costs
 * two atomic operations per record.
 */
#include "run/stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

stats_class stats_classify(int status, stats_neterr neterr)
{
    if (neterr != STATS_NETERR_NONE)
        return STATS_NETWORK_ERROR;
    if (status == 429)
        return STATS_THROTTLED;
    if (status >= 100 && status < 400)
        return STATS_OK;
    if (status >= 400 && status < 500)
        return STATS_CLIENT_ERROR;
    if (status <= 0)
        return STATS_NETWORK_ERROR;
    return STATS_SERVER_ERROR;
}

const char *stats_class_name(stats_class c)
{
    static const char *const names[STATS_CLASS_COUNT] = {"ok", "throttled", "client_error",
                                                         "server_error", "network_error"};
    if ((unsigned)c >= STATS_CLASS_COUNT)
        return "unknown";
    return names[c];
}

const char *stats_neterr_name(stats_neterr k)
{
    static const char *const names[STATS_NETERR_COUNT] = {"none",    "refused", "reset",
                                                          "timeout", "tls",     "other"};
    if ((unsigned)k >= STATS_NETERR_COUNT)
        return "other";
    return names[k];
}

void stats_counts_init(stats_counts *c)
{
    memset(c, 0, sizeof(*c));
    c->first_throttle_ns = STATS_NONE;
}

static void stats_counts_add(stats_counts *dst, const stats_counts *src)
{
    dst->sent += src->sent;
    dst->attempts += src->attempts;
    dst->retries += src->retries;
    for (int i = 0; i < STATS_CLASS_COUNT; i++)
        dst->cls[i] += src->cls[i];
    for (int i = 0; i < STATS_NETERR_COUNT; i++)
        dst->neterr[i] += src->neterr[i];
    dst->unexpected += src->unexpected;
    dst->logical += src->logical;
    dst->logical_ok += src->logical_ok;
    dst->logical_failed += src->logical_failed;
    dst->iterations += src->iterations;
    dst->dropped += src->dropped;
    dst->iterations_failed += src->iterations_failed;
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
    if (src->first_throttle_ns < dst->first_throttle_ns)
        dst->first_throttle_ns = src->first_throttle_ns;
}

int stats_interval_init(stats_interval *iv)
{
    memset(iv, 0, sizeof(*iv));
    if (hist_init(&iv->latency) < 0)
        goto err;
    if (hist_init(&iv->e2e) < 0)
        goto err;
    return 0;
err:
    stats_interval_free(iv);
    return -ENOMEM;
}

void stats_interval_free(stats_interval *iv)
{
    hist_free(&iv->latency);
    hist_free(&iv->e2e);
}

void stats_interval_reset(stats_interval *iv)
{
    iv->sent = iv->attempts = iv->ok = iv->throttled = iv->errors = 0;
    iv->logical = iv->logical_ok = iv->dropped = 0;
    iv->has_remaining = false;
    iv->min_remaining = 0;
    hist_reset(&iv->latency);
    hist_reset(&iv->e2e);
}

int stats_init(stats *s, size_t n_steps, uint64_t run_start_ns)
{
    memset(s, 0, sizeof(*s));
    s->run_start_ns = run_start_ns;
    stats_counts_init(&s->total);
    rlhdr_stats_init(&s->rl);
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return -ENOMEM;
    if (hist_init(&s->latency) < 0 || hist_init(&s->e2e) < 0)
        goto err;
    if (stats_interval_init(&s->iv) < 0)
        goto err;
    if (n_steps > 0) {
        s->steps = calloc(n_steps, sizeof(*s->steps));
        if (!s->steps)
            goto err;
        s->n_steps = n_steps;
        for (size_t i = 0; i < n_steps; i++) {
            stats_counts_init(&s->steps[i].c);
            if (hist_init(&s->steps[i].latency) < 0 || hist_init(&s->steps[i].e2e) < 0)
                goto err;
        }
    }
    return 0;
err:
    stats_free(s);
    return -ENOMEM;
}

void stats_free(stats *s)
{
    for (size_t i = 0; i < s->n_steps; i++) {
        hist_free(&s->steps[i].latency);
        hist_free(&s->steps[i].e2e);
    }
    free(s->steps);
    s->steps = NULL;
    s->n_steps = 0;
    hist_free(&s->latency);
    hist_free(&s->e2e);
    stats_interval_free(&s->iv);
    pthread_mutex_destroy(&s->lock);
}

static stats_step *stats_step_at(stats *s, size_t step)
{
    return step < s->n_steps ? &s->steps[step] : NULL;
}

void stats_add_sent(stats *s, size_t step, uint64_t now)
{
    (void)now;
    pthread_mutex_lock(&s->lock);
    stats_step *st = stats_step_at(s, step);
    s->total.sent++;
    if (st)
        st->c.sent++;
    s->iv.sent++;
    pthread_mutex_unlock(&s->lock);
}

/* The counters an attempt changes, in one stats_counts. */
static void stats_count_attempt(stats_counts *c, const stats_attempt *a, stats_class cls,
                                uint64_t since_start)
{
    c->attempts++;
    c->cls[cls]++;
    if (cls == STATS_NETWORK_ERROR) {
        unsigned k = (unsigned)a->neterr;
        c->neterr[k > 0 && k < STATS_NETERR_COUNT ? k : STATS_NETERR_OTHER]++;
    }
    if (a->is_retry)
        c->retries++;
    if (!a->expect_ok)
        c->unexpected++;
    c->bytes_in += a->bytes_in;
    c->bytes_out += a->bytes_out;
    if (cls == STATS_THROTTLED && since_start < c->first_throttle_ns)
        c->first_throttle_ns = since_start;
}

void stats_add_attempt(stats *s, const stats_attempt *a)
{
    stats_class cls = stats_classify(a->status, a->neterr);
    uint64_t since_start = a->end_ns > s->run_start_ns ? a->end_ns - s->run_start_ns : 0;
    uint64_t latency = a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
    bool responded = cls != STATS_NETWORK_ERROR;

    pthread_mutex_lock(&s->lock);
    stats_step *st = stats_step_at(s, a->step);
    stats_count_attempt(&s->total, a, cls, since_start);
    if (st)
        stats_count_attempt(&st->c, a, cls, since_start);
    if (a->status >= STATS_STATUS_MIN && a->status <= STATS_STATUS_MAX)
        s->status[a->status - STATS_STATUS_MIN]++;
    else if (responded)
        s->status_other++;
    if (responded) {
        hist_record(&s->latency, latency);
        hist_record(&s->iv.latency, latency);
        if (st)
            hist_record(&st->latency, latency);
    }
    if (a->rl) {
        rlhdr_stats_add(&s->rl, a->rl, a->end_ns);
        if (a->rl->has_remaining &&
            (!s->iv.has_remaining || a->rl->remaining < s->iv.min_remaining)) {
            s->iv.has_remaining = true;
            s->iv.min_remaining = a->rl->remaining;
        }
    }
    s->iv.attempts++;
    if (cls == STATS_OK)
        s->iv.ok++;
    else if (cls == STATS_THROTTLED)
        s->iv.throttled++;
    else
        s->iv.errors++;
    pthread_mutex_unlock(&s->lock);
}

void stats_add_logical(stats *s, const stats_logical *l)
{
    uint64_t e2e = l->done_ns > l->intended_start_ns ? l->done_ns - l->intended_start_ns : 0;

    pthread_mutex_lock(&s->lock);
    stats_step *st = stats_step_at(s, l->step);
    s->total.logical++;
    if (st)
        st->c.logical++;
    if (l->ok) {
        s->total.logical_ok++;
        if (st)
            st->c.logical_ok++;
        s->iv.logical_ok++;
    } else {
        s->total.logical_failed++;
        if (st)
            st->c.logical_failed++;
        if (l->giveup != RETRY_REASON_NONE && (unsigned)l->giveup < RETRY_REASON_COUNT)
            s->giveups[l->giveup]++;
    }
    s->iv.logical++;
    hist_record(&s->e2e, e2e);
    hist_record(&s->iv.e2e, e2e);
    if (st)
        hist_record(&st->e2e, e2e);
    pthread_mutex_unlock(&s->lock);
}

void stats_add_iteration(stats *s, uint64_t now)
{
    (void)now;
    pthread_mutex_lock(&s->lock);
    s->total.iterations++;
    pthread_mutex_unlock(&s->lock);
}

void stats_add_dropped(stats *s, uint64_t now)
{
    (void)now;
    pthread_mutex_lock(&s->lock);
    s->total.dropped++;
    s->iv.dropped++;
    pthread_mutex_unlock(&s->lock);
}

/* Counts `count` failures of `reason` in s's table. The caller holds the lock
 * (or owns s). */
static void stats_count_failure(stats *s, const char *reason, uint64_t count)
{
    for (size_t i = 0; i < s->n_failures; i++) {
        if (strncmp(s->failures[i].reason, reason, STATS_REASON_MAX - 1) == 0) {
            s->failures[i].count += count;
            return;
        }
    }
    if (s->n_failures == STATS_FAILURES_MAX) {
        s->failures_other += count;
        return;
    }
    stats_failure *f = &s->failures[s->n_failures++];
    size_t n = strnlen(reason, STATS_REASON_MAX - 1);
    memcpy(f->reason, reason, n);
    f->reason[n] = '\0';
    f->count = count;
}

void stats_add_iteration_failed(stats *s, const char *reason)
{
    if (!reason)
        reason = "unknown";
    pthread_mutex_lock(&s->lock);
    s->total.iterations_failed++;
    stats_count_failure(s, reason, 1);
    pthread_mutex_unlock(&s->lock);
}

void stats_add_token(stats *s, bool ok)
{
    pthread_mutex_lock(&s->lock);
    s->token_requests++;
    s->token_failures += !ok;
    pthread_mutex_unlock(&s->lock);
}

void stats_peek(stats *s, stats_counts *acc)
{
    pthread_mutex_lock(&s->lock);
    stats_counts_add(acc, &s->total);
    pthread_mutex_unlock(&s->lock);
}

/* Adds src's interval into dst (the caller holds what locks it needs). */
static void stats_interval_add(stats_interval *dst, const stats_interval *src)
{
    dst->sent += src->sent;
    dst->attempts += src->attempts;
    dst->ok += src->ok;
    dst->throttled += src->throttled;
    dst->errors += src->errors;
    dst->logical += src->logical;
    dst->logical_ok += src->logical_ok;
    dst->dropped += src->dropped;
    if (src->has_remaining && (!dst->has_remaining || src->min_remaining < dst->min_remaining)) {
        dst->has_remaining = true;
        dst->min_remaining = src->min_remaining;
    }
    hist_merge(&dst->latency, &src->latency);
    hist_merge(&dst->e2e, &src->e2e);
}

void stats_take_interval(stats *s, stats_interval *acc)
{
    pthread_mutex_lock(&s->lock);
    stats_interval_add(acc, &s->iv);
    stats_interval_reset(&s->iv);
    pthread_mutex_unlock(&s->lock);
}

void stats_merge(stats *dst, stats *src)
{
    pthread_mutex_lock(&src->lock);
    stats_counts_add(&dst->total, &src->total);
    for (size_t i = 0; i < src->n_steps && i < dst->n_steps; i++) {
        stats_counts_add(&dst->steps[i].c, &src->steps[i].c);
        hist_merge(&dst->steps[i].latency, &src->steps[i].latency);
        hist_merge(&dst->steps[i].e2e, &src->steps[i].e2e);
    }
    hist_merge(&dst->latency, &src->latency);
    hist_merge(&dst->e2e, &src->e2e);
    for (size_t i = 0; i < sizeof(dst->status) / sizeof(dst->status[0]); i++)
        dst->status[i] += src->status[i];
    dst->status_other += src->status_other;
    for (size_t i = 0; i < RETRY_REASON_COUNT; i++)
        dst->giveups[i] += src->giveups[i];
    rlhdr_stats_merge(&dst->rl, &src->rl);
    for (size_t i = 0; i < src->n_failures; i++)
        stats_count_failure(dst, src->failures[i].reason, src->failures[i].count);
    dst->failures_other += src->failures_other;
    dst->token_requests += src->token_requests;
    dst->token_failures += src->token_failures;
    pthread_mutex_unlock(&src->lock);
}
