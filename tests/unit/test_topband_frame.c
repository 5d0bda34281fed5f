/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's Topband codec against the vectors of topband.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "topband/topband_frame.h"

/* Compare two integers; on failure name the table row and both values. */
#define CHECK_EQ(row, actual, expected)                                                   \
    do {                                                                                  \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                   \
        if (a_ != e_) {                                                                   \
            print_error("row %d: %s = %lld (0x%llX), expected %lld (0x%llX)\n", (int)(row), \
                        #actual, a_, (unsigned long long)a_, e_, (unsigned long long)e_);   \
            fail();                                                                       \
        }                                                                                 \
    } while (0)

/* kekemar 16-cell 150 Ah reply, topband.md 2.1 / 2.1.1 (VER 0x52). */
#define FRAME_KEKEMAR                                                                     \
    "~520146004084"                                                                       \
    "0110"                                                                                \
    "0D120D150D0F0D0D0D130D160D150D210D130D130D130D130D100D160D170D23"                    \
    "06003D003E003E003E003B003B"                                                          \
    "018014EE33B3063A980002586400000000" "0000"                                           \
    "E20A\r"
/* TV2: EET 15 cells, ADR 1, topband.md 7 (VER 0x21). */
#define FRAME_TV2                                                                         \
    "~21014600D07C010F0D1D0D1C0D1E0D190D1D0D180D180D230D1A0D1A0D230D190D1F0D190D1C070B7D" \
    "0B7B0B7A0B7F0B940B820B8C01B413A90BB8040BB8000664640000E259\r"

static const uint8_t *u8(const char *s)
{
    return (const uint8_t *)s;
}

/* ------------------------------------------------------------------ build */

typedef struct req_row {
    uint8_t adr, cid2;
    uint8_t info[8];
    size_t info_len;
    const char *expect;
} req_row_t;

static const req_row_t req_rows[] = {
    /* topband.md 7, computed request vectors */
    { 0, 0x42, { 0x00 }, 1, "~21004642E00200FD36\r" },
    { 1, 0x42, { 0x01 }, 1, "~21014642E00201FD34\r" },
    { 0, 0x42, { 0 }, 0, "~210046420000FDAD\r" },
    { 1, 0x42, { 0 }, 0, "~210146420000FDAC\r" },
    { 0, 0x44, { 0x00 }, 1, "~21004644E00200FD34\r" },
    { 1, 0x44, { 0x01 }, 1, "~21014644E00201FD32\r" },
    { 0, 0x44, { 0 }, 0, "~210046440000FDAB\r" },
    { 1, 0x44, { 0 }, 0, "~210146440000FDAA\r" },
    { 0, 0x47, { 0 }, 0, "~210046470000FDA8\r" },
    { 1, 0x47, { 0 }, 0, "~210146470000FDA7\r" },
    { 0, 0x4F, { 0 }, 0, "~2100464F0000FD99\r" },
    { 1, 0x4F, { 0 }, 0, "~2101464F0000FD98\r" },
    { 0, 0x51, { 0 }, 0, "~210046510000FDAD\r" },
    { 1, 0x51, { 0 }, 0, "~210146510000FDAC\r" },
    { 0, 0x4D, { 0 }, 0, "~2100464D0000FD9B\r" },
    { 1, 0x4D, { 0 }, 0, "~2101464D0000FD9A\r" },
    { 1, 0x42, { 0xFF }, 1, "~21014642E002FFFD09\r" },
    /* TV4, TV5, TV6 requests (real captures) */
    { 3, 0x4D, { 0 }, 0, "~2103464D0000FD98\r" },
    { 3, 0x4E, { 0x07, 0xEA, 0x02, 0x19, 0x0D, 0x18, 0x09 }, 7, "~2103464E200E07EA02190D1809FA81\r" },
    { 0, 0x4B, { 0x00, 0x00 }, 2, "~2100464BC0040000FCC6\r" },
    { 0, 0x4B, { 0x01, 0x00 }, 2, "~2100464BC0040100FCC5\r" },
    /* atomi23's 16 poll strings, topband.md 4 */
    { 2, 0x42, { 2 }, 1, "~21024642E00202FD32\r" },
    { 3, 0x42, { 3 }, 1, "~21034642E00203FD30\r" },
    { 4, 0x42, { 4 }, 1, "~21044642E00204FD2E\r" },
    { 5, 0x42, { 5 }, 1, "~21054642E00205FD2C\r" },
    { 6, 0x42, { 6 }, 1, "~21064642E00206FD2A\r" },
    { 7, 0x42, { 7 }, 1, "~21074642E00207FD28\r" },
    { 8, 0x42, { 8 }, 1, "~21084642E00208FD26\r" },
    { 9, 0x42, { 9 }, 1, "~21094642E00209FD24\r" },
    { 10, 0x42, { 10 }, 1, "~210A4642E0020AFD14\r" },
    { 11, 0x42, { 11 }, 1, "~210B4642E0020BFD12\r" },
    { 12, 0x42, { 12 }, 1, "~210C4642E0020CFD10\r" },
    { 13, 0x42, { 13 }, 1, "~210D4642E0020DFD0E\r" },
    { 14, 0x42, { 14 }, 1, "~210E4642E0020EFD0C\r" },
    { 15, 0x42, { 15 }, 1, "~210F4642E0020FFD0A\r" },
};

static void test_topband_frame_build_request_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(req_rows) / sizeof(req_rows[0]); i++) {
        const req_row_t *r = &req_rows[i];
        uint8_t out[64];
        memset(out, 0xAA, sizeof(out));
        size_t n = gw_tb_build_request(r->adr, r->cid2, r->info_len ? r->info : NULL, r->info_len,
                                       out, sizeof(out));
        CHECK_EQ(i, n, strlen(r->expect));
        if (memcmp(out, r->expect, n) != 0) {
            print_error("row %zu: built '%.*s', expected '%s'\n", i, (int)n, (const char *)out, r->expect);
            fail();
        }
        CHECK_EQ(i, out[n], 0xAA); /* nothing written past the frame */
    }
}

