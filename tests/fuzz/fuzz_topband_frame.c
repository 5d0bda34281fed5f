/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the gateway's Topband codec and RS485 driver (firmware/core/topband).
 *
 * Any bytes: gw_tb_parse / gw_tb_parse_ascii_info / gw_tb_decode_analog must
 * keep their documented contract, and the driver fed the same bytes in random
 * chunks over advancing time must stay in bounds and keep polling. A copy with
 * LENGTH and CHKSUM repaired gets past the checksums, so mutations reach the
 * INFO decoder and the driver's good-reply path, not only the framing checks. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "topband/topband_driver.h"
#include "topband/topband_frame.h"

#define FRAME_OVERHEAD 18u   /* SOI + 12 header + 4 CHKSUM + EOI */
#define POS_ADR 3
#define POS_LENGTH 9
#define POS_INFO 13
#define SMALL_CAP 8u
#define CANARY 0xA5u
#define CELL_MAX_MV 5000u

int bms_fuzz_accepted;

static const char hex_digits[] = "0123456789ABCDEF";

static void put_hex(uint8_t *out, unsigned v, int nchars)
{
    for (int i = 0; i < nchars; i++) {
        out[i] = (uint8_t)hex_digits[(v >> (4 * (nchars - 1 - i))) & 0xFu];
    }
}

