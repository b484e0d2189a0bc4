#include "run/looptime.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/clock.h"

#define LT_NONE UINT64_MAX

/* ---- the heap: heap[0] is the earliest deadline ---- */

static void lt_place(looptime *lt, lt_timer *t, size_t i)
{
    lt->heap[i] = t;
    t->idx = i;
}

static void lt_sift_up(looptime *lt, size_t i)
{
    lt_timer *t = lt->heap[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (lt->heap[parent]->due <= t->due)
            break;
        lt_place(lt, lt->heap[parent], i);
        i = parent;
    }
    lt_place(lt, t, i);
}

static void lt_sift_down(looptime *lt, size_t i)
{
    lt_timer *t = lt->heap[i];

    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= lt->n)
            break;
        if (child + 1 < lt->n && lt->heap[child + 1]->due < lt->heap[child]->due)
            child++;
        if (t->due <= lt->heap[child]->due)
            break;
        lt_place(lt, lt->heap[child], i);
        i = child;
    }
    lt_place(lt, t, i);
}

static void lt_remove(looptime *lt, lt_timer *t)
{
    size_t i = t->idx;
    lt_timer *last;

    t->idx = SIZE_MAX;
    last = lt->heap[--lt->n];
    if (i == lt->n)
        return;
    lt_place(lt, last, i);
    if (i > 0 && lt->heap[(i - 1) / 2]->due > last->due)
        lt_sift_up(lt, i);
    else
        lt_sift_down(lt, i);
}

int looptime_reserve(looptime *lt, size_t n)
{
    lt_timer **h;

    if (n <= lt->cap)
        return 0;
    h = realloc(lt->heap, n * sizeof(*h));
    if (h == NULL)
        return -ENOMEM;
    lt->heap = h;
    lt->cap = n;
    return 0;
}

void looptime_timer_init(lt_timer *t, lt_timer_cb cb, void *data)
{
    t->due = 0;
    t->idx = SIZE_MAX;
    t->cb = cb;
    t->data = data;
}

bool looptime_timer_active(const lt_timer *t)
{
    return t->idx != SIZE_MAX;
}

int looptime_timer_start(looptime *lt, lt_timer *t, uint64_t due)
{
    if (t->idx != SIZE_MAX) {
        uint64_t old = t->due;
        t->due = due;
        if (due < old)
            lt_sift_up(lt, t->idx);
        else
            lt_sift_down(lt, t->idx);
        return 0;
    }
    if (lt->n == lt->cap && looptime_reserve(lt, lt->cap < 16 ? 16 : lt->cap * 2) < 0)
        return -ENOMEM;
    t->due = due;
    lt_place(lt, t, lt->n++);
    lt_sift_up(lt, lt->n - 1);
    if (lt->n == 1 && lt->tfd >= 0)
        uv_ref((uv_handle_t *)&lt->poll); /* a pending timer keeps the loop alive */
    return 0;
}

void looptime_timer_stop(looptime *lt, lt_timer *t)
{
    if (t->idx == SIZE_MAX)
        return;
    lt_remove(lt, t);
    if (lt->n == 0 && lt->tfd >= 0)
        uv_unref((uv_handle_t *)&lt->poll);
}

void looptime_run(looptime *lt, uint64_t now)
{
    while (lt->n > 0 && lt->heap[0]->due <= now) {
        lt_timer *t = lt->heap[0];
        lt_remove(lt, t);
        t->cb(t, now);
    }
    if (lt->n == 0 && lt->tfd >= 0)
        uv_unref((uv_handle_t *)&lt->poll);
}

/* ---- the clock ---- */

uint64_t looptime_now(looptime *lt)
{
    if (!lt->fresh) {
        lt->now = clock_now_ns();
        lt->fresh = true;
    }
    return lt->now;
}

uint64_t looptime_refresh(looptime *lt)
{
    lt->fresh = false;
    return looptime_now(lt);
}

uint64_t looptime_wall(const looptime *lt, uint64_t mono)
{
    return (uint64_t)((int64_t)mono + lt->wall_off);
}

