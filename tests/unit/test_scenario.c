/* SPDX-License-Identifier: MIT */
/* Tests of the scenario loader: every key of a full file, defaults, durations, and exact errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/scenario.h"

#define DATA BMS_SOURCE_DIR "/tests/data/scenarios/"

static const char *const sig_names[] = {"ccl_a", "cvl_v", "cell_max_v", "alarm_high_voltage",
                                        "soc_pct"};

static int resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++) {
        if (strlen(sig_names[i]) == len && memcmp(sig_names[i], name, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Large: keep it off the stack. */
static bench_scenario_t sc;

static void load_ok(const char *path)
{
    char err[512] = "";
    if (!bench_scenario_load(path, &sc, resolve, NULL, err, sizeof(err))) {
        fail_msg("%s: %s", path, err);
    }
}

static void test_scenario_full_example_every_field(void **state)
{
    (void)state;
    load_ok(DATA "good/full.yaml");
    assert_string_equal(sc.path, DATA "good/full.yaml");
    assert_string_equal(sc.name, "charge_to_full");
    assert_string_equal(sc.description,
                        "Charge a 3-pack bank from 90 % to full; CCL tapers, then reaches 0.");
    assert_float_equal(sc.duration_s, 4 * 3600, 0);
    assert_float_equal(sc.sample_s, 0.2, 1e-12);
    assert_true(sc.has_seed);
    assert_true(sc.seed == 42);

    /* bank defaults flow into each listed pack unless it overrides them */
    assert_string_equal(sc.bank.family, "topband");
    assert_int_equal(sc.bank.npacks, 3);
    assert_float_equal(sc.bank.capacity_spread_pct, 2.0, 0);
    assert_float_equal(sc.bank.soc_spread_pct, 0.25, 0);
    static const bench_pack_cfg_t want[3] = {
        {.cells = 15, .capacity_ah = 200, .soc_pct = 80, .temperature_c = 20, .family = 1,
         .address = 0, .cycles = 10},
        {.cells = 15, .capacity_ah = 200, .soc_pct = 60, .temperature_c = 20, .family = 0,
         .address = 5, .cycles = 10},
        {.cells = 16, .capacity_ah = 100, .soc_pct = 90, .temperature_c = 30, .family = 1,
         .address = 2, .cycles = 3},
    };
    for (int i = 0; i < 3; i++) {
        const bench_pack_cfg_t *p = &sc.bank.packs[i];
        if (p->cells != want[i].cells || p->capacity_ah != want[i].capacity_ah ||
            p->soc_pct != want[i].soc_pct || p->temperature_c != want[i].temperature_c ||
            p->family != want[i].family || p->address != want[i].address ||
            p->cycles != want[i].cycles) {
            fail_msg("pack %d: cells %d cap %g soc %g temp %g family %d addr %d cycles %d", i,
                     p->cells, p->capacity_ah, p->soc_pct, p->temperature_c, p->family,
                     p->address, p->cycles);
        }
    }

    assert_float_equal(sc.system.charger_a, 50, 0);
    assert_float_equal(sc.system.load_a, 5.5, 0);
    assert_float_equal(sc.system.ambient_c, 18, 0);

    assert_int_equal(sc.ngwset, 2);
    assert_string_equal(sc.gwset[0].key, "cell_ov_mv");
    assert_float_equal(sc.gwset[0].value, 3650, 0);
    assert_int_equal(sc.gwset[0].line, 26);
    assert_int_equal(sc.gwset[0].col, 3);
    assert_string_equal(sc.gwset[1].key, "ccl_max_a");
    assert_float_equal(sc.gwset[1].value, 120.5, 0);

    /* events: sorted by time, file order kept for ties */
    static const struct {
        double at_s;
        bench_action_t action;
        int pack, cell;
        double value;
        const char *text;
        int line;
    } ev[] = {
        {300, BENCH_ACT_TEMPERATURE, 1, 3, 40, "", 31},
        {600, BENCH_ACT_TEMPERATURE, -1, -1, -5, "", 29},
        {1200, BENCH_ACT_CELL_SOC, 0, 14, 99, "", 35},
        {1200, BENCH_ACT_CELL_CAPACITY, 2, 15, 80, "", 39},
        {1200, BENCH_ACT_CELL_OFFSET, 1, 0, -150, "", 43},
        {1800, BENCH_ACT_FAULT, 2, -1, 0, "silent", 47},
        {1860, BENCH_ACT_FAULT, -1, -1, 1500, "late", 50},
        {1920, BENCH_ACT_FAULT, -1, -1, 800, "late", 53},
        {2400, BENCH_ACT_CLEAR_FAULTS, -1, -1, 1, "", 55},
        {3600, BENCH_ACT_CHARGER, -1, -1, 0, "", 57},
        {3600, BENCH_ACT_LOAD, -1, -1, 20, "", 59},
        {3600, BENCH_ACT_AMBIENT, -1, -1, -10, "", 61},
        {5400, BENCH_ACT_BUS_GARBAGE, -1, -1, 40, "", 63},
    };
    assert_int_equal(sc.nevents, (int)(sizeof(ev) / sizeof(ev[0])));
    for (int i = 0; i < sc.nevents; i++) {
        const bench_event_t *e = &sc.events[i];
        if (fabs(e->at_s - ev[i].at_s) > 1e-9 || e->action != ev[i].action ||
            e->pack != ev[i].pack || e->cell != ev[i].cell ||
            fabs(e->value - ev[i].value) > 1e-9 || strcmp(e->text, ev[i].text) != 0 ||
            e->line != ev[i].line || e->col != 5) {
            fail_msg("event %d: at %g action %d pack %d cell %d value %g text '%s' at %d:%d", i,
                     e->at_s, e->action, e->pack, e->cell, e->value, e->text, e->line, e->col);
        }
    }

    static const struct {
        bench_expect_kind_t kind;
        const char *label;
        const char *expr;
        const char *after;
        double from_s, until_s, by_s, d_s, at_s;
        int line;
    } ex[] = {
        {BENCH_EXP_ALWAYS, "always ccl_a <= 100", "ccl_a <= 100", "", 0, -1, 14400, 0, 0, 66},
        {BENCH_EXP_NEVER, "never alarm_high_voltage == active from 10m until 2h",
         "alarm_high_voltage == active", "", 600, 7200, 14400, 0, 0, 67},
        {BENCH_EXP_EVENTUALLY, "eventually ccl_a == 0", "ccl_a == 0", "", 0, -1, 14400, 0, 0,
         70},
        {BENCH_EXP_EVENTUALLY, "reaches full", "soc_pct >= 99", "", 0, -1, 10800, 0, 0, 71},
        {BENCH_EXP_WITHIN, "within 5s after cell_max_v >= 3.65V then ccl_a == 0", "ccl_a == 0",
         "cell_max_v >= 3.65V", 0, -1, 14400, 5, 0, 74},
        {BENCH_EXP_AT, "at 1h soc_pct >= 95", "soc_pct >= 95", "", 0, -1, 14400, 0, 3600, 77},
    };
    assert_int_equal(sc.nexpects, (int)(sizeof(ex) / sizeof(ex[0])));
    for (int i = 0; i < sc.nexpects; i++) {
        const bench_expect_t *x = &sc.expects[i];
        if (x->kind != ex[i].kind || strcmp(x->label, ex[i].label) != 0 ||
            strcmp(x->expr.text, ex[i].expr) != 0 || strcmp(x->after.text, ex[i].after) != 0 ||
            x->from_s != ex[i].from_s || x->until_s != ex[i].until_s || x->by_s != ex[i].by_s ||
            x->d_s != ex[i].d_s || x->at_s != ex[i].at_s || x->line != ex[i].line ||
            x->col != 5) {
            fail_msg("expect %d: kind %d label '%s' expr '%s' after '%s' from %g until %g by %g "
                     "d %g at %g line %d col %d",
                     i, x->kind, x->label, x->expr.text, x->after.text, x->from_s, x->until_s,
                     x->by_s, x->d_s, x->at_s, x->line, x->col);
        }
    }
    /* the within trigger is compiled with its unit: 3.65V */
    double sig[5] = {0, 0, 3.65, 0, 0};
    assert_true(bench_expr_true(&sc.expects[4].after, sig));
    sig[2] = 3.64;
    assert_false(bench_expr_true(&sc.expects[4].after, sig));
}

