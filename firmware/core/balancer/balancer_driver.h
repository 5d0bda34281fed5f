/* SPDX-License-Identifier: MIT */
/* Balancer-bus master (superb_balancer.md B.3-B.9): polls up to 50 cell
 * modules at 300 baud with a schedule whose reaction time is bounded, keeps the
 * string as one gw_pack_t and drives the protection outputs.
 *
 * No I/O here: process() hands back a request to send, rx() takes bytes
 * received. All time comes from the caller (platform clock, milliseconds).
 *
 * Schedule. After a power-up scan (every cell's voltage, then every cell's
 * temperature, then every resistor temperature), rounds run back to back:
 *   1. voltage of the current lowest cell, voltage of the current highest cell,
 *      temperature of the current hottest cell (extremes from the last readings);
 *   2. Kv voltages, Kt cell temperatures, Kr resistor temperatures, each a
 *      round-robin sweep over all cells that carries on where it stopped;
 *   3. every info_every_rounds-th round one version (until known; again after a
 *      reboot, seen as uptime going backwards) or uptime read, round-robin.
 * Defaults: Kv = ceil(N/2), Kt = Kr = ceil(N/16), info every 4th round.
 *
 * Reaction bound (gw_bal_bounds). A slot (one request) lasts at most
 * S = reply_timeout_ms + guard_ms, an info slot I = info_timeout_ms + guard_ms;
 * a round at most R = (3 + Kv + Kt + Kr) * S + I. Between two reads of the same
 * cell by a sweep with K per round lie N other reads of that sweep and at most
 * ceil(N/K) rounds' worth of the other slots, so a change of any cell is read,
 * and the relays react in the same rx() call, within
 *   B(K) = (N + 1) * S + ceil(N/K) * (R - K * S);
 * the current lowest/highest cell (and hottest cell temperature) within R + S.
 * These assume every slot runs to its timeout; with real replies (about 0.4 s
 * per exchange) they are ~25 % shorter. Defaults (S = 535, I = 685 ms):
 *   N = 16: round 7.6 s; any cell voltage 15.8 s, lowest/highest 8.2 s,
 *           any cell or resistor temperature 122.8 s, hottest cell 8.2 s.
 *   N = 50: round 19.9 s; any cell voltage 40.4 s, lowest/highest 20.5 s,
 *           any cell or resistor temperature 258.8 s, hottest cell 20.5 s.
 * (The seed refreshed each voltage every 5 x (N + 3) requests of ~4.3 s:
 * 8 cells ~ 2.8 min, 50 cells ~ 19 min.)
 *
 * Reads (B.8). A reply is one line ended by CR or LF (empty lines skipped); it
 * must parse as [sign]digits (gw_bal_parse_reply) and be plausible for the
 * quantity. A read fails on silence until the timeout, an unterminated line
 * at the timeout, a non-numeric, overlong or implausible line. read_fault_after
 * (3) consecutive failures of one cell's voltage / cell temp / resistor temp
 * latch a read fault (both relays open, alarm on) and invalidate that value
 * (0 in packs[0]); only a good read of that cell and quantity removes the cause,
 * and the fault then stays latched until acknowledged. Uptime and version
 * failures are only counted.
 *
 * Timeouts: a request is 4 characters (133 ms at 300 baud), a voltage or
 * temperature reply at most 6 ("-55\r\n", "3291\r\n": 200 ms), uptime/version
 * at most 10 (333 ms). reply_timeout_ms = 133 + 200 + 2 characters margin (67)
 * + 100 ms balancer turnaround = 500; info_timeout_ms = 133 + 333 + 67 + 100
 * ~ 650. Measured from the moment process() hands out the request. */
#ifndef GW_BALANCER_DRIVER_H
#define GW_BALANCER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bank/pack.h"
#include "balancer/balancer_bus.h"
#include "balancer/balancer_protect.h"

#define GW_BAL_PLAN_MAX (4 + 3 * GW_BAL_MAX_MODULES) /* slots of the longest round or scan */

