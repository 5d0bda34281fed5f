/* SPDX-License-Identifier: MIT */
/* Unit tests of the balancer emulator: B.11 vectors, framing, balancing, faults, collisions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/balancer/emu_balancer.h"
#include "sim/battery.h"
#include "sim/lfp_cell.h"
#include "sim/rng.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))
#define T0_US 1000000u

typedef struct fixture {
    emu_balancer_t emu;
    sim_cell_t cells[EMU_BAL_MAX_MODULES];
    double ambient_c;
} fixture_t;

static fixture_t fx;

/* Modules 1..n on cells at 3.291 V, 24 degC; resistor ambient 23 degC. */
static void setup_modules(int n)
{
    memset(&fx, 0, sizeof(fx));
    fx.ambient_c = 23.0;
    emu_bal_init(&fx.emu, 7);
    for (int i = 0; i < n; i++) {
        fx.cells[i].v = 3.291;
        fx.cells[i].temp_c = 24.0;
        fx.cells[i].soc = 0.5;
        fx.cells[i].capacity_ah = 100.0;
        assert_int_equal(emu_bal_attach(&fx.emu, (uint8_t)(i + 1), &fx.cells[i], &fx.ambient_c), 0);
    }
}

/* Send a request as the controller does: 4 characters back to back, ending
 * at now_us. Returns the reply length (0 = none) and its start time. */
static size_t request(const char *req, uint64_t now_us, uint8_t *out, uint64_t *start_us)
{
    emu_bal_feed(&fx.emu, (const uint8_t *)req, strlen(req), now_us);
    return emu_bal_take_reply(&fx.emu, out, EMU_BAL_MAX_REPLY, start_us);
}

/* Reply to req as a C string ("" when none). */
static const char *reply_str(const char *req, uint64_t now_us)
{
    static char s[EMU_BAL_MAX_REPLY + 1];
    uint64_t start;
    size_t n = request(req, now_us, (uint8_t *)s, &start);
    s[n] = '\0';
    return s;
}

typedef struct vector {
    const char *request;
    uint8_t reply[12];
    size_t reply_len;
} vector_t;

/* superb_balancer.md B.11, byte for byte. */
static void test_emu_balancer_b11_vectors(void **state)
{
    (void)state;
    static const vector_t rows[] = {
        {"0105", {0x33, 0x32, 0x39, 0x31, 0x0D, 0x0A}, 6},
        {"0102", {0x32, 0x34, 0x0D, 0x0A}, 4},
        {"0103", {0x32, 0x33, 0x0D, 0x0A}, 4},
        {"0104", {0x33, 0x37, 0x38, 0x30, 0x32, 0x36, 0x37, 0x0D, 0x0A}, 9},
        {"0106", {0x31, 0x34, 0x38, 0x0D, 0x0A}, 5},
        {"0802", {0x2D, 0x35, 0x0D, 0x0A}, 4},
        {"5005", {0}, 0},
    };
    setup_modules(8);
    fx.cells[7].temp_c = -5.0;
    /* 43 d 18 h 04 m 27 s at rest: the resistor sits at its 23 degC ambient. */
    emu_bal_tick(&fx.emu, 3780267.0, 0);
    uint64_t now_us = T0_US;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        uint8_t out[EMU_BAL_MAX_REPLY];
        uint64_t start_us = 0;
        size_t n = request(rows[r].request, now_us, out, &start_us);
        if (n != rows[r].reply_len || memcmp(out, rows[r].reply, n) != 0) {
            fail_msg("row %zu (%s): reply of %zu bytes, want %zu", r, rows[r].request, n,
                     rows[r].reply_len);
        }
        if (n > 0 && start_us != now_us + EMU_BAL_TURNAROUND_US) {
            fail_msg("row %zu: reply starts at %llu, want %llu", r, (unsigned long long)start_us,
                     (unsigned long long)(now_us + EMU_BAL_TURNAROUND_US));
        }
        now_us += 4000000u;
    }
    assert_int_equal(fx.emu.no_module, 1);
}

