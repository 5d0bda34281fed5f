/* SPDX-License-Identifier: MIT */
/* Unit tests of the balancer-bus master on a scripted fake bus: schedule and
 * its reaction bound, read errors and read faults, power-up, acknowledgement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "balancer/balancer_driver.h"

#define CHECK_EQ(row, actual, expected)                                               \
    do {                                                                              \
        long long a_ = (long long)(actual), e_ = (long long)(expected);               \
        if (a_ != e_) {                                                               \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, \
                        e_);                                                          \
            fail();                                                                   \
        }                                                                             \
    } while (0)

/* ------------------------------------------------------------ the fake bus */

typedef enum { ANSWER = 0, SILENT, GARBAGE, UNTERMINATED } behaviour_t;

typedef struct fake_module {
    int mv, temp_c, res_c, uptime_s, version;
    behaviour_t b[7]; /* per command 2..6 */
} fake_module_t;

#define LOG_MAX 4096

typedef struct fake {
    gw_bal_driver_t d;
    fake_module_t m[GW_BAL_MAX_MODULES];
    uint64_t now;
    uint32_t delay_ms;       /* reply completes this long after the request */
    bool pending;
    uint64_t pending_at;
    char pending_line[32];
    size_t log_len;
    struct {
        uint64_t t;
        uint8_t cell, cmd;
    } log[LOG_MAX];
    bool relays_ever_closed_before_scan;
} fake_t;

static void fake_init(fake_t *f, uint8_t n, uint32_t delay_ms)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < GW_BAL_MAX_MODULES; i++) {
        f->m[i].mv = 3300 + i;
        f->m[i].temp_c = 20 + (i % 5);
        f->m[i].res_c = 25;
        f->m[i].uptime_s = 1000;
        f->m[i].version = 148;
    }
    f->delay_ms = delay_ms;
    gw_bal_cfg_t c;
    gw_bal_cfg_default(&c);
    c.modules = n;
    gw_bal_init(&f->d, &c, 0);
}

static void reply_for(fake_t *f, uint8_t cell, uint8_t cmd)
{
    const fake_module_t *m = &f->m[cell];
    int v = cmd == GW_BAL_CMD_VOLTAGE     ? m->mv
            : cmd == GW_BAL_CMD_CELL_TEMP ? m->temp_c
            : cmd == GW_BAL_CMD_RES_TEMP  ? m->res_c
            : cmd == GW_BAL_CMD_UPTIME    ? m->uptime_s
                                          : m->version;
    switch (m->b[cmd]) {
    case SILENT:
        return;
    case GARBAGE:
        snprintf(f->pending_line, sizeof f->pending_line, "E%dR\r\n", v);
        break;
    case UNTERMINATED:
        snprintf(f->pending_line, sizeof f->pending_line, "%d", v);
        break;
    case ANSWER:
        snprintf(f->pending_line, sizeof f->pending_line, "%d\r\n", v);
        break;
    }
    f->pending = true;
    f->pending_at = f->now + f->delay_ms;
}

/* One step: deliver a due reply or run process() at the next deadline. */
static void fake_step(fake_t *f)
{
    uint64_t next = gw_bal_next_deadline(&f->d);
    if (f->pending && f->pending_at < next) {
        next = f->pending_at;
    }
    if (next > f->now) {
        f->now = next;
    }
    if (f->pending && f->pending_at <= f->now) {
        f->pending = false;
        gw_bal_rx(&f->d, f->now, (const uint8_t *)f->pending_line, strlen(f->pending_line));
    }
    uint8_t tx[8];
    size_t n = gw_bal_process(&f->d, f->now, tx, sizeof tx);
    if (!f->d.scan_done && (f->d.relays.charge || f->d.relays.discharge)) {
        f->relays_ever_closed_before_scan = true;
    }
    if (n == 0) {
        return;
    }
    assert_int_equal(n, 4);
    uint8_t adr;
    gw_bal_cmd_t cmd;
    assert_int_equal(gw_bal_parse_request(tx, n, &adr, &cmd), GW_BAL_OK);
    assert_true(adr >= 1 && adr <= f->d.cfg.modules);
    if (f->log_len < LOG_MAX) {
        f->log[f->log_len].t = f->now;
        f->log[f->log_len].cell = (uint8_t)(adr - 1);
        f->log[f->log_len].cmd = (uint8_t)cmd;
        f->log_len++;
    }
    reply_for(f, (uint8_t)(adr - 1), (uint8_t)cmd);
}

