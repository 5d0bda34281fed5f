/* SPDX-License-Identifier: MIT */
/* TinyBMS emulator: register map, request handling, protection, sleep, faults (see emu_tinybms.h). */
#include "emulators/tinybms/emu_tinybms.h"

#include <math.h>
#include <string.h>

#define S(e, reg) ((e)->settings[(reg) - EMU_TINY_SETTINGS_FIRST])
#define SETTING_SIGNED(e, reg) ((int16_t)S(e, reg))

/* Reply timing measured on a real unit (tinybms.md §1): ~2 ms + ~0.1 ms per register. */
#define REPLY_BASE_US 2000u
#define REPLY_PER_WORD_US 100u
/* Below this the pack counts as idle (online status, not sleep). */
#define IDLE_CURRENT_A 0.2
/* Hysteresis of the recoveries (inferred, the reference gives none). */
#define OV_RECOVER_MARGIN_MV 100
#define UV_RECOVER_MARGIN_MV 100
#define OT_RECOVER_MARGIN_C 5
#define LTC_RECOVER_MARGIN_C 2
#define NEWEST_EVENTS 8u
#define TEMP_ABSENT 0x8000u

/* Reset and wake-up causes (reg 114). */
#define RESET_CAUSE_SOFTWARE 0x04u
#define RESET_CAUSE_POR 0x05u
#define WAKE_CHARGER 0x00u
#define WAKE_DISCHARGE 0x02u
#define WAKE_UART 0x03u

/* Version registers 500..503, as a real unit reported them (CN, §3.5). */
#define VER_HW 0x0102u
#define VER_FW 0x0301u
#define VER_FW_INTERNAL 242u
#define VER_BOOT_PROFILE 0x0418u

/* What the BMS measures, before it becomes registers. */
typedef struct meas {
    unsigned ncells;
    uint16_t cell_01mv[EMU_TINY_MAX_CELLS];
    uint16_t min_mv, max_mv, diff_01mv;
    double pack_v, current_a;
    int16_t t_int_dc, t_ext_dc[2];
    int16_t t_min_dc, t_max_dc;  /* over the connected sensors */
    uint32_t soc_1e6pct;         /* 0.000001 % */
    uint16_t balance_bits;
} meas_t;

/* ---- settings ---------------------------------------------------------- */

typedef struct setting_rule {
    uint16_t reg;
    int32_t min, max;            /* signed registers compare as int16 */
    bool is_signed;
} setting_rule_t;

/* Registers 312/313 (a UINT32) and 330 (two bytes) are checked as a whole
 * in setting_ok; the rows here give their per-word limits for 0x1D. */
static const setting_rule_t rules[] = {
    {300, 1200, 4500, false}, {301, 1000, 3500, false}, {303, 1000, 4500, false},
    {304, 100, 5000, false},  {305, 1, 750, false},     {306, 10, 65500, false},
    {307, 4, 16, false},      {308, 15, 100, false},    {310, 5, 60, false},
    {311, 0, 60, false},      {312, 0, 0xFFFF, false},  {313, 0, 1, false},
    {314, 1, 5, false},       {315, 1200, 4500, false}, {316, 800, 3500, false},
    {317, 1, 750, false},     {318, 1, 750, false},     {319, 20, 90, true},
    {320, -40, 10, true},     {321, 60, 95, false},     {322, 10, 65000, false},
    {323, 0, 50000, false},   {328, 0, 50000, false},   {329, 0, 7, false},
    {330, 0, 0x1E02, false},  {331, 0, 8, false},       {332, 1, 30, false},
    {333, 1, 9, false},       {334, 0, 6, false},       {335, 1, 7, false},
    {336, 0, 2, false},       {337, 0, 16, false},      {338, 0, 7, false},
    {339, 0, 1, false},       {340, 0, 1, false},       {341, 0, 8, false},
    {342, 0, 7, false},       {343, 0, 2, false},
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))
#define PULSES_MAX 100000u

static const setting_rule_t *rule_for(unsigned reg)
{
    for (size_t i = 0; i < NRULES; i++) {
        if (rules[i].reg == reg) {
            return &rules[i];
        }
    }
    return NULL; /* reserved */
}

static uint16_t clamp_u16(double x, double lo, double hi)
{
    if (!(x == x) || x < lo) { /* NaN counts as the low end */
        return (uint16_t)lo;
    }
    return (uint16_t)lround(x > hi ? hi : x);
}

static void default_settings(const sim_pack_t *p, uint16_t *s)
{
    double cap_ah = p != NULL ? p->capacity_ah : 100.0;
    int ncells = p != NULL ? p->ncells : 16;
    memset(s, 0, EMU_TINY_SETTINGS_COUNT * sizeof(s[0]));
    s[0] = 3600;                                  /* 300 fully charged */
    s[1] = 3000;                                  /* 301 fully discharged */
    s[3] = 3400;                                  /* 303 early balancing */
    s[4] = 1000;                                  /* 304 charge finished, mA */
    s[5] = 750;                                   /* 305 peak discharge, A */
    s[6] = clamp_u16(cap_ah * 100.0, 10, 65500);  /* 306 capacity, 0.01 Ah */
    s[7] = clamp_u16((double)ncells, 4, 16);      /* 307 series cells */
    s[8] = 15;                                    /* 308 allowed disbalance, mV */
    s[10] = 20;                                   /* 310 charger startup delay, s */
    s[11] = 5;                                    /* 311 charger disable delay, s */
    s[12] = 1;                                    /* 312-313 pulses per unit */
    s[14] = 2;                                    /* 314 km */
    s[15] = 3650;                                 /* 315 over-voltage cutoff */
    s[16] = 2800;                                 /* 316 under-voltage cutoff */
    s[17] = clamp_u16(cap_ah, 1, 750);            /* 317 discharge OC, 1 C */
    s[18] = clamp_u16(cap_ah * 0.5, 1, 750);      /* 318 charge OC, 0.5 C */
    s[19] = 60;                                   /* 319 over-heat, degC */
    s[20] = 0;                                    /* 320 low-temperature charge, degC */
    s[21] = 90;                                   /* 321 charge restart level, % */
    s[22] = 3000;                                 /* 322 max cycles */
    s[23] = 50000;                                /* 323 SOH 100 % */
    s[28] = 0xFFFF;                               /* 328 SOC setting: none (as observed) */
    s[30] = 0x0001;                               /* 330 CC/CV, OC timeout 0 s */
    s[32] = 5;                                    /* 332 automatic recovery, s */
    s[33] = 1;                                    /* 333 charger switch: charge FET */
    s[35] = 1;                                    /* 335 charger detection: internal */
    s[38] = 3;                                    /* 338 precharge 1 s */
}

