/* libFuzzer driver for threshold_parse and threshold_eval. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/threshold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr = strndup((const char *)data, size);
    threshold t;
    threshold_metrics m;
    char err[1024];

    if (expr == NULL)
        return 0;
    memset(&m, 0, sizeof(m));
    if (threshold_parse(&t, expr, err, sizeof(err)) == 0)
        (void)threshold_eval(&t, &m);
    free(expr);
    return 0;
}
