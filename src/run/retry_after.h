/*
 * retry_after: the value of a `Retry-After` response field as a delay.
 *
 * RFC 9110 section 10.2.3 allows two forms:
 *
 *   delay-seconds  "120"                             (1*DIGIT)
 *   HTTP-date      "Sun, 06 Nov 1994 08:49:37 GMT"   (IMF-fixdate)
 *                  "Sunday, 06-Nov-94 08:49:37 GMT"  (obsolete RFC 850 form)
 *                  "Sun Nov  6 08:49:37 1994"        (obsolete asctime form)
 *
 * Recipients must accept all three date forms (section 5.6.7). A date is
 * turned into a delay against the wall clock time the caller passes in; a
 * date in the past means "now" (delay 0). Leading and trailing spaces and
 * tabs are ignored; anything else that does not match the grammar is an
 * error, never a guess. Day and month names are matched without regard to
 * case, and the day name is not checked against the date (a wrong weekday
 * does not make the date ambiguous).
 */
#ifndef TG_RUN_RETRY_AFTER_H
#define TG_RUN_RETRY_AFTER_H

#include <stddef.h>
#include <stdint.h>

/* Parses the field value v[0..len) (not NUL-terminated) and stores the delay
 * in nanoseconds from `now_wall_ns` (epoch nanoseconds) in *delay_ns.
 * Delay-seconds too large for 64-bit nanoseconds saturate at UINT64_MAX.
 * Returns 0, or -EINVAL (and leaves *delay_ns untouched) when the value is in
 * neither form. */
int retry_after_parse(const char *v, size_t len, uint64_t now_wall_ns, uint64_t *delay_ns);

/* Parses an HTTP-date in any of the three forms into seconds since the Unix
 * epoch (negative before 1970). `now_wall_ns` is only used to place the
 * two-digit year of the RFC 850 form: it is the year with those last two
 * digits in [now - 49, now + 50] years, so that nothing is read as more than
 * 50 years ahead (RFC 9110). Returns 0 or -EINVAL. */
int retry_after_parse_date(const char *v, size_t len, uint64_t now_wall_ns, int64_t *epoch_s);

#endif
