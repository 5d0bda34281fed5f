/* SPDX-License-Identifier: MIT */
/* The platform API on real devices (see plat_linux.h). */
#include "plat_linux.h"

#include <stdarg.h>
#include <string.h>
#include "host_clock.h"

#define OWNER_CAN 16 /* fd_owner: UART i is i, CAN bus b is OWNER_CAN + b */

static void uart_name(const plat_linux_uart_t *u, unsigned port, char *out, size_t cap)
{
    char spec[DEV_SPEC_TEXT_MAX + 32];
    serial_spec_format(&u->spec, spec, sizeof spec);
    snprintf(out, cap, "uart%u %s", port, spec);
}

static void can_name(const plat_linux_can_t *c, unsigned bus, char *out, size_t cap)
{
    char spec[DEV_SPEC_TEXT_MAX + 48];
    can_spec_format(&c->spec, spec, sizeof spec);
    snprintf(out, cap, "can%u %s", bus, spec);
}

void plat_linux_logf(plat_linux_t *p, const char *fmt, ...)
{
    char stamp[40], line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    host_clock_stamp(stamp, sizeof stamp);
    fprintf(p->log, "%s %s\n", stamp, line);
    fflush(p->log);
}

/* ---- plat_api_t members ---- */

static size_t lx_uart_read(void *ctx, unsigned port, uint8_t *buf, size_t cap)
{
    plat_linux_t *p = ctx;
    if (port >= PLAT_LINUX_UARTS) {
        return 0;
    }
    plat_linux_uart_t *u = &p->uart[port];
    size_t n = u->rx_len < cap ? u->rx_len : cap;
    memcpy(buf, u->rx, n);
    memmove(u->rx, u->rx + n, u->rx_len - n);
    u->rx_len -= n;
    return n;
}

static size_t lx_uart_write(void *ctx, unsigned port, const uint8_t *buf, size_t len)
{
    plat_linux_t *p = ctx;
    if (port >= PLAT_LINUX_UARTS || !p->uart[port].used) {
        return 0;
    }
    return serial_write(&p->uart[port].port, buf, len);
}

static int lx_can_send(void *ctx, unsigned bus, const plat_can_frame_t *f)
{
    plat_linux_t *p = ctx;
    if (bus >= PLAT_LINUX_BUSES || !p->can[bus].used) {
        return PLAT_E_IO;
    }
    plat_linux_can_t *c = &p->can[bus];
    if (c->spec.kind == CAN_SPEC_SLCAN) {
        return slcan_send(&c->slcan, f);
    }
    return can_socket_send(&c->sock, f);
}

static int lx_can_recv(void *ctx, unsigned bus, plat_can_frame_t *f)
{
    plat_linux_t *p = ctx;
    if (bus >= PLAT_LINUX_BUSES || !p->can[bus].used) {
        return 0;
    }
    plat_linux_can_t *c = &p->can[bus];
    if (c->spec.kind == CAN_SPEC_SLCAN) {
        return slcan_recv(&c->slcan, f);
    }
    if (c->rxq_len == 0) {
        return 0;
    }
    *f = c->rxq[c->rxq_head];
    c->rxq_head = (c->rxq_head + 1u) % PLAT_LINUX_CAN_RXQ;
    c->rxq_len--;
    return 1;
}

static void lx_gpio_write(void *ctx, plat_gpio_t pin, bool on)
{
    plat_linux_t *p = ctx;
    if (gpio_host_write(&p->gpio, pin, on)) {
        plat_linux_logf(p, "gpio %s %s", gpio_host_name(pin), on ? "on" : "off");
    }
}

static bool lx_gpio_read(void *ctx, plat_gpio_t pin)
{
    plat_linux_t *p = ctx;
    return gpio_host_read(&p->gpio, pin);
}

static void lx_log(void *ctx, const char *line)
{
    plat_linux_logf(ctx, "%s", line);
}

static size_t slcan_write_cb(void *ctx, const uint8_t *buf, size_t len)
{
    plat_linux_can_t *c = ctx;
    return serial_write(&c->ser, buf, len);
}

/* ---- binding ---- */

void plat_linux_init(plat_linux_t *p, FILE *log)
{
    memset(p, 0, sizeof *p);
    p->log = log != NULL ? log : stderr;
    for (unsigned i = 0; i < PLAT_LINUX_UARTS; i++) {
        serial_init(&p->uart[i].port);
    }
    for (unsigned i = 0; i < PLAT_LINUX_BUSES; i++) {
        can_socket_init(&p->can[i].sock);
        serial_init(&p->can[i].ser);
        slcan_init(&p->can[i].slcan, slcan_write_cb, &p->can[i]);
    }
    gpio_host_init(&p->gpio);
    p->api.ctx = p;
    p->api.uart_read = lx_uart_read;
    p->api.uart_write = lx_uart_write;
    p->api.can_send = lx_can_send;
    p->api.can_recv = lx_can_recv;
    p->api.gpio_write = lx_gpio_write;
    p->api.gpio_read = lx_gpio_read;
    p->api.log = lx_log;
}

int plat_linux_add_uart(plat_linux_t *p, unsigned port, const serial_spec_t *spec,
                        uint32_t default_baud, char *err, size_t cap)
{
    if (port >= PLAT_LINUX_UARTS || p->uart[port].used) {
        snprintf(err, cap, "uart%u: no such port, or bound twice", port);
        return -1;
    }
    plat_linux_uart_t *u = &p->uart[port];
    u->spec = *spec;
    u->baud = spec->baud != 0 ? spec->baud : default_baud;
    if (serial_open(&u->port, spec, u->baud, err, cap) != SERIAL_OK) {
        return -1;
    }
    u->used = true;
    return 0;
}

int plat_linux_add_can(plat_linux_t *p, unsigned bus, const can_spec_t *spec,
                       uint32_t default_bitrate, char *err, size_t cap)
{
    if (bus >= PLAT_LINUX_BUSES || p->can[bus].used) {
        snprintf(err, cap, "can%u: no such bus, or bound twice", bus);
        return -1;
    }
    plat_linux_can_t *c = &p->can[bus];
    c->spec = *spec;
    if (spec->kind == CAN_SPEC_SOCKETCAN) {
        c->bitrate = spec->bitrate;
        if (can_socket_open(&c->sock, spec->ifname, c->bitrate, err, cap) != 0) {
            return -1;
        }
        c->used = true;
        return 0;
    }
    c->bitrate = spec->bitrate != 0 ? spec->bitrate : default_bitrate;
    char name[DEV_SPEC_TEXT_MAX + 64];
    can_name(c, bus, name, sizeof name);
    if (slcan_bitrate_code(c->bitrate) < 0) {
        snprintf(err, cap, "%s: SLCAN has no code for %u bit/s (10k 20k 50k 100k 125k 250k 500k "
                 "800k 1M)", name, (unsigned)c->bitrate);
        return -1;
    }
    uint32_t baud = spec->serial.baud != 0 ? spec->serial.baud : PLAT_LINUX_SLCAN_BAUD;
    if (serial_open(&c->ser, &spec->serial, baud, err, cap) != SERIAL_OK) {
        return -1;
    }
    c->used = true;
    c->slcan_seen = SLCAN_CLOSED;
    p->now_ms = host_clock_ms();
    (void)slcan_open(&c->slcan, c->bitrate, p->now_ms);
    return 0;
}

