/*
 * fuzz_pattern: path patterns and the keys built from their captures.
 *
 * Input: a pattern, a newline, then a request path (the part a client
 * controls). Every valid pattern is matched against the path; on a match the
 * key of a limit scoped by every capture is built, which must fit
 * SCOPE_KEY_MAX and be the same twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limit/pattern.h"
#include "limit/scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl != NULL ? (size_t)(nl - data) : size;
    char *src = malloc(plen + 1), err[256];
    limit_pattern pt;
    limit_slice path, caps[PATTERN_MAX_CAPTURES];

    if (src == NULL)
        return 0;
    memcpy(src, data, plen);
    src[plen] = '\0';
    if (pattern_init(&pt, src, err, sizeof(err)) == 0) {
        path.p = nl != NULL ? (const char *)nl + 1 : "";
        path.n = nl != NULL ? size - plen - 1 : 0;
        if (pattern_match(&pt, path, caps)) {
            const char *items[PATTERN_MAX_CAPTURES];
            char names[PATTERN_MAX_CAPTURES][80];
            limit_scope sc;
            limit_request r;
            char k1[SCOPE_KEY_MAX], k2[SCOPE_KEY_MAX];
            size_t n = pt.ncaptures < SCOPE_MAX_PARTS ? pt.ncaptures : SCOPE_MAX_PARTS;

            for (size_t i = 0; i < n; i++) {
                size_t len;
                const char *name = pattern_capture_name(&pt, i, &len);

                memcpy(names[i], "path:", 5);
                memcpy(names[i] + 5, name, len < 70 ? len : 70);
                names[i][5 + (len < 70 ? len : 70)] = '\0';
                items[i] = names[i];
            }
            memset(&r, 0, sizeof(r));
            if (scope_init(&sc, items, n, &pt, err, sizeof(err)) == 0) {
                size_t l1 = scope_key(&sc, "fuzz", 4, &r, caps, k1);
                size_t l2 = scope_key(&sc, "fuzz", 4, &r, caps, k2);

                if (l1 > SCOPE_KEY_MAX || l1 != l2 || memcmp(k1, k2, l1) != 0)
                    abort();
                scope_free(&sc);
            }
        }
        pattern_free(&pt);
    }
    free(src);
    return 0;
}
