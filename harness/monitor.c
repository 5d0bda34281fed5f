/* SPDX-License-Identifier: MIT */
/* Victron-side monitor: decodes the CAN-BMS frame set as a GX would (see monitor.h).
 *
 * Written from /work/shared/protocols/victron_canbms.md Part A only, never from the
 * firmware's encoder, so a shared misreading cannot pass unnoticed. Every multi-byte
 * field is little-endian and decoded byte by byte. */
#include "harness/monitor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* SocketCAN id flags (linux/can.h), restated so the monitor needs no OS headers. */
#define GX_CAN_EFF_FLAG 0x80000000u /* 29-bit id: Venus ignores these on the BMS port */
#define GX_CAN_RTR_FLAG 0x40000000u /* remote request: no data */
#define GX_CAN_ERR_FLAG 0x20000000u /* error frame */
#define GX_CAN_SFF_MASK 0x7FFu
#define GX_CAN_MAX_DLEN 8u

/* The ids of the frame set (victron_canbms.md A.2), one named table. */
enum {
    GX_ID_LIMITS = 0x351,
    GX_ID_SOC = 0x355,
    GX_ID_MEAS = 0x356,
    GX_ID_PYLON = 0x359,
    GX_ID_ALARMS = 0x35A,
    GX_ID_REQUEST = 0x35C,
    GX_ID_MANUF = 0x35E,
    GX_ID_INFO = 0x35F,
    GX_ID_NAME1 = 0x370,
    GX_ID_NAME2 = 0x371,
    GX_ID_MODULES = 0x372,
    GX_ID_CELLS = 0x373,
    GX_ID_MIN_V_ID = 0x374,
    GX_ID_MAX_V_ID = 0x375,
    GX_ID_MIN_T_ID = 0x376,
    GX_ID_MAX_T_ID = 0x377,
    GX_ID_INSTALLED = 0x379,
    GX_ID_FAMILY = 0x382,
};

/* Name and minimum DLC of each id. The minima are those of Victron's check script
 * (A.1) where it names the id; text frames need one byte, since a GX takes any
 * shorter name. 0x351 needs 8 only for DVL, which is optional. */
typedef struct gx_frame_def {
    uint16_t id;
    uint8_t min_dlc;
    const char *name;
} gx_frame_def_t;

static const gx_frame_def_t gx_frames[] = {
    {GX_ID_LIMITS, 6, "limits"},
    {GX_ID_SOC, 4, "soc_soh"},
    {GX_ID_MEAS, 6, "measurements"},
    {GX_ID_PYLON, 4, "pylon_flags"},
    {GX_ID_ALARMS, 8, "alarms"},
    {GX_ID_REQUEST, 1, "requests"},
    {GX_ID_MANUF, 1, "manufacturer"},
    {GX_ID_INFO, 6, "battery_info"},
    {GX_ID_NAME1, 1, "name_1"},
    {GX_ID_NAME2, 1, "name_2"},
    {GX_ID_MODULES, 8, "modules"},
    {GX_ID_CELLS, 8, "cell_extremes"},
    {GX_ID_MIN_V_ID, 2, "min_cell_voltage_id"},
    {GX_ID_MAX_V_ID, 2, "max_cell_voltage_id"},
    {GX_ID_MIN_T_ID, 2, "min_temperature_id"},
    {GX_ID_MAX_T_ID, 2, "max_temperature_id"},
    {GX_ID_INSTALLED, 2, "installed_capacity"},
    {GX_ID_FAMILY, 1, "family"},
};

const char *const bench_gx_alarm_names[BENCH_GX_ALARMS] = {
    "general",
    "high_voltage",
    "low_voltage",
    "high_temperature",
    "low_temperature",
    "high_temperature_charge",
    "low_temperature_charge",
    "high_discharge_current",
    "high_charge_current",
    "contactor",
    "short_circuit",
    "bms_internal",
    "cell_imbalance",
};

const char *const bench_pylon_flag_names[BENCH_PYLON_NFLAGS] = {
    "protection_over_voltage",   "protection_under_voltage",   "protection_over_temperature",
    "protection_under_temperature", "protection_discharge_over_current",
    "protection_charge_over_current", "protection_system_error", "alarm_high_voltage",
    "alarm_low_voltage",         "alarm_high_temperature",     "alarm_low_temperature",
    "alarm_discharge_high_current", "alarm_charge_high_current",
    "alarm_internal_communication",
};

