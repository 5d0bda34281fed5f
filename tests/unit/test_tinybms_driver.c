/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's TinyBMS master state machine against a scripted fake device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tinybms/tinybms_driver.h"

#define CHECK_EQ(row, actual, expected)                                                  \
    do {                                                                                 \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                  \
        if (a_ != e_) {                                                                  \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, e_); \
            fail();                                                                      \
        }                                                                                \
    } while (0)

/* ------------------------------------------------------------ the fake device */

typedef struct fake {
    uint16_t regs[400];
    bool asleep;          /* swallows the next frame, then is awake */
    bool silent;          /* answers nothing */
    int nack_next;        /* NACK this many requests */
    int bad_crc_next;     /* corrupt the CRC of this many replies */
    uint8_t noise_before; /* bytes of noise before each reply */
    uint8_t last_req[16];
    size_t last_req_len;
    unsigned requests_seen;
    unsigned settings_reads;
} fake_t;

static uint32_t float_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static void set_u32(fake_t *f, unsigned reg, uint32_t v)
{
    f->regs[reg] = (uint16_t)(v & 0xFFFFu); /* low word at the lower address */
    f->regs[reg + 1] = (uint16_t)(v >> 16);
}

static void fake_default(fake_t *f)
{
    memset(f, 0, sizeof(*f));
    for (unsigned i = 0; i < 16; i++) {
        f->regs[i] = (uint16_t)(33000 + 10 * i); /* 3300.0 .. 3315.0 mV */
    }
    set_u32(f, 32, 1000);                   /* lifetime s */
    set_u32(f, 36, float_bits(53.12f));     /* pack V */
    set_u32(f, 38, float_bits(-12.5f));     /* pack I, discharging */
    f->regs[40] = 3300;
    f->regs[41] = 3315;
    f->regs[42] = 250;                      /* ext 1: 25.0 C */
    f->regs[43] = 0x8000;                   /* ext 2 absent */
    f->regs[45] = 50000;                    /* SOH 100 % */
    set_u32(f, 46, 81500000);               /* SOC 81.5 % */
    f->regs[48] = 300;                      /* internal 30.0 C */
    f->regs[50] = GW_TINY_ST_IDLE;
    f->regs[53] = 16;
    f->regs[102] = 0;                       /* recorded maxima: must not become limits */
    f->regs[103] = 0;
    f->regs[300] = 3650;                    /* fully charged */
    f->regs[306] = 28000;                   /* 280.00 Ah */
    f->regs[307] = 16;
    f->regs[315] = 3800;                    /* OV cut-off */
    f->regs[316] = 2800;                    /* UV cut-off */
    f->regs[317] = 200;                     /* discharge OC A */
    f->regs[318] = 100;                     /* charge OC A */
    f->regs[319] = 60;
    f->regs[320] = 0;                       /* low-temp charge cut-off, C */
}

static size_t seal(uint8_t *out, size_t n)
{
    uint16_t crc = gw_tiny_crc16(out, n);
    out[n] = (uint8_t)crc;
    out[n + 1] = (uint8_t)(crc >> 8);
    return n + 2;
}

/* The device's answer to one request, or 0 for silence. */
static size_t fake_answer(fake_t *f, const uint8_t *req, size_t len, uint8_t *out)
{
    f->requests_seen++;
    memcpy(f->last_req, req, len < sizeof(f->last_req) ? len : sizeof(f->last_req));
    f->last_req_len = len;
    if (f->silent) {
        return 0;
    }
    if (f->asleep) {
        f->asleep = false;
        return 0;
    }
    size_t k = 0;
    for (unsigned i = 0; i < f->noise_before; i++) {
        out[k++] = (uint8_t)(0x55 + i);
    }
    if (len != 8 || req[1] != 0x03 || gw_tiny_crc16(req, len) != 0) {
        fail_msg("fake device got a request it does not know");
    }
    if (f->nack_next > 0) {
        f->nack_next--;
        out[k] = 0xAA;
        out[k + 1] = 0x00;
        out[k + 2] = 0x03;
        out[k + 3] = 0x00;
        return seal(out + k, 4) + k;
    }
    unsigned addr = (unsigned)(req[2] << 8 | req[3]);
    unsigned count = req[5];
    if (addr == 300) {
        f->settings_reads++;
    }
    uint8_t *r = out + k;
    r[0] = 0xAA;
    r[1] = 0x03;
    r[2] = (uint8_t)(2 * count);
    for (unsigned i = 0; i < count; i++) {
        r[3 + 2 * i] = (uint8_t)(f->regs[addr + i] >> 8);
        r[4 + 2 * i] = (uint8_t)f->regs[addr + i];
    }
    size_t n = seal(r, 3 + 2 * count);
    if (f->bad_crc_next > 0) {
        f->bad_crc_next--;
        r[3] ^= 0x40;  /* corrupted value, CRC left as it was */
    }
    return n + k;
}

