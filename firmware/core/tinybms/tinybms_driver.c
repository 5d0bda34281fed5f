/* SPDX-License-Identifier: MIT */
/* TinyBMS UART master state machine: wake, settings, live polling (see tinybms_driver.h). */
#include "tinybms/tinybms_driver.h"

#include <string.h>

#define CELL_RAW_MAX 50000u        /* 5.0000 V in 0.1 mV: above that it is not a cell */
#define PACK_MV_MAX 100000         /* 16 x 5 V with margin */
#define CURRENT_MA_MAX 2000000     /* 2000 A: far beyond the 750 A hardware */
#define SOC_PPM_FULL 100000000u    /* 100 % in 1e-6 % */
#define TEMP_DC_MIN (-500)
#define TEMP_DC_MAX 1500

void gw_tiny_cfg_default(gw_tiny_cfg_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->poll_period_ms = 1000;
    cfg->reply_timeout_ms = 250;
    cfg->bus_guard_ms = 10;
    cfg->wake_resends = 1;
    cfg->retries = 1;
    cfg->offline_after_failures = 3;
    cfg->settings_refresh_ms = 300000;
    cfg->oc_margin_pct = 10;
}

/* now + delta without wrapping: a clamped deadline is merely never reached. */
static uint64_t add_ms(uint64_t t_ms, uint32_t delta_ms)
{
    return (UINT64_MAX - t_ms < delta_ms) ? UINT64_MAX : t_ms + delta_ms;
}

void gw_tiny_init(gw_tiny_driver_t *d, const gw_tiny_cfg_t *cfg, uint64_t now_ms)
{
    if (d == NULL) {
        return;
    }
    memset(d, 0, sizeof(*d));
    if (cfg != NULL) {
        d->cfg = *cfg;
    } else {
        gw_tiny_cfg_default(&d->cfg);
    }
    if (d->cfg.reply_timeout_ms == 0) {
        d->cfg.reply_timeout_ms = 1;
    }
    if (d->cfg.poll_period_ms == 0) {
        d->cfg.poll_period_ms = 1;
    }
    if (d->cfg.offline_after_failures == 0) {
        d->cfg.offline_after_failures = 1;
    }
    if (d->cfg.oc_margin_pct > 90) {
        d->cfg.oc_margin_pct = 90;
    }
    d->packs[0].address = 0;
    d->settings_due = true;
    d->urgent_round = true;   /* the first round starts at once */
    d->round_start_ms = now_ms;
    d->bus_free_ms = now_ms;
}

/* ------------------------------------------------------------ requests */

static size_t build_step(gw_tiny_step_t step, uint8_t *out, size_t cap)
{
    switch (step) {
    case GW_TINY_STEP_SETTINGS: return gw_tiny_build_read_mb(GW_TINY_SET_FIRST, GW_TINY_SET_COUNT, out, cap);
    case GW_TINY_STEP_CELLS: return gw_tiny_build_read_mb(0, GW_TINY_CELLS, out, cap);
    case GW_TINY_STEP_LIVE: return gw_tiny_build_read_mb(GW_TINY_LIVE_FIRST, GW_TINY_LIVE_COUNT, out, cap);
    case GW_TINY_STEP_EVENTS: return gw_tiny_build_simple(GW_TINY_CMD_EVENTS_NEW, out, cap);
    case GW_TINY_STEP_DONE: break;
    }
    return 0;
}

static uint8_t step_count(gw_tiny_step_t step)
{
    switch (step) {
    case GW_TINY_STEP_SETTINGS: return GW_TINY_SET_COUNT;
    case GW_TINY_STEP_CELLS: return GW_TINY_CELLS;
    case GW_TINY_STEP_LIVE: return GW_TINY_LIVE_COUNT;
    case GW_TINY_STEP_EVENTS:
    case GW_TINY_STEP_DONE: break;
    }
    return 0;
}

