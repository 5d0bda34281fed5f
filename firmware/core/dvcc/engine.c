/* SPDX-License-Identifier: MIT */
/* DVCC and protection engine (see engine.h for every rule and its reason). */
#include "dvcc/engine.h"

#include <string.h>

/* Cell count assumed before any pack told us (the baseline's choice). */
#define FALLBACK_CELLS 16u
/* Over-current warnings release 5 % under the maximum. */
#define OC_WARN_RELEASE_PCT 95u
#define OFFLINE_LOW_SOC_PCT 30u  /* a silent pack last seen below this blocks discharge */
#define CAUSE_LEN 40u

/* ---- a tiny formatter: no snprintf in firmware ---- */

typedef struct fmt {
    char *s;
    size_t cap, n;
} fmt_t;

static void f_init(fmt_t *f, char *s, size_t cap)
{
    f->s = s;
    f->cap = cap;
    f->n = 0;
    if (cap > 0) {
        s[0] = '\0';
    }
}

/* Appends what fits; the text always stays NUL-terminated. */
static void f_str(fmt_t *f, const char *t)
{
    while (*t != '\0' && f->n + 1 < f->cap) {
        f->s[f->n++] = *t++;
    }
    if (f->cap > 0) {
        f->s[f->n] = '\0';
    }
}

static void f_uint(fmt_t *f, uint32_t v)
{
    char tmp[11];
    size_t k = sizeof(tmp) - 1;
    tmp[k] = '\0';
    do {
        tmp[--k] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v > 0 && k > 0);
    f_str(f, &tmp[k]);
}

/* v in units of 10^-dec, written with dec decimals ("3.48", "-2.5"). */
static void f_fixed(fmt_t *f, int32_t v, unsigned dec)
{
    uint32_t pow = 1;
    for (unsigned i = 0; i < dec; i++) {
        pow *= 10u;
    }
    uint32_t a = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
    if (v < 0) {
        f_str(f, "-");
    }
    f_uint(f, a / pow);
    if (dec == 0) {
        return;
    }
    f_str(f, ".");
    uint32_t frac = a % pow;
    for (uint32_t p = pow / 10u; p > 0; p /= 10u) {
        char d[2] = {(char)('0' + (frac / p) % 10u), '\0'};
        f_str(f, d);
    }
}

/* "pack 2 " when several packs are online, so a single-pack text stays short. */
static void f_pack(fmt_t *f, const gw_bank_t *b, uint8_t addr)
{
    if (b->packs_online > 1) {
        f_str(f, "pack ");
        f_uint(f, addr);
        f_str(f, " ");
    }
}

static void f_cell(fmt_t *f, const gw_bank_t *b, uint8_t addr, uint8_t index0, uint16_t mv)
{
    f_pack(f, b, addr);
    f_str(f, "cell ");
    f_uint(f, (uint32_t)index0 + 1u);
    f_str(f, " at ");
    f_fixed(f, mv / 10, 2);
    f_str(f, " V");
}

static void f_sensor(fmt_t *f, const gw_bank_t *b, uint8_t addr, uint8_t index0, int16_t dc)
{
    f_pack(f, b, addr);
    f_str(f, "sensor ");
    f_uint(f, (uint32_t)index0 + 1u);
    f_str(f, " at ");
    f_fixed(f, dc, 1);
    f_str(f, " C");
}

/* "CCL 12.5 A: <cause>" into a limits buffer. */
static void write_why(char *dst, const char *name, uint16_t value, const char *unit,
                      const char *cause)
{
    fmt_t f;
    f_init(&f, dst, GW_WHY_LEN);
    f_str(&f, name);
    f_str(&f, " ");
    f_fixed(&f, value, 1);
    f_str(&f, unit);
    f_str(&f, ": ");
    f_str(&f, cause);
}

/* ---- small helpers ---- */

