/* SPDX-License-Identifier: MIT */
/* Device-side Topband codec: decode requests, encode replies (see emu_topband_codec.h).
 *
 * Written from topband.md only, never from the firmware's decoder, so that a
 * misreading of the protocol shows up as a disagreement between the two sides. */
#include "emulators/topband/emu_topband_codec.h"

#include <math.h>
#include <string.h>

/* Frame overhead in characters: SOI + VER ADR CID1 CID2 (8) + LENGTH (4) + CHKSUM (4) + EOI. */
#define TB_HEADER_CHARS 12u
#define TB_CHKSUM_CHARS 4u
#define TB_MAX_LENID 0x0FFFu

/* Temperature encodings of the two reply families (topband.md §2.1). */
#define TB_KELVIN_X10_OFFSET 2731
#define TB_TOPBMS_OFFSET_C 40

static const char tb_hex_digits[] = "0123456789ABCDEF";

static int hex_nibble(uint8_t c)
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

/* Read nchars hex digits (either case) as a big-endian number; -1 if any is not hex. */
static long hex_value(const uint8_t *s, size_t nchars)
{
    long v = 0;
    for (size_t i = 0; i < nchars; i++) {
        int n = hex_nibble(s[i]);
        if (n < 0) {
            return -1;
        }
        v = (v << 4) | n;
    }
    return v;
}

uint8_t emu_tb_lchksum(uint16_t lenid)
{
    unsigned sum = (lenid & 0xFu) + ((lenid >> 4) & 0xFu) + ((lenid >> 8) & 0xFu);
    return (uint8_t)((~sum + 1u) & 0xFu);
}

uint16_t emu_tb_chksum(const uint8_t *chars, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += chars[i];
    }
    return (uint16_t)((~sum + 1u) & 0xFFFFu);
}

static bool cid2_known(uint8_t cid2)
{
    return cid2 == EMU_TB_CID2_ANALOG || cid2 == EMU_TB_CID2_ALARM ||
           cid2 == EMU_TB_CID2_PARAMS || cid2 == EMU_TB_CID2_PROTOCOL ||
           cid2 == EMU_TB_CID2_MANUFACTURER;
}

/* INFO sizes each command accepts: 0x42 and 0x44 carry an optional command
 * byte (the real master sends ADR, swingstate v3 sends nothing); the others none. */
static bool info_len_ok(uint8_t cid2, size_t info_len)
{
    if (cid2 == EMU_TB_CID2_ANALOG || cid2 == EMU_TB_CID2_ALARM) {
        return info_len <= 1;
    }
    return info_len == 0;
}

int emu_tb_decode_request(const uint8_t *frame, size_t len, emu_tb_request_t *req)
{
    if (frame == NULL || req == NULL || len == 0 || frame[0] != '~') {
        return -1;
    }
    memset(req, 0, sizeof(*req));
    /* body = the characters between SOI and EOI; EOI may be CR or LF or missing. */
    const uint8_t *body = frame + 1;
    size_t n = len - 1;
    while (n > 0 && (body[n - 1] == '\r' || body[n - 1] == '\n')) {
        n--;
    }
    if (n < 4) {
        return -1;
    }
    long ver = hex_value(body, 2);
    long adr = hex_value(body + 2, 2);
    if (ver < 0 || adr < 0) {
        return -1;
    }
    req->ver = (uint8_t)ver;
    req->adr = (uint8_t)adr;

    /* From here the address is known, so every problem earns an error reply.
     * A frame too short to hold its checksum cannot pass the checksum test. */
    if (n < TB_HEADER_CHARS + TB_CHKSUM_CHARS) {
        return EMU_TB_RTN_CHKSUM;
    }
    size_t sum_chars = n - TB_CHKSUM_CHARS;
    long chk = hex_value(body + sum_chars, TB_CHKSUM_CHARS);
    if (chk < 0 || (uint16_t)chk != emu_tb_chksum(body, sum_chars)) {
        return EMU_TB_RTN_CHKSUM;
    }
    long length = hex_value(body + 8, 4);
    if (length < 0) {
        return EMU_TB_RTN_FORMAT;
    }
    uint16_t lenid = (uint16_t)(length & TB_MAX_LENID);
    req->lenid = lenid;
    if ((uint8_t)((unsigned long)length >> 12) != emu_tb_lchksum(lenid)) {
        return EMU_TB_RTN_LCHKSUM;
    }
    if (req->ver != EMU_TB_VER_REQUEST) {
        return EMU_TB_RTN_VER;
    }
    long cid1 = hex_value(body + 4, 2);
    long cid2 = hex_value(body + 6, 2);
    if (cid1 < 0 || cid2 < 0) {
        return EMU_TB_RTN_FORMAT;
    }
    req->cid1 = (uint8_t)cid1;
    req->cid2 = (uint8_t)cid2;
    if (req->cid1 != EMU_TB_CID1_BATTERY || !cid2_known(req->cid2)) {
        return EMU_TB_RTN_CID2;
    }
    /* LENID must describe the INFO actually present, in whole hex pairs. */
    size_t info_chars = sum_chars - TB_HEADER_CHARS;
    if (lenid != info_chars || (info_chars & 1u) != 0 || info_chars / 2 > sizeof(req->info)) {
        return EMU_TB_RTN_FORMAT;
    }
    for (size_t i = 0; i < info_chars / 2; i++) {
        long b = hex_value(body + TB_HEADER_CHARS + 2 * i, 2);
        if (b < 0) {
            return EMU_TB_RTN_FORMAT;
        }
        req->info[i] = (uint8_t)b;
    }
    req->info_len = info_chars / 2;
    if (!info_len_ok(req->cid2, req->info_len)) {
        return EMU_TB_RTN_FORMAT;
    }
    return EMU_TB_RTN_OK;
}

