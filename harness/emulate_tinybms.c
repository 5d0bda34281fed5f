/* SPDX-License-Identifier: MIT */
/* `bmsbench emulate tinybms`: run the TinyBMS emulator standalone over stdin/stdout or a port. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emulators/tinybms/emu_tinybms.h"
#include "harness/cli_args.h"
#include "harness/commands.h"
#include "harness/live/emu_port.h"
#include "sim/lfp_cell.h"

#define TINY_CAPACITY_AH 100.0
#define TINY_TEMP_C 25.0
/* Cell-to-cell SOC spread (+/- half of it) and a few mV on top, so the cells
 * do not all read the same on the LFP plateau. */
#define TINY_SOC_SPREAD 0.01
#define TINY_V_SPREAD 0.004
#define TINY_TICK_US 100000u
#define TINY_DEFAULT_BAUD 115200u

typedef struct tiny_opts {
    int stdio;
    int asleep;
    int cells;
    double soc_pct;
    uint64_t seed;
    const char *port;
    unsigned baud;
} tiny_opts_t;

static void print_usage(FILE *f)
{
    fprintf(f,
            "Usage: bmsbench emulate tinybms --stdio|--port DEV [--baud N] [--cells N] [--soc PCT]\n"
            "                                [--seed N] [--asleep]\n"
            "\n"
            "Answer TinyBMS UART requests (0xAA frames, CRC-16/MODBUS) as one Enepaq\n"
            "TinyBMS on one pack would. Raw request bytes are read from stdin; each\n"
            "reply is written to stdout as raw bytes as soon as its request is complete\n"
            "(no UART timing). Exits 0 at end of input.\n"
            "\n"
            "The device starts AWAKE, so a single request gets a reply. With --asleep\n"
            "it starts asleep: the first request only wakes it and gets no reply, as on\n"
            "a real unit. Time runs on the wall clock: after 10 s without input it\n"
            "falls asleep again.\n"
            "\n"
            "With --port it answers on a real serial port (a USB-UART adapter) in\n"
            "wall-clock time, each reply after its turnaround; Ctrl-C exits 130, a\n"
            "missing or busy port exits 2.\n"
            "\n"
            "  --stdio          talk over stdin/stdout\n"
            "  --port DEV       serve on serial port DEV (/dev/ttyUSB0, a PTY slave)\n"
            "  --baud N         its bit rate with --port (default 115200)\n"
            "  --cells N        cells in series, 4..16 (default 16)\n"
            "  --soc PCT        state of charge, 0..100 (default 50)\n"
            "  --seed N         seed of the small per-cell variation (default 1)\n"
            "  --asleep         start asleep\n"
            "  -h, --help       show this help\n"
            "\n"
            "Examples:\n"
            "  printf '\\252\\033\\077\\033' | bmsbench emulate tinybms --stdio | xxd\n"
            "      (AA 1B 3F 1B: read the temperatures)\n"
            "  printf '\\252\\003\\000\\000\\000\\020\\135\\335' | bmsbench emulate tinybms --stdio --cells 15 | xxd\n"
            "      (AA 03 00 00 00 10 5D DD: Modbus read of the cell registers 0..15)\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    return bench_usage_error("bmsbench emulate tinybms", print_usage, fmt, arg);
}

enum { OPT_STDIO = 256, OPT_CELLS, OPT_SOC, OPT_SEED, OPT_ASLEEP, OPT_PORT, OPT_BAUD };

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, tiny_opts_t *o)
{
    static const struct option longopts[] = {
        {"stdio", no_argument, NULL, OPT_STDIO},
        {"cells", required_argument, NULL, OPT_CELLS},
        {"soc", required_argument, NULL, OPT_SOC},
        {"seed", required_argument, NULL, OPT_SEED},
        {"asleep", no_argument, NULL, OPT_ASLEEP},
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
        case OPT_ASLEEP:
            o->asleep = 1;
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
        case OPT_CELLS:
            if (bench_arg_long(optarg, 4, 16, &v) != 0) {
                return usage_error("--cells must be 4..16, not '%s'", optarg);
            }
            o->cells = (int)v;
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

/* Small deterministic generator for the per-cell variation (splitmix64). */
static double next_unit(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
}

static void build_pack(sim_pack_t *p, const tiny_opts_t *o)
{
    uint64_t rng = o->seed;
    memset(p, 0, sizeof(*p));
    p->ncells = o->cells;
    p->capacity_ah = TINY_CAPACITY_AH;
    p->ambient_c = TINY_TEMP_C;
    p->charge_fet = true;
    p->discharge_fet = true;
    for (int i = 0; i < o->cells; i++) {
        sim_cell_t *c = &p->cells[i];
        double soc = o->soc_pct / 100.0 + (next_unit(&rng) - 0.5) * TINY_SOC_SPREAD;
        c->soc = soc < 0.0 ? 0.0 : (soc > 1.0 ? 1.0 : soc);
        c->capacity_ah = TINY_CAPACITY_AH;
        c->temp_c = TINY_TEMP_C;
        c->v = sim_lfp_ocv(c->soc) + (next_unit(&rng) - 0.5) * TINY_V_SPREAD;
        p->voltage_v += c->v;
    }
}

static uint64_t elapsed_us(const struct timespec *t0)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) {
        return 0;
    }
    int64_t us = ((int64_t)t.tv_sec - (int64_t)t0->tv_sec) * 1000000 +
                 ((int64_t)t.tv_nsec - (int64_t)t0->tv_nsec) / 1000;
    return us > 0 ? (uint64_t)us : 0;
}

