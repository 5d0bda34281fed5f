/* SPDX-License-Identifier: MIT */
/* Balancer-bus BMS protection; behaviour documented in balancer_protect.h. */
#include "balancer/balancer_protect.h"

#include <string.h>

#define STARTUP_BEEP_MS 20u
#define BEEP_ON_MS 50u
#define BEEP_GAP_MS 200u

void gw_bal_prot_cfg_default(gw_bal_prot_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dis_off_mv = 3050;
    cfg->dis_on_mv = 3250;
    cfg->chg_off_mv = 3700;
    cfg->chg_on_mv = 3650;
    cfg->alarm_low_mv = 2950;
    cfg->alarm_high_mv = 3750;
    cfg->cell_ot_on_dc = 500;
    cfg->cell_ot_off_dc = 450;
    cfg->cell_ot_alarm_dc = 600;
    cfg->res_ot_on_dc = 900;
    cfg->res_ot_off_dc = 600;
    cfg->chg_ut_on_dc = 0;
    cfg->chg_ut_off_dc = 20;
    cfg->buzzer_enabled = true;
    cfg->buzzer_period_ms = 2000;
}

void gw_bal_prot_init(gw_bal_prot_t *p, const gw_bal_prot_cfg_t *cfg, uint64_t now_ms)
{
    memset(p, 0, sizeof *p);
    if (cfg != NULL) {
        p->cfg = *cfg;
    } else {
        gw_bal_prot_cfg_default(&p->cfg);
    }
    /* The pattern needs room for both beeps. */
    if (p->cfg.buzzer_period_ms < 2 * BEEP_ON_MS + BEEP_GAP_MS) {
        p->cfg.buzzer_period_ms = 2 * BEEP_ON_MS + BEEP_GAP_MS;
    }
    p->start_ms = now_ms;
    gw_bal_prot_tick(p, now_ms);
}

bool gw_bal_prot_latched(const gw_bal_prot_t *p)
{
    return p->read_fault != 0 || p->uv_alarm || p->ov_alarm || p->ot_alarm;
}

/* Position in the double-beep pattern and whether the buzzer is on there. */
static bool beep_on_at(const gw_bal_prot_t *p, uint64_t now_ms)
{
    if (!p->cfg.buzzer_enabled) {
        return false;
    }
    if (now_ms >= p->start_ms && now_ms - p->start_ms < STARTUP_BEEP_MS) {
        return true;
    }
    if (!p->alarmed || now_ms < p->alarm_since_ms) {
        return false;
    }
    uint64_t phase = (now_ms - p->alarm_since_ms) % p->cfg.buzzer_period_ms;
    return phase < BEEP_ON_MS ||
           (phase >= BEEP_ON_MS + BEEP_GAP_MS && phase < 2 * BEEP_ON_MS + BEEP_GAP_MS);
}

static void update_volt_states(gw_bal_prot_t *p, const gw_bal_prot_input_t *in)
{
    const gw_bal_prot_cfg_t *c = &p->cfg;
    if (!in->have_v) {
        return;
    }
    if (!p->volt_init) {
        /* First complete reading: start inside the band, not at "off" as the
         * seed did, so a resting pack at 3.15 V is usable after power-up. */
        p->dis_volt_ok = in->min_mv >= c->dis_off_mv;
        p->chg_volt_ok = in->max_mv <= c->chg_off_mv;
        p->volt_init = true;
        return;
    }
    if (p->dis_volt_ok && in->min_mv < c->dis_off_mv) {
        p->dis_volt_ok = false;
    } else if (!p->dis_volt_ok && in->min_mv >= c->dis_on_mv) {
        p->dis_volt_ok = true;
    }
    if (p->chg_volt_ok && in->max_mv > c->chg_off_mv) {
        p->chg_volt_ok = false;
    } else if (!p->chg_volt_ok && in->max_mv <= c->chg_on_mv) {
        p->chg_volt_ok = true;
    }
}

static void update_temp_trips(gw_bal_prot_t *p, const gw_bal_prot_input_t *in)
{
    const gw_bal_prot_cfg_t *c = &p->cfg;
    if (in->have_t) {
        if (!p->cell_ot && in->max_t_dc > c->cell_ot_on_dc) {
            p->cell_ot = true;
        } else if (p->cell_ot && in->max_t_dc <= c->cell_ot_off_dc) {
            p->cell_ot = false;
        }
        if (!p->chg_ut && in->min_t_dc < c->chg_ut_on_dc) {
            p->chg_ut = true;
        } else if (p->chg_ut && in->min_t_dc >= c->chg_ut_off_dc) {
            p->chg_ut = false;
        }
    }
    if (in->have_r) {
        if (!p->res_ot && in->max_r_dc > c->res_ot_on_dc) {
            p->res_ot = true;
        } else if (p->res_ot && in->max_r_dc <= c->res_ot_off_dc) {
            p->res_ot = false;
        }
    }
}

