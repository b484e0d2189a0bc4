#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1.h"
#include "core/h1_write.h"

/* ---- helpers ------------------------------------------------------------------ */

static void dump_slice(buf *out, const char *label, const char *s, size_t n)
{
    assert_int_equal(buf_printf(out, " %s=[%.*s]", label, (int)n, s != NULL ? s : ""), 0);
}

/* A canonical text of everything a message exposes, to compare parses. */
static void dump_msg(buf *out, const h1_msg *m)
{
    size_t i;

    assert_int_equal(buf_printf(out, "MSG method=%s(%d) v=%d.%d status=%d", m->method_name,
                                (int)m->method, m->version_major, m->version_minor, m->status),
                     0);
    dump_slice(out, "target", m->target, m->target_len);
    dump_slice(out, "path", m->path, m->path_len);
    if (m->query != NULL)
        dump_slice(out, "query", m->query, m->query_len);
    dump_slice(out, "reason", m->reason, m->reason_len);
    for (i = 0; i < m->n_headers + m->n_trailers; i++) {
        dump_slice(out, i < m->n_headers ? "h" : "t", m->headers[i].name, m->headers[i].name_len);
        dump_slice(out, "=", m->headers[i].value, m->headers[i].value_len);
    }
    assert_int_equal(buf_printf(out, " body(%llu)", (unsigned long long)m->body_len), 0);
    dump_slice(out, "", m->body.len > 0 ? buf_ptr(&m->body) : "", m->body.len);
    assert_int_equal(
        buf_printf(out, " ka=%d chunked=%d upgrade=%d\n", m->keep_alive, m->chunked, m->upgrade),
        0);
}

/* Parses data[0..len) fed in pieces: piece k ends at cuts[k] (increasing),
 * the last one at len. Every feed gets a fresh heap copy of the bytes not yet
 * consumed, which is scribbled over and freed once the messages it completed
 * are dumped, as a caller that reuses its read buffer would. With `keep`,
 * h1_parser_keep() runs before the scribbling and the dump. With `eof`,
 * h1_parser_finish() runs at the end. Writes the dumps and any error. */
static void parse_split(h1_kind kind, const h1_config *cfg, const char *data, size_t len,
                        const size_t *cuts, size_t ncuts, bool keep, bool eof, buf *out)
{
    h1_parser p;
    size_t pos = 0, end, k;
    ssize_t n;
    int rc;

    h1_parser_init(&p, kind, cfg);
    for (k = 0; k <= ncuts; k++) {
        end = k < ncuts ? cuts[k] : len;
        while (pos < end) {
            size_t avail = end - pos;
            char *copy = malloc(avail);

            assert_non_null(copy);
            memcpy(copy, data + pos, avail);
            n = h1_parser_feed(&p, copy, avail);
            if (n < 0) {
                free(copy);
                assert_int_equal(buf_printf(out, "ERR %d\n", (int)n), 0);
                h1_parser_free(&p);
                return;
            }
            assert_true((size_t)n <= avail);
            pos += (size_t)n;
            if (h1_parser_message(&p) != NULL) {
                if (keep) {
                    assert_int_equal(h1_parser_keep(&p), 0);
                    memset(copy, '#', avail);
                }
                dump_msg(out, h1_parser_message(&p));
            } else {
                assert_int_equal((size_t)n, avail);
            }
            memset(copy, '#', avail);
            free(copy);
        }
    }
    if (eof) {
        rc = h1_parser_finish(&p);
        if (rc < 0)
            assert_int_equal(buf_printf(out, "ERR %d\n", rc), 0);
        else if (rc == 1)
            dump_msg(out, h1_parser_message(&p));
        else
            assert_int_equal(buf_printf(out, "EOF\n"), 0);
    }
    h1_parser_free(&p);
}

static char *parse_text(h1_kind kind, const h1_config *cfg, const char *data, size_t len, bool eof)
{
    buf out;
    char *s;

    buf_init(&out, 0);
    parse_split(kind, cfg, data, len, NULL, 0, false, eof, &out);
    assert_int_equal(buf_append(&out, "", 1), 0);
    s = strdup(buf_ptr(&out));
    buf_free(&out);
    return s;
}

/* Asserts that every one- and two-cut split, byte-at-a-time feeding and
 * keep() give the one-shot result. Returns the one-shot dump (to free). */
static char *check_splits(h1_kind kind, const char *data, bool eof)
{
    size_t len = strlen(data), i, j, cuts[1024];
    char *want = parse_text(kind, NULL, data, len, eof);
    buf got;

    assert_true(len < 1024);
    buf_init(&got, 0);
    for (i = 1; i < len; i++) {
        for (j = i; j < len; j++) {
            cuts[0] = i;
            cuts[1] = j;
            buf_reset(&got);
            parse_split(kind, NULL, data, len, cuts, j == i ? 1 : 2, (i + j) % 3 == 0, eof, &got);
            assert_int_equal(buf_append(&got, "", 1), 0);
            if (strcmp(buf_ptr(&got), want) != 0) {
                fprintf(stderr, "cuts %zu %zu:\n%s\nwant:\n%s\n", i, j, buf_ptr(&got), want);
                fail();
            }
        }
    }
    for (i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    buf_reset(&got);
    parse_split(kind, NULL, data, len, cuts, len - 1, true, eof, &got);
    assert_int_equal(buf_append(&got, "", 1), 0);
    assert_string_equal(buf_ptr(&got), want);
    buf_free(&got);
    return want;
}

/* Feeds a whole text, returns the first error or the number of messages. */
static int feed_count(h1_parser *p, const char *data, size_t len)
{
    size_t pos = 0;
    int msgs = 0;
    ssize_t n;

    while (pos < len) {
        n = h1_parser_feed(p, data + pos, len - pos);
        if (n < 0)
            return (int)n;
        pos += (size_t)n;
        if (h1_parser_message(p) != NULL)
            msgs++;
    }
    return msgs;
}

/* The error a request text produces, checked to be the same when the text
 * arrives one byte at a time. */
static int request_error_kind(h1_kind kind, const h1_config *cfg, const char *req, size_t len)
{
    h1_parser p;
    int one, bytes = 0;
    size_t i;
    ssize_t n;

    h1_parser_init(&p, kind, cfg);
    one = feed_count(&p, req, len);
    h1_parser_free(&p);
    h1_parser_init(&p, kind, cfg);
    for (i = 0; i < len; i++) {
        n = h1_parser_feed(&p, req + i, 1);
        if (n < 0) {
            bytes = (int)n;
            break;
        }
        if (n == 1 && h1_parser_message(&p) != NULL)
            bytes++;
    }
    h1_parser_free(&p);
    assert_int_equal(one, bytes);
    return one;
}

static int request_error(const char *req)
{
    return request_error_kind(H1_REQUEST, NULL, req, strlen(req));
}

/* Parses one complete message from text into p; fails the test otherwise. */
static const h1_msg *parse_one(h1_parser *p, const char *text)
{
    ssize_t n = h1_parser_feed(p, text, strlen(text));

    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(text));
    assert_non_null(h1_parser_message(p));
    return h1_parser_message(p);
}

