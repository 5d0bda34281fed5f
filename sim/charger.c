/* SPDX-License-Identifier: MIT */
/* Victron-like system under DVCC (solar chargers, Multi, GX); see charger.h.
 *
 * It decodes 0x351 with its own code (never the firmware's encoder or the
 * harness monitor), so a byte-order or scaling bug in the gateway shows up
 * as wrong charger behaviour instead of cancelling out. */
#include "sim/charger.h"

#include <math.h>
#include <string.h>

#define VICTRON_ID_LIMITS 0x351u
#define LIMITS_MIN_DLC 6u
#define STOP_AFTER_DEFAULT_US 3000000u
#define APPLY_PERIOD_DEFAULT_US 3000000u
#define DUMP_MAX_DEFAULT_A 50.0
#define DUMP_MARGIN_DEFAULT_V 0.05
#define FIRST_STEP_S 1.0 /* the GX loop period, assumed for the first call */

static uint16_t get_u16_le(const uint8_t *d)
{
    return (uint16_t)(d[0] | (d[1] << 8));
}

static int16_t get_s16_le(const uint8_t *d)
{
    uint16_t u = get_u16_le(d);
    /* Two's complement without relying on implementation-defined casts. */
    return u >= 0x8000u ? (int16_t)(-(int32_t)(0x10000u - u)) : (int16_t)u;
}

void sim_charger_init(sim_charger_t *c)
{
    memset(c, 0, sizeof(*c));
    c->stop_after_us = STOP_AFTER_DEFAULT_US;
    c->apply_period_us = APPLY_PERIOD_DEFAULT_US;
    c->dump_max_a = DUMP_MAX_DEFAULT_A;
    c->dump_margin_v = DUMP_MARGIN_DEFAULT_V;
}

void sim_charger_on_frame(sim_charger_t *c, const sim_can_frame_t *f, uint64_t t_us)
{
    if (f == NULL || (f->id & SIM_CAN_EFF_FLAG) || f->id != VICTRON_ID_LIMITS) {
        return;
    }
    if (f->dlc < LIMITS_MIN_DLC || f->dlc > 8) {
        return; /* short (or invalid) frame: a GX ignores it too */
    }
    c->cvl_v = get_u16_le(&f->data[0]) * 0.1;
    double ccl = get_s16_le(&f->data[2]) * 0.1;
    double dcl = get_s16_le(&f->data[4]) * 0.1;
    /* A negative limit cannot mean "push the other way"; treat it as 0. */
    c->ccl_a = ccl > 0 ? ccl : 0.0;
    c->dcl_a = dcl > 0 ? dcl : 0.0;
    c->have_limits = true;
    c->last_351_us = t_us;
    c->frames_351++;
}

static double min2(double a, double b)
{
    return a < b ? a : b;
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

/* Lost BMS (or none yet): every device stops; the next fresh limits are
 * written at once, and the filters start again from nothing flowing. */
static double stop_all(sim_charger_t *c)
{
    c->active = false;
    c->applied = false;
    c->inverting = false;
    c->dumping = false;
    c->current_a = 0.0;
    c->solar_a = 0.0;
    c->multi_a = 0.0;
    c->solar_smooth_a = 0.0;
    c->multi_smooth_a = 0.0;
    return 0.0;
}

/* The GX writes the devices: the CCL split of A.8 steps 4, 5 and 7. */
static void apply_limits(sim_charger_t *c, uint64_t now_us)
{
    c->applied = true;
    c->last_apply_us = now_us;
    c->applies++;
    c->applied_cvl_v = c->cvl_v;
    c->applied_ccl_a = c->ccl_a;
    c->applied_dcl_a = c->dcl_a;
    double multi_draw_a = max2(0.0, -c->multi_smooth_a);
    c->solar_limit_a = c->applied_ccl_a + multi_draw_a;
    c->multi_limit_a = max2(0.0, round(c->applied_ccl_a - c->solar_smooth_a));
}

/* Charge direction: what the sources give beyond the loads, capped by CCL and
 * by the current that puts the bus exactly at CVL. */
static double charge_current(const sim_charger_t *c, const sim_bank_t *b, double net_a)
{
    double ocv_v, r_ohm;
    if (!sim_bank_thevenin(b, true, &ocv_v, &r_ohm)) {
        return 0.0;
    }
    double i_cv_a = (c->applied_cvl_v - ocv_v) / r_ohm;
    return min2(min2(net_a, c->applied_ccl_a), max2(i_cv_a, 0.0));
}

/* A CVL below the bank: the Multi pulls the bus down to it (negative), or 0. */
static double dump_current(sim_charger_t *c, const sim_bank_t *b)
{
    double ocv_v, r_ohm;
    if (!c->inverting || !sim_bank_thevenin(b, false, &ocv_v, &r_ohm) ||
        ocv_v <= c->applied_cvl_v + c->dump_margin_v) {
        return 0.0;
    }
    return -min2((ocv_v - c->applied_cvl_v) / r_ohm, c->dump_max_a);
}

static void smooth(sim_charger_t *c, uint64_t now_us)
{
    double dt_s = c->decided && now_us > c->last_decide_us
                      ? (double)(now_us - c->last_decide_us) / 1e6
                      : FIRST_STEP_S;
    double ks = 1.0 - pow(1.0 - SIM_CHARGER_SOLAR_FILTER, dt_s);
    double km = 1.0 - pow(1.0 - SIM_CHARGER_MULTI_FILTER, dt_s);
    c->solar_smooth_a += ks * (c->solar_a - c->solar_smooth_a);
    c->multi_smooth_a += km * (c->multi_a - c->multi_smooth_a);
}

double sim_charger_decide(sim_charger_t *c, const sim_bank_t *b, uint64_t now_us)
{
    uint64_t age_us = now_us > c->last_351_us ? now_us - c->last_351_us : 0;
    if (!c->have_limits || age_us > c->stop_after_us) {
        c->decided = false;
        return stop_all(c);
    }
    c->active = true;
    if (!c->applied || now_us - c->last_apply_us >= c->apply_period_us ||
        now_us < c->last_apply_us) {
        apply_limits(c, now_us);
    }
    c->inverting = c->applied_dcl_a > 0;
    double solar_avail_a = min2(max2(c->charge_avail_a, 0.0), c->solar_limit_a);
    double multi_avail_a = min2(max2(c->multi_charge_a, 0.0), c->multi_limit_a);
    double draw_a = c->inverting ? max2(c->load_a, 0.0) : 0.0;
    double net_a = solar_avail_a + multi_avail_a - draw_a;
    double ocv_v, r_ohm;
    double i_a;
    if (net_a >= 0) {
        i_a = charge_current(c, b, net_a);
    } else if (sim_bank_thevenin(b, false, &ocv_v, &r_ohm)) {
        i_a = -min2(-net_a, c->applied_dcl_a);
    } else {
        i_a = 0.0; /* no pack can discharge: the loads go unserved */
    }
    /* The sources are curtailed to what the battery and loads take: PV first,
     * the Multi carries the difference (charge positive). */
    c->solar_a = min2(solar_avail_a, max2(i_a + draw_a, 0.0));
    double dump_a = dump_current(c, b);
    c->dumping = dump_a < 0.0 && dump_a < i_a;
    if (c->dumping) {
        /* The bus sits above the chargers' target: they stop, the Multi feeds in. */
        i_a = dump_a;
        c->solar_a = 0.0;
    }
    c->multi_a = i_a - c->solar_a;
    c->current_a = i_a;
    smooth(c, now_us);
    c->last_decide_us = now_us;
    c->decided = true;
    return i_a;
}
