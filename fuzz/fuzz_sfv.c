/*
 * fuzz_sfv: the Structured Field Values list reader (run/sfv).
 */
#include <stddef.h>
#include <stdint.h>

#include "run/sfv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_sfv_item(const sfv_item *item, void *ctx)
{
    size_t *total = ctx;

    /* Touch every slice so that an out-of-range one is caught. */
    for (size_t i = 0; i < item->value.text_len; i++)
        *total += (unsigned char)item->value.text[i];
    for (size_t k = 0; k < item->nparams; k++) {
        const sfv_param *p = &item->params[k];
        for (size_t i = 0; i < p->key_len; i++)
            *total += (unsigned char)p->key[i];
        for (size_t i = 0; i < p->value.text_len; i++)
            *total += (unsigned char)p->value.text[i];
    }
    (void)sfv_item_param(item, "r");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t total = 0;

    sfv_parse_list((const char *)data, size, fuzz_sfv_item, &total);
    return 0;
}
