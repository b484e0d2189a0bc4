/* libFuzzer target: the h1 response parser under arbitrary splits, with the
 * HEAD and CONNECT hints (see h1_driver.h). */
#include "h1_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_h1(H1_RESPONSE, data, size);
}
