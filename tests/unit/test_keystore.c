#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "limit/keystore.h"

#define FAR_FUTURE (1ULL << 62)

/* Resident set size of this process in bytes. */
static uint64_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static keystore_key key_n(const keystore *ks, uint64_t n)
{
    return keystore_key_of(ks, &n, sizeof(n));
}

/* Creates (or finds) key n and sets its state; full_at decides idleness. */
static void put(keystore *ks, uint64_t n, uint64_t now, uint64_t mark, uint64_t full_at)
{
    keystore_key k = key_n(ks, n);
    keystore_val *v;

    keystore_lock(ks, k.shard);
    v = keystore_get(ks, &k, now);
    assert_non_null(v);
    v->st.a = mark;
    v->st.b = ~mark;
    v->full_at = full_at;
    keystore_unlock(ks, k.shard);
}

/* The mark of key n, or 0 if the key is absent. Touches it. */
static uint64_t mark_of(keystore *ks, uint64_t n)
{
    keystore_key k = key_n(ks, n);
    keystore_val *v;
    uint64_t mark = 0;

    keystore_lock(ks, k.shard);
    v = keystore_find(ks, &k);
    if (v != NULL) {
        assert_int_equal(v->st.b, ~v->st.a);
        mark = v->st.a;
    }
    keystore_unlock(ks, k.shard);
    return mark;
}

static void test_basics(void **state)
{
    keystore *ks, *other;
    keystore_key a, b, a2;
    keystore_val *v;

    (void)state;
    assert_int_equal(keystore_new(&ks, 10), -EINVAL);
    assert_int_equal(keystore_new(&ks, 1000), 0);
    assert_int_equal(keystore_new(&other, 1000), 0);
    assert_int_equal(keystore_entry_size(), 48);
    a = keystore_key_of(ks, "alpha", 5);
    b = keystore_key_of(ks, "beta", 4);
    a2 = keystore_key_of(other, "alpha", 5);
    assert_true(a.fp != b.fp);
    assert_true(a.fp != a2.fp); /* each table has its own secret */
    keystore_lock(ks, a.shard);
    assert_null(keystore_find(ks, &a));
    v = keystore_get(ks, &a, 100);
    assert_non_null(v);
    assert_int_equal(v->st.a, 0); /* new entries are zero: full allowance */
    assert_int_equal(v->full_at, 0);
    v->st.a = 42;
    v->full_at = 500;
    keystore_unlock(ks, a.shard);
    keystore_lock(ks, a.shard);
    v = keystore_find(ks, &a);
    assert_non_null(v);
    assert_int_equal(v->st.a, 42);
    keystore_unlock(ks, a.shard);
    keystore_free(ks);
    keystore_free(other);
}

