#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/report_jtl.h"

#define MS CLOCK_NS_PER_MS

#define MAX_FIELDS 32

/* A minimal RFC 4180 reader for one record starting at *p: splits it into
 * fields (unquoted, in place in a copy) and advances *p past the newline.
 * Returns the number of fields. */
static int csv_record(const char **p, char fields[MAX_FIELDS][512])
{
    int n = 0;
    const char *s = *p;
    for (;;) {
        size_t k = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '"' && s[1] == '"') {
                    fields[n][k++] = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    assert_true(*s != '\0');
                    fields[n][k++] = *s++;
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\n') {
                assert_true(*s != '"' && *s != '\r');
                fields[n][k++] = *s++;
            }
        }
        fields[n][k] = '\0';
        n++;
        if (*s == ',') {
            s++;
            continue;
        }
        assert_true(*s == '\n');
        *p = s + 1;
        return n;
    }
}

static stats_attempt sample(void)
{
    stats_attempt a = {0};
    a.status = 429;
    a.start_ns = 5000 * MS;
    a.end_ns = a.start_ns + 12 * MS + 999999; /* 12.999999 ms: truncated to 12 */
    a.start_wall_ns = 1700000000123ULL * MS + 456789;
    a.ttfb_ns = 11 * MS + 500000;
    a.connect_ns = 3 * MS;
    a.bytes_in = 321;
    a.bytes_out = 123;
    a.url = "http://127.0.0.1:8080/api/v2/flows?id=1,2";
    a.label = "PUT \"flow\"";
    a.thread_name = "scenario 1-3";
    a.grp_threads = 20;
    a.all_threads = 25;
    a.failure = "status 429, expected 200\nRetry-After: 2";
    a.expect_ok = false;
    return a;
}

static void test_format_quoting(void **state)
{
    buf b;
    char f[MAX_FIELDS][512];
    (void)state;
    buf_init(&b, 0);
    stats_attempt a = sample();
    assert_int_equal(report_jtl_format(&b, &a), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);

    const char *p = buf_ptr(&b);
    assert_int_equal(csv_record(&p, f), 17);
    assert_string_equal(p, "");
    assert_string_equal(f[0], "1700000000123");
    assert_string_equal(f[1], "12");
    assert_string_equal(f[2], "PUT \"flow\"");
    assert_string_equal(f[3], "429");
    assert_string_equal(f[4], "Too Many Requests");
    assert_string_equal(f[5], "scenario 1-3");
    assert_string_equal(f[6], "text");
    assert_string_equal(f[7], "false");
    assert_string_equal(f[8], "status 429, expected 200\nRetry-After: 2");
    assert_string_equal(f[9], "321");
    assert_string_equal(f[10], "123");
    assert_string_equal(f[11], "20");
    assert_string_equal(f[12], "25");
    assert_string_equal(f[13], "http://127.0.0.1:8080/api/v2/flows?id=1,2");
    assert_string_equal(f[14], "11");
    assert_string_equal(f[15], "0");
    assert_string_equal(f[16], "3");
    /* The raw text quotes exactly the fields that need it. */
    assert_non_null(strstr(buf_ptr(&b), ",\"PUT \"\"flow\"\"\",429,Too Many Requests,"));
    buf_free(&b);
}

static void test_format_success_and_neterr(void **state)
{
    buf b;
    char f[MAX_FIELDS][512];
    const char *p;
    (void)state;
    buf_init(&b, 0);

    stats_attempt ok = sample();
    ok.status = 200;
    ok.expect_ok = true;
    ok.failure = NULL;
    ok.label = NULL;
    ok.url = NULL;
    ok.thread_name = NULL;
    assert_int_equal(report_jtl_format(&b, &ok), 0);
    stats_attempt ne = sample();
    ne.status = 0;
    ne.neterr = STATS_NETERR_REFUSED;
    ne.failure = "connect: Connection refused";
    ne.ttfb_ns = 0;
    assert_int_equal(report_jtl_format(&b, &ne), 0);
    ne.neterr = STATS_NETERR_TLS;
    ne.failure = NULL;
    assert_int_equal(report_jtl_format(&b, &ne), 0);
    /* A success keeps no failure message even if one is given. */
    ok.failure = "ignored";
    assert_int_equal(report_jtl_format(&b, &ok), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);

    p = buf_ptr(&b);
    assert_int_equal(csv_record(&p, f), 17);
    assert_string_equal(f[2], "");
    assert_string_equal(f[3], "200");
    assert_string_equal(f[4], "OK");
    assert_string_equal(f[7], "true");
    assert_string_equal(f[8], "");
    assert_string_equal(f[13], "");

    assert_int_equal(csv_record(&p, f), 17);
    assert_string_equal(f[3], "Non HTTP response code: connection refused");
    assert_string_equal(f[4], "Non HTTP response message: connect: Connection refused");
    assert_string_equal(f[7], "false");
    assert_string_equal(f[8], "connect: Connection refused");
    assert_string_equal(f[14], "0");

    assert_int_equal(csv_record(&p, f), 17);
    assert_string_equal(f[3], "Non HTTP response code: TLS error");
    assert_string_equal(f[4], "Non HTTP response message: TLS error");

    assert_int_equal(csv_record(&p, f), 17);
    assert_string_equal(f[8], "");
    assert_string_equal(p, "");

    assert_string_equal(report_jtl_status_text(503), "Service Unavailable");
    assert_string_equal(report_jtl_status_text(299), "");
    buf_free(&b);
}