/* Send the current step's request (also used for identical resends). */
static size_t send_step(gw_tiny_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap)
{
    size_t n = build_step(d->step, tx, cap);
    if (n == 0) {
        /* The caller's buffer cannot hold the request: nothing is sent and the
         * next call tries again. */
        return 0;
    }
    d->waiting = true;
    d->deadline_ms = add_ms(now_ms, d->cfg.reply_timeout_ms);
    d->rx_len = 0;
    d->stats.requests++;
    return n;
}

/* The round ended without data. */
static void round_failed(gw_tiny_driver_t *d)
{
    d->stats.failures++;
    d->in_round = false;
    d->scan_done = true;
    d->wake_used = 0;
    d->retry_used = 0;
    if (d->failures_in_row < UINT8_MAX) {
        d->failures_in_row++;
    }
    if (d->failures_in_row >= d->cfg.offline_after_failures && d->packs[0].online) {
        d->packs[0].online = false;
        /* Whatever comes back may be a reset or a different BMS. */
        d->settings_due = true;
    }
}

static void next_step(gw_tiny_driver_t *d, gw_tiny_step_t step)
{
    d->step = step;
    d->wake_used = 0;
    d->retry_used = 0;
    if (step == GW_TINY_STEP_DONE) {
        d->in_round = false;
        d->scan_done = true;
        d->failures_in_row = 0;
    }
}

/* After the events: the settings when they are due, else the cells. */
static void after_events(gw_tiny_driver_t *d)
{
    next_step(d, d->settings_due ? GW_TINY_STEP_SETTINGS : GW_TINY_STEP_CELLS);
}

/* A try failed on a bad reply (CRC, layout, NACK): retry or give up. */
static void fail_try(gw_tiny_driver_t *d, uint64_t now_ms, uint32_t *counter)
{
    (*counter)++;
    d->waiting = false;
    d->bus_free_ms = add_ms(now_ms, d->cfg.bus_guard_ms);
    if (d->retry_used < d->cfg.retries) {
        d->retry_used++;
        d->stats.retries++;
        return;
    }
    if (d->step == GW_TINY_STEP_SETTINGS && counter == &d->stats.nacks) {
        d->settings.valid = false;
        d->settings.read_ms = now_ms == 0 ? 1 : now_ms;
        d->settings_due = false;
        next_step(d, GW_TINY_STEP_CELLS);
        return;
    }
    if (d->step == GW_TINY_STEP_EVENTS) {
        /* The BMS answers, only not this: the measurements go on without a
         * reboot check this round. */
        d->stats.event_reads_failed++;
        after_events(d);
        return;
    }
    round_failed(d);
}

static uint64_t next_round_ms(const gw_tiny_driver_t *d)
{
    return d->urgent_round ? d->bus_free_ms : add_ms(d->round_start_ms, d->cfg.poll_period_ms);
}

static void start_round(gw_tiny_driver_t *d, uint64_t now_ms)
{
    uint64_t due_ms = next_round_ms(d);
    /* Keep rounds on their grid unless a whole period was lost. */
    d->round_start_ms = (!d->urgent_round && now_ms - due_ms < d->cfg.poll_period_ms) ? due_ms : now_ms;
    d->urgent_round = false;
    if (d->cfg.settings_refresh_ms != 0 && d->settings.read_ms != 0 &&
        now_ms - d->settings.read_ms >= d->cfg.settings_refresh_ms) {
        d->settings_due = true;
    }
    d->in_round = true;
    next_step(d, GW_TINY_STEP_EVENTS);
}

size_t gw_tiny_process(gw_tiny_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap)
{
    if (d == NULL || tx == NULL) {
        return 0;
    }
    if (d->waiting) {
        if (now_ms < d->deadline_ms) {
            return 0;
        }
        d->stats.timeouts++;
        d->waiting = false;
        if (d->wake_used < d->cfg.wake_resends) {
            /* A sleeping BMS takes the first frame as its wake-up call and
             * answers only the identical second one (tinybms.md 1.3). */
            d->wake_used++;
            d->stats.wake_resends++;
            return send_step(d, now_ms, tx, cap);
        }
        d->bus_free_ms = now_ms;
        round_failed(d);
    }
    if (now_ms < d->bus_free_ms) {
        return 0;
    }
    if (!d->in_round) {
        if (now_ms < next_round_ms(d)) {
            return 0;
        }
        start_round(d, now_ms);
    }
    return send_step(d, now_ms, tx, cap);
}

