/* SPDX-License-Identifier: MIT */
/* Topband/EET RS485 frame codec, gateway side (see topband_frame.h). */
#include "topband/topband_frame.h"

#include <stdbool.h>
#include <string.h>

/* Character positions inside a frame (topband.md 1.2). */
#define POS_VER 1
#define POS_ADR 3
#define POS_CID1 5
#define POS_CID2 7
#define POS_LENGTH 9
#define POS_INFO 13
#define HEADER_CHARS 12   /* VER..LENGTH */
#define CHKSUM_CHARS 4
#define MAX_INFO_BYTES (GW_TB_MAX_LENID / 2)

/* Plausibility limits for a 0x42 reading (see gw_tb_decode_analog). */
#define CELL_MAX_MV 5000u
#define TEMP_MIN_DC (-500)
#define TEMP_MAX_DC 1500
#define KELVIN_OFFSET_DC 2731
#define CELSIUS_OFFSET_52 40

static const char hex_upper[] = "0123456789ABCDEF";

const char *gw_tb_strerror(gw_tb_err_t e)
{
    switch (e) {
    case GW_TB_OK: return "ok";
    case GW_TB_E_SHORT: return "frame shorter than 18 characters";
    case GW_TB_E_SOI: return "no SOI '~'";
    case GW_TB_E_EOI: return "no EOI (CR/LF) at the end";
    case GW_TB_E_HEX: return "non-hex character";
    case GW_TB_E_LCHKSUM: return "LENGTH checksum wrong";
    case GW_TB_E_LENGTH: return "LENID disagrees with frame length";
    case GW_TB_E_CHKSUM: return "frame checksum wrong";
    case GW_TB_E_CID1: return "CID1 is not 0x46";
    case GW_TB_E_RTN: return "reply carries an error return code";
    case GW_TB_E_ADR: return "reply from another address";
    case GW_TB_E_LAYOUT: return "INFO does not fit the 0x42 layout";
    case GW_TB_E_RANGE: return "implausible value";
    case GW_TB_E_ARG: return "bad argument or buffer too small";
    }
    return "unknown error";
}