static void test_scenario_defaults(void **state)
{
    (void)state;
    load_ok(DATA "good/minimal.yaml");
    assert_string_equal(sc.name, "minimal");
    assert_float_equal(sc.duration_s, 90, 0);
    assert_float_equal(sc.sample_s, 0.1, 0);
    assert_false(sc.has_seed);
    assert_int_equal(sc.bank.npacks, 1);
    const bench_pack_cfg_t *p = &sc.bank.packs[0];
    assert_int_equal(p->cells, 16);
    assert_float_equal(p->capacity_ah, 100, 0);
    assert_float_equal(p->soc_pct, 50, 0);
    assert_float_equal(p->temperature_c, 25, 0);
    assert_int_equal(p->family, 0);
    assert_int_equal(p->address, 0);
    assert_int_equal(p->cycles, 0);
    assert_float_equal(sc.bank.capacity_spread_pct, 1.0, 0);
    assert_float_equal(sc.bank.soc_spread_pct, 0.5, 0);
    assert_float_equal(sc.system.charger_a, 0, 0);
    assert_float_equal(sc.system.load_a, 0, 0);
    assert_float_equal(sc.system.ambient_c, 25, 0);
    assert_int_equal(sc.ngwset, 0);
    assert_int_equal(sc.nevents, 0);
    assert_int_equal(sc.nexpects, 1);
    assert_string_equal(sc.expects[0].label, "always ccl_a >= 0");
    assert_float_equal(sc.expects[0].until_s, -1, 0);
}

