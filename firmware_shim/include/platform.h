/* SPDX-License-Identifier: MIT */
/* The platform API: everything the gateway firmware may ask of the world.
 *
 * A port (sim/, linux/, an ESP32 or Cortex-M target) fills a plat_api_t with
 * its functions. Mandatory members must be set; optional ones may be NULL.
 * No call may block: reads return what is there, writes accept what fits. */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAT_CAN_EFF_FLAG 0x80000000u

typedef struct plat_can_frame {
    uint32_t id;       /* 11-bit, or 29-bit | PLAT_CAN_EFF_FLAG */
    uint8_t dlc;       /* 0..8 */
    uint8_t data[8];
} plat_can_frame_t;

typedef enum plat_gpio {
    PLAT_GPIO_LED_GREEN = 0,
    PLAT_GPIO_LED_RED,
    PLAT_GPIO_RELAY_CHARGE,     /* closed = charging allowed */
    PLAT_GPIO_RELAY_DISCHARGE,  /* closed = discharging allowed */
    PLAT_GPIO_RELAY_ALARM,      /* closed = alarm */
    PLAT_GPIO_BUZZER,
    PLAT_GPIO_BUTTON,           /* input: the mode / acknowledge button, true = pressed */
    PLAT_GPIO_COUNT
} plat_gpio_t;

/* Return codes of can_send. */
enum { PLAT_OK = 0, PLAT_E_BUSY = -1, PLAT_E_IO = -2 };

typedef struct plat_api {
    void *ctx; /* passed back to every call */

    /* mandatory: bytes received on UART port since the last call (non-blocking). */
    size_t (*uart_read)(void *ctx, unsigned port, uint8_t *buf, size_t cap);
    /* mandatory: queue bytes for transmission; returns how many were accepted. */
    size_t (*uart_write)(void *ctx, unsigned port, const uint8_t *buf, size_t len);
    /* mandatory: queue a CAN frame; PLAT_OK, PLAT_E_BUSY (retry later) or PLAT_E_IO. */
    int (*can_send)(void *ctx, unsigned bus, const plat_can_frame_t *f);
    /* optional: take one received CAN frame; 1 if one was returned, 0 if none. */
    int (*can_recv)(void *ctx, unsigned bus, plat_can_frame_t *f);
    /* optional: drive an output (LED, relay, buzzer). */
    void (*gpio_write)(void *ctx, plat_gpio_t pin, bool on);
    /* optional: read an input (the button); false when absent. */
    bool (*gpio_read)(void *ctx, plat_gpio_t pin);
    /* optional: one line of log on a state change (no newline). */
    void (*log)(void *ctx, const char *line);
} plat_api_t;

#endif