/* Drive the driver until end_ms; the fake answers 3 ms after each request. */
static void run(gw_tiny_driver_t *d, fake_t *f, uint64_t *now, uint64_t end_ms)
{
    uint8_t tx[64], reply[600];
    while (*now < end_ms) {
        uint64_t next = gw_tiny_next_deadline(d);
        if (next > *now) {
            *now = next < end_ms ? next : end_ms;
        }
        if (*now >= end_ms) {
            break;
        }
        size_t n = gw_tiny_process(d, *now, tx, sizeof(tx));
        if (n == 0) {
            continue;
        }
        size_t r = fake_answer(f, tx, n, reply);
        if (r > 0) {
            *now += 3;
            gw_tiny_rx(d, *now, reply, r);
        }
    }
}

static void setup(gw_tiny_driver_t *d, fake_t *f, uint64_t *now)
{
    fake_default(f);
    *now = 1000;
    gw_tiny_init(d, NULL, *now);
}

/* ------------------------------------------------------------ tests */

static void test_tinybms_driver_first_round_requests_are_exact(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    uint8_t tx[32];
    static const uint8_t want[3][8] = {
        { 0xAA, 0x03, 0x01, 0x2C, 0x00, 0x15, 0, 0 }, /* settings 300..320 */
        { 0xAA, 0x03, 0x00, 0x00, 0x00, 0x10, 0x5D, 0xDD }, /* cells, tinybms.md 2.4 */
        { 0xAA, 0x03, 0x00, 0x20, 0x00, 0x16, 0, 0 }, /* live 32..53 */
    };
    uint8_t reply[300];
    for (int i = 0; i < 3; i++) {
        size_t n = gw_tiny_process(&d, now, tx, sizeof(tx));
        CHECK_EQ(i, n, 8);
        uint8_t w[8];
        memcpy(w, want[i], 8);
        seal(w, 6);
        for (int b = 0; b < 8; b++) {
            CHECK_EQ(i * 10 + b, tx[b], w[b]);
        }
        CHECK_EQ(i, gw_tiny_process(&d, now + 1, tx, sizeof(tx)), 0); /* one at a time */
        size_t r = fake_answer(&f, tx, n, reply);
        gw_tiny_rx(&d, now + 3, reply, r);
        now += 3 + d.cfg.bus_guard_ms;
    }
    CHECK_EQ(0, d.scan_done, true);
    CHECK_EQ(0, d.stats.requests, 3);
    CHECK_EQ(0, d.stats.replies_ok, 3);
    /* Next round: no settings read, at the poll period. */
    CHECK_EQ(1, gw_tiny_next_deadline(&d), 1000 + d.cfg.poll_period_ms);
}

