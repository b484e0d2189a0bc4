/*
 * conn: one TCP connection on a libuv loop, in plain text or TLS, with a
 * bounded read buffer, a write queue and timeouts.
 *
 * Both `tollgate serve` (accepted connections) and `tollgate run` (pooled
 * client connections) move every byte through this module, so the common
 * case on a keep-alive connection allocates nothing: reads land in the
 * connection's own buffer, writes go straight to the socket with
 * uv_try_write and are copied into a queue only when the kernel does not
 * take them at once. libuv does the sockets and OpenSSL the TLS (see tls.h);
 * what no Debian library offers is this glue: one byte-stream API over both,
 * with the buffer bounds and timeouts a server and a load generator need.
 *
 * Like a libuv handle, a conn lives in memory the owner allocates (usually
 * inside its own struct, reached back through `data`), and the owner may
 * free that memory only from on_close.
 *
 * States:
 *
 *   INIT --conn_connect--> CONNECTING --TCP up, TLS--> HANDSHAKING --done--> OPEN
 *   INIT --conn_accept---> OPEN, or HANDSHAKING with TLS     (TCP up, plain)--^
 *   OPEN --conn_close, or end of stream from the peer--> CLOSING --flushed--> CLOSED
 *   any state --conn_abort, error, timeout--> CLOSED
 *
 * - INIT: conn_init ran; nothing is connected. conn_close goes to CLOSED.
 * - CONNECTING: the TCP connect is under way (client side only).
 * - HANDSHAKING: TCP is up and the TLS handshake is under way; conn_write
 *   is refused and on_read is not called yet.
 * - OPEN: bytes flow both ways. A client conn calls on_connect on entry.
 * - CLOSING: conn_close was called or the peer ended its stream; reading has
 *   stopped, queued bytes (and a TLS close_notify) are being flushed, and the
 *   socket closes once they are. Only the idle timeout still applies,
 *   counted afresh from the start of the close.
 * - CLOSED: the handles are closing or closed; on_close runs once both are,
 *   and nothing runs after it.
 *
 * Every conn that conn_init set up reaches CLOSED, and its on_close runs
 * exactly once, with the reason as `status`: 0 when the owner closed it,
 * UV_EOF when the peer ended the stream, otherwise a negative error code
 * (libuv's UV_E* values, which are -errno on Unix, or TLS_ERR_*);
 * conn_err_kind classifies it. Errors therefore never need handling at the
 * call that meets them: the conn closes itself and on_close says why. A
 * close already under way keeps the reason it started with (a graceful close
 * whose flush then fails still reports 0).
 *
 * Timeouts (milliseconds of libuv loop time; the conn reads no clock):
 * - connect: from conn_connect until OPEN (TCP connect plus TLS handshake),
 *   or from conn_accept until OPEN for TLS conns (the handshake);
 * - idle: no byte read or written for that long, in any state but INIT;
 * - read: a deadline the owner sets while a message is incomplete
 *   (conn_set_read_deadline), e.g. a server waiting for request headers.
 * When one passes, on_timeout(c, kind) runs if the owner set it; it may
 * write a last response and conn_close, or move the deadline. If, when it
 * returns, the conn is not closing and that deadline has not moved, or if
 * there is no on_timeout, the conn aborts with UV_ETIMEDOUT. The connect
 * deadline cannot move, so a connect timeout always aborts. In CLOSING only
 * the idle timeout applies and it aborts without calling on_timeout.
 *
 * One loop per thread: a conn and the loop it was initialized on belong to
 * one thread. The process must ignore SIGPIPE, since libuv writes to
 * sockets with write(2).
 */
#ifndef TG_CORE_CONN_H
#define TG_CORE_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/buf.h"
#include "core/tls.h"

/* The read buffer bound when conn_config.read_max is 0, in bytes. */
#define CONN_READ_MAX_DEFAULT (256 * 1024)

typedef struct conn conn;

enum conn_state {
    CONN_INIT = 0,
    CONN_CONNECTING,
    CONN_HANDSHAKING,
    CONN_OPEN,
    CONN_CLOSING,
    CONN_CLOSED,
};

enum conn_timeout {
    CONN_TIMEOUT_CONNECT = 0,
    CONN_TIMEOUT_IDLE,
    CONN_TIMEOUT_READ,
};