static bool setting_ok(const uint16_t *s, unsigned reg)
{
    uint16_t v = s[reg - EMU_TINY_SETTINGS_FIRST];
    if (reg == 312 || reg == 313) {
        uint32_t pulses = s[12] | ((uint32_t)s[13] << 16);
        return pulses >= 1 && pulses <= PULSES_MAX;
    }
    if (reg == 330) {
        return (v & 0xFFu) <= 2 && (v >> 8) <= 30;
    }
    const setting_rule_t *r = rule_for(reg);
    if (r == NULL) {
        return true;
    }
    int32_t x = r->is_signed ? (int32_t)(int16_t)v : (int32_t)v;
    return x >= r->min && x <= r->max;
}

/* Apply n writes atomically: every register in 300..399 and every touched
 * setting in range, or nothing changes. */
static bool apply_writes(emu_tinybms_t *e, const uint16_t *regs, const uint16_t *vals, size_t n)
{
    uint16_t cand[EMU_TINY_SETTINGS_COUNT];
    bool touched[EMU_TINY_SETTINGS_COUNT];
    memcpy(cand, e->settings, sizeof(cand));
    memset(touched, 0, sizeof(touched));
    for (size_t i = 0; i < n; i++) {
        unsigned reg = regs[i];
        if (reg < EMU_TINY_SETTINGS_FIRST || reg >= EMU_TINY_SETTINGS_FIRST + EMU_TINY_SETTINGS_COUNT) {
            return false;
        }
        if (rule_for(reg) == NULL) {
            continue; /* reserved: accepted, ignored */
        }
        /* 0xFFFF on the settable SOH/SOC means "keep" (the doc's "data internally accepted"). */
        if ((reg == 323 || reg == 328) && vals[i] == 0xFFFFu) {
            continue;
        }
        cand[reg - EMU_TINY_SETTINGS_FIRST] = vals[i];
        touched[reg - EMU_TINY_SETTINGS_FIRST] = true;
    }
    for (unsigned k = 0; k < EMU_TINY_SETTINGS_COUNT; k++) {
        if (touched[k] && !setting_ok(cand, EMU_TINY_SETTINGS_FIRST + k)) {
            return false;
        }
    }
    memcpy(e->settings, cand, sizeof(cand));
    return true;
}

int emu_tiny_write_setting(emu_tinybms_t *e, unsigned reg, uint16_t value)
{
    if (e == NULL || reg > 0xFFFFu) {
        return -1;
    }
    uint16_t r = (uint16_t)reg;
    return apply_writes(e, &r, &value, 1) ? 0 : -1;
}

/* ---- measurement and registers ----------------------------------------- */

static int16_t temp_dc(double t_c)
{
    if (!(t_c == t_c)) {
        return 0;
    }
    double x = t_c * 10.0;
    return (int16_t)lround(x < -32767.0 ? -32767.0 : (x > 32767.0 ? 32767.0 : x));
}

static void measure(const emu_tinybms_t *e, meas_t *m)
{
    memset(m, 0, sizeof(*m));
    const sim_pack_t *p = e->pack;
    if (p == NULL) {
        return;
    }
    unsigned n = p->ncells < 0 ? 0u : (unsigned)p->ncells;
    m->ncells = n > EMU_TINY_MAX_CELLS ? EMU_TINY_MAX_CELLS : n;
    uint32_t sum_01mv = 0;
    uint16_t lo = 0xFFFFu, hi = 0;
    /* Sensor placement: external #1 on the lower half of the cells, #2 on
     * the upper half (each reads the mean of its half); the internal sensor
     * sits on the board against the pack and reads its hottest cell. */
    unsigned half = (m->ncells + 1u) / 2u;
    double tsum[2] = {0.0, 0.0}, tmax = p->ambient_c;
    unsigned tn[2] = {0, 0};
    for (unsigned i = 0; i < m->ncells; i++) {
        uint16_t c = clamp_u16(p->cells[i].v * 10000.0, 0.0, 65535.0);
        m->cell_01mv[i] = c;
        sum_01mv += c;
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
        double t = p->cells[i].temp_c;
        unsigned k = i < half ? 0u : 1u;
        tsum[k] += t;
        tn[k]++;
        tmax = (i == 0 || t > tmax) ? t : tmax;
    }
    if (m->ncells == 0) {
        lo = 0;
    }
    double t1 = tn[0] > 0 ? tsum[0] / (double)tn[0] : p->ambient_c;
    double t2 = tn[1] > 0 ? tsum[1] / (double)tn[1] : t1;
    m->min_mv = (uint16_t)((lo + 5u) / 10u);
    m->max_mv = (uint16_t)((hi + 5u) / 10u);
    m->diff_01mv = (uint16_t)(hi - lo);
    m->pack_v = (double)sum_01mv / 10000.0;
    m->current_a = (p->current_a == p->current_a) ? p->current_a : 0.0;
    m->t_int_dc = temp_dc(tmax);
    m->t_ext_dc[0] = temp_dc(t1);
    m->t_ext_dc[1] = temp_dc(t2);
    m->t_min_dc = m->t_int_dc;
    m->t_max_dc = m->t_int_dc;
    for (int k = 0; k < 2; k++) {
        if (!e->ext_absent[k]) {
            m->t_min_dc = m->t_ext_dc[k] < m->t_min_dc ? m->t_ext_dc[k] : m->t_min_dc;
            m->t_max_dc = m->t_ext_dc[k] > m->t_max_dc ? m->t_ext_dc[k] : m->t_max_dc;
        }
    }
    double soc = sim_pack_soc(p);
    m->soc_1e6pct = (uint32_t)llround((soc < 0.0 ? 0.0 : (soc > 1.0 ? 1.0 : soc)) * 1e8);
    for (unsigned i = 0; i < m->ncells; i++) {
        unsigned mv = (m->cell_01mv[i] + 5u) / 10u;
        if (mv >= S(e, 303) && mv > (unsigned)m->min_mv + S(e, 308)) {
            m->balance_bits |= (uint16_t)(1u << i);
        }
    }
}

