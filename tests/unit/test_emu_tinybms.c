/* SPDX-License-Identifier: MIT */
/* Unit tests for the TinyBMS emulator: golden vectors, reply layouts, NACKs,
 * sleep, protection, fault knobs, timing, robustness. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/tinybms/emu_tinybms.h"

#define MS 1000ull
#define S_US 1000000ull

/* Independent CRC-16/MODBUS, table-driven (the emulator's is bitwise). */
static uint16_t ref_crc(const uint8_t *p, size_t n)
{
    static uint16_t table[256];
    static bool ready;
    if (!ready) {
        for (unsigned i = 0; i < 256; i++) {
            uint16_t c = (uint16_t)i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1u) ? (uint16_t)((c >> 1) ^ 0xA001u) : (uint16_t)(c >> 1);
            }
            table[i] = c;
        }
        ready = true;
    }
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc = (uint16_t)((crc >> 8) ^ table[(crc ^ p[i]) & 0xFFu]);
    }
    return crc;
}

static bool crc_ok(const uint8_t *f, size_t n)
{
    return n >= 4 && ref_crc(f, n - 2) == (uint16_t)(f[n - 2] | (f[n - 1] << 8));
}

/* A pack filled by hand: cells 3.300 + 1 mV steps, 25 degC, SOC 50 %, 100 Ah, idle. */
static void make_pack(sim_pack_t *p, int ncells)
{
    memset(p, 0, sizeof(*p));
    p->ncells = ncells;
    for (int i = 0; i < ncells; i++) {
        p->cells[i].v = 3.300 + 0.001 * i;
        p->cells[i].temp_c = 25.0;
        p->cells[i].soc = 0.5;
        p->cells[i].capacity_ah = 100.0;
    }
    p->capacity_ah = 100.0;
    p->ambient_c = 25.0;
    p->charge_fet = true;
    p->discharge_fet = true;
}

/* Send body + CRC (computed here), return the reply (0 if none). */
static size_t ask(emu_tinybms_t *e, const uint8_t *body, size_t n, uint64_t now_us, uint8_t *out)
{
    uint8_t f[300];
    memcpy(f, body, n);
    uint16_t c = ref_crc(f, n);
    f[n] = (uint8_t)(c & 0xFF);
    f[n + 1] = (uint8_t)(c >> 8);
    emu_tiny_feed(e, f, n + 2, now_us);
    uint64_t start;
    return emu_tiny_take_reply(e, out, EMU_TINY_MAX_REPLY, &start);
}

static size_t ask_raw(emu_tinybms_t *e, const uint8_t *f, size_t n, uint64_t now_us, uint8_t *out)
{
    emu_tiny_feed(e, f, n, now_us);
    uint64_t start;
    return emu_tiny_take_reply(e, out, EMU_TINY_MAX_REPLY, &start);
}

static uint16_t reg(const emu_tinybms_t *e, unsigned r)
{
    uint16_t v = 0xDEAD;
    assert_int_equal(emu_tiny_read_regs(e, r, 1, &v), 0);
    return v;
}