typedef struct bad_row {
    const char *file;
    const char *where_msg;  /* "line:col: message" after "<path>:" */
} bad_row_t;

static const bad_row_t bad_rows[] = {
    {"bad_duration", "4:11: expected a duration for 'duration' (like 90, 90s, 500ms, 10m, "
                     "1h30m), got '4 hours'"},
    {"bad_name", "2:7: name may only hold letters, digits, '_', '.' and '-' (got 'bad example')"},
    {"duplicate_address", "9:17: address 3 is used by pack 0 and pack 1"},
    {"duplicate_key", "9:3: duplicate key 'soc' in bank (first at line 8)"},
    {"empty", "1:1: the file is empty: a scenario needs name, description, duration, bank and "
              "expect"},
    {"event_after_end", "9:9: event at 5h is after the end of the scenario (duration 4h)"},
    {"event_bad_fault", "10:12: unknown fault 'explode' for a topband bank (expected one of: silent, late, "
                        "bad_checksum, truncated, garbage, wrong_address, frozen)"},
    {"event_cell_soc_needs_cell", "9:5: cell_soc needs both 'pack' and 'cell' (0-based)"},
    {"event_no_action", "9:5: event needs exactly one action (one of: temperature, cell_soc, "
                        "cell_capacity, cell_offset, fault, clear_faults, charger, load, "
                        "ambient, bus_garbage, reboot, firmware, bms_setting, tool_write, button, "
                        "duplicate_address)"},
    {"event_pack_missing", "11:11: pack 2 does not exist (the bank has 2 packs: 0..1)"},
    {"event_two_actions", "11:5: event has more than one action ('temperature' and 'charger'): "
                          "write one event for each"},
    {"expect_empty", "8:9: expect needs a list of at least one expectation (always, never, "
                     "eventually, within, at)"},
    {"expr_unbalanced", "10:27: unclosed '(' (opened 14 characters before): expected ')', got "
                        "end of expression in expression"},
    {"family_unknown", "6:11: unknown bank family 'pylontech' (expected topband, tinybms, superb "
                       "or balancer)"},
    {"missing_duration", "2:1: missing required key 'duration' in the scenario"},
    {"modifier_wrong_kind", "10:5: 'by' does not apply to 'always' (it takes: from, until, name)"},
    {"negative_duration", "4:11: duration must not be negative (got '-5s')"},
    {"not_a_map", "2:1: a scenario is a map with the keys name, description, duration, bank and "
                  "expect; got a list"},
    {"soc_not_number", "8:8: expected a number for 'soc', got 'high'"},
    {"soc_out_of_range", "8:8: soc must be between 0 and 100 (got 120)"},
    {"too_many_packs", "7:10: packs must be between 1 and 16 (got 17)"},
    {"two_documents", "9:1: only one YAML document is allowed per file"},
    {"unknown_key", "8:3: unknown key 'tempreture' in bank (expected one of: family, packs, "
                    "cells, capacity_ah, soc, temperature, variant, cycles, capacity_spread, "
                    "soc_spread, firmware)"},
    {"unknown_signal_plain", "9:20: unknown signal 'cc' in expression"},
    {"unknown_signal_quoted", "9:14: unknown signal 'ccl' in expression"},
    {"within_missing_then", "9:5: missing required key 'then' in expectation"},
    {"yaml_syntax", "8:1: YAML syntax error: did not find expected ',' or ']' while parsing a "
                    "flow sequence (line 7)"},
    {"yaml_tab", "6:1: YAML syntax error: found character that cannot start any token while "
                 "scanning for the next token (line 6)"},
};

