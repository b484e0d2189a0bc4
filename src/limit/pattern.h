// pattern: path patterns of limits.
//
//   /api/v2/scripts/{id}   a literal segment matches itself, {id} captures
//                          one non-empty segment under the name "id"
//   /api/v2/flows/*        * matches one non-empty segment (anywhere)
//   /api/v2/**             ** (last segment only) matches whatever follows,
//                          including nothing: /api/v2, /api/v2/ and /api/v2/a/b
//
// Matching compares raw bytes segment by segment (no percent-decoding, no
// dot-segment removal: the gateway normalizes paths, or rejects odd ones,
// before limits see them); a query string after '?' is ignored. Written by
// hand: segment globs with captures are a few dozen lines, and fnmatch(3)
// neither captures nor distinguishes * from **.
#ifndef TG_LIMIT_PATTERN_H
#define TG_LIMIT_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit/request.h"

#define PATTERN_MAX_SEGMENTS 32
#define PATTERN_MAX_CAPTURES 8

enum pattern_seg_kind {
    PATTERN_LITERAL,
    PATTERN_ANY, /* "*" */
    PATTERN_CAPTURE,
};

typedef struct pattern_seg {
    enum pattern_seg_kind kind;
    uint32_t off, len; /* the literal, or the capture's name, within src */
    uint32_t capture;  /* index of a capture */
} pattern_seg;

typedef struct limit_pattern {
    char *src; /* the pattern as written (owned) */
    size_t nseg;
    bool rest; /* ends with "**" */
    size_t ncaptures;
    pattern_seg segs[PATTERN_MAX_SEGMENTS];
} limit_pattern;

/* Parses `src` into *pt. Returns 0, -ENOMEM, or -EINVAL with a message that
 * starts with "path: " and quotes the pattern, e.g. "path: '**' must be the
 * last segment in ...". On failure *pt holds nothing to free. */
int pattern_init(limit_pattern *pt, const char *src, char *err, size_t errlen);
void pattern_free(limit_pattern *pt);

/* Whether `path` matches; if so, and caps is not NULL, caps[i] is set to
 * capture i's segment (slices into path). */
bool pattern_match(const limit_pattern *pt, limit_slice path, limit_slice *caps);

/* The index of capture `name`, or -1. */
int pattern_capture(const limit_pattern *pt, const char *name, size_t len);

/* The name of capture i (not NUL-terminated; *len receives its length). */
const char *pattern_capture_name(const limit_pattern *pt, size_t i, size_t *len);

#endif
