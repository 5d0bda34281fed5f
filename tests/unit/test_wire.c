/* SPDX-License-Identifier: MIT */
/* Unit tests of sim/wire: character timing, queueing, notify, tap, collisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sched.h"
#include "sim/wire.h"

/* The wire is large (two 8 KiB rings with timestamps): keep it off the stack. */
static sim_wire_t g_wire;
static sim_sched_t g_sched;

typedef struct notify_log {
    int n;
    uint64_t t_us[16];
} notify_log_t;

static void on_notify(void *ctx, uint64_t now_us)
{
    notify_log_t *log = ctx;
    if (log->n < 16) {
        log->t_us[log->n] = now_us;
    }
    log->n++;
}

#define TAP_MAX 8192
typedef struct tap_log {
    size_t n;
    int from[TAP_MAX];
    uint64_t t_us[TAP_MAX];
    uint8_t byte[TAP_MAX];
} tap_log_t;

static tap_log_t g_tap;

static void on_tap(void *ctx, int from, uint64_t t_us, uint8_t byte)
{
    tap_log_t *log = ctx;
    if (log->n < TAP_MAX) {
        log->from[log->n] = from;
        log->t_us[log->n] = t_us;
        log->byte[log->n] = byte;
    }
    log->n++;
}

static int setup(void **state)
{
    (void)state;
    sim_sched_init(&g_sched);
    sim_wire_init(&g_wire, &g_sched, 9600, 10, true);
    memset(&g_tap, 0, sizeof(g_tap));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_sched_free(&g_sched);
    return 0;
}

static const uint8_t burst10[10] = {0x7E, 0x32, 0x35, 0x30, 0x31, 0x34, 0x36, 0x34, 0x32, 0x0D};

/* k * 10 / 9600 s rounded to us: 1041.667 us per character, no drift. */
static const uint64_t arrive10_us[10] = {1042, 2083, 3125, 4167, 5208,
                                         6250, 7292, 8333, 9375, 10417};

static void test_wire_burst_arrival_times(void **state)
{
    (void)state;
    assert_int_equal(g_wire.char_ns, 1041667);
    assert_int_equal(sim_wire_write(&g_wire, 0, burst10, sizeof(burst10)), 10);
    assert_int_equal(sim_wire_tx_idle_at(&g_wire, 0), 10417);
    for (int k = 0; k < 10; k++) {
        size_t i = (g_wire.dir[1].head + (size_t)k) % SIM_WIRE_BUF;
        if (g_wire.dir[1].arrive_us[i] != arrive10_us[k]) {
            fail_msg("char %d: arrives at %llu, want %llu", k,
                     (unsigned long long)g_wire.dir[1].arrive_us[i],
                     (unsigned long long)arrive10_us[k]);
        }
    }
}

/* Reading part-way through a burst returns exactly the bytes whose last bit
 * is in; nothing reaches the sender's own end. */
static void test_wire_read_only_arrived(void **state)
{
    (void)state;
    static const struct {
        uint64_t at_us;
        size_t total; /* bytes read so far at that time */
    } rows[] = {
        {0, 0}, {1041, 0}, {1042, 1}, {5000, 4}, {5208, 5}, {10416, 9}, {10417, 10}, {20000, 10},
    };
    uint8_t got[16];
    size_t total = 0;
    sim_wire_write(&g_wire, 0, burst10, sizeof(burst10));
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_sched_run_until(&g_sched, rows[r].at_us);
        total += sim_wire_read(&g_wire, 1, got + total, sizeof(got) - total);
        if (total != rows[r].total) {
            fail_msg("row %zu: %zu bytes at %llu us, want %zu", r, total,
                     (unsigned long long)rows[r].at_us, rows[r].total);
        }
        uint8_t own[4];
        if (sim_wire_read(&g_wire, 0, own, sizeof(own)) != 0) {
            fail_msg("row %zu: sender end received its own bytes", r);
        }
    }
    assert_memory_equal(got, burst10, sizeof(burst10));
    assert_int_equal(g_wire.collisions, 0);
}

/* A write while the transmitter is busy starts when the previous one ends,
 * and the burst gets one notify, at its very last byte. */
