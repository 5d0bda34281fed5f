/* SPDX-License-Identifier: MIT */
/* TinyBMS (Enepaq s516) UART frames, gateway side: build requests, frame and check replies.
 *
 * Every frame starts with 0xAA and ends with a CRC-16/MODBUS over all bytes
 * before it, sent low byte first (tinybms.md 2.1, 2.5). Proprietary commands
 * carry little-endian data, the MODBUS-compatible 0x03/0x10 big-endian.
 * Written independently of emulators/tinybms: never share this codec. */
#ifndef GW_TINYBMS_FRAME_H
#define GW_TINYBMS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_TINY_START 0xAA
#define GW_TINY_NACK 0x00         /* reply byte 1 of an error frame */
#define GW_TINY_ACK 0x01          /* reply byte 1 of an ACK */
#define GW_TINY_CMD_RESET 0x02
#define GW_TINY_CMD_READ_MB 0x03  /* MODBUS-compatible block read, RL <= 127 */
#define GW_TINY_CMD_READ_BLOCK 0x07
#define GW_TINY_CMD_READ_INDIV 0x09
#define GW_TINY_CMD_WRITE_BLOCK 0x0B
#define GW_TINY_CMD_WRITE_INDIV 0x0D
#define GW_TINY_CMD_WRITE_MB 0x10 /* MODBUS-compatible block write, RL <= 100 */
#define GW_TINY_CMD_EVENTS_NEW 0x11
#define GW_TINY_CMD_EVENTS_ALL 0x12
#define GW_TINY_CMD_PACK_V 0x14
#define GW_TINY_CMD_PACK_I 0x15
#define GW_TINY_CMD_MAX_CELL 0x16
#define GW_TINY_CMD_MIN_CELL 0x17
#define GW_TINY_CMD_STATUS 0x18
#define GW_TINY_CMD_LIFETIME 0x19
#define GW_TINY_CMD_SOC 0x1A
#define GW_TINY_CMD_TEMPS 0x1B
#define GW_TINY_CMD_CELLS 0x1C
#define GW_TINY_CMD_SETTINGS 0x1D
#define GW_TINY_CMD_VERSION 0x1E
#define GW_TINY_CMD_VERSION_EXT 0x1F
#define GW_TINY_CMD_SPEED 0x20

#define GW_TINY_MB_READ_MAX 127   /* registers per 0x03 request */
#define GW_TINY_MB_WRITE_MAX 100  /* registers per 0x10 request */
#define GW_TINY_PL_MAX 63         /* 6-bit size field of 0x07/0x09 (tinybms.md 8.1) */
#define GW_TINY_MAX_FRAME 260     /* 0x03 reply: 3 + 254 + 2, rounded up */
#define GW_TINY_TEMP_ABSENT (-32768) /* external sensor not connected */

/* Online status codes (reg 50 / 0x18). */
#define GW_TINY_ST_CHARGING 0x91
#define GW_TINY_ST_FULL 0x92
#define GW_TINY_ST_DISCHARGING 0x93
#define GW_TINY_ST_REGEN 0x96
#define GW_TINY_ST_IDLE 0x97
#define GW_TINY_ST_FAULT 0x9B

typedef enum gw_tiny_err {
    GW_TINY_OK = 0,
    GW_TINY_E_ARG = -1,     /* NULL, or a caller buffer too small */
    GW_TINY_E_SHORT = -2,   /* fewer bytes than the frame needs */
    GW_TINY_E_START = -3,   /* first byte is not 0xAA */
    GW_TINY_E_CMD = -4,     /* command code with no known reply layout */
    GW_TINY_E_LENGTH = -5,  /* length disagrees with the command / PL */
    GW_TINY_E_CRC = -6,
    GW_TINY_E_LAYOUT = -7,  /* payload does not fit the expected reply */
    GW_TINY_E_RANGE = -8,   /* a value that cannot be a measurement (NaN, inf, huge) */
} gw_tiny_err_t;

const char *gw_tiny_strerror(gw_tiny_err_t e);

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF, no final XOR). */
uint16_t gw_tiny_crc16(const uint8_t *data, size_t n);

