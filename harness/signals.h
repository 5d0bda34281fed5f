/* SPDX-License-Identifier: MIT */
/* The signals an expectation can name: what the GX sees (decoded from the
 * gateway's frames), the simulated truth, and gateway counters. */
#ifndef BENCH_SIGNALS_H
#define BENCH_SIGNALS_H

#include <stddef.h>

struct bench_world;

typedef struct bench_signal_def {
    const char *name;
    const char *help;
} bench_signal_def_t;

extern const bench_signal_def_t bench_signal_defs[];
extern const char *const *bench_signal_names;   /* names[i], for messages */
int bench_signal_count(void);

/* bench_resolve_fn for expressions. */
int bench_signal_resolve(void *ctx, const char *name, size_t len);
/* Fill out[0..count) from the world at its current time. */
void bench_signals_sample(struct bench_world *w, double *out);

#endif
