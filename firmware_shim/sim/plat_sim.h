/* SPDX-License-Identifier: MIT */
/* The platform API bound to the simulator: a gateway's UART is one end of
 * a sim wire, its CAN controller a node on a sim CAN bus. Deterministic,
 * in virtual time. */
#ifndef PLAT_SIM_H
#define PLAT_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"
#include "sim/canbus.h"
#include "sim/sched.h"
#include "sim/wire.h"

#define PLAT_SIM_RXQ 64
#define PLAT_SIM_BUSES 2   /* CAN 0: Victron side; CAN 1: a BMS bus (CANopen families) */

typedef void (*plat_sim_log_fn)(void *ctx, uint64_t t_us, const char *line);

typedef struct plat_sim {
    plat_api_t api;             /* hand this to gateway_init */
    sim_sched_t *sched;
    sim_wire_t *uart;           /* UART port 0 */
    int uart_end;
    sim_canbus_t *bus;          /* CAN bus 0 */
    int can_node;
    plat_can_frame_t rxq[PLAT_SIM_RXQ];
    unsigned rxq_head, rxq_len;
    uint64_t rx_dropped;        /* received frames lost to a full queue */
    uint64_t tx_refused;        /* frames the controller queue refused */
    struct plat_sim_can {       /* CAN 1.. (private) */
        struct plat_sim *owner;
        sim_canbus_t *bus;
        int node;
        plat_can_frame_t rxq[PLAT_SIM_RXQ];
        unsigned rxq_head, rxq_len;
        uint64_t rx_dropped, tx_refused;
    } extra[PLAT_SIM_BUSES - 1];
    bool gpio[PLAT_GPIO_COUNT]; /* outputs as last written; inputs as the bench sets them */
    plat_sim_log_fn log_fn;
    void *log_ctx;
    void (*can_notify)(void *ctx, unsigned bus, uint64_t t_us); /* a frame was queued */
    void *can_notify_ctx;
} plat_sim_t;

/* Bind: UART 0 = `end` of `uart`, CAN 0 = a new node on `bus`. Returns 0, or
 * -1 when the bus has no free node. */
int plat_sim_init(plat_sim_t *p, sim_sched_t *s, sim_wire_t *uart, int end, sim_canbus_t *bus);
void plat_sim_set_log(plat_sim_t *p, plat_sim_log_fn fn, void *ctx);
/* Called after a received frame was queued on any bus, so the host can wake
 * the firmware (an interrupt, in a real board). */
void plat_sim_set_can_notify(plat_sim_t *p, void (*fn)(void *ctx, unsigned bus, uint64_t t_us),
                             void *ctx);
/* Bind CAN `bus` (1 .. PLAT_SIM_BUSES-1) to a new node on `b`. 0, or -1. */
int plat_sim_add_can(plat_sim_t *p, unsigned bus, sim_canbus_t *b);

#endif
