/* SPDX-License-Identifier: MIT */
/* Unit tests for the device-side Topband codec against the vectors of topband.md. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/topband/emu_topband_codec.h"

/* ---- 0x42 golden vectors: values in, real captured frame out ---------------- */

typedef struct analog_vector {
    const char *name;
    emu_tb_family_t fam;
    uint8_t adr, echo;
    emu_tb_analog_t a;
    const char *frame; /* without the CR, which is checked separately */
} analog_vector_t;

static const analog_vector_t analog_vectors[] = {
    {
        /* topband.md §1.6 / §2.1.1: kekemar, TOPBMS BMS12S-16S, 16 cells, ADR 1. */
        "kekemar TOPBMS 16s",
        EMU_TB_TOPBMS, 1, 1,
        {
            .ncells = 16,
            .cell_mv = {3346, 3349, 3343, 3341, 3347, 3350, 3349, 3361, 3347, 3347, 3347, 3347,
                        3344, 3350, 3351, 3363},
            .ntemps = 6,
            .temp_c = {21, 22, 22, 22, 19, 19},
            .current_a = 3.84, .voltage_v = 53.58, .remaining_ah = 132.35, .full_ah = 150.0,
            .cycles = 2, .soc_pct = 88, .soh_pct = 100, .balancing = 0,
        },
        "~52014600408401100D120D150D0F0D0D0D130D160D150D210D130D130D130D130D100D160D170D23"
        "06003D003E003E003E003B003B018014EE33B3063A9800025864000000000000E20A",
    },
    {
        /* topband.md §7 TV2: swingstate capture, EET 15 cells, ADR 1. */
        "swingstate TV2 EET 15s",
        EMU_TB_EET, 1, 1,
        {
            .ncells = 15,
            .cell_mv = {3357, 3356, 3358, 3353, 3357, 3352, 3352, 3363, 3354, 3354, 3363, 3353,
                        3359, 3353, 3356},
            .ntemps = 7,
            .temp_c = {21.0, 20.8, 20.7, 21.2, 23.3, 21.5, 22.5},
            .current_a = 4.36, .voltage_v = 50.33, .remaining_ah = 30.0, .full_ah = 30.0,
            .cycles = 6, .soc_pct = 100, .soh_pct = 100, .balancing = 0,
        },
        "~21014600D07C010F0D1D0D1C0D1E0D190D1D0D180D180D230D1A0D1A0D230D190D1F0D190D1C07"
        "0B7D0B7B0B7A0B7F0B940B820B8C01B413A90BB8040BB8000664640000E259",
    },
};

static void test_emu_topband_codec_analog_golden(void **state)
{
    (void)state;
    for (size_t row = 0; row < sizeof(analog_vectors) / sizeof(analog_vectors[0]); row++) {
        const analog_vector_t *v = &analog_vectors[row];
        uint8_t info[256];
        uint8_t out[EMU_TB_MAX_REPLY + 1];
        size_t info_len = emu_tb_analog_info(&v->a, v->fam, v->echo, info, sizeof(info));
        size_t n = emu_tb_encode_reply(emu_tb_family_ver(v->fam), v->adr, EMU_TB_RTN_OK, info,
                                       info_len, out, sizeof(out) - 1);
        size_t want = strlen(v->frame);
        if (n != want + 1 || out[n - 1] != '\r' || memcmp(out, v->frame, want) != 0) {
            out[n < sizeof(out) ? n : sizeof(out) - 1] = '\0';
            fail_msg("row %zu (%s): got %zu chars\n  %s\nwant %zu chars\n  %s", row, v->name, n,
                     (const char *)out, want + 1, v->frame);
        }
    }
}

