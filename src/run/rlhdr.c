/*
 * rlhdr: hand-written because no Debian library knows these dialects; the
 * structured fields go through run/sfv and Retry-After through
 * run/retry_after.
 */
#include "run/rlhdr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "run/retry_after.h"
#include "run/sfv.h"

#define RL_DELTA_MAX_S  1000000000ULL    /* reset values below this are delays */
#define RL_EPOCH_PAST_S 86400ULL         /* epoch resets up to a day old are accepted */
#define RL_EPOCH_NEXT_S (366ULL * 86400) /* ... and up to a year ahead */
#define RL_MAX_POLICIES 8

enum rl_field { F_LIMIT, F_REMAINING, F_RESET, F_USED, F_RESOURCE, F_COUNT, F_NFIELDS };
enum rl_dialect { D_IETF, D_DRAFT, D_X, D_ININ, D_NDIALECTS };

typedef struct rl_vals {
    bool has[F_NFIELDS];
    uint64_t v[F_NFIELDS]; /* counts; F_RESET in ns from now */
} rl_vals;

typedef struct rl_policy {
    const char *name; /* NULL for an integer item */
    size_t name_len;
    bool has_q, has_w;
    uint64_t q;    /* quota (requests) */
    uint64_t w_ns; /* window (ns) */
} rl_policy;

/* Everything read from one response before the dialects are reconciled. */
typedef struct rl_acc {
    uint64_t now_wall; /* epoch ns */
    rl_vals vals[D_NDIALECTS];
    /* IETF RateLimit: the item with the lowest remaining. */
    bool has_best, best_has_t;
    const char *best_name;
    size_t best_name_len;
    uint64_t best_r, best_t_ns;
    /* IETF RateLimit-Policy items. */
    rl_policy pol[RL_MAX_POLICIES];
    size_t npol;
    bool has_retry_after;
    uint64_t retry_after_ns;
} rl_acc;

typedef void (*rl_read_fn)(rl_acc *a, int dialect, int field, const char *v, size_t len);
typedef bool (*rl_finish_fn)(const rl_acc *a, rlhdr_info *cand);

static const char *rl_skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* After a number: optional spaces, then the end or the start of a list or
 * parameters (", 100;w=60" of the drafts). */
static bool rl_number_end(const char *p, const char *end)
{
    p = rl_skip_ows(p, end);
    return p == end || *p == ',' || *p == ';';
}

/* Reads "123" (max_decimals 0) or "12.5" into whole units and a fraction in
 * ns (nine decimal places). */
static bool rl_number(const char *v, size_t len, int max_decimals, uint64_t *whole, uint64_t *frac)
{
    const char *p = rl_skip_ows(v, v + len), *end = v + len;
    uint64_t w = 0, f = 0, scale = CLOCK_NS_PER_S;

    if (p == end || *p < '0' || *p > '9')
        return false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(w, 10, &w) || __builtin_add_overflow(w, *p - '0', &w))
            return false;
    }
    if (p < end && *p == '.' && max_decimals > 0) {
        int n = 0;
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            if (++n > max_decimals)
                return false;
            scale /= 10;
            f += (uint64_t)(*p - '0') * scale;
        }
        if (n == 0)
            return false;
    }
    *whole = w;
    *frac = f;
    return rl_number_end(p, end);
}

/* The reset rule of the header comment: delay, epoch seconds or epoch ms. */
static bool rl_reset_delay(uint64_t secs, uint64_t frac_ns, uint64_t now_wall, uint64_t *out)
{
    uint64_t now_s = now_wall / CLOCK_NS_PER_S;
    uint64_t lo = now_s > RL_EPOCH_PAST_S ? now_s - RL_EPOCH_PAST_S : 0;
    uint64_t hi = now_s + RL_EPOCH_NEXT_S;
    unsigned __int128 at;

    if (secs < RL_DELTA_MAX_S) {
        *out = secs * CLOCK_NS_PER_S + frac_ns;
        return true;
    }
    if (secs >= lo && secs <= hi)
        at = (unsigned __int128)secs * CLOCK_NS_PER_S + frac_ns;
    else if (secs / 1000 >= lo && secs / 1000 <= hi)
        at = (unsigned __int128)secs * CLOCK_NS_PER_MS + frac_ns / 1000;
    else
        return false;
    *out = at > now_wall ? (uint64_t)(at - now_wall) : 0;
    return true;
}