static bool any_fault(const emu_tinybms_t *e)
{
    return e->prot[EMU_TINY_PROT_OV].active || e->prot[EMU_TINY_PROT_UV].active ||
           e->prot[EMU_TINY_PROT_DOC].active || e->prot[EMU_TINY_PROT_COC].active ||
           e->prot[EMU_TINY_PROT_OT].active;
}

static uint8_t online_status(const emu_tinybms_t *e, const meas_t *m)
{
    if (any_fault(e)) {
        return EMU_TINY_ST_FAULT;
    }
    if (m->current_a > IDLE_CURRENT_A) {
        return EMU_TINY_ST_CHARGING;
    }
    if (m->current_a < -IDLE_CURRENT_A) {
        return EMU_TINY_ST_DISCHARGING;
    }
    if (m->ncells > 0 && m->max_mv >= S(e, 300)) {
        return EMU_TINY_ST_FULL;
    }
    return EMU_TINY_ST_IDLE;
}

static uint16_t real_balancing(const meas_t *m)
{
    return m->current_a > IDLE_CURRENT_A ? m->balance_bits : 0;
}

static uint32_t lifetime_s(const emu_tinybms_t *e)
{
    return (uint32_t)((e->now_us - e->boot_us) / 1000000u);
}

static void put_u32_regs(uint16_t *r, unsigned at, uint32_t v)
{
    r[at] = (uint16_t)(v & 0xFFFFu); /* lower address = low word (§2.1) */
    r[at + 1] = (uint16_t)(v >> 16);
}

static void fill_live(const emu_tinybms_t *e, uint16_t *r)
{
    meas_t m;
    measure(e, &m);
    memset(r, 0, EMU_TINY_LIVE_REGS * sizeof(r[0]));
    for (unsigned i = 0; i < m.ncells; i++) {
        r[EMU_TINY_MAX_CELLS - m.ncells + i] = m.cell_01mv[i];
    }
    put_u32_regs(r, 32, lifetime_s(e));
    uint32_t left_s = 0;
    if (m.current_a < -IDLE_CURRENT_A && e->pack != NULL) {
        double t = sim_pack_remaining_ah(e->pack) / -m.current_a * 3600.0;
        left_s = t > 4e9 ? 4000000000u : (uint32_t)t;
    }
    put_u32_regs(r, 34, left_s);
    put_u32_regs(r, 36, emu_tiny_float_bits((float)m.pack_v));
    put_u32_regs(r, 38, emu_tiny_float_bits((float)m.current_a));
    r[40] = m.min_mv;
    r[41] = m.max_mv;
    r[42] = e->ext_absent[0] ? TEMP_ABSENT : (uint16_t)m.t_ext_dc[0];
    r[43] = e->ext_absent[1] ? TEMP_ABSENT : (uint16_t)m.t_ext_dc[1];
    r[44] = 0; /* distance left: no speed sensor */
    r[45] = S(e, 323) <= 50000u ? S(e, 323) : 50000u;
    put_u32_regs(r, 46, m.soc_1e6pct);
    r[48] = (uint16_t)m.t_int_dc;
    r[50] = online_status(e, &m);
    r[51] = m.balance_bits;
    r[52] = real_balancing(&m);
    r[53] = (uint16_t)m.ncells;
    put_u32_regs(r, 54, emu_tiny_float_bits(0.0f));
}

static void live_regs(const emu_tinybms_t *e, uint16_t *r)
{
    if ((e->faults & EMU_TINY_F_FROZEN) != 0 && e->have_frozen) {
        memcpy(r, e->frozen, sizeof(e->frozen));
    } else {
        fill_live(e, r);
    }
}

static const emu_tiny_event_t *event_at(const emu_tinybms_t *e, unsigned k)
{
    return &e->events[(e->events_first + k) % EMU_TINY_MAX_EVENTS];
}