static void put_hex8(uint8_t *out, uint8_t v)
{
    out[0] = (uint8_t)tb_hex_digits[v >> 4];
    out[1] = (uint8_t)tb_hex_digits[v & 0xFu];
}

static void put_hex16(uint8_t *out, uint16_t v)
{
    put_hex8(out, (uint8_t)(v >> 8));
    put_hex8(out + 2, (uint8_t)(v & 0xFFu));
}

/* Common framing: info_chars are the INFO characters exactly as they go on the
 * wire (hex pairs, or raw ASCII for 0x51). */
static size_t frame_reply(uint8_t ver, uint8_t adr, uint8_t rtn, const uint8_t *info_chars,
                          size_t nchars, bool hex_encode, uint8_t *out, size_t cap)
{
    size_t lenid = hex_encode ? 2 * nchars : nchars;
    size_t total = 1 + TB_HEADER_CHARS + lenid + TB_CHKSUM_CHARS + 1;
    if (out == NULL || lenid > TB_MAX_LENID || total > cap || (nchars > 0 && info_chars == NULL)) {
        return 0;
    }
    size_t pos = 0;
    out[pos++] = '~';
    put_hex8(out + pos, ver);
    put_hex8(out + pos + 2, adr);
    put_hex8(out + pos + 4, EMU_TB_CID1_BATTERY);
    put_hex8(out + pos + 6, rtn);
    uint16_t length = (uint16_t)(((unsigned)emu_tb_lchksum((uint16_t)lenid) << 12) | lenid);
    put_hex16(out + pos + 8, length);
    pos += TB_HEADER_CHARS;
    for (size_t i = 0; i < nchars; i++) {
        if (hex_encode) {
            put_hex8(out + pos, info_chars[i]);
            pos += 2;
        } else {
            out[pos++] = info_chars[i];
        }
    }
    put_hex16(out + pos, emu_tb_chksum(out + 1, pos - 1));
    pos += TB_CHKSUM_CHARS;
    out[pos++] = '\r';
    return pos;
}

size_t emu_tb_encode_reply(uint8_t ver, uint8_t adr, uint8_t rtn, const uint8_t *info,
                           size_t info_len, uint8_t *out, size_t cap)
{
    return frame_reply(ver, adr, rtn, info, info_len, true, out, cap);
}

size_t emu_tb_encode_reply_ascii(uint8_t ver, uint8_t adr, uint8_t rtn, const char *info,
                                 size_t info_len, uint8_t *out, size_t cap)
{
    return frame_reply(ver, adr, rtn, (const uint8_t *)info, info_len, false, out, cap);
}

/* Bounded big-endian writer: once an append would overflow, it stops and
 * remembers, so the caller checks one flag at the end. */
typedef struct info_writer {
    uint8_t *buf;
    size_t cap, len;
    bool overflow;
} info_writer_t;

