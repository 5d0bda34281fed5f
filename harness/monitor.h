/* SPDX-License-Identifier: MIT */
/* Victron-side monitor: decodes what the gateway sends, as a GX would,
 * with frame timing. Its own decoder, independent of firmware/core. */
#ifndef BENCH_MONITOR_H
#define BENCH_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_GX_ALARMS 13

/* Alarm/warning pair names in 0x35A order, e.g. "high_voltage". */
extern const char *const bench_gx_alarm_names[BENCH_GX_ALARMS];

/* 0x359 flags (Pylon LV CAN protocol V1.2, victron_canbms.md A.4), one bit each in
 * bench_gx_t.pylon_flags. Protections are bytes 0-1, alarms (warnings) bytes 2-3. */
typedef enum bench_pylon_flag {
    BENCH_PYLON_PROT_OVER_VOLTAGE = 0,  /* byte 0 bit 1 */
    BENCH_PYLON_PROT_UNDER_VOLTAGE,     /* byte 0 bit 2 */
    BENCH_PYLON_PROT_OVER_TEMP,         /* byte 0 bit 3 */
    BENCH_PYLON_PROT_UNDER_TEMP,        /* byte 0 bit 4 */
    BENCH_PYLON_PROT_DISCHARGE_OC,      /* byte 0 bit 7 */
    BENCH_PYLON_PROT_CHARGE_OC,         /* byte 1 bit 0 */
    BENCH_PYLON_PROT_SYSTEM_ERROR,      /* byte 1 bit 3 */
    BENCH_PYLON_WARN_HIGH_VOLTAGE,      /* byte 2 bit 1 */
    BENCH_PYLON_WARN_LOW_VOLTAGE,       /* byte 2 bit 2 */
    BENCH_PYLON_WARN_HIGH_TEMP,         /* byte 2 bit 3 */
    BENCH_PYLON_WARN_LOW_TEMP,          /* byte 2 bit 4 */
    BENCH_PYLON_WARN_DISCHARGE_HC,      /* byte 2 bit 7 */
    BENCH_PYLON_WARN_CHARGE_HC,         /* byte 3 bit 0 */
    BENCH_PYLON_WARN_INTERNAL_COMM,     /* byte 3 bit 3 */
    BENCH_PYLON_NFLAGS
} bench_pylon_flag_t;

/* Names in bench_pylon_flag_t order, e.g. "protection_over_voltage". */
extern const char *const bench_pylon_flag_names[BENCH_PYLON_NFLAGS];

typedef struct bench_gx {
    /* 0x351 */
    double cvl_v, ccl_a, dcl_a, dvl_v;
    /* 0x355 */
    double soc_pct, soh_pct;
    /* 0x356 */
    double voltage_v, current_a, temperature_c;
    /* 0x35A: 0 unsupported, 1 active, 2 ok, 3 reserved */
    uint8_t alarm[BENCH_GX_ALARMS], warning[BENCH_GX_ALARMS];
    /* 0x35C */
    uint8_t request_flags;
    /* 0x359 (Pylontech protection/alarm flags, A.4): BENCH_PYLON_* bits */
    bool seen_359;
    uint32_t pylon_flags;
    uint8_t pylon_raw[4];        /* bytes 0..3 as received (unused bits kept, for deviations) */
    unsigned pylon_modules;      /* byte 4, when present */
    char pylon_tag[3];           /* bytes 5..6 as sent ("PN" per the spec), "" when absent */
    /* 0x35E, 0x370/0x371, 0x382 (NUL-terminated) */
    char manufacturer[9], name[17], family[9];
    /* 0x35F */
    uint16_t battery_type; uint8_t fw_major, fw_minor; double capacity_ah;
    /* 0x372 */
    unsigned modules_online, modules_blocking_charge, modules_blocking_discharge, modules_offline;
    /* 0x373 */
    double min_cell_v, max_cell_v, min_temp_c, max_temp_c;
    /* 0x374..0x377 */
    char min_v_id[9], max_v_id[9], min_t_id[9], max_t_id[9];
    /* 0x379 */
    double installed_ah;
    /* timing */
    bool seen_351;
    uint64_t first_us, last_351_us;
    uint64_t max_gap_351_us;     /* longest gap between two 0x351 */
    uint64_t frames;             /* all frames fed */
    uint64_t frames_known;       /* decoded */
    uint64_t frames_malformed;   /* known id, too short (counted, dropped) */
    uint32_t count_by_id[0x800]; /* 11-bit ids */
    /* Frame-set checks, made when 0x359 closes a set (the gateway sends it
     * last), so 0x351, 0x35A and 0x35C of the same set are compared: */
    uint32_t sets;               /* sets closed with 0x351, 0x35A and 0x35C seen */
    uint32_t ccl_changes, dcl_changes; /* sets whose CCL / DCL differ from the set before */
    uint32_t mismatch_35c;       /* sets where a 0x35C enable bit disagrees with CCL/DCL > 0 */
    uint32_t ccl_rise_blocked;   /* sets whose CCL rose while a charge-blocking alarm was active */
    uint32_t dcl_rise_blocked;   /* the same for DCL and discharge-blocking alarms */
    double set_prev_ccl_a, set_prev_dcl_a; /* private */
} bench_gx_t;

void bench_gx_init(bench_gx_t *gx);
/* Feed one frame seen on the bus. Returns 0 decoded, 1 not a Victron BMS id
 * (ignored), -1 malformed (too short for its id; nothing updated).
 * id carries SocketCAN flags: 29-bit (0x80000000), remote (0x40000000) and error
 * (0x20000000) frames are ignored (1), as Venus does. A raw DLC 9..15 counts as 8;
 * data NULL counts as no data. Minimum DLCs: Victron's check script (0x351 6, 0x355 4,
 * 0x356 6, 0x35A 8, 0x35F 6, 0x372/0x373 8, 0x374-0x377/0x379 2), text frames and 0x35C 1;
 * 0x359 4 (its four flag bytes; module count and "PN" are read when present).
 * frames counts every call, count_by_id every 11-bit frame (also unknown or malformed
 * ones); timing uses decoded 0x351 only. 0x373 temperatures: degC = K - 273. */
int bench_gx_feed(bench_gx_t *gx, uint32_t id, uint8_t dlc, const uint8_t *data, uint64_t t_us);

/* Describe one frame for `bmsbench decode victron`: JSON (json = true, one
 * object, keys "id", "name", then the fields with their unit in the name) or a
 * short text line "0x351 limits: cvl_v=55.2 ...". Numbers carry the field's
 * resolution. Returns 0, or -1 with a reason in out when the frame is invalid
 * (unknown id, too short, 29-bit, remote) or out is too small. */
int bench_victron_describe(uint32_t id, uint8_t dlc, const uint8_t *data, bool json, char *out,
                           size_t cap);

#endif