/* ------------------------------------------------------------ replies */

static bool in_range_u16(uint16_t v, uint16_t lo, uint16_t hi)
{
    return v >= lo && v <= hi;
}

static void take_settings(gw_tiny_driver_t *d, const uint16_t *r, uint64_t now_ms)
{
    gw_tiny_settings_t *s = &d->settings;
    s->fully_charged_mv = r[0];
    s->fully_discharged_mv = r[1];
    s->charge_finished_ma = r[4];
    s->capacity_cah = r[6];
    s->series_cells = r[7];
    s->ov_cutoff_mv = r[15];
    s->uv_cutoff_mv = r[16];
    s->discharge_oc_a = r[17];
    s->charge_oc_a = r[18];
    s->overheat_c = (int16_t)r[19];
    s->low_temp_charge_c = (int16_t)r[20];
    s->read_ms = now_ms == 0 ? 1 : now_ms; /* 0 means "never read" */
    /* Only the registers the limits are built from are judged (ranges from
     * tinybms.md 3.4); a BMS with nonsense there gives no limits at all. */
    s->valid = in_range_u16(s->fully_charged_mv, 1200, 4500) &&
               in_range_u16(s->ov_cutoff_mv, 1200, 4500) && in_range_u16(s->uv_cutoff_mv, 800, 3500) &&
               in_range_u16(s->series_cells, 4, GW_TINY_CELLS) &&
               in_range_u16(s->capacity_cah, 10, 65500) && s->charge_oc_a >= 1 &&
               s->discharge_oc_a >= 1 && s->low_temp_charge_c >= -40 && s->low_temp_charge_c <= 10;
    d->stats.settings_reads++;
    if (!s->valid) {
        d->stats.bad_settings++;
    }
    d->settings_due = false;
}

static bool temp_ok(int16_t dc)
{
    return dc >= TEMP_DC_MIN && dc <= TEMP_DC_MAX;
}

static uint16_t scale_oc_da(uint16_t amps, uint8_t margin_pct)
{
    uint32_t da = (uint32_t)amps * 10u * (100u - margin_pct) / 100u;
    return da > UINT16_MAX ? UINT16_MAX : (uint16_t)da;
}

static uint8_t series_cells(const gw_tiny_driver_t *d, uint16_t detected)
{
    if (d->settings.valid) {
        return (uint8_t)d->settings.series_cells;
    }
    if (detected >= 1 && detected <= GW_TINY_CELLS) {
        return (uint8_t)detected;
    }
    return GW_TINY_CELLS;
}

static bool window_has_zero(const uint16_t *raw, unsigned first, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (raw[first + i] == 0) {
            return true;
        }
    }
    return false;
}

/* Decode the live block (regs 32..53) with this round's cells into a pack
 * image; false when a value cannot be a measurement. */
