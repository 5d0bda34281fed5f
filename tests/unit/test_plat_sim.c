/* SPDX-License-Identifier: MIT */
/* Unit tests for the platform API bound to the simulator (firmware_shim/sim/plat_sim.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plat_sim.h"
#include "sim/canbus.h"
#include "sim/sched.h"
#include "sim/wire.h"

/* Everything a test needs, on the heap (the wire's rings are large). */
typedef struct rig {
    sim_sched_t sched;
    sim_wire_t wire;
    sim_canbus_t bus;
    plat_sim_t a, b;          /* a: wire end 0, b: wire end 1; both on the bus */
    int raw_node;             /* a plain bus node, not a platform */
    uint32_t raw_rx;          /* frames the raw node received */
    char log_line[80];
    uint64_t log_t_us;
    void *log_ctx;
    unsigned log_calls;
} rig_t;

static void raw_rx(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    rig_t *r = ctx;
    (void)f;
    (void)t_us;
    r->raw_rx++;
}

static rig_t *rig_new(uint32_t baud)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    sim_sched_init(&r->sched);
    sim_wire_init(&r->wire, &r->sched, baud, 10, true);
    sim_canbus_init(&r->bus, &r->sched, 500000);
    assert_int_equal(plat_sim_init(&r->a, &r->sched, &r->wire, 0, &r->bus), 0);
    assert_int_equal(plat_sim_init(&r->b, &r->sched, &r->wire, 1, &r->bus), 0);
    r->raw_node = sim_canbus_attach(&r->bus, raw_rx, r);
    assert_true(r->raw_node >= 0);
    return r;
}

static void rig_free(rig_t *r)
{
    sim_sched_free(&r->sched);
    free(r);
}

static plat_can_frame_t frame(uint32_t id, uint8_t dlc, uint8_t seed)
{
    plat_can_frame_t f;
    memset(&f, 0, sizeof f);
    f.id = id;
    f.dlc = dlc;
    for (unsigned i = 0; i < dlc && i < 8; i++) {
        f.data[i] = (uint8_t)(seed + 17u * i);
    }
    return f;
}

static void expect_same_frame(const plat_can_frame_t *got, const plat_can_frame_t *want,
                              const char *ctx)
{
    if (got->id != want->id || got->dlc != want->dlc ||
        memcmp(got->data, want->data, want->dlc) != 0) {
        fail_msg("%s: got id %08x dlc %u data0 %02x, want id %08x dlc %u data0 %02x", ctx,
                 got->id, got->dlc, got->data[0], want->id, want->dlc, want->data[0]);
    }
}

/* ---- UART ---- */

typedef struct uart_row {
    uint32_t baud;
    size_t len;
} uart_row_t;

static void test_plat_sim_uart_through_wire(void **state)
{
    (void)state;
    static const uart_row_t rows[] = {{9600, 20}, {9600, 1}, {115200, 200}, {19200, 0}};
    for (size_t row = 0; row < sizeof rows / sizeof rows[0]; row++) {
        const uart_row_t *u = &rows[row];
        rig_t *r = rig_new(u->baud);
        uint8_t out[256], in[256];
        for (size_t i = 0; i < u->len; i++) {
            out[i] = (uint8_t)(i * 7u + 3u);
        }
        const plat_api_t *a = &r->a.api, *b = &r->b.api;
        size_t w = a->uart_write(a->ctx, 0, out, u->len);
        if (w != u->len) {
            fail_msg("row %zu: write took %zu of %zu", row, w, u->len);
        }
        /* Nothing has arrived before the first character's time is over. */
        if (b->uart_read(b->ctx, 0, in, sizeof in) != 0) {
            fail_msg("row %zu: bytes at t = 0", row);
        }
        uint64_t char_us = 10u * 1000000u / u->baud;
        sim_sched_run_until(&r->sched, (uint64_t)u->len * (char_us + 1u) + 1u);
        size_t n = b->uart_read(b->ctx, 0, in, sizeof in);
        if (n != u->len || memcmp(in, out, n) != 0) {
            fail_msg("row %zu: read %zu bytes, want the %zu written", row, n, u->len);
        }
        /* The writer does not hear itself on the other direction, and other
         * ports do not exist on this binding. */
        assert_int_equal(a->uart_read(a->ctx, 0, in, sizeof in), 0);
        assert_int_equal(a->uart_write(a->ctx, 1, out, 1), 0);
        assert_int_equal(b->uart_read(b->ctx, 3, in, sizeof in), 0);
        rig_free(r);
    }
}

