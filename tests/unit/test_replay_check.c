/* SPDX-License-Identifier: MIT */
/* Tests of the GX-side capture checks (harness/replay_check.h): each rule
 * caught on a capture that breaks it, and silent on the bench's own runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/replay_check.h"
#include "harness/runner.h"
#include "harness/signals.h"

/* One frame set of a healthy 16S gateway; fields overridable per test. */
typedef struct fset {
    unsigned cvl_dv, ccl_da, dcl_da, dvl_dv;
    unsigned soc, soh, volt_cv;
    int temp_dc;
    uint8_t alarms[8];
    uint8_t req;
    unsigned vmin_mv, vmax_mv;
    int tmin_c, tmax_c;
    uint8_t dlc351;
} fset_t;

static fset_t healthy(void)
{
    fset_t s = {552, 1000, 1500, 464, 60, 100, 5300, 215,
                {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA},
                0xC0, 3300, 3340, 20, 22, 8};
    return s;
}

static void put16(uint8_t *d, unsigned v)
{
    d[0] = (uint8_t)(v & 0xFF);
    d[1] = (uint8_t)(v >> 8);
}

static void feed_set(bench_replay_check_t *c, const fset_t *s, uint64_t t_us)
{
    uint8_t d[8];
    put16(d, s->cvl_dv), put16(d + 2, s->ccl_da), put16(d + 4, s->dcl_da), put16(d + 6, s->dvl_dv);
    bench_replay_check_frame(c, 0x351, s->dlc351, d, t_us, true);
    memset(d, 0, 8);
    put16(d, s->soc), put16(d + 2, s->soh);
    bench_replay_check_frame(c, 0x355, 8, d, t_us + 1000, true);
    memset(d, 0, 8);
    put16(d, s->volt_cv), put16(d + 2, 50), put16(d + 4, (unsigned)(uint16_t)s->temp_dc);
    bench_replay_check_frame(c, 0x356, 8, d, t_us + 2000, true);
    bench_replay_check_frame(c, 0x35A, 8, s->alarms, t_us + 3000, true);
    d[0] = s->req, d[1] = 0;
    bench_replay_check_frame(c, 0x35C, 2, d, t_us + 4000, true);
    put16(d, s->vmin_mv), put16(d + 2, s->vmax_mv);
    put16(d + 4, (unsigned)(s->tmin_c + 273)), put16(d + 6, (unsigned)(s->tmax_c + 273));
    bench_replay_check_frame(c, 0x373, 8, d, t_us + 5000, true);
}

/* A 20 s capture, one set a second; from `bad_from` s on the set is `bad`,
 * and seconds in [skip_from, skip_to) are silent. */
typedef struct rule_row {
    const char *what;
    bench_replay_rule_t rule;
    void (*mutate)(fset_t *s);
    int bad_from;
    int skip_from, skip_to;
    uint64_t want_t_us;      /* when the violation began */
} rule_row_t;

static void m_high_cell(fset_t *s) { s->vmax_mv = 3700; }
static void m_low_cell(fset_t *s) { s->vmin_mv = 2400; }
static void m_cold(fset_t *s) { s->tmin_c = -5; }
static void m_hot(fset_t *s) { s->tmax_c = 58; }
static void m_discharge_hot(fset_t *s) { s->tmax_c = 65, s->ccl_da = 0; }
static void m_cvl_high(fset_t *s) { s->cvl_dv = 600; }
static void m_req(fset_t *s) { s->req = 0x40; }
static void m_reserved(fset_t *s) { s->alarms[0] = 0xAE; }
static void m_short(fset_t *s) { s->dlc351 = 4; }
static void m_cell_scale(fset_t *s) { s->vmin_mv = 33, s->vmax_mv = 33; }
static void m_pack_scale(fset_t *s) { s->volt_cv = 530; }
static void m_temp_scale(fset_t *s) { s->temp_dc = 2150; }
static void m_limit_scale(fset_t *s) { s->ccl_da = 0xFF38; } /* -20.0 A */
static void m_none(fset_t *s) { (void)s; }

