/*
 * kinds: the handler kinds a route may name (`handler: collection`): the
 * emulated platform's endpoints (serve/emulate.h) and the gateway's proxy.
 */
#ifndef TG_SERVE_KINDS_H
#define TG_SERVE_KINDS_H

#include "serve/handler.h"

/* The kind called `name`, or NULL. */
const handler_kind *kinds_find(const char *name);

/* The names of every kind, ended by NULL, for messages and hints. The first
 * call builds the list: make it before starting threads. */
const char *const *kinds_names(void);

#endif