/* How a load generator counts a close status. */
enum conn_err_kind {
    CONN_ERR_NONE = 0, /* 0: closed by the owner */
    CONN_ERR_CLOSED,   /* UV_EOF: the peer ended the stream */
    CONN_ERR_REFUSED,  /* UV_ECONNREFUSED */
    CONN_ERR_RESET,    /* UV_ECONNRESET, UV_EPIPE, UV_ECONNABORTED */
    CONN_ERR_TIMEOUT,  /* UV_ETIMEDOUT: ours (connect, idle, read) or the kernel's */
    CONN_ERR_TLS,      /* TLS_ERR_PROTO, TLS_ERR_VERIFY */
    CONN_ERR_OTHER,    /* anything else, e.g. UV_ENOBUFS (read buffer full) */
};

/* Called when a conn_connect'ed conn is OPEN: connected and, with TLS, the
 * handshake done and the certificate accepted. A failed connect never calls
 * it; on_close reports the failure instead. */
typedef void (*conn_connect_cb)(conn *c);

/* Called with the received bytes (plain text, also under TLS) in `rbuf`,
 * whenever new bytes arrived and reading is not paused. The callee parses
 * buf_ptr(rbuf)[0 .. rbuf->len), calls buf_consume(rbuf, n) for what it
 * used, and leaves the rest, which is seen again, with more bytes after it,
 * on the next call. It may call conn_write, conn_read_pause, conn_close and
 * conn_abort. If the buffer reaches the read bound without the callee
 * consuming anything, the conn aborts with UV_ENOBUFS. */
typedef void (*conn_read_cb)(conn *c, buf *rbuf);

/* Called when the bytes that conn_write had to queue have all been handed to
 * the kernel. Not called for writes that completed before conn_write
 * returned (see conn_write_queued). */
typedef void (*conn_drain_cb)(conn *c);

/* Called when a timeout passes; see the module comment for what happens
 * after it returns. */
typedef void (*conn_timeout_cb)(conn *c, enum conn_timeout kind);

/* Called once, last, when the conn is CLOSED and its handles are released;
 * the owner may free the conn's memory here. `status` is why it closed (see
 * the module comment). */
typedef void (*conn_close_cb)(conn *c, int status);

/* Settings and callbacks shared by a set of conns (a listener's, a pool's).
 * A conn keeps a pointer to its config, which must outlive it. Every
 * callback but on_close may be NULL. */
typedef struct conn_config {
    size_t read_max;             /* read buffer bound, bytes; 0 = CONN_READ_MAX_DEFAULT */
    size_t write_max;            /* conn_write refused while more is queued, bytes; 0 = never */
    uint64_t connect_timeout_ms; /* 0 = none */
    uint64_t idle_timeout_ms;    /* 0 = none */
    conn_connect_cb on_connect;
    conn_read_cb on_read;
    conn_drain_cb on_drain;
    conn_timeout_cb on_timeout; /* NULL: every timeout aborts the conn */
    conn_close_cb on_close;
} conn_config;

struct conn {
    uv_tcp_t tcp; /* tcp.data points at this conn */
    void *data;   /* the owner's; never touched */
    buf rbuf;     /* received plain text not consumed yet */

    /* Everything below is private to conn.c. */
    const conn_config *cfg;
    const struct conn_ops *ops; /* TCP or TLS, chosen when the conn starts */
    uv_timer_t timer;           /* one timer for every deadline, and redelivery */
    union {
        uv_connect_t connect;
        uv_write_t write;
    } req;
    buf wq;      /* bytes waiting for the socket, ciphertext under TLS */
    buf wflight; /* bytes being written by uv_write requests, in order */
    tls_session tls;
    uint64_t last_active; /* loop time (ms) of the last byte either way */
    uint64_t connect_due; /* loop time (ms); UINT64_MAX = none */
    uint64_t read_due;    /* loop time (ms); UINT64_MAX = none */
    uint64_t timer_due;   /* when the timer is armed for; UINT64_MAX = not armed */
    uint32_t inflight;    /* bytes of wflight in the current uv_write */
    int status;           /* reason for closing, passed to on_close */
    uint8_t state;        /* enum conn_state */
    uint8_t client : 1, reading : 1, writing : 1, paused : 1, corked : 1, redeliver : 1;
    uint8_t open_handles;
};

