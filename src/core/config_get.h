/*
 * config_get: typed values read from the mappings of a loaded config_doc,
 * with errors a user can act on.
 *
 * Each getter looks `key` up in `map`:
 *   - key absent, or map NULL (an optional section that is not there): returns
 *     0 and leaves *out untouched, so callers set the default first and call
 *     config_require for mandatory keys;
 *   - value present and valid: sets *out and returns 0;
 *   - otherwise: returns -EINVAL (-ERANGE for a number out of range) with
 *     `FILE:LINE:COL: KEY: <what is wrong, what was expected>` in err, at the
 *     value's position (1-based), e.g.
 *     `plan.yaml:12:5: rate: "50 per s": expected N/unit (e.g. 50/s, 300/min)`.
 *     A map that is not a mapping is an error at the map.
 * A null value (`key:`, `key: ~`, `key: null`) is an error (`KEY: no value,
 * expected ...`), not a default: an empty value is more often a slip than a
 * wish. Scalars are read as text whatever their YAML style or tag: `port:
 * "8080"` is the integer 8080 and `name: 42` the string "42". A scalar with a
 * NUL byte (a "\0" escape) is refused by every getter.
 */
#ifndef TG_CORE_CONFIG_GET_H
#define TG_CORE_CONFIG_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/units.h"

/* Any scalar, as text; *out points into the document (valid until
 * config_free). */
int config_get_str(const config_doc *doc, const config_node *map, const char *key, const char **out,
                   char *err, size_t errlen);

/* A decimal integer with an optional sign, in [min, max]; the message states
 * the range ("expected an integer from 1 to 65535"). */
int config_get_int(const config_doc *doc, const config_node *map, const char *key, int64_t min,
                   int64_t max, int64_t *out, char *err, size_t errlen);

/* A decimal integer in [0, UINT64_MAX], no sign. */
int config_get_u64(const config_doc *doc, const config_node *map, const char *key, uint64_t *out,
                   char *err, size_t errlen);

/* true/false, yes/no, on/off, in any letter case. */
int config_get_bool(const config_doc *doc, const config_node *map, const char *key, bool *out,
                    char *err, size_t errlen);

/* A finite decimal number ("0.5", "-3", "1e3"); not inf, nan or hex. */
int config_get_double(const config_doc *doc, const config_node *map, const char *key, double *out,
                      char *err, size_t errlen);

/* A duration as units_parse_duration reads it ("250ms", "1m30s"), in
 * nanoseconds; the message after `KEY: ` is units' own. */
int config_get_duration(const config_doc *doc, const config_node *map, const char *key,
                        uint64_t *out_ns, char *err, size_t errlen);

/* A rate as units_parse_rate reads it ("50/s", "300/min"); the message after
 * `KEY: ` is units' own. */
int config_get_rate(const config_doc *doc, const config_node *map, const char *key, units_rate *out,
                    char *err, size_t errlen);

/* One of the NULL-terminated `names`, matched exactly; *out is its index.
 * The message lists the names and suggests the closest one:
 * `mode: "proxi": expected one of: emulate, proxy (did you mean 'proxy'?)`. */
int config_get_enum(const config_doc *doc, const config_node *map, const char *key,
                    const char *const names[], int *out, char *err, size_t errlen);

/* A scalar, or a sequence of scalars. On success *out is a malloc'd array of
 * *n pointers into the document, owned by the caller (free(*out)); an empty
 * sequence gives *out == NULL and *n == 0. Both are untouched when the key is
 * absent. An item's error reads `KEY[2]: ...` at the item. Returns -ENOMEM if
 * the array cannot be allocated (err is then untouched). */
int config_get_str_list(const config_doc *doc, const config_node *map, const char *key,
                        const char ***out, size_t *n, char *err, size_t errlen);

#endif
