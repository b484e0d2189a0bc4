/*
 * report_text: fprintf, line by line; percentages are of attempts, except
 * "failed", which is of logical requests.
 */
#include "run/report_text.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define LABEL "%-15s"

/* Milliseconds with as many decimals as make sense for their size. */
static const char *report_text_ms(uint64_t ns, char *buf, size_t len)
{
    double v = (double)ns / 1e6;

    if (v < 100)
        snprintf(buf, len, "%.2f", v);
    else if (v < 10000)
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

static double report_text_pct(uint64_t n, uint64_t of)
{
    return of ? 100.0 * (double)n / (double)of : 0.0;
}

static void report_text_latency(FILE *out, const char *label, const hist *h)
{
    static const struct {
        const char *name;
        double p;
    } pcts[] = {{"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99.9", 99.9}};
    char v[32];

    fprintf(out, LABEL, label);
    if (hist_count(h) == 0) {
        fprintf(out, "none\n");
        return;
    }
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        fprintf(out, "%s %s   ", pcts[i].name,
                report_text_ms(hist_percentile(h, pcts[i].p), v, 32));
    fprintf(out, "max %s   ", report_text_ms(hist_max(h), v, sizeof(v)));
    fprintf(out, "mean %s\n", report_text_ms((uint64_t)(hist_mean(h) + 0.5), v, sizeof(v)));
}

static void report_text_classes(FILE *out, const stats_counts *c)
{
    for (int k = 0; k < STATS_CLASS_COUNT; k++) {
        fprintf(out, "  %-13s %8llu %6.1f %%", stats_class_name((stats_class)k),
                (unsigned long long)c->cls[k], report_text_pct(c->cls[k], c->attempts));
        if (k == STATS_THROTTLED && c->first_throttle_ns != STATS_NONE)
            fprintf(out, "   first 429 after %.2f s", (double)c->first_throttle_ns / 1e9);
        if (k == STATS_NETWORK_ERROR && c->cls[k] > 0) {
            const char *sep = "   ";
            for (int e = STATS_NETERR_REFUSED; e < STATS_NETERR_COUNT; e++) {
                if (c->neterr[e] == 0)
                    continue;
                fprintf(out, "%s%s %llu", sep, stats_neterr_name((stats_neterr)e),
                        (unsigned long long)c->neterr[e]);
                sep = ", ";
            }
        }
        fputc('\n', out);
    }
}

static void report_text_status(FILE *out, const stats *s)
{
    size_t col = 15, printed = 0;

    fprintf(out, LABEL, "status");
    for (int st = STATS_STATUS_MIN; st <= STATS_STATUS_MAX; st++) {
        unsigned long long n = s->status[st - STATS_STATUS_MIN];
        char item[48];
        if (n == 0)
            continue;
        int w = snprintf(item, sizeof(item), "%d: %llu", st, n);
        if (printed > 0 && col + 3 + (size_t)w > 100) {
            fprintf(out, "\n" LABEL, "");
            col = 15;
            printed = 0;
        }
        fprintf(out, "%s%s", printed ? "   " : "", item);
        col += (printed ? 3 : 0) + (size_t)w;
        printed++;
    }
    if (s->status_other > 0)
        fprintf(out, "%sother: %llu", printed ? "   " : "", (unsigned long long)s->status_other);
    else if (printed == 0)
        fprintf(out, "none");
    fputc('\n', out);
}

static void report_text_ratelimit(FILE *out, const rlhdr_stats *rl)
{
    char names[128];

    fprintf(out, LABEL, "rate limit");
    if (!rl->has_limit && !rl->has_remaining && !rl->has_reset) {
        fprintf(out, "%s\n", rl->dialects ? "only Retry-After seen" : "no rate-limit headers seen");
        return;
    }
    if (rl->has_limit)
        fprintf(out, "limit %llu   ", (unsigned long long)rl->limit);
    if (rl->has_remaining)
        fprintf(out, "min remaining %llu   ", (unsigned long long)rl->min_remaining);
    if (rl->has_reset)
        fprintf(out, "reset %.1f s   ", (double)rl->reset_ns / 1e9);
    fprintf(out, "(%s)\n", rlhdr_dialect_names(rl->dialects, names, sizeof(names)));
}

static void report_text_steps(FILE *out, const report_meta *m, const stats *s)
{
    if (s->n_steps == 0)
        return;
    fprintf(out, "%-24s %8s %9s %8s %6s %7s %9s %9s %11s\n", "step", "logical", "attempts", "ok",
            "429 %", "errors", "p50 ms", "p99 ms", "e2e p99 ms");
    for (size_t i = 0; i < s->n_steps; i++) {
        const stats_step *st = &s->steps[i];
        const stats_counts *c = &st->c;
        char name[256], p50[32] = "-", p99[32] = "-", e2e[32] = "-";
        uint64_t errors =
            c->cls[STATS_CLIENT_ERROR] + c->cls[STATS_SERVER_ERROR] + c->cls[STATS_NETWORK_ERROR];

        report_step_name(m, i, name, sizeof(name));
        if (strlen(name) > 24)
            memcpy(name + 21, "...", 4);
        if (hist_count(&st->latency) > 0) {
            report_text_ms(hist_percentile(&st->latency, 50.0), p50, sizeof(p50));
            report_text_ms(hist_percentile(&st->latency, 99.0), p99, sizeof(p99));
        }
        if (hist_count(&st->e2e) > 0)
            report_text_ms(hist_percentile(&st->e2e, 99.0), e2e, sizeof(e2e));
        fprintf(out, "%-24s %8llu %9llu %8llu %6.1f %7llu %9s %9s %11s\n", name,
                (unsigned long long)c->logical, (unsigned long long)c->attempts,
                (unsigned long long)c->cls[STATS_OK],
                report_text_pct(c->cls[STATS_THROTTLED], c->attempts), (unsigned long long)errors,
                p50, p99, e2e);
    }
}

static void report_text_giveups(FILE *out, const stats *s)
{
    const char *sep = "";

    for (int i = RETRY_REASON_NONE + 1; i < RETRY_REASON_COUNT; i++) {
        if (s->giveups[i] == 0)
            continue;
        if (!*sep)
            fprintf(out, LABEL, "give-ups");
        fprintf(out, "%s%s %llu", sep, retry_reason_name((retry_reason)i),
                (unsigned long long)s->giveups[i]);
        sep = "   ";
    }
    if (*sep)
        fputc('\n', out);
}

static void report_text_failures(FILE *out, const stats *s)
{
    if (s->n_failures == 0 && s->failures_other == 0)
        return;
    fprintf(out, "iterations failed\n");
    for (size_t i = 0; i < s->n_failures; i++)
        fprintf(out, "  %8llu  %s\n", (unsigned long long)s->failures[i].count,
                s->failures[i].reason);
    if (s->failures_other > 0)
        fprintf(out, "  %8llu  (other reasons)\n", (unsigned long long)s->failures_other);
}

static void report_text_thresholds(FILE *out, const report_meta *m, const threshold_result *results)
{
    if (!results || m->n_thresholds == 0)
        return;
    fprintf(out, "thresholds\n");
    for (size_t i = 0; i < m->n_thresholds; i++) {
        const threshold *t = &m->thresholds[i];
        const char *unit = threshold_unit(t);
        double v = results[i].value;
        char value[48];
        if (isnan(v))
            snprintf(value, sizeof(value), "n/a");
        else if (isinf(v))
            snprintf(value, sizeof(value), "none");
        else if (strcmp(unit, "") == 0 && v == floor(v) && fabs(v) < 1e15)
            snprintf(value, sizeof(value), "%.0f", v);
        else
            snprintf(value, sizeof(value), "%.4g%s%s", v,
                     unit[0] == '/' || unit[0] == '\0' ? "" : " ", unit);
        fprintf(out, "  %s %-40s %s\n", results[i].pass ? "\u2713" : "\u2717", t->expr, value);
    }
}

int report_text_write(FILE *out, const report_meta *m, const stats *s,
                      const threshold_result *results, bool latency)
{
    const stats_counts *c = &s->total;
    report_rates r;

    report_rates_of(m, s, &r);
    fprintf(out, "tollgate run: %s%s\n", m->plan_name ? m->plan_name : "(no plan)",
            m->partial ? " (partial: interrupted)" : "");
    fprintf(out, LABEL "%.2f s", "duration", (double)m->duration_ns / 1e9);
    if (m->planned_ns > 0)
        fprintf(out, " (planned %.6g s)", (double)m->planned_ns / 1e9);
    fputc('\n', out);
    fprintf(out, LABEL "%llu logical (%llu ok, %llu failed), %llu attempts, %llu retries",
            "requests", (unsigned long long)c->logical, (unsigned long long)c->logical_ok,
            (unsigned long long)c->logical_failed, (unsigned long long)c->attempts,
            (unsigned long long)c->retries);
    if (c->dropped > 0)
        fprintf(out, ", %llu dropped", (unsigned long long)c->dropped);
    fputc('\n', out);
    report_text_classes(out, c);
    report_text_status(out, s);
    fprintf(out, LABEL, "rate");
    if (r.target > 0)
        fprintf(out, "target %.1f/s   ", r.target);
    fprintf(out, "offered %.1f/s   achieved %.1f/s   goodput %.1f/s\n", r.offered, r.achieved,
            r.goodput);
    report_text_latency(out, "latency ms", &s->latency);
    report_text_latency(out, "end to end ms", &s->e2e);
    report_text_ratelimit(out, &s->rl);
    report_text_steps(out, m, s);
    report_text_giveups(out, s);
    report_text_failures(out, s);
    report_text_thresholds(out, m, results);
    if (latency) {
        fprintf(out, "\nLatency distribution of attempts (ms)\n");
        if (hist_print_percentiles(out, &s->latency, 5, 1e6) < 0)
            return -EIO;
        fprintf(out, "\nEnd-to-end latency distribution of logical requests (ms)\n");
        if (hist_print_percentiles(out, &s->e2e, 5, 1e6) < 0)
            return -EIO;
    }
    if (fflush(out) != 0 || ferror(out))
        return -EIO;
    return 0;
}
