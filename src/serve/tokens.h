/*
 * tokens: the OAuth clients of the emulated platform, and the access tokens
 * POST /oauth/token issues to them.
 *
 * A token is signed, not stored:
 *
 *     base64url("EXPIRY:NONCE:CLIENT_ID") "." base64url(HMAC-SHA256(key, first part))
 *
 * with EXPIRY in epoch seconds and NONCE 16 hex digits from RAND_bytes, so
 * two tokens issued in the same second differ. Looking a token up checks the
 * signature (a constant-time comparison of the encoded MAC), then the client,
 * then the expiry: no table of issued tokens exists, nothing grows with the
 * number of tokens, and any gateway that holds the same key and clients
 * accepts a token another one issued. Several gateways sharing one Redis
 * budget therefore need no shared token state: give them one key.
 *
 * Client secrets are kept as SHA-256 digests and compared in constant time
 * (CRYPTO_memcmp over fixed-length digests, so neither the content nor the
 * length of a wrong secret shows in the timing).
 *
 * Thread safety: tokens_new and tokens_add_client set the table up on one
 * thread; afterwards every function is read-only and may be called from any
 * number of threads at once.
 */
#ifndef TG_SERVE_TOKENS_H
#define TG_SERVE_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "serve/handler.h"

#define TOKENS_KEY_LEN 32  /* bytes of the HMAC-SHA256 key */
#define TOKENS_ID_MAX  128 /* bytes of a client id */
#define TOKENS_MAX_LEN 288 /* bytes of a token, with its NUL; every token fits */

typedef struct tokens tokens;

/* Makes an empty client table that signs with `key` (TOKENS_KEY_LEN bytes,
 * copied), or with a fresh random key when key is NULL (tokens then die with
 * the process). Tokens live ttl_ns (> 0): a token issued at wall time w
 * expires at ceil((w + ttl_ns) / 1 s), so it lives at least ttl_ns and less
 * than one second more. Returns 0 and sets *out, -EINVAL for a zero ttl,
 * -ENOMEM, or -EIO when no random key can be drawn. */
int tokens_new(tokens **out, const uint8_t *key, uint64_t ttl_ns);

/* Replaces the signing key (TOKENS_KEY_LEN bytes, copied), e.g. with the key
 * every gateway sharing one Redis agreed on (sharedkey.h). Tokens signed with
 * the old key are no longer accepted. Not thread-safe: call it before sharing
 * the table. Returns 0 or -EIO. */
int tokens_set_key(tokens *t, const uint8_t *key);

/* Frees the table and wipes the key; NULL is accepted. Identities returned by
 * tokens_lookup become invalid. */
void tokens_free(tokens *t);

/* The lifetime given to tokens_new, in ns. */
uint64_t tokens_ttl_ns(const tokens *t);

/* The number of clients. */
size_t tokens_count(const tokens *t);

/* Adds a client. Every string is copied; org and user may be NULL (the
 * identity's org or user is then NULL). The id is 1 to TOKENS_ID_MAX bytes.
 * Returns 0, -EINVAL for a bad id, -EEXIST when the id is taken, or -ENOMEM.
 * Not thread-safe: add every client before sharing the table. */
int tokens_add_client(tokens *t, const char *id, const char *secret, const char *org,
                      const char *user);

/* Whether `secret` is the client's secret: 0, or -EACCES for a wrong secret
 * or an unknown client (the same work is done in both cases). */
int tokens_check_secret(const tokens *t, const char *id, const char *secret);

/* Issues a token for client `id` at wall time now_wall_ns (epoch ns) into
 * out, NUL-terminated. Returns 0, -EACCES for an unknown client, -ENOBUFS if
 * outlen is less than TOKENS_MAX_LEN, or -EIO when no nonce can be drawn. */
int tokens_issue(const tokens *t, const char *id, uint64_t now_wall_ns, char *out, size_t outlen);

/* Checks the `len` bytes of `token` (no NUL needed) at wall time now_wall_ns.
 * Returns 0 and fills *out, -EACCES for a token that is malformed, not signed
 * with this table's key, or names an unknown client, or -ETIMEDOUT for a
 * well-signed token past its expiry. On success out->client, out->org and
 * out->user point into the client's record (valid until tokens_free), and
 * out->token points at `token` itself: it is the caller's bytes, valid only
 * as long as they are, and not NUL-terminated (its length is `len`). *out is
 * untouched on failure. */
int tokens_lookup(const tokens *t, const char *token, size_t len, uint64_t now_wall_ns,
                  handler_identity *out);

/* The expiry (epoch seconds) written in a token issued at now_wall_ns. */
uint64_t tokens_expiry_s(const tokens *t, uint64_t now_wall_ns);

#endif
