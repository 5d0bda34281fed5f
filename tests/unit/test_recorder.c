/* SPDX-License-Identifier: MIT */
/* The recorder through its taps: serial framing, CAN files per bus, dropped
 * input, the signals CSV and write errors reported at close. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/recorder.h"
#include "harness/signals.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_recorder_XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void scenario(bench_scenario_t *sc, const char *name, bench_family_t kind,
                     const char *family)
{
    memset(sc, 0, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "%s", name);
    snprintf(sc->bank.family, sizeof sc->bank.family, "%s", family);
    sc->bank.kind = kind;
}

/* The whole file, NUL-terminated; fails the test when it cannot be read. */
static char *slurp(const char *sub, const char *file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s/%s", tmpdir, sub, file);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("%s: cannot open", path);
    }
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_recorder_serial_frames(void **state)
{
    (void)state;
    bench_scenario_t sc;
    scenario(&sc, "serial", BENCH_FAM_TOPBAND, "topband");
    char err[256];
    bench_recorder_t *r = bench_recorder_open(tmpdir, &sc, err, sizeof err);
    assert_non_null(r);
    const bench_taps_t *t = bench_recorder_taps(r);
    /* 9600 Bd: 1042 us per character, a new frame after more than 3 (start to start) */
    t->serial(t->ctx, true, 1000, 0x7E);
    t->serial(t->ctx, true, 2042, 0x31);
    t->serial(t->ctx, true, 3084, 0x0D);  /* CR ends a Topband frame */
    t->serial(t->ctx, true, 3090, 0x41);  /* right after: still a new line */
    t->serial(t->ctx, true, 6216, 0x42);  /* exactly 3 character times: same frame */
    t->serial(t->ctx, true, 9343, 0x43);  /* 3127 us: an idle gap, new frame */
    t->serial(t->ctx, false, 9344, 0x44); /* direction change, new frame */
    for (int i = 0; i < 300; i++) {       /* 301 rx bytes, no CR: 256 on a line, then rx+ */
        t->serial(t->ctx, false, 10386 + (uint64_t)i * 1042, (uint8_t)('A' + i % 26));
    }
    t->serial(t->ctx, true, 2000000, 0x7E); /* an unfinished frame is written at close */
    t->serial(t->ctx, true, 1999999, 0x7E); /* time going back starts a new frame */
    assert_int_equal(bench_recorder_close(r, err, sizeof err), 0);

    char want[4096];
    size_t pos = (size_t)snprintf(want, sizeof want,
                                  "# bmsbench serial capture v1: topband line, 9600 Bd 8N1; "
                                  "<sec>.<usec> <tx|rx>[+] <hex bytes>; tx = sent by the gateway\n"
                                  "0.001000 tx 7E 31 0D\n"
                                  "0.003090 tx 41 42\n"
                                  "0.009343 tx 43\n"
                                  "0.009344 rx 44");
    for (int i = 0; i < 255; i++) {
        pos += (size_t)snprintf(&want[pos], sizeof want - pos, " %02X", 'A' + i % 26);
    }
    pos +=
        (size_t)snprintf(&want[pos], sizeof want - pos, "\n%.6f rx+", (10386 + 255 * 1042) / 1e6);
    for (int i = 255; i < 300; i++) {
        pos += (size_t)snprintf(&want[pos], sizeof want - pos, " %02X", 'A' + i % 26);
    }
    snprintf(&want[pos], sizeof want - pos, "\n2.000000 tx 7E\n1.999999 tx 7E\n");
    assert_string_equal(slurp("serial", "bms-serial.txt"), want);
}