static void test_tinybms_driver_decodes_pack(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    run(&d, &f, &now, 1500);
    const gw_pack_t *p = &d.packs[0];
    CHECK_EQ(0, p->present, true);
    CHECK_EQ(0, p->online, true);
    CHECK_EQ(0, p->address, 0);
    CHECK_EQ(0, p->cell_count, 16);
    CHECK_EQ(1, p->cell_mv[0], 3300);
    CHECK_EQ(1, p->cell_mv[15], 3315);
    CHECK_EQ(2, p->voltage_mv, 53120);
    CHECK_EQ(3, p->current_ma, -12500);
    CHECK_EQ(4, p->soc_pct, 82);      /* 81.5 % rounded */
    CHECK_EQ(4, p->soh_pct, 100);
    CHECK_EQ(5, p->full_mah, 280000);
    CHECK_EQ(5, p->remaining_mah, 228200);
    CHECK_EQ(6, p->temp_count, 2);    /* ext 1, then internal; ext 2 absent */
    CHECK_EQ(6, p->cell_temp_count, 1);
    CHECK_EQ(6, p->temp_dc[0], 250);
    CHECK_EQ(6, p->temp_dc[1], 300);
    CHECK_EQ(7, p->updated_ms > 1000, true);
    CHECK_EQ(8, d.settings.valid, true);
    CHECK_EQ(8, d.live.status, GW_TINY_ST_IDLE);
    CHECK_EQ(8, d.live.lifetime_s, 1000);
}

/* The bridge's scaling mistakes (tinybms.md 6.4, 6.10) must not appear. */
static void test_tinybms_driver_scaling_not_the_bridges(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    /* CN's real-device words: reg36/37 = 0x1EB8/0x425F (55.78 V), reg46/47 = 0xF208/0x04FA. */
    f.regs[36] = 0x1EB8;
    f.regs[37] = 0x425F;
    f.regs[46] = 0xF208;
    f.regs[47] = 0x04FA;
    f.regs[38] = 0x0000; /* 3.0 A as a float: 0x40400000 */
    f.regs[39] = 0x4040;
    f.regs[5] = 38720;      /* 3.8720 V in 0.1 mV (TV-2) */
    f.regs[45] = 45000;     /* SOH 90 % in 0.002 % */
    run(&d, &f, &now, 1500);
    const gw_pack_t *p = &d.packs[0];
    /* Reg 36 alone x 0.01 V would give 78.64 V. */
    CHECK_EQ(0, p->voltage_mv, 55780);
    /* A 16-bit x 0.1 A reading of reg 38 would give 0 A. */
    CHECK_EQ(1, p->current_ma, 3000);
    /* Reg 46 alone x 0.1 % would give 6195 %; UINT32 x 1e-6 % gives 83.55 %. */
    CHECK_EQ(2, p->soc_pct, 84);
    CHECK_EQ(3, p->cell_mv[0], 3300); /* untouched cell */
    CHECK_EQ(4, p->cell_mv[5], 3872); /* 0.1 mV, rounded to mV */
    /* SOH x 0.1 % would give 4500 %. */
    CHECK_EQ(5, p->soh_pct, 90);
    /* Regs 102/103 (recorded maxima, 0 here) are not limits: CCL/DCL come from
     * the OC cut-offs 318/317 less the 10 % margin. */
    CHECK_EQ(6, p->bms_ccl_da, 900);
    CHECK_EQ(7, p->bms_dcl_da, 1800);
}

static void test_tinybms_driver_wake_resend(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    f.asleep = true;
    uint8_t tx1[32], tx2[32], reply[300];
    size_t n1 = gw_tiny_process(&d, now, tx1, sizeof(tx1));
    CHECK_EQ(0, fake_answer(&f, tx1, n1, reply), 0); /* only wakes it */
    CHECK_EQ(1, gw_tiny_process(&d, now + d.cfg.reply_timeout_ms - 1, tx2, sizeof(tx2)), 0);
    size_t n2 = gw_tiny_process(&d, now + d.cfg.reply_timeout_ms, tx2, sizeof(tx2));
    CHECK_EQ(2, n2, n1);
    CHECK_EQ(2, memcmp(tx1, tx2, n1), 0); /* the identical frame again */
    CHECK_EQ(3, d.stats.wake_resends, 1);
    CHECK_EQ(3, d.stats.timeouts, 1);
    now += d.cfg.reply_timeout_ms;
    size_t r = fake_answer(&f, tx2, n2, reply);
    CHECK_EQ(4, r > 0, true);
    gw_tiny_rx(&d, now + 3, reply, r);
    run(&d, &f, &now, 2000);
    CHECK_EQ(4, d.packs[0].online, true);
    CHECK_EQ(4, d.stats.failures, 0);
    CHECK_EQ(4, d.stats.wake_resends, 1); /* an awake BMS gets each frame once */
}

