/* SPDX-License-Identifier: MIT */
/* `bmsbench replay`: check a Victron-side capture as a GX would, feed a
 * BMS-side capture into the gateway firmware in simulated time, or play a
 * CAN log onto a live interface; and the replay figure of `bmsbench bench`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/can.h>
#include <linux/can/raw.h>

#include "harness/commands.h"
#include "harness/expect.h"
#include "harness/logfmt_read.h"
#include "harness/replay_check.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/signals.h"

#define RS485_BAUD 9600
#define TINYBMS_BAUD 115200
#define BALANCER_BAUD 300
#define VICTRON_BITRATE 500000
#define CANOPEN_BITRATE 250000
/* --out timestamps: sim time from 1700000000 s, as the recorder writes them. */
#define OUT_T0_S 1700000000ull

static void replay_usage(FILE *f)
{
    fprintf(f,
            "usage: bmsbench replay --check [--profile lifepo4] [--cells N] [--format F] LOG\n"
            "       bmsbench replay --into-gateway [--family F] [--cells N] [--out FILE]\n"
            "                       [--expect SCENARIO] [--realtime | --speed X] CAPTURE\n"
            "       bmsbench replay --to IFACE [--realtime | --speed X] LOG\n\n"
            "--check: decode a Victron-side capture (candump -L, candump's console\n"
            "  format, Vector ASC) as a GX would and check every rule that can be judged\n"
            "  from that side: limits against the reported cells and temperatures, 0x351\n"
            "  gaps, 0x35C against 0x351, reserved 0x35A pairs, impossible scaling.\n"
            "  Prints each violation (time, frame, values, rule), else a summary of the\n"
            "  limits over time. --rules lists the rules.\n"
            "--into-gateway: feed a BMS-side capture into the gateway firmware in\n"
            "  simulated time: a serial capture (families topband, tinybms, balancer:\n"
            "  'SEC.USEC rx|tx HEX...' lines, rx = to the gateway) or a CANopen candump\n"
            "  log of bus 1 (superb). Each recorded exchange is answered when the gateway\n"
            "  sends the request it answers. The gateway's Victron frames are decoded,\n"
            "  checked with the --check rules, summarised, and written with --out as\n"
            "  candump -L. --expect SCENARIO checks that scenario's expectations; signals\n"
            "  of the simulated world (sim: ...) are NaN in a replay, so comparisons on\n"
            "  them are false; GX and gateway signals are available.\n"
            "--to IFACE: send the frames of a CAN log on a SocketCAN interface.\n\n"
            "options:\n"
            "  --profile NAME   chemistry profile (lifepo4)       --cells N  cells in series (16)\n"
            "  --format F       auto, candump-l, candump, asc, serial\n"
            "  --grace S        reaction time allowed for the limit rules (2)\n"
            "  --family F       topband, tinybms, superb, balancer (default: topband,\n"
            "                   superb for a CAN log)\n"
            "  --duration S     how long the gateway runs (default: capture end + 5 s)\n"
            "  --realtime       pace the replay at wall-clock speed; --speed X: X times it\n"
            "  -q, --quiet      no summary, only violations and errors\n"
            "  --rules          list the rules;  --bench N: time N frames against python-can\n\n"
            "exit: 0 clean, 1 violations (or failed expectations), 2 usage or input error\n"
            "  (also: malformed lines and no violation, since the capture is not whole)\n\n"
            "examples:\n"
            "  bmsbench replay --check --cells 16 victron.log\n"
            "  bmsbench replay --into-gateway --family topband --out gw.log bms-serial.txt\n"
            "  bmsbench replay --to can0 --realtime victron.log\n");
}

typedef struct replay_opts {
    bool check, into, rules;
    const char *to_iface;
    const char *profile;
    int cells;
    bench_logfmt_t fmt;
    double grace_s;
    const char *family;
    const char *out;
    const char *expect;
    double duration_s;
    double speed;           /* 0 = as fast as possible */
    bool quiet;
} replay_opts_t;

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0) {
        return;
    }
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

static FILE *open_input(const char *path)
{
    if (strcmp(path, "-") == 0) {
        return stdin;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bmsbench replay: %s: %s\n", path, strerror(errno));
    }
    return f;
}

/* ---- --check ---- */

static void print_violations(FILE *out, const bench_replay_check_t *c)
{
    uint64_t n = c->nviolations < BENCH_REPLAY_MAX_VIOLATIONS ? c->nviolations
                                                              : BENCH_REPLAY_MAX_VIOLATIONS;
    for (uint64_t i = 0; i < n; i++) {
        const bench_replay_violation_t *v = &c->v[i];
        char frame[16] = "-";
        if (v->id != 0) {
            snprintf(frame, sizeof frame, "0x%03X", (unsigned)v->id);
        }
        fprintf(out, "VIOLATION t=%.6f (+%.3f s) frame %s %s: %s [%s]\n", v->t_us / 1e6,
                (double)(v->t_us - c->first_us) / 1e6, frame, bench_replay_rule_names[v->rule],
                v->values, bench_replay_rule_help[v->rule]);
    }
    if (c->nviolations > n) {
        fprintf(out, "... and %llu more violations\n", (unsigned long long)(c->nviolations - n));
    }
}