static void fake_run_until(fake_t *f, uint64_t t_end)
{
    for (int guard = 0; f->now < t_end && guard < 1000000; guard++) {
        fake_step(f);
    }
}

static void fake_run_until_scan(fake_t *f)
{
    for (int guard = 0; !f->d.scan_done && guard < 100000; guard++) {
        fake_step(f);
    }
    assert_true(f->d.scan_done);
}

/* ------------------------------------------------------------ tests */

static void test_balancer_driver_scan_requests_are_exact(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 4, 300);
    fake_run_until_scan(&f);
    static const char *const want[] = { "0105", "0205", "0305", "0405", "0102", "0202",
                                        "0302", "0402", "0103", "0203", "0303", "0403" };
    CHECK_EQ(0, f.log_len, 12);
    for (size_t r = 0; r < 12; r++) {
        uint8_t buf[4];
        gw_bal_build_request((uint8_t)(f.log[r].cell + 1), (gw_bal_cmd_t)f.log[r].cmd, buf, 4);
        if (memcmp(buf, want[r], 4) != 0) {
            print_error("row %zu: sent %.4s, expected %s\n", r, (const char *)buf, want[r]);
            fail();
        }
    }
    /* Exchanges follow each other after reply + guard. */
    CHECK_EQ(1, f.log[1].t - f.log[0].t, 300 + 35);
}

static void test_balancer_driver_pack_after_scan(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 4, 300);
    f.m[2].temp_c = -5; /* B.11 "0802" style negative reply */
    fake_run_until_scan(&f);
    const gw_pack_t *p = &f.d.packs[0];
    assert_true(p->present);
    assert_true(p->online);
    CHECK_EQ(0, p->cell_count, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(i, p->cell_mv[i], 3300 + i);
        sum += 3300u + (unsigned)i;
    }
    CHECK_EQ(10, p->voltage_mv, sum);
    CHECK_EQ(11, p->temp_count, 4);
    CHECK_EQ(12, p->cell_temp_count, 4);
    CHECK_EQ(13, p->temp_dc[0], 200);
    CHECK_EQ(14, p->temp_dc[2], -50);
    CHECK_EQ(15, p->current_ma, 0);
    CHECK_EQ(16, p->soc_pct, 0);
    assert_true(p->bms_limits_valid);
    CHECK_EQ(17, p->bms_max_charge_mv, 4 * 3650);
    /* -5 degC < 0 degC: charging blocked, discharging allowed. */
    assert_false(f.d.relays.charge);
    assert_true(f.d.relays.discharge);
    assert_true(p->bms_charge_off);
    assert_false(p->bms_discharge_off);
    CHECK_EQ(18, f.d.mod[3].res_dc, 250);
}

/* The seed's bug: R2 closed before any cell was read. Here nothing closes until
 * every cell's voltage, temperature and resistor temperature was read. */
static void test_balancer_driver_relays_open_until_every_cell_read(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 8, 300);
    f.m[5].b[GW_BAL_CMD_RES_TEMP] = SILENT; /* one resistor sensor silent at power-up */
    fake_run_until(&f, 60000);
    assert_false(f.d.scan_done);
    assert_false(f.d.relays.charge);
    assert_false(f.d.relays.discharge);
    assert_false(f.relays_ever_closed_before_scan);
    assert_false(f.d.packs[0].online);
    /* It answers again: read fault latched by then (3 silent reads), so the scan
     * completes but the relays stay open until acknowledged. */
    f.m[5].b[GW_BAL_CMD_RES_TEMP] = ANSWER;
    fake_run_until(&f, 120000);
    assert_true(f.d.scan_done);
    assert_true(f.d.prot.read_fault & GW_BAL_RF_RES);
    assert_false(f.d.relays.charge);
    gw_bal_acknowledge(&f.d, f.now);
    assert_true(f.d.relays.charge);
    assert_true(f.d.relays.discharge);
    assert_false(f.relays_ever_closed_before_scan);
}

