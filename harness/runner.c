/* SPDX-License-Identifier: MIT */
/* The sim-mode runner (see runner.h).
 *
 * Everything happens in virtual time on one scheduler: the gateway wakes at
 * its own deadline or when bytes reach its UART; the emulator answers after
 * its turnaround; the physics advances once a second with the current the
 * charger model decides from the last 0x351; expectations are sampled every
 * `sample` seconds. Same scenario and seed, same run, bit for bit. */
#include "harness/runner.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/signals.h"

#define PHYS_STEP_US 1000000u
#define RS485_BAUD 9600         /* Topband */
#define TINYBMS_BAUD 115200     /* TinyBMS UART */
#define BALANCER_BAUD 300       /* balancer cell bus */
#define BUTTON_PRESS_US 300000u /* how long a scenario holds the mode button */
#define VICTRON_BITRATE 500000
#define CANOPEN_BITRATE 250000 /* SuperB */
#define TINY_TICK_US 100000u   /* the TinyBMS emulator's own clock tick */

/* ---- gateway settings that a scenario or --set may override ---- */

enum { T_U8, T_U16, T_U32, T_I16, T_BOOL, T_CURVE, T_MODE };

/* offset2: a second field set to the same value (NO_FIELD = none). Settings
 * both DVCC implementations share (cut-offs, temperature windows, maxima) set
 * the baseline and the engine's profile together, so a --set that breaks one
 * breaks whichever runs. T_CURVE: 0 turns a profile curve off, 1 restores its
 * default; T_MODE: 0 linear, 1 step. */
typedef struct gw_key {
    const char *name;
    size_t offset;
    size_t offset2;
    int type;
    double min, max;
} gw_key_t;