static bool decode_live(gw_tiny_driver_t *d, const uint16_t *r, gw_pack_t *p, gw_tiny_live_t *lv)
{
    int32_t pack_mv, current_ma;
    if (!gw_tiny_float_milli((uint32_t)r[4] | ((uint32_t)r[5] << 16), &pack_mv) ||
        !gw_tiny_float_milli((uint32_t)r[6] | ((uint32_t)r[7] << 16), &current_ma) ||
        pack_mv < 0 || pack_mv > PACK_MV_MAX || current_ma < -CURRENT_MA_MAX ||
        current_ma > CURRENT_MA_MAX) {
        return false;
    }
    lv->lifetime_s = (uint32_t)r[0] | ((uint32_t)r[1] << 16);
    lv->soc_ppm = (uint32_t)r[14] | ((uint32_t)r[15] << 16);
    lv->internal_dc = (int16_t)r[16];
    lv->status = r[18];
    lv->balancing_bits = r[20];
    lv->detected_cells = r[21];
    if (lv->soc_ppm > SOC_PPM_FULL || !temp_ok(lv->internal_dc)) {
        return false;
    }

    uint8_t n = series_cells(d, lv->detected_cells);
    unsigned first = GW_TINY_CELLS - n;
    if (window_has_zero(d->cell_raw, first, n) && !window_has_zero(d->cell_raw, 0, n)) {
        first = 0;
    }
    p->cell_count = n;
    for (unsigned i = 0; i < n; i++) {
        uint16_t raw = d->cell_raw[first + i];
        if (raw > CELL_RAW_MAX) {
            return false;
        }
        p->cell_mv[i] = (uint16_t)((raw + 5u) / 10u);
    }

    uint8_t k = 0;
    for (unsigned i = 0; i < 2; i++) {
        int16_t t = (int16_t)r[10 + i];
        if (t == GW_TINY_TEMP_ABSENT) {
            continue;
        }
        if (!temp_ok(t)) {
            return false;
        }
        p->temp_dc[k++] = t;
    }
    p->cell_temp_count = k == 0 ? 1 : k;
    p->temp_dc[k++] = lv->internal_dc;
    p->temp_count = k;

    p->voltage_mv = (uint32_t)pack_mv;
    p->current_ma = current_ma;
    p->soc_pct = (uint8_t)((lv->soc_ppm + 500000u) / 1000000u);
    uint32_t soh = ((uint32_t)r[13] + 250u) / 500u; /* 0.002 % steps */
    p->soh_pct = soh > 100u ? 100u : (uint8_t)soh;
    p->full_mah = d->settings.valid ? (uint32_t)d->settings.capacity_cah * 10u : 0;
    p->remaining_mah = (uint32_t)((uint64_t)p->full_mah * lv->soc_ppm / SOC_PPM_FULL);
    return true;
}

/* What the BMS itself allows, from its settings and state (tinybms_driver.h). */
static void apply_bms_limits(const gw_tiny_driver_t *d, gw_pack_t *p, const gw_tiny_live_t *lv)
{
    const gw_tiny_settings_t *s = &d->settings;
    bool fault = lv->status == GW_TINY_ST_FAULT;
    p->bms_limits_valid = s->valid;
    p->bms_charge_off = fault;
    p->bms_discharge_off = fault;
    if (!s->valid) {
        p->bms_max_charge_mv = 0;
        p->bms_ccl_da = 0;
        p->bms_dcl_da = 0;
        return;
    }
    uint16_t top_mv = s->fully_charged_mv < s->ov_cutoff_mv ? s->fully_charged_mv : s->ov_cutoff_mv;
    p->bms_max_charge_mv = (uint32_t)top_mv * p->cell_count;
    p->bms_ccl_da = scale_oc_da(s->charge_oc_a, d->cfg.oc_margin_pct);
    p->bms_dcl_da = scale_oc_da(s->discharge_oc_a, d->cfg.oc_margin_pct);
    uint16_t max_mv = 0, min_mv = UINT16_MAX;
    for (unsigned i = 0; i < p->cell_count; i++) {
        max_mv = p->cell_mv[i] > max_mv ? p->cell_mv[i] : max_mv;
        min_mv = p->cell_mv[i] < min_mv ? p->cell_mv[i] : min_mv;
    }
    int16_t cold_dc = INT16_MAX;
    for (unsigned i = 0; i < p->cell_temp_count; i++) {
        cold_dc = p->temp_dc[i] < cold_dc ? p->temp_dc[i] : cold_dc;
    }
    if (max_mv >= s->ov_cutoff_mv || cold_dc < (int16_t)(s->low_temp_charge_c * 10)) {
        p->bms_charge_off = true;
    }
    if (min_mv <= s->uv_cutoff_mv) {
        p->bms_discharge_off = true;
    }
}