static uint16_t stats_reg(const emu_tinybms_t *e, unsigned reg)
{
    const emu_tiny_stats_t *s = &e->stats;
    switch (reg) {
    case 102: return s->max_discharge_da;
    case 103: return s->max_charge_da;
    case 104: return s->max_diff_01mv;
    case 105: return s->count[EMU_TINY_PROT_UV];
    case 106: return s->count[EMU_TINY_PROT_OV];
    case 107: return s->count[EMU_TINY_PROT_DOC];
    case 108: return s->count[EMU_TINY_PROT_COC];
    case 109: return s->count[EMU_TINY_PROT_OT];
    case 111: return s->charging_count;
    case 112: return s->full_count;
    case 113:
        return s->temps_seen ? (uint16_t)((uint8_t)s->min_temp_c | ((unsigned)(uint8_t)s->max_temp_c << 8))
                             : 0;
    case 114: return (uint16_t)(s->reset_cause | ((unsigned)s->wake_cause << 8));
    case 116: return (uint16_t)(s->cleared_s & 0xFFFFu);
    case 117: return (uint16_t)(s->cleared_s >> 16);
    default: return 0; /* 100-101 distance (no speed sensor) and reserved */
    }
}

static uint16_t other_reg(const emu_tinybms_t *e, unsigned reg)
{
    if (reg < 200) {
        return stats_reg(e, reg);
    }
    if (reg < 298) {
        unsigned k = (reg - 200) / 2;
        if (k >= e->events_count) {
            return 0;
        }
        const emu_tiny_event_t *ev = event_at(e, k);
        if ((reg % 2) == 0) {
            return (uint16_t)(ev->ts_s & 0xFFFFu);
        }
        return (uint16_t)(((ev->ts_s >> 16) & 0xFFu) | ((unsigned)ev->id << 8));
    }
    if (reg >= EMU_TINY_SETTINGS_FIRST && reg < EMU_TINY_SETTINGS_FIRST + EMU_TINY_SETTINGS_COUNT) {
        return e->settings[reg - EMU_TINY_SETTINGS_FIRST];
    }
    switch (reg) {
    case 500: return VER_HW;
    case 501: return VER_FW;
    case 502: return VER_FW_INTERNAL;
    case 503: return VER_BOOT_PROFILE;
    default:
        if (reg >= 504 && reg <= 509) {
            return e->serial[reg - 504];
        }
        return 0;
    }
}

int emu_tiny_read_regs(const emu_tinybms_t *e, unsigned first, unsigned n, uint16_t *out)
{
    if (e == NULL || out == NULL || first >= EMU_TINY_NREGS || n > EMU_TINY_NREGS - first) {
        return -1;
    }
    uint16_t live[EMU_TINY_LIVE_REGS];
    bool have_live = false;
    for (unsigned i = 0; i < n; i++) {
        unsigned reg = first + i;
        if (reg < EMU_TINY_LIVE_REGS) {
            if (!have_live) {
                live_regs(e, live);
                have_live = true;
            }
            out[i] = live[reg];
        } else {
            out[i] = other_reg(e, reg);
        }
    }
    return 0;
}

/* ---- events, protection, statistics ------------------------------------ */

static void log_event(emu_tinybms_t *e, uint8_t id)
{
    emu_tiny_event_t ev = {lifetime_s(e), id};
    if (e->events_count < EMU_TINY_MAX_EVENTS) {
        e->events[(e->events_first + e->events_count) % EMU_TINY_MAX_EVENTS] = ev;
        e->events_count++;
    } else {
        /* Full: the oldest slot gives way. */
        e->events[e->events_first] = ev;
        e->events_first = (e->events_first + 1) % EMU_TINY_MAX_EVENTS;
    }
}

unsigned emu_tiny_event_count(const emu_tinybms_t *e, uint8_t id)
{
    unsigned n = 0;
    if (e == NULL) {
        return 0;
    }
    for (unsigned k = 0; k < e->events_count; k++) {
        n += event_at(e, k)->id == id;
    }
    return n;
}

static const uint8_t trip_event[EMU_TINY_PROT_COUNT] = {
    EMU_TINY_EV_OV, EMU_TINY_EV_UV, EMU_TINY_EV_DOC, EMU_TINY_EV_COC, EMU_TINY_EV_OT, EMU_TINY_EV_LTC};
static const uint8_t recover_event[EMU_TINY_PROT_COUNT] = {
    EMU_TINY_EV_OV_RECOVERED,  EMU_TINY_EV_UV_RECOVERED, EMU_TINY_EV_DOC_RECOVERED,
    EMU_TINY_EV_COC_RECOVERED, EMU_TINY_EV_OT_RECOVERED, EMU_TINY_EV_LTC_RECOVERED};

static void prot_update(emu_tinybms_t *e, emu_tiny_prot_t k, bool trip, bool clear, uint64_t now_us)
{
    emu_tiny_prot_state_t *p = &e->prot[k];
    uint64_t recovery_us = (uint64_t)(S(e, 332) & 0xFFu) * 1000000u;
    if (!p->active) {
        if (trip) {
            p->active = true;
            p->since_us = now_us;
            log_event(e, trip_event[k]);
            if (e->stats.count[k] < 0xFFFFu) {
                e->stats.count[k]++;
            }
        }
    } else if (!trip && clear && now_us - p->since_us >= recovery_us) {
        p->active = false;
        log_event(e, recover_event[k]);
    }
}

/* Over-current must last longer than the timeout (reg 330 high byte) to trip. */
static bool over_current_for(emu_tiny_prot_state_t *p, bool over, uint64_t timeout_us, uint64_t now_us)
{
    if (!over) {
        p->over_us = 0;
        return false;
    }
    if (p->over_us == 0) {
        p->over_us = now_us + 1; /* +1: 0 means "not over", even at time 0 */
    }
    return now_us + 1 - p->over_us >= timeout_us;
}

