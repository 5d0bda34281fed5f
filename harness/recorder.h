/* SPDX-License-Identifier: MIT */
/* The recorder: what crossed the wires in a run, in formats other tools read
 * (candump -L logs, Vector ASC, pcap for Wireshark), the BMS serial line in a
 * documented text capture, and the key signals as CSV. */
#ifndef BENCH_RECORDER_H
#define BENCH_RECORDER_H

#include "harness/runner.h"
#include <stddef.h>
#include <stdint.h>

typedef struct bench_recorder bench_recorder_t;

/* Start recording one scenario under dir/<scenario name>/ (created). NULL
 * with a message in err when the folder or a file cannot be written. */
bench_recorder_t *bench_recorder_open(const char *dir, const bench_scenario_t *sc, char *err,
                                      size_t errcap);
/* The observers to hand to the run (bench_run_opts_t.taps or bench_world_set_taps). */
const bench_taps_t *bench_recorder_taps(bench_recorder_t *r);
/* Folder the files went to (for reports). */
const char *bench_recorder_dir(const bench_recorder_t *r);
/* Observations dropped as malformed so far (bus other than 0/1, a frame
 * with dlc > 8 or a bad id, a time past 2106, a character without a line). */
uint64_t bench_recorder_dropped(const bench_recorder_t *r);
/* Flush and close every file; 0, or -1 with a message. Frees r. */
int bench_recorder_close(bench_recorder_t *r, char *err, size_t errcap);

#endif