static bool slice_is(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

static void assert_header(const h1_msg *m, const char *name, const char *value)
{
    const h1_header *h = h1_msg_header(m, name);

    assert_non_null(h);
    if (!slice_is(h->value, h->value_len, value)) {
        fprintf(stderr, "%s: [%.*s] want [%s]\n", name, (int)h->value_len, h->value, value);
        fail();
    }
}

static void assert_buf_is(const buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(buf_ptr(b), want, b->len) != 0) {
        fprintf(stderr, "got [%.*s]\nwant [%s]\n", (int)b->len, buf_ptr(b), want);
        fail();
    }
}

/* ---- samples: every split gives the one-shot result ---------------------------- */

static const char sample_get[] = "GET /api/v2/users?limit=10&page=2 HTTP/1.1\r\n"
                                 "Host: api.example.com\r\n"
                                 "User-Agent: tollgate/0.1\r\n"
                                 "Accept: */*\r\n"
                                 "X-Empty:\r\n"
                                 "X-Spaces:   padded value \t \r\n"
                                 "\r\n";

static void test_split_simple_get(void **state)
{
    h1_parser p;
    const h1_msg *m;
    char *want;

    (void)state;
    want = check_splits(H1_REQUEST, sample_get, false);
    free(want);

    h1_parser_init(&p, H1_REQUEST, NULL);
    m = parse_one(&p, sample_get);
    assert_int_equal(m->method, H1_GET);
    assert_string_equal(m->method_name, "GET");
    assert_true(slice_is(m->target, m->target_len, "/api/v2/users?limit=10&page=2"));
    assert_true(slice_is(m->path, m->path_len, "/api/v2/users"));
    assert_true(slice_is(m->query, m->query_len, "limit=10&page=2"));
    assert_int_equal(m->version_major, 1);
    assert_int_equal(m->version_minor, 1);
    assert_int_equal(m->n_headers, 5);
    assert_int_equal(m->n_trailers, 0);
    assert_header(m, "host", "api.example.com");
    assert_header(m, "USER-AGENT", "tollgate/0.1");
    assert_header(m, "x-empty", "");
    assert_header(m, "X-Spaces", "padded value");
    assert_null(h1_msg_header(m, "Hos"));
    assert_null(h1_msg_header(m, "Content-Length"));
    assert_int_equal(m->body_len, 0);
    assert_int_equal(m->body.len, 0);
    assert_true(m->keep_alive);
    assert_false(m->chunked);
    /* zero-copy: one buffer, so the slices point into it */
    assert_ptr_equal(m->target, sample_get + 4);
    assert_ptr_equal(m->headers[0].value, sample_get + strlen("GET /api/v2/users?limit=10&page=2 "
                                                              "HTTP/1.1\r\nHost: "));
    assert_true(h1_should_keep_alive(&p));
    h1_parser_free(&p);
}

static const char sample_post[] = "POST /api/v2/architect/scripts HTTP/1.1\r\n"
                                  "Host: api.example.com\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: 26\r\n"
                                  "\r\n"
                                  "{\"name\":\"s1\",\"version\":42}";

static void test_split_post_content_length(void **state)
{
    h1_parser p;
    const h1_msg *m;

    (void)state;
    free(check_splits(H1_REQUEST, sample_post, false));
    h1_parser_init(&p, H1_REQUEST, NULL);
    m = parse_one(&p, sample_post);
    assert_int_equal(m->method, H1_POST);
    assert_true(slice_is(m->path, m->path_len, "/api/v2/architect/scripts"));
    assert_null(m->query);
    assert_int_equal(m->body_len, 26);
    assert_int_equal(m->body.len, 26);
    assert_memory_equal(buf_ptr(&m->body), "{\"name\":\"s1\",\"version\":42}", 26);
    assert_false(m->chunked);
    h1_parser_free(&p);
}

static const char sample_chunked[] = "POST /upload HTTP/1.1\r\n"
                                     "Host: x\r\n"
                                     "Transfer-Encoding: chunked\r\n"
                                     "Trailer: X-Checksum\r\n"
                                     "\r\n"
                                     "5\r\nhello\r\n"
                                     "7;ext=1\r\n, world\r\n"
                                     "0\r\n"
                                     "X-Checksum: abc123\r\n"
                                     "X-Other:  two \r\n"
                                     "\r\n";

static void test_split_chunked_trailers(void **state)
{
    h1_parser p;
    const h1_msg *m;
    const h1_header *t;

    (void)state;
    free(check_splits(H1_REQUEST, sample_chunked, false));
    h1_parser_init(&p, H1_REQUEST, NULL);
    m = parse_one(&p, sample_chunked);
    assert_true(m->chunked);
    assert_int_equal(m->body_len, 12);
    assert_memory_equal(buf_ptr(&m->body), "hello, world", 12);
    assert_int_equal(m->n_headers, 3);
    assert_int_equal(m->n_trailers, 2);
    assert_header(m, "Transfer-Encoding", "chunked");
    assert_null(h1_msg_header(m, "X-Checksum")); /* trailers are apart */
    t = h1_msg_trailer(m, "x-checksum");
    assert_non_null(t);
    assert_true(slice_is(t->value, t->value_len, "abc123"));
    t = h1_msg_trailer(m, "X-Other");
    assert_non_null(t);
    assert_true(slice_is(t->value, t->value_len, "two"));
    assert_null(h1_msg_trailer(m, "Host"));
    h1_parser_free(&p);
}

