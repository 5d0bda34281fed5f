/* SPDX-License-Identifier: MIT */
/* The wall-clock runner (see live_runner.h).
 *
 * bench_world_open builds the scenario's world exactly as sim mode does;
 * live mode then leaves the in-process gateway idle and never runs the
 * virtual scheduler. Instead one poll loop, driven by CLOCK_MONOTONIC:
 * bytes from the BMS port feed the emulator and its replies go back when
 * due; frames from the CAN side feed the GX monitor and the charger model;
 * the physics steps once a second; events fire at their wall time; the
 * checks are sampled every `sample` seconds. The world's clock field is set
 * to the wall time before each step so signals and events read real time. */
#include "harness/live/live_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/live/can_io.h"
#include "harness/live/pty.h"
#include "harness/live/serial_io.h"
#include "harness/signals.h"

#define PHYS_STEP_S 1.0
#define TINY_TICK_S 0.1
#define POLL_MAX_MS 10
#define TOPBAND_BAUD 9600
#define TINYBMS_BAUD 115200
#define BALANCER_BAUD 300
#define SLCAN_PTY_BAUD 115200
#define MAX_PENDING 8
#define MAX_LIVE_FAILS 8

/* A reply the emulator has made, waiting for its turnaround to pass. */
typedef struct pending {
    uint8_t bytes[EMU_TB_MAX_REPLY];
    size_t len;
    uint64_t due_us;
} pending_t;

typedef struct live {
    const bench_scenario_t *sc;
    const bench_live_opts_t *lo;
    bench_world_t *w;
    double t0;
    int bms_fd;               /* the bench's end of the BMS line */
    bench_pty_t bms_pty, can_pty;
    bench_can_io_t can;
    bool can_open;
    bench_pty_t sb_pty;       /* superb: the batteries' CANopen bus, an SLCAN PTY */
    bench_can_io_t sb_can;    /* the bench plays that adapter */
    bool sb_open;
    pid_t gw_pid;
    int gw_out;               /* the gateway's stdout+stderr, -1 when none */
    char gw_line[256];        /* the last line it printed, for the failure message */
    size_t gw_line_len;
    char gw_partial[256];
    FILE *log;
    pending_t pend[MAX_PENDING];
    uint64_t bms_bytes, can_frames;
    bool bitrate_checked;
    char fails[MAX_LIVE_FAILS][384];
    int nfails;
    bench_live_result_t *lr;
    /* the loop's state between steps */
    double *sig;
    double sample_s, next_sample, next_phys, next_tiny, last_phys;
    int ev_i;
    bool bms_ok, can_ok;
    bool done;                /* the run is over: duration, gateway gone or device lost */
    bool gx_dropped;          /* panel: the GX is fed nothing */
    double wall0;             /* for r->stats.wall_s */
} live_t;

struct bench_live {
    live_t L;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A failure only live mode can have; fmt takes one string argument. */
static void live_fail(live_t *L, double t_s, const char *fmt, const char *a)
{
    if (L->nfails >= MAX_LIVE_FAILS) {
        return;
    }
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a);
    snprintf(L->fails[L->nfails++], sizeof L->fails[0], "live: %s (at %.1f s)", msg, t_s);
}

/* ---- the gateway command ---- */

static int append_str(char *out, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + len + 1 > cap) {
        return -1;
    }
    memcpy(out + *n, s, len);
    *n += len;
    out[*n] = '\0';
    return 0;
}