static void test_topband_frame_build_request_cap(void **state)
{
    (void)state;
    uint8_t out[20];
    uint8_t info = 1;
    /* exactly enough, one short, zero */
    assert_int_equal(gw_tb_build_request(1, 0x42, &info, 1, out, 20), 20);
    assert_int_equal(gw_tb_build_request(1, 0x42, &info, 1, out, 19), 0);
    assert_int_equal(gw_tb_build_request(1, 0x42, &info, 1, out, 0), 0);
    /* LENID is 12 bits: 2047 bytes is the largest INFO */
    static uint8_t big_info[2048];
    static uint8_t big_out[GW_TB_MAX_FRAME + 16];
    assert_int_equal(gw_tb_build_frame(0x21, 1, 0x46, 0, big_info, 2047, big_out, sizeof(big_out)), 18 + 4094);
    assert_int_equal(gw_tb_build_frame(0x21, 1, 0x46, 0, big_info, 2048, big_out, sizeof(big_out)), 0);
}

typedef struct lch_row {
    uint16_t lenid;
    uint8_t lchk;
} lch_row_t;

static void test_topband_frame_lchksum_vectors(void **state)
{
    (void)state;
    /* topband.md 1.3 */
    static const lch_row_t rows[] = {
        { 0x002, 0xE }, { 0x012, 0xD }, { 0x07C, 0xD }, { 0x084, 0x4 },
        { 0x088, 0x0 }, { 0x000, 0x0 }, { 0x040, 0xC }, { 0xFFF, 0x3 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK_EQ(i, gw_tb_lchksum(rows[i].lenid), rows[i].lchk);
    }
}

static void test_topband_frame_chksum_vectors(void **state)
{
    (void)state;
    /* 1.5 worked example, and the Doc v1.7 example with its typo corrected (1.4). */
    assert_int_equal(gw_tb_chksum(u8("21014642E00201"), 14), 0xFD34);
    assert_int_equal(gw_tb_chksum(u8("1203400456ABCEFE"), 16), 0xFC71);
    assert_int_equal(gw_tb_chksum(NULL, 0), 0x0000);
}

/* ------------------------------------------------------------------ parse */

typedef struct parse_row {
    const char *frame;
    uint8_t ver, adr, cid1, rtn;
    uint16_t lenid, chksum;
    size_t info_len;
    uint8_t info_first, info_last;
} parse_row_t;

static const parse_row_t parse_rows[] = {
    { FRAME_KEKEMAR, 0x52, 0x01, 0x46, 0x00, 0x084, 0xE20A, 66, 0x01, 0x00 },
    { FRAME_TV2, 0x21, 0x01, 0x46, 0x00, 0x07C, 0xE259, 62, 0x01, 0x00 },
    /* TV4 reply: 2026-02-25 13:24:11 */
    { "~21034600200E07EA02190D180BFA91\r", 0x21, 0x03, 0x46, 0x00, 0x00E, 0xFA91, 7, 0x07, 0x0B },
    /* TV5 reply: empty INFO */
    { "~210346000000FDB0\r", 0x21, 0x03, 0x46, 0x00, 0x000, 0xFDB0, 0, 0, 0 },
    /* TV6 history replies (spaces of the source removed) */
    { "~2100460000880000" "07E70C150A1F04" "61" "06" "000000000000" "19" "0000" "12C0" "079E"
      "0BA50BA50BA50BA50B550B4B" "0C800C800C800C800C800C800C810C800C800C800C800C800C7F0C7F0C80"
      "0000" "E0C5\r",
      0x21, 0x00, 0x46, 0x00, 0x088, 0xE0C5, 68, 0x00, 0x00 },
    { "~2100460000880001" "07E70C150A1F0A" "01" "06" "000000000000" "19" "0320" "12C0" "079E"
      "0BA50BA50BA50BA50B550B4B" "0C800C7F0C800C800C810C800C810C800C800C800C800C800C7F0C7F0C80"
      "0000" "E0A2\r",
      0x21, 0x00, 0x46, 0x00, 0x088, 0xE0A2, 68, 0x00, 0x00 },
    /* requests parse too (CID2 in the rtn position) */
    { "~21014642E00201FD34\r", 0x21, 0x01, 0x46, 0x42, 0x002, 0xFD34, 1, 0x01, 0x01 },
    { "~2103464E200E07EA02190D1809FA81\r", 0x21, 0x03, 0x46, 0x4E, 0x00E, 0xFA81, 7, 0x07, 0x09 },
    /* LF instead of CR (linedot's adapter) */
    { "~210346000000FDB0\n", 0x21, 0x03, 0x46, 0x00, 0x000, 0xFDB0, 0, 0, 0 },
};

static void test_topband_frame_parse_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
        const parse_row_t *r = &parse_rows[i];
        uint8_t buf[256];
        gw_tb_frame_t f;
        gw_tb_err_t err = gw_tb_parse(u8(r->frame), strlen(r->frame), buf, sizeof(buf), &f);
        CHECK_EQ(i, err, GW_TB_OK);
        CHECK_EQ(i, f.ver, r->ver);
        CHECK_EQ(i, f.adr, r->adr);
        CHECK_EQ(i, f.cid1, r->cid1);
        CHECK_EQ(i, f.rtn, r->rtn);
        CHECK_EQ(i, f.lenid, r->lenid);
        CHECK_EQ(i, f.chksum_rx, r->chksum);
        CHECK_EQ(i, f.chksum_calc, r->chksum);
        CHECK_EQ(i, f.info_len, r->info_len);
        if (r->info_len > 0) {
            CHECK_EQ(i, f.info == buf, 1);
            CHECK_EQ(i, f.info[0], r->info_first);
            CHECK_EQ(i, f.info[r->info_len - 1], r->info_last);
        }
    }
}