/* Where each 0x359 flag sits (A.4), in bench_pylon_flag_t order. */
static const struct {
    uint8_t byte, bit;
} pylon_bits[BENCH_PYLON_NFLAGS] = {
    {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 7}, {1, 0}, {1, 3},
    {2, 1}, {2, 2}, {2, 3}, {2, 4}, {2, 7}, {3, 0}, {3, 3},
};

static uint32_t pylon_decode(const uint8_t *d)
{
    uint32_t flags = 0;
    for (unsigned i = 0; i < BENCH_PYLON_NFLAGS; i++) {
        if ((d[pylon_bits[i].byte] >> pylon_bits[i].bit) & 1u) {
            flags |= 1u << i;
        }
    }
    return flags;
}

/* Pair values of 0x35A (A.3), indexed by the 2-bit value. */
static const char *const gx_pair_names[4] = {"unsupported", "active", "ok", "reserved"};

/* Every id of the set lies in 0x350..0x38F: a direct slot per id (position
 * in gx_frames + 1, 0 = not in the set) instead of a search on every frame. */
#define GX_ID_BASE 0x350u
#define GX_ID_SPAN 0x40u
static const uint8_t gx_slot[GX_ID_SPAN] = {
    [GX_ID_LIMITS - GX_ID_BASE] = 1,
    [GX_ID_SOC - GX_ID_BASE] = 2,
    [GX_ID_MEAS - GX_ID_BASE] = 3,
    [GX_ID_PYLON - GX_ID_BASE] = 4,
    [GX_ID_ALARMS - GX_ID_BASE] = 5,
    [GX_ID_REQUEST - GX_ID_BASE] = 6,
    [GX_ID_MANUF - GX_ID_BASE] = 7,
    [GX_ID_INFO - GX_ID_BASE] = 8,
    [GX_ID_NAME1 - GX_ID_BASE] = 9,
    [GX_ID_NAME2 - GX_ID_BASE] = 10,
    [GX_ID_MODULES - GX_ID_BASE] = 11,
    [GX_ID_CELLS - GX_ID_BASE] = 12,
    [GX_ID_MIN_V_ID - GX_ID_BASE] = 13,
    [GX_ID_MAX_V_ID - GX_ID_BASE] = 14,
    [GX_ID_MIN_T_ID - GX_ID_BASE] = 15,
    [GX_ID_MAX_T_ID - GX_ID_BASE] = 16,
    [GX_ID_INSTALLED - GX_ID_BASE] = 17,
    [GX_ID_FAMILY - GX_ID_BASE] = 18,
};

static const gx_frame_def_t *gx_find(uint32_t id)
{
    uint32_t k = id - GX_ID_BASE; /* wraps to a large value below the base */
    if (k >= GX_ID_SPAN || gx_slot[k] == 0) {
        return NULL;
    }
    const gx_frame_def_t *def = &gx_frames[gx_slot[k] - 1];
    return def->id == id ? def : NULL;
}

static uint16_t get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static int16_t get_s16le(const uint8_t *p)
{
    uint16_t u = get_u16le(p);
    /* Two's complement by arithmetic, not by a cast of a pointer or an out-of-range value. */
    return u >= 0x8000u ? (int16_t)((int32_t)u - 0x10000) : (int16_t)u;
}

/* The 2-bit pair k (0 = bits 0-1) of byte b. */
static uint8_t pair_at(const uint8_t *bytes, unsigned k)
{
    return (uint8_t)((bytes[k / 4] >> (2 * (k % 4))) & 3u);
}

/* Copy an ASCII field of up to n bytes, stopping at NUL; dst holds n + 1. */
static void copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t n)
{
    size_t i = 0;
    while (i < n && i + 1 < dst_size && src[i] != 0) {
        dst[i] = (char)src[i];
        i++;
    }
    dst[i] = '\0';
}

/* A raw DLC 9..15 still carries 8 bytes (classic CAN); missing data is no data. */
static uint8_t usable_len(uint8_t dlc, const uint8_t *data)
{
    if (data == NULL) {
        return 0;
    }
    return dlc > GX_CAN_MAX_DLEN ? (uint8_t)GX_CAN_MAX_DLEN : dlc;
}

void bench_gx_init(bench_gx_t *gx)
{
    memset(gx, 0, sizeof *gx);
    /* Nothing seen yet: every pair starts "unsupported", as a GX shows no alarm. */
}