/* Count failed voltage reads of one cell after t0 and check the relays after each. */
static void run_failures(fake_t *f, uint8_t cell, behaviour_t b, int row)
{
    f->m[cell].b[GW_BAL_CMD_VOLTAGE] = b;
    int fails = 0;
    size_t seen = f->log_len;
    for (int guard = 0; fails < 3 && guard < 100000; guard++) {
        fake_step(f);
        bool waiting = f->d.waiting;
        if (f->log_len > seen && !waiting) {
            /* the last logged request has finished */
            if (f->log[f->log_len - 1].cell == cell && f->log[f->log_len - 1].cmd == GW_BAL_CMD_VOLTAGE) {
                fails++;
                CHECK_EQ(row, f->d.mod[cell].errors[GW_BAL_Q_VOLT], fails);
                if (fails < 3) {
                    /* two failures: the old reading stands, no fault yet */
                    CHECK_EQ(row, f->d.prot.read_fault, 0);
                    CHECK_EQ(row, f->d.relays.discharge, true);
                    CHECK_EQ(row, f->d.packs[0].cell_mv[cell], 3300 + cell);
                }
            }
            seen = f->log_len;
        }
    }
    CHECK_EQ(row, fails, 3);
    CHECK_EQ(row, f->d.prot.read_fault, GW_BAL_RF_VOLT);
    CHECK_EQ(row, f->d.relays.charge, false);
    CHECK_EQ(row, f->d.relays.discharge, false);
    CHECK_EQ(row, f->d.relays.alarm, true);
    CHECK_EQ(row, f->d.relays.led, true);
    CHECK_EQ(row, f->d.packs[0].cell_mv[cell], 0);
    CHECK_EQ(row, f->d.packs[0].bms_charge_off, true);
    CHECK_EQ(row, f->d.packs[0].bms_discharge_off, true);
}

static void test_balancer_driver_three_failures_latch_read_fault(void **state)
{
    (void)state;
    static const struct {
        behaviour_t b;
        uint32_t timeouts, bad;
    } rows[] = { { SILENT, 3, 0 }, { GARBAGE, 0, 3 }, { UNTERMINATED, 0, 3 } };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        static fake_t f;
        fake_init(&f, 6, 300);
        fake_run_until_scan(&f);
        assert_true(f.d.relays.discharge);
        uint32_t to0 = f.d.stats.timeouts, bad0 = f.d.stats.bad_reply;
        run_failures(&f, 3, rows[r].b, (int)r);
        CHECK_EQ(r, f.d.stats.timeouts - to0, rows[r].timeouts);
        CHECK_EQ(r, f.d.stats.bad_reply - bad0, rows[r].bad);
        CHECK_EQ(r, f.d.stats.read_faults, 1);

        /* The button while the cell still fails: refused, stays latched. */
        gw_bal_button(&f.d, f.now, true);
        gw_bal_button(&f.d, f.now, false);
        CHECK_EQ(r, f.d.stats.acks_refused, 1);
        CHECK_EQ(r, f.d.relays.discharge, false);
        /* It answers again: the fault stays latched until acknowledged ... */
        f.m[3].b[GW_BAL_CMD_VOLTAGE] = ANSWER;
        fake_run_until(&f, f.now + 60000);
        CHECK_EQ(r, f.d.mod[3].errors[GW_BAL_Q_VOLT], 0);
        CHECK_EQ(r, f.d.relays.discharge, false);
        CHECK_EQ(r, f.d.relays.alarm, true);
        /* ... then the button clears it. */
        gw_bal_button(&f.d, f.now, true);
        CHECK_EQ(r, f.d.relays.discharge, true);
        CHECK_EQ(r, f.d.relays.charge, true);
        CHECK_EQ(r, f.d.relays.alarm, false);
        /* Held down: no second acknowledgement. */
        gw_bal_button(&f.d, f.now + 10, true);
        CHECK_EQ(r, f.d.stats.acks, 2);
    }
}

