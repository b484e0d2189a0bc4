/*
 * log: leveled messages to stderr, one line per event.
 *
 * A line is "<UTC time> <level> <module>: <message>\n", written with a single
 * write(2) so that lines from several threads never interleave.
 */
#ifndef TG_CORE_LOG_H
#define TG_CORE_LOG_H

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
};

/* Messages above `level` are dropped. The default is LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info" or "debug". Returns 0, or -EINVAL. */
int log_parse_level(const char *name, enum log_level *out);

/* Emits one line if `level` is enabled; a trailing newline in fmt is not needed. */
void log_emit(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Redirects output to `fd` (default 2). For tests. */
void log_set_fd(int fd);

#define log_error(module, ...) log_emit(LOG_LEVEL_ERROR, module, __VA_ARGS__)
#define log_warn(module, ...)  log_emit(LOG_LEVEL_WARN, module, __VA_ARGS__)
#define log_info(module, ...)  log_emit(LOG_LEVEL_INFO, module, __VA_ARGS__)
#define log_debug(module, ...) log_emit(LOG_LEVEL_DEBUG, module, __VA_ARGS__)

#endif
