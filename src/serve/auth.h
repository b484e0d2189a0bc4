/*
 * auth: a bearer token to the caller's identity (client, org, user), through
 * the token table of the configuration (serve/tokens.h).
 */
#ifndef TG_SERVE_AUTH_H
#define TG_SERVE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "serve/gwconf.h"
#include "serve/handler.h"

/* Looks token[0..len) up at wall time wall_ns (epoch ns). Returns 0 and fills
 * *out (strings valid as long as the configuration, except out->token, which
 * is `token` itself) for a valid, unexpired token; -ENOENT otherwise. */
int auth_lookup(const gw_config *cfg, const char *token, size_t len, uint64_t wall_ns,
                handler_identity *out);

#endif
