#include "limit/body429.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int body429_parse(const char *name, enum body429_kind *out, char *err, size_t errlen)
{
    if (name != NULL && strcmp(name, "problem") == 0) {
        *out = BODY429_PROBLEM;
        return 0;
    }
    if (name != NULL && strcmp(name, "platform") == 0) {
        *out = BODY429_PLATFORM;
        return 0;
    }
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "body: unknown '%s', expected problem or platform",
                 name == NULL ? "" : name);
    return -EINVAL;
}

const char *body429_content_type(enum body429_kind kind)
{
    return kind == BODY429_PROBLEM ? "application/problem+json" : "application/json";
}

/* Appends s as a JSON string, quotes included. */
static int body429_string(buf *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_append(out, "\"", 1);

    for (; *s != '\0' && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};

            rc = buf_append(out, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            rc = buf_append(out, esc, 6);
        } else {
            rc = buf_append(out, s, 1);
        }
    }
    return rc == 0 ? buf_append(out, "\"", 1) : rc;
}

static int body429_problem(const limit_decision *d, buf *out)
{
    int rc;
    bool first = true;

    rc =
        buf_printf(out,
                   "{\"type\": \"https://iana.org/assignments/http-problem-types#quota-exceeded\", "
                   "\"title\": \"Request cannot be satisfied as assigned quota has been "
                   "exceeded\", \"status\": 429, \"detail\": \"Retry the request in %" PRIu64
                   " second%s\", \"violated-policies\": [",
                   d->retry_after_s, d->retry_after_s == 1 ? "" : "s");
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        if (d->v[i].conforms)
            continue;
        if (!first)
            rc = buf_append_str(out, ", ");
        first = false;
        if (rc == 0)
            rc = body429_string(out, d->limits[i]->name);
    }
    return rc == 0 ? buf_append_str(out, "]}") : rc;
}

static int body429_platform(const limit_decision *d, buf *out)
{
    int i = limit_tightest(d);
    int rc;

    rc =
        buf_printf(out,
                   "{\"message\": \"Rate limit exceeded the maximum. Retry the request in [%" PRIu64
                   "] seconds\", \"code\": \"too.many.requests\", \"status\": 429, \"limit\": "
                   "{\"key\": ",
                   d->retry_after_s);
    if (rc == 0)
        rc = body429_string(out, d->limits[i]->name);
    if (rc == 0)
        rc = buf_printf(out, ", \"value\": %" PRIu64 "}}", d->v[i].quota);
    return rc;
}

int body429_write(enum body429_kind kind, const limit_decision *d, buf *out)
{
    if (d->admitted || d->n == 0)
        return -EINVAL;
    return kind == BODY429_PROBLEM ? body429_problem(d, out) : body429_platform(d, out);
}