static const char sample_pipelined[] = "GET /a HTTP/1.1\r\n"
                                       "Host: x\r\n"
                                       "\r\n"
                                       "POST /b?q=1 HTTP/1.1\r\n"
                                       "Host: x\r\n"
                                       "Content-Length: 3\r\n"
                                       "Connection: close\r\n"
                                       "\r\n"
                                       "abc";

static void test_split_pipelined(void **state)
{
    h1_parser p;
    const h1_msg *m;
    size_t first = strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    ssize_t n;

    (void)state;
    free(check_splits(H1_REQUEST, sample_pipelined, false));

    /* The feed stops after the first message; the rest is the second. */
    h1_parser_init(&p, H1_REQUEST, NULL);
    n = h1_parser_feed(&p, sample_pipelined, strlen(sample_pipelined));
    assert_int_equal(n, first);
    m = h1_parser_message(&p);
    assert_non_null(m);
    assert_true(slice_is(m->target, m->target_len, "/a"));
    assert_true(m->keep_alive);
    assert_true(h1_should_keep_alive(&p));
    n = h1_parser_feed(&p, sample_pipelined + first, strlen(sample_pipelined) - first);
    assert_int_equal(n, strlen(sample_pipelined) - first);
    m = h1_parser_message(&p);
    assert_non_null(m);
    assert_int_equal(m->method, H1_POST);
    assert_true(slice_is(m->query, m->query_len, "q=1"));
    assert_memory_equal(buf_ptr(&m->body), "abc", 3);
    assert_false(m->keep_alive);
    assert_false(h1_should_keep_alive(&p));
    /* Nothing may follow a message that closes the connection. */
    assert_int_equal(h1_parser_feed(&p, "GET", 3), H1_ERR_AFTER_CLOSE);
    assert_int_equal(h1_parser_feed(&p, "GET", 3), H1_ERR_AFTER_CLOSE);
    h1_parser_free(&p);
}

static const char sample_res_chunked[] = "HTTP/1.1 200 OK\r\n"
                                         "Content-Type: application/json\r\n"
                                         "Transfer-Encoding: chunked\r\n"
                                         "\r\n"
                                         "1a\r\n{\"items\":[1,2,3],\"next\":0}\r\n"
                                         "000\r\n"
                                         "\r\n";

static void test_split_response_chunked(void **state)
{
    h1_parser p;
    const h1_msg *m;

    (void)state;
    free(check_splits(H1_RESPONSE, sample_res_chunked, false));
    h1_parser_init(&p, H1_RESPONSE, NULL);
    m = parse_one(&p, sample_res_chunked);
    assert_int_equal(m->status, 200);
    assert_true(slice_is(m->reason, m->reason_len, "OK"));
    assert_int_equal(m->method, H1_METHOD_NONE);
    assert_true(m->chunked);
    assert_int_equal(m->body_len, 26);
    assert_memory_equal(buf_ptr(&m->body), "{\"items\":[1,2,3],\"next\":0}", 26);
    assert_true(m->keep_alive);
    h1_parser_free(&p);
}

static const char sample_res_close[] = "HTTP/1.0 200 OK\r\n"
                                       "Server: old/1.0\r\n"
                                       "\r\n"
                                       "body bytes until the server closes";

static void test_split_response_close_delimited(void **state)
{
    h1_parser p;
    const h1_msg *m;
    char *want;

    (void)state;
    want = check_splits(H1_RESPONSE, sample_res_close, true);
    assert_non_null(strstr(want, "body(34) =[body bytes until the server closes] ka=0"));
    free(want);

    h1_parser_init(&p, H1_RESPONSE, NULL);
    assert_int_equal(h1_parser_feed(&p, sample_res_close, strlen(sample_res_close)),
                     strlen(sample_res_close));
    assert_null(h1_parser_message(&p));
    assert_non_null(h1_parser_head(&p));
    assert_int_equal(h1_parser_finish(&p), 1);
    m = h1_parser_message(&p);
    assert_non_null(m);
    assert_int_equal(m->version_minor, 0);
    assert_int_equal(m->body_len, 34);
    assert_false(m->keep_alive);
    assert_false(h1_should_keep_alive(&p));
    h1_parser_free(&p);
}

/* ---- message details ------------------------------------------------------------ */

static void test_targets(void **state)
{
    static const struct {
        const char *req, *path, *query;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", "/", NULL},
        {"GET /? HTTP/1.1\r\n\r\n", "/", ""},
        {"GET /a/b?x=1&y=2#frag HTTP/1.1\r\n\r\n", "/a/b", "x=1&y=2"},
        {"GET /a#f?x HTTP/1.1\r\n\r\n", "/a", NULL},
        {"GET http://h.example:8080/p/q?z HTTP/1.1\r\n\r\n", "/p/q", "z"},
        {"GET http://h.example HTTP/1.1\r\n\r\n", "/", NULL},
        {"OPTIONS * HTTP/1.1\r\n\r\n", "*", NULL},
        {"CONNECT h.example:443 HTTP/1.1\r\n\r\n", "h.example:443", NULL},
    };
    h1_parser p;
    const h1_msg *m;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h1_parser_init(&p, H1_REQUEST, NULL);
        m = parse_one(&p, cases[i].req);
        if (!slice_is(m->path, m->path_len, cases[i].path)) {
            fprintf(stderr, "%s: path [%.*s]\n", cases[i].req, (int)m->path_len, m->path);
            fail();
        }
        if (cases[i].query == NULL)
            assert_null(m->query);
        else
            assert_true(slice_is(m->query, m->query_len, cases[i].query));
        h1_parser_free(&p);
    }
}

static void test_methods(void **state)
{
    static const struct {
        const char *name;
        h1_method m;
    } cases[] = {
        {"GET", H1_GET},
        {"HEAD", H1_HEAD},
        {"POST", H1_POST},
        {"PUT", H1_PUT},
        {"DELETE", H1_DELETE},
        {"PATCH", H1_PATCH},
        {"OPTIONS", H1_OPTIONS},
        {"TRACE", H1_TRACE},
        {"PURGE", H1_METHOD_OTHER},
        {"M-SEARCH", H1_METHOD_OTHER},
    };
    char req[128];
    h1_parser p;
    const h1_msg *m;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(req, sizeof(req), "%s /x HTTP/1.1\r\n\r\n", cases[i].name);
        h1_parser_init(&p, H1_REQUEST, NULL);
        m = parse_one(&p, req);
        assert_int_equal(m->method, cases[i].m);
        assert_string_equal(m->method_name, cases[i].name);
        h1_parser_free(&p);
    }
}

