/* SPDX-License-Identifier: MIT */
/* Unit tests of sim/charger: 0x351 decoding, CCL, CVL, DCL, stop on silence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "sim/battery.h"
#include "sim/charger.h"
#include "sim/rng.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

/* 0x351 built byte by byte, little-endian, as the Victron frame set defines it. */
static sim_can_frame_t frame_351(double cvl_v, double ccl_a, double dcl_a)
{
    sim_can_frame_t f = {.id = 0x351, .dlc = 8};
    uint16_t cvl = (uint16_t)lround(cvl_v * 10);
    uint16_t ccl = (uint16_t)(int16_t)lround(ccl_a * 10);
    uint16_t dcl = (uint16_t)(int16_t)lround(dcl_a * 10);
    f.data[0] = (uint8_t)(cvl & 0xFF);
    f.data[1] = (uint8_t)(cvl >> 8);
    f.data[2] = (uint8_t)(ccl & 0xFF);
    f.data[3] = (uint8_t)(ccl >> 8);
    f.data[4] = (uint8_t)(dcl & 0xFF);
    f.data[5] = (uint8_t)(dcl >> 8);
    f.data[6] = 0x90; /* DVL 40.0 V, ignored */
    f.data[7] = 0x01;
    return f;
}

static sim_bank_t g_bank;

static void bank_at(double soc)
{
    sim_rng_t rng;
    sim_rng_seed(&rng, 5);
    sim_bank_init(&g_bank, 25.0);
    for (int i = 0; i < 2; i++) {
        sim_bank_add(&g_bank, &(sim_pack_spec_t){.ncells = 16, .capacity_ah = 100, .soc = soc,
                                                 .temp_c = 25}, &rng);
    }
}

static void test_charger_decodes_351(void **state)
{
    (void)state;
    static const struct {
        uint32_t id;
        uint8_t dlc;
        uint8_t data[8];
        int accepted;
        double cvl_v, ccl_a, dcl_a;
    } rows[] = {
        {0x351, 8, {0x28, 0x02, 0xE8, 0x03, 0xD0, 0x07, 0, 0}, 1, 55.2, 100.0, 200.0},
        {0x351, 6, {0x1C, 0x02, 0x00, 0x00, 0x01, 0x00}, 1, 54.0, 0.0, 0.1},
        {0x351, 8, {0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x80, 0, 0}, 1, 6553.5, 3276.7, 0.0},
        {0x351, 8, {0x28, 0x02, 0x9C, 0xFF, 0xE8, 0x03, 0, 0}, 1, 55.2, 0.0, 100.0}, /* -10 A */
        {0x351, 5, {0x28, 0x02, 0xE8, 0x03, 0xD0}, 0, 0, 0, 0},                   /* short */
        {0x356, 8, {0x28, 0x02, 0xE8, 0x03, 0xD0, 0x07, 0, 0}, 0, 0, 0, 0},
        {0x351 | SIM_CAN_EFF_FLAG, 8, {0x28, 0x02, 0xE8, 0x03, 0xD0, 0x07, 0, 0}, 0, 0, 0, 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_charger_t c;
        sim_charger_init(&c);
        sim_can_frame_t f = {.id = rows[r].id, .dlc = rows[r].dlc};
        for (int i = 0; i < 8; i++) {
            f.data[i] = rows[r].data[i];
        }
        sim_charger_on_frame(&c, &f, 1000);
        if ((int)c.have_limits != rows[r].accepted || (int)c.frames_351 != rows[r].accepted) {
            fail_msg("row %zu: accepted %d, want %d", r, c.have_limits, rows[r].accepted);
        }
        if (rows[r].accepted &&
            (!NEAR(c.cvl_v, rows[r].cvl_v, 1e-9) || !NEAR(c.ccl_a, rows[r].ccl_a, 1e-9) ||
             !NEAR(c.dcl_a, rows[r].dcl_a, 1e-9) || c.last_351_us != 1000)) {
            fail_msg("row %zu: cvl %.1f ccl %.1f dcl %.1f", r, c.cvl_v, c.ccl_a, c.dcl_a);
        }
    }
}

/* Mid-SOC bank, CVL far above: current = min(available - load, CCL). */
static void test_charger_obeys_ccl(void **state)
{
    (void)state;
    static const struct {
        double avail_a, load_a, ccl_a, want_a;
    } rows[] = {
        {100, 0, 50, 50},   /* CCL limits */
        {30, 0, 50, 30},    /* charger limits */
        {100, 80, 50, 20},  /* load takes the rest */
        {100, 0, 0, 0},     /* CCL 0 stops charging */
    };
    bank_at(0.5);
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_charger_t c;
        sim_charger_init(&c);
        c.charge_avail_a = rows[r].avail_a;
        c.load_a = rows[r].load_a;
        sim_can_frame_t f = frame_351(56.0, rows[r].ccl_a, 100);
        sim_charger_on_frame(&c, &f, 0);
        double i = sim_charger_decide(&c, &g_bank, 500000);
        if (!NEAR(i, rows[r].want_a, 1e-9) || !c.active || c.current_a != i) {
            fail_msg("row %zu: %.3f A, want %.3f", r, i, rows[r].want_a);
        }
    }
}

