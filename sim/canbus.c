/* SPDX-License-Identifier: MIT */
/* CAN bus with arbitration by identifier and frame timing; see canbus.h.
 *
 * Two scheduler events per frame: arbitration (at the instant the bus goes
 * idle, or at the instant of the first send to an idle bus) and frame end.
 * Arbitration is an event of its own rather than a direct call so that every
 * node that queues a frame at the same instant takes part, as nodes that
 * start within one bit time do on a real bus. */
#include "sim/canbus.h"

#include <string.h>

#define CAN_STD_MASK 0x7FFu
#define CAN_EXT_MASK 0x1FFFFFFFu

static uint8_t clamp_dlc(uint8_t dlc)
{
    return dlc > 8 ? 8 : dlc;
}

unsigned sim_can_frame_bits(const sim_can_frame_t *f)
{
    unsigned data_bits = 8u * clamp_dlc(f->dlc);
    return ((f->id & SIM_CAN_EFF_FLAG) ? 67u : 47u) + data_bits;
}

/* Arbitration priority, lower wins. The bits on the wire in order are the
 * 11 base-id bits, then RTR (standard, dominant for data) or SRR (extended,
 * recessive), then IDE, then for extended frames the 18 low id bits. So a
 * standard frame beats an extended one with the same base id. */
static uint32_t arb_key(const sim_can_frame_t *f)
{
    if (f->id & SIM_CAN_EFF_FLAG) {
        uint32_t id = f->id & CAN_EXT_MASK;
        uint32_t base = id >> 18;
        return (base << 19) | (1u << 18) | (id & 0x3FFFFu);
    }
    return (f->id & CAN_STD_MASK) << 19;
}

static void on_arbitrate(void *ctx, uint64_t now_us);

static void request_arbitration(sim_canbus_t *b)
{
    if (b->busy || b->arb_pending) {
        return;
    }
    b->arb_pending = true;
    if (sim_sched_at(b->sched, b->sched->now_us, on_arbitrate, b) == 0) {
        b->arb_pending = false; /* out of memory: retried on the next send */
    }
}

static void on_frame_end(void *ctx, uint64_t now_us)
{
    sim_canbus_t *b = ctx;
    sim_can_frame_t f = b->cur; /* receivers may send, which is fine: cur is free */
    int from = b->cur_node;

    b->busy = false;
    b->bits_total += b->cur_bits;
    b->frames_total++;
    b->nodes[from].tx_frames++;
    for (int n = 0; n < b->nnodes; n++) {
        sim_can_node_t *node = &b->nodes[n];
        if (n == from) {
            continue;
        }
        node->rx_frames++;
        if (node->rx != NULL) {
            node->rx(node->ctx, &f, now_us);
        }
    }
    if (b->tap != NULL) {
        b->tap(b->tap_ctx, from, &f, now_us);
    }
    for (int n = 0; n < b->nnodes; n++) {
        if (b->nodes[n].txq_len > 0) {
            request_arbitration(b);
            break;
        }
    }
}

static void on_arbitrate(void *ctx, uint64_t now_us)
{
    sim_canbus_t *b = ctx;
    b->arb_pending = false;
    if (b->busy) {
        return;
    }
    int winner = -1;
    uint32_t best = 0;
    for (int n = 0; n < b->nnodes; n++) {
        const sim_can_node_t *node = &b->nodes[n];
        if (node->txq_len == 0) {
            continue;
        }
        /* Equal keys (two nodes sending the same id) would be a bus error
         * on real hardware; here the lower node index goes first. */
        uint32_t key = arb_key(&node->txq[node->txq_head]);
        if (winner < 0 || key < best) {
            winner = n;
            best = key;
        }
    }
    if (winner < 0) {
        return;
    }
    sim_can_node_t *w = &b->nodes[winner];
    b->cur = w->txq[w->txq_head];
    w->txq_head = (w->txq_head + 1) % SIM_CAN_TXQ;
    w->txq_len--;
    b->cur_node = winner;
    b->cur_bits = sim_can_frame_bits(&b->cur);
    uint64_t dur_us = ((uint64_t)b->cur_bits * 1000000u + b->bitrate / 2) / b->bitrate;
    b->busy = true;
    b->busy_until_us = now_us + dur_us;
    if (sim_sched_at(b->sched, b->busy_until_us, on_frame_end, b) == 0) {
        b->busy = false; /* out of memory: the frame is lost */
    }
}

void sim_canbus_init(sim_canbus_t *b, sim_sched_t *s, uint32_t bitrate)
{
    memset(b, 0, sizeof(*b));
    b->sched = s;
    b->bitrate = bitrate ? bitrate : 500000u;
}

int sim_canbus_attach(sim_canbus_t *b, sim_can_rx_fn rx, void *ctx)
{
    if (b->nnodes >= SIM_CAN_MAX_NODES) {
        return -1;
    }
    sim_can_node_t *node = &b->nodes[b->nnodes];
    memset(node, 0, sizeof(*node));
    node->rx = rx;
    node->ctx = ctx;
    return b->nnodes++;
}

void sim_canbus_set_tap(sim_canbus_t *b, sim_can_tap_fn fn, void *ctx)
{
    b->tap = fn;
    b->tap_ctx = ctx;
}

int sim_canbus_send(sim_canbus_t *b, int node, const sim_can_frame_t *f)
{
    if (node < 0 || node >= b->nnodes || f == NULL) {
        return -1;
    }
    sim_can_node_t *n = &b->nodes[node];
    if (n->txq_len >= SIM_CAN_TXQ) {
        return -1;
    }
    sim_can_frame_t *slot = &n->txq[(n->txq_head + n->txq_len) % SIM_CAN_TXQ];
    *slot = *f;
    slot->id = (f->id & SIM_CAN_EFF_FLAG) ? (f->id & (SIM_CAN_EFF_FLAG | CAN_EXT_MASK))
                                           : (f->id & CAN_STD_MASK);
    slot->dlc = clamp_dlc(f->dlc);
    n->txq_len++;
    request_arbitration(b);
    return 0;
}

double sim_canbus_load_pct(const sim_canbus_t *b)
{
    uint64_t now = b->sched->now_us;
    if (now == 0 || b->bitrate == 0) {
        return 0.0;
    }
    double now_s = (double)now / 1e6;
    return (double)b->bits_total / ((double)b->bitrate * now_s) * 100.0;
}
