/* SPDX-License-Identifier: MIT */
/* Charge-voltage states: a selectable strategy that may only LOWER the CVL/CCL the DVCC baseline computed.
 *
 * States (priority: IMBALANCE_HOLD over the SOC states):
 *   BULK            SOC below transition_soc_pct      CVL = bulk_cell_mv x cells
 *   TRANSITION      SOC >= transition_soc_pct (95)    CVL = bulk, CCL <= transition_ccl_c_pct
 *   FLOAT_APPROACH  SOC >= approach_soc_pct (99)      CVL = bulk - approach_offset_mv, CCL <= approach C-rate
 *   FLOAT           SOC >= float_soc_pct (100), or    CVL = float_cell_mv x cells, CCL <= float C-rate
 *                   absorption_max_ms in FLOAT_APPROACH
 *   IMBALANCE_HOLD  cell spread > imbalance_hold_mv   CVL <= hold_cell_mv x cells, CCL <= hold C-rate
 * "cells" is bank->min_cell_count (the smallest pack sets the bank's CVL).
 * C-rate caps are in 0.01 C of bank->full_mah; without a capacity they are skipped.
 *
 * Hysteresis and holds:
 *   - leaving TRANSITION / FLOAT_APPROACH needs SOC below its entry threshold
 *     minus soc_hysteresis_pct (93 / 97 with the defaults);
 *   - FLOAT is latched until SOC < float_exit_soc_pct (90);
 *   - any SOC-state change needs min_state_ms in the current state;
 *   - IMBALANCE_HOLD is entered at once (it only lowers), and released only
 *     when the spread is below imbalance_release_mv AND it was held for
 *     hold_min_ms, so the balancers get time to work.
 * The SOC state keeps being tracked during a hold, so the release returns to
 * wherever SOC has moved meanwhile.
 *
 * Defaults are safe for LiFePO4: bulk 3.50 V/cell, below the 3.65 V absolute
 * maximum (cell_abs_max_mv); init clamps every target to at least 50 mV below
 * that maximum and keeps float <= approach <= bulk.
 *
 * Where this deliberately differs from the ESP32 bridge's cvl_logic (tinybms.md 6.5):
 *   1. Hysteresis on BULK <-> TRANSITION and TRANSITION <-> FLOAT_APPROACH: the
 *      bridge has none (its FLOAT_APPROACH -> TRANSITION rule is dead code).
 *   2. Bulk target 3.50 V/cell from config, not the 58.4 V over-voltage alarm
 *      threshold (= 3.65 V/cell, the absolute maximum) the bridge charges to.
 *   3. Float 3.375 V/cell (a LiFePO4 float) instead of bulk - 100 mV (3.59 V/cell).
 *   4. Imbalance hold pulls CVL to a fixed 3.40 V/cell; the bridge's slope
 *      (0.5 mV per mV above 100 mV) barely lowers it (58.375 V at 150 mV), and
 *      its release has no minimum hold time.
 *   5. Only CVL and CCL, only downwards: DCL is never touched (the bridge also
 *      scaled DCL by its cell-protection ratio) and the baseline's result is an
 *      upper bound for both.
 *   6. CCL caps are C-rates of the bank capacity; the bridge's "minimum CCL in
 *      float" is an absolute cap (5 A or 0.5 A whatever the bank size).
 *   7. No SUSTAIN state and no per-cell P-controller: low SOC and cell
 *      over-voltage belong to the DVCC baseline's protection, which runs first.
 *   8. Evaluated on every update with a dwell time (min_state_ms, 20 s like the
 *      bridge's CVL period) instead of only every 20 s, so a hold can start
 *      immediately.
 *   9. A time limit on FLOAT_APPROACH (absorption_max_ms): a BMS whose SOC
 *      never reads 100 % still gets to FLOAT. */
#ifndef GW_CVL_STATES_H
#define GW_CVL_STATES_H

#include <stdbool.h>
#include <stdint.h>
#include "bank/bank.h"

typedef enum gw_cvl_state {
    GW_CVL_BULK = 0,
    GW_CVL_TRANSITION,
    GW_CVL_FLOAT_APPROACH,
    GW_CVL_FLOAT,
    GW_CVL_IMBALANCE_HOLD,
} gw_cvl_state_t;

typedef struct gw_cvl_cfg {
    uint16_t cell_abs_max_mv;      /* no target may reach it, default 3650 */
    uint16_t bulk_cell_mv;         /* default 3500 */
    uint16_t approach_offset_mv;   /* FLOAT_APPROACH = bulk - this, default 50 */
    uint16_t float_cell_mv;        /* default 3375 */
    uint16_t hold_cell_mv;         /* IMBALANCE_HOLD target, default 3400 */
    uint8_t transition_soc_pct;    /* default 95 */
    uint8_t approach_soc_pct;      /* default 99 */
    uint8_t float_soc_pct;         /* default 100 */
    uint8_t soc_hysteresis_pct;    /* default 2 */
    uint8_t float_exit_soc_pct;    /* FLOAT latched down to here, default 90 */
    uint16_t imbalance_hold_mv;    /* enter when max - min cell > this, default 100 */
    uint16_t imbalance_release_mv; /* release when below this, default 40 */
    uint32_t min_state_ms;         /* dwell before a SOC-state change, default 20000 */
    uint32_t hold_min_ms;          /* shortest imbalance hold, default 300000 */
    uint32_t absorption_max_ms;    /* FLOAT_APPROACH -> FLOAT after this, default 7200000; 0 = never */
    uint8_t transition_ccl_c_pct;  /* CCL caps in 0.01 C: default 30 (0.30 C) */
    uint8_t approach_ccl_c_pct;    /* default 10 */
    uint8_t float_ccl_c_pct;       /* default 5 */
    uint8_t hold_ccl_c_pct;        /* default 5 */
} gw_cvl_cfg_t;

void gw_cvl_cfg_default(gw_cvl_cfg_t *cfg);

typedef struct gw_cvl_states {
    gw_cvl_cfg_t cfg;              /* from init (sanitised) */
    gw_cvl_state_t state;          /* read-only: what applies now */
    const char *reason;            /* read-only: static string for logs */
    uint32_t transitions;          /* read-only: state changes so far */
    /* private */
    bool started;
    gw_cvl_state_t soc_state;      /* BULK..FLOAT, tracked during a hold too */
    uint64_t soc_since_ms;
    bool hold;
    uint64_t hold_since_ms;
} gw_cvl_states_t;

/* Copy cfg (NULL = defaults) and sanitise it as described above. */
void gw_cvl_states_init(gw_cvl_states_t *s, const gw_cvl_cfg_t *cfg);

/* Call once per DVCC computation, after the baseline. *cvl_dv and *ccl_da hold
 * the baseline's limits (0.1 V, 0.1 A) and are only ever lowered. With no
 * valid bank (or no cell count) nothing is changed and the state is kept. */
void gw_cvl_states_update(gw_cvl_states_t *s, const gw_bank_t *bank, uint64_t now_ms,
                          uint16_t *cvl_dv, uint16_t *ccl_da);

const char *gw_cvl_state_name(gw_cvl_state_t st);

#endif
