/* SPDX-License-Identifier: MIT */
/* Topband RS485 master state machine: scan, polling rounds, rescan (see topband_driver.h). */
#include "topband/topband_driver.h"

#include <string.h>

void gw_tb_cfg_default(gw_tb_cfg_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->first_address = 0;
    cfg->last_address = GW_MAX_PACKS - 1;
    cfg->poll_period_ms = 3000;
    cfg->reply_timeout_ms = 500;
    cfg->bus_guard_ms = 50;
    cfg->retries = 1;
    cfg->offline_after_misses = 3;
    cfg->rescan_period_ms = 30000;
}

/* now + delta without wrapping: a clamped deadline is merely never reached. */
static uint64_t add_ms(uint64_t t_ms, uint32_t delta_ms)
{
    return (UINT64_MAX - t_ms < delta_ms) ? UINT64_MAX : t_ms + delta_ms;
}

void gw_tb_init(gw_tb_driver_t *d, const gw_tb_cfg_t *cfg, uint64_t now_ms)
{
    if (d == NULL) {
        return;
    }
    memset(d, 0, sizeof(*d));
    if (cfg != NULL) {
        d->cfg = *cfg;
    } else {
        gw_tb_cfg_default(&d->cfg);
    }
    /* atomi23 indexed past its 16-entry tables with a pack count above 16;
     * here the address range can never leave packs[]. */
    if (d->cfg.last_address >= GW_MAX_PACKS) {
        d->cfg.last_address = GW_MAX_PACKS - 1;
    }
    if (d->cfg.first_address > d->cfg.last_address) {
        d->cfg.first_address = d->cfg.last_address;
    }
    if (d->cfg.reply_timeout_ms == 0) {
        d->cfg.reply_timeout_ms = 1;
    }
    if (d->cfg.offline_after_misses == 0) {
        d->cfg.offline_after_misses = 1;
    }
    for (uint8_t a = 0; a < GW_MAX_PACKS; a++) {
        d->packs[a].address = a;
    }
    d->state = GW_TB_IDLE;
    d->scanning = true;
    d->cur_addr = d->cfg.first_address;
    d->round_start_ms = now_ms;   /* the scan is round zero */
    d->last_rescan_ms = now_ms;   /* and a full sweep */
    d->bus_free_ms = now_ms;
}

static uint16_t present_mask(const gw_tb_driver_t *d)
{
    uint16_t mask = 0;
    for (unsigned a = d->cfg.first_address; a <= d->cfg.last_address; a++) {
        if (d->packs[a].present) {
            mask = (uint16_t)(mask | (1u << a));
        }
    }
    return mask;
}

static uint8_t lowest_bit(uint16_t mask)
{
    uint8_t a = 0;
    while (a < GW_MAX_PACKS && (mask & (1u << a)) == 0) {
        a++;
    }
    return a;
}

/* The exchange with cur_addr is over (reply handled or timed out at end_ms). */
static void exchange_done(gw_tb_driver_t *d, uint64_t end_ms, bool ok)
{
    d->state = GW_TB_IDLE;
    d->bus_free_ms = add_ms(end_ms, d->cfg.bus_guard_ms);

    if (d->scanning) {
        if (d->cur_addr >= d->cfg.last_address) {
            d->scanning = false;
            d->scan_done = true;
        } else {
            d->cur_addr++;
        }
        return;
    }
    if (d->probing) {
        d->probing = false;
        return;
    }
    uint8_t a = d->cur_addr;
    if (!ok && d->tries < d->cfg.retries) {
        d->tries++;
        return;
    }
    d->tries = 0;
    d->round_mask = (uint16_t)(d->round_mask & ~(1u << a));
    if (ok) {
        d->misses[a] = 0;
        return;
    }
    if (d->misses[a] < UINT8_MAX) {
        d->misses[a]++;
    }
    if (d->misses[a] >= d->cfg.offline_after_misses) {
        d->packs[a].online = false;
    }
}

/* This round's rescan probe: the next absent address of the sweep, if any. */
static bool pick_probe(gw_tb_driver_t *d)
{
    if (!d->rescan_active || !d->probe_due) {
        return false;
    }
    d->probe_due = false;
    for (unsigned a = d->rescan_next; a <= d->cfg.last_address; a++) {
        if (!d->packs[a].present) {
            d->cur_addr = (uint8_t)a;
            d->rescan_next = (uint8_t)(a + 1);
            d->probing = true;
            return true;
        }
    }
    d->rescan_active = false;
    return false;
}

static bool pick_in_round(gw_tb_driver_t *d)
{
    if (d->round_mask != 0) {
        d->cur_addr = lowest_bit(d->round_mask);
        return true;
    }
    return pick_probe(d);
}

static uint64_t next_round_ms(const gw_tb_driver_t *d)
{
    return add_ms(d->round_start_ms, d->cfg.poll_period_ms);
}

