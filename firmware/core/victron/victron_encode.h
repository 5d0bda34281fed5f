/* SPDX-License-Identifier: MIT */
/* Victron CAN-BMS encoder: the frame set a GX reads, little-endian,
 * 500 kbit/s, 11-bit ids (victron_canbms.md A.2). */
#ifndef GW_VICTRON_ENCODE_H
#define GW_VICTRON_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include "bank/bank.h"
#include "dvcc/limits.h"
#include "gw_can.h"

/* CAN ids, one table. */
enum {
    GW_VIC_LIMITS = 0x351, GW_VIC_SOC = 0x355, GW_VIC_MEAS = 0x356, GW_VIC_ALARMS = 0x35A,
    GW_VIC_REQUEST = 0x35C, GW_VIC_MANUF = 0x35E, GW_VIC_INFO = 0x35F, GW_VIC_NAME1 = 0x370,
    GW_VIC_NAME2 = 0x371, GW_VIC_MODULES = 0x372, GW_VIC_CELLS = 0x373, GW_VIC_MIN_V_ID = 0x374,
    GW_VIC_MAX_V_ID = 0x375, GW_VIC_MIN_T_ID = 0x376, GW_VIC_MAX_T_ID = 0x377,
    GW_VIC_CAPACITY = 0x379, GW_VIC_FAMILY = 0x382,
    GW_VIC_PROTECT = 0x359, /* Pylontech protection/alarm, not in the default set */
};

#define GW_VIC_FRAME_COUNT 17
#define GW_VIC_FRAME_COUNT_NO_CELLS 12 /* without 0x373..0x377 */

typedef struct gw_victron_ident {
    char manufacturer[9];  /* 0x35E, padded with NUL, e.g. "BMSBENCH" */
    char bms_name[17];     /* 0x370/0x371 */
    char family[9];        /* 0x382 */
    uint16_t battery_type; /* 0x35F bytes 0-1 */
    uint8_t fw_major, fw_minor; /* 0x35F bytes 2-3 */
} gw_victron_ident_t;

void gw_victron_ident_default(gw_victron_ident_t *id);

/* Encode the whole set in transmit order (0x351 first). Returns the number
 * of frames written: GW_VIC_FRAME_COUNT with cell and temperature readings;
 * without cell readings 0x373-0x377 are left out, without temperatures
 * 0x376/0x377. Returns 0 if cap is smaller than GW_VIC_FRAME_COUNT. */
size_t gw_victron_encode(const gw_bank_t *bank, const gw_limits_t *lim,
                         const gw_victron_ident_t *id, gw_can_frame_t *out, size_t cap);

/* 0x359, Pylon LV CAN V1.2 (victron_canbms.md A.4), derived from the 0x35A
 * pairs so the two frames never disagree: alarms -> protection bytes 0-1,
 * warnings -> bytes 2-3; plain 1 = active bits.
 *   byte 0: bit1 high voltage, bit2 low voltage, bit3 high temperature
 *           (discharge or charge), bit4 low temperature (discharge or charge),
 *           bit7 high discharge current
 *   byte 1: bit0 high charge current, bit3 system error (BMS internal)
 *   byte 2/3: the same bits from the warnings (byte 3 bit3 = internal
 *           communication failure = BMS internal warning)
 *   byte 4: modules (packs online, clamped to 255); bytes 5-6 'P' 'N'; byte 7 0.
 * With the DVCC engine an active protection bit implies the limit it stops is
 * 0 (engine.h). Kept out of gw_victron_encode()'s set so existing captures and
 * frame counts stay as they are; the gateway appends it when configured. */
void gw_victron_encode_359(const gw_limits_t *lim, uint8_t modules, gw_can_frame_t *out);

#endif
