/*
 * feeder: one pass over the file's buffer; fields are unquoted in place (the
 * write position never passes the read position) and NUL-terminated.
 */
#include "run/feeder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static int feeder_push(feeder *f, size_t *cap, size_t n, size_t off, size_t len)
{
    if (n == *cap) {
        size_t ncap = *cap == 0 ? 64 : *cap * 2;
        struct feeder_cell *c = realloc(f->cells, ncap * sizeof(*c));

        if (c == NULL)
            return -ENOMEM;
        f->cells = c;
        *cap = ncap;
    }
    f->cells[n].off = off;
    f->cells[n].len = len;
    return 0;
}

/* Whether d[r] ends a record: LF, or CR followed by LF. */
static bool feeder_eol(const char *d, size_t r, size_t len)
{
    return d[r] == '\n' || (d[r] == '\r' && r + 1 < len && d[r + 1] == '\n');
}

static int feeder_header(feeder *f, size_t line, char *err, size_t errlen)
{
    for (size_t c = 0; c < f->ncols; c++) {
        const char *name = f->data + f->cells[c].off;

        if (f->cells[c].len == 0)
            return err_set(err, errlen, -EINVAL, "%s:%zu: column %zu has no name", f->name, line,
                           c + 1);
        for (size_t k = 0; k < c; k++) {
            if (strcmp(name, f->data + f->cells[k].off) == 0)
                return err_set(err, errlen, -EINVAL,
                               "%s:%zu: column '%s' appears twice (columns %zu and %zu)", f->name,
                               line, name, k + 1, c + 1);
        }
    }
    return 0;
}

/* Parses f->data[0..len) (with room for one more byte). */
static int feeder_parse_data(feeder *f, size_t len, char *err, size_t errlen)
{
    char *d = f->data;
    size_t r = 0, w = 0, line = 1, n = 0, cap = 0;
    int rc;

    if (len >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0)
        r = 3;
    while (r < len) {
        size_t rec_line = line, first = n, fields = 0;
        bool blank = false;

        for (;;) {
            size_t start = w;
            bool quoted = r < len && d[r] == '"';
            char sep;

            if (quoted) {
                size_t open = line;

                for (r++;; r++) {
                    if (r >= len)
                        return err_set(err, errlen, -EINVAL, "%s:%zu: unterminated quoted field",
                                       f->name, open);
                    if (d[r] == '"') {
                        if (r + 1 < len && d[r + 1] == '"') {
                            d[w++] = d[r++];
                            continue;
                        }
                        r++;
                        break;
                    }
                    line += d[r] == '\n';
                    d[w++] = d[r];
                }
                if (r < len && d[r] != ',' && !feeder_eol(d, r, len))
                    return err_set(err, errlen, -EINVAL,
                                   "%s:%zu: unexpected '%c' after a closing quote", f->name, line,
                                   d[r]);
            } else {
                for (; r < len && d[r] != ',' && !feeder_eol(d, r, len); r++) {
                    if (d[r] == '"')
                        return err_set(err, errlen, -EINVAL,
                                       "%s:%zu: '\"' inside an unquoted field (quote the "
                                       "field and double the quote: \"\")",
                                       f->name, line);
                    d[w++] = d[r];
                }
            }
            sep = r < len ? d[r] : '\0';
            rc = feeder_push(f, &cap, n++, start, w - start);
            if (rc < 0)
                return rc;
            d[w++] = '\0'; /* w <= r here: the separator was read into sep */
            fields++;
            blank = fields == 1 && !quoted && w - 1 == start && sep != ',';
            if (sep == ',') {
                r++;
                continue;
            }
            if (sep != '\0') {
                r += sep == '\r' ? 2 : 1;
                line++;
            }
            break;
        }
        if (blank) {
            n = first;
            continue;
        }
        if (f->ncols == 0) {
            f->ncols = fields;
            rc = feeder_header(f, rec_line, err, errlen);
            if (rc < 0)
                return rc;
        } else if (fields != f->ncols) {
            return err_set(err, errlen, -EINVAL,
                           "%s:%zu: %zu field%s, expected %zu as in the header", f->name, rec_line,
                           fields, fields == 1 ? "" : "s", f->ncols);
        }
    }
    if (f->ncols == 0)
        return err_set(err, errlen, -EINVAL, "%s:1: empty file, expected a header row", f->name);
    f->nrows = n / f->ncols - 1;
    if (f->nrows == 0)
        return err_set(err, errlen, -EINVAL, "%s:%zu: no data rows after the header", f->name,
                       line);
    return 0;
}

