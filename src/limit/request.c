#include "limit/request.h"

#include <string.h>
#include <strings.h>

bool request_array_header(void *ctx, const char *name, size_t name_len, limit_slice *value)
{
    const limit_header_array *a = ctx;

    for (size_t i = 0; i < a->n; i++) {
        if (a->names[i].n == name_len && strncasecmp(a->names[i].p, name, name_len) == 0) {
            *value = a->values[i];
            return true;
        }
    }
    return false;
}

bool request_header(const limit_request *r, const char *name, size_t name_len, limit_slice *value)
{
    if (r->header == NULL)
        return false;
    return r->header(r->header_ctx, name, name_len, value);
}

limit_slice request_slice(const char *s)
{
    limit_slice sl = {s, s == NULL ? 0 : strlen(s)};

    return sl;
}
