/* SPDX-License-Identifier: MIT */
/* DVCC v1 baseline: hard limits with hysteresis and a fail-safe (see dvcc_baseline.h). */
#include "dvcc/dvcc_baseline.h"

#include <string.h>

/* Cell count assumed for the fail-safe CVL/DVL before any pack was seen:
 * 16s LFP is the common 48 V rack and the highest CVL we would ever ask for
 * is still a voltage the GX accepts (it is never 0). */
#define FALLBACK_CELLS 16u

/* Warnings come this far inside each temperature limit (5.0 degC). */
#define TEMP_WARN_MARGIN_DC 50
/* Low-voltage warning this far above the under-voltage cut-off. */
#define UV_WARN_MARGIN_MV 200u

void gw_dvcc_cfg_default(gw_dvcc_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->cvl_cell_mv = 3500;
    cfg->cell_ov_mv = 3650;
    cfg->cell_ov_release_mv = 3550;
    cfg->cell_uv_mv = 2500;
    cfg->cell_uv_release_mv = 2800;
    cfg->pack_ov_mv_15s = 56500;
    cfg->charge_min_dc = 0;
    cfg->charge_max_dc = 500;
    cfg->discharge_min_dc = -200;
    cfg->discharge_max_dc = 600;
    cfg->temp_hysteresis_dc = 30;
    cfg->charge_da_per_pack = 500;
    cfg->discharge_da_per_pack = 1000;
    cfg->taper_soc_pct = 98;
    cfg->taper_da_per_pack = 50;
    cfg->taper_cell_mv = 3550;
    cfg->dvl_cell_mv = 2800;
    cfg->imbalance_warn_mv = 200;
}

void gw_dvcc_init(gw_dvcc_baseline_t *d, const gw_dvcc_cfg_t *cfg)
{
    memset(d, 0, sizeof(*d));
    if (cfg != NULL) {
        d->cfg = *cfg;
    } else {
        gw_dvcc_cfg_default(&d->cfg);
    }
}

static uint16_t clamp_u16(uint64_t v)
{
    return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

/* cells x mV per cell, in 0.1 V rounded down (a limit must not round up). */
static uint16_t cells_to_dv(uint32_t cells, uint16_t cell_mv)
{
    return clamp_u16((uint64_t)cells * cell_mv / 100u);
}

/* Pack over-voltage threshold scaled from the 15-cell figure to this pack. */
static uint32_t pack_ov_limit_mv(const gw_dvcc_cfg_t *c, const gw_pack_t *p)
{
    uint32_t cells = p->cell_count ? p->cell_count : 15u;
    uint64_t mv = (uint64_t)c->pack_ov_mv_15s * cells / 15u;
    return mv > UINT32_MAX ? UINT32_MAX : (uint32_t)mv;
}

/* Extremes of one pack, cells reading 0 mV ignored as in bank aggregation. */
typedef struct pack_ext {
    uint16_t min_mv, max_mv;
    int16_t min_dc, max_dc;
    bool have_cells, have_temps;
} pack_ext_t;

static pack_ext_t pack_extremes(const gw_pack_t *p)
{
    pack_ext_t e;
    memset(&e, 0, sizeof(e));
    for (uint8_t i = 0; i < gw_pack_cells(p); i++) {
        uint16_t mv = p->cell_mv[i];
        if (mv == 0) {
            continue;
        }
        if (!e.have_cells || mv < e.min_mv) {
            e.min_mv = mv;
        }
        if (!e.have_cells || mv > e.max_mv) {
            e.max_mv = mv;
        }
        e.have_cells = true;
    }
    for (uint8_t i = 0; i < gw_pack_cell_temps(p); i++) {
        int16_t t = p->temp_dc[i];
        if (!e.have_temps || t < e.min_dc) {
            e.min_dc = t;
        }
        if (!e.have_temps || t > e.max_dc) {
            e.max_dc = t;
        }
        e.have_temps = true;
    }
    return e;
}

/* Pack voltage state over online packs: any at/over the limit (trips), and
 * whether all are back under the limit minus 1 % (releases). */
static void pack_voltage_state(const gw_dvcc_cfg_t *c, const gw_pack_t *packs, size_t n,
                               bool *any_over, bool *all_released)
{
    *any_over = false;
    *all_released = true;
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online) {
            continue;
        }
        uint32_t lim = pack_ov_limit_mv(c, p);
        if (p->voltage_mv >= lim) {
            *any_over = true;
        }
        if (p->voltage_mv >= lim - lim / 100u) {
            *all_released = false;
        }
    }
}

