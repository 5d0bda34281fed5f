/* SPDX-License-Identifier: MIT */
/* Unit tests for the Topband emulator: measurement, request assembly, timing, fault knobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/topband/emu_topband.h"

#define POLL_ADR1 "~21014642E00201FD34\r"
#define POLL_ADR0 "~21004642E00200FD36\r"
#define POLL_ADR15 "~210F4642E0020FFD0A\r"

/* A pack filled by hand (no sim functions): 16 cells 3.300..3.315 V,
 * temperatures 20..35 degC, SOC 50 %, 100 Ah, discharging 25 A. */
static void make_pack(sim_pack_t *p, int ncells)
{
    memset(p, 0, sizeof(*p));
    p->ncells = ncells;
    for (int i = 0; i < ncells; i++) {
        p->cells[i].v = 3.300 + 0.001 * i;
        p->cells[i].temp_c = 20.0 + i;
        p->cells[i].soc = 0.5;
        p->cells[i].capacity_ah = 100.0;
    }
    p->capacity_ah = 100.0;
    p->ambient_c = 22.0;
    p->current_a = -25.0;
    p->cycles_base = 10;
    p->throughput_ah = 1000.0; /* 5 full cycles */
    p->charge_fet = true;
    p->discharge_fet = true;
}

/* Independent checksum check: sum of the ASCII codes VER..INFO, two's complement. */
static bool frame_checksum_ok(const uint8_t *f, size_t n)
{
    if (n < 18 || f[0] != '~' || f[n - 1] != '\r') {
        return false;
    }
    unsigned sum = 0;
    for (size_t i = 1; i < n - 5; i++) {
        sum += f[i];
    }
    unsigned want = (0x10000u - (sum & 0xFFFFu)) & 0xFFFFu;
    char hex[5];
    snprintf(hex, sizeof(hex), "%04X", want);
    return memcmp(f + n - 5, hex, 4) == 0;
}

static size_t feed_str(emu_topband_t *e, const char *s, uint64_t now_us)
{
    emu_tb_feed(e, (const uint8_t *)s, strlen(s), now_us);
    return strlen(s);
}

static void test_emu_topband_measure_eet(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_tb_analog_t a;
    emu_tb_measure(&p, EMU_TB_EET, &a);
    assert_int_equal(a.ncells, 16);
    assert_int_equal(a.cell_mv[0], 3300);
    assert_int_equal(a.cell_mv[15], 3315);
    assert_int_equal(a.ntemps, 7);
    static const double want_t[7] = {21.5, 25.5, 29.5, 33.5, 28.5, 22.0, 35.5};
    for (size_t row = 0; row < 7; row++) {
        if (a.temp_c[row] < want_t[row] - 1e-9 || a.temp_c[row] > want_t[row] + 1e-9) {
            fail_msg("sensor %zu: %.3f want %.3f", row, a.temp_c[row], want_t[row]);
        }
    }
    assert_true(a.voltage_v > 52.919 && a.voltage_v < 52.921); /* 52920 mV */
    assert_true(a.current_a == -25.0);
    assert_int_equal(a.soc_pct, 50);
    assert_true(a.remaining_ah > 49.999 && a.remaining_ah < 50.001);
    assert_true(a.full_ah == 100.0);
    assert_int_equal(a.cycles, 15);
    assert_int_equal(a.soh_pct, 100);
    assert_true(a.charge_fet && a.discharge_fet);
}

static void test_emu_topband_measure_topbms_15s(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 15);
    emu_tb_analog_t a;
    emu_tb_measure(&p, EMU_TB_TOPBMS, &a);
    assert_int_equal(a.ncells, 15);
    assert_int_equal(a.ntemps, 6);
    /* sensor 4 covers cells 13..15 (temperatures 32, 33, 34) */
    assert_true(a.temp_c[3] > 32.999 && a.temp_c[3] < 33.001);
    assert_true(a.temp_c[4] == 22.0);                             /* environment */
    assert_true(a.temp_c[5] > 34.499 && a.temp_c[5] < 34.501);    /* 34 + 0.02 x 25 */
}