static void test_topband_frame_parse_lower_case(void **state)
{
    (void)state;
    /* A lower-case sender sums its own (lower-case) characters. */
    char frame[256];
    snprintf(frame, sizeof(frame), "%s", FRAME_KEKEMAR);
    size_t len = strlen(frame);
    for (size_t i = 1; i < len - 5; i++) {
        if (frame[i] >= 'A' && frame[i] <= 'F') {
            frame[i] = (char)(frame[i] - 'A' + 'a');
        }
    }
    uint16_t chk = gw_tb_chksum(u8(frame + 1), len - 6);
    snprintf(frame + len - 5, 6, "%04x\r", chk);
    uint8_t buf[128];
    gw_tb_frame_t f;
    assert_int_equal(gw_tb_parse(u8(frame), len, buf, sizeof(buf), &f), GW_TB_OK);
    assert_int_equal(f.info_len, 66);
    assert_int_equal(f.info[2], 0x0D);
    assert_int_equal(f.info[3], 0x12);
    /* The upper-case checksum of the original no longer fits the lower-case text. */
    snprintf(frame + len - 5, 6, "E20A\r");
    assert_int_equal(gw_tb_parse(u8(frame), len, buf, sizeof(buf), &f), GW_TB_E_CHKSUM);
}

/* One single-character corruption of a golden frame and the error it must give. */
typedef struct corrupt_row {
    const char *what;
    int pos;          /* index into the frame; negative = from the end */
    char replace;     /* 0 = delete the character */
    gw_tb_err_t expect;
} corrupt_row_t;

