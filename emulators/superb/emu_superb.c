/* SPDX-License-Identifier: MIT */
/* SuperB Epsilon V2 emulator: nodes, NMT, heartbeat, object dictionary (see emu_superb.h). */
#include "emulators/superb/emu_superb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Response processing delay: uniform in [MIN, MIN + SPAN] us. */
#define SB_DELAY_MIN_US 1000u
#define SB_DELAY_SPAN_US 1000u
#define SB_NODE_ID_MAX 127u
#define SB_STORE_SIGNATURE 0x65766173u /* "save", little-endian */
#define SB_SOH_PERMILLE 1000
#define SB_CELL_SUBS 16u  /* 0x2011 / 0x2012 sub-indices 1..16 */
#define SB_CELL_OV_V 3.75 /* 0x2004 bits, at the pack BMS's own FET limits */
#define SB_CELL_UV_V 2.30
#define SB_CELL_OT_C 60.0
#define SB_CELL_UT_C (-20.0)

typedef enum od_type { T_U8, T_I16, T_U16, T_I32, T_U32, T_STR } od_type_t;
typedef enum od_access { A_RO, A_RW, A_WO } od_access_t;

/* One object: a VAR (max_sub 0) or a record/array whose sub 0 holds max_sub
 * (U8, read-only) and whose subs 1..max_sub share one type and access. */
typedef struct od_obj {
    uint16_t idx;
    uint8_t max_sub;
    od_type_t type;
    od_access_t access;
} od_obj_t;

static const od_obj_t od_objects[] = {
    {0x1000, 0, T_U32, A_RO},            /* device type */
    {0x1001, 0, T_U8, A_RO},             /* error register */
    {0x1008, 0, T_STR, A_RO},            /* device name */
    {0x1009, 0, T_STR, A_RO},            /* hardware version */
    {0x100A, 0, T_STR, A_RO},            /* software version */
    {0x1010, 1, T_U32, A_WO},            /* store parameters */
    {0x1014, 0, T_U32, A_RW},            /* COB-ID EMCY */
    {0x1017, 0, T_U16, A_RW},            /* producer heartbeat time, ms */
    {0x1018, 4, T_U32, A_RO},            /* identity */
    {0x1200, 2, T_U32, A_RO},            /* SDO server COB-IDs */
    {0x2004, 0, T_U16, A_RO},            /* error status bits */
    {0x2005, 0, T_U16, A_RO},            /* warning status */
    {0x2006, 0, T_U8, A_RO},             /* operational state: 1 active */
    {0x2010, 0, T_I32, A_RO},            /* current, mA, charge positive */
    {0x2011, SB_CELL_SUBS, T_I16, A_RO}, /* cell voltages, mV */
    {0x2012, SB_CELL_SUBS, T_I16, A_RO}, /* cell temperatures, 0.1 degC */
    {0x2014, 0, T_I16, A_RO},            /* cycle count */
    {0x2016, 0, T_I32, A_RO},            /* pack power, W */
    {0x2017, 2, T_I32, A_RO},            /* pack / terminal voltage, mV */
    {0x2021, 0, T_U16, A_RO},            /* SoH, 0.1 % */
    {0x2022, 2, T_U16, A_RO},            /* min / max cell voltage, mV */
    {0x2023, 2, T_I16, A_RO},            /* min / max cell temperature, 0.1 degC */
    {0x6010, 0, T_I16, A_RO},            /* temperature, 1/8 degC */
    {0x6020, 0, T_I16, A_RO},            /* highest temperature, 1/8 degC */
    {0x6050, 0, T_U16, A_RO},            /* cycles */
    {0x6051, 0, T_I16, A_RO},            /* Ah expended, 1/8 Ah (fw >= 1.2) */
    {0x6052, 0, T_I16, A_RO},            /* Ah returned, 1/8 Ah (fw >= 1.2) */
    {0x6053, 0, T_I32, A_RO},            /* Ah since equalisation, 1/8 Ah */
    {0x6060, 0, T_I32, A_RO},            /* battery voltage, 1/1024 V */
    {0x6081, 0, T_U8, A_RO},             /* state of charge, % */
};