static void test_idle_first_then_lru(void **state)
{
    keystore *ks;
    keystore_stats st;

    (void)state;
    assert_int_equal(keystore_new(&ks, 64), 0); /* one shard of 64 */
    /* 32 old keys with state, then 32 newer keys already back to full */
    for (uint64_t i = 1; i <= 32; i++)
        put(ks, i, 1000, i, FAR_FUTURE);
    for (uint64_t i = 33; i <= 64; i++)
        put(ks, i, 1000, i, 999);
    keystore_stats_get(ks, &st);
    assert_int_equal(st.keys, 64);
    /* 32 new keys with state: the idle ones go although they are more recent */
    for (uint64_t i = 65; i <= 96; i++)
        put(ks, i, 2000, i, FAR_FUTURE);
    keystore_stats_get(ks, &st);
    assert_int_equal(st.keys, 64);
    assert_int_equal(st.expired, 32);
    assert_int_equal(st.evicted, 0);
    for (uint64_t i = 1; i <= 32; i++)
        assert_int_equal(mark_of(ks, i), i);
    for (uint64_t i = 33; i <= 64; i++)
        assert_int_equal(mark_of(ks, i), 0);
    /* Nothing idle now: the least recently used goes. mark_of touched 1..32
     * after 65..96 were made, so 65 is the coldest. */
    put(ks, 97, 3000, 97, FAR_FUTURE);
    keystore_stats_get(ks, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(mark_of(ks, 65), 0);
    assert_int_equal(mark_of(ks, 66), 66);
    assert_int_equal(mark_of(ks, 1), 1);
    keystore_free(ks);
}

static void test_pinned_entries_stay(void **state)
{
    keystore *ks;
    keystore_key k;
    keystore_stats st;

    (void)state;
    assert_int_equal(keystore_new(&ks, 64), 0); /* one shard, room for 64 + 16 */
    keystore_lock(ks, 0);
    for (uint64_t i = 0; i < 80; i++) {
        keystore_val *v;

        k = key_n(ks, i);
        assert_int_equal(k.shard, 0);
        v = keystore_get(ks, &k, 1);
        assert_non_null(v);
        v->full_at = FAR_FUTURE; /* not idle: only LRU eviction can make room */
    }
    /* Every entry was returned under this lock, so none may go: the bound is
     * exceeded within the shard's array, and once that is full, no more. */
    keystore_stats_get(ks, &st);
    assert_int_equal(st.keys, 80);
    k = key_n(ks, 80);
    assert_null(keystore_get(ks, &k, 1));
    keystore_unlock(ks, 0);
    /* Unpinned, the next insertions come back under the bound. */
    for (uint64_t i = 80; i < 90; i++)
        put(ks, i, 1, i, FAR_FUTURE);
    keystore_stats_get(ks, &st);
    assert_int_equal(st.keys, 64);
    keystore_free(ks);
}

/* With 64 shards a table of 1 million holds 1 million keys, although the
 * hash does not spread them exactly evenly. */
static void test_bound_is_global(void **state)
{
    keystore *ks;
    keystore_stats st;
    const uint64_t max = 64 * 1000;

    (void)state;
    assert_int_equal(keystore_new(&ks, max), 0);
    for (uint64_t n = 0; n < max; n++)
        put(ks, n, 1, n + 1, FAR_FUTURE);
    keystore_stats_get(ks, &st);
    assert_int_equal(st.keys, max);
    assert_int_equal(st.evicted, 0);
    for (uint64_t n = 0; n < max; n += 997)
        assert_int_equal(mark_of(ks, n), n + 1);
    put(ks, max, 1, max + 1, FAR_FUTURE);
    keystore_stats_get(ks, &st);
    assert_int_equal(st.keys, max);
    assert_int_equal(st.evicted, 1);
    keystore_free(ks);
}

/* 10 million distinct keys through a table bounded at 1 million (about 10 s
 * under ASan, 4 s without, on the 2-core VM): the table holds at most its
 * bound, resident memory grows by no more than the memory reserved at
 * creation (58 bytes per key: 48-byte entries + buckets + 1/8 slack), and
 * keys that stay in use keep their state throughout. Half the stream is idle
 * on arrival, half is not, so both the sweep and the LRU eviction run. */
static void test_ten_million_keys(void **state)
{
    const uint64_t total = 10000000, live = 100;
    const uint64_t max = KEYSTORE_DEFAULT_MAX_KEYS;
    keystore *ks;
    keystore_stats st;
    uint64_t rss0, rss1, now = 1;

    (void)state;
    rss0 = rss_bytes();
    assert_int_equal(keystore_new(&ks, max), 0);
    for (uint64_t i = 0; i < live; i++)
        put(ks, (1ULL << 40) + i, now, 1000 + i, FAR_FUTURE);
    for (uint64_t n = 0; n < total; n++, now++) {
        put(ks, n, now, n + 1, n % 2 ? FAR_FUTURE : now);
        if (n % 50000 == 0)
            for (uint64_t i = 0; i < live; i++)
                assert_int_equal(mark_of(ks, (1ULL << 40) + i), 1000 + i);
    }
    keystore_stats_get(ks, &st);
    rss1 = rss_bytes();
    assert_true(st.keys <= max);
    assert_true(st.keys >= max / 2);
    assert_true(st.bytes <= max * 64);
    assert_true(st.expired > 0);
    assert_true(st.evicted > 0);
    assert_int_equal(st.expired + st.evicted + st.keys, total + live);
    /* ASan keeps a shadow byte per 8 bytes touched */
    assert_true(rss1 - rss0 <= st.bytes + st.bytes / 8 + (8u << 20));
    for (uint64_t i = 0; i < live; i++)
        assert_int_equal(mark_of(ks, (1ULL << 40) + i), 1000 + i);
    /* the most recent keys are there with their state */
    assert_int_equal(mark_of(ks, total - 1), total);
    print_message("%llu keys through a bound of %llu: %llu held, %llu bytes reserved (%.1f per "
                  "key), resident growth %.1f MB, %llu expired, %llu evicted\n",
                  (unsigned long long)total, (unsigned long long)max, (unsigned long long)st.keys,
                  (unsigned long long)st.bytes, (double)st.bytes / (double)max,
                  (double)(rss1 - rss0) / 1e6, (unsigned long long)st.expired,
                  (unsigned long long)st.evicted);
    keystore_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_idle_first_then_lru),
        cmocka_unit_test(test_pinned_entries_stay),
        cmocka_unit_test(test_bound_is_global),
        cmocka_unit_test(test_ten_million_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