typedef struct gw_bal_cfg {
    uint8_t modules;             /* cells = balancers, 1..50, default 16 */
    uint32_t reply_timeout_ms;   /* voltage / temperature requests, default 500 */
    uint32_t info_timeout_ms;    /* uptime / version requests, default 650 */
    uint32_t guard_ms;           /* idle gap after an exchange before the next request,
                                    default 35 (one character): stray bytes drain */
    uint8_t volt_per_round;      /* Kv, 0 = auto ceil(N/2); clamped to 1..N */
    uint8_t temp_per_round;      /* Kt, 0 = auto ceil(N/16) */
    uint8_t res_per_round;       /* Kr, 0 = auto ceil(N/16) */
    uint8_t info_every_rounds;   /* one uptime/version read every this many rounds, default 4; 0 = never */
    uint8_t read_fault_after;    /* consecutive failures that latch a read fault, default 3 */
    uint8_t offline_after_failures; /* consecutive failed exchanges (any cell) before
                                       packs[0].online goes false, default 6 */
    gw_bal_prot_cfg_t prot;      /* thresholds, gw_bal_prot_cfg_default() */
} gw_bal_cfg_t;

void gw_bal_cfg_default(gw_bal_cfg_t *cfg);

/* Worst-case refresh/reaction times of a configuration, derived as above (ms). */
typedef struct gw_bal_bounds {
    uint32_t slot_ms;           /* S */
    uint32_t info_slot_ms;      /* I */
    uint32_t round_max_ms;      /* R */
    uint32_t volt_any_ms;       /* B(Kv): any cell's voltage change -> relays */
    uint32_t volt_extreme_ms;   /* current lowest / highest cell: R + S */
    uint32_t temp_any_ms;       /* B(Kt) */
    uint32_t temp_hottest_ms;   /* R + S */
    uint32_t res_any_ms;        /* B(Kr) */
    uint32_t scan_max_ms;       /* power-up scan: 3 N slots (relays open meanwhile) */
} gw_bal_bounds_t;

void gw_bal_bounds(const gw_bal_cfg_t *cfg, gw_bal_bounds_t *out);

/* The stated bound: the longest time between any cell's voltage changing and the
 * relays reacting (volt_any_ms). 16 cells: 15815 ms, 50 cells: 40425 ms. */
uint32_t gw_bal_reaction_bound_ms(const gw_bal_cfg_t *cfg);

/* Counters for the harness and logs. Every malformed reply is counted here and
 * dropped; it never reaches a reading. */
typedef struct gw_bal_stats {
    uint32_t requests;
    uint32_t replies_ok;    /* good, plausible values */
    uint32_t timeouts;      /* nothing (or only blank lines) before the timeout */
    uint32_t bad_reply;     /* non-numeric, overlong, or unterminated at the timeout */
    uint32_t implausible;   /* numeric but out of range for the quantity */
    uint32_t read_errors;   /* failed voltage / cell temp / resistor temp reads */
    uint32_t info_errors;   /* failed uptime / version reads */
    uint32_t read_faults;   /* times a (cell, quantity) reached read_fault_after */
    uint32_t stray_bytes;   /* non-blank bytes while no request was outstanding */
    uint32_t reboots;       /* a module's uptime went backwards */
    uint32_t acks;          /* acknowledgements (button or command) */
    uint32_t acks_refused;  /* ... that left something latched because its cause persists */
    uint32_t rounds;        /* schedule rounds started (the scan not counted) */
} gw_bal_stats_t;

/* Per module (cell). Index = address - 1. Read-only. */
typedef enum gw_bal_qty { GW_BAL_Q_VOLT = 0, GW_BAL_Q_TEMP, GW_BAL_Q_RES, GW_BAL_Q_COUNT } gw_bal_qty_t;