/* Context handed to the SDO server's OD callbacks. */
typedef struct od_ctx {
    emu_sb_node_t *n;
    uint64_t now_us;
} od_ctx_t;

/* Pack figures the OD reports, in the units of the sim. */
typedef struct pack_view {
    size_t ncells;
    double mean_soc, mean_t, max_t, min_t, min_v, max_v;
} pack_view_t;

static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - 1 - b ? UINT64_MAX - 1 : a + b;
}

/* Round half away from zero and saturate to [lo, hi]; NaN reads as 0. */
static int64_t round_clamp(double x, int64_t lo, int64_t hi)
{
    if (isnan(x)) {
        return 0;
    }
    if (x <= (double)lo) {
        return lo;
    }
    if (x >= (double)hi) {
        return hi;
    }
    return (int64_t)llround(x);
}

static void view_pack(const sim_pack_t *p, pack_view_t *v)
{
    memset(v, 0, sizeof(*v));
    size_t n = p->ncells < 0 ? 0 : (size_t)p->ncells;
    v->ncells = n > SIM_MAX_CELLS ? SIM_MAX_CELLS : n;
    double sum_soc = 0.0, sum_t = 0.0;
    for (size_t i = 0; i < v->ncells; i++) {
        const sim_cell_t *c = &p->cells[i];
        sum_soc += c->soc;
        sum_t += c->temp_c;
        if (i == 0 || c->temp_c > v->max_t) {
            v->max_t = c->temp_c;
        }
        if (i == 0 || c->temp_c < v->min_t) {
            v->min_t = c->temp_c;
        }
        if (i == 0 || c->v > v->max_v) {
            v->max_v = c->v;
        }
        if (i == 0 || c->v < v->min_v) {
            v->min_v = c->v;
        }
    }
    if (v->ncells > 0) {
        v->mean_soc = sum_soc / (double)v->ncells;
        v->mean_t = sum_t / (double)v->ncells;
    } else {
        v->mean_t = v->max_t = v->min_t = p->ambient_c;
    }
}

static const od_obj_t *od_find(uint16_t idx)
{
    for (size_t i = 0; i < sizeof(od_objects) / sizeof(od_objects[0]); i++) {
        if (od_objects[i].idx == idx) {
            return &od_objects[i];
        }
    }
    return NULL;
}

static size_t type_size(od_type_t t)
{
    switch (t) {
    case T_U8:
        return 1;
    case T_I16:
    case T_U16:
        return 2;
    case T_I32:
    case T_U32:
        return 4;
    case T_STR:
    default:
        return 0;
    }
}

/* The object as this node sees it: firmware before 1.2 lacks 0x6051/0x6052. */
static const od_obj_t *node_find(const emu_sb_node_t *n, uint16_t idx)
{
    if ((idx == 0x6051 || idx == 0x6052) && n->fw_version < EMU_SB_FW_AH_OBJECTS) {
        return NULL;
    }
    return od_find(idx);
}

static double cycles_of(const sim_pack_t *p)
{
    double c = (double)p->cycles_base;
    if (p->capacity_ah > 0.0) {
        c += p->throughput_ah / (2.0 * p->capacity_ah);
    }
    return floor(c);
}

static uint16_t error_status(const pack_view_t *v)
{
    uint16_t bits = 0;
    if (v->ncells > 0 && v->max_v >= SB_CELL_OV_V) {
        bits |= 1u << 0;
    }
    if (v->ncells > 0 && v->min_v <= SB_CELL_UV_V) {
        bits |= 1u << 1;
    }
    if (v->max_t >= SB_CELL_OT_C) {
        bits |= 1u << 6;
    }
    if (v->min_t <= SB_CELL_UT_C) {
        bits |= 1u << 7;
    }
    return bits;
}

