/* SPDX-License-Identifier: MIT */
/* The wall-clock loop behind `bmsbench emulate --port/--can`: an emulator on a
 * real fd, replies held until the emulator's turnaround, Ctrl-C clean. */
#define _POSIX_C_SOURCE 200809L

#include "harness/live/emu_port.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness/commands.h"
#include "harness/live/can_io.h"
#include "harness/live/serial_io.h"

#define EMU_PORT_PENDING 4          /* replies waiting for their turnaround */
#define EMU_PORT_MAX_WAIT_MS 100    /* poll at least this often (signal flag, ticks) */
#define EMU_PORT_WRITE_MS 500       /* a reply that cannot be written in this long is lost */
#define EMU_PORT_MAX_CATCHUP 256    /* CAN frames sent per pass at most */

/* The handler only records the signal: everything else happens in the loop. */
static volatile sig_atomic_t g_stop_signal;

static void on_stop_signal(int sig)
{
    g_stop_signal = sig;
}

typedef struct saved_handlers {
    struct sigaction old_int, old_term;
} saved_handlers_t;

static void install_handlers(saved_handlers_t *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() returns EINTR at once */
    g_stop_signal = 0;
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
}

static void restore_handlers(const saved_handlers_t *s)
{
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
}

static int signal_exit_code(void)
{
    return g_stop_signal == SIGTERM ? BENCH_EMU_EXIT_SIGTERM : BENCH_EMU_EXIT_SIGINT;
}

static uint64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Milliseconds to wait until due_us (rounded up, capped), 0 when past. */
static int wait_ms_until(uint64_t now_us, uint64_t due_us, int cap_ms)
{
    if (due_us <= now_us) {
        return 0;
    }
    uint64_t ms = (due_us - now_us + 999u) / 1000u;
    return ms < (uint64_t)cap_ms ? (int)ms : cap_ms;
}

/* A raw tty with VMIN = 0 answers an empty non-blocking read with 0, which
 * looks like a hang-up; with VMIN = 1 it says EAGAIN and 0 means the end. */
static void read_blocks_for_one_byte(int fd)
{
    struct termios t;
    if (isatty(fd) && tcgetattr(fd, &t) == 0) {
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        (void)tcsetattr(fd, TCSANOW, &t);
    }
}

/* TIOCEXCL does not stop root, so a second emulator on the same port is
 * also kept out by an advisory lock (as minicom/picocom-style tools do). */
static int lock_or_refuse(int fd, const char *prog, const char *path)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
        return 0;
    }
    fprintf(stderr, "%s: %s: busy (another program holds it)\n", prog, path);
    return -1;
}

/* ---- serial ---- */

typedef struct pending {
    uint8_t bytes[BENCH_EMU_MAX_REPLY];
    size_t len;
    uint64_t due_us;
} pending_t;

typedef struct serial_loop {
    const char *prog;
    const char *path;
    int fd;
    const bench_emu_serial_ops_t *ops;
    uint64_t t0_us;
    uint64_t next_tick_us;
    pending_t pend[EMU_PORT_PENDING];
    unsigned long dropped;
} serial_loop_t;

static void queue_reply(serial_loop_t *s, const uint8_t *bytes, size_t len, uint64_t due_us)
{
    for (int i = 0; i < EMU_PORT_PENDING; i++) {
        if (s->pend[i].len == 0) {
            memcpy(s->pend[i].bytes, bytes, len);
            s->pend[i].len = len;
            s->pend[i].due_us = due_us;
            return;
        }
    }
    s->dropped++; /* a master that floods requests gets fewer replies, as on the bus */
}

/* Returns 0, or -1 when the port is gone. */
static int send_due(serial_loop_t *s, uint64_t now_us)
{
    for (int i = 0; i < EMU_PORT_PENDING; i++) {
        pending_t *p = &s->pend[i];
        if (p->len == 0 || p->due_us > now_us) {
            continue;
        }
        int rc = bench_fd_write_all(s->fd, p->bytes, p->len, EMU_PORT_WRITE_MS);
        p->len = 0;
        if (rc != 0 && (errno == EIO || errno == ENXIO || errno == ENODEV)) {
            return -1;
        }
    }
    return 0;
}

