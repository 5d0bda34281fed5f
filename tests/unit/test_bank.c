/* SPDX-License-Identifier: MIT */
/* Unit tests for bank aggregation (firmware/core/bank). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bank/bank.h"

#define EQ(row, what, got, exp)                                                              \
    do {                                                                                     \
        long long g_ = (long long)(got), e_ = (long long)(exp);                              \
        if (g_ != e_) {                                                                      \
            fail_msg("row %d: %s = %lld, expected %lld", (int)(row), what, g_, e_);         \
        }                                                                                    \
    } while (0)

/* A healthy 16-cell pack at 3300 mV, 4 cell sensors at 25.0 degC. */
static void make_pack(gw_pack_t *p, uint8_t addr)
{
    memset(p, 0, sizeof(*p));
    p->present = true;
    p->online = true;
    p->address = addr;
    p->cell_count = 16;
    for (int i = 0; i < 16; i++) {
        p->cell_mv[i] = 3300;
    }
    p->temp_count = 6;
    p->cell_temp_count = 4;
    for (int i = 0; i < 6; i++) {
        p->temp_dc[i] = 250;
    }
    p->voltage_mv = 52800;
    p->current_ma = 1000;
    p->remaining_mah = 50000;
    p->full_mah = 100000;
    p->cycles = 10;
    p->soc_pct = 50;
    p->soh_pct = 100;
}

static void test_bank_empty_is_invalid(void **state)
{
    (void)state;
    gw_bank_t b;
    memset(&b, 0x5A, sizeof(b)); /* out must be fully rewritten */
    gw_bank_aggregate(NULL, 0, &b);
    assert_false(b.valid);
    EQ(0, "packs_present", b.packs_present, 0);
    EQ(0, "packs_online", b.packs_online, 0);
    EQ(0, "soc", b.soc_pct, 0);
    EQ(0, "min_cell_mv", b.min_cell_mv, 0);
    EQ(0, "cell_readings", b.cell_readings, 0);
}

/* Two packs, different in every aggregated field; expectations by hand. */
static void test_bank_two_packs_golden(void **state)
{
    (void)state;
    gw_pack_t p[2];
    make_pack(&p[0], 3);
    make_pack(&p[1], 7);
    p[0].cell_mv[5] = 3250;          /* bank min: pack 3 cell 5 */
    p[1].cell_mv[15] = 3420;         /* bank max: pack 7 cell 15 */
    p[1].cell_count = 15;            /* min cells 15, max 16 */
    p[1].cell_mv[15] = 0;            /* beyond its cell count now: must be ignored */
    p[1].cell_mv[14] = 3420;
    p[0].temp_dc[2] = -15;           /* min temp: pack 3 sensor 2 */
    p[1].temp_dc[1] = 312;           /* max temp: pack 7 sensor 1 */
    p[1].temp_dc[5] = 700;           /* a MOS sensor, not a cell sensor: ignored */
    p[0].current_ma = -12345;
    p[1].current_ma = 2345;
    p[0].voltage_mv = 52800;
    p[1].voltage_mv = 49501;
    p[0].remaining_mah = 30000;
    p[0].full_mah = 100000;
    p[1].remaining_mah = 45000;
    p[1].full_mah = 50000;
    p[0].soh_pct = 97;
    p[1].soh_pct = 94;
    p[1].cycles = 321;

    gw_bank_t b;
    gw_bank_aggregate(p, 2, &b);
    assert_true(b.valid);
    EQ(0, "online", b.packs_online, 2);
    EQ(0, "present", b.packs_present, 2);
    EQ(0, "offline", b.packs_offline, 0);
    EQ(0, "current", b.current_ma, -10000);
    EQ(0, "voltage", b.voltage_mv, 51151);          /* (52800+49501)/2 = 51150.5 -> 51151 */
    EQ(0, "remaining", b.remaining_mah, 75000);
    EQ(0, "full", b.full_mah, 150000);
    EQ(0, "soc", b.soc_pct, 50);                    /* 75000/150000, not mean(30,90)=60 */
    EQ(0, "soh", b.soh_pct, 96);                    /* 95.5 -> 96 */
    EQ(0, "cycles", b.cycles, 321);
    EQ(0, "min cells", b.min_cell_count, 15);
    EQ(0, "max cells", b.max_cell_count, 16);
    EQ(0, "min mv", b.min_cell_mv, 3250);
    EQ(0, "min pack", b.min_cell_pack, 3);
    EQ(0, "min idx", b.min_cell_index, 5);
    EQ(0, "max mv", b.max_cell_mv, 3420);
    EQ(0, "max pack", b.max_cell_pack, 7);
    EQ(0, "max idx", b.max_cell_index, 14);
    EQ(0, "min t", b.min_temp_dc, -15);
    EQ(0, "min t pack", b.min_temp_pack, 3);
    EQ(0, "min t idx", b.min_temp_index, 2);
    EQ(0, "max t", b.max_temp_dc, 312);
    EQ(0, "max t pack", b.max_temp_pack, 7);
    EQ(0, "max t idx", b.max_temp_index, 1);
    /* 8 sensors: 250*6 - 15 + 312 = 1797 -> 224.6 -> 225 */
    EQ(0, "avg t", b.avg_temp_dc, 225);
    EQ(0, "cell readings", b.cell_readings, 31);
    EQ(0, "temp readings", b.temp_readings, 8);
    EQ(0, "installed", b.installed_mah, 150000);
}

