/* SPDX-License-Identifier: MIT */
/* placeholder: being written (see report.h). */
#include <stdio.h>
#include <stdlib.h>

#include "harness/report.h"

bench_report_t *bench_report_open(const char *dir, char *err, size_t errcap)
{
    (void)dir;
    snprintf(err, errcap, "reports are not available yet");
    return NULL;
}

const bench_taps_t *bench_report_begin(bench_report_t *rep, const bench_scenario_t *sc)
{
    (void)rep, (void)sc;
    return NULL;
}

void bench_report_end(bench_report_t *rep, bench_world_t *w, const bench_result_t *r,
                      const char *recording_dir)
{
    (void)rep, (void)w, (void)r, (void)recording_dir;
}

int bench_report_close(bench_report_t *rep, char *err, size_t errcap)
{
    (void)rep, (void)err, (void)errcap;
    return 0;
}
