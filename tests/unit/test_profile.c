/* SPDX-License-Identifier: MIT */
/* Unit tests of sim/profile (constant, ramp, day curve) and the scenario's
 * system over time (harness/scenario_system.c: profile or plain number, events). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness/scenario.h"
#include "sim/profile.h"

#define H 3600.0

static void test_profile_values_at_times(void **state)
{
    (void)state;
    static const sim_profile_t constant = {.kind = SIM_PROFILE_CONSTANT, .a_a = 20};
    static const sim_profile_t ramp = {.kind = SIM_PROFILE_RAMP, .from_a = 10, .to_a = 40,
                                       .over_s = 2 * H};
    static const sim_profile_t down = {.kind = SIM_PROFILE_RAMP, .from_a = 40, .to_a = 0,
                                       .over_s = 100};
    static const sim_profile_t step = {.kind = SIM_PROFILE_RAMP, .from_a = 5, .to_a = 9};
    static const sim_profile_t day = {.kind = SIM_PROFILE_DAY, .peak_a = 40, .sunrise_s = 6 * H,
                                      .sunset_s = 20 * H};
    static const sim_profile_t bad_day = {.kind = SIM_PROFILE_DAY, .peak_a = 40,
                                          .sunrise_s = 20 * H, .sunset_s = 6 * H};
    static const sim_profile_t none = {.kind = SIM_PROFILE_NONE, .a_a = 99};
    static const struct {
        const sim_profile_t *p;
        double t_s, want_a;
    } rows[] = {
        {&constant, 0, 20},      {&constant, 1e7, 20},   {&constant, -5, 20},
        {&ramp, 0, 10},          {&ramp, 1 * H, 25},     {&ramp, 2 * H, 40},
        {&ramp, 9 * H, 40},      {&ramp, -1, 10},        {&ramp, NAN, 10},
        {&down, 25, 30},         {&down, 100, 0},        {&step, 0, 9},
        {&day, 0, 0},            {&day, 6 * H, 0},       {&day, 13 * H, 40},
        {&day, 9.5 * H, 40 * 0.70710678118654752}, /* a quarter of the way: sin(pi/4) */
        {&day, 20 * H, 0},       {&day, 23 * H, 0},      {&day, 37 * H, 40}, /* next noon */
        {&bad_day, 13 * H, 0},   {&none, 10, 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        double v = sim_profile_at(rows[r].p, rows[r].t_s);
        if (!(fabs(v - rows[r].want_a) <= 1e-9)) {
            fail_msg("row %zu: %s at %g s = %.9f, want %.9f", r,
                     sim_profile_kind_name(rows[r].p->kind), rows[r].t_s, v, rows[r].want_a);
        }
    }
}

static void test_profile_validity(void **state)
{
    (void)state;
    static const struct {
        sim_profile_t p;
        bool valid;
    } rows[] = {
        {{.kind = SIM_PROFILE_NONE}, true},
        {{.kind = SIM_PROFILE_CONSTANT, .a_a = 0}, true},
        {{.kind = SIM_PROFILE_CONSTANT, .a_a = -1}, false},
        {{.kind = SIM_PROFILE_CONSTANT, .a_a = INFINITY}, false},
        {{.kind = SIM_PROFILE_RAMP, .from_a = 1, .to_a = 2, .over_s = 0}, true},
        {{.kind = SIM_PROFILE_RAMP, .from_a = 1, .to_a = 2, .over_s = -1}, false},
        {{.kind = SIM_PROFILE_RAMP, .from_a = NAN, .to_a = 2, .over_s = 1}, false},
        {{.kind = SIM_PROFILE_DAY, .peak_a = 1, .sunrise_s = 0, .sunset_s = 86400}, true},
        {{.kind = SIM_PROFILE_DAY, .peak_a = 1, .sunrise_s = 0, .sunset_s = 86401}, false},
        {{.kind = SIM_PROFILE_DAY, .peak_a = 1, .sunrise_s = 5, .sunset_s = 5}, false},
        {{.kind = (sim_profile_kind_t)77}, false},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        if (sim_profile_valid(&rows[r].p) != rows[r].valid) {
            fail_msg("row %zu: valid %d, want %d", r, !rows[r].valid, rows[r].valid);
        }
    }
    assert_string_equal(sim_profile_kind_name((sim_profile_kind_t)77), "?");
    assert_string_equal(sim_profile_kind_name(SIM_PROFILE_DAY), "day");
}

/* The runner's view: a profile when set, else the plain number; an event's
 * constant replaces the profile. */
static void test_profile_system_pv_and_load(void **state)
{
    (void)state;
    bench_system_cfg_t s = {.charger_a = 50, .load_a = 10};
    assert_true(bench_system_pv_a(&s, 3 * H) == 50);
    assert_true(bench_system_load_a(&s, 3 * H) == 10);
    s.pv = (sim_profile_t){.kind = SIM_PROFILE_DAY, .peak_a = 30, .sunrise_s = 6 * H,
                           .sunset_s = 18 * H};
    s.load = (sim_profile_t){.kind = SIM_PROFILE_RAMP, .from_a = 0, .to_a = 40, .over_s = 4 * H};
    assert_true(fabs(bench_system_pv_a(&s, 12 * H) - 30) < 1e-9);
    assert_true(bench_system_pv_a(&s, 3 * H) == 0);
    assert_true(fabs(bench_system_load_a(&s, 1 * H) - 10) < 1e-9);
    bench_system_set_pv_a(&s, 7);
    bench_system_set_load_a(&s, 3);
    assert_true(bench_system_pv_a(&s, 12 * H) == 7);
    assert_true(bench_system_load_a(&s, 1 * H) == 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_values_at_times),
        cmocka_unit_test(test_profile_validity),
        cmocka_unit_test(test_profile_system_pv_and_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