static void protect(emu_tinybms_t *e, const meas_t *m, uint64_t now_us)
{
    if (m->ncells > 0) {
        int ov = S(e, 315), full = S(e, 300), uv = S(e, 316), empty = S(e, 301);
        int ov_clear = full < ov - OV_RECOVER_MARGIN_MV ? full : ov - OV_RECOVER_MARGIN_MV;
        int uv_clear = empty > uv + UV_RECOVER_MARGIN_MV ? empty : uv + UV_RECOVER_MARGIN_MV;
        prot_update(e, EMU_TINY_PROT_OV, m->max_mv >= ov, m->max_mv <= ov_clear, now_us);
        prot_update(e, EMU_TINY_PROT_UV, m->min_mv <= uv, m->min_mv >= uv_clear, now_us);
    }
    uint64_t timeout_us = (uint64_t)(S(e, 330) >> 8) * 1000000u;
    bool doc = over_current_for(&e->prot[EMU_TINY_PROT_DOC], m->current_a < -(double)S(e, 317),
                                timeout_us, now_us);
    prot_update(e, EMU_TINY_PROT_DOC, doc, true, now_us);
    prot_update(e, EMU_TINY_PROT_COC, m->current_a > (double)S(e, 318), true, now_us);
    int oh_dc = SETTING_SIGNED(e, 319) * 10, ltc_dc = SETTING_SIGNED(e, 320) * 10;
    prot_update(e, EMU_TINY_PROT_OT, m->t_max_dc >= oh_dc,
                m->t_max_dc <= oh_dc - OT_RECOVER_MARGIN_C * 10, now_us);
    prot_update(e, EMU_TINY_PROT_LTC, m->t_min_dc < ltc_dc,
                m->t_min_dc >= ltc_dc + LTC_RECOVER_MARGIN_C * 10, now_us);

    if (e->pack != NULL) {
        const emu_tiny_prot_state_t *p = e->prot;
        e->pack->charge_fet = !(p[EMU_TINY_PROT_OV].active || p[EMU_TINY_PROT_COC].active ||
                                p[EMU_TINY_PROT_OT].active || p[EMU_TINY_PROT_LTC].active);
        e->pack->discharge_fet = !(p[EMU_TINY_PROT_UV].active || p[EMU_TINY_PROT_DOC].active ||
                                   p[EMU_TINY_PROT_OT].active);
    }
}

static int8_t temp_c_i8(int16_t dc)
{
    int c = dc / 10;
    return (int8_t)(c < -128 ? -128 : (c > 127 ? 127 : c));
}

static void update_stats(emu_tinybms_t *e, const meas_t *m)
{
    emu_tiny_stats_t *s = &e->stats;
    uint16_t dsg_da = clamp_u16(-m->current_a * 10.0, 0.0, 65535.0);
    uint16_t chg_da = clamp_u16(m->current_a * 10.0, 0.0, 65535.0);
    s->max_discharge_da = dsg_da > s->max_discharge_da ? dsg_da : s->max_discharge_da;
    s->max_charge_da = chg_da > s->max_charge_da ? chg_da : s->max_charge_da;
    s->max_diff_01mv = m->diff_01mv > s->max_diff_01mv ? m->diff_01mv : s->max_diff_01mv;
    int8_t lo = temp_c_i8(m->t_min_dc), hi = temp_c_i8(m->t_max_dc);
    if (!s->temps_seen) {
        s->min_temp_c = lo;
        s->max_temp_c = hi;
        s->temps_seen = true;
    }
    s->min_temp_c = lo < s->min_temp_c ? lo : s->min_temp_c;
    s->max_temp_c = hi > s->max_temp_c ? hi : s->max_temp_c;

    uint8_t st = online_status(e, m);
    if (st != e->last_status) {
        if (st == EMU_TINY_ST_CHARGING && s->charging_count < 0xFFFFu) {
            s->charging_count++;
        }
        if (st == EMU_TINY_ST_FULL && s->full_count < 0xFFFFu) {
            s->full_count++;
        }
        e->last_status = st;
    }
}

static void update_sleep(emu_tinybms_t *e, const meas_t *m, uint64_t now_us)
{
    bool current = fabs(m->current_a) >= EMU_TINY_SLEEP_CURRENT_A;
    if ((e->faults & EMU_TINY_F_STUCK_ASLEEP) != 0) {
        e->asleep = true;
        return;
    }
    if (e->asleep) {
        if (current) {
            /* The 1 s sleep poll saw current flowing. */
            e->asleep = false;
            e->last_rx_us = now_us;
            e->stats.wake_cause = m->current_a > 0 ? WAKE_CHARGER : WAKE_DISCHARGE;
        }
        return;
    }
    if (now_us - e->last_rx_us >= EMU_TINY_SLEEP_AFTER_US && !current && !any_fault(e) &&
        real_balancing(m) == 0) {
        e->asleep = true;
        e->rx_len = 0;
        e->drop_next_frame = false;
    }
}

static void advance_clock(emu_tinybms_t *e, uint64_t now_us)
{
    if (now_us > e->now_us) {
        e->now_us = now_us;
    }
}

void emu_tiny_tick(emu_tinybms_t *e, uint64_t now_us)
{
    if (e == NULL) {
        return;
    }
    advance_clock(e, now_us);
    meas_t m;
    measure(e, &m);
    protect(e, &m, e->now_us);
    update_stats(e, &m);
    update_sleep(e, &m, e->now_us);
}

