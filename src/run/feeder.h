/*
 * feeder: a CSV data feeder. A file with a header row is loaded once; its rows
 * are handed out to iterations (round robin across all VUs, like JMeter's CSV
 * Data Set shared by all threads, or one fixed row per VU) and its columns
 * become template variables: `{{username}}` is the current row's value in
 * column "username".
 *
 * The format is RFC 4180: fields separated by commas, records by CRLF or LF,
 * fields optionally in double quotes, in which commas, line breaks and doubled
 * quotes ("") are data. A UTF-8 byte order mark is skipped; blank lines are
 * ignored; every record must have as many fields as the header. Errors name
 * the file and line ("users.csv:7: 3 fields, expected 4 as in the header").
 *
 * Hand-written: Debian's CSV libraries (libcsv) are callback parsers that copy
 * every field; this one unquotes in place in the file's buffer and reports
 * line numbers, in about 200 lines.
 */
#ifndef TG_RUN_FEEDER_H
#define TG_RUN_FEEDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The default bound on a feeder file's size. */
#define FEEDER_MAX_BYTES (64u << 20)

struct feeder_cell {
    size_t off, len; /* into feeder.data */
};

typedef struct feeder {
    char *name;                /* owned: the file name, for messages */
    char *data;                /* owned: the file, fields unquoted in place */
    struct feeder_cell *cells; /* owned: row r (header = -1), column c at (r + 1) * ncols + c */
    size_t ncols, nrows;       /* nrows excludes the header */
    atomic_uint_fast64_t next; /* round robin position */
} feeder;

/* Loads `path`, refusing files larger than max_bytes (0 = FEEDER_MAX_BYTES).
 * Returns 0; -errno from opening or reading the file, -EFBIG, or -EINVAL for
 * bad contents, each with a message; or -ENOMEM. Free with feeder_free. */
int feeder_load(feeder *f, const char *path, size_t max_bytes, char *err, size_t errlen);

/* Parses `len` bytes of CSV (copied); `name` is used in messages. Same
 * returns as feeder_load. */
int feeder_parse(feeder *f, const char *name, const char *data, size_t len, char *err,
                 size_t errlen);

/* Frees everything; harmless on a zeroed or freed feeder. */
void feeder_free(feeder *f);

/* The next row in round robin order across every caller (thread-safe). */
size_t feeder_next_row(feeder *f);

/* The row that VU `vu` always uses: vu % nrows. */
size_t feeder_row_for_vu(const feeder *f, uint64_t vu);

/* Column index of `name` (len bytes), or -ENOENT. */
int feeder_column(const feeder *f, const char *name, size_t len);

/* Column c's name (NUL-terminated), c < ncols. */
const char *feeder_column_name(const feeder *f, size_t c);

/* The value in row r (< nrows), column c (< ncols): a pointer into the
 * feeder's data, NUL-terminated, with its length in *len (a quoted field may
 * itself contain NUL bytes). */
const char *feeder_value(const feeder *f, size_t r, size_t c, size_t *len);

/* One row of a feeder, as a template variable source: pass feeder_lookup as
 * tmpl_ctx.lookup and a feeder_row as its lookup_ctx. */
typedef struct feeder_row {
    const feeder *f;
    size_t row;
} feeder_row;

/* Looks up column `name` in the row. Returns 0 with the value, or -ENOENT.
 * (The signature of tmpl_lookup_fn.) */
int feeder_lookup(void *ctx, const char *name, size_t len, const char **value, size_t *value_len);

#endif
