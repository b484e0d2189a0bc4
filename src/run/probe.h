/*
 * probe: the reachability check `tollgate run` makes before any load: one
 * connection to every target of the plan (TCP, and TLS with the run's
 * certificate verification), so that a wrong port, a down server or an
 * untrusted certificate is one precise message instead of a run full of
 * network errors.
 */
#ifndef TG_RUN_PROBE_H
#define TG_RUN_PROBE_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/tls.h"
#include "run/plan.h"

/* Connects once to each of p's targets at addrs[i] (resolved), with `tls`
 * (a client context, used for https targets) within the plan's connect
 * timeout, at most 5 s, and closes again. Returns 0, or a negative error
 * with one line in err naming the target and the reason, e.g.
 * `cannot connect to http://127.0.0.1:9: connection refused` or `cannot
 * connect to https://127.0.0.1:8443: TLS certificate verification failed:
 * self-signed certificate (...)`. */
int probe_targets(const plan *p, const struct sockaddr_storage *addrs, tls_ctx *tls, char *err,
                  size_t errlen);

#endif