static const corrupt_row_t corrupt_rows[] = {
    { "CHKSUM digit 1", -5, '0', GW_TB_E_CHKSUM },
    { "CHKSUM digit 4", -2, '1', GW_TB_E_CHKSUM },
    { "INFO digit", 20, '9', GW_TB_E_CHKSUM },
    { "ADR digit", 4, '7', GW_TB_E_CHKSUM },
    { "LCHKSUM nibble", 9, '1', GW_TB_E_LCHKSUM },
    { "LENID nibble 1", 10, '1', GW_TB_E_LCHKSUM },
    { "LENID nibble 2", 11, '1', GW_TB_E_LCHKSUM },
    { "LENID nibble 3", 12, '2', GW_TB_E_LCHKSUM },
    { "non-hex in VER", 1, 'G', GW_TB_E_HEX },
    { "non-hex in LENGTH", 10, 'x', GW_TB_E_HEX },
    { "non-hex in INFO", 30, ' ', GW_TB_E_HEX },
    { "non-hex in INFO (~)", 40, '~', GW_TB_E_HEX },
    { "non-hex in CHKSUM", -3, 'Z', GW_TB_E_HEX },
    { "NUL in INFO", 50, '\x01', GW_TB_E_HEX },
    { "truncated INFO char", 40, 0, GW_TB_E_LENGTH },
    { "truncated CHKSUM char", -2, 0, GW_TB_E_LENGTH },
    { "missing EOI", -1, 0, GW_TB_E_EOI },
    { "EOI replaced", -1, '0', GW_TB_E_EOI },
    { "missing SOI", 0, 0, GW_TB_E_SOI },
    { "SOI replaced", 0, '!', GW_TB_E_SOI },
};

static void check_corruptions(const char *golden, const char *name)
{
    size_t glen = strlen(golden);
    uint8_t buf[256];
    for (size_t i = 0; i < sizeof(corrupt_rows) / sizeof(corrupt_rows[0]); i++) {
        const corrupt_row_t *r = &corrupt_rows[i];
        char frame[256];
        memcpy(frame, golden, glen);
        size_t pos = r->pos < 0 ? glen - (size_t)(-r->pos) : (size_t)r->pos;
        size_t len = glen;
        if (r->replace == 0) {
            memmove(frame + pos, frame + pos + 1, glen - pos - 1);
            len--;
        } else {
            if (frame[pos] == r->replace) {
                print_error("%s row %zu (%s): replacement does not change the frame\n", name, i, r->what);
                fail();
            }
            frame[pos] = r->replace;
        }
        gw_tb_frame_t f;
        gw_tb_err_t err = gw_tb_parse(u8(frame), len, buf, sizeof(buf), &f);
        if (err != r->expect) {
            print_error("%s row %zu (%s): got %d (%s), expected %d\n", name, i, r->what, err,
                        gw_tb_strerror(err), r->expect);
            fail();
        }
    }
}

static void test_topband_frame_parse_corruption_classes(void **state)
{
    (void)state;
    check_corruptions(FRAME_KEKEMAR, "kekemar");
    check_corruptions(FRAME_TV2, "TV2");
}

static void test_topband_frame_parse_short_and_args(void **state)
{
    (void)state;
    uint8_t buf[8];
    gw_tb_frame_t f;
    const char *ok = "~210346000000FDB0\r";
    for (size_t len = 0; len < 18; len++) {
        CHECK_EQ(len, gw_tb_parse(u8(ok), len, buf, sizeof(buf), &f), GW_TB_E_SHORT);
    }
    assert_int_equal(gw_tb_parse(u8(ok), 18, buf, sizeof(buf), NULL), GW_TB_E_ARG);
    assert_int_equal(gw_tb_parse(NULL, 18, buf, sizeof(buf), &f), GW_TB_E_ARG);
    /* INFO larger than the caller's buffer: refused, nothing written past it */
    uint8_t small[4] = { 0 };
    assert_int_equal(gw_tb_parse(u8(FRAME_TV2), strlen(FRAME_TV2), small, 3, &f), GW_TB_E_ARG);
    assert_int_equal(small[3], 0);
}

static void test_topband_frame_parse_cid1(void **state)
{
    (void)state;
    uint8_t frame[32], buf[8];
    gw_tb_frame_t f;
    size_t n = gw_tb_build_frame(0x21, 1, 0x47, 0x00, NULL, 0, frame, sizeof(frame));
    assert_int_equal(n, 18);
    assert_int_equal(gw_tb_parse(frame, n, buf, sizeof(buf), &f), GW_TB_E_CID1);
    assert_int_equal(f.cid1, 0x47);
}

