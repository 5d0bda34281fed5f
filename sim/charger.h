/* SPDX-License-Identifier: MIT */
/* A Victron system under DVCC, seen from the battery: a charger (PV or
 * mains) and a load (inverter) that obey the limits of the last 0x351.
 *
 * - charge current never above CCL, bank voltage never above CVL (it backs
 *   off to the current that holds CVL), discharge never above DCL;
 * - before the first 0x351, and when 0x351 has been absent for
 *   stop_after_us (3 s), it neither charges nor discharges.
 * It decodes 0x351 itself (its own decoder, like a GX has its own). */
#ifndef SIM_CHARGER_H
#define SIM_CHARGER_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/battery.h"
#include "sim/canbus.h"

typedef struct sim_charger {
    /* settings (scenario) */
    double charge_avail_a;  /* what the charger/PV could push */
    double load_a;          /* what the loads draw from the DC bus */
    uint64_t stop_after_us; /* default 3 s */
    /* state (read-only) */
    bool have_limits;
    uint64_t last_351_us;
    double cvl_v, ccl_a, dcl_a;
    bool active;            /* obeying fresh limits */
    double current_a;       /* last decided battery current, charge positive */
    uint64_t frames_351;
} sim_charger_t;

void sim_charger_init(sim_charger_t *c);
/* Feed every frame seen on the Victron bus. */
void sim_charger_on_frame(sim_charger_t *c, const sim_can_frame_t *f, uint64_t t_us);
/* Decide the battery current for the next step. */
double sim_charger_decide(sim_charger_t *c, const sim_bank_t *b, uint64_t now_us);

#endif
