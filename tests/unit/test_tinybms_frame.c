/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's TinyBMS codec against the golden vectors of tinybms.md 2.4 and 7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tinybms/tinybms_frame.h"

#define CHECK_EQ(row, actual, expected)                                                     \
    do {                                                                                    \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                     \
        if (a_ != e_) {                                                                     \
            print_error("row %d: %s = %lld (0x%llx), expected %lld (0x%llx)\n", (int)(row), \
                        #actual, a_, a_, e_, e_);                                           \
            fail();                                                                         \
        }                                                                                   \
    } while (0)

static void check_bytes(int row, const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
    CHECK_EQ(row, got_len, want_len);
    for (size_t i = 0; i < want_len; i++) {
        if (got[i] != want[i]) {
            print_error("row %d: byte %zu = %02X, expected %02X\n", row, i, got[i], want[i]);
            fail();
        }
    }
}

/* ------------------------------------------------------------ CRC */

static void test_tinybms_frame_crc_check_value(void **state)
{
    (void)state;
    const uint8_t check[] = "123456789";
    CHECK_EQ(0, gw_tiny_crc16(check, 9), 0x4B37);
    const uint8_t aa1b[] = { 0xAA, 0x1B };
    CHECK_EQ(1, gw_tiny_crc16(aa1b, 2), 0x1B3F); /* the worked example, tinybms.md 2.5 */
    CHECK_EQ(2, gw_tiny_crc16(aa1b, 0), 0xFFFF);
}

/* Every pre-computed request of tinybms.md 2.4 and the TV frames: the CRC over
 * all but the last two bytes equals those two bytes, LSB first. */
static const struct {
    uint8_t len;
    uint8_t f[16];
} crc_rows[] = {
    { 4, { 0xAA, 0x11, 0xBF, 0x1C } },
    { 4, { 0xAA, 0x12, 0xFF, 0x1D } },
    { 4, { 0xAA, 0x14, 0x7F, 0x1F } },
    { 4, { 0xAA, 0x15, 0xBE, 0xDF } },
    { 4, { 0xAA, 0x16, 0xFE, 0xDE } },
    { 4, { 0xAA, 0x17, 0x3F, 0x1E } },
    { 4, { 0xAA, 0x18, 0x7F, 0x1A } },
    { 4, { 0xAA, 0x19, 0xBE, 0xDA } },
    { 4, { 0xAA, 0x1A, 0xFE, 0xDB } },
    { 4, { 0xAA, 0x1B, 0x3F, 0x1B } },
    { 4, { 0xAA, 0x1C, 0x7E, 0xD9 } },
    { 4, { 0xAA, 0x1E, 0xFF, 0x18 } },
    { 4, { 0xAA, 0x1F, 0x3E, 0xD8 } },
    { 4, { 0xAA, 0x20, 0x7E, 0xC8 } },
    { 5, { 0xAA, 0x02, 0x01, 0x91, 0x40 } },
    { 5, { 0xAA, 0x02, 0x02, 0xD1, 0x41 } },
    { 5, { 0xAA, 0x02, 0x05, 0x90, 0x83 } },
    { 8, { 0xAA, 0x03, 0x00, 0x00, 0x00, 0x10, 0x5D, 0xDD } },
    { 8, { 0xAA, 0x03, 0x00, 0x20, 0x00, 0x15, 0x9C, 0x14 } },
    { 8, { 0xAA, 0x03, 0x01, 0x2C, 0x00, 0x2C, 0x9D, 0xF9 } },
    { 7, { 0xAA, 0x07, 0x02, 0x24, 0x00, 0x87, 0xAC } },
    { 9, { 0xAA, 0x09, 0x04, 0x24, 0x00, 0x25, 0x00, 0xF0, 0x33 } },
    { 5, { 0xAA, 0x01, 0x02, 0xD1, 0xB1 } },
    { 8, { 0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x28, 0x22 } },
    { 13, { 0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04, 0x10, 0x68, 0x09, 0xC4, 0x19, 0x61 } },
    { 11, { 0xAA, 0x1B, 0x06, 0x16, 0x01, 0x14, 0x01, 0x16, 0x01, 0x0E, 0x4E } },
};

static void test_tinybms_frame_crc_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(crc_rows) / sizeof(crc_rows[0]); i++) {
        size_t n = crc_rows[i].len;
        uint16_t want = (uint16_t)(crc_rows[i].f[n - 2] | (crc_rows[i].f[n - 1] << 8));
        CHECK_EQ(i, gw_tiny_crc16(crc_rows[i].f, n - 2), want);
        CHECK_EQ(i, gw_tiny_crc16(crc_rows[i].f, n), 0); /* CRC over frame + CRC is 0 */
    }
}