/* Commands outside 02..06 get no reply; the module stays usable. */
static void test_emu_balancer_unknown_commands_silent(void **state)
{
    (void)state;
    static const char *const reqs[] = {"0100", "0101", "0107", "0110", "0199"};
    setup_modules(1);
    uint64_t now_us = T0_US;
    for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
        const char *got = reply_str(reqs[r], now_us);
        if (got[0] != '\0') {
            fail_msg("row %zu (%s): unexpected reply '%s'", r, reqs[r], got);
        }
        now_us += 1000000u;
    }
    assert_int_equal(fx.emu.unknown_commands, 5);
    assert_string_equal(reply_str("0105", now_us), "3291\r\n");
}

/* Address 00, 51..99, non-digits, or an address without a module: silent. */
static void test_emu_balancer_bad_address_silent(void **state)
{
    (void)state;
    static const char *const bad[] = {"0005", "5105", "9905", "A105", "01 5", "-105", "0\r05"};
    setup_modules(50);
    uint64_t now_us = T0_US;
    for (size_t r = 0; r < sizeof(bad) / sizeof(bad[0]); r++) {
        const char *got = reply_str(bad[r], now_us);
        if (got[0] != '\0') {
            fail_msg("row %zu: unexpected reply '%s'", r, got);
        }
        now_us += 1000000u;
    }
    assert_int_equal(fx.emu.bad_requests, 7);
    /* 50 is the last valid address. */
    assert_string_equal(reply_str("5005", now_us), "3291\r\n");
    setup_modules(3);
    assert_string_equal(reply_str("0405", T0_US), "");
    assert_int_equal(fx.emu.no_module, 1);
}

/* Requests are framed by length; a silence over 2 character times drops a
 * partial request, so the bus resyncs after noise or a lost byte. */
static void test_emu_balancer_framing_and_resync(void **state)
{
    (void)state;
    setup_modules(1);
    uint8_t out[EMU_BAL_MAX_REPLY];
    uint64_t start;
    /* Characters one per character time: one request. */
    uint64_t t = T0_US;
    const char *req = "0105";
    for (int i = 0; i < 4; i++) {
        emu_bal_feed(&fx.emu, (const uint8_t *)&req[i], 1, t);
        if (i < 3) {
            assert_int_equal(emu_bal_take_reply(&fx.emu, out, sizeof(out), &start), 0);
        }
        t += EMU_BAL_CHAR_US;
    }
    assert_int_equal(emu_bal_take_reply(&fx.emu, out, sizeof(out), &start), 6);
    assert_int_equal(start, t - EMU_BAL_CHAR_US + EMU_BAL_TURNAROUND_US);
    /* A gap of exactly 2 character times still belongs to the request. */
    emu_bal_feed(&fx.emu, (const uint8_t *)"01", 2, 10 * T0_US);
    emu_bal_feed(&fx.emu, (const uint8_t *)"06", 2, 10 * T0_US + EMU_BAL_GAP_US);
    assert_string_equal(reply_str("", 10 * T0_US + EMU_BAL_GAP_US), "148\r\n");
    /* A stray byte, then a pause, then a clean request: answered. */
    emu_bal_feed(&fx.emu, (const uint8_t *)"9", 1, 20 * T0_US);
    assert_string_equal(reply_str("0105", 20 * T0_US + EMU_BAL_GAP_US + 1), "3291\r\n");
    assert_int_equal(fx.emu.fragments, 1);
    /* Without the pause the stray byte shifts the framing: "9010" is dropped
     * and "5" waits; the next pause resyncs. */
    assert_string_equal(reply_str("90105", 30 * T0_US), "");
    assert_string_equal(reply_str("0102", 30 * T0_US + 100000u), "24\r\n");
    assert_int_equal(fx.emu.fragments, 2);
    assert_int_equal(fx.emu.bad_requests, 1);
}

