/* SPDX-License-Identifier: MIT */
/* Unit tests for the DVCC baseline (firmware/core/dvcc): limits, latches, alarms, fail-safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bank/bank.h"
#include "dvcc/dvcc_baseline.h"

#define EQ(row, what, got, exp)                                                              \
    do {                                                                                     \
        long long g_ = (long long)(got), e_ = (long long)(exp);                              \
        if (g_ != e_) {                                                                      \
            fail_msg("row %d: %s = %lld, expected %lld", (int)(row), what, g_, e_);         \
        }                                                                                    \
    } while (0)

#define STREQ(row, what, got, exp)                                                           \
    do {                                                                                     \
        const char *g_ = (got), *e_ = (exp);                                                 \
        if (g_ == NULL || strcmp(g_, e_) != 0) {                                             \
            fail_msg("row %d: %s = \"%s\", expected \"%s\"", (int)(row), what,               \
                     g_ ? g_ : "(null)", e_);                                                \
        }                                                                                    \
    } while (0)

#define BIT(a) (1u << (a))
#define UNSUPPORTED_MASK                                                                     \
    (BIT(GW_AL_HIGH_DISCHARGE_CURRENT) | BIT(GW_AL_HIGH_CHARGE_CURRENT) |                    \
     BIT(GW_AL_CONTACTOR) | BIT(GW_AL_SHORT_CIRCUIT))

/* Every pair: active exactly where the mask says, unsupported for the four
 * the baseline does not watch, OK otherwise; never the reserved 3. */
static void check_pairs(int row, const char *what, const uint8_t pairs[GW_AL_COUNT],
                        unsigned active)
{
    for (int i = 0; i < GW_AL_COUNT; i++) {
        uint8_t exp = GW_PAIR_OK;
        if (UNSUPPORTED_MASK & BIT(i)) {
            exp = GW_PAIR_UNSUPPORTED;
        } else if (active & BIT(i)) {
            exp = GW_PAIR_ACTIVE;
        }
        if (pairs[i] != exp) {
            fail_msg("row %d: %s pair %d = %u, expected %u", row, what, i, pairs[i], exp);
        }
    }
}

/* Pack: 16 cells, cell 0 at min_mv and the rest at max_mv; 4 cell sensors,
 * sensor 0 at min_dc and the rest at max_dc; SOC by capacity. */
static void make_pack(gw_pack_t *p, uint8_t addr, uint16_t min_mv, uint16_t max_mv,
                      int16_t min_dc, int16_t max_dc, uint8_t soc)
{
    memset(p, 0, sizeof(*p));
    p->present = true;
    p->online = true;
    p->address = addr;
    p->cell_count = 16;
    p->cell_mv[0] = min_mv;
    for (int i = 1; i < 16; i++) {
        p->cell_mv[i] = max_mv;
    }
    p->temp_count = 4;
    p->cell_temp_count = 4;
    p->temp_dc[0] = min_dc;
    for (int i = 1; i < 4; i++) {
        p->temp_dc[i] = max_dc;
    }
    p->voltage_mv = 52800;
    p->full_mah = 100000;
    p->remaining_mah = (uint32_t)soc * 1000u;
    p->soc_pct = soc;
    p->soh_pct = 100;
}

static void compute(gw_dvcc_baseline_t *d, gw_pack_t *p, size_t n, bool startup_done,
                    gw_limits_t *lim)
{
    gw_bank_t b;
    gw_bank_aggregate(p, n, &b);
    gw_dvcc_compute(d, &b, p, n, startup_done, lim);
}

