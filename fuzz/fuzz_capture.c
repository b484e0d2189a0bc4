/* libFuzzer driver for capture_init_json and capture_json: the input is a
 * path, a newline, and a JSON document. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t plen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
    char *path = strndup((const char *)data, plen);
    capture c;
    json_t *doc = NULL;
    buf b;
    char err[256];

    if (path == NULL)
        return 0;
    if (capture_init_json(&c, path, err, sizeof(err)) == 0) {
        if (nl != NULL)
            doc = json_loadb(nl + 1, size - plen - 1, JSON_DECODE_ANY, NULL);
        buf_init(&b, 1 << 20);
        (void)capture_json(&c, doc, &b, err, sizeof(err));
        buf_free(&b);
        json_decref(doc);
        capture_free(&c);
    }
    free(path);
    return 0;
}
