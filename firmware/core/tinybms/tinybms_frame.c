/* SPDX-License-Identifier: MIT */
/* TinyBMS UART codec, gateway side (see tinybms_frame.h). */
#include "tinybms/tinybms_frame.h"

#include <string.h>

const char *gw_tiny_strerror(gw_tiny_err_t e)
{
    switch (e) {
    case GW_TINY_OK: return "ok";
    case GW_TINY_E_ARG: return "bad argument";
    case GW_TINY_E_SHORT: return "frame too short";
    case GW_TINY_E_START: return "no 0xAA start byte";
    case GW_TINY_E_CMD: return "unknown command";
    case GW_TINY_E_LENGTH: return "length does not match the command";
    case GW_TINY_E_CRC: return "crc mismatch";
    case GW_TINY_E_LAYOUT: return "payload does not fit the reply layout";
    case GW_TINY_E_RANGE: return "value out of range";
    }
    return "unknown error";
}

const char *gw_tiny_kind_name(gw_tiny_kind_t k)
{
    switch (k) {
    case GW_TINY_KIND_REQUEST: return "request";
    case GW_TINY_KIND_REPLY: return "reply";
    case GW_TINY_KIND_ACK: return "ack";
    case GW_TINY_KIND_NACK: return "nack";
    }
    return "unknown";
}

uint16_t gw_tiny_crc16(const uint8_t *data, size_t n)
{
    uint16_t crc = 0xFFFF;
    if (data == NULL) {
        return crc;
    }
    for (size_t i = 0; i < n; i++) {
        crc ^= data[i];
        for (unsigned b = 0; b < 8; b++) {
            crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
        }
    }
    return crc;
}

uint16_t gw_tiny_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t gw_tiny_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Append the CRC (LSB first) to the n bytes in out; returns n + 2. */
static size_t seal(uint8_t *out, size_t n)
{
    uint16_t crc = gw_tiny_crc16(out, n);
    out[n] = (uint8_t)(crc & 0xFFu);
    out[n + 1] = (uint8_t)(crc >> 8);
    return n + 2;
}

static bool is_simple_cmd(uint8_t cmd)
{
    return cmd == GW_TINY_CMD_EVENTS_NEW || cmd == GW_TINY_CMD_EVENTS_ALL ||
           (cmd >= GW_TINY_CMD_PACK_V && cmd <= GW_TINY_CMD_CELLS) ||
           (cmd >= GW_TINY_CMD_VERSION && cmd <= GW_TINY_CMD_SPEED);
}

size_t gw_tiny_build_simple(uint8_t cmd, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < 4 || !is_simple_cmd(cmd)) {
        return 0;
    }
    out[0] = GW_TINY_START;
    out[1] = cmd;
    return seal(out, 2);
}

size_t gw_tiny_build_reset(uint8_t option, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < 5 || (option != 0x01 && option != 0x02 && option != 0x05)) {
        return 0;
    }
    out[0] = GW_TINY_START;
    out[1] = GW_TINY_CMD_RESET;
    out[2] = option;
    return seal(out, 3);
}

size_t gw_tiny_build_read_mb(uint16_t addr, uint8_t count, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < 8 || count == 0 || count > GW_TINY_MB_READ_MAX) {
        return 0;
    }
    out[0] = GW_TINY_START;
    out[1] = GW_TINY_CMD_READ_MB;
    out[2] = (uint8_t)(addr >> 8);
    out[3] = (uint8_t)(addr & 0xFFu);
    out[4] = 0;
    out[5] = count;
    return seal(out, 6);
}

size_t gw_tiny_build_write_mb(uint16_t addr, const uint16_t *values, uint8_t count, uint8_t *out,
                              size_t cap)
{
    size_t len = 9u + 2u * count;
    if (out == NULL || values == NULL || count == 0 || count > GW_TINY_MB_WRITE_MAX || cap < len) {
        return 0;
    }
    out[0] = GW_TINY_START;
    out[1] = GW_TINY_CMD_WRITE_MB;
    out[2] = (uint8_t)(addr >> 8);
    out[3] = (uint8_t)(addr & 0xFFu);
    out[4] = 0;
    out[5] = count;
    out[6] = (uint8_t)(2u * count);
    for (size_t i = 0; i < count; i++) {
        out[7 + 2 * i] = (uint8_t)(values[i] >> 8);
        out[8 + 2 * i] = (uint8_t)(values[i] & 0xFFu);
    }
    return seal(out, len - 2);
}

/* Reply layouts (tinybms.md 2.2, 2.3): fixed total length, or PL-based. */
typedef enum { L_NONE, L_FIXED, L_PL } layout_kind_t;

typedef struct reply_layout {
    layout_kind_t kind;
    uint8_t fixed_len;  /* L_FIXED: whole frame */
    uint8_t pl_exact;   /* L_PL: required PL, 0 = any that fits pl_mult */
    uint8_t pl_mult;    /* L_PL: PL must be a multiple of this */
    uint8_t pl_min;
    bool pl_6bit;       /* 0x07/0x09: bit 7 = packet id (multi-packet, unsupported) */
} reply_layout_t;

