/*
 * url: the http(s) URLs that plans and the gateway's upstream are written as,
 * parsed into the pieces a client needs to connect and send a request.
 *
 *   http(s)://host[:port][/path][?query]
 *
 * host may be a name, an IPv4 address or a bracketed IPv6 address
 * ("[::1]"). Only what a load generator or proxy can send is accepted; the
 * rest is refused with a message saying why: other schemes, credentials in
 * the URL (user@), fragments (never sent to a server), spaces and control
 * characters, ports outside 1..65535.
 *
 * Hand-written: the grammar is tiny, and every error must say what to change.
 * The URL parsers Debian ships (liburiparser, libcurl's curl_url) take the
 * whole RFC 3986 grammar and report a failure as an error code, not as what to
 * change; the refusals above would be written around them anyway, and neither
 * library is otherwise a dependency.
 */
#ifndef TG_CORE_URL_H
#define TG_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest URL accepted, in bytes. */
#define URL_MAX 8192

/* A parsed URL. Every string is NUL-terminated and lives in one allocation,
 * `mem`, owned by the struct and released by url_free. */
typedef struct url {
    const char *scheme; /* "http" or "https" (lower case, static storage) */
    bool tls;           /* true for https */
    bool ipv6;          /* host was written as a bracketed IPv6 address */
    uint16_t port;      /* as written, else 80 (http) or 443 (https) */
    const char *host;   /* what to resolve: "example.com", "10.0.0.1", "::1" (no brackets) */
    const char
        *host_header;   /* Host header value: host, brackets kept, ":port" only if not default */
    const char *path;   /* starts with '/'; "/" when the URL has none */
    const char *query;  /* after '?', without it; "" when absent */
    const char *target; /* request-target: path, plus "?query" when query is not empty */
    char *mem;          /* owns the strings above */
} url;

/* Parses `s` into *u. On success returns 0 and *u owns its strings until
 * url_free. On failure returns -EINVAL and writes a message naming the URL
 * and the fault into err (if errlen > 0), e.g.
 * `"ftp://x": unknown scheme 'ftp', expected http or https`, or -ENOMEM;
 * *u is then zeroed and needs no url_free (calling it is harmless). */
int url_parse(url *u, const char *s, char *err, size_t errlen);

/* Releases what url_parse allocated and zeroes *u. Safe on a zeroed url. */
void url_free(url *u);

/* Joins a base URL's path and a request path with one '/' between them, for
 * plans whose base URL has a path: ("/api/v2", "/users") and ("/api/v2/",
 * "users") both give "/api/v2/users". Only one '/' is dropped from each side
 * of the seam, so doubled slashes written by the user stay. An empty path
 * gives the base unchanged ("/" if the base is empty too); a base of "" or "/"
 * gives the path with a leading '/'. Any "?query" in `path` is kept as
 * written. Writes the NUL-terminated result into out and returns 0, or
 * -ENOSPC if it does not fit in outlen bytes (out is then "" if outlen > 0). */
int url_join_path(const char *base_path, const char *path, char *out, size_t outlen);

#endif