static uint16_t clamp_u16(uint64_t v)
{
    return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

static uint16_t min_u16(uint16_t a, uint16_t b)
{
    return a < b ? a : b;
}

/* Hysteresis latch: trip wins over release. */
static bool latch(bool *s, bool trip, bool release)
{
    if (trip) {
        *s = true;
    } else if (release) {
        *s = false;
    }
    return *s;
}

static uint8_t pair(bool active)
{
    return active ? GW_PAIR_ACTIVE : GW_PAIR_OK;
}

const char *gw_chg_state_name(gw_chg_state_t st)
{
    switch (st) {
    case GW_CHG_STARTING:
        return "starting";
    case GW_CHG_BULK:
        return "bulk";
    case GW_CHG_ABSORPTION:
        return "absorption";
    case GW_CHG_FLOAT:
        return "float";
    case GW_CHG_IMBALANCE_HOLD:
        return "imbalance_hold";
    case GW_CHG_NO_DATA:
        return "no_data";
    }
    return "unknown";
}

const char *gw_engine_state_name(const gw_engine_t *e)
{
    return gw_chg_state_name(e->state);
}

void gw_engine_init(gw_engine_t *e, const gw_profile_t *p)
{
    memset(e, 0, sizeof(*e));
    if (p != NULL && gw_profile_validate(p, NULL) == 0) {
        e->prof = *p;
    } else {
        gw_profile_default(&e->prof);
        e->profile_rejected = p != NULL;
    }
    e->state = GW_CHG_STARTING;
}

static void set_state(gw_engine_t *e, gw_chg_state_t st, uint64_t now_ms)
{
    if (e->state == st) {
        return;
    }
    e->state = st;
    e->state_since_ms = now_ms;
    e->converged = false;
    e->counters.transitions++;
}

/* ---- plausibility ---- */

typedef struct pack_ext {
    bool cells, temps;
    bool no_cell_data;     /* no cell reports at all, or every cell 0 mV (e.g. firmware
                              without the cell objects): pack-level checks only */
    uint16_t min_mv, max_mv;
    int16_t min_dc, max_dc;
    uint32_t sum_mv;
    uint8_t zero_index;    /* first cell outside the plausible range */
    bool bad_cell;
    uint16_t bad_mv;
} pack_ext_t;

static pack_ext_t pack_extremes(const gw_profile_t *pr, const gw_pack_t *p)
{
    pack_ext_t x;
    memset(&x, 0, sizeof(x));
    for (uint8_t i = 0; i < gw_pack_cells(p); i++) {
        uint16_t mv = p->cell_mv[i];
        x.sum_mv += mv;
        if (mv < pr->cell_plausible_min_mv || mv > pr->cell_plausible_max_mv) {
            if (!x.bad_cell) {
                x.bad_cell = true;
                x.zero_index = i;
                x.bad_mv = mv;
            }
            continue;
        }
        if (!x.cells || mv < x.min_mv) {
            x.min_mv = mv;
        }
        if (!x.cells || mv > x.max_mv) {
            x.max_mv = mv;
        }
        x.cells = true;
    }
    if (!x.cells && x.sum_mv == 0) {
        x.no_cell_data = true;
        x.bad_cell = false;
    }
    for (uint8_t i = 0; i < gw_pack_cell_temps(p); i++) {
        int16_t t = p->temp_dc[i];
        if (!x.temps || t < x.min_dc) {
            x.min_dc = t;
        }
        if (!x.temps || t > x.max_dc) {
            x.max_dc = t;
        }
        x.temps = true;
    }
    return x;
}

static uint32_t abs_diff(int64_t a, int64_t b)
{
    int64_t d = a - b;
    d = d < 0 ? -d : d;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* One pack: implausible now (returns true with the cause), and whether this
 * reading jumped from the last one (sets *jumped). */
static bool pack_implausible(gw_engine_t *e, const gw_bank_t *b, const gw_pack_t *p, size_t idx,
                             uint64_t now_ms, bool *jumped, bool *stale, fmt_t *cause)
{
    const gw_profile_t *pr = &e->prof;
    pack_ext_t x = pack_extremes(pr, p);
    gw_pack_memo_t *m = &e->memo[idx];
    *jumped = false;
    *stale = now_ms > p->updated_ms && now_ms - p->updated_ms > pr->data_stale_ms;

    if (m->have && p->updated_ms != m->updated_ms && x.cells) {
        *jumped = abs_diff(x.max_mv, m->max_mv) > pr->cell_jump_mv ||
                  abs_diff(x.min_mv, m->min_mv) > pr->cell_jump_mv ||
                  (x.temps && (abs_diff(x.max_dc, m->max_dc) > (uint32_t)pr->temp_jump_dc ||
                               abs_diff(x.min_dc, m->min_dc) > (uint32_t)pr->temp_jump_dc));
    }
    if (x.cells && !x.bad_cell) {
        m->have = true;
        m->updated_ms = p->updated_ms;
        m->min_mv = x.min_mv;
        m->max_mv = x.max_mv;
        m->min_dc = x.min_dc;
        m->max_dc = x.max_dc;
    }

    bool bad = true;
    f_pack(cause, b, p->address);
    if (*stale) {
        f_str(cause, "stale reading");
    } else if (x.no_cell_data) {
        cause->n = 0; /* nothing to cross-check: the pack-level checks decide */
        cause->s[0] = '\0';
        bad = false;
    } else if (x.bad_cell) {
        f_str(cause, "cell ");
        f_uint(cause, (uint32_t)x.zero_index + 1u);
        f_str(cause, " at ");
        f_uint(cause, x.bad_mv);
        f_str(cause, " mV");
    } else if (!x.cells) {
        f_str(cause, "no cell voltages");
    } else if (pr->cell_count != 0 && p->cell_count != pr->cell_count) {
        f_str(cause, "cell count ");
        f_uint(cause, p->cell_count);
    } else if (abs_diff(p->voltage_mv, x.sum_mv) > pr->pack_sum_tolerance_mv) {
        f_str(cause, "voltage ");
        f_fixed(cause, (int32_t)(p->voltage_mv / 100u), 1);
        f_str(cause, " V vs cells ");
        f_fixed(cause, (int32_t)(x.sum_mv / 100u), 1);
        f_str(cause, " V");
    } else if (*jumped) {
        bad = false; /* suspect, not implausible: the caller holds for jump_hold_ms */
        f_str(cause, "reading jumped");
    } else {
        cause->n = 0;
        cause->s[0] = '\0';
        bad = false;
    }
    return bad;
}

/* ---- fail-safe ---- */

static void fail_safe(gw_engine_t *e, const gw_bank_t *b, bool startup_done, uint64_t now_ms,
                      const char *cat, const char *cause, gw_limits_t *out)
{
    const gw_profile_t *pr = &e->prof;
    bool alarm = startup_done || e->had_data;
    uint32_t cells = pr->cell_count ? pr->cell_count : FALLBACK_CELLS;

    for (int i = 0; i < GW_AL_COUNT; i++) {
        out->alarm[i] = out->warning[i] = GW_PAIR_OK;
    }
    out->alarm[GW_AL_CONTACTOR] = out->warning[GW_AL_CONTACTOR] = GW_PAIR_UNSUPPORTED;
    out->alarm[GW_AL_SHORT_CIRCUIT] = out->warning[GW_AL_SHORT_CIRCUIT] = GW_PAIR_UNSUPPORTED;
    out->ccl_da = 0;
    out->dcl_da = 0;
    out->cvl_dv = e->last_cvl_dv ? e->last_cvl_dv : clamp_u16((uint64_t)cells * pr->cvl_cell_mv / 100u);
    out->dvl_dv = e->last_dvl_dv ? e->last_dvl_dv : clamp_u16((uint64_t)cells * pr->dvl_cell_mv / 100u);
    if (alarm) {
        out->alarm[GW_AL_GENERAL] = GW_PAIR_ACTIVE;
        out->alarm[GW_AL_BMS_INTERNAL] = GW_PAIR_ACTIVE;
        out->warning[GW_AL_GENERAL] = GW_PAIR_ACTIVE;
        out->warning[GW_AL_BMS_INTERNAL] = GW_PAIR_ACTIVE;
        if (e->state != GW_CHG_NO_DATA) {
            e->counters.failsafe_entries++;
        }
        set_state(e, GW_CHG_NO_DATA, now_ms);
    } else {
        cat = "starting";
        cause = "starting";
    }
    out->ccl_reason = cat;
    out->dcl_reason = cat;
    /* Leaving 0 later goes through the recovery hold, like any other 0. */
    gw_rate_t *r[2] = {&e->ccl, &e->dcl};
    for (int i = 0; i < 2; i++) {
        if (r[i]->have && r[i]->value_da != 0) {
            r[i]->last_change_ms = now_ms;
        }
        r[i]->value_da = 0;
        r[i]->recovering = false;
        r[i]->ramping = false;
    }
    e->have_curves = false;
    write_why(out->cvl_why, "CVL", out->cvl_dv, " V", cause);
    write_why(out->ccl_why, "CCL", 0, " A", cause);
    write_why(out->dcl_why, "DCL", 0, " A", cause);
    (void)b;
}

/* ---- alarms and warnings ---- */

static void update_latches(gw_engine_t *e, const gw_bank_t *b, const gw_pack_t *packs, size_t n,
                           uint32_t chg_max_da, uint32_t dis_max_da, uint64_t now_ms)
{
    const gw_profile_t *pr = &e->prof;
    /* Pack level: the pack voltage against cells x the cut-offs. The only
     * voltage check for a pack without cell data (then released the same way). */
    bool pack_ov = false, pack_uv = false, pack_ov_rel = true, pack_uv_rel = true;
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online || p->cell_count == 0) {
            continue;
        }
        uint32_t v = p->voltage_mv, k = p->cell_count;
        pack_ov = pack_ov || v >= k * pr->cell_max_mv;
        pack_uv = pack_uv || v <= k * pr->cell_min_mv;
        pack_ov_rel = pack_ov_rel && v < k * pr->cell_max_release_mv;
        pack_uv_rel = pack_uv_rel && v > k * pr->cell_min_release_mv;
    }
    if (b->cell_readings == 0) {
        latch(&e->ov, pack_ov, pack_ov_rel);
        latch(&e->uv, pack_uv, pack_uv_rel);
    }
    if (b->cell_readings > 0) {
        latch(&e->ov, b->max_cell_mv >= pr->cell_max_mv || pack_ov,
              b->max_cell_mv < pr->cell_max_release_mv && pack_ov_rel);
        latch(&e->uv, b->min_cell_mv <= pr->cell_min_mv || pack_uv,
              b->min_cell_mv > pr->cell_min_release_mv && pack_uv_rel);
        latch(&e->w_hv, b->max_cell_mv >= pr->cell_high_warn_mv,
              b->max_cell_mv < (uint32_t)pr->cell_high_warn_mv - pr->warn_hysteresis_mv);
        latch(&e->w_lv, b->min_cell_mv <= pr->cell_low_warn_mv,
              b->min_cell_mv > (uint32_t)pr->cell_low_warn_mv + pr->warn_hysteresis_mv);
        /* Spread is only meaningful near the top of an LFP curve. */
        bool top = b->max_cell_mv >= pr->imbalance_min_cell_mv;
        uint32_t spread = (uint32_t)(b->max_cell_mv - b->min_cell_mv);
        latch(&e->w_imb, top && spread >= pr->imbalance_warn_mv,
              spread + pr->warn_hysteresis_mv < pr->imbalance_warn_mv);
        latch(&e->a_imb, top && spread >= pr->imbalance_alarm_mv,
              spread + pr->warn_hysteresis_mv < pr->imbalance_alarm_mv);
    }
    if (b->temp_readings > 0) {
        int32_t lo = b->min_temp_dc, hi = b->max_temp_dc, h = pr->temp_hysteresis_dc;
        int32_t m = pr->temp_warn_margin_dc;
        latch(&e->chg_cold, lo < pr->charge_min_dc, lo >= pr->charge_min_dc + h);
        latch(&e->chg_hot, hi > pr->charge_max_dc, hi <= pr->charge_max_dc - h);
        latch(&e->dis_cold, lo < pr->discharge_min_dc, lo >= pr->discharge_min_dc + h);
        latch(&e->dis_hot, hi > pr->discharge_max_dc, hi <= pr->discharge_max_dc - h);
        latch(&e->w_chg_cold, lo < pr->charge_min_dc + m, lo >= pr->charge_min_dc + m + h);
        latch(&e->w_chg_hot, hi > pr->charge_max_dc - m, hi <= pr->charge_max_dc - m - h);
        latch(&e->w_dis_cold, lo < pr->discharge_min_dc + m, lo >= pr->discharge_min_dc + m + h);
        latch(&e->w_dis_hot, hi > pr->discharge_max_dc - m, hi <= pr->discharge_max_dc - m - h);
    }
    /* Over-current against the configured maxima: a GX that ignores the
     * limits for overcurrent_delay_ms gets that direction stopped. */
    int64_t chg_da = b->current_ma > 0 ? b->current_ma / 100 : 0;
    int64_t dis_da = b->current_ma < 0 ? -(int64_t)b->current_ma / 100 : 0;
    uint64_t chg_thr = (uint64_t)chg_max_da * (100u + pr->overcurrent_alarm_pct) / 100u;
    uint64_t dis_thr = (uint64_t)dis_max_da * (100u + pr->overcurrent_alarm_pct) / 100u;
    bool *flag[2] = {&e->oc_chg, &e->oc_dis};
    bool *timing[2] = {&e->oc_chg_timing, &e->oc_dis_timing};
    uint64_t *since[2] = {&e->oc_chg_since_ms, &e->oc_dis_since_ms};
    int64_t cur[2] = {chg_da, dis_da};
    uint64_t thr[2] = {chg_thr, dis_thr};
    uint32_t max[2] = {chg_max_da, dis_max_da};
    for (int i = 0; i < 2; i++) {
        if ((uint64_t)cur[i] > thr[i]) {
            if (!*timing[i]) {
                *timing[i] = true;
                *since[i] = now_ms;
            }
            if (now_ms - *since[i] >= pr->overcurrent_delay_ms) {
                *flag[i] = true;
            }
        } else {
            *timing[i] = false;
            if ((uint64_t)cur[i] <= max[i]) {
                *flag[i] = false;
            }
        }
    }
    latch(&e->w_oc_chg, (uint64_t)chg_da > chg_max_da,
          (uint64_t)chg_da * 100u <= (uint64_t)chg_max_da * OC_WARN_RELEASE_PCT);
    latch(&e->w_oc_dis, (uint64_t)dis_da > dis_max_da,
          (uint64_t)dis_da * 100u <= (uint64_t)dis_max_da * OC_WARN_RELEASE_PCT);
}

