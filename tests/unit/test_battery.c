/* SPDX-License-Identifier: MIT */
/* Unit tests of sim battery physics: LFP OCV curve, rng, packs and banks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "sim/battery.h"
#include "sim/lfp_cell.h"
#include "sim/rng.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

static void test_lfp_ocv_table_points(void **state)
{
    (void)state;
    static const struct {
        double soc;
        double v;
    } rows[] = {
        {0.00, 2.50}, {0.01, 2.80}, {0.03, 3.00}, {0.05, 3.10}, {0.10, 3.20}, {0.20, 3.25},
        {0.30, 3.275}, {0.40, 3.29}, {0.50, 3.30}, {0.60, 3.31}, {0.70, 3.325}, {0.80, 3.335},
        {0.90, 3.345}, {0.95, 3.36}, {0.98, 3.40}, {0.99, 3.45}, {1.00, 3.55},
        {0.55, 3.305},   /* interpolated midway */
        {1.005, 4.05},   /* overcharge: +0.1 V per 0.1 % */
        {1.20, 4.5},     /* clamped */
        {-0.002, 2.30},  /* over-discharge */
        {-0.5, 2.0},     /* clamped */
        {NAN, 2.0},      /* garbage never yields NaN */
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        double v = sim_lfp_ocv(rows[r].soc);
        if (!NEAR(v, rows[r].v, 1e-9)) {
            fail_msg("row %zu: ocv(%.4f) = %.6f, want %.6f", r, rows[r].soc, v, rows[r].v);
        }
    }
}

static void test_lfp_ocv_monotonic(void **state)
{
    (void)state;
    double prev = sim_lfp_ocv(-0.1);
    for (int i = -999; i <= 1200; i++) {
        double soc = i / 1000.0;
        double v = sim_lfp_ocv(soc);
        if (v < prev || v < 2.0 || v > 4.5) {
            fail_msg("soc %.3f: %.6f after %.6f", soc, v, prev);
        }
        prev = v;
    }
}

static void test_rng_deterministic(void **state)
{
    (void)state;
    sim_rng_t a, b, c;
    sim_rng_seed(&a, 12345);
    sim_rng_seed(&b, 12345);
    sim_rng_seed(&c, 12346);
    int same_as_other_seed = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a);
        uint64_t y = sim_rng_next(&b);
        if (x != y) {
            fail_msg("draw %d: %llx vs %llx with the same seed", i, (unsigned long long)x,
                     (unsigned long long)y);
        }
        same_as_other_seed += x == sim_rng_next(&c);
    }
    assert_int_equal(same_as_other_seed, 0);
    /* Normal draws: same seed, same values; sample moments near (0, 1). */
    sim_rng_seed(&a, 7);
    sim_rng_seed(&b, 7);
    double sum = 0, sum2 = 0;
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        double x = sim_rng_normal(&a);
        assert_true(x == sim_rng_normal(&b));
        sum += x;
        sum2 += x * x;
    }
    double mean = sum / N;
    double sd = sqrt(sum2 / N - mean * mean);
    if (!NEAR(mean, 0.0, 0.02) || !NEAR(sd, 1.0, 0.02)) {
        fail_msg("normal: mean %.4f sd %.4f", mean, sd);
    }
    for (int i = 0; i < 1000; i++) {
        double u = sim_rng_uniform(&a);
        assert_true(u >= 0.0 && u < 1.0);
    }
}

static sim_pack_spec_t spec16(double cap_ah, double soc)
{
    return (sim_pack_spec_t){.ncells = 16, .capacity_ah = cap_ah, .soc = soc, .temp_c = 25.0};
}

