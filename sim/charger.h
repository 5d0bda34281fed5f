/* SPDX-License-Identifier: MIT */
/* A Victron system under DVCC, seen from the battery: solar chargers (PV),
 * a Multi (inverter/charger) that feeds AC loads from the DC bus and may
 * charge from AC, and a GX that writes the limits of the last 0x351 to them.
 * It follows victron_canbms.md A.8, A.10 and A.11:
 *
 * - The GX loop runs every second but writes limits to the devices only every
 *   apply_period_us (3 s); between writes the devices keep the old limits.
 * - The solar current and the Multi's DC current are smoothed by first-order
 *   filters (factor 2*pi/20 and 2*pi/30 per second). The CCL is split from the
 *   smoothed values: solar chargers get CCL plus what the Multi draws from the
 *   DC bus (so PV can feed AC loads even at CCL 0); the Multi gets
 *   max(0, round(CCL - smoothed solar current)) for its own AC charging.
 * - The battery's net charge current never exceeds CCL, the bus voltage never
 *   rises above CVL, and the discharge never exceeds DCL. DCL 0 stops the
 *   inverter (its AC loads are dropped).
 * - A CVL below the bank's open-circuit voltage makes the Multi discharge the
 *   bank toward CVL (feeding in, up to dump_max_a) even when nothing draws:
 *   the pitfall of A.11.2. Only DCL 0 stops that.
 * - Before the first 0x351, and when 0x351 has been absent for stop_after_us
 *   (3 s), it neither charges nor discharges.
 * It decodes 0x351 itself (its own decoder, like a GX has its own).
 * sim_charger_decide is meant to be called once per second (the GX loop);
 * the filters scale with the real elapsed time between calls. */
#ifndef SIM_CHARGER_H
#define SIM_CHARGER_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/battery.h"
#include "sim/canbus.h"

#define SIM_CHARGER_SOLAR_FILTER (2.0 * 3.14159265358979323846 / 20.0) /* per second */
#define SIM_CHARGER_MULTI_FILTER (2.0 * 3.14159265358979323846 / 30.0) /* per second */

typedef struct sim_charger {
    /* settings (scenario; init sets defaults) */
    double charge_avail_a;   /* what the solar chargers (PV) could push now */
    double load_a;           /* AC loads the Multi's inverter feeds from the DC bus */
    double multi_charge_a;   /* what the Multi could charge from its AC input, default 0 */
    double dump_max_a;       /* most the Multi discharges toward a CVL below the bank, default 50 */
    double dump_margin_v;    /* bank OCV above CVL before it does, default 0.05 V */
    uint64_t stop_after_us;  /* default 3 s */
    uint64_t apply_period_us;/* limit writes to the devices, default 3 s */
    /* state: the last 0x351 received (read-only) */
    bool have_limits;
    uint64_t last_351_us;
    double cvl_v, ccl_a, dcl_a;
    uint64_t frames_351;
    /* state: what the devices run with (read-only) */
    bool applied;            /* limits written since the last (re)start */
    uint64_t last_apply_us;
    uint64_t applies;        /* number of writes */
    double applied_cvl_v, applied_ccl_a, applied_dcl_a;
    double solar_limit_a;    /* written to the solar chargers */
    double multi_limit_a;    /* written to the Multi (its AC charge current) */
    /* state: this step (read-only) */
    bool active;             /* obeying fresh limits */
    bool inverting;          /* inverter on (off while DCL is 0 or the BMS is lost) */
    bool dumping;            /* discharging toward a CVL below the bank */
    double current_a;        /* last decided battery current, charge positive */
    double solar_a;          /* solar chargers' output */
    double multi_a;          /* Multi DC current, charge positive (inverting negative) */
    double solar_smooth_a, multi_smooth_a; /* the GX's filtered values */
    uint64_t last_decide_us;
    bool decided;
} sim_charger_t;

void sim_charger_init(sim_charger_t *c);
/* Feed every frame seen on the Victron bus. */
void sim_charger_on_frame(sim_charger_t *c, const sim_can_frame_t *f, uint64_t t_us);
/* Decide the battery current for the next step (charge positive). */
double sim_charger_decide(sim_charger_t *c, const sim_bank_t *b, uint64_t now_us);

#endif
