/*
 * handler: what every endpoint shares -- the platform's JSON error body.
 */
#include "serve/handler.h"

#include <stdarg.h>
#include <stdio.h>

/* Appends s as the inside of a JSON string. */
static void handler_json_escape(buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c == '\n')
            buf_append(out, "\\n", 2);
        else if (c < 0x20)
            buf_printf(out, "\\u%04x", c);
        else
            buf_append(out, s, 1);
    }
}

void handler_error(handler_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(resp->body);
    buf_append_str(resp->body, "{\"message\": \"");
    handler_json_escape(resp->body, msg);
    buf_append_str(resp->body, "\", \"code\": \"");
    handler_json_escape(resp->body, code);
    buf_printf(resp->body, "\", \"status\": %d}", status);
}
