/* SPDX-License-Identifier: MIT */
/* DVCC v1: the seed gateway's hard limits as a baseline (topband.md 5.5),
 * with hysteresis, per-cell checks and a fail-safe when all packs are lost.
 * Unlike the seed, a pack that was found and went offline blocks charging
 * (CCL = 0, reason "pack offline") until it reports again: it is still in
 * parallel with the others and its cells cannot be watched.
 * The full engine (charge state machine, derating curves) replaces this. */
#ifndef GW_DVCC_BASELINE_H
#define GW_DVCC_BASELINE_H

#include <stdbool.h>
#include <stdint.h>
#include "bank/bank.h"
#include "bank/pack.h"
#include "dvcc/limits.h"

typedef struct gw_dvcc_cfg {
    uint16_t cvl_cell_mv;          /* CVL = min cells x this, default 3500 */
    uint16_t cell_ov_mv;           /* any cell >= this: CCL = DCL = 0, default 3650 */
    uint16_t cell_ov_release_mv;   /* released below this, default 3550 */
    uint16_t cell_uv_mv;           /* any cell <= this: DCL = 0, default 2500 */
    uint16_t cell_uv_release_mv;   /* released above this, default 2800 */
    uint32_t pack_ov_mv_15s;       /* pack over-voltage for 15 cells, scaled per cell count, default 56500 */
    int16_t charge_min_dc;         /* charging blocked below, default 0 (0.0 degC) */
    int16_t charge_max_dc;         /* charging blocked above, default 500 */
    int16_t discharge_min_dc;      /* discharging blocked below, default -200 */
    int16_t discharge_max_dc;      /* discharging blocked above, default 600 */
    int16_t temp_hysteresis_dc;    /* default 30 */
    uint16_t charge_da_per_pack;   /* default 500 (50.0 A) */
    uint16_t discharge_da_per_pack;/* default 1000 (100.0 A) */
    uint8_t taper_soc_pct;         /* SOC at or above: CCL = packs x taper current (latched), default 98 */
    uint16_t taper_da_per_pack;    /* default 50 (5.0 A) */
    uint16_t taper_cell_mv;        /* any cell at or above: taper current too, default 3550 */
    uint16_t dvl_cell_mv;          /* DVL = cells x this, default 2800 */
    uint16_t imbalance_warn_mv;    /* cell spread warning, default 200 */
} gw_dvcc_cfg_t;

void gw_dvcc_cfg_default(gw_dvcc_cfg_t *cfg);

typedef struct gw_dvcc_baseline {
    gw_dvcc_cfg_t cfg;     /* from init */
    /* private: hysteresis latches */
    bool ov_active, uv_active, chg_temp_block, dis_temp_block;
    bool taper_active;             /* near full; released 5 % SOC and 150 mV below */
    /* private (added): which side of each latch tripped, for alarms and reasons */
    bool ov_by_pack;               /* last over-voltage trigger was a pack voltage */
    bool chg_cold, chg_hot, dis_cold, dis_hot;
    /* private (added): fail-safe keeps the last limits computed from a valid bank */
    bool have_last;
    uint16_t last_cvl_dv, last_dvl_dv;
} gw_dvcc_baseline_t;

void gw_dvcc_init(gw_dvcc_baseline_t *d, const gw_dvcc_cfg_t *cfg);

/* Decide limits and alarms from the aggregated bank. When bank->valid is
 * false (all packs lost, or none found yet) the fail-safe applies:
 * CCL = DCL = 0 and, once startup is over (startup_done, or packs present
 * that had given a valid bank before), the general and BMS-internal alarms
 * are raised. */
void gw_dvcc_compute(gw_dvcc_baseline_t *d, const gw_bank_t *bank, const gw_pack_t *packs,
                     size_t npacks, bool startup_done, gw_limits_t *out);

#endif
