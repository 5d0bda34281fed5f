/* SPDX-License-Identifier: MIT */
/* Golden bytes for the recording writers: candump -L, ASC, pcap, serial, CSV. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/logfmt_write.h"

#define EFF SIM_CAN_EFF_FLAG

static sim_can_frame_t frame(uint32_t id, uint8_t dlc, const uint8_t *data)
{
    sim_can_frame_t f = {.id = id, .dlc = dlc};
    memcpy(f.data, data, 8);
    return f;
}

static void expect_text(int row, const char *what, int n, const char *got, const char *want)
{
    if (n != (int)strlen(want) || strcmp(got, want) != 0) {
        fail_msg("row %d (%s): got %d \"%s\", want %d \"%s\"", row, what, n, n >= 0 ? got : "",
                 (int)strlen(want), want);
    }
}

/* ---- candump -L ---- */

static const struct {
    uint64_t t_us;
    const char *ifname;
    uint32_t id;
    uint8_t dlc;
    uint8_t data[8];
    const char *want;
} candump_rows[] = {
    {1700000000123456u,
     "can0",
     0x351,
     8,
     {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01},
     "(1700000000.123456) can0 351#2802E803DC05D001\n"},
    {0, "can0", 0x000, 0, {0}, "(0000000000.000000) can0 000#\n"},
    {1000001, "can1", 0x7FF, 1, {0xAB}, "(0000000001.000001) can1 7FF#AB\n"},
    {1700000001999999u,
     "can1",
     0x601,
     8,
     {0x40, 0x60, 0x60, 0x00, 0, 0, 0, 0},
     "(1700000001.999999) can1 601#4060600000000000\n"},
    {5, "vcan0", EFF | 0x1FFFFFFF, 2, {0x00, 0xFF}, "(0000000000.000005) vcan0 1FFFFFFF#00FF\n"},
    {5, "can0", EFF | 0x5, 0, {0}, "(0000000000.000005) can0 00000005#\n"},
    /* more than 10 digits of seconds are written out, not cut */
    {99999999999000000u,
     "can0",
     0x35E,
     3,
     {0x41, 0x42, 0x43},
     "(99999999999.000000) can0 35E#414243\n"},
};

static void test_logfmt_candump_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof candump_rows / sizeof candump_rows[0]; i++) {
        sim_can_frame_t f = frame(candump_rows[i].id, candump_rows[i].dlc, candump_rows[i].data);
        char out[BENCH_LOGFMT_CANDUMP_MAX];
        memset(out, 'Z', sizeof out);
        int n = bench_logfmt_candump_line(out, sizeof out, candump_rows[i].t_us,
                                          candump_rows[i].ifname, &f);
        expect_text((int)i, "candump", n, out, candump_rows[i].want);
    }
}