static void update_ov(gw_dvcc_baseline_t *d, const gw_bank_t *b, const gw_pack_t *packs, size_t n)
{
    const gw_dvcc_cfg_t *c = &d->cfg;
    bool have = b->cell_readings > 0;
    bool cell_trip = have && b->max_cell_mv >= c->cell_ov_mv;
    bool pack_trip, pack_ok;
    pack_voltage_state(c, packs, n, &pack_trip, &pack_ok);

    if (cell_trip || pack_trip) {
        d->ov_active = true;
        d->ov_by_pack = !cell_trip; /* the cell reason wins when both trip */
    } else if (d->ov_active && (!have || b->max_cell_mv < c->cell_ov_release_mv) && pack_ok) {
        d->ov_active = false;
    }
}

static void update_uv(gw_dvcc_baseline_t *d, const gw_bank_t *b)
{
    const gw_dvcc_cfg_t *c = &d->cfg;
    if (b->cell_readings == 0) {
        return; /* no cell data: keep the latch as it was */
    }
    if (b->min_cell_mv <= c->cell_uv_mv) {
        d->uv_active = true;
    } else if (b->min_cell_mv > c->cell_uv_release_mv) {
        d->uv_active = false;
    }
}

/* Taper near full, latched: the taper itself lowers the current and so the
 * cells' IR rise, which would release an unlatched taper at once and make
 * CCL flap between full and taper every poll (seen at 3 s period). It is
 * released only well below both triggers. */
#define TAPER_RELEASE_SOC_PCT 5u
#define TAPER_RELEASE_MV 150u

static void update_taper(gw_dvcc_baseline_t *d, const gw_bank_t *b)
{
    const gw_dvcc_cfg_t *c = &d->cfg;
    bool have = b->cell_readings > 0;
    if (b->soc_pct >= c->taper_soc_pct || (have && b->max_cell_mv >= c->taper_cell_mv)) {
        d->taper_active = true;
    } else if (d->taper_active && b->soc_pct + TAPER_RELEASE_SOC_PCT < c->taper_soc_pct &&
               (!have || b->max_cell_mv + TAPER_RELEASE_MV < c->taper_cell_mv)) {
        d->taper_active = false;
    }
}

/* One temperature window with hysteresis: blocked outside [min_dc, max_dc],
 * released once back inside by hyst_dc. */
static void update_temp_window(bool *cold, bool *hot, const gw_bank_t *b, int16_t min_dc,
                               int16_t max_dc, int16_t hyst_dc)
{
    if (b->temp_readings == 0) {
        return;
    }
    int32_t lo = b->min_temp_dc, hi = b->max_temp_dc;
    if (lo < min_dc) {
        *cold = true;
    } else if (lo >= (int32_t)min_dc + hyst_dc) {
        *cold = false;
    }
    if (hi > max_dc) {
        *hot = true;
    } else if (hi <= (int32_t)max_dc - hyst_dc) {
        *hot = false;
    }
}

static void set_supported(uint8_t pairs[GW_AL_COUNT])
{
    for (int i = 0; i < GW_AL_COUNT; i++) {
        pairs[i] = GW_PAIR_OK;
    }
    /* The baseline does not watch currents, contactors or shorts: say so
     * rather than claim they are fine. */
    pairs[GW_AL_HIGH_DISCHARGE_CURRENT] = GW_PAIR_UNSUPPORTED;
    pairs[GW_AL_HIGH_CHARGE_CURRENT] = GW_PAIR_UNSUPPORTED;
    pairs[GW_AL_CONTACTOR] = GW_PAIR_UNSUPPORTED;
    pairs[GW_AL_SHORT_CIRCUIT] = GW_PAIR_UNSUPPORTED;
}

