/*
 * retry_after: hand-written rather than strptime(3) because strptime reads
 * day and month names in the current locale (an HTTP date is always
 * English), accepts more than the grammar (optional spaces, one-digit
 * fields) and has no notion of the RFC 850 two-digit year rule. The three
 * forms are a few fixed-width fields, and timegm-style arithmetic on them is
 * a dozen lines that never touch the process's time zone.
 */
#include "run/retry_after.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/civil.h"
#include "core/clock.h"

typedef struct ra_cursor {
    const char *p;
    const char *end;
} ra_cursor;

/* A calendar time as read from the field, in UTC. */
typedef struct ra_tm {
    int64_t year;
    int month; /* 1..12 */
    int day;   /* 1..31 */
    int hour, min, sec;
} ra_tm;

static const char *const ra_months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const ra_days[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const ra_long_days[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                            "Friday", "Saturday", "Sunday"};

static bool ra_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool ra_lit(ra_cursor *c, char ch)
{
    if (c->p >= c->end || *c->p != ch)
        return false;
    c->p++;
    return true;
}

/* Reads exactly n digits. */
static bool ra_digits(ra_cursor *c, int n, int64_t *out)
{
    int64_t v = 0;

    if (c->end - c->p < n)
        return false;
    for (int i = 0; i < n; i++) {
        char ch = c->p[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    c->p += n;
    *out = v;
    return true;
}

/* Reads one of the words in names[0..n) (whole word, any case); returns its
 * index or -1. */
static int ra_word(ra_cursor *c, const char *const *names, int n)
{
    const char *w = c->p;
    size_t len = 0;

    while (w + len < c->end && ((w[len] | 0x20) >= 'a' && (w[len] | 0x20) <= 'z'))
        len++;
    for (int i = 0; i < n; i++) {
        if (strlen(names[i]) == len && strncasecmp(w, names[i], len) == 0) {
            c->p += len;
            return i;
        }
    }
    return -1;
}

static bool ra_month(ra_cursor *c, ra_tm *tm)
{
    int m = ra_word(c, ra_months, 12);

    tm->month = m + 1;
    return m >= 0;
}

/* time-of-day = hour ":" minute ":" second (second 60 is a leap second). */
static bool ra_time(ra_cursor *c, ra_tm *tm)
{
    int64_t h, m, s;

    if (!ra_digits(c, 2, &h) || !ra_lit(c, ':') || !ra_digits(c, 2, &m) || !ra_lit(c, ':') ||
        !ra_digits(c, 2, &s))
        return false;
    if (h > 23 || m > 59 || s > 60)
        return false;
    tm->hour = (int)h;
    tm->min = (int)m;
    tm->sec = (int)s;
    return true;
}

static bool ra_gmt(ra_cursor *c)
{
    return ra_lit(c, ' ') && c->end - c->p == 3 && strncasecmp(c->p, "GMT", 3) == 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
static bool ra_imf(ra_cursor *c, int64_t now_year, ra_tm *tm)
{
    int64_t d;

    if (ra_word(c, ra_days, 7) < 0 || !ra_lit(c, ',') || !ra_lit(c, ' '))
        return false;
    if (!ra_digits(c, 2, &d) || !ra_lit(c, ' ') || !ra_month(c, tm) || !ra_lit(c, ' '))
        return false;
    if (!ra_digits(c, 4, &tm->year) || !ra_lit(c, ' ') || !ra_time(c, tm))
        return false;
    tm->day = (int)d;
    return ra_gmt(c);
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". */
static bool ra_rfc850(ra_cursor *c, int64_t now_year, ra_tm *tm)
{
    int64_t d, yy;

    if (ra_word(c, ra_long_days, 7) < 0 || !ra_lit(c, ',') || !ra_lit(c, ' '))
        return false;
    if (!ra_digits(c, 2, &d) || !ra_lit(c, '-') || !ra_month(c, tm) || !ra_lit(c, '-'))
        return false;
    if (!ra_digits(c, 2, &yy) || !ra_lit(c, ' ') || !ra_time(c, tm))
        return false;
    /* RFC 9110 5.6.7: a year more than 50 years ahead is the most recent past
     * year with the same last two digits. So the year is the one with these
     * digits in the 100-year window [now - 49, now + 50]. */
    tm->year = now_year - now_year % 100 + yy;
    if (tm->year > now_year + 50)
        tm->year -= 100;
    else if (tm->year < now_year - 49)
        tm->year += 100;
    tm->day = (int)d;
    return ra_gmt(c);
}

/* asctime: "Sun Nov  6 08:49:37 1994" (day as 2DIGIT or SP DIGIT). */
static bool ra_asctime(ra_cursor *c, int64_t now_year, ra_tm *tm)
{
    int64_t d;

    if (ra_word(c, ra_days, 7) < 0 || !ra_lit(c, ' ') || !ra_month(c, tm) || !ra_lit(c, ' '))
        return false;
    if (!(ra_lit(c, ' ') ? ra_digits(c, 1, &d) : ra_digits(c, 2, &d)))
        return false;
    if (!ra_lit(c, ' ') || !ra_time(c, tm) || !ra_lit(c, ' ') || !ra_digits(c, 4, &tm->year))
        return false;
    tm->day = (int)d;
    return c->p == c->end;
}

typedef bool (*ra_form_fn)(ra_cursor *c, int64_t now_year, ra_tm *tm);

static const ra_form_fn ra_forms[] = {ra_imf, ra_rfc850, ra_asctime};

static bool ra_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int ra_month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && ra_leap(y) ? 29 : days[m - 1];
}

int retry_after_parse_date(const char *v, size_t len, uint64_t now_wall_ns, int64_t *epoch_s)
{
    int64_t now_year;
    int now_m, now_d;

    civil_from_days((int64_t)(now_wall_ns / CLOCK_NS_PER_S / 86400), &now_year, &now_m, &now_d);

    while (len > 0 && ra_is_space(*v)) {
        v++;
        len--;
    }
    while (len > 0 && ra_is_space(v[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof(ra_forms) / sizeof(ra_forms[0]); i++) {
        ra_cursor c = {v, v + len};
        ra_tm tm = {0};

        if (!ra_forms[i](&c, now_year, &tm))
            continue;
        if (tm.day < 1 || tm.day > ra_month_days(tm.year, tm.month))
            return -EINVAL;
        *epoch_s = civil_days_from(tm.year, tm.month, tm.day) * 86400 + tm.hour * 3600 +
                   tm.min * 60 + tm.sec;
        return 0;
    }
    return -EINVAL;
}

int retry_after_parse(const char *v, size_t len, uint64_t now_wall_ns, uint64_t *delay_ns)
{
    const char *p = v, *end = v + len;
    uint64_t secs = 0;
    bool overflow = false;
    int64_t when;
    unsigned __int128 at;

    while (p < end && ra_is_space(*p))
        p++;
    while (end > p && ra_is_space(end[-1]))
        end--;
    if (p < end && *p >= '0' && *p <= '9') {
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (__builtin_mul_overflow(secs, 10, &secs) ||
                __builtin_add_overflow(secs, (uint64_t)(*p - '0'), &secs))
                overflow = true;
        }
        if (p != end)
            return -EINVAL;
        if (overflow || __builtin_mul_overflow(secs, CLOCK_NS_PER_S, delay_ns))
            *delay_ns = UINT64_MAX;
        return 0;
    }
    if (retry_after_parse_date(p, (size_t)(end - p), now_wall_ns, &when) != 0)
        return -EINVAL;
    at = when > 0 ? (unsigned __int128)when * CLOCK_NS_PER_S : 0;
    if (at <= now_wall_ns)
        *delay_ns = 0;
    else if (at - now_wall_ns > UINT64_MAX)
        *delay_ns = UINT64_MAX;
    else
        *delay_ns = (uint64_t)(at - now_wall_ns);
    return 0;
}
