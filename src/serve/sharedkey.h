/*
 * sharedkey: a secret every gateway using one Redis agrees on, for signing
 * tokens so that a token issued by any of them is accepted by all.
 *
 * The first gateway to start stores a fresh random key with SET NX; every
 * gateway (that one included) then reads whichever key won with GET. The key
 * lives in Redis without expiry, so gateways started later, or restarted,
 * sign with the same key, and tokens survive gateway restarts. Whoever can
 * read that Redis key can forge tokens: protect the Redis as you would the
 * key itself, or set `tokens.key` in every gateway's configuration instead
 * (then nothing is read from Redis). Blocking, at startup only.
 */
#ifndef TG_SERVE_SHAREDKEY_H
#define TG_SERVE_SHAREDKEY_H

#include <stddef.h>
#include <stdint.h>

#include "limit/redisstore.h"

#define SHAREDKEY_TOKENS "tg:tokens:key"

/* Agrees on `len` (<= 64) random bytes under Redis key `name` at o (host,
 * port, db) within timeout_ns, into key. Returns 0, or a negative errno with
 * a message: -ECONNREFUSED / -ETIMEDOUT (Redis not reachable), -EPROTO (an
 * error reply, or a stored value that is not 2 * len hex digits), -EIO (no
 * random bytes). */
int sharedkey_get(const redisstore_opts *o, const char *name, uint8_t *key, size_t len,
                  uint64_t timeout_ns, char *err, size_t errlen);

#endif
