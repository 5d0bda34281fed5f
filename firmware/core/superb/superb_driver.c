/* SPDX-License-Identifier: MIT */
/* SuperB CANopen SDO client: discovery, per-node polling, liveness (see superb_driver.h). */
#include "superb/superb_driver.h"

#include <string.h>

typedef enum obj_type { T_U8, T_I16, T_U16, T_I32, T_U32, T_STR } obj_type_t;

/* Short local names for the poll list (gw_sb_object_t, superb_driver.h). */
enum {
    OBJ_VOLTAGE = GW_SB_OBJ_VOLTAGE, OBJ_SOC = GW_SB_OBJ_SOC, OBJ_TEMP = GW_SB_OBJ_TEMP,
    OBJ_CURRENT = GW_SB_OBJ_CURRENT, OBJ_CELLS = GW_SB_OBJ_CELLS, OBJ_STATUS = GW_SB_OBJ_STATUS,
    OBJ_CYCLES = GW_SB_OBJ_CYCLES, OBJ_AH_EQ = GW_SB_OBJ_AH_EQ, OBJ_TEMP_HI = GW_SB_OBJ_TEMP_HI,
    OBJ_AH_EXP = GW_SB_OBJ_AH_EXP, OBJ_AH_RET = GW_SB_OBJ_AH_RET, OBJ_VENDOR = GW_SB_OBJ_VENDOR,
    OBJ_PRODUCT = GW_SB_OBJ_PRODUCT, OBJ_REVISION = GW_SB_OBJ_REVISION,
    OBJ_SERIAL = GW_SB_OBJ_SERIAL, OBJ_HB_TIME = GW_SB_OBJ_HB_TIME,
    OBJ_MAX_DCL = GW_SB_OBJ_MAX_DCL, OBJ_MAX_CCL = GW_SB_OBJ_MAX_CCL, OBJ_NAME = GW_SB_OBJ_NAME,
    OBJ_COUNT = GW_SB_OBJ_COUNT
};

typedef struct sb_object {
    uint16_t index;
    uint8_t subindex; /* OBJ_CELLS: the first one; the slot's cell_sub says which */
    obj_type_t type;
    bool identity; /* read once per boot-up, not every cycle */
} sb_object_t;

static const sb_object_t objects[OBJ_COUNT] = {
    [OBJ_VOLTAGE] = {0x6060u, 0, T_I32, false},  /* 1/1024 V */
    [OBJ_SOC] = {0x6081u, 0, T_U8, false},       /* % */
    [OBJ_TEMP] = {0x6010u, 0, T_I16, false},     /* 1/8 degC */
    [OBJ_CURRENT] = {0x2010u, 0, T_I32, false},  /* mA, + = charge */
    [OBJ_CELLS] = {0x2011u, 1, T_I16, false},    /* mV, sub-index = cell 1..16 */
    [OBJ_STATUS] = {0x2004u, 0, T_U16, false},   /* error bits, GW_SB_ERR_* */
    [OBJ_CYCLES] = {0x6050u, 0, T_U16, false},
    [OBJ_AH_EQ] = {0x6053u, 0, T_I32, false},    /* 1/8 Ah since equalisation */
    [OBJ_TEMP_HI] = {0x6020u, 0, T_I16, false},  /* 1/8 degC, highest */
    [OBJ_AH_EXP] = {0x6051u, 0, T_I16, false},   /* firmware >= 1.2 only */
    [OBJ_AH_RET] = {0x6052u, 0, T_I16, false},
    [OBJ_VENDOR] = {GW_CO_OBJ_IDENTITY, 1, T_U32, true},
    [OBJ_PRODUCT] = {GW_CO_OBJ_IDENTITY, 2, T_U32, true},
    [OBJ_REVISION] = {GW_CO_OBJ_IDENTITY, 3, T_U32, true},
    [OBJ_SERIAL] = {GW_CO_OBJ_IDENTITY, 4, T_U32, true},
    [OBJ_HB_TIME] = {GW_CO_OBJ_HEARTBEAT_TIME, 0, T_U16, true},
    [OBJ_MAX_DCL] = {0x5021u, 1, T_I32, true},   /* mA the BMS lets out */
    [OBJ_MAX_CCL] = {0x5021u, 2, T_I32, true},   /* mA the BMS lets in */
    [OBJ_NAME] = {GW_CO_OBJ_DEVICE_NAME, 0, T_STR, true},
};