/* ------------------------------------------------------------ builders */

static void test_tinybms_frame_build_simple_table(void **state)
{
    (void)state;
    uint8_t out[8];
    for (size_t i = 0; i < 14; i++) { /* the 14 one-byte commands of crc_rows */
        size_t n = gw_tiny_build_simple(crc_rows[i].f[1], out, sizeof(out));
        check_bytes((int)i, out, n, crc_rows[i].f, crc_rows[i].len);
    }
    CHECK_EQ(100, gw_tiny_build_simple(0x03, out, sizeof(out)), 0); /* not a simple command */
    CHECK_EQ(101, gw_tiny_build_simple(0x14, out, 3), 0);           /* cap too small */
}

static void test_tinybms_frame_tv1_write_mb(void **state)
{
    (void)state;
    static const uint8_t req[] = { 0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04, 0x10, 0x68, 0x09, 0xC4, 0x19, 0x61 };
    static const uint8_t rep[] = { 0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x28, 0x22 };
    const uint16_t values[] = { 4200, 2500 };
    uint8_t out[32];
    size_t n = gw_tiny_build_write_mb(315, values, 2, out, sizeof(out));
    check_bytes(0, out, n, req, sizeof(req));
    CHECK_EQ(1, gw_tiny_build_write_mb(315, values, 2, out, sizeof(req) - 1), 0);
    CHECK_EQ(2, gw_tiny_build_write_mb(315, values, 0, out, sizeof(out)), 0);

    gw_tiny_frame_t f;
    CHECK_EQ(3, gw_tiny_parse_reply(rep, sizeof(rep), &f), GW_TINY_OK);
    CHECK_EQ(3, f.kind, GW_TINY_KIND_REPLY);
    CHECK_EQ(3, f.cmd, 0x10);
    CHECK_EQ(3, f.payload_len, 4);
    CHECK_EQ(3, (f.payload[0] << 8) | f.payload[1], 315);
    CHECK_EQ(3, (f.payload[2] << 8) | f.payload[3], 2);
    /* Seen from a tool that sees both directions. */
    CHECK_EQ(4, gw_tiny_parse_any(req, sizeof(req), &f), GW_TINY_OK);
    CHECK_EQ(4, f.kind, GW_TINY_KIND_REQUEST);
    CHECK_EQ(5, gw_tiny_parse_any(rep, sizeof(rep), &f), GW_TINY_OK);
    CHECK_EQ(5, f.kind, GW_TINY_KIND_REPLY);
}

static void test_tinybms_frame_tv2_read_cells(void **state)
{
    (void)state;
    static const uint8_t req[] = { 0xAA, 0x03, 0x00, 0x05, 0x00, 0x05, 0x8C, 0x13 };
    static const uint8_t rep[] = { 0xAA, 0x03, 0x0A, 0x97, 0x40, 0x97, 0x40, 0x97, 0x2C,
                                   0x97, 0x2C, 0x97, 0x2C, 0x3E, 0xC7 };
    uint8_t out[16];
    size_t n = gw_tiny_build_read_mb(5, 5, out, sizeof(out));
    check_bytes(0, out, n, req, sizeof(req));
    CHECK_EQ(1, gw_tiny_build_read_mb(5, 0, out, sizeof(out)), 0);
    CHECK_EQ(2, gw_tiny_build_read_mb(5, 128, out, sizeof(out)), 0);
    CHECK_EQ(3, gw_tiny_build_read_mb(5, 127, out, sizeof(out)), 8);

    gw_tiny_frame_t f;
    CHECK_EQ(4, gw_tiny_reply_len(rep, 3), 15);
    CHECK_EQ(4, gw_tiny_parse_reply(rep, sizeof(rep), &f), GW_TINY_OK);
    CHECK_EQ(4, f.crc_rx, 0xC73E);
    uint16_t regs[8];
    size_t count = 0;
    CHECK_EQ(5, gw_tiny_regs_be(&f, regs, 8, &count), GW_TINY_OK);
    CHECK_EQ(5, count, 5);
    static const uint16_t want[] = { 38720, 38720, 38700, 38700, 38700 }; /* big-endian, 0.1 mV */
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(i, regs[i], want[i]);
    }
    CHECK_EQ(6, gw_tiny_regs_be(&f, regs, 4, &count), GW_TINY_E_LAYOUT);
}

