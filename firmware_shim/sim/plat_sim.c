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

/* The queue of CAN `bus`, or NULL when that bus is not bound. */
static int bus_queue(plat_sim_t *p, unsigned bus, sim_canbus_t **b, int *node,
                     plat_can_frame_t **q, unsigned **head, unsigned **len, uint64_t **refused)
{
    if (bus == 0 && p->bus != NULL) {
        *b = p->bus, *node = p->can_node, *q = p->rxq;
        *head = &p->rxq_head, *len = &p->rxq_len, *refused = &p->tx_refused;
        return 0;
    }
    if (bus >= 1 && bus < PLAT_SIM_BUSES && p->extra[bus - 1].bus != NULL) {
        struct plat_sim_can *x = &p->extra[bus - 1];
        *b = x->bus, *node = x->node, *q = x->rxq;
        *head = &x->rxq_head, *len = &x->rxq_len, *refused = &x->tx_refused;
        return 0;
    }
    return -1;
}

static int sim_can_send(void *ctx, unsigned bus, const plat_can_frame_t *f)
{
    plat_sim_t *p = ctx;
    sim_canbus_t *b;
    int node;
    plat_can_frame_t *q;
    unsigned *head, *len;
    uint64_t *refused;
    if (bus_queue(p, bus, &b, &node, &q, &head, &len, &refused) != 0 || f->dlc > 8) {
        return PLAT_E_IO;
    }
    sim_can_frame_t sf;
    sf.id = f->id;
    sf.dlc = f->dlc;
    memcpy(sf.data, f->data, sizeof sf.data);
    if (sim_canbus_send(b, node, &sf) != 0) {
        /* Like a real controller with a full mailbox: the caller retries later. */
        (*refused)++;
        return PLAT_E_BUSY;
    }
    return PLAT_OK;
}

static int sim_can_recv(void *ctx, unsigned bus, plat_can_frame_t *f)
{
    plat_sim_t *p = ctx;
    sim_canbus_t *b;
    int node;
    plat_can_frame_t *q;
    unsigned *head, *len;
    uint64_t *refused;
    if (bus_queue(p, bus, &b, &node, &q, &head, &len, &refused) != 0 || *len == 0) {
        return 0;
    }
    *f = q[*head];
    *head = (*head + 1) % PLAT_SIM_RXQ;
    (*len)--;
    return 1;
}

static void sim_gpio_write(void *ctx, plat_gpio_t pin, bool on)
{
    plat_sim_t *p = ctx;
    if ((unsigned)pin < PLAT_GPIO_COUNT) {
        p->gpio[pin] = on;
    }
}

static bool sim_gpio_read(void *ctx, plat_gpio_t pin)
{
    plat_sim_t *p = ctx;
    return (unsigned)pin < PLAT_GPIO_COUNT && p->gpio[pin];
}

static void sim_log(void *ctx, const char *line)
{
    plat_sim_t *p = ctx;
    if (p->log_fn != NULL) {
        p->log_fn(p->log_ctx, p->sched->now_us, line);
    }
}

static void rx_push(plat_can_frame_t *q, unsigned head, unsigned *len, uint64_t *dropped,
                    const sim_can_frame_t *f)
{
    if (*len == PLAT_SIM_RXQ) {
        (*dropped)++;
        return;
    }
    plat_can_frame_t *d = &q[(head + *len) % PLAT_SIM_RXQ];
    d->id = f->id;
    d->dlc = f->dlc;
    memcpy(d->data, f->data, sizeof d->data);
    (*len)++;
}

/* CAN bus delivers a frame to our node: queue it for can_recv. */
static void sim_can_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    plat_sim_t *p = ctx;
    rx_push(p->rxq, p->rxq_head, &p->rxq_len, &p->rx_dropped, f);
    if (p->can_notify != NULL) {
        p->can_notify(p->can_notify_ctx, 0, t_us);
    }
}

static void sim_can_rx_extra(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    struct plat_sim_can *x = ctx;
    rx_push(x->rxq, x->rxq_head, &x->rxq_len, &x->rx_dropped, f);
    plat_sim_t *p = x->owner;
    if (p->can_notify != NULL) {
        p->can_notify(p->can_notify_ctx, (unsigned)(x - p->extra) + 1u, t_us);
    }
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
    p->api.gpio_read = sim_gpio_read;
    p->api.log = sim_log;
    return 0;
}

void plat_sim_set_log(plat_sim_t *p, plat_sim_log_fn fn, void *ctx)
{
    p->log_fn = fn;
    p->log_ctx = ctx;
}

int plat_sim_add_can(plat_sim_t *p, unsigned bus, sim_canbus_t *b)
{
    if (bus < 1 || bus >= PLAT_SIM_BUSES || b == NULL) {
        return -1;
    }
    struct plat_sim_can *x = &p->extra[bus - 1];
    memset(x, 0, sizeof *x);
    x->owner = p;
    x->bus = b;
    x->node = sim_canbus_attach(b, sim_can_rx_extra, x);
    if (x->node < 0) {
        x->bus = NULL;
        return -1;
    }
    return 0;
}

void plat_sim_set_can_notify(plat_sim_t *p, void (*fn)(void *ctx, unsigned bus, uint64_t t_us),
                             void *ctx)
{
    p->can_notify = fn;
    p->can_notify_ctx = ctx;
}
