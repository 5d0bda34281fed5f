/* SPDX-License-Identifier: MIT */
/* The bench's SLCAN (Lawicel) codec and endpoint roles on exact strings,
 * the gateway command expansion, and a PTY pair carrying bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/live/can_io.h"
#include "harness/live/live_runner.h"
#include "harness/live/pty.h"
#include "harness/live/serial_io.h"

typedef struct enc_row {
    uint32_t id;
    uint8_t dlc;
    uint8_t data[8];
    const char *text; /* NULL: refused */
} enc_row_t;

static const enc_row_t enc_rows[] = {
    {0x351, 8, {0x28, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xD0, 0x01}, "t3518280 2E803DC05D001\r"},
    {0x000, 0, {0}, "t0000\r"},
    {0x7FF, 1, {0xFF}, "t7FF1FF\r"},
    {0x800, 0, {0}, NULL},                                     /* not an 11-bit id */
    {0x123, 9, {0}, NULL},                                     /* dlc > 8 */
    {SIM_CAN_EFF_FLAG | 0x1FFFFFFF, 2, {0xAA, 0xBB}, "T1FFFFFFF2AABB\r"},
    {SIM_CAN_EFF_FLAG | 0x35F, 0, {0}, "T0000035F0\r"},
    {BENCH_CAN_RTR_FLAG | 0x123, 4, {0}, "r1234\r"},
    {BENCH_CAN_RTR_FLAG | SIM_CAN_EFF_FLAG | 0x10, 8, {0}, "R000000108\r"},
};

static void test_live_slcan_encode_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof enc_rows / sizeof enc_rows[0]; i++) {
        const enc_row_t *r = &enc_rows[i];
        sim_can_frame_t f = {.id = r->id, .dlc = r->dlc};
        memcpy(f.data, r->data, 8);
        char out[BENCH_SLCAN_LINE_MAX];
        size_t n = bench_slcan_encode(&f, out, sizeof out);
        char want[64] = "";
        if (r->text != NULL) { /* the table spaces long rows for reading */
            size_t k = 0;
            for (const char *p = r->text; *p; p++) {
                if (*p != ' ') {
                    want[k++] = *p;
                }
            }
            want[k] = '\0';
        }
        if (r->text == NULL ? n != 0 : (n != strlen(want) || strcmp(out, want) != 0)) {
            fail_msg("row %zu: got %zu '%s', want '%s'", i, n, n ? out : "", want);
        }
    }
    /* too small a buffer is refused, not truncated */
    sim_can_frame_t f = {.id = 0x351, .dlc = 8};
    char small[8];
    assert_int_equal(bench_slcan_encode(&f, small, sizeof small), 0);
}

typedef struct parse_row {
    const char *line;
    int rc;
    uint32_t id;
    uint8_t dlc;
    uint8_t data[8];
} parse_row_t;

static const parse_row_t parse_rows[] = {
    {"t3512E803", 0, 0x351, 2, {0xE8, 0x03}},
    {"t35a2e803", 0, 0x35A, 2, {0xE8, 0x03}},           /* lower-case hex */
    {"t3512E8031234", 0, 0x351, 2, {0xE8, 0x03}},       /* with a timestamp */
    {"t0000", 0, 0, 0, {0}},
    {"T1FFFFFFF1AA", 0, SIM_CAN_EFF_FLAG | 0x1FFFFFFF, 1, {0xAA}},
    {"r1238", 0, BENCH_CAN_RTR_FLAG | 0x123, 8, {0}},
    {"R0000001F0", 0, BENCH_CAN_RTR_FLAG | SIM_CAN_EFF_FLAG | 0x1F, 0, {0}},
    {"t8001AA", -1, 0, 0, {0}},                         /* 11-bit id out of range */
    {"T200000000", -1, 0, 0, {0}},                      /* 29-bit id out of range */
    {"t3519AA", -1, 0, 0, {0}},                         /* dlc 9 */
    {"t3512E8", -1, 0, 0, {0}},                         /* short data */
    {"t3512E80312", -1, 0, 0, {0}},                     /* two extra characters */
    {"t3512G803", -1, 0, 0, {0}},                       /* not hex */
    {"t35", -1, 0, 0, {0}},
    {"", -1, 0, 0, {0}},
    {"x3510", -1, 0, 0, {0}},
};

