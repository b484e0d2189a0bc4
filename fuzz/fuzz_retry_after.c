/*
 * fuzz_retry_after: Retry-After values (run/retry_after), with the wall
 * clock taken from the first 8 bytes so the RFC 850 year rule is exercised.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "run/retry_after.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t now = 1767225600000000000ULL, delay;
    int64_t when;

    if (size >= 8) {
        memcpy(&now, data, 8);
        data += 8;
        size -= 8;
    }
    retry_after_parse((const char *)data, size, now, &delay);
    retry_after_parse_date((const char *)data, size, now, &when);
    return 0;
}