#define BIT(o) (1u << (o))
#define CORE_MASK (BIT(OBJ_VOLTAGE) | BIT(OBJ_SOC) | BIT(OBJ_CURRENT))
#define IDENTITY_MASK (BIT(OBJ_VENDOR) | BIT(OBJ_PRODUCT) | BIT(OBJ_REVISION) | BIT(OBJ_SERIAL))
#define SEG_MAX_BYTES 1024u /* a longer segmented upload is aborted (out of memory) */
#define ABORT_OUT_OF_MEMORY 0x05040005u
#define ABORT_TYPE_MISMATCH 0x06070010u

void gw_sb_cfg_default(gw_sb_cfg_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->first_node = 1;
    cfg->last_node = 16;
    cfg->poll_period_ms = 1000;
    cfg->sdo_timeout_ms = 100;
    cfg->retries = 1;
    cfg->heartbeat_misses = 3;
    cfg->heartbeat_period_ms = 1000;
    cfg->reprobe_period_ms = 10000;
    cfg->cells_per_pack = 4;
}

/* now + delta without wrapping: a clamped deadline is merely never reached. */
static uint64_t add_ms(uint64_t t_ms, uint64_t delta_ms)
{
    return (UINT64_MAX - t_ms < delta_ms) ? UINT64_MAX : t_ms + delta_ms;
}

static uint8_t clamp_node(uint8_t id)
{
    if (id < GW_CO_NODE_MIN) {
        return GW_CO_NODE_MIN;
    }
    return id > GW_CO_NODE_MAX ? GW_CO_NODE_MAX : id;
}

void gw_sb_init(gw_sb_driver_t *d, const gw_sb_cfg_t *cfg, uint64_t now_ms)
{
    if (d == NULL) {
        return;
    }
    memset(d, 0, sizeof(*d));
    if (cfg != NULL) {
        d->cfg = *cfg;
    } else {
        gw_sb_cfg_default(&d->cfg);
    }
    gw_sb_cfg_t *c = &d->cfg;
    c->first_node = clamp_node(c->first_node);
    c->last_node = clamp_node(c->last_node);
    if (c->first_node > c->last_node) {
        c->first_node = c->last_node;
    }
    if (c->poll_period_ms == 0) {
        c->poll_period_ms = 1;
    }
    if (c->sdo_timeout_ms == 0) {
        c->sdo_timeout_ms = 1;
    }
    if (c->heartbeat_misses == 0) {
        c->heartbeat_misses = 1;
    }
    if (c->heartbeat_period_ms == 0) {
        c->heartbeat_period_ms = 1;
    }
    if (c->reprobe_period_ms == 0) {
        c->reprobe_period_ms = 1;
    }
    if (c->cells_per_pack > GW_MAX_CELLS) {
        c->cells_per_pack = GW_MAX_CELLS;
    }
    d->next_sweep_ms = now_ms; /* the first sweep starts at once */
    d->last_now_ms = now_ms;
}

/* ------------------------------------------------------------ node slots */

static int find_slot(const gw_sb_driver_t *d, uint8_t id)
{
    for (uint8_t i = 0; i < d->node_count; i++) {
        if (d->nodes[i].node_id == id) {
            return i;
        }
    }
    return -1;
}

static uint64_t alive_window_ms(const gw_sb_driver_t *d, int i)
{
    uint32_t period = d->nodes[i].heartbeat_ms != 0 ? d->nodes[i].heartbeat_ms
                                                    : d->cfg.heartbeat_period_ms;
    return (uint64_t)d->cfg.heartbeat_misses * period;
}

/* SDO answers keep a node alive only while it has never sent a heartbeat:
 * heartbeat loss must take a node offline even if it still answers
 * (issue: "heartbeat loss marks a node offline within 3 periods"). */
static void mark_alive(gw_sb_driver_t *d, int i, uint64_t now_ms);

static void mark_alive_sdo(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    if (!d->nodes[i].heartbeat_seen) {
        mark_alive(d, i, now_ms);
    }
}

static void mark_alive(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    d->nodes[i].alive = true;
    d->slot[i].alive_until_ms = add_ms(now_ms, alive_window_ms(d, i));
}

