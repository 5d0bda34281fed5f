/* SPDX-License-Identifier: MIT */
/* Victron CAN-BMS encoder: bank + limits to the frame set (see victron_encode.h). */
#include "victron/victron_encode.h"

#include <string.h>

/* Kelvin offset used on 0x373: 0 degC = 273 K (the GX shows whole kelvin). */
#define KELVIN_OFFSET_DC 2730

void gw_victron_ident_default(gw_victron_ident_t *id)
{
    memset(id, 0, sizeof(*id));
    memcpy(id->manufacturer, "BMSBENCH", 8);
    memcpy(id->bms_name, "bmsbench-gw", 11);
    memcpy(id->family, "TOPBAND", 7);
    id->battery_type = 0;
    id->fw_major = 0;
    id->fw_minor = 1;
}

/* ---- clamping: every value is forced into its field, never wrapped ---- */

static uint16_t clamp_u16(int64_t v)
{
    if (v < 0) {
        return 0;
    }
    return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

static int16_t clamp_s16(int64_t v)
{
    if (v < INT16_MIN) {
        return INT16_MIN;
    }
    return v > INT16_MAX ? INT16_MAX : (int16_t)v;
}

/* Round half away from zero; den > 0. */
static int64_t div_round(int64_t num, int64_t den)
{
    if (num >= 0) {
        return (num + den / 2) / den;
    }
    return -((-num + den / 2) / den);
}

/* ---- byte writers ---- */

static gw_can_frame_t *new_frame(gw_can_frame_t *f, uint32_t id)
{
    memset(f, 0, sizeof(*f));
    f->id = id;
    f->dlc = 8;
    return f;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_s16(uint8_t *p, int16_t v)
{
    put_u16(p, (uint16_t)v); /* two's complement, as the GX reads it */
}

/* Copy at most 8 characters of a possibly unterminated string of size cap,
 * stopping at its NUL; the rest stays zero (the seed read past its string). */
static void put_text(uint8_t *dst, const char *s, size_t cap)
{
    for (size_t i = 0; i < 8 && i < cap && s[i] != '\0'; i++) {
        dst[i] = (uint8_t)s[i];
    }
}

/* Decimal with at least two digits into buf; returns characters written.
 * A uint8_t needs at most 3, so buf must hold 3. */
static size_t put_dec2(uint8_t *buf, unsigned v)
{
    uint8_t tmp[3];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)('0' + v % 10u);
        v /= 10u;
    } while (v > 0 && n < sizeof(tmp));
    if (n < 2) {
        tmp[n++] = '0';
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}

/* "P%02uC%02u" / "P%02uT%02u": pack address and 1-based element. At most
 * "P255C256" = 8 characters, so it always fits the frame. */
static void put_elem_id(uint8_t *d, char kind, uint8_t pack, uint8_t index0)
{
    size_t n = 0;
    d[n++] = 'P';
    n += put_dec2(&d[n], pack);
    d[n++] = (uint8_t)kind;
    (void)put_dec2(&d[n], (unsigned)index0 + 1u);
}

/* ---- frames ---- */

static void enc_limits(gw_can_frame_t *f, const gw_limits_t *lim)
{
    new_frame(f, GW_VIC_LIMITS);
    put_u16(&f->data[0], lim->cvl_dv);
    put_s16(&f->data[2], clamp_s16(lim->ccl_da));
    put_s16(&f->data[4], clamp_s16(lim->dcl_da));
    put_u16(&f->data[6], lim->dvl_dv);
}

static void enc_soc(gw_can_frame_t *f, const gw_bank_t *b)
{
    uint16_t soc = b->soc_pct > 100u ? 100u : b->soc_pct;
    new_frame(f, GW_VIC_SOC);
    put_u16(&f->data[0], soc);
    put_u16(&f->data[2], b->soh_pct);
    put_u16(&f->data[4], (uint16_t)(soc * 100u)); /* 0.01 %, not capacity */
}

static void enc_meas(gw_can_frame_t *f, const gw_bank_t *b)
{
    new_frame(f, GW_VIC_MEAS);
    put_s16(&f->data[0], clamp_s16(div_round(b->voltage_mv, 10)));
    put_s16(&f->data[2], clamp_s16(div_round(b->current_ma, 100)));
    put_s16(&f->data[4], b->avg_temp_dc);
}

/* Pairs in wire order, four per byte, lowest bits first. A reserved value 3
 * (or any junk) is sent as 0 "unsupported" rather than passed through. */
static void put_pairs(uint8_t *d, const uint8_t pairs[GW_AL_COUNT])
{
    for (int i = 0; i < GW_AL_COUNT; i++) {
        uint8_t v = pairs[i];
        if (v != GW_PAIR_ACTIVE && v != GW_PAIR_OK) {
            v = GW_PAIR_UNSUPPORTED;
        }
        d[i / 4] |= (uint8_t)(v << ((i % 4) * 2));
    }
}

static void enc_alarms(gw_can_frame_t *f, const gw_limits_t *lim)
{
    new_frame(f, GW_VIC_ALARMS);
    put_pairs(&f->data[0], lim->alarm);
    put_pairs(&f->data[4], lim->warning);
}

static void enc_request(gw_can_frame_t *f, const gw_limits_t *lim)
{
    new_frame(f, GW_VIC_REQUEST);
    /* Mirrors CCL/DCL so the two never disagree (victron_canbms.md A.5). */
    f->data[0] = (uint8_t)((lim->ccl_da > 0 ? 0x80u : 0u) | (lim->dcl_da > 0 ? 0x40u : 0u));
}

static void enc_text(gw_can_frame_t *f, uint32_t id, const char *s, size_t cap)
{
    new_frame(f, id);
    put_text(f->data, s, cap);
}

static void enc_info(gw_can_frame_t *f, const gw_bank_t *b, const gw_victron_ident_t *id)
{
    new_frame(f, GW_VIC_INFO);
    put_u16(&f->data[0], id->battery_type);
    f->data[2] = id->fw_major;
    f->data[3] = id->fw_minor;
    put_u16(&f->data[4], clamp_u16(div_round(b->full_mah, 1000)));
}

static void enc_modules(gw_can_frame_t *f, const gw_bank_t *b, const gw_limits_t *lim)
{
    new_frame(f, GW_VIC_MODULES);
    put_u16(&f->data[0], b->packs_online);
    put_u16(&f->data[2], lim->packs_blocking_charge);
    put_u16(&f->data[4], lim->packs_blocking_discharge);
    put_u16(&f->data[6], b->packs_offline);
}

static uint16_t dc_to_kelvin(int16_t dc)
{
    return clamp_u16(div_round((int64_t)dc + KELVIN_OFFSET_DC, 10));
}

static void enc_cells(gw_can_frame_t *f, const gw_bank_t *b)
{
    new_frame(f, GW_VIC_CELLS);
    put_u16(&f->data[0], b->min_cell_mv);
    put_u16(&f->data[2], b->max_cell_mv);
    /* No sensor: 0 K says "unknown" more honestly than 273 K. */
    if (b->temp_readings > 0) {
        put_u16(&f->data[4], dc_to_kelvin(b->min_temp_dc));
        put_u16(&f->data[6], dc_to_kelvin(b->max_temp_dc));
    }
}

/* Ids stay empty (all NUL) when there is no reading to point at. */
static void enc_id(gw_can_frame_t *f, uint32_t can_id, bool have, char kind, uint8_t pack,
                   uint8_t index0)
{
    new_frame(f, can_id);
    if (have) {
        put_elem_id(f->data, kind, pack, index0);
    }
}

static void enc_capacity(gw_can_frame_t *f, const gw_bank_t *b)
{
    /* Installed = every pack found, online or not; fall back to the online
     * sum when the presence information is missing. */
    uint32_t mah = b->installed_mah ? b->installed_mah : b->full_mah;
    new_frame(f, GW_VIC_CAPACITY);
    put_u16(&f->data[0], clamp_u16(div_round(mah, 1000)));
}

/* Pylon protection/alarm bits from one row of pairs (alarms or warnings). */
static void pylon_bits(const uint8_t pairs[GW_AL_COUNT], uint8_t *lo, uint8_t *hi)
{
    bool a[GW_AL_COUNT];
    for (int i = 0; i < GW_AL_COUNT; i++) {
        a[i] = pairs[i] == GW_PAIR_ACTIVE;
    }
    *lo = (uint8_t)((a[GW_AL_HIGH_VOLTAGE] ? 0x02u : 0u) | (a[GW_AL_LOW_VOLTAGE] ? 0x04u : 0u) |
                    (a[GW_AL_HIGH_TEMP] || a[GW_AL_HIGH_TEMP_CHARGE] ? 0x08u : 0u) |
                    (a[GW_AL_LOW_TEMP] || a[GW_AL_LOW_TEMP_CHARGE] ? 0x10u : 0u) |
                    (a[GW_AL_HIGH_DISCHARGE_CURRENT] ? 0x80u : 0u));
    *hi = (uint8_t)((a[GW_AL_HIGH_CHARGE_CURRENT] ? 0x01u : 0u) |
                    (a[GW_AL_BMS_INTERNAL] ? 0x08u : 0u));
}

void gw_victron_encode_359(const gw_limits_t *lim, uint8_t modules, gw_can_frame_t *out)
{
    if (lim == NULL || out == NULL) {
        return;
    }
    new_frame(out, GW_VIC_PROTECT);
    pylon_bits(lim->alarm, &out->data[0], &out->data[1]);
    pylon_bits(lim->warning, &out->data[2], &out->data[3]);
    out->data[4] = modules;
    out->data[5] = 'P';
    out->data[6] = 'N';
}

size_t gw_victron_encode(const gw_bank_t *bank, const gw_limits_t *lim,
                         const gw_victron_ident_t *id, gw_can_frame_t *out, size_t cap)
{
    if (bank == NULL || lim == NULL || id == NULL || out == NULL || cap < GW_VIC_FRAME_COUNT) {
        return 0;
    }
    bool cells = bank->valid && bank->cell_readings > 0;
    bool temps = bank->valid && bank->temp_readings > 0;
    size_t n = 0;

    enc_limits(&out[n++], lim);
    enc_soc(&out[n++], bank);
    enc_meas(&out[n++], bank);
    enc_alarms(&out[n++], lim);
    enc_request(&out[n++], lim);
    enc_text(&out[n++], GW_VIC_MANUF, id->manufacturer, sizeof(id->manufacturer));
    enc_info(&out[n++], bank, id);
    enc_text(&out[n++], GW_VIC_NAME1, id->bms_name, sizeof(id->bms_name));
    /* Chars 8-15 only if the name is that long: never read past its NUL. */
    bool long_name = memchr(id->bms_name, '\0', 8) == NULL;
    enc_text(&out[n++], GW_VIC_NAME2, long_name ? &id->bms_name[8] : "", long_name ? 9 : 1);
    enc_modules(&out[n++], bank, lim);
    /* Without cell readings (startup, every pack lost) the cell frames are
     * left out: a GX shows a 0 V cell from a 0x373 of zeros as a real one. */
    if (cells) {
        enc_cells(&out[n++], bank);
        enc_id(&out[n++], GW_VIC_MIN_V_ID, cells, 'C', bank->min_cell_pack, bank->min_cell_index);
        enc_id(&out[n++], GW_VIC_MAX_V_ID, cells, 'C', bank->max_cell_pack, bank->max_cell_index);
    }
    if (cells && temps) {
        enc_id(&out[n++], GW_VIC_MIN_T_ID, temps, 'T', bank->min_temp_pack, bank->min_temp_index);
        enc_id(&out[n++], GW_VIC_MAX_T_ID, temps, 'T', bank->max_temp_pack, bank->max_temp_index);
    }
    enc_capacity(&out[n++], bank);
    enc_text(&out[n++], GW_VIC_FAMILY, id->family, sizeof(id->family));
    return n;
}
