/*
 * conn_tls: the TLS transport of conn. Socket bytes go through a tls_session's
 * rings (see tls.h): reads land in the incoming ring, OpenSSL decrypts into
 * the conn's read buffer, and plain text written is encrypted into the
 * outgoing ring and sent from there.
 */
#include <errno.h>

#include "core/conn_internal.h"
#include "core/tls.h"

/* Moves ciphertext from the outgoing ring to the socket or the queue, which
 * always empties the ring. */
static int conn_tls_flush(conn *c)
{
    char *p;
    size_t n;
    int rc;

    while ((n = tls_net_out_peek(&c->tls, &p)) > 0) {
        rc = conn__send(c, p, n);
        if (rc < 0)
            return rc;
        tls_net_out_consume(&c->tls, n);
    }
    return 0;
}

/* Decrypts into the read buffer and delivers, until OpenSSL needs more
 * ciphertext. `force` delivers buffered bytes even if none are new. */
static int conn_tls_pump(conn *c, int force)
{
    size_t before, room;
    ssize_t n;
    char *p;
    int rc, eof = 0;

    for (;;) {
        if (c->state != CONN_OPEN || c->paused)
            return 0;
        before = c->rbuf.len;
        for (;;) {
            room = conn__rbuf_room(c, &p);
            if (room == 0)
                break;
            n = tls_read(&c->tls, p, room);
            if (n > 0) {
                buf_commit(&c->rbuf, (size_t)n);
                continue;
            }
            if (n == -ENOSPC) {
                rc = conn_tls_flush(c);
                if (rc < 0)
                    return rc;
                continue;
            }
            if (n == 0) {
                eof = 1; /* close_notify: deliver what came before it, then end */
                break;
            }
            if (n != -EAGAIN)
                return (int)n;
            break;
        }
        rc = conn_tls_flush(c);
        if (rc < 0)
            return rc;
        if (c->rbuf.len > before || force) {
            rc = conn__deliver(c);
            if (rc < 0)
                return rc;
        }
        if (eof)
            return UV_EOF;
        if (room != 0)
            return 0;
        force = 0; /* the buffer was full and on_read made room: decrypt more */
    }
}

static int conn_tls_advance(conn *c, int force)
{
    int rc, frc;

    if (c->state == CONN_HANDSHAKING) {
        do {
            rc = tls_handshake(&c->tls);
            frc = conn_tls_flush(c);
            if (frc < 0)
                return frc;
        } while (rc == -ENOSPC);
        if (rc == -EAGAIN)
            return 0;
        if (rc < 0)
            return rc;
        rc = conn__opened(c);
        if (rc < 0)
            return rc;
    }
    return conn_tls_pump(c, force);
}

static int conn_tls_start(conn *c)
{
    int rc;

    c->state = CONN_HANDSHAKING;
    rc = conn__read_on(c);
    if (rc < 0)
        return rc;
    return c->client ? conn_tls_advance(c, 0) : 0;
}

static void conn_tls_alloc(conn *c, uv_buf_t *b)
{
    b->len = tls_net_in_room(&c->tls, &b->base);
}

static int conn_tls_bytes_in(conn *c, size_t n)
{
    if (n > 0)
        tls_net_in_commit(&c->tls, n);
    return conn_tls_advance(c, n == 0);
}

static int conn_tls_write(conn *c, const char *p, size_t n)
{
    ssize_t w;
    int rc;

    while (n > 0) {
        w = tls_write(&c->tls, p, n);
        if (w < 0 && w != -ENOSPC)
            return (int)w;
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
        rc = conn_tls_flush(c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int conn_tls_shutdown(conn *c)
{
    tls_shutdown(&c->tls);
    return conn_tls_flush(c);
}

static void conn_tls_free(conn *c)
{
    tls_session_free(&c->tls);
}

const struct conn_ops conn__tls_ops = {
    conn_tls_start, conn_tls_alloc,    conn_tls_bytes_in,
    conn_tls_write, conn_tls_shutdown, conn_tls_free,
};