static void test_emu_topband_measure_clamps(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 4);
    p.cells[0].v = 70.0;
    p.cells[1].v = -1.0;
    for (int i = 0; i < 4; i++) {
        p.cells[i].soc = 1.2;
    }
    p.capacity_ah = 0.0;
    emu_tb_analog_t a;
    emu_tb_measure(&p, EMU_TB_EET, &a);
    assert_int_equal(a.cell_mv[0], 65535);
    assert_int_equal(a.cell_mv[1], 0);
    assert_int_equal(a.soc_pct, 100);
    assert_true(a.remaining_ah == 0.0); /* no capacity, no division by it */
    assert_int_equal(a.cycles, 10);
    p.ncells = 1000; /* corrupt: must not read past cells[] */
    emu_tb_measure(&p, EMU_TB_EET, &a);
    assert_int_equal(a.ncells, 32);
    p.ncells = -3;
    emu_tb_measure(&p, EMU_TB_EET, &a);
    assert_int_equal(a.ncells, 0);
}

static void test_emu_topband_reply_timing_and_shape(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    assert_int_equal(emu_tb_attach(&e, 1, &p, EMU_TB_EET), 0);
    feed_str(&e, POLL_ADR1, 1000);
    uint8_t out[EMU_TB_MAX_REPLY];
    uint64_t start = 0;
    size_t n = emu_tb_take_reply(&e, out, sizeof(out), &start);
    assert_int_equal(n, 18 + 128); /* EET 16 cells: LENID 0x80 */
    assert_int_equal(start, 1000 + 20000);
    assert_memory_equal(out, "~210146008080", 13);
    assert_memory_equal(out + 13, "0110", 4); /* echo 01, 16 cells */
    assert_memory_equal(out + 17, "0CE4", 4); /* 3300 mV */
    assert_true(frame_checksum_ok(out, n));
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
    assert_int_equal(e.slots[1].requests, 1);
    assert_int_equal(e.slots[1].replies, 1);
    assert_int_equal(e.bad_requests, 0);
}

static void test_emu_topband_chunked_with_noise(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 15);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 1, &p, EMU_TB_TOPBMS);
    static const char bus[] = "\x00\xFF" "noise\r\n" POLL_ADR1;
    size_t len = sizeof(bus) - 1;
    uint8_t out[EMU_TB_MAX_REPLY];
    uint64_t start = 0;
    for (size_t i = 0; i < len; i++) {
        emu_tb_feed(&e, (const uint8_t *)bus + i, 1, 500 + i);
        if (i + 1 < len) {
            assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
        }
    }
    size_t n = emu_tb_take_reply(&e, out, sizeof(out), &start);
    /* TOPBMS 15 cells: INFO 1+1+30+1+12+6+1+12 = 64 bytes, LENID 0x80 */
    assert_int_equal(n, 18 + 128);
    assert_memory_equal(out, "~520146008080010F", 17);
    assert_int_equal(start, 500 + len - 1 + 20000);
    assert_true(frame_checksum_ok(out, n));
    assert_int_equal(e.bad_requests, 0);
}

/* Error replies carry the family's VER, the request's ADR, the RTN, no INFO. */
static void test_emu_topband_error_replies(void **state)
{
    (void)state;
    static const struct { const char *req; const char *reply_head; } rows[] = {
        {"~21014642E00201FD35\r", "~520146020000"}, /* bad CHKSUM */
        {"~21014642F00201FD33\r", "~520146030000"}, /* bad LCHKSUM */
        {"~20014642E00201FD35\r", "~520146010000"}, /* VER 0x20 */
        {"~2101464D0000FD9A\r", "~520146040000"},   /* CID2 not supported */
        {"~21014647E00201FD2F\r", "~520146050000"}, /* INFO where none belongs */
    };
    sim_pack_t p;
    make_pack(&p, 16);
    for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
        emu_topband_t e;
        emu_tb_init(&e, 1);
        emu_tb_attach(&e, 1, &p, EMU_TB_TOPBMS);
        feed_str(&e, rows[row].req, 0);
        uint8_t out[EMU_TB_MAX_REPLY];
        uint64_t start;
        size_t n = emu_tb_take_reply(&e, out, sizeof(out), &start);
        if (n != 18 || memcmp(out, rows[row].reply_head, 13) != 0 || !frame_checksum_ok(out, n)) {
            fail_msg("row %zu: %zu bytes '%.*s' want head %s", row, n, (int)n, (const char *)out,
                     rows[row].reply_head);
        }
        if (e.bad_requests != 1) {
            fail_msg("row %zu: bad_requests %u", row, e.bad_requests);
        }
    }
}