static void test_live_slcan_parse_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_rows / sizeof parse_rows[0]; i++) {
        const parse_row_t *r = &parse_rows[i];
        sim_can_frame_t f;
        memset(&f, 0x5A, sizeof f);
        int rc = bench_slcan_parse(r->line, strlen(r->line), &f);
        if (rc != r->rc) {
            fail_msg("row %zu '%s': rc %d, want %d", i, r->line, rc, r->rc);
        }
        if (rc == 0 && (f.id != r->id || f.dlc != r->dlc || memcmp(f.data, r->data, 8) != 0)) {
            fail_msg("row %zu '%s': id %08x dlc %u data %02x%02x, want id %08x dlc %u", i, r->line,
                     f.id, f.dlc, f.data[0], f.data[1], r->id, r->dlc);
        }
    }
}

static void test_live_slcan_bitrate_codes(void **state)
{
    (void)state;
    static const unsigned rates[] = {10000, 20000, 50000, 100000, 125000, 250000, 500000, 800000,
                                     1000000};
    for (int i = 0; i < 9; i++) {
        if (bench_slcan_code_of(rates[i]) != i || bench_slcan_bitrate_of(i) != rates[i]) {
            fail_msg("row %d: %u <-> S%d", i, rates[i], bench_slcan_code_of(rates[i]));
        }
    }
    assert_int_equal(bench_slcan_code_of(83333), -1);
    assert_int_equal(bench_slcan_bitrate_of(9), 0);
    assert_int_equal(bench_slcan_bitrate_of(-1), 0);
}

typedef struct seen {
    sim_can_frame_t f[8];
    int n;
} seen_t;

static void on_frame(void *ctx, const sim_can_frame_t *f)
{
    seen_t *s = ctx;
    if (s->n < 8) {
        s->f[s->n++] = *f;
    }
}

static void feed_str(bench_slcan_t *s, const char *text)
{
    bench_slcan_feed(s, (const uint8_t *)text, strlen(text));
}

/* What a gateway's SLCAN backend sends to its adapter, and the exact answers. */
static void test_live_slcan_adapter_replies(void **state)
{
    (void)state;
    static const struct {
        const char *in, *reply;
    } rows[] = {
        {"\r", "\r"},                        /* flush */
        {"t3510\r", "\a"},                   /* channel closed: refused */
        {"S6\r", "\r"},
        {"S9\r", "\a"},
        {"V\r", "V1013\r"},
        {"O\r", "\r"},
        {"S5\r", "\a"},                      /* no bitrate change while open */
        {"O\r", "\a"},                       /* already open */
        {"t3512E803\r", "z\r"},
        {"T0000035F1AA\r", "Z\r"},
        {"t35\r", "\a"},                     /* malformed */
        {"?\r", "\a"},                       /* unknown command */
        {"C\r", "\r"},
    };
    seen_t seen = {0};
    bench_slcan_t s;
    bench_slcan_init(&s, BENCH_SLCAN_ADAPTER, on_frame, &seen);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s.reply_len = 0;
        feed_str(&s, rows[i].in);
        if (s.reply_len != strlen(rows[i].reply) ||
            memcmp(s.reply, rows[i].reply, s.reply_len) != 0) {
            fail_msg("row %zu: '%s' answered %zu bytes '%.*s'", i, rows[i].in, s.reply_len,
                     (int)s.reply_len, s.reply);
        }
    }
    assert_int_equal(s.bitrate_code, 6);
    assert_false(s.open);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.f[0].id, 0x351);
    assert_int_equal(seen.f[0].data[1], 0x03);
    assert_int_equal(seen.f[1].id, SIM_CAN_EFF_FLAG | 0x35F);
    assert_int_equal(s.frames, 2);
    assert_int_equal(s.malformed, 1);
    assert_int_equal(s.closed_tx, 1);
}

/* A real adapter's output: frames, acks and errors, split anywhere. */
static void test_live_slcan_host_reads_split_lines(void **state)
{
    (void)state;
    seen_t seen = {0};
    bench_slcan_t s;
    bench_slcan_init(&s, BENCH_SLCAN_HOST, on_frame, &seen);
    const char *stream = "\r\rz\rt30521122\r\aT00000001\rgarbage\r";
    /* one byte at a time: line assembly must not depend on read sizes */
    for (const char *p = stream; *p; p++) {
        bench_slcan_feed(&s, (const uint8_t *)p, 1);
    }
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.f[0].id, 0x305);
    assert_int_equal(seen.f[0].dlc, 2);
    assert_int_equal(seen.f[0].data[0], 0x11);
    assert_int_equal(s.acks, 3);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.malformed, 2); /* T00000001 (dlc 1 without data) and garbage */
    assert_int_equal(s.reply_len, 0); /* a host never answers its adapter */
}