static void rl_read_count(rl_acc *a, int dialect, int field, const char *v, size_t len)
{
    rl_vals *vals = &a->vals[dialect];
    uint64_t n, frac;

    if (!vals->has[field] && rl_number(v, len, 0, &n, &frac)) {
        vals->has[field] = true;
        vals->v[field] = n;
    }
}

static void rl_read_reset(rl_acc *a, int dialect, int field, const char *v, size_t len)
{
    rl_vals *vals = &a->vals[dialect];
    uint64_t secs, frac;

    if (!vals->has[field] && rl_number(v, len, 9, &secs, &frac) &&
        rl_reset_delay(secs, frac, a->now_wall, &vals->v[field]))
        vals->has[field] = true;
}

static void rl_read_present(rl_acc *a, int dialect, int field, const char *v, size_t len)
{
    if (rl_skip_ows(v, v + len) != v + len)
        a->vals[dialect].has[field] = true;
}

static void rl_read_retry_after(rl_acc *a, int dialect, int field, const char *v, size_t len)
{
    if (!a->has_retry_after && retry_after_parse(v, len, a->now_wall, &a->retry_after_ns) == 0)
        a->has_retry_after = true;
}

/* A non-negative integer parameter. */
static bool rl_sf_uint(const sfv_item *item, const char *key, uint64_t *out)
{
    const sfv_param *p = sfv_item_param(item, key);

    if (p == NULL || p->value.type != SFV_INTEGER || p->value.integer < 0)
        return false;
    *out = (uint64_t)p->value.integer;
    return true;
}

static bool rl_sf_named(const sfv_item *item)
{
    return item->value.type == SFV_STRING || item->value.type == SFV_TOKEN;
}

static void rl_ietf_item(const sfv_item *item, void *ctx)
{
    rl_acc *a = ctx;
    uint64_t r, t;

    if (!rl_sf_uint(item, "r", &r) || (a->has_best && r >= a->best_r))
        return;
    a->has_best = true;
    a->best_r = r;
    a->best_name = rl_sf_named(item) ? item->value.text : NULL;
    a->best_name_len = item->value.text_len;
    a->best_has_t = rl_sf_uint(item, "t", &t) && rl_reset_delay(t, 0, a->now_wall, &a->best_t_ns);
}

static void rl_policy_item(const sfv_item *item, void *ctx)
{
    rl_acc *a = ctx;
    rl_policy *p;
    uint64_t w;

    if (a->npol == RL_MAX_POLICIES)
        return;
    p = &a->pol[a->npol++];
    memset(p, 0, sizeof(*p));
    if (rl_sf_named(item)) {
        p->name = item->value.text;
        p->name_len = item->value.text_len;
    }
    p->has_q = rl_sf_uint(item, "q", &p->q);
    if (!p->has_q && item->value.type == SFV_INTEGER && item->value.integer >= 0) {
        p->has_q = true;
        p->q = (uint64_t)item->value.integer;
    }
    /* w is at most 15 digits, times 1e9 can overflow: refuse past ~584 years. */
    if (rl_sf_uint(item, "w", &w) && w <= UINT64_MAX / CLOCK_NS_PER_S) {
        p->has_w = true;
        p->w_ns = w * CLOCK_NS_PER_S;
    }
}

static void rl_read_ietf(rl_acc *a, int dialect, int field, const char *v, size_t len)
{
    sfv_parse_list(v, len, rl_ietf_item, a);
}