static float f32_le(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

/* ---- golden vectors (tinybms.md §7) ------------------------------------ */

static void test_emu_tiny_golden_tv1_modbus_write(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    static const uint8_t req[] = {0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04, 0x10, 0x68, 0x09, 0xC4, 0x19, 0x61};
    static const uint8_t want[] = {0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x28, 0x22};
    uint8_t r[EMU_TINY_MAX_REPLY];
    assert_int_equal(ask_raw(&e, req, sizeof(req), 0, r), sizeof(want));
    assert_memory_equal(r, want, sizeof(want));
    assert_int_equal(reg(&e, 315), 4200);
    assert_int_equal(reg(&e, 316), 2500);
}

static void test_emu_tiny_golden_tv2_cells_read(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    static const double v[5] = {3.8720, 3.8720, 3.8700, 3.8700, 3.8700};
    for (int i = 0; i < 5; i++) {
        p.cells[5 + i].v = v[i]; /* 16 cells: cell n at reg n-1 */
    }
    emu_tiny_init(&e, &p, 1, 0);
    static const uint8_t req[] = {0xAA, 0x03, 0x00, 0x05, 0x00, 0x05, 0x8C, 0x13};
    static const uint8_t want[] = {0xAA, 0x03, 0x0A, 0x97, 0x40, 0x97, 0x40, 0x97, 0x2C,
                                   0x97, 0x2C, 0x97, 0x2C, 0x3E, 0xC7};
    uint8_t r[EMU_TINY_MAX_REPLY];
    assert_int_equal(ask_raw(&e, req, sizeof(req), 0, r), sizeof(want));
    assert_memory_equal(r, want, sizeof(want));
}

static void test_emu_tiny_golden_tv3_temperatures(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    for (int i = 0; i < 16; i++) {
        p.cells[i].temp_c = i < 8 ? 27.6 : 27.8; /* ext #1 lower half, #2 upper, internal hottest */
    }
    emu_tiny_init(&e, &p, 1, 0);
    static const uint8_t req[] = {0xAA, 0x1B, 0x3F, 0x1B};
    static const uint8_t want[] = {0xAA, 0x1B, 0x06, 0x16, 0x01, 0x14, 0x01, 0x16, 0x01, 0x0E, 0x4E};
    uint8_t r[EMU_TINY_MAX_REPLY];
    assert_int_equal(ask_raw(&e, req, sizeof(req), 0, r), sizeof(want));
    assert_memory_equal(r, want, sizeof(want));
}

static void test_emu_tiny_golden_tv4_reset(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    static const uint8_t req[] = {0xAA, 0x02, 0x05, 0x90, 0x83};
    static const uint8_t want[] = {0xAA, 0x01, 0x02, 0xD1, 0xB1};
    uint8_t r[EMU_TINY_MAX_REPLY];
    assert_int_equal(ask_raw(&e, req, sizeof(req), 5 * S_US, r), sizeof(want));
    assert_memory_equal(r, want, sizeof(want));
    assert_int_equal(e.reboots, 1);
    assert_int_equal(emu_tiny_event_count(&e, EMU_TINY_EV_STARTED), 2);
    assert_int_equal(reg(&e, 114) & 0xFF, 0x04); /* software reset */
}

/* ---- reply layouts ------------------------------------------------------ */

static void test_emu_tiny_reply_layouts(void **state)
{
    (void)state;
    static const struct {
        uint8_t body[12];
        size_t n;
        size_t reply_len;
        int pl; /* -1: no PL byte */
    } rows[] = {
        {{0xAA, 0x14}, 2, 8, -1},
        {{0xAA, 0x15}, 2, 8, -1},
        {{0xAA, 0x16}, 2, 6, -1},
        {{0xAA, 0x17}, 2, 6, -1},
        {{0xAA, 0x18}, 2, 6, -1},
        {{0xAA, 0x19}, 2, 8, -1},
        {{0xAA, 0x1A}, 2, 8, -1},
        {{0xAA, 0x1B}, 2, 11, 6},
        {{0xAA, 0x1C}, 2, 5 + 2 * 15, 30},
        {{0xAA, 0x1D, 0x04, 0x00, 0x2C}, 5, 5 + 88, 88},
        {{0xAA, 0x1E}, 2, 10, 5},
        {{0xAA, 0x1F}, 2, 12, 7},
        {{0xAA, 0x20}, 2, 16, -1},
        {{0xAA, 0x11}, 2, 5 + 4 + 4, 8},      /* one event: system started */
        {{0xAA, 0x12}, 2, 5 + 4 + 4, 8},
        {{0xAA, 0x03, 0x00, 0x20, 0x00, 0x15}, 6, 5 + 42, 42},
        {{0xAA, 0x03, 0x01, 0x2C, 0x00, 0x7F}, 6, 5 + 254, 254},
        {{0xAA, 0x07, 0x02, 0x24, 0x00}, 5, 9, 4},
        {{0xAA, 0x07, 0x3F, 0x00, 0x00}, 5, 5 + 126, 126},
        {{0xAA, 0x09, 0x04, 0x24, 0x00, 0x25, 0x00}, 7, 13, 8},
        {{0xAA, 0x0D, 0x04, 0x2C, 0x01, 0x42, 0x0E}, 7, 5, -1},
        {{0xAA, 0x0B, 0x02, 0x2C, 0x01, 0x42, 0x0E}, 7, 5, -1},
        {{0xAA, 0x02, 0x01}, 3, 5, -1},
        {{0xAA, 0x02, 0x02}, 3, 5, -1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        sim_pack_t p;
        emu_tinybms_t e;
        make_pack(&p, 15);
        emu_tiny_init(&e, &p, 1, 0);
        uint8_t r[EMU_TINY_MAX_REPLY];
        size_t n = ask(&e, rows[i].body, rows[i].n, 0, r);
        uint8_t want_cmd = (rows[i].body[1] == 0x0D || rows[i].body[1] == 0x0B || rows[i].body[1] == 0x02)
                               ? 0x01 : rows[i].body[1];
        if (n != rows[i].reply_len || r[0] != 0xAA || r[1] != want_cmd || !crc_ok(r, n)) {
            fail_msg("row %zu (cmd 0x%02X): length %zu want %zu, header %02X %02X, crc %s", i,
                     rows[i].body[1], n, rows[i].reply_len, r[0], r[1], crc_ok(r, n) ? "ok" : "bad");
        }
        if (rows[i].pl >= 0 && r[2] != rows[i].pl) {
            fail_msg("row %zu (cmd 0x%02X): PL %u want %d", i, rows[i].body[1], r[2], rows[i].pl);
        }
        if (want_cmd == 0x01 && r[2] != rows[i].body[1]) {
            fail_msg("row %zu: ACK echoes 0x%02X", i, r[2]);
        }
    }
}

static void test_emu_tiny_reply_values(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 15);
    p.current_a = -25.0; /* discharging */
    emu_tiny_init(&e, &p, 1, 0);
    emu_tiny_tick(&e, 100 * MS);
    uint8_t r[EMU_TINY_MAX_REPLY];

    static const uint8_t v[] = {0xAA, 0x14};
    assert_int_equal(ask(&e, v, 2, 0, r), 8);
    double sum = 0;
    for (int i = 0; i < 15; i++) {
        sum += 3.300 + 0.001 * i;
    }
    assert_float_equal(f32_le(&r[2]), sum, 1e-3);

    static const uint8_t i_req[] = {0xAA, 0x15};
    assert_int_equal(ask(&e, i_req, 2, 0, r), 8);
    assert_float_equal(f32_le(&r[2]), -25.0, 1e-6); /* discharge negative */

    static const uint8_t mx[] = {0xAA, 0x16}, mn[] = {0xAA, 0x17}, st[] = {0xAA, 0x18}, soc[] = {0xAA, 0x1A};
    assert_int_equal(ask(&e, mx, 2, 0, r), 6);
    assert_int_equal(r[2] | (r[3] << 8), 3314);
    assert_int_equal(ask(&e, mn, 2, 0, r), 6);
    assert_int_equal(r[2] | (r[3] << 8), 3300);
    assert_int_equal(ask(&e, st, 2, 0, r), 6);
    assert_int_equal(r[2], EMU_TINY_ST_DISCHARGING);
    assert_int_equal(ask(&e, soc, 2, 0, r), 8);
    assert_int_equal((uint32_t)r[2] | ((uint32_t)r[3] << 8) | ((uint32_t)r[4] << 16) | ((uint32_t)r[5] << 24),
                     50000000u);

    /* 15 cells: reg 0 unused, cell 1 at reg 1; 0x1C gives cell 1 first. */
    assert_int_equal(reg(&e, 0), 0);
    assert_int_equal(reg(&e, 1), 33000);
    assert_int_equal(reg(&e, 15), 33140);
    assert_int_equal(reg(&e, 53), 15);
    static const uint8_t cells[] = {0xAA, 0x1C};
    assert_int_equal(ask(&e, cells, 2, 0, r), 35);
    assert_int_equal(r[3] | (r[4] << 8), 33000);
    assert_int_equal(r[31] | (r[32] << 8), 33140);

    /* 0x07 is little-endian, 0x03 big-endian, over the same register. */
    static const uint8_t rb[] = {0xAA, 0x07, 0x01, 0x2C, 0x01};
    assert_int_equal(ask(&e, rb, 5, 0, r), 7);
    assert_int_equal(r[3] | (r[4] << 8), 3600);
    static const uint8_t mb[] = {0xAA, 0x03, 0x01, 0x2C, 0x00, 0x01};
    assert_int_equal(ask(&e, mb, 6, 0, r), 7);
    assert_int_equal((r[3] << 8) | r[4], 3600);

    /* 0x09 repeats each address before its value. */
    static const uint8_t ind[] = {0xAA, 0x09, 0x04, 0x35, 0x00, 0x33, 0x01};
    assert_int_equal(ask(&e, ind, 7, 0, r), 13);
    assert_int_equal(r[3] | (r[4] << 8), 53);
    assert_int_equal(r[5] | (r[6] << 8), 15);
    assert_int_equal(r[7] | (r[8] << 8), 307);
    assert_int_equal(r[9] | (r[10] << 8), 15);

    /* 0x1D: min (1), max (2), default (3) from reg 300. */
    static const uint8_t smin[] = {0xAA, 0x1D, 0x01, 0x00, 0x01}, smax[] = {0xAA, 0x1D, 0x02, 0x00, 0x01};
    static const uint8_t sdef[] = {0xAA, 0x1D, 0x03, 0x00, 0x08};
    assert_int_equal(ask(&e, smin, 5, 0, r), 7);
    assert_int_equal(r[3] | (r[4] << 8), 1200);
    assert_int_equal(ask(&e, smax, 5, 0, r), 7);
    assert_int_equal(r[3] | (r[4] << 8), 4500);
    assert_int_equal(ask(&e, sdef, 5, 0, r), 21);
    assert_int_equal(r[15] | (r[16] << 8), 10000); /* 306: 100 Ah in 0.01 Ah */
    assert_int_equal(r[17] | (r[18] << 8), 15);    /* 307: series cells */

    /* Versions: HW 2, changes 1, FW 1, internal 242, bootloader 24, profile 4. */
    static const uint8_t ver[] = {0xAA, 0x1F};
    static const uint8_t want_ver[] = {0xAA, 0x1F, 0x07, 0x02, 0x01, 0x01, 0xF2, 0x00, 0x18, 0x04};
    assert_int_equal(ask(&e, ver, 2, 0, r), 12);
    assert_memory_equal(r, want_ver, sizeof(want_ver));

    /* 0x20: speed 0, distance 0, time left = 50 Ah / 25 A = 7200 s. */
    static const uint8_t spd[] = {0xAA, 0x20};
    assert_int_equal(ask(&e, spd, 2, 0, r), 16);
    assert_float_equal(f32_le(&r[2]), 0.0, 0.0);
    assert_int_equal(r[10] | (r[11] << 8), 7200);
}

static void test_emu_tiny_write_commands(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    uint8_t r[EMU_TINY_MAX_REPLY];
    /* §6.11: block write 300 = 3650, 301 = 3234 (PL counts data only). */
    static const uint8_t wb[] = {0xAA, 0x0B, 0x04, 0x2C, 0x01, 0x42, 0x0E, 0xA2, 0x0C, 0xBE, 0x96};
    static const uint8_t ack0b[] = {0xAA, 0x01, 0x0B};
    assert_int_equal(ask_raw(&e, wb, sizeof(wb), 0, r), 5);
    assert_memory_equal(r, ack0b, 3);
    assert_true(crc_ok(r, 5));
    assert_int_equal(reg(&e, 300), 3650);
    assert_int_equal(reg(&e, 301), 3234);
    /* 0x0D pairs: 319 = 55, 320 = -5 (signed). */
    static const uint8_t wi[] = {0xAA, 0x0D, 0x08, 0x3F, 0x01, 0x37, 0x00, 0x40, 0x01, 0xFB, 0xFF};
    assert_int_equal(ask(&e, wi, sizeof(wi), 0, r), 5);
    assert_int_equal(r[1], 0x01);
    assert_int_equal(r[2], 0x0D);
    assert_int_equal(reg(&e, 319), 55);
    assert_int_equal((int16_t)reg(&e, 320), -5);
    /* Scenario hook, same checks. */
    assert_int_equal(emu_tiny_write_setting(&e, 317, 120), 0);
    assert_int_equal(reg(&e, 317), 120);
    assert_int_equal(emu_tiny_write_setting(&e, 317, 751), -1);
    assert_int_equal(reg(&e, 317), 120);
    assert_int_equal(emu_tiny_write_setting(&e, 299, 1), -1);
}

static void test_emu_tiny_nack_codes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t body[16];
        size_t n;
        bool bad_crc;
        uint8_t err;
    } rows[] = {
        {"bad crc", {0xAA, 0x1B}, 2, true, 0x01},
        {"unknown cmd", {0xAA, 0x05}, 2, false, 0x00},
        {"0x03 at 600", {0xAA, 0x03, 0x02, 0x58, 0x00, 0x01}, 6, false, 0x00},
        {"0x03 spans 599", {0xAA, 0x03, 0x02, 0x57, 0x00, 0x02}, 6, false, 0x00},
        {"0x03 count 128", {0xAA, 0x03, 0x00, 0x00, 0x00, 0x80}, 6, false, 0x00},
        {"0x09 addr 600", {0xAA, 0x09, 0x02, 0x58, 0x02}, 5, false, 0x00},
        {"0x10 OV 4600", {0xAA, 0x10, 0x01, 0x3B, 0x00, 0x01, 0x02, 0x11, 0xF8}, 9, false, 0x00},
        {"0x10 pair, 2nd bad", {0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04, 0x10, 0x68, 0x01, 0x00}, 11, false, 0x00},
        {"0x10 at 299", {0xAA, 0x10, 0x01, 0x2B, 0x00, 0x01, 0x02, 0x00, 0x01}, 9, false, 0x00},
        {"0x0B 399..400", {0xAA, 0x0B, 0x04, 0x8F, 0x01, 0x00, 0x00, 0x00, 0x00}, 9, false, 0x00},
        {"0x0D 319 = 91", {0xAA, 0x0D, 0x04, 0x3F, 0x01, 0x5B, 0x00}, 7, false, 0x00},
        {"0x0D 320 = -41", {0xAA, 0x0D, 0x04, 0x40, 0x01, 0xD7, 0xFF}, 7, false, 0x00},
        {"0x0D 307 = 3", {0xAA, 0x0D, 0x04, 0x33, 0x01, 0x03, 0x00}, 7, false, 0x00},
        {"0x0D 312 = 0", {0xAA, 0x0D, 0x04, 0x38, 0x01, 0x00, 0x00}, 7, false, 0x00},
        {"0x0D 330 timeout 31", {0xAA, 0x0D, 0x04, 0x4A, 0x01, 0x01, 0x1F}, 7, false, 0x00},
        {"0x0D 332 Hi byte", {0xAA, 0x0D, 0x04, 0x4C, 0x01, 0x05, 0x01}, 7, false, 0x00},
        {"0x02 option 3", {0xAA, 0x02, 0x03}, 3, false, 0x00},
        {"0x07 PL bit 7", {0xAA, 0x07, 0x80, 0x00, 0x00}, 5, false, 0x00},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        sim_pack_t p;
        emu_tinybms_t e;
        make_pack(&p, 16);
        emu_tiny_init(&e, &p, 1, 0);
        uint16_t before[EMU_TINY_SETTINGS_COUNT];
        memcpy(before, e.settings, sizeof(before));
        uint8_t f[32];
        memcpy(f, rows[i].body, rows[i].n);
        uint16_t c = ref_crc(f, rows[i].n);
        f[rows[i].n] = (uint8_t)((c & 0xFF) ^ (rows[i].bad_crc ? 1 : 0));
        f[rows[i].n + 1] = (uint8_t)(c >> 8);
        uint8_t r[EMU_TINY_MAX_REPLY];
        size_t n = ask_raw(&e, f, rows[i].n + 2, 0, r);
        if (n != 6 || r[0] != 0xAA || r[1] != 0x00 || r[2] != rows[i].body[1] || r[3] != rows[i].err ||
            !crc_ok(r, n)) {
            fail_msg("row %zu (%s): reply len %zu %02X %02X %02X %02X, want AA 00 %02X %02X", i,
                     rows[i].name, n, r[0], r[1], r[2], r[3], rows[i].body[1], rows[i].err);
        }
        if (memcmp(before, e.settings, sizeof(before)) != 0) {
            fail_msg("row %zu (%s): a refused request changed the settings", i, rows[i].name);
        }
        if (e.nacks != 1) {
            fail_msg("row %zu (%s): nacks %u", i, rows[i].name, e.nacks);
        }
    }
}