/* The slot of id, created on first sight; -1 when all slots are taken. */
static int add_node(gw_sb_driver_t *d, uint8_t id, uint64_t now_ms)
{
    int i = find_slot(d, id);
    if (i >= 0) {
        return i;
    }
    if (d->node_count >= GW_SB_MAX_NODES) {
        d->stats.nodes_rejected++;
        return -1;
    }
    i = d->node_count++;
    memset(&d->nodes[i], 0, sizeof(d->nodes[i]));
    memset(&d->slot[i], 0, sizeof(d->slot[i]));
    memset(&d->packs[i], 0, sizeof(d->packs[i]));
    d->nodes[i].node_id = id;
    d->packs[i].present = true;
    d->packs[i].address = id;
    d->packs[i].cell_count = d->cfg.cells_per_pack;
    d->slot[i].next_cycle_ms = now_ms;
    d->stats.nodes_found++;
    return i;
}

/* Everything learned since the last boot-up is forgotten: the firmware may
 * have changed (identity, objects it has) and the server dropped our transfer. */
static void node_rebooted(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    gw_sb_node_info_t *n = &d->nodes[i];
    gw_sb_slot_t *s = &d->slot[i];
    n->identity_valid = false;
    n->name_valid = false;
    n->name[0] = '\0';
    n->heartbeat_ms = 0;
    n->heartbeat_seen = false; /* it may come back without heartbeats */
    n->dropped_mask = 0;
    n->error_status_valid = false;
    n->max_discharge_valid = false;
    n->max_charge_valid = false;
    s->ident_done = 0;
    s->in_cycle = false;
    s->xfer = GW_SB_X_NONE;
    s->segmented = false;
    s->abort_pending = false;
    s->next_cycle_ms = now_ms;
}

/* ------------------------------------------------------------ poll cycle */

/* Cells read from 0x2011: the configured count, but the object has 16 subs. */
static uint8_t cells_to_read(const gw_sb_driver_t *d)
{
    return d->cfg.cells_per_pack > GW_SB_CELL_SUBS ? GW_SB_CELL_SUBS : d->cfg.cells_per_pack;
}

static bool dropped(const gw_sb_driver_t *d, int i, uint8_t o)
{
    return (d->nodes[i].dropped_mask & BIT(o)) != 0;
}

static bool wanted(const gw_sb_driver_t *d, int i, uint8_t o)
{
    if (dropped(d, i, o) || (o == OBJ_CELLS && cells_to_read(d) == 0)) {
        return false;
    }
    return !objects[o].identity || (d->slot[i].ident_done & BIT(o)) == 0;
}

/* Sub-index of the object being read (0x2011 walks through the cells). */
static uint8_t current_sub(const gw_sb_slot_t *s)
{
    return s->obj == OBJ_CELLS ? s->cell_sub : objects[s->obj].subindex;
}

/* What a cycle must have read to be published: the core values, plus the
 * cells and the error status unless this node has dropped them (an older
 * battery without them publishes as before, cells absent = 0). A cycle with
 * a cell or the switch state missing would hide exactly what protects the
 * cells, so it publishes nothing and the last complete reading ages out. */
static uint32_t required_mask(const gw_sb_driver_t *d, int i)
{
    uint32_t m = CORE_MASK;
    if (wanted(d, i, OBJ_CELLS)) {
        m |= BIT(OBJ_CELLS);
    }
    if (!dropped(d, i, OBJ_STATUS)) {
        m |= BIT(OBJ_STATUS);
    }
    return m;
}

/* 0x5021 mA -> 0.1 A, rounded down so it is not above what the BMS said,
 * except that a positive limit below 0.1 A becomes 1 (0 would mean "no
 * limit" to DVCC). <= 0: not reported. */
static uint16_t limit_ma_to_da(int32_t ma)
{
    if (ma <= 0) {
        return 0;
    }
    int32_t da = ma / 100;
    if (da > UINT16_MAX) {
        return UINT16_MAX;
    }
    return da == 0 ? 1u : (uint16_t)da;
}

static int16_t eighth_to_dc(int32_t raw)
{
    /* 1/8 degC -> 0.1 degC, rounded half away from zero. */
    int32_t x = raw * 10;
    return (int16_t)(x >= 0 ? (x + 4) / 8 : -((-x + 4) / 8));
}

