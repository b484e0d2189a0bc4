/* libFuzzer driver for tmpl_compile and tmpl_render: any bytes as a template,
 * rendered with a lookup that knows one variable. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "run/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_lookup(void *ctx, const char *name, size_t len, const char **value,
                       size_t *value_len)
{
    (void)ctx;
    if (len == 2 && memcmp(name, "id", 2) == 0) {
        *value = "42";
        *value_len = 2;
        return 0;
    }
    return -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tmpl t;
    rng r;
    buf b;
    tmpl_ctx ctx = {
        .rng = &r, .iteration = 1, .vu = 2, .now_ms = 3, .lookup = fuzz_lookup, .step = "fuzz"};
    char err[256];

    if (tmpl_compile(&t, (const char *)data, size, err, sizeof(err)) != 0)
        return 0;
    rng_seed(&r, 1);
    buf_init(&b, 1 << 20);
    (void)tmpl_render(&t, &ctx, &b, err, sizeof(err));
    for (size_t i = 0; i < tmpl_var_count(&t); i++) {
        size_t len;

        if (tmpl_var(&t, i, &len) == NULL)
            __builtin_trap();
    }
    buf_free(&b);
    tmpl_free(&t);
    return 0;
}
