/* SPDX-License-Identifier: MIT */
/* Unit tests for the Victron CAN-BMS encoder: exact bytes, hand-computed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "victron/victron_encode.h"

/* candump compact notation "351#2802E803DC05D001" of one frame. */
static void frame_str(const gw_can_frame_t *f, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%03X#", (unsigned)f->id);
    for (unsigned i = 0; i < f->dlc && i < 8 && n > 0 && (size_t)n < cap; i++) {
        n += snprintf(out + n, cap - (size_t)n, "%02X", f->data[i]);
    }
}

static void expect_frame(int row, const gw_can_frame_t *f, const char *exp)
{
    char got[40];
    frame_str(f, got, sizeof(got));
    if (strcmp(got, exp) != 0) {
        fail_msg("row %d: got %s, expected %s", row, got, exp);
    }
}

/* Find a frame by id in an encoded set. */
static const gw_can_frame_t *by_id(const gw_can_frame_t *f, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (f[i].id == id) {
            return &f[i];
        }
    }
    fail_msg("frame %03X missing", (unsigned)id);
    return NULL;
}

static void ok_limits(gw_limits_t *lim)
{
    memset(lim, 0, sizeof(*lim));
    for (int i = 0; i < GW_AL_COUNT; i++) {
        lim->alarm[i] = GW_PAIR_OK;
        lim->warning[i] = GW_PAIR_OK;
    }
    lim->alarm[GW_AL_HIGH_DISCHARGE_CURRENT] = lim->warning[GW_AL_HIGH_DISCHARGE_CURRENT] = 0;
    lim->alarm[GW_AL_HIGH_CHARGE_CURRENT] = lim->warning[GW_AL_HIGH_CHARGE_CURRENT] = 0;
    lim->alarm[GW_AL_CONTACTOR] = lim->warning[GW_AL_CONTACTOR] = 0;
    lim->alarm[GW_AL_SHORT_CIRCUIT] = lim->warning[GW_AL_SHORT_CIRCUIT] = 0;
}

static void golden_bank(gw_bank_t *b)
{
    memset(b, 0, sizeof(*b));
    b->valid = true;
    b->packs_present = 3;
    b->packs_online = 2;
    b->packs_offline = 1;
    b->min_cell_count = 16;
    b->max_cell_count = 16;
    b->current_ma = -12345;   /* -123.45 dA -> -123 */
    b->voltage_mv = 52345;    /* 5234.5 cV -> 5235 */
    b->full_mah = 200000;
    b->remaining_mah = 134000;
    b->installed_mah = 300000;
    b->soc_pct = 67;
    b->soh_pct = 98;
    b->min_cell_mv = 3201;
    b->max_cell_mv = 3456;
    b->min_cell_pack = 3;
    b->min_cell_index = 5;
    b->max_cell_pack = 12;
    b->max_cell_index = 14;
    b->min_temp_dc = -15;     /* 271.5 K -> 272 */
    b->max_temp_dc = 312;     /* 304.2 K -> 304 */
    b->min_temp_pack = 3;
    b->min_temp_index = 2;
    b->max_temp_pack = 7;
    b->max_temp_index = 0;
    b->avg_temp_dc = -15;
    b->cell_readings = 32;
    b->temp_readings = 8;
}

static void test_victron_limits_example_c3(void **state)
{
    (void)state;
    gw_bank_t b;
    gw_limits_t lim;
    gw_victron_ident_t id;
    gw_can_frame_t f[GW_VIC_FRAME_COUNT];
    golden_bank(&b);
    ok_limits(&lim);
    gw_victron_ident_default(&id);
    lim.cvl_dv = 552;
    lim.ccl_da = 1000;
    lim.dcl_da = 1500;
    lim.dvl_dv = 464;
    assert_int_equal(gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT), GW_VIC_FRAME_COUNT);
    expect_frame(0, &f[0], "351#2802E803DC05D001");
}

