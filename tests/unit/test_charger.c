/* SPDX-License-Identifier: MIT */
/* Unit tests of sim/charger: 0x351 decoding, CCL, CVL, DCL, stop on silence,
 * the 3 s write period, smoothing, the Multi/solar split, DCL 0, a CVL below the bank. */
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
        {100, 80, 50, 20},  /* load takes the rest (PV limit = CCL + the Multi's draw) */
        {100, 0, 0, 0},     /* CCL 0 stops charging */
        {100, 30, 0, 0},    /* CCL 0: PV still feeds the loads, the battery stays at 0 */
    };
    bank_at(0.5);
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_charger_t c;
        sim_charger_init(&c);
        c.charge_avail_a = rows[r].avail_a;
        c.load_a = rows[r].load_a;
        double i = 0;
        /* Two minutes of the 1 s loop with fresh frames: the filters settle. */
        for (uint64_t t_s = 0; t_s <= 120; t_s++) {
            sim_can_frame_t f = frame_351(56.0, rows[r].ccl_a, 100);
            sim_charger_on_frame(&c, &f, t_s * 1000000u);
            i = sim_charger_decide(&c, &g_bank, t_s * 1000000u + 500000u);
            if (i > rows[r].ccl_a + 1e-9) {
                fail_msg("row %zu: %.3f A above CCL %.1f at %llu s", r, i, rows[r].ccl_a,
                         (unsigned long long)t_s);
            }
        }
        i = round(i * 1000) / 1000; /* the filters approach, they never arrive */
        if (!NEAR(i, rows[r].want_a, 1e-6) || !c.active) {
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

/* One step of the GX loop at t_s with a fresh 0x351. */
static double loop_step(sim_charger_t *c, double t_s, double cvl_v, double ccl_a, double dcl_a)
{
    uint64_t now_us = (uint64_t)llround(t_s * 1e6);
    sim_can_frame_t f = frame_351(cvl_v, ccl_a, dcl_a);
    sim_charger_on_frame(c, &f, now_us);
    return sim_charger_decide(c, &g_bank, now_us);
}

/* The GX writes limits only every 3 s: a lower CCL takes effect at the next
 * write, not at the frame (A.8, ADJUST = 3). */
static void test_charger_applies_limits_every_3s(void **state)
{
    (void)state;
    bank_at(0.5);
    sim_charger_t c;
    sim_charger_init(&c);
    c.charge_avail_a = 100;
    static const struct {
        double t_s, ccl_a, want_a;
        unsigned applies;
    } rows[] = {
        {0, 80, 80, 1},  /* first frame: written at once */
        {1, 10, 80, 1},  /* new CCL received, old one still applied */
        {2, 10, 80, 1},
        {3, 10, 10, 2},  /* the 3 s write */
        {4, 60, 10, 2},
        {5, 60, 10, 2},
        {6, 60, 60, 3},
        {7, 0, 60, 3},
        {9, 0, 0, 4},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        double i = loop_step(&c, rows[r].t_s, 56.0, rows[r].ccl_a, 100);
        if (!NEAR(i, rows[r].want_a, 1e-9) || c.applies != rows[r].applies) {
            fail_msg("row %zu: %.3f A (want %.3f), %llu writes (want %u)", r, i, rows[r].want_a,
                     (unsigned long long)c.applies, rows[r].applies);
        }
    }
}

/* The smoothed solar current follows a first-order filter with factor 2pi/20
 * per second, the Multi's with 2pi/30 (A.8). */
static void test_charger_smooths_currents(void **state)
{
    (void)state;
    bank_at(0.5);
    sim_charger_t c;
    sim_charger_init(&c);
    c.charge_avail_a = 40; /* PV only: solar 40 A, Multi 0 */
    double want = 0;
    for (int n = 1; n <= 20; n++) {
        loop_step(&c, n, 56.0, 100, 100);
        want += SIM_CHARGER_SOLAR_FILTER * (40.0 - want);
        if (!NEAR(c.solar_a, 40.0, 1e-9) || !NEAR(c.solar_smooth_a, want, 1e-9)) {
            fail_msg("step %d: solar %.4f smoothed %.6f, want %.6f", n, c.solar_a,
                     c.solar_smooth_a, want);
        }
    }
    /* Now a load: the Multi draws 30 A; its filter is the slower one. */
    c.charge_avail_a = 0;
    c.load_a = 30;
    double m = 0;
    for (int n = 21; n <= 40; n++) {
        loop_step(&c, n, 56.0, 100, 100);
        m += SIM_CHARGER_MULTI_FILTER * (-30.0 - m);
        if (!NEAR(c.multi_a, -30.0, 1e-9) || !NEAR(c.multi_smooth_a, m, 1e-9)) {
            fail_msg("step %d: multi %.4f smoothed %.6f, want %.6f", n, c.multi_a,
                     c.multi_smooth_a, m);
        }
    }
    /* A 2 s gap counts as two filter steps: 1 - (1 - k)^2. */
    double before = c.multi_smooth_a;
    loop_step(&c, 42, 56.0, 100, 100);
    double k2 = 1.0 - pow(1.0 - SIM_CHARGER_MULTI_FILTER, 2.0);
    assert_true(NEAR(c.multi_smooth_a, before + k2 * (-30.0 - before), 1e-9));
}

/* CCL shared between the solar chargers and the Multi: the Multi gets
 * max(0, round(CCL - smoothed solar)), the battery never more than CCL. */
static void test_charger_splits_ccl_multi_solar(void **state)
{
    (void)state;
    static const struct {
        double pv_a, multi_ac_a, ccl_a;
        double want_solar_a, want_multi_limit_a, want_multi_a, want_i_a;
    } rows[] = {
        {30, 100, 50, 30, 20, 20, 50},  /* PV first, the Multi tops up to CCL */
        {80, 100, 50, 50, 0, 0, 50},    /* PV alone reaches CCL: the Multi gets 0 */
        {0, 100, 50, 0, 50, 50, 50},    /* no sun: the Multi charges at CCL */
        {30, 5, 50, 30, 20, 5, 35},     /* the Multi's AC input is the limit */
        {30, 100, 0, 0, 0, 0, 0},       /* CCL 0: nobody charges */
    };
    bank_at(0.5);
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_charger_t c;
        sim_charger_init(&c);
        c.charge_avail_a = rows[r].pv_a;
        c.multi_charge_a = rows[r].multi_ac_a;
        double i = 0;
        for (int t = 0; t <= 120; t++) {
            i = loop_step(&c, t, 56.0, rows[r].ccl_a, 100);
            if (i > rows[r].ccl_a + 1e-9) {
                fail_msg("row %zu: %.3f A above CCL at %d s", r, i, t);
            }
        }
        if (!NEAR(c.solar_a, rows[r].want_solar_a, 1e-3) ||
            !NEAR(c.multi_limit_a, rows[r].want_multi_limit_a, 1e-9) ||
            !NEAR(c.multi_a, rows[r].want_multi_a, 1e-3) || !NEAR(i, rows[r].want_i_a, 1e-3)) {
            fail_msg("row %zu: solar %.3f multi limit %.1f multi %.3f battery %.3f", r, c.solar_a,
                     c.multi_limit_a, c.multi_a, i);
        }
    }
}

