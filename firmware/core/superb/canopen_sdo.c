/* SPDX-License-Identifier: MIT */
/* CANopen COB-ID classification and SDO frame codec (see canopen_sdo.h). */
#include "superb/canopen_sdo.h"

#include <stddef.h>
#include <string.h>

gw_co_service_t gw_co_classify(uint32_t id, uint8_t *node, uint8_t *pdo)
{
    uint8_t n = 0;
    uint8_t p = 0;
    gw_co_service_t s = GW_CO_SVC_UNKNOWN;

    if ((id & GW_CAN_EFF_FLAG) == 0 && id <= 0x7FFu) {
        uint32_t fn = id & 0x780u; /* function code: the top 4 of 11 bits */
        uint8_t nid = (uint8_t)(id & 0x7Fu);
        if (id == GW_CO_COB_NMT) {
            s = GW_CO_SVC_NMT;
        } else if (id == GW_CO_COB_SYNC) {
            s = GW_CO_SVC_SYNC;
        } else if (id == GW_CO_COB_TIME) {
            s = GW_CO_SVC_TIME;
        } else if (id == GW_CO_COB_LSS_SLAVE || id == GW_CO_COB_LSS_MASTER) {
            s = GW_CO_SVC_LSS;
        } else if (nid != 0) {
            /* Node-addressed services: node 0 is not a node id. */
            n = nid;
            switch (fn) {
            case 0x080u:
                s = GW_CO_SVC_EMCY;
                break;
            case 0x180u: case 0x280u: case 0x380u: case 0x480u:
                s = GW_CO_SVC_TPDO;
                p = (uint8_t)(((fn - 0x180u) >> 8) + 1u);
                break;
            case 0x200u: case 0x300u: case 0x400u: case 0x500u:
                s = GW_CO_SVC_RPDO;
                p = (uint8_t)(((fn - 0x200u) >> 8) + 1u);
                break;
            case 0x580u:
                s = GW_CO_SVC_SDO_RESPONSE;
                break;
            case 0x600u:
                s = GW_CO_SVC_SDO_REQUEST;
                break;
            case 0x700u:
                s = GW_CO_SVC_HEARTBEAT;
                break;
            default:
                n = 0;
                break;
            }
        }
    }
    if (node != NULL) {
        *node = n;
    }
    if (pdo != NULL) {
        *pdo = p;
    }
    return s;
}

const char *gw_co_service_name(gw_co_service_t s)
{
    switch (s) {
    case GW_CO_SVC_NMT: return "nmt";
    case GW_CO_SVC_SYNC: return "sync";
    case GW_CO_SVC_EMCY: return "emcy";
    case GW_CO_SVC_TIME: return "time";
    case GW_CO_SVC_TPDO: return "tpdo";
    case GW_CO_SVC_RPDO: return "rpdo";
    case GW_CO_SVC_SDO_REQUEST: return "sdo_request";
    case GW_CO_SVC_SDO_RESPONSE: return "sdo_response";
    case GW_CO_SVC_HEARTBEAT: return "heartbeat";
    case GW_CO_SVC_LSS: return "lss";
    case GW_CO_SVC_UNKNOWN:
    default: return "unknown";
    }
}

static void parse_mux(const uint8_t *data, gw_sdo_msg_t *m)
{
    m->index = gw_co_get_u16(&data[1]);
    m->subindex = data[3];
}

/* Segment layout (download request / upload response): t bit 4, n bits 3..1
 * = bytes of 1..7 that carry no data, c bit 0 = last segment. */
static void parse_segment(const uint8_t *data, gw_sdo_msg_t *m)
{
    uint8_t b = data[0];
    m->toggle = (uint8_t)((b >> 4) & 1u);
    m->last = (b & 1u) != 0;
    m->data_len = (uint8_t)(7u - ((b >> 1) & 7u));
    memcpy(m->data, &data[1], m->data_len);
    m->has_size = true;
    m->size = m->data_len;
}

/* Initiate layout shared by the upload response and the download request:
 * n bits 3..2, e bit 1, s bit 0. */
static void parse_initiate(const uint8_t *data, gw_sdo_msg_t *m)
{
    uint8_t b = data[0];
    m->has_mux = true;
    parse_mux(data, m);
    m->expedited = (b & 2u) != 0;
    m->size_indicated = (b & 1u) != 0;
    if (m->expedited) {
        /* Without s the data is 4 bytes by definition; the object type tells how many count. */
        uint8_t len = m->size_indicated ? (uint8_t)(4u - ((b >> 2) & 3u)) : 4u;
        uint32_t v = 0;
        for (uint8_t i = 0; i < len; i++) {
            v |= (uint32_t)data[4 + i] << (8u * i);
        }
        m->has_size = true;
        m->size = len;
        m->has_value = true;
        m->value = v;
    } else if (m->size_indicated) {
        m->has_size = true;
        m->size = gw_co_get_u32(&data[4]);
    }
}