static void rl_read_policy(rl_acc *a, int dialect, int field, const char *v, size_t len)
{
    sfv_parse_list(v, len, rl_policy_item, a);
}

static const struct {
    const char *name;
    rl_read_fn read;
    int dialect;
    int field;
} rl_names[] = {
    {"ratelimit", rl_read_ietf, D_IETF, 0},
    {"ratelimit-policy", rl_read_policy, D_IETF, 0},
    {"ratelimit-limit", rl_read_count, D_DRAFT, F_LIMIT},
    {"ratelimit-remaining", rl_read_count, D_DRAFT, F_REMAINING},
    {"ratelimit-reset", rl_read_reset, D_DRAFT, F_RESET},
    {"x-ratelimit-limit", rl_read_count, D_X, F_LIMIT},
    {"x-ratelimit-remaining", rl_read_count, D_X, F_REMAINING},
    {"x-ratelimit-reset", rl_read_reset, D_X, F_RESET},
    {"x-ratelimit-used", rl_read_count, D_X, F_USED},
    {"x-ratelimit-resource", rl_read_present, D_X, F_RESOURCE},
    {"inin-ratelimit-allowed", rl_read_count, D_ININ, F_LIMIT},
    {"inin-ratelimit-count", rl_read_count, D_ININ, F_COUNT},
    {"inin-ratelimit-reset", rl_read_reset, D_ININ, F_RESET},
    {"retry-after", rl_read_retry_after, 0, 0},
};

static bool rl_policy_named(const rl_policy *p, const char *name, size_t len)
{
    return p->name != NULL && name != NULL && p->name_len == len && memcmp(p->name, name, len) == 0;
}

static bool rl_finish_ietf(const rl_acc *a, rlhdr_info *c)
{
    const rl_policy *pol = NULL;

    if (a->has_best) {
        c->has_remaining = true;
        c->remaining = a->best_r;
        c->has_reset = a->best_has_t;
        c->reset_ns = a->best_t_ns;
        for (size_t i = 0; i < a->npol && pol == NULL; i++) {
            if (rl_policy_named(&a->pol[i], a->best_name, a->best_name_len))
                pol = &a->pol[i];
        }
    } else {
        for (size_t i = 0; i < a->npol && pol == NULL; i++) {
            if (a->pol[i].has_q)
                pol = &a->pol[i];
        }
    }
    if (pol != NULL) {
        c->has_limit = pol->has_q;
        c->limit = pol->q;
        c->has_window = pol->has_w;
        c->window_ns = pol->w_ns;
    }
    return c->has_remaining || c->has_limit || c->has_window;
}

/* Limit, remaining and reset straight from one dialect's values. */
static bool rl_finish_plain(const rl_vals *v, rlhdr_info *c)
{
    c->has_limit = v->has[F_LIMIT];
    c->limit = v->v[F_LIMIT];
    c->has_remaining = v->has[F_REMAINING];
    c->remaining = v->v[F_REMAINING];
    c->has_reset = v->has[F_RESET];
    c->reset_ns = v->v[F_RESET];
    return c->has_limit || c->has_remaining || c->has_reset;
}

static bool rl_finish_draft(const rl_acc *a, rlhdr_info *c)
{
    return rl_finish_plain(&a->vals[D_DRAFT], c);
}

static bool rl_finish_x(const rl_acc *a, rlhdr_info *c)
{
    const rl_vals *v = &a->vals[D_X];
    bool any = rl_finish_plain(v, c);

    if (!c->has_remaining && c->has_limit && v->has[F_USED]) {
        c->has_remaining = true;
        c->remaining = c->limit > v->v[F_USED] ? c->limit - v->v[F_USED] : 0;
    }
    return any || v->has[F_USED] || v->has[F_RESOURCE];
}

