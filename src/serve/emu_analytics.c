/*
 * emu_analytics: the `analytics_query` kind (POST
 * /api/v2/analytics/conversations/details/query) and the `analytics_summary`
 * kind (GET .../details/summary), over the synthetic conversations of
 * emu_analytics.h. The summary's concurrency cap is a limit in the profile,
 * decided by the gateway before the handler runs.
 */
#include "serve/emu_analytics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/config_get.h"
#include "core/rng.h"
#include "serve/emu_form.h"
#include "serve/emu_time.h"
#include "serve/emulate.h"

#define EMU_HOUR_MS 3600000LL
#define EMU_DAY_MS  86400000LL
#define EMU_AGENTS  50 /* the agents conversations are spread over */
#define QUERY_PAGE  25 /* default pageSize */

int emu_convs_init(emu_convs *cv, const char *interval, size_t len)
{
    uint64_t hours, per_hour, total, span;

    if (len == 0 || len > EMU_INTERVAL_MAX ||
        emu_interval_parse(interval, len, &cv->start_ms, &cv->end_ms) < 0)
        return -EINVAL;
    cv->seed = XXH3_64bits(interval, len);
    span = (uint64_t)(cv->end_ms - cv->start_ms);
    hours = span / EMU_HOUR_MS + (span % EMU_HOUR_MS != 0);
    per_hour = 40 + cv->seed % 41;
    total = hours > EMU_CONVS_MAX ? EMU_CONVS_MAX : hours * per_hour;
    if (total > EMU_CONVS_MAX)
        total = EMU_CONVS_MAX;
    if (total > span)
        total = span;
    cv->total = total;
    return 0;
}

/* A UUID derived from two 64-bit values (deterministic, version 4 shape). */
static void emu_uuid_of(uint64_t a, uint64_t b, char out[EMU_UUID_LEN + 1])
{
    rng r;

    rng_seed(&r, XXH3_64bits_withSeed(&b, sizeof(b), a));
    emu_uuid(&r, out);
}

int emu_convs_append(const emu_convs *cv, uint64_t i, buf *b)
{
    static const char *const dirs[] = {"inbound", "inbound", "inbound", "outbound"};
    static const char *const media[] = {"voice", "voice", "chat", "email", "message"};
    char conv[EMU_UUID_LEN + 1], cust[EMU_UUID_LEN + 1], agentp[EMU_UUID_LEN + 1];
    char user[EMU_UUID_LEN + 1], queue[EMU_UUID_LEN + 1], start[EMU_TIME_LEN + 1],
        end[EMU_TIME_LEN + 1];
    uint64_t slot = (uint64_t)(cv->end_ms - cv->start_ms) / cv->total;
    int64_t t0, dur;
    const char *dir, *m;
    rng r;

    rng_seed(&r, cv->seed ^ ((i + 1) * 0x9e3779b97f4a7c15ULL));
    t0 = cv->start_ms + (int64_t)(i * slot + rng_below(&r, slot));
    dur = rng_range(&r, 30000, 1800000);
    dir = dirs[rng_below(&r, 4)];
    m = media[rng_below(&r, 5)];
    emu_time_format(t0, start);
    emu_time_format(t0 + dur, end);
    emu_uuid(&r, conv);
    emu_uuid(&r, cust);
    emu_uuid(&r, agentp);
    emu_uuid_of(1, rng_below(&r, EMU_AGENTS), user);
    emu_uuid_of(2, rng_below(&r, 4), queue);
    return buf_printf(b,
                      "{\"conversationId\":\"%s\",\"conversationStart\":\"%s\","
                      "\"conversationEnd\":\"%s\",\"originatingDirection\":\"%s\","
                      "\"participants\":[{\"participantId\":\"%s\",\"purpose\":\"customer\","
                      "\"sessions\":[{\"mediaType\":\"%s\",\"direction\":\"%s\"}]},"
                      "{\"participantId\":\"%s\",\"purpose\":\"agent\",\"userId\":\"%s\","
                      "\"sessions\":[{\"mediaType\":\"%s\",\"direction\":\"%s\","
                      "\"queueId\":\"%s\",\"metrics\":[{\"name\":\"tHandle\",\"value\":%" PRId64
                      "}]}]}]}",
                      conv, start, end, dir, cust, m, dir, agentp, user, m, dir, queue, dur);
}

int emu_convs_append_range(const emu_convs *cv, uint64_t first, uint64_t n, buf *b)
{
    int rc = 0;

    for (uint64_t i = 0; i < n && rc == 0; i++) {
        if (i > 0)
            rc = buf_append(b, ",", 1);
        if (rc == 0)
            rc = emu_convs_append(cv, first + i, b);
    }
    return rc;
}

typedef struct emu_query {
    int64_t max_page_size;
} emu_query;

static int query_init(void **state, const config_doc *doc, const config_node *options,
                      const handler_env *env, char *err, size_t errlen)
{
    static const char *const keys[] = {"max_page_size", NULL};
    emu_query *q;
    int64_t max = 100;
    int rc = config_check_keys(doc, options, keys, err, errlen);

    (void)env;
    if (rc == 0)
        rc = config_get_int(doc, options, "max_page_size", 1, 1000, &max, err, errlen);
    if (rc < 0)
        return rc;
    q = malloc(sizeof(*q));
    if (q == NULL)
        return -ENOMEM;
    q->max_page_size = max;
    *state = q;
    return 0;
}

