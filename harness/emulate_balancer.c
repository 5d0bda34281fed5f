/* SPDX-License-Identifier: MIT */
/* `bmsbench emulate balancer`: balancer modules on sim cells over stdin/stdout or a port. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulators/balancer/emu_balancer.h"
#include "harness/cli_args.h"
#include "harness/commands.h"
#include "harness/live/emu_port.h"
#include "sim/battery.h"
#include "sim/rng.h"

#define BAL_CLI_CAPACITY_AH 100.0
#define BAL_CLI_TEMP_C 25.0
#define BAL_CLI_SOC_SD 0.005 /* cell-to-cell SOC spread (sd) */
#define BAL_CLI_CAPACITY_SD 0.01
#define BAL_CLI_DEFAULT_MODULES 8 /* the controller's default `zellen` (B.9) */
/* A line end is a pause longer than the resync gap: a half-typed request
 * before it is dropped, as on the bus. */
#define BAL_CLI_LINE_PAUSE_US 100000u
#define BAL_CLI_TICK_US 1000000u
/* The sim holds at most 32 cells per pack: 50 modules need two packs, each
 * in its own bank so no current circulates between them. */
#define BAL_CLI_BANKS 2

typedef struct bal_opts {
    int stdio;
    int modules;
    double soc_pct;
    uint64_t seed;
    const char *port;
    unsigned baud;
} bal_opts_t;

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: bmsbench emulate balancer --stdio|--port DEV [--baud N] [--modules N]\n"
               "                                 [--soc PCT] [--seed N]\n"
               "\n"
               "Answer the devicplan BMS Controller's balancer bus (300 baud ASCII) as a row\n"
               "of balancer modules would, one per cell, at addresses 01..N. A request is 4\n"
               "characters, address then command: 05 cell mV, 02 cell degC, 03 load-resistor\n"
               "degC, 04 uptime s, 06 software version. The addressed module's reply line\n"
               "(\"3291\\r\\n\") is written to stdout as soon as the request is complete; other\n"
               "commands and addresses get no reply. Exits 0 at end of input.\n"
               "\n"
               "Virtual time starts at 0: each input character takes one character time at\n"
               "300 baud (33.3 ms); a line end is a 100 ms pause, which drops a half-received\n"
               "request (newlines between requests are harmless). Every 1 s the cells and the\n"
               "modules advance: above 3.45 V a module bleeds its cell through a 10 ohm load\n"
               "resistor, which heats up; uptime counts this virtual time.\n"
               "\n"
               "With --port the modules answer on a real serial port in wall-clock time\n"
               "(cells and modules advance every 1 s of it, replies after the turnaround);\n"
               "Ctrl-C exits 130, a missing or busy port exits 2.\n"
               "\n"
               "  --stdio          talk over stdin/stdout\n"
               "  --port DEV       serve on serial port DEV (/dev/ttyUSB0, a PTY slave)\n"
               "  --baud N         its bit rate with --port (default 300)\n"
               "  --modules N      modules at addresses 01..N, 1..50 (default 8)\n"
               "  --soc PCT        state of charge of every cell, 0..100 (default 50)\n"
               "  --seed N         seed of the small cell-to-cell variation (default 1)\n"
               "  -h, --help       show this help\n"
               "\n"
               "Examples:\n"
               "  printf '0105\\n0102\\n0106\\n' | bmsbench emulate balancer --stdio\n"
               "  printf '5005' | bmsbench emulate balancer --stdio --modules 50 --soc 100\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    return bench_usage_error("bmsbench emulate balancer", print_usage, fmt, arg);
}