static void test_dvcc_defaults(void **state)
{
    (void)state;
    gw_dvcc_cfg_t c;
    memset(&c, 0xFF, sizeof(c));
    gw_dvcc_cfg_default(&c);
    EQ(0, "cvl_cell", c.cvl_cell_mv, 3500);
    EQ(0, "ov", c.cell_ov_mv, 3650);
    EQ(0, "ov rel", c.cell_ov_release_mv, 3550);
    EQ(0, "uv", c.cell_uv_mv, 2500);
    EQ(0, "uv rel", c.cell_uv_release_mv, 2800);
    EQ(0, "pack ov", c.pack_ov_mv_15s, 56500);
    EQ(0, "chg min", c.charge_min_dc, 0);
    EQ(0, "chg max", c.charge_max_dc, 500);
    EQ(0, "dis min", c.discharge_min_dc, -200);
    EQ(0, "dis max", c.discharge_max_dc, 600);
    EQ(0, "hyst", c.temp_hysteresis_dc, 30);
    EQ(0, "chg da", c.charge_da_per_pack, 500);
    EQ(0, "dis da", c.discharge_da_per_pack, 1000);
    EQ(0, "taper soc", c.taper_soc_pct, 98);
    EQ(0, "taper da", c.taper_da_per_pack, 50);
    EQ(0, "taper mv", c.taper_cell_mv, 3550);
    EQ(0, "dvl cell", c.dvl_cell_mv, 2800);
    EQ(0, "imbalance", c.imbalance_warn_mv, 200);
}