/* Closed loop near full: with 0x351 refreshed every second, the bus voltage
 * rises to CVL and never above it while the current tapers. */
static void test_charger_holds_cvl(void **state)
{
    (void)state;
    const double cvl_v = 55.2; /* 3.45 V per cell */
    bank_at(0.95);
    sim_charger_t c;
    sim_charger_init(&c);
    c.charge_avail_a = 100;
    double vmax = 0, first_i = -1, last_i = 0;
    for (uint64_t t_s = 0; t_s < 4 * 3600; t_s++) {
        uint64_t now_us = t_s * 1000000u;
        sim_can_frame_t f = frame_351(cvl_v, 100, 100);
        sim_charger_on_frame(&c, &f, now_us);
        double i = sim_charger_decide(&c, &g_bank, now_us);
        sim_bank_step(&g_bank, 1.0, i);
        if (g_bank.voltage_v > cvl_v + 0.01) {
            fail_msg("t %llu s: bus %.4f V above CVL %.1f at %.2f A", (unsigned long long)t_s,
                     g_bank.voltage_v, cvl_v, i);
        }
        vmax = fmax(vmax, g_bank.voltage_v);
        if (first_i < 0) {
            first_i = i;
        }
        last_i = i;
    }
    assert_true(NEAR(first_i, 100.0, 1e-9));
    assert_true(vmax > cvl_v - 0.05); /* it did reach CVL */
    assert_true(last_i < 5.0);        /* and tapered */
    double cell_max;
    sim_bank_cell_extremes(&g_bank, NULL, &cell_max, NULL, NULL);
    assert_true(cell_max < 3.5);
}

/* Load above what the charger gives: discharge = min(net, DCL); 0 when no
 * pack can discharge. */
static void test_charger_obeys_dcl(void **state)
{
    (void)state;
    static const struct {
        double avail_a, load_a, dcl_a, want_a;
    } rows[] = {
        {0, 200, 100, -100},
        {0, 60, 100, -60},
        {50, 200, 100, -100},
        {50, 80, 100, -30},
        {0, 200, 0, 0},
    };
    bank_at(0.5);
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_charger_t c;
        sim_charger_init(&c);
        c.charge_avail_a = rows[r].avail_a;
        c.load_a = rows[r].load_a;
        sim_can_frame_t f = frame_351(56.0, 50, rows[r].dcl_a);
        sim_charger_on_frame(&c, &f, 0);
        double i = sim_charger_decide(&c, &g_bank, 0);
        if (!NEAR(i, rows[r].want_a, 1e-9)) {
            fail_msg("row %zu: %.3f A, want %.3f", r, i, rows[r].want_a);
        }
    }
    for (int p = 0; p < g_bank.npacks; p++) {
        g_bank.packs[p].discharge_fet = false;
    }
    sim_charger_t c;
    sim_charger_init(&c);
    c.load_a = 200;
    sim_can_frame_t f = frame_351(56.0, 50, 100);
    sim_charger_on_frame(&c, &f, 0);
    assert_true(sim_charger_decide(&c, &g_bank, 0) == 0.0);
}

/* Nothing before the first 0x351; at most 3 s after the last one it obeys,
 * then stops; a fresh frame brings it back. */
static void test_charger_stops_without_351(void **state)
{
    (void)state;
    bank_at(0.5);
    sim_charger_t c;
    sim_charger_init(&c);
    c.charge_avail_a = 40;
    assert_true(sim_charger_decide(&c, &g_bank, 0) == 0.0);
    assert_false(c.active);
    sim_can_frame_t f = frame_351(56.0, 50, 50);
    sim_charger_on_frame(&c, &f, 10000000);
    static const struct {
        uint64_t now_us;
        double want_a;
    } rows[] = {
        {10000000, 40}, {11000000, 40}, {13000000, 40}, {13000001, 0}, {60000000, 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        double i = sim_charger_decide(&c, &g_bank, rows[r].now_us);
        if (!NEAR(i, rows[r].want_a, 1e-9) || c.active != (rows[r].want_a != 0)) {
            fail_msg("row %zu: %.3f A at %llu us, active %d", r, i,
                     (unsigned long long)rows[r].now_us, c.active);
        }
    }
    /* A short frame does not refresh the limits. */
    sim_can_frame_t bad = f;
    bad.dlc = 4;
    sim_charger_on_frame(&c, &bad, 60000000);
    assert_true(sim_charger_decide(&c, &g_bank, 60000000) == 0.0);
    sim_charger_on_frame(&c, &f, 60000000);
    assert_true(NEAR(sim_charger_decide(&c, &g_bank, 60500000), 40.0, 1e-9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charger_decodes_351),
        cmocka_unit_test(test_charger_obeys_ccl),
        cmocka_unit_test(test_charger_holds_cvl),
        cmocka_unit_test(test_charger_obeys_dcl),
        cmocka_unit_test(test_charger_stops_without_351),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