/* ---- sleep -------------------------------------------------------------- */

static void run_ticks(emu_tinybms_t *e, uint64_t from_us, uint64_t to_us)
{
    for (uint64_t t = from_us; t <= to_us; t += 100 * MS) {
        emu_tiny_tick(e, t);
    }
}

static void test_emu_tiny_sleep_and_wake(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    static const uint8_t req[] = {0xAA, 0x18, 0x7F, 0x1A};
    uint8_t r[EMU_TINY_MAX_REPLY];
    assert_false(emu_tiny_asleep(&e));
    run_ticks(&e, 100 * MS, 9900 * MS);
    assert_false(emu_tiny_asleep(&e));
    run_ticks(&e, 10000 * MS, 10100 * MS);
    assert_true(emu_tiny_asleep(&e));
    /* First request only wakes it; the identical second one is answered. */
    assert_int_equal(ask_raw(&e, req, 4, 11 * S_US, r), 0);
    assert_false(emu_tiny_asleep(&e));
    assert_int_equal(e.wake_frames, 1);
    assert_int_equal(ask_raw(&e, req, 4, 11 * S_US + 20 * MS, r), 6);
    assert_int_equal(reg(&e, 114) >> 8, 0x03); /* woken by UART */
    /* Traffic keeps it awake. */
    for (uint64_t t = 11 * S_US; t < 40 * S_US; t += 100 * MS) {
        emu_tiny_tick(&e, t);
        if (t % (5 * S_US) == 0) {
            assert_int_equal(ask_raw(&e, req, 4, t, r), 6);
        }
    }
    assert_false(emu_tiny_asleep(&e));
    /* A current keeps it awake, and wakes it. */
    p.current_a = 5.0;
    run_ticks(&e, 40 * S_US, 60 * S_US);
    assert_false(emu_tiny_asleep(&e));
    p.current_a = 0.0;
    run_ticks(&e, 60 * S_US, 75 * S_US);
    assert_true(emu_tiny_asleep(&e));
    p.current_a = -3.0;
    emu_tiny_tick(&e, 76 * S_US);
    assert_false(emu_tiny_asleep(&e));
    assert_int_equal(reg(&e, 114) >> 8, 0x02); /* discharging detected */
    assert_int_equal(ask_raw(&e, req, 4, 76 * S_US, r), 6);
}

