/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets and the replay driver (fuzz_main.c). */
#ifndef BMS_FUZZ_COMMON_H
#define BMS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each target sets this to non-zero when the input went all the way through
 * its parser (e.g. a frame passed every check). The replay driver demands it
 * for every seed under an accept/ folder and forbids it under reject/, so a
 * parser that starts refusing real frames, or a target that stops reaching
 * the deep code, fails its ctest. libFuzzer ignores it. Each target defines it,
 * so the libFuzzer build (without fuzz_main.c) links too. */
extern int bms_fuzz_accepted;

/* A broken invariant is a finding: say which, then abort so that both
 * libFuzzer and the replay driver stop on this input. */
#define FUZZ_CHECK(cond)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                            \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* FNV-1a over the input: seeds the target's own choices (chunk sizes, time
 * steps) so they are a pure function of the input and every finding replays. */
static inline uint32_t bms_fuzz_hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++) {
        h = (h ^ data[i]) * 16777619u;
    }
    return h != 0 ? h : 1u;
}

/* xorshift32 step; state must not be 0. */
static inline uint32_t bms_fuzz_next(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
