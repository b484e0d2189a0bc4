#include "core/clock.h"

#include <time.h>

static uint64_t clock_read(clockid_t id)
{
    struct timespec ts;

    /* clock_gettime cannot fail for these clock ids on Linux. */
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t clock_now_ns(void)
{
    return clock_read(CLOCK_MONOTONIC);
}

uint64_t clock_wall_ns(void)
{
    return clock_read(CLOCK_REALTIME);
}