typedef struct gw_bal_module {
    uint16_t mv;                     /* last good voltage (0 when invalid) */
    int16_t temp_dc;                 /* cell temperature, 0.1 degC */
    int16_t res_dc;                  /* load-resistor temperature, 0.1 degC */
    bool valid[GW_BAL_Q_COUNT];      /* value usable: read well, not invalidated by a read fault */
    bool seen[GW_BAL_Q_COUNT];       /* read well at least once since power-up */
    uint8_t errors[GW_BAL_Q_COUNT];  /* consecutive failed reads */
    uint64_t read_ms[GW_BAL_Q_COUNT];/* time of the last good read */
    uint32_t uptime_s;
    int32_t version;
    bool uptime_valid;
    bool version_valid;
} gw_bal_module_t;

typedef struct gw_bal_slot {
    uint8_t cmd;   /* gw_bal_cmd_t */
    uint8_t cell;  /* 0-based */
} gw_bal_slot_t;

typedef struct gw_bal_driver {
    gw_bal_cfg_t cfg;                 /* from init, sanitised */
    gw_pack_t packs[1];               /* the series string; read-only (see gw_bal_init) */
    gw_bal_outputs_t relays;          /* what the outputs must be now; read-only */
    gw_bal_stats_t stats;             /* read-only */
    bool scan_done;                   /* every cell's V, T and R read well once; read-only */
    gw_bal_module_t mod[GW_BAL_MAX_MODULES]; /* read-only */
    gw_bal_prot_t prot;               /* protection state: trips, latches; read-only */
    uint8_t lowest, highest, hottest; /* 0-based cells of the extremes; read-only */
    /* private */
    uint8_t kv, kt, kr;               /* resolved per-round counts */
    gw_bal_slot_t plan[GW_BAL_PLAN_MAX];
    uint16_t plan_len, plan_pos;
    bool in_scan;                     /* the plan is the power-up scan */
    uint8_t v_next, t_next, r_next, info_next;
    bool waiting;                     /* request outstanding */
    gw_bal_slot_t cur;
    uint64_t deadline_ms;
    uint64_t bus_free_ms;
    uint64_t last_now_ms;
    uint8_t line[GW_BAL_LINE_MAX];
    size_t line_len;
    bool line_overflow;
    uint8_t fail_streak;
    bool button_was_pressed;
} gw_bal_driver_t;

/* Start: copies cfg (NULL = defaults) and sanitises it (modules 1..50,
 * timeouts >= 1, per-round counts resolved and clamped to 1..N,
 * read_fault_after and offline_after_failures >= 1), relays open.
 *
 * packs[0]: address 1, cell_count = N, cell_mv[i] (0 = invalid), voltage_mv =
 * sum, current 0, soc/full_mah 0 (not reported). Temperatures: N <= 16: temp_dc[i]
 * = cell i; N > 16 (GW_MAX_TEMPS = 16): cells in 8 groups, temp_dc[2g] = hottest
 * and temp_dc[2g+1] = coldest of group g, so the string's extremes are kept.
 * cell_temp_count = temp_count. present after the first good reply; online =
 * scan_done and fewer than offline_after_failures failed exchanges in a row.
 * bms_limits_valid = true, bms_max_charge_mv = N * chg_on_mv, bms_ccl/dcl 0
 * (no current limit of its own), bms_charge_off = !relays.charge,
 * bms_discharge_off = !relays.discharge. */
void gw_bal_init(gw_bal_driver_t *d, const gw_bal_cfg_t *cfg, uint64_t now_ms);

/* Call at or after the deadline and after rx(). Never blocks. Returns the
 * request's length (4) copied into tx, or 0. */
size_t gw_bal_process(gw_bal_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap);

/* Bytes received from the bus (any split, any noise). */
void gw_bal_rx(gw_bal_driver_t *d, uint64_t now_ms, const uint8_t *data, size_t len);

/* Absolute time (ms) at which process() must be called next. */
uint64_t gw_bal_next_deadline(const gw_bal_driver_t *d);

/* Button press or command: clears latched faults and alarms whose cause is gone
 * (gw_bal_prot_ack); those whose cause persists stay. */
void gw_bal_acknowledge(gw_bal_driver_t *d, uint64_t now_ms);

/* The mode button (platform GPIO input) sampled by the caller: a press (rising
 * edge) acknowledges. */
void gw_bal_button(gw_bal_driver_t *d, uint64_t now_ms, bool pressed);

#endif
