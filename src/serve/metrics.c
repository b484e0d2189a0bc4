#include "serve/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const int metrics_codes[METRICS_NCODES] = {
    100, 101, 200, 201, 202, 203, 204, 206, 301, 302, 303, 304, 307, 308, 400,
    401, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
    422, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505};

/* Bucket bounds, ns: 100us .. 10s. */
static const uint64_t metrics_bounds[METRICS_NBOUNDS] = {
    100000ULL,    500000ULL,     1000000ULL,    2500000ULL,    5000000ULL,
    10000000ULL,  25000000ULL,   50000000ULL,   100000000ULL,  250000000ULL,
    500000000ULL, 1000000000ULL, 2500000000ULL, 5000000000ULL, 10000000000ULL};
static const char *const metrics_bound_text[METRICS_NBOUNDS] = {
    "0.0001", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",   "0.5",   "1",      "2.5",   "5",    "10"};

/* The slot of a status: its code's, or its class's. */
static size_t metrics_status_slot(int status)
{
    size_t lo = 0, hi = METRICS_NCODES;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (metrics_codes[mid] < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < METRICS_NCODES && metrics_codes[lo] == status)
        return lo;
    if (status < 100 || status > 599)
        status = 500;
    return METRICS_NCODES + (size_t)(status / 100 - 1);
}

static inline void metrics_add(uint64_t *c, uint64_t v)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t metrics_get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static char **metrics_copy(const char *const *names, size_t n)
{
    char **out = calloc(n + 1, sizeof(*out));

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(names[i]);
        if (out[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void metrics_strings_free(char **s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

int metrics_new(metrics **out, unsigned nworkers, const char *const *routes, size_t nroutes,
                const char *const *limits, size_t nlimits)
{
    metrics *m = calloc(1, sizeof(*m));

    *out = NULL;
    if (m == NULL)
        return -ENOMEM;
    m->nworkers = nworkers;
    m->nroutes = nroutes;
    m->nlimits = nlimits;
    m->routes = metrics_copy(routes, nroutes);
    m->limits = metrics_copy(limits, nlimits);
    m->w = calloc(nworkers, sizeof(*m->w));
    if (m->routes == NULL || m->limits == NULL || m->w == NULL)
        goto err;
    for (unsigned i = 0; i < nworkers; i++) {
        metrics_worker *w = &m->w[i];

        w->nroutes = nroutes;
        w->requests = calloc((nroutes + 1) * METRICS_NSTATUS, sizeof(uint64_t));
        w->latency = calloc((nroutes + 1) * METRICS_NBUCKETS, sizeof(uint64_t));
        w->latency_ns = calloc(nroutes + 1, sizeof(uint64_t));
        w->throttled = calloc(nlimits + 1, sizeof(uint64_t));
        if (w->requests == NULL || w->latency == NULL || w->latency_ns == NULL ||
            w->throttled == NULL)
            goto err;
    }
    *out = m;
    return 0;
err:
    metrics_free(m);
    return -ENOMEM;
}

void metrics_free(metrics *m)
{
    if (m == NULL)
        return;
    for (unsigned i = 0; m->w != NULL && i < m->nworkers; i++) {
        free(m->w[i].requests);
        free(m->w[i].latency);
        free(m->w[i].latency_ns);
        free(m->w[i].throttled);
    }
    free(m->w);
    metrics_strings_free(m->routes, m->nroutes);
    metrics_strings_free(m->limits, m->nlimits);
    free(m);
}

metrics_worker *metrics_worker_of(metrics *m, unsigned id)
{
    return &m->w[id];
}

void metrics_request(metrics_worker *mw, int route, int status, uint64_t latency_ns)
{
    size_t r = route < 0 || (size_t)route >= mw->nroutes ? mw->nroutes : (size_t)route;
    size_t b = 0;

    while (b < METRICS_NBOUNDS && latency_ns > metrics_bounds[b])
        b++;
    metrics_add(&mw->requests[r * METRICS_NSTATUS + metrics_status_slot(status)], 1);
    metrics_add(&mw->latency[r * METRICS_NBUCKETS + b], 1);
    metrics_add(&mw->latency_ns[r], latency_ns);
}

void metrics_throttled(metrics_worker *mw, size_t limit)
{
    metrics_add(&mw->throttled[limit], 1);
}

void metrics_inflight(metrics_worker *mw, int delta)
{
    __atomic_store_n(&mw->inflight, __atomic_load_n(&mw->inflight, __ATOMIC_RELAXED) + delta,
                     __ATOMIC_RELAXED);
}

void metrics_conns(metrics_worker *mw, int delta)
{
    __atomic_store_n(&mw->conns, __atomic_load_n(&mw->conns, __ATOMIC_RELAXED) + delta,
                     __ATOMIC_RELAXED);
}

/* A label value with \, " and newlines escaped. */
static int metrics_label(buf *out, const char *s)
{
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++) {
        if (*s == '\\')
            rc = buf_append(out, "\\\\", 2);
        else if (*s == '"')
            rc = buf_append(out, "\\\"", 2);
        else if (*s == '\n')
            rc = buf_append(out, "\\n", 2);
        else
            rc = buf_append(out, s, 1);
    }
    return rc;
}

static int metrics_head(buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *metrics_route(const metrics *m, size_t r)
{
    return r < m->nroutes ? m->routes[r] : "(none)";
}

static int metrics_requests(const metrics *m, buf *out)
{
    int rc = metrics_head(out, "tollgate_requests_total", "counter",
                          "Responses sent, by route (pattern as configured) and status.");

    for (size_t r = 0; r <= m->nroutes && rc == 0; r++) {
        for (size_t s = 0; s < METRICS_NSTATUS && rc == 0; s++) {
            uint64_t sum = 0;

            for (unsigned w = 0; w < m->nworkers; w++)
                sum += metrics_get(&m->w[w].requests[r * METRICS_NSTATUS + s]);
            if (sum == 0)
                continue;
            rc = buf_append_str(out, "tollgate_requests_total{route=\"");
            if (rc == 0)
                rc = metrics_label(out, metrics_route(m, r));
            if (rc == 0 && s < METRICS_NCODES)
                rc = buf_printf(out, "\",status=\"%d\"} %" PRIu64 "\n", metrics_codes[s], sum);
            else if (rc == 0)
                rc = buf_printf(out, "\",status=\"%zuxx\"} %" PRIu64 "\n", s - METRICS_NCODES + 1,
                                sum);
        }
    }
    return rc;
}

static int metrics_latency(const metrics *m, buf *out)
{
    int rc = metrics_head(out, "tollgate_request_duration_seconds", "histogram",
                          "Time from a complete request to its response, by route.");

    for (size_t r = 0; r <= m->nroutes && rc == 0; r++) {
        uint64_t counts[METRICS_NBUCKETS] = {0}, total = 0, ns = 0, cum = 0;

        for (unsigned w = 0; w < m->nworkers; w++) {
            for (size_t b = 0; b < METRICS_NBUCKETS; b++)
                counts[b] += metrics_get(&m->w[w].latency[r * METRICS_NBUCKETS + b]);
            ns += metrics_get(&m->w[w].latency_ns[r]);
        }
        for (size_t b = 0; b < METRICS_NBUCKETS; b++)
            total += counts[b];
        if (total == 0)
            continue;
        for (size_t b = 0; b < METRICS_NBUCKETS && rc == 0; b++) {
            cum += counts[b];
            rc = buf_append_str(out, "tollgate_request_duration_seconds_bucket{route=\"");
            if (rc == 0)
                rc = metrics_label(out, metrics_route(m, r));
            if (rc == 0)
                rc = buf_printf(out, "\",le=\"%s\"} %" PRIu64 "\n",
                                b < METRICS_NBOUNDS ? metrics_bound_text[b] : "+Inf", cum);
        }
        if (rc == 0)
            rc = buf_append_str(out, "tollgate_request_duration_seconds_sum{route=\"");
        if (rc == 0)
            rc = metrics_label(out, metrics_route(m, r));
        if (rc == 0)
            rc = buf_printf(out, "\"} %" PRIu64 ".%09" PRIu64 "\n", ns / UINT64_C(1000000000),
                            ns % UINT64_C(1000000000));
        if (rc == 0)
            rc = buf_append_str(out, "tollgate_request_duration_seconds_count{route=\"");
        if (rc == 0)
            rc = metrics_label(out, metrics_route(m, r));
        if (rc == 0)
            rc = buf_printf(out, "\"} %" PRIu64 "\n", total);
    }
    return rc;
}

static int metrics_throttles(const metrics *m, buf *out)
{
    int rc = metrics_head(out, "tollgate_throttled_total", "counter",
                          "Requests rejected with 429, by violated limit.");

    for (size_t l = 0; l < m->nlimits && rc == 0; l++) {
        uint64_t sum = 0;

        for (unsigned w = 0; w < m->nworkers; w++)
            sum += metrics_get(&m->w[w].throttled[l]);
        if (sum == 0)
            continue;
        rc = buf_append_str(out, "tollgate_throttled_total{limit=\"");
        if (rc == 0)
            rc = metrics_label(out, m->limits[l]);
        if (rc == 0)
            rc = buf_printf(out, "\"} %" PRIu64 "\n", sum);
    }
    return rc;
}

int metrics_render(const metrics *m, const metrics_gauges *g, buf *out)
{
    int64_t inflight = 0, conns = 0;
    int rc;

    for (unsigned w = 0; w < m->nworkers; w++) {
        inflight += __atomic_load_n(&m->w[w].inflight, __ATOMIC_RELAXED);
        conns += __atomic_load_n(&m->w[w].conns, __ATOMIC_RELAXED);
    }
    rc = metrics_requests(m, out);
    if (rc == 0)
        rc = metrics_throttles(m, out);
    if (rc == 0)
        rc = metrics_latency(m, out);
    if (rc == 0)
        rc = metrics_head(out, "tollgate_in_flight_requests", "gauge",
                          "Requests received and not answered yet.");
    if (rc == 0)
        rc = buf_printf(out, "tollgate_in_flight_requests %" PRId64 "\n", inflight);
    if (rc == 0)
        rc = metrics_head(out, "tollgate_open_connections", "gauge", "Client connections open.");
    if (rc == 0)
        rc = buf_printf(out, "tollgate_open_connections %" PRId64 "\n", conns);
    if (rc == 0)
        rc = metrics_head(out, "tollgate_limit_keys", "gauge", "Keys held by the limit store.");
    if (rc == 0)
        rc = buf_printf(out, "tollgate_limit_keys %" PRIu64 "\n", g->store_keys);
    if (rc == 0)
        rc = metrics_head(out, "tollgate_limit_keys_max", "gauge",
                          "Most keys the limit store holds.");
    if (rc == 0)
        rc = buf_printf(out, "tollgate_limit_keys_max %" PRIu64 "\n", g->store_max_keys);
    if (rc == 0)
        rc = metrics_head(out, "tollgate_draining", "gauge",
                          "1 while shutting down (finishing in-flight requests).");
    if (rc == 0)
        rc = buf_printf(out, "tollgate_draining %d\n", g->draining ? 1 : 0);
    return rc;
}