static void test_emu_topband_silence_without_pack(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 1, &p, EMU_TB_EET);
    uint8_t out[EMU_TB_MAX_REPLY];
    uint64_t start;
    feed_str(&e, POLL_ADR0, 0); /* nobody at 0 */
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
    feed_str(&e, "~21104642E00210FD34\r", 0); /* ADR 0x10: beyond the bus */
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
    feed_str(&e, "~2G014642E00201FD34\r", 0); /* address unreadable */
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
    assert_int_equal(e.bad_requests, 1);
    p.disconnected = true;
    feed_str(&e, POLL_ADR1, 0);
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
    assert_int_equal(emu_tb_attach(&e, 16, &p, EMU_TB_EET), -1);
}

static void test_emu_topband_new_request_drops_pending(void **state)
{
    (void)state;
    sim_pack_t p0, p1;
    make_pack(&p0, 16);
    make_pack(&p1, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 0, &p0, EMU_TB_EET);
    emu_tb_attach(&e, 1, &p1, EMU_TB_EET);
    feed_str(&e, POLL_ADR0, 100);
    feed_str(&e, POLL_ADR1, 200);
    uint8_t out[EMU_TB_MAX_REPLY];
    uint64_t start;
    size_t n = emu_tb_take_reply(&e, out, sizeof(out), &start);
    assert_int_equal(n, 146);
    assert_memory_equal(out, "~2101", 5);
    assert_int_equal(start, 200 + 20000);
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
}

static void test_emu_topband_soi_restarts_and_overlong(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 1, &p, EMU_TB_EET);
    uint8_t out[EMU_TB_MAX_REPLY];
    uint64_t start;
    feed_str(&e, "~2101~21014642E00201FD34\r", 0);
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 146);
    assert_int_equal(e.bad_requests, 1);

    uint8_t junk[2000];
    memset(junk, '2', sizeof(junk));
    junk[0] = '~';
    emu_tb_feed(&e, junk, sizeof(junk), 0);
    feed_str(&e, "\r", 0);
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 0);
    assert_int_equal(e.bad_requests, 2);
    feed_str(&e, POLL_ADR1, 0);
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 146);
    /* A too small buffer leaves the reply pending. */
    feed_str(&e, POLL_ADR1, 0);
    assert_int_equal(emu_tb_take_reply(&e, out, 145, &start), 0);
    assert_int_equal(emu_tb_take_reply(&e, out, sizeof(out), &start), 146);
}

static void test_emu_topband_other_commands(void **state)
{
    (void)state;
    static const struct { const char *req; size_t len; const char *head; } rows[] = {
        {"~2101464F0000FD98\r", 18, "~210146000000"},             /* 0x4F: empty INFO */
        {"~210146510000FDAC\r", 18 + 64, "~21014600C040"},        /* 0x51: raw ASCII */
        {"~210146470000FDA7\r", 18 + 48, "~21014600D0300E42"},    /* 0x47: 3650 mV first */
        {"~21014644E00201FD32\r", 18 + 74, "~21014600204A0110"},  /* 0x44: 37 bytes */
        {"~210146440000FDAA\r", 18 + 74, "~21014600204A0110"},    /* echo = ADR */
        {"~21014642E002FFFD09\r", 18 + 128, "~210146008080FF10"}, /* echo of 0xFF */
    };
    sim_pack_t p;
    make_pack(&p, 16);
    for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
        emu_topband_t e;
        emu_tb_init(&e, 1);
        emu_tb_attach(&e, 1, &p, EMU_TB_EET);
        feed_str(&e, rows[row].req, 0);
        uint8_t out[EMU_TB_MAX_REPLY];
        uint64_t start;
        size_t n = emu_tb_take_reply(&e, out, sizeof(out), &start);
        size_t head = strlen(rows[row].head);
        if (n != rows[row].len || memcmp(out, rows[row].head, head) != 0 ||
            !frame_checksum_ok(out, n)) {
            fail_msg("row %zu: %zu bytes '%.*s' want %zu bytes head %s", row, n, (int)n,
                     (const char *)out, rows[row].len, rows[row].head);
        }
    }
}

static size_t poll_once(emu_topband_t *e, const char *req, uint8_t *out, uint64_t *start)
{
    feed_str(e, req, 1000);
    return emu_tb_take_reply(e, out, EMU_TB_MAX_REPLY, start);
}

