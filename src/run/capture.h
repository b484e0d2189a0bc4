/*
 * capture: take a value out of a response for later steps, either from the
 * JSON body with a small JSONPath subset or from a header.
 *
 *   $                  the whole document
 *   $.a.b              keys (any characters but . [ ] and spaces)
 *   $.items[0].id      array indexes; [-1] is the last element
 *   $['odd.key'][2]    a quoted key, for keys with dots or spaces
 *
 * Wildcards, filters, slices and recursive descent are not supported and are
 * refused when the path is parsed. The path is parsed once and evaluated with
 * jansson on a json_t the caller decoded. The value is rendered as text for
 * templates: strings as they are (no quotes), integers and integral reals as
 * integers ("7", not "7.0"), other reals in the shortest form that reads back
 * the same, true/false, objects and arrays as compact JSON; null counts as
 * not captured.
 *
 * Hand-written: jansson has no path queries, and the JSONPath libraries are
 * not packaged in Debian (and do far more than this).
 */
#ifndef TG_RUN_CAPTURE_H
#define TG_RUN_CAPTURE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum capture_kind {
    CAPTURE_JSON = 0,
    CAPTURE_HEADER,
};

struct capture_seg {
    const char *key; /* into capture.text, not NUL-terminated; NULL for an index */
    size_t len;
    int64_t index;
    size_t end; /* offset in text where this segment ends, for messages */
};

typedef struct capture {
    enum capture_kind kind;
    char *text;               /* owned: the path or the header name */
    struct capture_seg *segs; /* owned */
    size_t nsegs;
} capture;

/* A response header as the HTTP parser hands it out: slices into its buffer. */
typedef struct capture_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} capture_header;

/* Parses a JSON path. Returns 0, -ENOMEM, or -EINVAL with a message such as
 *   "$.entities[*].id": wildcards are not supported, use an index such as [0] (column 12)
 * Free with capture_free. */
int capture_init_json(capture *c, const char *path, char *err, size_t errlen);

/* Captures header `name` (case-insensitive). Returns 0, -ENOMEM, or -EINVAL
 * if the name is not a valid header name. */
int capture_init_header(capture *c, const char *name, char *err, size_t errlen);

/* Frees the capture; harmless on a zeroed or freed one. */
void capture_free(capture *c);

/* Appends the value at the path in `root` to `out`. Returns 0; -ENOENT with a
 * message when there is nothing to capture, e.g.
 *   $.items[3]: index 3 is out of range (the array has 2 elements)
 *   $.a.b: $.a is an array, not an object
 *   $.version is null
 * or -ENOBUFS / -ENOMEM from the buffer. On failure `out` is unchanged. */
int capture_json(const capture *c, const json_t *root, buf *out, char *err, size_t errlen);

/* Appends the value of the first header named c->text among h[0..n), with
 * surrounding spaces and tabs removed. Returns 0, -ENOENT with a message
 * ("no header 'ETag' in the response"), -ENOBUFS or -ENOMEM. */
int capture_header_value(const capture *c, const capture_header *h, size_t n, buf *out, char *err,
                         size_t errlen);

#endif