static void set_pairs(const gw_engine_t *e, bool held, const gw_bank_t *b, gw_limits_t *out)
{
    uint8_t *a = out->alarm, *w = out->warning;
    a[GW_AL_HIGH_VOLTAGE] = pair(e->ov);
    a[GW_AL_LOW_VOLTAGE] = pair(e->uv);
    a[GW_AL_HIGH_TEMP] = pair(e->dis_hot);
    a[GW_AL_LOW_TEMP] = pair(e->dis_cold);
    a[GW_AL_HIGH_TEMP_CHARGE] = pair(e->chg_hot);
    a[GW_AL_LOW_TEMP_CHARGE] = pair(e->chg_cold);
    a[GW_AL_HIGH_DISCHARGE_CURRENT] = pair(e->oc_dis);
    a[GW_AL_HIGH_CHARGE_CURRENT] = pair(e->oc_chg);
    a[GW_AL_BMS_INTERNAL] = pair(false);
    a[GW_AL_CELL_IMBALANCE] = pair(e->a_imb);
    w[GW_AL_HIGH_VOLTAGE] = pair(e->ov || e->w_hv);
    w[GW_AL_LOW_VOLTAGE] = pair(e->uv || e->w_lv);
    w[GW_AL_HIGH_TEMP] = pair(e->dis_hot || e->w_dis_hot);
    w[GW_AL_LOW_TEMP] = pair(e->dis_cold || e->w_dis_cold);
    w[GW_AL_HIGH_TEMP_CHARGE] = pair(e->chg_hot || e->w_chg_hot);
    w[GW_AL_LOW_TEMP_CHARGE] = pair(e->chg_cold || e->w_chg_cold);
    w[GW_AL_HIGH_DISCHARGE_CURRENT] = pair(e->oc_dis || e->w_oc_dis);
    w[GW_AL_HIGH_CHARGE_CURRENT] = pair(e->oc_chg || e->w_oc_chg);
    w[GW_AL_BMS_INTERNAL] = pair(held || b->packs_offline > 0);
    w[GW_AL_CELL_IMBALANCE] = pair(e->a_imb || e->w_imb || e->state == GW_CHG_IMBALANCE_HOLD);
    bool any_a = false, any_w = false;
    for (int i = 1; i < GW_AL_COUNT; i++) {
        any_a = any_a || a[i] == GW_PAIR_ACTIVE;
        any_w = any_w || w[i] == GW_PAIR_ACTIVE;
    }
    a[GW_AL_GENERAL] = pair(any_a);
    w[GW_AL_GENERAL] = pair(any_w || any_a);
    /* A gateway cannot see contactors or shorts: say so. */
    a[GW_AL_CONTACTOR] = w[GW_AL_CONTACTOR] = GW_PAIR_UNSUPPORTED;
    a[GW_AL_SHORT_CIRCUIT] = w[GW_AL_SHORT_CIRCUIT] = GW_PAIR_UNSUPPORTED;
}