static void test_emu_topband_fault_silent_and_late(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 1, &p, EMU_TB_EET);
    uint8_t out[EMU_TB_MAX_REPLY];
    uint64_t start = 0;
    emu_tb_set_faults(&e, 1, EMU_TB_F_SILENT, 0);
    assert_int_equal(poll_once(&e, POLL_ADR1, out, &start), 0);
    assert_int_equal(e.slots[1].requests, 1);
    assert_int_equal(e.slots[1].replies, 0);
    emu_tb_set_faults(&e, 1, EMU_TB_F_LATE, 700);
    assert_int_equal(poll_once(&e, POLL_ADR1, out, &start), 146);
    assert_int_equal(start, 1000 + 20000 + 700000);
    emu_tb_set_faults(&e, 1, 0, 700); /* late_ms without the flag has no effect */
    assert_int_equal(poll_once(&e, POLL_ADR1, out, &start), 146);
    assert_int_equal(start, 1000 + 20000);
    e.turnaround_us = 5000;
    assert_int_equal(poll_once(&e, POLL_ADR1, out, &start), 146);
    assert_int_equal(start, 1000 + 5000);
}

static void test_emu_topband_fault_frame_damage(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 1, &p, EMU_TB_EET);
    emu_tb_attach(&e, 15, &p, EMU_TB_EET);
    uint8_t good[EMU_TB_MAX_REPLY], out[EMU_TB_MAX_REPLY];
    uint64_t start;
    size_t n_good = poll_once(&e, POLL_ADR1, good, &start);
    assert_int_equal(n_good, 146);

    emu_tb_set_faults(&e, 1, EMU_TB_F_BAD_CHECKSUM, 0);
    size_t n = poll_once(&e, POLL_ADR1, out, &start);
    assert_int_equal(n, n_good);
    assert_false(frame_checksum_ok(out, n));
    assert_memory_equal(out, good, n - 5);            /* only the CHKSUM differs */
    unsigned chk_good, chk_bad;
    assert_int_equal(sscanf((const char *)good + n - 5, "%4X", &chk_good), 1);
    assert_int_equal(sscanf((const char *)out + n - 5, "%4X", &chk_bad), 1);
    assert_int_equal(chk_bad, (chk_good + 1) & 0xFFFF);

    emu_tb_set_faults(&e, 1, EMU_TB_F_TRUNCATED, 0);
    n = poll_once(&e, POLL_ADR1, out, &start);
    assert_int_equal(n, n_good / 2);
    assert_memory_equal(out, good, n);
    assert_true(memchr(out, '\r', n) == NULL);

    emu_tb_set_faults(&e, 1, EMU_TB_F_WRONG_ADDRESS, 0);
    n = poll_once(&e, POLL_ADR1, out, &start);
    assert_int_equal(n, n_good);
    assert_memory_equal(out, "~2102", 5);
    assert_true(frame_checksum_ok(out, n));
    emu_tb_set_faults(&e, 15, EMU_TB_F_WRONG_ADDRESS, 0);
    n = poll_once(&e, POLL_ADR15, out, &start);
    assert_memory_equal(out, "~2100", 5); /* wraps mod 16 */
}

static void test_emu_topband_fault_garbage_deterministic(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    uint8_t a[EMU_TB_MAX_REPLY], b[EMU_TB_MAX_REPLY], c[EMU_TB_MAX_REPLY];
    uint64_t start;
    emu_topband_t e1, e2, e3;
    emu_tb_init(&e1, 42);
    emu_tb_init(&e2, 42);
    emu_tb_init(&e3, 43);
    emu_topband_t *all[3] = {&e1, &e2, &e3};
    uint8_t *outs[3] = {a, b, c};
    size_t n[3];
    for (size_t i = 0; i < 3; i++) {
        emu_tb_attach(all[i], 1, &p, EMU_TB_EET);
        emu_tb_set_faults(all[i], 1, EMU_TB_F_GARBAGE, 0);
        n[i] = poll_once(all[i], POLL_ADR1, outs[i], &start);
        assert_int_equal(n[i], 146);
    }
    assert_memory_equal(a, b, n[0]);
    assert_memory_not_equal(a, c, n[0]);
    assert_false(a[0] == '~' && memcmp(a, "~210146", 7) == 0);
    /* The next garbage reply differs from the first: the PRNG moves on. */
    assert_int_equal(poll_once(&e1, POLL_ADR1, c, &start), 146);
    assert_memory_not_equal(a, c, 146);
}