/* Reads paging.<key> into *v: absent keeps it; else an integer in [1, max]. */
static int query_paging(const json_t *paging, const char *key, int64_t max, int64_t *v)
{
    const json_t *x = json_object_get(paging, key);

    if (x == NULL)
        return 0;
    if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > max)
        return -EINVAL;
    *v = json_integer_value(x);
    return 0;
}

static int query_handle(void *state, handler_req *req, handler_resp *resp)
{
    const emu_query *q = state;
    int64_t size = q->max_page_size < QUERY_PAGE ? q->max_page_size : QUERY_PAGE, number = 1;
    const json_t *interval, *paging;
    uint64_t first, n;
    emu_convs cv;
    json_t *body;
    int rc;

    if (!emu_method_is(req, "POST"))
        return emu_method_not_allowed(resp, req->method, "POST");
    if (emu_body_object(req, resp, &body) < 0)
        return HANDLER_DONE;
    interval = json_object_get(body, "interval");
    paging = json_object_get(body, "paging");
    if (!json_is_string(interval) ||
        emu_convs_init(&cv, json_string_value(interval), json_string_length(interval)) < 0) {
        json_decref(body);
        handler_error(resp, 400, "bad.request",
                      "interval is required: START/END in ISO 8601, e.g. "
                      "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z, with START before END");
        return HANDLER_DONE;
    }
    if ((paging != NULL && !json_is_object(paging)) ||
        query_paging(paging, "pageSize", q->max_page_size, &size) < 0 ||
        query_paging(paging, "pageNumber", 1000000000, &number) < 0) {
        json_decref(body);
        handler_error(resp, 400, "bad.request",
                      "paging: pageSize must be an integer from 1 to %" PRId64
                      ", pageNumber an integer from 1",
                      q->max_page_size);
        return HANDLER_DONE;
    }
    json_decref(body);
    first = (uint64_t)(number - 1) * (uint64_t)size;
    n = first < cv.total ? cv.total - first : 0;
    if (n > (uint64_t)size)
        n = (uint64_t)size;
    buf_reset(resp->body);
    rc = buf_append_str(resp->body, "{\"conversations\":[");
    if (rc == 0)
        rc = emu_convs_append_range(&cv, first, n, resp->body);
    if (rc == 0)
        rc = buf_printf(resp->body, "],\"totalHits\":%" PRIu64 "}", cv.total);
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "the page could not be built");
        return HANDLER_DONE;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

static int summary_init(void **state, const config_doc *doc, const config_node *options,
                        const handler_env *env, char *err, size_t errlen)
{
    static const char *const none[] = {NULL};
    static char dummy; /* no state; a non-NULL token so callers can tell init ran */

    (void)env;
    *state = &dummy;
    return config_check_keys(doc, options, none, err, errlen);
}

/* GET ...?interval=START/END (default: the current UTC day). The figures are
 * derived from the interval's hash, like the conversations. */
static int summary_handle(void *state, handler_req *req, handler_resp *resp)
{
    char interval[EMU_INTERVAL_MAX + 1], a[EMU_TIME_LEN + 1], b[EMU_TIME_LEN + 1];
    size_t len = 0;
    emu_convs cv;
    uint64_t h, inbound;
    int rc;

    (void)state;
    if (!emu_method_is(req, "GET"))
        return emu_method_not_allowed(resp, req->method, "GET");
    rc = emu_form_get(req->query != NULL ? req->query : "", req->query_len, "interval", interval,
                      sizeof(interval), &len);
    if (rc == 0) {
        int64_t day = (int64_t)(req->now_wall / 1000000) / EMU_DAY_MS * EMU_DAY_MS;

        emu_time_format(day, a);
        emu_time_format(day + EMU_DAY_MS, b);
        len = (size_t)snprintf(interval, sizeof(interval), "%s/%s", a, b);
    }
    if (rc < 0 || emu_convs_init(&cv, interval, len) < 0) {
        handler_error(resp, 400, "bad.request",
                      "interval: expected START/END in ISO 8601 with START before END");
        return HANDLER_DONE;
    }
    h = cv.seed;
    inbound = cv.total * (70 + h % 21) / 100;
    buf_reset(resp->body);
    rc = buf_printf(resp->body,
                    "{\"interval\":\"%s\",\"conversationCount\":%" PRIu64 ",\"inbound\":%" PRIu64
                    ",\"outbound\":%" PRIu64 ",\"averageHandleTimeMs\":%" PRIu64
                    ",\"averageWaitTimeMs\":%" PRIu64 ",\"abandonRate\":0.%03" PRIu64
                    ",\"serviceLevel\":0.%03" PRIu64 "}",
                    interval, cv.total, inbound, cv.total - inbound, 240000 + (h >> 8) % 360000,
                    5000 + (h >> 20) % 55000, 20 + (h >> 32) % 80, 700 + (h >> 40) % 250);
    if (rc < 0) {
        handler_error(resp, 500, "internal.server.error", "the summary could not be built");
        return HANDLER_DONE;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    return HANDLER_DONE;
}

static void summary_free(void *state)
{
    (void)state;
}

const handler_kind emu_query_kind = {
    .name = "analytics_query",
    .init = query_init,
    .handle = query_handle,
    .free = free,
};

const handler_kind emu_summary_kind = {
    .name = "analytics_summary",
    .init = summary_init,
    .handle = summary_handle,
    .free = summary_free,
};
