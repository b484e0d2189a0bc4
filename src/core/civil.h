/*
 * civil: days since 1970-01-01 <-> proleptic Gregorian dates, for HTTP dates
 * (Retry-After) and the emulated platform's ISO 8601 timestamps.
 *
 * Years are counted from March 1st (so the leap day ends its year) in 400-year
 * eras of 146097 days; pure integer arithmetic, valid for any year that fits.
 * Hand-written because timegm/gmtime_r go through time_t and the C library's
 * range limits, and these two functions are all that is needed.
 */
#ifndef TG_CORE_CIVIL_H
#define TG_CORE_CIVIL_H

#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31; not checked). */
int64_t civil_days_from(int64_t y, int m, int d);

/* The date of day z counted from 1970-01-01. */
void civil_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif
