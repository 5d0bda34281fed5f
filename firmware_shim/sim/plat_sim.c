/* SPDX-License-Identifier: MIT */
/* The platform API bound to the simulator (see plat_sim.h). */
#include "plat_sim.h"

#include <string.h>

static size_t sim_uart_read(void *ctx, unsigned port, uint8_t *buf, size_t cap)
{
    plat_sim_t *p = ctx;
    if (port != 0 || p->uart == NULL) {
        return 0;
    }
    return sim_wire_read(p->uart, p->uart_end, buf, cap);
}

static size_t sim_uart_write(void *ctx, unsigned port, const uint8_t *buf, size_t len)
{
    plat_sim_t *p = ctx;
    if (port != 0 || p->uart == NULL) {
        return 0;
    }
    return sim_wire_write(p->uart, p->uart_end, buf, len);
}

static int sim_can_send(void *ctx, unsigned bus, const plat_can_frame_t *f)
{
    plat_sim_t *p = ctx;
    if (bus != 0 || p->bus == NULL || f->dlc > 8) {
        return PLAT_E_IO;
    }
    sim_can_frame_t sf;
    sf.id = f->id;
    sf.dlc = f->dlc;
    memcpy(sf.data, f->data, sizeof sf.data);
    if (sim_canbus_send(p->bus, p->can_node, &sf) != 0) {
        /* Like a real controller with a full mailbox: the caller retries later. */
        p->tx_refused++;
        return PLAT_E_BUSY;
    }
    return PLAT_OK;
}

static int sim_can_recv(void *ctx, unsigned bus, plat_can_frame_t *f)
{
    plat_sim_t *p = ctx;
    if (bus != 0 || p->rxq_len == 0) {
        return 0;
    }
    *f = p->rxq[p->rxq_head];
    p->rxq_head = (p->rxq_head + 1) % PLAT_SIM_RXQ;
    p->rxq_len--;
    return 1;
}

static void sim_gpio_write(void *ctx, plat_gpio_t pin, bool on)
{
    plat_sim_t *p = ctx;
    if ((unsigned)pin < PLAT_GPIO_COUNT) {
        p->gpio[pin] = on;
    }
}

static void sim_log(void *ctx, const char *line)
{
    plat_sim_t *p = ctx;
    if (p->log_fn != NULL) {
        p->log_fn(p->log_ctx, p->sched->now_us, line);
    }
}

/* CAN bus delivers a frame to our node: queue it for can_recv. */
static void sim_can_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    plat_sim_t *p = ctx;
    (void)t_us;
    if (p->rxq_len == PLAT_SIM_RXQ) {
        p->rx_dropped++;
        return;
    }
    plat_can_frame_t *d = &p->rxq[(p->rxq_head + p->rxq_len) % PLAT_SIM_RXQ];
    d->id = f->id;
    d->dlc = f->dlc;
    memcpy(d->data, f->data, sizeof d->data);
    p->rxq_len++;
}

int plat_sim_init(plat_sim_t *p, sim_sched_t *s, sim_wire_t *uart, int end, sim_canbus_t *bus)
{
    memset(p, 0, sizeof *p);
    p->sched = s;
    p->uart = uart;
    p->uart_end = end;
    p->bus = bus;
    p->can_node = -1;
    if (bus != NULL) {
        p->can_node = sim_canbus_attach(bus, sim_can_rx, p);
        if (p->can_node < 0) {
            return -1;
        }
    }
    p->api.ctx = p;
    p->api.uart_read = sim_uart_read;
    p->api.uart_write = sim_uart_write;
    p->api.can_send = sim_can_send;
    p->api.can_recv = sim_can_recv;
    p->api.gpio_write = sim_gpio_write;
    p->api.log = sim_log;
    return 0;
}

void plat_sim_set_log(plat_sim_t *p, plat_sim_log_fn fn, void *ctx)
{
    p->log_fn = fn;
    p->log_ctx = ctx;
}
