#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static atomic_int log_level_now = LOG_LEVEL_INFO;
static atomic_int log_fd = 2;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
    atomic_store(&log_level_now, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_level_now);
}

void log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

int log_parse_level(const char *name, enum log_level *out)
{
    for (int i = 0; i < (int)(sizeof(log_names) / sizeof(log_names[0])); i++) {
        if (strcmp(name, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void log_emit(enum log_level level, const char *module, const char *fmt, ...)
{
    char line[2048];
    struct tm tm;
    va_list ap;
    uint64_t now;
    time_t secs;
    size_t n;
    int w;

    if ((int)level > atomic_load(&log_level_now))
        return;
    now = clock_wall_ns();
    secs = (time_t)(now / CLOCK_NS_PER_S);
    gmtime_r(&secs, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    w = snprintf(line + n, sizeof(line) - n,
                 ".%03uZ %s %s: ", (unsigned)(now % CLOCK_NS_PER_S / CLOCK_NS_PER_MS),
                 log_names[level], module);
    n += (size_t)w;
    va_start(ap, fmt);
    w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    /* A message longer than the buffer is cut, keeping room for the newline. */
    n = (w < 0 || n + (size_t)w >= sizeof(line) - 1) ? sizeof(line) - 2 : n + (size_t)w;
    line[n++] = '\n';
    if (write(atomic_load(&log_fd), line, n) < 0) {
        /* Nowhere left to report a failed write to stderr. */
    }
}