static void test_battery_pack_init(void **state)
{
    (void)state;
    sim_rng_t rng;
    sim_pack_t p, q;
    sim_pack_spec_t sp = spec16(100, 0.5);
    sp.capacity_spread = 0.02;
    sp.soc_spread = 0.01;
    sim_rng_seed(&rng, 1);
    sim_pack_init(&p, &sp, &rng);
    sim_rng_seed(&rng, 1);
    sim_pack_init(&q, &sp, &rng);
    assert_int_equal(p.ncells, 16);
    assert_true(p.charge_fet && p.discharge_fet && !p.disconnected);
    int differ = 0;
    for (int i = 0; i < 16; i++) {
        const sim_cell_t *c = &p.cells[i];
        if (c->soc != q.cells[i].soc || c->capacity_ah != q.cells[i].capacity_ah) {
            fail_msg("cell %d: same seed, different pack", i);
        }
        if (!NEAR(c->r_ohm, 0.25e-3, 1e-12) || c->soc < 0.45 || c->soc > 0.55 ||
            c->capacity_ah < 90 || c->capacity_ah > 110 || c->temp_c != 25.0) {
            fail_msg("cell %d: soc %.4f cap %.2f r %.6f", i, c->soc, c->capacity_ah, c->r_ohm);
        }
        differ += c->soc != 0.5;
    }
    assert_true(differ > 10); /* the spread was applied */
    assert_true(NEAR(sim_pack_soc(&p), 0.5, 0.01));
    /* Default resistance scales with capacity; ncells is clamped. */
    sim_pack_spec_t big = spec16(200, 0.5);
    big.ncells = 99;
    sim_pack_init(&q, &big, &rng);
    assert_int_equal(q.ncells, SIM_MAX_CELLS);
    assert_true(NEAR(q.cells[0].r_ohm, 0.125e-3, 1e-12));
}

/* Two parallel packs at different SOC under a charge current: the emptier
 * pack (lower OCV) takes more of it; currents add up to the total. */
static void test_battery_parallel_lower_soc_takes_more(void **state)
{
    (void)state;
    static const struct {
        double soc_a, soc_b, total_a;
    } rows[] = {{0.30, 0.70, 50.0}, {0.60, 0.90, 100.0}, {0.20, 0.25, 20.0}};
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_rng_t rng;
        static sim_bank_t b;
        sim_rng_seed(&rng, 3);
        sim_bank_init(&b, 25.0);
        sim_bank_add(&b, &(sim_pack_spec_t){.ncells = 16, .capacity_ah = 100, .soc = rows[r].soc_a,
                                            .temp_c = 25}, &rng);
        sim_bank_add(&b, &(sim_pack_spec_t){.ncells = 16, .capacity_ah = 100, .soc = rows[r].soc_b,
                                            .temp_c = 25}, &rng);
        double soc_a0 = sim_pack_soc(&b.packs[0]);
        double soc_b0 = sim_pack_soc(&b.packs[1]);
        sim_bank_step(&b, 1.0, rows[r].total_a);
        double ia = b.packs[0].current_a;
        double ib = b.packs[1].current_a;
        if (!(ia > ib) || !NEAR(ia + ib, rows[r].total_a, 1e-6) ||
            !NEAR(b.current_a, rows[r].total_a, 1e-6)) {
            fail_msg("row %zu: low-SOC pack %.2f A, high-SOC pack %.2f A", r, ia, ib);
        }
        double gain_a = sim_pack_soc(&b.packs[0]) - soc_a0;
        double gain_b = sim_pack_soc(&b.packs[1]) - soc_b0;
        if (!(gain_a > gain_b)) {
            fail_msg("row %zu: soc gain %.6f vs %.6f", r, gain_a, gain_b);
        }
        /* Both packs sit at the bus voltage. */
        double va = b.packs[0].voltage_v, vb = b.packs[1].voltage_v;
        if (!NEAR(va, vb, 0.01) || !NEAR(va, b.voltage_v, 0.01)) {
            fail_msg("row %zu: pack voltages %.3f / %.3f, bus %.3f", r, va, vb, b.voltage_v);
        }
    }
}

/* Uncontrolled charge: cell voltage runs away past 3.6 V and the pack BMS
 * opens its charge FET at 3.75 V; afterwards the bank takes no charge, can
 * still discharge, and the FET closes again only below 3.45 V. */