/* Copy this cycle's values to packs[i] when the core objects were all read. */
static void publish(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    gw_pack_t *p = &d->packs[i];
    const gw_pack_t *st = &s->staging;
    const gw_sb_node_info_t *n = &d->nodes[i];
    uint32_t need = required_mask(d, i);
    if ((s->cycle_ok & need) != need || !n->alive) {
        return;
    }
    uint16_t cycles = (s->cycle_ok & BIT(OBJ_CYCLES)) != 0 ? st->cycles : p->cycles;
    memset(p, 0, sizeof(*p));
    p->present = true;
    p->online = true;
    p->address = d->nodes[i].node_id;
    p->cell_count = d->cfg.cells_per_pack;
    p->voltage_mv = st->voltage_mv;
    p->current_ma = st->current_ma;
    p->soc_pct = st->soc_pct;
    p->cycles = cycles;
    /* Only sensors read in this cycle: a temperature is never carried over. */
    uint8_t k = 0;
    if ((s->cycle_ok & BIT(OBJ_TEMP)) != 0) {
        p->temp_dc[k++] = st->temp_dc[0];
    }
    if ((s->cycle_ok & BIT(OBJ_TEMP_HI)) != 0) {
        p->temp_dc[k++] = st->temp_dc[1];
    }
    p->temp_count = k;
    p->cell_temp_count = k;
    /* Cells and switch flags only from this cycle; cell_mv stays 0 (absent)
     * when the node has no 0x2011. */
    if ((s->cycle_ok & BIT(OBJ_CELLS)) != 0) {
        memcpy(p->cell_mv, st->cell_mv, sizeof(p->cell_mv[0]) * cells_to_read(d));
    }
    if ((s->cycle_ok & BIT(OBJ_STATUS)) != 0) {
        p->bms_limits_valid = true;
        p->bms_charge_off = st->bms_charge_off;
        p->bms_discharge_off = st->bms_discharge_off;
    }
    if (n->max_discharge_valid || n->max_charge_valid) {
        p->bms_limits_valid = true;
        p->bms_dcl_da = n->max_discharge_valid ? limit_ma_to_da(n->max_discharge_ma) : 0;
        p->bms_ccl_da = n->max_charge_valid ? limit_ma_to_da(n->max_charge_ma) : 0;
    }
    p->updated_ms = now_ms;
    s->fresh_until_ms = add_ms(now_ms, (uint64_t)d->cfg.heartbeat_misses * d->cfg.poll_period_ms);
}

static void end_cycle(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    publish(d, i, now_ms);
    s->in_cycle = false;
    s->xfer = GW_SB_X_NONE;
    s->segmented = false;
    if (s->next_cycle_ms < now_ms) {
        s->next_cycle_ms = now_ms; /* overran its period: start again at once */
    }
}

/* Move to the first wanted object at or after `from`, or end the cycle. */
static void goto_object(gw_sb_driver_t *d, int i, uint8_t from, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    s->segmented = false;
    s->tries = 0;
    for (uint8_t o = from; o < OBJ_COUNT; o++) {
        if (wanted(d, i, o)) {
            s->obj = o;
            s->cell_sub = 1;
            s->xfer = GW_SB_X_SEND;
            return;
        }
    }
    end_cycle(d, i, now_ms);
}

static void start_cycle(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    s->in_cycle = true;
    s->cycle_ok = 0;
    memset(&s->staging, 0, sizeof(s->staging));
    s->next_cycle_ms = add_ms(now_ms, d->cfg.poll_period_ms);
    goto_object(d, i, 0, now_ms);
}

static void queue_abort(gw_sb_driver_t *d, int i, uint32_t code)
{
    gw_sb_slot_t *s = &d->slot[i];
    s->abort_pending = true;
    s->abort_index = objects[s->obj].index;
    s->abort_sub = current_sub(s);
    s->abort_code = code;
}

static uint8_t type_width(obj_type_t t)
{
    switch (t) {
    case T_U8: return 1;
    case T_I16: case T_U16: return 2;
    case T_I32: case T_U32: return 4;
    case T_STR:
    default: return 0;
    }
}