/* Numeric value of idx:sub (sub >= 1 for records), before encoding. */
static int64_t od_number(const emu_sb_node_t *n, uint16_t idx, uint8_t sub)
{
    const sim_pack_t *p = n->pack;
    pack_view_t v;
    view_pack(p, &v);
    size_t cell = sub >= 1 ? (size_t)sub - 1 : 0;
    uint16_t status = error_status(&v);

    switch (idx) {
    case 0x1000:
        return EMU_SB_DEVICE_TYPE;
    case 0x1001: /* generic, voltage (bits 0/1) and temperature (bits 6/7) from 0x2004 */
        return (status != 0 ? 0x01 : 0) | ((status & 0x03u) != 0 ? 0x04 : 0) |
               ((status & 0xC0u) != 0 ? 0x08 : 0);
    case 0x1014:
        return n->emcy_cob_id;
    case 0x1017:
        return n->heartbeat_ms;
    case 0x1018:
        switch (sub) {
        case 1:
            return EMU_SB_VENDOR_ID;
        case 2:
            return EMU_SB_PRODUCT_CODE;
        case 3:
            return (int64_t)n->fw_version << 8;
        default:
            return n->serial;
        }
    case 0x1200:
        return sub == 1 ? EMU_SB_COB_SDO_RX + n->node_id : EMU_SB_COB_SDO_TX + n->node_id;
    case 0x2004:
        return status;
    case 0x2005:
        return 0;
    case 0x2006:
        return 1;
    case 0x2010:
        return round_clamp(p->current_a * 1000.0, INT32_MIN, INT32_MAX);
    case 0x2011:
        return cell < v.ncells ? round_clamp(p->cells[cell].v * 1000.0, INT16_MIN, INT16_MAX) : 0;
    case 0x2012:
        return cell < v.ncells ? round_clamp(p->cells[cell].temp_c * 10.0, INT16_MIN, INT16_MAX)
                               : 0;
    case 0x2014:
        return round_clamp(cycles_of(p), 0, INT16_MAX);
    case 0x2016:
        return round_clamp(p->voltage_v * p->current_a, INT32_MIN, INT32_MAX);
    case 0x2017:
        return round_clamp(p->voltage_v * 1000.0, INT32_MIN, INT32_MAX);
    case 0x2021:
        return SB_SOH_PERMILLE;
    case 0x2022:
        return round_clamp((sub == 1 ? v.min_v : v.max_v) * 1000.0, 0, UINT16_MAX);
    case 0x2023:
        return round_clamp((sub == 1 ? v.min_t : v.max_t) * 10.0, INT16_MIN, INT16_MAX);
    case 0x6010:
        return round_clamp(v.mean_t * 8.0, INT16_MIN, INT16_MAX);
    case 0x6020:
        return round_clamp(v.max_t * 8.0, INT16_MIN, INT16_MAX);
    case 0x6050:
        return round_clamp(cycles_of(p), 0, UINT16_MAX);
    case 0x6051:
    case 0x6052:
        return round_clamp(p->throughput_ah / 2.0 * 8.0, INT16_MIN, INT16_MAX);
    case 0x6053: {
        double soc = v.mean_soc < 0.0 ? 0.0 : (v.mean_soc > 1.0 ? 1.0 : v.mean_soc);
        return round_clamp((1.0 - soc) * p->capacity_ah * 8.0, INT32_MIN, INT32_MAX);
    }
    case 0x6060:
        return round_clamp(p->voltage_v * 1024.0, INT32_MIN, INT32_MAX);
    case 0x6081:
        return round_clamp(v.mean_soc * 100.0, 0, 100);
    default:
        return 0;
    }
}

static size_t od_string(const emu_sb_node_t *n, uint16_t idx, uint8_t *buf, size_t cap)
{
    char text[EMU_SDO_SEG_MAX];
    switch (idx) {
    case 0x1008:
        snprintf(text, sizeof(text), "%s", EMU_SB_DEVICE_NAME);
        break;
    case 0x1009:
        snprintf(text, sizeof(text), "%s", EMU_SB_HW_VERSION);
        break;
    default:
        snprintf(text, sizeof(text), "%u.%u", (unsigned)(n->fw_version >> 8),
                 (unsigned)(n->fw_version & 0xFFu));
        break;
    }
    size_t len = strlen(text);
    len = len > cap ? cap : len;
    memcpy(buf, text, len);
    return len;
}

