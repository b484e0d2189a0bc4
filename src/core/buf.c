#include "core/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 256

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->off = 0;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_free(buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

int buf_reserve(buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->max != 0 && (extra > b->max || b->len > b->max - extra))
        return -ENOBUFS;
    if (b->cap - b->off - b->len >= extra)
        return 0;
    need = b->len + extra;
    if (need < b->len)
        return -ENOMEM;
    /* Moving the live bytes to the front is enough when they fit twice over,
     * which keeps a queue's allocation steady. */
    if (b->off > 0 && need <= b->cap && b->len <= b->cap / 2) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        return 0;
    }
    cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_commit(buf *b, size_t n)
{
    b->len += n;
}

int buf_append(buf *b, const void *p, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    rc = buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(buf_tail(b), p, n);
    b->len += n;
    return 0;
}

int buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    rc = buf_reserve(b, 64);
    if (rc < 0) {
        va_end(ap2);
        return rc;
    }
    n = vsnprintf(buf_tail(b), buf_room(b), fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    if ((size_t)n >= buf_room(b)) {
        rc = buf_reserve(b, (size_t)n + 1);
        if (rc < 0) {
            va_end(ap2);
            return rc;
        }
        vsnprintf(buf_tail(b), buf_room(b), fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(buf *b, size_t n)
{
    if (n >= b->len) {
        b->off = 0;
        b->len = 0;
        return;
    }
    b->off += n;
    b->len -= n;
}

void buf_reset(buf *b)
{
    b->off = 0;
    b->len = 0;
}
