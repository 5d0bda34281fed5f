/* SPDX-License-Identifier: MIT */
/* `bmsbench emulate`: run a BMS emulator standalone (stdio, or a real serial port). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulators/topband/emu_topband.h"
#include "harness/cli_args.h"
#include "harness/commands.h"
#include "harness/family_dispatch.h"
#include "harness/live/emu_port.h"
#include "sim/lfp_cell.h"

#define EMU_CAPACITY_AH 100.0
#define EMU_TEMP_C 25.0
/* Cell-to-cell SOC spread (+/- half of it), and a few mV of voltage spread on
 * top, since the LFP plateau alone would make every cell read the same. */
#define EMU_SOC_SPREAD 0.01
#define EMU_V_SPREAD 0.004
#define EMU_TB_DEFAULT_BAUD 9600u

typedef struct emulate_opts {
    int stdio;
    int packs;
    int cells;
    emu_tb_family_t family;
    double soc_pct;
    uint64_t seed;
    const char *port;
    unsigned baud;
} emulate_opts_t;

static void print_usage(FILE *f)
{
    fprintf(f,
            "Usage: bmsbench emulate topband --stdio|--port DEV [--baud N] [--packs N]\n"
            "                                [--cells 15|16] [--family eet|topbms] [--soc PCT]\n"
            "                                [--seed N]\n"
            "\n"
            "Answer Topband/EET RS485 requests as a bus of BMS packs would.\n"
            "Requests ('~' .. CR) are read from stdin, each reply is written to stdout\n"
            "at once (no bus timing in --stdio mode). Exits 0 at end of input.\n"
            "With --port the packs answer on a real serial port (a USB-RS485 adapter is\n"
            "a normal tty) in wall-clock time, each reply after the pack's turnaround;\n"
            "Ctrl-C exits 130, a missing or busy port exits 2.\n"
            "\n"
            "  --stdio          talk over stdin/stdout\n"
            "  --packs N        packs at addresses 0..N-1 (1..16, default 1)\n"
            "  --cells N        cells per pack, 15 or 16 (default 16)\n"
            "  --family F       eet (reply VER 0x21, default) or topbms (VER 0x52)\n"
            "  --soc PCT        state of charge of every pack, 0..100 (default 50)\n"
            "  --seed N         seed of the small per-cell variation (default 1)\n"
            "  --port DEV       serve on serial port DEV (/dev/ttyUSB0, a PTY slave)\n"
            "  --baud N         its bit rate with --port (default 9600)\n"
            "  -h, --help       show this help\n"
            "\n"
            "Examples:\n"
            "  printf '~21014642E00201FD34\\r' | bmsbench emulate topband --stdio --packs 2\n"
            "  bmsbench emulate topband --stdio --family topbms --cells 16 --soc 88\n"
            "  bmsbench emulate topband --port /dev/ttyUSB0 --packs 4\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    return bench_usage_error("bmsbench emulate", print_usage, fmt, arg);
}

enum { OPT_STDIO = 256, OPT_PACKS, OPT_CELLS, OPT_FAMILY, OPT_SOC, OPT_SEED, OPT_PORT, OPT_BAUD };

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, emulate_opts_t *o)
{
    static const struct option longopts[] = {
        {"stdio", no_argument, NULL, OPT_STDIO},
        {"packs", required_argument, NULL, OPT_PACKS},
        {"cells", required_argument, NULL, OPT_CELLS},
        {"family", required_argument, NULL, OPT_FAMILY},
        {"soc", required_argument, NULL, OPT_SOC},
        {"seed", required_argument, NULL, OPT_SEED},
        {"port", required_argument, NULL, OPT_PORT},
        {"baud", required_argument, NULL, OPT_BAUD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v;
    int c;
    optind = 0; /* full re-initialisation: cmd_emulate may run more than once per process */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_usage(stdout);
            return BENCH_EXIT_OK;
        case OPT_STDIO:
            o->stdio = 1;
            break;
        case OPT_PACKS:
            if (bench_arg_long(optarg, 1, EMU_TB_MAX_PACKS, &v) != 0) {
                return usage_error("--packs must be 1..16, not '%s'", optarg);
            }
            o->packs = (int)v;
            break;
        case OPT_CELLS:
            if (bench_arg_long(optarg, 15, 16, &v) != 0) {
                return usage_error("--cells must be 15 or 16, not '%s'", optarg);
            }
            o->cells = (int)v;
            break;
        case OPT_FAMILY:
            if (strcmp(optarg, "eet") == 0) {
                o->family = EMU_TB_EET;
            } else if (strcmp(optarg, "topbms") == 0) {
                o->family = EMU_TB_TOPBMS;
            } else {
                return usage_error("--family must be eet or topbms, not '%s'", optarg);
            }
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

static void build_pack(sim_pack_t *p, const emulate_opts_t *o, uint64_t *rng)
{
    memset(p, 0, sizeof(*p));
    p->ncells = o->cells;
    p->capacity_ah = EMU_CAPACITY_AH;
    p->ambient_c = EMU_TEMP_C;
    p->charge_fet = true;
    p->discharge_fet = true;
    double sum_v = 0.0;
    for (int i = 0; i < o->cells; i++) {
        sim_cell_t *c = &p->cells[i];
        double soc = o->soc_pct / 100.0 + (next_unit(rng) - 0.5) * EMU_SOC_SPREAD;
        c->soc = soc < 0.0 ? 0.0 : (soc > 1.0 ? 1.0 : soc);
        c->capacity_ah = EMU_CAPACITY_AH;
        c->temp_c = EMU_TEMP_C;
        c->v = sim_lfp_ocv(c->soc) + (next_unit(rng) - 0.5) * EMU_V_SPREAD;
        sum_v += c->v;
    }
    p->voltage_v = sum_v;
}

/* Read requests until EOF; write each reply as soon as its request is complete. */
static int serve_stdio(emu_topband_t *e)
{
    uint8_t buf[256];
    uint8_t reply[EMU_TB_MAX_REPLY];
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
        /* Byte by byte, so two requests in one chunk get two replies. */
        for (ssize_t i = 0; i < n; i++) {
            emu_tb_feed(e, &buf[i], 1, 0);
            uint64_t start_us;
            size_t len = emu_tb_take_reply(e, reply, sizeof(reply), &start_us);
            if (len > 0) {
                if (fwrite(reply, 1, len, stdout) != len || fflush(stdout) != 0) {
                    perror("write");
                    return BENCH_EXIT_FAIL;
                }
            }
        }
    }
}

/* One byte from the port; the packs' values are static, as with --stdio. */
static size_t port_feed(void *ctx, uint8_t byte, uint64_t now_us, uint8_t *out, size_t cap,
                        uint64_t *start_us)
{
    emu_topband_t *e = ctx;
    emu_tb_feed(e, &byte, 1, now_us);
    return emu_tb_take_reply(e, out, cap, start_us);
}

int cmd_emulate(int argc, char **argv)
{
    static const bench_family_entry_t families[] = {{"tinybms", emulate_tinybms_main}, {"superb", emulate_superb_main}, {"balancer", emulate_balancer_main}};
    int family_rc;
    if (bench_family_dispatch(argc, argv, families, sizeof families / sizeof families[0],
                              &family_rc)) {
        return family_rc;
    }
    emulate_opts_t o = {0, 1, 16, EMU_TB_EET, 50.0, 1, NULL, EMU_TB_DEFAULT_BAUD};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    if (optind >= argc) {
        return usage_error("%s", "missing device family (supported: topband)");
    }
    if (strcmp(argv[optind], "topband") != 0) {
        return usage_error("unknown device family '%s' (supported: topband)", argv[optind]);
    }
    if (optind + 1 < argc) {
        return usage_error("unexpected argument '%s'", argv[optind + 1]);
    }
    if (o.stdio == (o.port != NULL)) {
        return usage_error("%s", "choose one transport: --stdio or --port DEV");
    }

    static sim_pack_t packs[EMU_TB_MAX_PACKS];
    static emu_topband_t emu;
    uint64_t rng = o.seed;
    emu_tb_init(&emu, o.seed);
    for (int i = 0; i < o.packs; i++) {
        build_pack(&packs[i], &o, &rng);
        if (emu_tb_attach(&emu, (uint8_t)i, &packs[i], o.family) != 0) {
            fprintf(stderr, "bmsbench emulate: cannot attach pack %d\n", i);
            return BENCH_EXIT_FAIL;
        }
    }
    if (o.port != NULL) {
        const bench_emu_serial_ops_t ops = {&emu, port_feed, NULL, 0};
        return bench_emu_serve_serial("bmsbench emulate topband", o.port, o.baud, &ops);
    }
    return serve_stdio(&emu);
}
