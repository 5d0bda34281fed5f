/* SPDX-License-Identifier: MIT */
/* Charge-voltage state strategy (see cvl_states.h). */
#include "dvcc/cvl_states.h"

#include <stddef.h>
#include <string.h>

#define TARGET_MARGIN_MV 50 /* every target stays this far below the absolute maximum */

void gw_cvl_cfg_default(gw_cvl_cfg_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->cell_abs_max_mv = 3650;
    cfg->bulk_cell_mv = 3500;
    cfg->approach_offset_mv = 50;
    cfg->float_cell_mv = 3375;
    cfg->hold_cell_mv = 3400;
    cfg->transition_soc_pct = 95;
    cfg->approach_soc_pct = 99;
    cfg->float_soc_pct = 100;
    cfg->soc_hysteresis_pct = 2;
    cfg->float_exit_soc_pct = 90;
    cfg->imbalance_hold_mv = 100;
    cfg->imbalance_release_mv = 40;
    cfg->min_state_ms = 20000;
    cfg->hold_min_ms = 300000;
    cfg->absorption_max_ms = 7200000;
    cfg->transition_ccl_c_pct = 30;
    cfg->approach_ccl_c_pct = 10;
    cfg->float_ccl_c_pct = 5;
    cfg->hold_ccl_c_pct = 5;
}

static uint16_t min_u16(uint16_t a, uint16_t b)
{
    return a < b ? a : b;
}

static uint8_t min_u8(uint8_t a, uint8_t b)
{
    return a < b ? a : b;
}

static void sanitise(gw_cvl_cfg_t *c)
{
    if (c->cell_abs_max_mv <= TARGET_MARGIN_MV) {
        c->cell_abs_max_mv = 3650;
    }
    uint16_t top_mv = (uint16_t)(c->cell_abs_max_mv - TARGET_MARGIN_MV);
    c->bulk_cell_mv = min_u16(c->bulk_cell_mv, top_mv);
    c->approach_offset_mv = min_u16(c->approach_offset_mv, c->bulk_cell_mv);
    c->float_cell_mv = min_u16(c->float_cell_mv, (uint16_t)(c->bulk_cell_mv - c->approach_offset_mv));
    c->hold_cell_mv = min_u16(c->hold_cell_mv, c->bulk_cell_mv);
    c->float_soc_pct = min_u8(c->float_soc_pct, 100);
    c->approach_soc_pct = min_u8(c->approach_soc_pct, c->float_soc_pct);
    c->transition_soc_pct = min_u8(c->transition_soc_pct, c->approach_soc_pct);
    if (c->soc_hysteresis_pct == 0) {
        c->soc_hysteresis_pct = 1;
    }
    if (c->float_exit_soc_pct >= c->float_soc_pct) {
        c->float_exit_soc_pct = (uint8_t)(c->float_soc_pct > 0 ? c->float_soc_pct - 1 : 0);
    }
    if (c->imbalance_release_mv >= c->imbalance_hold_mv) {
        c->imbalance_release_mv = (uint16_t)(c->imbalance_hold_mv / 2);
    }
}

void gw_cvl_states_init(gw_cvl_states_t *s, const gw_cvl_cfg_t *cfg)
{
    if (s == NULL) {
        return;
    }
    memset(s, 0, sizeof(*s));
    if (cfg != NULL) {
        s->cfg = *cfg;
    } else {
        gw_cvl_cfg_default(&s->cfg);
    }
    sanitise(&s->cfg);
    s->state = GW_CVL_BULK;
    s->reason = "not started: no bank data yet";
}

const char *gw_cvl_state_name(gw_cvl_state_t st)
{
    switch (st) {
    case GW_CVL_BULK: return "BULK";
    case GW_CVL_TRANSITION: return "TRANSITION";
    case GW_CVL_FLOAT_APPROACH: return "FLOAT_APPROACH";
    case GW_CVL_FLOAT: return "FLOAT";
    case GW_CVL_IMBALANCE_HOLD: return "IMBALANCE_HOLD";
    }
    return "UNKNOWN";
}

/* The highest SOC state whose entry threshold SOC meets. */
static gw_cvl_state_t level_up(const gw_cvl_cfg_t *c, uint8_t soc)
{
    if (soc >= c->float_soc_pct) {
        return GW_CVL_FLOAT;
    }
    if (soc >= c->approach_soc_pct) {
        return GW_CVL_FLOAT_APPROACH;
    }
    if (soc >= c->transition_soc_pct) {
        return GW_CVL_TRANSITION;
    }
    return GW_CVL_BULK;
}

/* SOC below which a state is left (entry threshold minus hysteresis). */
static int exit_soc(const gw_cvl_cfg_t *c, gw_cvl_state_t st)
{
    switch (st) {
    case GW_CVL_TRANSITION: return (int)c->transition_soc_pct - c->soc_hysteresis_pct;
    case GW_CVL_FLOAT_APPROACH: return (int)c->approach_soc_pct - c->soc_hysteresis_pct;
    case GW_CVL_FLOAT: return c->float_exit_soc_pct;
    default: return 0;
    }
}

/* The SOC state SOC asks for, starting from cur, with hysteresis. */
static gw_cvl_state_t soc_target(const gw_cvl_cfg_t *c, gw_cvl_state_t cur, uint8_t soc)
{
    gw_cvl_state_t up = level_up(c, soc);
    if (up > cur) {
        return up;
    }
    if (cur == GW_CVL_FLOAT) {
        /* Latched: once full, stay in float until SOC really dropped. */
        return (int)soc < exit_soc(c, GW_CVL_FLOAT) ? up : GW_CVL_FLOAT;
    }
    gw_cvl_state_t st = cur;
    while (st > GW_CVL_BULK && (int)soc < exit_soc(c, st)) {
        st = (gw_cvl_state_t)(st - 1);
    }
    return st;
}

