/* SPDX-License-Identifier: MIT */
/* Checks expectations sample by sample as a run advances.
 *
 * Samples come in time order. always/never: fail at the first sample in
 * [from, until] where the expression is false/true. eventually: pass at the
 * first true sample with t <= by; fail at the first sample after by, or at
 * finish. within D after A then E: each rising edge of A (false -> true, or
 * true at the first sample) arms a window [t, t + D]; E true at any sample in
 * it (the triggering one included) passes that arming; a sample past the
 * deadline with E still false fails. A re-trigger while armed keeps the older
 * deadline. A window still open at finish is not a failure; if A never became
 * true the expectation passes with triggered = false. at T: decided at the
 * first sample with t >= T; a run that ends before T fails. */
#ifndef BENCH_EXPECT_H
#define BENCH_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include "harness/scenario.h"

typedef enum bench_verdict { BENCH_PENDING = 0, BENCH_PASS, BENCH_FAIL } bench_verdict_t;

typedef struct bench_expect_state {
    const bench_expect_t *exp;
    bench_verdict_t verdict;
    double fail_t;
    char message[384];      /* why it failed, with the values of the signals it uses */
    /* private */
    bool prev_after;
    bool armed;
    double armed_t;
    bool seen_true;
    /* read-only, for reports */
    bool triggered;         /* within: `after` became true at least once */
    int ntriggers;          /* within: rising edges of `after` */
    int nsamples;           /* samples fed while pending */
} bench_expect_state_t;

/* names[i] is the name of signal i, for messages. */
void bench_expect_start(bench_expect_state_t *st, const bench_expect_t *exp);
/* Feed one sample at time t (seconds since start). */
void bench_expect_sample(bench_expect_state_t *st, double t, const double *signals,
                         const char *const *names);
/* End of run at time t_end: pending expectations are decided. */
void bench_expect_finish(bench_expect_state_t *st, double t_end, const double *signals,
                         const char *const *names);

#endif