/* Above the threshold the module bleeds v / R and its resistor heats toward
 * ambient + P x 40 K/W with a 300 s time constant; below it stops and cools. */
static void test_emu_balancer_balancing_bleeds_and_heats(void **state)
{
    (void)state;
    setup_modules(2);
    fx.ambient_c = 25.0;
    fx.emu.mods[0].res_temp_c = 25.0;
    fx.emu.mods[1].res_temp_c = 25.0;
    fx.cells[0].v = 3.50;
    fx.cells[1].v = 3.44; /* below the 3.45 V default */
    emu_bal_tick(&fx.emu, 1.0, 0);
    assert_true(NEAR(fx.cells[0].bleed_a, 0.35, 1e-12));
    assert_true(fx.cells[1].bleed_a == 0.0);
    assert_true(fx.emu.mods[0].balancing && !fx.emu.mods[1].balancing);
    for (int s = 1; s < 300; s++) {
        emu_bal_tick(&fx.emu, 1.0, 0);
    }
    double rise_k = 0.35 * 0.35 * 10.0 * 40.0; /* 49 K at 1.225 W */
    double want = 25.0 + rise_k * (1.0 - exp(-1.0));
    if (!NEAR(fx.emu.mods[0].res_temp_c, want, 0.01)) {
        fail_msg("after 300 s: %.3f degC, want %.3f", fx.emu.mods[0].res_temp_c, want);
    }
    assert_true(NEAR(fx.emu.mods[1].res_temp_c, 25.0, 1e-9));
    char want_s[16];
    (void)snprintf(want_s, sizeof(want_s), "%ld\r\n", lround(want));
    assert_string_equal(reply_str("0103", T0_US), want_s);
    assert_string_equal(reply_str("0203", 2 * T0_US), "25\r\n");
    /* Cell falls below the threshold: bleeding stops, the resistor cools. */
    fx.cells[0].v = 3.449;
    emu_bal_tick(&fx.emu, 1.0, 0);
    assert_true(fx.cells[0].bleed_a == 0.0);
    emu_bal_tick(&fx.emu, 3000.0, 0);
    assert_true(NEAR(fx.emu.mods[0].res_temp_c, 25.0, 0.01));
    /* The threshold is per module. */
    assert_int_equal(emu_bal_set_threshold(&fx.emu, 2, 3.40), 0);
    emu_bal_tick(&fx.emu, 1.0, 0);
    assert_true(NEAR(fx.cells[1].bleed_a, 0.344, 1e-12));
    assert_true(fx.cells[0].bleed_a == 0.0);
}

/* With the sim: the balanced cell's SOC drifts down, its neighbour's does not. */
static void test_emu_balancer_bleed_lowers_soc_in_sim(void **state)
{
    (void)state;
    static sim_bank_t b;
    sim_rng_t rng;
    sim_rng_seed(&rng, 3);
    sim_bank_init(&b, 25.0);
    sim_pack_spec_t spec = {.ncells = 2, .capacity_ah = 100.0, .soc = 0.5, .temp_c = 25.0};
    assert_int_equal(sim_bank_add(&b, &spec, &rng), 0);
    sim_pack_t *p = &b.packs[0];
    emu_balancer_t *e = &fx.emu;
    emu_bal_init(e, 1);
    assert_int_equal(emu_bal_attach(e, 1, &p->cells[0], &p->ambient_c), 0);
    assert_int_equal(emu_bal_attach(e, 2, &p->cells[1], &p->ambient_c), 0);
    /* Lower module 1's threshold under the plateau so it balances at 50 %. */
    assert_int_equal(emu_bal_set_threshold(e, 1, sim_lfp_ocv(0.5) - 0.1), 0);
    double soc0 = p->cells[0].soc, soc1 = p->cells[1].soc;
    for (int s = 0; s < 3600; s++) {
        sim_bank_step(&b, 1.0, 0.0);
        emu_bal_tick(e, 1.0, 0);
    }
    double bleed_ah = p->cells[0].v / 10.0; /* about 0.33 A for an hour */
    if (!NEAR(soc0 - p->cells[0].soc, bleed_ah / 100.0, 0.0002)) {
        fail_msg("cell 1 SOC fell %.5f, want about %.5f", soc0 - p->cells[0].soc, bleed_ah / 100.0);
    }
    assert_true(NEAR(p->cells[1].soc, soc1, 1e-12));
    assert_true(e->mods[0].res_temp_c > 60.0);
}

