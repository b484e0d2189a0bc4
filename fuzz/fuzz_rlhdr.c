/*
 * fuzz_rlhdr: rate-limit header reading (run/rlhdr, and through it run/sfv
 * and run/retry_after). The input is "name: value" lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "run/rlhdr.h"
#include "run/rlhdr_stats.h"

#define FUZZ_NOW_WALL 1767225600000000000ULL /* 2026-01-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    rlhdr_field f[32];
    size_t n = 0;
    rlhdr_info info;
    rlhdr_stats stats;

    while (p < end && n < 32) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *colon;

        if (eol == NULL)
            eol = end;
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL) {
            f[n].name = p;
            f[n].name_len = (size_t)(colon - p);
            f[n].value = colon + 1;
            f[n].value_len = (size_t)(eol - colon - 1);
            n++;
        }
        p = eol + (eol < end);
    }
    rlhdr_read(f, n, FUZZ_NOW_WALL, &info);
    rlhdr_stats_init(&stats);
    rlhdr_stats_add(&stats, &info, 1);
    return 0;
}