static const rule_row_t rule_rows[] = {
    {"CCL with a cell at 3.70 V", BENCH_RULE_ccl_at_high_cell, m_high_cell, 10, -1, -1, 10005000},
    {"DCL with a cell at 2.40 V", BENCH_RULE_dcl_at_low_cell, m_low_cell, 10, -1, -1, 10005000},
    {"CCL at -5 degC", BENCH_RULE_charge_cold, m_cold, 5, -1, -1, 5005000},
    {"CCL at 58 degC", BENCH_RULE_charge_hot, m_hot, 5, -1, -1, 5005000},
    {"DCL at 65 degC", BENCH_RULE_discharge_temp, m_discharge_hot, 5, -1, -1, 5005000},
    {"CVL 60.0 V for 16 cells", BENCH_RULE_cvl_above_max, m_cvl_high, 3, -1, -1, 3000000},
    {"0x35C charge off, CCL 100 A", BENCH_RULE_req_35c_vs_351, m_req, 5, -1, -1, 5004000},
    {"0x35A pair 3", BENCH_RULE_reserved_pair, m_reserved, 7, -1, -1, 7003000},
    {"0x351 with DLC 4", BENCH_RULE_frame_too_short, m_short, 7, -1, -1, 7000000},
    {"0x373 in 0.1 V units", BENCH_RULE_scaling_cell_v, m_cell_scale, 4, -1, -1, 4005000},
    {"0x356 in 0.1 V units", BENCH_RULE_scaling_pack_v, m_pack_scale, 4, -1, -1, 4002000},
    {"0x356 temperature x10", BENCH_RULE_scaling_temp, m_temp_scale, 4, -1, -1, 4002000},
    {"negative CCL", BENCH_RULE_scaling_limits, m_limit_scale, 4, -1, -1, 4000000},
    {"5 s gap in the frame set", BENCH_RULE_gap_351, m_none, 99, 10, 14, 9000000},
    {"12 s gap in the frame set", BENCH_RULE_gap_frame, m_none, 99, 5, 17, 4001000},
};

static void run_capture(bench_replay_check_t *c, const rule_row_t *r)
{
    bench_replay_profile_t p;
    char err[128];
    assert_true(bench_replay_profile_get("lifepo4", 16, &p, err, sizeof err));
    bench_replay_check_init(c, &p);
    for (int t = 0; t < 20; t++) {
        if (t >= r->skip_from && t < r->skip_to) {
            continue;
        }
        fset_t s = healthy();
        if (t >= r->bad_from) {
            r->mutate(&s);
        }
        feed_set(c, &s, (uint64_t)t * 1000000u);
    }
    bench_replay_check_finish(c);
}

static void test_replay_check_each_rule_caught(void **state)
{
    (void)state;
    bench_replay_check_t *c = malloc(sizeof *c);
    assert_non_null(c);
    for (size_t i = 0; i < sizeof rule_rows / sizeof rule_rows[0]; i++) {
        const rule_row_t *r = &rule_rows[i];
        run_capture(c, r);
        /* The rule must be reported with the time its condition began (a gap
         * in the whole frame set is one finding per frame id). */
        bool found = false;
        uint64_t other_t = 0;
        for (uint64_t k = 0; k < c->nviolations && k < BENCH_REPLAY_MAX_VIOLATIONS; k++) {
            if (c->v[k].rule == r->rule) {
                found = found || c->v[k].t_us == r->want_t_us;
                other_t = c->v[k].t_us;
            }
        }
        if (!found && other_t != 0) {
            fail_msg("row %zu (%s): %s began at %llu us, want %llu", i, r->what,
                     bench_replay_rule_names[r->rule], (unsigned long long)other_t,
                     (unsigned long long)r->want_t_us);
        }
        if (!found) {
            fail_msg("row %zu (%s): rule %s not reported (%llu other violations, first %s)", i,
                     r->what, bench_replay_rule_names[r->rule],
                     (unsigned long long)c->nviolations,
                     c->nviolations ? bench_replay_rule_names[c->v[0].rule] : "-");
        }
        bench_replay_check_free(c);
    }
    free(c);
}

/* The same captures without the fault: nothing. */
static void test_replay_check_healthy_capture_silent(void **state)
{
    (void)state;
    bench_replay_check_t *c = malloc(sizeof *c);
    assert_non_null(c);
    rule_row_t r = {"healthy", BENCH_RULE_COUNT, m_none, 99, -1, -1, 0};
    run_capture(c, &r);
    if (c->nviolations != 0) {
        fail_msg("healthy capture: %s: %s", bench_replay_rule_names[c->v[0].rule], c->v[0].values);
    }
    assert_int_equal(c->n351, 20);
    bench_replay_check_free(c);
    free(c);
}

/* A condition shorter than the grace is a reaction in progress, not a fault;
 * one episode is reported once, however long it lasts. */