static void fail_safe(gw_dvcc_baseline_t *d, const gw_bank_t *b, bool startup_done,
                      gw_limits_t *out)
{
    const gw_dvcc_cfg_t *c = &d->cfg;
    /* Packs heard of but not yet read (a CANopen boot-up before the first
     * SDO reply) are still start-up; packs lost after a valid bank are not. */
    bool alarm = startup_done || (b->packs_present > 0 && d->have_last);

    /* Lost packs must not leave the last non-zero currents on the bus
     * (the seed gateway's V98 bug); voltages stay sane, never 0. */
    out->ccl_da = 0;
    out->dcl_da = 0;
    out->cvl_dv = d->have_last ? d->last_cvl_dv : cells_to_dv(FALLBACK_CELLS, c->cvl_cell_mv);
    out->dvl_dv = d->have_last ? d->last_dvl_dv : cells_to_dv(FALLBACK_CELLS, c->dvl_cell_mv);
    if (alarm) {
        out->alarm[GW_AL_GENERAL] = GW_PAIR_ACTIVE;
        out->alarm[GW_AL_BMS_INTERNAL] = GW_PAIR_ACTIVE;
    }
    out->ccl_reason = alarm ? "no BMS data" : "starting";
    out->dcl_reason = out->ccl_reason;
}

static void count_blocking(const gw_dvcc_cfg_t *c, const gw_pack_t *packs, size_t n,
                           gw_limits_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online) {
            continue;
        }
        pack_ext_t e = pack_extremes(p);
        bool ov = (e.have_cells && e.max_mv >= c->cell_ov_mv) ||
                  p->voltage_mv >= pack_ov_limit_mv(c, p);
        bool uv = e.have_cells && e.min_mv <= c->cell_uv_mv;
        bool chg_t = e.have_temps && (e.min_dc < c->charge_min_dc || e.max_dc > c->charge_max_dc);
        bool dis_t = e.have_temps &&
                     (e.min_dc < c->discharge_min_dc || e.max_dc > c->discharge_max_dc);
        /* Over-voltage blocks both directions, mirroring the bank rule. */
        if (ov || chg_t || p->bms_charge_off) {
            out->packs_blocking_charge++;
        }
        if (ov || uv || dis_t || p->bms_discharge_off) {
            out->packs_blocking_discharge++;
        }
    }
}

static void set_alarms(const gw_dvcc_baseline_t *d, gw_limits_t *out)
{
    out->alarm[GW_AL_HIGH_VOLTAGE] = d->ov_active ? GW_PAIR_ACTIVE : GW_PAIR_OK;
    out->alarm[GW_AL_LOW_VOLTAGE] = d->uv_active ? GW_PAIR_ACTIVE : GW_PAIR_OK;
    out->alarm[GW_AL_HIGH_TEMP_CHARGE] = d->chg_hot ? GW_PAIR_ACTIVE : GW_PAIR_OK;
    out->alarm[GW_AL_LOW_TEMP_CHARGE] = d->chg_cold ? GW_PAIR_ACTIVE : GW_PAIR_OK;
    out->alarm[GW_AL_HIGH_TEMP] = d->dis_hot ? GW_PAIR_ACTIVE : GW_PAIR_OK;
    out->alarm[GW_AL_LOW_TEMP] = d->dis_cold ? GW_PAIR_ACTIVE : GW_PAIR_OK;
}

static uint8_t pair(bool active)
{
    return active ? GW_PAIR_ACTIVE : GW_PAIR_OK;
}

