#include "serve/b64.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

int b64url_encode(const void *in, size_t n, char *out, size_t outlen)
{
    int len;

    if (outlen < B64_ENC_ROOM(n) || n > INT32_MAX / 2)
        return -ENOBUFS;
    len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return len;
}

/* The 6-bit value of c in the chosen alphabet, or -1. */
static int b64_value(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

int b64_decode(const char *in, size_t len, bool url, void *out, size_t outlen)
{
    unsigned char *o = out;
    size_t pad = 0, n = 0;
    uint32_t acc = 0;
    size_t bits = 0;

    if (len % 4 == 0 && len >= 2 && in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    len -= pad;
    if (len % 4 == 1 || len > INT32_MAX / 2)
        return -EINVAL;
    if (3 * (len / 4) + (len % 4 == 0 ? 0 : len % 4 - 1) > outlen)
        return -ENOBUFS;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(in[i], url);

        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* The bits left over must be zero, so every text has one decoding. */
    if (acc != 0)
        return -EINVAL;
    return (int)n;
}