static void test_replay_check_grace_and_episodes(void **state)
{
    (void)state;
    bench_replay_check_t *c = malloc(sizeof *c);
    bench_replay_profile_t p;
    char err[128];
    assert_true(bench_replay_profile_get("lifepo4", 16, &p, err, sizeof err));
    bench_replay_check_init(c, &p);
    for (int t = 0; t < 30; t++) {
        fset_t s = healthy();
        if (t == 5) {
            s.vmax_mv = 3660; /* one second, then CCL follows */
        }
        if (t == 6) {
            s.vmax_mv = 3660, s.ccl_da = 0;
        }
        if (t >= 10) {
            s.vmax_mv = 3660; /* from 10 s on: held */
        }
        feed_set(c, &s, (uint64_t)t * 1000000u);
    }
    bench_replay_check_finish(c);
    assert_int_equal(c->nviolations, 1);
    assert_int_equal(c->v[0].rule, BENCH_RULE_ccl_at_high_cell);
    assert_int_equal(c->v[0].t_us, 10005000);
    bench_replay_check_free(c);
    free(c);
}

static void test_replay_check_missing_351(void **state)
{
    (void)state;
    bench_replay_check_t *c = malloc(sizeof *c);
    bench_replay_profile_t p;
    char err[128];
    assert_true(bench_replay_profile_get("lifepo4", 16, &p, err, sizeof err));
    bench_replay_check_init(c, &p);
    uint8_t d[8] = {0};
    bench_replay_check_frame(c, 0x355, 8, d, 0, true);
    bench_replay_check_finish(c);
    assert_int_equal(c->nviolations, 1);
    assert_int_equal(c->v[0].rule, BENCH_RULE_missing_351);
    bench_replay_check_free(c);
    free(c);
}

static void test_replay_check_profile_errors(void **state)
{
    (void)state;
    bench_replay_profile_t p;
    char err[128];
    assert_false(bench_replay_profile_get("nmc", 16, &p, err, sizeof err));
    assert_string_equal(err, "unknown profile 'nmc' (known: lifepo4)");
    assert_false(bench_replay_profile_get("lifepo4", 0, &p, err, sizeof err));
    assert_string_equal(err, "--cells 0: want 1..50");
}

/* The bench's own gateway, run through scenarios that reach both cut-offs:
 * every frame it sends to the GX goes through the checker: no violation. */
static void tap_can(void *ctx, int bus, bool from_gateway, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_replay_check_t *c = ctx;
    if (bus == 0 && from_gateway) {
        bench_replay_check_frame(c, f->id, f->dlc, f->data, t_us, true);
    }
}

static void test_replay_check_bench_runs_silent(void **state)
{
    (void)state;
    static const char *const files[] = {"scenarios/topband/charge_to_full.yaml",
                                        "scenarios/topband/discharge_to_cutoff.yaml",
                                        "scenarios/topband/pack_silent.yaml"};
    bench_replay_check_t *c = malloc(sizeof *c);
    bench_scenario_t *sc = malloc(sizeof *sc);
    bench_result_t *res = malloc(sizeof *res);
    assert_non_null(c);
    assert_non_null(sc);
    assert_non_null(res);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/%s", BMS_SOURCE_DIR, files[i]);
        if (!bench_scenario_load(path, sc, bench_signal_resolve, NULL, err, sizeof err)) {
            fail_msg("row %zu: %s", i, err);
        }
        bench_replay_profile_t p;
        assert_true(bench_replay_profile_get("lifepo4", sc->bank.packs[0].cells, &p, err,
                                             sizeof err));
        bench_replay_check_init(c, &p);
        bench_taps_t taps = {.ctx = c, .can = tap_can};
        bench_run_opts_t o = {.taps = &taps};
        assert_int_equal(bench_run_scenario(sc, &o, res), 0);
        bench_replay_check_finish(c);
        if (c->nviolations != 0) {
            fail_msg("row %zu (%s): %llu violations, first %s at %.3f s: %s", i, files[i],
                     (unsigned long long)c->nviolations, bench_replay_rule_names[c->v[0].rule],
                     c->v[0].t_us / 1e6, c->v[0].values);
        }
        assert_true(c->n351 > 100);
        bench_replay_check_free(c);
    }
    free(c), free(sc), free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_check_each_rule_caught),
        cmocka_unit_test(test_replay_check_healthy_capture_silent),
        cmocka_unit_test(test_replay_check_grace_and_episodes),
        cmocka_unit_test(test_replay_check_missing_351),
        cmocka_unit_test(test_replay_check_profile_errors),
        cmocka_unit_test(test_replay_check_bench_runs_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
