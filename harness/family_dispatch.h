/* SPDX-License-Identifier: MIT */
/* Hand a subcommand to a per-family entry point: `decode --json tinybms X`
 * becomes tinybms_main({"tinybms", "--json", "X"}), whatever the order. */
#ifndef BENCH_FAMILY_DISPATCH_H
#define BENCH_FAMILY_DISPATCH_H

#include <stdlib.h>
#include <string.h>

typedef struct bench_family_entry {
    const char *family;
    int (*main)(int argc, char **argv);
} bench_family_entry_t;

/* Returns 1 and sets *rc when the first non-option word names a family in
 * table; 0 when it does not (the caller handles it). */
static inline int bench_family_dispatch(int argc, char **argv, const bench_family_entry_t *table,
                                        size_t n, int *rc)
{
    int k = 1;
    while (k < argc && argv[k][0] == '-' && argv[k][1] != '\0') {
        k++;
    }
    if (k >= argc) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[k], table[i].family) != 0) {
            continue;
        }
        char **v = calloc((size_t)argc + 1, sizeof *v);
        if (v == NULL) {
            *rc = 2;
            return 1;
        }
        int m = 0;
        v[m++] = argv[k];
        for (int j = 1; j < argc; j++) {
            if (j != k) {
                v[m++] = argv[j];
            }
        }
        *rc = table[i].main(m, v);
        free(v);
        return 1;
    }
    return 0;
}

#endif
