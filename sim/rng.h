/* SPDX-License-Identifier: MIT */
/* Deterministic PRNG (xoshiro256**, seeded by splitmix64): same seed, same run. */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

typedef struct sim_rng { uint64_t s[4]; } sim_rng_t;

void sim_rng_seed(sim_rng_t *r, uint64_t seed);
uint64_t sim_rng_next(sim_rng_t *r);
double sim_rng_uniform(sim_rng_t *r);            /* [0, 1) */
double sim_rng_normal(sim_rng_t *r);             /* mean 0, sd 1 */

#endif
