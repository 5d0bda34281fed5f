/* SPDX-License-Identifier: MIT */
/* DVCC and protection engine: CVL/CCL/DCL, alarms and warnings from a chemistry profile, with reasons.
 *
 * Once per CAN cycle gw_engine_compute() turns the aggregated bank (and the
 * packs behind it) into the limits a GX obeys. No I/O, no heap, no clock:
 * time comes in as now_ms. Every threshold lives in gw_profile_t (profile.h).
 *
 * Charge states (gw_engine_state_name):
 *   bulk            CVL = cells x cvl_cell_mv
 *   absorption      entered when the bank is within cells x absorption_enter_mv
 *                   of that target or a cell reached cvl_cell_mv; held until the
 *                   cell spread stayed <= converged_mv for float_after_converged_ms,
 *                   or absorption_max_ms passed (-> float); back to bulk when the
 *                   bank falls cells x absorption_exit_mv below the target
 *   float           CVL = cells x float_cell_mv; re-bulk when SOC < rebulk_soc_pct
 *                   or the lowest cell < rebulk_cell_mv
 *   imbalance_hold  from any state when the spread > imbalance_hold_mv with the
 *                   highest cell >= imbalance_min_cell_mv: CVL <= cells x
 *                   hold_cell_mv, CCL <= imbalance_ccl_permille of the maximum;
 *                   released (to bulk) below imbalance_release_mv after
 *                   imbalance_hold_min_ms
 *   no_data         fail-safe (all packs lost, all readings stale, or implausible
 *                   data for longer than implausible_max_ms): CCL = DCL = 0,
 *                   CVL/DVL kept at their last values; back to bulk on fresh data
 *   starting        before the first valid bank
 * "cells" is profile.cell_count, or the bank's smallest pack when that is 0.
 *
 * CVL is highest-cell aware (dbus-serialbattery's penalty sum, B.2 mode 1): in
 * every pack whose cells exceed the state's per-cell target, CVL <= sum of cells
 * minus the sum of the excesses, floored at cells x cvl_floor_cell_mv. So one
 * runaway cell pulls CVL down while the others are still low. Capped by each
 * pack's own bms_max_charge_mv. Decreases apply at once; increases wait
 * cvl_rise_hold_ms after the last decrease, then ramp at cvl_ramp_mv_per_s.
 *
 * The bank-voltage rule: CVL is never sent below the present bank voltage (a
 * Victron/SMA system would discharge the bank to it, victron_canbms.md A.11.2)
 * and never 0. When the engine wants a CVL more than cvl_bank_tolerance_mv
 * below the bank voltage, it sends CVL = bank voltage (rounded up to 0.1 V)
 * and CCL = 0; within the tolerance it sends the bank voltage and keeps CCL.
 * Exception: while data are held as implausible (below), CVL is not raised
 * above its last value, so it may then sit below a suspect bank reading, and
 * CCL is 0.
 *
 * CCL / DCL = minimum of: configured maximum x usable packs; the packs' own
 * BMS limits; the cell-voltage curve (highest cell for charge, lowest for
 * discharge); the temperature curve at the coldest and the hottest sensor;
 * the SOC curve; the imbalance-hold cap; 0 for a cut-off alarm. Linear or
 * step curves (profile.curve_mode). Each curve's input has a hysteresis
 * (hyst_cell_mv, hyst_temp_dc, hyst_soc_pct): a curve value falls at once but
 * only rises when it is higher over the whole window x +/- hysteresis, so an
 * input dithering around a curve point cannot toggle the limit.
 * Rate limits: decreases immediate (never delayed); an increase from 0 needs
 * the candidate above recovery_threshold_permille of the maximum for
 * recovery_hold_ms, then ramps at ramp_da_per_s; other increases happen at
 * most once per rise_interval_ms (then ramp). The first limits after boot are
 * sent as computed (nothing to recover from).
 *
 * Fail-safe and plausibility, per online pack: a cell outside
 * cell_plausible_min/max_mv (e.g. 0 mV), a pack voltage further than
 * pack_sum_tolerance_mv from the sum of its cells, a cell count other than
 * profile.cell_count, temperatures that disappeared, a reading older than
 * data_stale_ms: implausible. A jump between two readings (cell_jump_mv,
 * temp_jump_dc) makes the data suspect for jump_hold_ms. While implausible or
 * suspect no limit is raised (each is at most its last value) and the BMS
 * internal warning is on; implausible data for implausible_max_ms, or all
 * readings stale, or no pack online bring CCL = DCL = 0 (no_data). Bound:
 * CCL and DCL reach 0 at most max(data_stale_ms, implausible_max_ms) after the
 * last good reading, at once when the bank becomes invalid.
 *
 * Alarms (0x35A, with 0x359 derived from them by the encoder): every pair
 * except contactor and short circuit (not known to a gateway: unsupported).
 * An active alarm always zeroes the limit it protects: high voltage -> CCL;
 * low voltage -> DCL; charge temperature -> CCL; high/low temperature
 * (discharge window) -> CCL and DCL; charge/discharge over-current -> CCL/DCL;
 * BMS internal (no data) -> both. Cell imbalance only informs.
 *
 * Reasons: limits->ccl_reason/dcl_reason are static categories (below);
 * limits->cvl_why/ccl_why/dcl_why carry the full text, e.g.
 * "CCL 12.5 A: cell 7 at 3.48 V" ("pack 2 cell 7 ..." with several packs). */