/* Each fault knob, and clearing it. */
static void test_emu_balancer_fault_knobs(void **state)
{
    (void)state;
    setup_modules(2);
    uint64_t t = T0_US;
    /* Silent. */
    emu_bal_set_faults(&fx.emu, 1, EMU_BAL_F_SILENT, 0);
    assert_string_equal(reply_str("0105", t += T0_US), "");
    assert_string_equal(reply_str("0205", t += T0_US), "3291\r\n");
    /* Garbage: 3..8 bytes with bit 7 set (never a number), then CR LF. */
    emu_bal_set_faults(&fx.emu, 1, EMU_BAL_F_GARBAGE, 0);
    for (int r = 0; r < 20; r++) {
        uint8_t out[EMU_BAL_MAX_REPLY];
        uint64_t start;
        size_t n = request("0105", t += T0_US, out, &start);
        if (n < 5 || n > 10 || out[n - 2] != '\r' || out[n - 1] != '\n') {
            fail_msg("garbage row %d: %zu bytes", r, n);
        }
        for (size_t i = 0; i + 2 < n; i++) {
            if (out[i] < 0x80) {
                fail_msg("garbage row %d byte %zu = 0x%02X", r, i, out[i]);
            }
        }
    }
    /* Wrong value: +500 mV, +20 degC on both temperatures; uptime, version as is. */
    emu_bal_set_faults(&fx.emu, 1, EMU_BAL_F_WRONG_VALUE, 0);
    assert_string_equal(reply_str("0105", t += T0_US), "3791\r\n");
    assert_string_equal(reply_str("0102", t += T0_US), "44\r\n");
    assert_string_equal(reply_str("0103", t += T0_US), "43\r\n");
    assert_string_equal(reply_str("0106", t += T0_US), "148\r\n");
    /* Stuck: values frozen when switched on, re-applying keeps the old ones. */
    emu_bal_set_faults(&fx.emu, 1, EMU_BAL_F_STUCK, 0);
    fx.cells[0].v = 3.100;
    fx.cells[0].temp_c = 30.0;
    emu_bal_tick(&fx.emu, 10.0, 0);
    emu_bal_set_faults(&fx.emu, 1, EMU_BAL_F_STUCK, 0);
    assert_string_equal(reply_str("0105", t += T0_US), "3291\r\n");
    assert_string_equal(reply_str("0102", t += T0_US), "24\r\n");
    assert_string_equal(reply_str("0104", t += T0_US), "0\r\n");
    /* Cleared: live values again. */
    emu_bal_set_faults(&fx.emu, 1, 0, 0);
    assert_string_equal(reply_str("0105", t += T0_US), "3100\r\n");
    assert_string_equal(reply_str("0104", t += T0_US), "10\r\n");
    /* Slow: the reply starts slow_ms later than the 20 ms turnaround. */
    emu_bal_set_faults(&fx.emu, 1, EMU_BAL_F_SLOW, 3000);
    uint8_t out[EMU_BAL_MAX_REPLY];
    uint64_t start = 0;
    t += T0_US;
    assert_int_equal(request("0105", t, out, &start), 6);
    assert_int_equal(start, t + EMU_BAL_TURNAROUND_US + 3000000u);
    assert_int_equal(fx.emu.mods[0].requests, fx.emu.mods[0].replies + 1);
}

/* Two modules at one address drive the line together: the wired AND of
 * their bit streams, the second 3 bit times late, read by a UART. */
