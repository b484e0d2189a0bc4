#include "limit/dialect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int dialect_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dialect_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* The numbers every single-limit dialect reports for limit i. */
typedef struct dialect_nums {
    uint64_t quota, remaining, used, reset_s;
} dialect_nums;

static dialect_nums dialect_numbers(const limit_decision *d, int i)
{
    const algo_verdict *v = &d->v[i];
    dialect_nums n;

    n.quota = v->quota;
    n.remaining = v->remaining;
    n.used = v->quota - v->remaining;
    n.reset_s = algo_ceil_s(v->reset_ns);
    return n;
}

static int dialect_ietf(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    int rc = 0;

    (void)wall_ns;
    if (d->n == 0)
        return 0;
    rc = buf_append_str(out, "RateLimit-Policy: ");
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        const policy_limit *l = d->limits[i];
        uint64_t w = algo_ceil_s(algo_window_ns(&l->params));

        rc = buf_printf(out, "%s\"%s\";q=%" PRIu64, i > 0 ? ", " : "", l->name, d->v[i].quota);
        if (rc == 0 && l->params.kind != ALGO_CONCURRENCY)
            rc = buf_printf(out, ";w=%" PRIu64, w > 0 ? w : 1);
    }
    if (rc == 0)
        rc = buf_append_str(out, "\r\nRateLimit: ");
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        rc = buf_printf(out, "%s\"%s\";r=%" PRIu64, i > 0 ? ", " : "", d->limits[i]->name,
                        d->v[i].remaining);
        if (rc == 0 && d->limits[i]->params.kind != ALGO_CONCURRENCY)
            rc = buf_printf(out, ";t=%" PRIu64, algo_ceil_s(d->v[i].reset_ns));
    }
    return rc == 0 ? buf_append_str(out, "\r\n") : rc;
}

static int dialect_triple(const limit_decision *d, const char *prefix, buf *out)
{
    int i = limit_tightest(d);
    dialect_nums n;

    if (i < 0)
        return 0;
    n = dialect_numbers(d, i);
    return buf_printf(
        out, "%sLimit: %" PRIu64 "\r\n%sRemaining: %" PRIu64 "\r\n%sReset: %" PRIu64 "\r\n", prefix,
        n.quota, prefix, n.remaining, prefix, n.reset_s);
}

static int dialect_draft03(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    (void)wall_ns;
    return dialect_triple(d, "RateLimit-", out);
}

static int dialect_xratelimit(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    (void)wall_ns;
    return dialect_triple(d, "X-RateLimit-", out);
}

static int dialect_github(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    int i = limit_tightest(d);
    dialect_nums n;

    if (i < 0)
        return 0;
    n = dialect_numbers(d, i);
    return buf_printf(out,
                      "x-ratelimit-limit: %" PRIu64 "\r\nx-ratelimit-remaining: %" PRIu64
                      "\r\nx-ratelimit-used: %" PRIu64 "\r\nx-ratelimit-reset: %" PRIu64
                      "\r\nx-ratelimit-resource: %s\r\n",
                      n.quota, n.remaining, n.used, algo_ceil_s(wall_ns + d->v[i].reset_ns),
                      d->limits[i]->name);
}

static int dialect_inin(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    int i = limit_tightest(d);
    dialect_nums n;

    (void)wall_ns;
    if (i < 0)
        return 0;
    n = dialect_numbers(d, i);
    return buf_printf(out,
                      "inin-ratelimit-count: %" PRIu64 "\r\ninin-ratelimit-allowed: %" PRIu64
                      "\r\ninin-ratelimit-reset: %" PRIu64 "\r\n",
                      n.used, n.quota, n.reset_s);
}

static const dialect dialect_table[DIALECT_COUNT] = {
    [DIALECT_IETF] = {"ietf", "Retry-After", dialect_ietf},
    [DIALECT_DRAFT03] = {"draft03", "Retry-After", dialect_draft03},
    [DIALECT_XRATELIMIT] = {"x-ratelimit", "Retry-After", dialect_xratelimit},
    [DIALECT_GITHUB] = {"github", "retry-after", dialect_github},
    [DIALECT_ININ] = {"inin", "Retry-After", dialect_inin},
};

const dialect *dialect_get(enum dialect_id id)
{
    return &dialect_table[id];
}

int dialect_parse(const char *name, enum dialect_id *out, char *err, size_t errlen)
{
    for (int i = 0; i < DIALECT_COUNT; i++) {
        if (name != NULL && strcmp(name, dialect_table[i].name) == 0) {
            *out = (enum dialect_id)i;
            return 0;
        }
    }
    return dialect_fail(err, errlen,
                        "dialects: unknown '%s', expected ietf, draft03, x-ratelimit, github or "
                        "inin",
                        name == NULL ? "" : name);
}

int dialect_check(unsigned mask, char *err, size_t errlen)
{
    unsigned clash = DIALECT_BIT(DIALECT_XRATELIMIT) | DIALECT_BIT(DIALECT_GITHUB);

    if ((mask & clash) == clash)
        return dialect_fail(err, errlen,
                            "dialects: x-ratelimit and github both write X-RateLimit-Limit, "
                            "choose one");
    return 0;
}

int dialect_write(unsigned mask, const limit_decision *d, uint64_t wall_ns, buf *out)
{
    const char *retry_after = NULL;
    int rc;

    for (int i = 0; i < DIALECT_COUNT; i++) {
        if ((mask & DIALECT_BIT(i)) == 0)
            continue;
        if (retry_after == NULL)
            retry_after = dialect_table[i].retry_after;
        rc = dialect_table[i].write(d, wall_ns, out);
        if (rc != 0)
            return rc;
    }
    if (!d->admitted && d->n > 0)
        return buf_printf(out, "%s: %" PRIu64 "\r\n",
                          retry_after != NULL ? retry_after : "Retry-After", d->retry_after_s);
    return 0;
}
