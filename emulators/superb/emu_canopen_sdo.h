/* SPDX-License-Identifier: MIT */
/* CiA 301 SDO server codec for the emulated SuperB battery (device side).
 *
 * Frame layouts and abort codes follow superb_balancer.md A.10.3/A.10.4.
 * Supported: expedited upload (size-indicated 0x4F/0x4B/0x47/0x43),
 * segmented upload (0x41 + segments, toggle checked), expedited download
 * (0x2F/0x2B/0x27/0x23 and 0x22), segmented download (0x21/0x20 + segments),
 * client abort. Block transfer (ccs 5/6) and ccs 7 are answered with
 * 0x05040001. The object dictionary is reached through emu_sdo_od_ops_t, so
 * this file knows nothing about batteries. Written from the reference only:
 * never include firmware code here. */
#ifndef EMU_CANOPEN_SDO_H
#define EMU_CANOPEN_SDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest object moved by a segmented transfer (strings such as 0x1008). */
#define EMU_SDO_SEG_MAX 64
/* A half-finished segmented transfer is aborted with 0x05040000 when the
 * client sends nothing for this long (measured from our last response). */
#define EMU_SDO_TIMEOUT_MS 1000u

/* Abort codes used by the server (A.10.4). */
enum {
    EMU_SDO_ABORT_TOGGLE = 0x05030000u,
    EMU_SDO_ABORT_TIMEOUT = 0x05040000u,
    EMU_SDO_ABORT_CMD = 0x05040001u,
    EMU_SDO_ABORT_WRITE_ONLY = 0x06010001u,
    EMU_SDO_ABORT_READ_ONLY = 0x06010002u,
    EMU_SDO_ABORT_NO_OBJECT = 0x06020000u,
    EMU_SDO_ABORT_TYPE_LEN = 0x06070010u,
    EMU_SDO_ABORT_LEN_HIGH = 0x06070012u,
    EMU_SDO_ABORT_LEN_LOW = 0x06070013u,
    EMU_SDO_ABORT_NO_SUB = 0x06090011u,
    EMU_SDO_ABORT_GENERAL = 0x08000000u,
    EMU_SDO_ABORT_STORE = 0x08000020u,
};

/* Command bytes (byte 0) the server sends or recognises. */
enum {
    EMU_SDO_CS_UPLOAD_REQ = 0x40,        /* client: initiate upload */
    EMU_SDO_CS_UPLOAD_SEG_REQ = 0x60,    /* client: upload segment, | 0x10 toggle */
    EMU_SDO_CS_UPLOAD_SEGMENTED = 0x41,  /* server: initiate upload response, size in bytes 4-7 */
    EMU_SDO_CS_DOWNLOAD_RESP = 0x60,     /* server: initiate download response */
    EMU_SDO_CS_DOWNLOAD_SEG_RESP = 0x20, /* server: download segment response, | 0x10 toggle */
    EMU_SDO_CS_ABORT = 0x80,
};

/* Access to the object dictionary; each call returns 0 or an abort code.
 * read: the object's current value (little-endian for numbers, the bytes of
 *   a string) into buf, at most cap bytes, its length into *len.
 * write: data/len as received. size_exact is false for an expedited download
 *   without size (0x22): then len is 4 and the object takes what it needs.
 *   check_only asks whether a write of this length would be accepted
 *   (existence, sub-index, access, length) without storing anything: used
 *   when a segmented download starts. */
typedef struct emu_sdo_od_ops {
    uint32_t (*read)(void *ctx, uint16_t idx, uint8_t sub, uint8_t *buf, size_t cap, size_t *len);
    uint32_t (*write)(void *ctx, uint16_t idx, uint8_t sub, const uint8_t *data, size_t len,
                      bool size_exact, bool check_only);
    void *ctx;
} emu_sdo_od_ops_t;

typedef enum emu_sdo_xfer {
    EMU_SDO_IDLE = 0,
    EMU_SDO_UPLOADING,   /* segmented upload: client sends 0x60/0x70 */
    EMU_SDO_DOWNLOADING, /* segmented download: client sends segments */
} emu_sdo_xfer_t;

typedef struct emu_sdo_server {
    /* transfer in progress (private) */
    emu_sdo_xfer_t xfer;
    uint16_t idx;
    uint8_t sub;
    uint8_t toggle; /* toggle bit (0/1) the next segment request must carry */
    uint8_t buf[EMU_SDO_SEG_MAX];
    size_t len; /* upload: object size; download: size announced (0 = unknown) */
    size_t pos; /* bytes sent (upload) or received (download) */
    /* When the transfer is aborted for lack of a client request. Set by
     * emu_sdo_server_request() to now + timeout; the caller may push it to
     * the time its response actually goes out. UINT64_MAX when idle. */
    uint64_t deadline_us;
    /* fault knob (set by the caller): segment responses carry the wrong toggle */
    bool wrong_toggle;
    /* counters (read-only) */
    uint32_t requests, aborts_sent, client_aborts;
} emu_sdo_server_t;

/* Clear all state (no transfer, counters zero, no fault). */
void emu_sdo_server_init(emu_sdo_server_t *s);
/* Drop a transfer in progress without sending anything (NMT reset, reboot). */
void emu_sdo_server_cancel(emu_sdo_server_t *s);
/* Handle one SDO request (the 8 data bytes of a frame on 0x600+node) at
 * now_us. Returns true and fills resp when a response is due (always, except
 * after a client abort). */
bool emu_sdo_server_request(emu_sdo_server_t *s, const emu_sdo_od_ops_t *od, const uint8_t req[8],
                            uint64_t now_us, uint8_t resp[8]);
/* Check the transfer timeout: when a transfer has waited past deadline_us,
 * it is dropped, resp gets the 0x05040000 abort and true is returned. */
bool emu_sdo_server_poll(emu_sdo_server_t *s, uint64_t now_us, uint8_t resp[8]);

/* Pure encoders (8-byte frames). */
void emu_sdo_encode_abort(uint8_t out[8], uint16_t idx, uint8_t sub, uint32_t code);
/* Expedited upload response for 1..4 bytes (0x4F, 0x4B, 0x47, 0x43); unused
 * bytes are 0. Returns false (out untouched) for any other length. */
bool emu_sdo_encode_upload_expedited(uint8_t out[8], uint16_t idx, uint8_t sub, const uint8_t *data,
                                     size_t len);
/* Upload segment response: toggle t, 0..7 data bytes, last = c bit. */
void emu_sdo_encode_upload_segment(uint8_t out[8], uint8_t toggle, const uint8_t *data, size_t len,
                                   bool last);

#endif