static void test_topband_frame_parse_fills_out_on_checksum_errors(void **state)
{
    (void)state;
    char frame[256];
    size_t len = strlen(FRAME_KEKEMAR);
    memcpy(frame, FRAME_KEKEMAR, len);
    frame[len - 2] = 'B'; /* CHKSUM E20A -> E20B */
    uint8_t buf[128];
    gw_tb_frame_t f;
    assert_int_equal(gw_tb_parse(u8(frame), len, buf, sizeof(buf), &f), GW_TB_E_CHKSUM);
    assert_int_equal(f.ver, 0x52);
    assert_int_equal(f.adr, 0x01);
    assert_int_equal(f.cid1, 0x46);
    assert_int_equal(f.lenid, 0x084);
    assert_int_equal(f.chksum_rx, 0xE20B);
    assert_int_equal(f.chksum_calc, 0xE20A);
    assert_int_equal(f.info_len, 66);
    assert_non_null(f.info);
    assert_int_equal(f.info[1], 16);
    assert_int_equal(f.info[65], 0x00);

    /* LCHKSUM nibble wrong: everything still decoded from the characters present. */
    memcpy(frame, FRAME_KEKEMAR, len);
    frame[9] = '5';
    assert_int_equal(gw_tb_parse(u8(frame), len, buf, sizeof(buf), &f), GW_TB_E_LCHKSUM);
    assert_int_equal(f.lenid, 0x084);
    assert_int_equal(f.chksum_rx, 0xE20A);
    assert_int_equal(f.chksum_calc, 0xE209); /* one ASCII code higher ('5' vs '4') */
    assert_int_equal(f.info_len, 66);
    assert_int_equal(f.info[34], 6);
}

/* 0x51: raw ASCII INFO (topband.md 2.6). */
static void test_topband_frame_parse_ascii_info(void **state)
{
    (void)state;
    const char *info = "HW-TB16S-V2.1-ABCDEF" "V1.3" "ID:TOPBAND-0123456789-XYZ-qwerty-+~ end!";
    size_t info_len = strlen(info);
    assert_int_equal(info_len, 64);
    char frame[128];
    int n = snprintf(frame, sizeof(frame), "~21014600C040%s", info);
    uint16_t chk = gw_tb_chksum(u8(frame + 1), (size_t)n - 1);
    n += snprintf(frame + n, sizeof(frame) - (size_t)n, "%04X\r", chk);
    assert_int_equal(n, 18 + 64);

    uint8_t buf[80];
    gw_tb_frame_t f;
    assert_int_equal(gw_tb_parse_ascii_info(u8(frame), (size_t)n, buf, sizeof(buf), &f), GW_TB_OK);
    assert_int_equal(f.lenid, 64);
    assert_int_equal(f.info_len, 64);
    assert_memory_equal(f.info, info, 64);
    assert_int_equal(f.chksum_rx, chk);
    /* the hex parser must refuse it rather than misread it */
    assert_int_equal(gw_tb_parse(u8(frame), (size_t)n, buf, sizeof(buf), &f), GW_TB_E_HEX);
    /* and the ASCII parser still checks the checksum */
    frame[20] = (char)(frame[20] + 1);
    assert_int_equal(gw_tb_parse_ascii_info(u8(frame), (size_t)n, buf, sizeof(buf), &f), GW_TB_E_CHKSUM);
}

static void test_topband_frame_check_reply(void **state)
{
    (void)state;
    gw_tb_frame_t f = { .ver = 0x21, .adr = 3, .cid1 = 0x46, .rtn = 0 };
    assert_int_equal(gw_tb_check_reply(&f, 3), GW_TB_OK);
    assert_int_equal(gw_tb_check_reply(&f, 4), GW_TB_E_ADR);
    f.rtn = 0x02;
    assert_int_equal(gw_tb_check_reply(&f, 3), GW_TB_E_RTN);
    assert_int_equal(gw_tb_check_reply(NULL, 3), GW_TB_E_ARG);
    assert_string_equal(gw_tb_strerror(GW_TB_E_CHKSUM), "frame checksum wrong");
}

/* ------------------------------------------------------------------ decode */

typedef struct analog_row {
    const char *frame;
    uint8_t cells;
    uint16_t cell_mv[16];
    uint8_t temps, cell_temps;
    int16_t temp_dc[7];
    int32_t current_ma;
    uint32_t voltage_mv, remaining_mah, full_mah;
    uint16_t cycles;
    uint8_t soc, soh;
} analog_row_t;

static const analog_row_t analog_rows[] = {
    { FRAME_KEKEMAR, 16,
      { 3346, 3349, 3343, 3341, 3347, 3350, 3349, 3361, 3347, 3347, 3347, 3347, 3344, 3350, 3351, 3363 },
      6, 4, { 210, 220, 220, 220, 190, 190 },
      3840, 53580, 132350, 150000, 2, 88, 100 },
    { FRAME_TV2, 15,
      { 3357, 3356, 3358, 3353, 3357, 3352, 3352, 3363, 3354, 3354, 3363, 3353, 3359, 3353, 3356 },
      7, 4, { 210, 208, 207, 212, 233, 215, 225 },
      4360, 50330, 30000, 30000, 6, 100, 100 },
};

