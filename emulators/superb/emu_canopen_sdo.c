/* SPDX-License-Identifier: MIT */
/* CiA 301 SDO server codec (see emu_canopen_sdo.h). */
#include "emulators/superb/emu_canopen_sdo.h"

#include <string.h>

/* Command specifier: bits 7..5 of byte 0 (client side, "ccs"). */
enum {
    CCS_DOWNLOAD_SEGMENT = 0,
    CCS_DOWNLOAD_INITIATE = 1,
    CCS_UPLOAD_INITIATE = 2,
    CCS_UPLOAD_SEGMENT = 3,
    CCS_ABORT = 4,
};

#define SDO_TOGGLE_BIT 0x10u
#define SDO_SEG_DATA 7u /* data bytes in one segment */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)((v >> 24) & 0xFFu);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Initiate frames echo index and sub-index in bytes 1-3. */
static void put_mux(uint8_t out[8], uint8_t cmd, uint16_t idx, uint8_t sub)
{
    memset(out, 0, 8);
    out[0] = cmd;
    out[1] = (uint8_t)(idx & 0xFFu);
    out[2] = (uint8_t)(idx >> 8);
    out[3] = sub;
}

void emu_sdo_encode_abort(uint8_t out[8], uint16_t idx, uint8_t sub, uint32_t code)
{
    put_mux(out, EMU_SDO_CS_ABORT, idx, sub);
    put_le32(&out[4], code);
}

bool emu_sdo_encode_upload_expedited(uint8_t out[8], uint16_t idx, uint8_t sub, const uint8_t *data,
                                     size_t len)
{
    if (len < 1 || len > 4) {
        return false;
    }
    /* scs = 2, n = unused bytes in bits 3..2, e = 1, s = 1 */
    uint8_t cmd = (uint8_t)(0x43u | ((4u - (unsigned)len) << 2));
    put_mux(out, cmd, idx, sub);
    memcpy(&out[4], data, len);
    return true;
}

void emu_sdo_encode_upload_segment(uint8_t out[8], uint8_t toggle, const uint8_t *data, size_t len,
                                   bool last)
{
    if (len > SDO_SEG_DATA) {
        len = SDO_SEG_DATA;
    }
    memset(out, 0, 8);
    /* scs = 0, t in bit 4, n (bytes without data) in bits 3..1, c in bit 0 */
    out[0] =
        (uint8_t)(((toggle & 1u) << 4) | ((SDO_SEG_DATA - (unsigned)len) << 1) | (last ? 1u : 0u));
    memcpy(&out[1], data, len);
}

void emu_sdo_server_init(emu_sdo_server_t *s)
{
    memset(s, 0, sizeof(*s));
    s->deadline_us = UINT64_MAX;
}

void emu_sdo_server_cancel(emu_sdo_server_t *s)
{
    s->xfer = EMU_SDO_IDLE;
    s->len = 0;
    s->pos = 0;
    s->toggle = 0;
    s->deadline_us = UINT64_MAX;
}

/* Abort the current transfer (if any) and build the abort frame. */
static bool respond_abort(emu_sdo_server_t *s, uint8_t resp[8], uint16_t idx, uint8_t sub,
                          uint32_t code)
{
    emu_sdo_server_cancel(s);
    emu_sdo_encode_abort(resp, idx, sub, code);
    s->aborts_sent++;
    return true;
}

static uint64_t deadline_after(uint64_t now_us)
{
    uint64_t t = (uint64_t)EMU_SDO_TIMEOUT_MS * 1000u;
    return now_us > UINT64_MAX - t ? UINT64_MAX - 1 : now_us + t;
}

/* Next upload segment from the buffer; the last one ends the transfer. */
static bool send_upload_segment(emu_sdo_server_t *s, uint64_t now_us, uint8_t resp[8])
{
    size_t left = s->len - s->pos;
    size_t n = left > SDO_SEG_DATA ? SDO_SEG_DATA : left;
    bool last = (s->pos + n) >= s->len;
    uint8_t t = s->wrong_toggle ? (uint8_t)(s->toggle ^ 1u) : s->toggle;
    emu_sdo_encode_upload_segment(resp, t, &s->buf[s->pos], n, last);
    s->pos += n;
    s->toggle ^= 1u;
    if (last) {
        emu_sdo_server_cancel(s);
    } else {
        s->deadline_us = deadline_after(now_us);
    }
    return true;
}

