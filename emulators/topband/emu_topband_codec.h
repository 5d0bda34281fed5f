/* SPDX-License-Identifier: MIT */
/* Device-side Topband codec: decode requests, encode replies. */
#ifndef EMU_TOPBAND_CODEC_H
#define EMU_TOPBAND_CODEC_H

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

/* Parse one complete request ('~' .. CR). Returns an RTN code; on
 * EMU_TB_RTN_OK req is filled. Returns -1 when the frame is too broken to
 * even read the address (no reply at all). */
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

#endif