static uint32_t od_read(void *ctx, uint16_t idx, uint8_t sub, uint8_t *buf, size_t cap, size_t *len)
{
    const emu_sb_node_t *n = ((const od_ctx_t *)ctx)->n;
    const od_obj_t *o = node_find(n, idx);
    if (o == NULL) {
        return EMU_SDO_ABORT_NO_OBJECT;
    }
    if (sub > o->max_sub) {
        return EMU_SDO_ABORT_NO_SUB;
    }
    if (o->max_sub > 0 && sub == 0) {
        buf[0] = o->max_sub;
        *len = 1;
        return 0;
    }
    if (o->access == A_WO) {
        return EMU_SDO_ABORT_WRITE_ONLY;
    }
    if (o->type == T_STR) {
        *len = od_string(n, idx, buf, cap);
        return 0;
    }
    uint64_t raw = (uint64_t)od_number(n, idx, sub);
    size_t size = type_size(o->type);
    for (size_t i = 0; i < size && i < cap; i++) {
        buf[i] = (uint8_t)((raw >> (8 * i)) & 0xFFu);
    }
    *len = size;
    return 0;
}

static uint32_t get_le(const uint8_t *d, size_t size)
{
    uint32_t v = 0;
    for (size_t i = 0; i < size; i++) {
        v |= (uint32_t)d[i] << (8 * i);
    }
    return v;
}

static uint32_t od_write(void *ctx, uint16_t idx, uint8_t sub, const uint8_t *data, size_t len,
                         bool size_exact, bool check_only)
{
    od_ctx_t *c = (od_ctx_t *)ctx;
    emu_sb_node_t *n = c->n;
    const od_obj_t *o = node_find(n, idx);
    if (o == NULL) {
        return EMU_SDO_ABORT_NO_OBJECT;
    }
    if (sub > o->max_sub) {
        return EMU_SDO_ABORT_NO_SUB;
    }
    if (o->access == A_RO || (o->max_sub > 0 && sub == 0)) {
        return EMU_SDO_ABORT_READ_ONLY;
    }
    size_t size = type_size(o->type);
    bool len_unknown = check_only && !size_exact;
    if (!len_unknown && size_exact && len != size) {
        return len > size ? EMU_SDO_ABORT_LEN_HIGH : EMU_SDO_ABORT_LEN_LOW;
    }
    if (!len_unknown && !size_exact && len < size) {
        return EMU_SDO_ABORT_LEN_LOW;
    }
    if (check_only) {
        return 0;
    }
    uint32_t value = get_le(data, size);
    switch (idx) {
    case 0x1010:
        if (value != SB_STORE_SIGNATURE) {
            return EMU_SDO_ABORT_STORE;
        }
        n->stored_heartbeat_ms = n->heartbeat_ms;
        n->stored_emcy_cob_id = n->emcy_cob_id;
        return 0;
    case 0x1014:
        n->emcy_cob_id = value;
        return 0;
    case 0x1017:
        /* A new producer time restarts the heartbeat timer; 0 stops it. */
        n->heartbeat_ms = (uint16_t)value;
        n->next_heartbeat_us =
            value == 0 ? UINT64_MAX : add_sat(c->now_us, (uint64_t)value * 1000u);
        return 0;
    default:
        return EMU_SDO_ABORT_GENERAL;
    }
}

static const emu_sdo_od_ops_t od_ops_proto = {od_read, od_write, NULL};

static bool node_mute(const emu_sb_node_t *n)
{
    return (n->faults & (EMU_SB_F_SILENT | EMU_SB_F_BUS_OFF)) != 0;
}

/* Queue a frame from node n, due at due_us. Muted nodes send nothing. */
static void node_queue(emu_superb_t *e, emu_sb_node_t *n, uint32_t id, const uint8_t *data,
                       uint8_t dlc, uint64_t due_us)
{
    if (node_mute(n)) {
        return;
    }
    if (n->txq_len >= EMU_SB_TXQ) {
        n->tx_dropped++;
        return;
    }
    emu_sb_txent_t *t = &n->txq[n->txq_len++];
    memset(t, 0, sizeof(*t));
    t->f.id = id;
    t->f.dlc = dlc;
    memcpy(t->f.data, data, dlc);
    t->due_us = due_us;
    t->seq = e->seq++;
}

