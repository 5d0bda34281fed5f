/* SPDX-License-Identifier: MIT */
/* Bank aggregation: packs in parallel seen as one battery. */
#ifndef GW_BANK_H
#define GW_BANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bank/pack.h"

typedef struct gw_bank {
    bool valid;                  /* at least one pack online */
    uint8_t packs_present;       /* found by the scan */
    uint8_t packs_online;
    uint8_t packs_offline;       /* present but not online */
    uint8_t min_cell_count;      /* over online packs (CVL uses the smallest) */
    uint8_t max_cell_count;
    int32_t current_ma;          /* sum */
    uint32_t voltage_mv;         /* mean of online packs */
    uint32_t remaining_mah;      /* sum */
    uint32_t full_mah;           /* sum */
    uint8_t soc_pct;             /* capacity-weighted: sum(remaining)/sum(full) */
    uint8_t soh_pct;             /* mean */
    uint16_t cycles;             /* max over packs */
    uint16_t min_cell_mv, max_cell_mv;
    uint8_t min_cell_pack, min_cell_index;  /* pack address, 0-based cell */
    uint8_t max_cell_pack, max_cell_index;
    int16_t min_temp_dc, max_temp_dc;       /* over cell sensors */
    uint8_t min_temp_pack, min_temp_index;
    uint8_t max_temp_pack, max_temp_index;
    int16_t avg_temp_dc;                    /* mean of cell sensors */
    /* Added: how many readings the extremes above were taken from. 0 means
     * "no data" (the min/max fields are then 0 and must not be trusted). */
    uint16_t cell_readings;                 /* non-zero cell voltages seen */
    uint16_t temp_readings;                 /* cell temperature sensors seen */
    uint32_t installed_mah;                 /* sum of full over present packs (incl. offline) */
} gw_bank_t;

/* Aggregate packs[0..n) (only those online). out is fully rewritten. */
void gw_bank_aggregate(const gw_pack_t *packs, size_t n, gw_bank_t *out);

#endif