/* Store one scalar read into staging / node info. */
static void store_value(gw_sb_driver_t *d, int i, uint8_t o, uint32_t raw)
{
    gw_sb_slot_t *s = &d->slot[i];
    gw_sb_node_info_t *n = &d->nodes[i];
    int32_t i32 = (int32_t)raw; /* two's complement: defined for the values C23 fixes */
    int16_t i16 = (int16_t)(uint16_t)raw;
    switch (o) {
    case OBJ_VOLTAGE: {
        int64_t mv = i32 < 0 ? 0 : ((int64_t)i32 * 1000 + 512) / 1024;
        s->staging.voltage_mv = (uint32_t)mv;
        break;
    }
    case OBJ_SOC:
        s->staging.soc_pct = raw > 100u ? 100u : (uint8_t)raw;
        break;
    case OBJ_TEMP:
        s->staging.temp_dc[0] = eighth_to_dc(i16);
        break;
    case OBJ_CURRENT:
        s->staging.current_ma = i32;
        break;
    case OBJ_CYCLES:
        s->staging.cycles = (uint16_t)raw;
        break;
    case OBJ_AH_EQ:
        n->ah_since_eq_8th = i32;
        break;
    case OBJ_STATUS: {
        uint16_t bits = (uint16_t)raw;
        n->error_status = bits;
        n->error_status_valid = true;
        s->staging.bms_charge_off = (bits & GW_SB_ERR_CHARGE_OFF_MASK) != 0;
        s->staging.bms_discharge_off = (bits & GW_SB_ERR_DISCHARGE_OFF_MASK) != 0;
        break;
    }
    case OBJ_MAX_DCL:
        n->max_discharge_ma = i32;
        n->max_discharge_valid = true;
        break;
    case OBJ_MAX_CCL:
        n->max_charge_ma = i32;
        n->max_charge_valid = true;
        break;
    case OBJ_TEMP_HI:
        s->staging.temp_dc[1] = eighth_to_dc(i16);
        break;
    case OBJ_AH_EXP:
        n->ah_expended_8th = i16;
        break;
    case OBJ_AH_RET:
        n->ah_returned_8th = i16;
        break;
    case OBJ_VENDOR:
        n->vendor_id = raw;
        break;
    case OBJ_PRODUCT:
        n->product_code = raw;
        break;
    case OBJ_REVISION:
        n->revision = raw;
        break;
    case OBJ_SERIAL:
        n->serial = raw;
        break;
    case OBJ_HB_TIME:
        n->heartbeat_ms = (uint16_t)raw;
        break;
    default:
        break;
    }
}

/* The object is read: record it and move on. */
static void object_done(gw_sb_driver_t *d, int i, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    uint8_t o = s->obj;
    s->cycle_ok |= BIT(o);
    if (objects[o].identity) {
        s->ident_done |= BIT(o);
        if ((s->ident_done & IDENTITY_MASK) == IDENTITY_MASK) {
            d->nodes[i].identity_valid = true;
        }
    }
    goto_object(d, i, (uint8_t)(o + 1u), now_ms);
}

static void name_done(gw_sb_driver_t *d, int i, size_t len)
{
    gw_sb_node_info_t *n = &d->nodes[i];
    if (len > GW_SB_NAME_MAX) {
        len = GW_SB_NAME_MAX;
    }
    memcpy(n->name, d->slot[i].name_buf, len);
    n->name[len] = '\0';
    n->name_valid = true;
}

/* One cell of 0x2011 read: the object is done when the last cell is. */
static void cell_read(gw_sb_driver_t *d, int i, int16_t mv, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    uint8_t k = (uint8_t)(s->cell_sub - 1u); /* cell_sub is 1..cells_to_read() */
    if (k < GW_SB_CELL_SUBS) {
        /* A negative cell voltage is a sensor fault: 0 = not reported. */
        s->staging.cell_mv[k] = mv > 0 ? (uint16_t)mv : 0u;
    }
    if (s->cell_sub < cells_to_read(d)) {
        s->cell_sub++;
        s->tries = 0;
        s->xfer = GW_SB_X_SEND;
        return;
    }
    object_done(d, i, now_ms);
}

/* ------------------------------------------------------------ rx */

static void on_initiate_response(gw_sb_driver_t *d, int i, const gw_sdo_msg_t *m, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    const sb_object_t *ob = &objects[s->obj];
    if (ob->type == T_STR) {
        if (m->expedited) {
            /* A short name fits in the initiate frame itself. */
            uint8_t len = (uint8_t)m->size;
            for (uint8_t k = 0; k < len; k++) {
                s->name_buf[k] = (char)((m->value >> (8u * k)) & 0xFFu);
            }
            name_done(d, i, len);
            d->stats.replies_ok++;
            object_done(d, i, now_ms);
            return;
        }
        d->stats.replies_ok++;
        s->segmented = true;
        s->toggle = 0;
        s->seg_size = m->size_indicated ? m->size : 0;
        s->seg_got = 0;
        s->xfer = GW_SB_X_SEND;
        return;
    }
    uint8_t width = type_width(ob->type);
    if (!m->expedited || (m->size_indicated && m->size != width)) {
        /* A scalar must come expedited with its own size; anything else is not this object. */
        d->stats.size_errors++;
        if (!m->expedited) {
            queue_abort(d, i, ABORT_TYPE_MISMATCH);
        }
        goto_object(d, i, (uint8_t)(s->obj + 1u), now_ms);
        return;
    }
    uint32_t raw = width == 4 ? m->value : (m->value & ((1u << (8u * width)) - 1u));
    d->stats.replies_ok++;
    if (s->obj == OBJ_CELLS) {
        cell_read(d, i, (int16_t)(uint16_t)raw, now_ms);
        return;
    }
    store_value(d, i, s->obj, raw);
    object_done(d, i, now_ms);
}