int bench_live_expand(const char *cmd, const char *bms_port, const char *victron_can,
                      const char *settings, char *out, size_t cap)
{
    static const char *const keys[] = {"{bms_port}", "{victron_can}", "{settings}"};
    const char *vals[] = {bms_port, victron_can, settings != NULL ? settings : ""};
    size_t n = 0;
    bool named = strstr(cmd, keys[0]) != NULL || strstr(cmd, keys[1]) != NULL;
    if (cap == 0) {
        return -1;
    }
    out[0] = '\0';
    for (const char *p = cmd; *p != '\0';) {
        bool hit = false;
        for (int k = 0; k < 3 && !hit; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(p, keys[k], kl) == 0) {
                if (append_str(out, cap, &n, vals[k]) != 0) {
                    return -1;
                }
                p += kl;
                hit = true;
            }
        }
        if (!hit) {
            char one[2] = {*p++, '\0'};
            if (append_str(out, cap, &n, one) != 0) {
                return -1;
            }
        }
    }
    if (!named) {
        if (append_str(out, cap, &n, " --bms-port ") != 0 || append_str(out, cap, &n, bms_port) ||
            append_str(out, cap, &n, " --victron-can ") != 0 ||
            append_str(out, cap, &n, victron_can) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The scenario's gateway: map and --set, as `--set KEY=VALUE` words. */
static void settings_words(const bench_scenario_t *sc, const bench_run_opts_t *o, char *out,
                           size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < sc->ngwset + o->ngwset; i++) {
        const bench_gwset_t *s = i < sc->ngwset ? &sc->gwset[i] : &o->gwset[i - sc->ngwset];
        char word[80];
        snprintf(word, sizeof word, "%s--set %s=%g", n > 0 ? " " : "", s->key, s->value);
        if (append_str(out, cap, &n, word) != 0) {
            return;
        }
    }
}

/* Replace every key in in by val (the placeholders bench_live_expand does
 * not know: {family}, {bms_can}). Returns 0, or -1 when out is too small. */
static int replace_all(const char *in, const char *key, const char *val, char *out, size_t cap)
{
    size_t n = 0, kl = strlen(key);
    out[0] = '\0';
    for (const char *p = in; *p != '\0';) {
        if (strncmp(p, key, kl) == 0) {
            if (append_str(out, cap, &n, val) != 0) {
                return -1;
            }
            p += kl;
            continue;
        }
        char one[2] = {*p++, '\0'};
        if (append_str(out, cap, &n, one) != 0) {
            return -1;
        }
    }
    return 0;
}

static int spawn_gateway(live_t *L, const char *cmdline, char *err, size_t cap)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, cap, "fork: %s", strerror(errno));
        close(pfd[0]), close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        /* Own process group, so stopping it reaches whatever sh started. */
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
        }
        dup2(pfd[1], STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(pfd[1]);
    int fl = fcntl(pfd[0], F_GETFL);
    (void)fcntl(pfd[0], F_SETFL, fl | O_NONBLOCK);
    L->gw_pid = pid;
    L->gw_out = pfd[0];
    return 0;
}

/* Forward the gateway's output to the log line by line; keep the last line. */
static void drain_gateway_output(live_t *L, double t_s)
{
    char buf[512];
    ssize_t n;
    while (L->gw_out >= 0 && (n = read(L->gw_out, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                close(L->gw_out);
                L->gw_out = -1;
            }
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            char ch = buf[i];
            if (ch != '\n' && L->gw_line_len + 1 < sizeof L->gw_partial) {
                L->gw_partial[L->gw_line_len++] = ch;
                continue;
            }
            if (ch != '\n') {
                continue; /* over-long line: the rest is dropped up to its end */
            }
            L->gw_partial[L->gw_line_len] = '\0';
            if (L->gw_line_len > 0) {
                snprintf(L->gw_line, sizeof L->gw_line, "%s", L->gw_partial);
            }
            if (L->log != NULL) {
                fprintf(L->log, "%10.3f gateway: %s\n", t_s, L->gw_partial);
            }
            L->gw_line_len = 0;
        }
    }
    if (L->gw_out >= 0) {
        close(L->gw_out); /* EOF */
        L->gw_out = -1;
    }
}

