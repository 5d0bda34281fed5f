/* SPDX-License-Identifier: MIT */
/* Chemistry profile for the DVCC engine: every threshold, derating curves as small tables, LiFePO4 defaults.
 *
 * Where each default comes from (victron_canbms.md B.1 = dbus-serialbattery
 * config.default.ini; topband.md 5.5 = the seed gateway; dvcc_baseline.h =
 * this project's v1):
 *   cell_max_mv 3650 / cell_min_mv 2500 ......... absolute cut-offs (issue; baseline)
 *   cvl_cell_mv 3500 ............................ bulk/absorption target (seed 52.5 V / 15 s)
 *   float_cell_mv 3375 .......................... B.1 FLOAT_CELL_VOLTAGE
 *   float_after_converged_ms 900 s, converged 10 mV  B.1 SWITCH_TO_FLOAT_WAIT_FOR_SEC / _CELL_VOLTAGE_DIFF
 *   rebulk_soc_pct 80 ........................... B.1 SWITCH_TO_BULK_SOC_THRESHOLD
 *   imbalance_hold_mv 80 ........................ B.1 SWITCH_TO_BULK_CELL_VOLTAGE_DIFF (0.080 V)
 *   charge/discharge per pack 50 A / 100 A ...... issue (the baseline's defaults)
 *   charge 0..50 degC, discharge -20..60 degC ... issue (baseline)
 *   cell-voltage curves ......................... B.1 v1.6.20250131: charge 3.30/3.45/3.50/3.55 V ->
 *                                                 1/0.5/0.05/0, discharge 2.70/2.80/2.90/3.10 V ->
 *                                                 0/0.1/0.5/1. Chosen over master (0 at 3.50 V)
 *                                                 because our target is 3.50 V, not 3.45 V.
 *   charge temperature curve .................... B.1 master: 0/2/5/10/40/45/50/55 degC ->
 *                                                 0/.25/.5/1/1/.5/.25/0
 *   discharge temperature curve ................. B.1 master's shape stretched to the -20..60 degC
 *                                                 window: -20/-10/0/10/45/50/55/60 -> 0/.25/.5/1/1/.5/.25/0
 *   SOC charge curve (on) ....................... B.1 SOC_WHILE_CHARGING 85/90/95/98 % -> 1/.5/.2/.1
 *                                                 (on: it replaces the seed's "near full" taper)
 *   SOC discharge curve (off) ................... B.1 SOC_WHILE_DISCHARGING 5/10/15/20 % -> .1/.2/.5/1
 *                                                 (off like B.1 master)
 *   recovery threshold 1.5 %, hold 30 s, ramp 5 A/s  B.1 …_RECOVERY_THRESHOLD_PERCENT / _HOLD_SEC / _RATE
 *   cvl_rise_hold 60 s .......................... B.1 CVL_RECOVERY_HOLD_SEC; ramp 10 mV/s (B.1: 1 mV/s,
 *                                                 faster here so a float -> bulk step takes minutes)
 *   rise_interval 30 s .......................... B.1 throttles to 60 s; 10 GX adjust periods (A.8) here
 *   input hysteresis 10 mV / 1.0 degC / 1 % ..... ours: stops a dithering input from toggling a limit
 *   dvl_cell_mv 2800 ............................ baseline
 *
 * Curves: up to GW_CURVE_MAX points, x strictly increasing, y in permille of
 * the configured maximum (1000 = full current). Linear mode interpolates,
 * step mode takes the y of the last point at or below x; outside the table
 * both hold the end values. */
#ifndef GW_PROFILE_H
#define GW_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_CURVE_MAX 8

typedef struct gw_curve {
    uint8_t n;                 /* points used, 0 = curve off (full current) */
    int16_t x[GW_CURVE_MAX];   /* mV, 0.1 degC or % (by curve) */
    uint16_t y[GW_CURVE_MAX];  /* permille of the maximum, 0..1000 */
} gw_curve_t;

typedef enum gw_curve_mode {
    GW_CURVE_LINEAR = 0,
    GW_CURVE_STEP = 1,
} gw_curve_mode_t;

