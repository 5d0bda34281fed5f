/* SPDX-License-Identifier: MIT */
/* SLCAN codec and adapter state machine: golden lines for every command and
 * reply, bitrate codes, t/T frames, error bells, fragments, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "slcan.h"

/* ---- a fake serial line: everything written is kept ---- */

typedef struct fake_line {
    char out[512];
    size_t len;
    size_t accept; /* max bytes a write takes (SIZE_MAX: all) */
} fake_line_t;

static size_t fake_write(void *ctx, const uint8_t *buf, size_t len)
{
    fake_line_t *l = ctx;
    size_t n = len < l->accept ? len : l->accept;
    if (l->len + n >= sizeof l->out) {
        return 0;
    }
    memcpy(l->out + l->len, buf, n);
    l->len += n;
    l->out[l->len] = '\0';
    return n;
}

static void take(fake_line_t *l, const char *want)
{
    assert_string_equal(l->out, want);
    l->len = 0;
    l->out[0] = '\0';
}

static void feed(slcan_t *s, const char *text, uint64_t now_ms)
{
    slcan_feed(s, (const uint8_t *)text, strlen(text), now_ms);
}

/* An adapter taken through C, S6, O: the state machine waits for each reply. */
static void open_ok(slcan_t *s, fake_line_t *l)
{
    memset(l, 0, sizeof *l);
    l->accept = SIZE_MAX;
    slcan_init(s, fake_write, l);
    assert_int_equal(slcan_open(s, 500000, 0), 0);
    take(l, "C\r");
    feed(s, "\a", 1); /* closing a closed channel: refused, and that is fine */
    take(l, "S6\r");
    feed(s, "\r", 2);
    take(l, "O\r");
    assert_int_equal(s->state, SLCAN_OPENING);
    feed(s, "\r", 3);
    assert_int_equal(s->state, SLCAN_OPEN);
}

