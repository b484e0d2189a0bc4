#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "core/tls.h"
#include "tls_fixture.h"

/* Two sessions talk through memory: what one writes to its outgoing ring is
 * copied into the other's incoming ring. */

static tls_fixture fx;

static int group_setup(void **state)
{
    (void)state;
    return tls_fixture_make(&fx);
}

static int group_teardown(void **state)
{
    (void)state;
    tls_fixture_remove(&fx);
    return 0;
}

/* Moves ciphertext from a to b until a has none or b has no room. Returns
 * the number of bytes moved. */
static size_t pump(tls_session *a, tls_session *b)
{
    size_t moved = 0, n, room, m;
    char *p, *q;

    while ((n = tls_net_out_peek(a, &p)) > 0) {
        room = tls_net_in_room(b, &q);
        if (room == 0)
            break;
        m = n < room ? n : room;
        memcpy(q, p, m);
        tls_net_in_commit(b, m);
        tls_net_out_consume(a, m);
        moved += m;
    }
    return moved;
}

static int is_pending(int rc)
{
    return rc == -EAGAIN || rc == -ENOSPC;
}

/* Runs both handshakes to an end. */
static void handshake(tls_session *cli, tls_session *srv, int *crc, int *src)
{
    int i;

    *crc = -EAGAIN;
    *src = -EAGAIN;
    for (i = 0; i < 50; i++) {
        if (is_pending(*crc))
            *crc = tls_handshake(cli);
        pump(cli, srv);
        if (is_pending(*src))
            *src = tls_handshake(srv);
        pump(srv, cli);
        if (!is_pending(*crc) && !is_pending(*src))
            return;
        if (*crc < 0 && !is_pending(*crc) && *src < 0 && !is_pending(*src))
            return;
    }
}

typedef struct pair {
    tls_ctx *sctx, *cctx;
    tls_session srv, cli;
} pair;

static void pair_open(pair *p, int insecure, const char *ca, const char *host)
{
    char err[256];

    assert_int_equal(tls_ctx_new_server(&p->sctx, fx.cert, fx.key, err, sizeof(err)), 0);
    assert_int_equal(tls_ctx_new_client(&p->cctx, insecure, ca, err, sizeof(err)), 0);
    assert_true(tls_ctx_is_server(p->sctx));
    assert_false(tls_ctx_is_server(p->cctx));
    assert_int_equal(tls_session_init(&p->srv, p->sctx, NULL), 0);
    assert_int_equal(tls_session_init(&p->cli, p->cctx, host), 0);
}

static void pair_close(pair *p)
{
    tls_session_free(&p->cli);
    tls_session_free(&p->srv);
    tls_session_free(&p->srv); /* twice is allowed */
    tls_ctx_free(p->cctx);
    tls_ctx_free(p->sctx);
}

/* Reads everything b has for it into out, pumping a's output over first. */
static size_t drain_into(tls_session *a, tls_session *b, char *out, size_t cap)
{
    size_t got = 0;
    ssize_t n;

    for (;;) {
        pump(a, b);
        n = tls_read(b, out + got, cap - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == -ENOSPC) {
            pump(b, a);
            continue;
        }
        return got;
    }
}

static void test_handshake_with_ca_file_and_data(void **state)
{
    pair p;
    int crc, src;
    char out[64];

    (void)state;
    pair_open(&p, 0, fx.cert, "localhost");
    handshake(&p.cli, &p.srv, &crc, &src);
    assert_int_equal(crc, 0);
    assert_int_equal(src, 0);
    assert_null(tls_verify_error(&p.cli));
    assert_non_null(tls_server_name(&p.srv));
    assert_string_equal(tls_server_name(&p.srv), "localhost");

    assert_int_equal(tls_write(&p.cli, "ping", 4), 4);
    assert_int_equal(drain_into(&p.cli, &p.srv, out, sizeof(out)), 4);
    assert_memory_equal(out, "ping", 4);
    assert_int_equal(tls_write(&p.srv, "pong!", 5), 5);
    assert_int_equal(drain_into(&p.srv, &p.cli, out, sizeof(out)), 5);
    assert_memory_equal(out, "pong!", 5);

    /* close_notify reads as 0, like end of file. */
    tls_shutdown(&p.srv);
    pump(&p.srv, &p.cli);
    assert_int_equal(tls_read(&p.cli, out, sizeof(out)), 0);
    pair_close(&p);
}

static void test_ip_literal_matches_ip_san(void **state)
{
    pair p;
    int crc, src;

    (void)state;
    pair_open(&p, 0, fx.cert, "127.0.0.1");
    handshake(&p.cli, &p.srv, &crc, &src);
    assert_int_equal(crc, 0);
    assert_int_equal(src, 0);
    assert_null(tls_server_name(&p.srv)); /* no SNI for an IP address */
    pair_close(&p);
}

