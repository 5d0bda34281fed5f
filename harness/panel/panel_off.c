/* SPDX-License-Identifier: MIT */
/* `bmsbench panel` in a build without SDL (BMS_PANEL=OFF): says so and fails. */
#include <stdio.h>

#include "harness/commands.h"

int cmd_panel(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bmsbench panel: built without the panel (configure with -DBMS_PANEL=ON "
                    "and libsdl2-dev, libsdl2-ttf-dev, libsdl2-image-dev)\n");
    return BENCH_EXIT_FAIL;
}
