/* SPDX-License-Identifier: MIT */
/* A CAN bus: nodes queue frames; when the bus is idle the lowest identifier
 * wins arbitration; a frame occupies the bus for its bit length (with worst
 * case stuffing left out: nominal bits, 3 bits interframe space) at the
 * bitrate, then every other node receives it. */
#ifndef SIM_CANBUS_H
#define SIM_CANBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/sched.h"

#define SIM_CAN_EFF_FLAG 0x80000000u
#define SIM_CAN_MAX_NODES 24
#define SIM_CAN_TXQ 64

typedef struct sim_can_frame {
    uint32_t id;     /* 11-bit, or 29-bit | SIM_CAN_EFF_FLAG */
    uint8_t dlc;
    uint8_t data[8];
} sim_can_frame_t;

typedef void (*sim_can_rx_fn)(void *ctx, const sim_can_frame_t *f, uint64_t t_us);
typedef void (*sim_can_tap_fn)(void *ctx, int from_node, const sim_can_frame_t *f, uint64_t t_us);

typedef struct sim_can_node {
    sim_can_rx_fn rx;
    void *ctx;
    sim_can_frame_t txq[SIM_CAN_TXQ];
    size_t txq_head, txq_len;
    uint64_t tx_frames, rx_frames;
} sim_can_node_t;

typedef struct sim_canbus {
    sim_sched_t *sched;
    uint32_t bitrate;
    sim_can_node_t nodes[SIM_CAN_MAX_NODES];
    int nnodes;
    bool busy;                 /* a frame is on the bus */
    uint64_t busy_until_us;
    uint64_t bits_total;       /* bits carried since start (for bus load) */
    uint64_t frames_total;
    sim_can_tap_fn tap;
    void *tap_ctx;
    bool arb_pending;          /* private: an arbitration event is scheduled */
    int cur_node;              /* private: sender of the frame on the bus */
    sim_can_frame_t cur;       /* private: the frame on the bus */
    unsigned cur_bits;         /* private: its length in bits */
} sim_canbus_t;

void sim_canbus_init(sim_canbus_t *b, sim_sched_t *s, uint32_t bitrate);
/* Attach a node; rx may be NULL. Returns the node index or -1 when full. */
int sim_canbus_attach(sim_canbus_t *b, sim_can_rx_fn rx, void *ctx);
void sim_canbus_set_tap(sim_canbus_t *b, sim_can_tap_fn fn, void *ctx);
/* Queue a frame from node; 0, or -1 when its transmit queue is full or the
 * node index is invalid. A dlc above 8 is sent as 8 (classic CAN). The
 * frame leaves in a later event at the same time at the earliest, so frames
 * queued by several nodes at one instant all take part in arbitration.
 * Receivers (rx and tap) are called from the scheduler when the frame's last
 * bit is on the bus; they may send frames themselves. */
int sim_canbus_send(sim_canbus_t *b, int node, const sim_can_frame_t *f);
/* Bits a frame occupies on the wire (SOF..IFS, no stuffing):
 * standard 47 + 8 * dlc, extended 67 + 8 * dlc. */
unsigned sim_can_frame_bits(const sim_can_frame_t *f);
/* Mean bus load since t=0, in percent. */
double sim_canbus_load_pct(const sim_canbus_t *b);

#endif
