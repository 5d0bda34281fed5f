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
#define GW_TB_MIN_FRAME 18   /* SOI + 12 header chars + 4 CHKSUM chars + EOI */
#define GW_TB_MAX_LENID 4095 /* 12-bit LENID */
#define GW_TB_VER_52    0x52 /* reply VER of the TOPBMS / Doc v1.7 family (degC + 40) */

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
    GW_TB_E_ARG = -13,       /* NULL argument or caller buffer too small */
} gw_tb_err_t;

const char *gw_tb_strerror(gw_tb_err_t e);

/* Build a request into out (no NUL added). info may be NULL when info_len is 0.
 * Returns the frame length, or 0 when cap is too small. */
size_t gw_tb_build_request(uint8_t adr, uint8_t cid2, const uint8_t *info, size_t info_len,
                           uint8_t *out, size_t cap);

/* The framing helper behind gw_tb_build_request, for any header (tests and
 * tools build replies with it): '~' VER ADR CID1 CID2/RTN LENGTH INFO CHKSUM CR,
 * INFO hex-encoded. Returns the frame length (18 + 2 * info_len), or 0 when cap
 * is too small or info_len > 2047 (LENID is 12 bits). */
size_t gw_tb_build_frame(uint8_t ver, uint8_t adr, uint8_t cid1, uint8_t cid2_rtn,
                         const uint8_t *info, size_t info_len, uint8_t *out, size_t cap);

/* LENGTH top nibble for a LENID: two's complement (mod 16) of the sum of its
 * three nibbles (topband.md 1.3). */
uint8_t gw_tb_lchksum(uint16_t lenid);

/* CHKSUM over the characters VER..INFO as sent: two's complement (mod 65536)
 * of the sum of their ASCII codes (topband.md 1.4). */
uint16_t gw_tb_chksum(const uint8_t *chars, size_t n);

/* Header of a parsed frame; info points into the caller's decode buffer. */
typedef struct gw_tb_frame {
    uint8_t ver, adr, cid1, rtn;
    uint16_t lenid;          /* INFO length in characters */
    uint16_t chksum_rx, chksum_calc;
    const uint8_t *info;     /* decoded INFO bytes */
    size_t info_len;         /* lenid / 2 */
} gw_tb_frame_t;

/* Check framing, LCHKSUM and CHKSUM of one complete frame (SOI..EOI) and
 * hex-decode its INFO into buf. frame[len - 1] must be the EOI (CR or LF).
 * Hex digits may be upper or lower case; the checksum is summed over the
 * characters as received. CID1 must be 0x46 (requests and replies alike).
 * The CID2/RTN byte is reported in out->rtn and NOT judged here (a request
 * carries its command there); use gw_tb_check_reply for that.
 *
 * Checks in this order, first failure wins: E_ARG (NULL), E_SHORT, E_SOI, E_EOI,
 * E_HEX (header), E_LCHKSUM, E_LENGTH (LENID differs from the frame length, or
 * is odd for hex INFO), E_ARG (INFO does not fit cap bytes), E_HEX (INFO or
 * CHKSUM), E_CHKSUM, E_CID1.
 * out is always fully written. On E_LCHKSUM and E_CHKSUM it is filled completely:
 * header, lenid as received, chksum_rx, chksum_calc and INFO decoded from the
 * characters that are actually there (len - 18), so tools can show the frame.
 * On E_LENGTH the same is done as far as the characters allow. On other errors
 * out holds what could be read (zeros elsewhere, info NULL when none). */
gw_tb_err_t gw_tb_parse(const uint8_t *frame, size_t len, uint8_t *buf, size_t cap,
                        gw_tb_frame_t *out);

/* Same as gw_tb_parse for the 0x51 reply, whose INFO is raw ASCII (topband.md
 * 2.6): LENID counts raw characters, the checksum covers them as they are, and
 * INFO is copied unchanged into buf (info_len = LENID; odd LENID is fine). */
gw_tb_err_t gw_tb_parse_ascii_info(const uint8_t *frame, size_t len, uint8_t *buf, size_t cap,
                                   gw_tb_frame_t *out);

/* Judge a parsed reply against the polled address: E_ADR when ADR differs,
 * E_RTN when RTN != 0, else OK. */
gw_tb_err_t gw_tb_check_reply(const gw_tb_frame_t *f, uint8_t polled_adr);

/* Decode a 0x42 analog reply INFO into a pack. Handles both families:
 * VER 0x21 (temperatures Kelvin x 10) and VER 0x52 (degC + 40).
 *
 * Layout (topband.md 2.1), read strictly by INFO length, never by searching:
 *   echo, M, M x cell mV, N, N x temp, current (s16, 10 mA), voltage (10 mV),
 *   remaining (10 mAh), P, then P words: full (10 mAh), cycles, SOC byte +
 *   SOH byte, the rest ignored.
 * VER 0x21: temp_dc = raw - 2731, cell sensors = N - 3 (balancer, environment,
 *   MOSFET last). VER 0x52: temp_dc = (raw - 40) * 10, cell sensors = N - 2.
 *   Any other VER is decoded by the 0x21 rule (the documented EET family).
 * Errors: E_ARG (NULL); E_LAYOUT when INFO is shorter or longer than the layout
 * its own M/N/P announce, or P < 3; E_RANGE when M is 0 or > GW_MAX_CELLS,
 * N > GW_MAX_TEMPS, a cell > 5000 mV, a temperature outside -50.0..+150.0 degC,
 * SOC or SOH > 100 (rejected, not clamped: such a byte means a misread layout or
 * a broken BMS, and a clamped 100 % would hide it), or the pack voltage above
 * M x 5000 mV.
 * Only the measurement fields are written, and only on GW_TB_OK; present,
 * online, address and updated_ms are the driver's. */
gw_tb_err_t gw_tb_decode_analog(const gw_tb_frame_t *f, gw_pack_t *pack);

#endif