static int upper(int c)
{
    return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

/* Rewrite SOI, LENGTH, CHKSUM and EOI so the framing checks pass for this length.
 * Returns the frame length, or 0 when the input cannot be one. */
static size_t repair(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
    if (size < FRAME_OVERHEAD || size > cap || size - FRAME_OVERHEAD > GW_TB_MAX_LENID) {
        return 0;
    }
    memcpy(out, data, size);
    uint16_t lenid = (uint16_t)(size - FRAME_OVERHEAD);
    out[0] = '~';
    put_hex(out + POS_LENGTH, ((unsigned)gw_tb_lchksum(lenid) << 12) | lenid, 4);
    put_hex(out + size - 5, gw_tb_chksum(out + 1, size - 6), 4);
    out[size - 1] = '\r';
    return size;
}

static void readdress(uint8_t *frame, size_t len, uint8_t adr)
{
    put_hex(frame + POS_ADR, adr, 2);
    put_hex(frame + len - 5, gw_tb_chksum(frame + 1, len - 6), 4);
}

/* A decoded reading must be what the header promises, whatever the input. */
static void check_reading(const gw_pack_t *p)
{
    FUZZ_CHECK(p->cell_count >= 1 && p->cell_count <= GW_MAX_CELLS);
    FUZZ_CHECK(p->temp_count <= GW_MAX_TEMPS);
    FUZZ_CHECK(p->cell_temp_count <= p->temp_count);
    for (unsigned i = 0; i < p->cell_count; i++) {
        FUZZ_CHECK(p->cell_mv[i] <= CELL_MAX_MV);
    }
    for (unsigned i = 0; i < p->temp_count; i++) {
        FUZZ_CHECK(p->temp_dc[i] >= -500 && p->temp_dc[i] <= 1500);
    }
    FUZZ_CHECK(p->soc_pct <= 100 && p->soh_pct <= 100);
    FUZZ_CHECK(p->voltage_mv <= (uint32_t)p->cell_count * CELL_MAX_MV);
}

/* decode_analog writes the pack only on success. Returns the result. */
static gw_tb_err_t check_decode(const gw_tb_frame_t *f, gw_pack_t *out)
{
    gw_pack_t before;
    memset(out, 0x5A, sizeof(*out));
    memcpy(&before, out, sizeof(before));
    gw_tb_err_t err = gw_tb_decode_analog(f, out);
    if (err == GW_TB_OK) {
        check_reading(out);
    } else {
        FUZZ_CHECK(err == GW_TB_E_LAYOUT || err == GW_TB_E_RANGE);
        FUZZ_CHECK(memcmp(&before, out, sizeof(before)) == 0);
    }
    return err;
}

static void check_err_code(gw_tb_err_t err)
{
    FUZZ_CHECK(err <= GW_TB_OK && err >= GW_TB_E_ARG);
    FUZZ_CHECK(strcmp(gw_tb_strerror(err), "unknown error") != 0);
}

/* A small caller buffer must never be written past its cap. */
static void check_small_cap(const uint8_t *frame, size_t len, bool ascii)
{
    uint8_t small[SMALL_CAP + 16];
    gw_tb_frame_t f;
    memset(small, CANARY, sizeof(small));
    gw_tb_err_t err = ascii ? gw_tb_parse_ascii_info(frame, len, small, SMALL_CAP, &f)
                            : gw_tb_parse(frame, len, small, SMALL_CAP, &f);
    check_err_code(err);
    for (size_t i = SMALL_CAP; i < sizeof(small); i++) {
        FUZZ_CHECK(small[i] == CANARY);
    }
    FUZZ_CHECK(f.info_len <= SMALL_CAP);
}

/* Parse both ways; returns true when either parser accepts the frame. */
static bool check_parsers(const uint8_t *frame, size_t len)
{
    static uint8_t info[GW_TB_MAX_FRAME];
    static uint8_t rebuilt[GW_TB_MAX_FRAME + 8];
    gw_tb_frame_t f;
    bool any_ok = false;

    gw_tb_err_t err = gw_tb_parse(frame, len, info, sizeof(info), &f);
    check_err_code(err);
    FUZZ_CHECK(f.info == NULL || (f.info == info && f.info_len <= sizeof(info)));
    if (err == GW_TB_OK) {
        any_ok = true;
        FUZZ_CHECK(len == FRAME_OVERHEAD + f.lenid && f.info_len * 2 == f.lenid);
        FUZZ_CHECK(f.chksum_rx == f.chksum_calc && f.cid1 == GW_TB_CID1);
        /* Building the parsed frame again gives the input back, hex case and EOI aside;
         * the checksum only when the input was upper case, as it sums the characters. */
        size_t n = gw_tb_build_frame(f.ver, f.adr, f.cid1, f.rtn, f.info, f.info_len, rebuilt,
                                     sizeof(rebuilt));
        FUZZ_CHECK(n == len);
        bool lower_case = false;
        for (size_t i = 0; i + 5 < len; i++) {
            FUZZ_CHECK(rebuilt[i] == upper(frame[i]));
            lower_case = lower_case || rebuilt[i] != frame[i];
        }
        for (size_t i = len - 5; !lower_case && i + 1 < len; i++) {
            FUZZ_CHECK(rebuilt[i] == upper(frame[i]));
        }
        gw_pack_t pack;
        (void)check_decode(&f, &pack);
        FUZZ_CHECK(gw_tb_check_reply(&f, f.adr) == (f.rtn == 0 ? GW_TB_OK : GW_TB_E_RTN));
        FUZZ_CHECK(gw_tb_check_reply(&f, (uint8_t)(f.adr + 1)) == GW_TB_E_ADR);
    }

    err = gw_tb_parse_ascii_info(frame, len, info, sizeof(info), &f);
    check_err_code(err);
    if (err == GW_TB_OK) {
        any_ok = true;
        FUZZ_CHECK(len == FRAME_OVERHEAD + f.lenid && f.info_len == f.lenid);
        FUZZ_CHECK(f.info_len == 0 || memcmp(f.info, frame + POS_INFO, f.info_len) == 0);
    }
    check_small_cap(frame, len, false);
    check_small_cap(frame, len, true);
    return any_ok;
}

/* The raw bytes as an INFO field of either family, without any framing. */
static void check_raw_info(const uint8_t *data, size_t size)
{
    gw_tb_frame_t f;
    memset(&f, 0, sizeof(f));
    f.ver = (size > 0 && (data[0] & 1u) != 0) ? GW_TB_VER_52 : GW_TB_VER_REQ;
    f.info = size > 0 ? data : NULL;
    f.info_len = size;
    gw_pack_t pack;
    (void)check_decode(&f, &pack);
}

static void check_driver(const gw_tb_driver_t *d)
{
    FUZZ_CHECK(d->state == GW_TB_IDLE || d->state == GW_TB_WAIT_REPLY);
    FUZZ_CHECK(d->cur_addr < GW_MAX_PACKS);
    FUZZ_CHECK(d->rx_len <= sizeof(d->rx_buf));
    FUZZ_CHECK(d->stats.replies_ok <= d->stats.requests);
    for (unsigned a = 0; a < GW_MAX_PACKS; a++) {
        const gw_pack_t *p = &d->packs[a];
        FUZZ_CHECK(p->address == a);
        if (p->present) {
            check_reading(p);
        }
        FUZZ_CHECK(!p->online || p->present);
    }
}

/* Call process; a request it sends must be a well-formed 0x42 to cur_addr. */
static size_t process(gw_tb_driver_t *d, uint64_t now_ms)
{
    uint8_t tx[64], info[8];
    size_t n = gw_tb_process(d, now_ms, tx, sizeof(tx));
    if (n > 0) {
        gw_tb_frame_t f;
        FUZZ_CHECK(gw_tb_parse(tx, n, info, sizeof(info), &f) == GW_TB_OK);
        FUZZ_CHECK(f.adr == d->cur_addr && f.rtn == GW_TB_CMD_ANALOG && f.info_len == 1 &&
                   info[0] == f.adr);
        FUZZ_CHECK(d->state == GW_TB_WAIT_REPLY);
    }
    check_driver(d);
    return n;
}

/* Time never stops the driver: stepping to its deadlines must send requests. */
static uint64_t check_liveness(gw_tb_driver_t *d, uint64_t now_ms)
{
    uint32_t before = d->stats.requests;
    for (int i = 0; i < 64; i++) {
        uint64_t next = gw_tb_next_deadline(d);
        FUZZ_CHECK(next != UINT64_MAX);
        now_ms = next > now_ms ? next : now_ms + 1;
        (void)process(d, now_ms);
    }
    FUZZ_CHECK(d->stats.requests > before);
    return now_ms;
}

/* A reply that passes every check, sent while its request is outstanding,
 * must become that pack's reading. */
static uint64_t feed_good_reply(gw_tb_driver_t *d, uint64_t now_ms, const uint8_t *fixed,
                                size_t len)
{
    static uint8_t frame[GW_TB_MAX_FRAME];
    static uint8_t info[GW_TB_MAX_FRAME / 2];
    /* Feed right after a request went out, so the reply is in time. */
    bool sent = false;
    for (int i = 0; i < 64 && !sent; i++) {
        sent = process(d, now_ms) > 0;
        if (!sent) {
            uint64_t next = gw_tb_next_deadline(d);
            now_ms = next > now_ms ? next : now_ms + 1;
        }
    }
    if (!sent) {
        return now_ms;
    }
    uint8_t adr = d->cur_addr;
    memcpy(frame, fixed, len);
    readdress(frame, len, adr);
    gw_tb_frame_t f;
    gw_pack_t expect;
    bool good = gw_tb_parse(frame, len, info, sizeof(info), &f) == GW_TB_OK &&
                gw_tb_check_reply(&f, adr) == GW_TB_OK && check_decode(&f, &expect) == GW_TB_OK;
    uint32_t ok_before = d->stats.replies_ok;
    gw_tb_rx(d, now_ms, frame, len);
    check_driver(d);
    if (good) {
        const gw_pack_t *p = &d->packs[adr];
        FUZZ_CHECK(d->stats.replies_ok == ok_before + 1);
        FUZZ_CHECK(p->present && p->online && p->updated_ms == now_ms);
        FUZZ_CHECK(p->cell_count == expect.cell_count && p->voltage_mv == expect.voltage_mv &&
                   p->soc_pct == expect.soc_pct);
        FUZZ_CHECK(memcmp(p->cell_mv, expect.cell_mv, sizeof(p->cell_mv)) == 0);
        FUZZ_CHECK(d->state == GW_TB_IDLE);
    }
    return now_ms;
}

static void check_driver_stream(const uint8_t *data, size_t size, const uint8_t *fixed,
                                size_t fixed_len)
{
    static gw_tb_driver_t d;
    uint32_t rng = bms_fuzz_hash(data, size);
    gw_tb_cfg_t cfg;
    gw_tb_cfg_default(&cfg);
    /* Short periods so a few inputs cover scan, rounds, retries, offline and rescans. */
    cfg.poll_period_ms = 400 + bms_fuzz_next(&rng) % 800;
    cfg.reply_timeout_ms = 50 + bms_fuzz_next(&rng) % 300;
    cfg.bus_guard_ms = bms_fuzz_next(&rng) % 60;
    cfg.retries = (uint8_t)(bms_fuzz_next(&rng) % 3);
    cfg.offline_after_misses = (uint8_t)(bms_fuzz_next(&rng) % 4);
    cfg.rescan_period_ms = 1000 + bms_fuzz_next(&rng) % 3000;
    cfg.first_address = (uint8_t)(bms_fuzz_next(&rng) % 4);
    cfg.last_address = (uint8_t)(bms_fuzz_next(&rng) % 20);   /* > 15 is clamped by init */
    gw_tb_init(&d, &cfg, 1000);
    check_driver(&d);

    uint64_t now_ms = 1000;
    for (int rep = 0; rep < 3; rep++) {
        size_t pos = 0;
        while (pos < size) {
            size_t chunk = 1 + bms_fuzz_next(&rng) % 48;
            if (chunk > size - pos) {
                chunk = size - pos;
            }
            (void)process(&d, now_ms);
            gw_tb_rx(&d, now_ms, data + pos, chunk);
            check_driver(&d);
            pos += chunk;
            now_ms += bms_fuzz_next(&rng) % 40;
        }
        if (fixed_len > 0) {
            now_ms = feed_good_reply(&d, now_ms, fixed, fixed_len);
        }
        now_ms = check_liveness(&d, now_ms);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t fixed[GW_TB_MAX_FRAME];
    bms_fuzz_accepted = check_parsers(data, size);
    check_raw_info(data, size);
    size_t fixed_len = repair(data, size, fixed, sizeof(fixed));
    if (fixed_len > 0) {
        (void)check_parsers(fixed, fixed_len);
    }
    check_driver_stream(data, size, fixed, fixed_len);
    return 0;
}