static bool initiate_upload(emu_sdo_server_t *s, const emu_sdo_od_ops_t *od, uint16_t idx,
                            uint8_t sub, uint64_t now_us, uint8_t resp[8])
{
    size_t len = 0;
    uint32_t code = od->read(od->ctx, idx, sub, s->buf, sizeof(s->buf), &len);
    if (code != 0) {
        return respond_abort(s, resp, idx, sub, code);
    }
    if (len > sizeof(s->buf)) {
        return respond_abort(s, resp, idx, sub, EMU_SDO_ABORT_GENERAL);
    }
    if (emu_sdo_encode_upload_expedited(resp, idx, sub, s->buf, len)) {
        emu_sdo_server_cancel(s);
        return true;
    }
    /* Longer (or empty) objects go segmented: announce the size, then wait
     * for the client's segment requests starting with toggle 0. */
    s->xfer = EMU_SDO_UPLOADING;
    s->idx = idx;
    s->sub = sub;
    s->len = len;
    s->pos = 0;
    s->toggle = 0;
    s->deadline_us = deadline_after(now_us);
    put_mux(resp, EMU_SDO_CS_UPLOAD_SEGMENTED, idx, sub);
    put_le32(&resp[4], (uint32_t)len);
    return true;
}

static bool upload_segment(emu_sdo_server_t *s, const uint8_t req[8], uint64_t now_us,
                           uint8_t resp[8])
{
    if (s->xfer != EMU_SDO_UPLOADING ||
        (req[0] & (uint8_t)~SDO_TOGGLE_BIT) != EMU_SDO_CS_UPLOAD_SEG_REQ) {
        /* No upload in progress, or stray bits in the command byte. */
        uint16_t idx = s->xfer != EMU_SDO_IDLE ? s->idx : 0;
        uint8_t sub = s->xfer != EMU_SDO_IDLE ? s->sub : 0;
        return respond_abort(s, resp, idx, sub, EMU_SDO_ABORT_CMD);
    }
    uint8_t t = (uint8_t)((req[0] & SDO_TOGGLE_BIT) ? 1u : 0u);
    if (t != s->toggle) {
        return respond_abort(s, resp, s->idx, s->sub, EMU_SDO_ABORT_TOGGLE);
    }
    return send_upload_segment(s, now_us, resp);
}

static bool initiate_download(emu_sdo_server_t *s, const emu_sdo_od_ops_t *od, const uint8_t req[8],
                              uint16_t idx, uint8_t sub, uint64_t now_us, uint8_t resp[8])
{
    bool expedited = (req[0] & 0x02u) != 0;
    bool size_given = (req[0] & 0x01u) != 0;
    emu_sdo_server_cancel(s);
    if (expedited) {
        size_t len = size_given ? 4u - ((req[0] >> 2) & 0x03u) : 4u;
        uint32_t code = od->write(od->ctx, idx, sub, &req[4], len, size_given, false);
        if (code != 0) {
            return respond_abort(s, resp, idx, sub, code);
        }
        put_mux(resp, EMU_SDO_CS_DOWNLOAD_RESP, idx, sub);
        return true;
    }
    /* Segmented: check the object now so a bad write fails before any data moves. */
    size_t size = size_given ? get_le32(&req[4]) : 0;
    if (size_given && size > EMU_SDO_SEG_MAX) {
        return respond_abort(s, resp, idx, sub, EMU_SDO_ABORT_LEN_HIGH);
    }
    uint32_t code = od->write(od->ctx, idx, sub, NULL, size, size_given, true);
    if (code != 0) {
        return respond_abort(s, resp, idx, sub, code);
    }
    s->xfer = EMU_SDO_DOWNLOADING;
    s->idx = idx;
    s->sub = sub;
    s->len = size;
    s->pos = 0;
    s->toggle = 0;
    s->deadline_us = deadline_after(now_us);
    put_mux(resp, EMU_SDO_CS_DOWNLOAD_RESP, idx, sub);
    return true;
}

