/* SPDX-License-Identifier: MIT */
/* The bmsbench subcommands. Each takes argv with argv[0] = the subcommand
 * name, and returns the process exit code:
 *   0 ok, 1 a check failed (or an invalid frame), 2 usage or input error. */
#ifndef BENCH_COMMANDS_H
#define BENCH_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

enum { BENCH_EXIT_OK = 0, BENCH_EXIT_FAIL = 1, BENCH_EXIT_USAGE = 2 };

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_emulate(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_panel(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_ports(int argc, char **argv);
/* `bmsbench bench` replay figure: parse+check N candump frames vs python-can (cmd_replay.c). */
int bench_replay_figure(FILE *out, size_t frames);

/* Per-family entry points, argv[0] = the family word ("tinybms", ...). */
int decode_tinybms_main(int argc, char **argv);
int decode_canopen_main(int argc, char **argv);
int decode_balancer_main(int argc, char **argv);
int emulate_tinybms_main(int argc, char **argv);
int emulate_superb_main(int argc, char **argv);
int emulate_balancer_main(int argc, char **argv);

#endif