static void test_topband_frame_decode_analog_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(analog_rows) / sizeof(analog_rows[0]); i++) {
        const analog_row_t *r = &analog_rows[i];
        uint8_t buf[128];
        gw_tb_frame_t f;
        CHECK_EQ(i, gw_tb_parse(u8(r->frame), strlen(r->frame), buf, sizeof(buf), &f), GW_TB_OK);
        gw_pack_t p;
        memset(&p, 0, sizeof(p));
        CHECK_EQ(i, gw_tb_decode_analog(&f, &p), GW_TB_OK);
        CHECK_EQ(i, p.cell_count, r->cells);
        for (size_t c = 0; c < r->cells; c++) {
            CHECK_EQ(i * 100 + c, p.cell_mv[c], r->cell_mv[c]);
        }
        CHECK_EQ(i, p.temp_count, r->temps);
        CHECK_EQ(i, p.cell_temp_count, r->cell_temps);
        for (size_t t = 0; t < r->temps; t++) {
            CHECK_EQ(i * 100 + t, p.temp_dc[t], r->temp_dc[t]);
        }
        CHECK_EQ(i, p.current_ma, r->current_ma);
        CHECK_EQ(i, p.voltage_mv, r->voltage_mv);
        CHECK_EQ(i, p.remaining_mah, r->remaining_mah);
        CHECK_EQ(i, p.full_mah, r->full_mah);
        CHECK_EQ(i, p.cycles, r->cycles);
        CHECK_EQ(i, p.soc_pct, r->soc);
        CHECK_EQ(i, p.soh_pct, r->soh);
        /* the driver's fields are not the decoder's business */
        CHECK_EQ(i, p.present, 0);
        CHECK_EQ(i, p.online, 0);
        CHECK_EQ(i, p.updated_ms, 0);
    }
}

/* A 0x42 INFO built field by field, so that tests can vary one thing at a time. */
typedef struct info_spec {
    uint8_t echo, m;
    uint16_t cell_mv;       /* all cells */
    uint8_t n;
    uint16_t temp_raw;      /* all sensors */
    uint16_t current_raw, voltage_raw, remaining_raw;
    uint8_t p;
    uint16_t full_raw, cycles;
    uint8_t soc, soh;
    int extra;              /* bytes added (+) or cut (-) at the end */
} info_spec_t;

static size_t build_info(const info_spec_t *s, uint8_t *out, size_t cap)
{
    size_t k = 0;
    uint8_t tmp[512];
    tmp[k++] = s->echo;
    tmp[k++] = s->m;
    for (unsigned i = 0; i < s->m; i++) {
        tmp[k++] = (uint8_t)(s->cell_mv >> 8);
        tmp[k++] = (uint8_t)s->cell_mv;
    }
    tmp[k++] = s->n;
    for (unsigned i = 0; i < s->n; i++) {
        tmp[k++] = (uint8_t)(s->temp_raw >> 8);
        tmp[k++] = (uint8_t)s->temp_raw;
    }
    const uint16_t words[] = { s->current_raw, s->voltage_raw, s->remaining_raw };
    for (unsigned i = 0; i < 3; i++) {
        tmp[k++] = (uint8_t)(words[i] >> 8);
        tmp[k++] = (uint8_t)words[i];
    }
    tmp[k++] = s->p;
    uint8_t pw[64] = { (uint8_t)(s->full_raw >> 8), (uint8_t)s->full_raw, (uint8_t)(s->cycles >> 8),
                       (uint8_t)s->cycles, s->soc, s->soh };
    for (unsigned i = 0; i < 2u * s->p && i < sizeof(pw); i++) {
        tmp[k++] = pw[i];
    }
    k = (size_t)((long)k + s->extra);
    assert_true(k <= cap);
    memcpy(out, tmp, k);
    return k;
}

static const info_spec_t base_spec = {
    .echo = 2, .m = 16, .cell_mv = 3300, .n = 6, .temp_raw = 2981,
    .current_raw = 0xFE7C, .voltage_raw = 5280, .remaining_raw = 10000,
    .p = 4, .full_raw = 20000, .cycles = 12, .soc = 50, .soh = 99,
};

typedef struct decode_row {
    const char *what;
    uint8_t ver;
    info_spec_t spec;
    gw_tb_err_t expect;
} decode_row_t;

