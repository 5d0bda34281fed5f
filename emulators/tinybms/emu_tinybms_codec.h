/* SPDX-License-Identifier: MIT */
/* TinyBMS UART framing on the device side: CRC-16/MODBUS, request lengths,
 * request decoding, ACK/NACK and byte helpers (tinybms.md §2).
 *
 * Written from the protocol reference only, independently of the firmware's
 * decoder: never include firmware code here.
 *
 * Byte order: the Modbus-compatible commands 0x03/0x10 carry big-endian
 * addresses and data, every proprietary command little-endian; the CRC is
 * always sent low byte first (§2.1). */
#ifndef EMU_TINYBMS_CODEC_H
#define EMU_TINYBMS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_TINY_SOF 0xAAu
/* Longest request: 0x10 with PL = 255 is 7 + 255 + 2 bytes. */
#define EMU_TINY_MAX_FRAME 272u
/* Most register addresses one request may carry (0x09 PL = 254 -> 127). */
#define EMU_TINY_MAX_ITEMS 128u

/* Command codes (§2.3). */
enum {
    EMU_TINY_CMD_NACK = 0x00,
    EMU_TINY_CMD_ACK = 0x01,
    EMU_TINY_CMD_RESET = 0x02,
    EMU_TINY_CMD_MB_READ = 0x03,
    EMU_TINY_CMD_READ_BLOCK = 0x07,
    EMU_TINY_CMD_READ_INDIV = 0x09,
    EMU_TINY_CMD_WRITE_BLOCK = 0x0B,
    EMU_TINY_CMD_WRITE_INDIV = 0x0D,
    EMU_TINY_CMD_MB_WRITE = 0x10,
    EMU_TINY_CMD_EVENTS_NEW = 0x11,
    EMU_TINY_CMD_EVENTS_ALL = 0x12,
    EMU_TINY_CMD_PACK_V = 0x14,
    EMU_TINY_CMD_PACK_I = 0x15,
    EMU_TINY_CMD_MAX_CELL = 0x16,
    EMU_TINY_CMD_MIN_CELL = 0x17,
    EMU_TINY_CMD_STATUS = 0x18,
    EMU_TINY_CMD_LIFETIME = 0x19,
    EMU_TINY_CMD_SOC = 0x1A,
    EMU_TINY_CMD_TEMPS = 0x1B,
    EMU_TINY_CMD_CELLS = 0x1C,
    EMU_TINY_CMD_SETTINGS = 0x1D,
    EMU_TINY_CMD_VERSION = 0x1E,
    EMU_TINY_CMD_VERSION_EXT = 0x1F,
    EMU_TINY_CMD_SPEED = 0x20,
};

/* NACK error codes (§2.2): the only two documented. */
enum {
    EMU_TINY_ERR_CMD = 0x00,
    EMU_TINY_ERR_CRC = 0x01,
};

/* Results of emu_tiny_decode_request. */
enum {
    EMU_TINY_DEC_OK = 0,
    EMU_TINY_DEC_BAD_CMD = -1, /* unknown command or malformed fields: NACK 0x00 */
    EMU_TINY_DEC_BAD_CRC = -2, /* CRC mismatch: NACK 0x01 */
};

/* One decoded request. Which fields are used depends on cmd:
 *   0x03/0x07: addr, count;  0x09: count, addrs[];  0x0B/0x10: addr, count, values[];
 *   0x0D: count, addrs[], values[];  0x02: option;  0x1D: option, count. */
typedef struct emu_tiny_request {
    uint8_t cmd;
    uint8_t option;
    uint16_t addr;
    uint16_t count;
    uint16_t addrs[EMU_TINY_MAX_ITEMS];
    uint16_t values[EMU_TINY_MAX_ITEMS];
} emu_tiny_request_t;

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF, no final XOR). */
uint16_t emu_tiny_crc16(const uint8_t *data, size_t len);

/* Total length of the request that starts at buf[0] (0xAA), judged from the
 * first `have` bytes: > 0 the length, 0 when more bytes are needed to know.
 * An unknown command is taken as the shortest frame (AA CMD CRC, 4 bytes),
 * so it can still be answered with a NACK. Never more than EMU_TINY_MAX_FRAME. */
size_t emu_tiny_request_length(const uint8_t *buf, size_t have);

/* Decode one complete request frame (0xAA .. CRC). Returns EMU_TINY_DEC_*.
 * req->cmd is set whenever len >= 2, also on errors (for the NACK).
 * Checks the CRC first, then the layout: lengths, PL consistency, count
 * limits (0x03 <= 127, 0x10 <= 100, 0x07/0x09/0x0B/0x0D PL with bit 7 clear,
 * i.e. single-packet only). Register address ranges are the emulator's business. */
int emu_tiny_decode_request(const uint8_t *frame, size_t len, emu_tiny_request_t *req);

/* Append the CRC (low byte first) to the len bytes in buf. Returns len + 2,
 * or 0 when cap is too small. */
size_t emu_tiny_seal(uint8_t *buf, size_t len, size_t cap);

/* ACK `AA 01 CMD CRC` (5 bytes) and NACK `AA 00 CMD ERR CRC` (6 bytes).
 * Return the length, 0 when cap is too small. */
size_t emu_tiny_encode_ack(uint8_t cmd, uint8_t *out, size_t cap);
size_t emu_tiny_encode_nack(uint8_t cmd, uint8_t err, uint8_t *out, size_t cap);

/* Byte helpers (explicit byte order, no casts). */
void emu_tiny_put_le16(uint8_t *p, uint16_t v);
void emu_tiny_put_be16(uint8_t *p, uint16_t v);
void emu_tiny_put_le32(uint8_t *p, uint32_t v);
uint16_t emu_tiny_get_le16(const uint8_t *p);
uint16_t emu_tiny_get_be16(const uint8_t *p);
/* IEEE-754 single precision bit pattern of v. */
uint32_t emu_tiny_float_bits(float v);

#endif