static void test_dvcc_cvl_dvl_from_min_cells(void **state)
{
    (void)state;
    static const struct {
        uint8_t cells_a, cells_b;
        uint16_t cvl_cell_mv, dvl_cell_mv;
        uint16_t cvl_dv, dvl_dv;
    } rows[] = {
        {16, 16, 3500, 2800, 560, 448},
        {15, 16, 3500, 2800, 525, 420},   /* the smaller pack sets CVL */
        {15, 15, 3456, 2999, 518, 449},   /* 51.84 V, 44.985 V: rounded down */
        {16, 16, 3333, 2801, 533, 448},   /* 53.328 V, 44.816 V */
        {0, 0, 3500, 2800, 560, 448},     /* no cell count: never 0 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_dvcc_cfg_t c;
        gw_dvcc_cfg_default(&c);
        c.cvl_cell_mv = rows[i].cvl_cell_mv;
        c.dvl_cell_mv = rows[i].dvl_cell_mv;
        gw_dvcc_baseline_t d;
        gw_dvcc_init(&d, &c);
        gw_pack_t p[2];
        make_pack(&p[0], 0, 3300, 3300, 250, 250, 50);
        make_pack(&p[1], 1, 3300, 3300, 250, 250, 50);
        p[0].cell_count = rows[i].cells_a;
        p[1].cell_count = rows[i].cells_b;
        gw_limits_t lim;
        compute(&d, p, 2, true, &lim);
        EQ(i, "cvl", lim.cvl_dv, rows[i].cvl_dv);
        EQ(i, "dvl", lim.dvl_dv, rows[i].dvl_dv);
    }
}

/* One DVCC instance walked through a sequence of bank states: the rows
 * depend on each other (latches), so the order is part of the test. */
struct seq_row {
    uint16_t min_mv, max_mv;
    int16_t min_dc, max_dc;
    uint8_t soc;
    uint16_t ccl_da, dcl_da;
    const char *ccl_reason, *dcl_reason;
    unsigned alarms, warnings;
    uint8_t block_chg, block_dis;
};

#define HV BIT(GW_AL_HIGH_VOLTAGE)
#define LV BIT(GW_AL_LOW_VOLTAGE)
#define HT BIT(GW_AL_HIGH_TEMP)
#define LT BIT(GW_AL_LOW_TEMP)
#define HTC BIT(GW_AL_HIGH_TEMP_CHARGE)
#define LTC BIT(GW_AL_LOW_TEMP_CHARGE)
#define IMB BIT(GW_AL_CELL_IMBALANCE)

static const struct seq_row seq[] = {
    /* min   max   tmin tmax soc  CCL   DCL   reasons                                    A     W        blk */
    {3300, 3350, 250, 250, 50, 1000, 2000, "normal", "normal", 0, 0, 0, 0},
    {3550, 3650, 250, 250, 50, 0, 0, "cell over-voltage", "cell over-voltage", HV, HV, 2, 2},
    {3500, 3600, 250, 250, 50, 0, 0, "cell over-voltage", "cell over-voltage", HV, HV, 0, 0}, /* latched */
    /* OV released, but the taper it passed through stays latched */
    {3500, 3549, 250, 250, 50, 100, 2000, "taper: near full", "normal", 0, 0, 0, 0},
    {3500, 3550, 250, 250, 50, 100, 2000, "taper: near full", "normal", 0, HV, 0, 0},
    {3300, 3350, 250, 250, 98, 100, 2000, "taper: near full", "normal", 0, 0, 0, 0},
    {3300, 3390, 250, 250, 94, 100, 2000, "taper: near full", "normal", 0, 0, 0, 0}, /* latched */
    {3300, 3390, 250, 250, 92, 1000, 2000, "normal", "normal", 0, 0, 0, 0},         /* released */
    {3300, 3420, 250, 250, 92, 1000, 2000, "normal", "normal", 0, 0, 0, 0},
    {3300, 3350, 250, 250, 100, 0, 2000, "full", "normal", 0, 0, 0, 0},
    {2500, 2600, 250, 250, 50, 1000, 0, "normal", "cell under-voltage", LV, LV, 0, 2},
    {2800, 2900, 250, 250, 50, 1000, 0, "normal", "cell under-voltage", LV, LV, 0, 0},   /* latched */
    {2801, 2900, 250, 250, 50, 1000, 2000, "normal", "normal", 0, 0, 0, 0},              /* released */
    {2700, 2800, 250, 250, 50, 1000, 2000, "normal", "normal", 0, LV, 0, 0},             /* warning only */
    {3300, 3500, 250, 250, 50, 1000, 2000, "normal", "normal", 0, IMB, 0, 0},
    {3300, 3499, 250, 250, 50, 1000, 2000, "normal", "normal", 0, 0, 0, 0},
    {3300, 3300, -1, 250, 50, 0, 2000, "charge temperature", "normal", LTC, LTC, 2, 0},
    {3300, 3300, 29, 250, 50, 0, 2000, "charge temperature", "normal", LTC, LTC, 0, 0},  /* latched */
    {3300, 3300, 30, 250, 50, 1000, 2000, "normal", "normal", 0, LTC, 0, 0},             /* released */
    {3300, 3300, 50, 250, 50, 1000, 2000, "normal", "normal", 0, 0, 0, 0},
    {3300, 3300, 250, 501, 50, 0, 2000, "charge temperature", "normal", HTC, HTC, 2, 0},
    {3300, 3300, 250, 471, 50, 0, 2000, "charge temperature", "normal", HTC, HTC, 0, 0},
    {3300, 3300, 250, 470, 50, 1000, 2000, "normal", "normal", 0, HTC, 0, 0},
    {3300, 3300, 250, 450, 50, 1000, 2000, "normal", "normal", 0, 0, 0, 0},
    {3300, 3300, 250, 601, 50, 0, 0, "charge temperature", "discharge temperature", HTC | HT,
     HTC | HT, 2, 2},
    {3300, 3300, -201, 250, 50, 0, 0, "charge temperature", "discharge temperature", LTC | LT,
     LTC | LT, 2, 2}, /* the hot latches released at 250 */
    {3300, 3300, 250, 250, 50, 1000, 2000, "normal", "normal", 0, 0, 0, 0},
    {2500, 3650, 250, 250, 50, 0, 0, "cell over-voltage", "cell over-voltage", HV | LV,
     HV | LV | IMB, 2, 2},
};

static void test_dvcc_sequence(void **state)
{
    (void)state;
    gw_dvcc_baseline_t d;
    gw_dvcc_init(&d, NULL);
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        const struct seq_row *r = &seq[i];
        gw_pack_t p[2];
        make_pack(&p[0], 0, r->min_mv, r->max_mv, r->min_dc, r->max_dc, r->soc);
        make_pack(&p[1], 1, r->min_mv, r->max_mv, r->min_dc, r->max_dc, r->soc);
        gw_limits_t lim;
        compute(&d, p, 2, true, &lim);
        EQ(i, "ccl", lim.ccl_da, r->ccl_da);
        EQ(i, "dcl", lim.dcl_da, r->dcl_da);
        EQ(i, "cvl", lim.cvl_dv, 560);
        STREQ(i, "ccl_reason", lim.ccl_reason, r->ccl_reason);
        STREQ(i, "dcl_reason", lim.dcl_reason, r->dcl_reason);
        check_pairs((int)i, "alarm", lim.alarm, r->alarms);
        check_pairs((int)i, "warning", lim.warning, r->warnings);
        EQ(i, "blocking charge", lim.packs_blocking_charge, r->block_chg);
        EQ(i, "blocking discharge", lim.packs_blocking_discharge, r->block_dis);
    }
}

/* Pack over-voltage scales with each pack's cell count (56.5 V per 15
 * cells) and releases 1 % under the limit. */
static void test_dvcc_pack_over_voltage(void **state)
{
    (void)state;
    static const struct {
        uint8_t cells;
        uint32_t voltage_mv;
        uint16_t ccl_da;
        const char *reason;
        bool alarm;
    } rows[] = {
        {15, 56499, 500, "normal", false},
        {15, 56500, 0, "pack over-voltage", true},
        {15, 55935, 0, "pack over-voltage", true},   /* latched: 56500 - 565 = 55935 */
        {15, 55934, 500, "normal", false},           /* released */
        {16, 60265, 500, "normal", false},           /* limit 60266 for 16 cells */
        {16, 60266, 0, "pack over-voltage", true},
    };
    gw_dvcc_baseline_t d;
    gw_dvcc_init(&d, NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_pack_t p;
        make_pack(&p, 4, 3300, 3300, 250, 250, 50);
        p.cell_count = rows[i].cells;
        p.voltage_mv = rows[i].voltage_mv;
        gw_limits_t lim;
        compute(&d, &p, 1, true, &lim);
        EQ(i, "ccl", lim.ccl_da, rows[i].ccl_da);
        EQ(i, "dcl", lim.dcl_da, rows[i].alarm ? 0 : 1000);
        STREQ(i, "reason", lim.ccl_reason, rows[i].reason);
        EQ(i, "alarm", lim.alarm[GW_AL_HIGH_VOLTAGE], rows[i].alarm ? GW_PAIR_ACTIVE : GW_PAIR_OK);
    }
}

/* No pack online: currents 0, CVL/DVL never 0, alarm only after start-up. */
static void test_dvcc_fail_safe(void **state)
{
    (void)state;
    static const struct {
        bool seen_valid;   /* a valid 15-cell bank was computed before */
        bool startup_done;
        bool pack_present; /* found, now offline */
        uint16_t cvl_dv, dvl_dv;
        const char *reason;
        bool alarm;
    } rows[] = {
        {false, false, false, 560, 448, "starting", false},
        {false, true, false, 560, 448, "no BMS data", true},
        /* heard of but never read (a CANopen boot-up before the first reply): start-up */
        {false, false, true, 560, 448, "starting", false},
        /* read before, lost during start-up: an alarm */
        {true, false, true, 525, 420, "no BMS data", true},
        {true, true, true, 525, 420, "no BMS data", true},
        {true, false, false, 525, 420, "starting", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_dvcc_baseline_t d;
        gw_dvcc_init(&d, NULL);
        gw_pack_t p;
        gw_limits_t lim;
        make_pack(&p, 0, 3300, 3300, 250, 250, 50);
        p.cell_count = 15;
        if (rows[i].seen_valid) {
            compute(&d, &p, 1, true, &lim);
            EQ(i, "ccl before", lim.ccl_da, 500);
        }
        p.online = false;
        p.present = rows[i].pack_present;
        compute(&d, &p, 1, rows[i].startup_done, &lim);
        EQ(i, "ccl", lim.ccl_da, 0);
        EQ(i, "dcl", lim.dcl_da, 0);
        EQ(i, "cvl", lim.cvl_dv, rows[i].cvl_dv);
        EQ(i, "dvl", lim.dvl_dv, rows[i].dvl_dv);
        STREQ(i, "ccl reason", lim.ccl_reason, rows[i].reason);
        STREQ(i, "dcl reason", lim.dcl_reason, rows[i].reason);
        unsigned a = rows[i].alarm ? (BIT(GW_AL_GENERAL) | BIT(GW_AL_BMS_INTERNAL)) : 0;
        check_pairs((int)i, "alarm", lim.alarm, a);
        check_pairs((int)i, "warning", lim.warning, 0);
        EQ(i, "blocking", lim.packs_blocking_charge + lim.packs_blocking_discharge, 0);
    }
}

/* Blocking counts are per pack, by its own readings. */
static void test_dvcc_blocking_per_pack(void **state)
{
    (void)state;
    gw_dvcc_baseline_t d;
    gw_dvcc_init(&d, NULL);
    gw_pack_t p[4];
    make_pack(&p[0], 0, 3300, 3300, 250, 250, 50);   /* fine */
    make_pack(&p[1], 1, 3300, 3300, -5, 250, 50);    /* too cold to charge */
    make_pack(&p[2], 2, 2400, 3300, 250, 250, 50);   /* a cell under-voltage */
    make_pack(&p[3], 3, 2400, 3300, -5, 250, 50);    /* offline: not counted */
    p[3].online = false;
    gw_limits_t lim;
    compute(&d, p, 4, true, &lim);
    EQ(0, "blocking charge", lim.packs_blocking_charge, 1);
    EQ(0, "blocking discharge", lim.packs_blocking_discharge, 1);
    EQ(0, "ccl", lim.ccl_da, 0);
    EQ(0, "dcl", lim.dcl_da, 0);
    STREQ(0, "ccl reason", lim.ccl_reason, "charge temperature");
    STREQ(0, "dcl reason", lim.dcl_reason, "cell under-voltage");
}

/* Limits the packs' own BMSes report are never exceeded, and a pack whose
 * BMS opened a switch counts as blocking and carries no current that way. */
static void test_dvcc_respects_bms_limits(void **state)
{
    (void)state;
    gw_dvcc_baseline_t d;
    gw_dvcc_init(&d, NULL);
    gw_pack_t p[2];
    gw_limits_t lim;
    make_pack(&p[0], 0, 3300, 3300, 250, 250, 50);
    make_pack(&p[1], 1, 3300, 3300, 250, 250, 50);
    p[0].bms_limits_valid = true;
    p[0].bms_ccl_da = 300;            /* 30 A, below the 50 A per pack */
    p[0].bms_dcl_da = 2000;           /* above the 100 A per pack: no effect */
    p[0].bms_max_charge_mv = 55200;   /* below 16 x 3.50 V */
    compute(&d, p, 2, true, &lim);
    EQ(0, "ccl", lim.ccl_da, 800);
    STREQ(0, "ccl reason", lim.ccl_reason, "BMS charge limit");
    EQ(0, "dcl", lim.dcl_da, 2000);
    EQ(0, "cvl", lim.cvl_dv, 552);

    p[1].bms_charge_off = true;       /* pack 1 opened its charge switch */
    compute(&d, p, 2, true, &lim);
    EQ(1, "ccl", lim.ccl_da, 300);
    EQ(1, "blocking charge", lim.packs_blocking_charge, 1);
    EQ(1, "blocking discharge", lim.packs_blocking_discharge, 0);

    p[0].bms_charge_off = true;       /* both: nothing can charge */
    compute(&d, p, 2, true, &lim);
    EQ(2, "ccl", lim.ccl_da, 0);
    STREQ(2, "ccl reason", lim.ccl_reason, "BMS charge switch open");
    EQ(2, "dcl", lim.dcl_da, 2000);

    p[0].bms_discharge_off = true;
    p[1].bms_discharge_off = true;
    compute(&d, p, 2, true, &lim);
    EQ(3, "dcl", lim.dcl_da, 0);
    STREQ(3, "dcl reason", lim.dcl_reason, "BMS discharge switch open");
    EQ(3, "blocking discharge", lim.packs_blocking_discharge, 2);
}

/* A pack found and then lost is still in parallel: no charging while it is
 * unwatched; discharge follows the packs left. */
static void test_dvcc_offline_pack_blocks_charge(void **state)
{
    (void)state;
    gw_dvcc_baseline_t d;
    gw_dvcc_init(&d, NULL);
    gw_pack_t p[3];
    gw_limits_t lim;
    for (int i = 0; i < 3; i++) {
        make_pack(&p[i], (uint8_t)i, 3300, 3300, 250, 250, 50);
    }
    compute(&d, p, 3, true, &lim);
    EQ(0, "ccl", lim.ccl_da, 1500);
    p[1].online = false; /* present, not online */
    compute(&d, p, 3, true, &lim);
    EQ(1, "ccl", lim.ccl_da, 0);
    STREQ(1, "ccl reason", lim.ccl_reason, "pack offline");
    EQ(1, "dcl", lim.dcl_da, 2000);
    p[1].online = true;
    compute(&d, p, 3, true, &lim);
    EQ(2, "ccl", lim.ccl_da, 1500);
    /* last seen low: the others must not drain it past its cut-off */
    make_pack(&p[2], 2, 2700, 3000, 250, 250, 10);
    p[2].online = false;
    compute(&d, p, 3, true, &lim);
    EQ(3, "dcl", lim.dcl_da, 0);
    STREQ(3, "dcl reason", lim.dcl_reason, "low pack offline");
}

/* A hostile pack count must not be trusted past the array. */
static void test_dvcc_clamps_pack_count(void **state)
{
    (void)state;
    gw_dvcc_baseline_t d;
    gw_dvcc_init(&d, NULL);
    gw_pack_t p[GW_MAX_PACKS];
    for (int i = 0; i < GW_MAX_PACKS; i++) {
        make_pack(&p[i], (uint8_t)i, 3300, 3300, -5, 250, 50);
    }
    gw_bank_t b;
    gw_bank_aggregate(p, GW_MAX_PACKS, &b);
    gw_limits_t lim;
    gw_dvcc_compute(&d, &b, p, GW_MAX_PACKS, true, &lim);
    EQ(0, "blocking charge", lim.packs_blocking_charge, GW_MAX_PACKS);
    /* Same call claiming more packs than exist (ASan would catch a read). */
    gw_dvcc_compute(&d, &b, p, (size_t)GW_MAX_PACKS + 1000, true, &lim);
    EQ(1, "blocking charge", lim.packs_blocking_charge, GW_MAX_PACKS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dvcc_defaults),
        cmocka_unit_test(test_dvcc_cvl_dvl_from_min_cells),
        cmocka_unit_test(test_dvcc_sequence),
        cmocka_unit_test(test_dvcc_pack_over_voltage),
        cmocka_unit_test(test_dvcc_fail_safe),
        cmocka_unit_test(test_dvcc_blocking_per_pack),
        cmocka_unit_test(test_dvcc_respects_bms_limits),
        cmocka_unit_test(test_dvcc_offline_pack_blocks_charge),
        cmocka_unit_test(test_dvcc_clamps_pack_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
