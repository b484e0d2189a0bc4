/*
 * buf: a growable byte buffer with a consumed prefix, for read buffers, write
 * queues and serializers.
 *
 * Bytes live in data[off .. off+len). Appending grows the allocation
 * (doubling); consuming from the front only moves `off`, and the live bytes
 * are moved back to the start when that makes room, so a buffer used as a
 * queue does not grow without bound. A buffer never grows past `max` bytes
 * (0 = no limit): appends that would are refused with -ENOBUFS, which is how
 * servers bound what a client can make them allocate.
 */
#ifndef TG_CORE_BUF_H
#define TG_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    char *data;
    size_t off; /* first live byte */
    size_t len; /* live bytes */
    size_t cap; /* allocated bytes */
    size_t max; /* refuse to hold more than this many live bytes; 0 = unlimited */
} buf;

/* Initializes an empty buffer; allocates nothing. Cannot fail. */
void buf_init(buf *b, size_t max);

/* Frees the allocation; the buffer is empty and reusable afterwards. */
void buf_free(buf *b);

/* The live bytes; an empty string when nothing was ever allocated (so that
 * callers never form NULL + 0, which is undefined). */
static inline char *buf_ptr(const buf *b)
{
    return b->data != NULL ? b->data + b->off : (char *)"";
}

/* Makes room for `extra` more bytes after the live ones. Returns 0, -ENOBUFS
 * past `max`, or -ENOMEM. */
int buf_reserve(buf *b, size_t extra);

/* Room after the live bytes (valid after buf_reserve), and marking `n` bytes
 * written there as live. */
static inline char *buf_tail(const buf *b)
{
    return b->data + b->off + b->len;
}
static inline size_t buf_room(const buf *b)
{
    return b->cap - b->off - b->len;
}
void buf_commit(buf *b, size_t n);

/* Writes v in decimal at p, which has room for BUF_U64_MAX bytes (e.g.
 * buf_tail after buf_reserve), and returns the end. No printf: this runs
 * on the per-response paths of the gateway. */
#define BUF_U64_MAX 20
static inline char *buf_put_u64(char *p, uint64_t v)
{
    char tmp[BUF_U64_MAX];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Appends bytes. Returns 0, -ENOBUFS or -ENOMEM (the buffer is unchanged on failure). */
int buf_append(buf *b, const void *p, size_t n);
int buf_append_str(buf *b, const char *s);

/* Appends formatted text. Returns 0, -ENOBUFS or -ENOMEM. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);

/* Drops `n` bytes from the front (n <= len). */
void buf_consume(buf *b, size_t n);

/* Drops every live byte, keeping the allocation. */
void buf_reset(buf *b);

#endif
