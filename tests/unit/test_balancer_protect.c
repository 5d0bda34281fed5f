/* SPDX-License-Identifier: MIT */
/* Unit tests of the balancer controller's protection (superb_balancer.md B.9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "balancer/balancer_protect.h"

#define CHECK_EQ(row, actual, expected)                                               \
    do {                                                                              \
        long long a_ = (long long)(actual), e_ = (long long)(expected);               \
        if (a_ != e_) {                                                               \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, \
                        e_);                                                          \
            fail();                                                                   \
        }                                                                             \
    } while (0)

/* A healthy string, every reading present. */
static gw_bal_prot_input_t normal(void)
{
    gw_bal_prot_input_t in;
    memset(&in, 0, sizeof in);
    in.complete = true;
    in.have_v = in.have_t = in.have_r = true;
    in.min_mv = 3300;
    in.max_mv = 3350;
    in.min_t_dc = 200;
    in.max_t_dc = 250;
    in.max_r_dc = 300;
    return in;
}

static void start(gw_bal_prot_t *p)
{
    gw_bal_prot_init(p, NULL, 0);
    gw_bal_prot_input_t in = normal();
    gw_bal_prot_eval(p, &in, 1000);
    assert_true(p->out.charge);
    assert_true(p->out.discharge);
    assert_false(p->out.alarm);
}

static void test_balancer_protect_defaults_are_the_reference(void **state)
{
    (void)state;
    gw_bal_prot_cfg_t c;
    gw_bal_prot_cfg_default(&c);
    CHECK_EQ(0, c.dis_off_mv, 3050);
    CHECK_EQ(1, c.dis_on_mv, 3250);
    CHECK_EQ(2, c.chg_off_mv, 3700);
    CHECK_EQ(3, c.chg_on_mv, 3650);
    CHECK_EQ(4, c.alarm_low_mv, 2950);
    CHECK_EQ(5, c.alarm_high_mv, 3750);
    CHECK_EQ(6, c.cell_ot_on_dc, 500);
    CHECK_EQ(7, c.cell_ot_off_dc, 450);
    CHECK_EQ(8, c.cell_ot_alarm_dc, 600);
    CHECK_EQ(9, c.res_ot_on_dc, 900);
    CHECK_EQ(10, c.res_ot_off_dc, 600);
    CHECK_EQ(11, c.chg_ut_on_dc, 0);
    CHECK_EQ(12, c.chg_ut_off_dc, 20);
}

/* Each self-clearing protection: a sequence of one reading moved through its
 * band, with the relays expected after each step. */
typedef enum { F_MIN_MV, F_MAX_MV, F_MAX_T, F_MIN_T, F_MAX_R } field_t;

static const struct {
    const char *name;
    field_t field;
    int values[6];
    bool charge[6];
    bool discharge[6];
} band_rows[] = {
    /* discharge: off below 3050, back only at >= 3250 */
    { "end of discharge", F_MIN_MV, { 3050, 3049, 3100, 3249, 3250, 3200 },
      { 1, 1, 1, 1, 1, 1 }, { 1, 0, 0, 0, 1, 1 } },
    /* charge: off above 3700, back only at <= 3650 */
    { "end of charge", F_MAX_MV, { 3700, 3701, 3680, 3651, 3650, 3690 },
      { 1, 0, 0, 0, 1, 1 }, { 1, 1, 1, 1, 1, 1 } },
    /* cell over-temperature: both off above 50.0, back at <= 45.0 */
    { "cell over-temperature", F_MAX_T, { 500, 510, 460, 451, 450, 490 },
      { 1, 0, 0, 0, 1, 1 }, { 1, 0, 0, 0, 1, 1 } },
    /* under-temperature: charge off below 0, back at >= +2 */
    { "charge under-temperature", F_MIN_T, { 0, -10, 0, 10, 20, 0 },
      { 1, 0, 0, 0, 1, 1 }, { 1, 1, 1, 1, 1, 1 } },
    /* resistor over-temperature: charge off above 90, back at <= 60 */
    { "resistor over-temperature", F_MAX_R, { 900, 910, 800, 610, 600, 890 },
      { 1, 0, 0, 0, 1, 1 }, { 1, 1, 1, 1, 1, 1 } },
};

