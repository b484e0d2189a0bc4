/* libFuzzer target: the h1 request parser under arbitrary splits (see h1_driver.h). */
#include "h1_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_h1(H1_REQUEST, data, size);
}