/* Reply handling: split bytes, noise outside an exchange, blank lines. */
static void test_balancer_driver_reply_framing(void **state)
{
    (void)state;
    gw_bal_driver_t d;
    gw_bal_cfg_t c;
    gw_bal_cfg_default(&c);
    c.modules = 1;
    gw_bal_init(&d, &c, 0);
    uint8_t tx[4];
    gw_bal_rx(&d, 0, (const uint8_t *)"xy\r\n", 4); /* no request out: stray */
    CHECK_EQ(0, d.stats.stray_bytes, 2);
    CHECK_EQ(1, gw_bal_process(&d, 0, tx, sizeof tx), 4);
    CHECK_EQ(2, memcmp(tx, "0105", 4), 0);
    gw_bal_rx(&d, 100, (const uint8_t *)"\n32", 3);
    gw_bal_rx(&d, 150, (const uint8_t *)"91\r", 3);
    CHECK_EQ(3, d.mod[0].mv, 3291);
    CHECK_EQ(4, d.stats.replies_ok, 1);
    gw_bal_rx(&d, 160, (const uint8_t *)"\n", 1); /* the LF of CR LF: not stray */
    CHECK_EQ(5, d.stats.stray_bytes, 2);
    CHECK_EQ(6, gw_bal_next_deadline(&d), 150 + 35);
    CHECK_EQ(7, gw_bal_process(&d, 184, tx, sizeof tx), 0); /* guard */
    CHECK_EQ(8, gw_bal_process(&d, 185, tx, sizeof tx), 4);
    CHECK_EQ(9, memcmp(tx, "0102", 4), 0);
    /* A reply after the timeout is not this exchange's. */
    CHECK_EQ(10, gw_bal_next_deadline(&d), 185 + 500);
    gw_bal_rx(&d, 685, (const uint8_t *)"24\r\n", 4);
    CHECK_EQ(11, d.stats.timeouts, 1);
    CHECK_EQ(12, d.mod[0].seen[GW_BAL_Q_TEMP], false);
    /* An implausible voltage is a failed read, not a value. */
    CHECK_EQ(13, gw_bal_process(&d, 720, tx, sizeof tx), 4);
    CHECK_EQ(14, memcmp(tx, "0103", 4), 0);
    gw_bal_rx(&d, 900, (const uint8_t *)"23\r\n", 4);
    CHECK_EQ(15, d.mod[0].res_dc, 230);
    /* Overlong line: bad reply. */
    gw_bal_process(&d, 935, tx, sizeof tx);
    static const char longline[] = "1111111111111111111111111111111\r\n";
    gw_bal_rx(&d, 1000, (const uint8_t *)longline, sizeof longline - 1);
    CHECK_EQ(16, d.stats.bad_reply, 1);
    CHECK_EQ(17, d.waiting, false);
}

static void test_balancer_driver_implausible_value_is_a_failure(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 2, 300);
    fake_run_until_scan(&f);
    f.m[1].mv = 9999;
    uint32_t before = f.d.stats.implausible;
    fake_run_until(&f, f.now + 20000);
    assert_true(f.d.stats.implausible > before);
    assert_true(f.d.prot.read_fault & GW_BAL_RF_VOLT);
    assert_false(f.d.prot.ov_alarm); /* 9999 mV was never taken as a reading */
}

