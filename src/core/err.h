/*
 * err: the project's one way to report an error a user can act on.
 *
 * Functions that can fail for a reason worth telling take a caller-provided
 * `char *err, size_t errlen` and return 0 or a negative errno-style code;
 * on failure they format the message with err_set, which returns the code so
 * that `return err_set(err, errlen, -EINVAL, "...")` is one statement.
 */
#ifndef TG_CORE_ERR_H
#define TG_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Formats the message into err (when err is not NULL and errlen > 0; a long
 * message is cut) and returns `code`. */
int err_set(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same with a va_list. */
int err_vset(char *err, size_t errlen, int code, const char *fmt, va_list ap);

#endif
