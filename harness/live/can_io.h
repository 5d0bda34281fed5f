/* SPDX-License-Identifier: MIT */
/* The bench's own CAN access for live mode: SocketCAN raw sockets, and an
 * SLCAN (Lawicel ASCII) endpoint over a serial fd in either role: the host
 * of a real USB-SLCAN adapter, or the adapter itself on a PTY so a gateway
 * process gets `slcan:/dev/pts/N` with no kernel CAN at all. The codec is
 * the bench's own, never the gateway's (a shared bug would pass both). */
#ifndef BENCH_LIVE_CAN_IO_H
#define BENCH_LIVE_CAN_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/canbus.h"

#define BENCH_CAN_RTR_FLAG 0x40000000u /* remote frame (SocketCAN's CAN_RTR_FLAG) */
#define BENCH_SLCAN_LINE_MAX 40        /* "T" + 8 id + 1 dlc + 16 data + 4 stamp + slack */
#define BENCH_CAN_RXQ 128

/* ---- the Lawicel codec: pure, no I/O ---- */

/* One frame as a command line with its CR: "t3518E0221036009C01\r",
 * "T0000035F2AABB\r", "r1230\r". Returns the length, 0 when cap is too small
 * or the frame is invalid (11-bit id > 0x7FF, dlc > 8). */
size_t bench_slcan_encode(const sim_can_frame_t *f, char *out, size_t cap);
/* Parse one frame line without its CR (t/T/r/R, hex either case; a 4-digit
 * timestamp after the data is accepted and ignored). Returns 0, or -1 when
 * the line is not exactly a frame. */
int bench_slcan_parse(const char *line, size_t len, sim_can_frame_t *f);
/* S0..S8 <-> bit/s: 10k 20k 50k 100k 125k 250k 500k 800k 1M. -1 / 0 when none. */
int bench_slcan_code_of(unsigned bitrate);
unsigned bench_slcan_bitrate_of(int code);

typedef enum bench_slcan_role {
    BENCH_SLCAN_HOST = 0,   /* we talk to a real adapter */
    BENCH_SLCAN_ADAPTER,    /* we are the adapter (the peer is a gateway's SLCAN backend) */
} bench_slcan_role_t;

typedef void (*bench_slcan_frame_fn)(void *ctx, const sim_can_frame_t *f);

/* Line assembler and protocol state; feed it bytes as they come. */
typedef struct bench_slcan {
    bench_slcan_role_t role;
    bench_slcan_frame_fn on_frame;  /* a frame crossed to the bus side */
    void *ctx;
    /* adapter role: what the host configured */
    bool open;                      /* after O (or L) */
    int bitrate_code;               /* last S code, -1 = never set */
    /* replies to send back (adapter role), drained by the caller */
    char reply[256];
    size_t reply_len;
    /* counters */
    uint32_t frames, acks, errors, malformed, commands, closed_tx;
    /* private */
    char line[BENCH_SLCAN_LINE_MAX];
    size_t len;
    bool overflow;
} bench_slcan_t;

void bench_slcan_init(bench_slcan_t *s, bench_slcan_role_t role, bench_slcan_frame_fn fn,
                      void *ctx);
/* Feed received bytes. Adapter role: commands are answered into reply[]
 * (CR ok, BEL error, z/Z after a transmitted frame) and frames the host
 * sends while open are passed to on_frame. Host role: t/T/r/R lines from
 * the adapter are passed to on_frame; CR, z and Z count as acks, BEL as an
 * error. Over-long lines are counted malformed and dropped to the next CR. */
void bench_slcan_feed(bench_slcan_t *s, const uint8_t *buf, size_t n);

/* ---- an endpoint on a real fd ---- */

typedef enum bench_can_kind { BENCH_CAN_SOCKETCAN = 1, BENCH_CAN_SLCAN } bench_can_kind_t;

typedef struct bench_can_io {
    bench_can_kind_t kind;
    int fd;
    bool owns_fd;               /* false: an adapter endpoint borrows the caller's fd */
    char name[96];              /* interface or serial path, for messages */
    bench_slcan_t slcan;
    sim_can_frame_t rxq[BENCH_CAN_RXQ];
    unsigned rx_head, rx_count;
    uint64_t rx_frames, tx_frames, rx_dropped;
} bench_can_io_t;

/* A raw socket bound to iface (vcan0, can0...). On a kernel without CAN the
 * message says so and suggests slcan:DEV. Returns 0 or -1 with err. */
int bench_can_open_socketcan(bench_can_io_t *c, const char *iface, char *err, size_t errcap);
/* Talk to a real SLCAN adapter on path: 115200 Bd serial, then C, S<code>, O. */
int bench_can_open_slcan_host(bench_can_io_t *c, const char *path, unsigned bitrate, char *err,
                              size_t errcap);
/* Play the adapter on fd (a PTY master the caller owns; not closed here). */
void bench_can_attach_slcan_adapter(bench_can_io_t *c, int fd, const char *name);
/* Read what is there (non-blocking) and return up to cap frames.
 * Returns the number of frames, or -1 when the device is gone (errno). */
int bench_can_read(bench_can_io_t *c, sim_can_frame_t *out, int cap);
/* Send one frame. Returns 0, or -1 (errno). */
int bench_can_send(bench_can_io_t *c, const sim_can_frame_t *f);
void bench_can_close(bench_can_io_t *c);

/* ---- interface facts, for `bmsbench ports` and the live bitrate check ---- */

typedef struct bench_can_iface {
    char name[32];
    bool up;
    bool is_virtual;            /* vcan / vxcan: no bitrate */
    char state[24];             /* ERROR-ACTIVE, BUS-OFF, ... or "-" */
    unsigned bitrate;           /* 0 when unknown */
} bench_can_iface_t;

/* CAN interfaces from /sys/class/net/ * /type == 280 (ARPHRD_CAN), sorted.
 * Returns how many were written (at most cap). */
int bench_can_ifaces(bench_can_iface_t *out, int cap);

#endif
