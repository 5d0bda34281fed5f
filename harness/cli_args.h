/* SPDX-License-Identifier: MIT */
/* What every bmsbench subcommand does with its arguments the same way: a
 * whole number in a range, and a usage error (the message, then the usage,
 * exit 2). */
#ifndef BENCH_CLI_ARGS_H
#define BENCH_CLI_ARGS_H

#include <stdio.h>

/* s as a decimal long in lo..hi, nothing trailing: 0, or -1 (out untouched). */
int bench_arg_long(const char *s, long lo, long hi, long *out);

/* "CMD: " + fmt with arg on stderr, a blank line, then the command's usage;
 * returns BENCH_EXIT_USAGE. */
int bench_usage_error(const char *cmd, void (*print_usage)(FILE *), const char *fmt,
                      const char *arg);

#endif
