/* SPDX-License-Identifier: MIT */
/* Deterministic PRNG: xoshiro256** seeded through splitmix64; see rng.h. */
#include "sim/rng.h"

#include <math.h>

/* M_PI is not in strict C11. */
#define SIM_TWO_PI 6.283185307179586476925

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void sim_rng_seed(sim_rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
    /* splitmix64 never yields four zeros in a row, but xoshiro must not
     * start from the all-zero state, so make that impossible by construction. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) {
        r->s[0] = 1;
    }
}

uint64_t sim_rng_next(sim_rng_t *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sim_rng_uniform(sim_rng_t *r)
{
    /* Top 53 bits: every double in [0, 1) on a 2^-53 grid. */
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

double sim_rng_normal(sim_rng_t *r)
{
    /* Box-Muller, one value per call (no cached second value, so the
     * sequence depends only on the number of calls, never on call history). */
    double u1 = 1.0 - sim_rng_uniform(r); /* (0, 1]: log() stays finite */
    double u2 = sim_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(SIM_TWO_PI * u2);
}
