/*
 * report: rates, threshold metrics and step names from the merged stats.
 */
#include "run/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void report_rates_of(const report_meta *m, const stats *s, report_rates *out)
{
    double secs = (double)m->duration_ns / 1e9;

    out->target = m->target_rate > 0 ? m->target_rate : 0;
    out->offered = out->achieved = out->goodput = 0;
    if (m->duration_ns == 0)
        return;
    /* Every ended attempt was sent, even if the engine did not say so. */
    uint64_t sent = s->total.sent > s->total.attempts ? s->total.sent : s->total.attempts;
    out->offered = (double)sent / secs;
    out->achieved = (double)s->total.attempts / secs;
    out->goodput = (double)s->total.logical_ok / secs;
}

static void report_latency(const hist *h, threshold_latency *out)
{
    out->p50 = hist_percentile(h, 50.0);
    out->p90 = hist_percentile(h, 90.0);
    out->p95 = hist_percentile(h, 95.0);
    out->p99 = hist_percentile(h, 99.0);
    out->p999 = hist_percentile(h, 99.9);
    out->max = hist_max(h);
    out->mean = (uint64_t)(hist_mean(h) + 0.5);
}

/* NaN when there is nothing to divide by: a threshold on it fails, so a run
 * that sent nothing cannot pass "throttled_ratio < 0.01". */
static double report_ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : NAN;
}

void report_metrics(const report_meta *m, const stats *s, threshold_metrics *out)
{
    const stats_counts *c = &s->total;
    report_rates r;

    memset(out, 0, sizeof(*out));
    report_rates_of(m, s, &r);
    out->throttled_ratio = report_ratio(c->cls[STATS_THROTTLED], c->attempts);
    out->error_ratio = report_ratio(c->logical_failed, c->logical);
    out->retry_ratio = report_ratio(c->retries, c->logical);
    /* Iterations started, or logical requests when the engine does not count
     * iterations. */
    out->dropped_ratio =
        report_ratio(c->dropped, (c->iterations ? c->iterations : c->logical) + c->dropped);
    report_latency(&s->latency, &out->attempt);
    report_latency(&s->e2e, &out->end_to_end);
    out->rate = r.achieved;
    out->goodput = r.goodput;
    out->has_first_throttle = c->first_throttle_ns != STATS_NONE;
    out->first_throttle_s = out->has_first_throttle ? (double)c->first_throttle_ns / 1e9 : 0.0;
    out->logical = c->logical;
    out->attempts = c->attempts;
    out->ok = c->cls[STATS_OK];
    out->throttled = c->cls[STATS_THROTTLED];
    out->client_error = c->cls[STATS_CLIENT_ERROR];
    out->server_error = c->cls[STATS_SERVER_ERROR];
    out->network_error = c->cls[STATS_NETWORK_ERROR];
    out->retries = c->retries;
    out->dropped = c->dropped;
}

size_t report_eval_thresholds(const report_meta *m, const stats *s, threshold_result *out)
{
    threshold_metrics tm;

    if (m->n_thresholds == 0)
        return 0;
    report_metrics(m, s, &tm);
    return threshold_eval_all(m->thresholds, m->n_thresholds, &tm, out);
}

static const char *report_raw_step_name(const report_meta *m, size_t i)
{
    if (i < m->n_steps && m->step_names && m->step_names[i] && m->step_names[i][0])
        return m->step_names[i];
    return NULL;
}

const char *report_step_name(const report_meta *m, size_t i, char *buf, size_t len)
{
    const char *name = report_raw_step_name(m, i);
    char fallback[32];
    unsigned k = 1;

    if (len == 0)
        return buf;
    if (!name) {
        snprintf(fallback, sizeof(fallback), "step %zu", i + 1);
        name = fallback;
    }
    for (size_t j = 0; j < i; j++) {
        const char *other = report_raw_step_name(m, j);
        char ofb[32];
        if (!other) {
            snprintf(ofb, sizeof(ofb), "step %zu", j + 1);
            other = ofb;
        }
        if (strcmp(other, name) == 0)
            k++;
    }
    if (k == 1)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s #%u", name, k);
    return buf;
}
