/*
 * rng: a small, fast, seedable pseudo-random generator (xoshiro256**, seeded
 * through splitmix64) for jitter, Poisson arrivals, latency models and
 * synthetic data. Not for secrets: use OpenSSL's RAND_bytes for those.
 *
 * Hand-written because it is a dozen lines and must be reproducible from a
 * seed across runs and platforms (random(3) and rand_r are neither fast nor
 * specified). One generator per thread; not thread-safe.
 */
#ifndef TG_CORE_RNG_H
#define TG_CORE_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

/* Seeds the generator; the same seed always gives the same sequence. */
void rng_seed(rng *r, uint64_t seed);

/* Seeds from the operating system's entropy (getrandom). Returns 0 or a
 * negative errno; on failure the generator is seeded from the clock. */
int rng_seed_random(rng *r);

/* Next 64 random bits. */
uint64_t rng_next(rng *r);

/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t rng_below(rng *r, uint64_t n);

/* Uniform integer in [lo, hi] (inclusive); lo <= hi. */
int64_t rng_range(rng *r, int64_t lo, int64_t hi);

/* Uniform double in [0, 1), 53 bits. */
double rng_double(rng *r);

/* Exponentially distributed double with the given mean (> 0), for Poisson
 * inter-arrival times. */
double rng_exponential(rng *r, double mean);

#endif