static void gx_note_351(bench_gx_t *gx, uint64_t t_us)
{
    if (gx->seen_351 && t_us >= gx->last_351_us) {
        uint64_t gap_us = t_us - gx->last_351_us;
        if (gap_us > gx->max_gap_351_us) {
            gx->max_gap_351_us = gap_us;
        }
    }
    gx->seen_351 = true;
    gx->last_351_us = t_us;
}

/* The name is 16 characters over two frames. A full part 1 keeps the part 2
 * already seen (the frames come in either order); a short one ends the name. */
static void gx_name_part1(bench_gx_t *gx, uint8_t len, const uint8_t *d)
{
    char part[9];
    copy_text(part, sizeof part, d, len);
    size_t n = strlen(part);
    memcpy(gx->name, part, n);
    if (n < 8) {
        gx->name[n] = '\0';
    }
}

/* Alarm pairs (0x35A order) that block charging / discharging when active. */
static const uint8_t blocks_charge[] = {1, 3, 4, 5, 6, 8, 11};
static const uint8_t blocks_discharge[] = {2, 3, 4, 7, 11};

static bool any_active(const bench_gx_t *gx, const uint8_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (gx->alarm[idx[i]] == 1) {
            return true;
        }
    }
    return false;
}

/* 0x359 ends a frame set: check the set's 0x351 against its 0x35C and 0x35A
 * and against the set before (only once all three were seen). */
static void close_set(bench_gx_t *gx)
{
    if (gx->count_by_id[GX_ID_LIMITS] == 0 || gx->count_by_id[GX_ID_ALARMS] == 0 ||
        gx->count_by_id[GX_ID_REQUEST] == 0) {
        return;
    }
    bool chg_en = (gx->request_flags & 0x80u) != 0;
    bool dis_en = (gx->request_flags & 0x40u) != 0;
    if (chg_en != (gx->ccl_a > 0) || dis_en != (gx->dcl_a > 0)) {
        gx->mismatch_35c++;
    }
    if (gx->sets > 0) {
        gx->ccl_changes += gx->ccl_a != gx->set_prev_ccl_a;
        gx->dcl_changes += gx->dcl_a != gx->set_prev_dcl_a;
        if (gx->ccl_a > gx->set_prev_ccl_a &&
            any_active(gx, blocks_charge, sizeof blocks_charge)) {
            gx->ccl_rise_blocked++;
        }
        if (gx->dcl_a > gx->set_prev_dcl_a &&
            any_active(gx, blocks_discharge, sizeof blocks_discharge)) {
            gx->dcl_rise_blocked++;
        }
    }
    gx->set_prev_ccl_a = gx->ccl_a;
    gx->set_prev_dcl_a = gx->dcl_a;
    gx->sets++;
}