static void test_slcan_bitrate_codes(void **state)
{
    (void)state;
    static const struct {
        uint32_t bitrate;
        int code;
    } rows[] = {
        {10000, 0},  {20000, 1},  {50000, 2},  {100000, 3}, {125000, 4},  {250000, 5},
        {500000, 6}, {800000, 7}, {1000000, 8}, {0, -1},    {83333, -1},  {1000001, -1},
        {9999, -1},  {UINT32_MAX, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int got = slcan_bitrate_code(rows[i].bitrate);
        if (got != rows[i].code) {
            fail_msg("row %zu: bitrate %u: code %d, want %d", i, (unsigned)rows[i].bitrate, got,
                     rows[i].code);
        }
    }
}

static void test_slcan_open_sends_each_bitrate_command(void **state)
{
    (void)state;
    static const struct {
        uint32_t bitrate;
        const char *cmd;
    } rows[] = {
        {10000, "S0\r"},  {20000, "S1\r"},  {50000, "S2\r"},  {100000, "S3\r"}, {125000, "S4\r"},
        {250000, "S5\r"}, {500000, "S6\r"}, {800000, "S7\r"}, {1000000, "S8\r"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fake_line_t l = {.accept = SIZE_MAX};
        slcan_t s;
        slcan_init(&s, fake_write, &l);
        assert_int_equal(slcan_open(&s, rows[i].bitrate, 0), 0);
        feed(&s, "\r", 0);
        char want[16];
        snprintf(want, sizeof want, "C\r%s", rows[i].cmd);
        if (strcmp(l.out, want) != 0) {
            fail_msg("row %zu: sent '%s', want '%s'", i, l.out, want);
        }
    }
}

static void test_slcan_open_rejects_bitrate_without_code(void **state)
{
    (void)state;
    fake_line_t l = {.accept = SIZE_MAX};
    slcan_t s;
    slcan_init(&s, fake_write, &l);
    assert_int_equal(slcan_open(&s, 83333, 0), -1);
    assert_int_equal(s.state, SLCAN_FAILED);
    assert_int_equal(l.len, 0);
}

static void test_slcan_open_sequence_and_close(void **state)
{
    (void)state;
    fake_line_t l;
    slcan_t s;
    open_ok(&s, &l);
    slcan_close(&s);
    take(&l, "C\r");
    assert_int_equal(s.state, SLCAN_CLOSED);
}

static void test_slcan_bell_on_bitrate_fails_open(void **state)
{
    (void)state;
    fake_line_t l = {.accept = SIZE_MAX};
    slcan_t s;
    slcan_init(&s, fake_write, &l);
    assert_int_equal(slcan_open(&s, 250000, 0), 0);
    feed(&s, "\r", 1);
    take(&l, "C\rS5\r");
    feed(&s, "\a", 2);
    assert_int_equal(s.state, SLCAN_FAILED);
    assert_string_equal(s.error, "adapter refused bitrate S5");
    assert_int_equal(s.bells, 1);
    assert_int_equal(l.len, 0); /* no O after a refusal */
}

static void test_slcan_bell_on_open_fails_open(void **state)
{
    (void)state;
    fake_line_t l = {.accept = SIZE_MAX};
    slcan_t s;
    slcan_init(&s, fake_write, &l);
    assert_int_equal(slcan_open(&s, 500000, 0), 0);
    feed(&s, "\r\r\a", 1);
    assert_int_equal(s.state, SLCAN_FAILED);
    assert_string_equal(s.error, "adapter refused O (open)");
}

static void test_slcan_silent_adapter_times_out(void **state)
{
    (void)state;
    fake_line_t l = {.accept = SIZE_MAX};
    slcan_t s;
    slcan_init(&s, fake_write, &l);
    assert_int_equal(slcan_open(&s, 500000, 100), 0);
    assert_int_equal(slcan_deadline(&s), 100 + SLCAN_REPLY_TIMEOUT_MS);
    slcan_poll(&s, 100 + SLCAN_REPLY_TIMEOUT_MS - 1);
    assert_int_equal(s.state, SLCAN_OPENING);
    slcan_poll(&s, 100 + SLCAN_REPLY_TIMEOUT_MS);
    assert_int_equal(s.state, SLCAN_FAILED);
    assert_string_equal(s.error, "no answer from the adapter to C (close)");
    assert_int_equal(slcan_deadline(&s), UINT64_MAX);
}

static void test_slcan_encode_golden_frames(void **state)
{
    (void)state;
    static const struct {
        plat_can_frame_t f;
        const char *want; /* NULL: refused */
    } rows[] = {
        {{0x351, 8, {0x2C, 0x02, 0xE8, 0x03, 0xE8, 0x03, 0x00, 0x02}}, "t35182C02E803E8030002\r"},
        {{0x000, 0, {0}}, "t0000\r"},
        {{0x7FF, 1, {0xFF}}, "t7FF1FF\r"},
        {{0x800, 0, {0}}, NULL},
        {{0x12345678u | PLAT_CAN_EFF_FLAG, 2, {0xAB, 0x01}}, "T123456782AB01\r"},
        {{0x1FFFFFFFu | PLAT_CAN_EFF_FLAG, 0, {0}}, "T1FFFFFFF0\r"},
        {{0x00000001u | PLAT_CAN_EFF_FLAG, 8, {1, 2, 3, 4, 5, 6, 7, 8}},
         "T0000000180102030405060708\r"},
        {{0x20000000u | PLAT_CAN_EFF_FLAG, 0, {0}}, NULL},
        {{0x123, 9, {0}}, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[SLCAN_FRAME_TEXT_MAX + 1];
        size_t n = slcan_encode_frame(&rows[i].f, out, SLCAN_FRAME_TEXT_MAX);
        if (rows[i].want == NULL) {
            if (n != 0) {
                fail_msg("row %zu: encoded an invalid frame", i);
            }
            continue;
        }
        out[n] = '\0';
        if (strcmp(out, rows[i].want) != 0) {
            fail_msg("row %zu: '%s', want '%s'", i, out, rows[i].want);
        }
    }
}

static void test_slcan_encode_needs_room(void **state)
{
    (void)state;
    plat_can_frame_t f = {0x351, 8, {0}};
    char out[22];
    assert_int_equal(slcan_encode_frame(&f, out, 21), 0); /* needs 22 */
    assert_int_equal(slcan_encode_frame(&f, out, 22), 22);
}

static void test_slcan_decode_golden_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line; /* without CR */
        slcan_event_t ev;
        uint32_t id;
        uint8_t dlc;
        uint8_t data[8];
    } rows[] = {
        {"", SLCAN_EV_OK, 0, 0, {0}},
        {"z", SLCAN_EV_TX_ACK, 0, 0, {0}},
        {"Z", SLCAN_EV_TX_ACK, 0, 0, {0}},
        {"zz", SLCAN_EV_BAD, 0, 0, {0}},
        {"V1013", SLCAN_EV_INFO, 0, 0, {0}},
        {"NA123", SLCAN_EV_INFO, 0, 0, {0}},
        {"F00", SLCAN_EV_INFO, 0, 0, {0}},
        {"t35182C02E803E8030002", SLCAN_EV_FRAME, 0x351, 8, {0x2C, 2, 0xE8, 3, 0xE8, 3, 0, 2}},
        {"t0000", SLCAN_EV_FRAME, 0, 0, {0}},
        {"t7ff1ab", SLCAN_EV_FRAME, 0x7FF, 1, {0xAB}},
        {"t12320102ABCD", SLCAN_EV_FRAME, 0x123, 2, {1, 2}}, /* timestamp after the data */
        {"T1FFFFFFF0", SLCAN_EV_FRAME, 0x1FFFFFFFu | PLAT_CAN_EFF_FLAG, 0, {0}},
        {"T060200013A1B2C3", SLCAN_EV_FRAME, 0x06020001u | PLAT_CAN_EFF_FLAG, 3,
         {0xA1, 0xB2, 0xC3}},
        {"r1230", SLCAN_EV_RTR, 0, 0, {0}},
        {"R123456780", SLCAN_EV_RTR, 0, 0, {0}},
        {"t8000", SLCAN_EV_BAD, 0, 0, {0}},        /* 11-bit id over 0x7FF */
        {"T200000000", SLCAN_EV_BAD, 0, 0, {0}},   /* 29-bit id over 0x1FFFFFFF */
        {"t1239", SLCAN_EV_BAD, 0, 0, {0}},        /* DLC 9 */
        {"t12320102A", SLCAN_EV_BAD, 0, 0, {0}},   /* one data digit too many */
        {"t1232010", SLCAN_EV_BAD, 0, 0, {0}},     /* one short */
        {"t12", SLCAN_EV_BAD, 0, 0, {0}},          /* truncated id */
        {"t12G0", SLCAN_EV_BAD, 0, 0, {0}},        /* not hex */
        {"t1231GG", SLCAN_EV_BAD, 0, 0, {0}},
        {"t123201020XYZ", SLCAN_EV_BAD, 0, 0, {0}}, /* bad timestamp */
        {"x", SLCAN_EV_BAD, 0, 0, {0}},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        plat_can_frame_t f;
        memset(&f, 0xEE, sizeof f);
        slcan_event_t ev = slcan_decode_line(rows[i].line, strlen(rows[i].line), &f);
        if (ev != rows[i].ev) {
            fail_msg("row %zu '%s': event %d, want %d", i, rows[i].line, ev, rows[i].ev);
        }
        if (ev == SLCAN_EV_FRAME &&
            (f.id != rows[i].id || f.dlc != rows[i].dlc ||
             memcmp(f.data, rows[i].data, sizeof f.data) != 0)) {
            fail_msg("row %zu '%s': id %X dlc %u, want id %X dlc %u (or data differ)", i,
                     rows[i].line, (unsigned)f.id, f.dlc, (unsigned)rows[i].id, rows[i].dlc);
        }
    }
}

static void test_slcan_frames_in_fragments(void **state)
{
    (void)state;
    fake_line_t l;
    slcan_t s;
    open_ok(&s, &l);
    /* Two frames and an ack, split at every awkward place. */
    const char *parts[] = {"t3", "518", "1122", "334455667", "788\rz", "\rT0000", "00011",
                           "AA\r\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        feed(&s, parts[i], 10);
    }
    plat_can_frame_t f;
    assert_int_equal(slcan_recv(&s, &f), 1);
    assert_int_equal(f.id, 0x351);
    assert_int_equal(f.dlc, 8);
    static const uint8_t want[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_memory_equal(f.data, want, 8);
    assert_int_equal(slcan_recv(&s, &f), 1);
    assert_int_equal(f.id, 0x1u | PLAT_CAN_EFF_FLAG);
    assert_int_equal(f.dlc, 1);
    assert_int_equal(f.data[0], 0xAA);
    assert_int_equal(slcan_recv(&s, &f), 0);
    assert_int_equal(s.tx_acks, 1);
    assert_int_equal(s.rx_frames, 2);
    assert_int_equal(s.bad_lines, 0);
}

static void test_slcan_overlong_and_garbage_lines_dropped(void **state)
{
    (void)state;
    fake_line_t l;
    slcan_t s;
    open_ok(&s, &l);
    char junk[200];
    memset(junk, 'A', sizeof junk - 1);
    junk[sizeof junk - 1] = '\0';
    feed(&s, junk, 5);
    feed(&s, "\r", 5);
    feed(&s, "t12\a", 5);     /* a bell cuts a partial line: bad, not an error reply */
    feed(&s, "t1230\r", 5);   /* and the next line decodes */
    plat_can_frame_t f;
    assert_int_equal(slcan_recv(&s, &f), 1);
    assert_int_equal(f.id, 0x123);
    assert_int_equal(s.bad_lines, 2);
    assert_int_equal(s.bells, 1); /* the one from open_ok */
}

static void test_slcan_send_states(void **state)
{
    (void)state;
    fake_line_t l = {.accept = SIZE_MAX};
    slcan_t s;
    slcan_init(&s, fake_write, &l);
    plat_can_frame_t f = {0x356, 2, {0x34, 0x12}};
    assert_int_equal(slcan_send(&s, &f), PLAT_E_BUSY); /* not open yet */
    open_ok(&s, &l);
    assert_int_equal(slcan_send(&s, &f), PLAT_OK);
    take(&l, "t35623412\r");
    plat_can_frame_t bad = {0x356, 9, {0}};
    assert_int_equal(slcan_send(&s, &bad), PLAT_E_IO);
    l.accept = 0;
    assert_int_equal(slcan_send(&s, &f), PLAT_E_BUSY); /* line full */
    l.accept = 3;
    assert_int_equal(slcan_send(&s, &f), PLAT_E_IO);   /* half a command went out */
    assert_int_equal(s.tx_frames, 1);
}

static void test_slcan_receive_queue_bounded(void **state)
{
    (void)state;
    fake_line_t l;
    slcan_t s;
    open_ok(&s, &l);
    for (unsigned i = 0; i < SLCAN_RXQ + 5u; i++) {
        feed(&s, "t1000\r", 5);
    }
    assert_int_equal(s.rx_dropped, 5);
    unsigned n = 0;
    plat_can_frame_t f;
    while (slcan_recv(&s, &f) == 1) {
        n++;
    }
    assert_int_equal(n, SLCAN_RXQ);
}

static void test_slcan_frames_before_open_ignored(void **state)
{
    (void)state;
    fake_line_t l = {.accept = SIZE_MAX};
    slcan_t s;
    slcan_init(&s, fake_write, &l);
    feed(&s, "t1000\r", 0);
    plat_can_frame_t f;
    assert_int_equal(slcan_recv(&s, &f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slcan_bitrate_codes),
        cmocka_unit_test(test_slcan_open_sends_each_bitrate_command),
        cmocka_unit_test(test_slcan_open_rejects_bitrate_without_code),
        cmocka_unit_test(test_slcan_open_sequence_and_close),
        cmocka_unit_test(test_slcan_bell_on_bitrate_fails_open),
        cmocka_unit_test(test_slcan_bell_on_open_fails_open),
        cmocka_unit_test(test_slcan_silent_adapter_times_out),
        cmocka_unit_test(test_slcan_encode_golden_frames),
        cmocka_unit_test(test_slcan_encode_needs_room),
        cmocka_unit_test(test_slcan_decode_golden_lines),
        cmocka_unit_test(test_slcan_frames_in_fragments),
        cmocka_unit_test(test_slcan_overlong_and_garbage_lines_dropped),
        cmocka_unit_test(test_slcan_send_states),
        cmocka_unit_test(test_slcan_receive_queue_bounded),
        cmocka_unit_test(test_slcan_frames_before_open_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