static void test_logfmt_candump_rejects_bad_input(void **state)
{
    (void)state;
    const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const struct {
        uint32_t id;
        uint8_t dlc;
        const char *ifname;
    } rows[] = {
        {0x351, 9, "can0"}, /* dlc past 8 */
        {0x351, 255, "can0"},
        {0x800, 8, "can0"},             /* 11-bit id out of range */
        {EFF | 0x20000000u, 8, "can0"}, /* 29-bit id out of range */
        {0x351, 8, ""},                 /* empty interface */
        {0x351, 8, "abcdefghijklmnop"}, /* 16 characters: longer than IFNAMSIZ-1 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sim_can_frame_t f = frame(rows[i].id, rows[i].dlc, d);
        char out[BENCH_LOGFMT_CANDUMP_MAX];
        int n = bench_logfmt_candump_line(out, sizeof out, 1, rows[i].ifname, &f);
        if (n != -1) {
            fail_msg("row %zu: accepted (%d)", i, n);
        }
    }
    assert_int_equal(bench_logfmt_candump_line((char[64]){0}, 64, 1, "can0", NULL), -1);
    /* The longest interface name fits the documented maximum buffer. */
    sim_can_frame_t f = frame(EFF | 0x1FFFFFFF, 8, d);
    char out[BENCH_LOGFMT_CANDUMP_MAX];
    assert_true(bench_logfmt_candump_line(out, sizeof out, UINT64_MAX, "abcdefghijklmno", &f) > 0);
}

static void test_logfmt_candump_exact_capacity(void **state)
{
    (void)state;
    const uint8_t d[8] = {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01};
    sim_can_frame_t f = frame(0x351, 8, d);
    const char *want = "(1700000000.123456) can0 351#2802E803DC05D001\n";
    size_t len = strlen(want);
    for (size_t cap = 0; cap <= len + 1; cap++) {
        char out[64];
        memset(out, 'Z', sizeof out);
        int n = bench_logfmt_candump_line(cap > 0 ? out : NULL, cap, 1700000000123456u, "can0", &f);
        int want_n = cap == len + 1 ? (int)len : -1;
        if (n != want_n) {
            fail_msg("cap %zu: got %d, want %d", cap, n, want_n);
        }
        if (cap > 0 && cap < sizeof out && out[cap] != 'Z') {
            fail_msg("cap %zu: wrote past the buffer", cap);
        }
    }
}

/* ---- Vector ASC ---- */

static void test_logfmt_asc_header(void **state)
{
    (void)state;
    const struct {
        int64_t epoch_s;
        const char *date;
    } rows[] = {
        {1700000000, "Tue Nov 14 22:13:20.000 2023"}, {0, "Thu Jan 01 00:00:00.000 1970"},
        {951782400, "Tue Feb 29 00:00:00.000 2000"}, /* leap day */
        {951868799, "Tue Feb 29 23:59:59.000 2000"},  {4102444800, "Fri Jan 01 00:00:00.000 2100"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char want[BENCH_LOGFMT_ASC_HEADER_MAX];
        snprintf(want, sizeof want,
                 "date %s\nbase hex  timestamps absolute\ninternal events logged\n"
                 "Begin Triggerblock %s\n   0.000000 Start of measurement\n",
                 rows[i].date, rows[i].date);
        char out[BENCH_LOGFMT_ASC_HEADER_MAX];
        int n = bench_logfmt_asc_header(out, sizeof out, rows[i].epoch_s);
        expect_text((int)i, "asc header", n, out, want);
    }
    char out[BENCH_LOGFMT_ASC_HEADER_MAX];
    assert_int_equal(bench_logfmt_asc_header(out, sizeof out, -1), -1);
    assert_int_equal(bench_logfmt_asc_header(out, 40, 1700000000), -1);
}

static const struct {
    uint64_t rel_us;
    int channel;
    bool tx;
    uint32_t id;
    uint8_t dlc;
    uint8_t data[8];
    const char *want;
} asc_rows[] = {
    {1234567,
     1,
     false,
     0x351,
     8,
     {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01},
     "   1.234567 1  351             Rx   d 8 28 02 E8 03 DC 05 D0 01\n"},
    {0,
     1,
     true,
     0x35E,
     8,
     {'E', 'E', 'T', ' ', ' ', ' ', ' ', ' '},
     "   0.000000 1  35E             Tx   d 8 45 45 54 20 20 20 20 20\n"},
    {1500000, 1, true, 0x080, 0, {0}, "   1.500000 1  80              Tx   d 0\n"},
    {2700000000u,
     2,
     false,
     EFF | 0x18FF50E5,
     2,
     {0x01, 0x0A},
     "2700.000000 2  18FF50E5x       Rx   d 2 01 0A\n"},
    {12345678000000u,
     1,
     false,
     0x7FF,
     1,
     {0xFF},
     "12345678.000000 1  7FF             Rx   d 1 FF\n"},
};

static void test_logfmt_asc_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof asc_rows / sizeof asc_rows[0]; i++) {
        sim_can_frame_t f = frame(asc_rows[i].id, asc_rows[i].dlc, asc_rows[i].data);
        char out[BENCH_LOGFMT_ASC_LINE_MAX];
        int n = bench_logfmt_asc_line(out, sizeof out, asc_rows[i].rel_us, asc_rows[i].channel,
                                      asc_rows[i].tx, &f);
        expect_text((int)i, "asc line", n, out, asc_rows[i].want);
    }
    const uint8_t d[8] = {0};
    sim_can_frame_t bad = frame(0x351, 9, d);
    sim_can_frame_t ok = frame(0x351, 8, d);
    char out[BENCH_LOGFMT_ASC_LINE_MAX];
    assert_int_equal(bench_logfmt_asc_line(out, sizeof out, 0, 1, false, &bad), -1);
    assert_int_equal(bench_logfmt_asc_line(out, sizeof out, 0, 0, false, &ok), -1);
    assert_int_equal(bench_logfmt_asc_line(out, 20, 0, 1, false, &ok), -1);
    /* the worst case fits the documented maximum */
    sim_can_frame_t big = frame(EFF | 0x1FFFFFFF, 8, d);
    assert_true(bench_logfmt_asc_line(out, sizeof out, UINT64_MAX, 2147483647, true, &big) > 0);
}

