/*
 * emu_time: the platform's ISO 8601 timestamps ("2026-01-01T00:00:00.000Z")
 * and analytics intervals ("START/END"), to and from epoch milliseconds.
 *
 * Hand-written: strptime(3) neither reads fractions nor `+02:00` offsets nor
 * checks the day of the month, and timegm is a GNU extension; the civil-date
 * arithmetic is a few lines.
 */
#ifndef TG_SERVE_EMU_TIME_H
#define TG_SERVE_EMU_TIME_H

#include <stddef.h>
#include <stdint.h>

#define EMU_TIME_LEN 24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

/* Writes epoch milliseconds ms (years 0001 to 9999) as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (EMU_TIME_LEN + 1 bytes). */
void emu_time_format(int64_t ms, char out[EMU_TIME_LEN + 1]);

/* Parses "YYYY-MM-DDTHH:MM:SS" with an optional fraction of 1 to 9 digits
 * (cut to milliseconds) and a zone `Z`, `+HH:MM` or `-HH:MM` (required), all of
 * the len bytes at s. Returns 0 and *ms (epoch milliseconds), or -EINVAL for
 * anything else, including a day the month does not have. */
int emu_time_parse(const char *s, size_t len, int64_t *ms);

/* Parses an interval "START/END" of two such timestamps with START < END.
 * Returns 0, or -EINVAL. */
int emu_interval_parse(const char *s, size_t len, int64_t *start_ms, int64_t *end_ms);

#endif