static void on_segment_response(gw_sb_driver_t *d, int i, const gw_sdo_msg_t *m, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    if (m->toggle != s->toggle) {
        /* CiA 301: the client aborts; the name is read again next cycle. */
        d->stats.toggle_errors++;
        queue_abort(d, i, GW_SDO_ABORT_TOGGLE);
        goto_object(d, i, (uint8_t)(s->obj + 1u), now_ms);
        return;
    }
    for (uint8_t k = 0; k < m->data_len; k++) {
        if (s->seg_got + k < GW_SB_NAME_MAX) {
            s->name_buf[s->seg_got + k] = (char)m->data[k];
        }
    }
    s->seg_got += m->data_len;
    s->toggle ^= 1u;
    d->stats.replies_ok++;
    if (m->last) {
        if (s->seg_size != 0 && s->seg_got != s->seg_size) {
            d->stats.size_errors++;
            goto_object(d, i, (uint8_t)(s->obj + 1u), now_ms);
            return;
        }
        name_done(d, i, s->seg_got);
        object_done(d, i, now_ms);
        return;
    }
    if (s->seg_got > SEG_MAX_BYTES) {
        d->stats.size_errors++;
        queue_abort(d, i, ABORT_OUT_OF_MEMORY);
        goto_object(d, i, (uint8_t)(s->obj + 1u), now_ms);
        return;
    }
    s->xfer = GW_SB_X_SEND;
}

static bool mux_matches(const gw_sdo_msg_t *m, const gw_sb_slot_t *s)
{
    return m->has_mux && m->index == objects[s->obj].index && m->subindex == current_sub(s);
}

static void on_node_response(gw_sb_driver_t *d, int i, const gw_sdo_msg_t *m, uint64_t now_ms)
{
    gw_sb_slot_t *s = &d->slot[i];
    if (s->xfer != GW_SB_X_WAIT) {
        d->stats.unexpected++; /* late, or nobody asked */
        return;
    }
    if (m->cmd == GW_SDO_CMD_ABORT) {
        if (!mux_matches(m, s)) {
            d->stats.mismatched++;
            return;
        }
        d->stats.aborts++;
        mark_alive_sdo(d, i, now_ms);
        if (m->abort_code == GW_SDO_ABORT_NO_OBJECT || m->abort_code == GW_SDO_ABORT_NO_SUBINDEX) {
            d->nodes[i].dropped_mask |= BIT(s->obj);
            d->stats.objects_dropped++;
            if (s->obj == OBJ_MAX_DCL && m->abort_code == GW_SDO_ABORT_NO_OBJECT) {
                /* No 0x5021 at all: its sub 02 is not there either, so do
                 * not spend a second request and abort on it. */
                d->nodes[i].dropped_mask |= BIT(OBJ_MAX_CCL);
                d->stats.objects_dropped++;
            }
        }
        goto_object(d, i, (uint8_t)(s->obj + 1u), now_ms);
        return;
    }
    if (s->segmented) {
        if (m->cmd != GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE) {
            d->stats.unexpected++;
            return;
        }
        mark_alive_sdo(d, i, now_ms);
        on_segment_response(d, i, m, now_ms);
        return;
    }
    if (m->cmd != GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE) {
        d->stats.unexpected++;
        return;
    }
    if (!mux_matches(m, s)) {
        d->stats.mismatched++;
        return;
    }
    mark_alive_sdo(d, i, now_ms);
    on_initiate_response(d, i, m, now_ms);
}