/* The whole set in transmit order, every byte computed by hand. */
static void test_victron_full_set_golden(void **state)
{
    (void)state;
    static const char *const expect[GW_VIC_FRAME_COUNT] = {
        "351#30026400D007C001",  /* 56.0 V, 10.0 A, 200.0 A, 44.8 V */
        "355#430062002C1A0000",  /* 67 %, 98 %, 6700 = 67.00 % */
        "356#731485FFF1FF0000",  /* 52.35 V, -12.3 A, -1.5 degC */
        "35A#A62A8002A62A8001",  /* HV alarm; HV + imbalance warnings */
        "35C#C000000000000000",
        "35E#424D5342454E4348",  /* BMSBENCH */
        "35F#00000001C8000000",  /* type 0, fw 0.1, 200 Ah online */
        "370#626D7362656E6368",  /* bmsbench */
        "371#2D67770000000000",  /* -gw */
        "372#0200010000000100",  /* 2 online, 1 blocking charge, 0, 1 offline */
        "373#810C800D10013001",  /* 3201 mV, 3456 mV, 272 K, 304 K */
        "374#5030334330360000",  /* P03C06 */
        "375#5031324331350000",  /* P12C15 */
        "376#5030335430330000",  /* P03T03 */
        "377#5030375430310000",  /* P07T01 */
        "379#2C01000000000000",  /* 300 Ah installed */
        "382#544F5042414E4400",  /* TOPBAND */
    };
    gw_bank_t b;
    gw_limits_t lim;
    gw_victron_ident_t id;
    gw_can_frame_t f[GW_VIC_FRAME_COUNT + 2];
    golden_bank(&b);
    ok_limits(&lim);
    gw_victron_ident_default(&id);
    lim.cvl_dv = 560;
    lim.ccl_da = 100;
    lim.dcl_da = 2000;
    lim.dvl_dv = 448;
    lim.alarm[GW_AL_HIGH_VOLTAGE] = GW_PAIR_ACTIVE;
    lim.warning[GW_AL_HIGH_VOLTAGE] = GW_PAIR_ACTIVE;
    lim.warning[GW_AL_CELL_IMBALANCE] = GW_PAIR_ACTIVE;
    lim.packs_blocking_charge = 1;
    memset(f, 0xEE, sizeof(f));
    size_t n = gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT + 2);
    assert_int_equal(n, GW_VIC_FRAME_COUNT);
    for (size_t i = 0; i < n; i++) {
        if (f[i].dlc != 8) {
            fail_msg("row %zu: dlc %u", i, f[i].dlc);
        }
        expect_frame((int)i, &f[i], expect[i]);
    }
    /* Nothing written past the set. */
    assert_int_equal(f[GW_VIC_FRAME_COUNT].dlc, 0xEE);
}