/* ---- protection --------------------------------------------------------- */

typedef struct prot_case {
    const char *name;
    void (*trip)(sim_pack_t *p);
    void (*recover)(sim_pack_t *p);
    emu_tiny_prot_t prot;
    bool charge_open, discharge_open;
    uint8_t event, recover_event;
    unsigned stat_reg; /* 0: none */
    bool fault_status;
} prot_case_t;

static void ov_trip(sim_pack_t *p) { p->cells[3].v = 3.660; }
static void ov_recover(sim_pack_t *p) { p->cells[3].v = 3.400; }
static void uv_trip(sim_pack_t *p) { p->cells[7].v = 2.790; }
static void uv_recover(sim_pack_t *p) { p->cells[7].v = 3.200; }
static void doc_trip(sim_pack_t *p) { p->current_a = -101.0; }
static void oc_recover(sim_pack_t *p) { p->current_a = 0.0; }
static void coc_trip(sim_pack_t *p) { p->current_a = 51.0; }
static void ot_trip(sim_pack_t *p) { p->cells[2].temp_c = 60.0; }
static void ot_recover(sim_pack_t *p) { p->cells[2].temp_c = 54.0; }
static void ltc_trip(sim_pack_t *p)
{
    for (int i = 0; i < 8; i++) {
        p->cells[i].temp_c = -1.0; /* external #1 reads -1.0 degC */
    }
}
static void ltc_recover(sim_pack_t *p)
{
    for (int i = 0; i < 8; i++) {
        p->cells[i].temp_c = 3.0;
    }
}