static void count_blocking(const gw_engine_t *e, const gw_pack_t *packs, size_t n,
                           const bool *bad, gw_limits_t *out)
{
    const gw_profile_t *pr = &e->prof;
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online) {
            continue;
        }
        pack_ext_t x = pack_extremes(pr, p);
        bool chg_t = x.temps && (x.min_dc < pr->charge_min_dc || x.max_dc > pr->charge_max_dc);
        bool dis_t = x.temps && (x.min_dc < pr->discharge_min_dc || x.max_dc > pr->discharge_max_dc);
        if (bad[i] || p->bms_charge_off || chg_t || (x.cells && x.max_mv >= pr->cell_max_mv)) {
            out->packs_blocking_charge++;
        }
        if (bad[i] || p->bms_discharge_off || dis_t || (x.cells && x.min_mv <= pr->cell_min_mv)) {
            out->packs_blocking_discharge++;
        }
    }
}

/* ---- charge state machine ---- */

static void update_state(gw_engine_t *e, const gw_bank_t *b, uint32_t cells, uint64_t now_ms)
{
    const gw_profile_t *pr = &e->prof;
    if (b->cell_readings == 0) {
        return;
    }
    uint32_t spread = (uint32_t)(b->max_cell_mv - b->min_cell_mv);
    uint32_t target = cells * pr->cvl_cell_mv;
    uint32_t v = b->voltage_mv;

    if (e->state == GW_CHG_STARTING || e->state == GW_CHG_NO_DATA) {
        set_state(e, GW_CHG_BULK, now_ms);
    }
    if (e->state != GW_CHG_IMBALANCE_HOLD && b->max_cell_mv >= pr->imbalance_min_cell_mv &&
        spread > pr->imbalance_hold_mv) {
        set_state(e, GW_CHG_IMBALANCE_HOLD, now_ms);
        return;
    }
    switch (e->state) {
    case GW_CHG_BULK:
        if (v + cells * pr->absorption_enter_mv >= target || b->max_cell_mv >= pr->cvl_cell_mv) {
            set_state(e, GW_CHG_ABSORPTION, now_ms);
        }
        break;
    case GW_CHG_ABSORPTION:
        if (spread <= pr->converged_mv) {
            if (!e->converged) {
                e->converged = true;
                e->converged_since_ms = now_ms;
            }
        } else {
            e->converged = false; /* the wait restarts (B.2) */
        }
        if ((e->converged && now_ms - e->converged_since_ms >= pr->float_after_converged_ms) ||
            (pr->absorption_max_ms > 0 && now_ms - e->state_since_ms >= pr->absorption_max_ms)) {
            set_state(e, GW_CHG_FLOAT, now_ms);
        } else if (v + cells * pr->absorption_exit_mv < target &&
                   b->max_cell_mv + pr->absorption_exit_mv < pr->cvl_cell_mv) {
            set_state(e, GW_CHG_BULK, now_ms);
        }
        break;
    case GW_CHG_FLOAT:
        if (b->soc_pct < pr->rebulk_soc_pct || b->min_cell_mv < pr->rebulk_cell_mv) {
            set_state(e, GW_CHG_BULK, now_ms);
        }
        break;
    case GW_CHG_IMBALANCE_HOLD:
        if (spread < pr->imbalance_release_mv &&
            now_ms - e->state_since_ms >= pr->imbalance_hold_min_ms) {
            set_state(e, GW_CHG_BULK, now_ms);
        }
        break;
    default:
        break;
    }
}

/* ---- CVL ---- */

static uint16_t state_cell_mv(const gw_engine_t *e)
{
    switch (e->state) {
    case GW_CHG_FLOAT:
        return e->prof.float_cell_mv;
    case GW_CHG_IMBALANCE_HOLD:
        return e->prof.hold_cell_mv;
    default:
        return e->prof.cvl_cell_mv;
    }
}