static gw_sdo_err_t parse_request(const uint8_t *data, gw_sdo_msg_t *m)
{
    uint8_t b = data[0];
    switch (b >> 5) {
    case 0:
        m->cmd = GW_SDO_CMD_DOWNLOAD_SEGMENT_REQUEST;
        parse_segment(data, m);
        return GW_SDO_OK;
    case 1:
        m->cmd = GW_SDO_CMD_INITIATE_DOWNLOAD_REQUEST;
        parse_initiate(data, m);
        return GW_SDO_OK;
    case 2:
        m->cmd = GW_SDO_CMD_INITIATE_UPLOAD_REQUEST;
        m->has_mux = true;
        parse_mux(data, m);
        return GW_SDO_OK;
    case 3:
        m->cmd = GW_SDO_CMD_UPLOAD_SEGMENT_REQUEST;
        m->toggle = (uint8_t)((b >> 4) & 1u);
        return GW_SDO_OK;
    case 5:
        m->cmd = GW_SDO_CMD_BLOCK_UPLOAD_REQUEST;
        m->has_mux = (b & 3u) == 0; /* cs 0 = initiate */
        break;
    case 6:
        m->cmd = GW_SDO_CMD_BLOCK_DOWNLOAD_REQUEST;
        m->has_mux = (b & 1u) == 0; /* cs 0 = initiate, 1 = end */
        break;
    default:
        return GW_SDO_E_CS;
    }
    if (m->has_mux) {
        parse_mux(data, m);
    }
    return GW_SDO_OK;
}

static gw_sdo_err_t parse_response(const uint8_t *data, gw_sdo_msg_t *m)
{
    uint8_t b = data[0];
    switch (b >> 5) {
    case 0:
        m->cmd = GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE;
        parse_segment(data, m);
        return GW_SDO_OK;
    case 1:
        m->cmd = GW_SDO_CMD_DOWNLOAD_SEGMENT_RESPONSE;
        m->toggle = (uint8_t)((b >> 4) & 1u);
        return GW_SDO_OK;
    case 2:
        m->cmd = GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE;
        parse_initiate(data, m);
        return GW_SDO_OK;
    case 3:
        m->cmd = GW_SDO_CMD_INITIATE_DOWNLOAD_RESPONSE;
        m->has_mux = true;
        parse_mux(data, m);
        return GW_SDO_OK;
    case 5:
        m->cmd = GW_SDO_CMD_BLOCK_DOWNLOAD_RESPONSE;
        m->has_mux = (b & 3u) == 0; /* ss 0 = initiate response */
        break;
    case 6:
        m->cmd = GW_SDO_CMD_BLOCK_UPLOAD_RESPONSE;
        m->has_mux = (b & 1u) == 0; /* ss 0 = initiate response, 1 = end */
        break;
    default:
        return GW_SDO_E_CS;
    }
    if (m->has_mux) {
        parse_mux(data, m);
    }
    return GW_SDO_OK;
}

gw_sdo_err_t gw_sdo_parse(const uint8_t *data, uint8_t dlc, bool from_server, gw_sdo_msg_t *out)
{
    if (out == NULL) {
        return GW_SDO_E_NULL;
    }
    memset(out, 0, sizeof(*out));
    if (data == NULL) {
        return GW_SDO_E_NULL;
    }
    if (dlc != GW_SDO_DLC) {
        return GW_SDO_E_DLC;
    }
    out->cs_byte = data[0];
    if ((data[0] >> 5) == 4u) {
        out->cmd = GW_SDO_CMD_ABORT;
        out->has_mux = true;
        parse_mux(data, out);
        out->abort_code = gw_co_get_u32(&data[4]);
        return GW_SDO_OK;
    }
    gw_sdo_err_t e = from_server ? parse_response(data, out) : parse_request(data, out);
    if (e != GW_SDO_OK) {
        /* Keep what bytes 1..3 say, for a decoder that shows the frame anyway. */
        memset(out, 0, sizeof(*out));
        out->cs_byte = data[0];
        out->cmd = GW_SDO_CMD_INVALID;
        parse_mux(data, out);
    }
    return e;
}

