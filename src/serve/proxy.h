/*
 * proxy: the `proxy` handler kind -- forwards admitted requests to the
 * configured upstream and relays its answers.
 *
 * Each worker keeps its own pool of keep-alive connections to the upstream
 * (at most upstream.max_connections over all workers, split evenly), so a
 * request costs no connect once the pool is warm; requests beyond the pool
 * wait in order. The request goes out as parsed and checked by h1 (framing
 * that could be read two ways never gets here), with its hop-by-hop headers
 * dropped, Host set to the upstream's, X-Forwarded-For extended with the
 * peer's address and X-Forwarded-Proto added; the body is sent with a
 * Content-Length. The response is read whole, its body bounded by
 * PROXY_MAX_RESPONSE bytes, and relayed with its status, headers and body.
 *
 * Failures: an upstream that refuses or breaks the connection gives 502 JSON,
 * one that does not answer within upstream.timeout (or connect within
 * connect_timeout) gives 504 JSON. A request that met a dead keep-alive
 * connection before any response byte is sent again on a new connection only
 * if its method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE);
 * POST and PATCH are never sent twice.
 *
 * Options of a route (all optional; the top-level `upstream` mapping gives
 * the defaults): the same keys as `upstream` (url, connect_timeout, timeout,
 * max_connections).
 */
#ifndef TG_SERVE_PROXY_H
#define TG_SERVE_PROXY_H

#include <stddef.h>

#include "core/config.h"
#include "serve/handler.h"

#define PROXY_MAX_RESPONSE (16u << 20) /* bytes of response body relayed */

extern const handler_kind proxy_kind;

/* Checks the top-level `upstream` mapping (NULL: absent, accepted). Returns 0
 * or -EINVAL with `FILE:LINE:COL: ...`. */
int proxy_upstream_check(const config_doc *doc, const config_node *upstream, char *err,
                         size_t errlen);

#endif