/* A buffer one byte too small must give 0, never a partial INFO. */
static void test_emu_topband_codec_analog_cap_too_small(void **state)
{
    (void)state;
    const analog_vector_t *v = &analog_vectors[0];
    uint8_t info[256];
    size_t full = emu_tb_analog_info(&v->a, v->fam, v->echo, info, sizeof(info));
    assert_int_equal(full, 66); /* LENID 0x84 / 2 */
    assert_int_equal(emu_tb_analog_info(&v->a, v->fam, v->echo, info, full - 1), 0);
    emu_tb_analog_t bad = v->a;
    bad.ncells = 33;
    assert_int_equal(emu_tb_analog_info(&bad, v->fam, v->echo, info, sizeof(info)), 0);
    uint8_t out[40];
    assert_int_equal(emu_tb_encode_reply(0x21, 1, 0, info, full, out, sizeof(out)), 0);
}

/* ---- generic reply framing: captured frames re-encoded from their own INFO ---- */

typedef struct frame_vector {
    uint8_t ver, adr, rtn;
    const char *frame;
} frame_vector_t;

static const frame_vector_t frame_vectors[] = {
    /* §7 TV4: 0x4D clock reply. */
    {0x21, 0x03, 0x00, "~21034600200E07EA02190D180BFA91"},
    /* §7 TV5: 0x4E reply, empty INFO (LENGTH 0000). */
    {0x21, 0x03, 0x00, "~210346000000FDB0"},
    /* §7 TV6: 0x4B history replies, LENGTH 0088 (LCHKSUM 0). */
    {0x21, 0x00, 0x00,
     "~210046000088000007E70C150A1F04610600000000000019000012C0079E0BA50BA50BA50BA50B55"
     "0B4B0C800C800C800C800C800C800C810C800C800C800C800C800C7F0C7F0C800000E0C5"},
    {0x21, 0x00, 0x00,
     "~210046000088000107E70C150A1F0A010600000000000019032012C0079E0BA50BA50BA50BA50B55"
     "0B4B0C800C7F0C800C800C810C800C810C800C800C800C800C800C7F0C7F0C800000E0A2"},
};

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

static void test_emu_topband_codec_reply_framing_golden(void **state)
{
    (void)state;
    for (size_t row = 0; row < sizeof(frame_vectors) / sizeof(frame_vectors[0]); row++) {
        const frame_vector_t *v = &frame_vectors[row];
        size_t want = strlen(v->frame);
        /* INFO is everything between the 13-char header and the 4-char CHKSUM. */
        uint8_t info[128];
        size_t info_len = (want - 17) / 2;
        for (size_t i = 0; i < info_len; i++) {
            info[i] = (uint8_t)(hexval(v->frame[13 + 2 * i]) * 16 + hexval(v->frame[14 + 2 * i]));
        }
        uint8_t out[EMU_TB_MAX_REPLY + 1];
        size_t n = emu_tb_encode_reply(v->ver, v->adr, v->rtn, info, info_len, out, sizeof(out) - 1);
        if (n != want + 1 || memcmp(out, v->frame, want) != 0 || out[want] != '\r') {
            out[n < sizeof(out) ? n : sizeof(out) - 1] = '\0';
            fail_msg("row %zu: got\n  %s\nwant\n  %s", row, (const char *)out, v->frame);
        }
    }
}

/* ---- LCHKSUM / CHKSUM rules (§1.3, §1.4) ------------------------------------ */

static void test_emu_topband_codec_lchksum_table(void **state)
{
    (void)state;
    static const struct { uint16_t lenid; uint8_t lchk; } rows[] = {
        {0x002, 0xE}, {0x012, 0xD}, {0x07C, 0xD}, {0x084, 0x4}, {0x088, 0x0}, {0x000, 0x0},
        {0x040, 0xC}, {0x080, 0x8}, {0xFFF, 0x3},
    };
    for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
        uint8_t got = emu_tb_lchksum(rows[row].lenid);
        if (got != rows[row].lchk) {
            fail_msg("row %zu: LENID 0x%03X: got %X want %X", row, rows[row].lenid, got,
                     rows[row].lchk);
        }
    }
}

static void test_emu_topband_codec_chksum_doc_example(void **state)
{
    (void)state;
    /* §1.4: the Doc v1.7 example's characters sum to 0x038F → 0xFC71 (the doc's
     * printed FC72 is its own typo). §1.5: the 0x42 poll → FD34. */
    const char *doc = "1203400456ABCEFE";
    assert_int_equal(emu_tb_chksum((const uint8_t *)doc, strlen(doc)), 0xFC71);
    const char *poll = "21014642E00201";
    assert_int_equal(emu_tb_chksum((const uint8_t *)poll, strlen(poll)), 0xFD34);
    assert_int_equal(emu_tb_chksum((const uint8_t *)poll, 0), 0x0000);
}