/* Prepares a conn on `loop` with a config that must outlive it: state INIT,
 * nothing allocated yet. Returns 0 or a negative libuv error, in which case
 * nothing needs closing. After success the conn must be closed (conn_close
 * or conn_abort, or by an error) before its memory is freed or the loop is
 * closed, and on_close runs exactly once. */
int conn_init(uv_loop_t *loop, conn *c, const conn_config *cfg);

/* Connects to `addr` (client side), with TLS when `tls` is a client context.
 * `host` is the server's name for SNI and certificate checks (see
 * tls_session_init); plain TCP ignores it. Returns 0 and later calls
 * on_connect, or on_close with the failure (UV_ECONNREFUSED, UV_ETIMEDOUT,
 * TLS_ERR_VERIFY, ...); or returns a negative code at once (-EINVAL if the
 * conn is not INIT, or the context is a server's, or a verifying context
 * lacks `host`; libuv's errors), and then no callback of this call runs and
 * the conn is still INIT. */
int conn_connect(conn *c, const struct sockaddr *addr, tls_ctx *tls, const char *host);

/* Accepts the next pending connection of `listener` (server side, after its
 * connection callback fired), with TLS when `tls` is a server context. The
 * conn must be INIT on the listener's loop. On 0 the conn is reading: OPEN
 * for plain TCP (conn_write may be called at once), HANDSHAKING for TLS. On
 * failure (-EINVAL, -ENOMEM, libuv's errors) the conn stays INIT and is to be
 * closed as usual. */
int conn_accept(conn *c, uv_tcp_t *listener, tls_ctx *tls);

/* Sends `len` bytes, copying what the kernel does not take at once into the
 * write queue, so `data` may be reused when this returns. Returns 0 when all
 * bytes were sent or queued; -ENOTCONN before OPEN, -EPIPE once closing, and
 * -ENOBUFS while more than write_max bytes are queued, with nothing sent in
 * these cases. Any other failure (socket, TLS, memory) aborts the conn: that
 * error is returned and is also on_close's status. */
int conn_write(conn *c, const void *data, size_t len);

/* Bytes accepted by conn_write and not yet handed to the kernel. Owners
 * that produce faster than the peer reads stop when this grows and resume
 * from on_drain. */
size_t conn_write_queued(const conn *c);

/* While corked, conn_write only queues; conn_uncork sends everything queued
 * with as few system calls as possible. For writing several responses
 * produced by one on_read. Corking is ignored unless the conn is OPEN;
 * conn_close uncorks. */
void conn_cork(conn *c);
void conn_uncork(conn *c);

/* Stops and restarts reading from the socket (backpressure): while paused
 * on_read is not called and the kernel's buffers, then TCP flow control,
 * hold the peer back. After resuming, bytes already buffered are delivered
 * from the loop (not from within conn_read_resume), even if no new bytes
 * arrive. Pausing during the TLS handshake takes effect when it completes. */
void conn_read_pause(conn *c);
void conn_read_resume(conn *c);

/* Sets the read deadline `ms` milliseconds from the loop's current time,
 * replacing any earlier one, or clears it. */
void conn_set_read_deadline(conn *c, uint64_t ms);
void conn_clear_read_deadline(conn *c);

/* Graceful close: stops reading, flushes the queued bytes (and, with TLS,
 * a close_notify), then closes; on_close gets status 0. Before OPEN it is
 * conn_abort. Calling it again, or on a CLOSING or CLOSED conn, does
 * nothing. Unread bytes from the peer make the kernel reset the connection
 * instead of ending it cleanly. */
void conn_close(conn *c);

/* Immediate close: queued bytes are dropped and on_close gets status 0
 * (or the reason of a close already under way). Does nothing on a CLOSED
 * conn. */
void conn_abort(conn *c);

/* The conn's state (enum conn_state). */
enum conn_state conn_state(const conn *c);

/* Classifies a close status. */
enum conn_err_kind conn_err_kind(int status);

/* A short lowercase name for a kind: "none", "closed", "refused", "reset",
 * "timeout", "tls", "other". */
const char *conn_err_kind_name(enum conn_err_kind kind);

/* A sentence for a status: libuv's words, or the TLS ones. */
const char *conn_strerror(int status);

/* After a TLS_ERR_VERIFY close (usable in on_close): why the certificate
 * was refused, in OpenSSL's words; NULL otherwise. */
const char *conn_tls_verify_error(const conn *c);

#endif
