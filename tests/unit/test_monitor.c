/* SPDX-License-Identifier: MIT */
/* Unit tests for the Victron-side monitor: golden byte vectors per frame id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/monitor.h"

#define ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Values are exact multiples of the field resolution, so compare to well below it. */
#define CHECK_NEAR(row, what, got, want)                                                      \
    do {                                                                                      \
        double got_ = (got), want_ = (want);                                                  \
        if (got_ - want_ > 1e-6 || want_ - got_ > 1e-6) {                                     \
            fail_msg("row %zu: %s = %.4f, want %.4f", (size_t)(row), (what), got_, want_);     \
        }                                                                                     \
    } while (0)

#define CHECK_INT(row, what, got, want)                                                       \
    do {                                                                                      \
        long long got_ = (long long)(got), want_ = (long long)(want);                         \
        if (got_ != want_) {                                                                  \
            fail_msg("row %zu: %s = %lld, want %lld", (size_t)(row), (what), got_, want_);     \
        }                                                                                     \
    } while (0)

#define CHECK_STR(row, what, got, want)                                                       \
    do {                                                                                      \
        if (strcmp((got), (want)) != 0) {                                                     \
            fail_msg("row %zu: %s = \"%s\", want \"%s\"", (size_t)(row), (what), (got), (want)); \
        }                                                                                     \
    } while (0)

typedef struct frame_row {
    uint32_t id;
    uint8_t dlc;
    uint8_t data[8];
} frame_row_t;

static void test_monitor_limits_decoded(void **state)
{
    (void)state;
    static const struct {
        uint8_t dlc;
        uint8_t data[8];
        double cvl_v, ccl_a, dcl_a, dvl_v;
    } rows[] = {
        /* The C.3 example: 55.2 V, 100.0 A, 150.0 A, DVL 46.4 V. */
        {8, {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01}, 55.2, 100.0, 150.0, 46.4},
        /* DLC 6: no DVL, which keeps its previous (initial) value. */
        {6, {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05}, 55.2, 100.0, 150.0, 0.0},
        /* CCL/DCL are signed: 0xFFFF is -0.1 A; 0x8000 is the most negative. */
        {6, {0x00, 0x00, 0xFF, 0xFF, 0x00, 0x80}, 0.0, -0.1, -3276.8, 0.0},
        /* CVL/DVL are unsigned: 0xFFFF is 6553.5 V; 0x7FFF limits stay positive. */
        {8, {0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0x7F, 0xFF, 0xFF}, 6553.5, 3276.7, 3276.7, 6553.5},
        /* A raw DLC 9..15 means 8 bytes on classic CAN. */
        {15, {0x28, 0x02, 0x00, 0x00, 0x00, 0x00, 0xD0, 0x01}, 55.2, 0.0, 0.0, 46.4},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        bench_gx_t gx;
        bench_gx_init(&gx);
        CHECK_INT(i, "rc", bench_gx_feed(&gx, 0x351, rows[i].dlc, rows[i].data, 0), 0);
        CHECK_NEAR(i, "cvl_v", gx.cvl_v, rows[i].cvl_v);
        CHECK_NEAR(i, "ccl_a", gx.ccl_a, rows[i].ccl_a);
        CHECK_NEAR(i, "dcl_a", gx.dcl_a, rows[i].dcl_a);
        CHECK_NEAR(i, "dvl_v", gx.dvl_v, rows[i].dvl_v);
        CHECK_INT(i, "frames_known", gx.frames_known, 1);
        CHECK_INT(i, "count_by_id[0x351]", gx.count_by_id[0x351], 1);
    }
}