static void test_plat_sim_uart_back_and_forth(void **state)
{
    (void)state;
    rig_t *r = rig_new(9600);
    const plat_api_t *a = &r->a.api, *b = &r->b.api;
    uint8_t in[16];
    a->uart_write(a->ctx, 0, (const uint8_t *)"ping", 4);
    sim_sched_run_until(&r->sched, 10000);
    assert_int_equal(b->uart_read(b->ctx, 0, in, sizeof in), 4);
    assert_memory_equal(in, "ping", 4);
    b->uart_write(b->ctx, 0, (const uint8_t *)"pong!", 5);
    sim_sched_run_until(&r->sched, 20000);
    /* A small buffer gets what fits; the rest waits for the next read. */
    assert_int_equal(a->uart_read(a->ctx, 0, in, 3), 3);
    assert_memory_equal(in, "pon", 3);
    assert_int_equal(a->uart_read(a->ctx, 0, in, sizeof in), 2);
    assert_memory_equal(in, "g!", 2);
    assert_int_equal(r->wire.collisions, 0);
    rig_free(r);
}

/* ---- CAN ---- */

static void test_plat_sim_can_send_recv_no_echo(void **state)
{
    (void)state;
    static const struct {
        uint32_t id;
        uint8_t dlc;
    } rows[] = {{0x351, 8}, {0x35E, 0}, {0x7FF, 3}, {0x1ABCDEF0u | PLAT_CAN_EFF_FLAG, 8}};
    for (size_t row = 0; row < sizeof rows / sizeof rows[0]; row++) {
        rig_t *r = rig_new(9600);
        const plat_api_t *a = &r->a.api, *b = &r->b.api;
        plat_can_frame_t sent = frame(rows[row].id, rows[row].dlc, (uint8_t)(row + 1));
        if (a->can_send(a->ctx, 0, &sent) != PLAT_OK) {
            fail_msg("row %zu: can_send refused", row);
        }
        sim_sched_run_until(&r->sched, 1000);
        plat_can_frame_t got;
        char ctx[32];
        snprintf(ctx, sizeof ctx, "row %zu", row);
        if (b->can_recv(b->ctx, 0, &got) != 1) {
            fail_msg("row %zu: the other node got nothing", row);
        }
        expect_same_frame(&got, &sent, ctx);
        assert_int_equal(b->can_recv(b->ctx, 0, &got), 0);
        if (a->can_recv(a->ctx, 0, &got) != 0) {
            fail_msg("row %zu: own frame echoed back", row);
        }
        assert_int_equal(r->raw_rx, 1);

        /* A frame from a plain node reaches both platforms. */
        sim_can_frame_t raw = {.id = 0x305, .dlc = 2, .data = {0xAA, 0x55}};
        assert_int_equal(sim_canbus_send(&r->bus, r->raw_node, &raw), 0);
        sim_sched_run_until(&r->sched, 2000);
        plat_can_frame_t want = frame(0x305, 2, 0);
        want.data[0] = 0xAA;
        want.data[1] = 0x55;
        assert_int_equal(a->can_recv(a->ctx, 0, &got), 1);
        expect_same_frame(&got, &want, ctx);
        assert_int_equal(b->can_recv(b->ctx, 0, &got), 1);
        expect_same_frame(&got, &want, ctx);
        rig_free(r);
    }
}

static void test_plat_sim_can_rejects_bad_bus_and_dlc(void **state)
{
    (void)state;
    rig_t *r = rig_new(9600);
    const plat_api_t *a = &r->a.api;
    plat_can_frame_t f = frame(0x351, 8, 1);
    assert_int_equal(a->can_send(a->ctx, 1, &f), PLAT_E_IO);
    f.dlc = 9;
    assert_int_equal(a->can_send(a->ctx, 0, &f), PLAT_E_IO);
    f.dlc = 8;
    assert_int_equal(a->can_send(a->ctx, 0, &f), PLAT_OK);
    sim_sched_run_until(&r->sched, 1000);
    plat_can_frame_t got;
    assert_int_equal(r->b.api.can_recv(r->b.api.ctx, 1, &got), 0); /* no bus 1 */
    assert_int_equal(r->b.api.can_recv(r->b.api.ctx, 0, &got), 1);
    assert_int_equal(r->raw_rx, 1); /* only the valid frame went out */
    rig_free(r);
}

static void test_plat_sim_can_tx_queue_full_is_busy(void **state)
{
    (void)state;
    rig_t *r = rig_new(9600);
    const plat_api_t *a = &r->a.api;
    /* Nothing leaves before the scheduler runs: the controller queue fills. */
    for (unsigned i = 0; i < SIM_CAN_TXQ; i++) {
        plat_can_frame_t f = frame(0x100 + i, 1, (uint8_t)i);
        if (a->can_send(a->ctx, 0, &f) != PLAT_OK) {
            fail_msg("frame %u refused below the queue size %d", i, SIM_CAN_TXQ);
        }
    }
    plat_can_frame_t f = frame(0x200, 1, 0);
    assert_int_equal(a->can_send(a->ctx, 0, &f), PLAT_E_BUSY);
    assert_int_equal(r->a.tx_refused, 1);
    sim_sched_run_until(&r->sched, 100000);
    assert_int_equal(a->can_send(a->ctx, 0, &f), PLAT_OK);
    rig_free(r);
}