static void test_scenario_bad_files_exact_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        char path[512];
        char want[1024];
        char err[512] = "";
        snprintf(path, sizeof(path), DATA "bad/%s.yaml", bad_rows[i].file);
        snprintf(want, sizeof(want), "%s:%s", path, bad_rows[i].where_msg);
        if (bench_scenario_load(path, &sc, resolve, NULL, err, sizeof(err))) {
            fail_msg("row %zu %s: loaded, want error", i, bad_rows[i].file);
        }
        if (strcmp(err, want) != 0) {
            fail_msg("row %zu %s:\n got  '%s'\n want '%s'", i, bad_rows[i].file, err, want);
        }
    }
}

static void test_scenario_missing_file_reports_strerror(void **state)
{
    (void)state;
    char err[512];
    assert_false(bench_scenario_load(DATA "no/such.yaml", &sc, resolve, NULL, err, sizeof(err)));
    assert_string_equal(err, DATA "no/such.yaml: cannot open: No such file or directory");
}

/* Inline variations: a valid head, then the line under test. */
#define HEAD "name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n  packs: 2\n"
#define EXPECT_OK "expect:\n  - always: ccl_a >= 0\n"

typedef struct mem_row {
    const char *yaml;
    const char *err;    /* NULL: must load */
} mem_row_t;