/* The stated bound: values documented in the header. */
static void test_balancer_driver_bound_values(void **state)
{
    (void)state;
    static const struct {
        uint8_t n;
        uint32_t volt_any, volt_extreme, temp_any, round;
    } rows[] = {
        { 16, 15815, 8175, 122775, 7640 },
        { 50, 40425, 20480, 258750, 19945 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        gw_bal_cfg_t c;
        gw_bal_cfg_default(&c);
        c.modules = rows[r].n;
        gw_bal_bounds_t b;
        gw_bal_bounds(&c, &b);
        CHECK_EQ(r, b.volt_any_ms, rows[r].volt_any);
        CHECK_EQ(r, b.volt_extreme_ms, rows[r].volt_extreme);
        CHECK_EQ(r, b.temp_any_ms, rows[r].temp_any);
        CHECK_EQ(r, b.round_max_ms, rows[r].round);
        CHECK_EQ(r, gw_bal_reaction_bound_ms(&c), rows[r].volt_any);
    }
}

/* On a bus where every reply comes just before its timeout (the slowest bus
 * that still works), every cell's voltage is re-read within the bound, and the
 * extremes within theirs; the seed needed 5 x (N + 3) slots. */
static void test_balancer_driver_schedule_refresh_within_bound(void **state)
{
    (void)state;
    static const uint8_t ns[] = { 1, 2, 7, 16, 33, 50 };
    for (size_t r = 0; r < sizeof ns; r++) {
        static fake_t f;
        fake_init(&f, ns[r], 499);
        /* info replies would need 649: make them time out (only counted) */
        for (int i = 0; i < ns[r]; i++) {
            f.m[i].b[GW_BAL_CMD_UPTIME] = SILENT;
            f.m[i].b[GW_BAL_CMD_VERSION] = SILENT;
        }
        fake_run_until_scan(&f);
        size_t from = f.log_len;
        gw_bal_bounds_t b;
        gw_bal_bounds(&f.d.cfg, &b);
        uint32_t longest = b.temp_any_ms > b.res_any_ms ? b.temp_any_ms : b.res_any_ms;
        fake_run_until(&f, f.now + 3u * longest);
        for (uint8_t cell = 0; cell < ns[r]; cell++) {
            static const uint8_t cmds[] = { GW_BAL_CMD_VOLTAGE, GW_BAL_CMD_CELL_TEMP, GW_BAL_CMD_RES_TEMP };
            const uint32_t bounds[] = { b.volt_any_ms, b.temp_any_ms, b.res_any_ms };
            for (size_t q = 0; q < 3; q++) {
                uint64_t last = 0;
                int reads = 0;
                for (size_t i = from; i < f.log_len; i++) {
                    if (f.log[i].cell != cell || f.log[i].cmd != cmds[q]) {
                        continue;
                    }
                    /* request start to the end of the next read of it */
                    if (reads > 0 && f.log[i].t + 499 - last > bounds[q]) {
                        print_error("N %u cell %u cmd %u: %llu ms between reads, bound %u\n",
                                    ns[r], cell, cmds[q],
                                    (unsigned long long)(f.log[i].t + 499 - last), bounds[q]);
                        fail();
                    }
                    last = f.log[i].t;
                    reads++;
                }
                if (reads < 2) {
                    print_error("N %u cell %u cmd %u: %d reads\n", ns[r], cell, cmds[q], reads);
                    fail();
                }
            }
        }
        /* the lowest cell (cell 0) is re-read every round */
        uint64_t last = 0;
        for (size_t i = from; i < f.log_len; i++) {
            if (f.log[i].cell == 0 && f.log[i].cmd == GW_BAL_CMD_VOLTAGE) {
                if (last != 0 && f.log[i].t + 499 - last > b.volt_extreme_ms) {
                    print_error("N %u lowest cell: %llu ms, bound %u\n", ns[r],
                                (unsigned long long)(f.log[i].t + 499 - last), b.volt_extreme_ms);
                    fail();
                }
                last = f.log[i].t;
            }
        }
        CHECK_EQ(r, f.d.prot.read_fault, 0);
    }
}

/* A runaway on a cell that is neither lowest nor highest opens the charge relay
 * within the bound, wherever in the schedule it starts. */
static void test_balancer_driver_reaction_within_bound(void **state)
{
    (void)state;
    static const uint8_t ns[] = { 16, 50 };
    for (size_t r = 0; r < sizeof ns; r++) {
        uint32_t bound = 0;
        uint64_t worst = 0;
        for (int k = 0; k < 25; k++) {
            static fake_t f;
            fake_init(&f, ns[r], 499);
            fake_run_until_scan(&f);
            bound = gw_bal_reaction_bound_ms(&f.d.cfg);
            fake_run_until(&f, f.now + 1000u + (uint64_t)k * 1733u);
            assert_true(f.d.relays.charge);
            uint8_t cell = (uint8_t)(ns[r] / 2 + (k % 3));
            f.m[cell].mv = 3710; /* above end-of-charge, below the extreme alarm */
            uint64_t t0 = f.now;
            for (int g = 0; f.d.relays.charge && g < 100000; g++) {
                fake_step(&f);
            }
            assert_false(f.d.relays.charge);
            assert_true(f.d.relays.discharge);
            assert_false(f.d.relays.alarm);
            uint64_t took = f.now - t0;
            if (took > worst) {
                worst = took;
            }
            if (took > bound) {
                print_error("N %u row %d: reacted after %llu ms, bound %u\n", ns[r], k,
                            (unsigned long long)took, bound);
                fail();
            }
        }
        /* the bound is not vacuous: the worst seen is at least half of it */
        if (worst * 2 < bound) {
            print_error("N %u: worst %llu ms, bound %u\n", ns[r], (unsigned long long)worst, bound);
            fail();
        }
    }
}

static void test_balancer_driver_extreme_alarm_latches(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 8, 300);
    fake_run_until_scan(&f);
    f.m[4].mv = 2900;
    fake_run_until(&f, f.now + 20000);
    assert_true(f.d.prot.uv_alarm);
    assert_false(f.d.relays.discharge);
    assert_false(f.d.relays.charge);
    gw_bal_acknowledge(&f.d, f.now);
    assert_true(f.d.prot.uv_alarm); /* still 2.90 V */
    f.m[4].mv = 3300;
    fake_run_until(&f, f.now + 20000);
    assert_true(f.d.prot.uv_alarm); /* cause gone, still latched */
    assert_false(f.d.relays.discharge);
    gw_bal_acknowledge(&f.d, f.now);
    assert_false(f.d.prot.uv_alarm);
    assert_true(f.d.relays.discharge);
    assert_true(f.d.relays.charge);
}