static uint64_t reply_delay_us(emu_superb_t *e, const emu_sb_node_t *n)
{
    uint64_t d = SB_DELAY_MIN_US + next_rand(&e->rng_state) % (SB_DELAY_SPAN_US + 1u);
    if ((n->faults & EMU_SB_F_LATE) != 0) {
        d += (uint64_t)n->late_ms * 1000u;
    }
    return d;
}

/* (Re)initialisation: comm objects reloaded, transfers and queued frames
 * lost, boot-up due at due_us, then pre-operational with heartbeats. */
static void node_boot(emu_superb_t *e, emu_sb_node_t *n, uint64_t due_us)
{
    bool wrong_toggle = n->sdo.wrong_toggle;
    emu_sdo_server_cancel(&n->sdo);
    n->sdo.wrong_toggle = wrong_toggle;
    n->txq_len = 0;
    n->heartbeat_ms = n->stored_heartbeat_ms;
    n->emcy_cob_id = n->stored_emcy_cob_id;
    n->nmt = EMU_SB_NMT_PRE_OPERATIONAL;
    n->next_heartbeat_us =
        n->heartbeat_ms == 0 ? UINT64_MAX : add_sat(due_us, (uint64_t)n->heartbeat_ms * 1000u);
    static const uint8_t bootup[1] = {EMU_SB_NMT_BOOTUP};
    if (!node_mute(n)) {
        n->bootups_sent++;
    }
    node_queue(e, n, EMU_SB_COB_HEARTBEAT + n->node_id, bootup, 1, due_us);
}

/* Timers due by now_us: SDO transfer timeout, heartbeat. */
static void node_service(emu_superb_t *e, emu_sb_node_t *n, uint64_t now_us)
{
    uint8_t resp[8];
    uint64_t deadline = n->sdo.deadline_us;
    if (emu_sdo_server_poll(&n->sdo, now_us, resp)) {
        node_queue(e, n, EMU_SB_COB_SDO_TX + n->node_id, resp, 8, deadline);
        if (!node_mute(n)) {
            n->sdo_responses++;
        }
    }
    if (n->heartbeat_ms == 0 || n->next_heartbeat_us > now_us) {
        return;
    }
    bool suppressed = (n->faults & EMU_SB_F_NO_HEARTBEAT) != 0 || node_mute(n);
    if (!suppressed) {
        uint8_t state = (uint8_t)n->nmt;
        node_queue(e, n, EMU_SB_COB_HEARTBEAT + n->node_id, &state, 1, n->next_heartbeat_us);
        n->heartbeats_sent++;
    }
    /* Missed periods (suppressed, or the caller came late) are skipped, not burst. */
    uint64_t period_us = (uint64_t)n->heartbeat_ms * 1000u;
    n->next_heartbeat_us = add_sat(n->next_heartbeat_us, period_us);
    if (n->next_heartbeat_us <= now_us) {
        n->next_heartbeat_us = add_sat(now_us, period_us);
    }
}

static void service_all(emu_superb_t *e, uint64_t now_us)
{
    for (int i = 0; i < e->nnodes; i++) {
        node_service(e, &e->nodes[i], now_us);
    }
}

static void nmt_apply(emu_superb_t *e, emu_sb_node_t *n, uint8_t cs, uint64_t now_us)
{
    switch (cs) {
    case EMU_SB_NMT_CS_START:
        n->nmt = EMU_SB_NMT_OPERATIONAL;
        break;
    case EMU_SB_NMT_CS_STOP:
        /* SDO is not available when stopped: a transfer in progress ends silently. */
        n->nmt = EMU_SB_NMT_STOPPED;
        emu_sdo_server_cancel(&n->sdo);
        break;
    case EMU_SB_NMT_CS_PRE_OP:
        n->nmt = EMU_SB_NMT_PRE_OPERATIONAL;
        break;
    case EMU_SB_NMT_CS_RESET_NODE:
    case EMU_SB_NMT_CS_RESET_COMM:
        node_boot(e, n, now_us + reply_delay_us(e, n));
        break;
    default:
        break;
    }
}

