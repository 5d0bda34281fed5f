/* SPDX-License-Identifier: MIT */
/* The CAN frame as the gateway core sees it: classic CAN 2.0A/B, up to 8 bytes. */
#ifndef GW_CAN_H
#define GW_CAN_H

#include <stdint.h>

#define GW_CAN_EFF_FLAG 0x80000000u /* 29-bit identifier (same bit as SocketCAN) */

typedef struct gw_can_frame {
    uint32_t id;      /* 11-bit id, or 29-bit id | GW_CAN_EFF_FLAG */
    uint8_t dlc;      /* 0..8 */
    uint8_t data[8];
} gw_can_frame_t;

#endif