static void test_wire_write_while_busy_queues(void **state)
{
    (void)state;
    notify_log_t nl = {0};
    sim_wire_set_notify(&g_wire, 1, on_notify, &nl);
    sim_wire_write(&g_wire, 0, burst10, sizeof(burst10));
    sim_sched_run_until(&g_sched, 3000);
    static const uint8_t more[5] = {1, 2, 3, 4, 5};
    sim_wire_write(&g_wire, 0, more, sizeof(more));
    /* 11th char: 11 * 1041.667 = 11458.3; 15th: 15625.0 */
    assert_int_equal(sim_wire_tx_idle_at(&g_wire, 0), 15625);
    size_t i11 = (g_wire.dir[1].head + 10) % SIM_WIRE_BUF;
    assert_int_equal(g_wire.dir[1].arrive_us[i11], 11458);
    sim_sched_run_until(&g_sched, 100000);
    assert_int_equal(nl.n, 1);
    assert_int_equal(nl.t_us[0], 15625);
    uint8_t got[32];
    assert_int_equal(sim_wire_read(&g_wire, 1, got, sizeof(got)), 15);
    assert_memory_equal(got + 10, more, sizeof(more));
    /* An idle line starts the next burst at now, with a notify of its own. */
    sim_wire_write(&g_wire, 0, more, 1);
    sim_sched_run_until(&g_sched, 200000);
    assert_int_equal(nl.n, 2);
    assert_int_equal(nl.t_us[1], 100000 + 1042);
}

/* 4800 characters back to back take exactly 5 s at 9600 8N1: no drift. */
static void test_wire_long_burst_no_drift(void **state)
{
    (void)state;
    static uint8_t data[4800];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)i;
    }
    sim_wire_write(&g_wire, 1, data, sizeof(data));
    assert_int_equal(sim_wire_tx_idle_at(&g_wire, 1), 5000000);
    sim_sched_run_until(&g_sched, 5000000);
    static uint8_t got[4800];
    assert_int_equal(sim_wire_read(&g_wire, 0, got, sizeof(got)), sizeof(data));
    assert_memory_equal(got, data, sizeof(data));
}

/* The tap sees every character once, in arrival order, whether the reader
 * reads part-way or only the notify delivers it. */
static void test_wire_tap_every_char_once(void **state)
{
    (void)state;
    sim_wire_set_tap(&g_wire, on_tap, &g_tap);
    sim_wire_write(&g_wire, 0, burst10, sizeof(burst10));
    sim_sched_run_until(&g_sched, 5000);
    uint8_t got[16];
    assert_int_equal(sim_wire_read(&g_wire, 1, got, 2), 2); /* read less than arrived */
    assert_int_equal(g_tap.n, 4);
    sim_sched_run_until(&g_sched, 50000);
    assert_int_equal(g_tap.n, 10);
    sim_wire_read(&g_wire, 1, got, sizeof(got));
    sim_wire_write(&g_wire, 1, burst10, 3); /* reply, nobody reads it */
    sim_sched_run_until(&g_sched, 60000);
    assert_int_equal(g_tap.n, 13);
    for (size_t k = 0; k < 13; k++) {
        int want_from = k < 10 ? 0 : 1;
        uint64_t want_t = k < 10 ? arrive10_us[k] : 50000 + arrive10_us[k - 10];
        uint8_t want_b = k < 10 ? burst10[k] : burst10[k - 10];
        if (g_tap.from[k] != want_from || g_tap.t_us[k] != want_t || g_tap.byte[k] != want_b) {
            fail_msg("tap %zu: from %d t %llu byte %02x", k, g_tap.from[k],
                     (unsigned long long)g_tap.t_us[k], g_tap.byte[k]);
        }
    }
}

/* Half duplex: end 1 starts talking at 2000 us while end 0's 4-byte burst
 * (chars end at 1042, 2083, 3125, 4167) is on the line. End 1's chars span
 * 2000..3042 and 3042..4083: chars 1..3 of end 0 and both of end 1 are hit;
 * char 0 of end 0 was complete before and is intact. */