static void test_keep_alive_rules(void **state)
{
    static const struct {
        h1_kind kind;
        const char *text;
        bool ka;
    } cases[] = {
        {H1_REQUEST, "GET / HTTP/1.1\r\n\r\n", true},
        {H1_REQUEST, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
        {H1_REQUEST, "GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n", false},
        {H1_REQUEST, "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true},
        {H1_REQUEST, "GET / HTTP/1.0\r\n\r\n", false},
        {H1_REQUEST, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {H1_REQUEST, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {H1_REQUEST, "GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false},
        {H1_REQUEST, "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false},
        {H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
        {H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false},
        {H1_RESPONSE, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
        {H1_RESPONSE, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
         true},
        {H1_RESPONSE, "HTTP/1.1 204 No Content\r\n\r\n", true},
    };
    h1_parser p;
    const h1_msg *m;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h1_parser_init(&p, cases[i].kind, NULL);
        assert_true(h1_should_keep_alive(&p));
        m = parse_one(&p, cases[i].text);
        if (m->keep_alive != cases[i].ka || h1_should_keep_alive(&p) != cases[i].ka) {
            fprintf(stderr, "keep-alive of %s\n", cases[i].text);
            fail();
        }
        h1_parser_free(&p);
    }
}

static void test_upgrade_and_connect(void **state)
{
    h1_parser p;
    const h1_msg *m;

    (void)state;
    h1_parser_init(&p, H1_REQUEST, NULL);
    m = parse_one(&p, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    assert_true(m->upgrade);
    assert_false(m->keep_alive);
    h1_parser_free(&p);

    h1_parser_init(&p, H1_RESPONSE, NULL);
    h1_parser_response_to(&p, H1_CONNECT);
    m = parse_one(&p, "HTTP/1.1 200 Connection established\r\nContent-Length: 10\r\n\r\n");
    assert_true(m->upgrade);
    assert_int_equal(m->body_len, 0);
    h1_parser_free(&p);
}

static void test_response_no_body_cases(void **state)
{
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                               "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
                               "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
    static const int status[] = {100, 200, 204, 304, 404};
    static const uint64_t body[] = {0, 0, 0, 0, 3};
    h1_parser p;
    const h1_msg *m;
    size_t pos = 0, i;
    ssize_t n;

    (void)state;
    /* The 200 answers a HEAD: it says 5 bytes but has none. The HEAD hint
     * survives the 100 and is gone after the 200. */
    h1_parser_init(&p, H1_RESPONSE, NULL);
    h1_parser_response_to(&p, H1_HEAD);
    for (i = 0; i < 5; i++) {
        n = h1_parser_feed(&p, text + pos, strlen(text) - pos);
        assert_true(n > 0);
        pos += (size_t)n;
        m = h1_parser_message(&p);
        assert_non_null(m);
        assert_int_equal(m->status, status[i]);
        assert_int_equal(m->body_len, body[i]);
        assert_true(m->keep_alive);
    }
    assert_int_equal(pos, strlen(text));
    assert_int_equal(h1_parser_finish(&p), 0);
    h1_parser_free(&p);
}

static void test_finish(void **state)
{
    h1_parser p;

    (void)state;
    /* EOF between messages is clean; inside one it is a truncation. */
    h1_parser_init(&p, H1_REQUEST, NULL);
    assert_int_equal(h1_parser_finish(&p), 0);
    assert_int_equal(feed_count(&p, "GET / HTTP/1.1\r\n\r\n", 18), 1);
    assert_int_equal(h1_parser_finish(&p), 0);
    h1_parser_free(&p);

    h1_parser_init(&p, H1_REQUEST, NULL);
    assert_int_equal(h1_parser_feed(&p, "GET / HTTP/1.1\r\nHo", 18), 18);
    assert_int_equal(h1_parser_finish(&p), H1_ERR_TRUNCATED);
    assert_int_equal(h1_parser_feed(&p, "st: x\r\n\r\n", 9), H1_ERR_TRUNCATED);
    h1_parser_free(&p);

    h1_parser_init(&p, H1_RESPONSE, NULL);
    assert_int_equal(feed_count(&p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 42), 0);
    assert_int_equal(h1_parser_finish(&p), H1_ERR_TRUNCATED);
    h1_parser_free(&p);

    h1_parser_init(&p, H1_RESPONSE, NULL);
    assert_int_equal(
        feed_count(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 52), 0);
    assert_int_equal(h1_parser_finish(&p), H1_ERR_TRUNCATED);
    h1_parser_free(&p);

    /* Transfer-Encoding without chunked: a response body runs to EOF. */
    h1_parser_init(&p, H1_RESPONSE, NULL);
    assert_int_equal(feed_count(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 46), 0);
    assert_int_equal(h1_parser_finish(&p), 1);
    assert_int_equal(h1_parser_message(&p)->body_len, 2);
    h1_parser_free(&p);
}

static void test_head_before_body(void **state)
{
    static const char head[] = "PUT /api/v2/architect/flows/42 HTTP/1.1\r\n"
                               "Host: x\r\n"
                               "Expect: 100-continue\r\n"
                               "Content-Length: 4\r\n"
                               "\r\n";
    h1_parser p;
    const h1_msg *m;
    char *copy = strdup(head);

    (void)state;
    h1_parser_init(&p, H1_REQUEST, NULL);
    assert_null(h1_parser_head(&p));
    assert_int_equal(h1_parser_feed(&p, copy, strlen(copy)), strlen(head));
    memset(copy, '#', strlen(copy)); /* the head must not point here any more */
    free(copy);
    assert_null(h1_parser_message(&p));
    m = h1_parser_head(&p);
    assert_non_null(m);
    assert_header(m, "expect", "100-continue");
    assert_true(slice_is(m->path, m->path_len, "/api/v2/architect/flows/42"));
    assert_int_equal(h1_parser_feed(&p, "{}{}", 4), 4);
    m = h1_parser_message(&p);
    assert_non_null(m);
    assert_header(m, "host", "x");
    assert_memory_equal(buf_ptr(&m->body), "{}{}", 4);
    h1_parser_free(&p);
}

static void test_discard_body(void **state)
{
    h1_config cfg;
    h1_parser p;
    const h1_msg *m;

    (void)state;
    h1_config_default(&cfg);
    cfg.discard_body = true;
    h1_parser_init(&p, H1_RESPONSE, &cfg);
    m = parse_one(&p, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    assert_int_equal(m->body_len, 5);
    assert_int_equal(m->body.len, 0);
    h1_parser_free(&p);
}

static void test_reuse_no_allocation(void **state)
{
    h1_parser p;
    const h1_msg *m;
    const char *store = NULL, *hdrs = NULL;
    int i;

    (void)state;
    /* After the first split message the parser reuses its memory. */
    h1_parser_init(&p, H1_REQUEST, NULL);
    for (i = 0; i < 3; i++) {
        assert_int_equal(h1_parser_feed(&p, sample_post, 40), 40);
        assert_int_equal(h1_parser_feed(&p, sample_post + 40, strlen(sample_post) - 40),
                         strlen(sample_post) - 40);
        m = h1_parser_message(&p);
        assert_non_null(m);
        if (i == 0) {
            store = p.store;
            hdrs = (const char *)p.msg.headers;
        }
        assert_ptr_equal(p.store, store);
        assert_ptr_equal((const char *)m->headers, hdrs);
    }
    h1_parser_reset(&p);
    assert_int_equal(feed_count(&p, sample_get, strlen(sample_get)), 1);
    h1_parser_free(&p);
}

/* ---- limits -------------------------------------------------------------------- */

/* A request whose head is exactly `head` bytes, padded in one header. */
static char *request_of_size(size_t head, size_t uri)
{
    buf b;
    size_t pad;
    char *s;

    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "GET /"), 0);
    while (b.len < 4 + uri)
        assert_int_equal(buf_append_str(&b, "u"), 0);
    assert_int_equal(buf_append_str(&b, " HTTP/1.1\r\nX-Pad: "), 0);
    pad = head - b.len - 4;
    while (pad-- > 0)
        assert_int_equal(buf_append_str(&b, "p"), 0);
    assert_int_equal(buf_append(&b, "\r\n\r\n", 5), 0);
    s = strdup(buf_ptr(&b));
    assert_int_equal(strlen(s), head);
    buf_free(&b);
    return s;
}

static void test_limit_header_bytes(void **state)
{
    char *ok = request_of_size(16384, 10), *big = request_of_size(16385, 10);
    h1_config cfg;

    (void)state;
    assert_int_equal(request_error(ok), 1);
    assert_int_equal(request_error(big), H1_ERR_HEADERS_TOO_LARGE);
    assert_int_equal(h1_error_status(H1_ERR_HEADERS_TOO_LARGE), 431);
    free(ok);
    free(big);

    h1_config_default(&cfg);
    cfg.max_header_bytes = 100;
    ok = request_of_size(100, 10);
    big = request_of_size(101, 10);
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, ok, 100), 1);
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, big, 101), H1_ERR_HEADERS_TOO_LARGE);
    free(ok);
    free(big);
}

static void test_limit_trailer_bytes(void **state)
{
    static const char req[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\nX-T: 0123456789012345678901234567890123456789\r\n\r\n";
    h1_config cfg;

    (void)state;
    h1_config_default(&cfg);
    /* head 47 bytes, trailers 49 */
    cfg.max_header_bytes = 48;
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, req, strlen(req)),
                     H1_ERR_HEADERS_TOO_LARGE);
    cfg.max_header_bytes = 49;
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, req, strlen(req)), 1);
}