static void test_logfmt_asc_trailer(void **state)
{
    (void)state;
    char out[32];
    int n = bench_logfmt_asc_trailer(out, sizeof out);
    expect_text(0, "asc trailer", n, out, "End TriggerBlock\n");
    assert_int_equal(bench_logfmt_asc_trailer(out, 17), -1);
}

/* ---- pcap ---- */

static void expect_bytes(int row, const char *what, const uint8_t *got, const uint8_t *want,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            fail_msg("row %d (%s): byte %zu is 0x%02X, want 0x%02X", row, what, i, got[i], want[i]);
        }
    }
}

static void test_logfmt_pcap_header(void **state)
{
    (void)state;
    static const uint8_t want[BENCH_PCAP_HEADER_LEN] = {
        0xD4, 0xC3, 0xB2, 0xA1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xE3, 0x00, 0x00, 0x00,
    };
    uint8_t out[BENCH_PCAP_HEADER_LEN];
    memset(out, 0x55, sizeof out);
    bench_logfmt_pcap_header(out);
    expect_bytes(0, "pcap header", out, want, sizeof want);
}

static const struct {
    uint64_t t_us;
    uint32_t id;
    uint8_t dlc;
    uint8_t data[8];
    uint8_t want[BENCH_PCAP_RECORD_LEN];
} pcap_rows[] = {
    /* SDO upload request for 0x6060 to node 1 at 1700000001.000002 */
    {1700000001000002u,
     0x601,
     8,
     {0x40, 0x60, 0x60, 0x00, 0, 0, 0, 0},
     {0x01, 0xF1, 0x53, 0x65, 0x02, 0x00, 0x00, 0x00, 0x10, 0,    0,    0,    0x10, 0, 0, 0,
      0x00, 0x00, 0x06, 0x01, 0x08, 0,    0,    0,    0x40, 0x60, 0x60, 0x00, 0,    0, 0, 0}},
    /* 29-bit id: EFF flag in the top bit, id big-endian */
    {999999,
     EFF | 0x18FF50E5,
     2,
     {0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x11, 0x22},
     {0x00, 0,    0,    0,    0x3F, 0x42, 0x0F, 0x00, 0x10, 0,    0, 0, 0x10, 0, 0, 0,
      0x98, 0xFF, 0x50, 0xE5, 0x02, 0,    0,    0,    0xAA, 0xBB, 0, 0, 0,    0, 0, 0}},
    /* dlc 0: the data bytes are zero whatever the frame held */
    {0, 0x000, 0, {1, 2, 3, 4, 5, 6, 7, 8}, {0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 0, 0,    0, 0, 0, 0,    0, 0, 0}},
    /* the last representable second */
    {4294967295999999u, 0x7FF, 1, {0x5A}, {0xFF, 0xFF, 0xFF, 0xFF, 0x3F, 0x42, 0x0F, 0x00,
                                           0x10, 0,    0,    0,    0x10, 0,    0,    0,
                                           0x00, 0x00, 0x07, 0xFF, 0x01, 0,    0,    0,
                                           0x5A, 0,    0,    0,    0,    0,    0,    0}},
};

static void test_logfmt_pcap_records(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pcap_rows / sizeof pcap_rows[0]; i++) {
        sim_can_frame_t f = frame(pcap_rows[i].id, pcap_rows[i].dlc, pcap_rows[i].data);
        uint8_t out[BENCH_PCAP_RECORD_LEN];
        memset(out, 0x55, sizeof out);
        if (bench_logfmt_pcap_record(out, pcap_rows[i].t_us, &f) != 0) {
            fail_msg("row %zu: rejected", i);
        }
        expect_bytes((int)i, "pcap record", out, pcap_rows[i].want, sizeof out);
    }
}