static void test_monitor_measurements_signed(void **state)
{
    (void)state;
    static const struct {
        uint8_t data[6];
        double voltage_v, current_a, temperature_c;
    } rows[] = {
        {{0xEE, 0x14, 0x80, 0x01, 0xD2, 0x00}, 53.58, 38.4, 21.0},
        /* BYD capture: F9 FF = -0.7 A while discharging. */
        {{0xEE, 0x14, 0xF9, 0xFF, 0x00, 0x00}, 53.58, -0.7, 0.0},
        /* Voltage is s16 0.01 V: 0xFFFF is -0.01 V, 0x7FFF the maximum 327.67 V. */
        {{0xFF, 0xFF, 0x00, 0x00, 0x9C, 0xFF}, -0.01, 0.0, -10.0},
        {{0xFF, 0x7F, 0xFF, 0x7F, 0xFF, 0x7F}, 327.67, 3276.7, 3276.7},
        {{0x00, 0x80, 0x00, 0x80, 0x00, 0x80}, -327.68, -3276.8, -3276.8},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        bench_gx_t gx;
        bench_gx_init(&gx);
        CHECK_INT(i, "rc", bench_gx_feed(&gx, 0x356, 6, rows[i].data, 0), 0);
        CHECK_NEAR(i, "voltage_v", gx.voltage_v, rows[i].voltage_v);
        CHECK_NEAR(i, "current_a", gx.current_a, rows[i].current_a);
        CHECK_NEAR(i, "temperature_c", gx.temperature_c, rows[i].temperature_c);
    }
}