static void test_emu_tiny_protection_cutoffs(void **state)
{
    (void)state;
    static const prot_case_t rows[] = {
        {"over-voltage", ov_trip, ov_recover, EMU_TINY_PROT_OV, true, false, 0x03, 0x79, 106, true},
        {"under-voltage", uv_trip, uv_recover, EMU_TINY_PROT_UV, false, true, 0x02, 0x7B, 105, true},
        {"discharge OC", doc_trip, oc_recover, EMU_TINY_PROT_DOC, false, true, 0x05, 0x77, 107, true},
        {"charge OC", coc_trip, oc_recover, EMU_TINY_PROT_COC, true, false, 0x06, 0x76, 108, true},
        {"over-heat", ot_trip, ot_recover, EMU_TINY_PROT_OT, true, true, 0x04, 0x73, 109, true},
        {"low-temp charge", ltc_trip, ltc_recover, EMU_TINY_PROT_LTC, true, false, 0x37, 0x74, 0, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const prot_case_t *c = &rows[i];
        sim_pack_t p;
        emu_tinybms_t e;
        make_pack(&p, 16);
        emu_tiny_init(&e, &p, 1, 0);
        assert_true(p.external_bms);
        emu_tiny_tick(&e, 100 * MS);
        if (!p.charge_fet || !p.discharge_fet || reg(&e, 50) == EMU_TINY_ST_FAULT) {
            fail_msg("row %zu (%s): switches open before the fault", i, c->name);
        }
        c->trip(&p);
        emu_tiny_tick(&e, 200 * MS);
        if (p.charge_fet == c->charge_open || p.discharge_fet == c->discharge_open || !e.prot[c->prot].active) {
            fail_msg("row %zu (%s): charge_fet %d discharge_fet %d after trip", i, c->name, p.charge_fet,
                     p.discharge_fet);
        }
        if (emu_tiny_event_count(&e, c->event) != 1) {
            fail_msg("row %zu (%s): event 0x%02X logged %u times", i, c->name, c->event,
                     emu_tiny_event_count(&e, c->event));
        }
        if (c->stat_reg != 0 && reg(&e, c->stat_reg) != 1) {
            fail_msg("row %zu (%s): statistic reg %u = %u", i, c->name, c->stat_reg, reg(&e, c->stat_reg));
        }
        if ((reg(&e, 50) == EMU_TINY_ST_FAULT) != c->fault_status) {
            fail_msg("row %zu (%s): status 0x%02X", i, c->name, reg(&e, 50));
        }
        /* Held: no second event while the condition lasts. */
        run_ticks(&e, 300 * MS, 2 * S_US);
        if (emu_tiny_event_count(&e, c->event) != 1) {
            fail_msg("row %zu (%s): event repeated while held", i, c->name);
        }
        c->recover(&p);
        /* Automatic recovery waits reg 332 (5 s) after the trip. */
        emu_tiny_tick(&e, 3 * S_US);
        if (!e.prot[c->prot].active) {
            fail_msg("row %zu (%s): recovered before the recovery time", i, c->name);
        }
        run_ticks(&e, 3 * S_US, 6 * S_US);
        if (!p.charge_fet || !p.discharge_fet || emu_tiny_event_count(&e, c->recover_event) != 1) {
            fail_msg("row %zu (%s): not recovered (fets %d/%d, event 0x%02X x%u)", i, c->name, p.charge_fet,
                     p.discharge_fet, c->recover_event, emu_tiny_event_count(&e, c->recover_event));
        }
    }
}

static void test_emu_tiny_protection_follows_settings(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    p.cells[0].v = 3.55;
    emu_tiny_tick(&e, 100 * MS);
    assert_true(p.charge_fet);
    assert_int_equal(emu_tiny_write_setting(&e, 315, 3500), 0);
    emu_tiny_tick(&e, 200 * MS);
    assert_false(p.charge_fet);
    /* Hysteresis: 3.45 V is not low enough (min(300, 315 - 100 mV) = 3.40 V). */
    p.cells[0].v = 3.45;
    run_ticks(&e, 300 * MS, 10 * S_US);
    assert_false(p.charge_fet);
    p.cells[0].v = 3.39;
    emu_tiny_tick(&e, 10100 * MS);
    assert_true(p.charge_fet);
    /* Discharge OC timeout (reg 330 high byte): 2 s over the limit before it trips. */
    assert_int_equal(emu_tiny_write_setting(&e, 330, 0x0201), 0);
    p.current_a = -150.0;
    run_ticks(&e, 11 * S_US, 12900 * MS);
    assert_true(p.discharge_fet);
    run_ticks(&e, 13 * S_US, 13200 * MS);
    assert_false(p.discharge_fet);
    /* An absent external sensor reads -32768 and is not used. */
    e.ext_absent[1] = true;
    for (int i = 8; i < 16; i++) {
        p.cells[i].temp_c = 70.0; /* upper half hot, but internal reads the hottest cell too */
    }
    assert_int_equal(reg(&e, 43), 0x8000);
}

/* ---- fault knobs, timing ------------------------------------------------ */

static void test_emu_tiny_fault_knobs(void **state)
{
    (void)state;
    static const uint8_t req[] = {0xAA, 0x17, 0x3F, 0x1E}; /* min cell */
    sim_pack_t p;
    emu_tinybms_t e;
    uint8_t r[EMU_TINY_MAX_REPLY];
    uint64_t start;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);

    emu_tiny_set_faults(&e, EMU_TINY_F_SILENT, 0);
    assert_int_equal(ask_raw(&e, req, 4, 0, r), 0);
    assert_int_equal(e.frames, 1);

    emu_tiny_set_faults(&e, EMU_TINY_F_LATE, 300);
    emu_tiny_feed(&e, req, 4, 1 * S_US);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 6);
    assert_int_equal(start, 1 * S_US + 300 * MS + 2000 + 100);

    emu_tiny_set_faults(&e, EMU_TINY_F_BAD_CRC, 0);
    assert_int_equal(ask_raw(&e, req, 4, 1 * S_US, r), 6);
    assert_false(crc_ok(r, 6));
    assert_int_equal(r[2] | (r[3] << 8), 3300);

    emu_tiny_set_faults(&e, EMU_TINY_F_TRUNCATED, 0);
    assert_int_equal(ask_raw(&e, req, 4, 1 * S_US, r), 3);

    emu_tiny_set_faults(&e, EMU_TINY_F_NACK_STORM, 0);
    for (int k = 0; k < 3; k++) {
        static const uint8_t want[] = {0xAA, 0x00, 0x17, 0x00};
        assert_int_equal(ask_raw(&e, req, 4, 1 * S_US, r), 6);
        assert_memory_equal(r, want, 4);
        assert_true(crc_ok(r, 6));
    }

    emu_tiny_set_faults(&e, EMU_TINY_F_FROZEN, 0);
    p.cells[0].v = 3.100;
    assert_int_equal(ask_raw(&e, req, 4, 1 * S_US, r), 6);
    assert_int_equal(r[2] | (r[3] << 8), 3300);
    emu_tiny_set_faults(&e, EMU_TINY_F_FROZEN, 0); /* re-applying keeps the old snapshot */
    assert_int_equal(reg(&e, 40), 3300);
    emu_tiny_set_faults(&e, 0, 0);
    assert_int_equal(ask_raw(&e, req, 4, 1 * S_US, r), 6);
    assert_int_equal(r[2] | (r[3] << 8), 3100);

    emu_tiny_set_faults(&e, EMU_TINY_F_STUCK_ASLEEP, 0);
    assert_true(emu_tiny_asleep(&e));
    for (int k = 0; k < 5; k++) {
        assert_int_equal(ask_raw(&e, req, 4, 2 * S_US + (uint64_t)k * 100 * MS, r), 0);
    }
    p.current_a = 20.0;
    emu_tiny_tick(&e, 3 * S_US);
    assert_true(emu_tiny_asleep(&e));
    emu_tiny_set_faults(&e, 0, 0);
    p.current_a = 0.0;
    assert_int_equal(ask_raw(&e, req, 4, 4 * S_US, r), 0); /* wakes it */
    assert_int_equal(ask_raw(&e, req, 4, 4 * S_US, r), 6);
}