static const mem_row_t mem_rows[] = {
    {HEAD EXPECT_OK, NULL},
    /* families: what applies to which */
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: tinybms\n  packs: 1\n  cells: 8\n"
     "events:\n  - at: 1m\n    bms_setting: 3600\n    register: 300\n"
     "  - at: 2m\n    reboot: true\n  - at: 3m\n    fault: stuck_asleep\n" EXPECT_OK,
     NULL},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: tinybms\n  packs: 2\n" EXPECT_OK,
     "m.yaml:6:10: a tinybms bank is one TinyBMS: packs must be 1"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: superb\n  packs: 3\n  firmware: 1.1\n"
     "events:\n  - at: 1m\n    firmware: 1.6\n    pack: 2\n  - at: 2m\n    fault: no_heartbeat\n"
     EXPECT_OK,
     NULL},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: superb\n  packs: 1\n  cells: 16\n"
     EXPECT_OK,
     "m.yaml:7:10: cells must be 4 for a SuperB 12.8 V pack (got 16)"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: superb\n  packs: [ {address: 0} ]\n"
     EXPECT_OK,
     "m.yaml:6:22: address (node id) must be between 1 and 127 (got 0)"},
    {HEAD "  firmware: 1.2\n" EXPECT_OK, "m.yaml:7:3: 'firmware' applies to superb packs only"},
    {HEAD "events:\n  - at: 1m\n    fault: bad_crc\n" EXPECT_OK,
     "m.yaml:9:12: unknown fault 'bad_crc' for a topband bank (expected one of: silent, late, "
     "bad_checksum, truncated, garbage, wrong_address, frozen)"},
    {HEAD "events:\n  - at: 1m\n    reboot: true\n" EXPECT_OK,
     "m.yaml:9:5: 'reboot' does not apply to a topband bank"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: tinybms\n  packs: 1\n"
     "events:\n  - at: 1m\n    bms_setting: 3600\n" EXPECT_OK,
     "m.yaml:8:5: bms_setting needs 'register' (e.g. 315)"},
    {HEAD "events:\n  - at: 1m\n    clear_faults: false\n" EXPECT_OK,
     "m.yaml:9:19: clear_faults takes the value true (got 'false')"},
    {HEAD "events:\n  - at: 1m\n    fault: silent\n    late: 2s\n" EXPECT_OK,
     "m.yaml:10:5: 'late' only applies to 'fault: late'"},
    {HEAD "events:\n  - at: 1m\n    fault: late\n    cell: 2\n" EXPECT_OK,
     "m.yaml:10:5: 'cell' does not apply to 'fault'"},
    {HEAD "events:\n  - at: 1m\n    charger: 5\n    pack: 0\n" EXPECT_OK,
     "m.yaml:10:5: 'pack' does not apply to 'charger'"},
    {HEAD "events:\n  - at: 1m\n    cell_offset: 10\n    pack: 0\n    cell: 16\n" EXPECT_OK,
     "m.yaml:11:11: cell 16 does not exist (packs have cells 0..15)"},
    {HEAD "events:\n  - at: 1m\n    bus_garbage: 2.5\n" EXPECT_OK,
     "m.yaml:9:18: bus_garbage must be a whole number (got 2.5)"},
    {HEAD "events:\n  - temperature: 5\n" EXPECT_OK,
     "m.yaml:8:5: missing required key 'at' in event"},
    {HEAD "events: 5\n" EXPECT_OK,
     "m.yaml:7:9: expected a list of events for 'events', got a value"},
    {HEAD "gateway:\n  cell_ov_mv: 3650\n  cell_ov_mv: 3600\n" EXPECT_OK,
     "m.yaml:9:3: duplicate key 'cell_ov_mv' in gateway (first at line 8)"},
    {HEAD "gateway:\n  cell_ov_mv: lots\n" EXPECT_OK,
     "m.yaml:8:15: expected a number for 'cell_ov_mv', got 'lots'"},
    {HEAD "system:\n  charger: -1\n" EXPECT_OK,
     "m.yaml:8:12: charger must be between 0 and 10000 (got -1)"},
    {HEAD "system:\n  charger: 0x10\n" EXPECT_OK,
     "m.yaml:8:12: expected a number for 'charger', got '0x10'"},
    {HEAD "system:\n  charger: nan\n" EXPECT_OK,
     "m.yaml:8:12: expected a number for 'charger', got 'nan'"},
    {HEAD "system:\n" EXPECT_OK, NULL},
    /* PV and load profiles */
    {HEAD "system:\n  pv: {profile: night, a: 1}\n" EXPECT_OK,
     "m.yaml:8:17: unknown profile 'night' in pv (expected one of: constant, ramp, day)"},
    {HEAD "system:\n  pv: {profile: constant, peak_a: 4}\n" EXPECT_OK,
     "m.yaml:8:27: 'peak_a' does not apply to profile 'constant' (it takes: a)"},
    {HEAD "system:\n  pv: {profile: constant}\n" EXPECT_OK,
     "m.yaml:8:7: missing required key 'a' in pv"},
    {HEAD "system:\n  pv: {a: 3}\n" EXPECT_OK,
     "m.yaml:8:7: missing required key 'profile' in pv"},
    {HEAD "system:\n  charger: 5\n  pv: {profile: constant, a: 3}\n" EXPECT_OK,
     "m.yaml:9:3: give either 'charger' (a constant) or 'pv' (a profile), not both"},
    {HEAD "system:\n  pv: {profile: day, peak_a: 40, sunrise: 20h, sunset: 6h}\n" EXPECT_OK,
     "m.yaml:8:56: sunset must be after sunrise"},
    {HEAD "system:\n  pv: {profile: day, peak_a: 40, sunset: 25h}\n" EXPECT_OK,
     "m.yaml:8:42: sunset is a time of day, at most 24h (got '25h')"},
    {HEAD "system:\n  load: {profile: ramp, from_a: 0, to_a: -4, over: 1h}\n" EXPECT_OK,
     "m.yaml:8:42: to_a must be between 0 and 10000 (got -4)"},
    {HEAD "system:\n  load: {profile: ramp, to_a: 4}\n" EXPECT_OK,
     "m.yaml:8:9: missing required key 'over' in load"},
    {HEAD "system:\n  load: {profile: ramp, to_a: 4, over: soon}\n" EXPECT_OK,
     "m.yaml:8:40: expected a duration for 'over' (like 90, 90s, 500ms, 10m, 1h30m), got 'soon'"},
    {HEAD "system:\n  load: [1, 2]\n" EXPECT_OK,
     "m.yaml:8:9: expected a number for 'load', got a list"},
    {HEAD "system:\n  pv: 40\n" EXPECT_OK,
     "m.yaml:8:7: expected a map for 'pv' (with keys: profile, a, from_a, to_a, over, peak_a, "
     "sunrise, sunset), got a value"},
    {HEAD "expect:\n  - always: ccl_a >= 0\n    from: 30m\n    until: 10m\n",
     "m.yaml:10:12: until (10m) is before from (30m)"},
    {HEAD "expect:\n  - eventually: ccl_a == 0\n    by: 2h\n",
     "m.yaml:9:9: by 2h is after the end of the scenario (duration 1h)"},
    {HEAD "expect:\n  - at: 2h\n    check: ccl_a == 0\n",
     "m.yaml:8:9: at 2h is after the end of the scenario (duration 1h)"},
    {HEAD "expect:\n  - always: ccl_a >= 0\n    never: ccl_a < 0\n",
     "m.yaml:9:5: expectation has more than one kind ('always' and 'never'): write one item for "
     "each"},
    {HEAD "expect:\n  - after: ccl_a > 0\n",
     "m.yaml:8:5: expectation needs exactly one kind (one of: always, never, eventually, "
     "within, at)"},
    {HEAD "expect:\n  - always: [ccl_a]\n",
     "m.yaml:8:13: expected an expression for 'always', got a list"},
    {HEAD "expect:\n  - always: \"ccl_a >= 0 or\"\n",
     "m.yaml:8:27: expected a value, got end of expression in expression"},
    {HEAD "expect:\n", "m.yaml:7:8: expect needs a list of at least one expectation (always, "
                       "never, eventually, within, at)"},
    {"name: t\ndescription: d\nduration: 1h\nseed: -1\nbank:\n  family: topband\n  packs: 1\n"
     EXPECT_OK, "m.yaml:4:7: seed must be a whole number between 0 and 2^64-1 (got '-1')"},
    {"name: t\ndescription: d\nduration: 1h\nseed: 18446744073709551615\nbank:\n  family: "
     "topband\n  packs: 1\n" EXPECT_OK, NULL},
    {"name: t\ndescription: d\nduration: 1h\nseed: 18446744073709551616\nbank:\n  family: "
     "topband\n  packs: 1\n" EXPECT_OK,
     "m.yaml:4:7: seed must be a whole number between 0 and 2^64-1 (got "
     "'18446744073709551616')"},
    {"name: t\ndescription: \"two\\nlines\"\nduration: 1h\nbank:\n  family: topband\n  packs: "
     "1\n" EXPECT_OK, "m.yaml:2:14: description must be one line"},
    {"name: t\ndescription: d\nduration: 8761h\nbank:\n  family: topband\n  packs: 1\n"
     EXPECT_OK, "m.yaml:3:11: duration must be at most 8760h (one year)"},
    {"name: t\ndescription: d\nduration: 8760h\nbank:\n  family: topband\n  packs: 1\n"
     EXPECT_OK, NULL},
    {"name: t\ndescription: d\nduration: 0\nbank:\n  family: topband\n  packs: 1\n" EXPECT_OK,
     "m.yaml:3:11: duration must be greater than 0"},
    {"name: t\ndescription: d\nduration: 1h\nsample: 0\nbank:\n  family: topband\n  packs: 1\n"
     EXPECT_OK, "m.yaml:4:9: sample must be between 1ms and the duration (got 0)"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n  packs: []\n" EXPECT_OK,
     "m.yaml:6:10: packs is an empty list: give at least one pack"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n  packs:\n    - {cells: "
     "14}\n" EXPECT_OK, "m.yaml:7:15: cells must be 15 or 16 (got 14)"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n  packs:\n    - {soc: 1, "
     "colour: red}\n" EXPECT_OK,
     "m.yaml:7:16: unknown key 'colour' in pack (expected one of: cells, capacity_ah, soc, "
     "temperature, variant, address, cycles, firmware)"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n  packs: 1\n  variant: "
     "eat\n" EXPECT_OK, "m.yaml:7:12: unknown variant 'eat' (expected eet or topbms)"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n" EXPECT_OK,
     "m.yaml:5:3: missing required key 'packs' in bank"},
    {"name: t\ndescription: d\nduration: 1h\nbank: topband\n" EXPECT_OK,
     "m.yaml:4:7: expected a map for 'bank' (with keys: family, packs, cells, capacity_ah, soc, "
     "temperature, variant, cycles, capacity_spread, soc_spread, firmware), got a value"},
    {"name: t\ndescription: d\nduration: 1h\nbank:\n  family: topband\n  packs: 1\nexpect:\n  - "
     "always: ccl_a >= 0\n    name: \"" "0123456789012345678901234567890123456789012345678901234"
     "567890123456789012345678901234567890123456789\"\n",
     "m.yaml:9:11: name is too long (max 95 characters)"},
    {"a: &x [1]\nb: *y\n", "m.yaml:2:4: YAML syntax error: found undefined alias"},
    {"{name: t", "m.yaml:2:1: YAML syntax error: did not find expected ',' or '}' while parsing "
                 "a flow mapping (line 1)"},
};

/* PV and load profiles: every shape, and the plain numbers still work. */
static void test_scenario_system_profiles(void **state)
{
    (void)state;
    static const struct {
        const char *system;
        sim_profile_t pv, load;
        double charger_a, load_a;
    } rows[] = {
        {"system:\n  charger: 50\n  load: 10\n", {0}, {0}, 50, 10},
        {"system:\n  pv: {profile: day, peak_a: 40, sunrise: 6h, sunset: 20h}\n",
         {.kind = SIM_PROFILE_DAY, .peak_a = 40, .sunrise_s = 6 * 3600.0, .sunset_s = 72000},
         {0}, 0, 0},
        {"system:\n  pv: {profile: day, peak_a: 12}\n",
         {.kind = SIM_PROFILE_DAY, .peak_a = 12, .sunrise_s = 21600, .sunset_s = 64800},
         {0}, 0, 0},
        {"system:\n  pv: {profile: constant, a: 20}\n  load: {profile: constant, a: 7.5}\n",
         {.kind = SIM_PROFILE_CONSTANT, .a_a = 20}, {.kind = SIM_PROFILE_CONSTANT, .a_a = 7.5},
         20, 7.5},
        {"system:\n  load: {profile: ramp, from_a: 5, to_a: 40, over: 2h}\n  charger: 3\n",
         {0}, {.kind = SIM_PROFILE_RAMP, .from_a = 5, .to_a = 40, .over_s = 7200}, 3, 5},
        {"system:\n  pv:\n    profile: ramp\n    to_a: 40\n    over: 90m\n",
         {.kind = SIM_PROFILE_RAMP, .from_a = 0, .to_a = 40, .over_s = 5400}, {0}, 0, 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        char y[512], err[512] = "";
        snprintf(y, sizeof(y), HEAD "%s" EXPECT_OK, rows[r].system);
        if (!bench_scenario_load_mem("m.yaml", y, strlen(y), &sc, resolve, NULL, err,
                                     sizeof(err))) {
            fail_msg("row %zu: %s", r, err);
        }
        const sim_profile_t *got[2] = {&sc.system.pv, &sc.system.load};
        const sim_profile_t *want[2] = {&rows[r].pv, &rows[r].load};
        for (int k = 0; k < 2; k++) {
            if (got[k]->kind != want[k]->kind || got[k]->a_a != want[k]->a_a ||
                got[k]->from_a != want[k]->from_a || got[k]->to_a != want[k]->to_a ||
                got[k]->over_s != want[k]->over_s || got[k]->peak_a != want[k]->peak_a ||
                got[k]->sunrise_s != want[k]->sunrise_s || got[k]->sunset_s != want[k]->sunset_s) {
                fail_msg("row %zu %s: kind %d a %g from %g to %g over %g peak %g rise %g set %g",
                         r, k ? "load" : "pv", got[k]->kind, got[k]->a_a, got[k]->from_a,
                         got[k]->to_a, got[k]->over_s, got[k]->peak_a, got[k]->sunrise_s,
                         got[k]->sunset_s);
            }
        }
        if (sc.system.charger_a != rows[r].charger_a || sc.system.load_a != rows[r].load_a) {
            fail_msg("row %zu: charger %g load %g", r, sc.system.charger_a, sc.system.load_a);
        }
    }
}

/* invariants: false switches the safety invariants off (seed models only);
 * absent or true keeps them; anything else is an error at the value. */
static void test_scenario_invariants_key(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        bool no_invariants;
        const char *err;
    } rows[] = {
        {"", false, NULL},
        {"invariants: true\n", false, NULL},
        {"invariants: false\n", true, NULL},
        {"invariants: no\n", false,
         "m.yaml:9:13: invariants must be true or false (got 'no')"},
        {"invariants: 0\n", false, "m.yaml:9:13: invariants must be true or false (got '0')"},
        {"invariants: [false]\n", false,
         "m.yaml:9:13: expected true or false for 'invariants', got a list"},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        char y[512], err[512] = "";
        snprintf(y, sizeof(y), HEAD EXPECT_OK "%s", rows[r].line);
        bool ok = bench_scenario_load_mem("m.yaml", y, strlen(y), &sc, resolve, NULL, err,
                                          sizeof(err));
        if (rows[r].err == NULL) {
            if (!ok) {
                fail_msg("row %zu: want success, got '%s'", r, err);
            }
            if (sc.no_invariants != rows[r].no_invariants) {
                fail_msg("row %zu: no_invariants %d, want %d", r, sc.no_invariants,
                         rows[r].no_invariants);
            }
        } else if (ok || strcmp(err, rows[r].err) != 0) {
            fail_msg("row %zu:\n got  '%s'\n want '%s'", r, ok ? "(loaded)" : err, rows[r].err);
        }
    }
}

static void test_scenario_inline_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(mem_rows) / sizeof(mem_rows[0]); i++) {
        char err[512] = "";
        const char *y = mem_rows[i].yaml;
        bool ok = bench_scenario_load_mem("m.yaml", y, strlen(y), &sc, resolve, NULL, err,
                                          sizeof(err));
        if (mem_rows[i].err == NULL && !ok) {
            fail_msg("row %zu: want success, got '%s'", i, err);
        }
        if (mem_rows[i].err != NULL && (ok || strcmp(err, mem_rows[i].err) != 0)) {
            fail_msg("row %zu:\n got  '%s'\n want '%s'", i, ok ? "(loaded)" : err,
                     mem_rows[i].err);
        }
    }
}

