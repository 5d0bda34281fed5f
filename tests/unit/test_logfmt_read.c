/* SPDX-License-Identifier: MIT */
/* Tests of the CAN log and serial capture readers (harness/logfmt_read.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/logfmt_read.h"

typedef struct good_row {
    bench_logfmt_t fmt;
    bool dec;
    const char *line;
    uint64_t t_us;
    uint32_t id;
    uint8_t dlc, len;
    const char *hex;    /* expected data, upper-case pairs */
    char dir;
} good_row_t;

static const good_row_t good_rows[] = {
    {BENCH_LOGFMT_CANDUMP_L, false, "(1700000000.123456) can0 351#2802E803DC05D001",
     1700000000123456ull, 0x351, 8, 8, "2802E803DC05D001", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(1700000000.123456789) vcan0 35C#C0", 1700000000123456ull,
     0x35C, 1, 1, "C0", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(0000000000.000000) can0 351#", 0, 0x351, 0, 0, "", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(1.000001) can1 12345678#0102", 1000001, 0x12345678u | BENCH_LOG_EFF,
     2, 2, "0102", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(1.000000) can0 123#R", 1000000, 0x123 | BENCH_LOG_RTR, 0, 0,
     "", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(1.000000) can0 123#R3", 1000000, 0x123 | BENCH_LOG_RTR, 3, 0,
     "", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(1.000000) can0 351#11.22.33.44.55.66.77.88_F", 1000000, 0x351,
     15, 8, "1122334455667788", 0},
    {BENCH_LOGFMT_CANDUMP_L, false, "(2.500000) can0 351#0102 T", 2500000, 0x351, 2, 2, "0102", 'T'},
    {BENCH_LOGFMT_CANDUMP_L, false, "(2.500000) can0 20000080#0000000000000000", 2500000,
     0x80u | BENCH_LOG_ERR, 8, 8, "0000000000000000", 0},
    {BENCH_LOGFMT_CANDUMP, false, "  can0  351   [8]  28 02 E8 03 DC 05 D0 01", 0, 0x351, 8, 8,
     "2802E803DC05D001", 0},
    {BENCH_LOGFMT_CANDUMP, false, " (1700000000.500000)  can0  35C   [2]  C0 00",
     1700000000500000ull, 0x35C, 2, 2, "C000", 0},
    {BENCH_LOGFMT_CANDUMP, false, "  can0  1F334455   [1]  AB", 0, 0x1F334455u | BENCH_LOG_EFF, 1,
     1, "AB", 0},
    {BENCH_LOGFMT_CANDUMP, false, "  can0  123   [4]  remote request", 0, 0x123 | BENCH_LOG_RTR, 4,
     0, "", 0},
    {BENCH_LOGFMT_ASC, false, "   1.234567 1  351             Rx   d 8 28 02 E8 03 DC 05 D0 01",
     1234567, 0x351, 8, 8, "2802E803DC05D001", 'R'},
    {BENCH_LOGFMT_ASC, false,
     "   2.000000 2  1ABCDEFx        Tx   d 2 01 02  Length = 232000 BitCount = 118 ID = 28036591x",
     2000000, 0x1ABCDEFu | BENCH_LOG_EFF, 2, 2, "0102", 'T'},
    {BENCH_LOGFMT_ASC, true, "   3.000000 1  849             Rx   d 1 C0", 3000000, 0x351, 1, 1,
     "C0", 'R'},
    {BENCH_LOGFMT_ASC, false, "   4.000000 1  123             Rx   r 2", 4000000,
     0x123 | BENCH_LOG_RTR, 2, 0, "", 'R'},
};