size_t plat_linux_pollfds(plat_linux_t *p, struct pollfd *fds, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < PLAT_LINUX_UARTS && n < cap; i++) {
        serial_port_t *s = &p->uart[i].port;
        if (p->uart[i].used && s->fd >= 0) {
            fds[n] = (struct pollfd){s->fd, (short)(POLLIN | (serial_wants_write(s) ? POLLOUT : 0)), 0};
            p->fd_owner[n++] = (int)i;
        }
    }
    for (unsigned b = 0; b < PLAT_LINUX_BUSES && n < cap; b++) {
        plat_linux_can_t *c = &p->can[b];
        if (!c->used) {
            continue;
        }
        if (c->spec.kind == CAN_SPEC_SLCAN && c->ser.fd >= 0) {
            fds[n] = (struct pollfd){c->ser.fd,
                                     (short)(POLLIN | (serial_wants_write(&c->ser) ? POLLOUT : 0)), 0};
            p->fd_owner[n++] = OWNER_CAN + (int)b;
        } else if (c->spec.kind == CAN_SPEC_SOCKETCAN && c->sock.fd >= 0) {
            fds[n] = (struct pollfd){c->sock.fd, POLLIN, 0};
            p->fd_owner[n++] = OWNER_CAN + (int)b;
        }
    }
    return n;
}

static void lost(plat_linux_t *p, const char *name, const char *why, uint64_t *retry_ms)
{
    plat_linux_logf(p, "%s: %s; reopening every %u ms", name, why[0] ? why : "device lost",
                    PLAT_LINUX_REOPEN_MS);
    *retry_ms = p->now_ms + PLAT_LINUX_REOPEN_MS;
}

/* Reads everything waiting on a serial line into buf; a hang-up closes it. */
static bool drain_serial(plat_linux_t *p, serial_port_t *s, short revents, const char *name,
                         uint64_t *retry_ms, uint8_t *buf, size_t *len, size_t cap,
                         uint64_t *dropped)
{
    char why[160] = "";
    bool got = false;
    if ((revents & POLLOUT) != 0) {
        serial_flush(s, why, sizeof why);
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && s->fd >= 0) {
        for (;;) {
            uint8_t chunk[512];
            size_t n = serial_read(s, chunk, sizeof chunk, why, sizeof why);
            if (n == 0) {
                break;
            }
            got = true;
            size_t room = cap - *len;
            size_t take = n < room ? n : room;
            memcpy(buf + *len, chunk, take);
            *len += take;
            *dropped += n - take;
        }
        /* A hung-up tty (unplugged USB adapter) polls readable and reads 0. */
        if (s->fd >= 0 && (revents & (POLLHUP | POLLERR)) != 0 && !got) {
            snprintf(why, sizeof why, "device lost (hang-up)");
            serial_hangup(s);
        }
    }
    if (s->fd < 0) {
        lost(p, name, why, retry_ms);
    }
    return got;
}

static void log_slcan_state(plat_linux_t *p, plat_linux_can_t *c, unsigned bus)
{
    if (c->slcan.state == c->slcan_seen) {
        return;
    }
    c->slcan_seen = c->slcan.state;
    char name[DEV_SPEC_TEXT_MAX + 64];
    can_name(c, bus, name, sizeof name);
    if (c->slcan.state == SLCAN_OPEN) {
        plat_linux_logf(p, "%s: SLCAN open at %u bit/s", name, (unsigned)c->bitrate);
    } else if (c->slcan.state == SLCAN_FAILED) {
        plat_linux_logf(p, "%s: %s", name, c->slcan.error);
        c->retry_ms = p->now_ms + PLAT_LINUX_REOPEN_MS;
    }
}