static void test_field(void **state)
{
    buf b;
    (void)state;
    buf_init(&b, 0);
    assert_int_equal(report_jtl_field(&b, "plain"), 0);
    assert_int_equal(report_jtl_field(&b, NULL), 0);
    assert_int_equal(report_jtl_field(&b, "a,b"), 0);
    assert_int_equal(report_jtl_field(&b, "\"q\""), 0);
    assert_int_equal(report_jtl_field(&b, "cr\r"), 0);
    assert_int_equal(report_jtl_field(&b, ""), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);
    assert_string_equal(buf_ptr(&b), "plain\"a,b\"\"\"\"q\"\"\"\"cr\r\"");
    buf_free(&b);

    /* A bounded buffer refuses the row whole: no half row is left. */
    buf_init(&b, 64);
    stats_attempt a = sample();
    assert_int_equal(report_jtl_format(&b, &a), -ENOBUFS);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

#define THREADS 4
#define ROWS    5000

static report_jtl *shared;

static void *writer(void *arg)
{
    stats_attempt a = sample();
    char label[32];
    snprintf(label, sizeof(label), "t%d", (int)(intptr_t)arg);
    a.label = label;
    for (int i = 0; i < ROWS; i++) {
        a.bytes_in = (uint64_t)i;
        if (report_jtl_write(shared, &a) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_file_threads(void **state)
{
    char path[] = "/tmp/test_report_jtl_XXXXXX";
    char err[256];
    char f[MAX_FIELDS][512];
    pthread_t th[THREADS];
    int per[THREADS] = {0};
    (void)state;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);

    assert_int_equal(report_jtl_open(&shared, path, err, sizeof(err)), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        assert_null(rc);
    }
    assert_int_equal(report_jtl_close(shared, err, sizeof(err)), 0);

    FILE *in = fopen(path, "r");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    char *text = malloc((size_t)size + 1);
    assert_int_equal(fread(text, 1, (size_t)size, in), (size_t)size);
    text[size] = '\0';
    fclose(in);

    const char *header = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,"
                         "dataType,success,failureMessage,bytes,sentBytes,grpThreads,"
                         "allThreads,URL,Latency,IdleTime,Connect\n";
    assert_memory_equal(text, header, strlen(header));
    const char *p = text + strlen(header);
    int rows = 0;
    while (*p) {
        assert_int_equal(csv_record(&p, f), 17); /* rows never interleave */
        assert_true(f[2][0] == 't');
        per[f[2][1] - '0']++;
        rows++;
    }
    assert_int_equal(rows, THREADS * ROWS);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(per[t], ROWS);
    free(text);
    unlink(path);

    /* An empty run still has the header. */
    assert_int_equal(report_jtl_open(&shared, path, err, sizeof(err)), 0);
    assert_int_equal(report_jtl_close(shared, err, sizeof(err)), 0);
    in = fopen(path, "r");
    char line[256];
    assert_non_null(fgets(line, sizeof(line), in));
    assert_string_equal(line, header);
    assert_null(fgets(line, sizeof(line), in));
    fclose(in);
    unlink(path);
    assert_int_equal(report_jtl_close(NULL, err, sizeof(err)), 0);
}

static void test_open_error(void **state)
{
    report_jtl *j = (report_jtl *)1;
    char err[256];
    (void)state;
    assert_int_equal(report_jtl_open(&j, "/nonexistent-dir/x.jtl", err, sizeof(err)), -ENOENT);
    assert_null(j);
    assert_string_equal(err, "/nonexistent-dir/x.jtl: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_quoting), cmocka_unit_test(test_format_success_and_neterr),
        cmocka_unit_test(test_field),          cmocka_unit_test(test_file_threads),
        cmocka_unit_test(test_open_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