static void on_probe_response(gw_sb_driver_t *d, uint8_t id, const gw_sdo_msg_t *m, uint64_t now_ms)
{
    if (m->cmd != GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE && m->cmd != GW_SDO_CMD_ABORT) {
        d->stats.unexpected++;
        return;
    }
    if (!m->has_mux || m->index != GW_CO_OBJ_DEVICE_TYPE || m->subindex != 0) {
        d->stats.mismatched++;
        return;
    }
    /* Even an abort proves an SDO server answers on this id. */
    if (m->cmd == GW_SDO_CMD_ABORT) {
        d->stats.aborts++;
    } else {
        d->stats.replies_ok++;
    }
    d->probe_id = 0;
    int i = add_node(d, id, now_ms);
    if (i >= 0) {
        mark_alive_sdo(d, i, now_ms);
    }
}

static void on_sdo_response(gw_sb_driver_t *d, uint8_t id, const gw_can_frame_t *f, uint64_t now_ms)
{
    gw_sdo_msg_t m;
    if (gw_sdo_parse(f->data, f->dlc, true, &m) != GW_SDO_OK) {
        d->stats.bad_frame++;
        return;
    }
    if (d->probe_id == id && !d->probe_send) {
        on_probe_response(d, id, &m, now_ms);
        return;
    }
    int i = find_slot(d, id);
    if (i < 0) {
        d->stats.unexpected++;
        return;
    }
    on_node_response(d, i, &m, now_ms);
}

static void on_heartbeat(gw_sb_driver_t *d, uint8_t id, const gw_can_frame_t *f, uint64_t now_ms)
{
    if (f->dlc != 1) {
        d->stats.bad_frame++;
        return;
    }
    uint8_t state = f->data[0];
    if (state != GW_CO_NMT_BOOTUP && state != GW_CO_NMT_STOPPED &&
        state != GW_CO_NMT_OPERATIONAL && state != GW_CO_NMT_PRE_OPERATIONAL) {
        d->stats.bad_frame++;
        return;
    }
    bool known = find_slot(d, id) >= 0;
    int i = add_node(d, id, now_ms);
    if (state == GW_CO_NMT_BOOTUP) {
        d->stats.bootups++;
    } else {
        d->stats.heartbeats++;
    }
    if (i < 0) {
        return;
    }
    if (state == GW_CO_NMT_BOOTUP && known) {
        d->stats.reboots++;
        node_rebooted(d, i, now_ms);
    }
    d->nodes[i].nmt_state = state;
    if (state != GW_CO_NMT_BOOTUP) {
        d->nodes[i].heartbeat_seen = true;
    }
    mark_alive(d, i, now_ms);
}

void gw_sb_rx(gw_sb_driver_t *d, uint64_t now_ms, const gw_can_frame_t *f)
{
    if (d == NULL || f == NULL) {
        return;
    }
    if (f->dlc > 8) {
        d->stats.bad_frame++;
        return;
    }
    uint8_t id = 0;
    gw_co_service_t svc = gw_co_classify(f->id, &id, NULL);
    switch (svc) {
    case GW_CO_SVC_SDO_RESPONSE:
        on_sdo_response(d, id, f, now_ms);
        break;
    case GW_CO_SVC_HEARTBEAT:
        on_heartbeat(d, id, f, now_ms);
        break;
    case GW_CO_SVC_UNKNOWN:
        if ((f->id & GW_CAN_EFF_FLAG) == 0 && (f->id & 0x7Fu) == 0 &&
            ((f->id & 0x780u) == GW_CO_COB_SDO_TX || (f->id & 0x780u) == GW_CO_COB_HEARTBEAT)) {
            d->stats.bad_frame++; /* 0x580 / 0x700: node 0 does not exist */
        } else {
            d->stats.ignored++;
        }
        break;
    default:
        d->stats.ignored++; /* our own requests echoed, PDOs, EMCY, NMT, SYNC ... */
        break;
    }
}

/* ------------------------------------------------------------ process */

static void check_timers(gw_sb_driver_t *d, uint64_t now_ms)
{
    for (uint8_t i = 0; i < d->node_count; i++) {
        gw_sb_slot_t *s = &d->slot[i];
        if (d->nodes[i].alive && now_ms >= s->alive_until_ms) {
            d->nodes[i].alive = false;
            d->stats.offline_events++;
            d->packs[i].online = false;
        }
        if (d->packs[i].online && now_ms >= s->fresh_until_ms) {
            d->packs[i].online = false;
        }
        if (s->xfer == GW_SB_X_WAIT && now_ms >= s->deadline_ms) {
            d->stats.timeouts++;
            if (s->segmented) {
                queue_abort(d, i, GW_SDO_ABORT_TIMEOUT);
            }
            s->segmented = false;
            if (s->tries <= d->cfg.retries) {
                d->stats.retries++;
                s->xfer = GW_SB_X_SEND; /* from the initiate again */
            } else {
                goto_object(d, i, (uint8_t)(s->obj + 1u), now_ms);
            }
        }
        if (!s->in_cycle && now_ms >= s->next_cycle_ms) {
            start_cycle(d, i, now_ms);
        }
    }
    if (d->probe_id != 0 && !d->probe_send && now_ms >= d->probe_deadline_ms) {
        d->stats.probe_timeouts++;
        d->probe_id = 0;
    }
}