static void test_emu_tiny_reboot_keeps_statistics(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    assert_int_equal(emu_tiny_write_setting(&e, 319, 50), 0);
    ov_trip(&p);
    emu_tiny_tick(&e, 100 * MS);
    assert_int_equal(reg(&e, 106), 1);
    emu_tiny_reboot(&e, 2 * S_US);
    assert_int_equal(reg(&e, 106), 2);   /* kept, and the still-high cell trips again */
    assert_int_equal(reg(&e, 319), 50);  /* settings kept */
    assert_int_equal(emu_tiny_event_count(&e, EMU_TINY_EV_STARTED), 2);
    assert_int_equal(reg(&e, 114) & 0xFF, 0x05);
    assert_false(emu_tiny_asleep(&e));
    assert_false(p.charge_fet);
    /* Events read back over 0x12: oldest first, 24-bit timestamp + ID. */
    uint8_t r[EMU_TINY_MAX_REPLY];
    static const uint8_t all[] = {0xAA, 0x12, 0xFF, 0x1D};
    size_t n = ask_raw(&e, all, 4, 2 * S_US, r);
    assert_int_equal(n, 5 + 4 + 4 * 4);
    assert_int_equal(r[2], 20);
    assert_int_equal(r[3], 2); /* BMS time 2 s */
    static const uint8_t ids[] = {0x61, 0x03, 0x61, 0x03};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(r[7 + 4 * k + 3], ids[k]);
    }
    assert_int_equal(r[7 + 4 * 2], 2); /* second start at 2 s */
    /* Clear events and statistics. */
    static const uint8_t clr_ev[] = {0xAA, 0x02, 0x01, 0x91, 0x40}, clr_st[] = {0xAA, 0x02, 0x02, 0xD1, 0x41};
    assert_int_equal(ask_raw(&e, clr_ev, 5, 3 * S_US, r), 5);
    assert_int_equal(e.events_count, 0);
    assert_int_equal(ask_raw(&e, clr_st, 5, 3 * S_US, r), 5);
    assert_int_equal(reg(&e, 106), 0);
    assert_int_equal(reg(&e, 116), 3);
}