#define NO_FIELD ((size_t)-1)
#define DV(f) offsetof(gw_config_t, dvcc.f)
#define PF(f) offsetof(gw_config_t, profile.f)
#define TB(f) offsetof(gw_config_t, topband.f), NO_FIELD
#define TI(f) offsetof(gw_config_t, tinybms.f), NO_FIELD
#define SB(f) offsetof(gw_config_t, superb.f), NO_FIELD
#define CV(f) offsetof(gw_config_t, cvl.f), NO_FIELD
#define BP(f) offsetof(gw_config_t, balancer.prot.f), NO_FIELD
#define BASE(f) DV(f), NO_FIELD
#define ENG(f) PF(f), NO_FIELD
static const gw_key_t gw_keys[] = {
    /* shared by the baseline (dvcc) and the engine (profile) */
    {"cvl_cell_mv", DV(cvl_cell_mv), PF(cvl_cell_mv), T_U16, 2000, 4500},
    {"cell_ov_mv", DV(cell_ov_mv), PF(cell_max_mv), T_U16, 2000, 5000},
    {"cell_ov_release_mv", DV(cell_ov_release_mv), PF(cell_max_release_mv), T_U16, 2000, 5000},
    {"cell_uv_mv", DV(cell_uv_mv), PF(cell_min_mv), T_U16, 0, 4000},
    {"cell_uv_release_mv", DV(cell_uv_release_mv), PF(cell_min_release_mv), T_U16, 0, 4000},
    {"charge_min_dc", DV(charge_min_dc), PF(charge_min_dc), T_I16, -500, 1000},
    {"charge_max_dc", DV(charge_max_dc), PF(charge_max_dc), T_I16, -500, 1500},
    {"discharge_min_dc", DV(discharge_min_dc), PF(discharge_min_dc), T_I16, -500, 1000},
    {"discharge_max_dc", DV(discharge_max_dc), PF(discharge_max_dc), T_I16, -500, 1500},
    {"temp_hysteresis_dc", DV(temp_hysteresis_dc), PF(temp_hysteresis_dc), T_I16, 0, 200},
    {"charge_da_per_pack", DV(charge_da_per_pack), PF(charge_max_da_per_pack), T_U16, 0, 20000},
    {"discharge_da_per_pack", DV(discharge_da_per_pack), PF(discharge_max_da_per_pack), T_U16, 0,
     20000},
    {"dvl_cell_mv", DV(dvl_cell_mv), PF(dvl_cell_mv), T_U16, 0, 4000},
    {"imbalance_warn_mv", DV(imbalance_warn_mv), PF(imbalance_warn_mv), T_U16, 0, 2000},
    /* the baseline (seed model) only */
    {"pack_ov_mv_15s", BASE(pack_ov_mv_15s), T_U32, 0, 100000},
    {"taper_soc_pct", BASE(taper_soc_pct), T_U8, 0, 101},
    {"taper_da_per_pack", BASE(taper_da_per_pack), T_U16, 0, 20000},
    {"taper_cell_mv", BASE(taper_cell_mv), T_U16, 2000, 5000},
    /* the engine only (profile.h names them; see the README for each) */
    {"cell_count", ENG(cell_count), T_U8, 0, 32},
    {"cell_high_warn_mv", ENG(cell_high_warn_mv), T_U16, 2000, 5000},
    {"cell_low_warn_mv", ENG(cell_low_warn_mv), T_U16, 0, 4000},
    {"float_cell_mv", ENG(float_cell_mv), T_U16, 2000, 4500},
    {"hold_cell_mv", ENG(hold_cell_mv), T_U16, 2000, 4500},
    {"cvl_floor_cell_mv", ENG(cvl_floor_cell_mv), T_U16, 2000, 4500},
    {"absorption_enter_mv", ENG(absorption_enter_mv), T_U16, 0, 1000},
    {"absorption_exit_mv", ENG(absorption_exit_mv), T_U16, 0, 1000},
    {"converged_mv", ENG(converged_mv), T_U16, 0, 1000},
    {"float_after_converged_ms", ENG(float_after_converged_ms), T_U32, 0, 86400000},
    {"absorption_max_ms", ENG(absorption_max_ms), T_U32, 0, 86400000},
    {"rebulk_soc_pct", ENG(rebulk_soc_pct), T_U8, 0, 100},
    {"rebulk_cell_mv", ENG(rebulk_cell_mv), T_U16, 2000, 4500},
    {"imbalance_hold_mv", ENG(imbalance_hold_mv), T_U16, 1, 2000},
    {"imbalance_release_mv", ENG(imbalance_release_mv), T_U16, 0, 2000},
    {"imbalance_min_cell_mv", ENG(imbalance_min_cell_mv), T_U16, 0, 5000},
    {"imbalance_hold_min_ms", ENG(imbalance_hold_min_ms), T_U32, 0, 86400000},
    {"imbalance_ccl_permille", ENG(imbalance_ccl_permille), T_U16, 0, 1000},
    {"imbalance_alarm_mv", ENG(imbalance_alarm_mv), T_U16, 0, 5000},
    {"temp_warn_margin_dc", ENG(temp_warn_margin_dc), T_I16, 0, 500},
    {"overcurrent_alarm_pct", ENG(overcurrent_alarm_pct), T_U8, 0, 255},
    {"overcurrent_delay_ms", ENG(overcurrent_delay_ms), T_U32, 0, 3600000},
    {"curve_mode", ENG(curve_mode), T_MODE, 0, 1},
    {"charge_cell_curve", ENG(charge_cell), T_CURVE, 0, 1},
    {"discharge_cell_curve", ENG(discharge_cell), T_CURVE, 0, 1},
    {"charge_temp_curve", ENG(charge_temp), T_CURVE, 0, 1},
    {"discharge_temp_curve", ENG(discharge_temp), T_CURVE, 0, 1},
    {"charge_soc_curve", ENG(charge_soc), T_CURVE, 0, 1},
    {"discharge_soc_curve", ENG(discharge_soc), T_CURVE, 0, 1},
    {"hyst_cell_mv", ENG(hyst_cell_mv), T_U16, 0, 1000},
    {"hyst_temp_dc", ENG(hyst_temp_dc), T_I16, 0, 500},
    {"hyst_soc_pct", ENG(hyst_soc_pct), T_U8, 0, 50},
    {"recovery_threshold_permille", ENG(recovery_threshold_permille), T_U16, 0, 1000},
    {"recovery_hold_ms", ENG(recovery_hold_ms), T_U32, 0, 86400000},
    {"ramp_da_per_s", ENG(ramp_da_per_s), T_U16, 1, 20000},
    {"rise_interval_ms", ENG(rise_interval_ms), T_U32, 0, 86400000},
    {"cvl_rise_hold_ms", ENG(cvl_rise_hold_ms), T_U32, 0, 86400000},
    {"cvl_ramp_mv_per_s", ENG(cvl_ramp_mv_per_s), T_U16, 1, 10000},
    {"cvl_bank_tolerance_mv", ENG(cvl_bank_tolerance_mv), T_U16, 0, 10000},
    {"data_stale_ms", ENG(data_stale_ms), T_U32, 1, 3600000},
    {"implausible_max_ms", ENG(implausible_max_ms), T_U32, 1, 3600000},
    {"cell_plausible_min_mv", ENG(cell_plausible_min_mv), T_U16, 0, 5000},
    {"cell_plausible_max_mv", ENG(cell_plausible_max_mv), T_U16, 0, 10000},
    {"cell_jump_mv", ENG(cell_jump_mv), T_U16, 0, 5000},
    {"temp_jump_dc", ENG(temp_jump_dc), T_I16, 0, 2000},
    {"pack_sum_tolerance_mv", ENG(pack_sum_tolerance_mv), T_U16, 0, 60000},
    {"jump_hold_ms", ENG(jump_hold_ms), T_U32, 0, 3600000},
    /* Topband driver */
    {"first_address", TB(first_address), T_U8, 0, 15},
    {"last_address", TB(last_address), T_U8, 0, 15},
    {"poll_period_ms", TB(poll_period_ms), T_U32, 100, 600000},
    {"reply_timeout_ms", TB(reply_timeout_ms), T_U32, 10, 60000},
    {"bus_guard_ms", TB(bus_guard_ms), T_U32, 0, 10000},
    {"retries", TB(retries), T_U8, 0, 10},
    {"offline_after_misses", TB(offline_after_misses), T_U8, 1, 100},
    {"rescan_period_ms", TB(rescan_period_ms), T_U32, 1000, 86400000},
    {"can_period_ms", offsetof(gw_config_t, can_period_ms), NO_FIELD, T_U32, 50, 60000},
    /* TinyBMS driver */
    {"tiny_poll_period_ms", TI(poll_period_ms), T_U32, 100, 600000},
    {"tiny_reply_timeout_ms", TI(reply_timeout_ms), T_U32, 5, 60000},
    {"tiny_wake_resends", TI(wake_resends), T_U8, 0, 10},
    {"tiny_retries", TI(retries), T_U8, 0, 10},
    {"tiny_offline_after_failures", TI(offline_after_failures), T_U8, 1, 100},
    {"tiny_settings_refresh_ms", TI(settings_refresh_ms), T_U32, 0, 86400000},
    /* SuperB driver */
    {"sb_first_node", SB(first_node), T_U8, 1, 127},
    {"sb_last_node", SB(last_node), T_U8, 1, 127},
    {"sb_poll_period_ms", SB(poll_period_ms), T_U32, 100, 600000},
    {"sb_sdo_timeout_ms", SB(sdo_timeout_ms), T_U32, 5, 60000},
    {"sb_retries", SB(retries), T_U8, 0, 10},
    {"sb_heartbeat_misses", SB(heartbeat_misses), T_U8, 1, 100},
    /* which DVCC decides: 1 the engine (default), 0 the v1 baseline (seed model) */
    {"dvcc_engine", offsetof(gw_config_t, dvcc_engine), NO_FIELD, T_BOOL, 0, 1},
    /* charge-voltage states */
    {"cvl_states", offsetof(gw_config_t, cvl_states), NO_FIELD, T_BOOL, 0, 1},
    {"cvl_bulk_cell_mv", CV(bulk_cell_mv), T_U16, 2000, 4500},
    {"cvl_float_cell_mv", CV(float_cell_mv), T_U16, 2000, 4500},
    {"cvl_hold_cell_mv", CV(hold_cell_mv), T_U16, 2000, 4500},
    {"cvl_transition_soc_pct", CV(transition_soc_pct), T_U8, 0, 100},
    {"cvl_approach_soc_pct", CV(approach_soc_pct), T_U8, 0, 100},
    {"cvl_float_soc_pct", CV(float_soc_pct), T_U8, 0, 100},
    {"cvl_soc_hysteresis_pct", CV(soc_hysteresis_pct), T_U8, 0, 50},
    {"cvl_float_exit_soc_pct", CV(float_exit_soc_pct), T_U8, 0, 100},
    {"cvl_imbalance_hold_mv", CV(imbalance_hold_mv), T_U16, 1, 2000},
    {"cvl_imbalance_release_mv", CV(imbalance_release_mv), T_U16, 0, 2000},
    {"cvl_min_state_ms", CV(min_state_ms), T_U32, 0, 86400000},
    {"cvl_hold_min_ms", CV(hold_min_ms), T_U32, 0, 86400000},
    {"cvl_absorption_max_ms", CV(absorption_max_ms), T_U32, 0, 86400000},
    /* balancer controller protection (superb_balancer.md B.9) */
    {"bal_chg_off_mv", BP(chg_off_mv), T_U16, 2000, 4500},
    {"bal_chg_on_mv", BP(chg_on_mv), T_U16, 2000, 4500},
    {"bal_dis_off_mv", BP(dis_off_mv), T_U16, 2000, 4500},
    {"bal_dis_on_mv", BP(dis_on_mv), T_U16, 2000, 4500},
    {"bal_alarm_low_mv", BP(alarm_low_mv), T_U16, 1000, 4500},
    {"bal_alarm_high_mv", BP(alarm_high_mv), T_U16, 2000, 5000},
    {"bal_chg_ut_on_dc", BP(chg_ut_on_dc), T_I16, -400, 200},
    {"bal_chg_ut_off_dc", BP(chg_ut_off_dc), T_I16, -400, 200},
};
#undef DV
#undef PF
#undef BASE
#undef ENG
#undef TB
#undef TI
#undef SB
#undef CV
#undef BP

void bench_gw_settings_print(FILE *f)
{
    for (size_t i = 0; i < sizeof gw_keys / sizeof gw_keys[0]; i++) {
        fprintf(f, "%-28s %g .. %g\n", gw_keys[i].name, gw_keys[i].min, gw_keys[i].max);
    }
}

