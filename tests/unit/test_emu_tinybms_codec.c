/* SPDX-License-Identifier: MIT */
/* Unit tests for the TinyBMS emulator codec: CRC, request lengths, request decoding, ACK/NACK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/tinybms/emu_tinybms_codec.h"

typedef struct vec {
    const char *name;
    uint8_t bytes[32];
    size_t len;
} vec_t;

/* Every request frame of tinybms.md §2.4 and §7 (CRCs verified by the reference). */
static const vec_t requests[] = {
    {"newest events", {0xAA, 0x11, 0xBF, 0x1C}, 4},
    {"all events", {0xAA, 0x12, 0xFF, 0x1D}, 4},
    {"pack voltage", {0xAA, 0x14, 0x7F, 0x1F}, 4},
    {"pack current", {0xAA, 0x15, 0xBE, 0xDF}, 4},
    {"max cell", {0xAA, 0x16, 0xFE, 0xDE}, 4},
    {"min cell", {0xAA, 0x17, 0x3F, 0x1E}, 4},
    {"online status", {0xAA, 0x18, 0x7F, 0x1A}, 4},
    {"lifetime", {0xAA, 0x19, 0xBE, 0xDA}, 4},
    {"soc", {0xAA, 0x1A, 0xFE, 0xDB}, 4},
    {"temperatures (TV-3)", {0xAA, 0x1B, 0x3F, 0x1B}, 4},
    {"cells", {0xAA, 0x1C, 0x7E, 0xD9}, 4},
    {"version", {0xAA, 0x1E, 0xFF, 0x18}, 4},
    {"extended version", {0xAA, 0x1F, 0x3E, 0xD8}, 4},
    {"speed", {0xAA, 0x20, 0x7E, 0xC8}, 4},
    {"clear events", {0xAA, 0x02, 0x01, 0x91, 0x40}, 5},
    {"clear stats", {0xAA, 0x02, 0x02, 0xD1, 0x41}, 5},
    {"reset (TV-4)", {0xAA, 0x02, 0x05, 0x90, 0x83}, 5},
    {"0x03 cells", {0xAA, 0x03, 0x00, 0x00, 0x00, 0x10, 0x5D, 0xDD}, 8},
    {"0x03 32..52", {0xAA, 0x03, 0x00, 0x20, 0x00, 0x15, 0x9C, 0x14}, 8},
    {"0x03 300..343", {0xAA, 0x03, 0x01, 0x2C, 0x00, 0x2C, 0x9D, 0xF9}, 8},
    {"0x03 TV-2", {0xAA, 0x03, 0x00, 0x05, 0x00, 0x05, 0x8C, 0x13}, 8},
    {"0x07 36..37", {0xAA, 0x07, 0x02, 0x24, 0x00, 0x87, 0xAC}, 7},
    {"0x07 300", {0xAA, 0x07, 0x01, 0x2C, 0x01, 0xB1, 0xAC}, 7},
    {"0x09 36,37", {0xAA, 0x09, 0x04, 0x24, 0x00, 0x25, 0x00, 0xF0, 0x33}, 9},
    {"0x09 40 (JG fixed)", {0xAA, 0x09, 0x02, 0x28, 0x00, 0x80, 0x44}, 7},
    {"0x0D 300=3650", {0xAA, 0x0D, 0x04, 0x2C, 0x01, 0x42, 0x0E, 0x09, 0xE3}, 9},
    {"0x0B 300,301", {0xAA, 0x0B, 0x04, 0x2C, 0x01, 0x42, 0x0E, 0xA2, 0x0C, 0xBE, 0x96}, 11},
    {"0x10 TV-1", {0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04, 0x10, 0x68, 0x09, 0xC4, 0x19, 0x61}, 13},
};
#define NREQ (sizeof(requests) / sizeof(requests[0]))

static void test_emu_tiny_codec_crc_check_value(void **state)
{
    (void)state;
    const uint8_t check[] = "123456789";
    assert_int_equal(emu_tiny_crc16(check, 9), 0x4B37);
    const uint8_t aa1b[] = {0xAA, 0x1B};
    assert_int_equal(emu_tiny_crc16(aa1b, 2), 0x1B3F); /* §2.5 worked example */
    assert_int_equal(emu_tiny_crc16(NULL, 0), 0xFFFF);
}

static void test_emu_tiny_codec_reference_frames_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREQ; i++) {
        const vec_t *v = &requests[i];
        emu_tiny_request_t q;
        size_t need = emu_tiny_request_length(v->bytes, v->len);
        if (need != v->len) {
            fail_msg("row %zu (%s): request length %zu, want %zu", i, v->name, need, v->len);
        }
        int rc = emu_tiny_decode_request(v->bytes, v->len, &q);
        if (rc != EMU_TINY_DEC_OK || q.cmd != v->bytes[1]) {
            fail_msg("row %zu (%s): rc %d cmd 0x%02X", i, v->name, rc, q.cmd);
        }
        /* Every single-bit error in the frame must be caught (CRC or layout). */
        for (size_t bit = 0; bit < v->len * 8; bit++) {
            uint8_t b[32];
            memcpy(b, v->bytes, v->len);
            b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (emu_tiny_decode_request(b, v->len, &q) == EMU_TINY_DEC_OK) {
                fail_msg("row %zu (%s): bit %zu flipped still decodes", i, v->name, bit);
            }
        }
    }
}

