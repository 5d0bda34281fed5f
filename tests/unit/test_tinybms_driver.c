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
    /* Event log answered to 0x11, oldest first; the BMS timestamp in the
     * reply is the lifetime counter (regs 32-33). */
    struct { uint32_t ts24; uint8_t id; } events[16];
    unsigned n_events;
    int ev_nack_next;     /* NACK this many 0x11 requests */
    int ev_bad_crc_next;  /* corrupt the CRC of this many 0x11 replies */
    int ev_bad_pl_next;   /* send this many 0x11 replies with a PL not 4 + 4n */
    unsigned events_reads;
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

static void add_event(fake_t *f, uint32_t ts24, uint8_t id)
{
    if (f->n_events < sizeof(f->events) / sizeof(f->events[0])) {
        f->events[f->n_events].ts24 = ts24 & 0xFFFFFFu;
        f->events[f->n_events].id = id;
        f->n_events++;
    }
}

/* The reply to 0x11: AA 11 PL T0..T3 {ts_L ts_M ts_H id}... CRC. */
static size_t fake_events(fake_t *f, uint8_t *r)
{
    f->events_reads++;
    if (f->ev_nack_next > 0) {
        f->ev_nack_next--;
        r[0] = 0xAA;
        r[1] = 0x00;
        r[2] = 0x11;
        r[3] = 0x00;
        return seal(r, 4);
    }
    uint32_t now_s = (uint32_t)f->regs[32] | ((uint32_t)f->regs[33] << 16);
    r[0] = 0xAA;
    r[1] = 0x11;
    r[2] = (uint8_t)(4 + 4 * f->n_events);
    r[3] = (uint8_t)now_s;
    r[4] = (uint8_t)(now_s >> 8);
    r[5] = (uint8_t)(now_s >> 16);
    r[6] = (uint8_t)(now_s >> 24);
    size_t k = 7;
    for (unsigned i = 0; i < f->n_events; i++) {
        r[k++] = (uint8_t)f->events[i].ts24;
        r[k++] = (uint8_t)(f->events[i].ts24 >> 8);
        r[k++] = (uint8_t)(f->events[i].ts24 >> 16);
        r[k++] = f->events[i].id;
    }
    if (f->ev_bad_pl_next > 0) {
        f->ev_bad_pl_next--;
        r[2] = (uint8_t)(r[2] + 2); /* two bytes promised that never come */
    }
    size_t n = seal(r, k);
    if (f->ev_bad_crc_next > 0) {
        f->ev_bad_crc_next--;
        r[k - 1] ^= 0x01; /* flips the last event's id (0x61 <-> 0x60), CRC left as it was */
    }
    return n;
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
    if (len == 4 && req[1] == 0x11 && gw_tiny_crc16(req, len) == 0) {
        return fake_events(f, out + k) + k;
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
    static const uint8_t want_events[4] = { 0xAA, 0x11, 0xBF, 0x1C }; /* tinybms.md 2.4 */
    uint8_t reply[300];
    size_t n0 = gw_tiny_process(&d, now, tx, sizeof(tx));
    CHECK_EQ(9, n0, 4);
    for (int b = 0; b < 4; b++) {
        CHECK_EQ(90 + b, tx[b], want_events[b]);
    }
    gw_tiny_rx(&d, now + 3, reply, fake_answer(&f, tx, n0, reply));
    now += 3 + d.cfg.bus_guard_ms;
    static const uint8_t want[3][8] = {
        { 0xAA, 0x03, 0x01, 0x2C, 0x00, 0x15, 0, 0 }, /* settings 300..320 */
        { 0xAA, 0x03, 0x00, 0x00, 0x00, 0x10, 0x5D, 0xDD }, /* cells, tinybms.md 2.4 */
        { 0xAA, 0x03, 0x00, 0x20, 0x00, 0x16, 0, 0 }, /* live 32..53 */
    };
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
    CHECK_EQ(0, d.stats.requests, 4);
    CHECK_EQ(0, d.stats.replies_ok, 4);
    CHECK_EQ(0, d.stats.event_reads, 1);
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
    CHECK_EQ(0, d.stats.bytes_dropped, 12); /* 4 replies: events, settings, cells, live */
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
    set_u32(&f, 32, 4);     /* lifetime went backwards: another BMS */
    f.n_events = 0;
    add_event(&f, 2, 0x61); /* its own log, on its own clock */
    f.regs[300] = 3500;     /* and other settings */
    run(&d, &f, &now, 5500); /* live at 5000, settings at once, not at 6000 */
    CHECK_EQ(1, d.stats.reboots_seen, 1);
    CHECK_EQ(1, f.settings_reads, 2);
    CHECK_EQ(1, d.settings.fully_charged_mv, 3500);
    CHECK_EQ(1, d.packs[0].bms_max_charge_mv, 3500 * 16);
    run(&d, &f, &now, 8000);
    CHECK_EQ(2, d.stats.reboots_seen, 1); /* counted once, not again from its event log */
    CHECK_EQ(2, d.live.started_mark_s, 2);
}

/* The lifetime counter keeps counting across a reset; the event log shows
 * the restart. Detected within one poll period plus a round. */
static void test_tinybms_driver_reboot_event_rereads_settings(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    add_event(&f, 10, 0x61);   /* booted long ago */
    add_event(&f, 500, 0x64);
    run(&d, &f, &now, 3500);
    CHECK_EQ(0, d.stats.reboots_seen, 0);
    CHECK_EQ(0, d.live.started_mark_s, 10);
    CHECK_EQ(0, f.settings_reads, 1);
    /* Reboot at 3700 ms: the counter goes on (1000 -> 1003), a new started
     * event appears and the settings changed. */
    now = 3700;
    set_u32(&f, 32, 1003);
    add_event(&f, 1002, 0x61);
    f.regs[300] = 3500;
    uint64_t bound_ms = 3700 + d.cfg.poll_period_ms + 4 * (3 + d.cfg.bus_guard_ms);
    run(&d, &f, &now, bound_ms);
    CHECK_EQ(1, d.stats.reboots_seen, 1);
    CHECK_EQ(1, f.settings_reads, 2);     /* in the same round, before the live data */
    CHECK_EQ(1, d.settings.fully_charged_mv, 3500);
    CHECK_EQ(1, d.packs[0].bms_max_charge_mv, 3500u * 16);
    CHECK_EQ(1, d.live.started_mark_s, 1002);
    CHECK_EQ(1, d.packs[0].online, true);
    set_u32(&f, 32, 1010);
    run(&d, &f, &now, 10000);
    CHECK_EQ(2, d.stats.reboots_seen, 1); /* the same event is not a second reboot */
    CHECK_EQ(2, f.settings_reads, 2);
    add_event(&f, 1009, 0x61);            /* a second reboot */
    run(&d, &f, &now, 11100);
    CHECK_EQ(3, d.stats.reboots_seen, 2);
    CHECK_EQ(3, f.settings_reads, 3);
}

/* The first event read after init only records the mark: a started event
 * from before, or none at all, is not a reboot. */
static void test_tinybms_driver_old_started_event_not_reboot(void **state)
{
    (void)state;
    const struct {
        unsigned n;
        uint32_t ts[3];
        uint32_t mark_s;
    } rows[] = {
        { 1, { 5 }, 5 },
        { 3, { 5, 700, 300 }, 700 }, /* any order: the newest is the mark */
        { 0, { 0 }, 1000 },          /* none listed: the BMS timestamp is the mark */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_tiny_driver_t d;
        fake_t f;
        uint64_t now;
        setup(&d, &f, &now);
        for (unsigned k = 0; k < rows[i].n; k++) {
            add_event(&f, rows[i].ts[k], 0x61);
        }
        run(&d, &f, &now, 6500);
        CHECK_EQ(i, d.stats.event_reads, 6);
        CHECK_EQ(i, d.stats.reboots_seen, 0);
        CHECK_EQ(i, f.settings_reads, 1);
        CHECK_EQ(i, d.live.started_mark_s, rows[i].mark_s);
        /* An old started event showing up later is still not a reboot. */
        add_event(&f, 3, 0x61);
        run(&d, &f, &now, 8500);
        CHECK_EQ(i, d.stats.reboots_seen, 0);
    }
}

/* A corrupted 0x11 reply is counted and dropped: no false reboot, and the
 * round still delivers the measurements. */
static void test_tinybms_driver_corrupt_events_reply_dropped(void **state)
{
    (void)state;
    enum { BAD_CRC, BAD_PL, NACK, FUTURE };
    const struct {
        int kind;
        uint32_t bad_crc, bad_frame, nacks, timeouts, reads_failed;
    } rows[] = {
        { BAD_CRC, 2, 0, 0, 0, 1 }, /* try and retry both corrupt */
        { BAD_PL, 0, 1, 0, 1, 0 },  /* no frame: resync, silence, the identical resend is clean */
        { NACK, 0, 0, 2, 0, 1 },
        { FUTURE, 0, 2, 0, 0, 1 },  /* started at 2000 s while the BMS clock says 1000 s */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_tiny_driver_t d;
        fake_t f;
        uint64_t now;
        setup(&d, &f, &now);
        add_event(&f, 10, 0x61);
        add_event(&f, 900, 0x60); /* an unassigned id; one CRC-bit flip from 0x61 */
        run(&d, &f, &now, 1500);
        CHECK_EQ(i, d.stats.event_reads, 1);
        uint32_t ok_before = d.stats.replies_ok;
        switch (rows[i].kind) {
        case BAD_CRC: f.ev_bad_crc_next = 2; break;
        case BAD_PL: f.ev_bad_pl_next = 1; break;
        case NACK: f.ev_nack_next = 2; break;
        case FUTURE: add_event(&f, 2000, 0x61); break;
        }
        f.regs[15] = 34000;
        run(&d, &f, &now, 2900);
        CHECK_EQ(i, d.stats.reboots_seen, 0);
        CHECK_EQ(i, d.stats.bad_crc, rows[i].bad_crc);
        CHECK_EQ(i, d.stats.bad_frame, rows[i].bad_frame);
        CHECK_EQ(i, d.stats.nacks, rows[i].nacks);
        CHECK_EQ(i, d.stats.timeouts, rows[i].timeouts);
        CHECK_EQ(i, d.stats.event_reads_failed, rows[i].reads_failed);
        CHECK_EQ(i, d.stats.failures, 0);
        CHECK_EQ(i, d.live.started_mark_s, 10);
        CHECK_EQ(i, d.packs[0].cell_mv[15], 3400); /* the round went on */
        CHECK_EQ(i, d.stats.replies_ok > ok_before + 1, true);
        CHECK_EQ(i, f.settings_reads, 1);
    }
}

/* Only id 0x61 is a restart: newer events of every other kind are ignored. */
static void test_tinybms_driver_other_event_ids_ignored(void **state)
{
    (void)state;
    static const uint8_t ids[] = { 0x00, 0x02, 0x0E, 0x31, 0x60, 0x62,
                                   0x63, 0x64, 0x65, 0x66, 0x7D, 0xE1 };
    for (size_t i = 0; i < sizeof(ids); i++) {
        gw_tiny_driver_t d;
        fake_t f;
        uint64_t now;
        setup(&d, &f, &now);
        add_event(&f, 10, 0x61);
        run(&d, &f, &now, 1500);
        set_u32(&f, 32, 1005);
        add_event(&f, 1004, ids[i]);
        run(&d, &f, &now, 4500);
        CHECK_EQ(i, d.stats.event_reads, 4);
        CHECK_EQ(i, d.stats.reboots_seen, 0);
        CHECK_EQ(i, d.stats.bad_frame, 0);
        CHECK_EQ(i, f.settings_reads, 1);
        CHECK_EQ(i, d.live.started_mark_s, 10);
    }
}

/* Event times are 24-bit: a restart just after the BMS clock passes 2^24 s
 * is still newer than one just before. */
static void test_tinybms_driver_reboot_event_across_24bit_wrap(void **state)
{
    (void)state;
    gw_tiny_driver_t d;
    fake_t f;
    uint64_t now;
    setup(&d, &f, &now);
    set_u32(&f, 32, 0x00FFFFF8);
    add_event(&f, 0xFFFFF0, 0x61);
    run(&d, &f, &now, 1500);
    CHECK_EQ(0, d.live.started_mark_s, 0x00FFFFF0);
    set_u32(&f, 32, 0x01000010);
    add_event(&f, 0x000005, 0x61); /* 0x01000005 */
    run(&d, &f, &now, 2500);
    CHECK_EQ(1, d.stats.reboots_seen, 1);
    CHECK_EQ(1, d.live.started_mark_s, 0x01000005);
    CHECK_EQ(1, d.stats.bad_frame, 0);
    CHECK_EQ(1, f.settings_reads, 2);
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
        cmocka_unit_test(test_tinybms_driver_reboot_event_rereads_settings),
        cmocka_unit_test(test_tinybms_driver_old_started_event_not_reboot),
        cmocka_unit_test(test_tinybms_driver_corrupt_events_reply_dropped),
        cmocka_unit_test(test_tinybms_driver_other_event_ids_ignored),
        cmocka_unit_test(test_tinybms_driver_reboot_event_across_24bit_wrap),
        cmocka_unit_test(test_tinybms_driver_settings_feed_bms_fields),
        cmocka_unit_test(test_tinybms_driver_bad_settings_give_no_limits),
        cmocka_unit_test(test_tinybms_driver_14s_cells_right_aligned),
        cmocka_unit_test(test_tinybms_driver_implausible_values_rejected),
        cmocka_unit_test(test_tinybms_driver_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