static void test_logfmt_pcap_rejects_bad_input(void **state)
{
    (void)state;
    const uint8_t d[8] = {0};
    uint8_t out[BENCH_PCAP_RECORD_LEN];
    memset(out, 0x55, sizeof out);
    sim_can_frame_t bad_dlc = frame(0x351, 9, d);
    sim_can_frame_t bad_id = frame(0x800, 8, d);
    sim_can_frame_t ok = frame(0x351, 8, d);
    assert_int_equal(bench_logfmt_pcap_record(out, 0, &bad_dlc), -1);
    assert_int_equal(bench_logfmt_pcap_record(out, 0, &bad_id), -1);
    assert_int_equal(bench_logfmt_pcap_record(out, 4294967296000000u, &ok), -1);
    assert_int_equal(bench_logfmt_pcap_record(out, 0, NULL), -1);
    for (size_t i = 0; i < sizeof out; i++) {
        if (out[i] != 0x55) {
            fail_msg("byte %zu written on a rejected record", i);
        }
    }
}

/* ---- serial capture ---- */

static void test_logfmt_serial_lines(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x7E, 0x32, 0x30, 0x0D};
    static const uint8_t one[] = {0x00};
    const struct {
        uint64_t t_us;
        bool tx, cont;
        const uint8_t *bytes;
        size_t n;
        const char *want;
    } rows[] = {
        {1250000, true, false, req, sizeof req, "1.250000 tx 7E 32 30 0D\n"},
        {0, false, false, one, 1, "0.000000 rx 00\n"},
        {2700000001, false, true, req, 2, "2700.000001 rx+ 7E 32\n"},
        {59, true, true, one, 1, "0.000059 tx+ 00\n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[BENCH_LOGFMT_SERIAL_LINE_MAX];
        int n = bench_logfmt_serial_line(out, sizeof out, rows[i].t_us, rows[i].tx, rows[i].cont,
                                         rows[i].bytes, rows[i].n);
        expect_text((int)i, "serial", n, out, rows[i].want);
    }
    uint8_t full[BENCH_SERIAL_LINE_BYTES + 1];
    memset(full, 0xA5, sizeof full);
    char out[BENCH_LOGFMT_SERIAL_LINE_MAX];
    int n = bench_logfmt_serial_line(out, sizeof out, UINT64_MAX, true, true, full,
                                     BENCH_SERIAL_LINE_BYTES);
    /* "18446744073709.551615 tx+" + 256 x " A5" + "\n" */
    assert_int_equal(n, 25 + 3 * BENCH_SERIAL_LINE_BYTES + 1);
    assert_int_equal(bench_logfmt_serial_line(out, sizeof out, 0, true, false, full,
                                              BENCH_SERIAL_LINE_BYTES + 1),
                     -1);
    assert_int_equal(bench_logfmt_serial_line(out, sizeof out, 0, true, false, full, 0), -1);
    assert_int_equal(bench_logfmt_serial_line(out, 12, 0, true, false, full, 4), -1);
}

/* ---- CSV ---- */

static void test_logfmt_csv_numbers(void **state)
{
    (void)state;
    const struct {
        double v;
        const char *want;
    } rows[] = {
        {0.0, "0"},       {53.2, "53.2"},
        {-12.5, "-12.5"}, {3.3456789, "3.345679"},
        {1e-9, "1e-09"},  {150.0, "150"},
        {NAN, ""},        {INFINITY, ""},
        {-INFINITY, ""},  {-1.7976931348623157e308, "-1.797693e+308"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[32];
        int n = bench_logfmt_csv_number(out, sizeof out, rows[i].v);
        expect_text((int)i, "csv", n, out, rows[i].want);
    }
    char out[4];
    assert_int_equal(bench_logfmt_csv_number(out, sizeof out, 53.25), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logfmt_candump_lines),
        cmocka_unit_test(test_logfmt_candump_rejects_bad_input),
        cmocka_unit_test(test_logfmt_candump_exact_capacity),
        cmocka_unit_test(test_logfmt_asc_header),
        cmocka_unit_test(test_logfmt_asc_lines),
        cmocka_unit_test(test_logfmt_asc_trailer),
        cmocka_unit_test(test_logfmt_pcap_header),
        cmocka_unit_test(test_logfmt_pcap_records),
        cmocka_unit_test(test_logfmt_pcap_rejects_bad_input),
        cmocka_unit_test(test_logfmt_serial_lines),
        cmocka_unit_test(test_logfmt_csv_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