static void test_topband_frame_decode_analog_limits(void **state)
{
    (void)state;
    decode_row_t rows[32];
    size_t n = 0;
#define ROW(what_, ver_, field_, value_, expect_)                  \
    do {                                                          \
        rows[n] = (decode_row_t){ what_, ver_, base_spec, expect_ }; \
        rows[n].spec.field_ = value_;                             \
        n++;                                                      \
    } while (0)
    ROW("base", 0x21, echo, 2, GW_TB_OK);
    ROW("P = 3 is enough", 0x21, p, 3, GW_TB_OK);
    ROW("P = 2", 0x21, p, 2, GW_TB_E_LAYOUT);
    ROW("P = 0", 0x21, p, 0, GW_TB_E_LAYOUT);
    ROW("P = 6", 0x21, p, 6, GW_TB_OK);
    ROW("one byte more than announced", 0x21, extra, 1, GW_TB_E_LAYOUT);
    ROW("one byte less than announced", 0x21, extra, -1, GW_TB_E_LAYOUT);
    ROW("M = 0", 0x21, m, 0, GW_TB_E_RANGE);
    ROW("M = 32", 0x21, m, 32, GW_TB_OK);
    ROW("M = GW_MAX_CELLS + 1", 0x21, m, GW_MAX_CELLS + 1, GW_TB_E_RANGE);
    ROW("M = 1", 0x21, m, 1, GW_TB_E_RANGE); /* 52.80 V from one cell is impossible */
    ROW("N = 0", 0x21, n, 0, GW_TB_OK);
    ROW("N = 16", 0x21, n, 16, GW_TB_OK);
    ROW("N = 17", 0x21, n, 17, GW_TB_E_RANGE);
    ROW("cell 5000 mV", 0x21, cell_mv, 5000, GW_TB_OK);
    ROW("cell 5001 mV", 0x21, cell_mv, 5001, GW_TB_E_RANGE);
    ROW("cell 0 mV", 0x21, cell_mv, 0, GW_TB_OK);
    ROW("SOC 100", 0x21, soc, 100, GW_TB_OK);
    ROW("SOC 101", 0x21, soc, 101, GW_TB_E_RANGE);
    ROW("SOH 101", 0x21, soh, 101, GW_TB_E_RANGE);
    ROW("temp -50.0 C (K)", 0x21, temp_raw, 2231, GW_TB_OK);
    ROW("temp -50.1 C (K)", 0x21, temp_raw, 2230, GW_TB_E_RANGE);
    ROW("temp 150.0 C (K)", 0x21, temp_raw, 4231, GW_TB_OK);
    ROW("temp 150.1 C (K)", 0x21, temp_raw, 4232, GW_TB_E_RANGE);
    ROW("0x52 Kelvin value is out of range", 0x52, temp_raw, 2981, GW_TB_E_RANGE);
    ROW("0x52 raw 0 = -40 C", 0x52, temp_raw, 0, GW_TB_OK);
    ROW("0x52 raw 190 = 150 C", 0x52, temp_raw, 190, GW_TB_OK);
    ROW("0x52 raw 191", 0x52, temp_raw, 191, GW_TB_E_RANGE);
    ROW("voltage = 16 x 5000 mV", 0x21, voltage_raw, 8000, GW_TB_OK);
    ROW("voltage above 16 x 5000 mV", 0x21, voltage_raw, 8001, GW_TB_E_RANGE);
#undef ROW
    for (size_t i = 0; i < n; i++) {
        uint8_t info[512];
        size_t len = build_info(&rows[i].spec, info, sizeof(info));
        gw_tb_frame_t f = { .ver = rows[i].ver, .adr = 2, .cid1 = 0x46, .info = info, .info_len = len };
        gw_pack_t p;
        memset(&p, 0x5A, sizeof(p));
        gw_tb_err_t err = gw_tb_decode_analog(&f, &p);
        if (err != rows[i].expect) {
            print_error("row %zu (%s): got %d (%s), expected %d\n", i, rows[i].what, err,
                        gw_tb_strerror(err), rows[i].expect);
            fail();
        }
        if (err != GW_TB_OK) {
            /* a rejected frame leaves the pack exactly as it was */
            gw_pack_t untouched;
            memset(&untouched, 0x5A, sizeof(untouched));
            CHECK_EQ(i, memcmp(&p, &untouched, sizeof(p)), 0);
        }
    }
}