static uint64_t next_event_us(const serial_loop_t *s)
{
    uint64_t next = s->ops->tick != NULL ? s->next_tick_us : UINT64_MAX;
    for (int i = 0; i < EMU_PORT_PENDING; i++) {
        if (s->pend[i].len > 0 && s->pend[i].due_us < next) {
            next = s->pend[i].due_us;
        }
    }
    return next;
}

static void run_ticks(uint64_t now_us, uint64_t *next_tick_us, void (*tick)(void *, uint64_t),
                      void *ctx, uint64_t tick_us)
{
    if (tick == NULL || now_us < *next_tick_us) {
        return;
    }
    tick(ctx, now_us);
    *next_tick_us += tick_us;
    if (*next_tick_us <= now_us) { /* stalled (suspended?): do not replay the gap tick by tick */
        *next_tick_us = now_us + tick_us;
    }
}

/* Read what is there; returns 0, or -1 when the device is gone. */
static int read_serial(serial_loop_t *s)
{
    uint8_t buf[256];
    uint8_t reply[BENCH_EMU_MAX_REPLY];
    for (;;) {
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n > 0) {
            uint64_t now_us = mono_us() - s->t0_us;
            /* Byte by byte, so two requests in one read get two replies. */
            for (ssize_t i = 0; i < n; i++) {
                uint64_t start_us = now_us;
                size_t len = s->ops->feed(s->ops->ctx, buf[i], now_us, reply, sizeof reply,
                                          &start_us);
                if (len > 0 && len <= sizeof reply) {
                    queue_reply(s, reply, len, start_us < now_us ? now_us : start_us);
                }
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        fprintf(stderr, "%s: %s: device gone (%s); adapter unplugged?\n", s->prog, s->path,
                n == 0 ? "hang-up" : strerror(errno));
        return -1;
    }
}

int bench_emu_serve_serial(const char *prog, const char *path, unsigned baud,
                           const bench_emu_serial_ops_t *ops)
{
    char err[256];
    int fd = bench_serial_open(path, baud, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return BENCH_EXIT_USAGE;
    }
    if (lock_or_refuse(fd, prog, path) != 0) {
        close(fd);
        return BENCH_EXIT_USAGE;
    }
    read_blocks_for_one_byte(fd);
    static serial_loop_t s; /* the reply buffers are too big for the stack */
    memset(&s, 0, sizeof s);
    s.prog = prog;
    s.path = path;
    s.fd = fd;
    s.ops = ops;
    s.t0_us = mono_us();
    s.next_tick_us = ops->tick_us;
    saved_handlers_t saved;
    install_handlers(&saved);
    fprintf(stderr, "%s: serving on %s at %u Bd (Ctrl-C to stop)\n", prog, path, baud);
    int rc = BENCH_EXIT_OK;
    while (g_stop_signal == 0) {
        uint64_t now_us = mono_us() - s.t0_us;
        run_ticks(now_us, &s.next_tick_us, ops->tick, ops->ctx, ops->tick_us);
        if (send_due(&s, now_us) != 0) {
            fprintf(stderr, "%s: %s: device gone (%s)\n", prog, path, strerror(errno));
            rc = BENCH_EXIT_FAIL;
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
        int n = poll(&pfd, 1, wait_ms_until(now_us, next_event_us(&s), EMU_PORT_MAX_WAIT_MS));
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "%s: %s: poll: %s\n", prog, path, strerror(errno));
            rc = BENCH_EXIT_FAIL;
            break;
        }
        if (n > 0 && read_serial(&s) != 0) {
            rc = BENCH_EXIT_FAIL;
            break;
        }
    }
    if (g_stop_signal != 0) {
        rc = signal_exit_code();
        fprintf(stderr, "%s: stopped by signal %d\n", prog, (int)g_stop_signal);
    }
    restore_handlers(&saved);
    close(fd);
    return rc;
}

/* ---- CAN ---- */

int bench_emu_parse_slcan(const char *spec, unsigned default_bitrate, char *dev, size_t devcap,
                          unsigned *bitrate)
{
    const char *p = strncmp(spec, "slcan:", 6) == 0 ? spec + 6 : spec;
    const char *at = strrchr(p, '@');
    size_t len = at != NULL ? (size_t)(at - p) : strlen(p);
    if (len == 0 || len >= devcap) {
        return -1;
    }
    memcpy(dev, p, len);
    dev[len] = '\0';
    *bitrate = default_bitrate;
    if (at != NULL) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(at + 1, &end, 10);
        if (errno != 0 || end == at + 1 || *end != '\0' || v == 0 || v > 1000000ul) {
            return -1;
        }
        *bitrate = (unsigned)v;
    }
    return 0;
}