static void test_battery_overcharge_opens_charge_fet(void **state)
{
    (void)state;
    sim_rng_t rng;
    static sim_bank_t b;
    sim_rng_seed(&rng, 9);
    sim_bank_init(&b, 25.0);
    sim_bank_add(&b, &(sim_pack_spec_t){.ncells = 16, .capacity_ah = 100, .soc = 0.97,
                                        .temp_c = 25}, &rng);
    double vmax = 0, prev_vmax = 0;
    int steps = 0;
    while (b.packs[0].charge_fet && steps < 36000) {
        sim_bank_step(&b, 1.0, 50.0);
        sim_bank_cell_extremes(&b, NULL, &vmax, NULL, NULL);
        if (b.packs[0].charge_fet && vmax < prev_vmax - 1e-9) {
            fail_msg("step %d: max cell fell from %.4f to %.4f while charging", steps,
                     prev_vmax, vmax);
        }
        prev_vmax = vmax;
        steps++;
    }
    assert_false(b.packs[0].charge_fet);
    if (vmax < 3.75 || vmax > 3.85) {
        fail_msg("charge FET opened with max cell %.4f V", vmax);
    }
    assert_true(sim_pack_soc(&b.packs[0]) > 0.99);
    /* Charge is now refused and recorded; discharge still flows. */
    uint64_t blocked0 = b.blocked_steps;
    sim_bank_step(&b, 1.0, 50.0);
    assert_true(b.current_a == 0.0);
    assert_true(b.packs[0].current_a == 0.0);
    assert_int_equal(b.blocked_steps, blocked0 + 1);
    double ocv, r;
    assert_false(sim_bank_thevenin(&b, true, &ocv, &r));
    assert_true(sim_bank_thevenin(&b, false, &ocv, &r));
    sim_bank_step(&b, 10.0, -100.0);
    assert_true(NEAR(b.current_a, -100.0, 1e-9));
    assert_false(b.packs[0].charge_fet); /* still above 3.45 V */
    for (int i = 0; i < 600 && !b.packs[0].charge_fet; i++) {
        sim_bank_step(&b, 60.0, -100.0);
    }
    assert_true(b.packs[0].charge_fet);
    sim_bank_cell_extremes(&b, NULL, &vmax, NULL, NULL);
    assert_true(vmax <= 3.45);
}

/* Deep discharge opens the discharge FET at 2.30 V; charging still works
 * and the FET closes once every cell is back at 2.80 V. */
static void test_battery_overdischarge_opens_discharge_fet(void **state)
{
    (void)state;
    sim_rng_t rng;
    static sim_bank_t b;
    sim_rng_seed(&rng, 10);
    sim_bank_init(&b, 25.0);
    sim_bank_add(&b, &(sim_pack_spec_t){.ncells = 16, .capacity_ah = 100, .soc = 0.05,
                                        .temp_c = 25}, &rng);
    int steps = 0;
    while (b.packs[0].discharge_fet && steps < 36000) {
        sim_bank_step(&b, 1.0, -50.0);
        steps++;
    }
    assert_false(b.packs[0].discharge_fet);
    double vmin;
    sim_bank_cell_extremes(&b, &vmin, NULL, NULL, NULL);
    assert_true(vmin <= 2.30 && vmin > 2.1);
    sim_bank_step(&b, 1.0, -50.0);
    assert_true(b.current_a == 0.0);
    sim_bank_step(&b, 1.0, 20.0);
    assert_true(NEAR(b.current_a, 20.0, 1e-9));
    for (int i = 0; i < 600 && !b.packs[0].discharge_fet; i++) {
        sim_bank_step(&b, 10.0, 20.0);
    }
    assert_true(b.packs[0].discharge_fet);
}

/* A pack whose charge FET is open takes no charge: the other pack takes all
 * of it; a disconnected pack takes nothing and leaves the extremes. */
