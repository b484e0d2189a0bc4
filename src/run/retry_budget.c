/*
 * retry_budget: hand-written; it is ten counters and a sum. No Debian
 * library offers a retry budget.
 */
#include "run/retry_budget.h"

#include "core/clock.h"

void retry_budget_init(retry_budget *b)
{
    for (int i = 0; i < RETRY_BUDGET_SLOTS; i++) {
        b->slot[i].sec = UINT64_MAX;
        b->slot[i].requests = 0;
        b->slot[i].retries = 0;
    }
}

/* The slot for now's second, emptied first if it held an older second. */
static int retry_budget_slot(retry_budget *b, uint64_t now)
{
    uint64_t sec = now / CLOCK_NS_PER_S;
    int i = (int)(sec % RETRY_BUDGET_SLOTS);

    if (b->slot[i].sec != sec) {
        b->slot[i].sec = sec;
        b->slot[i].requests = 0;
        b->slot[i].retries = 0;
    }
    return i;
}

void retry_budget_note_request(retry_budget *b, uint64_t now)
{
    int i = retry_budget_slot(b, now);

    if (b->slot[i].requests < UINT32_MAX)
        b->slot[i].requests++;
}

void retry_budget_note_retry(retry_budget *b, uint64_t now)
{
    int i = retry_budget_slot(b, now);

    if (b->slot[i].retries < UINT32_MAX)
        b->slot[i].retries++;
}

void retry_budget_window(const retry_budget *b, uint64_t now, uint64_t *requests, uint64_t *retries)
{
    uint64_t sec = now / CLOCK_NS_PER_S;

    *requests = 0;
    *retries = 0;
    for (int i = 0; i < RETRY_BUDGET_SLOTS; i++) {
        uint64_t s = b->slot[i].sec;
        if (s <= sec && sec - s < RETRY_BUDGET_SLOTS) {
            *requests += b->slot[i].requests;
            *retries += b->slot[i].retries;
        }
    }
}

bool retry_budget_allows(const retry_budget *b, uint32_t ratio_ppm, uint32_t min_per_s,
                         uint64_t now)
{
    uint64_t requests, retries;

    retry_budget_window(b, now, &requests, &retries);
    /* (retries + 1) <= requests * ratio + min_per_s * 10, both sides in ppm.
     * Bounds: requests < 10 * 2^32 and ratio <= 1e8 give < 4.3e18; the floor
     * adds at most 1e13; both fit in 64 bits. */
    return (retries + 1) * RETRY_RATIO_ONE <=
           requests * ratio_ppm + (uint64_t)min_per_s * RETRY_BUDGET_SLOTS * RETRY_RATIO_ONE;
}