static bool take_live(gw_tiny_driver_t *d, const uint16_t *r, uint64_t now_ms)
{
    gw_pack_t img = d->packs[0];
    gw_tiny_live_t lv = d->live;
    if (!decode_live(d, r, &img, &lv)) {
        return false;
    }
    if (d->have_lifetime && lv.lifetime_s < d->live.lifetime_s) {
        /* The lifetime counter only grows: the BMS restarted, and its
         * settings may have been changed with it. */
        d->stats.reboots_seen++;
        d->settings_due = true;
        d->urgent_round = true;
    }
    d->have_lifetime = true;
    apply_bms_limits(d, &img, &lv);
    img.present = true;
    img.online = true;
    img.address = 0;
    img.updated_ms = now_ms;
    d->packs[0] = img;
    d->live = lv;
    return true;
}

#define TS24_SPAN 0x1000000u     /* event timestamps are 24-bit seconds */

/* Widen a 24-bit event time to the latest 32-bit time <= bms_s with those
 * low bits; false when there is none (an event later than the BMS clock). */
static bool widen_ts24(uint32_t ts24, uint32_t bms_s, uint32_t *out_s)
{
    uint32_t t = (bms_s & ~(TS24_SPAN - 1u)) | ts24;
    if (t > bms_s) {
        if (bms_s < TS24_SPAN) {
            return false;
        }
        t -= TS24_SPAN;
    }
    *out_s = t;
    return true;
}

/* A 0x11 reply (layout in tinybms_driver.h); false = malformed, nothing taken. */
static bool take_events(gw_tiny_driver_t *d, const gw_tiny_frame_t *f)
{
    if (f->payload_len < 4 || f->payload_len % 4 != 0) {
        return false;
    }
    uint32_t bms_s = gw_tiny_le32(f->payload);
    bool have_started = false;
    uint32_t newest_s = 0;
    for (size_t i = 4; i + 4 <= f->payload_len; i += 4) {
        const uint8_t *e = f->payload + i;
        if (e[3] != GW_TINY_EVENT_STARTED) {
            continue;
        }
        uint32_t ts24 = (uint32_t)e[0] | ((uint32_t)e[1] << 8) | ((uint32_t)e[2] << 16);
        uint32_t t_s;
        if (!widen_ts24(ts24, bms_s, &t_s)) {
            return false;
        }
        if (!have_started || t_s > newest_s) {
            newest_s = t_s;
        }
        have_started = true;
    }
    if (d->have_bms_time && bms_s < d->live.bms_time_s) {
        /* The BMS clock went back: another device, whose log cannot be
         * compared with the old mark (the lifetime rule counts the swap). */
        d->events_primed = false;
    }
    if (!d->events_primed) {
        /* Whatever started before we looked is not a reboot we missed: the
         * settings are read after it anyway. */
        d->live.started_mark_s = have_started ? newest_s : bms_s;
        d->events_primed = true;
    } else if (have_started && newest_s > d->live.started_mark_s) {
        d->live.started_mark_s = newest_s;
        d->stats.reboots_seen++;
        d->settings_due = true;
    }
    d->live.bms_time_s = bms_s;
    d->have_bms_time = true;
    d->stats.event_reads++;
    return true;
}