static void test_emu_tiny_event_log_wraps(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    for (int k = 0; k < 60; k++) {
        emu_tiny_reboot(&e, (uint64_t)(k + 1) * S_US);
    }
    assert_int_equal(e.events_count, EMU_TINY_MAX_EVENTS);
    /* Event_0 is the oldest kept: the 61 starts minus the 49 kept -> started at 12 s. */
    assert_int_equal(reg(&e, 200), 12);
    assert_int_equal(reg(&e, 201), 0x6100);
    assert_int_equal(reg(&e, 296), 60);
    uint8_t r[EMU_TINY_MAX_REPLY];
    static const uint8_t newest[] = {0xAA, 0x11, 0xBF, 0x1C};
    assert_int_equal(ask_raw(&e, newest, 4, 60 * S_US, r), 5 + 4 + 4 * 8);
    assert_int_equal(r[7 + 4 * 7], 60); /* the newest is last */
}

static void test_emu_tiny_timing_and_replacement(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 16);
    emu_tiny_init(&e, &p, 1, 0);
    uint8_t r[EMU_TINY_MAX_REPLY];
    uint64_t start = 0;
    static const uint8_t cells[] = {0xAA, 0x03, 0x00, 0x00, 0x00, 0x10, 0x5D, 0xDD};
    emu_tiny_feed(&e, cells, sizeof(cells), 5 * S_US);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 37);
    assert_int_equal(start, 5 * S_US + 2000 + 16 * 100);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 0); /* taken once */
    /* A second request before the first reply was taken replaces it. */
    static const uint8_t st[] = {0xAA, 0x18, 0x7F, 0x1A};
    emu_tiny_feed(&e, cells, sizeof(cells), 6 * S_US);
    emu_tiny_feed(&e, st, sizeof(st), 6 * S_US + 1 * MS);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 6);
    assert_int_equal(r[1], 0x18);
    /* Too small a buffer: nothing handed out, the reply stays. */
    emu_tiny_feed(&e, cells, sizeof(cells), 7 * S_US);
    assert_int_equal(emu_tiny_take_reply(&e, r, 10, &start), 0);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 37);
    /* Byte by byte works; a gap of more than 10 ms drops the partial frame. */
    for (size_t i = 0; i < sizeof(cells); i++) {
        emu_tiny_feed(&e, &cells[i], 1, 8 * S_US + i * 87);
    }
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 37);
    emu_tiny_feed(&e, cells, 4, 9 * S_US);
    emu_tiny_feed(&e, &cells[4], 4, 9 * S_US + 20 * MS);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 0);
    assert_int_equal(e.timeouts, 1);
    /* Noise before a frame is skipped. */
    static const uint8_t noisy[] = {0x00, 0x55, 0xFF, 0xAA, 0x18, 0x7F, 0x1A};
    uint32_t noise_before = e.noise_bytes;
    emu_tiny_feed(&e, noisy, sizeof(noisy), 10 * S_US);
    assert_int_equal(emu_tiny_take_reply(&e, r, sizeof(r), &start), 6);
    assert_int_equal(e.noise_bytes - noise_before, 3);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void test_emu_tiny_random_bytes_never_crash(void **state)
{
    (void)state;
    sim_pack_t p;
    emu_tinybms_t e;
    make_pack(&p, 13);
    emu_tiny_init(&e, &p, 7, 0);
    uint64_t s = 99;
    uint64_t now = 0;
    uint8_t r[EMU_TINY_MAX_REPLY];
    for (int iter = 0; iter < 100000; iter++) {
        uint8_t buf[40];
        size_t n = (size_t)(lcg(&s) % sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            buf[i] = (uint8_t)lcg(&s);
        }
        if (n >= 2 && (iter % 3) == 0) {
            /* A well-formed frame now and then, to reach the command handlers. */
            buf[0] = 0xAA;
            buf[1] = (uint8_t)(lcg(&s) % 0x22);
            size_t want = emu_tiny_request_length(buf, n);
            if (want >= 4 && want <= n) {
                n = want;
                uint16_t c = ref_crc(buf, n - 2);
                buf[n - 2] = (uint8_t)c;
                buf[n - 1] = (uint8_t)(c >> 8);
            }
        }
        now += lcg(&s) % 30000;
        emu_tiny_feed(&e, buf, n, now);
        if ((iter % 50) == 0) {
            emu_tiny_tick(&e, now);
            emu_tiny_set_faults(&e, (unsigned)(lcg(&s) % 128) & ~(unsigned)EMU_TINY_F_STUCK_ASLEEP, 5);
        }
        uint64_t start;
        size_t len = emu_tiny_take_reply(&e, r, sizeof(r), &start);
        assert_true(len <= EMU_TINY_MAX_REPLY);
        assert_true(e.rx_len < EMU_TINY_MAX_FRAME);
    }
    /* Settings stayed within their ranges: every accepted write was checked. */
    assert_true(reg(&e, 307) >= 4 && reg(&e, 307) <= 16);
    assert_true(e.frames > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_tiny_golden_tv1_modbus_write),
        cmocka_unit_test(test_emu_tiny_golden_tv2_cells_read),
        cmocka_unit_test(test_emu_tiny_golden_tv3_temperatures),
        cmocka_unit_test(test_emu_tiny_golden_tv4_reset),
        cmocka_unit_test(test_emu_tiny_reply_layouts),
        cmocka_unit_test(test_emu_tiny_reply_values),
        cmocka_unit_test(test_emu_tiny_write_commands),
        cmocka_unit_test(test_emu_tiny_nack_codes),
        cmocka_unit_test(test_emu_tiny_sleep_and_wake),
        cmocka_unit_test(test_emu_tiny_protection_cutoffs),
        cmocka_unit_test(test_emu_tiny_protection_follows_settings),
        cmocka_unit_test(test_emu_tiny_fault_knobs),
        cmocka_unit_test(test_emu_tiny_reboot_keeps_statistics),
        cmocka_unit_test(test_emu_tiny_event_log_wraps),
        cmocka_unit_test(test_emu_tiny_timing_and_replacement),
        cmocka_unit_test(test_emu_tiny_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