/* Target before rate limiting, in mV, with its cause. */
static uint32_t cvl_target(const gw_engine_t *e, const gw_bank_t *b, const gw_pack_t *packs,
                           size_t n, const bool *bad, uint32_t cells, fmt_t *cause)
{
    const gw_profile_t *pr = &e->prof;
    uint16_t per_cell = state_cell_mv(e);
    uint32_t target = cells * per_cell;
    f_str(cause, gw_engine_state_name(e));
    f_str(cause, " ");
    f_fixed(cause, per_cell, 3);
    f_str(cause, " V x ");
    f_uint(cause, cells);

    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online || bad[i] || p->cell_count != cells) {
            continue;
        }
        /* Penalty sum: what the pack would read with every cell above the
         * target pulled back to it. */
        uint32_t sum = 0, excess = 0;
        uint8_t hi_i = 0;
        for (uint8_t c = 0; c < gw_pack_cells(p); c++) {
            uint16_t mv = p->cell_mv[c];
            sum += mv;
            if (mv > per_cell) {
                excess += (uint32_t)(mv - per_cell);
            }
            if (mv > p->cell_mv[hi_i]) {
                hi_i = c;
            }
        }
        if (excess == 0) {
            continue;
        }
        uint32_t floor_mv = cells * pr->cvl_floor_cell_mv;
        uint32_t cand = sum > excess ? sum - excess : 0;
        cand = cand < floor_mv ? floor_mv : cand;
        if (cand < target) {
            target = cand;
            cause->n = 0;
            f_cell(cause, b, p->address, hi_i, p->cell_mv[hi_i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (p->online && p->bms_limits_valid && p->bms_max_charge_mv > 0 &&
            p->bms_max_charge_mv < target) {
            target = p->bms_max_charge_mv;
            cause->n = 0;
            f_pack(cause, b, p->address);
            f_str(cause, "BMS max ");
            f_fixed(cause, (int32_t)(target / 100u), 1);
            f_str(cause, " V");
        }
    }
    return target;
}

/* Decreases at once; increases after cvl_rise_hold_ms, ramped. */
static uint32_t cvl_rate_limit(gw_engine_t *e, uint32_t target, uint64_t now_ms, fmt_t *cause)
{
    const gw_profile_t *pr = &e->prof;
    if (!e->cvl_have) {
        e->cvl_have = true;
        e->cvl_mv = target;
        e->cvl_drop_ms = now_ms;
    } else if (target < e->cvl_mv) {
        e->cvl_mv = target;
        e->cvl_drop_ms = now_ms;
    } else if (target > e->cvl_mv) {
        bool rising = now_ms - e->cvl_drop_ms >= pr->cvl_rise_hold_ms;
        if (rising) {
            uint64_t inc = (uint64_t)pr->cvl_ramp_mv_per_s * (now_ms - e->cvl_step_ms) / 1000u;
            uint64_t v = (uint64_t)e->cvl_mv + inc;
            e->cvl_mv = v >= target ? target : (uint32_t)v;
        }
        if (e->cvl_mv < target) {
            cause->n = 0;
            f_str(cause, rising ? "ramp to " : "hold before rising to ");
            f_fixed(cause, (int32_t)(target / 100u), 1);
            f_str(cause, " V");
        }
    }
    e->cvl_step_ms = now_ms;
    return e->cvl_mv;
}

/* ---- CCL / DCL ---- */

typedef struct cand {
    uint16_t da;
    const char *cat;
    char cause[CAUSE_LEN];
} cand_t;

/* Lower (or, with or_equal, equal) values take over the reason. */
static bool take(cand_t *c, uint64_t da, const char *cat, bool or_equal, fmt_t *f)
{
    uint16_t v = clamp_u16(da);
    if (v < c->da || (or_equal && v == c->da)) {
        c->da = v;
        c->cat = cat;
        f_init(f, c->cause, sizeof(c->cause));
        return true;
    }
    return false;
}

/* Smallest curve value over [x - h, x + h]: a rise must hold over the whole
 * window, so a dithering input cannot toggle the result. */
static uint16_t window_min(const gw_curve_t *c, gw_curve_mode_t m, int32_t x, int32_t h)
{
    uint16_t v = min_u16(gw_curve_eval(c, m, x - h), gw_curve_eval(c, m, x + h));
    v = min_u16(v, gw_curve_eval(c, m, x));
    for (uint8_t i = 0; i < c->n && i < GW_CURVE_MAX; i++) {
        if (c->x[i] > x - h && c->x[i] < x + h) {
            v = min_u16(v, gw_curve_eval(c, m, c->x[i]));
            v = min_u16(v, gw_curve_eval(c, m, (int32_t)c->x[i] - 1));
        }
    }
    return v;
}

static uint16_t hyst(bool have, uint16_t *held, uint16_t now, uint16_t wmin)
{
    if (!have || now < *held) {
        *held = now;
    } else if (wmin > *held) {
        *held = wmin;
    }
    return *held;
}

typedef struct curves {
    uint16_t chg_cell, dis_cell, chg_temp, dis_temp, chg_soc, dis_soc;
    bool chg_temp_at_max, dis_temp_at_max; /* which sensor set the temperature value */
} curves_t;

static uint16_t eval2(const gw_curve_t *c, gw_curve_mode_t m, int32_t a, int32_t b, bool *at_b)
{
    uint16_t va = gw_curve_eval(c, m, a), vb = gw_curve_eval(c, m, b);
    *at_b = vb < va;
    return min_u16(va, vb);
}

static curves_t eval_curves(gw_engine_t *e, const gw_bank_t *b)
{
    const gw_profile_t *pr = &e->prof;
    gw_curve_mode_t m = pr->curve_mode;
    curves_t cv;
    memset(&cv, 0, sizeof(cv));
    bool have = e->have_curves;
    int32_t hc = pr->hyst_cell_mv, ht = pr->hyst_temp_dc, hs = pr->hyst_soc_pct;
    cv.chg_cell = hyst(have, &e->h_chg_cell, gw_curve_eval(&pr->charge_cell, m, b->max_cell_mv),
                       window_min(&pr->charge_cell, m, b->max_cell_mv, hc));
    cv.dis_cell = hyst(have, &e->h_dis_cell, gw_curve_eval(&pr->discharge_cell, m, b->min_cell_mv),
                       window_min(&pr->discharge_cell, m, b->min_cell_mv, hc));
    if (b->temp_readings > 0) {
        int32_t lo = b->min_temp_dc, hi = b->max_temp_dc;
        uint16_t now_c = eval2(&pr->charge_temp, m, lo, hi, &cv.chg_temp_at_max);
        uint16_t now_d = eval2(&pr->discharge_temp, m, lo, hi, &cv.dis_temp_at_max);
        uint16_t w_c = min_u16(window_min(&pr->charge_temp, m, lo, ht),
                               window_min(&pr->charge_temp, m, hi, ht));
        uint16_t w_d = min_u16(window_min(&pr->discharge_temp, m, lo, ht),
                               window_min(&pr->discharge_temp, m, hi, ht));
        cv.chg_temp = hyst(have, &e->h_chg_temp, now_c, w_c);
        cv.dis_temp = hyst(have, &e->h_dis_temp, now_d, w_d);
    } else {
        cv.chg_temp = cv.dis_temp = 1000;
    }
    cv.chg_soc = hyst(have, &e->h_chg_soc, gw_curve_eval(&pr->charge_soc, m, b->soc_pct),
                      window_min(&pr->charge_soc, m, b->soc_pct, hs));
    cv.dis_soc = hyst(have, &e->h_dis_soc, gw_curve_eval(&pr->discharge_soc, m, b->soc_pct),
                      window_min(&pr->discharge_soc, m, b->soc_pct, hs));
    e->have_curves = true;
    return cv;
}

/* The packs' own BMS allowance: usable packs and the sum they allow. */
static void bms_allowance(const gw_pack_t *packs, size_t n, bool charge, uint16_t per_pack_da,
                          uint8_t *usable, uint64_t *sum_da, uint8_t *limiting_addr)
{
    *usable = 0;
    *sum_da = 0;
    *limiting_addr = 0;
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->online || (charge ? p->bms_charge_off : p->bms_discharge_off)) {
            continue;
        }
        (*usable)++;
        uint16_t own = charge ? p->bms_ccl_da : p->bms_dcl_da;
        if (p->bms_limits_valid && own > 0 && own < per_pack_da) {
            *sum_da += own;
            *limiting_addr = p->address;
        } else {
            *sum_da += per_pack_da;
        }
    }
}