static void test_recorder_can_files_per_bus(void **state)
{
    (void)state;
    bench_scenario_t sc;
    scenario(&sc, "can/../x y", BENCH_FAM_TOPBAND, "topband"); /* one safe path component */
    char err[256];
    bench_recorder_t *r = bench_recorder_open(tmpdir, &sc, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(strrchr(bench_recorder_dir(r), '/') + 1, "can_.._x_y");
    const bench_taps_t *t = bench_recorder_taps(r);
    sim_can_frame_t f351 = {
        .id = 0x351, .dlc = 8, .data = {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01}};
    sim_can_frame_t f305 = {.id = 0x305, .dlc = 1, .data = {0x01}};
    sim_can_frame_t f601 = {.id = 0x601, .dlc = 8, .data = {0x40, 0x60, 0x60}};
    sim_can_frame_t bad_dlc = {.id = 0x351, .dlc = 9};
    t->can(t->ctx, 0, true, &f351, 1250000);
    t->can(t->ctx, 0, false, &f305, 1250500);
    t->can(t->ctx, 1, true, &f601, 2000000); /* a bus this family does not announce */
    t->can(t->ctx, 2, true, &f601, 2000000); /* no such bus */
    t->can(t->ctx, -1, true, &f601, 2000000);
    t->can(t->ctx, 0, true, &bad_dlc, 2000000);
    t->can(t->ctx, 0, true, NULL, 2000000);
    assert_int_equal(bench_recorder_dropped(r), 4);
    assert_int_equal(bench_recorder_close(r, err, sizeof err), 0);

    assert_string_equal(slurp("can_.._x_y", "victron.log"),
                        "(1700000001.250000) can0 351#2802E803DC05D001\n"
                        "(1700000001.250500) can0 305#01\n");
    assert_string_equal(slurp("can_.._x_y", "bms.log"),
                        "(1700000002.000000) can1 601#4060600000000000\n");
    assert_string_equal(slurp("can_.._x_y", "victron.asc"),
                        "date Tue Nov 14 22:13:20.000 2023\n"
                        "base hex  timestamps absolute\n"
                        "internal events logged\n"
                        "Begin Triggerblock Tue Nov 14 22:13:20.000 2023\n"
                        "   0.000000 Start of measurement\n"
                        "   1.250000 1  351             Tx   d 8 28 02 E8 03 DC 05 D0 01\n"
                        "   1.250500 1  305             Rx   d 1 01\n"
                        "End TriggerBlock\n");
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/can_.._x_y/victron.pcap", tmpdir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 24 + 2 * 32);
    snprintf(path, sizeof path, "%s/can_.._x_y/bms-serial.txt", tmpdir);
    assert_int_equal(stat(path, &st), 0);
}

static void test_recorder_signals_csv(void **state)
{
    (void)state;
    bench_scenario_t sc;
    scenario(&sc, "csv", BENCH_FAM_SUPERB, "superb");
    char err[256];
    bench_recorder_t *r = bench_recorder_open(tmpdir, &sc, err, sizeof err);
    assert_non_null(r);
    int n = bench_signal_count();
    double *sig = calloc((size_t)n, sizeof *sig);
    assert_non_null(sig);
    for (int i = 0; i < n; i++) {
        if (strcmp(bench_signal_names[i], "cvl_v") == 0) {
            sig[i] = 55.2;
        } else if (strcmp(bench_signal_names[i], "ccl_a") == 0) {
            sig[i] = NAN;
        } else if (strcmp(bench_signal_names[i], "dcl_a") == 0) {
            sig[i] = 150;
        }
    }
    const bench_taps_t *t = bench_recorder_taps(r);
    t->sample(t->ctx, 1.5, sig);
    t->serial(t->ctx, true, 1, 0x55); /* superb has no serial line: dropped */
    assert_int_equal(bench_recorder_dropped(r), 1);
    free(sig);
    assert_int_equal(bench_recorder_close(r, err, sizeof err), 0);
    const char *csv = slurp("csv", "signals.csv");
    assert_true(strncmp(csv, "t,cvl_v,ccl_a,dcl_a,", 20) == 0);
    assert_non_null(strstr(csv, ",alarm_high_voltage,"));
    assert_non_null(strstr(csv, ",warning_cell_imbalance"));
    const char *row = strchr(csv, '\n') + 1;
    assert_true(strncmp(row, "1.500000,55.2,,150,0,", 21) == 0);
    /* header and row have the same number of fields */
    int hdr_commas = 0, row_commas = 0;
    for (const char *p = csv; *p != '\n'; p++) {
        hdr_commas += *p == ',';
    }
    for (const char *p = row; *p != '\n' && *p != '\0'; p++) {
        row_commas += *p == ',';
    }
    assert_int_equal(hdr_commas, row_commas);
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/csv/bms.log", tmpdir); /* superb: bus 1 files up front */
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/csv/bms-serial.txt", tmpdir);
    assert_int_not_equal(stat(path, &st), 0);
}

static void test_recorder_write_error_at_close(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/full", tmpdir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/full/victron.asc", tmpdir);
    if (symlink("/dev/full", path) != 0) {
        skip();
    }
    bench_scenario_t sc;
    scenario(&sc, "full", BENCH_FAM_TINYBMS, "tinybms");
    char err[256];
    bench_recorder_t *r = bench_recorder_open(tmpdir, &sc, err, sizeof err);
    assert_non_null(r);
    const bench_taps_t *t = bench_recorder_taps(r);
    sim_can_frame_t f = {.id = 0x351, .dlc = 8};
    for (uint64_t i = 0; i < 5000; i++) { /* past the 64 KiB buffer */
        t->can(t->ctx, 0, true, &f, i * 1000);
    }
    err[0] = '\0';
    assert_int_equal(bench_recorder_close(r, err, sizeof err), -1);
    assert_non_null(strstr(err, "/full/victron.asc: No space left on device"));
}

static void test_recorder_open_errors(void **state)
{
    (void)state;
    bench_scenario_t sc;
    scenario(&sc, "x", BENCH_FAM_TOPBAND, "topband");
    char err[256] = "";
    assert_null(bench_recorder_open("/dev/null/sub", &sc, err, sizeof err));
    assert_string_equal(err, "/dev/null/sub: Not a directory");
    assert_null(bench_recorder_open("", &sc, err, sizeof err));
    assert_null(bench_recorder_open(tmpdir, NULL, err, sizeof err));
    assert_null(bench_recorder_taps(NULL));
    assert_int_equal(bench_recorder_close(NULL, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recorder_serial_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recorder_can_files_per_bus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recorder_signals_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recorder_write_error_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recorder_open_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