struct soc_row {
    uint32_t rem0, full0, rem1, full1;
    uint8_t soc0, soc1;
    uint8_t expect;
};

static void test_bank_soc_rule(void **state)
{
    (void)state;
    static const struct soc_row rows[] = {
        {0, 100000, 0, 100000, 0, 0, 0},
        {100000, 100000, 100000, 100000, 100, 100, 100},
        {30000, 100000, 45000, 50000, 30, 90, 50},      /* weighted, not 60 */
        {995, 2000, 0, 0, 0, 0, 50},                    /* 49.75 -> 50 */
        {994, 2000, 0, 0, 0, 0, 50},                    /* 49.7 -> 50 */
        {989, 2000, 0, 0, 0, 0, 49},                    /* 49.45 -> 49 */
        {120000, 100000, 0, 0, 100, 0, 100},            /* remaining > full: capped */
        {0, 0, 0, 0, 41, 44, 43},                       /* no capacity: mean 42.5 -> 43 */
        {0, 0, 0, 0, 255, 255, 100},                    /* garbage SOC capped */
        {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0, 0, 100}, /* no overflow */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_pack_t p[2];
        make_pack(&p[0], 0);
        make_pack(&p[1], 1);
        p[0].remaining_mah = rows[i].rem0;
        p[0].full_mah = rows[i].full0;
        p[1].remaining_mah = rows[i].rem1;
        p[1].full_mah = rows[i].full1;
        p[0].soc_pct = rows[i].soc0;
        p[1].soc_pct = rows[i].soc1;
        gw_bank_t b;
        gw_bank_aggregate(p, 2, &b);
        EQ(i, "soc", b.soc_pct, rows[i].expect);
    }
}

static void test_bank_zero_cell_is_not_min(void **state)
{
    (void)state;
    gw_pack_t p;
    make_pack(&p, 2);
    p.cell_mv[0] = 0;
    p.cell_mv[3] = 3100;
    gw_bank_t b;
    gw_bank_aggregate(&p, 1, &b);
    EQ(0, "min mv", b.min_cell_mv, 3100);
    EQ(0, "min idx", b.min_cell_index, 3);
    EQ(0, "readings", b.cell_readings, 15);

    /* All cells missing: no extremes at all rather than a 0 mV "min". */
    memset(p.cell_mv, 0, sizeof(p.cell_mv));
    gw_bank_aggregate(&p, 1, &b);
    assert_true(b.valid);
    EQ(1, "readings", b.cell_readings, 0);
    EQ(1, "min mv", b.min_cell_mv, 0);
    EQ(1, "max mv", b.max_cell_mv, 0);
}

