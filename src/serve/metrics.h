/*
 * metrics: the gateway's counters, rendered as Prometheus text for the admin
 * endpoint's GET /metrics.
 *
 * Each worker thread writes only its own slot (requests by route and status,
 * a latency histogram per route, requests throttled per limit, requests in
 * flight, open connections) with relaxed atomic stores and no locks, so
 * counting costs a few increments on the hot path; a scrape reads every slot
 * with relaxed atomic loads and sums them. Counters of different slots are
 * not read at one instant, which Prometheus counters tolerate.
 */
#ifndef TG_SERVE_METRICS_H
#define TG_SERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Histogram bucket bounds (ns), then +Inf. */
#define METRICS_NBOUNDS  15
#define METRICS_NBUCKETS (METRICS_NBOUNDS + 1)

/* Statuses counted by code; any other counts as its class ("4xx"). */
#define METRICS_NCODES  43
#define METRICS_NSTATUS (METRICS_NCODES + 5)

/* One worker's counters. Written only by that worker's thread. */
typedef struct metrics_worker {
    uint64_t *requests;   /* [(nroutes + 1) * METRICS_NSTATUS]; row nroutes: unmatched */
    uint64_t *latency;    /* [(nroutes + 1) * METRICS_NBUCKETS], per bucket (not cumulative) */
    uint64_t *latency_ns; /* [nroutes + 1], sums */
    uint64_t *throttled;  /* [nlimits] */
    int64_t inflight;
    int64_t conns;
    size_t nroutes;
} metrics_worker;

typedef struct metrics {
    unsigned nworkers;
    size_t nroutes;
    char **routes; /* labels, owned */
    size_t nlimits;
    char **limits; /* names, owned */
    metrics_worker *w;
} metrics;

/* Gauges the caller reads at scrape time. */
typedef struct metrics_gauges {
    uint64_t store_keys;
    uint64_t store_max_keys;
    int draining;
} metrics_gauges;

/* Makes counters for nworkers workers, the routes labelled routes[0..nroutes)
 * and the limits named limits[0..nlimits) (both copied). Returns 0 or
 * -ENOMEM; free with metrics_free. */
int metrics_new(metrics **out, unsigned nworkers, const char *const *routes, size_t nroutes,
                const char *const *limits, size_t nlimits);
void metrics_free(metrics *m);

/* Worker id's slot. */
metrics_worker *metrics_worker_of(metrics *m, unsigned id);

/* A response with `status` on route `route` (-1: no route matched), latency_ns
 * after the request was complete. Worker thread only. */
void metrics_request(metrics_worker *mw, int route, int status, uint64_t latency_ns);

/* A 429 that limit number `limit` (policy order) violated. */
void metrics_throttled(metrics_worker *mw, size_t limit);

/* Requests in flight and open connections go up or down by delta. */
void metrics_inflight(metrics_worker *mw, int delta);
void metrics_conns(metrics_worker *mw, int delta);

/* Appends the Prometheus text exposition (version 0.0.4) of every counter
 * summed over the workers, and the gauges. Series with a zero count are left
 * out, except the gauges. Returns 0 or a buf error. */
int metrics_render(const metrics *m, const metrics_gauges *g, buf *out);

#endif
