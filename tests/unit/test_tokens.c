#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "serve/b64.h"
#include "serve/tokens.h"

#define S 1000000000ULL /* ns per s */

static const uint8_t key1[TOKENS_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t key2[TOKENS_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 10};

static tokens *make(const uint8_t *key, uint64_t ttl)
{
    tokens *t = NULL;

    assert_int_equal(tokens_new(&t, key, ttl), 0);
    assert_int_equal(tokens_add_client(t, "c-2", "s2", "org-1", "user-2"), 0);
    assert_int_equal(tokens_add_client(t, "c-1", "s1", "org-1", "user-1"), 0);
    assert_int_equal(tokens_add_client(t, "c-3", "s3", "org-2", NULL), 0);
    return t;
}

static void test_clients(void **state)
{
    tokens *t = make(key1, 10 * S);

    (void)state;
    assert_int_equal(tokens_count(t), 3);
    assert_int_equal(tokens_ttl_ns(t), 10 * S);
    assert_int_equal(tokens_add_client(t, "c-1", "x", "o", "u"), -EEXIST);
    assert_int_equal(tokens_add_client(t, "", "x", "o", "u"), -EINVAL);
    {
        char longid[TOKENS_ID_MAX + 2];

        memset(longid, 'a', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        assert_int_equal(tokens_add_client(t, longid, "x", "o", "u"), -EINVAL);
        longid[TOKENS_ID_MAX] = '\0';
        assert_int_equal(tokens_add_client(t, longid, "x", "o", "u"), 0);
    }
    assert_int_equal(tokens_new(&(tokens *){NULL}, key1, 0), -EINVAL);
    tokens_free(t);
    tokens_free(NULL);
}

/* Right secrets pass; wrong ones fail whatever their length or prefix, and an
 * unknown client fails the same way (same digest comparison). */
static void test_secret(void **state)
{
    tokens *t = make(key1, 10 * S);

    (void)state;
    assert_int_equal(tokens_check_secret(t, "c-1", "s1"), 0);
    assert_int_equal(tokens_check_secret(t, "c-2", "s2"), 0);
    assert_int_equal(tokens_check_secret(t, "c-1", "s2"), -EACCES);
    assert_int_equal(tokens_check_secret(t, "c-1", "s"), -EACCES);
    assert_int_equal(tokens_check_secret(t, "c-1", "s1s1"), -EACCES);
    assert_int_equal(tokens_check_secret(t, "c-1", ""), -EACCES);
    assert_int_equal(tokens_check_secret(t, "c-9", "s1"), -EACCES);
    assert_int_equal(tokens_check_secret(t, "c-9", ""), -EACCES);
    assert_int_equal(tokens_check_secret(t, "", "s1"), -EACCES);
    tokens_free(t);
}

static void test_issue_lookup(void **state)
{
    tokens *t = make(key1, 10 * S);
    char a[TOKENS_MAX_LEN], b[TOKENS_MAX_LEN];
    handler_identity id = {0};
    uint64_t now = 1767225600 * S + S / 2; /* 2026-01-01T00:00:00.5Z */

    (void)state;
    assert_int_equal(tokens_issue(t, "c-1", now, a, sizeof(a)), 0);
    assert_int_equal(tokens_issue(t, "c-1", now, b, sizeof(b)), 0);
    assert_string_not_equal(a, b); /* the nonce */
    assert_non_null(strchr(a, '.'));
    assert_int_equal(strlen(strchr(a, '.') + 1), 43);
    assert_int_equal(tokens_lookup(t, a, strlen(a), now, &id), 0);
    assert_ptr_equal(id.token, a);
    assert_string_equal(id.client, "c-1");
    assert_string_equal(id.org, "org-1");
    assert_string_equal(id.user, "user-1");
    assert_int_equal(tokens_issue(t, "c-3", now, b, sizeof(b)), 0);
    assert_int_equal(tokens_lookup(t, b, strlen(b), now, &id), 0);
    assert_string_equal(id.client, "c-3");
    assert_string_equal(id.org, "org-2");
    assert_null(id.user);
    /* The token need not be NUL-terminated: only len bytes are read. */
    {
        char copy[TOKENS_MAX_LEN + 8];
        size_t n = strlen(a);

        memcpy(copy, a, n);
        memcpy(copy + n, "garbage", 8);
        assert_int_equal(tokens_lookup(t, copy, n, now, &id), 0);
        assert_string_equal(id.client, "c-1");
    }
    assert_int_equal(tokens_issue(t, "nobody", now, b, sizeof(b)), -EACCES);
    assert_int_equal(tokens_issue(t, "c-1", now, b, 100), -ENOBUFS);
    /* The payload is readable and says EXPIRY:NONCE:ID, expiry rounded up. */
    {
        char dec[200];
        int n = b64_decode(a, (size_t)(strchr(a, '.') - a), true, dec, sizeof(dec));

        assert_true(n > 0);
        dec[n] = '\0';
        assert_int_equal(tokens_expiry_s(t, now), 1767225611);
        assert_memory_equal(dec, "1767225611:", 11);
        assert_string_equal(dec + 11 + 17, "c-1");
    }
    tokens_free(t);
}

/* Issued at .5 s with a 10 s ttl: the expiry is 11 s later (rounded up so the
 * token lives at least the ttl); valid 1 ns before, expired at it. */
static void test_expiry(void **state)
{
    tokens *t = make(key1, 10 * S);
    char a[TOKENS_MAX_LEN];
    handler_identity id = {0};
    uint64_t now = 1000 * S + S / 2;

    (void)state;
    assert_int_equal(tokens_issue(t, "c-2", now, a, sizeof(a)), 0);
    assert_int_equal(tokens_lookup(t, a, strlen(a), now + 10 * S, &id), 0);
    assert_int_equal(tokens_lookup(t, a, strlen(a), 1011 * S - 1, &id), 0);
    id.client = NULL;
    assert_int_equal(tokens_lookup(t, a, strlen(a), 1011 * S, &id), -ETIMEDOUT);
    assert_null(id.client);
    assert_int_equal(tokens_lookup(t, a, strlen(a), 5000 * S, &id), -ETIMEDOUT);
    /* Issued on a whole second: exactly ttl. */
    assert_int_equal(tokens_issue(t, "c-2", 2000 * S, a, sizeof(a)), 0);
    assert_int_equal(tokens_lookup(t, a, strlen(a), 2010 * S - 1, &id), 0);
    assert_int_equal(tokens_lookup(t, a, strlen(a), 2010 * S, &id), -ETIMEDOUT);
    tokens_free(t);
}

/* The signature is standard HMAC-SHA256 (RFC 2104) of the encoded payload,
 * so any implementation holding the key can check it. */
static void test_hmac_known(void **state)
{
    tokens *t = make(key1, 10 * S);
    char a[TOKENS_MAX_LEN], sig[64];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const char *dot;

    (void)state;
    assert_int_equal(tokens_issue(t, "c-2", 1000 * S, a, sizeof(a)), 0);
    dot = strchr(a, '.');
    assert_non_null(HMAC(EVP_sha256(), key1, TOKENS_KEY_LEN, (const unsigned char *)a,
                         (size_t)(dot - a), md, &n));
    assert_int_equal(n, 32);
    assert_int_equal(b64url_encode(md, n, sig, sizeof(sig)), 43);
    assert_string_equal(dot + 1, sig);
    tokens_free(t);
}

/* Flipping any character, cutting, extending, swapping signatures between
 * tokens, or re-signing the payload of another client all fail. */
static void test_tamper(void **state)
{
    tokens *t = make(key1, 10 * S);
    char a[TOKENS_MAX_LEN], b[TOKENS_MAX_LEN], x[TOKENS_MAX_LEN + 4];
    handler_identity id = {0};
    uint64_t now = 1000 * S;
    size_t n;

    (void)state;
    assert_int_equal(tokens_issue(t, "c-1", now, a, sizeof(a)), 0);
    assert_int_equal(tokens_issue(t, "c-2", now, b, sizeof(b)), 0);
    n = strlen(a);
    for (size_t i = 0; i < n; i++) {
        memcpy(x, a, n + 1);
        x[i] = x[i] == 'A' ? 'B' : 'A';
        assert_int_equal(tokens_lookup(t, x, n, now, &id), -EACCES);
    }
    assert_int_equal(tokens_lookup(t, a, n - 1, now, &id), -EACCES);
    memcpy(x, a, n);
    x[n] = 'A';
    assert_int_equal(tokens_lookup(t, x, n + 1, now, &id), -EACCES);
    assert_int_equal(tokens_lookup(t, "", 0, now, &id), -EACCES);
    assert_int_equal(tokens_lookup(t, "abc.def", 7, now, &id), -EACCES);
    /* a's payload with b's signature */
    memcpy(x, a, (size_t)(strchr(a, '.') - a));
    strcpy(x + (strchr(a, '.') - a), strchr(b, '.'));
    assert_int_equal(tokens_lookup(t, x, strlen(x), now, &id), -EACCES);
    tokens_free(t);
}

/* Another key rejects; the same key (another gateway) accepts; a client the
 * other table lacks is rejected. */
static void test_keys(void **state)
{
    tokens *t1 = make(key1, 10 * S), *t2 = make(key2, 10 * S), *t3 = NULL, *r1 = NULL, *r2 = NULL;
    char a[TOKENS_MAX_LEN];
    handler_identity id = {0};
    uint64_t now = 1000 * S;

    (void)state;
    assert_int_equal(tokens_issue(t1, "c-1", now, a, sizeof(a)), 0);
    assert_int_equal(tokens_lookup(t2, a, strlen(a), now, &id), -EACCES);
    assert_int_equal(tokens_new(&t3, key1, 10 * S), 0);
    assert_int_equal(tokens_add_client(t3, "c-1", "other", "org-9", "u"), 0);
    assert_int_equal(tokens_lookup(t3, a, strlen(a), now, &id), 0);
    assert_string_equal(id.org, "org-9");
    assert_int_equal(tokens_issue(t1, "c-2", now, a, sizeof(a)), 0);
    assert_int_equal(tokens_lookup(t3, a, strlen(a), now, &id), -EACCES);
    /* Random keys differ between tables. */
    assert_int_equal(tokens_new(&r1, NULL, S), 0);
    assert_int_equal(tokens_new(&r2, NULL, S), 0);
    assert_int_equal(tokens_add_client(r1, "c", "s", "o", "u"), 0);
    assert_int_equal(tokens_add_client(r2, "c", "s", "o", "u"), 0);
    assert_int_equal(tokens_issue(r1, "c", now, a, sizeof(a)), 0);
    assert_int_equal(tokens_lookup(r1, a, strlen(a), now, &id), 0);
    assert_int_equal(tokens_lookup(r2, a, strlen(a), now, &id), -EACCES);
    tokens_free(t1);
    tokens_free(t2);
    tokens_free(t3);
    tokens_free(r1);
    tokens_free(r2);
}

/* The longest client id still makes a token that fits TOKENS_MAX_LEN. */
static void test_longest(void **state)
{
    tokens *t = NULL;
    char id[TOKENS_ID_MAX + 1], a[TOKENS_MAX_LEN];
    handler_identity out = {0};

    (void)state;
    memset(id, 'z', TOKENS_ID_MAX);
    id[TOKENS_ID_MAX] = '\0';
    assert_int_equal(tokens_new(&t, key1, UINT64_C(100) * 365 * 86400 * S), 0);
    assert_int_equal(tokens_add_client(t, id, "s", "o", "u"), 0);
    assert_int_equal(tokens_issue(t, id, 1767225600 * S, a, sizeof(a)), 0);
    assert_true(strlen(a) < TOKENS_MAX_LEN);
    assert_int_equal(tokens_lookup(t, a, strlen(a), 1767225600 * S, &out), 0);
    assert_string_equal(out.client, id);
    tokens_free(t);
}

static void test_b64(void **state)
{
    char out[64];
    unsigned char d[64];

    (void)state;
    assert_int_equal(b64url_encode("\xfb\xff", 2, out, sizeof(out)), 3);
    assert_string_equal(out, "-_8");
    assert_int_equal(b64url_encode("abc", 3, out, sizeof(out)), 4);
    assert_string_equal(out, "YWJj");
    assert_int_equal(b64url_encode("abc", 3, out, 4), -ENOBUFS);
    assert_int_equal(b64_decode("-_8", 3, true, d, sizeof(d)), 2);
    assert_memory_equal(d, "\xfb\xff", 2);
    assert_int_equal(b64_decode("+/8=", 4, false, d, sizeof(d)), 2);
    assert_memory_equal(d, "\xfb\xff", 2);
    assert_int_equal(b64_decode("+/8=", 4, true, d, sizeof(d)), -EINVAL);
    assert_int_equal(b64_decode("YWJj", 4, false, d, sizeof(d)), 3);
    assert_int_equal(b64_decode("YQ==", 4, false, d, sizeof(d)), 1);
    assert_int_equal(b64_decode("YQ", 2, false, d, sizeof(d)), 1);
    assert_int_equal(b64_decode("YR", 2, false, d, sizeof(d)), -EINVAL); /* unused bits */
    assert_int_equal(b64_decode("Y", 1, false, d, sizeof(d)), -EINVAL);
    assert_int_equal(b64_decode("YQ=", 3, false, d, sizeof(d)), -EINVAL);
    assert_int_equal(b64_decode("Y Q=", 4, false, d, sizeof(d)), -EINVAL);
    assert_int_equal(b64_decode("====", 4, false, d, sizeof(d)), -EINVAL);
    assert_int_equal(b64_decode("YWJj", 4, false, d, 2), -ENOBUFS);
    assert_int_equal(b64_decode("", 0, false, d, sizeof(d)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clients),      cmocka_unit_test(test_secret),
        cmocka_unit_test(test_issue_lookup), cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_tamper),       cmocka_unit_test(test_keys),
        cmocka_unit_test(test_longest),      cmocka_unit_test(test_b64),
        cmocka_unit_test(test_hmac_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