static void gx_decode(bench_gx_t *gx, uint32_t id, uint8_t len, const uint8_t *d)
{
    switch (id) {
    case GX_ID_LIMITS:
        gx->cvl_v = get_u16le(&d[0]) / 10.0;
        gx->ccl_a = get_s16le(&d[2]) / 10.0;
        gx->dcl_a = get_s16le(&d[4]) / 10.0;
        if (len >= 8) {
            gx->dvl_v = get_u16le(&d[6]) / 10.0;
        }
        break;
    case GX_ID_SOC:
        gx->soc_pct = get_u16le(&d[0]);
        gx->soh_pct = get_u16le(&d[2]);
        break;
    case GX_ID_MEAS:
        gx->voltage_v = get_s16le(&d[0]) / 100.0;
        gx->current_a = get_s16le(&d[2]) / 10.0;
        gx->temperature_c = get_s16le(&d[4]) / 10.0;
        break;
    case GX_ID_ALARMS:
        for (unsigned k = 0; k < BENCH_GX_ALARMS; k++) {
            gx->alarm[k] = pair_at(&d[0], k);
            gx->warning[k] = pair_at(&d[4], k);
        }
        break;
    case GX_ID_REQUEST:
        gx->request_flags = d[0];
        break;
    case GX_ID_MANUF:
        copy_text(gx->manufacturer, sizeof gx->manufacturer, d, len);
        break;
    case GX_ID_INFO:
        gx->battery_type = get_u16le(&d[0]);
        gx->fw_major = d[2];
        gx->fw_minor = d[3];
        gx->capacity_ah = get_u16le(&d[4]);
        break;
    case GX_ID_NAME1:
        gx_name_part1(gx, len, d);
        break;
    case GX_ID_NAME2:
        /* Part 2 continues after a full part 1; a short part 1 already ended the name. */
        if (strlen(gx->name) >= 8) {
            copy_text(&gx->name[8], sizeof gx->name - 8, d, len);
        }
        break;
    case GX_ID_MODULES:
        gx->modules_online = get_u16le(&d[0]);
        gx->modules_blocking_charge = get_u16le(&d[2]);
        gx->modules_blocking_discharge = get_u16le(&d[4]);
        gx->modules_offline = get_u16le(&d[6]);
        break;
    case GX_ID_CELLS:
        gx->min_cell_v = get_u16le(&d[0]) / 1000.0;
        gx->max_cell_v = get_u16le(&d[2]) / 1000.0;
        gx->min_temp_c = (double)get_u16le(&d[4]) - 273.0;
        gx->max_temp_c = (double)get_u16le(&d[6]) - 273.0;
        break;
    case GX_ID_PYLON:
        close_set(gx);
        gx->seen_359 = true;
        memcpy(gx->pylon_raw, d, sizeof gx->pylon_raw);
        gx->pylon_flags = pylon_decode(d);
        gx->pylon_modules = len >= 5 ? d[4] : 0;
        copy_text(gx->pylon_tag, sizeof gx->pylon_tag, &d[5], len >= 7 ? 2 : 0);
        break;
    case GX_ID_MIN_V_ID:
        copy_text(gx->min_v_id, sizeof gx->min_v_id, d, len);
        break;
    case GX_ID_MAX_V_ID:
        copy_text(gx->max_v_id, sizeof gx->max_v_id, d, len);
        break;
    case GX_ID_MIN_T_ID:
        copy_text(gx->min_t_id, sizeof gx->min_t_id, d, len);
        break;
    case GX_ID_MAX_T_ID:
        copy_text(gx->max_t_id, sizeof gx->max_t_id, d, len);
        break;
    case GX_ID_INSTALLED:
        gx->installed_ah = get_u16le(&d[0]);
        break;
    case GX_ID_FAMILY:
        copy_text(gx->family, sizeof gx->family, d, len);
        break;
    default:
        break;
    }
}

int bench_gx_feed(bench_gx_t *gx, uint32_t id, uint8_t dlc, const uint8_t *data, uint64_t t_us)
{
    if (gx->frames == 0) {
        gx->first_us = t_us;
    }
    gx->frames++;
    if ((id & (GX_CAN_EFF_FLAG | GX_CAN_RTR_FLAG | GX_CAN_ERR_FLAG)) != 0 || id > GX_CAN_SFF_MASK) {
        return 1;
    }
    gx->count_by_id[id]++;
    const gx_frame_def_t *def = gx_find(id);
    if (def == NULL) {
        return 1;
    }
    uint8_t len = usable_len(dlc, data);
    if (len < def->min_dlc) {
        gx->frames_malformed++;
        return -1;
    }
    gx_decode(gx, id, len, data);
    if (id == GX_ID_LIMITS) {
        gx_note_351(gx, t_us);
    }
    gx->frames_known++;
    return 0;
}

/* ---- bench_victron_describe ------------------------------------------------ */

/* Bounded output buffer: appends never overrun; overflow is remembered. */
typedef struct sbuf {
    char *p;
    size_t cap, len;
    bool overflow;
} sbuf_t;

static void sb_printf(sbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf_t *sb, const char *fmt, ...)
{
    if (sb->overflow) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sb->cap - sb->len) {
        sb->overflow = true;
        sb->p[sb->cap - 1] = '\0';
        return;
    }
    sb->len += (size_t)n;
}

/* Describe output: the separator logic shared by JSON and text mode. */
typedef struct desc {
    sbuf_t sb;
    bool json;
} desc_t;

static void d_key(desc_t *d, const char *key)
{
    if (d->json) {
        sb_printf(&d->sb, ", \"%s\": ", key);
    } else {
        sb_printf(&d->sb, " %s=", key);
    }
}

/* A fixed-point number printed from its integer, at the field's resolution
 * (decimals 0..3), so 552 dV is exactly "55.2" with no float rounding. */
