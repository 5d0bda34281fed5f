/* SPDX-License-Identifier: MIT */
/* `bmsbench emulate ... --port DEV | --can SPEC`: the wall-clock loop that
 * puts an emulator on a real serial port or CAN bus (shared by every family). */
#ifndef BENCH_LIVE_EMU_PORT_H
#define BENCH_LIVE_EMU_PORT_H

#include <stddef.h>
#include <stdint.h>
#include "sim/canbus.h"

#define BENCH_EMU_EXIT_SIGINT 130  /* Ctrl-C, as a shell reports it */
#define BENCH_EMU_EXIT_SIGTERM 143
#define BENCH_EMU_MAX_REPLY 1024   /* largest reply any serial emulator builds */

/* A serial emulator, byte in, reply out. feed() takes one received byte at
 * now_us (microseconds since the start) and returns the length of a reply
 * now complete in out (0: none) with the time it may start in *start_us
 * (the emulator's turnaround); tick() (may be NULL) advances the battery
 * every tick_us of wall time. */
typedef struct bench_emu_serial_ops {
    void *ctx;
    size_t (*feed)(void *ctx, uint8_t byte, uint64_t now_us, uint8_t *out, size_t cap,
                   uint64_t *start_us);
    void (*tick)(void *ctx, uint64_t now_us);
    uint64_t tick_us;
} bench_emu_serial_ops_t;

/* A CAN emulator: on_frame() gets each received frame; take_tx() hands
 * over, one at a time, the frames due by now_us (returns < 0 when none);
 * next_deadline() says when the next one is due (UINT64_MAX: none). */
typedef struct bench_emu_can_ops {
    void *ctx;
    void (*on_frame)(void *ctx, const sim_can_frame_t *f, uint64_t now_us);
    int (*take_tx)(void *ctx, uint64_t now_us, sim_can_frame_t *f);
    uint64_t (*next_deadline)(void *ctx);
    void (*tick)(void *ctx, uint64_t now_us);
    uint64_t tick_us;
} bench_emu_can_ops_t;

/* Open path at baud and serve until SIGINT/SIGTERM or the device goes away.
 * prog prefixes messages ("bmsbench emulate topband"). Returns the exit
 * code: 130 / 143 on a signal, 2 when the device is missing or busy (named
 * on stderr), 1 when it vanishes mid-run. */
int bench_emu_serve_serial(const char *prog, const char *path, unsigned baud,
                           const bench_emu_serial_ops_t *ops);

/* spec is IFACE (SocketCAN) or slcan:DEV[@BITRATE] (default_bitrate when
 * no @). Same exit codes as bench_emu_serve_serial. */
int bench_emu_serve_can(const char *prog, const char *spec, unsigned default_bitrate,
                        const bench_emu_can_ops_t *ops);

/* Split "slcan:DEV[@BITRATE]" into dev and bitrate; 0, or -1 when the
 * bitrate is not a number or dev does not fit. */
int bench_emu_parse_slcan(const char *spec, unsigned default_bitrate, char *dev, size_t devcap,
                          unsigned *bitrate);

#endif