static void test_balancer_protect_hysteresis_bands(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof band_rows / sizeof band_rows[0]; r++) {
        gw_bal_prot_t p;
        start(&p);
        gw_bal_prot_input_t in = normal();
        for (int s = 0; s < 6; s++) {
            int v = band_rows[r].values[s];
            switch (band_rows[r].field) {
            case F_MIN_MV:
                in.min_mv = (uint16_t)v;
                break;
            case F_MAX_MV:
                in.max_mv = (uint16_t)v;
                break;
            case F_MAX_T:
                in.max_t_dc = (int16_t)v;
                break;
            case F_MIN_T:
                in.min_t_dc = (int16_t)v;
                break;
            case F_MAX_R:
                in.max_r_dc = (int16_t)v;
                break;
            }
            gw_bal_prot_eval(&p, &in, 2000 + (uint64_t)s * 1000);
            if (p.out.charge != band_rows[r].charge[s] ||
                p.out.discharge != band_rows[r].discharge[s]) {
                print_error("row %zu (%s) step %d value %d: charge %d discharge %d, expected %d %d\n",
                            r, band_rows[r].name, s, v, p.out.charge, p.out.discharge,
                            band_rows[r].charge[s], band_rows[r].discharge[s]);
                fail();
            }
            /* Self-clearing trips never raise the alarm. */
            CHECK_EQ(r, p.out.alarm, false);
            CHECK_EQ(r, gw_bal_prot_latched(&p), false);
        }
    }
}

/* Extreme alarms latch: the cause going away does not clear them, only an
 * acknowledgement after it went away does. */
static const struct {
    const char *name;
    field_t field;
    int bad, good;
} latch_rows[] = {
    { "extreme under-voltage", F_MIN_MV, 2949, 3300 },
    { "extreme under-voltage at 1 V (no 2 V guard)", F_MIN_MV, 1000, 3300 },
    { "extreme over-voltage", F_MAX_MV, 3751, 3400 },
    { "extreme cell temperature", F_MAX_T, 601, 250 },
};

static void set_field(gw_bal_prot_input_t *in, field_t f, int v)
{
    switch (f) {
    case F_MIN_MV:
        in->min_mv = (uint16_t)v;
        break;
    case F_MAX_MV:
        in->max_mv = (uint16_t)v;
        break;
    case F_MAX_T:
        in->max_t_dc = (int16_t)v;
        break;
    case F_MIN_T:
        in->min_t_dc = (int16_t)v;
        break;
    case F_MAX_R:
        in->max_r_dc = (int16_t)v;
        break;
    }
}

static void test_balancer_protect_extreme_alarms_latch(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof latch_rows / sizeof latch_rows[0]; r++) {
        gw_bal_prot_t p;
        start(&p);
        gw_bal_prot_input_t in = normal();
        set_field(&in, latch_rows[r].field, latch_rows[r].bad);
        gw_bal_prot_eval(&p, &in, 2000);
        CHECK_EQ(r, gw_bal_prot_latched(&p), true);
        CHECK_EQ(r, p.out.charge, false);
        CHECK_EQ(r, p.out.discharge, false);
        CHECK_EQ(r, p.out.alarm, true);
        CHECK_EQ(r, p.out.led, true);
        /* Acknowledged while the cause persists: stays. */
        CHECK_EQ(r, gw_bal_prot_ack(&p, 2500), false);
        CHECK_EQ(r, gw_bal_prot_latched(&p), true);
        CHECK_EQ(r, p.acks_refused, 1);
        /* Cause gone: still latched, relays still open. */
        set_field(&in, latch_rows[r].field, latch_rows[r].good);
        gw_bal_prot_eval(&p, &in, 3000);
        gw_bal_prot_eval(&p, &in, 60000);
        CHECK_EQ(r, gw_bal_prot_latched(&p), true);
        CHECK_EQ(r, p.out.charge, false);
        CHECK_EQ(r, p.out.discharge, false);
        CHECK_EQ(r, p.out.alarm, true);
        /* Now the button clears it. */
        CHECK_EQ(r, gw_bal_prot_ack(&p, 61000), true);
        CHECK_EQ(r, gw_bal_prot_latched(&p), false);
        CHECK_EQ(r, p.out.alarm, false);
        CHECK_EQ(r, p.out.led, false);
        CHECK_EQ(r, p.out.buzzer, false);
        gw_bal_prot_eval(&p, &in, 62000);
        CHECK_EQ(r, p.out.charge, true);
        CHECK_EQ(r, p.out.discharge, true);
    }
}

static void test_balancer_protect_read_fault_latches_per_quantity(void **state)
{
    (void)state;
    static const uint8_t bits[] = { GW_BAL_RF_VOLT, GW_BAL_RF_TEMP, GW_BAL_RF_RES };
    for (size_t r = 0; r < sizeof bits; r++) {
        gw_bal_prot_t p;
        start(&p);
        gw_bal_prot_input_t in = normal();
        in.read_fault_now = bits[r];
        gw_bal_prot_eval(&p, &in, 2000);
        CHECK_EQ(r, p.read_fault, bits[r]);
        CHECK_EQ(r, p.out.charge, false);
        CHECK_EQ(r, p.out.discharge, false);
        CHECK_EQ(r, p.out.alarm, true);
        CHECK_EQ(r, gw_bal_prot_ack(&p, 2100), false); /* cause persists */
        CHECK_EQ(r, p.read_fault, bits[r]);
        in.read_fault_now = 0; /* a good read of that cell */
        gw_bal_prot_eval(&p, &in, 3000);
        CHECK_EQ(r, p.read_fault, bits[r]);
        CHECK_EQ(r, p.out.discharge, false);
        CHECK_EQ(r, gw_bal_prot_ack(&p, 3100), true);
        CHECK_EQ(r, p.out.charge, true);
        CHECK_EQ(r, p.out.discharge, true);
    }
}