enum { OPT_STDIO = 256, OPT_MODULES, OPT_SOC, OPT_SEED, OPT_PORT, OPT_BAUD };

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, bal_opts_t *o)
{
    static const struct option longopts[] = {
        {"stdio", no_argument, NULL, OPT_STDIO},
        {"modules", required_argument, NULL, OPT_MODULES},
        {"soc", required_argument, NULL, OPT_SOC},
        {"seed", required_argument, NULL, OPT_SEED},
        {"port", required_argument, NULL, OPT_PORT},
        {"baud", required_argument, NULL, OPT_BAUD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v;
    int c;
    optind = 0; /* full re-initialisation: getopt may have run before in this process */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_usage(stdout);
            return BENCH_EXIT_OK;
        case OPT_STDIO:
            o->stdio = 1;
            break;
        case OPT_MODULES:
            if (bench_arg_long(optarg, 1, EMU_BAL_MAX_MODULES, &v) != 0) {
                return usage_error("--modules must be 1..50, not '%s'", optarg);
            }
            o->modules = (int)v;
            break;
        case OPT_SOC:
            if (bench_arg_long(optarg, 0, 100, &v) != 0) {
                return usage_error("--soc must be 0..100, not '%s'", optarg);
            }
            o->soc_pct = (double)v;
            break;
        case OPT_SEED:
            if (bench_arg_long(optarg, 0, LONG_MAX, &v) != 0) {
                return usage_error("--seed must be a non-negative integer, not '%s'", optarg);
            }
            o->seed = (uint64_t)v;
            break;
        case OPT_PORT:
            o->port = optarg;
            break;
        case OPT_BAUD:
            if (bench_arg_long(optarg, 300, 921600, &v) != 0) {
                return usage_error("--baud must be 300..921600, not '%s'", optarg);
            }
            o->baud = (unsigned)v;
            break;
        default: /* getopt_long already named the bad option */
            fputc('\n', stderr);
            print_usage(stderr);
            return BENCH_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (o->stdio == (o->port != NULL)) {
        return usage_error("%s", "choose one transport: --stdio or --port DEV");
    }
    return -1;
}

typedef struct bal_world {
    sim_bank_t banks[BAL_CLI_BANKS];
    int nbanks;
    emu_balancer_t emu;
    uint64_t now_us;
    uint64_t next_tick_us;
} bal_world_t;

/* Cells 1..32 in the first pack, the rest in a second; module k on cell k. */
static int build_world(bal_world_t *w, const bal_opts_t *o)
{
    sim_rng_t rng;
    sim_rng_seed(&rng, o->seed);
    emu_bal_init(&w->emu, o->seed);
    int left = o->modules;
    uint8_t address = 1;
    w->nbanks = 0;
    while (left > 0 && w->nbanks < BAL_CLI_BANKS) {
        sim_bank_t *b = &w->banks[w->nbanks++];
        int n = left > SIM_MAX_CELLS ? SIM_MAX_CELLS : left;
        sim_pack_spec_t spec = {.ncells = n,
                                .capacity_ah = BAL_CLI_CAPACITY_AH,
                                .soc = o->soc_pct / 100.0,
                                .temp_c = BAL_CLI_TEMP_C,
                                .capacity_spread = BAL_CLI_CAPACITY_SD,
                                .soc_spread = BAL_CLI_SOC_SD};
        sim_bank_init(b, BAL_CLI_TEMP_C);
        if (sim_bank_add(b, &spec, &rng) != 0) {
            return -1;
        }
        sim_pack_t *p = &b->packs[0];
        for (int i = 0; i < n; i++) {
            if (emu_bal_attach(&w->emu, address++, &p->cells[i], &p->ambient_c) != 0) {
                return -1;
            }
        }
        left -= n;
    }
    w->now_us = 0;
    w->next_tick_us = BAL_CLI_TICK_US;
    emu_bal_tick(&w->emu, 0.0, 0); /* balancing state from the start */
    return 0;
}

/* Run the cells and modules up to now, one second at a time. */
static void advance_to(bal_world_t *w, uint64_t now_us)
{
    w->now_us = now_us;
    while (w->next_tick_us <= now_us) {
        for (int b = 0; b < w->nbanks; b++) {
            sim_bank_step(&w->banks[b], 1.0, 0.0);
        }
        emu_bal_tick(&w->emu, 1.0, w->next_tick_us);
        w->next_tick_us += BAL_CLI_TICK_US;
    }
}

/* One input byte: a line end is a pause, anything else a character on the bus. */
static int serve_byte(bal_world_t *w, uint8_t c)
{
    if (c == '\n' || c == '\r') {
        advance_to(w, w->now_us + BAL_CLI_LINE_PAUSE_US);
        return 0;
    }
    advance_to(w, w->now_us + EMU_BAL_CHAR_US);
    emu_bal_feed(&w->emu, &c, 1, w->now_us);
    uint8_t reply[EMU_BAL_MAX_REPLY];
    size_t len = emu_bal_take_reply(&w->emu, reply, sizeof(reply), NULL);
    if (len > 0 && (fwrite(reply, 1, len, stdout) != len || fflush(stdout) != 0)) {
        perror("write");
        return -1;
    }
    return 0;
}

static int serve_stdio(bal_world_t *w)
{
    uint8_t buf[256];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n == 0) {
            return BENCH_EXIT_OK;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("read");
            return BENCH_EXIT_FAIL;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (serve_byte(w, buf[i]) != 0) {
                return BENCH_EXIT_FAIL;
            }
        }
    }
}

/* --port: the wall clock is the bus time; the cells advance as it passes. */
static size_t port_feed(void *ctx, uint8_t byte, uint64_t now_us, uint8_t *out, size_t cap,
                        uint64_t *start_us)
{
    bal_world_t *w = ctx;
    advance_to(w, now_us);
    emu_bal_feed(&w->emu, &byte, 1, now_us);
    return emu_bal_take_reply(&w->emu, out, cap, start_us);
}

static void port_tick(void *ctx, uint64_t now_us)
{
    advance_to(ctx, now_us);
}

int emulate_balancer_main(int argc, char **argv)
{
    bal_opts_t o = {0, BAL_CLI_DEFAULT_MODULES, 50.0, 1, NULL, EMU_BAL_BAUD};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    static bal_world_t world;
    memset(&world, 0, sizeof(world));
    if (build_world(&world, &o) != 0) {
        fputs("bmsbench emulate balancer: could not build the cells\n", stderr);
        return BENCH_EXIT_FAIL;
    }
    if (o.port != NULL) {
        const bench_emu_serial_ops_t ops = {&world, port_feed, port_tick, BAL_CLI_TICK_US};
        return bench_emu_serve_serial("bmsbench emulate balancer", o.port, o.baud, &ops);
    }
    return serve_stdio(&world);
}
