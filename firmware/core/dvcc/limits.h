/* SPDX-License-Identifier: MIT */
/* What the DVCC/protection logic decides, in Victron units. */
#ifndef GW_LIMITS_H
#define GW_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

/* Room for one reason text incl. its NUL ("CCL 100.0 A: pack 16 cell 32 at 3.48 V" is 38). */
#define GW_WHY_LEN 48

/* The 0x35A pairs in wire order (byte 0 bits 0-1 first). */
typedef enum gw_alarm_id {
    GW_AL_GENERAL = 0,
    GW_AL_HIGH_VOLTAGE,
    GW_AL_LOW_VOLTAGE,
    GW_AL_HIGH_TEMP,
    GW_AL_LOW_TEMP,
    GW_AL_HIGH_TEMP_CHARGE,
    GW_AL_LOW_TEMP_CHARGE,
    GW_AL_HIGH_DISCHARGE_CURRENT,
    GW_AL_HIGH_CHARGE_CURRENT,
    GW_AL_CONTACTOR,
    GW_AL_SHORT_CIRCUIT,
    GW_AL_BMS_INTERNAL,
    GW_AL_CELL_IMBALANCE,
    GW_AL_COUNT
} gw_alarm_id_t;

/* 2-bit pair value on the wire. */
typedef enum gw_pair {
    GW_PAIR_UNSUPPORTED = 0,
    GW_PAIR_ACTIVE = 1,
    GW_PAIR_OK = 2,
} gw_pair_t;

typedef struct gw_limits {
    uint16_t cvl_dv;     /* charge voltage limit, 0.1 V (never 0) */
    uint16_t ccl_da;     /* charge current limit, 0.1 A */
    uint16_t dcl_da;     /* discharge current limit, 0.1 A */
    uint16_t dvl_dv;     /* discharge voltage limit, 0.1 V */
    uint8_t alarm[GW_AL_COUNT];    /* gw_pair_t */
    uint8_t warning[GW_AL_COUNT];  /* gw_pair_t */
    uint8_t packs_blocking_charge;
    uint8_t packs_blocking_discharge;
    const char *ccl_reason;        /* static string: why CCL has its value */
    const char *dcl_reason;
    /* Added: the full explanation of each limit, NUL-terminated, e.g.
     * "CCL 12.5 A: cell 7 at 3.48 V". Filled by the DVCC engine; empty
     * ("") when the baseline decided. ccl_reason/dcl_reason stay short
     * static categories so a change of cause is a pointer compare. */
    char cvl_why[GW_WHY_LEN];
    char ccl_why[GW_WHY_LEN];
    char dcl_why[GW_WHY_LEN];
} gw_limits_t;

#endif