/* ---- lifecycle and faults ---------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void start(emu_tinybms_t *e, uint8_t reset_cause, uint64_t now_us)
{
    e->stats.reset_cause = reset_cause;
    e->stats.wake_cause = WAKE_UART;
    e->asleep = false;
    e->drop_next_frame = false;
    e->last_rx_us = now_us;
    e->rx_len = 0;
    e->reply_len = 0;
    memset(e->prot, 0, sizeof(e->prot));
    log_event(e, EMU_TINY_EV_STARTED);
    meas_t m;
    measure(e, &m);
    protect(e, &m, now_us);
    e->last_status = online_status(e, &m);
    update_sleep(e, &m, now_us);
}

void emu_tiny_init(emu_tinybms_t *e, sim_pack_t *pack, uint64_t seed, uint64_t now_us)
{
    if (e == NULL) {
        return;
    }
    memset(e, 0, sizeof(*e));
    e->pack = pack;
    e->boot_us = now_us;
    e->now_us = now_us;
    default_settings(pack, e->settings);
    uint64_t rng = seed;
    for (size_t i = 0; i < 6; i += 2) {
        uint64_t r = splitmix64(&rng);
        e->serial[i] = (uint16_t)r;
        e->serial[i + 1] = (uint16_t)(r >> 16);
    }
    if (pack != NULL) {
        pack->external_bms = true;
    }
    start(e, RESET_CAUSE_POR, now_us);
}

static void reboot(emu_tinybms_t *e, uint8_t cause, uint64_t now_us)
{
    advance_clock(e, now_us);
    e->reboots++;
    start(e, cause, e->now_us);
}

void emu_tiny_reboot(emu_tinybms_t *e, uint64_t now_us)
{
    if (e != NULL) {
        reboot(e, RESET_CAUSE_POR, now_us);
    }
}

void emu_tiny_set_faults(emu_tinybms_t *e, unsigned mask, uint32_t late_ms)
{
    if (e == NULL) {
        return;
    }
    /* The snapshot is taken when FROZEN is switched on and kept while it stays on. */
    if ((mask & EMU_TINY_F_FROZEN) == 0) {
        e->have_frozen = false;
    } else if (!e->have_frozen) {
        fill_live(e, e->frozen);
        e->have_frozen = true;
    }
    if ((mask & EMU_TINY_F_STUCK_ASLEEP) != 0) {
        e->asleep = true;
        e->rx_len = 0;
        e->reply_len = 0;
    }
    e->faults = mask;
    e->late_ms = late_ms;
}

void emu_tiny_sleep(emu_tinybms_t *e)
{
    if (e != NULL) {
        e->asleep = true;
        e->rx_len = 0;
        e->drop_next_frame = false;
    }
}

bool emu_tiny_asleep(const emu_tinybms_t *e)
{
    return e != NULL && e->asleep;
}

/* ---- replies ------------------------------------------------------------ */

static size_t nack(emu_tinybms_t *e, uint8_t cmd, uint8_t err)
{
    e->nacks++;
    return emu_tiny_encode_nack(cmd, err, e->reply, sizeof(e->reply));
}

static size_t reply_read(emu_tinybms_t *e, const emu_tiny_request_t *q)
{
    uint16_t regs[EMU_TINY_MAX_ITEMS];
    if (emu_tiny_read_regs(e, q->addr, q->count, regs) != 0) {
        return nack(e, q->cmd, EMU_TINY_ERR_CMD);
    }
    uint8_t *r = e->reply;
    r[0] = EMU_TINY_SOF;
    r[1] = q->cmd;
    r[2] = (uint8_t)(2u * q->count);
    for (size_t i = 0; i < q->count; i++) {
        if (q->cmd == EMU_TINY_CMD_MB_READ) {
            emu_tiny_put_be16(&r[3 + 2 * i], regs[i]);
        } else {
            emu_tiny_put_le16(&r[3 + 2 * i], regs[i]);
        }
    }
    return emu_tiny_seal(r, 3u + 2u * q->count, sizeof(e->reply));
}

static size_t reply_read_indiv(emu_tinybms_t *e, const emu_tiny_request_t *q)
{
    uint8_t *r = e->reply;
    r[0] = EMU_TINY_SOF;
    r[1] = q->cmd;
    r[2] = (uint8_t)(4u * q->count);
    for (size_t i = 0; i < q->count; i++) {
        uint16_t v;
        if (emu_tiny_read_regs(e, q->addrs[i], 1, &v) != 0) {
            return nack(e, q->cmd, EMU_TINY_ERR_CMD);
        }
        emu_tiny_put_le16(&r[3 + 4 * i], q->addrs[i]);
        emu_tiny_put_le16(&r[5 + 4 * i], v);
    }
    return emu_tiny_seal(r, 3u + 4u * q->count, sizeof(e->reply));
}

static size_t reply_write(emu_tinybms_t *e, const emu_tiny_request_t *q)
{
    uint16_t regs[EMU_TINY_MAX_ITEMS];
    for (size_t i = 0; i < q->count; i++) {
        unsigned reg = q->cmd == EMU_TINY_CMD_WRITE_INDIV ? q->addrs[i] : q->addr + (unsigned)i;
        /* A block running past 0xFFFF must not wrap into the settings. */
        regs[i] = reg > 0xFFFFu ? 0xFFFFu : (uint16_t)reg;
    }
    if (!apply_writes(e, regs, q->values, q->count)) {
        return nack(e, q->cmd, EMU_TINY_ERR_CMD);
    }
    if (q->cmd != EMU_TINY_CMD_MB_WRITE) {
        return emu_tiny_encode_ack(q->cmd, e->reply, sizeof(e->reply));
    }
    uint8_t *r = e->reply;
    r[0] = EMU_TINY_SOF;
    r[1] = q->cmd;
    emu_tiny_put_be16(&r[2], q->addr);
    emu_tiny_put_be16(&r[4], q->count);
    return emu_tiny_seal(r, 6, sizeof(e->reply));
}