/* The first pack found by the scan that is offline now; with low_only, only
 * one last seen below OFFLINE_LOW_SOC_PCT or with a cell below the
 * under-voltage release. NULL if none. */
static const gw_pack_t *offline_pack(const gw_pack_t *packs, size_t n, const gw_profile_t *pr,
                                     bool low_only)
{
    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        if (!p->present || p->online) {
            continue;
        }
        if (!low_only || p->soc_pct < OFFLINE_LOW_SOC_PCT) {
            return p;
        }
        pack_ext_t x = pack_extremes(pr, p);
        if (x.cells && x.min_mv < pr->cell_min_release_mv) {
            return p;
        }
    }
    return NULL;
}

static uint64_t share(uint32_t max_da, uint16_t permille)
{
    return (uint64_t)max_da * permille / 1000u;
}

static void f_max(fmt_t *f, uint8_t k, uint16_t per_pack_da)
{
    f_str(f, "max ");
    f_uint(f, k);
    f_str(f, " x ");
    f_fixed(f, per_pack_da, 1);
    f_str(f, " A");
}

static cand_t ccl_candidate(const gw_engine_t *e, const gw_bank_t *b, const gw_pack_t *packs,
                            size_t n, const curves_t *cv, bool cvl_below_bank,
                            uint32_t cvl_want_mv)
{
    const gw_profile_t *pr = &e->prof;
    cand_t c;
    fmt_t f;
    uint8_t k, addr;
    uint64_t bms_da;
    bms_allowance(packs, n, true, pr->charge_max_da_per_pack, &k, &bms_da, &addr);
    uint32_t max_da = (uint32_t)k * pr->charge_max_da_per_pack;

    c.da = UINT16_MAX;
    take(&c, max_da, "normal", true, &f);
    f_max(&f, k, pr->charge_max_da_per_pack);
    if (k == 0 && b->packs_online > 0 && take(&c, 0, "BMS switch open", true, &f)) {
        f_str(&f, "BMS charge switches open");
    }
    if (take(&c, bms_da, "BMS limit", false, &f)) {
        f_pack(&f, b, addr);
        f_str(&f, "BMS limit");
    }
    /* A pack that was found and went silent is still on the bus: whatever the
     * others accept it takes too, unwatched, until it reports again. */
    const gw_pack_t *lost = offline_pack(packs, n, pr, false);
    if (lost != NULL && take(&c, 0, "pack offline", true, &f)) {
        f_str(&f, "pack ");
        f_uint(&f, lost->address);
        f_str(&f, " offline");
    }
    if (b->cell_readings > 0 && take(&c, share(max_da, cv->chg_cell), "cell voltage", false, &f)) {
        f_cell(&f, b, b->max_cell_pack, b->max_cell_index, b->max_cell_mv);
    }
    if (take(&c, share(max_da, cv->chg_temp), "temperature", false, &f)) {
        if (cv->chg_temp_at_max) {
            f_sensor(&f, b, b->max_temp_pack, b->max_temp_index, b->max_temp_dc);
        } else {
            f_sensor(&f, b, b->min_temp_pack, b->min_temp_index, b->min_temp_dc);
        }
    }
    if (take(&c, share(max_da, cv->chg_soc), "SOC", false, &f)) {
        f_str(&f, "SOC ");
        f_uint(&f, b->soc_pct);
        f_str(&f, " %");
    }
    if (e->state == GW_CHG_IMBALANCE_HOLD &&
        take(&c, share(max_da, pr->imbalance_ccl_permille), "imbalance hold", false, &f)) {
        f_str(&f, "imbalance hold ");
        f_uint(&f, (uint32_t)(b->max_cell_mv - b->min_cell_mv));
        f_str(&f, " mV");
    }
    /* Cut-offs last, so at 0 the most severe cause is named. */
    if (cvl_below_bank && take(&c, 0, "CVL below bank", true, &f)) {
        f_str(&f, "CVL ");
        f_fixed(&f, (int32_t)(cvl_want_mv / 100u), 1);
        f_str(&f, " V below bank ");
        f_fixed(&f, (int32_t)((b->voltage_mv + 99u) / 100u), 1);
        f_str(&f, " V");
    }
    if (e->oc_chg && take(&c, 0, "over-current", true, &f)) {
        f_str(&f, "charge over-current");
    }
    if ((e->dis_cold || e->dis_hot) && take(&c, 0, "temperature", true, &f)) {
        f_str(&f, "temperature alarm");
    }
    if ((e->chg_cold || e->chg_hot) && take(&c, 0, "charge temperature", true, &f)) {
        if (e->chg_hot) {
            f_sensor(&f, b, b->max_temp_pack, b->max_temp_index, b->max_temp_dc);
        } else {
            f_sensor(&f, b, b->min_temp_pack, b->min_temp_index, b->min_temp_dc);
        }
    }
    if (e->ov && take(&c, 0, "over-voltage", true, &f)) {
        f_cell(&f, b, b->max_cell_pack, b->max_cell_index, b->max_cell_mv);
        f_str(&f, " >= cut-off");
    }
    return c;
}

