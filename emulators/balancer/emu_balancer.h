/* SPDX-License-Identifier: MIT */
/* Balancer-module emulator: the device side of the devicplan "BMS Controller" bus.
 *
 * One instance is one shared 300 baud 8N1 bus with up to 50 modules, one per
 * cell (superb_balancer.md Part B). A request is exactly 4 ASCII digits,
 * address 01..50 then command, with no terminator; the addressed module
 * answers one decimal line "<digits>\r\n":
 *   05 cell voltage in mV, round(cell->v * 1000)
 *   02 cell temperature in degC, round(cell->temp_c), signed
 *   03 load-resistor temperature in degC (DS18B20 range -55..125), from the model below
 *   04 uptime in s since attach or reboot
 *   06 software version (default 148)
 * Any other command, address 00 / 51+ / non-digits, or an address without a
 * module: no reply (counted). The reply terminator (CR LF), the framing and the
 * turnaround are not documented for the real module (B.12); the choices here:
 *   - framing by length (4 characters) with resync: a partial request is
 *     dropped when the next character comes more than 2 character times
 *     (66.7 ms) after the previous one;
 *   - turnaround from the end of the request to the start of the reply:
 *     20 ms (EMU_BAL_TURNAROUND_US), plus slow_ms for EMU_BAL_F_SLOW.
 *
 * Balancing (emu_bal_tick): above its threshold (default 3.45 V, per module)
 * a module connects its load resistor (default 10 ohm) across its cell: the
 * cell sees bleed_a = v / R (0.345 A at 3.45 V, about 1.2 W), which the sim
 * takes off that cell's SOC. The resistor is a first-order thermal mass:
 * steady state = ambient + P * 40 K/W (about +48 K at 1.2 W), time constant
 * 300 s; with no bleed it cools back toward ambient with the same constant.
 *
 * Transport-agnostic like emulators/topband/emu_topband.h: the caller feeds
 * the bytes the controller sends and takes the reply with the time it should
 * start on the wire. Written independently of any gateway-side decoder. */
#ifndef EMU_BALANCER_H
#define EMU_BALANCER_H

#include "sim/battery.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_BAL_MAX_MODULES 50
#define EMU_BAL_MAX_REPLY 32 /* longest reply (a collision) fits */
#define EMU_BAL_REQUEST_LEN 4
#define EMU_BAL_BAUD 300u
#define EMU_BAL_BIT_US 3333u                  /* one bit at 300 baud */
#define EMU_BAL_CHAR_US 33333u                /* 10 bits (start, 8 data, stop) */
#define EMU_BAL_GAP_US (2u * EMU_BAL_CHAR_US) /* longer silence resyncs the framing */
#define EMU_BAL_TURNAROUND_US 20000u          /* default request end to reply start */

#define EMU_BAL_THRESHOLD_V 3.45  /* default balancing threshold */
#define EMU_BAL_R_LOAD_OHM 10.0   /* default load resistor */
#define EMU_BAL_R_TH_K_PER_W 40.0 /* resistor (+ DS18B20) to ambient */
#define EMU_BAL_TAU_S 300.0       /* resistor thermal time constant */
#define EMU_BAL_VERSION 148       /* reply to 06 (B.5: 147 and 148 seen) */
/* Two modules answering together: both pull the shared open-collector line
 * low (wired AND of the bit streams), the second one this many bit times
 * later (their RC clocks and turnarounds never match exactly). */
#define EMU_BAL_COLLISION_SKEW_BITS 3u

/* Commands (the two ASCII digits after the address). */
enum {
    EMU_BAL_CMD_CELL_TEMP = 2,
    EMU_BAL_CMD_RES_TEMP = 3,
    EMU_BAL_CMD_UPTIME = 4,
    EMU_BAL_CMD_CELL_MV = 5,
    EMU_BAL_CMD_VERSION = 6,
};

/* Fault knobs, a bit mask per module. */
enum {
    EMU_BAL_F_SILENT = 1u << 0,      /* never answers */
    EMU_BAL_F_GARBAGE = 1u << 1,     /* 3..8 random bytes with bit 7 set, then CR LF */
    EMU_BAL_F_WRONG_VALUE = 1u << 2, /* voltage +500 mV, both temperatures +20 degC */
    EMU_BAL_F_STUCK = 1u << 3,       /* every value frozen when the knob is switched on */
    EMU_BAL_F_SLOW = 1u << 4,        /* turnaround + slow_ms */
};
#define EMU_BAL_WRONG_MV 500
#define EMU_BAL_WRONG_DEGC 20

/* The values one module reports (before WRONG_VALUE). */
typedef struct emu_bal_values {
    int32_t cell_mv;
    int32_t cell_temp_c;
    int32_t res_temp_c;
    uint32_t uptime_s;
} emu_bal_values_t;

