/* libFuzzer driver for feeder_parse: any bytes as a CSV file. */
#include <stddef.h>
#include <stdint.h>

#include "run/feeder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    feeder f;
    char err[256];

    if (feeder_parse(&f, "fuzz.csv", (const char *)data, size, err, sizeof(err)) == 0) {
        for (size_t r = 0; r < f.nrows; r++) {
            size_t len;
            const char *v = feeder_value(&f, r, f.ncols - 1, &len);

            if (v[len] != '\0')
                __builtin_trap();
        }
        (void)feeder_next_row(&f);
        feeder_free(&f);
    }
    return 0;
}
