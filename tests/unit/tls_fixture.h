/*
 * Test helper shared by test_tls.c and test_conn.c: a throw-away self-signed
 * certificate for CN=localhost with subjectAltName DNS:localhost and
 * IP:127.0.0.1, made by the openssl command into a fresh temporary directory.
 */
#ifndef TG_TESTS_TLS_FIXTURE_H
#define TG_TESTS_TLS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tls_fixture {
    char dir[64];
    char cert[128];
    char key[128];
} tls_fixture;

/* Returns 0, or -1 if the directory or the certificate could not be made.
 * An EC key keeps this fast; the server code does not care about the kind. */
static inline int tls_fixture_make(tls_fixture *f)
{
    char cmd[512];

    snprintf(f->dir, sizeof(f->dir), "/tmp/tg-tls-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
             " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
             " -days 1 -keyout %s -out %s >/dev/null 2>&1",
             f->key, f->cert);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void tls_fixture_remove(tls_fixture *f)
{
    unlink(f->cert);
    unlink(f->key);
    rmdir(f->dir);
}

#endif
