/* SPDX-License-Identifier: MIT */
/* Unit tests of the charge-voltage state strategy: states, hysteresis, holds, never above the baseline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dvcc/cvl_states.h"

#define CHECK_EQ(row, actual, expected)                                                  \
    do {                                                                                 \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                  \
        if (a_ != e_) {                                                                  \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, e_); \
            fail();                                                                      \
        }                                                                                \
    } while (0)

#define STEP_MS 60000u       /* longer than min_state_ms: hysteresis alone is judged */
#define BASE_CVL_DV 600      /* a baseline above every state target for 16 cells */
#define BASE_CCL_DA 2000

static gw_bank_t bank_of(uint8_t soc, uint16_t spread_mv)
{
    gw_bank_t b;
    memset(&b, 0, sizeof(b));
    b.valid = true;
    b.packs_present = b.packs_online = 1;
    b.min_cell_count = b.max_cell_count = 16;
    b.soc_pct = soc;
    b.full_mah = 280000;
    b.min_cell_mv = 3300;
    b.max_cell_mv = (uint16_t)(3300 + spread_mv);
    b.cell_readings = 16;
    return b;
}

typedef struct out {
    uint16_t cvl_dv, ccl_da;
} out_t;

static out_t step(gw_cvl_states_t *s, uint64_t *now, uint8_t soc, uint16_t spread_mv)
{
    gw_bank_t b = bank_of(soc, spread_mv);
    out_t o = { BASE_CVL_DV, BASE_CCL_DA };
    *now += STEP_MS;
    gw_cvl_states_update(s, &b, *now, &o.cvl_dv, &o.ccl_da);
    return o;
}

/* Walk through every state and out again, with the limits each one sets. */
static void test_cvl_states_every_state_reached_and_left(void **state)
{
    (void)state;
    const struct {
        uint8_t soc;
        uint16_t spread_mv;
        gw_cvl_state_t want;
        uint16_t cvl_dv, ccl_da;
    } rows[] = {
        { 50, 20, GW_CVL_BULK, 560, BASE_CCL_DA },           /* 3.500 x 16 */
        { 95, 20, GW_CVL_TRANSITION, 560, 840 },             /* 0.30 C of 280 Ah */
        { 99, 20, GW_CVL_FLOAT_APPROACH, 552, 280 },         /* 3.450 x 16, 0.10 C */
        { 100, 20, GW_CVL_FLOAT, 540, 140 },                 /* 3.375 x 16, 0.05 C */
        { 95, 20, GW_CVL_FLOAT, 540, 140 },                  /* latched */
        { 89, 20, GW_CVL_BULK, 560, BASE_CCL_DA },           /* left below 90 */
        { 89, 150, GW_CVL_IMBALANCE_HOLD, 544, 140 },        /* 3.400 x 16 */
        { 89, 30, GW_CVL_IMBALANCE_HOLD, 544, 140 },         /* 1 min: hold_min not over */
        { 89, 30, GW_CVL_IMBALANCE_HOLD, 544, 140 },
        { 89, 30, GW_CVL_IMBALANCE_HOLD, 544, 140 },
        { 89, 30, GW_CVL_IMBALANCE_HOLD, 544, 140 },
        { 89, 30, GW_CVL_BULK, 560, BASE_CCL_DA },           /* 5 min held: released */
        { 96, 20, GW_CVL_TRANSITION, 560, 840 },
        { 92, 20, GW_CVL_BULK, 560, BASE_CCL_DA },           /* below 95 - 2 */
        { 99, 20, GW_CVL_FLOAT_APPROACH, 552, 280 },         /* straight up */
        { 96, 20, GW_CVL_TRANSITION, 560, 840 },             /* below 99 - 2 */
    };
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    uint64_t now = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        out_t o = step(&s, &now, rows[i].soc, rows[i].spread_mv);
        CHECK_EQ(i, s.state, rows[i].want);
        CHECK_EQ(i, o.cvl_dv, rows[i].cvl_dv);
        CHECK_EQ(i, o.ccl_da, rows[i].ccl_da);
        if (s.reason == NULL || strcmp(gw_cvl_state_name(s.state), "UNKNOWN") == 0) {
            fail_msg("row %zu: no reason or name", i);
        }
    }
}