/* ---- request decoding --------------------------------------------------------- */

typedef struct request_vector {
    const char *frame;
    int rtn;
    uint8_t adr, cid2;
    size_t info_len;
    uint8_t info0;
} request_vector_t;

static const request_vector_t request_vectors[] = {
    /* §7 computed request vectors. */
    {"~21004642E00200FD36\r", EMU_TB_RTN_OK, 0, 0x42, 1, 0x00},
    {"~21014642E00201FD34\r", EMU_TB_RTN_OK, 1, 0x42, 1, 0x01},
    {"~210046420000FDAD\r", EMU_TB_RTN_OK, 0, 0x42, 0, 0},
    {"~210146420000FDAC\r", EMU_TB_RTN_OK, 1, 0x42, 0, 0},
    {"~21004644E00200FD34\r", EMU_TB_RTN_OK, 0, 0x44, 1, 0x00},
    {"~21014644E00201FD32\r", EMU_TB_RTN_OK, 1, 0x44, 1, 0x01},
    {"~210046440000FDAB\r", EMU_TB_RTN_OK, 0, 0x44, 0, 0},
    {"~210146440000FDAA\r", EMU_TB_RTN_OK, 1, 0x44, 0, 0},
    {"~210046470000FDA8\r", EMU_TB_RTN_OK, 0, 0x47, 0, 0},
    {"~210146470000FDA7\r", EMU_TB_RTN_OK, 1, 0x47, 0, 0},
    {"~2100464F0000FD99\r", EMU_TB_RTN_OK, 0, 0x4F, 0, 0},
    {"~2101464F0000FD98\r", EMU_TB_RTN_OK, 1, 0x4F, 0, 0},
    {"~210046510000FDAD\r", EMU_TB_RTN_OK, 0, 0x51, 0, 0},
    {"~210146510000FDAC\r", EMU_TB_RTN_OK, 1, 0x51, 0, 0},
    {"~21014642E002FFFD09\r", EMU_TB_RTN_OK, 1, 0x42, 1, 0xFF},
    /* §4: atomi23 poll strings for the addresses with letters, and LF as EOI (linedot). */
    {"~210A4642E0020AFD14\r", EMU_TB_RTN_OK, 10, 0x42, 1, 0x0A},
    {"~210F4642E0020FFD0A\n", EMU_TB_RTN_OK, 15, 0x42, 1, 0x0F},
    {"~21014642E00201FD34", EMU_TB_RTN_OK, 1, 0x42, 1, 0x01}, /* no EOI */
    /* Lower-case hex, checksum over the characters as sent. */
    {"~21014642e00201fd14\r", EMU_TB_RTN_OK, 1, 0x42, 1, 0x01},
    /* 0x4D is real (TV4) but not emulated: CID2 invalid. */
    {"~2101464D0000FD9A\r", EMU_TB_RTN_CID2, 1, 0x4D, 0, 0},
    /* Errors, each with the address still readable. */
    {"~21014642E00201FD35\r", EMU_TB_RTN_CHKSUM, 1, 0, 0, 0},
    {"~21014642E00201FD3\r", EMU_TB_RTN_CHKSUM, 1, 0, 0, 0},
    {"~2101\r", EMU_TB_RTN_CHKSUM, 1, 0, 0, 0},
    {"~21014642F00201FD33\r", EMU_TB_RTN_LCHKSUM, 1, 0, 0, 0},
    {"~20014642E00201FD35\r", EMU_TB_RTN_VER, 1, 0, 0, 0}, /* Pylontech poll, §6 */
    {"~21014647E00201FD2F\r", EMU_TB_RTN_FORMAT, 1, 0x47, 0, 0},
    {"~21014642C0040102FCD2\r", EMU_TB_RTN_FORMAT, 1, 0x42, 0, 0},
    {"~21014642F00101FD34\r", EMU_TB_RTN_FORMAT, 1, 0x42, 0, 0},
    {"~21014642E002FD95\r", EMU_TB_RTN_FORMAT, 1, 0x42, 0, 0},
    {"~21014642E0020GFD1E\r", EMU_TB_RTN_FORMAT, 1, 0x42, 0, 0},
    {"~21104642E00210FD34\r", EMU_TB_RTN_OK, 0x10, 0x42, 1, 0x10},
    /* Too broken to read an address: no reply at all. */
    {"~2\r", -1, 0, 0, 0, 0},
    {"~\r", -1, 0, 0, 0, 0},
    {"~2G014642E00201FD34\r", -1, 0, 0, 0, 0},
    {"21014642E00201FD34\r", -1, 0, 0, 0, 0},
};