/* Write one setting's value into the field at offset (type from the key). */
static void store(gw_config_t *cfg, const gw_key_t *k, size_t offset, double value)
{
    unsigned char *base = (unsigned char *)cfg + offset;
    switch (k->type) {
    case T_U8:
        *(uint8_t *)base = (uint8_t)value;
        break;
    case T_U16:
        *(uint16_t *)base = (uint16_t)value;
        break;
    case T_U32:
        *(uint32_t *)base = (uint32_t)value;
        break;
    case T_BOOL:
        *(bool *)base = value != 0;
        break;
    case T_MODE:
        *(gw_curve_mode_t *)base = value != 0 ? GW_CURVE_STEP : GW_CURVE_LINEAR;
        break;
    case T_CURVE: {
        /* 1 restores the default curve: the same field of a default profile. */
        gw_curve_t *c = (gw_curve_t *)base;
        if (value != 0) {
            gw_config_t def;
            gateway_config_default(&def);
            memcpy(c, (const unsigned char *)&def + offset, sizeof *c);
            /* A curve that is off by default (discharge_soc) keeps its table
             * with n = 0: turning it on means using those points. */
            if (c->n == 0 && c->x[1] > c->x[0]) {
                uint8_t n = 1;
                while (n < GW_CURVE_MAX && c->x[n] > c->x[n - 1]) {
                    n++;
                }
                c->n = n;
            }
        } else {
            c->n = 0;
        }
        break;
    }
    default:
        *(int16_t *)base = (int16_t)value;
        break;
    }
}

bool bench_gw_apply(gw_config_t *cfg, const char *key, double value, char *msg, size_t cap)
{
    for (size_t i = 0; i < sizeof gw_keys / sizeof gw_keys[0]; i++) {
        const gw_key_t *k = &gw_keys[i];
        if (strcmp(k->name, key) != 0) {
            continue;
        }
        if (!(value >= k->min && value <= k->max) || value != floor(value)) {
            snprintf(msg, cap, "gateway setting '%s' must be a whole number from %g to %g, got %g",
                     key, k->min, k->max, value);
            return false;
        }
        store(cfg, k, k->offset, value);
        if (k->offset2 != NO_FIELD) {
            store(cfg, k, k->offset2, value);
        }
        return true;
    }
    size_t n = (size_t)snprintf(msg, cap, "unknown gateway setting '%s' (known:", key);
    for (size_t i = 0; i < sizeof gw_keys / sizeof gw_keys[0] && n < cap; i++) {
        n += (size_t)snprintf(msg + n, cap - n, " %s", gw_keys[i].name);
    }
    if (n < cap) {
        snprintf(msg + n, cap - n, ")");
    }
    return false;
}

/* ---- the gateway: wake at its deadline or when its UART has bytes ---- */

static void gw_wake(void *ctx, uint64_t now_us);

void bench_world_gw_reschedule(bench_world_t *w)
{
    uint64_t now = w->sched.now_us;
    uint64_t at = gateway_next_deadline(&w->gw) * 1000u;
    if (at <= now) {
        /* A deadline already due after a step would spin; the gateway's clock
         * is in ms, so the earliest meaningful next look is the next ms. */
        at = (now / 1000u + 1u) * 1000u;
    }
    if (w->gw_wake_id != 0) {
        if (w->gw_wake_at == at) {
            return;
        }
        sim_sched_cancel(&w->sched, w->gw_wake_id);
    }
    w->gw_wake_at = at;
    w->gw_wake_id = sim_sched_at(&w->sched, at, gw_wake, w);
}

static void gw_wake(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    w->gw_wake_id = 0;
    gateway_step(&w->gw, now_us / 1000u);
    bench_world_gw_reschedule(w);
}

void bench_world_gw_uart_notify(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    gateway_step(&w->gw, now_us / 1000u);
    bench_world_gw_reschedule(w);
}

/* A frame for the gateway on the BMS bus: run it now, as its CAN interrupt
 * would. Victron-bus frames (0x305...) wait for its next deadline. */
void bench_world_gw_can_notify(void *ctx, unsigned bus, uint64_t t_us)
{
    bench_world_t *w = ctx;
    if (bus == w->gw.cfg.bms_can && w->kind == BENCH_FAM_SUPERB) {
        gateway_step(&w->gw, t_us / 1000u);
        bench_world_gw_reschedule(w);
    }
}

static void gw_log(void *ctx, uint64_t t_us, const char *line)
{
    bench_world_t *w = ctx;
    if (w->log != NULL) {
        fprintf(w->log, "%10.3f gateway: %s\n", (double)t_us / 1e6, line);
    }
}

/* ---- the packs' side of the RS485 line ---- */

static void emu_send(void *ctx, uint64_t now_us)
{
    struct bench_reply *r = ctx;
    (void)now_us;
    sim_wire_write(&r->w->rs485, 1, r->bytes, r->len);
    r->busy = false;
}

static void emu_uart_notify(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    uint8_t buf[512];
    size_t n;
    while ((n = sim_wire_read(&w->rs485, 1, buf, sizeof buf)) > 0) {
        switch (w->kind) {
        case BENCH_FAM_TINYBMS:
            emu_tiny_feed(&w->tiny, buf, n, now_us);
            break;
        case BENCH_FAM_BALANCER:
            emu_bal_feed(&w->bal, buf, n, now_us);
            break;
        default:
            emu_tb_feed(&w->emu, buf, n, now_us);
            break;
        }
    }
    struct bench_reply *slot = NULL;
    for (size_t i = 0; i < sizeof w->replies / sizeof w->replies[0] && slot == NULL; i++) {
        slot = w->replies[i].busy ? NULL : &w->replies[i];
    }
    uint64_t start_us;
    uint8_t tmp[EMU_TB_MAX_REPLY];
    uint8_t *dst = slot != NULL ? slot->bytes : tmp;
    size_t len;
    switch (w->kind) {
    case BENCH_FAM_TINYBMS:
        len = emu_tiny_take_reply(&w->tiny, dst, EMU_TB_MAX_REPLY, &start_us);
        break;
    case BENCH_FAM_BALANCER:
        len = emu_bal_take_reply(&w->bal, dst, EMU_TB_MAX_REPLY, &start_us);
        break;
    default:
        len = emu_tb_take_reply(&w->emu, dst, EMU_TB_MAX_REPLY, &start_us);
        break;
    }
    if (len == 0) {
        return;
    }
    if (slot == NULL) {
        w->replies_dropped++; /* more replies in flight than any bus would hold */
        return;
    }
    slot->w = w;
    slot->busy = true;
    slot->len = len;
    sim_sched_at(&w->sched, start_us < now_us ? now_us : start_us, emu_send, slot);
}

static void tiny_tick(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    emu_tiny_tick(&w->tiny, now_us);
    sim_sched_at(&w->sched, now_us + TINY_TICK_US, tiny_tick, w);
}

/* ---- the SuperB batteries on their CANopen bus ---- */

static void sb_wake(void *ctx, uint64_t now_us);