/* SOC dithering +-1 % (an integer SOC of b-1, b, b+1 is what +-0.5 % around
 * b looks like after rounding) on each boundary: at most the one change that
 * crossing the entry threshold demands. */
static void test_cvl_states_no_flapping_on_soc_dither(void **state)
{
    (void)state;
    const struct {
        uint8_t prep_soc;     /* brought into the start state with this SOC */
        uint8_t center;       /* dithered around this */
        unsigned max_changes;
    } rows[] = {
        { 50, 95, 1 },   /* BULK -> TRANSITION entry */
        { 96, 93, 1 },   /* TRANSITION exit */
        { 96, 98, 1 },   /* TRANSITION -> FLOAT_APPROACH (entry at 99) */
        { 99, 97, 1 },   /* FLOAT_APPROACH exit */
        { 99, 99, 1 },   /* FLOAT entry at 100 */
        { 100, 90, 1 },  /* FLOAT latch exit */
        { 100, 95, 0 },  /* FLOAT latched over the transition boundary */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_cvl_states_t s;
        gw_cvl_cfg_t cfg;
        gw_cvl_cfg_default(&cfg);
        cfg.absorption_max_ms = 0; /* SOC alone decides here */
        gw_cvl_states_init(&s, &cfg);
        uint64_t now = 0;
        (void)step(&s, &now, rows[i].prep_soc, 20);
        uint32_t before = s.transitions;
        for (unsigned k = 0; k < 90; k++) {
            static const int dither[] = { 0, 1, 0, -1 };
            (void)step(&s, &now, (uint8_t)(rows[i].center + dither[k % 4]), 20);
        }
        if (s.transitions - before > rows[i].max_changes) {
            fail_msg("row %zu: %u state changes while SOC dithered around %u", i,
                     (unsigned)(s.transitions - before), rows[i].center);
        }
    }
}

static void test_cvl_states_imbalance_hold_enter_release(void **state)
{
    (void)state;
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    uint64_t now = 0;
    (void)step(&s, &now, 60, 100);
    CHECK_EQ(0, s.state, GW_CVL_BULK);             /* 100 mV is not > 100 */
    (void)step(&s, &now, 60, 101);
    CHECK_EQ(1, s.state, GW_CVL_IMBALANCE_HOLD);
    for (unsigned k = 0; k < 10; k++) {
        (void)step(&s, &now, 60, 45);              /* above the 40 mV release */
        CHECK_EQ(2, s.state, GW_CVL_IMBALANCE_HOLD);
    }
    (void)step(&s, &now, 60, 40);                  /* not below 40 */
    CHECK_EQ(3, s.state, GW_CVL_IMBALANCE_HOLD);
    (void)step(&s, &now, 60, 39);
    CHECK_EQ(4, s.state, GW_CVL_BULK);
    /* Entry is immediate even inside the dwell time. */
    gw_bank_t b = bank_of(60, 200);
    uint16_t cvl = BASE_CVL_DV, ccl = BASE_CCL_DA;
    gw_cvl_states_update(&s, &b, now + 1, &cvl, &ccl);
    CHECK_EQ(5, s.state, GW_CVL_IMBALANCE_HOLD);
    CHECK_EQ(5, cvl, 544);
}

static void test_cvl_states_dwell_time_holds_soc_state(void **state)
{
    (void)state;
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    gw_bank_t b = bank_of(50, 20);
    uint16_t cvl = BASE_CVL_DV, ccl = BASE_CCL_DA;
    gw_cvl_states_update(&s, &b, 1000, &cvl, &ccl);
    b.soc_pct = 96;
    gw_cvl_states_update(&s, &b, 1000 + 19999, &cvl, &ccl);
    CHECK_EQ(0, s.state, GW_CVL_BULK);
    gw_cvl_states_update(&s, &b, 1000 + 20000, &cvl, &ccl);
    CHECK_EQ(1, s.state, GW_CVL_TRANSITION);
}