#ifndef GW_ENGINE_H
#define GW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bank/bank.h"
#include "bank/pack.h"
#include "dvcc/limits.h"
#include "dvcc/profile.h"

typedef enum gw_chg_state {
    GW_CHG_STARTING = 0,
    GW_CHG_BULK,
    GW_CHG_ABSORPTION,
    GW_CHG_FLOAT,
    GW_CHG_IMBALANCE_HOLD,
    GW_CHG_NO_DATA,
} gw_chg_state_t;

/* One published current limit and its rate-limiter state (private). */
typedef struct gw_rate {
    bool have;                 /* a value was published since boot */
    uint16_t value_da;
    uint64_t last_change_ms;
    bool recovering;           /* candidate above threshold, hold running */
    uint64_t recover_since_ms;
    bool ramping;
    uint64_t ramp_ms;          /* when the ramp started */
    uint16_t ramp_base_da;     /* value it started from */
} gw_rate_t;

/* What one pack looked like at its last reading (private, for jumps). */
typedef struct gw_pack_memo {
    bool have;
    uint64_t updated_ms;
    uint16_t min_mv, max_mv;
    int16_t min_dc, max_dc;
} gw_pack_memo_t;

typedef struct gw_engine_counters {
    uint32_t implausible;      /* cycles with implausible data held */
    uint32_t jumps;            /* readings that jumped */
    uint32_t failsafe_entries; /* entries into no_data */
    uint32_t transitions;      /* charge-state changes */
} gw_engine_counters_t;

typedef struct gw_engine {
    gw_profile_t prof;              /* from init (validated; defaults if invalid) */
    bool profile_rejected;          /* read-only: init fell back to defaults */
    gw_chg_state_t state;           /* read-only */
    gw_engine_counters_t counters;  /* read-only */
    /* private */
    bool had_data, had_temps;
    uint64_t state_since_ms;
    bool converged;
    uint64_t converged_since_ms;
    bool implausible;
    uint64_t implausible_since_ms;
    uint64_t suspect_until_ms;
    bool ov, uv, chg_cold, chg_hot, dis_cold, dis_hot;
    bool w_hv, w_lv, w_chg_cold, w_chg_hot, w_dis_cold, w_dis_hot, w_imb, a_imb;
    bool oc_chg, oc_dis, w_oc_chg, w_oc_dis;
    uint64_t oc_chg_since_ms, oc_dis_since_ms;
    bool oc_chg_timing, oc_dis_timing;
    /* curve values after input hysteresis, permille */
    bool have_curves;
    uint16_t h_chg_cell, h_dis_cell, h_chg_temp, h_dis_temp, h_chg_soc, h_dis_soc;
    gw_rate_t ccl, dcl;
    bool cvl_have;
    uint32_t cvl_mv;                /* rate-limited CVL target */
    uint64_t cvl_drop_ms, cvl_step_ms;
    uint16_t last_cvl_dv, last_dvl_dv;
    gw_pack_memo_t memo[GW_MAX_PACKS];
} gw_engine_t;

/* Copy the profile (NULL = LiFePO4 defaults). A profile that fails
 * gw_profile_validate() is replaced by the defaults and profile_rejected set:
 * the firmware must run, and the config parser reports the error first. */
void gw_engine_init(gw_engine_t *e, const gw_profile_t *p);

/* Once per CAN cycle. Same contract as gw_dvcc_compute (see dvcc_baseline.h):
 * out is fully rewritten; with no valid bank the fail-safe applies and the
 * alarms are raised once startup_done (or after data were seen). now_ms is
 * the platform time (the same clock as gw_pack_t.updated_ms). */
void gw_engine_compute(gw_engine_t *e, const gw_bank_t *bank, const gw_pack_t *packs,
                       size_t npacks, bool startup_done, uint64_t now_ms, gw_limits_t *out);

/* "starting", "bulk", "absorption", "float", "imbalance_hold", "no_data". */
const char *gw_engine_state_name(const gw_engine_t *e);
const char *gw_chg_state_name(gw_chg_state_t st);

#endif
