#include "limit/dialect.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

/* ---- writing: every dialect runs on every response of a limited route, so
 * the lines are put together by hand in room reserved once per dialect (with
 * a printf per number they took ~3 % of the gateway's CPU, profiled) ---- */

#define DIALECT_NS_PER_S   1000000000ULL
#define DIALECT_SF_INT_MAX 999999999999999ULL /* largest structured-field Integer */
#define DIALECT_SCALE_MAX  10                 /* see dialect_rate_qw */
/* Bytes one ietf item may take besides its name: the policy item's
 * `"";q=;w=;tollgate-burst=` and `;qu="concurrent-requests"` with four numbers,
 * the RateLimit item's `, "";r=;t=` with two. */
#define DIALECT_IETF_ITEM (64 + 6 * BUF_U64_MAX)

#define DIALECT_LIT(p, s) dialect_put((p), (s), sizeof(s) - 1)

static char *dialect_put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* Reserves `need` bytes at the end of out and returns where they start. */
static char *dialect_begin(buf *out, size_t need, int *rc)
{
    *rc = buf_reserve(out, need);
    return *rc == 0 ? buf_tail(out) : NULL;
}

static void dialect_end(buf *out, const char *start, const char *p)
{
    buf_commit(out, (size_t)(p - start));
}

static uint64_t dialect_gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;

        a = b;
        b = t;
    }
    return a;
}

/* The ietf policy item of a rate-based limit: q units per w seconds, the
 * rate as written ("18/s": 18 per 1 s, "300/min": 300 per 60 s). `w` must be
 * a whole number of seconds: a period that is not is scaled by the smallest
 * factor that makes it whole if that factor is at most DIALECT_SCALE_MAX
 * ("10/250ms": 40 per 1 s, "1/1.5s": 2 per 3 s); otherwise (e.g. "3/333ms")
 * w is the period rounded up and q what the rate gives in w, rounded down
 * (9 per 1 s), never more than the limit allows. */
static void dialect_rate_qw(const algo_params *p, uint64_t *q, uint64_t *w)
{
    uint64_t g, m;
    unsigned __int128 units;

    if (p->period_ns % DIALECT_NS_PER_S == 0) {
        *q = p->count;
        *w = p->period_ns / DIALECT_NS_PER_S;
        return;
    }
    g = dialect_gcd(p->period_ns, DIALECT_NS_PER_S);
    m = DIALECT_NS_PER_S / g; /* m * period is the first whole number of seconds */
    if (m <= DIALECT_SCALE_MAX) {
        *q = p->count * m; /* count < 2^32 */
        *w = p->period_ns / g;
        return;
    }
    *w = algo_ceil_s(p->period_ns);
    units = (unsigned __int128)p->count * *w * DIALECT_NS_PER_S / p->period_ns;
    *q = units > DIALECT_SF_INT_MAX ? DIALECT_SF_INT_MAX : (uint64_t)units;
}

/* One "name";q=Q;w=W item of RateLimit-Policy for limit l. A rate limit
 * publishes its rate (dialect_rate_qw); when the units available at once (the
 * GCRA burst, which r counts down from) differ from q, they follow as the
 * vendor parameter tollgate-burst. A concurrency cap is q=cap in the draft's
 * "concurrent-requests" unit, without a window. */
static char *dialect_policy_item(char *p, const policy_limit *l)
{
    const algo_params *a = &l->params;
    uint64_t q, w;

    *p++ = '"';
    p = dialect_put(p, l->name, l->name_len);
    p = DIALECT_LIT(p, "\";q=");
    if (a->kind == ALGO_CONCURRENCY) {
        p = buf_put_u64(p, a->quota);
        return DIALECT_LIT(p, ";qu=\"concurrent-requests\"");
    }
    dialect_rate_qw(a, &q, &w);
    p = buf_put_u64(p, q);
    p = DIALECT_LIT(p, ";w=");
    p = buf_put_u64(p, w);
    if (a->quota != q) {
        p = DIALECT_LIT(p, ";tollgate-burst=");
        p = buf_put_u64(p, a->quota);
    }
    return p;
}

static int dialect_ietf(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    size_t need = 64;
    char *p, *start;
    int rc;

    (void)wall_ns;
    if (d->n == 0)
        return 0;
    for (size_t i = 0; i < d->n; i++)
        need += 2 * d->limits[i]->name_len + DIALECT_IETF_ITEM;
    start = p = dialect_begin(out, need, &rc);
    if (p == NULL)
        return rc;
    p = DIALECT_LIT(p, "RateLimit-Policy: ");
    for (size_t i = 0; i < d->n; i++) {
        if (i > 0)
            p = DIALECT_LIT(p, ", ");
        p = dialect_policy_item(p, d->limits[i]);
    }
    p = DIALECT_LIT(p, "\r\nRateLimit: ");
    for (size_t i = 0; i < d->n; i++) {
        const policy_limit *l = d->limits[i];

        if (i > 0)
            p = DIALECT_LIT(p, ", ");
        *p++ = '"';
        p = dialect_put(p, l->name, l->name_len);
        p = DIALECT_LIT(p, "\";r=");
        p = buf_put_u64(p, d->v[i].remaining);
        if (l->params.kind != ALGO_CONCURRENCY) {
            p = DIALECT_LIT(p, ";t=");
            p = buf_put_u64(p, algo_ceil_s(d->v[i].reset_ns));
        }
    }
    p = DIALECT_LIT(p, "\r\n");
    dialect_end(out, start, p);
    return 0;
}