static reply_layout_t reply_layout(uint8_t b1)
{
    reply_layout_t l = { L_NONE, 0, 0, 1, 0, false };
    switch (b1) {
    case GW_TINY_NACK: l.kind = L_FIXED; l.fixed_len = 6; break;
    case GW_TINY_ACK: l.kind = L_FIXED; l.fixed_len = 5; break;
    case GW_TINY_CMD_WRITE_MB: l.kind = L_FIXED; l.fixed_len = 8; break;
    case GW_TINY_CMD_PACK_V:
    case GW_TINY_CMD_PACK_I:
    case GW_TINY_CMD_LIFETIME:
    case GW_TINY_CMD_SOC: l.kind = L_FIXED; l.fixed_len = 8; break;
    case GW_TINY_CMD_MAX_CELL:
    case GW_TINY_CMD_MIN_CELL:
    case GW_TINY_CMD_STATUS: l.kind = L_FIXED; l.fixed_len = 6; break;
    case GW_TINY_CMD_SPEED: l.kind = L_FIXED; l.fixed_len = 16; break;
    case GW_TINY_CMD_READ_MB:
    case GW_TINY_CMD_CELLS:
    case GW_TINY_CMD_SETTINGS: l.kind = L_PL; l.pl_mult = 2; l.pl_min = 2; break;
    case GW_TINY_CMD_READ_BLOCK: l.kind = L_PL; l.pl_mult = 2; l.pl_min = 2; l.pl_6bit = true; break;
    case GW_TINY_CMD_READ_INDIV: l.kind = L_PL; l.pl_mult = 4; l.pl_min = 4; l.pl_6bit = true; break;
    case GW_TINY_CMD_EVENTS_NEW:
    case GW_TINY_CMD_EVENTS_ALL: l.kind = L_PL; l.pl_mult = 4; l.pl_min = 4; break;
    case GW_TINY_CMD_TEMPS: l.kind = L_PL; l.pl_exact = 6; break;
    case GW_TINY_CMD_VERSION: l.kind = L_PL; l.pl_exact = 5; break;
    case GW_TINY_CMD_VERSION_EXT: l.kind = L_PL; l.pl_exact = 7; break;
    default: break;
    }
    return l;
}

int gw_tiny_reply_len(const uint8_t *buf, size_t n)
{
    if (buf == NULL || n == 0) {
        return 0;
    }
    if (buf[0] != GW_TINY_START) {
        return GW_TINY_E_START;
    }
    if (n < 2) {
        return 0;
    }
    reply_layout_t l = reply_layout(buf[1]);
    if (l.kind == L_NONE) {
        return GW_TINY_E_CMD;
    }
    if (l.kind == L_FIXED) {
        return l.fixed_len;
    }
    if (n < 3) {
        return 0;
    }
    uint8_t pl = buf[2];
    if (l.pl_6bit && (pl & 0x80u) != 0) {
        return GW_TINY_E_LENGTH; /* a multi-packet reply: layout undocumented (tinybms.md 8.1) */
    }
    if (l.pl_6bit) {
        pl &= 0x3Fu;
    }
    if ((l.pl_exact != 0 && pl != l.pl_exact) || pl < l.pl_min || pl % l.pl_mult != 0) {
        return GW_TINY_E_LENGTH;
    }
    return (int)pl + 5;
}

static void fill_common(const uint8_t *frame, size_t len, gw_tiny_frame_t *out)
{
    out->crc_rx = (uint16_t)(frame[len - 2] | (frame[len - 1] << 8));
    out->crc_calc = gw_tiny_crc16(frame, len - 2);
}

gw_tiny_err_t gw_tiny_parse_reply(const uint8_t *frame, size_t len, gw_tiny_frame_t *out)
{
    if (out == NULL) {
        return GW_TINY_E_ARG;
    }
    memset(out, 0, sizeof(*out));
    out->kind = GW_TINY_KIND_REPLY;
    if (frame == NULL) {
        return GW_TINY_E_ARG;
    }
    if (len < 4) {
        return GW_TINY_E_SHORT;
    }
    int want = gw_tiny_reply_len(frame, len);
    if (want < 0) {
        return (gw_tiny_err_t)want;
    }
    out->cmd = frame[1];
    if ((size_t)want != len) {
        return GW_TINY_E_LENGTH;
    }
    fill_common(frame, len, out);
    reply_layout_t l = reply_layout(frame[1]);
    size_t hdr = l.kind == L_PL ? 3 : 2;
    if (frame[1] == GW_TINY_NACK || frame[1] == GW_TINY_ACK) {
        out->kind = frame[1] == GW_TINY_NACK ? GW_TINY_KIND_NACK : GW_TINY_KIND_ACK;
        out->cmd = frame[2];
        out->error_code = frame[1] == GW_TINY_NACK ? frame[3] : 0;
        hdr = 3;
    }
    out->payload = frame + hdr;
    out->payload_len = len - 2 - hdr;
    return out->crc_rx == out->crc_calc ? GW_TINY_OK : GW_TINY_E_CRC;
}

