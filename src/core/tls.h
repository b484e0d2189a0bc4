/*
 * tls: OpenSSL contexts and sessions that speak TLS over memory, for conn.
 *
 * A tls_session is an SSL object whose transport is a BIO pair: OpenSSL reads
 * incoming ciphertext from one ring buffer and writes outgoing ciphertext to
 * another, and the caller moves ciphertext between those rings and a socket
 * (tls_net_*). Nothing here touches a socket or an event loop, which is what
 * lets conn drive a session from libuv and tests drive two sessions from
 * memory. OpenSSL does all the cryptography and certificate checking; this
 * file only wires it the one way the project uses it.
 *
 * Threads: a tls_ctx may be shared by sessions on several threads once it is
 * built; a session belongs to one thread. Every function here leaves the
 * thread's OpenSSL error queue empty, and other code on the thread must too:
 * SSL_get_error reads that queue to tell "would block" from "failed".
 */
#ifndef TG_CORE_TLS_H
#define TG_CORE_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* Error codes of their own, outside the errno range, so that a load
 * generator can count TLS failures apart from socket failures. */
#define TLS_ERR_PROTO  (-7001) /* handshake or record failure, or an alert from the peer */
#define TLS_ERR_VERIFY (-7002) /* the peer's certificate failed verification */

/* Bytes of each ring buffer between OpenSSL and the socket. It holds the
 * largest TLS record (16 KiB of data plus overhead), so a session always
 * makes progress once its rings are drained. */
#define TLS_RING_SIZE (20 * 1024)

typedef struct tls_ctx tls_ctx;

typedef struct tls_session {
    struct ssl_st *ssl; /* NULL when the session is not initialized */
    struct bio_st *net; /* our end of the BIO pair; SSL owns the other end */
    long verify_result; /* X509_V_OK (0), or why verification failed; kept after free */
} tls_session;

/* Builds a client context in *out. Certificate verification is on, against
 * the system's CA store, unless `insecure` is nonzero (then nothing about the
 * peer is checked). With `ca_file` (a PEM bundle) verification uses that
 * file instead of the system store; it is ignored when `insecure` is set.
 * TLS 1.2 is the oldest version offered. Returns 0, -ENOMEM, -errno when
 * `ca_file` cannot be read, or -EINVAL when it holds no usable certificate;
 * on failure *out is untouched and `err` says why. */
int tls_ctx_new_client(tls_ctx **out, int insecure, const char *ca_file, char *err, size_t errlen);

/* Builds a server context in *out from a PEM certificate chain and a PEM
 * private key. Returns 0, -ENOMEM, -errno when a file cannot be read, or
 * -EINVAL when the files do not parse or the key does not match the
 * certificate; on failure *out is untouched and `err` says why. */
int tls_ctx_new_server(tls_ctx **out, const char *cert_file, const char *key_file, char *err,
                       size_t errlen);

/* Frees a context. Sessions made from it keep their own reference, so this
 * may run while they live. NULL is ignored. */
void tls_ctx_free(tls_ctx *ctx);

/* Nonzero for a server context. */
int tls_ctx_is_server(const tls_ctx *ctx);

/* Starts a session on `ctx`: the server or client end, as the context is.
 * For a client, `host` is sent as SNI (unless it is an IP literal) and is
 * the name (or IP address) the certificate must match; it is copied. A
 * verifying client context requires `host`, so that a missing name cannot
 * silently turn the name check off. Servers ignore `host`. Returns 0,
 * -EINVAL, or -ENOMEM; on failure nothing needs freeing. */
int tls_session_init(tls_session *s, tls_ctx *ctx, const char *host);

/* Frees the SSL object and the rings; keeps verify_result. Safe to call
 * twice and on a session whose init failed. */
void tls_session_free(tls_session *s);

/* Incoming ciphertext: *p receives where up to the returned number of bytes
 * may be written (0 when the ring is full); tls_net_in_commit then hands `n`
 * of those bytes to OpenSSL. This lets a socket read land in the ring with no
 * copy. */
size_t tls_net_in_room(tls_session *s, char **p);
void tls_net_in_commit(tls_session *s, size_t n);

/* Outgoing ciphertext: *p receives the next contiguous run of bytes to send
 * and its length is returned (0 when there is nothing to send); after
 * sending, tls_net_out_consume drops `n` of them. */
size_t tls_net_out_peek(tls_session *s, char **p);
void tls_net_out_consume(tls_session *s, size_t n);

/* Advances the handshake. Returns 0 once it is complete, -EAGAIN when it
 * needs more incoming ciphertext, -ENOSPC when the outgoing ring must be
 * drained before calling again, TLS_ERR_VERIFY (see verify_result) or
 * TLS_ERR_PROTO. Outgoing ciphertext may be produced by any return. */
int tls_handshake(tls_session *s);

/* Decrypts into p[0..n). Returns the number of bytes (> 0), 0 when the peer
 * sent close_notify, -EAGAIN when more ciphertext is needed, -ENOSPC when the
 * outgoing ring must be drained first, or TLS_ERR_PROTO. */
ssize_t tls_read(tls_session *s, char *p, size_t n);

/* Encrypts up to n > 0 bytes of p. Returns how many bytes were taken (> 0;
 * possibly fewer than n: call again with the rest after draining the
 * outgoing ring), -ENOSPC when the outgoing ring must be drained first, or
 * TLS_ERR_PROTO. */
ssize_t tls_write(tls_session *s, const void *p, size_t n);

/* Queues a close_notify alert in the outgoing ring. Only meaningful after the
 * handshake completed; a no-op otherwise. */
void tls_shutdown(tls_session *s);

/* Server side, once the handshake has begun: the host name the client sent
 * as SNI, or NULL if it sent none. */
const char *tls_server_name(const tls_session *s);

/* A sentence for TLS_ERR_PROTO or TLS_ERR_VERIFY, or NULL for other codes. */
const char *tls_strerror(int err);

/* Why verification failed, in OpenSSL's words, or NULL if it did not fail. */
const char *tls_verify_error(const tls_session *s);

#endif