static void test_tinybms_driver_sleep_mid_run(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    run(&d, &f, &now, 5000);
    uint32_t ok_before = d.stats.replies_ok;
    CHECK_EQ(0, d.stats.wake_resends, 0);
    f.asleep = true;
    run(&d, &f, &now, 9000);
    CHECK_EQ(1, d.stats.wake_resends, 1);
    CHECK_EQ(1, d.stats.failures, 0);
    CHECK_EQ(1, d.packs[0].online, true);
    CHECK_EQ(2, d.stats.replies_ok > ok_before + 4, true);
}

static void test_tinybms_driver_nack_counted_and_retried(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    run(&d, &f, &now, 1500);
    f.nack_next = 1;
    run(&d, &f, &now, 2500);
    CHECK_EQ(0, d.stats.nacks, 1);
    CHECK_EQ(0, d.stats.retries, 1);
    CHECK_EQ(0, d.stats.failures, 0);
    CHECK_EQ(0, d.packs[0].online, true);
    f.nack_next = 2; /* retry NACKed too: the round fails */
    run(&d, &f, &now, 3500);
    CHECK_EQ(1, d.stats.nacks, 3);
    CHECK_EQ(1, d.stats.failures, 1);
    CHECK_EQ(1, d.packs[0].online, true); /* one failure is not offline yet */
}

static void test_tinybms_driver_settings_nack_still_polls_live(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    f.nack_next = 2; /* settings read and its retry */
    run(&d, &f, &now, 1500);
    CHECK_EQ(0, d.stats.nacks, 2);
    CHECK_EQ(0, d.settings.valid, false);
    CHECK_EQ(0, d.packs[0].online, true);
    CHECK_EQ(0, d.packs[0].bms_limits_valid, false);
    CHECK_EQ(0, d.packs[0].full_mah, 0);
    CHECK_EQ(0, d.packs[0].cell_count, 16); /* from reg 53 */
}

static void test_tinybms_driver_crc_error_dropped(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    run(&d, &f, &now, 1500);
    f.regs[37] = (uint16_t)(float_bits(54.0f) >> 16);
    f.regs[36] = (uint16_t)float_bits(54.0f);
    f.bad_crc_next = 1;
    /* The corrupted frame is the next (cells) reply; its retry is clean. */
    f.regs[15] = 34000;
    run(&d, &f, &now, 2500);
    CHECK_EQ(0, d.stats.bad_crc, 1);
    CHECK_EQ(0, d.stats.retries, 1);
    CHECK_EQ(1, d.packs[0].cell_mv[15], 3400); /* from the good retry */
    CHECK_EQ(1, d.packs[0].voltage_mv, 54000);
    /* Corrupt both tries: the round fails and the old reading stays. */
    f.bad_crc_next = 2;
    f.regs[15] = 35000;
    run(&d, &f, &now, 3500);
    CHECK_EQ(2, d.stats.bad_crc, 3);
    CHECK_EQ(2, d.stats.failures, 1);
    CHECK_EQ(2, d.packs[0].cell_mv[15], 3400);
}

static void test_tinybms_driver_noise_before_reply(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    f.noise_before = 3;
    run(&d, &f, &now, 1500);
    CHECK_EQ(0, d.packs[0].online, true);
    CHECK_EQ(0, d.stats.bytes_dropped, 9);
    CHECK_EQ(0, d.stats.failures, 0);
}

static void test_tinybms_driver_offline_after_n_failures(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    run(&d, &f, &now, 1500);
    CHECK_EQ(0, d.stats.settings_reads, 1);
    f.silent = true;
    for (unsigned i = 1; i <= 3; i++) {
        run(&d, &f, &now, 1600 + 1000 * i);
        CHECK_EQ(i, d.stats.failures, i);
        CHECK_EQ(i, d.packs[0].online, i < 3);
        CHECK_EQ(i, d.packs[0].present, true);
    }
    CHECK_EQ(4, d.stats.wake_resends, 3); /* each failed round tried the wake resend */
    f.silent = false;
    f.regs[318] = 50; /* changed while it was away */
    run(&d, &f, &now, 6000);
    CHECK_EQ(5, d.packs[0].online, true);
    CHECK_EQ(5, d.stats.settings_reads, 2); /* re-read after coming back */
    CHECK_EQ(5, d.packs[0].bms_ccl_da, 450);
}