/* An acknowledgement clears what is gone and keeps what persists. */
static void test_balancer_protect_ack_is_per_item(void **state)
{
    (void)state;
    gw_bal_prot_t p;
    start(&p);
    gw_bal_prot_input_t in = normal();
    in.max_mv = 3760;
    in.read_fault_now = GW_BAL_RF_TEMP;
    gw_bal_prot_eval(&p, &in, 2000);
    assert_true(p.ov_alarm);
    in.max_mv = 3500;
    gw_bal_prot_eval(&p, &in, 3000);
    assert_false(gw_bal_prot_ack(&p, 3100));
    assert_false(p.ov_alarm);
    assert_int_equal(p.read_fault, GW_BAL_RF_TEMP);
    assert_false(p.out.charge);
}

/* The seed closed R2 before any cell was read (highest = 0 V <= 3.65 V). */
static void test_balancer_protect_relays_open_until_complete(void **state)
{
    (void)state;
    gw_bal_prot_t p;
    gw_bal_prot_init(&p, NULL, 0);
    assert_false(p.out.charge);
    assert_false(p.out.discharge);
    gw_bal_prot_input_t in = normal();
    in.complete = false;
    gw_bal_prot_eval(&p, &in, 100);
    assert_false(p.out.charge);
    assert_false(p.out.discharge);
    in.have_v = in.have_t = in.have_r = false; /* nothing read yet */
    gw_bal_prot_eval(&p, &in, 200);
    assert_false(p.out.charge);
    assert_false(p.out.discharge);
    in = normal();
    gw_bal_prot_eval(&p, &in, 300);
    assert_true(p.out.charge);
    assert_true(p.out.discharge);
}

/* First complete reading inside the hysteresis band: usable (the band is for
 * returning from a trip), but a reading in the trip region starts tripped. */
static void test_balancer_protect_first_reading_starts_the_bands(void **state)
{
    (void)state;
    gw_bal_prot_t p;
    gw_bal_prot_init(&p, NULL, 0);
    gw_bal_prot_input_t in = normal();
    in.min_mv = 3150;
    in.max_mv = 3680;
    gw_bal_prot_eval(&p, &in, 100);
    assert_true(p.out.discharge);
    assert_true(p.out.charge);
    gw_bal_prot_init(&p, NULL, 0);
    in.min_mv = 3040;
    in.max_mv = 3710;
    gw_bal_prot_eval(&p, &in, 100);
    assert_false(p.out.discharge);
    assert_false(p.out.charge);
    in.min_mv = 3200;
    in.max_mv = 3680;
    gw_bal_prot_eval(&p, &in, 200);
    assert_false(p.out.discharge);
    assert_false(p.out.charge);
}

static void test_balancer_protect_buzzer_pattern(void **state)
{
    (void)state;
    gw_bal_prot_t p;
    gw_bal_prot_init(&p, NULL, 1000);
    assert_true(p.out.buzzer); /* start-up beep */
    assert_int_equal(gw_bal_prot_next_deadline(&p, 1000), 1020);
    gw_bal_prot_tick(&p, 1020);
    assert_false(p.out.buzzer);
    assert_int_equal(gw_bal_prot_next_deadline(&p, 1020), UINT64_MAX);
    gw_bal_prot_input_t in = normal();
    in.max_mv = 3800;
    gw_bal_prot_eval(&p, &in, 5000);
    static const struct {
        uint64_t t;
        bool on;
        uint64_t next;
    } rows[] = {
        { 5000, true, 5050 },  { 5049, true, 5050 },  { 5050, false, 5250 }, { 5249, false, 5250 },
        { 5250, true, 5300 },  { 5300, false, 7000 }, { 6999, false, 7000 }, { 7000, true, 7050 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        gw_bal_prot_tick(&p, rows[r].t);
        CHECK_EQ(r, p.out.buzzer, rows[r].on);
        CHECK_EQ(r, gw_bal_prot_next_deadline(&p, rows[r].t), rows[r].next);
    }
    p.cfg.buzzer_enabled = false;
    gw_bal_prot_tick(&p, 7000);
    assert_false(p.out.buzzer);
    assert_true(p.out.alarm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balancer_protect_defaults_are_the_reference),
        cmocka_unit_test(test_balancer_protect_hysteresis_bands),
        cmocka_unit_test(test_balancer_protect_extreme_alarms_latch),
        cmocka_unit_test(test_balancer_protect_read_fault_latches_per_quantity),
        cmocka_unit_test(test_balancer_protect_ack_is_per_item),
        cmocka_unit_test(test_balancer_protect_relays_open_until_complete),
        cmocka_unit_test(test_balancer_protect_first_reading_starts_the_bands),
        cmocka_unit_test(test_balancer_protect_buzzer_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
