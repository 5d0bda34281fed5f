/* SPDX-License-Identifier: MIT */
/* One battery pack as a BMS driver reports it, whatever the family. */
#ifndef GW_PACK_H
#define GW_PACK_H

#include <stdbool.h>
#include <stdint.h>

#define GW_MAX_PACKS 16
#define GW_MAX_CELLS 50
#define GW_MAX_TEMPS 16

/* A pack reading. Set by a BMS driver after a frame passed every check;
 * read by bank aggregation. Units are in the names. */
typedef struct gw_pack {
    bool present;            /* found by the scan (address answers) */
    bool online;             /* fresh data, not timed out */
    uint8_t address;         /* bus address (Topband ADR 0..15) */
    uint8_t cell_count;      /* M */
    uint16_t cell_mv[GW_MAX_CELLS];
    uint8_t temp_count;      /* N (all sensors, incl. BMS/env/MOS) */
    uint8_t cell_temp_count; /* how many of temp_dc[] are cell sensors */
    int16_t temp_dc[GW_MAX_TEMPS]; /* 0.1 degC */
    int32_t current_ma;      /* charge positive */
    uint32_t voltage_mv;
    uint32_t remaining_mah;
    uint32_t full_mah;
    uint16_t cycles;
    uint8_t soc_pct;
    uint8_t soh_pct;
    uint64_t updated_ms;     /* platform time of the last good reading */

    /* What the BMS itself allows or enforces, for families that report it
     * (TinyBMS settings, SuperB); 0 / false when the BMS says nothing. DVCC
     * never sends limits beyond these. */
    bool bms_limits_valid;
    uint32_t bms_max_charge_mv;  /* pack voltage the BMS charges to at most */
    uint16_t bms_ccl_da;         /* charge current the BMS allows, 0.1 A */
    uint16_t bms_dcl_da;         /* discharge current the BMS allows, 0.1 A */
    bool bms_charge_off;         /* the BMS has opened its charge switch */
    bool bms_discharge_off;      /* the BMS has opened its discharge switch */
} gw_pack_t;

/* Counts clamped to the arrays: a driver bug or a corrupted struct must never
 * make a reader index past them. */
static inline uint8_t gw_pack_cells(const gw_pack_t *p)
{
    return p->cell_count > GW_MAX_CELLS ? GW_MAX_CELLS : p->cell_count;
}

/* Cell sensors are the first cell_temp_count of temp_dc[]. */
static inline uint8_t gw_pack_cell_temps(const gw_pack_t *p)
{
    uint8_t n = p->cell_temp_count;
    if (n > p->temp_count) {
        n = p->temp_count;
    }
    return n > GW_MAX_TEMPS ? GW_MAX_TEMPS : n;
}

#endif