static void d_fixed(desc_t *d, const char *key, int32_t raw, unsigned decimals)
{
    static const int32_t pow10[] = {1, 10, 100, 1000};
    d_key(d, key);
    int64_t mag = raw < 0 ? -(int64_t)raw : raw;
    const char *sign = raw < 0 ? "-" : "";
    if (decimals == 0) {
        sb_printf(&d->sb, "%s%lld", sign, (long long)mag);
        return;
    }
    int32_t div = pow10[decimals];
    sb_printf(&d->sb, "%s%lld.%0*lld", sign, (long long)(mag / div), (int)decimals,
              (long long)(mag % div));
}

static void d_bool(desc_t *d, const char *key, bool v)
{
    d_key(d, key);
    sb_printf(&d->sb, "%s", v ? "true" : "false");
}

/* An ASCII field up to NUL: JSON-escaped, or quoted with C-like escapes in text. */
static void d_text(desc_t *d, const char *key, const uint8_t *s, size_t n)
{
    d_key(d, key);
    sb_printf(&d->sb, "\"");
    for (size_t i = 0; i < n && s[i] != 0; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            sb_printf(&d->sb, "\\%c", c);
        } else if (c < 0x20 || c >= 0x7F) {
            if (d->json) {
                sb_printf(&d->sb, "\\u%04X", c);
            } else {
                sb_printf(&d->sb, "\\x%02X", c);
            }
        } else {
            sb_printf(&d->sb, "%c", c);
        }
    }
    sb_printf(&d->sb, "\"");
}

static void d_string(desc_t *d, const char *key, const char *s)
{
    d_text(d, key, (const uint8_t *)s, strlen(s));
}

/* JSON: {"name": "state", ...} for all 13 pairs. Text: the pairs that are not ok. */
static void d_pairs(desc_t *d, const char *key, const uint8_t *bytes)
{
    d_key(d, key);
    if (d->json) {
        sb_printf(&d->sb, "{");
        for (unsigned k = 0; k < BENCH_GX_ALARMS; k++) {
            sb_printf(&d->sb, "%s\"%s\": \"%s\"", k == 0 ? "" : ", ", bench_gx_alarm_names[k],
                      gx_pair_names[pair_at(bytes, k)]);
        }
        sb_printf(&d->sb, "}");
        return;
    }
    unsigned shown = 0;
    for (unsigned k = 0; k < BENCH_GX_ALARMS; k++) {
        uint8_t v = pair_at(bytes, k);
        if (v == 2) {
            continue;
        }
        sb_printf(&d->sb, "%s%s:%s", shown == 0 ? "" : ",", bench_gx_alarm_names[k],
                  gx_pair_names[v]);
        shown++;
    }
    if (shown == 0) {
        sb_printf(&d->sb, "all-ok");
    }
}