static size_t reply_reset(emu_tinybms_t *e, const emu_tiny_request_t *q, uint64_t now_us)
{
    switch (q->option) {
    case 0x01:
        e->events_first = 0;
        e->events_count = 0;
        break;
    case 0x02: {
        uint16_t keep_cause = (uint16_t)(e->stats.reset_cause | (e->stats.wake_cause << 8));
        memset(&e->stats, 0, sizeof(e->stats));
        e->stats.reset_cause = (uint8_t)(keep_cause & 0xFFu);
        e->stats.wake_cause = (uint8_t)(keep_cause >> 8);
        e->stats.cleared_s = lifetime_s(e);
        break;
    }
    case 0x05:
        reboot(e, RESET_CAUSE_SOFTWARE, now_us);
        break;
    default:
        return nack(e, q->cmd, EMU_TINY_ERR_CMD);
    }
    return emu_tiny_encode_ack(q->cmd, e->reply, sizeof(e->reply));
}

static size_t reply_events(emu_tinybms_t *e, const emu_tiny_request_t *q)
{
    unsigned n = e->events_count;
    unsigned skip = 0;
    if (q->cmd == EMU_TINY_CMD_EVENTS_NEW && n > NEWEST_EVENTS) {
        skip = n - NEWEST_EVENTS;
        n = NEWEST_EVENTS;
    }
    uint8_t *r = e->reply;
    r[0] = EMU_TINY_SOF;
    r[1] = q->cmd;
    r[2] = (uint8_t)(4u + 4u * n);
    emu_tiny_put_le32(&r[3], lifetime_s(e));
    for (unsigned i = 0; i < n; i++) {
        const emu_tiny_event_t *ev = event_at(e, skip + i);
        uint8_t *p = &r[7 + 4 * i];
        p[0] = (uint8_t)(ev->ts_s & 0xFFu);
        p[1] = (uint8_t)((ev->ts_s >> 8) & 0xFFu);
        p[2] = (uint8_t)((ev->ts_s >> 16) & 0xFFu);
        p[3] = ev->id;
    }
    return emu_tiny_seal(r, 7u + 4u * n, sizeof(e->reply));
}

static size_t reply_settings(emu_tinybms_t *e, const emu_tiny_request_t *q)
{
    uint16_t defaults[EMU_TINY_SETTINGS_COUNT];
    default_settings(e->pack, defaults);
    uint8_t *r = e->reply;
    r[0] = EMU_TINY_SOF;
    r[1] = q->cmd;
    r[2] = (uint8_t)(2u * q->count);
    for (unsigned i = 0; i < q->count; i++) {
        unsigned reg = EMU_TINY_SETTINGS_FIRST + i;
        const setting_rule_t *rule = rule_for(reg);
        uint16_t v = 0;
        switch (q->option) {
        case 1: v = rule != NULL ? (uint16_t)rule->min : 0; break;
        case 2: v = rule != NULL ? (uint16_t)rule->max : 0; break;
        case 3: v = defaults[i]; break;
        default: v = e->settings[i]; break;
        }
        emu_tiny_put_le16(&r[3 + 2 * i], v);
    }
    return emu_tiny_seal(r, 3u + 2u * q->count, sizeof(e->reply));
}

/* Replies built from the live registers: 0x14..0x1C, 0x1E, 0x1F, 0x20. */
static size_t reply_live(emu_tinybms_t *e, uint8_t cmd)
{
    uint16_t live[EMU_TINY_LIVE_REGS];
    uint16_t ver[4];
    live_regs(e, live);
    (void)emu_tiny_read_regs(e, 500, 4, ver);
    uint8_t *r = e->reply;
    size_t n = 2;
    r[0] = EMU_TINY_SOF;
    r[1] = cmd;
    switch (cmd) {
    case EMU_TINY_CMD_PACK_V:
    case EMU_TINY_CMD_PACK_I:
    case EMU_TINY_CMD_LIFETIME:
    case EMU_TINY_CMD_SOC: {
        unsigned reg = cmd == EMU_TINY_CMD_PACK_V ? 36 : cmd == EMU_TINY_CMD_PACK_I ? 38
                     : cmd == EMU_TINY_CMD_LIFETIME ? 32 : 46;
        emu_tiny_put_le16(&r[2], live[reg]);
        emu_tiny_put_le16(&r[4], live[reg + 1]);
        n = 6;
        break;
    }
    case EMU_TINY_CMD_MAX_CELL:
    case EMU_TINY_CMD_MIN_CELL:
    case EMU_TINY_CMD_STATUS: {
        unsigned reg = cmd == EMU_TINY_CMD_MAX_CELL ? 41 : cmd == EMU_TINY_CMD_MIN_CELL ? 40 : 50;
        emu_tiny_put_le16(&r[2], live[reg]);
        n = 4;
        break;
    }
    case EMU_TINY_CMD_TEMPS:
        r[2] = 6;
        emu_tiny_put_le16(&r[3], live[48]);
        emu_tiny_put_le16(&r[5], live[42]);
        emu_tiny_put_le16(&r[7], live[43]);
        n = 9;
        break;
    case EMU_TINY_CMD_CELLS: {
        unsigned nc = live[53] > EMU_TINY_MAX_CELLS ? EMU_TINY_MAX_CELLS : live[53];
        r[2] = (uint8_t)(2u * nc);
        for (unsigned i = 0; i < nc; i++) {
            emu_tiny_put_le16(&r[3 + 2 * i], live[EMU_TINY_MAX_CELLS - nc + i]);
        }
        n = 3u + 2u * nc;
        break;
    }
    case EMU_TINY_CMD_VERSION:
    case EMU_TINY_CMD_VERSION_EXT:
        r[2] = cmd == EMU_TINY_CMD_VERSION ? 5 : 7;
        r[3] = (uint8_t)(ver[0] & 0xFFu);
        r[4] = (uint8_t)(ver[0] >> 8);
        r[5] = (uint8_t)(ver[1] & 0xFFu);
        emu_tiny_put_le16(&r[6], ver[2]);
        r[8] = (uint8_t)(ver[3] & 0xFFu);
        r[9] = (uint8_t)(ver[3] >> 8);
        n = 3u + r[2];
        break;
    case EMU_TINY_CMD_SPEED:
        emu_tiny_put_le16(&r[2], live[54]);
        emu_tiny_put_le16(&r[4], live[55]);
        emu_tiny_put_le32(&r[6], live[44]);
        emu_tiny_put_le16(&r[10], live[34]);
        emu_tiny_put_le16(&r[12], live[35]);
        n = 14;
        break;
    default:
        return nack(e, cmd, EMU_TINY_ERR_CMD);
    }
    return emu_tiny_seal(r, n, sizeof(e->reply));
}