static int wait_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* Has the gateway ended? Records the failure once. */
static bool gateway_gone(live_t *L, double t_s)
{
    int st;
    if (L->gw_pid <= 0 || waitpid(L->gw_pid, &st, WNOHANG) != L->gw_pid) {
        return false;
    }
    L->gw_pid = 0;
    drain_gateway_output(L, t_s);
    L->lr->gateway_exited = true;
    L->lr->gateway_status = wait_status(st);
    char what[64];
    if (WIFSIGNALED(st)) {
        snprintf(what, sizeof what, "was killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    } else {
        snprintf(what, sizeof what, "exited with status %d", L->lr->gateway_status);
    }
    char msg[384];
    snprintf(msg, sizeof msg, "gateway process %s%s%s%s", what,
             L->gw_line[0] != '\0' ? "; its last output: '" : "", L->gw_line,
             L->gw_line[0] != '\0' ? "'" : "");
    live_fail(L, t_s, "%s", msg);
    return true;
}

static void stop_gateway(live_t *L)
{
    if (L->gw_pid <= 0) {
        return;
    }
    kill(-L->gw_pid, SIGTERM);
    for (int waited = 0; waited < BENCH_LIVE_STOP_MS; waited += 10) {
        int st;
        if (waitpid(L->gw_pid, &st, WNOHANG) == L->gw_pid) {
            L->gw_pid = 0;
            return;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(-L->gw_pid, SIGKILL);
    (void)waitpid(L->gw_pid, NULL, 0);
    L->gw_pid = 0;
}

/* ---- wiring ---- */

static unsigned family_baud(bench_family_t kind)
{
    if (kind == BENCH_FAM_BALANCER) {
        return BALANCER_BAUD;
    }
    return kind == BENCH_FAM_TINYBMS ? TINYBMS_BAUD : TOPBAND_BAUD;
}

static bool is_slcan(const char *can)
{
    return strncmp(can, "slcan:", 6) == 0;
}

/* A real controller must already run at the Victron bitrate: the bench
 * does not reconfigure a user's interface behind their back. */
static int check_iface_bitrate(const char *iface, char *err, size_t cap)
{
    bench_can_iface_t ifs[32];
    int n = bench_can_ifaces(ifs, 32);
    for (int i = 0; i < n; i++) {
        if (strcmp(ifs[i].name, iface) != 0) {
            continue;
        }
        if (!ifs[i].up) {
            snprintf(err, cap, "--can %s: interface is down (ip link set %s up type can bitrate 500000)",
                     iface, iface);
            return -1;
        }
        if (!ifs[i].is_virtual && ifs[i].bitrate != 0 &&
            ifs[i].bitrate != BENCH_LIVE_VICTRON_BITRATE) {
            snprintf(err, cap, "--can %s: runs at %u bit/s; the Victron side needs 500000", iface,
                     ifs[i].bitrate);
            return -1;
        }
    }
    return 0;
}

static int open_can(live_t *L, const char *can, char *err, size_t cap)
{
    int rc;
    if (is_slcan(can)) {
        rc = bench_can_open_slcan_host(&L->can, can + 6, BENCH_LIVE_VICTRON_BITRATE, err, cap);
    } else {
        rc = check_iface_bitrate(can, err, cap);
        if (rc == 0) {
            rc = bench_can_open_socketcan(&L->can, can, err, cap);
        }
    }
    L->can_open = rc == 0;
    return rc;
}

static int wire_up(live_t *L, const bench_run_opts_t *o, char *err, size_t cap)
{
    const bench_live_opts_t *lo = L->lo;
    unsigned baud = family_baud(L->sc->bank.kind);
    if (lo->gateway_cmd == NULL) {
        if (lo->bms_port == NULL || lo->can == NULL) {
            snprintf(err, cap, "live without --gateway tests a real board: name its adapters "
                               "with --bms-port DEV and --can IFACE|slcan:DEV");
            return -1;
        }
        L->bms_fd = bench_serial_open(lo->bms_port, baud, err, cap);
        if (L->bms_fd < 0) {
            return -1;
        }
        return open_can(L, lo->can, err, cap);
    }
    if (bench_pty_open(&L->bms_pty, baud, err, cap) != 0) {
        return -1;
    }
    L->bms_fd = L->bms_pty.master_fd;
    char bms_can[128] = "";
    if (L->sc->bank.kind == BENCH_FAM_SUPERB) {
        /* The batteries' own bus: a second SLCAN PTY, the bench as the adapter. */
        if (bench_pty_open(&L->sb_pty, SLCAN_PTY_BAUD, err, cap) != 0) {
            return -1;
        }
        bench_can_attach_slcan_adapter(&L->sb_can, L->sb_pty.master_fd, L->sb_pty.slave_path);
        L->sb_open = true;
        snprintf(bms_can, sizeof bms_can, "slcan:%s", L->sb_pty.slave_path);
    }
    char victron[128];
    if (lo->can != NULL) {
        if (is_slcan(lo->can)) {
            snprintf(err, cap, "--can %s: with --gateway the bench needs the other end of the bus; "
                               "give a SocketCAN interface (vcan0, can0), or no --can for an "
                               "SLCAN PTY", lo->can);
            return -1;
        }
        if (open_can(L, lo->can, err, cap) != 0) {
            return -1;
        }
        snprintf(victron, sizeof victron, "%s", lo->can);
    } else {
        if (bench_pty_open(&L->can_pty, SLCAN_PTY_BAUD, err, cap) != 0) {
            return -1;
        }
        bench_can_attach_slcan_adapter(&L->can, L->can_pty.master_fd, L->can_pty.slave_path);
        L->can_open = true;
        snprintf(victron, sizeof victron, "slcan:%s", L->can_pty.slave_path);
    }
    char settings[1024], cmdline[4096], step1[4096], step2[4096];
    settings_words(L->sc, o, settings, sizeof settings);
    if (replace_all(lo->gateway_cmd, "{family}", L->sc->bank.family, step1, sizeof step1) != 0 ||
        replace_all(step1, "{bms_can}", bms_can, step2, sizeof step2) != 0 ||
        bench_live_expand(step2, L->bms_pty.slave_path, victron, settings, cmdline,
                          sizeof cmdline) != 0) {
        snprintf(err, cap, "--gateway: command too long");
        return -1;
    }
    if (L->log != NULL) {
        fprintf(L->log, "%10.3f bench: starting gateway: %s\n", 0.0, cmdline);
    }
    return spawn_gateway(L, cmdline, err, cap);
}

/* ---- the BMS side ---- */

static void queue_reply(live_t *L, const uint8_t *bytes, size_t len, uint64_t due_us)
{
    for (int i = 0; i < MAX_PENDING; i++) {
        if (L->pend[i].len == 0) {
            memcpy(L->pend[i].bytes, bytes, len);
            L->pend[i].len = len;
            L->pend[i].due_us = due_us;
            return;
        }
    }
    L->w->replies_dropped++;
}

static void emulator_feed(live_t *L, const uint8_t *buf, size_t n, uint64_t now_us)
{
    bench_world_t *w = L->w;
    for (size_t i = 0; i < n; i++) {
        if (w->taps.serial != NULL) {
            w->taps.serial(w->taps.ctx, true, now_us, buf[i]);
        }
    }
    /* Byte by byte, so two requests in one read get two replies. */
    for (size_t i = 0; i < n; i++) {
        uint8_t reply[EMU_TB_MAX_REPLY];
        uint64_t start_us = now_us;
        size_t len;
        if (w->kind == BENCH_FAM_TINYBMS) {
            emu_tiny_feed(&w->tiny, &buf[i], 1, now_us);
            len = emu_tiny_take_reply(&w->tiny, reply, sizeof reply, &start_us);
        } else if (w->kind == BENCH_FAM_BALANCER) {
            emu_bal_feed(&w->bal, &buf[i], 1, now_us);
            len = emu_bal_take_reply(&w->bal, reply, sizeof reply, &start_us);
        } else {
            emu_tb_feed(&w->emu, &buf[i], 1, now_us);
            len = emu_tb_take_reply(&w->emu, reply, sizeof reply, &start_us);
        }
        if (len > 0) {
            queue_reply(L, reply, len, start_us < now_us ? now_us : start_us);
        }
    }
}

static void send_due_replies(live_t *L, uint64_t now_us, double t_s)
{
    for (int i = 0; i < MAX_PENDING; i++) {
        pending_t *p = &L->pend[i];
        if (p->len == 0 || p->due_us > now_us) {
            continue;
        }
        if (bench_fd_write_all(L->bms_fd, p->bytes, p->len, 200) != 0 && errno != EIO) {
            live_fail(L, t_s, "BMS port: write failed: %s", strerror(errno));
        }
        for (size_t k = 0; k < p->len && L->w->taps.serial != NULL; k++) {
            L->w->taps.serial(L->w->taps.ctx, false, now_us, p->bytes[k]);
        }
        L->bms_bytes += p->len;
        p->len = 0;
    }
}

/* Returns false when the port is gone for good (a real adapter unplugged). */
static bool pump_bms(live_t *L, uint64_t now_us, double t_s)
{
    uint8_t buf[512];
    for (;;) {
        ssize_t n = read(L->bms_fd, buf, sizeof buf);
        if (n > 0) {
            L->bms_bytes += (uint64_t)n;
            emulator_feed(L, buf, (size_t)n, now_us);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        /* A PTY master reads EIO while no one holds the slave: the gateway
         * has not opened it yet or has closed it; its exit is watched apart. */
        if (n < 0 && errno == EIO && L->lo->gateway_cmd != NULL) {
            return true;
        }
        char msg[300];
        snprintf(msg, sizeof msg, "BMS port %s: device gone (%s); adapter unplugged?",
                 L->lo->bms_port != NULL ? L->lo->bms_port : L->bms_pty.slave_path,
                 n == 0 ? "end of file" : strerror(errno));
        live_fail(L, t_s, "%s", msg);
        return false;
    }
}

/* superb: frames from the gateway's BMS bus to the nodes, and what the
 * nodes have due back onto it. Returns false when the bus is gone. */
static bool pump_superb(live_t *L, uint64_t now_us, double t_s)
{
    bench_world_t *w = L->w;
    sim_can_frame_t in[32];
    int n;
    while ((n = bench_can_read(&L->sb_can, in, 32)) > 0) {
        for (int i = 0; i < n; i++) {
            if (w->taps.can != NULL) {
                w->taps.can(w->taps.ctx, 1, true, &in[i], now_us);
            }
            emu_sb_on_frame(&w->sb, &in[i], now_us);
        }
    }
    if (n < 0) {
        live_fail(L, t_s, "BMS CAN %s: device gone", L->sb_can.name);
        return false;
    }
    sim_can_frame_t f;
    while (emu_sb_take_tx(&w->sb, now_us, &f) >= 0) {
        if (bench_can_send(&L->sb_can, &f) == 0 && w->taps.can != NULL) {
            w->taps.can(w->taps.ctx, 1, false, &f, now_us);
        } /* else dropped while the gateway has it closed: nothing crossed the wire */
    }
    return true;
}

/* ---- the Victron side ---- */

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static bool pump_can(live_t *L, uint64_t now_us, double t_s)
{
    sim_can_frame_t fr[64];
    int n;
    while ((n = bench_can_read(&L->can, fr, 64)) > 0) {
        for (int i = 0; i < n; i++) {
            const sim_can_frame_t *f = &fr[i];
            L->can_frames++;
            if (!L->gx_dropped) {
                bench_gx_feed(&L->w->gx, f->id, f->dlc, f->data, now_us);
            }
            sim_charger_on_frame(&L->w->charger, f, now_us);
            if (L->w->taps.can != NULL) {
                L->w->taps.can(L->w->taps.ctx, 0, true, f, now_us);
            }
            bench_live_result_t *lr = L->lr;
            if (f->id == 0x351 && f->dlc >= 4 && le16(&f->data[2]) == 0 && lr->has_fault &&
                !lr->has_latency && t_s >= lr->fault_at_s) {
                lr->has_latency = true;
                lr->latency_s = t_s - lr->fault_at_s;
            }
        }
        if (n < 64) {
            break;
        }
    }
    if (n < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "CAN %s: device gone (%s); adapter unplugged?", L->can.name,
                 strerror(errno));
        live_fail(L, t_s, "%s", msg);
        return false;
    }
    /* A gateway speaking SLCAN to us must open the bus at 500 kbit/s. */
    const bench_slcan_t *s = &L->can.slcan;
    if (L->can.kind == BENCH_CAN_SLCAN && s->role == BENCH_SLCAN_ADAPTER && s->open &&
        !L->bitrate_checked) {
        L->bitrate_checked = true;
        unsigned br = bench_slcan_bitrate_of(s->bitrate_code);
        if (br != BENCH_LIVE_VICTRON_BITRATE) {
            char what[64];
            if (s->bitrate_code < 0) {
                snprintf(what, sizeof what, "without a bitrate (no S command)");
            } else {
                snprintf(what, sizeof what, "at %u bit/s (S%d)", br, s->bitrate_code);
            }
            live_fail(L, t_s, "gateway opened the Victron CAN bus %s; Victron needs 500000 bit/s",
                      what);
        }
    }
    return true;
}

/* ---- the world in wall time ---- */

static bool is_bms_fault(bench_action_t a)
{
    return a == BENCH_ACT_FAULT || a == BENCH_ACT_TEMPERATURE || a == BENCH_ACT_CELL_SOC ||
           a == BENCH_ACT_CELL_OFFSET || a == BENCH_ACT_REBOOT || a == BENCH_ACT_BUS_GARBAGE;
}

static void fire_event(live_t *L, const bench_event_t *ev, double t_s)
{
    if (ev->action == BENCH_ACT_BUS_GARBAGE) {
        /* On a real line the noise goes out of the real port. */
        uint8_t noise[512];
        size_t n = ev->value > sizeof noise ? sizeof noise : (size_t)ev->value;
        for (size_t i = 0; i < n; i++) {
            noise[i] = (uint8_t)sim_rng_next(&L->w->rng);
        }
        (void)bench_fd_write_all(L->bms_fd, noise, n, 200);
    } else {
        (void)bench_world_inject(L->w, ev);
    }
    if (L->log != NULL) {
        fprintf(L->log, "%10.3f bench: event at line %d\n", t_s, ev->line);
    }
}

static void phys_step(bench_world_t *w, double now_s, double dt_s)
{
    w->charger.charge_avail_a = bench_system_pv_a(&w->sys, now_s);
    w->charger.load_a = bench_system_load_a(&w->sys, now_s);
    double current = sim_charger_decide(&w->charger, &w->bank, w->sched.now_us);
    if (dt_s > 0) {
        sim_bank_step(&w->bank, dt_s, current);
    }
}

/* Signals only the in-process gateway could give are unknown live; the
 * CVL ceiling follows the settings the gateway was given. */
static void sample_live(live_t *L, double *sig)
{
    static const char *const unknown[] = {
        "gw_packs_online", "gw_packs_present", "gw_scan_done",   "gw_bad_frames",
        "gw_bad_checksum", "gw_timeouts",      "gw_replies_ok",  "gw_refusals",
        "gw_bms_reboots",  "gw_names_read",    "cvl_state",      "cvl_transitions",
        "relay_charge",    "relay_discharge",  "relay_alarm",    "buzzer",
        "bal_latched",     "bal_read_faults",  "bal_acks_refused", "rs485_collisions",
        "can_load_pct",
    };
    bench_signals_sample(L->w, sig);
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int k = bench_signal_resolve(NULL, unknown[i], strlen(unknown[i]));
        if (k >= 0) {
            sig[k] = NAN;
        }
    }
    int cells = 0;
    for (int i = 0; i < L->sc->bank.npacks; i++) {
        int c = L->sc->bank.packs[i].cells;
        cells = (cells == 0 || c < cells) ? c : cells;
    }
    int k = bench_signal_resolve(NULL, "cvl_max_allowed_v", strlen("cvl_max_allowed_v"));
    if (k >= 0) {
        sig[k] = cells * (L->w->gw.cfg.profile.cell_max_mv / 1000.0);
    }
}

static void feed_checks(live_t *L, double *sig, double t_s)
{
    const bench_expect_state_t *cst;
    int n = bench_world_checks(L->w, &cst);
    /* The states live in the world's own (non-const) memory. */
    bench_expect_state_t *st = (bench_expect_state_t *)cst;
    sample_live(L, sig);
    for (int i = 0; i < n; i++) {
        bench_expect_sample(&st[i], t_s, sig, bench_signal_names);
    }
    if (L->w->taps.sample != NULL) {
        L->w->taps.sample(L->w->taps.ctx, t_s, sig);
    }
}

static int poll_wait_ms(double now_s, double next_s)
{
    double ms = (next_s - now_s) * 1000.0;
    if (ms < 0) {
        return 0;
    }
    return ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms;
}

/* One pass of the loop at wall time now: events, ports, physics, checks.
 * Returns false when the run is over. */
static bool loop_once(live_t *L, double now)
{
    bench_world_t *w = L->w;
    const bench_scenario_t *sc = L->sc;
    uint64_t now_us = (uint64_t)llround(now * 1e6);
    w->sched.now_us = now_us;
    while (L->ev_i < sc->nevents && sc->events[L->ev_i].at_s <= now) {
        fire_event(L, &sc->events[L->ev_i++], now);
    }
    if (L->bms_ok && w->kind == BENCH_FAM_SUPERB) {
        L->bms_ok = pump_superb(L, now_us, now);
    } else if (L->bms_ok) {
        L->bms_ok = pump_bms(L, now_us, now);
        send_due_replies(L, now_us, now);
    }
    if (L->can_ok) {
        L->can_ok = pump_can(L, now_us, now);
    }
    if (w->kind == BENCH_FAM_TINYBMS && now >= L->next_tiny) {
        emu_tiny_tick(&w->tiny, now_us);
        L->next_tiny += TINY_TICK_S;
    }
    if (now >= L->next_phys) {
        phys_step(w, now, now - L->last_phys);
        if (w->kind == BENCH_FAM_BALANCER) {
            emu_bal_tick(&w->bal, now - L->last_phys, now_us);
        }
        L->last_phys = now;
        L->next_phys += PHYS_STEP_S;
    }
    while (now >= L->next_sample) {
        feed_checks(L, L->sig, L->next_sample);
        L->next_sample += L->sample_s;
    }
    drain_gateway_output(L, now);
    if (L->lo->gateway_cmd != NULL && gateway_gone(L, now)) {
        return false;
    }
    /* A lost device decides the run: waiting on would only add noise. */
    return L->bms_ok && L->can_ok;
}

/* Sleep in poll until something arrives or the next deadline (at most
 * POLL_MAX_MS, and never past until_s). */
static void wait_io(live_t *L, double now, double until_s)
{
    double next = L->next_sample < L->next_phys ? L->next_sample : L->next_phys;
    if (until_s < next) {
        next = until_s;
    }
    struct pollfd pf[4];
    int np = 0;
    pf[np++] = (struct pollfd){.fd = L->bms_fd, .events = POLLIN};
    if (L->sb_open) {
        pf[np++] = (struct pollfd){.fd = L->sb_can.fd, .events = POLLIN};
    }
    if (L->can_open) {
        pf[np++] = (struct pollfd){.fd = L->can.fd, .events = POLLIN};
    }
    if (L->gw_out >= 0) {
        pf[np++] = (struct pollfd){.fd = L->gw_out, .events = POLLIN};
    }
    (void)poll(pf, (nfds_t)np, poll_wait_ms(now, next));
    /* A PTY master whose slave is closed polls POLLHUP at once; pace the loop. */
    for (int i = 0; i < np; i++) {
        if (pf[i].revents & POLLHUP) {
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
            break;
        }
    }
}

bool bench_live_step(bench_live_t *h, double until_s)
{
    live_t *L = &h->L;
    double hard_end = L->sc->duration_s + BENCH_LIVE_GRACE_S;
    while (!L->done) {
        double now = mono_s() - L->t0;
        if (now >= L->sc->duration_s || now >= hard_end) {
            L->done = true;
            break;
        }
        if (!loop_once(L, now)) {
            L->done = true;
            break;
        }
        if (now >= until_s) {
            break;  /* one pass at least, so a step to "now" still pumps */
        }
        wait_io(L, now, until_s);
    }
    return !L->done;
}

bool bench_live_step_ms(bench_live_t *h, int ms)
{
    return bench_live_step(h, bench_live_now(h) + (ms > 0 ? ms : 0) / 1000.0);
}

double bench_live_now(const bench_live_t *h)
{
    return mono_s() - h->L.t0;
}

bench_world_t *bench_live_world(bench_live_t *h)
{
    return h->L.w;
}

bool bench_live_done(const bench_live_t *h)
{
    return h->L.done;
}

void bench_live_drop_victron(bench_live_t *h, bool drop)
{
    h->L.gx_dropped = drop;
}

/* Close what wire_up and world_open made (every field may be unset). */
static void teardown(live_t *L)
{
    stop_gateway(L);
    if (L->gw_out >= 0) {
        close(L->gw_out);
    }
    if (L->can_open) {
        bench_can_close(&L->can);
    }
    if (L->lo->gateway_cmd == NULL && L->bms_fd >= 0) {
        close(L->bms_fd);
    }
    bench_pty_close(&L->bms_pty);
    bench_pty_close(&L->can_pty);
    bench_pty_close(&L->sb_pty);
    bench_world_close(L->w);
    free(L->sig);
}

int bench_live_open(bench_live_t **out, const bench_scenario_t *sc, const bench_run_opts_t *opts,
                    const bench_live_opts_t *lo, bench_result_t *r, bench_live_result_t *lr)
{
    static const bench_run_opts_t no_opts;
    const bench_run_opts_t *o = opts != NULL ? opts : &no_opts;
    *out = NULL;
    memset(r, 0, sizeof *r);
    memset(lr, 0, sizeof *lr);
    r->error = true;  /* until it has started */
    if (!sc->live) {
        snprintf(r->error_msg, sizeof r->error_msg,
                 "sim-only scenario: it has no `live: true` (it needs time compression)");
        return -1;
    }
    if (sc->bank.kind == BENCH_FAM_SUPERB && lo->gateway_cmd == NULL) {
        snprintf(r->error_msg, sizeof r->error_msg,
                 "family superb live needs --gateway (the bench puts the batteries on a second "
                 "SLCAN PTY, {bms_can}); against a board use `bmsbench emulate superb --can`");
        return -1;
    }
    bench_live_t *h = calloc(1, sizeof *h);
    double *sig = calloc((size_t)bench_signal_count(), sizeof *sig);
    if (h == NULL || sig == NULL) {
        free(h), free(sig);
        snprintf(r->error_msg, sizeof r->error_msg, "out of memory");
        return -1;
    }
    live_t *L = &h->L;
    L->sc = sc;
    L->lo = lo;
    L->lr = lr;
    L->log = o->log;
    L->sig = sig;
    L->bms_fd = -1;
    L->gw_out = -1;
    L->bms_pty.master_fd = L->bms_pty.slave_fd = -1;
    L->can_pty.master_fd = L->can_pty.slave_fd = -1;
    L->sb_pty.master_fd = L->sb_pty.slave_fd = -1;
    for (int i = 0; i < sc->nevents; i++) {
        if (is_bms_fault(sc->events[i].action)) {
            lr->has_fault = true;
            lr->fault_at_s = sc->events[i].at_s;
            break;
        }
    }
    /* The in-process gateway is built but never stepped: the one under
     * test is the process (or the board) on the other end of the wires. */
    bench_run_opts_t wo = *o;
    wo.log = NULL;
    int rc = bench_world_open(&L->w, sc, &wo, r->error_msg, sizeof r->error_msg);
    if (rc == 0) {
        bench_world_set_taps(L->w, o->taps);
        rc = wire_up(L, o, r->error_msg, sizeof r->error_msg);
    }
    if (rc != 0) {
        teardown(L);
        free(h);
        return -1;
    }
    r->error = false;
    L->sample_s = sc->sample_s > 0 ? sc->sample_s : 0.1;
    L->next_sample = L->sample_s;
    L->next_phys = PHYS_STEP_S;
    L->next_tiny = TINY_TICK_S;
    L->bms_ok = L->can_ok = true;
    L->wall0 = mono_s();
    L->t0 = mono_s();
    *out = h;
    return 0;
}

void bench_live_close(bench_live_t *h, bench_result_t *r)
{
    live_t *L = &h->L;
    const bench_scenario_t *sc = L->sc;
    double end_s = mono_s() - L->t0;
    L->w->sched.now_us = (uint64_t)llround((end_s < sc->duration_s ? end_s : sc->duration_s) * 1e6);
    stop_gateway(L);
    bench_world_finish(L->w, r);
    r->stats.wall_s = mono_s() - L->wall0;
    r->stats.rs485_bytes = L->bms_bytes;
    r->stats.can_frames = L->can_frames;
    memset(&r->stats.bms, 0, sizeof r->stats.bms);
    L->lr->live_failures = L->nfails;
    /* Live failures come first: a crashed gateway explains the rest. */
    if (L->nfails > 0) {
        char rest[sizeof r->details];
        snprintf(rest, sizeof rest, "%s", r->details);
        r->details[0] = '\0';
        size_t n = 0;
        for (int i = 0; i < L->nfails; i++) {
            n += (size_t)snprintf(r->details + n, sizeof r->details - n, "%s\n", L->fails[i]);
            if (n >= sizeof r->details) {
                n = sizeof r->details - 1;
            }
        }
        snprintf(r->details + n, sizeof r->details - n, "%s", rest);
        snprintf(r->first_failure, sizeof r->first_failure, "%s", L->fails[0]);
        r->nfailed += L->nfails;
        r->nchecks += L->nfails;
        r->passed = false;
    }
    teardown(L);
    free(h);
}

int bench_live_run(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                   const bench_live_opts_t *lo, bench_result_t *r, bench_live_result_t *lr)
{
    bench_live_t *h;
    if (bench_live_open(&h, sc, opts, lo, r, lr) != 0) {
        return -1;
    }
    /* Step to the end; the step itself stops at the duration or a failure. */
    while (bench_live_step(h, sc->duration_s + BENCH_LIVE_GRACE_S)) {
    }
    bench_live_close(h, r);
    return 0;
}