static bool service_can(plat_linux_t *p, unsigned b, short revents)
{
    plat_linux_can_t *c = &p->can[b];
    char name[DEV_SPEC_TEXT_MAX + 64];
    can_name(c, b, name, sizeof name);
    if (c->spec.kind == CAN_SPEC_SLCAN) {
        uint8_t buf[1024];
        size_t len = 0;
        uint64_t dropped = 0;
        bool got = drain_serial(p, &c->ser, revents, name, &c->retry_ms, buf, &len, sizeof buf,
                                &dropped);
        slcan_feed(&c->slcan, buf, len, p->now_ms);
        if (c->ser.fd < 0) {
            slcan_close(&c->slcan);
            c->slcan_seen = SLCAN_CLOSED;
        }
        log_slcan_state(p, c, b);
        return got;
    }
    bool got = false;
    plat_can_frame_t f;
    while (can_socket_recv(&c->sock, &f) == 1) {
        got = true;
        if (c->rxq_len == PLAT_LINUX_CAN_RXQ) {
            c->rx_dropped++;
            continue;
        }
        c->rxq[(c->rxq_head + c->rxq_len) % PLAT_LINUX_CAN_RXQ] = f;
        c->rxq_len++;
    }
    if ((revents & POLLERR) != 0 && !got) {
        plat_linux_logf(p, "%s: socket error (interface down?)", name);
    }
    return got;
}

bool plat_linux_service(plat_linux_t *p, const struct pollfd *fds, size_t n, uint64_t now_ms)
{
    p->now_ms = now_ms;
    bool got = false;
    for (size_t i = 0; i < n && i < PLAT_LINUX_MAX_FDS; i++) {
        if (fds[i].revents == 0) {
            continue;
        }
        int owner = p->fd_owner[i];
        if (owner < OWNER_CAN) {
            plat_linux_uart_t *u = &p->uart[owner];
            char name[DEV_SPEC_TEXT_MAX + 48];
            uart_name(u, (unsigned)owner, name, sizeof name);
            got |= drain_serial(p, &u->port, fds[i].revents, name, &u->retry_ms, u->rx,
                                &u->rx_len, sizeof u->rx, &u->rx_dropped);
        } else {
            got |= service_can(p, (unsigned)(owner - OWNER_CAN), fds[i].revents);
        }
    }
    return got;
}

static void reopen_uart(plat_linux_t *p, unsigned i)
{
    plat_linux_uart_t *u = &p->uart[i];
    char err[256];
    if (serial_open(&u->port, &u->spec, u->baud, err, sizeof err) == SERIAL_OK) {
        char name[DEV_SPEC_TEXT_MAX + 48];
        uart_name(u, i, name, sizeof name);
        plat_linux_logf(p, "%s: reopened (%s)", name, u->port.name);
        u->rx_len = 0;
    } else {
        u->retry_ms = p->now_ms + PLAT_LINUX_REOPEN_MS;
    }
}

static void tick_can(plat_linux_t *p, unsigned b)
{
    plat_linux_can_t *c = &p->can[b];
    char name[DEV_SPEC_TEXT_MAX + 64];
    can_name(c, b, name, sizeof name);
    if (c->spec.kind == CAN_SPEC_SOCKETCAN) {
        if (can_socket_check(&c->sock, p->now_ms)) {
            char d[128];
            can_socket_describe(&c->sock, d, sizeof d);
            plat_linux_logf(p, "can%u %s", b, d);
        }
        return;
    }
    if (c->ser.fd < 0 && p->now_ms >= c->retry_ms) {
        char err[256];
        uint32_t baud = c->spec.serial.baud != 0 ? c->spec.serial.baud : PLAT_LINUX_SLCAN_BAUD;
        if (serial_open(&c->ser, &c->spec.serial, baud, err, sizeof err) != SERIAL_OK) {
            c->retry_ms = p->now_ms + PLAT_LINUX_REOPEN_MS;
            return;
        }
        plat_linux_logf(p, "%s: reopened (%s)", name, c->ser.name);
        (void)slcan_open(&c->slcan, c->bitrate, p->now_ms);
    } else if (c->slcan.state == SLCAN_FAILED && c->ser.fd >= 0 && p->now_ms >= c->retry_ms) {
        (void)slcan_open(&c->slcan, c->bitrate, p->now_ms);
        c->slcan_seen = SLCAN_OPENING;
    }
    slcan_poll(&c->slcan, p->now_ms);
    log_slcan_state(p, c, b);
}

