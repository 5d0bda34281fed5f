/* SPDX-License-Identifier: MIT */
/* CANopen (CiA 301) codec for the gateway's SDO client: COB-ID helpers, SDO
 * frame builders and a parser that classifies every command specifier.
 *
 * Pure functions, no state, no I/O. Frames are gw_can_frame_t (8 data bytes,
 * little-endian fields, decoded byte by byte). */
#ifndef GW_CANOPEN_SDO_H
#define GW_CANOPEN_SDO_H

#include <stdbool.h>
#include <stdint.h>
#include "gw_can.h"

/* Pre-defined connection set (CiA 301 7.3.5), 11-bit identifiers. */
#define GW_CO_COB_NMT 0x000u
#define GW_CO_COB_SYNC 0x080u      /* also the EMCY base: 0x080 + node */
#define GW_CO_COB_EMCY 0x080u
#define GW_CO_COB_TIME 0x100u
#define GW_CO_COB_TPDO1 0x180u     /* TPDOn = 0x180 + 0x100 * (n - 1) + node */
#define GW_CO_COB_RPDO1 0x200u     /* RPDOn = 0x200 + 0x100 * (n - 1) + node */
#define GW_CO_COB_SDO_TX 0x580u    /* server -> client (the battery answers here) */
#define GW_CO_COB_SDO_RX 0x600u    /* client -> server (the gateway asks here) */
#define GW_CO_COB_HEARTBEAT 0x700u /* boot-up, heartbeat, node guarding */
#define GW_CO_COB_LSS_SLAVE 0x7E4u
#define GW_CO_COB_LSS_MASTER 0x7E5u

#define GW_CO_NODE_MIN 1u
#define GW_CO_NODE_MAX 127u

/* Heartbeat / boot-up state byte (CiA 301 7.2.8.3.2.1). */
#define GW_CO_NMT_BOOTUP 0x00u
#define GW_CO_NMT_STOPPED 0x04u
#define GW_CO_NMT_OPERATIONAL 0x05u
#define GW_CO_NMT_PRE_OPERATIONAL 0x7Fu

/* Standard objects the client reads. */
#define GW_CO_OBJ_DEVICE_TYPE 0x1000u
#define GW_CO_OBJ_DEVICE_NAME 0x1008u
#define GW_CO_OBJ_HEARTBEAT_TIME 0x1017u
#define GW_CO_OBJ_IDENTITY 0x1018u

/* Standard abort codes the client itself sends or reacts to. */
#define GW_SDO_ABORT_TOGGLE 0x05030000u
#define GW_SDO_ABORT_TIMEOUT 0x05040000u
#define GW_SDO_ABORT_CS 0x05040001u
#define GW_SDO_ABORT_NO_OBJECT 0x06020000u
#define GW_SDO_ABORT_NO_SUBINDEX 0x06090011u

#define GW_SDO_DLC 8u /* every SDO frame carries 8 bytes (CiA 301 7.2.4.3) */

typedef enum gw_co_service {
    GW_CO_SVC_UNKNOWN = 0, /* 29-bit, or an 11-bit id outside the connection set */
    GW_CO_SVC_NMT,
    GW_CO_SVC_SYNC,
    GW_CO_SVC_EMCY,
    GW_CO_SVC_TIME,
    GW_CO_SVC_TPDO,
    GW_CO_SVC_RPDO,
    GW_CO_SVC_SDO_REQUEST,  /* 0x600 + node */
    GW_CO_SVC_SDO_RESPONSE, /* 0x580 + node */
    GW_CO_SVC_HEARTBEAT,    /* 0x700 + node */
    GW_CO_SVC_LSS,
} gw_co_service_t;

/* Which service an identifier belongs to. *node gets the node id (0 for
 * NMT/SYNC/TIME/LSS and unknown ids), *pdo the PDO number 1..4 (else 0).
 * Either pointer may be NULL. 29-bit ids (GW_CAN_EFF_FLAG) are UNKNOWN:
 * CANopen CiA 301 uses 11-bit ids only. */
gw_co_service_t gw_co_classify(uint32_t id, uint8_t *node, uint8_t *pdo);

/* Lower-case service name ("nmt", "sdo_request", "heartbeat", ...). */
const char *gw_co_service_name(gw_co_service_t s);