static cand_t dcl_candidate(const gw_engine_t *e, const gw_bank_t *b, const gw_pack_t *packs,
                            size_t n, const curves_t *cv)
{
    const gw_profile_t *pr = &e->prof;
    cand_t c;
    fmt_t f;
    uint8_t k, addr;
    uint64_t bms_da;
    bms_allowance(packs, n, false, pr->discharge_max_da_per_pack, &k, &bms_da, &addr);
    uint32_t max_da = (uint32_t)k * pr->discharge_max_da_per_pack;

    c.da = UINT16_MAX;
    take(&c, max_da, "normal", true, &f);
    f_max(&f, k, pr->discharge_max_da_per_pack);
    if (k == 0 && b->packs_online > 0 && take(&c, 0, "BMS switch open", true, &f)) {
        f_str(&f, "BMS discharge switches open");
    }
    if (take(&c, bms_da, "BMS limit", false, &f)) {
        f_pack(&f, b, addr);
        f_str(&f, "BMS limit");
    }
    /* A silent pack last seen low would be drained past its cut-off by the
     * others' discharge; one last seen healthy may go on (island systems). */
    const gw_pack_t *lost = offline_pack(packs, n, pr, true);
    if (lost != NULL && take(&c, 0, "low pack offline", true, &f)) {
        f_str(&f, "pack ");
        f_uint(&f, lost->address);
        f_str(&f, " offline, last seen low");
    }
    if (b->cell_readings > 0 && take(&c, share(max_da, cv->dis_cell), "cell voltage", false, &f)) {
        f_cell(&f, b, b->min_cell_pack, b->min_cell_index, b->min_cell_mv);
    }
    if (take(&c, share(max_da, cv->dis_temp), "temperature", false, &f)) {
        if (cv->dis_temp_at_max) {
            f_sensor(&f, b, b->max_temp_pack, b->max_temp_index, b->max_temp_dc);
        } else {
            f_sensor(&f, b, b->min_temp_pack, b->min_temp_index, b->min_temp_dc);
        }
    }
    if (take(&c, share(max_da, cv->dis_soc), "SOC", false, &f)) {
        f_str(&f, "SOC ");
        f_uint(&f, b->soc_pct);
        f_str(&f, " %");
    }
    if (e->oc_dis && take(&c, 0, "over-current", true, &f)) {
        f_str(&f, "discharge over-current");
    }
    if ((e->dis_cold || e->dis_hot) && take(&c, 0, "temperature", true, &f)) {
        if (e->dis_hot) {
            f_sensor(&f, b, b->max_temp_pack, b->max_temp_index, b->max_temp_dc);
        } else {
            f_sensor(&f, b, b->min_temp_pack, b->min_temp_index, b->min_temp_dc);
        }
    }
    if (e->uv && take(&c, 0, "under-voltage", true, &f)) {
        f_cell(&f, b, b->min_cell_pack, b->min_cell_index, b->min_cell_mv);
        f_str(&f, " <= cut-off");
    }
    return c;
}

/* Rate limiter (see engine.h). Rewrites c->da/cat/cause when it holds back. */
static void rate_limit(const gw_profile_t *pr, gw_rate_t *r, cand_t *c, uint32_t max_da,
                       uint64_t now_ms)
{
    fmt_t f;
    uint16_t want = c->da;
    if (!r->have) {
        r->have = true;
        r->value_da = want;
        r->last_change_ms = now_ms;
        return;
    }
    if (want <= r->value_da) {
        if (want < r->value_da) {
            r->value_da = want;
            r->last_change_ms = now_ms;
        }
        r->recovering = false;
        r->ramping = false;
        return;
    }
    if (r->value_da == 0 && !r->ramping) {
        if ((uint64_t)want * 1000u < (uint64_t)max_da * pr->recovery_threshold_permille) {
            r->recovering = false;
        } else if (!r->recovering) {
            r->recovering = true;
            r->recover_since_ms = now_ms;
        }
        if (!r->recovering || now_ms - r->recover_since_ms < pr->recovery_hold_ms) {
            c->da = 0;
            c->cat = "recovery hold";
            f_init(&f, c->cause, sizeof(c->cause));
            f_str(&f, "recovery hold, then ");
            f_fixed(&f, want, 1);
            f_str(&f, " A");
            return;
        }
        r->recovering = false;
        r->ramping = true;
        r->ramp_ms = now_ms;
        r->ramp_base_da = r->value_da;
    } else if (!r->ramping) {
        if (now_ms - r->last_change_ms < pr->rise_interval_ms) {
            c->da = r->value_da;
            c->cat = "rate limit";
            f_init(&f, c->cause, sizeof(c->cause));
            f_str(&f, "rate limit, next ");
            f_fixed(&f, want, 1);
            f_str(&f, " A");
            return;
        }
        r->ramping = true;
        r->ramp_ms = now_ms;
        r->ramp_base_da = r->value_da;
    }
    /* Ramping from where it started, so short cycles lose no rounding. */
    uint64_t v = r->ramp_base_da + (uint64_t)pr->ramp_da_per_s * (now_ms - r->ramp_ms) / 1000u;
    if (v != r->value_da) {
        r->last_change_ms = now_ms;
    }
    if (v >= want) {
        r->value_da = want;
        r->ramping = false;
        return;
    }
    r->value_da = (uint16_t)v;
    c->da = r->value_da;
    c->cat = "ramp";
    f_init(&f, c->cause, sizeof(c->cause));
    f_str(&f, "ramp to ");
    f_fixed(&f, want, 1);
    f_str(&f, " A");
}

/* While data are held, nothing may rise above what was last sent. */
static void hold_at_last(cand_t *c, const gw_rate_t *r, const char *held_cause)
{
    if (r->have && c->da > r->value_da) {
        fmt_t f;
        c->da = r->value_da;
        c->cat = "held";
        f_init(&f, c->cause, sizeof(c->cause));
        f_str(&f, "held: ");
        f_str(&f, held_cause);
    }
}

/* ---- the cycle ---- */