int feeder_parse(feeder *f, const char *name, const char *data, size_t len, char *err,
                 size_t errlen)
{
    int rc = -ENOMEM;

    memset(f, 0, sizeof(*f));
    atomic_init(&f->next, 0);
    f->name = strdup(name);
    f->data = malloc(len + 1);
    if (f->name == NULL || f->data == NULL)
        goto err;
    memcpy(f->data, data, len);
    rc = feeder_parse_data(f, len, err, errlen);
    if (rc < 0)
        goto err;
    return 0;
err:
    feeder_free(f);
    return rc;
}

int feeder_load(feeder *f, const char *path, size_t max_bytes, char *err, size_t errlen)
{
    FILE *fp;
    char *data = NULL;
    size_t len = 0, cap = 0;
    int rc;

    memset(f, 0, sizeof(*f));
    if (max_bytes == 0)
        max_bytes = FEEDER_MAX_BYTES;
    fp = fopen(path, "rb");
    if (fp == NULL) {
        rc = -errno;
        return err_set(err, errlen, rc, "%s: %s", path, strerror(-rc));
    }
    for (;;) {
        size_t got;

        if (len == cap) {
            char *p;

            cap = cap == 0 ? 65536 : cap * 2;
            p = realloc(data, cap);
            if (p == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            data = p;
        }
        got = fread(data + len, 1, cap - len, fp);
        len += got;
        if (len > max_bytes) {
            rc = err_set(err, errlen, -EFBIG, "%s: larger than the feeder limit of %zu bytes", path,
                         max_bytes);
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rc = err_set(err, errlen, -EIO, "%s: read error", path);
        goto out;
    }
    rc = feeder_parse(f, path, data, len, err, errlen);
out:
    free(data);
    fclose(fp);
    return rc;
}

void feeder_free(feeder *f)
{
    free(f->name);
    free(f->data);
    free(f->cells);
    f->name = f->data = NULL;
    f->cells = NULL;
    f->ncols = f->nrows = 0;
}

size_t feeder_next_row(feeder *f)
{
    return (size_t)(atomic_fetch_add_explicit(&f->next, 1, memory_order_relaxed) % f->nrows);
}

size_t feeder_row_for_vu(const feeder *f, uint64_t vu)
{
    return (size_t)(vu % f->nrows);
}

int feeder_column(const feeder *f, const char *name, size_t len)
{
    for (size_t c = 0; c < f->ncols; c++) {
        if (f->cells[c].len == len && memcmp(f->data + f->cells[c].off, name, len) == 0)
            return (int)c;
    }
    return -ENOENT;
}

const char *feeder_column_name(const feeder *f, size_t c)
{
    return f->data + f->cells[c].off;
}

const char *feeder_value(const feeder *f, size_t r, size_t c, size_t *len)
{
    const struct feeder_cell *cell = &f->cells[(r + 1) * f->ncols + c];

    *len = cell->len;
    return f->data + cell->off;
}

int feeder_lookup(void *ctx, const char *name, size_t len, const char **value, size_t *value_len)
{
    const feeder_row *row = ctx;
    int c = feeder_column(row->f, name, len);

    if (c < 0)
        return c;
    *value = feeder_value(row->f, row->row, (size_t)c, value_len);
    return 0;
}