static void test_limit_header_count(void **state)
{
    buf b;
    int i;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "GET / HTTP/1.1\r\n"), 0);
    for (i = 0; i < 100; i++)
        assert_int_equal(buf_printf(&b, "X-H%d: %d\r\n", i, i), 0);
    assert_int_equal(buf_append(&b, "\r\n", 3), 0);
    assert_int_equal(request_error(buf_ptr(&b)), 1);
    b.len -= 3;
    assert_int_equal(buf_append(&b, "X-One-More: 1\r\n\r\n", 18), 0);
    assert_int_equal(request_error(buf_ptr(&b)), H1_ERR_TOO_MANY_HEADERS);
    assert_int_equal(h1_error_status(H1_ERR_TOO_MANY_HEADERS), 431);
    buf_free(&b);

    /* trailers count too */
    {
        static const char req[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nA: 1\r\n\r\n"
                                  "0\r\nB: 2\r\n\r\n";
        h1_config cfg;

        h1_config_default(&cfg);
        cfg.max_headers = 2;
        assert_int_equal(request_error_kind(H1_REQUEST, &cfg, req, strlen(req)),
                         H1_ERR_TOO_MANY_HEADERS);
        cfg.max_headers = 3;
        assert_int_equal(request_error_kind(H1_REQUEST, &cfg, req, strlen(req)), 1);
    }
}

static void test_limit_body(void **state)
{
    static const char chunked[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n";
    char req[256];
    h1_config cfg;
    h1_parser p;

    (void)state;
    snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: 512001\r\n\r\n");
    assert_int_equal(request_error(req), H1_ERR_BODY_TOO_LARGE);
    assert_int_equal(h1_error_status(H1_ERR_BODY_TOO_LARGE), 413);
    /* refused at the head, before any body byte */
    h1_parser_init(&p, H1_REQUEST, NULL);
    assert_int_equal(h1_parser_feed(&p, req, strlen(req)), H1_ERR_BODY_TOO_LARGE);
    h1_parser_free(&p);
    /* exactly the limit is fine */
    h1_parser_init(&p, H1_REQUEST, NULL);
    snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: 512000\r\n\r\n");
    assert_int_equal(h1_parser_feed(&p, req, strlen(req)), strlen(req));
    h1_parser_free(&p);

    h1_config_default(&cfg);
    cfg.max_body = 10;
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, chunked, strlen(chunked)),
                     H1_ERR_BODY_TOO_LARGE);
    cfg.max_body = 11;
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, chunked, strlen(chunked)), 1);
    /* a huge chunk is refused at its size line */
    assert_int_equal(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "7fffffff\r\n"),
                     H1_ERR_BODY_TOO_LARGE);
    /* a body that runs to EOF is bounded too */
    cfg.max_body = 4;
    h1_parser_init(&p, H1_RESPONSE, &cfg);
    assert_int_equal(h1_parser_feed(&p, "HTTP/1.0 200 OK\r\n\r\nabcd", 23), 23);
    assert_int_equal(h1_parser_feed(&p, "e", 1), H1_ERR_BODY_TOO_LARGE);
    h1_parser_free(&p);
}