static size_t build_reply(emu_tinybms_t *e, const emu_tiny_request_t *q, uint64_t now_us)
{
    switch (q->cmd) {
    case EMU_TINY_CMD_MB_READ:
    case EMU_TINY_CMD_READ_BLOCK:
        return reply_read(e, q);
    case EMU_TINY_CMD_READ_INDIV:
        return reply_read_indiv(e, q);
    case EMU_TINY_CMD_WRITE_BLOCK:
    case EMU_TINY_CMD_WRITE_INDIV:
    case EMU_TINY_CMD_MB_WRITE:
        return reply_write(e, q);
    case EMU_TINY_CMD_RESET:
        return reply_reset(e, q, now_us);
    case EMU_TINY_CMD_EVENTS_NEW:
    case EMU_TINY_CMD_EVENTS_ALL:
        return reply_events(e, q);
    case EMU_TINY_CMD_SETTINGS:
        return reply_settings(e, q);
    default:
        return reply_live(e, q->cmd);
    }
}

/* Damage a finished reply as the fault mask asks. */
static size_t apply_faults(const emu_tinybms_t *e, uint8_t *r, size_t len)
{
    if ((e->faults & EMU_TINY_F_BAD_CRC) != 0 && len >= 2) {
        r[len - 1] ^= 0xFFu;
    }
    if ((e->faults & EMU_TINY_F_TRUNCATED) != 0) {
        len /= 2;
    }
    return len;
}

static void handle_frame(emu_tinybms_t *e, const uint8_t *frame, size_t len, uint64_t now_us)
{
    /* The host has moved on: an untaken reply is replaced. */
    e->reply_len = 0;
    e->frames++;
    if (e->drop_next_frame) {
        /* This frame woke the BMS; it is lost (tinybms.md §1, wake-up). */
        e->drop_next_frame = false;
        e->wake_frames++;
        return;
    }
    if (e->pack != NULL && e->pack->disconnected) {
        return;
    }
    emu_tiny_request_t q;
    int rc = emu_tiny_decode_request(frame, len, &q);
    if (rc == EMU_TINY_DEC_BAD_CRC) {
        e->crc_errors++;
    } else if (rc != EMU_TINY_DEC_OK) {
        e->bad_frames++;
    }
    if ((e->faults & EMU_TINY_F_SILENT) != 0) {
        return;
    }
    size_t n;
    if ((e->faults & EMU_TINY_F_NACK_STORM) != 0 || rc == EMU_TINY_DEC_BAD_CMD) {
        n = nack(e, q.cmd, EMU_TINY_ERR_CMD);
    } else if (rc == EMU_TINY_DEC_BAD_CRC) {
        n = nack(e, q.cmd, EMU_TINY_ERR_CRC);
    } else {
        n = build_reply(e, &q, now_us);
    }
    if (n == 0) {
        return;
    }
    /* Data words: everything between AA CMD and the CRC (a PL byte rounds away). */
    uint64_t words = n > 4 ? (n - 4) / 2 : 0;
    uint64_t delay_us = REPLY_BASE_US + REPLY_PER_WORD_US * words;
    if ((e->faults & EMU_TINY_F_LATE) != 0) {
        delay_us += (uint64_t)e->late_ms * 1000u;
    }
    e->reply_len = apply_faults(e, e->reply, n);
    e->reply_at_us = now_us + delay_us;
    e->replies++;
}

void emu_tiny_feed(emu_tinybms_t *e, const uint8_t *data, size_t len, uint64_t now_us)
{
    if (e == NULL || data == NULL) {
        return;
    }
    advance_clock(e, now_us);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if ((e->faults & EMU_TINY_F_STUCK_ASLEEP) != 0) {
            e->asleep_bytes++;
            continue;
        }
        if (e->asleep) {
            e->asleep = false;
            e->drop_next_frame = true;
            e->stats.wake_cause = WAKE_UART;
        }
        if (e->rx_len > 0 && e->now_us - e->last_rx_us > EMU_TINY_INTERBYTE_US) {
            e->timeouts++;
            e->rx_len = 0;
        }
        e->last_rx_us = e->now_us;
        if (e->rx_len == 0 && c != EMU_TINY_SOF) {
            /* Noise woke it, not a frame: the next frame is answered. */
            e->noise_bytes++;
            e->drop_next_frame = false;
            continue;
        }
        e->rx[e->rx_len++] = c;
        size_t need = emu_tiny_request_length(e->rx, e->rx_len);
        if ((need != 0 && e->rx_len >= need) || e->rx_len >= sizeof(e->rx)) {
            handle_frame(e, e->rx, e->rx_len, e->now_us);
            e->rx_len = 0;
        }
    }
}

size_t emu_tiny_take_reply(emu_tinybms_t *e, uint8_t *out, size_t cap, uint64_t *start_us)
{
    if (e == NULL || out == NULL || e->reply_len == 0 || e->reply_len > cap) {
        return 0;
    }
    size_t n = e->reply_len;
    memcpy(out, e->reply, n);
    if (start_us != NULL) {
        *start_us = e->reply_at_us;
    }
    e->reply_len = 0;
    return n;
}