/* Length of frame as a request, or 0 when the request layout cannot fit.
 * Overlaps with replies (same command, same length) resolve to the request
 * only where the request's fixed bytes match: 0x03 (8 bytes: a reply would
 * have an odd PL), 0x1D (byte 3 = 00, OPT 1..4), 0x07 (7 bytes, ambiguous
 * with a one-register reply: read as the request), 0x09 with PL = 2n (a
 * reply's PL is 4n, so PL = 4n stays ambiguous and is read as the request). */
static size_t request_len(const uint8_t *f, size_t len)
{
    uint8_t cmd = f[1];
    if (is_simple_cmd(cmd)) {
        return 4;
    }
    switch (cmd) {
    case GW_TINY_CMD_RESET: return 5;
    case GW_TINY_CMD_READ_MB: return f[4] == 0 ? 8 : 0;
    case GW_TINY_CMD_READ_BLOCK: return 7;
    case GW_TINY_CMD_SETTINGS: return (len >= 7 && f[3] == 0 && f[2] >= 1 && f[2] <= 4) ? 7 : 0;
    case GW_TINY_CMD_READ_INDIV: return (len >= 3 && f[2] % 2 == 0 && f[2] > 0) ? (size_t)f[2] + 5 : 0;
    case GW_TINY_CMD_WRITE_INDIV: return (len >= 3 && f[2] % 4 == 0 && f[2] > 0) ? (size_t)f[2] + 5 : 0;
    case GW_TINY_CMD_WRITE_BLOCK: return (len >= 3 && f[2] % 2 == 0 && f[2] > 0) ? (size_t)f[2] + 7 : 0;
    case GW_TINY_CMD_WRITE_MB:
        return (len >= 7 && f[5] != 0 && f[6] == 2u * f[5]) ? (size_t)f[6] + 9 : 0;
    default: return 0;
    }
}

gw_tiny_err_t gw_tiny_parse_any(const uint8_t *frame, size_t len, gw_tiny_frame_t *out)
{
    if (out == NULL || frame == NULL) {
        return gw_tiny_parse_reply(frame, len, out);
    }
    if (len >= 4 && frame[0] == GW_TINY_START && request_len(frame, len) == len) {
        memset(out, 0, sizeof(*out));
        out->kind = GW_TINY_KIND_REQUEST;
        out->cmd = frame[1];
        out->payload = frame + 2;
        out->payload_len = len - 4;
        fill_common(frame, len, out);
        return out->crc_rx == out->crc_calc ? GW_TINY_OK : GW_TINY_E_CRC;
    }
    return gw_tiny_parse_reply(frame, len, out);
}

gw_tiny_err_t gw_tiny_regs_be(const gw_tiny_frame_t *f, uint16_t *regs, size_t cap, size_t *count)
{
    if (f == NULL || regs == NULL || count == NULL || f->payload == NULL) {
        return GW_TINY_E_ARG;
    }
    *count = 0;
    if (f->payload_len % 2 != 0 || f->payload_len / 2 > cap) {
        return GW_TINY_E_LAYOUT;
    }
    size_t n = f->payload_len / 2;
    for (size_t i = 0; i < n; i++) {
        regs[i] = (uint16_t)((f->payload[2 * i] << 8) | f->payload[2 * i + 1]);
    }
    *count = n;
    return GW_TINY_OK;
}

bool gw_tiny_float_milli(uint32_t bits, int32_t *out_milli)
{
    if (out_milli == NULL) {
        return false;
    }
    bool neg = (bits >> 31) != 0;
    int exp = (int)((bits >> 23) & 0xFFu);
    uint64_t mant = bits & 0x7FFFFFu;
    if (exp == 0xFF) {
        return false; /* NaN or infinity */
    }
    if (exp == 0) {
        exp = 1;      /* subnormal: no implicit 1 (the result rounds to 0 anyway) */
    } else {
        mant |= 0x800000u;
    }
    /* value = mant x 2^(exp - 150); value x 1000 = mant x 1000 x 2^shift. */
    int shift = exp - 150;
    uint64_t scaled = mant * 1000u; /* < 2^34 */
    uint64_t mag;
    if (shift >= 0) {
        if (shift > 30) {
            return false;
        }
        mag = scaled << shift;
    } else if (shift < -40) {
        mag = 0;
    } else {
        uint64_t half = (uint64_t)1 << (-shift - 1);
        mag = (scaled + half) >> (-shift);
    }
    if (mag > (uint64_t)INT32_MAX) {
        return false;
    }
    *out_milli = neg ? -(int32_t)mag : (int32_t)mag;
    return true;
}