static void test_emu_tiny_codec_golden_fields(void **state)
{
    (void)state;
    emu_tiny_request_t q;
    /* TV-1: 0x10 at 315, 2 registers, 4200 and 2500 big-endian. */
    assert_int_equal(emu_tiny_decode_request(requests[27].bytes, requests[27].len, &q), 0);
    assert_int_equal(q.addr, 315);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.values[0], 4200);
    assert_int_equal(q.values[1], 2500);
    /* TV-2: 0x03 from reg 5, 5 registers. */
    assert_int_equal(emu_tiny_decode_request(requests[20].bytes, requests[20].len, &q), 0);
    assert_int_equal(q.addr, 5);
    assert_int_equal(q.count, 5);
    /* TV-4: reset option 5. */
    assert_int_equal(emu_tiny_decode_request(requests[16].bytes, requests[16].len, &q), 0);
    assert_int_equal(q.cmd, EMU_TINY_CMD_RESET);
    assert_int_equal(q.option, 5);
    /* 0x07: count then little-endian address. */
    assert_int_equal(emu_tiny_decode_request(requests[22].bytes, requests[22].len, &q), 0);
    assert_int_equal(q.addr, 300);
    assert_int_equal(q.count, 1);
    /* 0x09: addresses little-endian. */
    assert_int_equal(emu_tiny_decode_request(requests[23].bytes, requests[23].len, &q), 0);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.addrs[0], 36);
    assert_int_equal(q.addrs[1], 37);
    /* 0x0B: PL counts data only; values little-endian. */
    assert_int_equal(emu_tiny_decode_request(requests[26].bytes, requests[26].len, &q), 0);
    assert_int_equal(q.addr, 300);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.values[0], 3650);
    assert_int_equal(q.values[1], 3234);
    /* 0x0D: address/value pairs. */
    assert_int_equal(emu_tiny_decode_request(requests[25].bytes, requests[25].len, &q), 0);
    assert_int_equal(q.count, 1);
    assert_int_equal(q.addrs[0], 300);
    assert_int_equal(q.values[0], 3650);
}

/* Build a frame from its body and a correct CRC. */
static size_t make(uint8_t *out, const uint8_t *body, size_t n)
{
    memcpy(out, body, n);
    return emu_tiny_seal(out, n, 64);
}

static void test_emu_tiny_codec_malformed_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t body[16];
        size_t n;
    } rows[] = {
        {"0x03 count 0", {0xAA, 0x03, 0x00, 0x00, 0x00, 0x00}, 6},
        {"0x03 count 128", {0xAA, 0x03, 0x00, 0x00, 0x00, 0x80}, 6},
        {"0x07 count 0", {0xAA, 0x07, 0x00, 0x00, 0x00}, 5},
        {"0x07 count 64", {0xAA, 0x07, 0x40, 0x00, 0x00}, 5},
        {"0x09 odd PL", {0xAA, 0x09, 0x03, 0x01, 0x00, 0x02}, 6},
        {"0x09 PL 0", {0xAA, 0x09, 0x00}, 3},
        {"0x0D PL 2", {0xAA, 0x0D, 0x02, 0x2C, 0x01}, 5},
        {"0x10 PL != 2 RL", {0xAA, 0x10, 0x01, 0x2C, 0x00, 0x01, 0x04, 0x00, 0x01, 0x00, 0x02}, 11},
        {"0x10 RL 0", {0xAA, 0x10, 0x01, 0x2C, 0x00, 0x00, 0x00}, 7},
        {"0x1D option 0", {0xAA, 0x1D, 0x00, 0x00, 0x01}, 5},
        {"0x1D option 5", {0xAA, 0x1D, 0x05, 0x00, 0x01}, 5},
        {"0x1D RL 101", {0xAA, 0x1D, 0x04, 0x00, 0x65}, 5},
        {"unknown 0x05", {0xAA, 0x05}, 2},
        {"unknown 0xFF", {0xAA, 0xFF}, 2},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint8_t f[64];
        size_t n = make(f, rows[i].body, rows[i].n);
        emu_tiny_request_t q;
        int rc = emu_tiny_decode_request(f, n, &q);
        if (rc != EMU_TINY_DEC_BAD_CMD || q.cmd != rows[i].body[1]) {
            fail_msg("row %zu (%s): rc %d cmd 0x%02X, want BAD_CMD", i, rows[i].name, rc, q.cmd);
        }
    }
    /* Right CRC but wrong length for the header: rejected, not read past the end. */
    uint8_t f[64];
    const uint8_t short09[] = {0xAA, 0x09, 0x08, 0x24, 0x00};
    size_t n = make(f, short09, sizeof(short09));
    emu_tiny_request_t q;
    assert_int_equal(emu_tiny_decode_request(f, n, &q), EMU_TINY_DEC_BAD_CMD);
    /* Bad CRC is told apart from a bad command. */
    const uint8_t bad_crc[] = {0xAA, 0x1B, 0x3F, 0x1C};
    assert_int_equal(emu_tiny_decode_request(bad_crc, 4, &q), EMU_TINY_DEC_BAD_CRC);
    assert_int_equal(q.cmd, 0x1B);
    /* Too short / wrong start byte. */
    assert_int_equal(emu_tiny_decode_request(bad_crc, 3, &q), EMU_TINY_DEC_BAD_CMD);
    const uint8_t no_sof[] = {0xAB, 0x1B, 0x3F, 0x1B};
    assert_int_equal(emu_tiny_decode_request(no_sof, 4, &q), EMU_TINY_DEC_BAD_CMD);
}