static void test_cvl_states_absorption_time_ends_in_float(void **state)
{
    (void)state;
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    uint64_t now = 0;
    (void)step(&s, &now, 99, 20);
    CHECK_EQ(0, s.state, GW_CVL_FLOAT_APPROACH);
    for (unsigned k = 0; k < 119; k++) {           /* 2 h at 1 min steps, less one */
        (void)step(&s, &now, 99, 20);
    }
    CHECK_EQ(1, s.state, GW_CVL_FLOAT_APPROACH);
    (void)step(&s, &now, 99, 20);
    CHECK_EQ(2, s.state, GW_CVL_FLOAT);
}

/* Whatever the input, the outputs never exceed what the baseline computed. */
static void test_cvl_states_never_above_baseline(void **state)
{
    (void)state;
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    uint32_t seed = 7;
    uint64_t now = 0;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1664525u + 1013904223u;
        gw_bank_t b = bank_of((uint8_t)((seed >> 8) % 101), (uint16_t)((seed >> 16) % 300));
        b.min_cell_count = (uint8_t)(1 + (seed >> 4) % 32);
        b.full_mah = (seed >> 3) % 3 == 0 ? 0 : (seed >> 2) % 2000000u;
        uint16_t base_cvl = (uint16_t)((seed >> 12) % 1200);
        uint16_t base_ccl = (uint16_t)((seed >> 5) % 5000);
        uint16_t cvl = base_cvl, ccl = base_ccl;
        now += (seed >> 20) % 40000;
        gw_cvl_states_update(&s, &b, now, &cvl, &ccl);
        if (cvl > base_cvl || ccl > base_ccl) {
            fail_msg("row %d: cvl %u > %u or ccl %u > %u", i, cvl, base_cvl, ccl, base_ccl);
        }
        /* And never above the bulk target per cell. */
        if ((uint32_t)cvl * 100u > 3500u * b.min_cell_count) {
            fail_msg("row %d: cvl %u above 3.50 V x %u", i, cvl, b.min_cell_count);
        }
    }
}

static void test_cvl_states_defaults_below_abs_max(void **state)
{
    (void)state;
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    CHECK_EQ(0, s.cfg.bulk_cell_mv < s.cfg.cell_abs_max_mv, true);
    CHECK_EQ(0, s.cfg.float_cell_mv, 3375);
    gw_cvl_cfg_t cfg;
    gw_cvl_cfg_default(&cfg);
    cfg.bulk_cell_mv = 3650;        /* at the absolute maximum: clamped */
    cfg.float_cell_mv = 3700;       /* above bulk: clamped under approach */
    cfg.imbalance_release_mv = 150; /* not below the hold threshold */
    gw_cvl_states_init(&s, &cfg);
    CHECK_EQ(1, s.cfg.bulk_cell_mv, 3600);
    CHECK_EQ(2, s.cfg.float_cell_mv, 3550);
    CHECK_EQ(3, s.cfg.imbalance_release_mv < s.cfg.imbalance_hold_mv, true);
}

static void test_cvl_states_invalid_bank_leaves_limits(void **state)
{
    (void)state;
    gw_cvl_states_t s;
    gw_cvl_states_init(&s, NULL);
    gw_bank_t b = bank_of(100, 200);
    b.valid = false;
    uint16_t cvl = 500, ccl = 0;
    gw_cvl_states_update(&s, &b, 1000, &cvl, &ccl);
    CHECK_EQ(0, cvl, 500);
    CHECK_EQ(0, ccl, 0);
    CHECK_EQ(0, s.transitions, 0);
    gw_cvl_states_update(&s, NULL, 1000, &cvl, &ccl);
    CHECK_EQ(1, cvl, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cvl_states_every_state_reached_and_left),
        cmocka_unit_test(test_cvl_states_no_flapping_on_soc_dither),
        cmocka_unit_test(test_cvl_states_imbalance_hold_enter_release),
        cmocka_unit_test(test_cvl_states_dwell_time_holds_soc_state),
        cmocka_unit_test(test_cvl_states_absorption_time_ends_in_float),
        cmocka_unit_test(test_cvl_states_never_above_baseline),
        cmocka_unit_test(test_cvl_states_defaults_below_abs_max),
        cmocka_unit_test(test_cvl_states_invalid_bank_leaves_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