static void print_summary(FILE *out, const bench_replay_check_t *c)
{
    const bench_gx_t *g = &c->gx;
    fprintf(out, "frames: %llu (%llu decoded), 0x351: %llu, span %.3f s, longest 0x351 gap %.3f s%s\n",
            (unsigned long long)c->frames, (unsigned long long)g->frames_known,
            (unsigned long long)c->n351, (double)(c->last_us - c->first_us) / 1e6,
            g->max_gap_351_us / 1e6, c->timed ? "" : " (no timestamps: gap rules off)");
    bench_replay_window_t w[BENCH_REPLAY_WINDOWS];
    int nw = bench_replay_summary(c, w, BENCH_REPLAY_WINDOWS);
    if (nw > 0) {
        fprintf(out, "limits over time (min..max per window):\n"
                     "  from_s     to_s      cvl_v        ccl_a          dcl_a\n");
    }
    for (int i = 0; i < nw; i++) {
        if (w[i].samples == 0) {
            continue;
        }
        fprintf(out, "  %8.1f %8.1f  %5.1f..%-5.1f  %6.1f..%-6.1f  %6.1f..%-6.1f\n",
                (double)(w[i].from_us - c->first_us) / 1e6, (double)(w[i].to_us - c->first_us) / 1e6,
                w[i].cvl_min, w[i].cvl_max, w[i].ccl_min, w[i].ccl_max, w[i].dcl_min, w[i].dcl_max);
    }
}

static int verdict(const bench_replay_check_t *c, const bench_logreader_t *r, FILE *out,
                   bool quiet)
{
    print_violations(out, c);
    if (r->malformed > 0) {
        fprintf(stderr, "%s: %llu malformed line(s) skipped%s\n", r->name,
                (unsigned long long)r->malformed,
                r->truncated ? "; the file ends in a truncated line" : "");
    }
    if (!quiet || c->nviolations == 0) {
        print_summary(out, c);
    }
    if (c->nviolations > 0) {
        fprintf(out, "replay: %llu violation(s)\n", (unsigned long long)c->nviolations);
        return BENCH_EXIT_FAIL;
    }
    if (r->malformed > 0) {
        fprintf(out, "replay: no violation in what could be read; the input is damaged\n");
        return BENCH_EXIT_USAGE;
    }
    fprintf(out, "replay: no violations\n");
    return BENCH_EXIT_OK;
}

static int run_check(const replay_opts_t *o, const char *path)
{
    bench_replay_profile_t prof;
    char err[256];
    if (!bench_replay_profile_get(o->profile, o->cells, &prof, err, sizeof err)) {
        fprintf(stderr, "bmsbench replay: %s\n", err);
        return BENCH_EXIT_USAGE;
    }
    prof.grace_ms = (uint32_t)llround(o->grace_s * 1000.0);
    FILE *in = open_input(path);
    if (in == NULL) {
        return BENCH_EXIT_USAGE;
    }
    bench_logreader_t *r = malloc(sizeof *r);
    bench_replay_check_t *c = malloc(sizeof *c);
    if (r == NULL || c == NULL) {
        free(r), free(c);
        fprintf(stderr, "bmsbench replay: out of memory\n");
        return BENCH_EXIT_USAGE;
    }
    bench_logreader_init(r, in, path, o->fmt, stderr);
    bench_replay_check_init(c, &prof);
    bench_logframe_t f;
    while (bench_logreader_next(r, &f) > 0) {
        bench_replay_check_frame(c, f.id, f.dlc, f.data, f.t_us, f.has_time);
    }
    int rc;
    if (r->fmt == BENCH_LOGFMT_SERIAL) {
        fprintf(stderr, "%s: a serial capture, not a CAN log: use --into-gateway\n", path);
        rc = BENCH_EXIT_USAGE;
    } else {
        bench_replay_check_finish(c);
        rc = verdict(c, r, stdout, o->quiet);
    }
    if (in != stdin) {
        fclose(in);
    }
    bench_replay_check_free(c);
    free(c), free(r);
    return rc;
}

/* ---- --to IFACE ---- */