/* An endless line is dropped at its CR and counted, never overrun. */
static void test_live_slcan_overlong_line_dropped(void **state)
{
    (void)state;
    seen_t seen = {0};
    bench_slcan_t s;
    bench_slcan_init(&s, BENCH_SLCAN_ADAPTER, on_frame, &seen);
    feed_str(&s, "S6\rO\r");
    s.reply_len = 0;
    for (int i = 0; i < 10000; i++) {
        bench_slcan_feed(&s, (const uint8_t *)"t", 1);
    }
    feed_str(&s, "\rt3510\r");
    assert_int_equal(s.malformed, 1);
    assert_int_equal(seen.n, 1);
    assert_int_equal(s.reply_len, 3);
    assert_memory_equal(s.reply, "\az\r", 3);
}

static void test_live_expand_placeholders(void **state)
{
    (void)state;
    static const struct {
        const char *cmd, *want;
    } rows[] = {
        {"gw --bms-port {bms_port} --victron-can {victron_can}",
         "gw --bms-port /dev/pts/3 --victron-can slcan:/dev/pts/4"},
        {"gw {settings}", "gw --set a=1 --bms-port /dev/pts/3 --victron-can slcan:/dev/pts/4"},
        {"gw -p {bms_port}", "gw -p /dev/pts/3"},
        {"{bms_port}{bms_port}", "/dev/pts/3/dev/pts/3"},
        {"gw {unknown}", "gw {unknown} --bms-port /dev/pts/3 --victron-can slcan:/dev/pts/4"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[256];
        int rc = bench_live_expand(rows[i].cmd, "/dev/pts/3", "slcan:/dev/pts/4", "--set a=1",
                                   out, sizeof out);
        if (rc != 0 || strcmp(out, rows[i].want) != 0) {
            fail_msg("row %zu: rc %d '%s', want '%s'", i, rc, out, rows[i].want);
        }
    }
    char tiny[12];
    assert_int_equal(bench_live_expand("gw {bms_port}", "/dev/pts/3", "x", "", tiny, sizeof tiny),
                     -1);
}

/* Bytes written to the slave (the gateway's end) arrive raw at the master:
 * no CR/LF translation, no echo. */
static void test_live_pty_carries_raw_bytes(void **state)
{
    (void)state;
    bench_pty_t p;
    char err[128];
    assert_int_equal(bench_pty_open(&p, 9600, err, sizeof err), 0);
    assert_true(strncmp(p.slave_path, "/dev/", 5) == 0);
    char e2[128];
    int fd = bench_serial_open(p.slave_path, 9600, e2, sizeof e2);
    assert_true(fd >= 0);
    static const uint8_t msg[] = {'~', '2', '0', '\r', '\n', 0x00, 0xFF, 0x03};
    assert_int_equal(bench_fd_write_all(fd, msg, sizeof msg, 500), 0);
    uint8_t got[32];
    size_t n = 0;
    for (int tries = 0; tries < 50 && n < sizeof msg; tries++) {
        struct pollfd pf = {.fd = p.master_fd, .events = POLLIN};
        (void)poll(&pf, 1, 20);
        ssize_t k = read(p.master_fd, got + n, sizeof got - n);
        if (k > 0) {
            n += (size_t)k;
        }
    }
    assert_int_equal(n, sizeof msg);
    assert_memory_equal(got, msg, sizeof msg);
    /* nothing echoed back to the slave */
    uint8_t back[8];
    assert_true(read(fd, back, sizeof back) <= 0);
    close(fd);
    bench_pty_close(&p);
    assert_int_equal(p.master_fd, -1);
    assert_true(bench_serial_open("/dev/does-not-exist", 9600, e2, sizeof e2) < 0);
    assert_non_null(strstr(e2, "/dev/does-not-exist: No such file"));
    assert_true(bench_serial_open(p.slave_path, 12345, e2, sizeof e2) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_slcan_encode_golden),
        cmocka_unit_test(test_live_slcan_parse_golden),
        cmocka_unit_test(test_live_slcan_bitrate_codes),
        cmocka_unit_test(test_live_slcan_adapter_replies),
        cmocka_unit_test(test_live_slcan_host_reads_split_lines),
        cmocka_unit_test(test_live_slcan_overlong_line_dropped),
        cmocka_unit_test(test_live_expand_placeholders),
        cmocka_unit_test(test_live_pty_carries_raw_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