static void w_u8(info_writer_t *w, uint8_t v)
{
    if (w->len >= w->cap) {
        w->overflow = true;
        return;
    }
    w->buf[w->len++] = v;
}

static void w_u16(info_writer_t *w, uint16_t v)
{
    w_u8(w, (uint8_t)(v >> 8));
    w_u8(w, (uint8_t)(v & 0xFFu));
}

static long clamp_round(double x, long lo, long hi)
{
    if (!(x == x)) { /* NaN from a broken model reads as the lowest value, not UB */
        return lo;
    }
    if (x <= (double)lo) {
        return lo;
    }
    if (x >= (double)hi) {
        return hi;
    }
    return lround(x);
}

uint16_t emu_tb_temp_raw(double temp_c, emu_tb_family_t fam)
{
    if (fam == EMU_TB_TOPBMS) {
        return (uint16_t)clamp_round(temp_c + TB_TOPBMS_OFFSET_C, 0, 0xFFFF);
    }
    return (uint16_t)clamp_round(temp_c * 10.0 + TB_KELVIN_X10_OFFSET, 0, 0xFFFF);
}

uint8_t emu_tb_family_ver(emu_tb_family_t fam)
{
    return fam == EMU_TB_TOPBMS ? EMU_TB_VER_TOPBMS : EMU_TB_VER_EET;
}

size_t emu_tb_analog_info(const emu_tb_analog_t *a, emu_tb_family_t fam, uint8_t echo,
                          uint8_t *info, size_t cap)
{
    if (a == NULL || info == NULL || a->ncells > 32 || a->ntemps > 16) {
        return 0;
    }
    info_writer_t w = {info, cap, 0, false};
    w_u8(&w, echo);
    w_u8(&w, a->ncells);
    for (size_t i = 0; i < a->ncells; i++) {
        w_u16(&w, a->cell_mv[i]);
    }
    w_u8(&w, a->ntemps);
    for (size_t i = 0; i < a->ntemps; i++) {
        w_u16(&w, emu_tb_temp_raw(a->temp_c[i], fam));
    }
    long current_10ma = clamp_round(a->current_a * 100.0, INT16_MIN, INT16_MAX);
    w_u16(&w, (uint16_t)(current_10ma & 0xFFFF));
    w_u16(&w, (uint16_t)clamp_round(a->voltage_v * 100.0, 0, 0xFFFF));
    w_u16(&w, (uint16_t)clamp_round(a->remaining_ah * 100.0, 0, 0xFFFF));
    /* P counts the 16-bit words after it: full, cycles, SOC|SOH, balancing
     * (+ two words of unknown meaning, always zero, on TOPBMS). */
    uint8_t p_words = fam == EMU_TB_TOPBMS ? 6 : 4;
    w_u8(&w, p_words);
    w_u16(&w, (uint16_t)clamp_round(a->full_ah * 100.0, 0, 0xFFFF));
    w_u16(&w, a->cycles);
    w_u8(&w, a->soc_pct);
    w_u8(&w, a->soh_pct);
    w_u16(&w, a->balancing);
    if (fam == EMU_TB_TOPBMS) {
        w_u16(&w, 0);
        w_u16(&w, 0);
    }
    return w.overflow ? 0 : w.len;
}

/* Limits the emulated BMS applies (and reports in 0x47); LiFePO4 values. */
#define TB_CELL_HIGH_MV 3650
#define TB_CELL_LOW_MV 2500
#define TB_CELL_UNDER_MV 2400
#define TB_CHARGE_HIGH_C 45.0
#define TB_CHARGE_LOW_C 0.0
#define TB_CHARGE_STATUS_HIGH_C 50.0
#define TB_DISCHARGE_HIGH_C 60.0
#define TB_DISCHARGE_LOW_C (-20.0)
#define TB_MAX_CHARGE_C_RATE 0.5
#define TB_MAX_DISCHARGE_C_RATE 1.0
/* Below this the BMS shows neither "charging" nor "discharging". */
#define TB_CURRENT_DEADBAND_A 0.05

/* Item status codes (Doc v1.7). */
enum { TB_ST_NORMAL = 0x00, TB_ST_LOW = 0x01, TB_ST_HIGH = 0x02 };