static bool download_segment(emu_sdo_server_t *s, const emu_sdo_od_ops_t *od, const uint8_t req[8],
                             uint64_t now_us, uint8_t resp[8])
{
    if (s->xfer != EMU_SDO_DOWNLOADING) {
        uint16_t idx = s->xfer != EMU_SDO_IDLE ? s->idx : 0;
        uint8_t sub = s->xfer != EMU_SDO_IDLE ? s->sub : 0;
        return respond_abort(s, resp, idx, sub, EMU_SDO_ABORT_CMD);
    }
    uint8_t t = (uint8_t)((req[0] & SDO_TOGGLE_BIT) ? 1u : 0u);
    if (t != s->toggle) {
        return respond_abort(s, resp, s->idx, s->sub, EMU_SDO_ABORT_TOGGLE);
    }
    size_t n = SDO_SEG_DATA - ((req[0] >> 1) & 0x07u);
    bool last = (req[0] & 0x01u) != 0;
    if (s->pos + n > sizeof(s->buf) || (s->len > 0 && s->pos + n > s->len)) {
        return respond_abort(s, resp, s->idx, s->sub, EMU_SDO_ABORT_LEN_HIGH);
    }
    memcpy(&s->buf[s->pos], &req[1], n);
    s->pos += n;
    uint8_t rt = s->wrong_toggle ? (uint8_t)(s->toggle ^ 1u) : s->toggle;
    s->toggle ^= 1u;
    if (!last) {
        s->deadline_us = deadline_after(now_us);
        memset(resp, 0, 8);
        resp[0] = (uint8_t)(EMU_SDO_CS_DOWNLOAD_SEG_RESP | (rt << 4));
        return true;
    }
    if (s->len > 0 && s->pos < s->len) {
        return respond_abort(s, resp, s->idx, s->sub, EMU_SDO_ABORT_LEN_LOW);
    }
    uint32_t code = od->write(od->ctx, s->idx, s->sub, s->buf, s->pos, true, false);
    if (code != 0) {
        return respond_abort(s, resp, s->idx, s->sub, code);
    }
    emu_sdo_server_cancel(s);
    memset(resp, 0, 8);
    resp[0] = (uint8_t)(EMU_SDO_CS_DOWNLOAD_SEG_RESP | (rt << 4));
    return true;
}

bool emu_sdo_server_request(emu_sdo_server_t *s, const emu_sdo_od_ops_t *od, const uint8_t req[8],
                            uint64_t now_us, uint8_t resp[8])
{
    uint16_t idx = (uint16_t)(req[1] | ((uint16_t)req[2] << 8));
    uint8_t sub = req[3];
    s->requests++;
    switch (req[0] >> 5) {
    case CCS_UPLOAD_INITIATE:
        return initiate_upload(s, od, idx, sub, now_us, resp);
    case CCS_UPLOAD_SEGMENT:
        return upload_segment(s, req, now_us, resp);
    case CCS_DOWNLOAD_INITIATE:
        return initiate_download(s, od, req, idx, sub, now_us, resp);
    case CCS_DOWNLOAD_SEGMENT:
        return download_segment(s, od, req, now_us, resp);
    case CCS_ABORT:
        /* The client gives up: drop the transfer, never answer an abort. */
        s->client_aborts++;
        emu_sdo_server_cancel(s);
        return false;
    default:
        /* Block transfer (5, 6) is not implemented; 7 is not a command. The
         * abort echoes the request's bytes 1-3 (A.11 row 17). */
        return respond_abort(s, resp, idx, sub, EMU_SDO_ABORT_CMD);
    }
}

bool emu_sdo_server_poll(emu_sdo_server_t *s, uint64_t now_us, uint8_t resp[8])
{
    if (s->xfer == EMU_SDO_IDLE || now_us < s->deadline_us) {
        return false;
    }
    return respond_abort(s, resp, s->idx, s->sub, EMU_SDO_ABORT_TIMEOUT);
}
