/* SPDX-License-Identifier: MIT */
/* placeholder: being written (see recorder.h). */
#include <stdio.h>
#include <stdlib.h>

#include "harness/recorder.h"

bench_recorder_t *bench_recorder_open(const char *dir, const bench_scenario_t *sc, char *err,
                                      size_t errcap)
{
    (void)dir, (void)sc;
    snprintf(err, errcap, "recording is not available yet");
    return NULL;
}

const bench_taps_t *bench_recorder_taps(bench_recorder_t *r)
{
    (void)r;
    return NULL;
}

const char *bench_recorder_dir(const bench_recorder_t *r)
{
    (void)r;
    return NULL;
}

int bench_recorder_close(bench_recorder_t *r, char *err, size_t errcap)
{
    (void)r, (void)err, (void)errcap;
    return 0;
}