static int run_to_iface(const replay_opts_t *o, const char *path)
{
    int s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
    if (s < 0) {
        int e = errno;
        fprintf(stderr, "bmsbench replay: --to %s: cannot open a CAN socket: %s%s\n", o->to_iface,
                strerror(e),
                e == EAFNOSUPPORT ? " (this kernel has no SocketCAN: CONFIG_CAN is not set)" : "");
        return BENCH_EXIT_USAGE;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o->to_iface);
    if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
        fprintf(stderr, "bmsbench replay: --to %s: no such CAN interface: %s\n", o->to_iface,
                strerror(errno));
        close(s);
        return BENCH_EXIT_USAGE;
    }
    struct sockaddr_can addr;
    memset(&addr, 0, sizeof addr);
    addr.can_family = AF_CAN;
    addr.can_ifindex = ifr.ifr_ifindex;
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        close(s);
        return BENCH_EXIT_USAGE;
    }
    FILE *in = open_input(path);
    if (in == NULL) {
        close(s);
        return BENCH_EXIT_USAGE;
    }
    static bench_logreader_t r;
    bench_logreader_init(&r, in, path, o->fmt, stderr);
    bench_logframe_t f;
    bool first = true;
    uint64_t t0 = 0;
    double w0 = wall_s();
    uint64_t sent = 0;
    int rc = BENCH_EXIT_OK;
    while (bench_logreader_next(&r, &f) > 0) {
        if (first) {
            t0 = f.t_us;
            first = false;
        }
        if (o->speed > 0 && f.has_time && f.t_us >= t0) {
            sleep_s((double)(f.t_us - t0) / 1e6 / o->speed - (wall_s() - w0));
        }
        struct can_frame cf;
        memset(&cf, 0, sizeof cf);
        cf.can_id = f.id;
        cf.can_dlc = f.len;
        memcpy(cf.data, f.data, f.len);
        if (write(s, &cf, sizeof cf) != (ssize_t)sizeof cf) {
            perror("write");
            rc = BENCH_EXIT_USAGE;
            break;
        }
        sent++;
    }
    fprintf(stderr, "replay: %llu frames sent on %s\n", (unsigned long long)sent, o->to_iface);
    if (in != stdin) {
        fclose(in);
    }
    close(s);
    return rc != BENCH_EXIT_OK ? rc : r.malformed > 0 ? BENCH_EXIT_USAGE : BENCH_EXIT_OK;
}

/* ---- --into-gateway ---- */

/* One recorded unit: serial bytes or a CAN frame, to or from the gateway. */
typedef struct rec {
    uint64_t t_us;
    bool to_gw;
    uint8_t dlc;            /* CAN */
    uint32_t id;            /* CAN */
    uint32_t off, len;      /* serial: bytes in the pool; CAN: data in the pool */
} rec_t;

typedef struct replay_world {
    bench_world_t *w;       /* sched, wire, buses, plat, gateway, gx live here */
    bool is_can;
    rec_t *recs;
    size_t nrecs, cap;
    uint8_t *pool;
    size_t npool, cappool;
    size_t next_tx;         /* the next recorded gateway transmission to match */
    size_t next_rx;         /* the next recorded transmission to the gateway not yet queued */
    uint64_t gw_bytes;      /* serial: bytes the gateway sent since the last match */
    uint64_t played, requests_matched;
    bench_replay_check_t *check;
    FILE *out;
    bool sample_expect;
    bench_expect_state_t st[BENCH_MAX_EXPECTS];
    int nst;
    const bench_scenario_t *sc;
    double *signals;
    uint64_t sample_us;
} replay_world_t;

static int add_rec(replay_world_t *rw, const rec_t *r, const uint8_t *bytes, size_t n)
{
    if (rw->nrecs == rw->cap) {
        size_t cap = rw->cap ? rw->cap * 2 : 1024;
        rec_t *p = realloc(rw->recs, cap * sizeof *p);
        if (p == NULL) {
            return -1;
        }
        rw->recs = p;
        rw->cap = cap;
    }
    while (rw->npool + n > rw->cappool) {
        size_t cap = rw->cappool ? rw->cappool * 2 : 65536;
        uint8_t *p = realloc(rw->pool, cap);
        if (p == NULL) {
            return -1;
        }
        rw->pool = p;
        rw->cappool = cap;
    }
    rec_t *d = &rw->recs[rw->nrecs++];
    *d = *r;
    d->off = (uint32_t)rw->npool;
    d->len = (uint32_t)n;
    memcpy(rw->pool + rw->npool, bytes, n);
    rw->npool += n;
    return 0;
}

/* CANopen ids the gateway (the master) sends: NMT, SYNC, SDO requests. */
static bool canopen_from_master(uint32_t id)
{
    return id == 0x000 || id == 0x080 || (id >= 0x600 && id <= 0x67F);
}

static int load_capture(replay_world_t *rw, bench_logreader_t *r)
{
    if (rw->is_can) {
        bench_logframe_t f;
        while (bench_logreader_next(r, &f) > 0) {
            bool from_master = f.dir == 'T' || (f.dir == 0 && canopen_from_master(f.id & 0x7FFu));
            rec_t rec = {.t_us = f.t_us, .to_gw = !from_master, .dlc = f.dlc, .id = f.id};
            if (add_rec(rw, &rec, f.data, f.len) != 0) {
                return -1;
            }
        }
        return 0;
    }
    bench_serialrec_t s;
    while (bench_logreader_next_serial(r, &s) > 0) {
        rec_t *prev = rw->nrecs > 0 ? &rw->recs[rw->nrecs - 1] : NULL;
        if (s.cont && prev != NULL && prev->to_gw == s.to_gateway) {
            /* One frame split over lines: the previous record is the last in
             * the pool, so it grows in place. */
            if (add_rec(rw, &(rec_t){.t_us = s.t_us}, s.bytes, s.len) != 0) {
                return -1;
            }
            rw->nrecs--;
            rw->recs[rw->nrecs - 1].len += (uint32_t)s.len;
            continue;
        }
        rec_t rec = {.t_us = s.t_us, .to_gw = s.to_gateway};
        if (add_rec(rw, &rec, s.bytes, s.len) != 0) {
            return -1;
        }
    }
    return 0;
}

