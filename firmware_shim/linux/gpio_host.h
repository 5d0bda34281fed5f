/* SPDX-License-Identifier: MIT */
/* GPIO on a host without pins: outputs (LEDs, relays, buzzer) become state
 * lines in the log and, optionally, a status file rewritten on each change
 * ("relay_charge=1" per line, replaced atomically so readers never see half
 * a file); the button is read from a FIFO ("1" pressed, "0" released, the
 * last one wins) or from a regular file whose first byte is '1' or '0'. */
#ifndef GPIO_HOST_H
#define GPIO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include "platform.h"

#define GPIO_HOST_PATH_MAX 256u

typedef struct gpio_host {
    bool out[PLAT_GPIO_COUNT];        /* read-only: outputs as last written */
    bool known[PLAT_GPIO_COUNT];      /* read-only: written at least once */
    bool button;                      /* read-only: last button state read */
    uint64_t status_write_errors;     /* read-only */
    /* private */
    char status_path[GPIO_HOST_PATH_MAX];
    char button_path[GPIO_HOST_PATH_MAX];
    int button_fd;
    bool button_fifo;
} gpio_host_t;

void gpio_host_init(gpio_host_t *g);
/* Writes the status file once now, so a bad path fails at start-up. 0 or -1 + err. */
int gpio_host_set_status_file(gpio_host_t *g, const char *path, char *err, size_t cap);
/* 0 or -1 + err naming the path. */
int gpio_host_set_button(gpio_host_t *g, const char *path, char *err, size_t cap);
/* Sets an output; true when its state changed (the caller logs it). */
bool gpio_host_write(gpio_host_t *g, plat_gpio_t pin, bool on);
bool gpio_host_read(gpio_host_t *g, plat_gpio_t pin);
/* "led_green", "relay_charge", ...; "?" out of range. */
const char *gpio_host_name(plat_gpio_t pin);
void gpio_host_close(gpio_host_t *g);

#endif
