#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "core/rng.h"
#include "run/sgate.h"

static void test_longest_retry_after_wins(void **state)
{
    sgate g;

    (void)state;
    sgate_init(&g);
    assert_int_equal(sgate_wait(&g, 1000), 0);
    sgate_note(&g, 1000, 5000); /* closed until 6000 */
    assert_int_equal(sgate_wait(&g, 1000), 5000);
    assert_int_equal(sgate_wait(&g, 5999), 1);
    assert_int_equal(sgate_wait(&g, 6000), 0);
    sgate_note(&g, 2000, 1000); /* shorter: does not reopen early */
    assert_int_equal(sgate_wait(&g, 2500), 3500);
    sgate_note(&g, 3000, 10000); /* longer: extends */
    assert_int_equal(sgate_wait(&g, 3000), 10000);
    sgate_note(&g, UINT64_MAX - 5, 100); /* saturates */
    assert_int_equal(sgate_wait(&g, 0), UINT64_MAX);
    sgate_free(&g);
}

/* A send held by the shared gate goes within [until, until + the closed
 * period], at `now` when the gate is open; the period starts with the note
 * that closed the gate, whichever thread made it. */
static void test_release_window(void **state)
{
    sgate g;
    rng r;
    uint64_t lo = UINT64_MAX, hi = 0;

    (void)state;
    rng_seed(&r, 5);
    sgate_init(&g);
    assert_int_equal(sgate_release(&g, 1000, &r), 1000);
    sgate_note(&g, 1000, 50); /* closed 1000 .. 1050 */
    sgate_note(&g, 1020, 40); /* extended to 1060: a 60 ns period */
    for (int i = 0; i < 20000; i++) {
        uint64_t when = sgate_release(&g, 1030, &r);
        assert_in_range(when, 1060, 1120);
        lo = when < lo ? when : lo;
        hi = when > hi ? when : hi;
    }
    /* Both ends of the window are reached (61 values, 20000 draws). */
    assert_int_equal(lo, 1060);
    assert_int_equal(hi, 1120);
    assert_int_equal(sgate_release(&g, 1060, &r), 1060);
    sgate_free(&g);
}

#define THREADS 4
#define NOTES   20000

static sgate shared;
static uint64_t maxima[THREADS];

static void *noter(void *arg)
{
    uintptr_t k = (uintptr_t)arg;
    rng r;
    uint64_t best = 0, v;
    int i;

    rng_seed(&r, k + 1);
    for (i = 0; i < NOTES; i++) {
        v = rng_below(&r, 1000000000);
        sgate_note(&shared, 0, v);
        if (v > best)
            best = v;
    }
    maxima[k] = best;
    return NULL;
}

/* Several threads noting at once: the gate ends at the largest of all. */
static void test_concurrent_notes_keep_the_maximum(void **state)
{
    pthread_t t[THREADS];
    uint64_t best = 0;
    uintptr_t k;

    (void)state;
    sgate_init(&shared);
    for (k = 0; k < THREADS; k++)
        assert_int_equal(pthread_create(&t[k], NULL, noter, (void *)k), 0);
    for (k = 0; k < THREADS; k++) {
        pthread_join(t[k], NULL);
        if (maxima[k] > best)
            best = maxima[k];
    }
    assert_int_equal(sgate_wait(&shared, 0), best);
    sgate_free(&shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_retry_after_wins),
        cmocka_unit_test(test_release_window),
        cmocka_unit_test(test_concurrent_notes_keep_the_maximum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