static void sb_reschedule(bench_world_t *w)
{
    uint64_t at = emu_sb_next_deadline(&w->sb);
    if (at == UINT64_MAX) {
        return;
    }
    if (at < w->sched.now_us) {
        at = w->sched.now_us;
    }
    if (w->sb_wake_id != 0) {
        if (w->sb_wake_at == at) {
            return;
        }
        sim_sched_cancel(&w->sched, w->sb_wake_id);
    }
    w->sb_wake_at = at;
    w->sb_wake_id = sim_sched_at(&w->sched, at, sb_wake, w);
}

/* Every frame due goes out from its battery's own CAN node, so arbitration
 * between batteries (and with the gateway) is real. */
static void sb_wake(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    w->sb_wake_id = 0;
    sim_can_frame_t f;
    int idx;
    while ((idx = emu_sb_take_tx(&w->sb, now_us, &f)) >= 0) {
        if (idx < BENCH_MAX_PACKS) {
            sim_canbus_send(&w->bms_can, w->sb_bus_node[idx], &f);
        }
    }
    sb_reschedule(w);
}

static void sb_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_world_t *w = ctx;
    emu_sb_on_frame(&w->sb, f, t_us);
    sb_reschedule(w);
}

/* ---- the Victron side: GX monitor and charger/inverter ---- */

static void gx_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_world_t *w = ctx;
    bench_gx_feed(&w->gx, f->id, f->dlc, f->data, t_us);
    sim_charger_on_frame(&w->charger, f, t_us);
}

/* ---- the trace hash: same seed, same run, checked bit for bit ---- */

static void hash_bytes(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ p[i]) * 0x100000001b3ull;
    }
}

static void hash_can(bench_world_t *w, int from, const sim_can_frame_t *f, uint64_t t_us)
{
    unsigned char rec[8 + 4 + 1 + 8 + 1];
    for (int i = 0; i < 8; i++) {
        rec[i] = (unsigned char)(t_us >> (8 * i));
    }
    for (int i = 0; i < 4; i++) {
        rec[8 + i] = (unsigned char)(f->id >> (8 * i));
    }
    rec[12] = f->dlc;
    memcpy(&rec[13], f->data, 8);
    rec[21] = (unsigned char)from;
    hash_bytes(&w->trace_hash, rec, sizeof rec);
}

/* Every frame on either bus and every character on the BMS line passes here:
 * into the trace hash, then to the recorder / panel taps if any. */
static void tap_can_victron(void *ctx, int from, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_world_t *w = ctx;
    hash_can(w, from, f, t_us);
    if (w->taps.can != NULL) {
        w->taps.can(w->taps.ctx, 0, from == w->plat.can_node, f, t_us);
    }
}

static void tap_can_bms(void *ctx, int from, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_world_t *w = ctx;
    hash_can(w, from, f, t_us);
    if (w->taps.can != NULL) {
        w->taps.can(w->taps.ctx, 1, from == w->plat.extra[0].node, f, t_us);
    }
}

static void tap_wire(void *ctx, int from, uint64_t t_us, uint8_t byte)
{
    bench_world_t *w = ctx;
    unsigned char rec[10];
    for (int i = 0; i < 8; i++) {
        rec[i] = (unsigned char)(t_us >> (8 * i));
    }
    rec[8] = (unsigned char)from;
    rec[9] = byte;
    hash_bytes(&w->trace_hash, rec, sizeof rec);
    if (w->taps.serial != NULL) {
        w->taps.serial(w->taps.ctx, from == 0, t_us, byte);
    }
}

/* ---- physics ---- */

static void phys_tick(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    double now_s = (double)now_us / 1e6;
    double dt = now_s - w->last_phys_s;
    w->charger.charge_avail_a = bench_system_pv_a(&w->sys, now_s);
    w->charger.load_a = bench_system_load_a(&w->sys, now_s);
    if (w->kind == BENCH_FAM_BALANCER) {
        /* The controller's relays switch the chargers and loads themselves. */
        w->bank.packs[0].charge_fet = w->plat.gpio[PLAT_GPIO_RELAY_CHARGE];
        w->bank.packs[0].discharge_fet = w->plat.gpio[PLAT_GPIO_RELAY_DISCHARGE];
    }
    double current = sim_charger_decide(&w->charger, &w->bank, now_us);
    if (dt > 0) {
        sim_bank_step(&w->bank, dt, current);
        if (w->kind == BENCH_FAM_BALANCER) {
            emu_bal_tick(&w->bal, dt, now_us);
        }
    }
    w->last_phys_s = now_s;
    sim_sched_at(&w->sched, now_us + PHYS_STEP_US, phys_tick, w);
}

/* ---- scenario events ---- */

/* A configuration tool's MODBUS write (0x10) of one register: what the
 * TinyBMS's PC software sends (tinybms.md 2.3), with its own CRC-16/MODBUS
 * so the bench does not borrow either side's codec. */
static size_t tool_write_frame(unsigned reg, uint16_t value, uint8_t *f)
{
    size_t n = 0;
    f[n++] = 0xAA;
    f[n++] = 0x10;
    f[n++] = (uint8_t)(reg >> 8);
    f[n++] = (uint8_t)reg;
    f[n++] = 0x00;
    f[n++] = 0x01;
    f[n++] = 0x02;
    f[n++] = (uint8_t)(value >> 8);
    f[n++] = (uint8_t)value;
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= f[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
        }
    }
    f[n++] = (uint8_t)crc;
    f[n++] = (uint8_t)(crc >> 8);
    return n;
}

typedef struct ev_ctx {
    bench_world_t *w;
    const bench_event_t *ev;
} ev_ctx_t;

static void button_release(void *ctx, uint64_t now_us)
{
    bench_world_t *w = ctx;
    w->plat.gpio[PLAT_GPIO_BUTTON] = false;
    gateway_step(&w->gw, now_us / 1000u);
    bench_world_gw_reschedule(w);
}

static const struct {
    const char *name;
    unsigned mask;
} balancer_faults[] = {
    {"silent", EMU_BAL_F_SILENT},
    {"garbage", EMU_BAL_F_GARBAGE},
    {"wrong_value", EMU_BAL_F_WRONG_VALUE},
    {"stuck", EMU_BAL_F_STUCK},
    {"slow", EMU_BAL_F_SLOW},
};

/* Balancer modules are named by their cell (address = cell + 1). */
static void balancer_event(bench_world_t *w, const bench_event_t *ev)
{
    int n = w->bank.packs[0].ncells;
    for (int c = 0; c < n; c++) {
        if (ev->cell >= 0 && c != ev->cell) {
            continue;
        }
        uint8_t adr = (uint8_t)(c + 1);
        emu_bal_module_t *m = &w->bal.mods[c];
        switch (ev->action) {
        case BENCH_ACT_FAULT:
            for (size_t i = 0; i < sizeof balancer_faults / sizeof balancer_faults[0]; i++) {
                if (strcmp(balancer_faults[i].name, ev->text) == 0) {
                    unsigned mask = balancer_faults[i].mask;
                    emu_bal_set_faults(&w->bal, adr, m->faults | mask,
                                       mask == EMU_BAL_F_SLOW ? (uint32_t)ev->value : m->slow_ms);
                }
            }
            break;
        case BENCH_ACT_CLEAR_FAULTS:
            emu_bal_set_faults(&w->bal, adr, 0, 0);
            m->also_address = 0;
            break;
        case BENCH_ACT_REBOOT:
            emu_bal_reboot(&w->bal, adr, w->sched.now_us);
            break;
        case BENCH_ACT_DUPLICATE:
            emu_bal_duplicate(&w->bal, (uint8_t)ev->value, adr);
            break;
        default:
            break;
        }
    }
}

