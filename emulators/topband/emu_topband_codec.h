/* SPDX-License-Identifier: MIT */
/* Device-side Topband codec: decode requests, encode replies. */
#ifndef EMU_TOPBAND_CODEC_H
#define EMU_TOPBAND_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "emulators/topband/emu_topband.h"

/* A decoded request. */
typedef struct emu_tb_request {
    uint8_t ver, adr, cid1, cid2;
    uint16_t lenid;
    uint8_t info[64];
    size_t info_len;
} emu_tb_request_t;

/* Return codes for a request that reached the device (RTN values). */
enum {
    EMU_TB_RTN_OK = 0x00, EMU_TB_RTN_VER = 0x01, EMU_TB_RTN_CHKSUM = 0x02,
    EMU_TB_RTN_LCHKSUM = 0x03, EMU_TB_RTN_CID2 = 0x04, EMU_TB_RTN_FORMAT = 0x05,
    EMU_TB_RTN_DATA = 0x06,
};

/* Protocol constants (topband.md §1.2, §1.6, §2.0). */
enum {
    EMU_TB_VER_REQUEST = 0x21,  /* what the master sends */
    EMU_TB_VER_EET = 0x21,      /* reply VER of the EET family */
    EMU_TB_VER_TOPBMS = 0x52,   /* reply VER of the TOPBMS family */
    EMU_TB_CID1_BATTERY = 0x46,
    EMU_TB_CID2_ANALOG = 0x42,
    EMU_TB_CID2_ALARM = 0x44,
    EMU_TB_CID2_PARAMS = 0x47,
    EMU_TB_CID2_PROTOCOL = 0x4F,
    EMU_TB_CID2_MANUFACTURER = 0x51,
};

/* Parse one complete request ('~' .. CR). Returns an RTN code; on
 * EMU_TB_RTN_OK req is filled. Returns -1 when the frame is too broken to
 * even read the address (no reply at all).
 * Addition: on an error RTN, req->ver and req->adr are still valid (the error
 * reply needs the address); later fields are filled as far as they were read.
 * Check order: CHKSUM, LCHKSUM, VER, CID1/CID2, LENID vs INFO, INFO size.
 * Hex digits are accepted in either case; the EOI (CR or LF) is optional. */
int emu_tb_decode_request(const uint8_t *frame, size_t len, emu_tb_request_t *req);

/* Frame an INFO payload (bytes, hex-encoded on the wire) as a reply.
 * Returns the frame length or 0 if cap is too small. */
size_t emu_tb_encode_reply(uint8_t ver, uint8_t adr, uint8_t rtn, const uint8_t *info,
                           size_t info_len, uint8_t *out, size_t cap);
/* Same, INFO sent as raw ASCII (the 0x51 deviation). */
size_t emu_tb_encode_reply_ascii(uint8_t ver, uint8_t adr, uint8_t rtn, const char *info,
                                 size_t info_len, uint8_t *out, size_t cap);
/* Build the 0x42 INFO for a family. Returns its length in bytes. */
size_t emu_tb_analog_info(const emu_tb_analog_t *a, emu_tb_family_t fam, uint8_t echo,
                          uint8_t *info, size_t cap);

/* Additions. */
/* LCHKSUM nibble for a LENID (§1.3). */
uint8_t emu_tb_lchksum(uint16_t lenid);
/* CHKSUM over n wire characters (VER..INFO, §1.4). */
uint16_t emu_tb_chksum(const uint8_t *chars, size_t n);
/* Reply VER of a family: 0x21 EET, 0x52 TOPBMS. */
uint8_t emu_tb_family_ver(emu_tb_family_t fam);
/* Temperature as the family sends it: EET round(degC x 10) + 2731,
 * TOPBMS round(degC) + 40; clamped to 0..65535. */
uint16_t emu_tb_temp_raw(double temp_c, emu_tb_family_t fam);
/* 0x44 INFO. EET: layout (a) of §2.2 with 8 status bytes (linedot bit map);
 * TOPBMS: layout (b), Doc v1.7 (short-circuit word, 15 status bytes, 2 reserved).
 * Both start with the command echo, like 0x42. Returns the length, 0 if cap is too small. */
size_t emu_tb_alarm_info(const emu_tb_analog_t *a, emu_tb_family_t fam, uint8_t echo,
                         uint8_t *info, size_t cap);
/* 0x47 INFO: 12 big-endian words (§2.3). Returns 24, or 0 if cap is too small. */
size_t emu_tb_params_info(const emu_tb_analog_t *a, uint8_t *info, size_t cap);
/* 0x51 INFO: 64 raw ASCII chars (hardware 20, software 4, ID 40), space padded.
 * Returns 64, or 0 if cap is too small. No terminating NUL is written. */
size_t emu_tb_manufacturer_info(emu_tb_family_t fam, uint8_t adr, char *info, size_t cap);

#endif
