#include "core/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"

struct tls_ctx {
    SSL_CTX *ssl;
    int server;
    int verify;
};

/* Writes "<what> <file>: <OpenSSL's reason>" into err and empties the
 * thread's OpenSSL error queue, which SSL_get_error needs empty later. */
static void tls_ctx_errmsg(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s %s: %s", what, file != NULL ? file : "",
                 reason != NULL ? reason : "unknown OpenSSL error");
    ERR_clear_error();
}

/* Checks that a file can be read, so that a missing file is reported as
 * -ENOENT with the system's words rather than as a parse error. */
static int tls_ctx_readable(const char *file, const char *what, char *err, size_t errlen)
{
    int rc;

    if (access(file, R_OK) == 0)
        return 0;
    rc = -errno;
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "cannot read %s %s: %s", what, file, strerror(-rc));
    return rc;
}

static int tls_ctx_alloc(tls_ctx **out, int server, char *err, size_t errlen)
{
    tls_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        goto err;
    ctx->server = server;
    ctx->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx->ssl == NULL)
        goto err;
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
    /* Partial writes let tls_write hand over one record at a time through a
     * bounded ring; renegotiation would let a peer make SSL_write wait for
     * input, which the write path does not expect. */
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION);
    *out = ctx;
    return 0;
err:
    free(ctx);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "out of memory creating a TLS context");
    ERR_clear_error();
    return -ENOMEM;
}

int tls_ctx_new_client(tls_ctx **out, int insecure, const char *ca_file, char *err, size_t errlen)
{
    tls_ctx *ctx = NULL;
    int rc;

    rc = tls_ctx_alloc(&ctx, 0, err, errlen);
    if (rc < 0)
        return rc;
    ctx->verify = !insecure;
    if (insecure) {
        SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_NONE, NULL);
    } else if (ca_file != NULL) {
        SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
        rc = tls_ctx_readable(ca_file, "CA file", err, errlen);
        if (rc < 0)
            goto err;
        if (SSL_CTX_load_verify_locations(ctx->ssl, ca_file, NULL) != 1) {
            tls_ctx_errmsg(err, errlen, "cannot load CA file", ca_file);
            rc = -EINVAL;
            goto err;
        }
    } else {
        SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_default_verify_paths(ctx->ssl) != 1) {
            tls_ctx_errmsg(err, errlen, "cannot load the system CA store", NULL);
            rc = -EINVAL;
            goto err;
        }
    }
    ERR_clear_error(); /* loading may leave notes behind even when it succeeds */
    *out = ctx;
    return 0;
err:
    tls_ctx_free(ctx);
    return rc;
}

int tls_ctx_new_server(tls_ctx **out, const char *cert_file, const char *key_file, char *err,
                       size_t errlen)
{
    tls_ctx *ctx = NULL;
    int rc;

    rc = tls_ctx_readable(cert_file, "certificate", err, errlen);
    if (rc < 0)
        return rc;
    rc = tls_ctx_readable(key_file, "private key", err, errlen);
    if (rc < 0)
        return rc;
    rc = tls_ctx_alloc(&ctx, 1, err, errlen);
    if (rc < 0)
        return rc;
    rc = -EINVAL;
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert_file) != 1) {
        tls_ctx_errmsg(err, errlen, "cannot load certificate", cert_file);
        goto err;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_ctx_errmsg(err, errlen, "cannot load private key", key_file);
        goto err;
    }
    if (SSL_CTX_check_private_key(ctx->ssl) != 1) {
        tls_ctx_errmsg(err, errlen, "private key does not match certificate", key_file);
        goto err;
    }
    ERR_clear_error(); /* loading may leave notes behind even when it succeeds */
    *out = ctx;
    return 0;
err:
    tls_ctx_free(ctx);
    return rc;
}

void tls_ctx_free(tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

int tls_ctx_is_server(const tls_ctx *ctx)
{
    return ctx->server;
}

static int tls_is_ip_literal(const char *host)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Names the peer for SNI and for the certificate check. SNI carries DNS
 * names only (RFC 6066), so an IP literal is checked against the
 * certificate's IP addresses instead. */
static int tls_session_set_host(tls_session *s, const char *host)
{
    if (tls_is_ip_literal(host))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), host) == 1 ? 0 : -EINVAL;
    if (SSL_set_tlsext_host_name(s->ssl, host) != 1)
        return -EINVAL;
    return SSL_set1_host(s->ssl, host) == 1 ? 0 : -EINVAL;
}