static void test_monitor_alarm_pairs(void **state)
{
    (void)state;
    static const struct {
        uint8_t data[8];
        uint8_t alarm[BENCH_GX_ALARMS], warning[BENCH_GX_ALARMS];
    } rows[] = {
        /* Healthy BYD: every pair ok. */
        {{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA},
         {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
         {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
        /* 0xA6 in byte 0: high_voltage active, the other three ok. */
        {{0xA6, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA},
         {2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
         {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
        /* Reserved pair 3 and unsupported 0; bytes 3/7 only carry cell_imbalance. */
        {{0x1B, 0x00, 0xFF, 0xFD, 0x00, 0x40, 0x00, 0x01},
         {3, 2, 1, 0, 0, 0, 0, 0, 3, 3, 3, 3, 1},
         {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}},
        /* Warnings use the same layout in bytes 4..7. */
        {{0xAA, 0xAA, 0xAA, 0xAA, 0x99, 0x66, 0x56, 0x02},
         {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
         {1, 2, 1, 2, 2, 1, 2, 1, 2, 1, 1, 1, 2}},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        bench_gx_t gx;
        bench_gx_init(&gx);
        CHECK_INT(i, "rc", bench_gx_feed(&gx, 0x35A, 8, rows[i].data, 0), 0);
        for (size_t k = 0; k < BENCH_GX_ALARMS; k++) {
            if (gx.alarm[k] != rows[i].alarm[k]) {
                fail_msg("row %zu: alarm %s = %u, want %u", i, bench_gx_alarm_names[k],
                         gx.alarm[k], rows[i].alarm[k]);
            }
            if (gx.warning[k] != rows[i].warning[k]) {
                fail_msg("row %zu: warning %s = %u, want %u", i, bench_gx_alarm_names[k],
                         gx.warning[k], rows[i].warning[k]);
            }
        }
    }
    assert_string_equal(bench_gx_alarm_names[1], "high_voltage");
    assert_string_equal(bench_gx_alarm_names[12], "cell_imbalance");
}

static void test_monitor_info_frames(void **state)
{
    (void)state;
    static const frame_row_t frames[] = {
        {0x355, 6, {0x58, 0x00, 0x64, 0x00, 0x70, 0x22}},
        {0x35C, 2, {0xC8, 0x00}},
        {0x35E, 8, {'P', 'Y', 'L', 'O', 'N', ' ', ' ', ' '}},
        {0x35F, 8, {0x4C, 0x69, 0x01, 0x11, 0x96, 0x00, 0x00, 0x00}},
        {0x370, 8, {'b', 'm', 's', 'b', 'e', 'n', 'c', 'h'}},
        {0x371, 8, {'-', 'g', 'w', 0, 'x', 'x', 'x', 'x'}},
        {0x372, 8, {0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00}},
        {0x373, 8, {0x0D, 0x0D, 0x23, 0x0D, 0x24, 0x01, 0x2E, 0x01}},
        {0x374, 5, {'b', '0', 'm', '3', 0}},
        {0x375, 2, {'1', '6'}},
        {0x376, 8, {'P', '1', 'T', '2', 0, 'z', 'z', 'z'}},
        {0x377, 3, {'E', 'N', 'V'}},
        {0x379, 2, {0x2C, 0x01}},
        {0x382, 7, {'P', 'R', 'E', 'M', 'I', 'U', 'M'}},
    };
    bench_gx_t gx;
    bench_gx_init(&gx);
    for (size_t i = 0; i < ROWS(frames); i++) {
        CHECK_INT(i, "rc", bench_gx_feed(&gx, frames[i].id, frames[i].dlc, frames[i].data, i), 0);
    }
    CHECK_NEAR(0, "soc_pct", gx.soc_pct, 88);
    CHECK_NEAR(0, "soh_pct", gx.soh_pct, 100);
    CHECK_INT(1, "request_flags", gx.request_flags, 0xC8);
    CHECK_STR(2, "manufacturer", gx.manufacturer, "PYLON   ");
    CHECK_INT(3, "battery_type", gx.battery_type, 0x694C);
    CHECK_INT(3, "fw_major", gx.fw_major, 1);
    CHECK_INT(3, "fw_minor", gx.fw_minor, 17);
    CHECK_NEAR(3, "capacity_ah", gx.capacity_ah, 150);
    CHECK_STR(5, "name", gx.name, "bmsbench-gw");
    CHECK_INT(6, "modules_online", gx.modules_online, 2);
    CHECK_INT(6, "modules_blocking_charge", gx.modules_blocking_charge, 1);
    CHECK_INT(6, "modules_blocking_discharge", gx.modules_blocking_discharge, 0);
    CHECK_INT(6, "modules_offline", gx.modules_offline, 3);
    CHECK_NEAR(7, "min_cell_v", gx.min_cell_v, 3.341);
    CHECK_NEAR(7, "max_cell_v", gx.max_cell_v, 3.363);
    CHECK_NEAR(7, "min_temp_c", gx.min_temp_c, 19);
    CHECK_NEAR(7, "max_temp_c", gx.max_temp_c, 29);
    CHECK_STR(8, "min_v_id", gx.min_v_id, "b0m3");
    CHECK_STR(9, "max_v_id", gx.max_v_id, "16");
    CHECK_STR(10, "min_t_id", gx.min_t_id, "P1T2");
    CHECK_STR(11, "max_t_id", gx.max_t_id, "ENV");
    CHECK_NEAR(12, "installed_ah", gx.installed_ah, 300);
    CHECK_STR(13, "family", gx.family, "PREMIUM");
    CHECK_INT(0, "frames_known", gx.frames_known, ROWS(frames));

    /* A shorter part 1 ends the name; part 2 then no longer shows. */
    static const uint8_t short_name[3] = {'a', 'b', 'c'};
    bench_gx_feed(&gx, 0x370, 3, short_name, 100);
    CHECK_STR(14, "name", gx.name, "abc");
}

static void test_monitor_short_frames_counted(void **state)
{
    (void)state;
    static const struct {
        uint32_t id;
        uint8_t dlc;
    } rows[] = {
        {0x351, 5}, {0x351, 0}, {0x355, 3}, {0x356, 5}, {0x35A, 7}, {0x35C, 0},
        {0x35E, 0}, {0x35F, 5}, {0x370, 0}, {0x371, 0}, {0x372, 7}, {0x373, 7},
        {0x374, 1}, {0x375, 1}, {0x376, 1}, {0x377, 0}, {0x379, 1}, {0x382, 0},
    };
    static const uint8_t ones[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    bench_gx_t gx, fresh;
    bench_gx_init(&gx);
    bench_gx_init(&fresh);
    for (size_t i = 0; i < ROWS(rows); i++) {
        CHECK_INT(i, "rc", bench_gx_feed(&gx, rows[i].id, rows[i].dlc, ones, 1000 + i), -1);
        CHECK_INT(i, "frames_malformed", gx.frames_malformed, i + 1);
    }
    /* Nothing decoded: every value is still the initial one. */
    CHECK_INT(0, "frames_known", gx.frames_known, 0);
    CHECK_INT(0, "seen_351", gx.seen_351, 0);
    CHECK_NEAR(0, "cvl_v", gx.cvl_v, 0);
    CHECK_NEAR(0, "voltage_v", gx.voltage_v, 0);
    CHECK_STR(0, "manufacturer", gx.manufacturer, "");
    assert_memory_equal(gx.alarm, fresh.alarm, sizeof gx.alarm);
    CHECK_INT(0, "request_flags", gx.request_flags, 0);
    /* A NULL data pointer is no data, never a read. */
    CHECK_INT(0, "rc NULL data", bench_gx_feed(&gx, 0x356, 8, NULL, 0), -1);
    /* Exactly the minimum is accepted. */
    CHECK_INT(0, "rc 0x351 dlc 6", bench_gx_feed(&gx, 0x351, 6, ones, 0), 0);
    CHECK_INT(0, "rc 0x35E dlc 1", bench_gx_feed(&gx, 0x35E, 1, ones, 0), 0);
}

static void test_monitor_ignores_other_frames(void **state)
{
    (void)state;
    static const uint8_t limits[8] = {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01};
    static const uint32_t ids[] = {
        0x80000351u, /* 29-bit 0x351: Venus ignores extended frames */
        0x8000035Au,
        0x40000351u, /* remote request */
        0x20000351u, /* error frame */
        0x350, 0x358, 0x305, 0x000, 0x7FF,
        0x1351, /* beyond 11 bits without a flag */
    };
    bench_gx_t gx;
    bench_gx_init(&gx);
    for (size_t i = 0; i < ROWS(ids); i++) {
        CHECK_INT(i, "rc", bench_gx_feed(&gx, ids[i], 8, limits, i), 1);
    }
    CHECK_INT(0, "frames", gx.frames, ROWS(ids));
    CHECK_INT(0, "frames_known", gx.frames_known, 0);
    CHECK_INT(0, "frames_malformed", gx.frames_malformed, 0);
    CHECK_INT(0, "count_by_id[0x351]", gx.count_by_id[0x351], 0);
    CHECK_INT(0, "count_by_id[0x350]", gx.count_by_id[0x350], 1);
    CHECK_INT(0, "count_by_id[0x7FF]", gx.count_by_id[0x7FF], 1);
    CHECK_INT(0, "seen_351", gx.seen_351, 0);
    CHECK_NEAR(0, "cvl_v", gx.cvl_v, 0);
}

static void test_monitor_gap_tracking(void **state)
{
    (void)state;
    static const uint8_t limits[8] = {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01};
    static const struct {
        uint32_t id;
        uint8_t dlc;
        uint64_t t_us;
        uint64_t last_351_us, max_gap_us;
    } rows[] = {
        {0x355, 8, 500, 0, 0},                   /* first frame sets first_us, no 0x351 yet */
        {0x351, 8, 1000, 1000, 0},               /* first 0x351: no gap yet */
        {0x351, 8, 1001000, 1001000, 1000000},   /* 1 s */
        {0x351, 4, 3000000, 1001000, 1000000},   /* too short: not a 0x351 for timing */
        {0x356, 8, 3400000, 1001000, 1000000},   /* other ids do not count */
        {0x351, 6, 3500000, 3500000, 2499000},   /* 2.499 s, the longest */
        {0x351, 8, 4000000, 4000000, 2499000},   /* shorter gap keeps the maximum */
        {0x80000351u, 8, 9000000, 4000000, 2499000}, /* 29-bit: ignored */
        {0x351, 8, 0x100000000ull + 4000000, 0x100000000ull + 4000000, 0x100000000ull},
    };
    bench_gx_t gx;
    bench_gx_init(&gx);
    for (size_t i = 0; i < ROWS(rows); i++) {
        (void)bench_gx_feed(&gx, rows[i].id, rows[i].dlc, limits, rows[i].t_us);
        CHECK_INT(i, "last_351_us", gx.last_351_us, rows[i].last_351_us);
        CHECK_INT(i, "max_gap_351_us", gx.max_gap_351_us, rows[i].max_gap_us);
        CHECK_INT(i, "first_us", gx.first_us, 500);
    }
    CHECK_INT(0, "count_by_id[0x351]", gx.count_by_id[0x351], 6);
    CHECK_INT(0, "frames", gx.frames, ROWS(rows));
}

static void test_monitor_describe_json(void **state)
{
    (void)state;
    static const struct {
        frame_row_t f;
        const char *want;
    } rows[] = {
        {{0x351, 8, {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01}},
         "{\"id\": \"0x351\", \"name\": \"limits\", \"cvl_v\": 55.2, \"ccl_a\": 100.0, "
         "\"dcl_a\": 150.0, \"dvl_v\": 46.4}"},
        {{0x351, 6, {0x28, 0x02, 0xF9, 0xFF, 0x00, 0x00}},
         "{\"id\": \"0x351\", \"name\": \"limits\", \"cvl_v\": 55.2, \"ccl_a\": -0.7, "
         "\"dcl_a\": 0.0}"},
        {{0x355, 4, {0x58, 0x00, 0x64, 0x00}},
         "{\"id\": \"0x355\", \"name\": \"soc_soh\", \"soc_pct\": 88, \"soh_pct\": 100}"},
        {{0x355, 6, {0x58, 0x00, 0x64, 0x00, 0x75, 0x22}},
         "{\"id\": \"0x355\", \"name\": \"soc_soh\", \"soc_pct\": 88, \"soh_pct\": 100, "
         "\"soc_hires_pct\": 88.21}"},
        {{0x356, 8, {0x05, 0x00, 0xF9, 0xFF, 0x9C, 0xFF, 0, 0}},
         "{\"id\": \"0x356\", \"name\": \"measurements\", \"voltage_v\": 0.05, "
         "\"current_a\": -0.7, \"temperature_c\": -10.0}"},
        {{0x35A, 8, {0xA6, 0xAA, 0xAA, 0xFE, 0x00, 0x00, 0x00, 0x00}},
         "{\"id\": \"0x35A\", \"name\": \"alarms\", \"alarms\": {\"general\": \"ok\", "
         "\"high_voltage\": \"active\", \"low_voltage\": \"ok\", \"high_temperature\": \"ok\", "
         "\"low_temperature\": \"ok\", \"high_temperature_charge\": \"ok\", "
         "\"low_temperature_charge\": \"ok\", \"high_discharge_current\": \"ok\", "
         "\"high_charge_current\": \"ok\", \"contactor\": \"ok\", \"short_circuit\": \"ok\", "
         "\"bms_internal\": \"ok\", \"cell_imbalance\": \"ok\"}, \"warnings\": {\"general\": "
         "\"unsupported\", \"high_voltage\": \"unsupported\", \"low_voltage\": \"unsupported\", "
         "\"high_temperature\": \"unsupported\", \"low_temperature\": \"unsupported\", "
         "\"high_temperature_charge\": \"unsupported\", \"low_temperature_charge\": "
         "\"unsupported\", \"high_discharge_current\": \"unsupported\", \"high_charge_current\": "
         "\"unsupported\", \"contactor\": \"unsupported\", \"short_circuit\": \"unsupported\", "
         "\"bms_internal\": \"unsupported\", \"cell_imbalance\": \"unsupported\"}}"},
        {{0x35C, 2, {0xA8, 0x00}},
         "{\"id\": \"0x35C\", \"name\": \"requests\", \"charge_enable\": true, "
         "\"discharge_enable\": false, \"force_charge_1\": true, \"force_charge_2\": false, "
         "\"full_charge\": true}"},
        {{0x35E, 8, {'B', 'Y', 'D', 0, 'X', 'X', 'X', 'X'}},
         "{\"id\": \"0x35E\", \"name\": \"manufacturer\", \"manufacturer\": \"BYD\"}"},
        {{0x35E, 4, {'a', '"', 0x01, 0xC3}},
         "{\"id\": \"0x35E\", \"name\": \"manufacturer\", \"manufacturer\": "
         "\"a\\\"\\u0001\\u00C3\"}"},
        {{0x35F, 8, {0x4C, 0x69, 0x01, 0x11, 0x96, 0x00, 0, 0}},
         "{\"id\": \"0x35F\", \"name\": \"battery_info\", \"battery_type\": 26956, "
         "\"firmware\": \"1.17\", \"capacity_ah\": 150}"},
        {{0x370, 8, {'b', 'm', 's', 'b', 'e', 'n', 'c', 'h'}},
         "{\"id\": \"0x370\", \"name\": \"name_1\", \"text\": \"bmsbench\"}"},
        {{0x372, 8, {0x10, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00}},
         "{\"id\": \"0x372\", \"name\": \"modules\", \"modules_online\": 16, "
         "\"modules_blocking_charge\": 1, \"modules_blocking_discharge\": 2, "
         "\"modules_offline\": 0}"},
        {{0x373, 8, {0x0D, 0x0D, 0x23, 0x0D, 0x0A, 0x01, 0x2E, 0x01}},
         "{\"id\": \"0x373\", \"name\": \"cell_extremes\", \"min_cell_v\": 3.341, "
         "\"max_cell_v\": 3.363, \"min_temp_c\": -7, \"max_temp_c\": 29}"},
        {{0x374, 5, {'b', '0', ' ', 'm', '3'}},
         "{\"id\": \"0x374\", \"name\": \"min_cell_voltage_id\", \"text\": \"b0 m3\"}"},
        {{0x379, 2, {0x9C, 0x00}},
         "{\"id\": \"0x379\", \"name\": \"installed_capacity\", \"installed_ah\": 156}"},
        {{0x382, 8, {'P', 'R', 'E', 'M', 'I', 'U', 'M', 0}},
         "{\"id\": \"0x382\", \"name\": \"family\", \"text\": \"PREMIUM\"}"},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        char out[2048];
        int rc = bench_victron_describe(rows[i].f.id, rows[i].f.dlc, rows[i].f.data, true, out,
                                        sizeof out);
        if (rc != 0) {
            fail_msg("row %zu: rc %d: %s", i, rc, out);
        }
        CHECK_STR(i, "json", out, rows[i].want);
    }
}

static void test_monitor_describe_text(void **state)
{
    (void)state;
    static const struct {
        frame_row_t f;
        const char *want;
    } rows[] = {
        {{0x351, 8, {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01}},
         "0x351 limits: cvl_v=55.2 ccl_a=100.0 dcl_a=150.0 dvl_v=46.4"},
        {{0x35A, 8, {0xA6, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAB}},
         "0x35A alarms: alarms=high_voltage:active warnings=cell_imbalance:reserved"},
        {{0x35A, 8, {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}},
         "0x35A alarms: alarms=all-ok warnings=all-ok"},
        {{0x35E, 3, {'A', '\n', 'B'}}, "0x35E manufacturer: manufacturer=\"A\\x0AB\""},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        char out[512];
        int rc = bench_victron_describe(rows[i].f.id, rows[i].f.dlc, rows[i].f.data, false, out,
                                        sizeof out);
        CHECK_INT(i, "rc", rc, 0);
        CHECK_STR(i, "text", out, rows[i].want);
    }
}

static void test_monitor_describe_rejects(void **state)
{
    (void)state;
    static const uint8_t data[8] = {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01};
    static const struct {
        uint32_t id;
        uint8_t dlc;
        const char *want;
    } rows[] = {
        {0x123, 8, "0x123 is not a Victron CAN-BMS frame"},
        {0x351, 4, "0x351 needs at least 6 data bytes, got 4"},
        {0x35A, 7, "0x35A needs at least 8 data bytes, got 7"},
        {0x35E, 0, "0x35E needs at least 1 data byte, got 0"},
        {0x80000351u, 8,
         "0x00000351 is a 29-bit frame; Victron CAN-BMS uses 11-bit ids (a GX ignores it)"},
        {0x40000351u, 0, "0x351 is a remote frame: it carries no data"},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        char out[256];
        CHECK_INT(i, "rc", bench_victron_describe(rows[i].id, rows[i].dlc, data, true, out,
                                                  sizeof out),
                  -1);
        CHECK_STR(i, "reason", out, rows[i].want);
    }
}

static void test_monitor_describe_small_buffer(void **state)
{
    (void)state;
    static const uint8_t data[8] = {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01};
    /* Guard bytes after the buffer must survive every capacity. */
    for (size_t cap = 1; cap < 40; cap++) {
        char out[48];
        memset(out, 'Z', sizeof out);
        int rc = bench_victron_describe(0x351, 8, data, true, out, cap);
        CHECK_INT(cap, "rc", rc, -1);
        if (memchr(out, '\0', cap) == NULL) {
            fail_msg("row %zu: output not terminated", cap);
        }
        for (size_t j = cap; j < sizeof out; j++) {
            if (out[j] != 'Z') {
                fail_msg("row %zu: byte %zu written past cap", cap, j);
            }
        }
    }
}

/* 0x359 Pylontech flags (A.4): each flag from its own byte and bit, unused
 * bits ignored, module count and "PN" when present, short frames dropped. */
static void test_monitor_pylon_flags_359(void **state)
{
    (void)state;
    static const struct {
        uint8_t dlc;
        uint8_t data[8];
        int rc;
        uint32_t flags;
        unsigned modules;
        const char *tag;
    } rows[] = {
        {8, {0x02, 0, 0, 0, 4, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_OVER_VOLTAGE, 4, "PN"},
        {8, {0x04, 0, 0, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_UNDER_VOLTAGE, 1, "PN"},
        {8, {0x08, 0, 0, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_OVER_TEMP, 1, "PN"},
        {8, {0x10, 0, 0, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_UNDER_TEMP, 1, "PN"},
        {8, {0x80, 0, 0, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_DISCHARGE_OC, 1, "PN"},
        {8, {0, 0x01, 0, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_CHARGE_OC, 1, "PN"},
        {8, {0, 0x08, 0, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_PROT_SYSTEM_ERROR, 1, "PN"},
        {8, {0, 0, 0x02, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_HIGH_VOLTAGE, 1, "PN"},
        {8, {0, 0, 0x04, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_LOW_VOLTAGE, 1, "PN"},
        {8, {0, 0, 0x08, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_HIGH_TEMP, 1, "PN"},
        {8, {0, 0, 0x10, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_LOW_TEMP, 1, "PN"},
        {8, {0, 0, 0x80, 0, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_DISCHARGE_HC, 1, "PN"},
        {8, {0, 0, 0, 0x01, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_CHARGE_HC, 1, "PN"},
        {8, {0, 0, 0, 0x08, 1, 'P', 'N', 0}, 0, 1u << BENCH_PYLON_WARN_INTERNAL_COMM, 1, "PN"},
        /* unused bits (byte 0 bits 0,5,6; byte 1 bit 7 as Battery-Emulator sends FAULT) */
        {8, {0x61, 0x80, 0x61, 0x80, 2, 'P', 'Y', 0}, 0, 0, 2, "PY"},
        /* everything the spec defines */
        {8, {0x9E, 0x09, 0x9E, 0x09, 16, 'P', 'N', 0}, 0, (1u << BENCH_PYLON_NFLAGS) - 1, 16, "PN"},
        /* minimum: the four flag bytes; no modules, no tag */
        {4, {0x02, 0, 0, 0}, 0, 1u << BENCH_PYLON_PROT_OVER_VOLTAGE, 0, ""},
        {5, {0, 0, 0, 0, 3}, 0, 0, 3, ""},
        {3, {0x02, 0, 0}, -1, 0, 0, ""},
        {0, {0}, -1, 0, 0, ""},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        bench_gx_t gx;
        bench_gx_init(&gx);
        CHECK_INT(i, "rc", bench_gx_feed(&gx, 0x359, rows[i].dlc, rows[i].data, 10), rows[i].rc);
        CHECK_INT(i, "seen_359", gx.seen_359, rows[i].rc == 0);
        CHECK_INT(i, "flags", gx.pylon_flags, rows[i].flags);
        CHECK_INT(i, "modules", gx.pylon_modules, rows[i].modules);
        CHECK_STR(i, "tag", gx.pylon_tag, rows[i].tag);
        CHECK_INT(i, "frames_malformed", gx.frames_malformed, rows[i].rc == -1);
    }
    /* Describe: every flag by name, JSON and text. */
    char out[1024];
    static const uint8_t ov_chg_oc[8] = {0x02, 0x01, 0x10, 0x00, 4, 'P', 'N', 0};
    assert_int_equal(bench_victron_describe(0x359, 8, ov_chg_oc, true, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"protection_over_voltage\": true"));
    assert_non_null(strstr(out, "\"protection_charge_over_current\": true"));
    assert_non_null(strstr(out, "\"alarm_low_temperature\": true"));
    assert_non_null(strstr(out, "\"modules\": 4, \"tag\": \"PN\""));
    assert_null(strstr(out, "protection_under_voltage\": true"));
    assert_int_equal(bench_victron_describe(0x359, 3, ov_chg_oc, false, out, sizeof out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monitor_limits_decoded),
        cmocka_unit_test(test_monitor_measurements_signed),
        cmocka_unit_test(test_monitor_alarm_pairs),
        cmocka_unit_test(test_monitor_info_frames),
        cmocka_unit_test(test_monitor_short_frames_counted),
        cmocka_unit_test(test_monitor_ignores_other_frames),
        cmocka_unit_test(test_monitor_gap_tracking),
        cmocka_unit_test(test_monitor_describe_json),
        cmocka_unit_test(test_monitor_describe_text),
        cmocka_unit_test(test_monitor_describe_rejects),
        cmocka_unit_test(test_monitor_describe_small_buffer),
        cmocka_unit_test(test_monitor_pylon_flags_359),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