static void test_emu_topband_codec_decode_vectors(void **state)
{
    (void)state;
    for (size_t row = 0; row < sizeof(request_vectors) / sizeof(request_vectors[0]); row++) {
        const request_vector_t *v = &request_vectors[row];
        emu_tb_request_t req;
        int rc = emu_tb_decode_request((const uint8_t *)v->frame, strlen(v->frame), &req);
        if (rc != v->rtn) {
            fail_msg("row %zu (%s): rtn %d want %d", row, v->frame, rc, v->rtn);
        }
        if (rc < 0) {
            continue;
        }
        if (req.adr != v->adr) {
            fail_msg("row %zu (%s): adr %u want %u", row, v->frame, req.adr, v->adr);
        }
        if (v->cid2 != 0 && req.cid2 != v->cid2) {
            fail_msg("row %zu (%s): cid2 0x%02X want 0x%02X", row, v->frame, req.cid2, v->cid2);
        }
        if (rc == EMU_TB_RTN_OK &&
            (req.info_len != v->info_len || (v->info_len > 0 && req.info[0] != v->info0))) {
            fail_msg("row %zu (%s): info_len %zu info0 0x%02X want %zu 0x%02X", row, v->frame,
                     req.info_len, req.info[0], v->info_len, v->info0);
        }
    }
}

/* Every prefix and every single-byte corruption of a valid request must decode
 * without crashing and never report OK for a corrupted frame. */
static void test_emu_topband_codec_decode_mutations(void **state)
{
    (void)state;
    const char *good = "~21014642E00201FD34\r";
    size_t len = strlen(good);
    emu_tb_request_t req;
    for (size_t cut = 0; cut < len; cut++) {
        int rc = emu_tb_decode_request((const uint8_t *)good, cut, &req);
        if (cut < len - 1 && rc == EMU_TB_RTN_OK) {
            fail_msg("prefix %zu decoded as OK", cut);
        }
    }
    uint8_t buf[32];
    for (size_t pos = 1; pos < len - 1; pos++) {
        for (unsigned x = 1; x < 256; x <<= 1) {
            memcpy(buf, good, len);
            buf[pos] ^= (uint8_t)x;
            /* Inside the CHKSUM field, 'D' <-> 'd' is the same value (either
             * case is accepted); anywhere else the case changes the sum. */
            bool case_twin = pos >= len - 5 && x == 0x20 && good[pos] >= 'A';
            int rc = emu_tb_decode_request(buf, len, &req);
            if (rc == EMU_TB_RTN_OK && !case_twin) {
                fail_msg("pos %zu xor 0x%02X decoded as OK", pos, x);
            }
        }
    }
}

/* ---- 0x44, 0x47, 0x51 builders ----------------------------------------------- */

static emu_tb_analog_t normal_pack(void)
{
    emu_tb_analog_t a;
    memset(&a, 0, sizeof(a));
    a.ncells = 16;
    for (size_t i = 0; i < 16; i++) {
        a.cell_mv[i] = 3300;
    }
    a.ntemps = 7;
    for (size_t i = 0; i < 7; i++) {
        a.temp_c[i] = 25.0;
    }
    a.voltage_v = 52.80;
    a.full_ah = 100.0;
    a.remaining_ah = 50.0;
    a.soc_pct = 50;
    a.soh_pct = 100;
    a.charge_fet = true;
    a.discharge_fet = true;
    return a;
}