/* ---- loop hooks ---- */

/* Before the poll: the next reading must be fresh, and the timerfd must fire
 * at the earliest deadline. */
static void lt_on_prepare(uv_prepare_t *h)
{
    looptime *lt = h->data;
    uint64_t due = lt->n > 0 ? lt->heap[0]->due : LT_NONE;
    struct itimerspec its = {{0, 0}, {0, 0}};

    lt->fresh = false;
    if (due == lt->armed || lt->tfd < 0)
        return;
    if (due != LT_NONE) {
        if (due == 0)
            due = 1; /* an all-zero it_value disarms */
        its.it_value.tv_sec = (time_t)(due / CLOCK_NS_PER_S);
        its.it_value.tv_nsec = (long)(due % CLOCK_NS_PER_S);
    }
    if (timerfd_settime(lt->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        lt->armed = due;
}

/* After the poll and its callbacks. */
static void lt_on_check(uv_check_t *h)
{
    looptime *lt = h->data;

    lt->fresh = false;
    if (lt->n > 0)
        looptime_run(lt, looptime_now(lt));
}

static void lt_on_poll(uv_poll_t *h, int status, int events)
{
    looptime *lt = h->data;
    uint64_t expirations;

    (void)status;
    (void)events;
    if (read(lt->tfd, &expirations, sizeof(expirations)) < 0) {
        /* EAGAIN: already read, or re-armed meanwhile. */
    }
    lt->armed = LT_NONE; /* a fired timerfd is disarmed */
    if (lt->n > 0)
        looptime_run(lt, looptime_now(lt));
}

int looptime_init(looptime *lt, uv_loop_t *loop)
{
    int rc;

    lt->loop = loop;
    lt->n = lt->cap = 0;
    lt->heap = NULL;
    lt->fresh = false;
    lt->armed = LT_NONE;
    lt->open_handles = 0;
    lt->on_closed = NULL;
    lt->wall_off = (int64_t)(clock_wall_ns() - clock_now_ns());
    lt->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (lt->tfd < 0)
        return -errno;
    rc = uv_poll_init(loop, &lt->poll, lt->tfd);
    if (rc < 0)
        goto err_fd;
    uv_prepare_init(loop, &lt->prepare);
    uv_check_init(loop, &lt->check);
    lt->poll.data = lt->prepare.data = lt->check.data = lt;
    lt->open_handles = 3;
    uv_prepare_start(&lt->prepare, lt_on_prepare);
    uv_check_start(&lt->check, lt_on_check);
    rc = uv_poll_start(&lt->poll, UV_READABLE, lt_on_poll);
    uv_unref((uv_handle_t *)&lt->prepare);
    uv_unref((uv_handle_t *)&lt->check);
    uv_unref((uv_handle_t *)&lt->poll);
    if (rc < 0) {
        looptime_close(lt, NULL);
        return rc;
    }
    return 0;
err_fd:
    close(lt->tfd);
    lt->tfd = -1;
    return rc;
}

static void lt_handle_closed(uv_handle_t *h)
{
    looptime *lt = h->data;

    if (--lt->open_handles == 0) {
        if (lt->tfd >= 0) {
            close(lt->tfd);
            lt->tfd = -1;
        }
        if (lt->on_closed != NULL)
            lt->on_closed(lt);
    }
}

void looptime_close(looptime *lt, void (*on_closed)(looptime *lt))
{
    while (lt->n > 0)
        lt_remove(lt, lt->heap[0]);
    lt->on_closed = on_closed;
    if (lt->open_handles == 0)
        return;
    uv_close((uv_handle_t *)&lt->poll, lt_handle_closed);
    uv_close((uv_handle_t *)&lt->prepare, lt_handle_closed);
    uv_close((uv_handle_t *)&lt->check, lt_handle_closed);
}

void looptime_free(looptime *lt)
{
    free(lt->heap);
    lt->heap = NULL;
    lt->n = lt->cap = 0;
}