static void test_limit_uri(void **state)
{
    char *ok = request_of_size(9000, 8192), *big = request_of_size(9000, 8193);
    h1_config cfg;

    (void)state;
    assert_int_equal(request_error(ok), 1);
    assert_int_equal(request_error(big), H1_ERR_URI_TOO_LONG);
    assert_int_equal(h1_error_status(H1_ERR_URI_TOO_LONG), 414);
    free(ok);
    free(big);
    h1_config_default(&cfg);
    cfg.max_uri = 8;
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, "GET /1234567 HTTP/1.1\r\n\r\n", 25), 1);
    assert_int_equal(request_error_kind(H1_REQUEST, &cfg, "GET /12345678 HTTP/1.1\r\n\r\n", 26),
                     H1_ERR_URI_TOO_LONG);
}

/* ---- smuggling and malformed messages ------------------------------------------ */

static void test_smuggling_vectors(void **state)
{
    static const struct {
        const char *name, *text;
        int err;
    } cases[] = {
        {"CL then TE",
         "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"TE then CL",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"two different CL",
         "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"two equal CL", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"CL list", "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello!",
         H1_ERR_BAD_CONTENT_LENGTH},
        {"CL two numbers", "POST / HTTP/1.1\r\nContent-Length: 5 6\r\n\r\nhello!",
         H1_ERR_BAD_CONTENT_LENGTH},
        {"CL negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
        {"CL plus", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
         H1_ERR_BAD_CONTENT_LENGTH},
        {"CL empty", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
        {"CL overflow", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
         H1_ERR_BAD_CONTENT_LENGTH},
        {"CL hex", "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello",
         H1_ERR_BAD_CONTENT_LENGTH},
        {"space before colon (CL)", "POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello",
         H1_ERR_BAD_HEADER_NAME},
        {"tab before colon (TE)",
         "POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n",
         H1_ERR_BAD_HEADER_NAME},
        {"obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: h\r\n\r\n", H1_ERR_OBS_FOLD},
        {"obs-fold tab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", H1_ERR_OBS_FOLD},
        {"obs-fold TE", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n chunked\r\n\r\n0\r\n\r\n",
         H1_ERR_OBS_FOLD},
        {"space before first header", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", H1_ERR_OBS_FOLD},
        {"chunk size not hex",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size negative",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size 0x", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size overflow 16 digits",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size overflow 17 digits",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size bare LF",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size CR without LF",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\rXhello\r\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk size space garbage",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk ext bare LF",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk data without CRLF",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"chunk data bare LF",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
         H1_ERR_BAD_CHUNK},
        {"last chunk bare LF end", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
         H1_ERR_BAD_LINE_END},
        {"TE gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"TE chunked then gzip",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"TE gzip then chunked",
         "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"TE twice",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\n",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"TE xchunked", "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"TE empty", "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\n",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         H1_ERR_BAD_TRANSFER_ENCODING},
        {"CL in trailers",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"TE in trailers",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding: "
         "chunked\r\n\r\n",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"bare LF request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", H1_ERR_BAD_LINE_END},
        {"bare LF header line", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", H1_ERR_BAD_LINE_END},
        {"bare LF end of head", "GET / HTTP/1.1\r\nHost: x\r\n\n", H1_ERR_BAD_LINE_END},
        {"bare LF before request", "\nGET / HTTP/1.1\r\n\r\n", H1_ERR_BAD_LINE_END},
        {"bare CR in value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", H1_ERR_BAD_LINE_END},
        {"CR CR LF", "GET / HTTP/1.1\r\nX: a\r\r\n\r\n", H1_ERR_BAD_LINE_END},
        {"bare CR end of head", "GET / HTTP/1.1\r\nX: a\r\n\rX", H1_ERR_BAD_LINE_END},
        {"HXXP", "GET / HXXP/1.1\r\n\r\n", H1_ERR_MALFORMED},
        {"HTTP/0.9", "GET /\r\n\r\n", H1_ERR_MALFORMED},
        {"two spaces", "GET  / HTTP/1.1\r\n\r\n", H1_ERR_MALFORMED},
        {"space after version", "GET / HTTP/1.1 \r\n\r\n", H1_ERR_MALFORMED},
        {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", H1_ERR_BAD_VERSION},
        {"HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", H1_ERR_MALFORMED},
        {"tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", H1_ERR_BAD_URI},
        {"DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", H1_ERR_BAD_URI},
        {"NUL in value", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", H1_ERR_BAD_HEADER_VALUE},
        {"empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", H1_ERR_BAD_HEADER_NAME},
        {"no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", H1_ERR_BAD_HEADER_NAME},
        {"bad name char", "GET / HTTP/1.1\r\nX(y): 1\r\n\r\n", H1_ERR_BAD_HEADER_NAME},
        {"unknown method", "FOO / HTTP/1.1\r\n\r\n", H1_ERR_BAD_METHOD},
        {"lower-case method", "get / HTTP/1.1\r\n\r\n", H1_ERR_BAD_METHOD},
    };
    size_t i;
    int err;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = request_error(cases[i].text);
        if (err != cases[i].err) {
            fprintf(stderr, "%s: got %d (%s), want %d (%s)\n", cases[i].name, err,
                    err < 0 ? h1_strerror(err) : "ok", cases[i].err, h1_strerror(cases[i].err));
            fail();
        }
        assert_int_equal(h1_error_status(err), cases[i].err == H1_ERR_BAD_METHOD    ? 501
                                               : cases[i].err == H1_ERR_BAD_VERSION ? 505
                                                                                    : 400);
    }
}

static void test_response_errors(void **state)
{
    static const struct {
        const char *text;
        int err;
    } cases[] = {
        {"HTTP/1.1 20 OK\r\n\r\n", H1_ERR_BAD_STATUS},
        {"HTTP/1.1 2000 OK\r\n\r\n", H1_ERR_BAD_STATUS},
        {"HTTP/1.1 099 Low\r\n\r\n", H1_ERR_BAD_STATUS},
        {"HTXP/1.1 200 OK\r\n\r\n", H1_ERR_BAD_STATUS},
        {"HTTP/2.0 200 OK\r\n\r\n", H1_ERR_BAD_VERSION},
        {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", H1_ERR_BAD_LINE_END},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         H1_ERR_AMBIGUOUS_LENGTH},
        {"HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", H1_ERR_BAD_HEADER_NAME},
    };
    size_t i;
    int err;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = request_error_kind(H1_RESPONSE, NULL, cases[i].text, strlen(cases[i].text));
        if (err != cases[i].err) {
            fprintf(stderr, "%s: got %d, want %d\n", cases[i].text, err, cases[i].err);
            fail();
        }
    }
    assert_int_equal(h1_error_status(H1_ERR_BAD_STATUS), 502);
    /* a status line without a reason is common and fine */
    assert_int_equal(
        request_error_kind(H1_RESPONSE, NULL, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 35), 1);
}

static void test_accepted_variants(void **state)
{
    (void)state;
    /* empty lines before a request, optional whitespace, obs-text, chunk
     * extensions with whitespace before ';' */
    assert_int_equal(request_error("\r\n\r\nGET / HTTP/1.1\r\nX:\tv\t\r\n\r\n"), 1);
    assert_int_equal(request_error("GET /\xc3\xa9 HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n"), 1);
    assert_int_equal(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked \r\n\r\n"
                                   "5 ; a=\"b c\"\r\nhello\r\n0\r\n\r\n"),
                     1);
    assert_int_equal(request_error("GET / HTTP/1.2\r\n\r\n"), 1);
}

static void test_errors_are_sticky(void **state)
{
    h1_parser p;

    (void)state;
    h1_parser_init(&p, H1_REQUEST, NULL);
    assert_int_equal(h1_parser_feed(&p, "GET / HTTP/1.1\r\nX : y\r\n", 24), H1_ERR_BAD_HEADER_NAME);
    assert_int_equal(h1_parser_feed(&p, "\r\n", 2), H1_ERR_BAD_HEADER_NAME);
    assert_int_equal(h1_parser_finish(&p), H1_ERR_BAD_HEADER_NAME);
    assert_false(h1_should_keep_alive(&p));
    assert_null(h1_parser_head(&p));
    h1_parser_reset(&p);
    assert_int_equal(feed_count(&p, "GET / HTTP/1.1\r\n\r\n", 18), 1);
    h1_parser_free(&p);
}

static void test_strerror_status(void **state)
{
    int e;

    (void)state;
    for (e = H1_ERR_AFTER_CLOSE; e <= H1_ERR_MALFORMED; e++) {
        assert_true(strlen(h1_strerror(e)) > 5);
        assert_string_not_equal(h1_strerror(e), "unknown error");
        assert_true(h1_error_status(e) >= 400 && h1_error_status(e) < 600);
    }
    assert_string_equal(h1_strerror(-ENOMEM), strerror(ENOMEM));
    assert_int_equal(h1_error_status(-ENOMEM), 500);
    assert_int_equal(h1_error_status(H1_ERR_OBS_FOLD), 400);
    assert_int_equal(h1_error_status(H1_ERR_AMBIGUOUS_LENGTH), 400);
}

/* ---- serializers ---------------------------------------------------------------- */

static void test_write_response(void **state)
{
    static const char want[] = "HTTP/1.1 429 Too Many Requests\r\n"
                               "Retry-After: 2\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 13\r\n"
                               "Connection: close\r\n"
                               "\r\n"
                               "{\"status\":42}";
    h1_header hs[] = {{"Retry-After", 11, "2", 1}, {"Content-Type", 12, "application/json", 16}};
    buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(h1_write_response(&b, 429, hs, 2, "{\"status\":42}", 13, H1_WRITE_CLOSE), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(buf_ptr(&b), want, b.len);

    buf_reset(&b);
    assert_int_equal(h1_write_response(&b, 204, NULL, 0, "x", 1, H1_WRITE_KEEP_ALIVE), 0);
    assert_int_equal(b.len, strlen("HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n"));
    assert_buf_is(&b, "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");

    buf_reset(&b);
    assert_int_equal(h1_write_response(&b, 200, NULL, 0, "hello", 5, H1_WRITE_HEAD), 0);
    assert_int_equal(b.len, strlen("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
    assert_buf_is(&b, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");

    /* the caller's own framing headers are not duplicated */
    buf_reset(&b);
    hs[0] = (h1_header){"content-length", 14, "3", 1};
    hs[1] = (h1_header){"Connection", 10, "keep-alive", 10};
    assert_int_equal(h1_write_response(&b, 200, hs, 2, "abc", 3, H1_WRITE_CLOSE), 0);
    assert_buf_is(&b, "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nConnection: keep-alive\r\n\r\nabc");

    /* codes without a phrase get an empty one */
    buf_reset(&b);
    assert_int_equal(h1_write_response(&b, 299, NULL, 0, NULL, 0, 0), 0);
    assert_buf_is(&b, "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n");

    /* head only, body sent by the caller */
    buf_reset(&b);
    assert_int_equal(h1_write_response(&b, 200, NULL, 0, NULL, 1234567, 0), 0);
    assert_buf_is(&b, "HTTP/1.1 200 OK\r\nContent-Length: 1234567\r\n\r\n");

    /* refusals leave the buffer alone */
    buf_reset(&b);
    assert_int_equal(buf_append_str(&b, "kept"), 0);
    hs[0] = (h1_header){"X-Evil", 6, "a\r\nSet-Cookie: x", 16};
    assert_int_equal(h1_write_response(&b, 200, hs, 1, NULL, 0, 0), -EINVAL);
    hs[0] = (h1_header){"X Evil", 6, "a", 1};
    assert_int_equal(h1_write_response(&b, 200, hs, 1, NULL, 0, 0), -EINVAL);
    hs[0] = (h1_header){"", 0, "a", 1};
    assert_int_equal(h1_write_response(&b, 200, hs, 1, NULL, 0, 0), -EINVAL);
    assert_int_equal(h1_write_response(&b, 99, NULL, 0, NULL, 0, 0), -EINVAL);
    assert_int_equal(h1_write_response(&b, 1000, NULL, 0, NULL, 0, 0), -EINVAL);
    assert_int_equal(b.len, 4);
    buf_free(&b);

    buf_init(&b, 20);
    assert_int_equal(h1_write_response(&b, 200, NULL, 0, NULL, 0, 0), -ENOBUFS);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_write_request(void **state)
{
    static const char want[] = "PUT /api/v2/architect/scripts/7 HTTP/1.1\r\n"
                               "Host: api.example.com\r\n"
                               "Authorization: Bearer abc\r\n"
                               "Content-Length: 2\r\n"
                               "Connection: close\r\n"
                               "\r\n"
                               "{}";
    const char *target = "/api/v2/architect/scripts/7";
    h1_header hs[] = {{"Authorization", 13, "Bearer abc", 10}};
    buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(h1_write_request(&b, "PUT", target, strlen(target), "api.example.com", hs, 1,
                                      "{}", 2, H1_WRITE_CLOSE),
                     0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(buf_ptr(&b), want, b.len);

    buf_reset(&b);
    assert_int_equal(h1_write_request(&b, "GET", "/", 1, "h", NULL, 0, NULL, 0, 0), 0);
    assert_buf_is(&b, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");

    buf_reset(&b);
    assert_int_equal(h1_write_request(&b, "POST", "/", 1, NULL, NULL, 0, NULL, 0, 0), 0);
    assert_buf_is(&b, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");

    /* Host from the headers wins */
    buf_reset(&b);
    hs[0] = (h1_header){"HOST", 4, "other", 5};
    assert_int_equal(h1_write_request(&b, "GET", "/", 1, "h", hs, 1, NULL, 0, 0), 0);
    assert_buf_is(&b, "GET / HTTP/1.1\r\nHOST: other\r\n\r\n");

    buf_reset(&b);
    assert_int_equal(h1_write_request(&b, "GE T", "/", 1, "h", NULL, 0, NULL, 0, 0), -EINVAL);
    assert_int_equal(h1_write_request(&b, "GET", "/a b", 4, "h", NULL, 0, NULL, 0, 0), -EINVAL);
    assert_int_equal(h1_write_request(&b, "GET", "", 0, "h", NULL, 0, NULL, 0, 0), -EINVAL);
    assert_int_equal(h1_write_request(&b, "GET", "/", 1, "h\r\nX: y", NULL, 0, NULL, 0, 0),
                     -EINVAL);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_status_reason(void **state)
{
    (void)state;
    assert_string_equal(h1_status_reason(200), "OK");
    assert_string_equal(h1_status_reason(404), "Not Found");
    assert_string_equal(h1_status_reason(429), "Too Many Requests");
    assert_string_equal(h1_status_reason(431), "Request Header Fields Too Large");
    assert_string_equal(h1_status_reason(203), "Non-Authoritative Information");
    assert_string_equal(h1_status_reason(299), "");
    assert_string_equal(h1_status_reason(42), "");
    assert_string_equal(h1_status_reason(1000), "");
}

static void test_round_trip(void **state)
{
    static const int codes[] = {200, 201, 204, 304, 400, 404, 409, 429, 500, 503};
    h1_header hs[] = {
        {"Retry-After", 11, "1", 1}, {"inin-ratelimit-count", 20, "300", 3}, {"X-Empty", 7, "", 0}};
    const char *body = "{\"message\":\"Rate limit exceeded\",\"code\":\"too.many.requests\"}";
    h1_parser p;
    const h1_msg *m;
    size_t i, j;
    buf b;

    (void)state;
    buf_init(&b, 0);
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        buf_reset(&b);
        assert_int_equal(h1_write_response(&b, codes[i], hs, 3, body, strlen(body), 0), 0);
        h1_parser_init(&p, H1_RESPONSE, NULL);
        assert_int_equal(h1_parser_feed(&p, buf_ptr(&b), b.len), b.len);
        m = h1_parser_message(&p);
        assert_non_null(m);
        assert_int_equal(m->status, codes[i]);
        assert_true(slice_is(m->reason, m->reason_len, h1_status_reason(codes[i])));
        for (j = 0; j < 3; j++)
            assert_header(m, hs[j].name, hs[j].value);
        if (codes[i] == 204 || codes[i] == 304) {
            assert_int_equal(m->body_len, 0);
            assert_null(h1_msg_header(m, "Content-Length"));
        } else {
            assert_int_equal(m->body_len, strlen(body));
            assert_memory_equal(buf_ptr(&m->body), body, strlen(body));
        }
        assert_true(m->keep_alive);
        h1_parser_free(&p);
    }

    buf_reset(&b);
    hs[0] = (h1_header){"Authorization", 13, "Bearer t0k3n", 12};
    assert_int_equal(h1_write_request(&b, "PATCH", "/v1/x?y=1", 9, "localhost:8080", hs, 3, body,
                                      strlen(body), H1_WRITE_CLOSE),
                     0);
    h1_parser_init(&p, H1_REQUEST, NULL);
    assert_int_equal(h1_parser_feed(&p, buf_ptr(&b), b.len), b.len);
    m = h1_parser_message(&p);
    assert_non_null(m);
    assert_int_equal(m->method, H1_PATCH);
    assert_true(slice_is(m->path, m->path_len, "/v1/x"));
    assert_true(slice_is(m->query, m->query_len, "y=1"));
    assert_header(m, "host", "localhost:8080");
    assert_header(m, "authorization", "Bearer t0k3n");
    assert_memory_equal(buf_ptr(&m->body), body, strlen(body));
    assert_false(m->keep_alive);
    h1_parser_free(&p);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_simple_get),
        cmocka_unit_test(test_split_post_content_length),
        cmocka_unit_test(test_split_chunked_trailers),
        cmocka_unit_test(test_split_pipelined),
        cmocka_unit_test(test_split_response_chunked),
        cmocka_unit_test(test_split_response_close_delimited),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_upgrade_and_connect),
        cmocka_unit_test(test_response_no_body_cases),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_head_before_body),
        cmocka_unit_test(test_discard_body),
        cmocka_unit_test(test_reuse_no_allocation),
        cmocka_unit_test(test_limit_header_bytes),
        cmocka_unit_test(test_limit_trailer_bytes),
        cmocka_unit_test(test_limit_header_count),
        cmocka_unit_test(test_limit_body),
        cmocka_unit_test(test_limit_uri),
        cmocka_unit_test(test_smuggling_vectors),
        cmocka_unit_test(test_response_errors),
        cmocka_unit_test(test_accepted_variants),
        cmocka_unit_test(test_errors_are_sticky),
        cmocka_unit_test(test_strerror_status),
        cmocka_unit_test(test_write_response),
        cmocka_unit_test(test_write_request),
        cmocka_unit_test(test_status_reason),
        cmocka_unit_test(test_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