static void test_plat_sim_can_rx_overflow_counted(void **state)
{
    (void)state;
    static const unsigned extra[] = {0, 1, 5, 64};
    for (size_t row = 0; row < sizeof extra / sizeof extra[0]; row++) {
        rig_t *r = rig_new(9600);
        unsigned total = PLAT_SIM_RXQ + extra[row];
        /* Send in batches the raw node's transmit queue can hold. */
        for (unsigned i = 0; i < total; i++) {
            sim_can_frame_t f = {.id = 0x400 + i, .dlc = 1, .data = {(uint8_t)i}};
            if (sim_canbus_send(&r->bus, r->raw_node, &f) != 0) {
                sim_sched_run_until(&r->sched, r->sched.now_us + 50000);
                assert_int_equal(sim_canbus_send(&r->bus, r->raw_node, &f), 0);
            }
        }
        sim_sched_run_until(&r->sched, r->sched.now_us + 50000);
        if (r->b.rx_dropped != extra[row] || r->a.rx_dropped != extra[row]) {
            fail_msg("row %zu: rx_dropped %llu/%llu, want %u", row,
                     (unsigned long long)r->a.rx_dropped, (unsigned long long)r->b.rx_dropped,
                     extra[row]);
        }
        /* The queue kept the oldest frames, in order. */
        plat_can_frame_t got;
        for (unsigned i = 0; i < PLAT_SIM_RXQ; i++) {
            if (r->b.api.can_recv(r->b.api.ctx, 0, &got) != 1 || got.id != 0x400 + i) {
                fail_msg("row %zu: frame %u is %03x, want %03x", row, i, got.id, 0x400 + i);
            }
        }
        assert_int_equal(r->b.api.can_recv(r->b.api.ctx, 0, &got), 0);
        /* Drained, it takes frames again. */
        sim_can_frame_t f = {.id = 0x123, .dlc = 0};
        assert_int_equal(sim_canbus_send(&r->bus, r->raw_node, &f), 0);
        sim_sched_run_until(&r->sched, r->sched.now_us + 1000);
        assert_int_equal(r->b.api.can_recv(r->b.api.ctx, 0, &got), 1);
        assert_int_equal(got.id, 0x123);
        assert_int_equal(r->b.rx_dropped, extra[row]);
        rig_free(r);
    }
}

/* CAN 1 (a BMS-side bus) is its own controller: frames, queues and counters
 * never cross between the two buses. */
static void test_plat_sim_second_bus_is_separate(void **state)
{
    (void)state;
    rig_t *r = rig_new(9600);
    sim_canbus_t *bms = calloc(1, sizeof *bms);
    assert_non_null(bms);
    sim_canbus_init(bms, &r->sched, 250000);
    const plat_api_t *a = &r->a.api;
    plat_can_frame_t f = frame(0x701, 1, 5);
    /* Unbound, bus 1 refuses; bound, it works. */
    assert_int_equal(a->can_send(a->ctx, 1, &f), PLAT_E_IO);
    assert_int_equal(plat_sim_add_can(&r->a, 0, bms), -1);
    assert_int_equal(plat_sim_add_can(&r->a, PLAT_SIM_BUSES, bms), -1);
    assert_int_equal(plat_sim_add_can(&r->a, 1, bms), 0);
    int peer = sim_canbus_attach(bms, NULL, NULL);
    assert_true(peer >= 0);

    assert_int_equal(a->can_send(a->ctx, 1, &f), PLAT_OK);
    sim_can_frame_t in = {.id = 0x181, .dlc = 2, .data = {1, 2}};
    assert_int_equal(sim_canbus_send(bms, peer, &in), 0);
    sim_sched_run_until(&r->sched, 5000);

    plat_can_frame_t got;
    /* Bus 0 saw nothing of bus 1's traffic. */
    assert_int_equal(r->raw_rx, 0);
    assert_int_equal(r->b.api.can_recv(r->b.api.ctx, 0, &got), 0);
    assert_int_equal(a->can_recv(a->ctx, 0, &got), 0);
    /* Bus 1 delivered the peer's frame, not our own. */
    assert_int_equal(a->can_recv(a->ctx, 1, &got), 1);
    assert_int_equal(got.id, 0x181);
    assert_int_equal(got.data[1], 2);
    assert_int_equal(a->can_recv(a->ctx, 1, &got), 0);
    assert_int_equal(bms->nodes[peer].rx_frames, 1);
    rig_free(r);
    free(bms);
}