static void test_battery_blocked_and_disconnected_packs(void **state)
{
    (void)state;
    sim_rng_t rng;
    static sim_bank_t b;
    sim_rng_seed(&rng, 11);
    sim_bank_init(&b, 25.0);
    for (int i = 0; i < 3; i++) {
        {
            sim_pack_spec_t sp = spec16(100, 0.5);
            sim_bank_add(&b, &sp, &rng);
        }
    }
    b.packs[0].charge_fet = false;
    b.packs[2].disconnected = true;
    b.packs[2].cells[3].temp_c = 60.0;
    sim_bank_step(&b, 1.0, 80.0);
    assert_true(b.packs[0].current_a == 0.0);
    assert_true(NEAR(b.packs[1].current_a, 80.0, 1e-9));
    assert_true(b.packs[2].current_a == 0.0);
    double tmax;
    sim_bank_cell_extremes(&b, NULL, NULL, NULL, &tmax);
    assert_true(tmax < 30.0);
    /* Thevenin of two equal allowed packs: half the resistance. */
    b.packs[0].charge_fet = true;
    double ocv, r;
    assert_true(sim_bank_thevenin(&b, true, &ocv, &r));
    assert_true(NEAR(r, 16 * 0.25e-3 / 2, 1e-9));
    assert_true(NEAR(ocv, 16 * sim_lfp_ocv(0.5), 0.05));
}

/* A temperature set by a scenario persists for tens of minutes and heads
 * toward ambient with a time constant of about an hour. */
static void test_battery_temperature_drift(void **state)
{
    (void)state;
    sim_rng_t rng;
    static sim_bank_t b;
    sim_rng_seed(&rng, 12);
    sim_bank_init(&b, 25.0);
    {
            sim_pack_spec_t sp = spec16(100, 0.5);
            sim_bank_add(&b, &sp, &rng);
        }
    for (int i = 0; i < 16; i++) {
        b.packs[0].cells[i].temp_c = -5.0;
    }
    for (int i = 0; i < 600; i++) {
        sim_bank_step(&b, 1.0, 0.0);
    }
    double t10 = b.packs[0].cells[0].temp_c;
    if (t10 > 0.0 || t10 < -5.0 + 1.0) {
        fail_msg("after 10 min at 25 C ambient: %.3f C", t10);
    }
    for (int i = 0; i < 3000; i++) {
        sim_bank_step(&b, 1.0, 0.0);
    }
    double t60 = b.packs[0].cells[0].temp_c;
    /* 1 h: 1 - 1/e of the 30 K gap closed. */
    assert_true(NEAR(t60, 25.0 - 30.0 * exp(-1.0), 0.5));
}

/* A cell's bleed current (a balancer's load resistor) drains that cell only:
 * 1 A for 1 h on a 100 Ah cell takes 1 % of its SOC, its neighbours and the
 * pack current are untouched, and a bleed of 0 changes nothing. */
static void test_battery_bleed_drains_one_cell(void **state)
{
    (void)state;
    sim_rng_t rng;
    static sim_bank_t b;
    sim_rng_seed(&rng, 13);
    sim_bank_init(&b, 25.0);
    {
        sim_pack_spec_t sp = spec16(100, 0.5);
        sim_bank_add(&b, &sp, &rng);
    }
    sim_pack_t *p = &b.packs[0];
    double soc0[16];
    for (int i = 0; i < 16; i++) {
        soc0[i] = p->cells[i].soc;
    }
    p->cells[3].bleed_a = 1.0;
    for (int i = 0; i < 3600; i++) {
        sim_bank_step(&b, 1.0, 0.0);
    }
    for (int i = 0; i < 16; i++) {
        double want = i == 3 ? soc0[i] - 0.01 : soc0[i];
        if (!NEAR(p->cells[i].soc, want, 1e-9)) {
            fail_msg("cell %d: soc %.9f, want %.9f", i, p->cells[i].soc, want);
        }
    }
    assert_true(NEAR(p->current_a, 0.0, 1e-12));
    assert_true(NEAR(p->cells[3].v, sim_lfp_ocv(p->cells[3].soc), 1e-12));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lfp_ocv_table_points),
        cmocka_unit_test(test_lfp_ocv_monotonic),
        cmocka_unit_test(test_rng_deterministic),
        cmocka_unit_test(test_battery_pack_init),
        cmocka_unit_test(test_battery_parallel_lower_soc_takes_more),
        cmocka_unit_test(test_battery_overcharge_opens_charge_fet),
        cmocka_unit_test(test_battery_overdischarge_opens_discharge_fet),
        cmocka_unit_test(test_battery_blocked_and_disconnected_packs),
        cmocka_unit_test(test_battery_temperature_drift),
        cmocka_unit_test(test_battery_bleed_drains_one_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
