/*
 * conn_internal: what conn.c shares with its transports (conn_tls.c), and
 * nothing else includes. Names with a double underscore are internal, as in
 * libuv.
 */
#ifndef TG_CORE_CONN_INTERNAL_H
#define TG_CORE_CONN_INTERNAL_H

#include "core/conn.h"

/* What differs between plain TCP and TLS, chosen once when the conn starts. */
struct conn_ops {
    /* The TCP connection is up: go OPEN, or begin the handshake. */
    int (*start)(conn *c);
    /* Where the next socket read lands. */
    void (*alloc)(conn *c, uv_buf_t *b);
    /* `n` bytes landed there; 0 means none: deliver what is buffered again. */
    int (*bytes_in)(conn *c, size_t n);
    /* Sends plain text. */
    int (*write)(conn *c, const char *p, size_t n);
    /* Queues what ends the stream cleanly before the socket closes. */
    int (*shutdown)(conn *c);
    /* Releases the transport's resources. */
    void (*free)(conn *c);
};

/* The TLS transport (conn_tls.c). */
extern const struct conn_ops conn__tls_ops;

/* Sends raw bytes (ciphertext under TLS): what the socket takes now, the
 * rest queued. Returns 0 or a negative error. */
int conn__send(conn *c, const char *p, size_t n);

/* Room at the end of the read buffer for the next chunk of plain text, at
 * *p; 0 when the buffer is at its bound. */
size_t conn__rbuf_room(conn *c, char **p);

/* Hands the read buffer to on_read if there is something to read and the
 * conn is OPEN and not paused. Returns UV_ENOBUFS if on_read left the buffer
 * full, else 0. */
int conn__deliver(conn *c);

/* Enters OPEN: reading per the pause flag, on_connect for clients. */
int conn__opened(conn *c);

/* Starts reading from the socket (idempotent). */
int conn__read_on(conn *c);

#endif
