/* SPDX-License-Identifier: MIT */
/* Topband/EET RS485 frames, gateway side: build requests, parse replies.
 *
 * Frame: '~' VER ADR CID1 CID2/RTN LENGTH INFO CHKSUM CR, every byte between
 * SOI and EOI as two upper-case ASCII hex digits (topband.md section 1).
 * Written independently of emulators/topband: never share this codec. */
#ifndef GW_TOPBAND_FRAME_H
#define GW_TOPBAND_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "bank/pack.h"

#define GW_TB_VER_REQ   0x21
#define GW_TB_CID1      0x46
#define GW_TB_CMD_ANALOG 0x42
#define GW_TB_CMD_ALARM  0x44
#define GW_TB_CMD_PARAMS 0x47
#define GW_TB_CMD_PROTO  0x4F
#define GW_TB_CMD_MANUF  0x51
#define GW_TB_MAX_FRAME 4200 /* 18 + 4095 INFO chars, rounded up */

typedef enum gw_tb_err {
    GW_TB_OK = 0,
    GW_TB_E_SHORT = -1,      /* fewer than 18 characters */
    GW_TB_E_SOI = -2,        /* no '~' */
    GW_TB_E_EOI = -3,        /* no CR/LF at the end */
    GW_TB_E_HEX = -4,        /* a non-hex character */
    GW_TB_E_LCHKSUM = -5,
    GW_TB_E_LENGTH = -6,     /* LENID disagrees with the frame length */
    GW_TB_E_CHKSUM = -7,
    GW_TB_E_CID1 = -8,
    GW_TB_E_RTN = -9,        /* reply carries an error return code */
    GW_TB_E_ADR = -10,       /* reply from another address */
    GW_TB_E_LAYOUT = -11,    /* INFO does not fit the 0x42 layout */
    GW_TB_E_RANGE = -12,     /* implausible values (cells, counts) */
} gw_tb_err_t;

const char *gw_tb_strerror(gw_tb_err_t e);

/* Build a request into out (no NUL added). info may be NULL when info_len is 0.
 * Returns the frame length, or 0 when cap is too small. */
size_t gw_tb_build_request(uint8_t adr, uint8_t cid2, const uint8_t *info, size_t info_len,
                           uint8_t *out, size_t cap);

/* Header of a parsed frame; info points into the caller's decode buffer. */
typedef struct gw_tb_frame {
    uint8_t ver, adr, cid1, rtn;
    uint16_t lenid;          /* INFO length in characters */
    uint16_t chksum_rx, chksum_calc;
    const uint8_t *info;     /* decoded INFO bytes */
    size_t info_len;         /* lenid / 2 */
} gw_tb_frame_t;

/* Check framing, LCHKSUM and CHKSUM of one complete frame (SOI..EOI) and
 * hex-decode its INFO into buf. */
gw_tb_err_t gw_tb_parse(const uint8_t *frame, size_t len, uint8_t *buf, size_t cap,
                        gw_tb_frame_t *out);

/* Decode a 0x42 analog reply INFO into a pack. Handles both families:
 * VER 0x21 (temperatures Kelvin x 10) and VER 0x52 (degC + 40). */
gw_tb_err_t gw_tb_decode_analog(const gw_tb_frame_t *f, gw_pack_t *pack);

#endif