static void test_tinybms_frame_tv3_temperatures(void **state)
{
    (void)state;
    static const uint8_t rep[] = { 0xAA, 0x1B, 0x06, 0x16, 0x01, 0x14, 0x01, 0x16, 0x01, 0x0E, 0x4E };
    static const uint8_t req[] = { 0xAA, 0x1B, 0x3F, 0x1B };
    uint8_t out[8];
    check_bytes(0, out, gw_tiny_build_simple(0x1B, out, sizeof(out)), req, sizeof(req));
    gw_tiny_frame_t f;
    CHECK_EQ(1, gw_tiny_parse_reply(rep, sizeof(rep), &f), GW_TINY_OK);
    CHECK_EQ(1, f.cmd, 0x1B);
    CHECK_EQ(1, f.payload_len, 6);
    CHECK_EQ(2, (int16_t)gw_tiny_le16(f.payload), 278);     /* internal 27.8 C */
    CHECK_EQ(3, (int16_t)gw_tiny_le16(f.payload + 2), 276); /* ext 1 */
    CHECK_EQ(4, (int16_t)gw_tiny_le16(f.payload + 4), 278); /* ext 2 */
    CHECK_EQ(5, f.crc_calc, 0x4E0E);
}

static void test_tinybms_frame_tv4_reset_ack(void **state)
{
    (void)state;
    static const uint8_t req[] = { 0xAA, 0x02, 0x05, 0x90, 0x83 };
    static const uint8_t ack[] = { 0xAA, 0x01, 0x02, 0xD1, 0xB1 };
    uint8_t out[8];
    check_bytes(0, out, gw_tiny_build_reset(0x05, out, sizeof(out)), req, sizeof(req));
    CHECK_EQ(1, gw_tiny_build_reset(0x03, out, sizeof(out)), 0);
    gw_tiny_frame_t f;
    CHECK_EQ(2, gw_tiny_parse_reply(ack, sizeof(ack), &f), GW_TINY_OK);
    CHECK_EQ(2, f.kind, GW_TINY_KIND_ACK);
    CHECK_EQ(2, f.cmd, 0x02);
    CHECK_EQ(3, gw_tiny_parse_any(req, sizeof(req), &f), GW_TINY_OK);
    CHECK_EQ(3, f.kind, GW_TINY_KIND_REQUEST);
    CHECK_EQ(3, f.payload[0], 0x05);
}

static void test_tinybms_frame_nack(void **state)
{
    (void)state;
    uint8_t nack[6] = { 0xAA, 0x00, 0x03, 0x01, 0, 0 };
    uint16_t crc = gw_tiny_crc16(nack, 4);
    nack[4] = (uint8_t)crc;
    nack[5] = (uint8_t)(crc >> 8);
    gw_tiny_frame_t f;
    CHECK_EQ(0, gw_tiny_parse_reply(nack, sizeof(nack), &f), GW_TINY_OK);
    CHECK_EQ(0, f.kind, GW_TINY_KIND_NACK);
    CHECK_EQ(0, f.cmd, 0x03);
    CHECK_EQ(0, f.error_code, 0x01);
}