static void test_emu_topband_fault_frozen(void **state)
{
    (void)state;
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 1);
    emu_tb_attach(&e, 1, &p, EMU_TB_EET);
    uint8_t before[EMU_TB_MAX_REPLY], out[EMU_TB_MAX_REPLY];
    uint64_t start;
    size_t n0 = poll_once(&e, POLL_ADR1, before, &start);
    emu_tb_set_faults(&e, 1, EMU_TB_F_FROZEN, 0);
    p.cells[0].v = 3.400;
    p.current_a = 10.0;
    size_t n = poll_once(&e, POLL_ADR1, out, &start);
    assert_int_equal(n, n0);
    assert_memory_equal(out, before, n);
    /* Setting the same mask again keeps the old snapshot. */
    emu_tb_set_faults(&e, 1, EMU_TB_F_FROZEN | EMU_TB_F_LATE, 10);
    n = poll_once(&e, POLL_ADR1, out, &start);
    assert_memory_equal(out, before, n);
    emu_tb_set_faults(&e, 1, 0, 0);
    n = poll_once(&e, POLL_ADR1, out, &start);
    assert_memory_equal(out + 17, "0D48", 4); /* 3400 mV now visible */
}

/* Fuzz-style: a long deterministic stream of bus-like junk (biased toward
 * '~', hex digits and CR) never crashes, and every reply it provokes is a
 * complete frame with a valid checksum for an attached address. */
static void test_emu_topband_random_stream_only_valid_replies(void **state)
{
    (void)state;
    static const char alphabet[] = "~~\r\n0123456789ABCDEFabcdef4642E00201FD34xyz\x00\xff";
    static const char *seeds[] = {POLL_ADR1, POLL_ADR0, "~210146470000FDA7\r",
                                  "~21014642E00201FD35\r", "~210146510000FDAC\r"};
    sim_pack_t p;
    make_pack(&p, 16);
    emu_topband_t e;
    emu_tb_init(&e, 9);
    emu_tb_attach(&e, 0, &p, EMU_TB_EET);
    emu_tb_attach(&e, 1, &p, EMU_TB_TOPBMS);
    uint64_t x = 0x1234567ull;
    uint8_t out[EMU_TB_MAX_REPLY];
    unsigned replies = 0;
    for (unsigned i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if ((x & 0xFF) == 0) {
            /* Now and then a real request, sometimes with one byte damaged. */
            const char *req = seeds[(x >> 8) % 5];
            uint8_t buf[32];
            size_t n = strlen(req);
            memcpy(buf, req, n);
            if ((x >> 16) & 1) {
                buf[1 + (x >> 20) % (n - 2)] = (uint8_t)(x >> 32);
            }
            emu_tb_feed(&e, buf, n, i);
        } else {
            uint8_t c = (uint8_t)alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
            emu_tb_feed(&e, &c, 1, i);
        }
        uint64_t start;
        size_t n = emu_tb_take_reply(&e, out, sizeof(out), &start);
        if (n == 0) {
            continue;
        }
        replies++;
        if (!frame_checksum_ok(out, n) || (memcmp(out + 3, "0046", 4) != 0 &&
                                           memcmp(out + 3, "0146", 4) != 0)) {
            fail_msg("step %u: invalid reply '%.*s'", i, (int)n, (const char *)out);
        }
    }
    assert_true(replies > 100); /* the stream did reach the reply path */
    assert_true(e.bad_requests > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_topband_measure_eet),
        cmocka_unit_test(test_emu_topband_measure_topbms_15s),
        cmocka_unit_test(test_emu_topband_measure_clamps),
        cmocka_unit_test(test_emu_topband_reply_timing_and_shape),
        cmocka_unit_test(test_emu_topband_chunked_with_noise),
        cmocka_unit_test(test_emu_topband_error_replies),
        cmocka_unit_test(test_emu_topband_silence_without_pack),
        cmocka_unit_test(test_emu_topband_new_request_drops_pending),
        cmocka_unit_test(test_emu_topband_soi_restarts_and_overlong),
        cmocka_unit_test(test_emu_topband_other_commands),
        cmocka_unit_test(test_emu_topband_fault_silent_and_late),
        cmocka_unit_test(test_emu_topband_fault_frame_damage),
        cmocka_unit_test(test_emu_topband_fault_garbage_deterministic),
        cmocka_unit_test(test_emu_topband_fault_frozen),
        cmocka_unit_test(test_emu_topband_random_stream_only_valid_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
