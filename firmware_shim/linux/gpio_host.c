/* SPDX-License-Identifier: MIT */
/* GPIO on a host (see gpio_host.h). */
#define _DEFAULT_SOURCE
#include "gpio_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[PLAT_GPIO_COUNT] = {
    "led_green", "led_red", "relay_charge", "relay_discharge", "relay_alarm", "buzzer", "button",
};

const char *gpio_host_name(plat_gpio_t pin)
{
    return (unsigned)pin < PLAT_GPIO_COUNT ? names[pin] : "?";
}

void gpio_host_init(gpio_host_t *g)
{
    memset(g, 0, sizeof *g);
    g->button_fd = -1;
}

/* Writes path.tmp then renames it over path. 0 or errno. */
static int write_status(const gpio_host_t *g)
{
    char tmp[GPIO_HOST_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", g->status_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return errno;
    }
    for (unsigned i = 0; i < PLAT_GPIO_COUNT; i++) {
        if (i != PLAT_GPIO_BUTTON) {
            fprintf(f, "%s=%d\n", names[i], g->out[i] ? 1 : 0);
        }
    }
    int e = ferror(f) ? EIO : 0;
    if (fclose(f) != 0 && e == 0) {
        e = errno;
    }
    if (e == 0 && rename(tmp, g->status_path) != 0) {
        e = errno;
    }
    return e;
}

int gpio_host_set_status_file(gpio_host_t *g, const char *path, char *err, size_t cap)
{
    if (strlen(path) >= sizeof g->status_path) {
        snprintf(err, cap, "%s: path too long", path);
        return -1;
    }
    snprintf(g->status_path, sizeof g->status_path, "%s", path);
    int e = write_status(g);
    if (e != 0) {
        snprintf(err, cap, "%s: cannot write the GPIO status file (%s)", path, strerror(e));
        g->status_path[0] = '\0';
        return -1;
    }
    return 0;
}

int gpio_host_set_button(gpio_host_t *g, const char *path, char *err, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, cap, "%s: button input missing (%s)", path, strerror(errno));
        return -1;
    }
    g->button_fifo = S_ISFIFO(st.st_mode);
    /* O_RDWR on a FIFO keeps a writer open, so it never reads EOF between
     * the echo commands that press and release the button. */
    int fd = open(path, (g->button_fifo ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "%s: cannot open the button input (%s)", path, strerror(errno));
        return -1;
    }
    snprintf(g->button_path, sizeof g->button_path, "%s", path);
    g->button_fd = fd;
    return 0;
}

bool gpio_host_write(gpio_host_t *g, plat_gpio_t pin, bool on)
{
    if ((unsigned)pin >= PLAT_GPIO_COUNT || pin == PLAT_GPIO_BUTTON) {
        return false;
    }
    bool changed = !g->known[pin] || g->out[pin] != on;
    g->known[pin] = true;
    g->out[pin] = on;
    if (changed && g->status_path[0] != '\0' && write_status(g) != 0) {
        g->status_write_errors++;
    }
    return changed;
}

static void read_button(gpio_host_t *g)
{
    char buf[64];
    if (g->button_fifo) {
        ssize_t n;
        while ((n = read(g->button_fd, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '0' || buf[i] == '1') {
                    g->button = buf[i] == '1';
                }
            }
        }
        return;
    }
    if (pread(g->button_fd, buf, 1, 0) == 1) {
        g->button = buf[0] == '1';
    }
}

bool gpio_host_read(gpio_host_t *g, plat_gpio_t pin)
{
    if (pin != PLAT_GPIO_BUTTON || g->button_fd < 0) {
        return false;
    }
    read_button(g);
    return g->button;
}

void gpio_host_close(gpio_host_t *g)
{
    if (g->button_fd >= 0) {
        close(g->button_fd);
    }
    g->button_fd = -1;
}