/* Request builders. Each returns the frame length, or 0 when an argument is
 * out of its documented range or cap is too small (nothing useful written). */
/* AA CMD CRC: 0x11, 0x12, 0x14..0x1C, 0x1E..0x20. */
size_t gw_tiny_build_simple(uint8_t cmd, uint8_t *out, size_t cap);
/* AA 02 OPT CRC: 0x01 clear events, 0x02 clear statistics, 0x05 reset BMS. */
size_t gw_tiny_build_reset(uint8_t option, uint8_t *out, size_t cap);
/* AA 03 ADDR_H ADDR_L 00 RL CRC, 1 <= count <= 127. */
size_t gw_tiny_build_read_mb(uint16_t addr, uint8_t count, uint8_t *out, size_t cap);
/* AA 10 ADDR_H ADDR_L 00 RL PL D1_H D1_L ... CRC, 1 <= count <= 100. */
size_t gw_tiny_build_write_mb(uint16_t addr, const uint16_t *values, uint8_t count, uint8_t *out,
                              size_t cap);

/* How a complete frame is read: request, data reply, ACK or NACK. */
typedef enum gw_tiny_kind {
    GW_TINY_KIND_REQUEST = 0,
    GW_TINY_KIND_REPLY,
    GW_TINY_KIND_ACK,
    GW_TINY_KIND_NACK,
} gw_tiny_kind_t;

const char *gw_tiny_kind_name(gw_tiny_kind_t k);

/* Total length of the reply whose first n bytes are in buf, for the
 * gateway's byte stream (the gateway only ever receives replies):
 *  > 0  the full frame length, known from the header (n may be shorter);
 *    0  more bytes are needed before the length is known;
 *  < 0  a gw_tiny_err_t: E_START (byte 0 not 0xAA), E_CMD (unknown command),
 *       E_LENGTH (PL impossible for that command). */
int gw_tiny_reply_len(const uint8_t *buf, size_t n);

/* A checked frame. payload points into the caller's frame. */
typedef struct gw_tiny_frame {
    gw_tiny_kind_t kind;
    uint8_t cmd;              /* the command (for ACK/NACK: the echoed one) */
    uint8_t error_code;       /* NACK only: 0x00 command error, 0x01 CRC error */
    const uint8_t *payload;   /* bytes after the header (after PL where there is one) */
    size_t payload_len;
    uint16_t crc_rx, crc_calc;
} gw_tiny_frame_t;

/* Check one complete reply (ACK, NACK or data reply): start byte, length as
 * the command defines it (PL must equal the payload size where there is a PL),
 * then CRC. Order, first failure wins: E_ARG, E_SHORT (< 4 bytes), E_START,
 * E_CMD, E_LENGTH, E_CRC. out is always written; on E_CRC it is complete
 * (both CRCs, payload) so tools can show the frame. */
gw_tiny_err_t gw_tiny_parse_reply(const uint8_t *frame, size_t len, gw_tiny_frame_t *out);

/* For tools that see traffic in both directions: decide whether a complete
 * frame is a request or a reply from its command and length, then check it
 * (CRC and length). Ambiguous shapes (documented in tinybms_frame.c) are read
 * as requests only where the request layout fits exactly. */
gw_tiny_err_t gw_tiny_parse_any(const uint8_t *frame, size_t len, gw_tiny_frame_t *out);

/* Reply payload helpers (the frame must have passed parse). */
/* 0x03 reply: `count` big-endian registers into regs[]. E_LAYOUT when the
 * payload is not exactly 2 x count bytes or count > cap. */
gw_tiny_err_t gw_tiny_regs_be(const gw_tiny_frame_t *f, uint16_t *regs, size_t cap, size_t *count);

/* Little-endian helpers, explicit byte order. */
uint16_t gw_tiny_le16(const uint8_t *p);
uint32_t gw_tiny_le32(const uint8_t *p);

/* IEEE-754 single (bit pattern) x 1000, rounded to nearest, in integer math
 * only (no FPU or soft-float needed): 55.78 V -> 55780 mV. false for NaN,
 * infinity or |value| >= 2^31 / 1000 (cannot be a pack measurement). */
bool gw_tiny_float_milli(uint32_t bits, int32_t *out_milli);

#endif