/* Value of one hex digit, either case; -1 for anything else. */
static int hex_val(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Decode n_bytes from 2 * n_bytes hex characters; false on a non-hex char. */
static bool hex_decode(const uint8_t *chars, size_t n_bytes, uint8_t *out)
{
    for (size_t i = 0; i < n_bytes; i++) {
        int hi = hex_val(chars[2 * i]);
        int lo = hex_val(chars[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return true;
}

static bool all_hex(const uint8_t *chars, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (hex_val(chars[i]) < 0) {
            return false;
        }
    }
    return true;
}

static void put_hex8(uint8_t *out, uint8_t v)
{
    out[0] = (uint8_t)hex_upper[v >> 4];
    out[1] = (uint8_t)hex_upper[v & 0x0F];
}

static void put_hex16(uint8_t *out, uint16_t v)
{
    put_hex8(out, (uint8_t)(v >> 8));
    put_hex8(out + 2, (uint8_t)(v & 0xFF));
}

uint8_t gw_tb_lchksum(uint16_t lenid)
{
    unsigned sum = (lenid & 0x0Fu) + ((lenid >> 4) & 0x0Fu) + ((lenid >> 8) & 0x0Fu);
    return (uint8_t)((~sum + 1u) & 0x0Fu);
}

uint16_t gw_tb_chksum(const uint8_t *chars, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += chars[i];
    }
    return (uint16_t)((~sum + 1u) & 0xFFFFu);
}

size_t gw_tb_build_frame(uint8_t ver, uint8_t adr, uint8_t cid1, uint8_t cid2_rtn,
                         const uint8_t *info, size_t info_len, uint8_t *out, size_t cap)
{
    if (out == NULL || info_len > MAX_INFO_BYTES || (info_len > 0 && info == NULL)) {
        return 0;
    }
    size_t total = GW_TB_MIN_FRAME + 2 * info_len;
    if (cap < total) {
        return 0;
    }
    uint16_t lenid = (uint16_t)(2 * info_len);
    uint16_t length = (uint16_t)(((uint16_t)gw_tb_lchksum(lenid) << 12) | lenid);

    out[0] = '~';
    put_hex8(out + POS_VER, ver);
    put_hex8(out + POS_ADR, adr);
    put_hex8(out + POS_CID1, cid1);
    put_hex8(out + POS_CID2, cid2_rtn);
    put_hex16(out + POS_LENGTH, length);
    for (size_t i = 0; i < info_len; i++) {
        put_hex8(out + POS_INFO + 2 * i, info[i]);
    }
    size_t chk_pos = POS_INFO + lenid;
    put_hex16(out + chk_pos, gw_tb_chksum(out + 1, HEADER_CHARS + lenid));
    out[chk_pos + CHKSUM_CHARS] = '\r';
    return total;
}

size_t gw_tb_build_request(uint8_t adr, uint8_t cid2, const uint8_t *info, size_t info_len,
                           uint8_t *out, size_t cap)
{
    return gw_tb_build_frame(GW_TB_VER_REQ, adr, GW_TB_CID1, cid2, info, info_len, out, cap);
}

/* Shared body of the two parsers; ascii_info selects the 0x51 raw INFO. */
static gw_tb_err_t parse_frame(const uint8_t *frame, size_t len, uint8_t *buf, size_t cap,
                               gw_tb_frame_t *out, bool ascii_info)
{
    if (out == NULL) {
        return GW_TB_E_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (frame == NULL || (buf == NULL && cap > 0)) {
        return GW_TB_E_ARG;
    }
    if (len < GW_TB_MIN_FRAME) {
        return GW_TB_E_SHORT;
    }
    if (frame[0] != '~') {
        return GW_TB_E_SOI;
    }
    if (frame[len - 1] != '\r' && frame[len - 1] != '\n') {
        return GW_TB_E_EOI;
    }

    uint8_t hdr[6];
    if (!hex_decode(frame + POS_VER, sizeof(hdr), hdr)) {
        return GW_TB_E_HEX;
    }
    out->ver = hdr[0];
    out->adr = hdr[1];
    out->cid1 = hdr[2];
    out->rtn = hdr[3];
    uint16_t length = (uint16_t)((hdr[4] << 8) | hdr[5]);
    out->lenid = (uint16_t)(length & 0x0FFFu);

    /* The INFO actually present is what lies between header and CHKSUM; it is
     * decoded even when LENGTH is wrong so that tools can show the frame. */
    size_t info_chars = len - GW_TB_MIN_FRAME;
    const uint8_t *info_chars_p = frame + POS_INFO;
    const uint8_t *chk_chars = frame + POS_INFO + info_chars;
    bool chk_hex = all_hex(chk_chars, CHKSUM_CHARS);
    if (chk_hex) {
        uint8_t chk[2];
        (void)hex_decode(chk_chars, sizeof(chk), chk);
        out->chksum_rx = (uint16_t)((chk[0] << 8) | chk[1]);
    }
    out->chksum_calc = gw_tb_chksum(frame + POS_VER, HEADER_CHARS + info_chars);

    size_t info_len = ascii_info ? info_chars : info_chars / 2;
    bool info_fits = info_len <= cap;
    bool info_ok = false;
    if (info_fits) {
        if (ascii_info) {
            if (info_len > 0) {
                memcpy(buf, info_chars_p, info_len);
            }
            info_ok = true;
        } else {
            info_ok = hex_decode(info_chars_p, info_len, buf);
        }
        if (info_ok) {
            out->info = info_len > 0 ? buf : NULL;
            out->info_len = info_len;
        }
    }

    if (gw_tb_lchksum(out->lenid) != (uint8_t)(length >> 12)) {
        return GW_TB_E_LCHKSUM;
    }
    if (out->lenid != info_chars || (!ascii_info && (out->lenid & 1u) != 0)) {
        return GW_TB_E_LENGTH;
    }
    if (!info_fits) {
        return GW_TB_E_ARG;
    }
    if (!info_ok || !chk_hex) {
        out->info = NULL;
        out->info_len = 0;
        return GW_TB_E_HEX;
    }
    if (out->chksum_rx != out->chksum_calc) {
        return GW_TB_E_CHKSUM;
    }
    if (out->cid1 != GW_TB_CID1) {
        return GW_TB_E_CID1;
    }
    return GW_TB_OK;
}

gw_tb_err_t gw_tb_parse(const uint8_t *frame, size_t len, uint8_t *buf, size_t cap,
                        gw_tb_frame_t *out)
{
    return parse_frame(frame, len, buf, cap, out, false);
}

gw_tb_err_t gw_tb_parse_ascii_info(const uint8_t *frame, size_t len, uint8_t *buf, size_t cap,
                                   gw_tb_frame_t *out)
{
    return parse_frame(frame, len, buf, cap, out, true);
}

gw_tb_err_t gw_tb_check_reply(const gw_tb_frame_t *f, uint8_t polled_adr)
{
    if (f == NULL) {
        return GW_TB_E_ARG;
    }
    if (f->adr != polled_adr) {
        return GW_TB_E_ADR;
    }
    if (f->rtn != 0) {
        return GW_TB_E_RTN;
    }
    return GW_TB_OK;
}

/* Bounds-checked big-endian reader over the INFO bytes. Once a read runs past
 * the end, ok stays false and every further read returns 0. */
typedef struct reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool ok;
} reader_t;

static uint8_t rd_u8(reader_t *r)
{
    if (!r->ok || r->len - r->pos < 1) {
        r->ok = false;
        return 0;
    }
    return r->p[r->pos++];
}

static uint16_t rd_u16(reader_t *r)
{
    if (!r->ok || r->len - r->pos < 2) {
        r->ok = false;
        return 0;
    }
    uint16_t v = (uint16_t)((r->p[r->pos] << 8) | r->p[r->pos + 1]);
    r->pos += 2;
    return v;
}

/* One temperature word to 0.1 degC by the family rule. */
static int32_t temp_to_dc(uint8_t ver, uint16_t raw)
{
    if (ver == GW_TB_VER_52) {
        return ((int32_t)raw - CELSIUS_OFFSET_52) * 10;
    }
    return (int32_t)raw - KELVIN_OFFSET_DC;
}

static uint8_t cell_sensor_count(uint8_t ver, uint8_t n)
{
    /* 0x21: the last three are balancer, environment, MOSFET (linedot);
     * 0x52: the kekemar sample shows four alike, then two. */
    uint8_t extra = (ver == GW_TB_VER_52) ? 2 : 3;
    return n > extra ? (uint8_t)(n - extra) : 0;
}

gw_tb_err_t gw_tb_decode_analog(const gw_tb_frame_t *f, gw_pack_t *pack)
{
    if (f == NULL || pack == NULL || (f->info == NULL && f->info_len > 0)) {
        return GW_TB_E_ARG;
    }
    reader_t r = { f->info, f->info_len, 0, true };
    gw_pack_t v;
    memset(&v, 0, sizeof(v));

    (void)rd_u8(&r); /* command echo (= ADR in every real frame); ADR is checked in the header */
    uint8_t m = rd_u8(&r);
    if (!r.ok) {
        return GW_TB_E_LAYOUT;
    }
    if (m == 0 || m > GW_MAX_CELLS) {
        return GW_TB_E_RANGE;
    }
    v.cell_count = m;
    for (uint8_t i = 0; i < m; i++) {
        v.cell_mv[i] = rd_u16(&r);
        if (r.ok && v.cell_mv[i] > CELL_MAX_MV) {
            return GW_TB_E_RANGE;
        }
    }

    uint8_t n = rd_u8(&r);
    if (!r.ok) {
        return GW_TB_E_LAYOUT;
    }
    if (n > GW_MAX_TEMPS) {
        return GW_TB_E_RANGE;
    }
    v.temp_count = n;
    v.cell_temp_count = cell_sensor_count(f->ver, n);
    for (uint8_t i = 0; i < n; i++) {
        int32_t t_dc = temp_to_dc(f->ver, rd_u16(&r));
        if (r.ok && (t_dc < TEMP_MIN_DC || t_dc > TEMP_MAX_DC)) {
            return GW_TB_E_RANGE;
        }
        v.temp_dc[i] = (int16_t)t_dc;
    }

    uint16_t current_raw = rd_u16(&r);
    /* Two's complement of a 16-bit word, decoded without an implementation-defined cast. */
    int32_t current_10ma = current_raw >= 0x8000u ? (int32_t)current_raw - 0x10000 : (int32_t)current_raw;
    v.current_ma = current_10ma * 10;
    v.voltage_mv = (uint32_t)rd_u16(&r) * 10u;
    v.remaining_mah = (uint32_t)rd_u16(&r) * 10u;
    uint8_t p = rd_u8(&r);
    if (!r.ok) {
        return GW_TB_E_LAYOUT;
    }
    /* Full capacity, cycles and the SOC/SOH word are the minimum we use. */
    if (p < 3) {
        return GW_TB_E_LAYOUT;
    }
    if (r.len - r.pos != 2u * p) {
        return GW_TB_E_LAYOUT;
    }
    v.full_mah = (uint32_t)rd_u16(&r) * 10u;
    v.cycles = rd_u16(&r);
    v.soc_pct = rd_u8(&r);
    v.soh_pct = rd_u8(&r);
    if (v.soc_pct > 100 || v.soh_pct > 100) {
        return GW_TB_E_RANGE;
    }
    if (v.voltage_mv > (uint32_t)m * CELL_MAX_MV) {
        return GW_TB_E_RANGE;
    }

    pack->cell_count = v.cell_count;
    memcpy(pack->cell_mv, v.cell_mv, sizeof(pack->cell_mv));
    pack->temp_count = v.temp_count;
    pack->cell_temp_count = v.cell_temp_count;
    memcpy(pack->temp_dc, v.temp_dc, sizeof(pack->temp_dc));
    pack->current_ma = v.current_ma;
    pack->voltage_mv = v.voltage_mv;
    pack->remaining_mah = v.remaining_mah;
    pack->full_mah = v.full_mah;
    pack->cycles = v.cycles;
    pack->soc_pct = v.soc_pct;
    pack->soh_pct = v.soh_pct;
    return GW_TB_OK;
}