static void test_emu_tiny_codec_request_length_partial(void **state)
{
    (void)state;
    const uint8_t mbw[] = {0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04};
    for (size_t have = 0; have < 7; have++) {
        if (emu_tiny_request_length(mbw, have) != 0) {
            fail_msg("0x10 with %zu bytes: length known too early", have);
        }
    }
    assert_int_equal(emu_tiny_request_length(mbw, 7), 13);
    const uint8_t wb[] = {0xAA, 0x0B, 0x04};
    assert_int_equal(emu_tiny_request_length(wb, 2), 0);
    assert_int_equal(emu_tiny_request_length(wb, 3), 11);
    const uint8_t big[] = {0xAA, 0x10, 0, 0, 0, 0, 0xFF};
    assert_true(emu_tiny_request_length(big, 7) <= EMU_TINY_MAX_FRAME);
}

static void test_emu_tiny_codec_ack_nack(void **state)
{
    (void)state;
    uint8_t b[8];
    static const uint8_t ack02[] = {0xAA, 0x01, 0x02, 0xD1, 0xB1}; /* TV-4 reply */
    assert_int_equal(emu_tiny_encode_ack(0x02, b, sizeof(b)), 5);
    assert_memory_equal(b, ack02, 5);
    assert_int_equal(emu_tiny_encode_nack(0x1B, EMU_TINY_ERR_CRC, b, sizeof(b)), 6);
    assert_int_equal(b[0], 0xAA);
    assert_int_equal(b[1], 0x00);
    assert_int_equal(b[2], 0x1B);
    assert_int_equal(b[3], 0x01);
    assert_int_equal(emu_tiny_crc16(b, 6), 0); /* CRC over frame + CRC is 0 */
    assert_int_equal(emu_tiny_encode_nack(0x1B, 0, b, 5), 0);
    assert_int_equal(emu_tiny_encode_ack(0x1B, b, 4), 0);
}

static void test_emu_tiny_codec_float_bits(void **state)
{
    (void)state;
    /* CN's observation: regs 36/37 = 0x1EB8/0x425F is 55.78 V. */
    assert_int_equal(emu_tiny_float_bits(55.78f), 0x425F1EB8u);
    assert_int_equal(emu_tiny_float_bits(-1.0f), 0xBF800000u);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void test_emu_tiny_codec_random_frames_safe(void **state)
{
    (void)state;
    uint64_t s = 42;
    uint8_t f[EMU_TINY_MAX_FRAME];
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = (size_t)(lcg(&s) % (EMU_TINY_MAX_FRAME + 1));
        for (size_t i = 0; i < n; i++) {
            f[i] = (uint8_t)lcg(&s);
        }
        if (n >= 2) {
            f[0] = 0xAA;
            f[1] = (uint8_t)(lcg(&s) % 0x22);
            /* Half the time make the length and CRC consistent, to reach the body decoders. */
            if ((iter & 1) != 0) {
                size_t want = emu_tiny_request_length(f, n);
                if (want >= 4 && want <= n) {
                    n = want;
                    emu_tiny_seal(f, n - 2, sizeof(f));
                }
            }
        }
        emu_tiny_request_t q;
        int rc = emu_tiny_decode_request(f, n, &q);
        assert_true(rc == 0 || rc == EMU_TINY_DEC_BAD_CMD || rc == EMU_TINY_DEC_BAD_CRC);
        assert_true(q.count <= EMU_TINY_MAX_ITEMS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_tiny_codec_crc_check_value),
        cmocka_unit_test(test_emu_tiny_codec_reference_frames_decode),
        cmocka_unit_test(test_emu_tiny_codec_golden_fields),
        cmocka_unit_test(test_emu_tiny_codec_malformed_rejected),
        cmocka_unit_test(test_emu_tiny_codec_request_length_partial),
        cmocka_unit_test(test_emu_tiny_codec_ack_nack),
        cmocka_unit_test(test_emu_tiny_codec_float_bits),
        cmocka_unit_test(test_emu_tiny_codec_random_frames_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