static int open_can_spec(bench_can_io_t *c, const char *prog, const char *spec,
                         unsigned default_bitrate)
{
    char err[256];
    int rc;
    if (strncmp(spec, "slcan:", 6) == 0) {
        char dev[256];
        unsigned bitrate;
        if (bench_emu_parse_slcan(spec, default_bitrate, dev, sizeof dev, &bitrate) != 0) {
            fprintf(stderr, "%s: --can %s: expected slcan:DEV[@BITRATE]\n", prog, spec);
            return -1;
        }
        rc = bench_can_open_slcan_host(c, dev, bitrate, err, sizeof err);
        if (rc == 0 && lock_or_refuse(c->fd, prog, dev) != 0) {
            bench_can_close(c);
            return -1;
        }
        if (rc == 0) {
            read_blocks_for_one_byte(c->fd);
        }
    } else {
        rc = bench_can_open_socketcan(c, spec, err, sizeof err);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
    }
    return rc;
}

/* Send every frame due by now_us. Returns 0, or -1 when the bus is gone. */
static int send_can_due(bench_can_io_t *c, const bench_emu_can_ops_t *ops, uint64_t now_us)
{
    for (int k = 0; k < EMU_PORT_MAX_CATCHUP; k++) {
        uint64_t d = ops->next_deadline(ops->ctx);
        if (d > now_us) {
            return 0;
        }
        sim_can_frame_t f;
        while (ops->take_tx(ops->ctx, d, &f) >= 0) {
            if (bench_can_send(c, &f) != 0 &&
                (errno == EIO || errno == ENXIO || errno == ENODEV || errno == ENETDOWN)) {
                return -1;
            }
        }
    }
    return 0;
}

int bench_emu_serve_can(const char *prog, const char *spec, unsigned default_bitrate,
                        const bench_emu_can_ops_t *ops)
{
    static bench_can_io_t c;
    if (open_can_spec(&c, prog, spec, default_bitrate) != 0) {
        return BENCH_EXIT_USAGE;
    }
    saved_handlers_t saved;
    install_handlers(&saved);
    fprintf(stderr, "%s: serving on %s (Ctrl-C to stop)\n", prog, c.name);
    uint64_t t0_us = mono_us();
    uint64_t next_tick_us = ops->tick_us;
    int rc = BENCH_EXIT_OK;
    while (g_stop_signal == 0) {
        uint64_t now_us = mono_us() - t0_us;
        run_ticks(now_us, &next_tick_us, ops->tick, ops->ctx, ops->tick_us);
        if (send_can_due(&c, ops, now_us) != 0) {
            fprintf(stderr, "%s: %s: device gone (%s)\n", prog, c.name, strerror(errno));
            rc = BENCH_EXIT_FAIL;
            break;
        }
        uint64_t next = ops->next_deadline(ops->ctx);
        if (ops->tick != NULL && next_tick_us < next) {
            next = next_tick_us;
        }
        struct pollfd pfd = {.fd = c.fd, .events = POLLIN, .revents = 0};
        int n = poll(&pfd, 1, wait_ms_until(now_us, next, EMU_PORT_MAX_WAIT_MS));
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "%s: %s: poll: %s\n", prog, c.name, strerror(errno));
            rc = BENCH_EXIT_FAIL;
            break;
        }
        if (n <= 0) {
            continue;
        }
        sim_can_frame_t frames[32];
        int got = bench_can_read(&c, frames, 32);
        if (got < 0) {
            fprintf(stderr, "%s: %s: device gone (%s); adapter unplugged?\n", prog, c.name,
                    strerror(errno));
            rc = BENCH_EXIT_FAIL;
            break;
        }
        now_us = mono_us() - t0_us;
        for (int i = 0; i < got; i++) {
            ops->on_frame(ops->ctx, &frames[i], now_us);
        }
    }
    if (g_stop_signal != 0) {
        rc = signal_exit_code();
        fprintf(stderr, "%s: stopped by signal %d\n", prog, (int)g_stop_signal);
    }
    restore_handlers(&saved);
    bench_can_close(&c);
    return rc;
}
