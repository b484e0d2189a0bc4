/*
 * bench_h1: HTTP/1.1 parsing and serializing throughput.
 *
 *   - requests parsed per second and MB/s: a 400-byte API request with 9
 *     headers, parsed again and again on one keep-alive parser, the way the
 *     gateway reads pipelined requests from one connection;
 *   - responses parsed per second and MB/s: a 429 with rate-limit headers
 *     and a JSON body, as the load generator reads it;
 *   - responses serialized per second: status line, 4 headers, Content-Length
 *     and a JSON body into a reused buffer.
 *
 * The peer is http_parser itself with callbacks that only count: what h1 adds
 * on top (slices, limits, the strict check, stopping after each message) is
 * the ratio. Each figure is the median of 5 runs of a fixed number of
 * operations, timed with clock_now_ns.
 */
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/h1.h"
#include "core/h1_write.h"

#define RUNS      5
#define PARSE_OPS (1000u * 1000)
#define WRITE_OPS (2000u * 1000)
#define BATCH     16 /* messages per buffer, fed as a pipelined stream */

static const char request[] =
    "GET /api/v2/analytics/conversations/details/query?pageSize=100&pageNumber=3 HTTP/1.1\r\n"
    "Host: api.mypurecloud.example.com\r\n"
    "User-Agent: tollgate/0.1 (load test)\r\n"
    "Accept: application/json\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.dGVzdA\r\n"
    "X-Request-Id: 7f8e9d0c-1b2a-4c3d-9e8f-0a1b2c3d4e5f\r\n"
    "Cookie: session=abc123; theme=dark\r\n"
    "Content-Type: application/json\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

static const char response[] = "HTTP/1.1 429 Too Many Requests\r\n"
                               "Content-Type: application/json\r\n"
                               "Retry-After: 1\r\n"
                               "inin-ratelimit-count: 301\r\n"
                               "inin-ratelimit-allowed: 300\r\n"
                               "inin-ratelimit-reset: 42\r\n"
                               "Content-Length: 90\r\n"
                               "\r\n"
                               "{\"message\":\"Rate limit exceeded the "
                               "maximum\",\"code\":\"too.many.requests\",\"status\":429}"
                               "     ";

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp_double);
    return v[RUNS / 2];
}

/* A stream of BATCH copies of one message. */
static char *repeat(const char *msg, size_t *len)
{
    size_t n = strlen(msg), i;
    char *s = malloc(n * BATCH);

    if (s == NULL)
        abort();
    for (i = 0; i < BATCH; i++)
        memcpy(s + i * n, msg, n);
    *len = n * BATCH;
    return s;
}

static volatile uint64_t sink;

/* Parses PARSE_OPS messages with h1; returns seconds. */
static double run_h1(h1_kind kind, const char *stream, size_t len)
{
    uint64_t t0, t1, seen = 0;
    h1_parser p;
    size_t pos;
    ssize_t n;
    unsigned i;

    h1_parser_init(&p, kind, NULL);
    t0 = clock_now_ns();
    for (i = 0; i < PARSE_OPS / BATCH; i++) {
        for (pos = 0; pos < len; pos += (size_t)n) {
            n = h1_parser_feed(&p, stream + pos, len - pos);
            if (n <= 0 || h1_parser_message(&p) == NULL) {
                fprintf(stderr, "bench_h1: parse failed: %s\n", h1_strerror((int)n));
                exit(1);
            }
            seen += p.msg.n_headers + p.msg.body_len;
        }
    }
    t1 = clock_now_ns();
    sink = seen;
    h1_parser_free(&p);
    return (double)(t1 - t0) / 1e9;
}

static int peer_count(http_parser *hp, const char *at, size_t n)
{
    (void)at;
    *(uint64_t *)hp->data += n;
    return 0;
}

static int peer_done(http_parser *hp)
{
    (void)hp;
    return 0;
}

/* Parses PARSE_OPS messages with bare http_parser; returns seconds. */
static double run_peer(enum http_parser_type type, const char *stream, size_t len)
{
    http_parser_settings st;
    uint64_t t0, t1, seen = 0;
    http_parser hp;
    unsigned i;

    http_parser_settings_init(&st);
    st.on_url = peer_count;
    st.on_status = peer_count;
    st.on_header_field = peer_count;
    st.on_header_value = peer_count;
    st.on_body = peer_count;
    st.on_message_complete = peer_done;
    http_parser_init(&hp, type);
    hp.data = &seen;
    t0 = clock_now_ns();
    for (i = 0; i < PARSE_OPS / BATCH; i++) {
        if (http_parser_execute(&hp, &st, stream, len) != len) {
            fprintf(stderr, "bench_h1: http_parser failed\n");
            exit(1);
        }
    }
    t1 = clock_now_ns();
    sink = seen;
    return (double)(t1 - t0) / 1e9;
}

static double run_write(void)
{
    static const char body[] =
        "{\"message\":\"Rate limit exceeded\",\"code\":\"too.many.requests\",\"status\":429}";
    const h1_header hs[] = {
        {"Content-Type", 12, "application/json", 16},
        {"Retry-After", 11, "1", 1},
        {"RateLimit-Policy", 16, "\"default\";q=300;w=60", 20},
        {"RateLimit", 9, "\"default\";r=0;t=1", 17},
    };
    uint64_t t0, t1, bytes = 0;
    unsigned i;
    buf out;

    buf_init(&out, 0);
    t0 = clock_now_ns();
    for (i = 0; i < WRITE_OPS; i++) {
        buf_reset(&out);
        if (h1_write_response(&out, 429, hs, 4, body, sizeof(body) - 1, 0) != 0)
            exit(1);
        bytes += out.len;
    }
    t1 = clock_now_ns();
    sink = bytes;
    buf_free(&out);
    return (double)(t1 - t0) / 1e9;
}

static void report(const char *what, const char *msg, double *h1s, double *peers)
{
    double h1 = median(h1s), peer = median(peers);
    double per_s = PARSE_OPS / h1, peer_per_s = PARSE_OPS / peer;
    double mb = per_s * (double)strlen(msg) / 1e6;

    printf("h1 %s parse: %.0f %ss/s\n", what, per_s, what);
    printf("h1 %s parse: %.0f MB/s (%zu-byte %s)\n", what, mb, strlen(msg), what);
    printf("http_parser bare %s parse (peer): %.0f %ss/s\n", what, peer_per_s, what);
    printf("h1 / http_parser %s throughput: %.2f\n", what, per_s / peer_per_s);
}

int main(void)
{
    double h1s[RUNS], peers[RUNS], writes[RUNS];
    size_t req_len, res_len;
    char *req = repeat(request, &req_len), *res = repeat(response, &res_len);
    int r;

    for (r = 0; r < RUNS; r++) {
        h1s[r] = run_h1(H1_REQUEST, req, req_len);
        peers[r] = run_peer(HTTP_REQUEST, req, req_len);
    }
    report("request", request, h1s, peers);
    for (r = 0; r < RUNS; r++) {
        h1s[r] = run_h1(H1_RESPONSE, res, res_len);
        peers[r] = run_peer(HTTP_RESPONSE, res, res_len);
    }
    report("response", response, h1s, peers);
    for (r = 0; r < RUNS; r++)
        writes[r] = run_write();
    printf("h1 response serialize: %.0f responses/s\n", WRITE_OPS / median(writes));
    free(req);
    free(res);
    return 0;
}