static void test_wire_half_duplex_collision(void **state)
{
    (void)state;
    static const uint8_t a[4] = {0x11, 0x22, 0x33, 0x44};
    static const uint8_t b[2] = {0x55, 0x66};
    static const bool a_hit[4] = {false, true, true, true};
    sim_wire_set_tap(&g_wire, on_tap, &g_tap);
    sim_wire_write(&g_wire, 0, a, sizeof(a));
    sim_sched_run_until(&g_sched, 2000);
    sim_wire_write(&g_wire, 1, b, sizeof(b));
    sim_sched_run_until(&g_sched, 10000);
    uint8_t at1[8], at0[8];
    assert_int_equal(sim_wire_read(&g_wire, 1, at1, sizeof(at1)), 4);
    assert_int_equal(sim_wire_read(&g_wire, 0, at0, sizeof(at0)), 2);
    for (int k = 0; k < 4; k++) {
        if ((at1[k] != a[k]) != a_hit[k]) {
            fail_msg("end 0 char %d: sent %02x, received %02x", k, a[k], at1[k]);
        }
    }
    for (int k = 0; k < 2; k++) {
        if (at0[k] == b[k]) {
            fail_msg("end 1 char %d: survived a collision", k);
        }
    }
    assert_int_equal(g_wire.collisions, 2);
    /* The tap records what the receivers saw, in order per direction
     * (end 1's shorter burst ends first, at 4083 us, so it is tapped first). */
    assert_int_equal(g_tap.n, 6);
    size_t n_from[2] = {0, 0};
    for (size_t k = 0; k < g_tap.n; k++) {
        int from = g_tap.from[k];
        uint8_t seen = from == 0 ? at1[n_from[0]] : at0[n_from[1]];
        n_from[from]++;
        if (g_tap.byte[k] != seen) {
            fail_msg("tap %zu (from %d): %02x, receiver saw %02x", k, from, g_tap.byte[k], seen);
        }
    }
    assert_int_equal(n_from[0], 4);
    assert_int_equal(n_from[1], 2);
}

/* Same traffic on a full-duplex line is clean; back-to-back turnaround on a
 * half-duplex line (reply written at the notify of the request) is clean. */
static void test_wire_no_collision_cases(void **state)
{
    (void)state;
    static const uint8_t a[4] = {0x11, 0x22, 0x33, 0x44};
    static const uint8_t b[2] = {0x55, 0x66};
    uint8_t got[8];
    sim_wire_t *fd = &g_wire;
    sim_wire_init(fd, &g_sched, 9600, 10, false);
    sim_wire_write(fd, 0, a, sizeof(a));
    sim_sched_run_until(&g_sched, 2000);
    sim_wire_write(fd, 1, b, sizeof(b));
    sim_sched_run_until(&g_sched, 10000);
    assert_int_equal(sim_wire_read(fd, 1, got, sizeof(got)), 4);
    assert_memory_equal(got, a, 4);
    assert_int_equal(sim_wire_read(fd, 0, got, sizeof(got)), 2);
    assert_memory_equal(got, b, 2);
    assert_int_equal(fd->collisions, 0);

    sim_wire_init(fd, &g_sched, 9600, 10, true);
    sim_wire_write(fd, 0, a, sizeof(a));
    uint64_t end_us = sim_wire_tx_idle_at(fd, 0);
    sim_sched_run_until(&g_sched, end_us);
    sim_wire_write(fd, 1, b, sizeof(b));
    sim_sched_run_until(&g_sched, end_us + 10000);
    assert_int_equal(sim_wire_read(fd, 1, got, sizeof(got)), 4);
    assert_memory_equal(got, a, 4);
    assert_int_equal(sim_wire_read(fd, 0, got, sizeof(got)), 2);
    assert_memory_equal(got, b, 2);
    assert_int_equal(fd->collisions, 0);
}

/* Unread input beyond the ring is dropped and counted; time still passes. */
static void test_wire_overflow_counted(void **state)
{
    (void)state;
    static uint8_t data[SIM_WIRE_BUF + 100];
    memset(data, 0xA5, sizeof(data));
    assert_int_equal(sim_wire_write(&g_wire, 0, data, sizeof(data)), sizeof(data));
    assert_int_equal(g_wire.dir[1].dropped, 100);
    assert_int_equal(g_wire.dir[1].bytes, sizeof(data));
    assert_int_equal(g_wire.dir[1].len, SIM_WIRE_BUF);
    /* Bad arguments are refused, not a crash. */
    assert_int_equal(sim_wire_write(&g_wire, 2, data, 1), 0);
    assert_int_equal(sim_wire_write(&g_wire, -1, data, 1), 0);
    assert_int_equal(sim_wire_read(&g_wire, 5, data, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wire_burst_arrival_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_read_only_arrived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_write_while_busy_queues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_long_burst_no_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_tap_every_char_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_half_duplex_collision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_no_collision_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_overflow_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
