/* SPDX-License-Identifier: MIT */
/* placeholder: being written (replaced by the family's implementation). */
#include <stdio.h>

#include "harness/commands.h"

int decode_canopen_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "bmsbench: '%s' is not available yet\n", argv[0]);
    return BENCH_EXIT_USAGE;
}
