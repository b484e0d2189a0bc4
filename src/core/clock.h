/*
 * clock: the one place that reads the system clocks.
 *
 * Everything that depends on time (limiters, pacers, backoff, timeouts) takes
 * `now` in integer nanoseconds as a parameter and never calls these itself,
 * so that tests can drive it with a virtual clock.
 */
#ifndef TG_CORE_CLOCK_H
#define TG_CORE_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_US 1000ULL
#define CLOCK_NS_PER_MS 1000000ULL
#define CLOCK_NS_PER_S  1000000000ULL

/* Monotonic time in nanoseconds since an arbitrary origin (CLOCK_MONOTONIC).
 * Never goes backwards; use it for every interval and deadline. */
uint64_t clock_now_ns(void);

/* Wall-clock time in nanoseconds since the Unix epoch (CLOCK_REALTIME).
 * Only for timestamps shown to people or other programs (reports, HTTP
 * dates, epoch-based rate-limit resets); it may jump. */
uint64_t clock_wall_ns(void);

#endif