static void test_topband_frame_decode_analog_fields(void **state)
{
    (void)state;
    uint8_t info[256];
    size_t len = build_info(&base_spec, info, sizeof(info));
    gw_tb_frame_t f = { .ver = 0x21, .adr = 2, .cid1 = 0x46, .info = info, .info_len = len };
    gw_pack_t p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(gw_tb_decode_analog(&f, &p), GW_TB_OK);
    assert_int_equal(p.current_ma, -3880);   /* 0xFE7C = -388 x 10 mA */
    assert_int_equal(p.voltage_mv, 52800);
    assert_int_equal(p.remaining_mah, 100000);
    assert_int_equal(p.full_mah, 200000);
    assert_int_equal(p.cycles, 12);
    assert_int_equal(p.soc_pct, 50);
    assert_int_equal(p.soh_pct, 99);
    assert_int_equal(p.temp_dc[0], 250);     /* 2981 - 2731 */
    assert_int_equal(p.cell_temp_count, 3);  /* N 6 - 3 */

    /* any other VER follows the 0x21 rule */
    f.ver = 0x20;
    memset(&p, 0, sizeof(p));
    assert_int_equal(gw_tb_decode_analog(&f, &p), GW_TB_OK);
    assert_int_equal(p.temp_dc[5], 250);
    assert_int_equal(p.cell_temp_count, 3);

    /* VER 0x52: degC + 40, two non-cell sensors */
    info_spec_t s = base_spec;
    s.temp_raw = 35; /* -5 C */
    len = build_info(&s, info, sizeof(info));
    f.ver = 0x52;
    f.info_len = len;
    assert_int_equal(gw_tb_decode_analog(&f, &p), GW_TB_OK);
    assert_int_equal(p.temp_dc[0], -50);
    assert_int_equal(p.cell_temp_count, 4);

    /* fewer sensors than the non-cell ones: no cell sensors, no underflow */
    s.n = 1;
    len = build_info(&s, info, sizeof(info));
    f.info_len = len;
    assert_int_equal(gw_tb_decode_analog(&f, &p), GW_TB_OK);
    assert_int_equal(p.cell_temp_count, 0);
    assert_int_equal(gw_tb_decode_analog(NULL, &p), GW_TB_E_ARG);
    assert_int_equal(gw_tb_decode_analog(&f, NULL), GW_TB_E_ARG);
}

static void test_topband_frame_decode_analog_every_truncation(void **state)
{
    (void)state;
    /* Every INFO shorter than the golden one must be refused, never read past. */
    uint8_t buf[128];
    gw_tb_frame_t f;
    assert_int_equal(gw_tb_parse(u8(FRAME_KEKEMAR), strlen(FRAME_KEKEMAR), buf, sizeof(buf), &f), GW_TB_OK);
    size_t full = f.info_len;
    for (size_t len = 0; len < full; len++) {
        uint8_t copy[128];
        memcpy(copy, buf, len);
        gw_tb_frame_t t = f;
        t.info = len ? copy : NULL;
        t.info_len = len;
        gw_pack_t p;
        memset(&p, 0, sizeof(p));
        gw_tb_err_t err = gw_tb_decode_analog(&t, &p);
        if (err != GW_TB_E_LAYOUT) {
            print_error("info_len %zu: got %d, expected GW_TB_E_LAYOUT\n", len, err);
            fail();
        }
        CHECK_EQ(len, p.cell_count, 0);
    }
}

/* Random single and multiple mutations of the golden frames: no crash, and a
 * mutated frame is never accepted with a wrong checksum. */
static void test_topband_frame_parse_mutation_fuzz(void **state)
{
    (void)state;
    static const char *golden[] = { FRAME_KEKEMAR, FRAME_TV2 };
    uint32_t seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        const char *g = golden[iter & 1];
        size_t len = strlen(g);
        uint8_t frame[256];
        memcpy(frame, g, len);
        int muts = 1 + (int)(iter % 3);
        for (int k = 0; k < muts; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            frame[pos] = (uint8_t)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        size_t cut = len - ((seed >> 8) % 4 == 0 ? (seed >> 12) % len : 0);
        uint8_t buf[128];
        gw_tb_frame_t f;
        gw_tb_err_t err = gw_tb_parse(frame, cut, buf, sizeof(buf), &f);
        if (err == GW_TB_OK) {
            CHECK_EQ(iter, f.chksum_rx, f.chksum_calc);
            gw_pack_t p;
            (void)gw_tb_decode_analog(&f, &p);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topband_frame_build_request_vectors),
        cmocka_unit_test(test_topband_frame_build_request_cap),
        cmocka_unit_test(test_topband_frame_lchksum_vectors),
        cmocka_unit_test(test_topband_frame_chksum_vectors),
        cmocka_unit_test(test_topband_frame_parse_golden),
        cmocka_unit_test(test_topband_frame_parse_lower_case),
        cmocka_unit_test(test_topband_frame_parse_corruption_classes),
        cmocka_unit_test(test_topband_frame_parse_short_and_args),
        cmocka_unit_test(test_topband_frame_parse_cid1),
        cmocka_unit_test(test_topband_frame_parse_fills_out_on_checksum_errors),
        cmocka_unit_test(test_topband_frame_parse_ascii_info),
        cmocka_unit_test(test_topband_frame_check_reply),
        cmocka_unit_test(test_topband_frame_decode_analog_golden),
        cmocka_unit_test(test_topband_frame_decode_analog_limits),
        cmocka_unit_test(test_topband_frame_decode_analog_fields),
        cmocka_unit_test(test_topband_frame_decode_analog_every_truncation),
        cmocka_unit_test(test_topband_frame_parse_mutation_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