static bool rl_finish_github(const rl_acc *a, rlhdr_info *c)
{
    /* GitHub's names are X-RateLimit's plus -used / -resource. */
    if (!a->vals[D_X].has[F_USED] && !a->vals[D_X].has[F_RESOURCE])
        return false;
    return rl_finish_x(a, c);
}

static bool rl_finish_x_only(const rl_acc *a, rlhdr_info *c)
{
    if (a->vals[D_X].has[F_USED] || a->vals[D_X].has[F_RESOURCE])
        return false;
    return rl_finish_x(a, c);
}

static bool rl_finish_inin(const rl_acc *a, rlhdr_info *c)
{
    const rl_vals *v = &a->vals[D_ININ];
    bool any = rl_finish_plain(v, c);

    c->has_remaining = v->has[F_LIMIT] && v->has[F_COUNT];
    if (c->has_remaining)
        c->remaining = v->v[F_LIMIT] > v->v[F_COUNT] ? v->v[F_LIMIT] - v->v[F_COUNT] : 0;
    return any || v->has[F_COUNT];
}

static bool rl_finish_retry_after(const rl_acc *a, rlhdr_info *c)
{
    c->has_retry_after = a->has_retry_after;
    c->retry_after_ns = a->retry_after_ns;
    return a->has_retry_after;
}

/* In order of precedence: the first dialect with a value gives it. */
static const struct {
    unsigned bit;
    const char *name;
    rl_finish_fn finish;
} rl_dialects[] = {
    {RLHDR_IETF, "ietf", rl_finish_ietf},
    {RLHDR_DRAFT, "draft", rl_finish_draft},
    {RLHDR_GITHUB, "github", rl_finish_github},
    {RLHDR_X, "x", rl_finish_x_only},
    {RLHDR_ININ, "inin", rl_finish_inin},
    {RLHDR_RETRY_AFTER, "retry-after", rl_finish_retry_after},
};

#define RL_TAKE(out, c, has, field)                                                                \
    do {                                                                                           \
        if ((c).has && !(out)->has) {                                                              \
            (out)->has = true;                                                                     \
            (out)->field = (c).field;                                                              \
        }                                                                                          \
    } while (0)

void rlhdr_read(const rlhdr_field *fields, size_t n, uint64_t now_wall_ns, rlhdr_info *out)
{
    rl_acc a;

    memset(&a, 0, sizeof(a));
    memset(out, 0, sizeof(*out));
    a.now_wall = now_wall_ns;
    for (size_t i = 0; i < n; i++) {
        const rlhdr_field *f = &fields[i];
        for (size_t k = 0; k < sizeof(rl_names) / sizeof(rl_names[0]); k++) {
            if (strlen(rl_names[k].name) == f->name_len &&
                strncasecmp(f->name, rl_names[k].name, f->name_len) == 0) {
                rl_names[k].read(&a, rl_names[k].dialect, rl_names[k].field, f->value,
                                 f->value_len);
                break;
            }
        }
    }
    for (size_t d = 0; d < sizeof(rl_dialects) / sizeof(rl_dialects[0]); d++) {
        rlhdr_info c;

        memset(&c, 0, sizeof(c));
        if (!rl_dialects[d].finish(&a, &c))
            continue;
        out->dialects |= rl_dialects[d].bit;
        RL_TAKE(out, c, has_limit, limit);
        RL_TAKE(out, c, has_remaining, remaining);
        RL_TAKE(out, c, has_reset, reset_ns);
        RL_TAKE(out, c, has_window, window_ns);
        RL_TAKE(out, c, has_retry_after, retry_after_ns);
    }
}

const char *rlhdr_dialect_names(unsigned dialects, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t d = 0; d < sizeof(rl_dialects) / sizeof(rl_dialects[0]); d++) {
        if ((dialects & rl_dialects[d].bit) == 0 || used >= len)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used > 0 ? "," : "", rl_dialects[d].name);
        used += w > 0 ? (size_t)w : 0;
    }
    return buf;
}
