/* SPDX-License-Identifier: MIT */
/* `bmsbench emulate superb`: SuperB CANopen batteries over candump lines on stdin/stdout,
 * or on a real CAN bus (SocketCAN or an SLCAN adapter). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulators/superb/emu_superb.h"
#include "harness/commands.h"
#include "harness/live/emu_port.h"
#include "sim/lfp_cell.h"

#define SB_CLI_CELLS 4 /* 12.8 V LiFePO4 packs */
#define SB_CLI_CAPACITY_AH 100.0
#define SB_CLI_TEMP_C 25.0
#define SB_CLI_LINE_US 10000u /* virtual time per input line */
#define SB_CLI_LINE_MAX 512
#define SB_CLI_BITRATE 250000u /* the Epsilon's CAN bitrate */

typedef struct sb_cli_opts {
    int stdio;
    int heartbeats;
    uint8_t node_ids[EMU_SB_MAX_NODES];
    int nnodes;
    uint16_t fw_version;
    double soc_pct;
    const char *can;
} sb_cli_opts_t;

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: bmsbench emulate superb --stdio|--can IFACE|slcan:DEV[@BITRATE]\n"
               "                               [--nodes 1,2,3] [--fw 1.6] [--soc PCT] [--heartbeats]\n"
               "\n"
               "Emulate SuperB Epsilon V2 batteries (CiA 301 nodes: boot-up, heartbeat, NMT,\n"
               "SDO server). CAN frames are read from stdin in candump notation, either bare\n"
               "'ID#HEX' or full '(sec.usec) iface ID#HEX' lines; every frame the nodes send\n"
               "is written to stdout as 'ID#HEX' (3 hex digits, upper case). Each node's\n"
               "boot-up frame is printed at start. Virtual time starts at 0 and advances\n"
               "10 ms per input line (blank lines and '#' comments included, so 100 blank\n"
               "lines let an unfinished SDO transfer time out after 1 s). Exits 0 at end of\n"
               "input, 1 when a line could not be read (named on stderr, skipped).\n"
               "\n"
               "With --can the nodes are on a real CAN bus in wall-clock time (boot-up,\n"
               "heartbeats every 1 s, SDO replies): a SocketCAN interface (can0, vcan0) or\n"
               "an SLCAN adapter (slcan:/dev/ttyACM0, opened at 250000 bit/s unless\n"
               "@BITRATE says otherwise). Ctrl-C exits 130, a missing or busy device exits 2.\n"
               "\n"
               "  --stdio          talk over stdin/stdout\n"
               "  --can SPEC       serve on CAN: IFACE or slcan:DEV[@BITRATE]\n"
               "  --nodes LIST     node ids 1..127, comma separated, up to 16 (default 1)\n"
               "  --fw MAJ.MIN     firmware version (default 1.6; below 1.2 0x6051/0x6052\n"
               "                   answer abort 0x06020000)\n"
               "  --soc PCT        state of charge of every pack, 0..100 (default 50)\n"
               "  --heartbeats     also print heartbeats (every 1000 ms of virtual time)\n"
               "  -h, --help       show this help\n"
               "\n"
               "Examples:\n"
               "  echo '602#4060600000000000' | bmsbench emulate superb --stdio --nodes 1,2\n"
               "  printf '000#0100\\n601#4008100000000000\\n601#6000000000000000\\n' |\n"
               "      bmsbench emulate superb --stdio --fw 1.1 --soc 87\n"
               "  bmsbench emulate superb --can can1 --nodes 1,2,3,4\n");
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "bmsbench emulate superb: %s '%s'\n\n", what, arg);
    print_usage(stderr);
    return BENCH_EXIT_USAGE;
}

static int parse_uint(const char *s, const char **end, unsigned long max, unsigned long *out)
{
    char *e = NULL;
    if (*s < '0' || *s > '9') {
        return -1;
    }
    errno = 0;
    unsigned long v = strtoul(s, &e, 10);
    if (errno != 0 || v > max) {
        return -1;
    }
    *end = e;
    *out = v;
    return 0;
}

static int parse_nodes(const char *s, sb_cli_opts_t *o)
{
    o->nnodes = 0;
    for (;;) {
        unsigned long v;
        const char *end;
        if (parse_uint(s, &end, 127, &v) != 0 || v < 1 || o->nnodes >= EMU_SB_MAX_NODES) {
            return -1;
        }
        for (int i = 0; i < o->nnodes; i++) {
            if (o->node_ids[i] == v) {
                return -1;
            }
        }
        o->node_ids[o->nnodes++] = (uint8_t)v;
        if (*end == '\0') {
            return 0;
        }
        if (*end != ',') {
            return -1;
        }
        s = end + 1;
    }
}

static int parse_fw(const char *s, uint16_t *out)
{
    unsigned long maj, min;
    const char *end;
    if (parse_uint(s, &end, 255, &maj) != 0 || *end != '.' ||
        parse_uint(end + 1, &end, 255, &min) != 0 || *end != '\0') {
        return -1;
    }
    *out = (uint16_t)((maj << 8) | min);
    return 0;
}

