#include "limit/pattern.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static bool pattern_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Classifies segment [s, s + len) of pt->src as segment `i`. */
static int pattern_segment(limit_pattern *pt, const char *s, size_t len, char *err, size_t errlen)
{
    pattern_seg *seg = &pt->segs[pt->nseg];
    const char *src = pt->src;

    seg->off = (uint32_t)(s - src);
    seg->len = (uint32_t)len;
    if (len == 1 && s[0] == '*') {
        seg->kind = PATTERN_ANY;
    } else if (len > 0 && s[0] == '{') {
        if (len < 3 || s[len - 1] != '}')
            goto bad_capture;
        for (size_t i = 1; i + 1 < len; i++)
            if (!pattern_name_char(s[i]))
                goto bad_capture;
        seg->off++;
        seg->len -= 2;
        if (pattern_capture(pt, s + 1, len - 2) >= 0)
            return err_set(err, errlen, -EINVAL, "path: capture %.*s appears twice in '%s'",
                           (int)len, s, src);
        if (pt->ncaptures == PATTERN_MAX_CAPTURES)
            return err_set(err, errlen, -EINVAL, "path: more than %d captures in '%s'",
                           PATTERN_MAX_CAPTURES, src);
        seg->kind = PATTERN_CAPTURE;
        seg->capture = (uint32_t)pt->ncaptures;
    } else {
        if (memchr(s, '*', len) != NULL)
            return err_set(err, errlen, -EINVAL, "path: '*' must be a whole segment in '%s'", src);
        if (memchr(s, '{', len) != NULL || memchr(s, '}', len) != NULL)
            goto bad_capture;
        seg->kind = PATTERN_LITERAL;
    }
    pt->nseg++;
    if (seg->kind == PATTERN_CAPTURE)
        pt->ncaptures++;
    return 0;
bad_capture:
    return err_set(err, errlen, -EINVAL,
                   "path: capture '%.*s' in '%s' must look like {name} (letters, digits, _)",
                   (int)len, s, src);
}

static int pattern_parse(limit_pattern *pt, char *err, size_t errlen)
{
    const char *src = pt->src, *s, *slash;
    int rc;

    if (src[0] == '\0')
        return err_set(err, errlen, -EINVAL, "path: empty, expected a pattern such as /api/v2/**");
    if (src[0] != '/')
        return err_set(err, errlen, -EINVAL, "path: '%s' must start with '/'", src);
    if (strpbrk(src, "?#") != NULL)
        return err_set(err, errlen, -EINVAL, "path: '%s' must not contain '?' or '#'", src);
    for (s = src + 1;; s = slash + 1) {
        size_t len;

        slash = strchr(s, '/');
        len = slash != NULL ? (size_t)(slash - s) : strlen(s);
        if (len == 2 && s[0] == '*' && s[1] == '*') {
            if (slash != NULL)
                return err_set(err, errlen, -EINVAL, "path: '**' must be the last segment in '%s'",
                               src);
            pt->rest = true;
            return 0;
        }
        if (pt->nseg == PATTERN_MAX_SEGMENTS)
            return err_set(err, errlen, -EINVAL, "path: more than %d segments in '%s'",
                           PATTERN_MAX_SEGMENTS, src);
        rc = pattern_segment(pt, s, len, err, errlen);
        if (rc != 0)
            return rc;
        if (slash == NULL)
            return 0;
    }
}

int pattern_init(limit_pattern *pt, const char *src, char *err, size_t errlen)
{
    int rc;

    memset(pt, 0, sizeof(*pt));
    if (src == NULL)
        src = "";
    pt->src = strdup(src);
    if (pt->src == NULL)
        return -ENOMEM;
    rc = pattern_parse(pt, err, errlen);
    if (rc != 0)
        goto err;
    return 0;
err:
    pattern_free(pt);
    return rc;
}

void pattern_free(limit_pattern *pt)
{
    free(pt->src);
    memset(pt, 0, sizeof(*pt));
}

bool pattern_match(const limit_pattern *pt, limit_slice path, limit_slice *caps)
{
    const char *cur, *end;
    bool more = true; /* a path always has at least one segment, maybe empty */

    if (path.p == NULL || path.n == 0 || path.p[0] != '/')
        return false;
    end = path.p + path.n;
    cur = path.p + 1;
    for (size_t i = 0; i < pt->nseg; i++) {
        const pattern_seg *seg = &pt->segs[i];
        const char *stop = cur;
        size_t len;

        if (!more)
            return false;
        /* Segments are short: a plain loop beats a memchr call. */
        while (stop < end && *stop != '/' && *stop != '?')
            stop++;
        len = (size_t)(stop - cur);
        switch (seg->kind) {
        case PATTERN_LITERAL:
            if (len != seg->len || memcmp(cur, pt->src + seg->off, len) != 0)
                return false;
            break;
        case PATTERN_CAPTURE:
            if (len == 0)
                return false;
            if (caps != NULL) {
                caps[seg->capture].p = cur;
                caps[seg->capture].n = len;
            }
            break;
        default:
            if (len == 0)
                return false;
        }
        more = stop < end && *stop == '/';
        cur = stop + more;
    }
    return pt->rest || !more;
}

int pattern_capture(const limit_pattern *pt, const char *name, size_t len)
{
    for (size_t i = 0; i < pt->nseg; i++) {
        const pattern_seg *seg = &pt->segs[i];

        if (seg->kind == PATTERN_CAPTURE && seg->len == len &&
            memcmp(pt->src + seg->off, name, len) == 0)
            return (int)seg->capture;
    }
    return -1;
}

const char *pattern_capture_name(const limit_pattern *pt, size_t i, size_t *len)
{
    for (size_t s = 0; s < pt->nseg; s++) {
        if (pt->segs[s].kind == PATTERN_CAPTURE && pt->segs[s].capture == i) {
            *len = pt->segs[s].len;
            return pt->src + pt->segs[s].off;
        }
    }
    *len = 0;
    return NULL;
}
