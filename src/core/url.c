/*
 * url: hand-written for the reasons given in url.h. One pass over the
 * string, checks first (length, bytes), then scheme, authority, path, query;
 * the pieces are copied into one allocation at the end.
 */
#include "core/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How much of the URL an error message quotes. */
#define URL_QUOTE_MAX 160
/* Longest host name (DNS allows 253) and Host header ("[" host "]:65535"). */
#define URL_HOST_MAX        255
#define URL_HOST_HEADER_MAX (URL_HOST_MAX + 9)

/* Writes `s` for a message: non-printable bytes as \xNN, cut at
 * URL_QUOTE_MAX bytes with "..." appended. */
static void url_quote(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    size_t i;

    for (i = 0; s[i] != '\0' && i < URL_QUOTE_MAX && o + 5 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (s[i] != '\0' && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int url_fail(char *err, size_t errlen, const char *s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int url_fail(char *err, size_t errlen, const char *s, const char *fmt, ...)
{
    char quoted[4 * URL_QUOTE_MAX + 8];
    char msg[512];
    va_list ap;

    if (err == NULL || errlen == 0)
        return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    url_quote(s, quoted, sizeof(quoted));
    snprintf(err, errlen, "\"%s\": %s", quoted, msg);
    return -EINVAL;
}

static bool url_is_scheme(const char *s, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && c != '+' && c != '-' && c != '.')
            return false;
    }
    return true;
}

/* Checks the bytes of the whole URL: no spaces, no control characters. */
static int url_check_bytes(const char *s, size_t len, char *err, size_t errlen)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ' ')
            return url_fail(err, errlen, s, "contains a space at offset %zu; encode it as %%20", i);
        if (c < 0x20 || c == 0x7f)
            return url_fail(err, errlen, s, "contains a control character (0x%02x) at offset %zu",
                            c, i);
    }
    return 0;
}

/* Parses the port digits in [p, end). */
static int url_port(const char *s, const char *p, const char *end, uint16_t *port, char *err,
                    size_t errlen)
{
    unsigned long v = 0;

    if (p == end)
        return url_fail(err, errlen, s, "empty port after ':', expected a number from 1 to 65535");
    for (const char *q = p; q < end; q++) {
        if (!isdigit((unsigned char)*q) || v > 65535)
            goto bad;
        v = v * 10 + (unsigned long)(*q - '0');
    }
    if (v == 0 || v > 65535)
        goto bad;
    *port = (uint16_t)v;
    return 0;
bad:
    return url_fail(err, errlen, s, "invalid port '%.*s', expected a number from 1 to 65535",
                    (int)(end - p), p);
}

/* Parses the authority [a, end) into host [*h, *h + *hlen) and the port. */
static int url_authority(url *u, const char *s, const char *a, const char *end, const char **h,
                         size_t *hlen, char *err, size_t errlen)
{
    const char *p;

    if (memchr(a, '@', (size_t)(end - a)) != NULL)
        return url_fail(err, errlen, s,
                        "credentials in the URL (user@host) are not supported; "
                        "send an Authorization header instead");
    if (*a == '[') {
        const char *close = memchr(a, ']', (size_t)(end - a));
        char addr[64];
        unsigned char bin[16];

        if (close == NULL)
            return url_fail(err, errlen, s, "missing ']' after IPv6 address");
        *h = a + 1;
        *hlen = (size_t)(close - a - 1);
        if (*hlen == 0)
            return url_fail(err, errlen, s, "empty host");
        if (*hlen >= sizeof(addr))
            return url_fail(err, errlen, s, "invalid IPv6 address '%.*s'", (int)*hlen, *h);
        memcpy(addr, *h, *hlen);
        addr[*hlen] = '\0';
        if (inet_pton(AF_INET6, addr, bin) != 1)
            return url_fail(err, errlen, s, "invalid IPv6 address '%s'", addr);
        u->ipv6 = true;
        p = close + 1;
        if (p < end && *p != ':')
            return url_fail(err, errlen, s, "unexpected '%c' after ']', expected ':PORT' or '/'",
                            *p);
    } else {
        p = memchr(a, ':', (size_t)(end - a));
        if (p == NULL)
            p = end;
        if (p < end && memchr(p + 1, ':', (size_t)(end - p - 1)) != NULL)
            return url_fail(err, errlen, s,
                            "IPv6 addresses must be in brackets, e.g. http://[::1]:8080/");
        *h = a;
        *hlen = (size_t)(p - a);
        if (*hlen == 0)
            return url_fail(err, errlen, s, "empty host");
        for (const char *q = a; q < p; q++) {
            unsigned char c = (unsigned char)*q;

            if (c >= 0x80)
                return url_fail(err, errlen, s,
                                "non-ASCII host; write it in its ASCII (xn--) form");
            if (!isalnum(c) && c != '-' && c != '.' && c != '_')
                return url_fail(err, errlen, s, "invalid character '%c' in host '%.*s'", c,
                                (int)*hlen, *h);
        }
    }
    if (*hlen > URL_HOST_MAX)
        return url_fail(err, errlen, s, "host longer than %d bytes", URL_HOST_MAX);
    if (p < end)
        return url_port(s, p + 1, end, &u->port, err, errlen);
    return 0;
}