enum { OPT_STDIO = 256, OPT_NODES, OPT_FW, OPT_SOC, OPT_HEARTBEATS, OPT_CAN };

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, sb_cli_opts_t *o)
{
    static const struct option longopts[] = {
        {"stdio", no_argument, NULL, OPT_STDIO},
        {"nodes", required_argument, NULL, OPT_NODES},
        {"fw", required_argument, NULL, OPT_FW},
        {"soc", required_argument, NULL, OPT_SOC},
        {"heartbeats", no_argument, NULL, OPT_HEARTBEATS},
        {"can", required_argument, NULL, OPT_CAN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    unsigned long v;
    const char *end;
    optind = 0; /* full re-initialisation: the dispatcher may call us more than once */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_usage(stdout);
            return BENCH_EXIT_OK;
        case OPT_STDIO:
            o->stdio = 1;
            break;
        case OPT_NODES:
            if (parse_nodes(optarg, o) != 0) {
                return usage_error("--nodes wants distinct ids 1..127 (up to 16), not", optarg);
            }
            break;
        case OPT_FW:
            if (parse_fw(optarg, &o->fw_version) != 0) {
                return usage_error("--fw wants MAJOR.MINOR (e.g. 1.6), not", optarg);
            }
            break;
        case OPT_SOC:
            if (parse_uint(optarg, &end, 100, &v) != 0 || *end != '\0') {
                return usage_error("--soc wants 0..100, not", optarg);
            }
            o->soc_pct = (double)v;
            break;
        case OPT_HEARTBEATS:
            o->heartbeats = 1;
            break;
        case OPT_CAN:
            o->can = optarg;
            break;
        default: /* getopt_long already named the bad option */
            fputc('\n', stderr);
            print_usage(stderr);
            return BENCH_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind]);
    }
    if (o->stdio == (o->can != NULL)) {
        fputs("bmsbench emulate superb: choose one transport: --stdio or --can SPEC\n\n", stderr);
        print_usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    return -1;
}

static void build_pack(sim_pack_t *p, double soc_pct)
{
    memset(p, 0, sizeof(*p));
    p->ncells = SB_CLI_CELLS;
    p->capacity_ah = SB_CLI_CAPACITY_AH;
    p->ambient_c = SB_CLI_TEMP_C;
    p->charge_fet = true;
    p->discharge_fet = true;
    for (int i = 0; i < SB_CLI_CELLS; i++) {
        sim_cell_t *c = &p->cells[i];
        c->soc = soc_pct / 100.0;
        c->capacity_ah = SB_CLI_CAPACITY_AH;
        c->temp_c = SB_CLI_TEMP_C;
        c->v = sim_lfp_ocv(c->soc);
        p->voltage_v += c->v;
    }
}

static int hex_nibble(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

/* One candump frame token "ID#HEX": 3 hex digits (standard) or 8 (extended),
 * 0..8 data bytes. Returns NULL or why it is not one. */
static const char *parse_frame(const char *tok, size_t len, sim_can_frame_t *f)
{
    memset(f, 0, sizeof(*f));
    const char *hash = memchr(tok, '#', len);
    if (hash == NULL) {
        return "no '#' in the frame";
    }
    size_t id_len = (size_t)(hash - tok);
    if (id_len != 3 && id_len != 8) {
        return "identifier must have 3 or 8 hex digits";
    }
    uint32_t id = 0;
    for (size_t i = 0; i < id_len; i++) {
        int d = hex_nibble(tok[i]);
        if (d < 0) {
            return "identifier is not hex";
        }
        id = (id << 4) | (uint32_t)d;
    }
    if ((id_len == 3 && id > 0x7FFu) || (id_len == 8 && id > 0x1FFFFFFFu)) {
        return "identifier out of range";
    }
    f->id = id_len == 8 ? (id | SIM_CAN_EFF_FLAG) : id;
    const char *data = hash + 1;
    size_t data_len = len - id_len - 1;
    if (data_len % 2 != 0 || data_len > 16) {
        return "data must be 0..8 bytes of two hex digits (RTR and CAN FD are not supported)";
    }
    for (size_t i = 0; i < data_len / 2; i++) {
        int hi = hex_nibble(data[2 * i]), lo = hex_nibble(data[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return "data is not hex";
        }
        f->data[i] = (uint8_t)((hi << 4) | lo);
    }
    f->dlc = (uint8_t)(data_len / 2);
    return NULL;
}

/* A line: blank/comment (returns NULL, *has_frame 0), bare "ID#HEX" or
 * "(ts) iface ID#HEX". Returns NULL or why it is malformed. */
static const char *parse_line(const char *line, sim_can_frame_t *f, int *has_frame)
{
    const char *tok[4];
    size_t tok_len[4];
    int ntok = 0;
    const char *p = line;
    *has_frame = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            p++;
        }
        if (ntok == 4) {
            return "too many fields";
        }
        tok[ntok] = start;
        tok_len[ntok] = (size_t)(p - start);
        ntok++;
    }
    if (ntok == 0 || tok[0][0] == '#') {
        return NULL;
    }
    const char *ft = tok[0];
    size_t fl = tok_len[0];
    if (tok[0][0] == '(') {
        if (ntok != 3 || tok[0][tok_len[0] - 1] != ')') {
            return "expected '(sec.usec) iface ID#HEX'";
        }
        ft = tok[2];
        fl = tok_len[2];
    } else if (ntok != 1) {
        return "expected 'ID#HEX'";
    }
    const char *why = parse_frame(ft, fl, f);
    if (why == NULL) {
        *has_frame = 1;
    }
    return why;
}