/* ---- GPIO and log ---- */

static void test_plat_sim_gpio_write_stored(void **state)
{
    (void)state;
    static const struct {
        plat_gpio_t pin;
        bool on;
    } steps[] = {
        {PLAT_GPIO_LED_GREEN, true},       {PLAT_GPIO_RELAY_CHARGE, true},
        {PLAT_GPIO_RELAY_DISCHARGE, true}, {PLAT_GPIO_LED_GREEN, false},
        {PLAT_GPIO_LED_RED, true},         {PLAT_GPIO_RELAY_CHARGE, false},
    };
    rig_t *r = rig_new(9600);
    const plat_api_t *a = &r->a.api;
    bool model[PLAT_GPIO_COUNT] = {false};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        a->gpio_write(a->ctx, steps[i].pin, steps[i].on);
        model[steps[i].pin] = steps[i].on;
        for (unsigned p = 0; p < PLAT_GPIO_COUNT; p++) {
            if (r->a.gpio[p] != model[p]) {
                fail_msg("step %zu: pin %u is %d, want %d", i, p, r->a.gpio[p], model[p]);
            }
        }
    }
    /* A pin out of range is ignored, and the other platform is untouched. */
    a->gpio_write(a->ctx, PLAT_GPIO_COUNT, true);
    a->gpio_write(a->ctx, (plat_gpio_t)1000, true);
    assert_memory_equal(r->a.gpio, model, sizeof model);
    for (unsigned p = 0; p < PLAT_GPIO_COUNT; p++) {
        assert_false(r->b.gpio[p]);
    }
    rig_free(r);
}

static void on_log(void *ctx, uint64_t t_us, const char *line)
{
    rig_t *r = ctx;
    r->log_calls++;
    r->log_t_us = t_us;
    r->log_ctx = ctx;
    snprintf(r->log_line, sizeof r->log_line, "%s", line);
}

static void test_plat_sim_log_forwarded_with_sim_time(void **state)
{
    (void)state;
    static const uint64_t times_us[] = {0, 1, 1234567, 86400000000ull};
    rig_t *r = rig_new(9600);
    const plat_api_t *a = &r->a.api;
    /* Without a sink the call is harmless. */
    a->log(a->ctx, "nobody listens");
    assert_int_equal(r->log_calls, 0);
    plat_sim_set_log(&r->a, on_log, r);
    for (size_t row = 0; row < sizeof times_us / sizeof times_us[0]; row++) {
        sim_sched_run_until(&r->sched, times_us[row]);
        char line[32];
        snprintf(line, sizeof line, "pack %zu online", row);
        a->log(a->ctx, line);
        if (r->log_calls != row + 1 || r->log_t_us != times_us[row] || r->log_ctx != r ||
            strcmp(r->log_line, line) != 0) {
            fail_msg("row %zu: calls %u, t %llu us, line '%s', want t %llu and '%s'", row,
                     r->log_calls, (unsigned long long)r->log_t_us, r->log_line,
                     (unsigned long long)times_us[row], line);
        }
    }
    rig_free(r);
}

static void test_plat_sim_init_fails_when_bus_full(void **state)
{
    (void)state;
    rig_t *r = rig_new(9600);
    /* The rig holds 3 nodes; fill the rest. */
    while (sim_canbus_attach(&r->bus, NULL, NULL) >= 0) {
    }
    plat_sim_t extra;
    assert_int_equal(plat_sim_init(&extra, &r->sched, &r->wire, 0, &r->bus), -1);
    /* Without a bus the binding works for the UART and refuses CAN. */
    assert_int_equal(plat_sim_init(&extra, &r->sched, &r->wire, 0, NULL), 0);
    plat_can_frame_t f = frame(0x351, 8, 0);
    assert_int_equal(extra.api.can_send(extra.api.ctx, 0, &f), PLAT_E_IO);
    assert_int_equal(extra.api.uart_write(extra.api.ctx, 0, (const uint8_t *)"x", 1), 1);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plat_sim_uart_through_wire),
        cmocka_unit_test(test_plat_sim_uart_back_and_forth),
        cmocka_unit_test(test_plat_sim_can_send_recv_no_echo),
        cmocka_unit_test(test_plat_sim_can_rejects_bad_bus_and_dlc),
        cmocka_unit_test(test_plat_sim_can_tx_queue_full_is_busy),
        cmocka_unit_test(test_plat_sim_can_rx_overflow_counted),
        cmocka_unit_test(test_plat_sim_second_bus_is_separate),
        cmocka_unit_test(test_plat_sim_gpio_write_stored),
        cmocka_unit_test(test_plat_sim_log_forwarded_with_sim_time),
        cmocka_unit_test(test_plat_sim_init_fails_when_bus_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
