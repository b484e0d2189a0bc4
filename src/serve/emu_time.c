#include "serve/emu_time.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/civil.h"

#define EMU_DAY_MS 86400000LL

void emu_time_format(int64_t ms, char out[EMU_TIME_LEN + 1])
{
    int64_t days = ms >= 0 ? ms / EMU_DAY_MS : -((-ms + EMU_DAY_MS - 1) / EMU_DAY_MS);
    int64_t rest = ms - days * EMU_DAY_MS, y;
    char tmp[64]; /* room for what the compiler cannot prove to be 2-digit fields */
    int m, d;

    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        y = y < 1 ? 1 : 9999;
        m = y == 1 ? 1 : 12;
        d = y == 1 ? 1 : 31;
        rest = y == 1 ? 0 : EMU_DAY_MS - 1;
    }
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
             (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
             (int)(rest % 1000));
    memcpy(out, tmp, EMU_TIME_LEN);
    out[EMU_TIME_LEN] = '\0';
}

/* Reads exactly n digits at *p (advancing it) into *v. */
static bool emu_digits(const char **p, const char *end, int n, int *v)
{
    int x = 0;

    if (end - *p < n)
        return false;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool emu_char(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

static int emu_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

int emu_time_parse(const char *s, size_t len, int64_t *ms)
{
    const char *p = s, *end = s + len;
    int y, mo, d, h, mi, se, frac = 0, zone = 0;

    if (!emu_digits(&p, end, 4, &y) || !emu_char(&p, end, '-') || !emu_digits(&p, end, 2, &mo) ||
        !emu_char(&p, end, '-') || !emu_digits(&p, end, 2, &d) || !emu_char(&p, end, 'T') ||
        !emu_digits(&p, end, 2, &h) || !emu_char(&p, end, ':') || !emu_digits(&p, end, 2, &mi) ||
        !emu_char(&p, end, ':') || !emu_digits(&p, end, 2, &se))
        return -EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > emu_month_days(y, mo) || h > 23 || mi > 59 ||
        se > 59)
        return -EINVAL;
    if (emu_char(&p, end, '.')) {
        int n = 0, scale = 100;

        while (p < end && *p >= '0' && *p <= '9' && n < 9) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
            n++;
        }
        if (n == 0)
            return -EINVAL;
    }
    if (!emu_char(&p, end, 'Z')) {
        int sign = p < end && *p == '-' ? -1 : 1, zh, zm;

        if (!emu_char(&p, end, '+') && !emu_char(&p, end, '-'))
            return -EINVAL;
        if (!emu_digits(&p, end, 2, &zh) || !emu_char(&p, end, ':') ||
            !emu_digits(&p, end, 2, &zm) || zh > 23 || zm > 59)
            return -EINVAL;
        zone = sign * (zh * 60 + zm);
    }
    if (p != end)
        return -EINVAL;
    *ms = civil_days_from(y, mo, d) * EMU_DAY_MS + ((int64_t)h * 3600 + mi * 60 + se) * 1000 +
          frac - (int64_t)zone * 60000;
    return 0;
}

int emu_interval_parse(const char *s, size_t len, int64_t *start_ms, int64_t *end_ms)
{
    const char *slash = memchr(s, '/', len);
    int64_t a, b;

    if (slash == NULL || emu_time_parse(s, (size_t)(slash - s), &a) < 0 ||
        emu_time_parse(slash + 1, len - (size_t)(slash - s) - 1, &b) < 0 || a >= b)
        return -EINVAL;
    *start_ms = a;
    *end_ms = b;
    return 0;
}