static void test_logfmt_read_good_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good_rows / sizeof good_rows[0]; i++) {
        const good_row_t *r = &good_rows[i];
        bench_logframe_t f;
        char msg[256] = "";
        int rc = bench_logline_parse(r->fmt, r->line, strlen(r->line), r->dec, &f, msg, sizeof msg);
        char hex[17] = "";
        for (unsigned k = 0; k < f.len && k < 8; k++) {
            snprintf(hex + 2 * k, 3, "%02X", f.data[k]);
        }
        if (rc != 1 || f.t_us != r->t_us || f.id != r->id || f.dlc != r->dlc || f.len != r->len ||
            strcmp(hex, r->hex) != 0 || f.dir != r->dir) {
            fail_msg("row %zu '%s': rc %d (%s) t %llu id 0x%X dlc %u len %u data %s dir %c", i,
                     r->line, rc, msg, (unsigned long long)f.t_us, (unsigned)f.id, f.dlc, f.len,
                     hex, f.dir ? f.dir : '-');
        }
    }
}

typedef struct bad_row {
    bench_logfmt_t fmt;
    const char *line;
    const char *msg;
} bad_row_t;

static const bad_row_t bad_rows[] = {
    {BENCH_LOGFMT_CANDUMP_L, "(1700000001.12) can0 351#2802",
     "timestamp '(1700000001.12)': want (seconds.microseconds), 6 or 9 decimals"},
    {BENCH_LOGFMT_CANDUMP_L, "(1700000001.100000 can0 351#2802", "timestamp: no closing ')'"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 3510#2802", "frame '3510#2802': id must be 3 or 8 hex digits"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 351#2802E803DC05D001AA",
     "frame '351#2802E803DC05D001AA': more than 8 data bytes"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 351#2802E8G3",
     "frame '351#2802E8G3': data must be hex byte pairs"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 351#280", "frame '351#280': data must be hex byte pairs"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 3512802", "frame '3512802': no '#' between id and data"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 351#28 junk", "unexpected 'junk' after the frame"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000)", "no interface name after the timestamp"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0", "no frame after the interface name"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 FFF#00", "frame 'FFF#00': id out of range"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 351#0102_9",
     "frame '351#0102_9': raw DLC '_X' needs 8 bytes and X in 9..F"},
    {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 123#R9", "frame '123#R9': remote length must be one digit 0..8"},
    {BENCH_LOGFMT_CANDUMP_L, "(1234567890123.000000) can0 351#00",
     "timestamp '(1234567890123.000000)': want (seconds.microseconds), 6 or 9 decimals"},
    {BENCH_LOGFMT_CANDUMP, "  can0  351   [3]  28 02", "[3] announces 3 data bytes, 2 present"},
    {BENCH_LOGFMT_CANDUMP, "  can0  351   8  28 02", "length '8': want [N]"},
    {BENCH_LOGFMT_CANDUMP, "  can0  35   [1]  28", "id '35': must be 3 or 8 hex digits"},
    {BENCH_LOGFMT_CANDUMP, "  can0  351   [1]  2X", "data byte '2X': want two hex digits"},
    {BENCH_LOGFMT_ASC, "   1.000000 1  351             Rx   d 8 28 02",
     "DLC 8 but data byte 3 is ''"},
    {BENCH_LOGFMT_ASC, "   1.000000 1  351             Xx   d 1 28", "direction 'Xx': want Rx or Tx"},
    {BENCH_LOGFMT_ASC, "   1.000000 1  351             Rx   q 1 28", "frame type 'q': want d or r"},
    {BENCH_LOGFMT_ASC, "   1.000000 1  3G1             Rx   d 1 28",
     "id '3G1': want hex, 'x' suffix for 29-bit"},
    {BENCH_LOGFMT_ASC, "   1.000000 1  351             Rx   d 1 28 29", "more data bytes than DLC 1"},
    {BENCH_LOGFMT_ASC, "   1.00000x 1  351             Rx   d 1 28",
     "time '1.00000x': want seconds with decimals"},
};

static void test_logfmt_read_malformed_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        const bad_row_t *r = &bad_rows[i];
        bench_logframe_t f;
        char msg[256] = "";
        int rc = bench_logline_parse(r->fmt, r->line, strlen(r->line), false, &f, msg, sizeof msg);
        if (rc != -1 || strcmp(msg, r->msg) != 0) {
            fail_msg("row %zu '%s': rc %d, message '%s', want '%s'", i, r->line, rc, msg, r->msg);
        }
    }
}