static void update_latches(gw_bal_prot_t *p, const gw_bal_prot_input_t *in)
{
    const gw_bal_prot_cfg_t *c = &p->cfg;
    p->read_fault |= (uint8_t)(in->read_fault_now & (GW_BAL_RF_VOLT | GW_BAL_RF_TEMP | GW_BAL_RF_RES));
    if (in->have_v && in->min_mv < c->alarm_low_mv) {
        p->uv_alarm = true;
    }
    if (in->have_v && in->max_mv > c->alarm_high_mv) {
        p->ov_alarm = true;
    }
    if (in->have_t && in->max_t_dc > c->cell_ot_alarm_dc) {
        p->ot_alarm = true;
    }
}

static void drive_outputs(gw_bal_prot_t *p, const gw_bal_prot_input_t *in, uint64_t now_ms)
{
    bool latched = gw_bal_prot_latched(p);
    if (latched && !p->alarmed) {
        p->alarm_since_ms = now_ms;
    }
    p->alarmed = latched;

    bool ready = in->complete && p->volt_init;
    p->out.discharge = ready && p->dis_volt_ok && !p->cell_ot && !latched;
    p->out.charge = ready && p->chg_volt_ok && !p->cell_ot && !p->res_ot && !p->chg_ut && !latched;
    p->out.alarm = latched;
    p->out.led = latched;
    p->out.buzzer = beep_on_at(p, now_ms);
}

void gw_bal_prot_eval(gw_bal_prot_t *p, const gw_bal_prot_input_t *in, uint64_t now_ms)
{
    if (in != &p->last) {
        p->last = *in;
    }
    if (in->complete) {
        update_volt_states(p, in);
    }
    update_temp_trips(p, in);
    update_latches(p, in);
    drive_outputs(p, in, now_ms);
}

void gw_bal_prot_tick(gw_bal_prot_t *p, uint64_t now_ms)
{
    gw_bal_prot_eval(p, &p->last, now_ms);
}

bool gw_bal_prot_ack(gw_bal_prot_t *p, uint64_t now_ms)
{
    const gw_bal_prot_input_t *in = &p->last;
    const gw_bal_prot_cfg_t *c = &p->cfg;
    p->acks++;
    p->read_fault &= in->read_fault_now;
    /* Without a valid reading the cause cannot be shown to be gone. */
    if (p->uv_alarm && in->have_v && in->min_mv >= c->alarm_low_mv) {
        p->uv_alarm = false;
    }
    if (p->ov_alarm && in->have_v && in->max_mv <= c->alarm_high_mv) {
        p->ov_alarm = false;
    }
    if (p->ot_alarm && in->have_t && in->max_t_dc <= c->cell_ot_alarm_dc) {
        p->ot_alarm = false;
    }
    bool cleared = !gw_bal_prot_latched(p);
    if (!cleared) {
        p->acks_refused++;
    }
    gw_bal_prot_tick(p, now_ms);
    return cleared;
}

uint64_t gw_bal_prot_next_deadline(const gw_bal_prot_t *p, uint64_t now_ms)
{
    if (!p->cfg.buzzer_enabled) {
        return UINT64_MAX;
    }
    if (now_ms >= p->start_ms && now_ms - p->start_ms < STARTUP_BEEP_MS) {
        return p->start_ms + STARTUP_BEEP_MS;
    }
    if (!p->alarmed || now_ms < p->alarm_since_ms) {
        return UINT64_MAX;
    }
    static const uint32_t edges[] = { BEEP_ON_MS, BEEP_ON_MS + BEEP_GAP_MS,
                                      2 * BEEP_ON_MS + BEEP_GAP_MS };
    uint64_t since = now_ms - p->alarm_since_ms;
    uint64_t cycle_start = now_ms - since % p->cfg.buzzer_period_ms;
    uint64_t phase = since % p->cfg.buzzer_period_ms;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        if (phase < edges[i]) {
            return cycle_start + edges[i];
        }
    }
    return cycle_start + p->cfg.buzzer_period_ms;
}
