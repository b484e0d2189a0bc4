/*
 * kinds: the table of handler kinds a route may name (`handler: proxy`): the
 * gateway's own (proxy, static) and the emulated platform's endpoints.
 */
#ifndef TG_SERVE_KINDS_H
#define TG_SERVE_KINDS_H

#include "serve/handler.h"

/* The kind called `name`, or NULL. */
const handler_kind *kinds_find(const char *name);

/* The names of every kind, ended by NULL, for messages and hints. */
const char *const *kinds_names(void);

#endif
