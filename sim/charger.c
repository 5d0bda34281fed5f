/* SPDX-License-Identifier: MIT */
/* Victron-like charger/inverter under DVCC; see charger.h.
 *
 * It decodes 0x351 with its own code (never the firmware's encoder or the
 * harness monitor), so a byte-order or scaling bug in the gateway shows up
 * as wrong charger behaviour instead of cancelling out. */
#include "sim/charger.h"

#include <string.h>

#define VICTRON_ID_LIMITS 0x351u
#define LIMITS_MIN_DLC 6u
#define STOP_AFTER_DEFAULT_US 3000000u

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

double sim_charger_decide(sim_charger_t *c, const sim_bank_t *b, uint64_t now_us)
{
    uint64_t age_us = now_us > c->last_351_us ? now_us - c->last_351_us : 0;
    if (!c->have_limits || age_us > c->stop_after_us) {
        c->active = false;
        c->current_a = 0.0;
        return 0.0;
    }
    double net_a = c->charge_avail_a - c->load_a;
    double ocv_v, r_ohm;
    double i_a = 0.0;
    if (net_a >= 0) {
        if (sim_bank_thevenin(b, true, &ocv_v, &r_ohm)) {
            /* The current that puts the bus exactly at CVL. */
            double i_cv = (c->cvl_v - ocv_v) / r_ohm;
            i_a = min2(min2(net_a, c->ccl_a), i_cv > 0 ? i_cv : 0.0);
        }
    } else if (sim_bank_thevenin(b, false, &ocv_v, &r_ohm)) {
        i_a = -min2(-net_a, c->dcl_a);
    }
    c->active = true;
    c->current_a = i_a;
    return i_a;
}