/* DCL 0 stops the inverter: its loads are dropped, nothing is discharged,
 * and it starts again when DCL rises (A.10). */
static void test_charger_dcl_zero_stops_inverting(void **state)
{
    (void)state;
    bank_at(0.5);
    sim_charger_t c;
    sim_charger_init(&c);
    c.load_a = 40;
    static const struct {
        double t_s, dcl_a, want_a;
        bool inverting;
    } rows[] = {
        {0, 100, -40, true}, {1, 0, -40, true}, {3, 0, 0, false},
        {4, 0, 0, false},    {6, 20, -20, true}, {9, 100, -40, true},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        double i = loop_step(&c, rows[r].t_s, 56.0, 50, rows[r].dcl_a);
        if (!NEAR(i, rows[r].want_a, 1e-9) || c.inverting != rows[r].inverting) {
            fail_msg("row %zu: %.3f A (want %.3f), inverting %d", r, i, rows[r].want_a,
                     c.inverting);
        }
    }
}

/* A CVL below the bank's voltage makes the system discharge toward it, even
 * with no load and sun available (A.11.2); DCL 0 is the only stop. */
static void test_charger_discharges_when_cvl_below_bank(void **state)
{
    (void)state;
    static const struct {
        double cvl_v, dcl_a, pv_a;
        bool dumping;
        double max_i_a; /* the current is at most this (negative = discharging) */
    } rows[] = {
        {52.0, 100, 0, true, -1.0},
        {52.0, 100, 40, true, -1.0},    /* PV stops, the bank still goes down */
        {52.0, 0, 40, false, 0.0},      /* DCL 0: the inverter is off */
        {56.0, 100, 0, false, 0.0},     /* CVL above: nothing happens */
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        bank_at(0.9);
        double v0 = g_bank.voltage_v;
        sim_charger_t c;
        sim_charger_init(&c);
        c.charge_avail_a = rows[r].pv_a;
        double i = loop_step(&c, 0, rows[r].cvl_v, 50, rows[r].dcl_a);
        if (c.dumping != rows[r].dumping || i > rows[r].max_i_a + 1e-9 ||
            i < -c.dump_max_a - 1e-9 || (!rows[r].dumping && i < 0)) {
            fail_msg("row %zu: %.3f A, dumping %d (bank %.2f V, CVL %.1f)", r, i, c.dumping,
                     v0, rows[r].cvl_v);
        }
    }
    /* Closed loop: the bank ends near CVL, not below it. */
    bank_at(0.9);
    sim_charger_t c;
    sim_charger_init(&c);
    for (int t = 0; t < 6 * 3600; t++) {
        double i = loop_step(&c, t, 52.0, 50, 100);
        sim_bank_step(&g_bank, 1.0, i);
    }
    double ocv_v, r_ohm;
    assert_true(sim_bank_thevenin(&g_bank, false, &ocv_v, &r_ohm));
    if (!(ocv_v < 52.0 + 0.06 && ocv_v > 51.5)) {
        fail_msg("bank OCV %.3f V after 6 h at CVL 52.0", ocv_v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charger_decodes_351),
        cmocka_unit_test(test_charger_obeys_ccl),
        cmocka_unit_test(test_charger_holds_cvl),
        cmocka_unit_test(test_charger_obeys_dcl),
        cmocka_unit_test(test_charger_stops_without_351),
        cmocka_unit_test(test_charger_applies_limits_every_3s),
        cmocka_unit_test(test_charger_smooths_currents),
        cmocka_unit_test(test_charger_splits_ccl_multi_solar),
        cmocka_unit_test(test_charger_dcl_zero_stops_inverting),
        cmocka_unit_test(test_charger_discharges_when_cvl_below_bank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