/* Read requests until EOF; write each reply as soon as its request is complete. */
static int serve_stdio(emu_tinybms_t *e, const struct timespec *t0)
{
    uint8_t buf[256];
    uint8_t reply[EMU_TINY_MAX_REPLY];
    uint64_t next_tick_us = TINY_TICK_US;
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
        uint64_t now_us = elapsed_us(t0);
        if (now_us >= next_tick_us) {
            /* One tick covers the idle gap: the sleep timer only needs now. */
            emu_tiny_tick(e, now_us);
            next_tick_us = now_us + TINY_TICK_US;
        }
        /* Byte by byte, so two requests in one chunk get two replies. */
        for (ssize_t i = 0; i < n; i++) {
            emu_tiny_feed(e, &buf[i], 1, now_us);
            uint64_t start_us;
            size_t len = emu_tiny_take_reply(e, reply, sizeof(reply), &start_us);
            if (len > 0 && (fwrite(reply, 1, len, stdout) != len || fflush(stdout) != 0)) {
                perror("write");
                return BENCH_EXIT_FAIL;
            }
        }
    }
}

static size_t port_feed(void *ctx, uint8_t byte, uint64_t now_us, uint8_t *out, size_t cap,
                        uint64_t *start_us)
{
    emu_tinybms_t *e = ctx;
    emu_tiny_feed(e, &byte, 1, now_us);
    return emu_tiny_take_reply(e, out, cap, start_us);
}

/* The sleep timer runs on wall time even while the port is quiet. */
static void port_tick(void *ctx, uint64_t now_us)
{
    emu_tiny_tick(ctx, now_us);
}

int emulate_tinybms_main(int argc, char **argv)
{
    tiny_opts_t o = {0, 0, 16, 50.0, 1, NULL, TINY_DEFAULT_BAUD};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    static sim_pack_t pack;
    static emu_tinybms_t emu;
    struct timespec t0;
    if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0) {
        perror("clock_gettime");
        return BENCH_EXIT_FAIL;
    }
    build_pack(&pack, &o);
    emu_tiny_init(&emu, &pack, o.seed, 0);
    if (o.asleep) {
        emu_tiny_sleep(&emu);
    }
    if (o.port != NULL) {
        const bench_emu_serial_ops_t ops = {&emu, port_feed, port_tick, TINY_TICK_US};
        return bench_emu_serve_serial("bmsbench emulate tinybms", o.port, o.baud, &ops);
    }
    return serve_stdio(&emu, &t0);
}
