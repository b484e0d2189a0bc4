/*
 * progress: one snprintf and one write per redraw.
 */
#include "run/progress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void progress_snapshot_fill(progress_snapshot *p, const stats_counts *c, const timeline *tl,
                            uint64_t elapsed_ns, uint64_t total_ns)
{
    const timeline_row *last = tl ? timeline_last(tl) : NULL;

    memset(p, 0, sizeof(*p));
    p->elapsed_ns = elapsed_ns;
    p->total_ns = total_ns;
    p->attempts = c->attempts;
    p->ok = c->cls[STATS_OK];
    p->throttled = c->cls[STATS_THROTTLED];
    p->errors =
        c->cls[STATS_CLIENT_ERROR] + c->cls[STATS_SERVER_ERROR] + c->cls[STATS_NETWORK_ERROR];
    p->in_flight = c->sent > c->attempts ? c->sent - c->attempts : 0;
    if (last) {
        double prev = tl->n >= 2 ? tl->rows[tl->n - 2].t_s : 0.0;
        double span = last->t_s - prev;
        p->rate = span > 0 ? (double)last->attempts / span : 0.0;
        p->has_p99 = last->has_latency;
        p->p99_ns = last->p99_ns;
    } else if (elapsed_ns > 0) {
        p->rate = (double)c->attempts / ((double)elapsed_ns / 1e9);
    }
}

size_t progress_render(char *buf, size_t len, const progress_snapshot *p)
{
    char total[32] = "";
    char p99[32] = "-";
    double pct = p->attempts ? 100.0 * (double)p->throttled / (double)p->attempts : 0.0;
    int n;

    if (p->total_ns > 0)
        snprintf(total, sizeof(total), "/%llus", (unsigned long long)(p->total_ns / 1000000000));
    if (p->has_p99)
        snprintf(p99, sizeof(p99), "%.1fms", (double)p->p99_ns / 1e6);
    n = snprintf(buf, len, "%llus%s  %.1f/s  ok %llu  429 %.1f%%  err %llu  p99 %s  in flight %llu",
                 (unsigned long long)(p->elapsed_ns / 1000000000), total, p->rate,
                 (unsigned long long)p->ok, pct, (unsigned long long)p->errors, p99,
                 (unsigned long long)p->in_flight);
    return n < 0 ? 0 : (size_t)n;
}

bool progress_enabled(int fd, bool quiet)
{
    return !quiet && isatty(fd) == 1;
}

void progress_init(progress *pr, int fd, bool enabled)
{
    pr->fd = fd;
    pr->enabled = enabled;
    pr->drawn = false;
    pr->last_ns = 0;
}

/* Writes all of s[0..n). */
static int progress_write(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int progress_draw(progress *pr, const progress_snapshot *p, uint64_t now)
{
    char line[256];
    size_t n;
    int rc;

    if (!pr->enabled)
        return 0;
    line[0] = '\r';
    n = 1 + progress_render(line + 1, sizeof(line) - 1 - 3, p);
    if (n > sizeof(line) - 4)
        n = sizeof(line) - 4;
    memcpy(line + n, "\x1b[K", 3);
    n += 3;
    rc = progress_write(pr->fd, line, n);
    if (rc < 0)
        return rc;
    pr->drawn = true;
    pr->last_ns = now;
    return 1;
}

int progress_update(progress *pr, const progress_snapshot *p, uint64_t now)
{
    if (!pr->enabled)
        return 0;
    if (pr->drawn && now - pr->last_ns < PROGRESS_INTERVAL_NS)
        return 0;
    return progress_draw(pr, p, now);
}

int progress_end(progress *pr)
{
    if (!pr->enabled || !pr->drawn)
        return 0;
    pr->drawn = false;
    return progress_write(pr->fd, "\r\x1b[K", 4);
}