static void play_rec(void *ctx, uint64_t now_us);

typedef struct play_ctx {
    replay_world_t *rw;
    size_t i;
} play_ctx_t;

static play_ctx_t *play_slots;

static void play_rec(void *ctx, uint64_t now_us)
{
    play_ctx_t *p = ctx;
    replay_world_t *rw = p->rw;
    const rec_t *r = &rw->recs[p->i];
    bench_world_t *w = rw->w;
    (void)now_us;
    if (rw->is_can) {
        sim_can_frame_t f;
        memset(&f, 0, sizeof f);
        f.id = r->id & BENCH_LOG_EFF ? ((r->id & 0x1FFFFFFFu) | SIM_CAN_EFF_FLAG) : r->id;
        f.dlc = r->dlc > 8 ? 8 : r->dlc;
        memcpy(f.data, rw->pool + r->off, r->len > 8 ? 8 : r->len);
        sim_canbus_send(&w->bms_can, w->sb_bus_node[0], &f);
    } else {
        sim_wire_write(&w->rs485, 1, rw->pool + r->off, r->len);
    }
    rw->played++;
}

/* Queue the recorded transmissions to the gateway that follow recorded
 * request `tx` (up to the next request), at the delays they had after it. */
static void queue_answers(replay_world_t *rw, size_t tx, uint64_t now_us)
{
    uint64_t base = rw->recs[tx].t_us;
    size_t i = tx + 1;
    for (; i < rw->nrecs && rw->recs[i].to_gw; i++) {
        uint64_t d = rw->recs[i].t_us >= base ? rw->recs[i].t_us - base : 0;
        play_slots[i].rw = rw;
        play_slots[i].i = i;
        sim_sched_at(&rw->w->sched, now_us + d, play_rec, &play_slots[i]);
    }
    rw->next_rx = i;
}

/* The gateway sent `n` bytes (serial) or one frame (CAN): when that
 * completes the next recorded request, its answers are queued. */
static void gateway_sent(replay_world_t *rw, size_t n, uint64_t now_us)
{
    while (rw->next_tx < rw->nrecs && rw->recs[rw->next_tx].to_gw) {
        rw->next_tx++;
    }
    if (rw->next_tx >= rw->nrecs) {
        return;
    }
    rw->gw_bytes += n;
    if (rw->gw_bytes < (rw->is_can ? 1u : rw->recs[rw->next_tx].len)) {
        return;
    }
    rw->gw_bytes = 0;
    rw->requests_matched++;
    queue_answers(rw, rw->next_tx, now_us);
    rw->next_tx++;
}

static replay_world_t *g_rw; /* the sim callbacks' context (one replay per process) */

/* The packs' end of the serial line: what the gateway sends. */
static void bms_uart_notify(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    uint8_t buf[512];
    size_t n;
    while ((n = sim_wire_read(&w->rs485, 1, buf, sizeof buf)) > 0) {
        gateway_sent(g_rw, n, now_us);
    }
}

static void bms_can_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    (void)ctx, (void)f;
    gateway_sent(g_rw, 1, t_us);
}

static void gx_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    replay_world_t *rw = ctx;
    bench_gx_feed(&rw->w->gx, f->id, f->dlc, f->data, t_us);
    bench_replay_check_frame(rw->check, f->id, f->dlc, f->data, t_us, true);
    if (rw->out != NULL) {
        char hex[17];
        unsigned n = f->dlc > 8 ? 8 : f->dlc;
        for (unsigned i = 0; i < n; i++) {
            snprintf(hex + 2 * i, 3, "%02X", f->data[i]);
        }
        hex[2 * n] = '\0';
        if (f->id & SIM_CAN_EFF_FLAG) {
            fprintf(rw->out, "(%010llu.%06llu) can0 %08X#%s\n", (unsigned long long)(OUT_T0_S + t_us / 1000000u),
                    (unsigned long long)(t_us % 1000000u), (unsigned)(f->id & 0x1FFFFFFFu), hex);
        } else {
            fprintf(rw->out, "(%010llu.%06llu) can0 %03X#%s\n", (unsigned long long)(OUT_T0_S + t_us / 1000000u),
                    (unsigned long long)(t_us % 1000000u), (unsigned)(f->id & 0x7FFu), hex);
        }
    }
}