static void on_nmt(emu_superb_t *e, const sim_can_frame_t *f, uint64_t now_us)
{
    uint8_t cs = f->data[0];
    bool known = cs == EMU_SB_NMT_CS_START || cs == EMU_SB_NMT_CS_STOP ||
                 cs == EMU_SB_NMT_CS_PRE_OP || cs == EMU_SB_NMT_CS_RESET_NODE ||
                 cs == EMU_SB_NMT_CS_RESET_COMM;
    if (f->dlc != 2 || !known) {
        e->malformed++;
        return;
    }
    bool hit = false;
    for (int i = 0; i < e->nnodes; i++) {
        emu_sb_node_t *n = &e->nodes[i];
        if ((f->data[1] != 0 && f->data[1] != n->node_id) || (n->faults & EMU_SB_F_BUS_OFF) != 0) {
            continue;
        }
        nmt_apply(e, n, cs, now_us);
        hit = true;
    }
    if (hit) {
        e->nmt_commands++;
    }
}

static void on_sdo(emu_superb_t *e, emu_sb_node_t *n, const sim_can_frame_t *f, uint64_t now_us)
{
    if ((n->faults & (EMU_SB_F_BUS_OFF | EMU_SB_F_SILENT)) != 0) {
        return;
    }
    if (f->dlc != 8) {
        e->malformed++;
        return;
    }
    if (n->nmt == EMU_SB_NMT_STOPPED) {
        return;
    }
    n->sdo_requests++;
    uint8_t resp[8];
    uint64_t due = now_us + reply_delay_us(e, n);
    if ((n->faults & EMU_SB_F_ABORT_ALL) != 0) {
        if ((f->data[0] >> 5) == 4) {
            emu_sdo_server_cancel(&n->sdo); /* never answer a client abort */
            return;
        }
        uint16_t idx = (uint16_t)(f->data[1] | ((uint16_t)f->data[2] << 8));
        emu_sdo_encode_abort(resp, idx, f->data[3], EMU_SDO_ABORT_GENERAL);
        emu_sdo_server_cancel(&n->sdo);
    } else {
        od_ctx_t ctx = {n, now_us};
        emu_sdo_od_ops_t ops = od_ops_proto;
        ops.ctx = &ctx;
        if (!emu_sdo_server_request(&n->sdo, &ops, f->data, now_us, resp)) {
            return;
        }
        /* The client's clock for the next segment starts when our reply leaves. */
        if (n->sdo.xfer != EMU_SDO_IDLE) {
            n->sdo.deadline_us = add_sat(due, (uint64_t)EMU_SDO_TIMEOUT_MS * 1000u);
        }
    }
    node_queue(e, n, EMU_SB_COB_SDO_TX + n->node_id, resp, 8, due);
    n->sdo_responses++;
}

void emu_sb_init(emu_superb_t *e, uint64_t seed)
{
    memset(e, 0, sizeof(*e));
    e->rng_state = seed;
}

int emu_sb_find_node(const emu_superb_t *e, uint8_t node_id)
{
    for (int i = 0; i < e->nnodes; i++) {
        if (e->nodes[i].node_id == node_id) {
            return i;
        }
    }
    return -1;
}

int emu_sb_add_node(emu_superb_t *e, uint8_t node_id, const sim_pack_t *pack, uint16_t fw_version,
                    uint64_t now_us)
{
    if (node_id < 1 || node_id > SB_NODE_ID_MAX || pack == NULL || e->nnodes >= EMU_SB_MAX_NODES ||
        emu_sb_find_node(e, node_id) >= 0) {
        return -1;
    }
    int idx = e->nnodes++;
    emu_sb_node_t *n = &e->nodes[idx];
    memset(n, 0, sizeof(*n));
    n->node_id = node_id;
    n->pack = pack;
    n->fw_version = fw_version;
    n->serial = (uint32_t)(next_rand(&e->rng_state) & 0x00FFFFFFu) | 0x5B000000u;
    n->stored_heartbeat_ms = EMU_SB_HEARTBEAT_DEFAULT_MS;
    n->stored_emcy_cob_id = EMU_SB_COB_EMCY + node_id;
    emu_sdo_server_init(&n->sdo);
    node_boot(e, n, now_us);
    return idx;
}

