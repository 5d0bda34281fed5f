/* SPDX-License-Identifier: MIT */
/* The signal table and how each signal is read from the world. */
#include "harness/signals.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "harness/runner.h"

/* One X-macro keeps the enum, the names and the help text in step. */
#define BENCH_ALARM_SIGNALS(P, K)                                                          \
    X(P##_general, K " general")                                                           \
    X(P##_high_voltage, K " battery high voltage")                                         \
    X(P##_low_voltage, K " battery low voltage")                                           \
    X(P##_high_temperature, K " high temperature")                                         \
    X(P##_low_temperature, K " low temperature")                                           \
    X(P##_high_temperature_charge, K " high temperature while charging")                   \
    X(P##_low_temperature_charge, K " low temperature while charging")                     \
    X(P##_high_discharge_current, K " high discharge current")                             \
    X(P##_high_charge_current, K " high charge current")                                   \
    X(P##_contactor, K " contactor")                                                       \
    X(P##_short_circuit, K " short circuit")                                               \
    X(P##_bms_internal, K " BMS internal")                                                 \
    X(P##_cell_imbalance, K " cell imbalance")

#define BENCH_SIGNALS                                                                      \
    X(t, "seconds since the start of the run")                                             \
    X(cvl_v, "GX: charge voltage limit from 0x351")                                        \
    X(ccl_a, "GX: charge current limit from 0x351")                                        \
    X(dcl_a, "GX: discharge current limit from 0x351")                                     \
    X(dvl_v, "GX: discharge voltage limit from 0x351")                                     \
    X(soc_pct, "GX: state of charge from 0x355")                                           \
    X(soh_pct, "GX: state of health from 0x355")                                           \
    X(voltage_v, "GX: battery voltage from 0x356")                                         \
    X(current_a, "GX: battery current from 0x356 (charge positive)")                       \
    X(temperature_c, "GX: battery temperature from 0x356")                                 \
    X(charge_enable, "GX: 0x35C charge enable bit")                                        \
    X(discharge_enable, "GX: 0x35C discharge enable bit")                                  \
    X(modules_online, "GX: 0x372 modules online")                                          \
    X(modules_offline, "GX: 0x372 modules offline")                                        \
    X(modules_blocking_charge, "GX: 0x372 modules blocking charge")                        \
    X(modules_blocking_discharge, "GX: 0x372 modules blocking discharge")                  \
    X(min_cell_v, "GX: 0x373 lowest cell voltage")                                         \
    X(max_cell_v, "GX: 0x373 highest cell voltage")                                        \
    X(min_temp_c, "GX: 0x373 lowest cell temperature")                                     \
    X(max_temp_c, "GX: 0x373 highest cell temperature")                                    \
    X(installed_ah, "GX: 0x379 installed capacity")                                        \
    X(gx_351_age_s, "GX: seconds since the last 0x351 (since start before the first)")     \
    X(gx_frames_351, "GX: number of 0x351 frames seen")                                    \
    X(gx_malformed, "GX: frames too short for their id")                                   \
    X(gx_reserved_pairs, "GX: 0x35A pairs carrying the reserved value 3")                  \
    BENCH_ALARM_SIGNALS(alarm, "GX: 0x35A alarm")                                          \
    BENCH_ALARM_SIGNALS(warning, "GX: 0x35A warning")                                      \
    X(bank_voltage_v, "sim: bank bus voltage")                                             \
    X(bank_current_a, "sim: bank current (charge positive)")                               \
    X(bank_soc_pct, "sim: bank state of charge, capacity weighted")                        \
    X(cell_max_v, "sim: highest cell voltage of any connected pack")                       \
    X(cell_min_v, "sim: lowest cell voltage of any connected pack")                        \
    X(cell_temp_max_c, "sim: highest cell temperature")                                    \
    X(cell_temp_min_c, "sim: lowest cell temperature")                                     \
    X(charger_active, "sim: 1 while the charger/inverter obeys fresh limits")              \
    X(charger_a, "sim: charge current available (scenario setting)")                       \
    X(load_a, "sim: load current (scenario setting)")                                      \
    X(ov_for_s, "sim: seconds the highest cell has been at or above 3.65 V")               \
    X(uv_for_s, "sim: seconds the lowest cell has been at or below 2.50 V")                \
    X(cold_for_s, "sim: seconds the coldest cell has been below 0 degC")                   \
    X(gw_packs_online, "gateway: packs online")                                            \
    X(gw_packs_present, "gateway: packs found by the scan")                                \
    X(gw_scan_done, "gateway: 1 once the first address scan finished")                     \
    X(gw_bad_frames, "gateway: BMS frames dropped (checksum, framing, address)")            \
    X(gw_bad_checksum, "gateway: BMS frames with a bad checksum or CRC")                   \
    X(gw_timeouts, "gateway: BMS requests without a reply")                                \
    X(gw_replies_ok, "gateway: good BMS replies")                                          \
    X(gw_refusals, "gateway: BMS refusals (Topband RTN errors, TinyBMS NACKs, SDO aborts)")  \
    X(gw_bms_reboots, "gateway: BMS restarts noticed")                                     \
    X(gw_names_read, "gateway: SuperB device names (0x1008, segmented) read")              \
    X(bms_nacks_sent, "sim: NACKs the TinyBMS has sent")                                   \
    X(cvl_state, "gateway: charge-voltage state (bulk, transition, float_approach, float, imbalance_hold)") \
    X(cvl_transitions, "gateway: charge-voltage state changes so far")                     \
    X(packs_charge_off, "sim: packs whose own BMS has opened the charge switch")           \
    X(packs_discharge_off, "sim: packs whose own BMS has opened the discharge switch")     \
    X(cell_spread_mv, "sim: highest minus lowest cell voltage")                            \
    X(bms_asleep, "sim: 1 while the TinyBMS sleeps")                                       \
    X(relay_charge, "gateway output: charge relay closed (1)")                             \
    X(relay_discharge, "gateway output: discharge relay closed (1)")                       \
    X(relay_alarm, "gateway output: alarm relay closed (1)")                               \
    X(buzzer, "gateway output: buzzer sounding (1)")                                       \
    X(bal_latched, "gateway (balancer): latched faults and alarms (read fault, extreme alarms)") \
    X(bal_read_faults, "gateway (balancer): read faults latched so far")                   \
    X(bal_acks_refused, "gateway (balancer): acknowledgements refused (cause persists)")   \
    X(res_temp_max_c, "sim (balancer): hottest load resistor")                             \
    X(balancing_cells, "sim (balancer): modules bleeding right now")                       \
    X(rs485_collisions, "sim: characters corrupted by collisions on the BMS line")         \
    X(can_load_pct, "sim: mean CAN bus load")                                          \
    X(gx_ccl_changes, "GX: frame sets whose CCL differs from the set before")              \
    X(gx_dcl_changes, "GX: frame sets whose DCL differs from the set before")              \
    X(gx_35c_mismatch, "GX: frame sets whose 0x35C enable bits disagree with CCL/DCL > 0") \
    X(gx_ccl_rise_blocked, "GX: frame sets whose CCL rose under a charge-blocking alarm")  \
    X(gx_dcl_rise_blocked, "GX: frame sets whose DCL rose under a discharge-blocking alarm") \
    X(cvl_max_allowed_v, "gateway: cells of the smallest pack x the absolute cell maximum") \
    X(dvcc_state, "gateway: DVCC engine charge state (starting, bulk, absorption, float, imbalance_hold, no_data)") \
    X(dvcc_transitions, "gateway: DVCC engine charge-state changes so far")

enum {
#define X(n, h) SIG_##n,
    BENCH_SIGNALS
#undef X
    SIG_COUNT
};

const bench_signal_def_t bench_signal_defs[] = {
#define X(n, h) {#n, h},
    BENCH_SIGNALS
#undef X
    {NULL, NULL}};

static const char *const names_table[] = {
#define X(n, h) #n,
    BENCH_SIGNALS
#undef X
    NULL};

const char *const *bench_signal_names = names_table;

int bench_signal_count(void)
{
    return SIG_COUNT;
}

int bench_signal_resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (int i = 0; i < SIG_COUNT; i++) {
        if (strlen(names_table[i]) == len && memcmp(names_table[i], name, len) == 0) {
            return i;
        }
    }
    return -1;
}

static unsigned reserved_pairs(const bench_gx_t *gx)
{
    unsigned n = 0;
    for (int i = 0; i < BENCH_GX_ALARMS; i++) {
        n += gx->alarm[i] == 3;
        n += gx->warning[i] == 3;
    }
    return n;
}

/* The engine's states as the expression words give them (harness/expr.c):
 * bulk, float and imbalance_hold share their values with cvl_state's words,
 * so one word means one state whichever signal it is compared with; the
 * engine-only states take values of their own. */
static double dvcc_state_word(gw_chg_state_t st)
{
    switch (st) {
    case GW_CHG_BULK:
        return 0.0;
    case GW_CHG_FLOAT:
        return 3.0;
    case GW_CHG_IMBALANCE_HOLD:
        return 4.0;
    case GW_CHG_ABSORPTION:
        return 5.0;
    case GW_CHG_NO_DATA:
        return 6.0;
    case GW_CHG_STARTING:
        return 7.0;
    }
    return NAN;
}

void bench_signals_sample(struct bench_world *w, double *out)
{
    const bench_gx_t *gx = &w->gx;
    double now_s = (double)w->sched.now_us / 1e6;

    out[SIG_t] = now_s;
    out[SIG_cvl_v] = gx->cvl_v;
    out[SIG_ccl_a] = gx->ccl_a;
    out[SIG_dcl_a] = gx->dcl_a;
    out[SIG_dvl_v] = gx->dvl_v;
    out[SIG_soc_pct] = gx->soc_pct;
    out[SIG_soh_pct] = gx->soh_pct;
    out[SIG_voltage_v] = gx->voltage_v;
    out[SIG_current_a] = gx->current_a;
    out[SIG_temperature_c] = gx->temperature_c;
    out[SIG_charge_enable] = (gx->request_flags >> 7) & 1;
    out[SIG_discharge_enable] = (gx->request_flags >> 6) & 1;
    out[SIG_modules_online] = gx->modules_online;
    out[SIG_modules_offline] = gx->modules_offline;
    out[SIG_modules_blocking_charge] = gx->modules_blocking_charge;
    out[SIG_modules_blocking_discharge] = gx->modules_blocking_discharge;
    out[SIG_min_cell_v] = gx->min_cell_v;
    out[SIG_max_cell_v] = gx->max_cell_v;
    out[SIG_min_temp_c] = gx->min_temp_c;
    out[SIG_max_temp_c] = gx->max_temp_c;
    out[SIG_installed_ah] = gx->installed_ah;
    out[SIG_gx_351_age_s] =
        gx->seen_351 ? (double)(w->sched.now_us - gx->last_351_us) / 1e6 : now_s;
    out[SIG_gx_frames_351] = gx->count_by_id[0x351];
    out[SIG_gx_malformed] = (double)gx->frames_malformed;
    out[SIG_gx_reserved_pairs] = reserved_pairs(gx);
    for (int i = 0; i < BENCH_GX_ALARMS; i++) {
        out[SIG_alarm_general + i] = gx->alarm[i];
        out[SIG_warning_general + i] = gx->warning[i];
    }
    /* What the GX has not been told is unknown, not zero: NaN makes every
     * comparison false, so "min_cell_v <= 2.5" does not fire before the
     * first 0x373 arrives. */
    static const struct { uint32_t id; int first, last; } groups[] = {
        {0x351, SIG_cvl_v, SIG_dvl_v},
        {0x355, SIG_soc_pct, SIG_soh_pct},
        {0x356, SIG_voltage_v, SIG_temperature_c},
        {0x35C, SIG_charge_enable, SIG_discharge_enable},
        {0x372, SIG_modules_online, SIG_modules_blocking_discharge},
        {0x373, SIG_min_cell_v, SIG_max_temp_c},
        {0x379, SIG_installed_ah, SIG_installed_ah},
        {0x35A, SIG_alarm_general, SIG_warning_cell_imbalance},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (gx->count_by_id[groups[g].id] == 0) {
            for (int i = groups[g].first; i <= groups[g].last; i++) {
                out[i] = NAN;
            }
        }
    }

    double vmin, vmax, tmin, tmax;
    sim_bank_cell_extremes(&w->bank, &vmin, &vmax, &tmin, &tmax);
    out[SIG_bank_voltage_v] = w->bank.voltage_v;
    out[SIG_bank_current_a] = w->bank.current_a;
    out[SIG_bank_soc_pct] = sim_bank_soc(&w->bank) * 100.0;
    out[SIG_cell_max_v] = vmax;
    out[SIG_cell_min_v] = vmin;
    out[SIG_cell_temp_max_c] = tmax;
    out[SIG_cell_temp_min_c] = tmin;
    out[SIG_charger_active] = w->charger.active;
    out[SIG_charger_a] = w->charger.charge_avail_a;
    out[SIG_load_a] = w->charger.load_a;

    /* How long a hazard has lasted: the invariants allow the gateway a
     * reaction time (one poll round plus one CAN period), not forever. */
    w->ov_since_s = vmax >= 3.65 ? (w->ov_since_s < 0 ? now_s : w->ov_since_s) : -1;
    w->uv_since_s = vmin <= 2.50 ? (w->uv_since_s < 0 ? now_s : w->uv_since_s) : -1;
    w->cold_since_s = tmin < 0.0 ? (w->cold_since_s < 0 ? now_s : w->cold_since_s) : -1;
    out[SIG_ov_for_s] = w->ov_since_s < 0 ? 0 : now_s - w->ov_since_s;
    out[SIG_uv_for_s] = w->uv_since_s < 0 ? 0 : now_s - w->uv_since_s;
    out[SIG_cold_for_s] = w->cold_since_s < 0 ? 0 : now_s - w->cold_since_s;

    const gw_bank_t *b = &w->gw.bank;
    gw_bms_counters_t st;
    gateway_bms_counters(&w->gw, &st);
    out[SIG_gw_packs_online] = b->packs_online;
    out[SIG_gw_packs_present] = b->packs_present;
    out[SIG_gw_scan_done] = gateway_scan_done(&w->gw);
    out[SIG_gw_bad_frames] = (double)st.bad_checksum + st.bad_frame + st.wrong_address;
    out[SIG_gw_bad_checksum] = st.bad_checksum;
    out[SIG_gw_timeouts] = st.timeouts;
    out[SIG_gw_replies_ok] = st.replies_ok;
    out[SIG_gw_refusals] = st.refusals;
    out[SIG_gw_bms_reboots] = st.reboots;
    out[SIG_gw_names_read] = NAN;
    if (w->kind == BENCH_FAM_SUPERB) {
        unsigned names = 0;
        for (size_t i = 0; i < sizeof w->gw.sb.nodes / sizeof w->gw.sb.nodes[0]; i++) {
            names += w->gw.sb.nodes[i].node_id != 0 && w->gw.sb.nodes[i].name_valid;
        }
        out[SIG_gw_names_read] = names;
    }
    out[SIG_bms_nacks_sent] = w->kind == BENCH_FAM_TINYBMS ? (double)w->tiny.nacks : NAN;
    out[SIG_cvl_state] = w->gw.cfg.cvl_states ? (double)w->gw.cvl.state : NAN;
    out[SIG_cvl_transitions] = w->gw.cvl.transitions;

    unsigned chg_off = 0, dis_off = 0;
    for (int i = 0; i < w->bank.npacks; i++) {
        chg_off += !w->bank.packs[i].charge_fet;
        dis_off += !w->bank.packs[i].discharge_fet;
    }
    out[SIG_packs_charge_off] = chg_off;
    out[SIG_packs_discharge_off] = dis_off;
    out[SIG_cell_spread_mv] = (vmax - vmin) * 1000.0;
    out[SIG_bms_asleep] = w->kind == BENCH_FAM_TINYBMS ? emu_tiny_asleep(&w->tiny) : 0;
    out[SIG_relay_charge] = w->plat.gpio[PLAT_GPIO_RELAY_CHARGE];
    out[SIG_relay_discharge] = w->plat.gpio[PLAT_GPIO_RELAY_DISCHARGE];
    out[SIG_relay_alarm] = w->plat.gpio[PLAT_GPIO_RELAY_ALARM];
    out[SIG_buzzer] = w->plat.gpio[PLAT_GPIO_BUZZER];
    out[SIG_bal_latched] = NAN;
    out[SIG_bal_read_faults] = NAN;
    out[SIG_bal_acks_refused] = NAN;
    out[SIG_res_temp_max_c] = NAN;
    out[SIG_balancing_cells] = NAN;
    if (w->kind == BENCH_FAM_BALANCER) {
        const gw_bal_prot_t *pr = &w->gw.bal.prot;
        out[SIG_bal_latched] = (pr->read_fault != 0) + pr->uv_alarm + pr->ov_alarm + pr->ot_alarm;
        out[SIG_bal_read_faults] = w->gw.bal.stats.read_faults;
        out[SIG_bal_acks_refused] = w->gw.bal.stats.acks_refused;
        double hot = -1000;
        unsigned bleeding = 0;
        for (int c = 0; c < w->bank.packs[0].ncells && c < EMU_BAL_MAX_MODULES; c++) {
            const emu_bal_module_t *m = &w->bal.mods[c];
            hot = m->res_temp_c > hot ? m->res_temp_c : hot;
            bleeding += m->balancing;
        }
        out[SIG_res_temp_max_c] = hot;
        out[SIG_balancing_cells] = bleeding;
    }
    out[SIG_rs485_collisions] = (double)w->rs485.collisions;
    out[SIG_can_load_pct] = sim_canbus_load_pct(&w->can);
    out[SIG_gx_ccl_changes] = gx->ccl_changes;
    out[SIG_gx_dcl_changes] = gx->dcl_changes;
    out[SIG_gx_35c_mismatch] = gx->mismatch_35c;
    out[SIG_gx_ccl_rise_blocked] = gx->ccl_rise_blocked;
    out[SIG_gx_dcl_rise_blocked] = gx->dcl_rise_blocked;
    /* The absolute maximum is the engine profile's cut-off (the baseline's
     * cut-off setting moves it too); unknown before the bank has a cell count. */
    unsigned cells = w->gw.bank.min_cell_count;
    out[SIG_cvl_max_allowed_v] =
        cells > 0 ? cells * (w->gw.cfg.profile.cell_max_mv / 1000.0) : NAN;
    out[SIG_dvcc_state] = w->gw.cfg.dvcc_engine ? dvcc_state_word(w->gw.engine.state) : NAN;
    out[SIG_dvcc_transitions] = w->gw.cfg.dvcc_engine ? w->gw.engine.counters.transitions : NAN;
}