/* The SDO command of one frame, as told by its command byte and direction. */
typedef enum gw_sdo_cmd {
    GW_SDO_CMD_INVALID = 0,
    /* client -> server */
    GW_SDO_CMD_DOWNLOAD_SEGMENT_REQUEST,  /* ccs 0 */
    GW_SDO_CMD_INITIATE_DOWNLOAD_REQUEST, /* ccs 1 */
    GW_SDO_CMD_INITIATE_UPLOAD_REQUEST,   /* ccs 2 */
    GW_SDO_CMD_UPLOAD_SEGMENT_REQUEST,    /* ccs 3 */
    GW_SDO_CMD_BLOCK_UPLOAD_REQUEST,      /* ccs 5 */
    GW_SDO_CMD_BLOCK_DOWNLOAD_REQUEST,    /* ccs 6 */
    /* server -> client */
    GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE,    /* scs 0 */
    GW_SDO_CMD_DOWNLOAD_SEGMENT_RESPONSE,  /* scs 1 */
    GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,   /* scs 2 */
    GW_SDO_CMD_INITIATE_DOWNLOAD_RESPONSE, /* scs 3 */
    GW_SDO_CMD_BLOCK_DOWNLOAD_RESPONSE,    /* scs 5 */
    GW_SDO_CMD_BLOCK_UPLOAD_RESPONSE,      /* scs 6 */
    /* either direction */
    GW_SDO_CMD_ABORT, /* cs 4 */
} gw_sdo_cmd_t;

/* One parsed SDO frame. Fields not listed for a command stay 0/false. */
typedef struct gw_sdo_msg {
    gw_sdo_cmd_t cmd;
    uint8_t cs_byte;      /* byte 0 as received */
    bool has_mux;         /* initiate, abort and block-initiate frames: index/subindex valid */
    uint16_t index;
    uint8_t subindex;
    bool has_size;        /* size below is meaningful */
    bool expedited;       /* initiate upload response / download request: e = 1 */
    bool size_indicated;  /* s = 1 */
    uint32_t size;        /* expedited: data bytes 1..4 (4 if not indicated);
                             segmented initiate: total size (if indicated);
                             segment: data bytes 0..7 */
    bool has_value;
    uint32_t value;       /* expedited data, little-endian, `size` bytes */
    uint8_t data[7];      /* segment data (data_len bytes) */
    uint8_t data_len;
    uint8_t toggle;       /* segment frames: t bit (0/1) */
    bool last;            /* segment frames: c bit */
    uint32_t abort_code;  /* GW_SDO_CMD_ABORT */
} gw_sdo_msg_t;

typedef enum gw_sdo_err {
    GW_SDO_OK = 0,
    GW_SDO_E_NULL = -1,   /* NULL argument */
    GW_SDO_E_DLC = -2,    /* not 8 data bytes */
    GW_SDO_E_CS = -3,     /* command specifier 7, or reserved bits/sizes inconsistent */
} gw_sdo_err_t;

/* Parse the 8 data bytes of an SDO frame. from_server: the frame came on
 * 0x580 + node (responses), else on 0x600 + node (requests). On GW_SDO_E_CS
 * *out is still filled as far as it goes (cmd = INVALID, index/subindex
 * from bytes 1..3 with has_mux = false). */
gw_sdo_err_t gw_sdo_parse(const uint8_t *data, uint8_t dlc, bool from_server, gw_sdo_msg_t *out);

/* Stable lower-case name of the command, with the transfer type where it
 * matters ("initiate_upload_response_expedited", "abort_transfer", ...). */
const char *gw_sdo_command_name(const gw_sdo_msg_t *m);

/* CiA 301 meaning of an abort code; NULL when the code is not standard. */
const char *gw_sdo_abort_meaning(uint32_t code);

/* Frame builders (client side): id 0x600 + node, dlc 8, reserved bytes 0. */
void gw_sdo_build_upload_request(uint8_t node, uint16_t index, uint8_t subindex,
                                 gw_can_frame_t *f);
void gw_sdo_build_upload_segment_request(uint8_t node, uint8_t toggle, gw_can_frame_t *f);
void gw_sdo_build_abort(uint8_t node, uint16_t index, uint8_t subindex, uint32_t code,
                        gw_can_frame_t *f);

/* Little-endian helpers (explicit bytes, no casts). */
static inline uint16_t gw_co_get_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] | ((uint16_t)p[1] << 8));
}

static inline uint32_t gw_co_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

#endif