/* Signals of the simulated world do not exist in a replay. */
static void blank_sim_signals(double *s)
{
    for (int i = 0; i < bench_signal_count(); i++) {
        const char *h = bench_signal_defs[i].help;
        const char *n = bench_signal_defs[i].name;
        if (strncmp(h, "sim", 3) == 0 && strcmp(n, "can_load_pct") != 0 &&
            strcmp(n, "rs485_collisions") != 0) {
            s[i] = NAN;
        }
    }
}

static void sample_tick(void *ctx, uint64_t now_us)
{
    replay_world_t *rw = ctx;
    bench_signals_sample(rw->w, rw->signals);
    blank_sim_signals(rw->signals);
    for (int i = 0; i < rw->nst; i++) {
        bench_expect_sample(&rw->st[i], (double)now_us / 1e6, rw->signals, bench_signal_names);
    }
    sim_sched_at(&rw->w->sched, now_us + rw->sample_us, sample_tick, rw);
}

static bool family_of(const char *name, bench_family_t *k, gw_bms_family_t *g)
{
    static const struct { const char *n; bench_family_t k; gw_bms_family_t g; } fams[] = {
        {"topband", BENCH_FAM_TOPBAND, GW_BMS_TOPBAND},
        {"tinybms", BENCH_FAM_TINYBMS, GW_BMS_TINYBMS},
        {"superb", BENCH_FAM_SUPERB, GW_BMS_SUPERB},
        {"balancer", BENCH_FAM_BALANCER, GW_BMS_BALANCER},
    };
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
        if (strcmp(name, fams[i].n) == 0) {
            *k = fams[i].k;
            *g = fams[i].g;
            return true;
        }
    }
    return false;
}

static int build_replay_world(replay_world_t *rw, bench_family_t kind, gw_bms_family_t gfam,
                              int cells)
{
    bench_world_t *w = rw->w;
    w->kind = kind;
    sim_sched_init(&w->sched);
    uint32_t baud = kind == BENCH_FAM_TINYBMS    ? TINYBMS_BAUD
                    : kind == BENCH_FAM_BALANCER ? BALANCER_BAUD
                                                 : RS485_BAUD;
    sim_wire_init(&w->rs485, &w->sched, baud, 10, kind == BENCH_FAM_TOPBAND);
    sim_canbus_init(&w->can, &w->sched, VICTRON_BITRATE);
    sim_canbus_init(&w->bms_can, &w->sched, CANOPEN_BITRATE);
    bench_gx_init(&w->gx);
    sim_canbus_attach(&w->can, gx_rx, rw);
    if (kind == BENCH_FAM_SUPERB) {
        w->sb_bus_node[0] = sim_canbus_attach(&w->bms_can, bms_can_rx, rw);
    }
    gw_config_t cfg;
    gateway_config_default(&cfg);
    gateway_config_family(&cfg, gfam);
    if (kind == BENCH_FAM_BALANCER) {
        cfg.balancer.modules = (uint8_t)cells;
    }
    if (plat_sim_init(&w->plat, &w->sched, &w->rs485, 0, &w->can) != 0) {
        return -1;
    }
    plat_sim_set_can_notify(&w->plat, bench_world_gw_can_notify, w);
    if (kind == BENCH_FAM_SUPERB && plat_sim_add_can(&w->plat, cfg.bms_can, &w->bms_can) != 0) {
        return -1;
    }
    if (gateway_init(&w->gw, &cfg, &w->plat.api, 0) != 0) {
        return -1;
    }
    sim_wire_set_notify(&w->rs485, 0, bench_world_gw_uart_notify, w);
    sim_wire_set_notify(&w->rs485, 1, bms_uart_notify, w);
    bench_world_gw_reschedule(w);
    return 0;
}

