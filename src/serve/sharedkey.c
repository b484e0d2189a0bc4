#include "serve/sharedkey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

static int sharedkey_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sharedkey_get(const redisstore_opts *o, const char *name, uint8_t *key, size_t len,
                  uint64_t timeout_ns, char *err, size_t errlen)
{
    struct timeval tv = {(time_t)(timeout_ns / 1000000000ULL),
                         (suseconds_t)(timeout_ns % 1000000000ULL / 1000)};
    uint8_t fresh[64];
    char hex[129];
    redisContext *c;
    redisReply *r = NULL;
    int rc = -EPROTO;

    if (len == 0 || len > sizeof(fresh))
        return -EINVAL;
    c = redisConnectWithTimeout(o->host, o->port, tv);
    if (c == NULL || c->err != 0) {
        snprintf(err, errlen, "%s:%d: %s", o->host, o->port, c != NULL ? c->errstr : "no memory");
        rc = c != NULL && c->err == REDIS_ERR_IO && errno == EINPROGRESS ? -ETIMEDOUT
                                                                         : -ECONNREFUSED;
        goto out;
    }
    redisSetTimeout(c, tv);
    if (o->db != 0) {
        r = redisCommand(c, "SELECT %d", o->db);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            goto proto;
        freeReplyObject(r);
    }
    if (RAND_bytes(fresh, (int)len) != 1) {
        snprintf(err, errlen, "no random bytes");
        rc = -EIO;
        goto out;
    }
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
    OPENSSL_cleanse(fresh, sizeof(fresh));
    r = redisCommand(c, "SET %s %s NX", name, hex);
    OPENSSL_cleanse(hex, sizeof(hex));
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        goto proto;
    freeReplyObject(r);
    r = redisCommand(c, "GET %s", name);
    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 2 * len)
        goto proto;
    for (size_t i = 0; i < len; i++) {
        int hi = sharedkey_hexval(r->str[2 * i]), lo = sharedkey_hexval(r->str[2 * i + 1]);

        if (hi < 0 || lo < 0)
            goto proto;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    rc = 0;
    goto out;
proto:
    snprintf(err, errlen, "%s:%d: %s: %s", o->host, o->port, name,
             r == NULL                      ? (c->errstr[0] != '\0' ? c->errstr : "no answer")
             : r->type == REDIS_REPLY_ERROR ? r->str
                                            : "not a key this gateway wrote");
    rc = r == NULL && c->err == REDIS_ERR_IO ? -ETIMEDOUT : -EPROTO;
out:
    if (r != NULL) {
        if (r->type == REDIS_REPLY_STRING)
            OPENSSL_cleanse(r->str, r->len);
        freeReplyObject(r);
    }
    if (c != NULL)
        redisFree(c);
    return rc;
}