int tls_session_init(tls_session *s, tls_ctx *ctx, const char *host)
{
    BIO *inner = NULL;
    int rc = -ENOMEM;

    s->ssl = NULL;
    s->net = NULL;
    s->verify_result = X509_V_OK;
    if (!ctx->server && ctx->verify && (host == NULL || host[0] == '\0'))
        return -EINVAL;
    s->ssl = SSL_new(ctx->ssl);
    if (s->ssl == NULL)
        goto err;
    /* The first size is the ring SSL writes into (outgoing), the second the
     * ring we write into (incoming). */
    if (BIO_new_bio_pair(&inner, TLS_RING_SIZE, &s->net, TLS_RING_SIZE) != 1)
        goto err;
    SSL_set_bio(s->ssl, inner, inner);
    if (ctx->server) {
        SSL_set_accept_state(s->ssl);
    } else {
        SSL_set_connect_state(s->ssl);
        if (host != NULL && host[0] != '\0') {
            rc = tls_session_set_host(s, host);
            if (rc < 0)
                goto err;
        }
    }
    return 0;
err:
    ERR_clear_error();
    tls_session_free(s);
    return rc;
}

void tls_session_free(tls_session *s)
{
    SSL_free(s->ssl);
    BIO_free(s->net);
    s->ssl = NULL;
    s->net = NULL;
}

size_t tls_net_in_room(tls_session *s, char **p)
{
    int n = BIO_nwrite0(s->net, p);

    return n > 0 ? (size_t)n : 0;
}

void tls_net_in_commit(tls_session *s, size_t n)
{
    char *p;

    BIO_nwrite(s->net, &p, (int)n);
}

size_t tls_net_out_peek(tls_session *s, char **p)
{
    int n = BIO_nread0(s->net, p);

    return n > 0 ? (size_t)n : 0;
}

void tls_net_out_consume(tls_session *s, size_t n)
{
    char *p;

    BIO_nread(s->net, &p, (int)n);
}

/* Maps a failed SSL call to our codes. Verification failures are told apart
 * from other handshake failures only when the session checks the peer: an
 * insecure session also records a verify result, but it is not the reason
 * for the failure. */
static int tls_fail(tls_session *s, int ret)
{
    unsigned long e;
    char reason[160];

    switch (SSL_get_error(s->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        return -ENOSPC;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        break;
    }
    e = ERR_peek_error();
    if (log_get_level() >= LOG_LEVEL_DEBUG) {
        ERR_error_string_n(e, reason, sizeof(reason));
        log_debug("tls", "%s", reason);
    }
    ERR_clear_error();
    if ((SSL_get_verify_mode(s->ssl) & SSL_VERIFY_PEER) != 0 &&
        SSL_get_verify_result(s->ssl) != X509_V_OK) {
        s->verify_result = SSL_get_verify_result(s->ssl);
        return TLS_ERR_VERIFY;
    }
    return TLS_ERR_PROTO;
}

int tls_handshake(tls_session *s)
{
    int ret = SSL_do_handshake(s->ssl);
    int rc;

    if (ret == 1)
        return 0;
    rc = tls_fail(s, ret);
    /* close_notify in the middle of a handshake is a failed handshake. */
    return rc == 0 ? TLS_ERR_PROTO : rc;
}

ssize_t tls_read(tls_session *s, char *p, size_t n)
{
    size_t got = 0;

    if (SSL_read_ex(s->ssl, p, n, &got) == 1)
        return (ssize_t)got;
    return tls_fail(s, 0);
}

ssize_t tls_write(tls_session *s, const void *p, size_t n)
{
    size_t put = 0;
    int rc;

    if (SSL_write_ex(s->ssl, p, n, &put) == 1)
        return (ssize_t)put;
    rc = tls_fail(s, 0);
    /* Wanting input in order to write (renegotiation is off) or a peer that
     * already closed: the record stream cannot go on either way. */
    return rc == -ENOSPC ? rc : TLS_ERR_PROTO;
}

void tls_shutdown(tls_session *s)
{
    if (s->ssl == NULL || !SSL_is_init_finished(s->ssl))
        return;
    SSL_shutdown(s->ssl);
    ERR_clear_error();
}

const char *tls_server_name(const tls_session *s)
{
    return SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name);
}

const char *tls_strerror(int err)
{
    if (err == TLS_ERR_PROTO)
        return "TLS handshake or protocol error";
    if (err == TLS_ERR_VERIFY)
        return "TLS certificate verification failed";
    return NULL;
}

const char *tls_verify_error(const tls_session *s)
{
    if (s->verify_result == X509_V_OK)
        return NULL;
    return X509_verify_cert_error_string(s->verify_result);
}