static void test_tinybms_driver_scan_done_when_absent(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    f.silent = true;
    run(&d, &f, &now, 1000 + 2 * d.cfg.reply_timeout_ms - 1);
    CHECK_EQ(0, d.scan_done, false);
    run(&d, &f, &now, 1000 + 2 * d.cfg.reply_timeout_ms + 1);
    CHECK_EQ(1, d.scan_done, true);
    CHECK_EQ(1, d.packs[0].present, false);
}

static void test_tinybms_driver_reboot_rereads_settings(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    run(&d, &f, &now, 3500);
    set_u32(&f, 32, 1003);
    run(&d, &f, &now, 4500);
    CHECK_EQ(0, d.stats.reboots_seen, 0);
    CHECK_EQ(0, f.settings_reads, 1);
    set_u32(&f, 32, 4);     /* lifetime went backwards */
    f.regs[300] = 3500;     /* and the settings changed with the reset */
    run(&d, &f, &now, 5500); /* live at 5000, settings at once, not at 6000 */
    CHECK_EQ(1, d.stats.reboots_seen, 1);
    CHECK_EQ(1, f.settings_reads, 2);
    CHECK_EQ(1, d.settings.fully_charged_mv, 3500);
    CHECK_EQ(1, d.packs[0].bms_max_charge_mv, 3500 * 16);
    run(&d, &f, &now, 8000);
    CHECK_EQ(2, d.stats.reboots_seen, 1); /* counter grows again from 4 */
}

static void test_tinybms_driver_settings_feed_bms_fields(void **state)
{
    (void)state;
    const struct {
        uint16_t fully_mv, ov_mv;
        int16_t ext1_dc;
        uint16_t status;
        uint16_t min_cell_raw;
        uint32_t max_charge_mv;
        bool charge_off, discharge_off;
    } rows[] = {
        { 3650, 3800, 250, GW_TINY_ST_IDLE, 33000, 3650u * 16, false, false },
        { 3700, 3600, 250, GW_TINY_ST_IDLE, 33000, 3600u * 16, false, false }, /* OV below fully */
        { 3650, 3800, -10, GW_TINY_ST_IDLE, 33000, 3650u * 16, true, false },  /* below 0 C cut-off */
        { 3650, 3800, 0, GW_TINY_ST_CHARGING, 33000, 3650u * 16, false, false }, /* at it: allowed */
        { 3650, 3800, 250, GW_TINY_ST_FAULT, 33000, 3650u * 16, true, true },
        { 3650, 3800, 250, GW_TINY_ST_DISCHARGING, 28000, 3650u * 16, false, true }, /* UV */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_tiny_driver_t d;
        fake_t f;
        uint64_t now;
        setup(&d, &f, &now);
        f.regs[300] = rows[i].fully_mv;
        f.regs[315] = rows[i].ov_mv;
        f.regs[42] = (uint16_t)rows[i].ext1_dc;
        f.regs[50] = rows[i].status;
        f.regs[0] = rows[i].min_cell_raw;
        run(&d, &f, &now, 1500);
        const gw_pack_t *p = &d.packs[0];
        CHECK_EQ(i, p->bms_limits_valid, true);
        CHECK_EQ(i, p->bms_max_charge_mv, rows[i].max_charge_mv);
        CHECK_EQ(i, p->bms_ccl_da, 900);
        CHECK_EQ(i, p->bms_dcl_da, 1800);
        CHECK_EQ(i, p->bms_charge_off, rows[i].charge_off);
        CHECK_EQ(i, p->bms_discharge_off, rows[i].discharge_off);
    }
}

static void test_tinybms_driver_bad_settings_give_no_limits(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    f.regs[307] = 20; /* series cells out of 4..16 */
    run(&d, &f, &now, 1500);
    CHECK_EQ(0, d.stats.bad_settings, 1);
    CHECK_EQ(0, d.settings.valid, false);
    CHECK_EQ(0, d.packs[0].bms_limits_valid, false);
    CHECK_EQ(0, d.packs[0].bms_ccl_da, 0);
    CHECK_EQ(0, d.packs[0].online, true);
}

