/* SPDX-License-Identifier: MIT */
/* Balancer-bus BMS protection (superb_balancer.md B.9): charge/discharge relay
 * hysteresis, self-clearing temperature trips, latching alarms and their
 * acknowledgement, alarm relay, LED and buzzer. Pure logic: the caller hands
 * in the extremes of the latest readings and the time. */
#ifndef GW_BALANCER_PROTECT_H
#define GW_BALANCER_PROTECT_H

#include <stdbool.h>
#include <stdint.h>

/* Thresholds. Defaults are main.py 0.99.19 (B.9) except where noted.
 * Temperatures in 0.1 degC (_dc), the balancers report whole degC. */
typedef struct gw_bal_prot_cfg {
    uint16_t dis_off_mv;      /* sp_min_aus: discharge off when lowest cell < this, 3050 */
    uint16_t dis_on_mv;       /* sp_min_ein: back on when lowest cell >= this, 3250 */
    uint16_t chg_off_mv;      /* sp_max_aus: charge off when highest cell > this, 3700 */
    uint16_t chg_on_mv;       /* sp_max_ein: back on when highest cell <= this, 3650 */
    uint16_t alarm_low_mv;    /* sp_min_al: latching alarm when lowest cell < this, 2950 */
    uint16_t alarm_high_mv;   /* sp_max_al: latching alarm when highest cell > this, 3750 */
    int16_t cell_ot_on_dc;    /* ta_max_al_ein: both relays off when hottest cell > this, 500 */
    int16_t cell_ot_off_dc;   /* ta_max_al_aus: clears when hottest cell <= this, 450 */
    int16_t cell_ot_alarm_dc; /* ta_max_al: latching alarm when hottest cell > this, 600 */
    int16_t res_ot_on_dc;     /* tr_max_al_ein: charge off when hottest resistor > this, 900 */
    int16_t res_ot_off_dc;    /* tr_max_al_aus: clears when hottest resistor <= this, 600 */
    int16_t chg_ut_on_dc;     /* t_unter: charge off when coldest cell < this. Default 0
                                 (0.99.09), not -10 (0.99.19): LFP must not be charged
                                 below 0 degC (lithium plating). */
    int16_t chg_ut_off_dc;    /* clears when coldest cell >= this. Default 20 (+2 degC):
                                 the seed had no hysteresis and would chatter the relay
                                 on a reading that dithers by 1 degC. */
    bool buzzer_enabled;      /* ton_ein, default true */
    uint32_t buzzer_period_ms;/* the double beep repeats every period while alarmed, 2000 */
} gw_bal_prot_cfg_t;

void gw_bal_prot_cfg_default(gw_bal_prot_cfg_t *cfg);

/* What the driver knows now. Extremes are over cells with a valid reading. */
typedef struct gw_bal_prot_input {
    bool complete;        /* every cell's voltage, cell temp and resistor temp read once */
    bool have_v, have_t, have_r; /* at least one valid reading of that quantity */
    uint16_t min_mv, max_mv;
    int16_t min_t_dc, max_t_dc;
    int16_t max_r_dc;
    uint8_t read_fault_now; /* bit per quantity (1 voltage, 2 cell temp, 4 resistor): some cell
                               has failed that read N times in a row and not read well since */
} gw_bal_prot_input_t;

#define GW_BAL_RF_VOLT 0x01u
#define GW_BAL_RF_TEMP 0x02u
#define GW_BAL_RF_RES 0x04u

typedef struct gw_bal_outputs {
    bool charge;    /* charge relay closed = charging allowed (R2) */
    bool discharge; /* discharge relay closed = discharging allowed (R1) */
    bool alarm;     /* alarm relay closed (R3): any latched fault */
    bool buzzer;    /* buzzer on right now (pattern) */
    bool led;       /* red alarm LED on: any latched fault */
} gw_bal_outputs_t;

typedef struct gw_bal_prot {
    gw_bal_prot_cfg_t cfg;      /* from init */
    gw_bal_outputs_t out;       /* read-only: what the outputs must be now */
    /* read-only state, for logs and tests */
    bool volt_init;             /* hysteresis states taken from the first complete reading */
    bool dis_volt_ok;           /* lowest-cell state machine (rel1 before overrides) */
    bool chg_volt_ok;           /* highest-cell state machine (rel2 before overrides) */
    bool cell_ot;               /* self-clearing trips */
    bool res_ot;
    bool chg_ut;
    uint8_t read_fault;         /* latched, GW_BAL_RF_* bits */
    bool uv_alarm;              /* latched extreme alarms */
    bool ov_alarm;
    bool ot_alarm;
    uint32_t acks;              /* acknowledgements received */
    uint32_t acks_refused;      /* acknowledgements that left something latched (cause persists) */
    /* private */
    gw_bal_prot_input_t last;
    uint64_t start_ms;
    uint64_t alarm_since_ms;
    bool alarmed;
} gw_bal_prot_t;

/* Copies cfg (NULL = defaults). All relays open; a 20 ms start-up beep. */
void gw_bal_prot_init(gw_bal_prot_t *p, const gw_bal_prot_cfg_t *cfg, uint64_t now_ms);

/* Re-evaluate with new readings (B.9 order), update out. Rules:
 *  - Nothing closes until in->complete (the seed closed R2 before any cell was read).
 *  - Voltage state machines start from the first complete reading: ok unless in
 *    the trip region. Then: discharge off < dis_off_mv, on >= dis_on_mv; charge
 *    off > chg_off_mv, on <= chg_on_mv. Other trips do not reset them (the seed's
 *    did: after a temperature trip R1 waited for 3.25 V; here it returns at once).
 *  - cell_ot (hottest > on, clears <= off): both off. res_ot: charge off.
 *    chg_ut (coldest < on, clears >= off): charge off.
 *  - Latching: read faults (in->read_fault_now), uv_alarm (lowest < alarm_low_mv,
 *    any valid reading: the seed's "> 2 V" guard only hid unread cells, which are
 *    not valid here), ov_alarm (highest > alarm_high_mv), ot_alarm (hottest >
 *    cell_ot_alarm_dc). Any latched: both relays off, alarm relay and LED on,
 *    buzzer double beep (50 on, 200 off, 50 on) every buzzer_period_ms. */
void gw_bal_prot_eval(gw_bal_prot_t *p, const gw_bal_prot_input_t *in, uint64_t now_ms);

/* Time only (buzzer pattern): re-evaluate the last input at now_ms. */
void gw_bal_prot_tick(gw_bal_prot_t *p, uint64_t now_ms);

/* Button press or command: clear each latched item whose cause is gone in the
 * last input (read fault bit no longer in read_fault_now; lowest >= alarm_low;
 * highest <= alarm_high; hottest <= cell_ot_alarm). An item whose cause persists
 * stays latched. Returns true when nothing is latched afterwards. */
bool gw_bal_prot_ack(gw_bal_prot_t *p, uint64_t now_ms);

/* Any latched fault or alarm. */
bool gw_bal_prot_latched(const gw_bal_prot_t *p);

/* Next time (ms) the outputs change by time alone (buzzer edges); UINT64_MAX if none. */
uint64_t gw_bal_prot_next_deadline(const gw_bal_prot_t *p, uint64_t now_ms);

#endif