static void test_bank_offline_counted_not_aggregated(void **state)
{
    (void)state;
    gw_pack_t p[3];
    make_pack(&p[0], 0);
    make_pack(&p[1], 1);
    make_pack(&p[2], 2);
    p[1].online = false;             /* present, lost */
    p[1].cell_mv[0] = 2000;          /* stale: must not become the min */
    p[1].current_ma = 99999;
    p[2].present = false;            /* never found */
    p[2].online = false;
    gw_bank_t b;
    gw_bank_aggregate(p, 3, &b);
    EQ(0, "present", b.packs_present, 2);
    EQ(0, "online", b.packs_online, 1);
    EQ(0, "offline", b.packs_offline, 1);
    EQ(0, "current", b.current_ma, 1000);
    EQ(0, "min mv", b.min_cell_mv, 3300);
    EQ(0, "full", b.full_mah, 100000);
    EQ(0, "installed", b.installed_mah, 200000); /* offline pack's capacity counts */

    p[0].online = false;
    gw_bank_aggregate(p, 3, &b);
    assert_false(b.valid);
    EQ(1, "offline", b.packs_offline, 2);
    EQ(1, "current", b.current_ma, 0);
}

/* Hostile counts: n above GW_MAX_PACKS, cell and sensor counts above the
 * arrays. Run under ASan this also proves no out-of-bounds read. */
static void test_bank_clamps_counts(void **state)
{
    (void)state;
    gw_pack_t p[GW_MAX_PACKS + 4];
    for (int i = 0; i < GW_MAX_PACKS + 4; i++) {
        make_pack(&p[i], (uint8_t)i);
    }
    p[0].cell_count = 255;
    p[0].temp_count = 255;
    p[0].cell_temp_count = 255;
    gw_bank_t b;
    gw_bank_aggregate(p, GW_MAX_PACKS + 4, &b);
    EQ(0, "online", b.packs_online, GW_MAX_PACKS);
    EQ(0, "max cells", b.max_cell_count, GW_MAX_CELLS);
    EQ(0, "current", b.current_ma, 1000 * GW_MAX_PACKS);

    /* cell_temp_count larger than temp_count: only temp_count sensors. */
    gw_pack_t q;
    make_pack(&q, 0);
    q.temp_count = 2;
    q.cell_temp_count = 4;
    q.temp_dc[3] = -400;
    gw_bank_aggregate(&q, 1, &b);
    EQ(1, "temp readings", b.temp_readings, 2);
    EQ(1, "min t", b.min_temp_dc, 250);
}

static void test_bank_current_sum_saturates(void **state)
{
    (void)state;
    gw_pack_t p[2];
    make_pack(&p[0], 0);
    make_pack(&p[1], 1);
    p[0].current_ma = INT32_MIN;
    p[1].current_ma = -1;
    gw_bank_t b;
    gw_bank_aggregate(p, 2, &b);
    EQ(0, "current", b.current_ma, INT32_MIN);
}

static void test_bank_negative_avg_temp_rounds_symmetrically(void **state)
{
    (void)state;
    static const struct {
        int16_t a, b;
        int16_t avg;
    } rows[] = {
        {-10, -11, -11}, /* -10.5 -> -11 */
        {10, 11, 11},    /* 10.5 -> 11 */
        {-10, -10, -10},
        {-1, 0, -1},     /* -0.5 -> -1 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_pack_t p;
        make_pack(&p, 0);
        p.temp_count = 2;
        p.cell_temp_count = 2;
        p.temp_dc[0] = rows[i].a;
        p.temp_dc[1] = rows[i].b;
        gw_bank_t b;
        gw_bank_aggregate(&p, 1, &b);
        EQ(i, "avg", b.avg_temp_dc, rows[i].avg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank_empty_is_invalid),
        cmocka_unit_test(test_bank_two_packs_golden),
        cmocka_unit_test(test_bank_soc_rule),
        cmocka_unit_test(test_bank_zero_cell_is_not_min),
        cmocka_unit_test(test_bank_offline_counted_not_aggregated),
        cmocka_unit_test(test_bank_clamps_counts),
        cmocka_unit_test(test_bank_current_sum_saturates),
        cmocka_unit_test(test_bank_negative_avg_temp_rounds_symmetrically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