void gw_engine_compute(gw_engine_t *e, const gw_bank_t *bank, const gw_pack_t *packs,
                       size_t npacks, bool startup_done, uint64_t now_ms, gw_limits_t *out)
{
    const gw_profile_t *pr = &e->prof;
    memset(out, 0, sizeof(*out));
    if (packs == NULL) {
        npacks = 0;
    }
    if (npacks > GW_MAX_PACKS) {
        npacks = GW_MAX_PACKS;
    }
    if (!bank->valid) {
        fail_safe(e, bank, startup_done, now_ms, "no BMS data", "no BMS data", out);
        return;
    }

    /* Plausibility of every online pack. */
    bool bad[GW_MAX_PACKS] = {false};
    char held_cause[CAUSE_LEN] = "";
    fmt_t hc;
    f_init(&hc, held_cause, sizeof(held_cause));
    size_t online = 0, stale_n = 0;
    bool implausible = false;
    for (size_t i = 0; i < npacks; i++) {
        if (!packs[i].online) {
            e->memo[i].have = false;
            continue;
        }
        online++;
        char c_buf[CAUSE_LEN];
        fmt_t c;
        f_init(&c, c_buf, sizeof(c_buf));
        bool jumped, stale;
        bad[i] = pack_implausible(e, bank, &packs[i], i, now_ms, &jumped, &stale, &c);
        stale_n += stale ? 1u : 0u;
        if (jumped) {
            e->counters.jumps++;
            e->suspect_until_ms = now_ms + pr->jump_hold_ms;
        }
        if ((bad[i] || jumped) && hc.n == 0) {
            f_str(&hc, c_buf);
        }
        implausible = implausible || bad[i];
    }
    if (e->had_temps && bank->temp_readings == 0) {
        implausible = true;
        if (hc.n == 0) {
            f_str(&hc, "temperatures missing");
        }
    }
    if (online > 0 && stale_n == online) {
        fail_safe(e, bank, startup_done, now_ms, "stale data", "all readings stale", out);
        return;
    }
    if (implausible && !e->implausible) {
        e->implausible_since_ms = now_ms;
    }
    e->implausible = implausible;
    if (implausible && now_ms - e->implausible_since_ms >= pr->implausible_max_ms) {
        char cause[GW_WHY_LEN];
        fmt_t f;
        f_init(&f, cause, sizeof(cause));
        f_str(&f, "implausible: ");
        f_str(&f, held_cause);
        fail_safe(e, bank, startup_done, now_ms, "implausible data", cause, out);
        return;
    }
    bool held = implausible || now_ms < e->suspect_until_ms;
    if (held && hc.n == 0) {
        f_str(&hc, "reading jumped"); /* a jump in an earlier cycle, still suspect */
    }
    if (held) {
        e->counters.implausible++;
    }
    e->had_data = true;
    e->had_temps = e->had_temps || bank->temp_readings > 0;

    uint32_t cells = pr->cell_count ? pr->cell_count
                                    : (bank->min_cell_count ? bank->min_cell_count : FALLBACK_CELLS);
    uint8_t kc, kd, addr;
    uint64_t unused;
    bms_allowance(packs, npacks, true, pr->charge_max_da_per_pack, &kc, &unused, &addr);
    bms_allowance(packs, npacks, false, pr->discharge_max_da_per_pack, &kd, &unused, &addr);
    uint32_t chg_max_da = (uint32_t)kc * pr->charge_max_da_per_pack;
    uint32_t dis_max_da = (uint32_t)kd * pr->discharge_max_da_per_pack;

    update_latches(e, bank, packs, npacks, chg_max_da, dis_max_da, now_ms);
    update_state(e, bank, cells, now_ms);

    /* CVL, then the bank-voltage rule. */
    char cvl_cause[CAUSE_LEN];
    fmt_t fc;
    f_init(&fc, cvl_cause, sizeof(cvl_cause));
    uint32_t target_mv = cvl_target(e, bank, packs, npacks, bad, cells, &fc);
    uint32_t cvl_mv = cvl_rate_limit(e, target_mv, now_ms, &fc);
    uint16_t cvl_dv = clamp_u16(cvl_mv / 100u);
    uint16_t bank_dv = clamp_u16(((uint64_t)bank->voltage_mv + 99u) / 100u);
    bool below_bank = false;
    if (held && e->last_cvl_dv != 0 && cvl_dv > e->last_cvl_dv) {
        cvl_dv = e->last_cvl_dv;
        fc.n = 0;
        f_str(&fc, "held: ");
        f_str(&fc, held_cause);
    }
    if (held) {
        below_bank = (uint32_t)cvl_dv * 100u < bank->voltage_mv;
    } else if (cvl_dv < bank_dv) {
        below_bank = (uint64_t)cvl_mv + pr->cvl_bank_tolerance_mv < bank->voltage_mv;
        cvl_dv = bank_dv;
        fc.n = 0;
        f_str(&fc, "bank at ");
        f_fixed(&fc, bank_dv, 1);
        f_str(&fc, " V, wanted ");
        f_fixed(&fc, (int32_t)(cvl_mv / 100u), 1);
    }
    if (cvl_dv == 0) {
        cvl_dv = clamp_u16((uint64_t)cells * pr->cvl_floor_cell_mv / 100u); /* never 0 */
    }
    out->cvl_dv = cvl_dv;
    out->dvl_dv = clamp_u16((uint64_t)cells * pr->dvl_cell_mv / 100u);

    curves_t cv = eval_curves(e, bank);
    cand_t ccl = ccl_candidate(e, bank, packs, npacks, &cv, below_bank, cvl_mv);
    cand_t dcl = dcl_candidate(e, bank, packs, npacks, &cv);
    if (held) {
        hold_at_last(&ccl, &e->ccl, held_cause);
        hold_at_last(&dcl, &e->dcl, held_cause);
    }
    rate_limit(pr, &e->ccl, &ccl, chg_max_da, now_ms);
    rate_limit(pr, &e->dcl, &dcl, dis_max_da, now_ms);
    out->ccl_da = e->ccl.value_da;
    out->dcl_da = e->dcl.value_da;
    out->ccl_reason = ccl.cat;
    out->dcl_reason = dcl.cat;

    set_pairs(e, held, bank, out);
    count_blocking(e, packs, npacks, bad, out);
    e->last_cvl_dv = out->cvl_dv;
    e->last_dvl_dv = out->dvl_dv;
    write_why(out->cvl_why, "CVL", out->cvl_dv, " V", cvl_cause);
    write_why(out->ccl_why, "CCL", out->ccl_da, " A", ccl.cause);
    write_why(out->dcl_why, "DCL", out->dcl_da, " A", dcl.cause);
}