static void test_tinybms_driver_14s_cells_right_aligned(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    f.regs[307] = 14;
    f.regs[0] = 0;
    f.regs[1] = 0;
    run(&d, &f, &now, 1500);
    CHECK_EQ(0, d.packs[0].cell_count, 14);
    CHECK_EQ(0, d.packs[0].cell_mv[0], 3302); /* reg 2 */
    CHECK_EQ(0, d.packs[0].cell_mv[13], 3315);
    CHECK_EQ(0, d.packs[0].bms_max_charge_mv, 3650u * 14);
    /* Left-aligned device: regs 14, 15 zero. */
    setup(&d, &f, &now);
    f.regs[307] = 14;
    f.regs[14] = 0;
    f.regs[15] = 0;
    run(&d, &f, &now, 1500);
    CHECK_EQ(1, d.packs[0].cell_mv[0], 3300);
    CHECK_EQ(1, d.packs[0].cell_mv[13], 3313);
}

static void test_tinybms_driver_implausible_values_rejected(void **state)
{
    (void)state;
    const struct {
        unsigned reg;
        uint16_t value;
    } rows[] = {
        { 37, 0x7FC0 }, /* pack V NaN */
        { 39, 0x7F80 }, /* pack I infinity */
        { 47, 0x0600 }, /* SOC > 100 % */
        { 3, 60000 },   /* a cell above 5 V */
        { 48, 0x7000 }, /* internal temperature absurd */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_tiny_driver_t d;
        fake_t f;
        uint64_t now;
        setup(&d, &f, &now);
        f.regs[rows[i].reg] = rows[i].value;
        if (rows[i].reg == 37 || rows[i].reg == 39) {
            f.regs[rows[i].reg - 1] = 0;
        }
        run(&d, &f, &now, 1500);
        CHECK_EQ(i, d.packs[0].online, false);
        CHECK_EQ(i, d.packs[0].present, false);
        CHECK_EQ(i, d.stats.bad_frame, 2); /* try and retry */
    }
}

static void test_tinybms_driver_garbage_never_crashes(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    uint8_t tx[32];
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        (void)gw_tiny_process(&d, now, tx, sizeof(tx));
        uint8_t junk[64];
        for (size_t i = 0; i < sizeof(junk); i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 16);
            if ((seed >> 8) % 7 == 0) {
                junk[i] = 0xAA;
            }
        }
        gw_tiny_rx(&d, now, junk, (size_t)(seed % sizeof(junk)));
        now += 37;
    }
    CHECK_EQ(0, d.packs[0].present, false);
    CHECK_EQ(0, d.stats.bad_frame + d.stats.bad_crc > 0, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tinybms_driver_first_round_requests_are_exact),
        cmocka_unit_test(test_tinybms_driver_decodes_pack),
        cmocka_unit_test(test_tinybms_driver_scaling_not_the_bridges),
        cmocka_unit_test(test_tinybms_driver_wake_resend),
        cmocka_unit_test(test_tinybms_driver_sleep_mid_run),
        cmocka_unit_test(test_tinybms_driver_nack_counted_and_retried),
        cmocka_unit_test(test_tinybms_driver_settings_nack_still_polls_live),
        cmocka_unit_test(test_tinybms_driver_crc_error_dropped),
        cmocka_unit_test(test_tinybms_driver_noise_before_reply),
        cmocka_unit_test(test_tinybms_driver_offline_after_n_failures),
        cmocka_unit_test(test_tinybms_driver_scan_done_when_absent),
        cmocka_unit_test(test_tinybms_driver_reboot_rereads_settings),
        cmocka_unit_test(test_tinybms_driver_settings_feed_bms_fields),
        cmocka_unit_test(test_tinybms_driver_bad_settings_give_no_limits),
        cmocka_unit_test(test_tinybms_driver_14s_cells_right_aligned),
        cmocka_unit_test(test_tinybms_driver_implausible_values_rejected),
        cmocka_unit_test(test_tinybms_driver_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
