/*
 * fuzz_url: parses the input as a URL and checks what url.h promises about
 * the pieces of an accepted URL and the message of a refused one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "", joined[URL_MAX * 2 + 2];
    char *s = malloc(size + 1);
    size_t plen;
    url u;
    int rc;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    rc = url_parse(&u, s, err, sizeof(err));
    if (rc < 0) {
        /* Refusals quote the URL; the parsed url is left zeroed. */
        if (err[0] != '"' || u.mem != NULL || u.host != NULL)
            __builtin_trap();
    } else {
        plen = strlen(u.path);
        if (u.host[0] == '\0' || u.path[0] != '/' || u.port == 0 ||
            strncmp(u.target, u.path, plen) != 0 || strstr(u.host_header, u.host) == NULL ||
            strchr(u.path, '?') != NULL || strchr(u.target, '#') != NULL ||
            (u.tls != (strcmp(u.scheme, "https") == 0)))
            __builtin_trap();
        if (u.query[0] != '\0' && strcmp(u.target + plen + 1, u.query) != 0)
            __builtin_trap();
        if (url_join_path(u.path, u.target, joined, sizeof(joined)) != 0)
            __builtin_trap();
        url_free(&u);
    }
    free(s);
    return 0;
}
