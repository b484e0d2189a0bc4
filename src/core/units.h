/*
 * units: durations and rates as people write them, parsed into integers.
 *
 *   durations: "250ms", "30s", "1m30s", "2h", "1.5s", "0"   (units ms, s, m, h)
 *   rates:     "50/s", "300/min", "3000/m", "10/h", "2.5/s", "100/10s"
 *
 * A rate is kept exactly as a fraction, `count` events per `period_ns`
 * nanoseconds, as written: "300/min" is 300 per 60 s (N stays N, the default
 * burst of a limit), and decimals are scaled out: "2.5/s" is 5 per 2 s. No
 * rate that can be written down loses precision.
 */
#ifndef TG_CORE_UNITS_H
#define TG_CORE_UNITS_H

#include <stddef.h>
#include <stdint.h>

typedef struct units_rate {
    uint64_t count;     /* events (> 0) */
    uint64_t period_ns; /* per this many nanoseconds (> 0) */
} units_rate;

/* Parses a duration into nanoseconds. On failure returns -EINVAL and writes a
 * message such as `"30 sec": unknown unit 'sec', expected ms, s, m or h` into
 * err (if errlen > 0); *out_ns is left untouched. Overflow is -ERANGE. */
int units_parse_duration(const char *s, uint64_t *out_ns, char *err, size_t errlen);

/* Parses "N/unit" (unit s, sec, m, min, h, hour, d, day) or "N/DURATION"
 * (e.g. "100/10s"); N may have up to 9 decimals. Errors as for durations,
 * e.g. `"50 per s": expected N/unit (e.g. 50/s, 300/min)`. */
int units_parse_rate(const char *s, units_rate *out, char *err, size_t errlen);

/* Writes a duration the way people read it ("1m30s", "250ms", "1.5us");
 * returns what snprintf returns. */
int units_format_duration(uint64_t ns, char *buf, size_t len);

/* Writes a rate in its simplest form ("50/s", "300/min", "5/2s"). */
int units_format_rate(units_rate rate, char *buf, size_t len);

/* Events per second as a double, for display and reports only. */
double units_rate_per_s(units_rate rate);

#endif