/* Warnings lead the alarms; an active alarm always shows its warning too. */
static void set_warnings(const gw_dvcc_baseline_t *d, const gw_bank_t *b, gw_limits_t *out)
{
    const gw_dvcc_cfg_t *c = &d->cfg;
    bool cells = b->cell_readings > 0;
    bool temps = b->temp_readings > 0;
    int32_t lo = b->min_temp_dc, hi = b->max_temp_dc;

    out->warning[GW_AL_HIGH_VOLTAGE] =
        pair(d->ov_active || (cells && b->max_cell_mv >= c->taper_cell_mv));
    out->warning[GW_AL_LOW_VOLTAGE] =
        pair(d->uv_active || (cells && b->min_cell_mv <= (uint32_t)c->cell_uv_mv + UV_WARN_MARGIN_MV));
    out->warning[GW_AL_HIGH_TEMP_CHARGE] =
        pair(d->chg_hot || (temps && hi > (int32_t)c->charge_max_dc - TEMP_WARN_MARGIN_DC));
    out->warning[GW_AL_LOW_TEMP_CHARGE] =
        pair(d->chg_cold || (temps && lo < (int32_t)c->charge_min_dc + TEMP_WARN_MARGIN_DC));
    out->warning[GW_AL_HIGH_TEMP] =
        pair(d->dis_hot || (temps && hi > (int32_t)c->discharge_max_dc - TEMP_WARN_MARGIN_DC));
    out->warning[GW_AL_LOW_TEMP] =
        pair(d->dis_cold || (temps && lo < (int32_t)c->discharge_min_dc + TEMP_WARN_MARGIN_DC));
    out->warning[GW_AL_CELL_IMBALANCE] =
        pair(cells && (uint32_t)(b->max_cell_mv - b->min_cell_mv) >= c->imbalance_warn_mv);
}

/* What the packs' own BMSes allow, over online packs: how many can take
 * current that way, and the sum of what they allow (each pack's own limit
 * when it reports one, else per_pack_da). A pack whose BMS opened that
 * switch counts for nothing. */
static void bms_allowance(const gw_pack_t *packs, size_t n, bool charge, uint16_t per_pack_da,
                          uint8_t *usable, uint64_t *sum_da)
{
    *usable = 0;
    *sum_da = 0;
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online || (charge ? p->bms_charge_off : p->bms_discharge_off)) {
            continue;
        }
        (*usable)++;
        uint16_t own = charge ? p->bms_ccl_da : p->bms_dcl_da;
        *sum_da += (p->bms_limits_valid && own > 0 && own < per_pack_da) ? own : per_pack_da;
    }
}

/* Offline pack last seen below this SOC: no discharge until it is back. */
#define OFFLINE_LOW_SOC_PCT 30u

/* CCL: the later rule overrides the earlier one, most severe last, so the
 * reason always names what actually set the value. */
static void set_ccl(const gw_dvcc_baseline_t *d, const gw_bank_t *b, const gw_pack_t *packs,
                    size_t n, gw_limits_t *out)
{
    const gw_dvcc_cfg_t *c = &d->cfg;
    uint8_t k;
    uint64_t allowed_da;
    bms_allowance(packs, n, true, c->charge_da_per_pack, &k, &allowed_da);

    out->ccl_da = clamp_u16(allowed_da);
    out->ccl_reason = allowed_da < (uint64_t)k * c->charge_da_per_pack ? "BMS charge limit"
                                                                         : "normal";
    if (k == 0 && b->packs_online > 0) {
        out->ccl_reason = "BMS charge switch open";
    }
    if (d->taper_active) {
        uint16_t taper = clamp_u16((uint64_t)b->packs_online * c->taper_da_per_pack);
        if (taper < out->ccl_da) {
            out->ccl_da = taper;
            out->ccl_reason = "taper: near full";
        }
    }
    if (b->soc_pct >= 100u) {
        out->ccl_da = 0;
        out->ccl_reason = "full";
    }
    /* A pack that stopped answering is still wired in parallel: charging the
     * bank charges it too, and none of its cells can be watched. So no
     * charging until every pack found reports again (found by the fuzzer: a
     * silent pack's cell ran past its cut-off while the others took CCL). */
    if (b->packs_offline > 0) {
        out->ccl_da = 0;
        out->ccl_reason = "pack offline";
    }
    if (d->chg_temp_block) {
        out->ccl_da = 0;
        out->ccl_reason = "charge temperature";
    }
    if (d->ov_active) {
        out->ccl_da = 0;
        out->ccl_reason = d->ov_by_pack ? "pack over-voltage" : "cell over-voltage";
    }
}

