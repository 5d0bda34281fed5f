/* SPDX-License-Identifier: MIT */
/* TinyBMS UART framing on the device side (see emu_tinybms_codec.h). */
#include "emulators/tinybms/emu_tinybms_codec.h"

#include <string.h>

/* PL bit 7 = multi-packet transfer (§2.1), which this emulator does not take. */
#define PL_MULTI_PACKET 0x80u
/* Most registers per read, so that the reply's PL (2n, or 4n for 0x09) fits
 * the 7-bit size field. */
#define READ_BLOCK_MAX_REGS 63u
#define READ_INDIV_MAX_REGS 31u
#define MB_READ_MAX_REGS 127u
#define MB_WRITE_MAX_REGS 100u
#define SETTINGS_MAX_REGS 100u

uint16_t emu_tiny_crc16(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc & 1u) != 0 ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
        }
    }
    return crc;
}

void emu_tiny_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

void emu_tiny_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFFu);
}

void emu_tiny_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)((v >> (8 * i)) & 0xFFu);
    }
}

uint16_t emu_tiny_get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((unsigned)p[1] << 8));
}

uint16_t emu_tiny_get_be16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

uint32_t emu_tiny_float_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof(u));
    return u;
}

size_t emu_tiny_request_length(const uint8_t *buf, size_t have)
{
    if (buf == NULL || have < 2) {
        return 0;
    }
    switch (buf[1]) {
    case EMU_TINY_CMD_RESET:
        return 5;
    case EMU_TINY_CMD_READ_BLOCK:
    case EMU_TINY_CMD_SETTINGS:
        return 7;
    case EMU_TINY_CMD_MB_READ:
        return 8;
    case EMU_TINY_CMD_READ_INDIV:
    case EMU_TINY_CMD_WRITE_INDIV:
        return have < 3 ? 0 : 3u + buf[2] + 2u;
    case EMU_TINY_CMD_WRITE_BLOCK:
        /* PL counts the data bytes only, not the address (§6.11 example). */
        return have < 3 ? 0 : 3u + 2u + buf[2] + 2u;
    case EMU_TINY_CMD_MB_WRITE:
        return have < 7 ? 0 : 7u + buf[6] + 2u;
    default:
        /* 0x11, 0x12, 0x14..0x1C, 0x1E..0x20 and unknown commands: AA CMD CRC. */
        return 4;
    }
}

static int decode_read_indiv(const uint8_t *f, emu_tiny_request_t *req)
{
    uint8_t pl = f[2];
    if ((pl & PL_MULTI_PACKET) != 0 || pl < 2 || (pl % 2) != 0 || pl / 2u > READ_INDIV_MAX_REGS) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    req->count = (uint16_t)(pl / 2u);
    for (size_t i = 0; i < req->count; i++) {
        req->addrs[i] = emu_tiny_get_le16(&f[3 + 2 * i]);
    }
    return EMU_TINY_DEC_OK;
}

static int decode_write_block(const uint8_t *f, emu_tiny_request_t *req)
{
    uint8_t pl = f[2];
    if ((pl & PL_MULTI_PACKET) != 0 || pl < 2 || (pl % 2) != 0) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    req->addr = emu_tiny_get_le16(&f[3]);
    req->count = (uint16_t)(pl / 2u);
    for (size_t i = 0; i < req->count; i++) {
        req->values[i] = emu_tiny_get_le16(&f[5 + 2 * i]);
    }
    return EMU_TINY_DEC_OK;
}

static int decode_write_indiv(const uint8_t *f, emu_tiny_request_t *req)
{
    uint8_t pl = f[2];
    if ((pl & PL_MULTI_PACKET) != 0 || pl < 4 || (pl % 4) != 0) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    req->count = (uint16_t)(pl / 4u);
    for (size_t i = 0; i < req->count; i++) {
        req->addrs[i] = emu_tiny_get_le16(&f[3 + 4 * i]);
        req->values[i] = emu_tiny_get_le16(&f[5 + 4 * i]);
    }
    return EMU_TINY_DEC_OK;
}

static int decode_mb_write(const uint8_t *f, emu_tiny_request_t *req)
{
    req->addr = emu_tiny_get_be16(&f[2]);
    req->count = emu_tiny_get_be16(&f[4]);
    if (req->count < 1 || req->count > MB_WRITE_MAX_REGS || f[6] != 2u * req->count) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    for (size_t i = 0; i < req->count; i++) {
        req->values[i] = emu_tiny_get_be16(&f[7 + 2 * i]);
    }
    return EMU_TINY_DEC_OK;
}