static void test_scenario_buffer_with_nul_is_an_error_not_a_crash(void **state)
{
    (void)state;
    static const char buf[] = "name: a\0b\ndescription: d\n";
    char err[512] = "";
    assert_false(bench_scenario_load_mem("n.yaml", buf, sizeof(buf) - 1, &sc, resolve, NULL, err,
                                         sizeof(err)));
    assert_string_equal(err,
                        "n.yaml:1:8: YAML syntax error: control characters are not allowed "
                        "(byte 0x00)");
    /* A tiny error buffer truncates, never overflows. */
    char small[8];
    assert_false(bench_scenario_load_mem("n.yaml", buf, sizeof(buf) - 1, &sc, resolve, NULL,
                                         small, sizeof(small)));
    assert_string_equal(small, "n.yaml:");
}

typedef struct dur_row {
    const char *text;
    bool ok;
    double s;
} dur_row_t;

static const dur_row_t dur_rows[] = {
    {"90", true, 90},        {"90s", true, 90},       {"500ms", true, 0.5},
    {"10m", true, 600},      {"10min", true, 600},    {"2h", true, 7200},
    {"1h30m", true, 5400},   {"1.5h", true, 5400},    {"1h 30m", true, 5400},
    {"0", true, 0},          {"0.25", true, 0.25},    {"1m30s250ms", true, 90.25},
    {"", false, 0},          {"-5s", false, 0},       {"5x", false, 0},
    {"h", false, 0},         {"1.2.3s", false, 0},    {"90 5", false, 0},
    {"5s 3", false, 0},      {"1e3s", false, 0},      {"5 s", false, 0},
    {".s", false, 0},        {"10M", false, 0},       {"1d", false, 0},
};

static void test_scenario_parse_duration_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dur_rows) / sizeof(dur_rows[0]); i++) {
        double s = -1;
        bool ok = bench_parse_duration(dur_rows[i].text, &s);
        if (ok != dur_rows[i].ok || (ok && fabs(s - dur_rows[i].s) > 1e-9)) {
            fail_msg("row %zu \"%s\": got %s %g, want %s %g", i, dur_rows[i].text,
                     ok ? "ok" : "error", s, dur_rows[i].ok ? "ok" : "error", dur_rows[i].s);
        }
    }
    assert_false(bench_parse_duration(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_full_example_every_field),
        cmocka_unit_test(test_scenario_defaults),
        cmocka_unit_test(test_scenario_bad_files_exact_errors),
        cmocka_unit_test(test_scenario_missing_file_reports_strerror),
        cmocka_unit_test(test_scenario_inline_cases),
        cmocka_unit_test(test_scenario_system_profiles),
        cmocka_unit_test(test_scenario_invariants_key),
        cmocka_unit_test(test_scenario_buffer_with_nul_is_an_error_not_a_crash),
        cmocka_unit_test(test_scenario_parse_duration_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