static void set_dcl(const gw_dvcc_baseline_t *d, const gw_bank_t *b, const gw_pack_t *packs,
                    size_t n, gw_limits_t *out)
{
    uint8_t k;
    uint64_t allowed_da;
    bms_allowance(packs, n, false, d->cfg.discharge_da_per_pack, &k, &allowed_da);

    out->dcl_da = clamp_u16(allowed_da);
    out->dcl_reason = allowed_da < (uint64_t)k * d->cfg.discharge_da_per_pack
                          ? "BMS discharge limit"
                          : "normal";
    if (k == 0 && b->packs_online > 0) {
        out->dcl_reason = "BMS discharge switch open";
    }
    /* An unwatched pack that was last seen low may be drained past its cut-off
     * by the others' discharge: stop discharging until it reports again. One
     * last seen healthy may go on for a while (island systems need DCL). */
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->present || p->online) {
            continue;
        }
        pack_ext_t e = pack_extremes(p);
        if (p->soc_pct < OFFLINE_LOW_SOC_PCT ||
            (e.have_cells && e.min_mv < d->cfg.cell_uv_release_mv)) {
            out->dcl_da = 0;
            out->dcl_reason = "low pack offline";
        }
    }
    if (d->dis_temp_block) {
        out->dcl_da = 0;
        out->dcl_reason = "discharge temperature";
    }
    if (d->uv_active) {
        out->dcl_da = 0;
        out->dcl_reason = "cell under-voltage";
    }
    if (d->ov_active) {
        /* The seed gateway's rule, kept for the baseline: OV stops both. */
        out->dcl_da = 0;
        out->dcl_reason = d->ov_by_pack ? "pack over-voltage" : "cell over-voltage";
    }
}

void gw_dvcc_compute(gw_dvcc_baseline_t *d, const gw_bank_t *bank, const gw_pack_t *packs,
                     size_t npacks, bool startup_done, gw_limits_t *out)
{
    const gw_dvcc_cfg_t *c = &d->cfg;

    memset(out, 0, sizeof(*out));
    set_supported(out->alarm);
    set_supported(out->warning);
    if (packs == NULL) {
        npacks = 0;
    }
    if (npacks > GW_MAX_PACKS) {
        npacks = GW_MAX_PACKS;
    }
    if (!bank->valid) {
        fail_safe(d, bank, startup_done, out);
        return;
    }

    update_ov(d, bank, packs, npacks);
    update_uv(d, bank);
    update_taper(d, bank);
    update_temp_window(&d->chg_cold, &d->chg_hot, bank, c->charge_min_dc, c->charge_max_dc,
                       c->temp_hysteresis_dc);
    update_temp_window(&d->dis_cold, &d->dis_hot, bank, c->discharge_min_dc, c->discharge_max_dc,
                       c->temp_hysteresis_dc);
    d->chg_temp_block = d->chg_cold || d->chg_hot;
    d->dis_temp_block = d->dis_cold || d->dis_hot;

    /* A bank that reports no cell count still needs a non-zero CVL. */
    uint32_t cells = bank->min_cell_count ? bank->min_cell_count : FALLBACK_CELLS;
    out->cvl_dv = cells_to_dv(cells, c->cvl_cell_mv);
    out->dvl_dv = cells_to_dv(cells, c->dvl_cell_mv);
    /* Never ask for more than a pack's own BMS charges to. */
    for (size_t i = 0; i < npacks; i++) {
        const gw_pack_t *p = &packs[i];
        if (p->online && p->bms_limits_valid && p->bms_max_charge_mv > 0 &&
            p->bms_max_charge_mv / 100u < out->cvl_dv) {
            out->cvl_dv = (uint16_t)(p->bms_max_charge_mv / 100u);
        }
    }
    d->last_cvl_dv = out->cvl_dv;
    d->last_dvl_dv = out->dvl_dv;
    d->have_last = true;

    set_ccl(d, bank, packs, npacks, out);
    set_dcl(d, bank, packs, npacks, out);
    set_alarms(d, out);
    set_warnings(d, bank, out);
    count_blocking(c, packs, npacks, out);
}
