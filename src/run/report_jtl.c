/*
 * report_jtl: rows formatted under one mutex into a shared buffer, written
 * out in 64 KB pieces.
 */
#include "run/report_jtl.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_JTL_FLUSH (64 * 1024)

struct report_jtl {
    pthread_mutex_t lock;
    FILE *f;
    buf out;
    int error; /* first failure (negative errno), 0 so far */
    char *path;
};

/* Reason phrases of RFC 9110 (and RFC 6585 for 428, 429, 431, 511). */
static const struct {
    int status;
    const char *text;
} report_jtl_reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {511, "Network Authentication Required"},
};

const char *report_jtl_status_text(int status)
{
    for (size_t i = 0; i < sizeof(report_jtl_reasons) / sizeof(report_jtl_reasons[0]); i++) {
        if (report_jtl_reasons[i].status == status)
            return report_jtl_reasons[i].text;
    }
    return "";
}

/* What responseCode says for an attempt without a response. */
static const char *report_jtl_neterr_text(stats_neterr k)
{
    switch (k) {
    case STATS_NETERR_REFUSED:
        return "connection refused";
    case STATS_NETERR_RESET:
        return "connection reset";
    case STATS_NETERR_TIMEOUT:
        return "timeout";
    case STATS_NETERR_TLS:
        return "TLS error";
    default:
        return "network error";
    }
}

int report_jtl_field(buf *out, const char *s)
{
    int rc;

    if (!s)
        return 0;
    if (s[strcspn(s, ",\"\r\n")] == '\0')
        return buf_append_str(out, s);
    rc = buf_append(out, "\"", 1);
    while (rc == 0 && *s) {
        size_t n = strcspn(s, "\"");
        rc = buf_append(out, s, n);
        s += n;
        if (rc == 0 && *s == '"') {
            rc = buf_append(out, "\"\"", 2);
            s++;
        }
    }
    if (rc == 0)
        rc = buf_append(out, "\"", 1);
    return rc;
}

static uint64_t report_jtl_ms(uint64_t ns)
{
    return ns / 1000000;
}

int report_jtl_format(buf *out, const stats_attempt *a)
{
    stats_class cls = stats_classify(a->status, a->neterr);
    bool responded = cls != STATS_NETWORK_ERROR;
    bool success = responded && a->expect_ok;
    uint64_t elapsed = a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
    size_t undo = out->len;
    char code[64];
    char msg[STATS_REASON_MAX + 32];
    int rc;

    if (responded) {
        snprintf(code, sizeof(code), "%d", a->status);
        snprintf(msg, sizeof(msg), "%s", report_jtl_status_text(a->status));
    } else {
        snprintf(code, sizeof(code), "Non HTTP response code: %s",
                 report_jtl_neterr_text(a->neterr));
        snprintf(msg, sizeof(msg), "Non HTTP response message: %s",
                 a->failure ? a->failure : report_jtl_neterr_text(a->neterr));
    }
    rc = buf_printf(out, "%llu,%llu,", (unsigned long long)report_jtl_ms(a->start_wall_ns),
                    (unsigned long long)report_jtl_ms(elapsed));
    if (rc == 0)
        rc = report_jtl_field(out, a->label);
    if (rc == 0)
        rc = buf_append(out, ",", 1);
    if (rc == 0)
        rc = report_jtl_field(out, code);
    if (rc == 0)
        rc = buf_append(out, ",", 1);
    if (rc == 0)
        rc = report_jtl_field(out, msg);
    if (rc == 0)
        rc = buf_append(out, ",", 1);
    if (rc == 0)
        rc = report_jtl_field(out, a->thread_name);
    if (rc == 0)
        rc = buf_printf(out, ",text,%s,", success ? "true" : "false");
    if (rc == 0 && !success)
        rc = report_jtl_field(out, a->failure);
    if (rc == 0)
        rc = buf_printf(out, ",%llu,%llu,%u,%u,", (unsigned long long)a->bytes_in,
                        (unsigned long long)a->bytes_out, a->grp_threads, a->all_threads);
    if (rc == 0)
        rc = report_jtl_field(out, a->url);
    if (rc == 0)
        rc = buf_printf(out, ",%llu,0,%llu\n", (unsigned long long)report_jtl_ms(a->ttfb_ns),
                        (unsigned long long)report_jtl_ms(a->connect_ns));
    if (rc != 0)
        out->len = undo; /* no half row */
    return rc;
}

/* Writes the buffered rows. The caller holds the lock. */
static void report_jtl_flush(report_jtl *j)
{
    if (j->error == 0 && j->out.len > 0 &&
        fwrite(buf_ptr(&j->out), 1, j->out.len, j->f) != j->out.len)
        j->error = errno ? -errno : -EIO;
    buf_reset(&j->out);
}

int report_jtl_open(report_jtl **out, const char *path, char *err, size_t errlen)
{
    report_jtl *j = calloc(1, sizeof(*j));
    int rc = -ENOMEM;

    *out = NULL;
    if (!j)
        goto err;
    buf_init(&j->out, 0);
    if (pthread_mutex_init(&j->lock, NULL) != 0) {
        free(j);
        j = NULL;
        goto err;
    }
    j->path = strdup(path);
    if (!j->path)
        goto err;
    j->f = fopen(path, "w");
    if (!j->f) {
        rc = -errno;
        goto err;
    }
    rc = buf_append_str(&j->out, REPORT_JTL_HEADER "\n");
    if (rc < 0)
        goto err;
    *out = j;
    return 0;
err:
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    if (j) {
        if (j->f)
            fclose(j->f);
        pthread_mutex_destroy(&j->lock);
        buf_free(&j->out);
        free(j->path);
        free(j);
    }
    return rc;
}

int report_jtl_write(report_jtl *j, const stats_attempt *a)
{
    int rc;

    pthread_mutex_lock(&j->lock);
    if (j->error == 0) {
        rc = report_jtl_format(&j->out, a);
        if (rc < 0)
            j->error = rc;
        else if (j->out.len >= REPORT_JTL_FLUSH)
            report_jtl_flush(j);
    }
    rc = j->error;
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int report_jtl_close(report_jtl *j, char *err, size_t errlen)
{
    int rc;

    if (!j)
        return 0;
    pthread_mutex_lock(&j->lock);
    report_jtl_flush(j);
    if (fclose(j->f) != 0 && j->error == 0)
        j->error = errno ? -errno : -EIO;
    rc = j->error;
    pthread_mutex_unlock(&j->lock);
    if (rc < 0 && errlen > 0)
        snprintf(err, errlen, "%s: %s", j->path, strerror(-rc));
    pthread_mutex_destroy(&j->lock);
    buf_free(&j->out);
    free(j->path);
    free(j);
    return rc;
}