static void test_tinybms_frame_crc_mismatch_reports_both(void **state)
{
    (void)state;
    uint8_t rep[] = { 0xAA, 0x1B, 0x06, 0x16, 0x01, 0x14, 0x01, 0x16, 0x01, 0x0E, 0x4E };
    rep[3] = 0x17;
    gw_tiny_frame_t f;
    CHECK_EQ(0, gw_tiny_parse_reply(rep, sizeof(rep), &f), GW_TINY_E_CRC);
    CHECK_EQ(0, f.crc_rx, 0x4E0E);
    CHECK_EQ(0, f.crc_calc, gw_tiny_crc16(rep, 9));
    if (f.crc_calc == f.crc_rx) {
        fail_msg("a changed byte must change the CRC");
    }
}

/* Reply length from the header: rows of {bytes, n, expected}. */
static const struct {
    uint8_t n;
    uint8_t b[3];
    int want;
} len_rows[] = {
    { 0, { 0 }, 0 },
    { 1, { 0xAA }, 0 },
    { 1, { 0x55 }, GW_TINY_E_START },
    { 2, { 0xAA, 0x14 }, 8 },
    { 2, { 0xAA, 0x16 }, 6 },
    { 2, { 0xAA, 0x20 }, 16 },
    { 2, { 0xAA, 0x00 }, 6 },
    { 2, { 0xAA, 0x01 }, 5 },
    { 2, { 0xAA, 0x10 }, 8 },
    { 2, { 0xAA, 0x03 }, 0 },
    { 3, { 0xAA, 0x03, 0x0A }, 15 },
    { 3, { 0xAA, 0x03, 0x0B }, GW_TINY_E_LENGTH }, /* odd PL */
    { 3, { 0xAA, 0x03, 0xFE }, 259 },              /* boundary: 127 registers */
    { 3, { 0xAA, 0x03, 0x00 }, GW_TINY_E_LENGTH },
    { 3, { 0xAA, 0x1B, 0x06 }, 11 },
    { 3, { 0xAA, 0x1B, 0x08 }, GW_TINY_E_LENGTH },
    { 3, { 0xAA, 0x07, 0x82 }, GW_TINY_E_LENGTH }, /* multi-packet: undocumented */
    { 3, { 0xAA, 0x09, 0x08 }, 13 },
    { 3, { 0xAA, 0x09, 0x06 }, GW_TINY_E_LENGTH }, /* reply PL is 4n */
    { 2, { 0xAA, 0x55 }, GW_TINY_E_CMD },
    { 2, { 0xAA, 0x02 }, GW_TINY_E_CMD },          /* reset answers with an ACK */
};

static void test_tinybms_frame_reply_len_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(len_rows) / sizeof(len_rows[0]); i++) {
        CHECK_EQ(i, gw_tiny_reply_len(len_rows[i].b, len_rows[i].n), len_rows[i].want);
    }
}

static const struct {
    uint32_t bits;
    bool ok;
    int32_t milli;
} float_rows[] = {
    { 0x425F1EB8u, true, 55780 },  /* CN's real pack voltage, 55.78 V */
    { 0x00000000u, true, 0 },
    { 0x80000000u, true, 0 },      /* -0 */
    { 0xC1480000u, true, -12500 }, /* -12.5 */
    { 0x3F800000u, true, 1000 },
    { 0x3A83126Fu, true, 1 },      /* 0.001 */
    { 0x358637BDu, true, 0 },      /* 1e-6 rounds to 0 */
    { 0x00000001u, true, 0 },      /* smallest subnormal */
    { 0x4A000000u, true, 2097152000 },
    { 0x4B000000u, false, 0 },     /* 8388608 x 1000 > INT32_MAX */
    { 0x7F800000u, false, 0 },     /* +inf */
    { 0xFF800000u, false, 0 },     /* -inf */
    { 0x7FC00000u, false, 0 },     /* NaN */
};

static void test_tinybms_frame_float_milli_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(float_rows) / sizeof(float_rows[0]); i++) {
        int32_t v = 0;
        bool ok = gw_tiny_float_milli(float_rows[i].bits, &v);
        CHECK_EQ(i, ok, float_rows[i].ok);
        if (ok) {
            CHECK_EQ(i, v, float_rows[i].milli);
        }
    }
}

