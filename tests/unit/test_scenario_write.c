/* SPDX-License-Identifier: MIT */
/* Round trip of the scenario writer: every scenario in the library and the
 * loader's test files, plus one with every profile and event shape, is
 * written as YAML and loaded again to the same scenario. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/scenario.h"
#include "harness/scenario_write.h"
#include "harness/signals.h"

static bench_scenario_t a, b;

static bool same_num(double x, double y)
{
    return x == y || fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y));
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fail_msg(__VA_ARGS__);                                                                 \
        }                                                                                          \
    } while (0)

static void same_profile(const char *what, const sim_profile_t *x, const sim_profile_t *y,
                         const char *src)
{
    CHECK(x->kind == y->kind && same_num(x->a_a, y->a_a) && same_num(x->from_a, y->from_a) &&
              same_num(x->to_a, y->to_a) && same_num(x->over_s, y->over_s) &&
              same_num(x->peak_a, y->peak_a) && same_num(x->sunrise_s, y->sunrise_s) &&
              same_num(x->sunset_s, y->sunset_s),
          "%s: %s profile differs", src, what);
}

/* Everything that changes a run must be equal; positions and paths may differ. */
static void same_scenario(const bench_scenario_t *x, const bench_scenario_t *y, const char *src)
{
    CHECK(strcmp(x->name, y->name) == 0 && strcmp(x->description, y->description) == 0,
          "%s: name/description", src);
    CHECK(x->duration_s == y->duration_s && x->sample_s == y->sample_s, "%s: duration/sample",
          src);
    CHECK(x->has_seed == y->has_seed && x->seed == y->seed, "%s: seed", src);
    CHECK(x->bank.kind == y->bank.kind && strcmp(x->bank.family, y->bank.family) == 0 &&
              x->bank.npacks == y->bank.npacks &&
              x->bank.capacity_spread_pct == y->bank.capacity_spread_pct &&
              x->bank.soc_spread_pct == y->bank.soc_spread_pct,
          "%s: bank", src);
    for (int i = 0; i < x->bank.npacks; i++) {
        const bench_pack_cfg_t *p = &x->bank.packs[i], *q = &y->bank.packs[i];
        CHECK(p->cells == q->cells && p->capacity_ah == q->capacity_ah &&
                  p->soc_pct == q->soc_pct && p->temperature_c == q->temperature_c &&
                  p->family == q->family && p->address == q->address && p->cycles == q->cycles &&
                  p->fw_version == q->fw_version,
              "%s: pack %d", src, i);
    }
    CHECK(x->system.charger_a == y->system.charger_a && x->system.load_a == y->system.load_a &&
              x->system.ambient_c == y->system.ambient_c,
          "%s: system", src);
    same_profile("pv", &x->system.pv, &y->system.pv, src);
    same_profile("load", &x->system.load, &y->system.load, src);
    CHECK(x->ngwset == y->ngwset, "%s: gateway count", src);
    for (int i = 0; i < x->ngwset; i++) {
        CHECK(strcmp(x->gwset[i].key, y->gwset[i].key) == 0 &&
                  x->gwset[i].value == y->gwset[i].value,
              "%s: gateway %d", src, i);
    }
    CHECK(x->nevents == y->nevents, "%s: %d events, %d after", src, x->nevents, y->nevents);
    for (int i = 0; i < x->nevents; i++) {
        const bench_event_t *e = &x->events[i], *f = &y->events[i];
        CHECK(e->at_s == f->at_s && e->action == f->action && e->pack == f->pack &&
                  e->cell == f->cell && same_num(e->value, f->value) &&
                  strcmp(e->text, f->text) == 0 && e->reg == f->reg,
              "%s: event %d (action %d at %g)", src, i, e->action, e->at_s);
    }
    CHECK(x->nexpects == y->nexpects, "%s: expectations", src);
    for (int i = 0; i < x->nexpects; i++) {
        const bench_expect_t *e = &x->expects[i], *f = &y->expects[i];
        CHECK(e->kind == f->kind && strcmp(e->expr.text, f->expr.text) == 0 &&
                  strcmp(e->after.text, f->after.text) == 0 && e->from_s == f->from_s &&
                  e->until_s == f->until_s && e->by_s == f->by_s && e->d_s == f->d_s &&
                  e->at_s == f->at_s && strcmp(e->label, f->label) == 0,
              "%s: expectation %d ('%s' / '%s')", src, i, e->label, f->label);
    }
}

static void round_trip(const bench_scenario_t *x, const char *src)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(bench_scenario_write(f, x), 0);
    assert_int_equal(fclose(f), 0);
    char err[512] = "";
    if (!bench_scenario_load_mem("written.yaml", buf, len, &b, bench_signal_resolve, NULL, err,
                                 sizeof err)) {
        fail_msg("%s: written YAML does not load: %s\n%s", src, err, buf);
    }
    same_scenario(x, &b, src);
    free(buf);
}

