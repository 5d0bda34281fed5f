/* SPDX-License-Identifier: MIT */
#include "harness/cli_args.h"

#include <errno.h>
#include <stdlib.h>

#include "harness/commands.h"

int bench_arg_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

int bench_usage_error(const char *cmd, void (*print_usage)(FILE *), const char *fmt,
                      const char *arg)
{
    fprintf(stderr, "%s: ", cmd);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    print_usage(stderr);
    return BENCH_EXIT_USAGE;
}
