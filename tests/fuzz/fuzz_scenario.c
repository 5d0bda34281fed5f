/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point for the scenario loader: any bytes must load or fail cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_signals[] = {"ccl_a", "cvl_v", "dcl_a", "cell_max_v", "soc_pct",
                                           "alarm_high_voltage"};

static int fuzz_resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof(fuzz_signals) / sizeof(fuzz_signals[0]); i++) {
        if (strlen(fuzz_signals[i]) == len && memcmp(fuzz_signals[i], name, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bench_scenario_t sc;
    char err[512];
    bool ok = bench_scenario_load_mem("fuzz.yaml", (const char *)data, size, &sc, fuzz_resolve,
                                      NULL, err, sizeof(err));
    /* Whatever loaded must be usable: evaluate every expression once. */
    if (ok) {
        double sig[6] = {1, 2, 3, 4, 5, 6};
        for (int i = 0; i < sc.nexpects; i++) {
            (void)bench_expr_eval(&sc.expects[i].expr, sig);
            (void)bench_expr_eval(&sc.expects[i].after, sig);
        }
    } else if (err[0] == '\0' || strchr(err, ':') == NULL) {
        abort();   /* every failure must explain itself */
    }
    return 0;
}
