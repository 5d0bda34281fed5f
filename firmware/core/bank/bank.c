/* SPDX-License-Identifier: MIT */
/* Bank aggregation: fold the online packs into one battery (see bank.h). */
#include "bank/bank.h"

#include <string.h>

/* Round-half-away-from-zero division; den > 0. Used for every mean so that
 * negative temperatures round the same way as positive ones. */
static int64_t div_round_s64(int64_t num, int64_t den)
{
    if (num >= 0) {
        return (num + den / 2) / den;
    }
    return -((-num + den / 2) / den);
}

static uint32_t clamp_u32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int32_t clamp_s32(int64_t v)
{
    if (v > INT32_MAX) {
        return INT32_MAX;
    }
    if (v < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)v;
}

/* Running sums while walking the packs; folded into gw_bank_t at the end. */
typedef struct acc {
    int64_t current_ma;
    uint64_t voltage_mv, remaining_mah, full_mah, installed_mah;
    uint32_t soc_pct, soh_pct;
    int64_t temp_dc;
} acc_t;

static void scan_cells(const gw_pack_t *p, gw_bank_t *b)
{
    uint8_t n = gw_pack_cells(p);
    for (uint8_t i = 0; i < n; i++) {
        uint16_t mv = p->cell_mv[i];
        if (mv == 0) {
            continue; /* a missing cell reads 0: it is not the weakest cell */
        }
        if (b->cell_readings == 0 || mv < b->min_cell_mv) {
            b->min_cell_mv = mv;
            b->min_cell_pack = p->address;
            b->min_cell_index = i;
        }
        if (b->cell_readings == 0 || mv > b->max_cell_mv) {
            b->max_cell_mv = mv;
            b->max_cell_pack = p->address;
            b->max_cell_index = i;
        }
        b->cell_readings++;
    }
}

static void scan_temps(const gw_pack_t *p, gw_bank_t *b, acc_t *a)
{
    uint8_t n = gw_pack_cell_temps(p);
    for (uint8_t i = 0; i < n; i++) {
        int16_t t = p->temp_dc[i];
        if (b->temp_readings == 0 || t < b->min_temp_dc) {
            b->min_temp_dc = t;
            b->min_temp_pack = p->address;
            b->min_temp_index = i;
        }
        if (b->temp_readings == 0 || t > b->max_temp_dc) {
            b->max_temp_dc = t;
            b->max_temp_pack = p->address;
            b->max_temp_index = i;
        }
        a->temp_dc += t;
        b->temp_readings++;
    }
}

static void add_online_pack(const gw_pack_t *p, gw_bank_t *b, acc_t *a)
{
    uint8_t cells = gw_pack_cells(p);

    if (b->packs_online == 0 || cells < b->min_cell_count) {
        b->min_cell_count = cells;
    }
    if (cells > b->max_cell_count) {
        b->max_cell_count = cells;
    }
    b->packs_online++;
    a->current_ma += p->current_ma;
    a->voltage_mv += p->voltage_mv;
    a->remaining_mah += p->remaining_mah;
    a->full_mah += p->full_mah;
    a->soc_pct += p->soc_pct;
    a->soh_pct += p->soh_pct;
    if (p->cycles > b->cycles) {
        b->cycles = p->cycles;
    }
    scan_cells(p, b);
    scan_temps(p, b, a);
}

/* Capacity-weighted SOC; the mean of pack SOCs only when no pack reports a
 * full capacity. Capped at 100: remaining may exceed full on a fresh BMS. */
static uint8_t bank_soc(const acc_t *a, uint8_t online)
{
    uint64_t soc;
    if (a->full_mah > 0) {
        soc = (a->remaining_mah * 100u + a->full_mah / 2u) / a->full_mah;
    } else {
        soc = (a->soc_pct + online / 2u) / online;
    }
    return soc > 100u ? 100u : (uint8_t)soc;
}

void gw_bank_aggregate(const gw_pack_t *packs, size_t n, gw_bank_t *out)
{
    acc_t a;

    memset(out, 0, sizeof(*out));
    memset(&a, 0, sizeof(a));
    if (packs == NULL) {
        n = 0;
    }
    if (n > GW_MAX_PACKS) {
        n = GW_MAX_PACKS;
    }

    for (size_t i = 0; i < n; i++) {
        const gw_pack_t *p = &packs[i];
        /* A pack with fresh data was necessarily found, whatever the flag says. */
        if (p->present || p->online) {
            out->packs_present++;
            a.installed_mah += p->full_mah;
        }
        if (p->online) {
            add_online_pack(p, out, &a);
        } else if (p->present) {
            out->packs_offline++;
        }
    }

    out->installed_mah = clamp_u32(a.installed_mah);
    out->valid = out->packs_online > 0;
    if (!out->valid) {
        return;
    }
    uint8_t k = out->packs_online;
    out->current_ma = clamp_s32(a.current_ma);
    out->voltage_mv = clamp_u32((a.voltage_mv + k / 2u) / k);
    out->remaining_mah = clamp_u32(a.remaining_mah);
    out->full_mah = clamp_u32(a.full_mah);
    out->soc_pct = bank_soc(&a, k);
    out->soh_pct = (uint8_t)((a.soh_pct + k / 2u) / k);
    if (out->temp_readings > 0) {
        out->avg_temp_dc = (int16_t)div_round_s64(a.temp_dc, out->temp_readings);
    }
}