static void test_balancer_driver_versions_and_reboot(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 2, 300);
    fake_run_until(&f, 60000);
    assert_true(f.d.mod[0].version_valid);
    CHECK_EQ(0, f.d.mod[0].version, 148);
    assert_true(f.d.mod[0].uptime_valid);
    f.m[0].uptime_s = 5;
    f.m[0].version = 149;
    fake_run_until(&f, 180000);
    CHECK_EQ(1, f.d.stats.reboots, 1);
    CHECK_EQ(2, f.d.mod[0].version, 149);
}

static void test_balancer_driver_config_sanitised(void **state)
{
    (void)state;
    gw_bal_driver_t d;
    gw_bal_cfg_t c;
    gw_bal_cfg_default(&c);
    c.modules = 200;
    c.volt_per_round = 255;
    c.read_fault_after = 0;
    gw_bal_init(&d, &c, 0);
    CHECK_EQ(0, d.cfg.modules, 50);
    CHECK_EQ(1, d.cfg.volt_per_round, 50);
    CHECK_EQ(2, d.cfg.read_fault_after, 1);
    CHECK_EQ(3, d.packs[0].cell_count, 50);
    c.modules = 0;
    gw_bal_init(&d, &c, 0);
    CHECK_EQ(4, d.cfg.modules, 1);
}

/* More than 16 cells: the pack's 16 temperature slots keep hottest and coldest. */
static void test_balancer_driver_many_cells_keep_extreme_temps(void **state)
{
    (void)state;
    static fake_t f;
    fake_init(&f, 50, 300);
    f.m[37].temp_c = 41;
    f.m[12].temp_c = -3;
    fake_run_until_scan(&f);
    const gw_pack_t *p = &f.d.packs[0];
    CHECK_EQ(0, p->temp_count, 16);
    CHECK_EQ(1, p->cell_count, 50);
    CHECK_EQ(2, p->cell_mv[49], 3349);
    int16_t hi = INT16_MIN, lo = INT16_MAX;
    for (int i = 0; i < p->temp_count; i++) {
        hi = p->temp_dc[i] > hi ? p->temp_dc[i] : hi;
        lo = p->temp_dc[i] < lo ? p->temp_dc[i] : lo;
    }
    CHECK_EQ(3, hi, 410);
    CHECK_EQ(4, lo, -30);
}

/* Random bytes at random times never crash and never become readings out of range. */
static void test_balancer_driver_noise(void **state)
{
    (void)state;
    gw_bal_driver_t d;
    gw_bal_init(&d, NULL, 0);
    uint32_t x = 12345;
    uint64_t now = 0;
    uint8_t tx[4];
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        now += (x >> 24) % 50;
        uint8_t buf[8];
        size_t n = (x >> 8) % 8;
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            static const uint8_t alpha[] = "0123456789-+ \r\nx";
            buf[k] = (x >> 20) & 1 ? alpha[(x >> 8) % 16] : (uint8_t)(x >> 16);
        }
        gw_bal_rx(&d, now, buf, n);
        gw_bal_process(&d, now, tx, sizeof tx);
    }
    for (int i = 0; i < 16; i++) {
        assert_true(d.mod[i].mv <= GW_BAL_MV_MAX);
        assert_true(d.mod[i].temp_dc >= -550 && d.mod[i].temp_dc <= 1500);
    }
    assert_true(d.stats.requests > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balancer_driver_scan_requests_are_exact),
        cmocka_unit_test(test_balancer_driver_pack_after_scan),
        cmocka_unit_test(test_balancer_driver_relays_open_until_every_cell_read),
        cmocka_unit_test(test_balancer_driver_three_failures_latch_read_fault),
        cmocka_unit_test(test_balancer_driver_reply_framing),
        cmocka_unit_test(test_balancer_driver_implausible_value_is_a_failure),
        cmocka_unit_test(test_balancer_driver_bound_values),
        cmocka_unit_test(test_balancer_driver_schedule_refresh_within_bound),
        cmocka_unit_test(test_balancer_driver_reaction_within_bound),
        cmocka_unit_test(test_balancer_driver_extreme_alarm_latches),
        cmocka_unit_test(test_balancer_driver_versions_and_reboot),
        cmocka_unit_test(test_balancer_driver_config_sanitised),
        cmocka_unit_test(test_balancer_driver_many_cells_keep_extreme_temps),
        cmocka_unit_test(test_balancer_driver_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