static int run_into(const replay_opts_t *o, const char *path)
{
    bench_family_t kind;
    gw_bms_family_t gfam;
    bench_logfmt_t fmt = o->fmt;
    const char *family = o->family;
    if (family == NULL) {
        family = fmt == BENCH_LOGFMT_CANDUMP_L || fmt == BENCH_LOGFMT_CANDUMP ||
                         fmt == BENCH_LOGFMT_ASC
                     ? "superb"
                     : "topband";
    }
    if (!family_of(family, &kind, &gfam)) {
        fprintf(stderr, "bmsbench replay: --family %s: want topband, tinybms, superb or balancer\n",
                family);
        return BENCH_EXIT_USAGE;
    }
    bench_replay_profile_t prof;
    char err[512];
    if (!bench_replay_profile_get(o->profile, o->cells, &prof, err, sizeof err)) {
        fprintf(stderr, "bmsbench replay: %s\n", err);
        return BENCH_EXIT_USAGE;
    }
    prof.grace_ms = (uint32_t)llround(o->grace_s * 1000.0);
    static bench_scenario_t sc;
    if (o->expect != NULL &&
        !bench_scenario_load(o->expect, &sc, bench_signal_resolve, NULL, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return BENCH_EXIT_USAGE;
    }
    FILE *in = open_input(path);
    if (in == NULL) {
        return BENCH_EXIT_USAGE;
    }
    static replay_world_t rw;
    static bench_logreader_t r;
    memset(&rw, 0, sizeof rw);
    rw.is_can = kind == BENCH_FAM_SUPERB;
    if (fmt == BENCH_LOGFMT_AUTO && !rw.is_can) {
        fmt = BENCH_LOGFMT_SERIAL;
    }
    bench_logreader_init(&r, in, path, fmt, stderr);
    int rc = load_capture(&rw, &r);
    if (in != stdin) {
        fclose(in);
    }
    rw.w = calloc(1, sizeof *rw.w);
    rw.check = malloc(sizeof *rw.check);
    rw.signals = calloc((size_t)bench_signal_count(), sizeof(double));
    play_slots = calloc(rw.nrecs + 1, sizeof *play_slots);
    if (rc != 0 || rw.w == NULL || rw.check == NULL || rw.signals == NULL || play_slots == NULL) {
        fprintf(stderr, "bmsbench replay: out of memory\n");
        rc = BENCH_EXIT_USAGE;
        goto done;
    }
    if (rw.nrecs == 0) {
        fprintf(stderr, "%s: no %s records in the capture\n", path, rw.is_can ? "CAN" : "serial");
        rc = BENCH_EXIT_USAGE;
        goto done;
    }
    g_rw = &rw;
    bench_replay_check_init(rw.check, &prof);
    if (o->out != NULL && (rw.out = fopen(o->out, "w")) == NULL) {
        fprintf(stderr, "bmsbench replay: --out %s: %s\n", o->out, strerror(errno));
        rc = BENCH_EXIT_USAGE;
        goto done;
    }
    if (build_replay_world(&rw, kind, gfam, o->cells) != 0) {
        fprintf(stderr, "bmsbench replay: internal: the gateway refused the sim platform\n");
        rc = BENCH_EXIT_USAGE;
        goto done;
    }
    if (o->expect != NULL) {
        rw.sc = &sc;
        for (int i = 0; i < sc.nexpects; i++) {
            bench_expect_start(&rw.st[rw.nst++], &sc.expects[i]);
        }
        rw.sample_us = (uint64_t)llround((sc.sample_s > 0 ? sc.sample_s : 0.1) * 1e6);
        sim_sched_at(&rw.w->sched, rw.sample_us, sample_tick, &rw);
    }
    /* A capture without the gateway's requests (rx only) is played at its
     * own times, from its first record on. */
    bool has_tx = false;
    for (size_t i = 0; i < rw.nrecs && !has_tx; i++) {
        has_tx = !rw.recs[i].to_gw;
    }
    uint64_t t_first = rw.recs[0].t_us, t_last = rw.recs[rw.nrecs - 1].t_us;
    if (!has_tx) {
        for (size_t i = 0; i < rw.nrecs; i++) {
            play_slots[i].rw = &rw;
            play_slots[i].i = i;
            sim_sched_at(&rw.w->sched, rw.recs[i].t_us - t_first, play_rec, &play_slots[i]);
        }
        rw.next_tx = rw.nrecs;
    }
    double dur = o->duration_s > 0 ? o->duration_s : (double)(t_last - t_first) / 1e6 + 5.0;
    uint64_t end_us = (uint64_t)llround(dur * 1e6);
    double w0 = wall_s();
    for (uint64_t t = 0; t < end_us;) {
        uint64_t step = o->speed > 0 ? 10000u : end_us;
        t = t + step < end_us ? t + step : end_us;
        sim_sched_run_until(&rw.w->sched, t);
        if (o->speed > 0) {
            sleep_s((double)t / 1e6 / o->speed - (wall_s() - w0));
        }
    }
    bench_replay_check_finish(rw.check);
    printf("replay: %s, %zu records (%llu requests matched, %llu played), gateway ran %.3f s\n",
           family, rw.nrecs, (unsigned long long)rw.requests_matched,
           (unsigned long long)rw.played, dur);
    const bench_gx_t *g = &rw.w->gx;
    if (g->seen_351) {
        printf("gateway: cvl_v=%.1f ccl_a=%.1f dcl_a=%.1f soc_pct=%.0f min_cell_v=%.3f "
               "max_cell_v=%.3f modules_online=%u\n",
               g->cvl_v, g->ccl_a, g->dcl_a, g->soc_pct, g->min_cell_v, g->max_cell_v,
               g->modules_online);
    } else {
        printf("gateway: no 0x351 sent\n");
    }
    int vrc = verdict(rw.check, &r, stdout, o->quiet);
    rc = vrc;
    if (o->expect != NULL) {
        int failed = 0;
        bench_signals_sample(rw.w, rw.signals);
        blank_sim_signals(rw.signals);
        for (int i = 0; i < rw.nst; i++) {
            bench_expect_finish(&rw.st[i], dur, rw.signals, bench_signal_names);
            bool ok = rw.st[i].verdict == BENCH_PASS;
            failed += !ok;
            printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", rw.st[i].exp->label, ok ? "" : ": ",
                   ok ? "" : rw.st[i].message);
        }
        printf("expect %s: %d of %d failed\n", sc.name, failed, rw.nst);
        if (failed > 0 && rc == BENCH_EXIT_OK) {
            rc = BENCH_EXIT_FAIL;
        }
    }
done:
    if (rw.out != NULL && fclose(rw.out) != 0) {
        fprintf(stderr, "bmsbench replay: --out %s: write error\n", o->out);
        rc = BENCH_EXIT_USAGE;
    }
    if (rw.w != NULL) {
        sim_sched_free(&rw.w->sched);
    }
    if (rw.check != NULL) {
        bench_replay_check_free(rw.check);
    }
    free(rw.w), free(rw.check), free(rw.signals), free(play_slots), free(rw.recs), free(rw.pool);
    play_slots = NULL;
    g_rw = NULL;
    return rc;
}