static void track_soc_state(gw_cvl_states_t *s, uint8_t soc, uint64_t now_ms)
{
    const gw_cvl_cfg_t *c = &s->cfg;
    if (!s->started) {
        s->started = true;
        s->soc_state = level_up(c, soc);
        s->soc_since_ms = now_ms;
        return;
    }
    uint64_t held_ms = now_ms >= s->soc_since_ms ? now_ms - s->soc_since_ms : 0;
    gw_cvl_state_t want = soc_target(c, s->soc_state, soc);
    if (s->soc_state == GW_CVL_FLOAT_APPROACH && want == GW_CVL_FLOAT_APPROACH &&
        c->absorption_max_ms != 0 && held_ms >= c->absorption_max_ms) {
        want = GW_CVL_FLOAT; /* absorption has lasted long enough */
    }
    if (want != s->soc_state && held_ms >= c->min_state_ms) {
        s->soc_state = want;
        s->soc_since_ms = now_ms;
    }
}

static void track_hold(gw_cvl_states_t *s, const gw_bank_t *bank, uint64_t now_ms)
{
    if (bank->cell_readings < 2 || bank->max_cell_mv < bank->min_cell_mv) {
        return; /* no spread to judge: keep whatever applies */
    }
    uint16_t spread_mv = (uint16_t)(bank->max_cell_mv - bank->min_cell_mv);
    if (!s->hold) {
        if (spread_mv > s->cfg.imbalance_hold_mv) {
            s->hold = true;
            s->hold_since_ms = now_ms;
        }
        return;
    }
    uint64_t held_ms = now_ms >= s->hold_since_ms ? now_ms - s->hold_since_ms : 0;
    if (spread_mv < s->cfg.imbalance_release_mv && held_ms >= s->cfg.hold_min_ms) {
        s->hold = false;
    }
}

static const char *state_reason(gw_cvl_state_t st)
{
    switch (st) {
    case GW_CVL_BULK: return "bulk: SOC below the transition threshold, CVL at the bulk target";
    case GW_CVL_TRANSITION: return "transition: SOC at or above the transition threshold, CCL capped";
    case GW_CVL_FLOAT_APPROACH: return "float approach: nearly full, CVL below bulk, CCL capped";
    case GW_CVL_FLOAT: return "float: full, CVL at the float target (latched until SOC drops)";
    case GW_CVL_IMBALANCE_HOLD: return "imbalance hold: cell spread above the hold threshold";
    }
    return "unknown";
}

static uint16_t cell_target_mv(const gw_cvl_cfg_t *c, gw_cvl_state_t st)
{
    switch (st) {
    case GW_CVL_FLOAT_APPROACH: return (uint16_t)(c->bulk_cell_mv - c->approach_offset_mv);
    case GW_CVL_FLOAT: return c->float_cell_mv;
    case GW_CVL_IMBALANCE_HOLD: return c->hold_cell_mv;
    default: return c->bulk_cell_mv;
    }
}

static uint8_t ccl_c_pct(const gw_cvl_cfg_t *c, gw_cvl_state_t st)
{
    switch (st) {
    case GW_CVL_TRANSITION: return c->transition_ccl_c_pct;
    case GW_CVL_FLOAT_APPROACH: return c->approach_ccl_c_pct;
    case GW_CVL_FLOAT: return c->float_ccl_c_pct;
    case GW_CVL_IMBALANCE_HOLD: return c->hold_ccl_c_pct;
    default: return 0; /* BULK: no cap of its own */
    }
}

/* Lower *cvl_dv / *ccl_da to what state st allows. */
static void apply(const gw_cvl_cfg_t *c, gw_cvl_state_t st, const gw_bank_t *bank, uint16_t *cvl_dv,
                  uint16_t *ccl_da)
{
    /* mV x cells / 100 rounds down, so the target never exceeds the per-cell value. */
    uint32_t cvl = (uint32_t)cell_target_mv(c, st) * bank->min_cell_count / 100u;
    if (cvl < *cvl_dv) {
        *cvl_dv = (uint16_t)cvl;
    }
    uint8_t pct = ccl_c_pct(c, st);
    if (pct != 0 && bank->full_mah != 0) {
        /* mAh x 0.01 C -> 0.1 A: mAh x pct / 10000. */
        uint64_t cap = (uint64_t)bank->full_mah * pct / 10000u;
        if (cap < *ccl_da) {
            *ccl_da = (uint16_t)cap;
        }
    }
}

void gw_cvl_states_update(gw_cvl_states_t *s, const gw_bank_t *bank, uint64_t now_ms,
                          uint16_t *cvl_dv, uint16_t *ccl_da)
{
    if (s == NULL || cvl_dv == NULL || ccl_da == NULL) {
        return;
    }
    if (bank == NULL || !bank->valid || bank->min_cell_count == 0) {
        s->reason = "no bank data: baseline limits unchanged";
        return;
    }
    track_soc_state(s, bank->soc_pct, now_ms);
    track_hold(s, bank, now_ms);
    gw_cvl_state_t st = s->hold ? GW_CVL_IMBALANCE_HOLD : s->soc_state;
    if (st != s->state) {
        s->transitions++;
        s->state = st;
    }
    s->reason = state_reason(st);
    /* In a hold the SOC state's own limits still apply where they are lower. */
    apply(&s->cfg, s->soc_state, bank, cvl_dv, ccl_da);
    if (s->hold) {
        apply(&s->cfg, GW_CVL_IMBALANCE_HOLD, bank, cvl_dv, ccl_da);
    }
}