static void test_host_mismatch_fails_verification(void **state)
{
    pair p;
    int crc, src;

    (void)state;
    pair_open(&p, 0, fx.cert, "wrong.example");
    handshake(&p.cli, &p.srv, &crc, &src);
    assert_int_equal(crc, TLS_ERR_VERIFY);
    assert_int_equal(p.cli.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
    assert_non_null(tls_verify_error(&p.cli));
    /* The server hears the client's alert. */
    assert_int_equal(src, TLS_ERR_PROTO);
    pair_close(&p);
    /* The reason outlives the session. */
    assert_int_equal(p.cli.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
}

static void test_system_store_rejects_self_signed(void **state)
{
    pair p;
    int crc, src;

    (void)state;
    pair_open(&p, 0, NULL, "localhost");
    handshake(&p.cli, &p.srv, &crc, &src);
    assert_int_equal(crc, TLS_ERR_VERIFY);
    assert_int_equal(p.cli.verify_result, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    pair_close(&p);
}

static void test_insecure_accepts_any_name(void **state)
{
    pair p;
    int crc, src;

    (void)state;
    pair_open(&p, 1, NULL, "wrong.example");
    handshake(&p.cli, &p.srv, &crc, &src);
    assert_int_equal(crc, 0);
    assert_int_equal(src, 0);
    assert_null(tls_verify_error(&p.cli));
    pair_close(&p);
}

static void test_verifying_client_needs_host(void **state)
{
    tls_ctx *ctx;
    tls_session s;
    char err[256];

    (void)state;
    assert_int_equal(tls_ctx_new_client(&ctx, 0, fx.cert, err, sizeof(err)), 0);
    assert_int_equal(tls_session_init(&s, ctx, NULL), -EINVAL);
    assert_int_equal(tls_session_init(&s, ctx, ""), -EINVAL);
    tls_session_free(&s);
    tls_ctx_free(ctx);
}

/* 1 MiB each way crosses many records and fills the 20 KiB rings, so both
 * -ENOSPC and partial writes happen. */
static void test_large_transfer_through_rings(void **state)
{
    enum { N = 1 << 20 };
    pair p;
    int crc, src;
    char *in = malloc(N), *out = malloc(N);
    size_t sent = 0, got = 0, i;
    ssize_t n;
    int saw_nospc = 0;

    (void)state;
    assert_non_null(in);
    assert_non_null(out);
    for (i = 0; i < N; i++)
        in[i] = (char)(i * 131 + (i >> 11));
    pair_open(&p, 0, fx.cert, "localhost");
    handshake(&p.cli, &p.srv, &crc, &src);
    assert_int_equal(crc, 0);
    while (got < N) {
        /* Write until the outgoing ring is full, then let the reader drain it. */
        while (sent < N) {
            n = tls_write(&p.cli, in + sent, N - sent);
            if (n == -ENOSPC) {
                saw_nospc = 1;
                break;
            }
            assert_true(n > 0 && n <= (ssize_t)(N - sent));
            sent += (size_t)n;
        }
        got += drain_into(&p.cli, &p.srv, out + got, N - got);
    }
    assert_int_equal(sent, N);
    assert_memory_equal(in, out, N);
    assert_true(saw_nospc);
    pair_close(&p);
    free(in);
    free(out);
}

static void test_context_errors(void **state)
{
    tls_ctx *ctx = NULL;
    char err[256], junk[160];
    FILE *f;

    (void)state;
    err[0] = '\0';
    assert_int_equal(tls_ctx_new_server(&ctx, "/nonexistent/cert.pem", fx.key, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/cert.pem"));
    assert_null(ctx);
    assert_int_equal(tls_ctx_new_client(&ctx, 0, "/nonexistent/ca.pem", err, sizeof(err)), -ENOENT);
    assert_null(ctx);

    /* A certificate is not a private key. */
    assert_int_equal(tls_ctx_new_server(&ctx, fx.cert, fx.cert, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "private key"));
    assert_null(ctx);

    snprintf(junk, sizeof(junk), "%s/junk.pem", fx.dir);
    f = fopen(junk, "w");
    assert_non_null(f);
    fputs("not a certificate\n", f);
    fclose(f);
    assert_int_equal(tls_ctx_new_client(&ctx, 0, junk, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, junk));
    assert_null(ctx);
    unlink(junk);

    /* Insecure ignores the CA file entirely. */
    assert_int_equal(tls_ctx_new_client(&ctx, 1, "/nonexistent/ca.pem", err, sizeof(err)), 0);
    tls_ctx_free(ctx);
    tls_ctx_free(NULL);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_non_null(strstr(tls_strerror(TLS_ERR_VERIFY), "verification"));
    assert_non_null(strstr(tls_strerror(TLS_ERR_PROTO), "TLS"));
    assert_null(tls_strerror(-ECONNRESET));
    assert_null(tls_strerror(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_with_ca_file_and_data),
        cmocka_unit_test(test_ip_literal_matches_ip_san),
        cmocka_unit_test(test_host_mismatch_fails_verification),
        cmocka_unit_test(test_system_store_rejects_self_signed),
        cmocka_unit_test(test_insecure_accepts_any_name),
        cmocka_unit_test(test_verifying_client_needs_host),
        cmocka_unit_test(test_large_transfer_through_rings),
        cmocka_unit_test(test_context_errors),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