static void test_emu_topband_codec_alarm_eet_layout(void **state)
{
    (void)state;
    emu_tb_analog_t a = normal_pack();
    a.cell_mv[2] = 3700;   /* cell 3 over 3.65 V, charge FET opened for it */
    a.cell_mv[5] = 2400;   /* cell 6 under 2.5 V, discharge FET still closed */
    a.temp_c[6] = 55.0;    /* MOSFET hot */
    a.temp_c[0] = -1.0;    /* cell sensor 1 cold */
    a.charge_fet = false;
    a.current_a = -10.0;
    uint8_t info[128];
    size_t n = emu_tb_alarm_info(&a, EMU_TB_EET, 0x01, info, sizeof(info));
    /* echo, M, 16 cells, N, 7 temps, current, voltage, S, 8 status bytes */
    assert_int_equal(n, 1 + 1 + 16 + 1 + 7 + 1 + 1 + 1 + 8);
    assert_int_equal(info[0], 0x01);
    assert_int_equal(info[1], 16);
    assert_int_equal(info[2 + 2], 0x02);
    assert_int_equal(info[2 + 5], 0x01);
    assert_int_equal(info[2 + 0], 0x00);
    assert_int_equal(info[18], 7);
    assert_int_equal(info[19 + 0], 0x01);
    assert_int_equal(info[19 + 6], 0x02);
    assert_int_equal(info[19 + 1], 0x00);
    assert_int_equal(info[26], 0x00); /* current within limits */
    assert_int_equal(info[27], 0x00); /* pack voltage within limits */
    assert_int_equal(info[28], 8);
    const uint8_t *s = &info[29];
    assert_int_equal(s[0], 0x01 | 0x02 | 0x08); /* OV protect, UV alarm, OV alarm */
    assert_int_equal(s[1], 0x04);               /* discharge FET on only; no UV protect */
    assert_int_equal(s[2], 0x40);               /* discharging */
    for (size_t i = 3; i < 8; i++) {
        assert_int_equal(s[i], 0);
    }
}

static void test_emu_topband_codec_alarm_topbms_layout(void **state)
{
    (void)state;
    emu_tb_analog_t a = normal_pack();
    a.ntemps = 6;
    a.cell_mv[0] = 2300;
    a.discharge_fet = false; /* opened because of the low cell */
    a.current_a = 20.0;
    uint8_t info[128];
    size_t n = emu_tb_alarm_info(&a, EMU_TB_TOPBMS, 0x02, info, sizeof(info));
    /* echo, M, 16, N, 6, current, voltage, short-circuit word, count, 15, 2 reserved */
    assert_int_equal(n, 1 + 1 + 16 + 1 + 6 + 1 + 1 + 2 + 1 + 15 + 2);
    assert_int_equal(info[0], 0x02);
    assert_int_equal(info[2], 0x01);
    size_t at = 2 + 16 + 1 + 6 + 2;
    assert_int_equal(info[at], 0);
    assert_int_equal(info[at + 1], 0);
    assert_int_equal(info[at + 2], 15);
    const uint8_t *s = &info[at + 3];
    assert_int_equal(s[0], 0x02);        /* status 1: cell UV alarm */
    assert_int_equal(s[1], 0x02);        /* status 2: cell UV protection */
    assert_int_equal(s[4], 0x40);        /* status 5: charging current present */
    assert_int_equal(s[5], 0x02);        /* status 6: CFET on, DFET off */
    assert_int_equal(info[n - 1], 0);
    assert_int_equal(emu_tb_alarm_info(&a, EMU_TB_TOPBMS, 0x02, info, n - 1), 0);
}