/* Name: value line with a number. */
static char *dialect_line(char *p, const char *name, size_t name_len, uint64_t v)
{
    p = dialect_put(p, name, name_len);
    p = buf_put_u64(p, v);
    return DIALECT_LIT(p, "\r\n");
}

#define DIALECT_LINE(p, name, v) dialect_line((p), (name), sizeof(name) - 1, (v))

/* The single-limit dialects describe the tightest limit (limit_tightest) by
 * the allowance its remaining units count down from -- the GCRA burst, the
 * window's count, the cap -- so that limit - remaining is what was used, and
 * reset is when remaining is back to limit. */
static int dialect_triple(const limit_decision *d, const char *prefix, size_t prefix_len, buf *out)
{
    int i = limit_tightest(d), rc;
    const algo_verdict *v;
    char *p, *start;

    if (i < 0)
        return 0;
    v = &d->v[i];
    start = p = dialect_begin(out, 3 * (prefix_len + 16 + BUF_U64_MAX), &rc);
    if (p == NULL)
        return rc;
    p = dialect_put(p, prefix, prefix_len);
    p = DIALECT_LINE(p, "Limit: ", v->quota);
    p = dialect_put(p, prefix, prefix_len);
    p = DIALECT_LINE(p, "Remaining: ", v->remaining);
    p = dialect_put(p, prefix, prefix_len);
    p = DIALECT_LINE(p, "Reset: ", algo_ceil_s(v->reset_ns));
    dialect_end(out, start, p);
    return 0;
}

static int dialect_draft03(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    (void)wall_ns;
    return dialect_triple(d, "RateLimit-", 10, out);
}

static int dialect_xratelimit(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    (void)wall_ns;
    return dialect_triple(d, "X-RateLimit-", 12, out);
}

static int dialect_github(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    int i = limit_tightest(d), rc;
    const algo_verdict *v;
    char *p, *start;

    if (i < 0)
        return 0;
    v = &d->v[i];
    start = p = dialect_begin(out, 160 + 4 * BUF_U64_MAX + d->limits[i]->name_len, &rc);
    if (p == NULL)
        return rc;
    p = DIALECT_LINE(p, "x-ratelimit-limit: ", v->quota);
    p = DIALECT_LINE(p, "x-ratelimit-remaining: ", v->remaining);
    p = DIALECT_LINE(p, "x-ratelimit-used: ", v->quota - v->remaining);
    p = DIALECT_LINE(p, "x-ratelimit-reset: ", algo_ceil_s(wall_ns + v->reset_ns));
    p = DIALECT_LIT(p, "x-ratelimit-resource: ");
    p = dialect_put(p, d->limits[i]->name, d->limits[i]->name_len);
    p = DIALECT_LIT(p, "\r\n");
    dialect_end(out, start, p);
    return 0;
}

static int dialect_inin(const limit_decision *d, uint64_t wall_ns, buf *out)
{
    int i = limit_tightest(d), rc;
    const algo_verdict *v;
    char *p, *start;

    (void)wall_ns;
    if (i < 0)
        return 0;
    v = &d->v[i];
    start = p = dialect_begin(out, 96 + 3 * BUF_U64_MAX, &rc);
    if (p == NULL)
        return rc;
    p = DIALECT_LINE(p, "inin-ratelimit-count: ", v->quota - v->remaining);
    p = DIALECT_LINE(p, "inin-ratelimit-allowed: ", v->quota);
    p = DIALECT_LINE(p, "inin-ratelimit-reset: ", algo_ceil_s(v->reset_ns));
    dialect_end(out, start, p);
    return 0;
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
    return err_set(err, errlen, -EINVAL,
                   "dialects: unknown '%s', expected ietf, draft03, x-ratelimit, github or "
                   "inin",
                   name == NULL ? "" : name);
}

int dialect_check(unsigned mask, char *err, size_t errlen)
{
    unsigned clash = DIALECT_BIT(DIALECT_XRATELIMIT) | DIALECT_BIT(DIALECT_GITHUB);

    if ((mask & clash) == clash)
        return err_set(err, errlen, -EINVAL,
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
    if (!d->admitted && d->n > 0) {
        const char *name = retry_after != NULL ? retry_after : "Retry-After";
        char *start = dialect_begin(out, 16 + BUF_U64_MAX, &rc);
        char *p = start;

        if (p == NULL)
            return rc;
        p = dialect_put(p, name, strlen(name));
        p = DIALECT_LINE(p, ": ", d->retry_after_s);
        dialect_end(out, start, p);
    }
    return 0;
}