typedef struct fault_name {
    const char *name;
    unsigned mask;
} fault_name_t;

static const fault_name_t topband_faults[] = {
    {"silent", EMU_TB_F_SILENT},
    {"late", EMU_TB_F_LATE},
    {"bad_checksum", EMU_TB_F_BAD_CHECKSUM},
    {"truncated", EMU_TB_F_TRUNCATED},
    {"garbage", EMU_TB_F_GARBAGE},
    {"wrong_address", EMU_TB_F_WRONG_ADDRESS},
    {"frozen", EMU_TB_F_FROZEN},
};
static const fault_name_t tinybms_faults[] = {
    {"silent", EMU_TINY_F_SILENT},         {"late", EMU_TINY_F_LATE},
    {"bad_crc", EMU_TINY_F_BAD_CRC},       {"truncated", EMU_TINY_F_TRUNCATED},
    {"nack_storm", EMU_TINY_F_NACK_STORM}, {"stuck_asleep", EMU_TINY_F_STUCK_ASLEEP},
    {"frozen", EMU_TINY_F_FROZEN},
};
static const fault_name_t superb_faults[] = {
    {"silent", EMU_SB_F_SILENT},
    {"late", EMU_SB_F_LATE},
    {"abort", EMU_SB_F_ABORT_ALL},
    {"wrong_toggle", EMU_SB_F_WRONG_TOGGLE},
    {"no_heartbeat", EMU_SB_F_NO_HEARTBEAT},
    {"bus_off", EMU_SB_F_BUS_OFF},
};

/* The scenario loader checked the name against the same family's list. */
static unsigned fault_mask(bench_family_t kind, const char *name)
{
    const fault_name_t *t = topband_faults;
    size_t n = sizeof topband_faults / sizeof topband_faults[0];
    if (kind == BENCH_FAM_TINYBMS) {
        t = tinybms_faults, n = sizeof tinybms_faults / sizeof tinybms_faults[0];
    } else if (kind == BENCH_FAM_SUPERB) {
        t = superb_faults, n = sizeof superb_faults / sizeof superb_faults[0];
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            return t[i].mask;
        }
    }
    return 0;
}

/* One pack's BMS fault knobs, whatever the family. */
static void set_pack_faults(bench_world_t *w, int pack, const bench_event_t *ev, bool clear)
{
    uint8_t adr = (uint8_t)w->sc->bank.packs[pack].address;
    unsigned m = clear ? 0 : fault_mask(w->kind, ev->text);
    uint32_t late = (uint32_t)ev->value;
    switch (w->kind) {
    case BENCH_FAM_TINYBMS:
        emu_tiny_set_faults(&w->tiny, clear ? 0 : (w->tiny.faults | m),
                            m == EMU_TINY_F_LATE ? late : w->tiny.late_ms);
        break;
    case BENCH_FAM_SUPERB: {
        int idx = emu_sb_find_node(&w->sb, adr);
        unsigned cur = idx >= 0 ? w->sb.nodes[idx].faults : 0;
        uint32_t cur_late = idx >= 0 ? w->sb.nodes[idx].late_ms : 0;
        emu_sb_set_faults(&w->sb, adr, clear ? 0 : (cur | m), m == EMU_SB_F_LATE ? late : cur_late);
        sb_reschedule(w);
        break;
    }
    default: {
        unsigned cur = w->emu.slots[adr].faults;
        emu_tb_set_faults(&w->emu, adr, clear ? 0 : (cur | m),
                          m == EMU_TB_F_LATE ? late : w->emu.slots[adr].late_ms);
        break;
    }
    }
}

static void apply_to_cells(sim_pack_t *p, int cell, bench_action_t act, double v, double nominal)
{
    for (int c = 0; c < p->ncells; c++) {
        if (cell >= 0 && c != cell) {
            continue;
        }
        sim_cell_t *x = &p->cells[c];
        switch (act) {
        case BENCH_ACT_TEMPERATURE:
            x->temp_c = v;
            break;
        case BENCH_ACT_CELL_SOC:
            x->soc = v / 100.0;
            break;
        case BENCH_ACT_CELL_CAPACITY:
            x->capacity_ah = nominal * v / 100.0;
            break;
        case BENCH_ACT_CELL_OFFSET:
            x->v_offset = v / 1000.0;
            break;
        default:
            break;
        }
    }
}

static void run_event(void *ctx, uint64_t now_us)
{
    ev_ctx_t *e = ctx;
    bench_world_t *w = e->w;
    const bench_event_t *ev = e->ev;
    const bench_scenario_t *sc = w->sc;
    (void)now_us;

    if (w->kind == BENCH_FAM_BALANCER &&
        (ev->action == BENCH_ACT_FAULT || ev->action == BENCH_ACT_CLEAR_FAULTS ||
         ev->action == BENCH_ACT_REBOOT || ev->action == BENCH_ACT_DUPLICATE)) {
        balancer_event(w, ev);
        return;
    }
    if (ev->action == BENCH_ACT_BUTTON) {
        w->plat.gpio[PLAT_GPIO_BUTTON] = true;
        gateway_step(&w->gw, w->sched.now_us / 1000u);
        bench_world_gw_reschedule(w);
        sim_sched_at(&w->sched, w->sched.now_us + BUTTON_PRESS_US, button_release, w);
        return;
    }
    for (int i = 0; i < w->bank.npacks; i++) {
        if (ev->pack >= 0 && ev->pack != i) {
            continue;
        }
        sim_pack_t *p = &w->bank.packs[i];
        uint8_t adr = (uint8_t)sc->bank.packs[i].address;
        switch (ev->action) {
        case BENCH_ACT_TEMPERATURE:
        case BENCH_ACT_CELL_SOC:
        case BENCH_ACT_CELL_CAPACITY:
        case BENCH_ACT_CELL_OFFSET:
            apply_to_cells(p, ev->cell, ev->action, ev->value, p->capacity_ah);
            break;
        case BENCH_ACT_FAULT:
        case BENCH_ACT_CLEAR_FAULTS:
            set_pack_faults(w, i, ev, ev->action == BENCH_ACT_CLEAR_FAULTS);
            break;
        case BENCH_ACT_REBOOT:
            if (w->kind == BENCH_FAM_TINYBMS) {
                emu_tiny_reboot(&w->tiny, w->sched.now_us);
            } else if (w->kind == BENCH_FAM_SUPERB) {
                emu_sb_reboot(&w->sb, adr, w->sched.now_us);
                sb_reschedule(w);
            }
            break;
        case BENCH_ACT_FIRMWARE:
            emu_sb_set_firmware(&w->sb, adr, (uint16_t)ev->value);
            break;
        case BENCH_ACT_AMBIENT:
            p->ambient_c = ev->value;
            break;
        default:
            break;
        }
    }
    switch (ev->action) {
    case BENCH_ACT_CHARGER:
        bench_system_set_pv_a(&w->sys, ev->value);
        w->charger.charge_avail_a = ev->value;
        break;
    case BENCH_ACT_LOAD:
        bench_system_set_load_a(&w->sys, ev->value);
        w->charger.load_a = ev->value;
        break;
    case BENCH_ACT_AMBIENT:
        w->bank.ambient_c = ev->value;
        break;
    case BENCH_ACT_TOOL_WRITE: {
        /* The tool shares the line with the gateway (a tap on its TX): the
         * device's ACK or NACK reaches the gateway unasked, which must drop it. */
        uint8_t frame[16];
        size_t n = tool_write_frame((unsigned)ev->reg, (uint16_t)ev->value, frame);
        sim_wire_write(&w->rs485, 0, frame, n);
        break;
    }
    case BENCH_ACT_BMS_SETTING:
        /* As the vendor's own tool would: range-checked by the device. */
        if (emu_tiny_write_setting(&w->tiny, (unsigned)ev->reg, (uint16_t)ev->value) != 0 &&
            w->log != NULL) {
            fprintf(w->log, "%10.3f bench: TinyBMS refused register %d = %g\n",
                    (double)w->sched.now_us / 1e6, ev->reg, ev->value);
        }
        break;
    case BENCH_ACT_BUS_GARBAGE: {
        uint8_t noise[512];
        size_t n = ev->value > sizeof noise ? sizeof noise : (size_t)ev->value;
        for (size_t i = 0; i < n; i++) {
            noise[i] = (uint8_t)sim_rng_next(&w->rng);
        }
        sim_wire_write(&w->rs485, 1, noise, n);
        break;
    }
    default:
        break;
    }
}