static int is_heartbeat(const sim_can_frame_t *f)
{
    return f->id > EMU_SB_COB_HEARTBEAT && f->id <= EMU_SB_COB_HEARTBEAT + 127u && f->dlc == 1 &&
           f->data[0] != EMU_SB_NMT_BOOTUP;
}

/* Print every frame the nodes send up to t_us, stepping through their deadlines. */
static int drain(emu_superb_t *e, uint64_t t_us, int heartbeats)
{
    for (;;) {
        uint64_t d = emu_sb_next_deadline(e);
        if (d > t_us) {
            return 0;
        }
        sim_can_frame_t f;
        while (emu_sb_take_tx(e, d, &f) >= 0) {
            if (!heartbeats && is_heartbeat(&f)) {
                continue;
            }
            printf("%03X#", (unsigned)f.id);
            for (unsigned i = 0; i < f.dlc && i < 8; i++) {
                printf("%02X", f.data[i]);
            }
            putchar('\n');
        }
        if (fflush(stdout) != 0) {
            perror("write");
            return -1;
        }
    }
}

/* --can: the emulator's own clock is the wall clock since the start. */
static void can_on_frame(void *ctx, const sim_can_frame_t *f, uint64_t now_us)
{
    emu_sb_on_frame(ctx, f, now_us);
}

static int can_take_tx(void *ctx, uint64_t now_us, sim_can_frame_t *f)
{
    return emu_sb_take_tx(ctx, now_us, f);
}

static uint64_t can_next_deadline(void *ctx)
{
    return emu_sb_next_deadline(ctx);
}

int emulate_superb_main(int argc, char **argv)
{
    sb_cli_opts_t o;
    memset(&o, 0, sizeof(o));
    o.node_ids[0] = 1;
    o.nnodes = 1;
    o.fw_version = EMU_SB_FW_DEFAULT;
    o.soc_pct = 50.0;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }

    static sim_pack_t packs[EMU_SB_MAX_NODES];
    static emu_superb_t emu;
    emu_sb_init(&emu, 1);
    for (int i = 0; i < o.nnodes; i++) {
        build_pack(&packs[i], o.soc_pct);
        if (emu_sb_add_node(&emu, o.node_ids[i], &packs[i], o.fw_version, 0) < 0) {
            fprintf(stderr, "bmsbench emulate superb: cannot add node %u\n", o.node_ids[i]);
            return BENCH_EXIT_FAIL;
        }
    }
    if (o.can != NULL) {
        const bench_emu_can_ops_t ops = {&emu, can_on_frame, can_take_tx, can_next_deadline, NULL,
                                         0};
        return bench_emu_serve_can("bmsbench emulate superb", o.can, SB_CLI_BITRATE, &ops);
    }
    if (drain(&emu, 0, o.heartbeats) != 0) {
        return BENCH_EXIT_FAIL;
    }

    char line[SB_CLI_LINE_MAX];
    unsigned long lineno = 0;
    int bad_lines = 0;
    while (fgets(line, sizeof(line), stdin) != NULL) {
        lineno++;
        uint64_t now_us = (uint64_t)lineno * SB_CLI_LINE_US;
        sim_can_frame_t f;
        int has_frame = 0;
        const char *why;
        if (strchr(line, '\n') == NULL && !feof(stdin)) {
            /* Overlong line: skip the rest of it. */
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n') {
            }
            why = "line too long";
        } else {
            why = parse_line(line, &f, &has_frame);
        }
        if (why != NULL) {
            fprintf(stderr, "bmsbench emulate superb: line %lu: %s\n", lineno, why);
            bad_lines++;
        }
        /* Everything due before this instant went out with the previous line. */
        if (has_frame) {
            emu_sb_on_frame(&emu, &f, now_us);
        }
        if (drain(&emu, now_us + SB_CLI_LINE_US - 1, o.heartbeats) != 0) {
            return BENCH_EXIT_FAIL;
        }
    }
    if (ferror(stdin)) {
        perror("read");
        return BENCH_EXIT_FAIL;
    }
    return bad_lines > 0 ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
