/* SPDX-License-Identifier: MIT */
/* The HTML report of a `bmsbench run --report DIR`: a summary table, and per
 * scenario inline SVG charts of the limits, the bank and the cells over time
 * with events and expectation results marked. Works offline. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stddef.h>
#include "harness/runner.h"

typedef struct bench_report bench_report_t;

bench_report_t *bench_report_open(const char *dir, char *err, size_t errcap);
/* Before a scenario runs: the observers that collect its time series. */
const bench_taps_t *bench_report_begin(bench_report_t *rep, const bench_scenario_t *sc);
/* After it ran, while its world is still open: verdicts, first failure,
 * expectation marks; recording_dir may be NULL. A scenario that could not
 * run at all: w == NULL and r->error set. */
void bench_report_end(bench_report_t *rep, bench_world_t *w, const bench_result_t *r,
                      const char *recording_dir);
/* Write DIR/index.html (and any per-scenario pages); 0 or -1. Frees rep. */
int bench_report_close(bench_report_t *rep, char *err, size_t errcap);

#endif