static uint8_t cell_status(uint16_t mv)
{
    if (mv > TB_CELL_HIGH_MV) {
        return TB_ST_HIGH;
    }
    if (mv < TB_CELL_LOW_MV) {
        return TB_ST_LOW;
    }
    return TB_ST_NORMAL;
}

static uint8_t temp_status(double temp_c)
{
    if (temp_c > TB_CHARGE_STATUS_HIGH_C) {
        return TB_ST_HIGH;
    }
    if (temp_c < TB_CHARGE_LOW_C) {
        return TB_ST_LOW;
    }
    return TB_ST_NORMAL;
}

/* What the pack state says, shared by both 0x44 layouts. */
typedef struct tb_alarm_state {
    bool cell_high, cell_low;  /* some cell beyond its limit */
    bool pack_high, pack_low;
    bool ov_protect, uv_protect; /* FET opened because of it */
    bool charging, discharging;
    uint8_t current_status, voltage_status;
} tb_alarm_state_t;

static tb_alarm_state_t alarm_state(const emu_tb_analog_t *a)
{
    tb_alarm_state_t st;
    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < a->ncells; i++) {
        st.cell_high = st.cell_high || a->cell_mv[i] > TB_CELL_HIGH_MV;
        st.cell_low = st.cell_low || a->cell_mv[i] < TB_CELL_LOW_MV;
    }
    double pack_high_v = a->ncells * (TB_CELL_HIGH_MV / 1000.0);
    double pack_low_v = a->ncells * (TB_CELL_LOW_MV / 1000.0);
    st.pack_high = a->ncells > 0 && a->voltage_v > pack_high_v;
    st.pack_low = a->ncells > 0 && a->voltage_v < pack_low_v;
    st.voltage_status = st.pack_high ? TB_ST_HIGH : (st.pack_low ? TB_ST_LOW : TB_ST_NORMAL);
    st.ov_protect = st.cell_high && !a->charge_fet;
    st.uv_protect = st.cell_low && !a->discharge_fet;
    st.charging = a->current_a > TB_CURRENT_DEADBAND_A;
    st.discharging = a->current_a < -TB_CURRENT_DEADBAND_A;
    double max_charge_a = a->full_ah * TB_MAX_CHARGE_C_RATE;
    st.current_status = (a->full_ah > 0 && a->current_a > max_charge_a) ? TB_ST_HIGH : TB_ST_NORMAL;
    return st;
}

static void alarm_items(info_writer_t *w, const emu_tb_analog_t *a, uint8_t echo,
                        const tb_alarm_state_t *st)
{
    w_u8(w, echo);
    w_u8(w, a->ncells);
    for (size_t i = 0; i < a->ncells; i++) {
        w_u8(w, cell_status(a->cell_mv[i]));
    }
    w_u8(w, a->ntemps);
    for (size_t i = 0; i < a->ntemps; i++) {
        w_u8(w, temp_status(a->temp_c[i]));
    }
    w_u8(w, st->current_status);
    w_u8(w, st->voltage_status);
}

static uint8_t bit(bool on, unsigned n)
{
    return on ? (uint8_t)(1u << n) : 0;
}

/* EET: 8 status bytes, linedot's bit map (topband.md §2.2 table). */
static void alarm_status_eet(info_writer_t *w, const tb_alarm_state_t *st, const emu_tb_analog_t *a)
{
    uint8_t s[8] = {0};
    s[0] = bit(st->ov_protect, 0) | bit(st->cell_low, 1) | bit(st->cell_high, 3);
    s[1] = bit(a->charge_fet, 1) | bit(a->discharge_fet, 2) | bit(st->uv_protect, 4);
    s[2] = bit(a->soc_pct >= 100, 3) | bit(st->discharging, 6) | bit(st->charging, 7);
    w_u8(w, (uint8_t)sizeof(s));
    for (size_t i = 0; i < sizeof(s); i++) {
        w_u8(w, s[i]);
    }
}