/* ---- expectations and invariants ---- */

/* Invariants hold for every run, whatever the scenario says. The reaction
 * allowances cover one poll round (3 s, longer for big banks) plus one CAN
 * period: the gateway cannot act on a cell before it has heard about it. */
static const struct {
    const char *name;
    bench_expect_kind_t kind;
    const char *expr;
} invariants[] = {
    {"ccl_zero_at_cell_cutoff", BENCH_EXP_NEVER, "ov_for_s > 10 and ccl_a > 0"},
    {"dcl_zero_at_cell_cutoff", BENCH_EXP_NEVER, "uv_for_s > 10 and dcl_a > 0"},
    {"no_charging_below_0c", BENCH_EXP_NEVER, "cold_for_s > 10 and bank_current_a > 0.5"},
    {"no_cell_at_pack_hardware_cutoff", BENCH_EXP_NEVER, "cell_max_v >= 3.75"},
    {"frame_351_never_silent", BENCH_EXP_NEVER, "gx_frames_351 > 0 and gx_351_age_s > 3"},
    {"frame_351_from_start", BENCH_EXP_NEVER, "gx_frames_351 == 0 and t > 3"},
    {"cvl_never_zero", BENCH_EXP_NEVER, "gx_frames_351 > 0 and cvl_v <= 0"},
    {"no_reserved_alarm_pairs", BENCH_EXP_NEVER, "gx_reserved_pairs > 0"},
    {"no_cell_below_absolute_minimum", BENCH_EXP_NEVER, "cell_min_v <= 2.30"},
    /* 0.05 V: CVL travels in 0.1 V steps, the cut-off in mV. From 30 s on:
     * until every pack (every balancer module) has reported, the cell count
     * is not known (known gap: a mixed 15S/16S bank gets 16 x 3.5 V for its
     * first second). */
    {"cvl_within_cells_x_cell_max", BENCH_EXP_NEVER,
     "t > 30 and gx_frames_351 > 0 and cvl_v > cvl_max_allowed_v + 0.05"},
    {"ccl_never_rises_under_blocking_alarm", BENCH_EXP_NEVER, "gx_ccl_rise_blocked > 0"},
    {"dcl_never_rises_under_blocking_alarm", BENCH_EXP_NEVER, "gx_dcl_rise_blocked > 0"},
    {"frame_35c_consistent_with_351", BENCH_EXP_NEVER, "gx_35c_mismatch > 0"},
};
#define NINV (sizeof invariants / sizeof invariants[0])

typedef struct checker {
    bench_world_t *w;
    bench_expect_t inv[NINV];
    bench_expect_state_t st[BENCH_MAX_EXPECTS + NINV];
    const char *label[BENCH_MAX_EXPECTS + NINV];
    int n;
    double *signals;
    uint64_t sample_us;
} checker_t;

static void sample_tick(void *ctx, uint64_t now_us)
{
    checker_t *c = ctx;
    bench_signals_sample(c->w, c->signals);
    double t = (double)now_us / 1e6;
    for (int i = 0; i < c->n; i++) {
        bench_expect_sample(&c->st[i], t, c->signals, bench_signal_names);
    }
    if (c->w->taps.sample != NULL) {
        c->w->taps.sample(c->w->taps.ctx, t, c->signals);
    }
    sim_sched_at(&c->w->sched, now_us + c->sample_us, sample_tick, c);
}

static int build_invariants(checker_t *c, char *err, size_t cap)
{
    for (size_t i = 0; i < NINV; i++) {
        bench_expect_t *e = &c->inv[i];
        memset(e, 0, sizeof *e);
        e->kind = invariants[i].kind;
        e->until_s = -1;
        snprintf(e->label, sizeof e->label, "invariant %s", invariants[i].name);
        int col = 0;
        char msg[160];
        if (!bench_expr_compile(&e->expr, invariants[i].expr, bench_signal_resolve, NULL, &col, msg,
                                sizeof msg)) {
            snprintf(err, cap, "internal: invariant %s: %s", invariants[i].name, msg);
            return -1;
        }
    }
    return 0;
}

/* ---- setup ---- */

static int build_bank(bench_world_t *w, char *err, size_t cap)
{
    const bench_bank_cfg_t *bc = &w->sc->bank;
    sim_bank_init(&w->bank, w->sc->system.ambient_c);
    emu_tb_init(&w->emu, sim_rng_next(&w->rng));
    emu_sb_init(&w->sb, sim_rng_next(&w->rng));
    emu_bal_init(&w->bal, sim_rng_next(&w->rng));
    for (int i = 0; i < bc->npacks; i++) {
        const bench_pack_cfg_t *pc = &bc->packs[i];
        sim_pack_spec_t spec = {
            .ncells = pc->cells,
            .capacity_ah = pc->capacity_ah,
            .soc = pc->soc_pct / 100.0,
            .temp_c = pc->temperature_c,
            .capacity_spread = bc->capacity_spread_pct / 100.0,
            .soc_spread = bc->soc_spread_pct / 100.0,
            .cycles = pc->cycles,
        };
        int idx = sim_bank_add(&w->bank, &spec, &w->rng);
        if (idx < 0) {
            snprintf(err, cap, "too many packs");
            return -1;
        }
        sim_pack_t *p = &w->bank.packs[idx];
        p->ambient_c = w->sc->system.ambient_c;
        switch (w->kind) {
        case BENCH_FAM_TINYBMS:
            /* The TinyBMS drives the pack's switches from now on. */
            emu_tiny_init(&w->tiny, p, sim_rng_next(&w->rng), 0);
            break;
        case BENCH_FAM_BALANCER:
            /* The controller's relays are the string's switches; open at power-up. */
            p->external_bms = true;
            p->charge_fet = false;
            p->discharge_fet = false;
            for (int c = 0; c < p->ncells; c++) {
                emu_bal_attach(&w->bal, (uint8_t)(c + 1), &p->cells[c], &p->ambient_c);
            }
            break;
        case BENCH_FAM_SUPERB: {
            int n = emu_sb_add_node(&w->sb, (uint8_t)pc->address, p, pc->fw_version, 0);
            int node = sim_canbus_attach(&w->bms_can, NULL, NULL);
            if (n < 0 || n >= BENCH_MAX_PACKS || node < 0) {
                snprintf(err, cap, "pack %d: node id %d is not usable (1..127, each once)", i,
                         pc->address);
                return -1;
            }
            w->sb_bus_node[n] = node;
            break;
        }
        default: {
            emu_tb_family_t fam = pc->family == 1 ? EMU_TB_TOPBMS : EMU_TB_EET;
            if (emu_tb_attach(&w->emu, (uint8_t)pc->address, p, fam) != 0) {
                snprintf(err, cap, "pack %d: address %d is not usable (0..15, each once)", i,
                         pc->address);
                return -1;
            }
            break;
        }
        }
    }
    /* Settle voltages before the first request is answered. */
    sim_bank_step(&w->bank, 1e-3, 0.0);
    return 0;
}