typedef struct gw_profile {
    /* pack geometry; 0 = take it from the BMS */
    uint8_t cell_count;              /* cells in series per pack, default 0 */
    uint32_t capacity_mah;           /* per pack, default 0 */

    /* cell voltages */
    uint16_t cell_max_mv;            /* cut-off: CCL = 0 at or above, default 3650 */
    uint16_t cell_max_release_mv;    /* default 3550 */
    uint16_t cell_high_warn_mv;      /* warning at or above, default 3550 */
    uint16_t cell_min_mv;            /* cut-off: DCL = 0 at or below, default 2500 */
    uint16_t cell_min_release_mv;    /* default 2800 */
    uint16_t cell_low_warn_mv;       /* warning at or below, default 2800 */
    uint16_t warn_hysteresis_mv;     /* warnings release this far back, default 50 */
    uint16_t cvl_cell_mv;            /* bulk / absorption target, default 3500 */
    uint16_t float_cell_mv;          /* default 3375 */
    uint16_t hold_cell_mv;           /* imbalance hold target, default 3400 */
    uint16_t cvl_floor_cell_mv;      /* the cell controller never asks below, default 3200 */
    uint16_t dvl_cell_mv;            /* DVL per cell, default 2800 */

    /* charge state machine */
    uint16_t absorption_enter_mv;    /* bulk -> absorption when the pack is within cells x this of
                                        the target (or a cell reached it), default 10 */
    uint16_t absorption_exit_mv;     /* absorption -> bulk when it falls cells x this below, 30 */
    uint16_t converged_mv;           /* cell spread that counts as converged, default 10 */
    uint32_t float_after_converged_ms; /* converged this long -> float, default 900000 */
    uint32_t absorption_max_ms;      /* absorption -> float anyway, default 7200000 */
    uint8_t rebulk_soc_pct;          /* float -> bulk below, default 80 */
    uint16_t rebulk_cell_mv;         /* float -> bulk when the lowest cell falls below, 3200 */
    uint16_t imbalance_hold_mv;      /* spread above this (at the top) -> hold, default 80 */
    uint16_t imbalance_release_mv;   /* default 30 */
    uint16_t imbalance_min_cell_mv;  /* spread only judged with the highest cell >= this, 3350 */
    uint32_t imbalance_hold_min_ms;  /* shortest hold, default 300000 */
    uint16_t imbalance_ccl_permille; /* CCL cap in hold, of the maximum, default 100 */
    uint16_t imbalance_warn_mv;      /* warning at or above, default 150 */
    uint16_t imbalance_alarm_mv;     /* alarm at or above, default 300 */

    /* temperatures, 0.1 degC */
    int16_t charge_min_dc, charge_max_dc;        /* 0 / 500 */
    int16_t discharge_min_dc, discharge_max_dc;  /* -200 / 600 */
    int16_t temp_hysteresis_dc;      /* default 30 */
    int16_t temp_warn_margin_dc;     /* warnings this far inside each limit, default 50 */

    /* currents, 0.1 A */
    uint16_t charge_max_da_per_pack;    /* default 500 */
    uint16_t discharge_max_da_per_pack; /* default 1000 */
    uint8_t overcurrent_alarm_pct;      /* alarm above max x (100 + this) %, default 25 */
    uint32_t overcurrent_delay_ms;      /* for this long, default 5000 */

    /* derating */
    gw_curve_mode_t curve_mode;      /* default linear */
    gw_curve_t charge_cell;          /* x = highest cell mV */
    gw_curve_t discharge_cell;       /* x = lowest cell mV */
    gw_curve_t charge_temp;          /* x = 0.1 degC, evaluated at min and max */
    gw_curve_t discharge_temp;
    gw_curve_t charge_soc;           /* x = % */
    gw_curve_t discharge_soc;
    uint16_t hyst_cell_mv;           /* input hysteresis on improvements, default 10 */
    int16_t hyst_temp_dc;            /* default 10 */
    uint8_t hyst_soc_pct;            /* default 1 */

    /* rate limiting */
    uint16_t recovery_threshold_permille; /* leave 0 only above this share of max, 15 */
    uint32_t recovery_hold_ms;       /* default 30000 */
    uint16_t ramp_da_per_s;          /* default 50 (5 A/s) */
    uint32_t rise_interval_ms;       /* increases at most this often, default 30000 */
    uint32_t cvl_rise_hold_ms;       /* default 60000 */
    uint16_t cvl_ramp_mv_per_s;      /* default 10 */
    uint16_t cvl_bank_tolerance_mv;  /* target this far below the bank: CCL = 0, default 200 */

    /* fail-safe / plausibility */
    uint32_t data_stale_ms;          /* a reading older than this is stale, default 20000 */
    uint32_t implausible_max_ms;     /* held this long, then CCL = DCL = 0, default 20000 */
    uint16_t cell_plausible_min_mv;  /* below (e.g. 0 mV): implausible, default 1000 */
    uint16_t cell_plausible_max_mv;  /* default 5000 */
    uint16_t cell_jump_mv;           /* between two readings, default 250 */
    int16_t temp_jump_dc;            /* default 150 */
    uint16_t pack_sum_tolerance_mv;  /* |pack voltage - sum of cells|, default 500 */
    uint32_t jump_hold_ms;           /* limits held after a jump, default 10000 */
} gw_profile_t;

/* LiFePO4 defaults as listed above. */
void gw_profile_default(gw_profile_t *p);

/* Checks ranges and ordering. Returns 0 if the profile is usable, else a
 * negative number and *what names the first offending field or rule (a
 * static string, e.g. "cell_max_release_mv must be below cell_max_mv"). */
int gw_profile_validate(const gw_profile_t *p, const char **what);

/* Evaluate a curve: permille of the maximum (1000 if the curve is off). */
uint16_t gw_curve_eval(const gw_curve_t *c, gw_curve_mode_t mode, int32_t x);

#endif