void plat_linux_tick(plat_linux_t *p, uint64_t now_ms)
{
    p->now_ms = now_ms;
    for (unsigned i = 0; i < PLAT_LINUX_UARTS; i++) {
        plat_linux_uart_t *u = &p->uart[i];
        if (u->used && u->port.fd < 0 && now_ms >= u->retry_ms) {
            reopen_uart(p, i);
        }
    }
    for (unsigned b = 0; b < PLAT_LINUX_BUSES; b++) {
        if (p->can[b].used) {
            tick_can(p, b);
        }
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t plat_linux_deadline(const plat_linux_t *p)
{
    uint64_t d = UINT64_MAX;
    for (unsigned i = 0; i < PLAT_LINUX_UARTS; i++) {
        if (p->uart[i].used && p->uart[i].port.fd < 0) {
            d = min_u64(d, p->uart[i].retry_ms);
        }
    }
    for (unsigned b = 0; b < PLAT_LINUX_BUSES; b++) {
        const plat_linux_can_t *c = &p->can[b];
        if (!c->used) {
            continue;
        }
        if (c->spec.kind == CAN_SPEC_SOCKETCAN) {
            d = min_u64(d, can_socket_deadline(&c->sock));
        } else if (c->ser.fd < 0 || c->slcan.state == SLCAN_FAILED) {
            d = min_u64(d, c->retry_ms);
        } else {
            d = min_u64(d, slcan_deadline(&c->slcan));
        }
    }
    return d;
}

int plat_linux_wait_ready(plat_linux_t *p, char *err, size_t cap)
{
    uint64_t start = host_clock_ms();
    for (;;) {
        uint64_t now = host_clock_ms();
        p->now_ms = now;
        bool waiting = false;
        for (unsigned b = 0; b < PLAT_LINUX_BUSES; b++) {
            plat_linux_can_t *c = &p->can[b];
            if (!c->used || c->spec.kind != CAN_SPEC_SLCAN) {
                continue;
            }
            slcan_poll(&c->slcan, now);
            char name[DEV_SPEC_TEXT_MAX + 64];
            can_name(c, b, name, sizeof name);
            if (c->slcan.state == SLCAN_FAILED || c->ser.fd < 0) {
                snprintf(err, cap, "%s: %s", name,
                         c->ser.fd < 0 ? "device lost during SLCAN set-up" : c->slcan.error);
                return -1;
            }
            waiting |= c->slcan.state != SLCAN_OPEN;
        }
        if (!waiting) {
            for (unsigned b = 0; b < PLAT_LINUX_BUSES; b++) {
                if (p->can[b].used && p->can[b].spec.kind == CAN_SPEC_SLCAN) {
                    log_slcan_state(p, &p->can[b], b);
                }
            }
            return 0;
        }
        if (now - start > 4u * SLCAN_REPLY_TIMEOUT_MS) {
            snprintf(err, cap, "SLCAN set-up did not finish");
            return -1;
        }
        struct pollfd fds[PLAT_LINUX_MAX_FDS];
        size_t n = plat_linux_pollfds(p, fds, PLAT_LINUX_MAX_FDS);
        if (poll(fds, n, 50) > 0) {
            /* Only the SLCAN lines matter here; UART bytes wait in their buffers. */
            (void)plat_linux_service(p, fds, n, host_clock_ms());
        }
    }
}

void plat_linux_close(plat_linux_t *p)
{
    for (unsigned b = 0; b < PLAT_LINUX_BUSES; b++) {
        plat_linux_can_t *c = &p->can[b];
        if (c->spec.kind == CAN_SPEC_SLCAN && c->ser.fd >= 0) {
            slcan_close(&c->slcan);
            serial_flush(&c->ser, NULL, 0);
        }
        serial_close(&c->ser);
        can_socket_close(&c->sock);
        c->used = false;
    }
    for (unsigned i = 0; i < PLAT_LINUX_UARTS; i++) {
        serial_close(&p->uart[i].port);
        p->uart[i].used = false;
    }
    gpio_host_close(&p->gpio);
}