/* Not frames, not errors: comments, headers, CAN FD, status events. */
static void test_logfmt_read_skipped_lines(void **state)
{
    (void)state;
    static const struct { bench_logfmt_t fmt; const char *line; } rows[] = {
        {BENCH_LOGFMT_CANDUMP_L, "# a comment"},
        {BENCH_LOGFMT_CANDUMP_L, ""},
        {BENCH_LOGFMT_CANDUMP_L, "(1.000000) can0 123##1AABB"},
        {BENCH_LOGFMT_ASC, "date Thu Nov 23 10:00:00.000 2026"},
        {BENCH_LOGFMT_ASC, "base hex  timestamps absolute"},
        {BENCH_LOGFMT_ASC, "Begin Triggerblock Thu Nov 23 10:00:00.000 2026"},
        {BENCH_LOGFMT_ASC, "   0.000000 Start of measurement"},
        {BENCH_LOGFMT_ASC, "   1.000000 1  ErrorFrame"},
        {BENCH_LOGFMT_ASC, "   1.000000 CAN 1 Status:chip status error active"},
        {BENCH_LOGFMT_ASC, "End TriggerBlock"},
        {BENCH_LOGFMT_CANDUMP, "# comment"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bench_logframe_t f;
        char msg[256] = "";
        int rc = bench_logline_parse(rows[i].fmt, rows[i].line, strlen(rows[i].line), false, &f,
                                     msg, sizeof msg);
        if (rc != 0) {
            fail_msg("row %zu '%s': rc %d (%s), want 0 (skipped)", i, rows[i].line, rc, msg);
        }
    }
}

static void test_logfmt_read_guess(void **state)
{
    (void)state;
    static const struct { const char *line; bench_logfmt_t want; } rows[] = {
        {"(1700000000.000000) can0 351#2802", BENCH_LOGFMT_CANDUMP_L},
        {" (1700000000.000000)  can0  351   [1]  28", BENCH_LOGFMT_CANDUMP},
        {"  can0  351   [1]  28", BENCH_LOGFMT_CANDUMP},
        {"date Thu Nov 23 10:00:00.000 2026", BENCH_LOGFMT_ASC},
        {"   1.000000 1  351  Rx d 1 28", BENCH_LOGFMT_ASC},
        {"0.002042 tx 7E 32", BENCH_LOGFMT_SERIAL},
        {"0.002042 rx+ 0D", BENCH_LOGFMT_SERIAL},
        {"   ", BENCH_LOGFMT_AUTO},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bench_logfmt_t got = bench_logfmt_guess(rows[i].line, strlen(rows[i].line));
        if (got != rows[i].want) {
            fail_msg("row %zu '%s': guessed %s, want %s", i, rows[i].line, bench_logfmt_name(got),
                     bench_logfmt_name(rows[i].want));
        }
    }
}

static void test_logfmt_read_serial_lines(void **state)
{
    (void)state;
    bench_serialrec_t s;
    char msg[256] = "";
    const char *l = "0.042875 rx 7E 32 31 0D";
    assert_int_equal(bench_serialline_parse(l, strlen(l), &s, msg, sizeof msg), 1);
    assert_int_equal(s.t_us, 42875);
    assert_true(s.to_gateway);
    assert_false(s.cont);
    assert_int_equal(s.len, 4);
    assert_int_equal(s.bytes[3], 0x0D);
    l = "12.000001 tx+ 7E3231";
    assert_int_equal(bench_serialline_parse(l, strlen(l), &s, msg, sizeof msg), 1);
    assert_false(s.to_gateway);
    assert_true(s.cont);
    assert_int_equal(s.len, 3);
    static const struct { const char *line, *msg; } bad[] = {
        {"0.1 up 7E", "direction 'up': want rx or tx"},
        {"x.1 rx 7E", "time 'x.1': want seconds.microseconds"},
        {"0.1 rx 7", "byte 1: want two hex digits"},
        {"0.1 rx", "no bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = bench_serialline_parse(bad[i].line, strlen(bad[i].line), &s, msg, sizeof msg);
        if (rc != -1 || strcmp(msg, bad[i].msg) != 0) {
            fail_msg("bad row %zu '%s': rc %d '%s', want '%s'", i, bad[i].line, rc, msg, bad[i].msg);
        }
    }
}

/* Read a whole text through the streaming reader; messages go to errs. */
static uint64_t read_all(const char *text, size_t len, bench_logfmt_t fmt, char *errs, size_t cap,
                         bench_logreader_t *r)
{
    FILE *in = fmemopen((void *)text, len, "r");
    FILE *err = fmemopen(errs, cap, "w");
    assert_non_null(in);
    assert_non_null(err);
    bench_logreader_init(r, in, "t.log", fmt, err);
    bench_logframe_t f;
    uint64_t n = 0;
    while (bench_logreader_next(r, &f) > 0) {
        n++;
    }
    fclose(err);
    fclose(in);
    return n;
}

static void test_logfmt_read_stream_reports_file_line(void **state)
{
    (void)state;
    static const char text[] = "# header\n"
                               "(1.000000) can0 351#2802E803DC05D001\n"
                               "(1.1) can0 351#2802E803DC05D001\n"
                               "(1.200000) can0 351#2802E803DC05D001\n"
                               "(1.300000) can0 35#00\n"
                               "(1.400000) can0 351#2802E803DC05D001\n";
    static char errs[1024];
    memset(errs, 0, sizeof errs);
    static bench_logreader_t r;
    uint64_t n = read_all(text, sizeof text - 1, BENCH_LOGFMT_AUTO, errs, sizeof errs, &r);
    assert_int_equal(n, 3);
    assert_int_equal(r.malformed, 2);
    assert_false(r.truncated);
    assert_int_equal(r.fmt, BENCH_LOGFMT_CANDUMP_L);
    assert_string_equal(errs,
                        "t.log:3: timestamp '(1.1)': want (seconds.microseconds), 6 or 9 decimals\n"
                        "t.log:5: frame '35#00': id must be 3 or 8 hex digits\n");
}

static void test_logfmt_read_truncated_last_line(void **state)
{
    (void)state;
    /* Cut inside the data of the third frame: it would parse as a short
     * frame, so the missing newline is what marks it as damage. */
    static const char text[] = "(1.000000) can0 351#2802E803DC05D001\n"
                               "(2.000000) can0 351#2802E803DC05D001\n"
                               "(3.000000) can0 351#2802E8";
    static char errs[1024];
    memset(errs, 0, sizeof errs);
    static bench_logreader_t r;
    uint64_t n = read_all(text, sizeof text - 1, BENCH_LOGFMT_AUTO, errs, sizeof errs, &r);
    assert_int_equal(n, 2);
    assert_true(r.truncated);
    assert_int_equal(r.malformed, 1);
    assert_string_equal(errs, "t.log:3: truncated line (no newline at the end of the file): dropped\n");
}

static void test_logfmt_read_long_line(void **state)
{
    (void)state;
    /* A 200 kB line (more than the reader's buffer) between two good ones. */
    size_t big = 200000;
    char *text = malloc(big + 200);
    assert_non_null(text);
    size_t k = (size_t)sprintf(text, "(1.000000) can0 351#2802E803DC05D001\n(");
    memset(text + k, '7', big);
    k += big;
    k += (size_t)sprintf(text + k, "\n(2.000000) can0 351#2802E803DC05D001\n");
    static char errs[1024];
    memset(errs, 0, sizeof errs);
    static bench_logreader_t r;
    uint64_t n = read_all(text, k, BENCH_LOGFMT_CANDUMP_L, errs, sizeof errs, &r);
    free(text);
    assert_int_equal(n, 2);
    assert_int_equal(r.malformed, 1);
    assert_string_equal(errs, "t.log:2: line longer than 1024 characters\n");
}

/* The candump -L data field is decoded eight characters at a time; check it
 * against a plain per-character decode: every byte value (but the field's
 * own separators) at every position of a full frame, then random fields of
 * every length mixing both cases of hex with the near misses around them. */
static int ref_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool is_separator(int c)
{
    return c == 0 || c == '\n' || c == '.' || c == '_' || c == ' ' || c == '\t' || c == 'R' ||
           c == 'r' || c == '#';
}

static void check_data_field(const char *hex, size_t nchars)
{
    char line[64];
    int head = snprintf(line, sizeof line, "(1700000000.123456) can0 351#");
    memcpy(line + head, hex, nchars);
    line[head + (int)nchars] = '\0';
    bool valid = true;
    uint8_t want[8];
    for (size_t i = 0; i < nchars; i++) {
        valid = valid && ref_hex((unsigned char)hex[i]) >= 0;
    }
    for (size_t i = 0; valid && i < nchars / 2; i++) {
        want[i] = (uint8_t)(ref_hex((unsigned char)hex[2 * i]) << 4 | ref_hex((unsigned char)hex[2 * i + 1]));
    }
    bench_logframe_t f;
    char msg[256] = "";
    int rc = bench_logline_parse(BENCH_LOGFMT_CANDUMP_L, line, (size_t)head + nchars, false, &f, msg,
                                 sizeof msg);
    if (!valid) {
        if (rc != -1) {
            fail_msg("'%s': rc %d, want an error", line, rc);
        }
        return;
    }
    if (rc != 1 || f.dlc != nchars / 2 || memcmp(f.data, want, nchars / 2) != 0) {
        fail_msg("'%s': rc %d dlc %u, data differs (%s)", line, rc, f.dlc, msg);
    }
}

static void test_logfmt_read_data_field_decode(void **state)
{
    (void)state;
    char hex[16];
    for (size_t pos = 0; pos < 16; pos++) {
        for (int c = 1; c < 256; c++) {
            if (is_separator(c)) {
                continue;
            }
            memcpy(hex, "0123456789aBcDeF", 16);
            hex[pos] = (char)c;
            check_data_field(hex, 16);
        }
    }
    static const char pool[] = "0123456789abcdefABCDEF/:@G`g\x10\x19\x30\x7F\x80\xB0\xC6\xE6\xFF";
    uint32_t seed = 12345;
    for (int k = 0; k < 20000; k++) {
        size_t n = (size_t)(k % 9) * 2;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Mostly hex, so that whole valid fields are common too. */
            unsigned r = (seed >> 16) % 100u;
            hex[i] = r < 97 ? pool[r % 22] : pool[22 + (seed >> 8) % (sizeof pool - 23)];
        }
        check_data_field(hex, n);
    }
}

static void test_logfmt_read_asc_base_dec(void **state)
{
    (void)state;
    static const char text[] = "date Thu Nov 23 10:00:00.000 2026\n"
                               "base dec  timestamps absolute\n"
                               "Begin Triggerblock Thu Nov 23 10:00:00.000 2026\n"
                               "   0.500000 1  849             Rx   d 1 C0\n"
                               "End TriggerBlock\n";
    static char errs[256];
    memset(errs, 0, sizeof errs);
    static bench_logreader_t r;
    FILE *in = fmemopen((void *)text, sizeof text - 1, "r");
    bench_logreader_init(&r, in, "t.asc", BENCH_LOGFMT_AUTO, NULL);
    bench_logframe_t f;
    assert_int_equal(bench_logreader_next(&r, &f), 1);
    assert_int_equal(f.id, 0x351);
    assert_int_equal(f.t_us, 500000);
    assert_int_equal(f.line, 4);
    assert_int_equal(bench_logreader_next(&r, &f), 0);
    assert_int_equal(r.skipped, 4);
    fclose(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logfmt_read_good_lines),
        cmocka_unit_test(test_logfmt_read_malformed_lines),
        cmocka_unit_test(test_logfmt_read_skipped_lines),
        cmocka_unit_test(test_logfmt_read_guess),
        cmocka_unit_test(test_logfmt_read_serial_lines),
        cmocka_unit_test(test_logfmt_read_stream_reports_file_line),
        cmocka_unit_test(test_logfmt_read_truncated_last_line),
        cmocka_unit_test(test_logfmt_read_long_line),
        cmocka_unit_test(test_logfmt_read_asc_base_dec),
        cmocka_unit_test(test_logfmt_read_data_field_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
