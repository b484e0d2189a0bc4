/*
 * looptime: time on one event loop of `tollgate run`: the monotonic clock
 * read once per loop pass, wall-clock times derived from it, and timers with
 * nanosecond deadlines.
 *
 * libuv's timers count whole milliseconds of loop time, too coarse for an
 * open-model pacer: 10000 arrivals a second are 100 us apart and their sends
 * must be within well under a millisecond of the schedule. Here the timers of
 * a loop live in one binary heap ordered by deadline (ns), and one Linux
 * timerfd, armed before each poll at the earliest deadline (absolute
 * CLOCK_MONOTONIC, the clock behind clock_now_ns), wakes the loop with the
 * kernel's high-resolution timers. Due timers also run after every poll
 * (uv_check), so a busy loop needs no extra wake-up. A timer never runs
 * before its deadline.
 *
 * The clock: looptime_now() reads clock_now_ns() the first time it is called
 * in a loop pass (after the poll returned, or after the timers ran) and
 * returns that same value for the rest of the pass, as nginx updates its
 * time once after each epoll_wait: every response handled in one pass
 * shares one reading. Wall-clock times (JTL timestamps, HTTP dates, epoch
 * resets, {{now_ms}}) are the monotonic time plus the offset between the
 * two clocks taken at looptime_init, so they cost no second reading.
 *
 * Hand-written because libuv has no sub-millisecond timers; the heap is the
 * usual array heap with each timer knowing its slot, so stopping is
 * O(log n). One looptime per loop; nothing here is thread-safe.
 */
#ifndef TG_RUN_LOOPTIME_H
#define TG_RUN_LOOPTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct looptime looptime;
typedef struct lt_timer lt_timer;

/* Called once a timer's deadline has passed, with the loop's `now` (ns). The
 * timer is stopped when this runs; the callback may start it again. */
typedef void (*lt_timer_cb)(lt_timer *t, uint64_t now);

/* A timer, in memory its owner allocates (usually inside its own struct). */
struct lt_timer {
    uint64_t due; /* deadline, monotonic ns */
    size_t idx;   /* slot in the heap; SIZE_MAX when stopped */
    lt_timer_cb cb;
    void *data; /* the owner's */
};

struct looptime {
    uv_loop_t *loop;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_poll_t poll;
    int tfd;          /* timerfd, -1 when closed */
    uint64_t now;     /* cached monotonic ns */
    bool fresh;       /* `now` was read in this pass */
    int64_t wall_off; /* wall-clock ns minus monotonic ns, at init */
    lt_timer **heap;  /* owned; n timers, cap slots */
    size_t n, cap;
    uint64_t armed; /* deadline the timerfd is armed for; UINT64_MAX: none */
    int open_handles;
    void (*on_closed)(looptime *lt);
    void *data; /* the owner's */
};

/* Prepares `lt` on `loop`: a timerfd and three handles (prepare, check,
 * poll), none of which keeps the loop alive by itself unless a timer is
 * pending. Returns 0, or -errno (the timerfd) or a libuv error, with nothing
 * left to close. After success, looptime_close must run before the loop
 * closes. */
int looptime_init(looptime *lt, uv_loop_t *loop);

/* The monotonic time (ns) of this loop pass; see the module comment. */
uint64_t looptime_now(looptime *lt);

/* Reads the clock again now, for the rare place that must not reuse the
 * pass's reading (e.g. right after a blocking call). */
uint64_t looptime_refresh(looptime *lt);

/* Epoch nanoseconds of monotonic time `mono`. */
uint64_t looptime_wall(const looptime *lt, uint64_t mono);

/* Makes room for `n` timers in all, so that looptime_timer_start cannot fail
 * for that many. Returns 0 or -ENOMEM. */
int looptime_reserve(looptime *lt, size_t n);

/* Sets up a stopped timer. Cannot fail. */
void looptime_timer_init(lt_timer *t, lt_timer_cb cb, void *data);

/* Starts (or moves) `t` to run at `due` (monotonic ns; a time already past
 * runs it at the end of the current pass or the next). Returns 0, or -ENOMEM
 * when the heap had to grow and could not (the timer is then stopped). */
int looptime_timer_start(looptime *lt, lt_timer *t, uint64_t due);

/* Stops `t`; harmless on a stopped timer. */
void looptime_timer_stop(looptime *lt, lt_timer *t);

/* Whether `t` is started. */
bool looptime_timer_active(const lt_timer *t);

/* Runs every timer whose deadline is at or before `now`, earliest first
 * (looptime does this itself after each poll; exposed for tests). */
void looptime_run(looptime *lt, uint64_t now);

/* Closes the handles and the timerfd; pending timers are forgotten (never
 * run). `on_closed` (may be NULL) runs from the loop once the handles are
 * closed; the memory of `lt` must stay valid until then. */
void looptime_close(looptime *lt, void (*on_closed)(looptime *lt));

/* Frees the heap, after looptime_close's callback (or if the loop is gone). */
void looptime_free(looptime *lt);

#endif