const char *gw_sdo_command_name(const gw_sdo_msg_t *m)
{
    if (m == NULL) {
        return "invalid";
    }
    switch (m->cmd) {
    case GW_SDO_CMD_DOWNLOAD_SEGMENT_REQUEST: return "download_segment_request";
    case GW_SDO_CMD_INITIATE_DOWNLOAD_REQUEST:
        return m->expedited ? "initiate_download_request_expedited"
                            : "initiate_download_request_segmented";
    case GW_SDO_CMD_INITIATE_UPLOAD_REQUEST: return "initiate_upload_request";
    case GW_SDO_CMD_UPLOAD_SEGMENT_REQUEST: return "upload_segment_request";
    case GW_SDO_CMD_BLOCK_UPLOAD_REQUEST: return "block_upload_request";
    case GW_SDO_CMD_BLOCK_DOWNLOAD_REQUEST: return "block_download_request";
    case GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE: return "upload_segment_response";
    case GW_SDO_CMD_DOWNLOAD_SEGMENT_RESPONSE: return "download_segment_response";
    case GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE:
        return m->expedited ? "initiate_upload_response_expedited"
                            : "initiate_upload_response_segmented";
    case GW_SDO_CMD_INITIATE_DOWNLOAD_RESPONSE: return "initiate_download_response";
    case GW_SDO_CMD_BLOCK_DOWNLOAD_RESPONSE: return "block_download_response";
    case GW_SDO_CMD_BLOCK_UPLOAD_RESPONSE: return "block_upload_response";
    case GW_SDO_CMD_ABORT: return "abort_transfer";
    case GW_SDO_CMD_INVALID:
    default: return "invalid";
    }
}

typedef struct abort_name {
    uint32_t code;
    const char *meaning;
} abort_name_t;

/* CiA 301 table 22 (superb_balancer.md A.10.4). */
static const abort_name_t abort_names[] = {
    {0x05030000u, "Toggle bit not alternated"},
    {0x05040000u, "SDO protocol timed out"},
    {0x05040001u, "Client/server command specifier not valid or unknown"},
    {0x05040002u, "Invalid block size (block mode only)"},
    {0x05040003u, "Invalid sequence number (block mode only)"},
    {0x05040004u, "CRC error (block mode only)"},
    {0x05040005u, "Out of memory"},
    {0x06010000u, "Unsupported access to an object"},
    {0x06010001u, "Attempt to read a write only object"},
    {0x06010002u, "Attempt to write a read only object"},
    {0x06020000u, "Object does not exist in the object dictionary"},
    {0x06040041u, "Object cannot be mapped to the PDO"},
    {0x06040042u, "The number and length of the objects to be mapped would exceed PDO length"},
    {0x06040043u, "General parameter incompatibility reason"},
    {0x06040047u, "General internal incompatibility in the device"},
    {0x06060000u, "Access failed due to a hardware error"},
    {0x06070010u, "Data type does not match, length of service parameter does not match"},
    {0x06070012u, "Data type does not match, length of service parameter too high"},
    {0x06070013u, "Data type does not match, length of service parameter too low"},
    {0x06090011u, "Sub-index does not exist"},
    {0x06090030u, "Invalid value for parameter (download only)"},
    {0x06090031u, "Value of parameter written too high (download only)"},
    {0x06090032u, "Value of parameter written too low (download only)"},
    {0x06090036u, "Maximum value is less than minimum value"},
    {0x060A0023u, "Resource not available: SDO connection"},
    {0x08000000u, "General error"},
    {0x08000020u, "Data cannot be transferred or stored to the application"},
    {0x08000021u, "Data cannot be transferred or stored to the application because of local control"},
    {0x08000022u, "Data cannot be transferred or stored to the application because of the present device state"},
    {0x08000023u, "Object dictionary dynamic generation fails or no object dictionary is present"},
    {0x08000024u, "No data available"},
};

const char *gw_sdo_abort_meaning(uint32_t code)
{
    for (size_t i = 0; i < sizeof(abort_names) / sizeof(abort_names[0]); i++) {
        if (abort_names[i].code == code) {
            return abort_names[i].meaning;
        }
    }
    return NULL;
}

static void sdo_frame(uint8_t node, uint8_t cs, uint16_t index, uint8_t subindex, uint32_t data,
                      gw_can_frame_t *f)
{
    f->id = GW_CO_COB_SDO_RX + (uint32_t)(node & 0x7Fu);
    f->dlc = GW_SDO_DLC;
    f->data[0] = cs;
    f->data[1] = (uint8_t)(index & 0xFFu);
    f->data[2] = (uint8_t)(index >> 8);
    f->data[3] = subindex;
    f->data[4] = (uint8_t)(data & 0xFFu);
    f->data[5] = (uint8_t)((data >> 8) & 0xFFu);
    f->data[6] = (uint8_t)((data >> 16) & 0xFFu);
    f->data[7] = (uint8_t)(data >> 24);
}

void gw_sdo_build_upload_request(uint8_t node, uint16_t index, uint8_t subindex,
                                 gw_can_frame_t *f)
{
    if (f != NULL) {
        sdo_frame(node, 0x40u, index, subindex, 0, f);
    }
}

void gw_sdo_build_upload_segment_request(uint8_t node, uint8_t toggle, gw_can_frame_t *f)
{
    if (f != NULL) {
        sdo_frame(node, (uint8_t)(0x60u | ((toggle & 1u) << 4)), 0, 0, 0, f);
    }
}

void gw_sdo_build_abort(uint8_t node, uint16_t index, uint8_t subindex, uint32_t code,
                        gw_can_frame_t *f)
{
    if (f != NULL) {
        sdo_frame(node, 0x80u, index, subindex, code, f);
    }
}