/* A complete frame sits in rx_buf while a request is outstanding. */
static void on_frame(gw_tiny_driver_t *d, uint64_t now_ms)
{
    gw_tiny_frame_t f;
    gw_tiny_err_t err = gw_tiny_parse_reply(d->rx_buf, d->rx_len, &f);
    d->rx_len = 0;
    if (err == GW_TINY_E_CRC) {
        fail_try(d, now_ms, &d->stats.bad_crc);
        return;
    }
    if (err != GW_TINY_OK) {
        fail_try(d, now_ms, &d->stats.bad_frame);
        return;
    }
    if (f.kind == GW_TINY_KIND_NACK) {
        fail_try(d, now_ms, &d->stats.nacks);
        return;
    }
    if (d->step == GW_TINY_STEP_EVENTS) {
        if (f.kind != GW_TINY_KIND_REPLY || f.cmd != GW_TINY_CMD_EVENTS_NEW ||
            !take_events(d, &f)) {
            fail_try(d, now_ms, &d->stats.bad_frame);
            return;
        }
        after_events(d);
        d->stats.replies_ok++;
        d->waiting = false;
        d->bus_free_ms = add_ms(now_ms, d->cfg.bus_guard_ms);
        return;
    }
    uint16_t regs[GW_TINY_LIVE_COUNT > GW_TINY_SET_COUNT ? GW_TINY_LIVE_COUNT : GW_TINY_SET_COUNT];
    size_t n = 0;
    if (f.kind != GW_TINY_KIND_REPLY || f.cmd != GW_TINY_CMD_READ_MB ||
        gw_tiny_regs_be(&f, regs, sizeof(regs) / sizeof(regs[0]), &n) != GW_TINY_OK ||
        n != step_count(d->step)) {
        fail_try(d, now_ms, &d->stats.bad_frame);
        return;
    }
    switch (d->step) {
    case GW_TINY_STEP_SETTINGS:
        take_settings(d, regs, now_ms);
        next_step(d, GW_TINY_STEP_CELLS);
        break;
    case GW_TINY_STEP_CELLS:
        memcpy(d->cell_raw, regs, sizeof(d->cell_raw));
        next_step(d, GW_TINY_STEP_LIVE);
        break;
    case GW_TINY_STEP_LIVE:
        if (!take_live(d, regs, now_ms)) {
            fail_try(d, now_ms, &d->stats.bad_frame);
            return;
        }
        next_step(d, GW_TINY_STEP_DONE);
        break;
    case GW_TINY_STEP_EVENTS:
    case GW_TINY_STEP_DONE:
        break;
    }
    d->stats.replies_ok++;
    d->waiting = false;
    d->bus_free_ms = add_ms(now_ms, d->cfg.bus_guard_ms);
}

/* Drop the first buffered byte and everything up to the next 0xAA. */
static void resync(gw_tiny_driver_t *d)
{
    size_t i = 1;
    while (i < d->rx_len && d->rx_buf[i] != GW_TINY_START) {
        i++;
    }
    d->stats.bytes_dropped += (uint32_t)i;
    memmove(d->rx_buf, d->rx_buf + i, d->rx_len - i);
    d->rx_len -= i;
}

static void rx_byte(gw_tiny_driver_t *d, uint64_t now_ms, uint8_t c)
{
    if (!d->waiting) {
        d->stats.bytes_dropped++;
        if (c == GW_TINY_START) {
            d->stats.unsolicited++;
        }
        return;
    }
    if (d->rx_len == 0 && c != GW_TINY_START) {
        d->stats.bytes_dropped++;
        return;
    }
    d->rx_buf[d->rx_len++] = c;
    for (;;) {
        int want = gw_tiny_reply_len(d->rx_buf, d->rx_len);
        if (want < 0) {
            d->stats.bad_frame++;
            resync(d);
            continue;
        }
        if (want > 0 && d->rx_len >= (size_t)want) {
            on_frame(d, now_ms);
        }
        return;
    }
}

void gw_tiny_rx(gw_tiny_driver_t *d, uint64_t now_ms, const uint8_t *data, size_t len)
{
    if (d == NULL || data == NULL) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        rx_byte(d, now_ms, data[i]);
    }
}

uint64_t gw_tiny_next_deadline(const gw_tiny_driver_t *d)
{
    if (d == NULL) {
        return UINT64_MAX;
    }
    if (d->waiting) {
        return d->deadline_ms;
    }
    if (d->in_round) {
        return d->bus_free_ms;
    }
    uint64_t due_ms = next_round_ms(d);
    return due_ms > d->bus_free_ms ? due_ms : d->bus_free_ms;
}