void emu_sb_on_frame(emu_superb_t *e, const sim_can_frame_t *f, uint64_t now_us)
{
    if (f == NULL || (f->id & SIM_CAN_EFF_FLAG) != 0) {
        return; /* CANopen here uses 11-bit identifiers only */
    }
    if (f->dlc > 8) {
        e->malformed++;
        return;
    }
    service_all(e, now_us);
    if (f->id == EMU_SB_COB_NMT) {
        on_nmt(e, f, now_us);
        return;
    }
    if (f->id > EMU_SB_COB_SDO_RX && f->id <= EMU_SB_COB_SDO_RX + SB_NODE_ID_MAX) {
        int i = emu_sb_find_node(e, (uint8_t)(f->id - EMU_SB_COB_SDO_RX));
        if (i >= 0) {
            on_sdo(e, &e->nodes[i], f, now_us);
        }
    }
}

uint64_t emu_sb_next_deadline(const emu_superb_t *e)
{
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < e->nnodes; i++) {
        const emu_sb_node_t *n = &e->nodes[i];
        for (size_t k = 0; k < n->txq_len; k++) {
            t = n->txq[k].due_us < t ? n->txq[k].due_us : t;
        }
        /* Suppressed heartbeats count too: their timer keeps its phase, so
         * clearing the fault resumes them on the original grid. */
        if (n->heartbeat_ms != 0 && n->next_heartbeat_us < t) {
            t = n->next_heartbeat_us;
        }
        if (n->sdo.xfer != EMU_SDO_IDLE && n->sdo.deadline_us < t) {
            t = n->sdo.deadline_us;
        }
    }
    return t;
}

int emu_sb_take_tx(emu_superb_t *e, uint64_t now_us, sim_can_frame_t *f)
{
    service_all(e, now_us);
    int best_node = -1;
    size_t best_k = 0;
    const emu_sb_txent_t *best = NULL;
    for (int i = 0; i < e->nnodes; i++) {
        const emu_sb_node_t *n = &e->nodes[i];
        for (size_t k = 0; k < n->txq_len; k++) {
            const emu_sb_txent_t *t = &n->txq[k];
            if (t->due_us > now_us) {
                continue;
            }
            if (best == NULL || t->due_us < best->due_us ||
                (t->due_us == best->due_us && t->seq < best->seq)) {
                best = t;
                best_node = i;
                best_k = k;
            }
        }
    }
    if (best == NULL) {
        return -1;
    }
    emu_sb_node_t *n = &e->nodes[best_node];
    *f = best->f;
    memmove(&n->txq[best_k], &n->txq[best_k + 1], (n->txq_len - best_k - 1) * sizeof(n->txq[0]));
    n->txq_len--;
    return best_node;
}

void emu_sb_set_faults(emu_superb_t *e, uint8_t node_id, unsigned mask, uint32_t late_ms)
{
    int i = emu_sb_find_node(e, node_id);
    if (i < 0) {
        return;
    }
    emu_sb_node_t *n = &e->nodes[i];
    n->faults = mask;
    n->late_ms = late_ms;
    n->sdo.wrong_toggle = (mask & EMU_SB_F_WRONG_TOGGLE) != 0;
    if (node_mute(n)) {
        n->txq_len = 0;
    }
}

void emu_sb_reboot(emu_superb_t *e, uint8_t node_id, uint64_t now_us)
{
    int i = emu_sb_find_node(e, node_id);
    if (i >= 0) {
        node_boot(e, &e->nodes[i], now_us);
    }
}

void emu_sb_set_firmware(emu_superb_t *e, uint8_t node_id, uint16_t fw_version)
{
    int i = emu_sb_find_node(e, node_id);
    if (i >= 0) {
        e->nodes[i].fw_version = fw_version;
    }
}