/* Values too big or too small for their field saturate, never wrap. */
static void test_victron_clamps_every_field(void **state)
{
    (void)state;
    static const struct {
        int32_t current_ma;
        uint32_t voltage_mv;
        uint16_t ccl_da, dcl_da;
        int16_t min_dc, max_dc;
        uint32_t full_mah;
        uint8_t pack, index;
        uint32_t id;
        const char *expect;
    } rows[] = {
        {0, 0, 40000, 32768, 0, 0, 0, 0, 0, 0x351, "351#0000FF7FFF7F0000"},
        {5000000, 400000, 0, 0, 0, 0, 0, 0, 0, 0x356, "356#FF7FFF7F00000000"},
        {INT32_MIN, 0, 0, 0, 0, 0, 0, 0, 0, 0x356, "356#0000008000000000"},
        {-50, 0, 0, 0, 0, 0, 0, 0, 0, 0x356, "356#0000FFFF00000000"},   /* -0.5 dA -> -1 */
        {0, 0, 0, 0, -32768, 32767, 0, 0, 0, 0x373, "373#000000000000DE0D"}, /* 0 K, 3550 K */
        {0, 0, 0, 0, -2735, -2725, 0, 0, 0, 0x373, "373#0000000000000100"},  /* -0.5 K -> 0, 0.5 K -> 1 */
        {0, 0, 0, 0, 0, 0, 70000000, 0, 0, 0x35F, "35F#00000001FFFF0000"},
        {0, 0, 0, 0, 0, 0, 0, 255, 255, 0x374, "374#5032353543323536"},  /* P255C256 */
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0x374, "374#5030304330310000"},      /* P00C01 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_bank_t b;
        gw_limits_t lim;
        gw_victron_ident_t id;
        gw_can_frame_t f[GW_VIC_FRAME_COUNT];
        golden_bank(&b);
        ok_limits(&lim);
        gw_victron_ident_default(&id);
        b.current_ma = rows[i].current_ma;
        b.voltage_mv = rows[i].voltage_mv;
        b.avg_temp_dc = 0;
        b.min_temp_dc = rows[i].min_dc;
        b.max_temp_dc = rows[i].max_dc;
        b.min_cell_mv = 0;
        b.max_cell_mv = 0;
        b.full_mah = rows[i].full_mah;
        b.min_cell_pack = rows[i].pack;
        b.min_cell_index = rows[i].index;
        lim.ccl_da = rows[i].ccl_da;
        lim.dcl_da = rows[i].dcl_da;
        assert_int_equal(gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT),
                         GW_VIC_FRAME_COUNT);
        expect_frame((int)i, by_id(f, GW_VIC_FRAME_COUNT, rows[i].id), rows[i].expect);
    }
}

/* Pair values: 1 active, 2 OK, 0 unsupported; a reserved 3 (or junk) is
 * never put on the wire. */
static void test_victron_alarm_pairs(void **state)
{
    (void)state;
    static const struct {
        uint8_t general, hv, lv, ht;
        const char *expect;
    } rows[] = {
        {2, 2, 2, 2, "35A#AA2A8002AA2A8002"},
        {2, 1, 2, 2, "35A#A62A8002AA2A8002"},  /* high voltage alarm, others OK: 0xA6 */
        {1, 2, 2, 2, "35A#A92A8002AA2A8002"},
        {2, 2, 1, 1, "35A#5A2A8002AA2A8002"},
        {3, 2, 2, 0xFF, "35A#282A8002AA2A8002"}, /* reserved/junk -> 0 */
        {0, 0, 0, 0, "35A#002A8002AA2A8002"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_bank_t b;
        gw_limits_t lim;
        gw_victron_ident_t id;
        gw_can_frame_t f[GW_VIC_FRAME_COUNT];
        golden_bank(&b);
        ok_limits(&lim);
        gw_victron_ident_default(&id);
        lim.alarm[GW_AL_GENERAL] = rows[i].general;
        lim.alarm[GW_AL_HIGH_VOLTAGE] = rows[i].hv;
        lim.alarm[GW_AL_LOW_VOLTAGE] = rows[i].lv;
        lim.alarm[GW_AL_HIGH_TEMP] = rows[i].ht;
        gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT);
        expect_frame((int)i, &f[3], rows[i].expect);
    }
}

static void test_victron_request_flags_follow_limits(void **state)
{
    (void)state;
    static const struct {
        uint16_t ccl, dcl;
        const char *expect;
    } rows[] = {
        {0, 0, "35C#0000000000000000"},
        {1, 0, "35C#8000000000000000"},
        {0, 1, "35C#4000000000000000"},
        {500, 1000, "35C#C000000000000000"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_bank_t b;
        gw_limits_t lim;
        gw_victron_ident_t id;
        gw_can_frame_t f[GW_VIC_FRAME_COUNT];
        golden_bank(&b);
        ok_limits(&lim);
        gw_victron_ident_default(&id);
        lim.ccl_da = rows[i].ccl;
        lim.dcl_da = rows[i].dcl;
        gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT);
        expect_frame((int)i, &f[4], rows[i].expect);
    }
}

/* Strings: NUL padded, at most 8 characters, never read past the field. */
static void test_victron_text_fields(void **state)
{
    (void)state;
    gw_bank_t b;
    gw_limits_t lim;
    gw_victron_ident_t id;
    gw_can_frame_t f[GW_VIC_FRAME_COUNT];
    golden_bank(&b);
    ok_limits(&lim);

    memset(&id, 'Z', sizeof(id));      /* no terminator anywhere in the text fields */
    id.battery_type = 0x694C;
    id.fw_major = 1;
    id.fw_minor = 23;
    gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT);
    expect_frame(0, &f[5], "35E#5A5A5A5A5A5A5A5A");
    expect_frame(1, &f[6], "35F#4C690117C8000000");
    expect_frame(2, &f[7], "370#5A5A5A5A5A5A5A5A");
    expect_frame(3, &f[8], "371#5A5A5A5A5A5A5A5A");
    expect_frame(4, &f[16], "382#5A5A5A5A5A5A5A5A");

    memset(&id, 0, sizeof(id));
    memcpy(id.manufacturer, "AB", 2);
    memcpy(id.bms_name, "12345678", 8); /* exactly 8: 0x371 stays empty */
    id.bms_name[9] = 'X';               /* garbage after the NUL is not sent */
    gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT);
    expect_frame(5, &f[5], "35E#4142000000000000");
    expect_frame(6, &f[7], "370#3132333435363738");
    expect_frame(7, &f[8], "371#0000000000000000");
    expect_frame(8, &f[16], "382#0000000000000000");
}