/* Checks that every '%' in [p, p+n) starts a %XX escape. */
static int url_check_percent(const char *s, const char *p, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%')
            continue;
        if (i + 2 >= n || !isxdigit((unsigned char)p[i + 1]) || !isxdigit((unsigned char)p[i + 2]))
            return url_fail(err, errlen, s,
                            "invalid percent-encoding '%.*s' at offset %zu, expected %%XX "
                            "with two hex digits",
                            (int)(n - i < 3 ? n - i : 3), p + i, (size_t)(p + i - s));
    }
    return 0;
}

int url_parse(url *u, const char *s, char *err, size_t errlen)
{
    size_t len = strnlen(s, URL_MAX + 1);
    const char *sep, *auth, *auth_end, *rest, *frag, *q, *h = NULL;
    size_t hlen = 0, plen, qlen, hhlen, tlen;
    char hh[URL_HOST_HEADER_MAX];
    char *m;
    int rc;

    memset(u, 0, sizeof(*u));
    if (len > URL_MAX)
        return url_fail(err, errlen, s, "longer than %d bytes", URL_MAX);
    rc = url_check_bytes(s, len, err, errlen);
    if (rc < 0)
        return rc;
    sep = strstr(s, "://");
    if (sep == NULL || !url_is_scheme(s, (size_t)(sep - s)))
        return url_fail(err, errlen, s,
                        "missing scheme, expected http:// or https:// before the host");
    if ((size_t)(sep - s) == 4 && strncasecmp(s, "http", 4) == 0) {
        u->scheme = "http";
        u->port = 80;
    } else if ((size_t)(sep - s) == 5 && strncasecmp(s, "https", 5) == 0) {
        u->scheme = "https";
        u->tls = true;
        u->port = 443;
    } else {
        return url_fail(err, errlen, s, "unknown scheme '%.*s', expected http or https",
                        (int)(sep - s), s);
    }
    auth = sep + 3;
    auth_end = auth + strcspn(auth, "/?#");
    rc = url_authority(u, s, auth, auth_end, &h, &hlen, err, errlen);
    if (rc < 0)
        goto fail;
    rest = auth_end;
    frag = strchr(rest, '#');
    if (frag != NULL) {
        rc = url_fail(err, errlen, s, "fragments ('%s') are never sent to the server; remove them",
                      frag);
        goto fail;
    }
    q = strchr(rest, '?');
    plen = q != NULL ? (size_t)(q - rest) : strlen(rest);
    qlen = q != NULL ? strlen(q + 1) : 0;
    rc = url_check_percent(s, rest, strlen(rest), err, errlen);
    if (rc < 0)
        goto fail;

    /* Host header: brackets kept for IPv6, the port only if not the default. */
    hhlen = (size_t)snprintf(hh, sizeof(hh), "%s%.*s%s", u->ipv6 ? "[" : "", (int)hlen, h,
                             u->ipv6 ? "]" : "");
    if (u->port != (u->tls ? 443 : 80))
        hhlen += (size_t)snprintf(hh + hhlen, sizeof(hh) - hhlen, ":%u", u->port);
    tlen = (plen == 0 ? 1 : plen) + (qlen > 0 ? 1 + qlen : 0);

    /* One allocation: host, host_header, path, query, target. */
    m = malloc(hlen + 1 + hhlen + 1 + (plen == 0 ? 1 : plen) + 1 + qlen + 1 + tlen + 1);
    if (m == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    u->mem = m;
    u->host = m;
    memcpy(m, h, hlen);
    m[hlen] = '\0';
    m += hlen + 1;
    u->host_header = m;
    memcpy(m, hh, hhlen + 1);
    m += hhlen + 1;
    u->path = m;
    if (plen == 0) {
        memcpy(m, "/", 2);
        m += 2;
    } else {
        memcpy(m, rest, plen);
        m[plen] = '\0';
        m += plen + 1;
    }
    u->query = m;
    memcpy(m, q != NULL ? q + 1 : "", qlen);
    m[qlen] = '\0';
    m += qlen + 1;
    u->target = m;
    memcpy(m, u->path, tlen - (qlen > 0 ? 1 + qlen : 0));
    if (qlen > 0) {
        m[tlen - qlen - 1] = '?';
        memcpy(m + tlen - qlen, u->query, qlen);
    }
    m[tlen] = '\0';
    return 0;
fail:
    url_free(u);
    return rc;
}

void url_free(url *u)
{
    free(u->mem);
    memset(u, 0, sizeof(*u));
}

int url_join_path(const char *base_path, const char *path, char *out, size_t outlen)
{
    size_t blen = strlen(base_path);
    int n;

    if (*path == '\0') {
        n = snprintf(out, outlen, "%s", blen > 0 ? base_path : "/");
    } else {
        if (blen > 0 && base_path[blen - 1] == '/')
            blen--;
        if (*path == '/')
            path++;
        n = snprintf(out, outlen, "%.*s/%s", (int)blen, base_path, path);
    }
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen > 0)
            out[0] = '\0';
        return -ENOSPC;
    }
    return 0;
}
