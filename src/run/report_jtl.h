/*
 * report_jtl: `--jtl FILE`, one JMeter CSV row per HTTP attempt, so that
 * JMeter's dashboard generator (`jmeter -g FILE -o DIR`) and other JTL tools
 * read a tollgate run.
 *
 * The header is exactly
 *   timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,
 *   success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,
 *   IdleTime,Connect
 * (one line). timeStamp is the attempt's start in milliseconds since the
 * epoch; elapsed, Latency (time to the first response byte) and Connect are
 * whole milliseconds (truncated, as JMeter's own); success is `true` or
 * `false` (the status is one the step expects); dataType is `text`; IdleTime
 * is 0. An attempt without a response has responseCode
 * `Non HTTP response code: <kind>` with kind one of `connection refused`,
 * `connection reset`, `timeout`, `TLS error`, `network error`, and
 * responseMessage `Non HTTP response message: <failure text>`. Fields that
 * contain a comma, a double quote, CR or LF are quoted as RFC 4180 says.
 *
 * Rows are formatted under one mutex into a buffer that is written to the
 * file when it passes 64 KB and at close, so the writer can be shared by
 * every event-loop thread.
 *
 * Hand-written: a CSV row is a few lines of quoting; no Debian C library
 * writes CSV.
 */
#ifndef TG_RUN_REPORT_JTL_H
#define TG_RUN_REPORT_JTL_H

#include <stddef.h>

#include "core/buf.h"
#include "run/stats.h"

#define REPORT_JTL_HEADER                                                                          \
    "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"            \
    "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect"

typedef struct report_jtl report_jtl;

/* Creates (or truncates) the file at `path` and writes the header line.
 * Returns 0 with *out set, or a negative errno with a message naming the file
 * in err. The writer is freed by report_jtl_close. */
int report_jtl_open(report_jtl **out, const char *path, char *err, size_t errlen);

/* Appends the row of one ended attempt. Safe to call from several threads at
 * once. Returns 0, or the negative errno of the first failed write (later
 * rows are then dropped and the error is reported again by close). */
int report_jtl_write(report_jtl *j, const stats_attempt *a);

/* Writes what is buffered, closes the file and frees the writer (NULL does
 * nothing). No thread may call report_jtl_write any more. Returns 0 or the
 * negative errno of the first failure, with a message in err. */
int report_jtl_close(report_jtl *j, char *err, size_t errlen);

/* Appends the CSV row of *a (with its final "\n") to out. Returns 0 or the
 * buf error. Exposed for tests and for other writers. */
int report_jtl_format(buf *out, const stats_attempt *a);

/* Appends s as one CSV field: unchanged, or between double quotes with each
 * double quote doubled when s contains a comma, a double quote, CR or LF.
 * NULL is the empty field. Returns 0 or the buf error. */
int report_jtl_field(buf *out, const char *s);

/* The reason phrase of an HTTP status ("OK", "Too Many Requests"), "" when
 * unknown. */
const char *report_jtl_status_text(int status);

#endif
