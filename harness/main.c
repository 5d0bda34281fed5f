/* SPDX-License-Identifier: MIT */
/* bmsbench: the command-line front of the bench. Dispatches subcommands. */
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"

#ifndef BMSBENCH_VERSION
#define BMSBENCH_VERSION "dev"
#endif

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"run", cmd_run, "run scenarios in simulated time and check them"},
    {"list", cmd_list, "list scenarios with their descriptions"},
    {"decode", cmd_decode, "decode a Topband RS485 frame or a Victron CAN frame"},
    {"emulate", cmd_emulate, "run a BMS emulator (--stdio)"},
    {"bench", cmd_bench, "measure simulator speed (24 h of a 4-pack bank)"},
    {"fuzz", cmd_fuzz, "run random scenarios and check the safety invariants"},
    {"panel", cmd_panel, "watch and steer a scenario in an SDL2 window, or snapshot it to PNG"},
    {"replay", cmd_replay, "check a Victron capture, or feed a BMS capture into the gateway"},
    {"ports", cmd_ports, "list serial ports (USB VID:PID, serial) and CAN interfaces"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: bmsbench [--help] [--version] COMMAND [ARGS...]\n\n"
               "A bench for battery-to-Victron gateways: BMS emulators drive the real\n"
               "gateway firmware; the Victron CAN-BMS frames it sends are checked.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\n'bmsbench COMMAND --help' describes a command.\n"
               "exit codes: 0 ok, 1 a check failed or a frame is invalid, 2 usage or input error\n\n"
               "examples:\n"
               "  bmsbench run                        run every scenario under scenarios/\n"
               "  bmsbench run --junit out.xml scenarios/topband/charge_to_full.yaml\n"
               "  bmsbench decode victron --json 351#2802E803DC05D001\n"
               "  bmsbench decode topband ~21014642E00201FD34\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return BENCH_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("bmsbench %s\n", BMSBENCH_VERSION);
        return BENCH_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "bmsbench: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return BENCH_EXIT_USAGE;
}