static int round_trip_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0) {
            continue;
        }
        char path[1024], err[512] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!bench_scenario_load(path, &a, bench_signal_resolve, NULL, err, sizeof err)) {
            fail_msg("%s", err);
        }
        round_trip(&a, path);
        n++;
    }
    closedir(d);
    return n;
}

static void test_scenario_write_library_round_trips(void **state)
{
    (void)state;
    static const char *const dirs[] = {
        BMS_SOURCE_DIR "/scenarios/topband", BMS_SOURCE_DIR "/scenarios/tinybms",
        BMS_SOURCE_DIR "/scenarios/superb", BMS_SOURCE_DIR "/tests/data/scenarios/good"};
    int n = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        n += round_trip_dir(dirs[i]);
    }
    assert_true(n >= 10); /* the library is there and was read */
}

/* Every shape the writer knows, including text that needs escaping. */
static void test_scenario_write_every_shape(void **state)
{
    (void)state;
    static const char *const srcs[] = {
        "name: shapes\ndescription: \"quote \\\" and back\\\\slash: ok\"\nduration: 6h\n"
        "sample: 0.25\nseed: 18446744073709551615\n"
        "bank:\n  family: topband\n  packs: [ {soc: 33.3, variant: topbms}, {cells: 15, address: 9} ]\n"
        "  capacity_spread: 2.5\n  soc_spread: 0\n"
        "system:\n  pv: {profile: day, peak_a: 40, sunrise: 6h, sunset: 20h}\n"
        "  load: {profile: ramp, from_a: 1.5, to_a: 40, over: 2h}\n  ambient: -7.25\n"
        "gateway:\n  cell_ov_mv: 3650\n"
        "events:\n  - at: 10m\n    fault: late\n    late: 1.3s\n    pack: 1\n"
        "  - at: 20m\n    cell_soc: 99.9\n    pack: 0\n    cell: 3\n"
        "  - at: 30m\n    charger: 12\n  - at: 31m\n    clear_faults: true\n"
        "  - at: 32m\n    bus_garbage: 100\n  - at: 33m\n    temperature: -5\n    pack: 1\n"
        "expect:\n  - always: ccl_a >= 0\n    from: 1m\n    until: 2h\n"
        "  - never: \"cvl_v > 60\"\n  - eventually: ccl_a == 0\n    by: 5h\n"
        "  - within: 30s\n    after: cell_max_v >= 3.65\n    then: ccl_a == 0\n    name: cut\n"
        "  - at: 1h\n    check: soc_pct > 0\n",
        "name: sb\ndescription: d\nduration: 1h\nbank:\n  family: superb\n  packs: 2\n"
        "  firmware: 1.12\nsystem:\n  pv: {profile: constant, a: 7}\n  load: 3\n"
        "events:\n  - at: 1m\n    firmware: 1.6\n    pack: 1\n  - at: 2m\n    reboot: true\n"
        "expect:\n  - always: ccl_a >= 0\n",
        "name: tb\ndescription: d\nduration: 1h\nbank:\n  family: tinybms\n  packs: 1\n"
        "  cells: 8\nevents:\n  - at: 1m\n    bms_setting: 3600\n    register: 300\n"
        "  - at: 2m\n    tool_write: 7\n    register: 301\nexpect:\n  - always: ccl_a >= 0\n",
    };
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        char err[512] = "", src[32];
        snprintf(src, sizeof src, "row %zu", i);
        if (!bench_scenario_load_mem(src, srcs[i], strlen(srcs[i]), &a, bench_signal_resolve,
                                     NULL, err, sizeof err)) {
            fail_msg("%s", err);
        }
        round_trip(&a, src);
    }
}

/* A generated scenario has no expectations: the file gets one that always
 * holds, so it loads, and nothing else changes. */
static void test_scenario_write_without_expectations(void **state)
{
    (void)state;
    static const char *const y = "name: g\ndescription: d\nduration: 1h\nbank:\n  family: "
                                 "topband\n  packs: 1\nexpect:\n  - always: ccl_a >= 0\n";
    char err[512] = "";
    assert_true(bench_scenario_load_mem("g", y, strlen(y), &a, bench_signal_resolve, NULL, err,
                                        sizeof err));
    a.nexpects = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(bench_scenario_write(f, &a), 0);
    fclose(f);
    if (!bench_scenario_load_mem("w", buf, len, &b, bench_signal_resolve, NULL, err, sizeof err)) {
        fail_msg("%s\n%s", err, buf);
    }
    assert_int_equal(b.nexpects, 1);
    assert_string_equal(b.expects[0].expr.text, "t >= 0");
    b.nexpects = 0;
    same_scenario(&a, &b, "no expectations");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_write_library_round_trips),
        cmocka_unit_test(test_scenario_write_every_shape),
        cmocka_unit_test(test_scenario_write_without_expectations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