/* Pick the next absent id of the sweep, or finish the sweep. */
static void advance_sweep(gw_sb_driver_t *d, uint64_t now_ms)
{
    if (!d->sweep_active && now_ms >= d->next_sweep_ms) {
        d->sweep_active = true;
        d->probe_next = d->cfg.first_node;
    }
    if (!d->sweep_active || d->probe_id != 0) {
        return;
    }
    while (d->probe_next != 0) {
        uint8_t id = d->probe_next;
        d->probe_next = id >= d->cfg.last_node ? 0 : (uint8_t)(id + 1u);
        if (find_slot(d, id) < 0 && d->node_count < GW_SB_MAX_NODES) {
            d->probe_id = id;
            d->probe_send = true;
            return;
        }
    }
    d->sweep_active = false;
    d->scan_done = true;
    d->next_sweep_ms = add_ms(now_ms, d->cfg.reprobe_period_ms);
}

size_t gw_sb_process(gw_sb_driver_t *d, uint64_t now_ms, gw_can_frame_t *tx, size_t cap)
{
    if (d == NULL) {
        return 0;
    }
    if (tx == NULL) {
        cap = 0;
    }
    d->last_now_ms = now_ms;
    check_timers(d, now_ms);
    advance_sweep(d, now_ms);

    size_t n = 0;
    if (d->probe_id != 0 && d->probe_send && n < cap) {
        gw_sdo_build_upload_request(d->probe_id, GW_CO_OBJ_DEVICE_TYPE, 0, &tx[n++]);
        d->probe_send = false;
        d->probe_deadline_ms = add_ms(now_ms, d->cfg.sdo_timeout_ms);
        d->stats.requests++;
        d->stats.probes++;
    }
    for (uint8_t i = 0; i < d->node_count; i++) {
        gw_sb_slot_t *s = &d->slot[i];
        uint8_t id = d->nodes[i].node_id;
        if (s->abort_pending && n < cap) {
            gw_sdo_build_abort(id, s->abort_index, s->abort_sub, s->abort_code, &tx[n++]);
            s->abort_pending = false;
            d->stats.aborts_sent++;
        }
        /* One transfer per server: wait while our probe to this id is still out. */
        if (s->xfer != GW_SB_X_SEND || n >= cap || d->probe_id == id) {
            continue;
        }
        const sb_object_t *ob = &objects[s->obj];
        if (s->segmented) {
            gw_sdo_build_upload_segment_request(id, s->toggle, &tx[n++]);
        } else {
            gw_sdo_build_upload_request(id, ob->index, current_sub(s), &tx[n++]);
            s->tries++;
        }
        s->xfer = GW_SB_X_WAIT;
        s->deadline_ms = add_ms(now_ms, d->cfg.sdo_timeout_ms);
        d->stats.requests++;
    }
    return n;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t gw_sb_next_deadline(const gw_sb_driver_t *d)
{
    if (d == NULL) {
        return UINT64_MAX;
    }
    uint64_t now = d->last_now_ms;
    uint64_t t = UINT64_MAX;
    if (d->probe_id != 0) {
        t = d->probe_send ? now : d->probe_deadline_ms;
    } else {
        t = d->sweep_active ? now : d->next_sweep_ms;
    }
    for (uint8_t i = 0; i < d->node_count; i++) {
        const gw_sb_slot_t *s = &d->slot[i];
        if (s->abort_pending) {
            t = now;
        }
        if (s->xfer == GW_SB_X_SEND && d->probe_id != d->nodes[i].node_id) {
            t = now;
        } else if (s->xfer == GW_SB_X_WAIT) {
            t = min_u64(t, s->deadline_ms);
        }
        if (!s->in_cycle) {
            t = min_u64(t, s->next_cycle_ms);
        }
        if (d->nodes[i].alive) {
            t = min_u64(t, s->alive_until_ms);
        }
        if (d->packs[i].online) {
            t = min_u64(t, s->fresh_until_ms);
        }
    }
    return t;
}