/* Ambiguous shapes as documented in tinybms_frame.c. */
static void test_tinybms_frame_parse_any_kinds(void **state)
{
    (void)state;
    const struct {
        uint8_t len;
        uint8_t f[16];
        int kind;
    } rows[] = {
        { 4, { 0xAA, 0x14 }, GW_TINY_KIND_REQUEST },
        { 8, { 0xAA, 0x14, 0x00, 0x00, 0x80, 0x3F }, GW_TINY_KIND_REPLY },
        { 8, { 0xAA, 0x03, 0x00, 0x00, 0x00, 0x10 }, GW_TINY_KIND_REQUEST },
        { 7, { 0xAA, 0x03, 0x02, 0x12, 0x34 }, GW_TINY_KIND_REPLY },
        { 7, { 0xAA, 0x1D, 0x04, 0x00, 0x0A }, GW_TINY_KIND_REQUEST },
        { 7, { 0xAA, 0x1D, 0x02, 0x12, 0x34 }, GW_TINY_KIND_REPLY },
        { 6, { 0xAA, 0x00, 0x03, 0x00 }, GW_TINY_KIND_NACK },
        { 5, { 0xAA, 0x01, 0x0D }, GW_TINY_KIND_ACK },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint8_t f[16];
        memcpy(f, rows[i].f, sizeof(f));
        uint16_t crc = gw_tiny_crc16(f, rows[i].len - 2u);
        f[rows[i].len - 2] = (uint8_t)crc;
        f[rows[i].len - 1] = (uint8_t)(crc >> 8);
        gw_tiny_frame_t out;
        CHECK_EQ(i, gw_tiny_parse_any(f, rows[i].len, &out), GW_TINY_OK);
        CHECK_EQ(i, out.kind, rows[i].kind);
    }
}

/* Every truncation and every single-byte corruption of a good reply is rejected
 * without reading outside the frame (run under ASan for the full effect). */
static void test_tinybms_frame_rejects_truncated_and_corrupted(void **state)
{
    (void)state;
    static const uint8_t rep[] = { 0xAA, 0x03, 0x0A, 0x97, 0x40, 0x97, 0x40, 0x97, 0x2C,
                                   0x97, 0x2C, 0x97, 0x2C, 0x3E, 0xC7 };
    gw_tiny_frame_t f;
    for (size_t n = 0; n < sizeof(rep); n++) {
        uint8_t copy[sizeof(rep)];
        memcpy(copy, rep, n);
        if (gw_tiny_parse_reply(copy, n, &f) == GW_TINY_OK) {
            fail_msg("truncation to %zu bytes accepted", n);
        }
    }
    for (size_t i = 0; i < sizeof(rep); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            uint8_t copy[sizeof(rep)];
            memcpy(copy, rep, sizeof(rep));
            copy[i] ^= (uint8_t)(1u << bit);
            if (gw_tiny_parse_reply(copy, sizeof(copy), &f) == GW_TINY_OK) {
                fail_msg("byte %zu bit %u flipped and still accepted", i, bit);
            }
        }
    }
    CHECK_EQ(0, gw_tiny_parse_reply(NULL, 4, &f), GW_TINY_E_ARG);
    CHECK_EQ(1, gw_tiny_parse_reply(rep, sizeof(rep), NULL), GW_TINY_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tinybms_frame_crc_check_value),
        cmocka_unit_test(test_tinybms_frame_crc_table),
        cmocka_unit_test(test_tinybms_frame_build_simple_table),
        cmocka_unit_test(test_tinybms_frame_tv1_write_mb),
        cmocka_unit_test(test_tinybms_frame_tv2_read_cells),
        cmocka_unit_test(test_tinybms_frame_tv3_temperatures),
        cmocka_unit_test(test_tinybms_frame_tv4_reset_ack),
        cmocka_unit_test(test_tinybms_frame_nack),
        cmocka_unit_test(test_tinybms_frame_crc_mismatch_reports_both),
        cmocka_unit_test(test_tinybms_frame_reply_len_table),
        cmocka_unit_test(test_tinybms_frame_float_milli_table),
        cmocka_unit_test(test_tinybms_frame_parse_any_kinds),
        cmocka_unit_test(test_tinybms_frame_rejects_truncated_and_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