typedef struct emu_bal_module {
    sim_cell_t *cell;        /* NULL: no module at this address (set by attach) */
    const double *ambient_c; /* air around the resistor; NULL: the cell's own temperature */
    double threshold_v;      /* balancing threshold (EMU_BAL_THRESHOLD_V; settable) */
    double r_load_ohm;       /* load resistor (EMU_BAL_R_LOAD_OHM; settable) */
    int32_t version;         /* reply to 06 (EMU_BAL_VERSION; settable) */
    double res_temp_c;       /* load-resistor temperature (read-only; model state) */
    bool balancing;          /* resistor connected after the last tick (read-only) */
    uint64_t uptime_us;      /* since attach or reboot (read-only) */
    unsigned faults;         /* EMU_BAL_F_* (emu_bal_set_faults) */
    uint32_t slow_ms;
    bool have_snapshot; /* STUCK values taken (private) */
    emu_bal_values_t snapshot;
    uint8_t also_address;       /* 0, or a second address this module answers at (duplicate) */
    uint32_t requests, replies; /* addressed to it / answered (read-only) */
} emu_bal_module_t;

typedef struct emu_balancer {
    emu_bal_module_t mods[EMU_BAL_MAX_MODULES]; /* index = address - 1 */
    uint32_t turnaround_us;                     /* EMU_BAL_TURNAROUND_US; settable */
    uint64_t rng_state;                         /* for garbage bytes */
    /* request assembly (private) */
    uint8_t rx[EMU_BAL_REQUEST_LEN];
    size_t rx_len;
    uint64_t last_rx_us;
    /* one pending reply (private) */
    uint8_t reply[EMU_BAL_MAX_REPLY];
    size_t reply_len;
    uint64_t reply_at_us;
    /* counters (read-only) */
    uint32_t requests;         /* complete 4-character frames */
    uint32_t bad_requests;     /* non-digits, or address outside 01..50 */
    uint32_t unknown_commands; /* valid address, command not 02..06 */
    uint32_t no_module;        /* valid request for an address nobody answers at */
    uint32_t fragments;        /* partial requests dropped on a gap */
    uint32_t collisions;       /* requests answered by two modules at once */
    uint32_t replies_dropped;  /* a pending reply replaced before it was taken */
} emu_balancer_t;

void emu_bal_init(emu_balancer_t *e, uint64_t seed);
/* Put a module on a cell at an address (1..50). The resistor starts at the
 * ambient temperature, uptime at 0. Returns 0, or -1 for a bad argument or an
 * address already taken (two modules at one address: emu_bal_duplicate). */
int emu_bal_attach(emu_balancer_t *e, uint8_t address, sim_cell_t *cell, const double *ambient_c);
/* Bytes from the controller; now_us = when the chunk arrived (the characters
 * of one call count as back to back). A complete request for a present module
 * replaces the pending reply. */
void emu_bal_feed(emu_balancer_t *e, const uint8_t *data, size_t len, uint64_t now_us);
/* Take the pending reply: bytes into out, the time its first character should
 * start into *start_us (may be NULL). Returns its length, 0 when none; a reply
 * longer than cap stays pending (EMU_BAL_MAX_REPLY always fits). */
size_t emu_bal_take_reply(emu_balancer_t *e, uint8_t *out, size_t cap, uint64_t *start_us);
/* Advance every module by dt_s (call about once per second of sim time):
 * sets cell->bleed_a (v / R above the threshold, else 0), the resistor
 * temperature, the uptime. A bad dt_s (negative, NaN, inf) counts as 0. */
void emu_bal_tick(emu_balancer_t *e, double dt_s, uint64_t now_us);
/* Replace the fault mask of the module at address (0 clears). */
void emu_bal_set_faults(emu_balancer_t *e, uint8_t address, unsigned mask, uint32_t slow_ms);
/* The module attached at also_address answers at address too (two modules
 * with one address: their replies collide on the bus). address 0 undoes it.
 * Returns 0, or -1 when either is not attached or they are the same. */
int emu_bal_duplicate(emu_balancer_t *e, uint8_t address, uint8_t also_address);
/* The module restarts: uptime back to 0 (its resistor stays as hot as it is). */
void emu_bal_reboot(emu_balancer_t *e, uint8_t address, uint64_t now_us);
/* Per-module balancing threshold (volts). Returns 0 or -1. */
int emu_bal_set_threshold(emu_balancer_t *e, uint8_t address, double threshold_v);
/* What the module at address would report now (no faults applied). Returns 0 or -1. */
int emu_bal_measure(const emu_balancer_t *e, uint8_t address, emu_bal_values_t *out);

#endif
