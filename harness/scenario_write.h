/* SPDX-License-Identifier: MIT */
/* Writes a bench_scenario_t back as scenario YAML that loads to the same
 * scenario (bmsbench fuzz saves its failing runs this way). */
#ifndef BENCH_SCENARIO_WRITE_H
#define BENCH_SCENARIO_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "harness/scenario.h"

/* Write sc as YAML to f. Numbers are written with 17 significant digits so
 * they load bit for bit; times as seconds. Every pack is written out in full
 * (no bank defaults). Expectations are written from their source text, and
 * their label as `name:`. A scenario without expectations (a generated one)
 * gets `always: t >= 0` named "invariants only", because a file needs one;
 * the invariants are checked on every run anyway. Returns 0, or -1 when
 * writing failed (errno from stdio). */
int bench_scenario_write(FILE *f, const bench_scenario_t *sc);

/* Same, into a new file at path. Returns 0, or -1 with a message in err. */
int bench_scenario_write_file(const char *path, const bench_scenario_t *sc, char *err,
                              size_t errcap);

#endif
