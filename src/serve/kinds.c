#include "serve/kinds.h"

#include <string.h>

#include "serve/emulate.h"
#include "serve/proxy.h"

#define KINDS_MAX 32

static const char *kinds_all[KINDS_MAX + 1];

const handler_kind *kinds_find(const char *name)
{
    if (strcmp(name, proxy_kind.name) == 0)
        return &proxy_kind;
    return emulate_kind_find(name);
}

const char *const *kinds_names(void)
{
    size_t n = 0;

    if (kinds_all[0] == NULL) {
        for (size_t i = 0; emulate_kinds[i] != NULL && n < KINDS_MAX - 1; i++)
            kinds_all[n++] = emulate_kinds[i]->name;
        kinds_all[n++] = proxy_kind.name;
        kinds_all[n] = NULL;
    }
    return kinds_all;
}