/* Choose the address of the next request, starting a round when it is due. */
static bool pick_next(gw_tb_driver_t *d, uint64_t now_ms)
{
    if (d->scanning) {
        return true;
    }
    if (pick_in_round(d)) {
        return true;
    }
    uint64_t due_ms = next_round_ms(d);
    if (now_ms < due_ms) {
        return false;
    }
    /* Keep the rounds on their grid unless a whole period was lost. */
    d->round_start_ms = (now_ms - due_ms < d->cfg.poll_period_ms) ? due_ms : now_ms;
    d->round_mask = present_mask(d);
    d->tries = 0;
    if (!d->rescan_active && d->round_start_ms - d->last_rescan_ms >= d->cfg.rescan_period_ms) {
        d->rescan_active = true;
        d->rescan_next = d->cfg.first_address;
        d->last_rescan_ms = d->round_start_ms;
    }
    d->probe_due = d->rescan_active;
    return pick_in_round(d);
}

size_t gw_tb_process(gw_tb_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap)
{
    if (d == NULL) {
        return 0;
    }
    if (d->state == GW_TB_WAIT_REPLY) {
        if (now_ms < d->deadline_ms) {
            return 0;
        }
        d->stats.timeouts++;
        exchange_done(d, d->deadline_ms, false);
    }
    if (now_ms < d->bus_free_ms || !pick_next(d, now_ms)) {
        return 0;
    }
    uint8_t adr = d->cur_addr;
    size_t n = gw_tb_build_request(adr, GW_TB_CMD_ANALOG, &adr, 1, tx, cap);
    if (n == 0) {
        /* The caller's buffer cannot hold a request: nothing is sent, the
         * choice stays as it is and the next call tries again. */
        return 0;
    }
    d->state = GW_TB_WAIT_REPLY;
    d->deadline_ms = add_ms(now_ms, d->cfg.reply_timeout_ms);
    d->req_seq++;
    d->stats.requests++;
    return n;
}

static void fail_try(gw_tb_driver_t *d, uint64_t now_ms, uint32_t *counter)
{
    (*counter)++;
    exchange_done(d, now_ms, false);
}

/* A complete frame sits in rx_buf. */
static void on_frame(gw_tb_driver_t *d, uint64_t now_ms)
{
    /* Ours only if it began after the outstanding request went out (a frame
     * begun earlier carries an older req_seq) and completed before its timeout. */
    bool solicited = d->state == GW_TB_WAIT_REPLY && d->rx_frame_seq == d->req_seq &&
                     now_ms < d->deadline_ms;
    if (!solicited) {
        d->stats.late_replies++;
        return;
    }
    gw_tb_frame_t f;
    gw_tb_err_t err = gw_tb_parse(d->rx_buf, d->rx_len, d->info_buf, sizeof(d->info_buf), &f);
    if (err == GW_TB_E_CHKSUM || err == GW_TB_E_LCHKSUM) {
        fail_try(d, now_ms, &d->stats.bad_checksum);
        return;
    }
    if (err != GW_TB_OK) {
        fail_try(d, now_ms, &d->stats.bad_frame);
        return;
    }
    err = gw_tb_check_reply(&f, d->cur_addr);
    if (err == GW_TB_E_ADR) {
        /* Another pack's (late) reply: not ours, keep waiting for ours. */
        d->stats.wrong_address++;
        return;
    }
    if (err != GW_TB_OK) {
        fail_try(d, now_ms, &d->stats.error_rtn);
        return;
    }
    gw_pack_t *p = &d->packs[d->cur_addr];
    if (gw_tb_decode_analog(&f, p) != GW_TB_OK) {
        fail_try(d, now_ms, &d->stats.bad_frame);
        return;
    }
    p->present = true;
    p->online = true;
    p->updated_ms = now_ms;
    d->stats.replies_ok++;
    exchange_done(d, now_ms, true);
}

static void start_frame(gw_tb_driver_t *d)
{
    d->rx_buf[0] = '~';
    d->rx_len = 1;
    d->rx_in_frame = true;
    d->rx_discard = false;
    d->rx_frame_seq = d->req_seq;
}

static void rx_byte(gw_tb_driver_t *d, uint64_t now_ms, uint8_t c)
{
    bool eoi = c == '\r' || c == '\n';
    if (c == '~') {
        if (d->rx_in_frame) {
            d->stats.bad_frame++;   /* a frame cut short by a new SOI */
        }
        start_frame(d);
        return;
    }
    if (!d->rx_in_frame) {
        if (d->rx_discard) {
            d->rx_discard = !eoi;   /* the tail of an oversize frame, already counted */
        } else if (!eoi) {
            d->stats.bytes_dropped++;
        }
        return;
    }
    if (d->rx_len >= sizeof(d->rx_buf)) {
        d->stats.bad_frame++;
        d->rx_in_frame = false;
        d->rx_discard = !eoi;
        return;
    }
    d->rx_buf[d->rx_len++] = c;
    if (eoi) {
        d->rx_in_frame = false;
        on_frame(d, now_ms);
    }
}

void gw_tb_rx(gw_tb_driver_t *d, uint64_t now_ms, const uint8_t *data, size_t len)
{
    if (d == NULL || data == NULL) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        rx_byte(d, now_ms, data[i]);
    }
}

uint64_t gw_tb_next_deadline(const gw_tb_driver_t *d)
{
    if (d == NULL) {
        return UINT64_MAX;
    }
    if (d->state == GW_TB_WAIT_REPLY) {
        return d->deadline_ms;
    }
    if (d->scanning || d->round_mask != 0 || (d->rescan_active && d->probe_due)) {
        return d->bus_free_ms;
    }
    uint64_t due_ms = next_round_ms(d);
    return due_ms > d->bus_free_ms ? due_ms : d->bus_free_ms;
}