static void test_emu_balancer_duplicate_collision_garbles(void **state)
{
    (void)state;
    /* Independently worked out bit by bit for "3291\r\n" and "3305\r\n". */
    static const uint8_t want[] = {0x13, 0x12, 0x00, 0x20, 0x08, 0x02, 0xFE};
    setup_modules(2);
    fx.cells[1].v = 3.305;
    assert_int_equal(emu_bal_duplicate(&fx.emu, 1, 2), 0);
    uint8_t out[EMU_BAL_MAX_REPLY];
    uint64_t start;
    size_t n = request("0105", T0_US, out, &start);
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(start, T0_US + EMU_BAL_TURNAROUND_US);
    assert_int_equal(fx.emu.collisions, 1);
    /* Equal values still collide: the streams are offset. */
    fx.cells[1].v = 3.291;
    assert_true(strcmp(reply_str("0105", 2 * T0_US), "3291\r\n") != 0);
    /* The duplicate keeps its own address. */
    assert_string_equal(reply_str("0205", 3 * T0_US), "3291\r\n");
    /* One of the two silent: no collision. */
    emu_bal_set_faults(&fx.emu, 2, EMU_BAL_F_SILENT, 0);
    assert_string_equal(reply_str("0105", 4 * T0_US), "3291\r\n");
    emu_bal_set_faults(&fx.emu, 2, 0, 0);
    /* Undone. */
    assert_int_equal(emu_bal_duplicate(&fx.emu, 0, 2), 0);
    assert_string_equal(reply_str("0105", 5 * T0_US), "3291\r\n");
    assert_int_equal(fx.emu.collisions, 2);
    /* Bad arguments. */
    assert_int_equal(emu_bal_duplicate(&fx.emu, 1, 1), -1);
    assert_int_equal(emu_bal_duplicate(&fx.emu, 3, 2), -1);
    assert_int_equal(emu_bal_duplicate(&fx.emu, 1, 3), -1);
}

/* Uptime counts ticks since attach; a reboot sets it back to 0. */
static void test_emu_balancer_reboot_resets_uptime(void **state)
{
    (void)state;
    setup_modules(2);
    emu_bal_tick(&fx.emu, 100.0, 0);
    assert_string_equal(reply_str("0104", T0_US), "100\r\n");
    emu_bal_reboot(&fx.emu, 1, 100 * T0_US);
    assert_string_equal(reply_str("0104", 2 * T0_US), "0\r\n");
    assert_string_equal(reply_str("0204", 3 * T0_US), "100\r\n");
    for (int s = 0; s < 5; s++) {
        emu_bal_tick(&fx.emu, 1.0, 0);
    }
    assert_string_equal(reply_str("0104", 4 * T0_US), "5\r\n");
}

/* Attach rejects bad addresses, a NULL cell and a taken address; a reply
 * larger than the caller's buffer stays pending. */
static void test_emu_balancer_attach_and_take_limits(void **state)
{
    (void)state;
    setup_modules(1);
    sim_cell_t c = {.v = 3.3};
    assert_int_equal(emu_bal_attach(&fx.emu, 0, &c, NULL), -1);
    assert_int_equal(emu_bal_attach(&fx.emu, 51, &c, NULL), -1);
    assert_int_equal(emu_bal_attach(&fx.emu, 2, NULL, NULL), -1);
    assert_int_equal(emu_bal_attach(&fx.emu, 1, &c, NULL), -1);
    emu_bal_feed(&fx.emu, (const uint8_t *)"0105", 4, T0_US);
    uint8_t out[EMU_BAL_MAX_REPLY];
    assert_int_equal(emu_bal_take_reply(&fx.emu, out, 5, NULL), 0);
    assert_int_equal(emu_bal_take_reply(&fx.emu, out, 6, NULL), 6);
    assert_int_equal(emu_bal_take_reply(&fx.emu, out, 6, NULL), 0);
    /* No ambient pointer: the resistor sits at the cell's temperature. */
    c.temp_c = 31.0;
    assert_int_equal(emu_bal_attach(&fx.emu, 2, &c, NULL), 0);
    assert_string_equal(reply_str("0203", 2 * T0_US), "31\r\n");
}