static int build_gateway(bench_world_t *w, const bench_run_opts_t *o, char *err, size_t cap)
{
    gw_config_t cfg;
    gateway_config_default(&cfg);
    static const gw_bms_family_t fam[] = {GW_BMS_TOPBAND, GW_BMS_TINYBMS, GW_BMS_SUPERB,
                                          GW_BMS_BALANCER};
    gateway_config_family(&cfg, fam[w->kind]);
    if (w->kind == BENCH_FAM_BALANCER) {
        cfg.balancer.modules = (uint8_t)w->sc->bank.packs[0].cells;
    }
    char msg[1024];
    for (int i = 0; i < w->sc->ngwset; i++) {
        const bench_gwset_t *s = &w->sc->gwset[i];
        if (!bench_gw_apply(&cfg, s->key, s->value, msg, sizeof msg)) {
            snprintf(err, cap, "%s:%d:%d: %s", w->sc->path, s->line, s->col, msg);
            return -1;
        }
    }
    for (int i = 0; i < o->ngwset; i++) {
        if (!bench_gw_apply(&cfg, o->gwset[i].key, o->gwset[i].value, msg, sizeof msg)) {
            snprintf(err, cap, "--set: %s", msg);
            return -1;
        }
    }
    if (plat_sim_init(&w->plat, &w->sched, &w->rs485, 0, &w->can) != 0) {
        snprintf(err, cap, "internal: no CAN node for the gateway");
        return -1;
    }
    plat_sim_set_log(&w->plat, gw_log, w);
    plat_sim_set_can_notify(&w->plat, bench_world_gw_can_notify, w);
    if (w->kind == BENCH_FAM_SUPERB && plat_sim_add_can(&w->plat, cfg.bms_can, &w->bms_can) != 0) {
        snprintf(err, cap, "internal: no CAN node for the gateway on the CANopen bus");
        return -1;
    }
    if (gateway_init(&w->gw, &cfg, &w->plat.api, 0) != 0) {
        snprintf(err, cap, "internal: gateway_init refused the sim platform");
        return -1;
    }
    return 0;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void append(char *buf, size_t cap, const char *line)
{
    size_t n = strlen(buf);
    if (n + 1 < cap) {
        snprintf(buf + n, cap - n, "%s\n", line);
    }
}

int bench_world_open(bench_world_t **out, const bench_scenario_t *sc, const bench_run_opts_t *opts,
                     char *err, size_t errcap)
{
    static const bench_run_opts_t no_opts;
    const bench_run_opts_t *o = opts != NULL ? opts : &no_opts;
    *out = NULL;

    bench_world_t *w = calloc(1, sizeof *w);
    checker_t *c = calloc(1, sizeof *c);
    double *signals = calloc((size_t)bench_signal_count(), sizeof(double));
    ev_ctx_t *evs = calloc(BENCH_MAX_EVENTS + BENCH_MAX_INJECT, sizeof *evs);
    if (w == NULL || c == NULL || signals == NULL || evs == NULL) {
        snprintf(err, errcap, "out of memory");
        free(w), free(c), free(signals), free(evs);
        return -1;
    }
    w->checker = c;
    w->signals = signals;
    w->evs = evs;
    w->sc = sc;
    w->log = o->log;
    w->ov_since_s = w->uv_since_s = w->cold_since_s = -1;
    uint64_t seed = o->seed_set ? o->seed : sc->has_seed ? sc->seed : 1;
    sim_rng_seed(&w->rng, seed);
    sim_sched_init(&w->sched);
    w->kind = sc->bank.kind;
    /* Topband packs share a half-duplex RS485 bus; a TinyBMS UART is
     * point to point and full duplex. */
    if (w->kind == BENCH_FAM_TINYBMS) {
        sim_wire_init(&w->rs485, &w->sched, TINYBMS_BAUD, 10, false);
    } else if (w->kind == BENCH_FAM_BALANCER) {
        /* separate TX and RX lines: electrically full duplex (B.3) */
        sim_wire_init(&w->rs485, &w->sched, BALANCER_BAUD, 10, false);
    } else {
        sim_wire_init(&w->rs485, &w->sched, RS485_BAUD, 10, true);
    }
    sim_canbus_init(&w->can, &w->sched, VICTRON_BITRATE);
    sim_canbus_init(&w->bms_can, &w->sched, CANOPEN_BITRATE);
    if (w->kind == BENCH_FAM_SUPERB) {
        sim_canbus_attach(&w->bms_can, sb_rx, w); /* the batteries' ears */
    }
    sim_charger_init(&w->charger);
    w->sys = sc->system;
    w->charger.charge_avail_a = bench_system_pv_a(&w->sys, 0.0);
    w->charger.load_a = bench_system_load_a(&w->sys, 0.0);
    bench_gx_init(&w->gx);
    w->gx_node = sim_canbus_attach(&w->can, gx_rx, w);

    int rc = build_bank(w, err, errcap);
    if (rc == 0) {
        rc = build_gateway(w, o, err, errcap);
    }
    /* A scenario may switch the invariants off (`invariants: false`) only to
     * model an unsafe gateway; its own expectations still apply. */
    bool invariants_on = !o->no_invariants && !sc->no_invariants;
    if (rc == 0 && invariants_on) {
        rc = build_invariants(c, err, errcap);
    }
    if (rc != 0) {
        bench_world_close(w);
        return -1;
    }
    sim_wire_set_notify(&w->rs485, 0, bench_world_gw_uart_notify, w);
    sim_wire_set_notify(&w->rs485, 1, emu_uart_notify, w);
    w->trace_hash = 0xcbf29ce484222325ull;
    sim_canbus_set_tap(&w->can, tap_can_victron, w);
    sim_wire_set_tap(&w->rs485, tap_wire, w);

    /* Checks: the scenario's expectations, then the invariants. */
    c->w = w;
    c->signals = signals;
    c->sample_us = (uint64_t)llround((sc->sample_s > 0 ? sc->sample_s : 0.1) * 1e6);
    for (int i = 0; i < sc->nexpects; i++) {
        bench_expect_start(&c->st[c->n++], &sc->expects[i]);
    }
    if (invariants_on) {
        for (size_t i = 0; i < NINV; i++) {
            bench_expect_start(&c->st[c->n++], &c->inv[i]);
        }
    }

    for (int i = 0; i < sc->nevents; i++) {
        evs[i].w = w;
        evs[i].ev = &sc->events[i];
        sim_sched_at(&w->sched, (uint64_t)llround(sc->events[i].at_s * 1e6), run_event, &evs[i]);
    }
    sim_sched_at(&w->sched, PHYS_STEP_US, phys_tick, w);
    sim_sched_at(&w->sched, c->sample_us, sample_tick, c);
    if (w->kind == BENCH_FAM_TINYBMS) {
        sim_sched_at(&w->sched, TINY_TICK_US, tiny_tick, w);
    }
    if (w->kind == BENCH_FAM_SUPERB) {
        sim_canbus_set_tap(&w->bms_can, tap_can_bms, w);
        sb_reschedule(w);
    }
    bench_world_gw_reschedule(w);
    *out = w;
    return 0;
}

void bench_world_set_taps(bench_world_t *w, const bench_taps_t *taps)
{
    if (taps != NULL) {
        w->taps = *taps;
    } else {
        memset(&w->taps, 0, sizeof w->taps);
    }
}

void bench_world_run_until(bench_world_t *w, double t_s)
{
    double end = w->sc->duration_s;
    if (t_s > end) {
        t_s = end;
    }
    uint64_t t_us = (uint64_t)llround(t_s * 1e6);
    if (t_us > w->sched.now_us) {
        sim_sched_run_until(&w->sched, t_us);
    }
}

double bench_world_now(const bench_world_t *w)
{
    return (double)w->sched.now_us / 1e6;
}

int bench_world_inject(bench_world_t *w, const bench_event_t *ev)
{
    if (w->ninjected >= BENCH_MAX_INJECT) {
        return -1;
    }
    ev_ctx_t *e = &((ev_ctx_t *)w->evs)[BENCH_MAX_EVENTS + w->ninjected];
    w->injected[w->ninjected] = *ev;
    w->injected[w->ninjected].at_s = bench_world_now(w);
    e->w = w;
    e->ev = &w->injected[w->ninjected];
    w->ninjected++;
    run_event(e, w->sched.now_us);
    return 0;
}

const double *bench_world_signals(bench_world_t *w)
{
    bench_signals_sample(w, w->signals);
    return w->signals;
}

int bench_world_checks(const bench_world_t *w, const bench_expect_state_t **states)
{
    const checker_t *c = w->checker;
    *states = c->st;
    return c->n;
}

void bench_world_finish(bench_world_t *w, bench_result_t *r)
{
    checker_t *c = w->checker;
    const bench_scenario_t *sc = w->sc;
    double end_s = bench_world_now(w);
    memset(r, 0, sizeof *r);
    bench_signals_sample(w, w->signals);
    r->passed = true;
    for (int i = 0; i < c->n; i++) {
        bench_expect_state_t *st = &c->st[i];
        bench_expect_finish(st, end_s, w->signals, bench_signal_names);
        r->nchecks++;
        if (st->verdict == BENCH_FAIL) {
            char line[640];
            snprintf(line, sizeof line, "%s: %s", st->exp->label, st->message);
            if (r->nfailed == 0) {
                snprintf(r->first_failure, sizeof r->first_failure, "%s", line);
            }
            append(r->details, sizeof r->details, line);
            r->nfailed++;
            r->passed = false;
        }
    }
    (void)sc;
    r->stats.sim_s = end_s;
    r->stats.events = w->sched.fired;
    r->stats.rs485_bytes = w->rs485.dir[0].bytes + w->rs485.dir[1].bytes;
    r->stats.rs485_collisions = w->rs485.collisions;
    r->stats.can_frames = w->can.frames_total;
    r->stats.can_load_pct = sim_canbus_load_pct(&w->can);
    gateway_bms_counters(&w->gw, &r->stats.bms);
    r->stats.trace_hash = w->trace_hash;
}

void bench_world_close(bench_world_t *w)
{
    if (w == NULL) {
        return;
    }
    sim_sched_free(&w->sched);
    free(w->evs);
    free(w->signals);
    free(w->checker);
    free(w);
}

int bench_run_scenario_ex(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                          bench_result_t *r, bench_finish_hook_t hook, void *hook_ctx)
{
    static const bench_run_opts_t no_opts;
    const bench_run_opts_t *o = opts != NULL ? opts : &no_opts;
    bench_world_t *w;
    memset(r, 0, sizeof *r);
    if (bench_world_open(&w, sc, o, r->error_msg, sizeof r->error_msg) != 0) {
        r->error = true;
        return -1;
    }
    bench_world_set_taps(w, o->taps);

    bool show = o->progress && isatty(STDERR_FILENO) && sc->duration_s >= 6 * 3600.0;
    double t0 = wall_now();
    for (int k = 1; k <= 20; k++) {
        bench_world_run_until(w, sc->duration_s * k / 20.0);
        if (show) {
            fprintf(stderr, "\r  %s: %3d%% of %.0f s simulated", sc->name, k * 5, sc->duration_s);
        }
    }
    bench_world_run_until(w, sc->duration_s);
    if (show) {
        fprintf(stderr, "\r%60s\r", "");
    }
    double wall = wall_now() - t0;
    bench_world_finish(w, r);
    r->stats.wall_s = wall;
    if (hook != NULL) {
        hook(hook_ctx, w, r);
    }
    bench_world_close(w);
    return 0;
}

int bench_run_scenario(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                       bench_result_t *r)
{
    return bench_run_scenario_ex(sc, opts, r, NULL, NULL);
}

/* ---- several observers on one run ---- */

static void fan_can(void *ctx, int bus, bool from_gw, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_taps_fanout_t *fo = ctx;
    for (int i = 0; i < fo->n; i++) {
        if (fo->taps[i].can != NULL) {
            fo->taps[i].can(fo->taps[i].ctx, bus, from_gw, f, t_us);
        }
    }
}

static void fan_serial(void *ctx, bool from_gw, uint64_t t_us, uint8_t byte)
{
    bench_taps_fanout_t *fo = ctx;
    for (int i = 0; i < fo->n; i++) {
        if (fo->taps[i].serial != NULL) {
            fo->taps[i].serial(fo->taps[i].ctx, from_gw, t_us, byte);
        }
    }
}

static void fan_sample(void *ctx, double t_s, const double *signals)
{
    bench_taps_fanout_t *fo = ctx;
    for (int i = 0; i < fo->n; i++) {
        if (fo->taps[i].sample != NULL) {
            fo->taps[i].sample(fo->taps[i].ctx, t_s, signals);
        }
    }
}

const bench_taps_t *bench_taps_fanout(bench_taps_fanout_t *fo, const bench_taps_t *a,
                                      const bench_taps_t *b)
{
    fo->n = 0;
    if (a != NULL) {
        fo->taps[fo->n++] = *a;
    }
    if (b != NULL) {
        fo->taps[fo->n++] = *b;
    }
    if (fo->n == 0) {
        return NULL;
    }
    fo->out.ctx = fo;
    fo->out.can = fan_can;
    fo->out.serial = fan_serial;
    fo->out.sample = fan_sample;
    return &fo->out;
}