static void test_emu_topband_codec_alarm_charge_overcurrent(void **state)
{
    (void)state;
    emu_tb_analog_t a = normal_pack();
    a.current_a = 50.5; /* above 0.5 C of 100 Ah */
    a.voltage_v = 60.0; /* above 16 x 3.65 V */
    uint8_t info[128];
    size_t n = emu_tb_alarm_info(&a, EMU_TB_EET, 0x00, info, sizeof(info));
    assert_int_equal(n, 37);
    assert_int_equal(info[26], 0x02);
    assert_int_equal(info[27], 0x02);
    assert_int_equal(info[29 + 2], 0x80); /* charging */
}

static void test_emu_topband_codec_params_words(void **state)
{
    (void)state;
    emu_tb_analog_t a = normal_pack();
    a.ncells = 15;
    a.full_ah = 100.0;
    uint8_t info[32];
    assert_int_equal(emu_tb_params_info(&a, info, sizeof(info)), 24);
    static const uint16_t want[12] = {3650, 2500, 2400, 3181, 2731, 5000,
                                      5475, 3750, 3600, 3331, 2531, 10000};
    for (size_t row = 0; row < 12; row++) {
        uint16_t got = (uint16_t)(info[2 * row] << 8 | info[2 * row + 1]);
        if (got != want[row]) {
            fail_msg("word %zu: got %u want %u", row, got, want[row]);
        }
    }
    assert_int_equal(emu_tb_params_info(&a, info, 23), 0);
}

static void test_emu_topband_codec_manufacturer_ascii(void **state)
{
    (void)state;
    char text[64];
    assert_int_equal(emu_tb_manufacturer_info(EMU_TB_EET, 7, text, sizeof(text)), 64);
    assert_memory_equal(text + 24 + 24, "07", 2);
    uint8_t out[128];
    size_t n = emu_tb_encode_reply_ascii(0x21, 7, 0, text, 64, out, sizeof(out));
    assert_int_equal(n, 18 + 64);
    assert_memory_equal(out, "~21074600C040", 13);
    /* INFO is raw: the first hardware-version characters appear as is. */
    assert_memory_equal(out + 13, text, 64);
    assert_int_equal(emu_tb_chksum(out + 1, 12 + 64),
                     (uint16_t)(hexval((char)out[77]) << 12 | hexval((char)out[78]) << 8 |
                                hexval((char)out[79]) << 4 | hexval((char)out[80])));
    assert_int_equal(emu_tb_manufacturer_info(EMU_TB_EET, 7, text, 63), 0);
}

static void test_emu_topband_codec_temp_raw(void **state)
{
    (void)state;
    static const struct { double c; emu_tb_family_t fam; uint16_t raw; } rows[] = {
        {21.3, EMU_TB_EET, 2944}, {0.0, EMU_TB_EET, 2731}, {-20.0, EMU_TB_EET, 2531},
        {-300.0, EMU_TB_EET, 0},  {21.0, EMU_TB_TOPBMS, 61}, {20.4, EMU_TB_TOPBMS, 60},
        {-40.0, EMU_TB_TOPBMS, 0}, {-41.0, EMU_TB_TOPBMS, 0},
    };
    for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
        uint16_t got = emu_tb_temp_raw(rows[row].c, rows[row].fam);
        if (got != rows[row].raw) {
            fail_msg("row %zu: %.1f degC -> %u want %u", row, rows[row].c, got, rows[row].raw);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_topband_codec_analog_golden),
        cmocka_unit_test(test_emu_topband_codec_analog_cap_too_small),
        cmocka_unit_test(test_emu_topband_codec_reply_framing_golden),
        cmocka_unit_test(test_emu_topband_codec_lchksum_table),
        cmocka_unit_test(test_emu_topband_codec_chksum_doc_example),
        cmocka_unit_test(test_emu_topband_codec_decode_vectors),
        cmocka_unit_test(test_emu_topband_codec_decode_mutations),
        cmocka_unit_test(test_emu_topband_codec_alarm_eet_layout),
        cmocka_unit_test(test_emu_topband_codec_alarm_topbms_layout),
        cmocka_unit_test(test_emu_topband_codec_alarm_charge_overcurrent),
        cmocka_unit_test(test_emu_topband_codec_params_words),
        cmocka_unit_test(test_emu_topband_codec_manufacturer_ascii),
        cmocka_unit_test(test_emu_topband_codec_temp_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