/* ---- the command ---- */

static bool parse_pos_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && *v >= 0 && isfinite(*v);
}

int cmd_replay(int argc, char **argv)
{
    replay_opts_t o = {.profile = "lifepo4", .cells = 16, .grace_s = 2.0};
    static const struct option longopts[] = {
        {"check", no_argument, NULL, 'c'},        {"into-gateway", no_argument, NULL, 'g'},
        {"to", required_argument, NULL, 't'},     {"profile", required_argument, NULL, 'p'},
        {"cells", required_argument, NULL, 'n'},  {"format", required_argument, NULL, 'f'},
        {"grace", required_argument, NULL, 'G'},  {"family", required_argument, NULL, 'F'},
        {"out", required_argument, NULL, 'o'},    {"expect", required_argument, NULL, 'e'},
        {"duration", required_argument, NULL, 'd'}, {"realtime", no_argument, NULL, 'r'},
        {"speed", required_argument, NULL, 's'},  {"rules", no_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"bench", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        double v;
        switch (ch) {
        case 'c':
            o.check = true;
            break;
        case 'g':
            o.into = true;
            break;
        case 't':
            o.to_iface = optarg;
            break;
        case 'p':
            o.profile = optarg;
            break;
        case 'n':
            if (!parse_pos_double(optarg, &v) || v != floor(v) || v < 1 || v > 50) {
                fprintf(stderr, "bmsbench replay: --cells %s: want 1..50\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            o.cells = (int)v;
            break;
        case 'f':
            if (!bench_logfmt_parse_name(optarg, &o.fmt)) {
                fprintf(stderr, "bmsbench replay: --format %s: want auto, candump-l, candump, "
                                "asc or serial\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            break;
        case 'G':
            if (!parse_pos_double(optarg, &o.grace_s) || o.grace_s > 3600) {
                fprintf(stderr, "bmsbench replay: --grace %s: want seconds 0..3600\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            break;
        case 'F':
            o.family = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'e':
            o.expect = optarg;
            break;
        case 'd':
            if (!bench_parse_duration(optarg, &o.duration_s) || o.duration_s <= 0) {
                fprintf(stderr, "bmsbench replay: --duration %s: want a duration\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            break;
        case 'r':
            o.speed = 1.0;
            break;
        case 's':
            if (!parse_pos_double(optarg, &o.speed) || o.speed <= 0) {
                fprintf(stderr, "bmsbench replay: --speed %s: want a factor > 0\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            break;
        case 'R':
            o.rules = true;
            break;
        case 'B':
            /* The figure `bmsbench bench` prints, on its own. */
            if (!parse_pos_double(optarg, &v) || v < 1 || v > 1e9) {
                fprintf(stderr, "bmsbench replay: --bench %s: want a frame count\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            return bench_replay_figure(stdout, (size_t)v) == 0 ? BENCH_EXIT_OK : BENCH_EXIT_USAGE;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            replay_usage(stdout);
            return BENCH_EXIT_OK;
        default:
            replay_usage(stderr);
            return BENCH_EXIT_USAGE;
        }
    }
    if (o.rules) {
        for (int i = 0; i < BENCH_RULE_COUNT; i++) {
            printf("%-18s %s\n", bench_replay_rule_names[i], bench_replay_rule_help[i]);
        }
        return BENCH_EXIT_OK;
    }
    int modes = (int)o.check + (int)o.into + (o.to_iface != NULL);
    if (modes != 1 || optind != argc - 1) {
        fprintf(stderr, "bmsbench replay: %s\n\n",
                modes != 1 ? "choose one of --check, --into-gateway, --to IFACE"
                           : "want exactly one LOG file");
        replay_usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    const char *path = argv[optind];
    if (o.check) {
        return run_check(&o, path);
    }
    if (o.into) {
        return run_into(&o, path);
    }
    return run_to_iface(&o, path);
}

/* ---- the bench figure ---- */

/* A frame set like a gateway's, one per 100 ms, CCL ramping so values vary. */
static int write_bench_log(const char *path, size_t frames)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    static const char *const sets[] = {"351#2802%04X2003D001", "355#5A0064001C250000",
                                       "356#E414F6FFC8000000", "35A#AAAAAAAAAAAAAAAA",
                                       "35C#C0",               "373#AC0DB60D21012301",
                                       "35E#5050524F42414E44", "372#0400000000000000"};
    uint64_t t_us = 1700000000ull * 1000000u;
    for (size_t i = 0; i < frames; i++) {
        unsigned k = (unsigned)(i % 8u);
        if (k == 0) {
            t_us += 100000u;
        }
        unsigned ccl = 1000u + (unsigned)((i / 8u) % 500u);
        char frame[40];
        snprintf(frame, sizeof frame, sets[k], ((ccl & 0xFFu) << 8) | (ccl >> 8));
        fprintf(f, "(%010llu.%06llu) can0 %s\n", (unsigned long long)(t_us / 1000000u),
                (unsigned long long)(t_us % 1000000u), frame);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* One timed pass of ours over the log: read every frame and check it. */
static int time_our_replay(const char *path, double *secs, uint64_t *frames, uint64_t *violations)
{
    bench_replay_profile_t prof;
    char err[128];
    (void)bench_replay_profile_get("lifepo4", 16, &prof, err, sizeof err);
    bench_logreader_t *r = malloc(sizeof *r);
    bench_replay_check_t *c = malloc(sizeof *c);
    FILE *in = fopen(path, "r");
    if (r == NULL || c == NULL || in == NULL) {
        free(r), free(c);
        if (in != NULL) {
            fclose(in);
        }
        return -1;
    }
    double t0 = wall_s();
    bench_logreader_init(r, in, path, BENCH_LOGFMT_AUTO, stderr);
    bench_replay_check_init(c, &prof);
    bench_logframe_t f;
    while (bench_logreader_next(r, &f) > 0) {
        bench_replay_check_frame(c, f.id, f.dlc, f.data, f.t_us, f.has_time);
    }
    bench_replay_check_finish(c);
    *secs = wall_s() - t0;
    fclose(in);
    *frames = r->frames;
    *violations = c->nviolations;
    bench_replay_check_free(c);
    free(r), free(c);
    return 0;
}

int bench_replay_figure(FILE *out, size_t frames)
{
    if (frames == 0) {
        frames = 1000000;
    }
    char path[] = "/tmp/bmsbench-replay-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(out, "replay: cannot make a temporary file: %s\n", strerror(errno));
        return -1;
    }
    close(fd);
    if (write_bench_log(path, frames) != 0) {
        fprintf(out, "replay: cannot write %s\n", path);
        remove(path);
        return -1;
    }
    /* A run of ours takes some 50 ms, where one page-cache miss or a
     * frequency step shows; both sides are timed several times and the
     * best run of each is compared, as timeit does. */
    enum { OUR_RUNS = 5, PY_RUNS = 3 };
    double ours = 1e30;
    uint64_t nread = 0, nviol = 0;
    for (int run = 0; run < OUR_RUNS; run++) {
        double t;
        if (time_our_replay(path, &t, &nread, &nviol) != 0) {
            fprintf(out, "replay: cannot read %s\n", path);
            remove(path);
            return -1;
        }
        ours = t < ours ? t : ours;
    }
    fprintf(out, "replay: %zu frames in %.3f s (%.0f frames/s, best of %d)%s", (size_t)nread, ours,
            ours > 0 ? (double)nread / ours : 0.0, OUR_RUNS,
            nviol != 0 ? " [unexpected violations]" : "");

    char cmd[512];
    snprintf(cmd, sizeof cmd,
             /* Debian's python3-can lives with /usr/bin/python3, which a pyenv
              * python3 earlier in PATH would not see. */
             "P=/usr/bin/python3; [ -x $P ] || P=python3; "
             "$P -c \"import can,sys\nn=0\nfor m in can.CanutilsLogReader(sys.argv[1]): "
             "n+=1\nprint(n)\" %s 2>&1",
             path);
    double py = 1e30;
    for (int run = 0; run < PY_RUNS; run++) {
        double p0 = wall_s();
        FILE *p = popen(cmd, "r");
        char line[256] = "";
        if (p != NULL) {
            while (fgets(line, sizeof line, p) != NULL) {
                if (strstr(line, "ModuleNotFoundError") != NULL) {
                    break;
                }
            }
        }
        int prc = p != NULL ? pclose(p) : -1;
        double t = wall_s() - p0;
        if (prc != 0 || strtoull(line, NULL, 10) != nread) {
            py = -1;
            break;
        }
        py = t < py ? t : py;
    }
    if (py < 0) {
        fprintf(out, "; python-can CanutilsLogReader: not available (python3-can missing?)\n");
    } else {
        fprintf(out, "; python-can CanutilsLogReader: %.3f s (best of %d); ratio %.1f x\n", py,
                PY_RUNS, ours > 0 ? py / ours : 0.0);
    }
    remove(path);
    return 0;
}
