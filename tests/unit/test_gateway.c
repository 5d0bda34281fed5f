/* SPDX-License-Identifier: MIT */
/* Unit tests for the gateway main loop against a hand-made fake platform. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gateway.h"

/* topband.md section 7, TV2: a real 0x42 reply from the pack at ADR 1
 * (15 cells, 50.33 V, 30.00/30.00 Ah, SOC 100 %). */
static const char TV2_REPLY[] =
    "~21014600D07C010F0D1D0D1C0D1E0D190D1D0D180D180D230D1A0D1A0D230D190D1F0D190D1C070B7D0B7B0B7A"
    "0B7F0B940B820B8C01B413A90BB8040BB8000664640000E259\r";

#define MAX_CAN 2048
#define MAX_LOG 32

typedef struct sent {
    uint64_t t_ms;
    plat_can_frame_t f;
} sent_t;

typedef struct fake {
    uint64_t now_ms;
    uint8_t rx[4096];
    size_t rx_len, rx_pos;
    size_t tx_total, tx_calls;
    size_t write_limit;     /* bytes accepted per uart_write */
    bool answer_adr1;       /* play the pack at ADR 1 */
    sent_t can[MAX_CAN];
    size_t can_n;
    int can_ret;
    int recv_pending;
    int recv_calls;
    bool gpio[PLAT_GPIO_COUNT];
    unsigned gpio_writes;
    char log[MAX_LOG][80];
    uint64_t log_t[MAX_LOG];
    size_t log_n;
} fake_t;

static fake_t fk;

static size_t f_uart_read(void *ctx, unsigned port, uint8_t *buf, size_t cap)
{
    fake_t *f = ctx;
    size_t n = f->rx_len - f->rx_pos;
    if (n > cap) {
        n = cap;
    }
    memcpy(buf, &f->rx[f->rx_pos], n);
    f->rx_pos += n;
    return n;
}

static size_t f_uart_write(void *ctx, unsigned port, const uint8_t *buf, size_t len)
{
    fake_t *f = ctx;
    f->tx_calls++;
    size_t n = len < f->write_limit ? len : f->write_limit;
    f->tx_total += n;
    /* A whole 0x42 request to ADR 1 gets the canned reply. */
    if (f->answer_adr1 && n == len && len >= 9 && memcmp(buf, "~21014642", 9) == 0) {
        size_t r = sizeof(TV2_REPLY) - 1;
        if (f->rx_len + r <= sizeof(f->rx)) {
            memcpy(&f->rx[f->rx_len], TV2_REPLY, r);
            f->rx_len += r;
        }
    }
    return n;
}

static int f_can_send(void *ctx, unsigned bus, const plat_can_frame_t *fr)
{
    fake_t *f = ctx;
    if (f->can_n < MAX_CAN) {
        f->can[f->can_n].t_ms = f->now_ms;
        f->can[f->can_n].f = *fr;
        f->can_n++;
    }
    return f->can_ret;
}

static int f_can_recv(void *ctx, unsigned bus, plat_can_frame_t *fr)
{
    fake_t *f = ctx;
    f->recv_calls++;
    if (f->recv_pending <= 0) {
        return 0;
    }
    f->recv_pending--;
    memset(fr, 0, sizeof(*fr));
    fr->id = 0x305;
    fr->dlc = 8;
    return 1;
}

static void f_gpio(void *ctx, plat_gpio_t pin, bool on)
{
    fake_t *f = ctx;
    f->gpio[pin] = on;
    f->gpio_writes++;
}

static void f_log(void *ctx, const char *line)
{
    fake_t *f = ctx;
    if (f->log_n < MAX_LOG) {
        snprintf(f->log[f->log_n], sizeof(f->log[0]), "%s", line);
        f->log_t[f->log_n] = f->now_ms;
        f->log_n++;
    }
}

static plat_api_t full_plat(void)
{
    plat_api_t p = {
        .ctx = &fk,
        .uart_read = f_uart_read,
        .uart_write = f_uart_write,
        .can_send = f_can_send,
        .can_recv = f_can_recv,
        .gpio_write = f_gpio,
        .log = f_log,
    };
    return p;
}

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof(fk));
    fk.write_limit = SIZE_MAX;
    fk.can_ret = PLAT_OK;
    return 0;
}

/* Event loop as a host runs it: step, then sleep until the deadline or
 * until bytes arrive (the fake's reply is "on the wire" 20 ms later). */