static int decode_body(const uint8_t *f, emu_tiny_request_t *req)
{
    switch (req->cmd) {
    case EMU_TINY_CMD_RESET:
        req->option = f[2];
        return EMU_TINY_DEC_OK;
    case EMU_TINY_CMD_MB_READ:
        req->addr = emu_tiny_get_be16(&f[2]);
        req->count = emu_tiny_get_be16(&f[4]);
        return (req->count >= 1 && req->count <= MB_READ_MAX_REGS) ? EMU_TINY_DEC_OK
                                                                   : EMU_TINY_DEC_BAD_CMD;
    case EMU_TINY_CMD_READ_BLOCK:
        req->count = f[2];
        req->addr = emu_tiny_get_le16(&f[3]);
        return (req->count >= 1 && req->count <= READ_BLOCK_MAX_REGS) ? EMU_TINY_DEC_OK
                                                                       : EMU_TINY_DEC_BAD_CMD;
    case EMU_TINY_CMD_READ_INDIV:
        return decode_read_indiv(f, req);
    case EMU_TINY_CMD_WRITE_BLOCK:
        return decode_write_block(f, req);
    case EMU_TINY_CMD_WRITE_INDIV:
        return decode_write_indiv(f, req);
    case EMU_TINY_CMD_MB_WRITE:
        return decode_mb_write(f, req);
    case EMU_TINY_CMD_SETTINGS:
        /* AA 1D OPT 00 RL: the 00 is taken as the high byte of RL. */
        req->option = f[2];
        req->count = (uint16_t)(((unsigned)f[3] << 8) | f[4]);
        return (req->option >= 1 && req->option <= 4 && req->count >= 1 &&
                req->count <= SETTINGS_MAX_REGS)
                   ? EMU_TINY_DEC_OK
                   : EMU_TINY_DEC_BAD_CMD;
    case EMU_TINY_CMD_EVENTS_NEW:
    case EMU_TINY_CMD_EVENTS_ALL:
    case EMU_TINY_CMD_PACK_V:
    case EMU_TINY_CMD_PACK_I:
    case EMU_TINY_CMD_MAX_CELL:
    case EMU_TINY_CMD_MIN_CELL:
    case EMU_TINY_CMD_STATUS:
    case EMU_TINY_CMD_LIFETIME:
    case EMU_TINY_CMD_SOC:
    case EMU_TINY_CMD_TEMPS:
    case EMU_TINY_CMD_CELLS:
    case EMU_TINY_CMD_VERSION:
    case EMU_TINY_CMD_VERSION_EXT:
    case EMU_TINY_CMD_SPEED:
        return EMU_TINY_DEC_OK;
    default:
        return EMU_TINY_DEC_BAD_CMD;
    }
}

int emu_tiny_decode_request(const uint8_t *frame, size_t len, emu_tiny_request_t *req)
{
    if (req == NULL) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    memset(req, 0, sizeof(*req));
    if (frame == NULL || len < 2) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    req->cmd = frame[1];
    if (len < 4 || frame[0] != EMU_TINY_SOF) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    if (emu_tiny_crc16(frame, len - 2) != emu_tiny_get_le16(&frame[len - 2])) {
        return EMU_TINY_DEC_BAD_CRC;
    }
    /* The length implied by the header must be exactly what we were given,
     * so every field read below lies inside the frame. */
    if (emu_tiny_request_length(frame, len) != len) {
        return EMU_TINY_DEC_BAD_CMD;
    }
    int rc = decode_body(frame, req);
    if (rc != EMU_TINY_DEC_OK) {
        req->count = 0; /* never hand out a count the arrays do not back */
    }
    return rc;
}

size_t emu_tiny_seal(uint8_t *buf, size_t len, size_t cap)
{
    if (buf == NULL || len + 2 > cap) {
        return 0;
    }
    emu_tiny_put_le16(&buf[len], emu_tiny_crc16(buf, len));
    return len + 2;
}

size_t emu_tiny_encode_ack(uint8_t cmd, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < 5) {
        return 0;
    }
    out[0] = EMU_TINY_SOF;
    out[1] = EMU_TINY_CMD_ACK;
    out[2] = cmd;
    return emu_tiny_seal(out, 3, cap);
}

size_t emu_tiny_encode_nack(uint8_t cmd, uint8_t err, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < 6) {
        return 0;
    }
    out[0] = EMU_TINY_SOF;
    out[1] = EMU_TINY_CMD_NACK;
    out[2] = cmd;
    out[3] = err;
    return emu_tiny_seal(out, 4, cap);
}