static void test_victron_invalid_bank_has_no_ids(void **state)
{
    (void)state;
    gw_bank_t b;
    gw_limits_t lim;
    gw_victron_ident_t id;
    gw_can_frame_t f[GW_VIC_FRAME_COUNT];
    memset(&b, 0, sizeof(b));
    ok_limits(&lim);
    lim.cvl_dv = 560;
    lim.dvl_dv = 448;
    gw_victron_ident_default(&id);
    /* No cell readings: 0x373..0x377 are left out rather than sent as zeros. */
    assert_int_equal(gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT),
                     GW_VIC_FRAME_COUNT_NO_CELLS);
    expect_frame(0, &f[0], "351#300200000000C001");
    expect_frame(4, &f[4], "35C#0000000000000000");
    for (size_t i = 0; i < GW_VIC_FRAME_COUNT_NO_CELLS; i++) {
        if (f[i].id >= 0x373 && f[i].id <= 0x377) {
            fail_msg("row %zu: cell frame %03X sent without cell readings", i, (unsigned)f[i].id);
        }
    }
    assert_int_equal(f[10].id, 0x379);
    assert_int_equal(f[11].id, 0x382);
}

static void test_victron_small_buffer_returns_zero(void **state)
{
    (void)state;
    gw_bank_t b;
    gw_limits_t lim;
    gw_victron_ident_t id;
    gw_can_frame_t f[GW_VIC_FRAME_COUNT];
    golden_bank(&b);
    ok_limits(&lim);
    gw_victron_ident_default(&id);
    memset(f, 0xEE, sizeof(f));
    assert_int_equal(gw_victron_encode(&b, &lim, &id, f, GW_VIC_FRAME_COUNT - 1), 0);
    assert_int_equal(f[0].dlc, 0xEE); /* untouched */
    assert_int_equal(gw_victron_encode(&b, &lim, &id, NULL, 100), 0);
}

/* 0x359 (Pylon V1.2, A.4): protection/alarm bits follow the 0x35A pairs. */
static void test_victron_359_from_pairs(void **state)
{
    (void)state;
    static const struct {
        int id;
        bool warning;
        const char *expect;
    } rows[] = {
        {-1, false, "359#0000000003504E00"},
        {GW_AL_HIGH_VOLTAGE, false, "359#0200000003504E00"},
        {GW_AL_LOW_VOLTAGE, false, "359#0400000003504E00"},
        {GW_AL_HIGH_TEMP, false, "359#0800000003504E00"},
        {GW_AL_HIGH_TEMP_CHARGE, false, "359#0800000003504E00"},
        {GW_AL_LOW_TEMP, false, "359#1000000003504E00"},
        {GW_AL_LOW_TEMP_CHARGE, false, "359#1000000003504E00"},
        {GW_AL_HIGH_DISCHARGE_CURRENT, false, "359#8000000003504E00"},
        {GW_AL_HIGH_CHARGE_CURRENT, false, "359#0001000003504E00"},
        {GW_AL_BMS_INTERNAL, false, "359#0008000003504E00"},
        {GW_AL_CELL_IMBALANCE, false, "359#0000000003504E00"},
        {GW_AL_HIGH_VOLTAGE, true, "359#0000020003504E00"},
        {GW_AL_HIGH_CHARGE_CURRENT, true, "359#0000000103504E00"},
        {GW_AL_BMS_INTERNAL, true, "359#0000000803504E00"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_limits_t lim;
        memset(&lim, 0, sizeof(lim));
        for (int k = 0; k < GW_AL_COUNT; k++) {
            lim.alarm[k] = lim.warning[k] = GW_PAIR_OK;
        }
        if (rows[i].id >= 0) {
            (rows[i].warning ? lim.warning : lim.alarm)[rows[i].id] = GW_PAIR_ACTIVE;
        }
        gw_can_frame_t f;
        gw_victron_encode_359(&lim, 3, &f);
        expect_frame((int)i, &f, rows[i].expect);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_victron_limits_example_c3),
        cmocka_unit_test(test_victron_full_set_golden),
        cmocka_unit_test(test_victron_clamps_every_field),
        cmocka_unit_test(test_victron_alarm_pairs),
        cmocka_unit_test(test_victron_request_flags_follow_limits),
        cmocka_unit_test(test_victron_text_fields),
        cmocka_unit_test(test_victron_invalid_bank_has_no_ids),
        cmocka_unit_test(test_victron_small_buffer_returns_zero),
        cmocka_unit_test(test_victron_359_from_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