static void run_until(gateway_t *gw, uint64_t end_ms)
{
    unsigned guard = 0;
    while (fk.now_ms <= end_ms) {
        gateway_step(gw, fk.now_ms);
        uint64_t next = gateway_next_deadline(gw);
        if (fk.rx_pos < fk.rx_len && next > fk.now_ms + 20) {
            next = fk.now_ms + 20;
        }
        if (next <= fk.now_ms) {
            next = fk.now_ms + 1;
            if (++guard > 1000) {
                fail_msg("deadline stuck at %llu", (unsigned long long)fk.now_ms);
            }
        }
        fk.now_ms = next;
    }
}

static int find_log(const char *line)
{
    for (size_t i = 0; i < fk.log_n; i++) {
        if (strcmp(fk.log[i], line) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static uint16_t u16_at(const plat_can_frame_t *f, unsigned off)
{
    return (uint16_t)(f->data[off] | (f->data[off + 1] << 8));
}

/* With no BMS answering there are no cell readings: 0x373-0x377 stay out;
 * 0x359 (Pylontech flags) closes every set. */
#define SET_LEN (GW_VIC_FRAME_COUNT_NO_CELLS + 1)
static const uint32_t SET_ORDER[SET_LEN] = {
    0x351, 0x355, 0x356, 0x35A, 0x35C, 0x35E, 0x35F, 0x370, 0x371, 0x372, 0x379, 0x382, 0x359,
};

static void test_gateway_init_rejects_missing_members(void **state)
{
    (void)state;
    for (int row = 0; row < 5; row++) {
        plat_api_t p = full_plat();
        int expect = -1;
        switch (row) {
        case 0: p.uart_read = NULL; break;
        case 1: p.uart_write = NULL; break;
        case 2: p.can_send = NULL; break;
        case 3: p.can_recv = NULL; p.gpio_write = NULL; p.log = NULL; expect = 0; break;
        default: expect = 0; break;
        }
        gateway_t gw;
        gw_config_t cfg;
        gateway_config_default(&cfg);
        int rc = gateway_init(&gw, &cfg, &p, 0);
        if (rc != expect) {
            fail_msg("row %d: init = %d, expected %d", row, rc, expect);
        }
        /* A failed init leaves a gateway that does nothing when stepped. */
        size_t before = fk.can_n;
        gateway_step(&gw, 0);
        if (rc != 0 && fk.can_n != before) {
            fail_msg("row %d: a failed gateway sent frames", row);
        }
    }
    gateway_t gw;
    assert_int_equal(gateway_init(&gw, NULL, NULL, 0), -1);
}

static void test_gateway_config_default(void **state)
{
    (void)state;
    gw_config_t c;
    memset(&c, 0x77, sizeof(c));
    gateway_config_default(&c);
    assert_int_equal(c.bms_uart, 0);
    assert_int_equal(c.victron_can, 0);
    assert_int_equal(c.can_period_ms, 1000);
    assert_int_equal(c.dvcc.cvl_cell_mv, 3500);
    assert_int_equal(c.topband.reply_timeout_ms, 500);
    assert_string_equal(c.ident.manufacturer, "BMSBENCH");
    assert_string_equal(c.ident.bms_name, "bmsbench-gw");
}

/* A frame set every 1000 ms from boot, 0x351 first (12 frames: no cells yet). */
static void test_gateway_frames_every_second(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    assert_int_equal(gateway_init(&gw, NULL, &p, 0), 0);
    run_until(&gw, 10500);
    assert_int_equal(fk.can_n, 11 * SET_LEN);
    assert_int_equal(gw.status.can_cycles, 11);
    for (size_t i = 0; i < fk.can_n; i++) {
        size_t set = i / SET_LEN, k = i % SET_LEN;
        if (fk.can[i].t_ms != set * 1000u) {
            fail_msg("row %zu: frame at %llu ms, expected %zu", i,
                     (unsigned long long)fk.can[i].t_ms, set * 1000u);
        }
        if (fk.can[i].f.id != SET_ORDER[k] || fk.can[i].f.dlc != 8) {
            fail_msg("row %zu: id %03X dlc %u, expected %03X dlc 8", i, (unsigned)fk.can[i].f.id,
                     fk.can[i].f.dlc, (unsigned)SET_ORDER[k]);
        }
    }
    assert_int_equal(gw.status.can_tx_errors, 0);
}

/* Nobody answers: CCL = DCL = 0 from the first frame; the no-data alarm
 * comes once the scan is over, never before. */
static void test_gateway_no_bms_fail_safe(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    assert_int_equal(gateway_init(&gw, NULL, &p, 0), 0);
    run_until(&gw, 12500);

    int scan = find_log("scan done: 0 packs found");
    assert_true(scan >= 0);
    uint64_t scan_ms = fk.log_t[scan];
    int fs = find_log("fail-safe entered: no BMS data");
    assert_true(fs > scan);

    unsigned before = 0, after = 0;
    for (size_t i = 0; i < fk.can_n; i++) {
        const plat_can_frame_t *f = &fk.can[i].f;
        if (f->id == 0x351) {
            if (u16_at(f, 2) != 0 || u16_at(f, 4) != 0 || u16_at(f, 0) != 560 ||
                u16_at(f, 6) != 448) {
                fail_msg("row %zu: 351 CVL %u CCL %u DCL %u DVL %u", i, u16_at(f, 0),
                         u16_at(f, 2), u16_at(f, 4), u16_at(f, 6));
            }
        }
        if (f->id == 0x35A) {
            /* general + BMS internal active after the scan, OK before; the
             * engine (default) also reports the charge over-current pair (OK) */
            bool alarm = fk.can[i].t_ms > scan_ms;
            uint8_t b0 = alarm ? 0xA9 : 0xAA, b2 = alarm ? 0x42 : 0x82;
            if (f->data[0] != b0 || f->data[2] != b2) {
                fail_msg("row %zu (t %llu): 35A %02X..%02X, expected %02X..%02X", i,
                         (unsigned long long)fk.can[i].t_ms, f->data[0], f->data[2], b0, b2);
            }
            before += alarm ? 0u : 1u;
            after += alarm ? 1u : 0u;
        }
        if (f->id == 0x35C && f->data[0] != 0) {
            fail_msg("row %zu: 35C %02X", i, f->data[0]);
        }
    }
    assert_true(before >= 1);
    assert_true(after >= 1);
    assert_true(fk.gpio[PLAT_GPIO_LED_RED]);
    assert_false(fk.gpio[PLAT_GPIO_LED_GREEN]);
    assert_false(fk.gpio[PLAT_GPIO_RELAY_CHARGE]);
    assert_false(fk.gpio[PLAT_GPIO_RELAY_DISCHARGE]);
    /* Outputs are written on change only, not every second. */
    assert_true(fk.gpio_writes <= 2 * PLAT_GPIO_COUNT);
    /* Every request was written whole. */
    assert_int_equal(gw.status.uart_tx_short, 0);
    assert_int_equal(fk.tx_calls, gw.tb.stats.requests);
}

/* A pack answering at ADR 1: limits from its data; then it goes silent and
 * the fail-safe takes over with the last valid CVL. */
static void test_gateway_pack_online_then_lost(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    fk.answer_adr1 = true;
    assert_int_equal(gateway_init(&gw, NULL, &p, 0), 0);
    run_until(&gw, 12000);
    assert_true(find_log("pack 1 online") >= 0);
    assert_true(find_log("scan done: 1 pack found") >= 0);
    assert_true(find_log("fail-safe entered: no BMS data") < 0);

    const plat_can_frame_t *l = NULL, *m = NULL;
    for (size_t i = 0; i < fk.can_n; i++) {
        if (fk.can[i].f.id == 0x351) {
            l = &fk.can[i].f;
        }
        if (fk.can[i].f.id == 0x372) {
            m = &fk.can[i].f;
        }
    }
    assert_non_null(l);
    assert_int_equal(u16_at(l, 0), 525);  /* 15 cells x 3.5 V */
    assert_int_equal(u16_at(l, 2), 50);   /* SOC 100 %: the SOC curve's 10 % of 50 A */
    assert_int_equal(u16_at(l, 4), 1000); /* one pack x 100 A */
    assert_int_equal(u16_at(l, 6), 420);
    assert_int_equal(u16_at(m, 0), 1);    /* online */
    assert_int_equal(u16_at(m, 6), 0);    /* offline */
    assert_true(fk.gpio[PLAT_GPIO_LED_GREEN]);
    assert_false(fk.gpio[PLAT_GPIO_LED_RED]);
    assert_true(fk.gpio[PLAT_GPIO_RELAY_CHARGE]); /* CCL > 0 */
    assert_true(fk.gpio[PLAT_GPIO_RELAY_DISCHARGE]);

    fk.answer_adr1 = false;
    size_t from = fk.can_n;
    run_until(&gw, 40000);
    assert_true(find_log("pack 1 offline") >= 0);
    assert_true(find_log("fail-safe entered: no BMS data") >= 0);
    l = NULL;
    for (size_t i = from; i < fk.can_n; i++) {
        if (fk.can[i].f.id == 0x351) {
            l = &fk.can[i].f;
        }
        if (fk.can[i].f.id == 0x372) {
            m = &fk.can[i].f;
        }
    }
    assert_non_null(l);
    assert_int_equal(u16_at(l, 0), 525);  /* last valid CVL, not 0 */
    assert_int_equal(u16_at(l, 2), 0);
    assert_int_equal(u16_at(l, 4), 0);    /* not the last non-zero DCL */
    assert_int_equal(u16_at(m, 0), 0);
    assert_int_equal(u16_at(m, 6), 1);
    assert_true(fk.gpio[PLAT_GPIO_LED_RED]);
    assert_false(fk.gpio[PLAT_GPIO_RELAY_DISCHARGE]);
}

static void test_gateway_counts_short_writes_and_refusals(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    fk.write_limit = 5;
    fk.can_ret = PLAT_E_BUSY;
    assert_int_equal(gateway_init(&gw, NULL, &p, 0), 0);
    run_until(&gw, 2500);
    assert_int_equal(gw.status.can_cycles, 3);
    assert_int_equal(gw.status.can_tx_errors, 3 * SET_LEN);
    assert_true(gw.tb.stats.requests > 0);
    assert_int_equal(gw.status.uart_tx_short, gw.tb.stats.requests);
}

/* A host that stalls for 5.5 s gets one set, not a burst of five, and the
 * rhythm restarts from then. */
static void test_gateway_late_step_does_not_burst(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    assert_int_equal(gateway_init(&gw, NULL, &p, 1000000), 0);
    gateway_step(&gw, 1000000);
    assert_int_equal(gw.status.can_cycles, 1);
    assert_true(gateway_next_deadline(&gw) <= 1001000);
    gateway_step(&gw, 1005500);
    assert_int_equal(gw.status.can_cycles, 2);
    assert_int_equal(gw.next_can_ms, 1006500);
    gateway_step(&gw, 1006499);
    assert_int_equal(gw.status.can_cycles, 2);
    gateway_step(&gw, 1006500);
    assert_int_equal(gw.status.can_cycles, 3);
    /* One period late exactly: still one set, next one a period later. */
    gateway_step(&gw, 1008500);
    assert_int_equal(gw.status.can_cycles, 4);
    assert_int_equal(gw.next_can_ms, 1009500);
}

static void test_gateway_drains_can_rx(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    assert_int_equal(gateway_init(&gw, NULL, &p, 0), 0);
    fk.recv_pending = 10;
    gateway_step(&gw, 0);
    assert_int_equal(fk.recv_pending, 0);
    assert_int_equal(fk.recv_calls, 11); /* ten frames, then "none" */
}

/* Line noise (including '~' and CR) through the whole loop: no crash, no
 * pack invented from garbage, frames keep coming. */
static void test_gateway_survives_uart_noise(void **state)
{
    (void)state;
    plat_api_t p = full_plat();
    gateway_t gw;
    assert_int_equal(gateway_init(&gw, NULL, &p, 0), 0);
    uint32_t x = 12345u;
    for (size_t i = 0; i < sizeof(fk.rx); i++) {
        x = x * 1103515245u + 12345u;
        uint8_t c = (uint8_t)(x >> 16);
        fk.rx[i] = (x & 0x700u) == 0 ? (uint8_t)'~' : (x & 0x7000u) == 0 ? (uint8_t)'\r' : c;
    }
    fk.rx_len = sizeof(fk.rx);
    run_until(&gw, 5000);
    assert_int_equal(fk.rx_pos, fk.rx_len); /* all of it was read and fed */
    assert_true(gw.tb.stats.bytes_dropped + gw.tb.stats.bad_frame > 0);
    assert_int_equal(gw.status.can_cycles, 6);
    assert_int_equal(gw.bank.packs_online, 0);
    assert_int_equal(gw.limits.ccl_da, 0);
    assert_int_equal(gw.limits.dcl_da, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_gateway_init_rejects_missing_members, setup),
        cmocka_unit_test_setup(test_gateway_config_default, setup),
        cmocka_unit_test_setup(test_gateway_frames_every_second, setup),
        cmocka_unit_test_setup(test_gateway_no_bms_fail_safe, setup),
        cmocka_unit_test_setup(test_gateway_pack_online_then_lost, setup),
        cmocka_unit_test_setup(test_gateway_counts_short_writes_and_refusals, setup),
        cmocka_unit_test_setup(test_gateway_late_step_does_not_burst, setup),
        cmocka_unit_test_setup(test_gateway_drains_can_rx, setup),
        cmocka_unit_test_setup(test_gateway_survives_uart_noise, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