static void describe_fields(desc_t *d, uint32_t id, uint8_t len, const uint8_t *b)
{
    switch (id) {
    case GX_ID_LIMITS:
        d_fixed(d, "cvl_v", get_u16le(&b[0]), 1);
        d_fixed(d, "ccl_a", get_s16le(&b[2]), 1);
        d_fixed(d, "dcl_a", get_s16le(&b[4]), 1);
        if (len >= 8) {
            d_fixed(d, "dvl_v", get_u16le(&b[6]), 1);
        }
        break;
    case GX_ID_SOC:
        d_fixed(d, "soc_pct", get_u16le(&b[0]), 0);
        d_fixed(d, "soh_pct", get_u16le(&b[2]), 0);
        if (len >= 6) {
            d_fixed(d, "soc_hires_pct", get_u16le(&b[4]), 2);
        }
        break;
    case GX_ID_MEAS:
        d_fixed(d, "voltage_v", get_s16le(&b[0]), 2);
        d_fixed(d, "current_a", get_s16le(&b[2]), 1);
        d_fixed(d, "temperature_c", get_s16le(&b[4]), 1);
        break;
    case GX_ID_ALARMS:
        d_pairs(d, "alarms", &b[0]);
        d_pairs(d, "warnings", &b[4]);
        break;
    case GX_ID_REQUEST:
        /* Pylontech request flags, byte 0 bits 7..3 (A.5). */
        d_bool(d, "charge_enable", (b[0] & 0x80u) != 0);
        d_bool(d, "discharge_enable", (b[0] & 0x40u) != 0);
        d_bool(d, "force_charge_1", (b[0] & 0x20u) != 0);
        d_bool(d, "force_charge_2", (b[0] & 0x10u) != 0);
        d_bool(d, "full_charge", (b[0] & 0x08u) != 0);
        break;
    case GX_ID_MANUF:
        d_text(d, "manufacturer", b, len);
        break;
    case GX_ID_INFO: {
        char fw[8];
        /* Major in byte 2, minor in byte 3, both as numbers (A.2: MG 0x0118 = 1.24). */
        snprintf(fw, sizeof fw, "%u.%02u", (unsigned)b[2], (unsigned)b[3]);
        d_fixed(d, "battery_type", get_u16le(&b[0]), 0);
        d_string(d, "firmware", fw);
        d_fixed(d, "capacity_ah", get_u16le(&b[4]), 0);
        break;
    }
    case GX_ID_NAME1:
    case GX_ID_NAME2:
    case GX_ID_FAMILY:
        d_text(d, "text", b, len);
        break;
    case GX_ID_PYLON: {
        uint32_t flags = pylon_decode(b);
        for (unsigned i = 0; i < BENCH_PYLON_NFLAGS; i++) {
            d_bool(d, bench_pylon_flag_names[i], (flags >> i) & 1u);
        }
        if (len >= 5) {
            d_fixed(d, "modules", b[4], 0);
        }
        if (len >= 7) {
            d_text(d, "tag", &b[5], 2);
        }
        break;
    }
    case GX_ID_MODULES:
        d_fixed(d, "modules_online", get_u16le(&b[0]), 0);
        d_fixed(d, "modules_blocking_charge", get_u16le(&b[2]), 0);
        d_fixed(d, "modules_blocking_discharge", get_u16le(&b[4]), 0);
        d_fixed(d, "modules_offline", get_u16le(&b[6]), 0);
        break;
    case GX_ID_CELLS:
        d_fixed(d, "min_cell_v", get_u16le(&b[0]), 3);
        d_fixed(d, "max_cell_v", get_u16le(&b[2]), 3);
        d_fixed(d, "min_temp_c", (int32_t)get_u16le(&b[4]) - 273, 0);
        d_fixed(d, "max_temp_c", (int32_t)get_u16le(&b[6]) - 273, 0);
        break;
    case GX_ID_MIN_V_ID:
    case GX_ID_MAX_V_ID:
    case GX_ID_MIN_T_ID:
    case GX_ID_MAX_T_ID:
        d_text(d, "text", b, len);
        break;
    case GX_ID_INSTALLED:
        d_fixed(d, "installed_ah", get_u16le(&b[0]), 0);
        break;
    default:
        break;
    }
}

/* Writes a reason into out (when there is room) and returns -1. */
static int describe_fail(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int describe_fail(char *out, size_t cap, const char *fmt, ...)
{
    if (out != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int bench_victron_describe(uint32_t id, uint8_t dlc, const uint8_t *data, bool json, char *out,
                           size_t cap)
{
    if (out == NULL || cap == 0) {
        return -1;
    }
    out[0] = '\0';
    if ((id & GX_CAN_EFF_FLAG) != 0) {
        return describe_fail(out, cap,
                             "0x%08X is a 29-bit frame; Victron CAN-BMS uses 11-bit ids "
                             "(a GX ignores it)",
                             (unsigned)(id & 0x1FFFFFFFu));
    }
    if ((id & GX_CAN_RTR_FLAG) != 0) {
        return describe_fail(out, cap, "0x%03X is a remote frame: it carries no data",
                             (unsigned)(id & GX_CAN_SFF_MASK));
    }
    const gx_frame_def_t *def = (id & GX_CAN_ERR_FLAG) == 0 ? gx_find(id) : NULL;
    if (def == NULL) {
        return describe_fail(out, cap, "0x%03X is not a Victron CAN-BMS frame", (unsigned)id);
    }
    uint8_t len = usable_len(dlc, data);
    if (len < def->min_dlc) {
        return describe_fail(out, cap, "0x%03X needs at least %u data byte%s, got %u", (unsigned)id,
                             (unsigned)def->min_dlc, def->min_dlc == 1 ? "" : "s", (unsigned)len);
    }

    desc_t d = {.sb = {.p = out, .cap = cap}, .json = json};
    if (json) {
        sb_printf(&d.sb, "{\"id\": \"0x%03X\", \"name\": \"%s\"", (unsigned)id, def->name);
    } else {
        sb_printf(&d.sb, "0x%03X %s:", (unsigned)id, def->name);
    }
    describe_fields(&d, id, len, data);
    if (json) {
        sb_printf(&d.sb, "}");
    }
    if (d.sb.overflow) {
        return describe_fail(out, cap, "output buffer too small");
    }
    return 0;
}