/* TOPBMS: Doc v1.7 status indications 1..15 (topband.md §2.2 table). */
static void alarm_status_topbms(info_writer_t *w, const tb_alarm_state_t *st,
                                const emu_tb_analog_t *a)
{
    uint8_t s[15] = {0};
    s[0] = bit(st->cell_high, 0) | bit(st->cell_low, 1) | bit(st->pack_high, 2) |
           bit(st->pack_low, 3);
    s[1] = bit(st->ov_protect, 0) | bit(st->uv_protect, 1);
    s[4] = bit(st->charging, 6) | bit(st->discharging, 7);
    s[5] = bit(a->discharge_fet, 0) | bit(a->charge_fet, 1) | bit(a->soc_pct >= 100, 4);
    w_u16(w, 0); /* short-circuit protection: flag and count, never tripped here */
    w_u8(w, (uint8_t)sizeof(s));
    for (size_t i = 0; i < sizeof(s); i++) {
        w_u8(w, s[i]);
    }
    w_u16(w, 0); /* reserved */
}

size_t emu_tb_alarm_info(const emu_tb_analog_t *a, emu_tb_family_t fam, uint8_t echo,
                         uint8_t *info, size_t cap)
{
    if (a == NULL || info == NULL || a->ncells > 32 || a->ntemps > 16) {
        return 0;
    }
    info_writer_t w = {info, cap, 0, false};
    tb_alarm_state_t st = alarm_state(a);
    alarm_items(&w, a, echo, &st);
    if (fam == EMU_TB_TOPBMS) {
        alarm_status_topbms(&w, &st, a);
    } else {
        alarm_status_eet(&w, &st, a);
    }
    return w.overflow ? 0 : w.len;
}

static uint16_t kelvin_x10(double temp_c)
{
    return emu_tb_temp_raw(temp_c, EMU_TB_EET);
}

size_t emu_tb_params_info(const emu_tb_analog_t *a, uint8_t *info, size_t cap)
{
    if (a == NULL || info == NULL) {
        return 0;
    }
    info_writer_t w = {info, cap, 0, false};
    /* Module limits are the cell limits times the cell count, in 10 mV. */
    unsigned cells = a->ncells;
    w_u16(&w, TB_CELL_HIGH_MV);
    w_u16(&w, TB_CELL_LOW_MV);
    w_u16(&w, TB_CELL_UNDER_MV);
    w_u16(&w, kelvin_x10(TB_CHARGE_HIGH_C));
    w_u16(&w, kelvin_x10(TB_CHARGE_LOW_C));
    long charge_10ma = clamp_round(a->full_ah * TB_MAX_CHARGE_C_RATE * 100.0, 0, INT16_MAX);
    w_u16(&w, (uint16_t)charge_10ma);
    w_u16(&w, (uint16_t)(cells * TB_CELL_HIGH_MV / 10u));
    w_u16(&w, (uint16_t)(cells * TB_CELL_LOW_MV / 10u));
    w_u16(&w, (uint16_t)(cells * TB_CELL_UNDER_MV / 10u));
    w_u16(&w, kelvin_x10(TB_DISCHARGE_HIGH_C));
    w_u16(&w, kelvin_x10(TB_DISCHARGE_LOW_C));
    long discharge_10ma = clamp_round(a->full_ah * TB_MAX_DISCHARGE_C_RATE * 100.0, 0, INT16_MAX);
    w_u16(&w, (uint16_t)discharge_10ma);
    return w.overflow ? 0 : w.len;
}

/* Copy s into dst[0..width), space padded, truncated if longer. */
static void put_field(char *dst, size_t width, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < width; i++) {
        dst[i] = i < n ? s[i] : ' ';
    }
}

size_t emu_tb_manufacturer_info(emu_tb_family_t fam, uint8_t adr, char *info, size_t cap)
{
    enum { HW_CHARS = 20, SW_CHARS = 4, ID_CHARS = 40, TOTAL = HW_CHARS + SW_CHARS + ID_CHARS };
    if (info == NULL || cap < TOTAL) {
        return 0;
    }
    bool topbms = fam == EMU_TB_TOPBMS;
    put_field(info, HW_CHARS, topbms ? "TOPBMS BMS12S-16S" : "EET TB48100 LFP");
    put_field(info + HW_CHARS, SW_CHARS, topbms ? "V2.1" : "V1.7");
    /* The ID carries the address so a bus scan shows distinct packs. */
    char id[ID_CHARS + 1] = "BMSBENCH-EMU-TOPBAND-ADR00";
    size_t at = strlen(id) - 2;
    id[at] = (char)('0' + (adr / 10) % 10);
    id[at + 1] = (char)('0' + adr % 10);
    put_field(info + HW_CHARS + SW_CHARS, ID_CHARS, id);
    return TOTAL;
}