/* Random bytes at random times, with faults and a duplicate: no crash, every
 * reply within bounds, every complete frame accounted for. */
static void test_emu_balancer_random_bytes_never_crash(void **state)
{
    (void)state;
    setup_modules(50);
    emu_bal_set_faults(&fx.emu, 3, EMU_BAL_F_GARBAGE, 0);
    emu_bal_set_faults(&fx.emu, 4, EMU_BAL_F_STUCK | EMU_BAL_F_WRONG_VALUE, 0);
    emu_bal_set_faults(&fx.emu, 5, EMU_BAL_F_SLOW, UINT32_MAX);
    assert_int_equal(emu_bal_duplicate(&fx.emu, 1, 2), 0);
    assert_int_equal(emu_bal_duplicate(&fx.emu, 1, 6), 0);
    fx.cells[6].v = NAN;
    fx.cells[7].temp_c = INFINITY;
    fx.cells[8].v = -1e300;
    sim_rng_t rng;
    sim_rng_seed(&rng, 99);
    uint64_t t = 0;
    uint32_t taken = 0;
    for (int i = 0; i < 200000; i++) {
        uint8_t chunk[7];
        size_t n = (size_t)(sim_rng_uniform(&rng) * sizeof(chunk));
        for (size_t k = 0; k < n; k++) {
            /* Mostly digits, so that many frames are valid requests. */
            double u = sim_rng_uniform(&rng);
            chunk[k] =
                u < 0.8 ? (uint8_t)('0' + (int)(u * 12.5)) : (uint8_t)((int)(u * 1000.0) & 0xFF);
        }
        t += (uint64_t)(sim_rng_uniform(&rng) * 100000.0);
        emu_bal_feed(&fx.emu, chunk, n, t);
        if (i % 1000 == 0) {
            emu_bal_tick(&fx.emu, sim_rng_uniform(&rng) * 10.0, t);
        }
        uint8_t out[EMU_BAL_MAX_REPLY];
        size_t got = emu_bal_take_reply(&fx.emu, out, sizeof(out), NULL);
        assert_true(got <= EMU_BAL_MAX_REPLY);
        taken += got > 0;
    }
    emu_bal_feed(&fx.emu, NULL, 5, t);
    emu_bal_tick(&fx.emu, NAN, t);
    emu_bal_tick(&fx.emu, -1.0, t);
    const emu_balancer_t *e = &fx.emu;
    assert_true(taken > 1000);
    assert_true(e->bad_requests > 0 && e->unknown_commands > 0 && e->fragments > 0 &&
                e->collisions > 0);
    assert_true(e->requests >= e->bad_requests + e->unknown_commands + e->no_module);
    assert_string_equal(reply_str("0705", t + T0_US), "0\r\n"); /* NaN reads 0 mV */
    assert_string_equal(reply_str("0802", t + 2 * T0_US), "127\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_balancer_b11_vectors),
        cmocka_unit_test(test_emu_balancer_unknown_commands_silent),
        cmocka_unit_test(test_emu_balancer_bad_address_silent),
        cmocka_unit_test(test_emu_balancer_framing_and_resync),
        cmocka_unit_test(test_emu_balancer_balancing_bleeds_and_heats),
        cmocka_unit_test(test_emu_balancer_bleed_lowers_soc_in_sim),
        cmocka_unit_test(test_emu_balancer_fault_knobs),
        cmocka_unit_test(test_emu_balancer_duplicate_collision_garbles),
        cmocka_unit_test(test_emu_balancer_reboot_resets_uptime),
        cmocka_unit_test(test_emu_balancer_attach_and_take_limits),
        cmocka_unit_test(test_emu_balancer_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
