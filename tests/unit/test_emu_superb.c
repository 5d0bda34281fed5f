/* SPDX-License-Identifier: MIT */
/* Unit tests for the SuperB emulator: A.11 golden vectors, NMT, heartbeat, SDO, scaling, faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/superb/emu_superb.h"

#define MS 1000ull
#define REPLY_WINDOW_US (3 * MS) /* responses leave 1..2 ms after the request */

/* Pack settings for the fixtures; cells get soc, temp and voltage / ncells each. */
typedef struct pack_cfg {
    double voltage_v, current_a, soc, temp_c, capacity_ah, throughput_ah;
    int cycles_base;
} pack_cfg_t;

static void make_pack(sim_pack_t *p, const pack_cfg_t *c)
{
    memset(p, 0, sizeof(*p));
    p->ncells = 4;
    for (int i = 0; i < 4; i++) {
        p->cells[i].soc = c->soc;
        p->cells[i].temp_c = c->temp_c;
        p->cells[i].v = c->voltage_v / 4.0;
        p->cells[i].capacity_ah = c->capacity_ah;
    }
    p->voltage_v = c->voltage_v;
    p->current_a = c->current_a;
    p->capacity_ah = c->capacity_ah;
    p->ambient_c = c->temp_c;
    p->throughput_ah = c->throughput_ah;
    p->cycles_base = c->cycles_base;
    p->charge_fet = true;
    p->discharge_fet = true;
}

/* Node 2 of the A.11 table: 13562/1024 V, 87 %, 25.0 degC, 123 cycles,
 * 50 Ah since equalisation ((1 - 0.87) x cap), 50 Ah returned (throughput / 2). */
static const pack_cfg_t node2_cfg = {13562.0 / 1024.0, -3.5, 0.87, 25.0, 50.0 / 0.13, 100.0, 123};
static const pack_cfg_t node1_cfg = {54.0, 0.0, 0.5, 20.0, 100.0, 0.0, 0};

/* Independent candump helpers: "ID#HEX". */
static void parse_cd(const char *s, sim_can_frame_t *f)
{
    memset(f, 0, sizeof(*f));
    unsigned id = 0;
    int used = 0;
    if (sscanf(s, "%x#%n", &id, &used) != 1 || used == 0) {
        fail_msg("bad test frame '%s'", s);
    }
    f->id = id;
    const char *h = s + used;
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n && i < 8; i++) {
        unsigned b = 0;
        sscanf(h + 2 * i, "%2x", &b);
        f->data[i] = (uint8_t)b;
    }
    f->dlc = (uint8_t)n;
}

static void fmt_cd(const sim_can_frame_t *f, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%03X#", (unsigned)f->id);
    for (unsigned i = 0; i < f->dlc && i < 8 && n > 0 && (size_t)n < cap; i++) {
        n += snprintf(out + n, cap - (size_t)n, "%02X", f->data[i]);
    }
}

static void send_cd(emu_superb_t *e, const char *s, uint64_t t_us)
{
    sim_can_frame_t f;
    parse_cd(s, &f);
    emu_sb_on_frame(e, &f, t_us);
}

/* Every frame due by t_us, in order, joined with spaces into out ("" when none). */
static void take_all(emu_superb_t *e, uint64_t t_us, char *out, size_t cap)
{
    sim_can_frame_t f;
    char one[32];
    out[0] = '\0';
    while (emu_sb_take_tx(e, t_us, &f) >= 0) {
        fmt_cd(&f, one, sizeof(one));
        if (out[0] != '\0') {
            strncat(out, " ", cap - strlen(out) - 1);
        }
        strncat(out, one, cap - strlen(out) - 1);
    }
}

/* Like take_all, but steps through every deadline up to t_us as a runner would. */
static void take_until(emu_superb_t *e, uint64_t t_us, char *out, size_t cap)
{
    char part[256];
    out[0] = '\0';
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t d = emu_sb_next_deadline(e);
        if (d > t_us) {
            break;
        }
        take_all(e, d, part, sizeof(part));
        if (part[0] != '\0' && out[0] != '\0') {
            strncat(out, " ", cap - strlen(out) - 1);
        }
        strncat(out, part, cap - strlen(out) - 1);
    }
}

/* Send a request at t_us and return what comes out within the reply window. */
static const char *xchg(emu_superb_t *e, const char *req, uint64_t t_us)
{
    static char out[256];
    send_cd(e, req, t_us);
    take_all(e, t_us + REPLY_WINDOW_US, out, sizeof(out));
    return out;
}

#define ASSERT_XCHG(e, req, t, want, row)                                                          \
    do {                                                                                           \
        const char *got_ = xchg((e), (req), (t));                                                  \
        if (strcmp(got_, (want)) != 0) {                                                           \
            fail_msg("row %d: %s -> '%s', want '%s'", (int)(row), (req), got_, (want));            \
        }                                                                                          \
    } while (0)

typedef struct bench {
    emu_superb_t e;
    sim_pack_t packs[4];
} bench_t;

/* Nodes 1 (54 V) and 2 (A.11 pack), booted at t = 0, boot-ups taken. */
static void bench_setup(bench_t *b, uint16_t fw)
{
    char out[256];
    emu_sb_init(&b->e, 42);
    make_pack(&b->packs[0], &node1_cfg);
    make_pack(&b->packs[1], &node2_cfg);
    assert_int_equal(emu_sb_add_node(&b->e, 1, &b->packs[0], fw, 0), 0);
    assert_int_equal(emu_sb_add_node(&b->e, 2, &b->packs[1], fw, 0), 1);
    take_all(&b->e, 0, out, sizeof(out));
    assert_string_equal(out, "701#00 702#00");
}

typedef struct vec_row {
    int ref; /* row number in superb_balancer.md A.11 */
    uint16_t fw;
    const char *req, *resp;
} vec_row_t;

static void test_emu_superb_golden_vectors(void **state)
{
    (void)state;
    static const vec_row_t rows[] = {
        {1, 0x0106, "602#4060600000000000", "582#43606000FA340000"},
        {2, 0x0106, "601#4060600000000000", "581#4360600000D80000"},
        {3, 0x0106, "602#4081600000000000", "582#4F81600057000000"},
        {4, 0x0106, "602#4010600000000000", "582#4B106000C8000000"},
        {7, 0x0106, "602#4050600000000000", "582#4B5060007B000000"},
        {8, 0x0106, "602#4053600000000000", "582#4353600090010000"},
        {9, 0x0106, "602#4052600000000000", "582#4B52600090010000"},
        {10, 0x0101, "602#4051600000000000", "582#8051600000000206"},
        {11, 0x0106, "602#4018100100000000", "582#431810017C030000"},
        {12, 0x0106, "602#4018100300000000", "582#4318100300060100"},
        /* row 14 allows any U32; ours is the documented 0x000001A2 */
        {14, 0x0106, "602#4000100000000000", "582#43001000A2010000"},
        {15, 0x0106, "602#2B171000E8030000", "582#6017100000000000"},
        {16, 0x0106, "602#2F60600001000000", "582#8060600002000106"},
        {17, 0x0106, "602#E060600000000000", "582#8060600001000405"},
    };
    bench_t b;
    bench_setup(&b, 0x0106);
    uint64_t t = 10 * MS;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++, t += 10 * MS) {
        emu_sb_set_firmware(&b.e, 2, rows[i].fw);
        ASSERT_XCHG(&b.e, rows[i].req, t, rows[i].resp, rows[i].ref);
    }
}

static void test_emu_superb_reply_delay(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    for (int row = 0; row < 20; row++) {
        uint64_t t = (uint64_t)(10 + row * 10) * MS;
        send_cd(&b.e, "602#4060600000000000", t);
        uint64_t d = emu_sb_next_deadline(&b.e);
        if (d < t + 1 * MS || d > t + 2 * MS) {
            fail_msg("row %d: reply due %llu us after the request, want 1000..2000", row,
                     (unsigned long long)(d - t));
        }
        take_all(&b.e, d - 1, out, sizeof(out));
        assert_string_equal(out, "");
        take_all(&b.e, d, out, sizeof(out));
        assert_string_equal(out, "582#43606000FA340000");
    }
}

static void test_emu_superb_bootup_and_heartbeat(void **state)
{
    (void)state;
    bench_t b;
    emu_sb_init(&b.e, 1);
    make_pack(&b.packs[1], &node2_cfg);
    assert_int_equal(emu_sb_add_node(&b.e, 2, &b.packs[1], 0x0106, 5 * MS), 0);
    char out[256];
    assert_int_equal(emu_sb_next_deadline(&b.e), 5 * MS);
    take_all(&b.e, 5 * MS - 1, out, sizeof(out));
    assert_string_equal(out, "");
    take_all(&b.e, 5 * MS, out, sizeof(out));
    assert_string_equal(out, "702#00");
    assert_int_equal(emu_sb_next_deadline(&b.e), 1005 * MS);
    take_all(&b.e, 1005 * MS - 1, out, sizeof(out));
    assert_string_equal(out, "");
    take_all(&b.e, 1005 * MS, out, sizeof(out));
    assert_string_equal(out, "702#7F");
    assert_int_equal(emu_sb_next_deadline(&b.e), 2005 * MS);
    /* a caller that comes late gets one heartbeat, not a burst */
    take_all(&b.e, 10 * 1000 * MS, out, sizeof(out));
    assert_string_equal(out, "702#7F");
    assert_int_equal(emu_sb_next_deadline(&b.e), 11 * 1000 * MS);
}

/* Heartbeat instants between t0 and t1 for a single node, driven by next_deadline. */
static int heartbeat_times(emu_superb_t *e, uint64_t t0, uint64_t t1, uint64_t *times, int max)
{
    int n = 0;
    uint64_t now = t0;
    for (int guard = 0; guard < 10000; guard++) {
        uint64_t d = emu_sb_next_deadline(e);
        if (d == UINT64_MAX || d > t1) {
            break;
        }
        now = d > now ? d : now;
        sim_can_frame_t f;
        while (emu_sb_take_tx(e, now, &f) >= 0) {
            if (f.id >= 0x701 && f.id <= 0x77F && f.data[0] != 0 && n < max) {
                times[n++] = now;
            }
        }
    }
    return n;
}

static void test_emu_superb_heartbeat_period_from_1017(void **state)
{
    (void)state;
    bench_t b;
    emu_sb_init(&b.e, 1);
    make_pack(&b.packs[1], &node2_cfg);
    emu_sb_add_node(&b.e, 2, &b.packs[1], 0x0106, 0);
    char out[256];
    take_all(&b.e, 0, out, sizeof(out));
    /* 250 ms = 0x00FA, written at 100 ms: the timer restarts then */
    ASSERT_XCHG(&b.e, "602#2B171000FA000000", 100 * MS, "582#6017100000000000", 0);
    ASSERT_XCHG(&b.e, "602#4017100000000000", 110 * MS, "582#4B171000FA000000", 1);
    uint64_t times[16];
    int n = heartbeat_times(&b.e, 110 * MS, 1100 * MS, times, 16);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        if (times[i] != (uint64_t)(350 + 250 * i) * MS) {
            fail_msg("heartbeat %d at %llu us, want %llu", i, (unsigned long long)times[i],
                     (unsigned long long)(350 + 250 * i) * MS);
        }
    }
    /* 0 disables */
    ASSERT_XCHG(&b.e, "602#2B17100000000000", 1200 * MS, "582#6017100000000000", 2);
    assert_int_equal(emu_sb_next_deadline(&b.e), UINT64_MAX);
    take_all(&b.e, 60 * 1000 * MS, out, sizeof(out));
    assert_string_equal(out, "");
}

static void test_emu_superb_nmt_states(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    send_cd(&b.e, "000#0102", 100 * MS); /* start node 2 */
    take_all(&b.e, 1000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#05");
    send_cd(&b.e, "000#0200", 1100 * MS); /* stop all */
    take_all(&b.e, 2000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#04 702#04");
    ASSERT_XCHG(&b.e, "602#4060600000000000", 2100 * MS, "", 0); /* no SDO when stopped */
    send_cd(&b.e, "000#8002", 2200 * MS);                        /* pre-op node 2 */
    ASSERT_XCHG(&b.e, "602#4060600000000000", 2300 * MS, "582#43606000FA340000", 1);
    take_all(&b.e, 3000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#04 702#7F");
    send_cd(&b.e, "000#0100", 3100 * MS); /* start all (A.11 row 19) */
    take_all(&b.e, 4000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#05 702#05");
    /* unknown command, wrong DLC, node not on this bus: counted or ignored, no state change */
    uint32_t bad = b.e.malformed;
    send_cd(&b.e, "000#0302", 4100 * MS);
    send_cd(&b.e, "000#02", 4100 * MS);
    send_cd(&b.e, "000#020200", 4100 * MS);
    assert_int_equal(b.e.malformed, bad + 3);
    send_cd(&b.e, "000#0209", 4100 * MS);
    take_all(&b.e, 5000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#05 702#05");
}

static void test_emu_superb_nmt_reset_node(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    ASSERT_XCHG(&b.e, "602#2B1710002C010000", 10 * MS, "582#6017100000000000", 0); /* 300 ms */
    send_cd(&b.e, "000#0102", 20 * MS);
    /* A.11 row 19: reset node 2 -> boot-up within the reply window, heartbeat back to 1000 ms */
    ASSERT_XCHG(&b.e, "000#8102", 100 * MS, "702#00", 1);
    ASSERT_XCHG(&b.e, "602#4017100000000000", 110 * MS, "582#4B171000E8030000", 2);
    uint64_t times[4];
    assert_int_equal(heartbeat_times(&b.e, 110 * MS, 999 * MS, times, 4), 0);
    take_all(&b.e, 1103 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#7F"); /* pre-operational after the reset */
}

static void test_emu_superb_nmt_reset_comm_keeps_stored(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    ASSERT_XCHG(&b.e, "602#2B1710002C010000", 10 * MS, "582#6017100000000000", 0);
    /* 0x1010:01 = "save" stores the comm parameters; a wrong signature is refused */
    ASSERT_XCHG(&b.e, "602#2310100173617666", 20 * MS, "582#8010100120000008", 1);
    ASSERT_XCHG(&b.e, "602#2310100173617665", 30 * MS, "582#6010100100000000", 2);
    ASSERT_XCHG(&b.e, "000#8202", 40 * MS, "702#00", 3);
    ASSERT_XCHG(&b.e, "602#4017100000000000", 50 * MS, "582#4B1710002C010000", 4);
    /* broadcast reset: both nodes boot up, node 1 back at its default */
    const char *both = xchg(&b.e, "000#8100", 60 * MS);
    if (strcmp(both, "701#00 702#00") != 0 && strcmp(both, "702#00 701#00") != 0) {
        fail_msg("broadcast reset: '%s', want both boot-ups", both);
    }
    ASSERT_XCHG(&b.e, "601#4017100000000000", 70 * MS, "581#4B171000E8030000", 6);
}

static void test_emu_superb_expedited_sizes(void **state)
{
    (void)state;
    static const vec_row_t rows[] = {
        {0, 0, "602#4081600000000000", "582#4F81600057000000"}, /* U8 */
        {1, 0, "602#4010600000000000", "582#4B106000C8000000"}, /* I16 */
        {2, 0, "602#4060600000000000", "582#43606000FA340000"}, /* I32 */
        {3, 0, "602#4018100000000000", "582#4F18100004000000"}, /* record sub 0 */
        {4, 0, "602#4011200000000000", "582#4F11200010000000"}, /* 16 cells */
        {5, 0, "602#4011200100000000", "582#4B112001EF0C0000"}, /* 3311 mV (13.244 V / 4) */
        {6, 0, "602#4011201000000000", "582#4B11201000000000"}, /* cell 16 absent: 0 */
        {7, 0, "602#4000120100000000", "582#4300120102060000"}, /* SDO rx COB-ID 0x602 */
        {8, 0, "602#4000120200000000", "582#4300120282050000"}, /* SDO tx COB-ID 0x582 */
        {9, 0, "602#4014100000000000", "582#4314100082000000"}, /* EMCY 0x82 */
        {10, 0, "602#4006200000000000", "582#4F06200001000000"},
    };
    bench_t b;
    bench_setup(&b, 0x0106);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ASSERT_XCHG(&b.e, rows[i].req, (10 + 10 * i) * MS, rows[i].resp, rows[i].ref);
    }
}

static void test_emu_superb_segmented_device_name(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    /* "Epsilon V2": size 10, then 7 bytes (t = 0, n = 0, c = 0) and 3 bytes (t = 1, n = 4, c = 1)
     */
    ASSERT_XCHG(&b.e, "602#4008100000000000", 10 * MS, "582#410810000A000000", 0);
    ASSERT_XCHG(&b.e, "602#6000000000000000", 20 * MS, "582#00457073696C6F6E", 1);
    ASSERT_XCHG(&b.e, "602#7000000000000000", 30 * MS, "582#1920563200000000", 2);
    /* transfer over: a further segment request is an invalid command */
    ASSERT_XCHG(&b.e, "602#6000000000000000", 40 * MS, "582#8000000001000405", 3);
    /* toggle error: t = 0 twice */
    ASSERT_XCHG(&b.e, "602#4008100000000000", 50 * MS, "582#410810000A000000", 4);
    ASSERT_XCHG(&b.e, "602#6000000000000000", 60 * MS, "582#00457073696C6F6E", 5);
    ASSERT_XCHG(&b.e, "602#6000000000000000", 70 * MS, "582#8008100000000305", 6);
    /* software version string follows the firmware */
    ASSERT_XCHG(&b.e, "602#400A100000000000", 80 * MS, "582#470A1000312E3600", 7); /* "1.6" */
}

static void test_emu_superb_abort_codes(void **state)
{
    (void)state;
    static const vec_row_t rows[] = {
        {0, 0, "602#4070600000000000", "582#8070600000000206"},  /* unknown object */
        {1, 0, "602#2B00300000000000", "582#8000300000000206"},  /* write unknown object */
        {2, 0, "602#4060600100000000", "582#8060600111000906"},  /* sub of a VAR */
        {3, 0, "602#4018100500000000", "582#8018100511000906"},  /* sub beyond 0x1018:04 */
        {4, 0, "602#2F60600001000000", "582#8060600002000106"},  /* write read-only */
        {5, 0, "602#2F18100001000000", "582#8018100002000106"},  /* write a record's sub 0 */
        {6, 0, "602#4010100100000000", "582#8010100101000106"},  /* read write-only 0x1010:01 */
        {7, 0, "602#2317100001000000", "582#8017100012000706"},  /* 4 bytes into U16 */
        {8, 0, "602#2F17100001000000", "582#8017100013000706"},  /* 1 byte into U16 */
        {9, 0, "602#E060600000000000", "582#8060600001000405"},  /* ccs 7 */
        {10, 0, "602#C260600004000000", "582#8060600001000405"}, /* block download */
        {11, 0, "602#6000000000000000", "582#8000000001000405"}, /* segment, no transfer */
        {12, 0, "602#40606000", ""},                             /* DLC 4: dropped */
        {13, 0, "602#80606000000000000", ""},                    /* client abort: no answer */
    };
    bench_t b;
    bench_setup(&b, 0x0106);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ASSERT_XCHG(&b.e, rows[i].req, (10 + 10 * i) * MS, rows[i].resp, rows[i].ref);
    }
    assert_int_equal(b.e.malformed, 1);
}

static void test_emu_superb_segmented_timeout(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    send_cd(&b.e, "602#4008100000000000", 10 * MS);
    uint64_t d = emu_sb_next_deadline(&b.e);
    take_all(&b.e, d, out, sizeof(out));
    assert_string_equal(out, "582#410810000A000000");
    /* the client's second is counted from our response */
    take_all(&b.e, d + EMU_SDO_TIMEOUT_MS * MS - 1, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#7F");
    assert_int_equal(emu_sb_next_deadline(&b.e), d + EMU_SDO_TIMEOUT_MS * MS);
    take_all(&b.e, d + EMU_SDO_TIMEOUT_MS * MS, out, sizeof(out));
    assert_string_equal(out, "582#8008100000000405");
    ASSERT_XCHG(&b.e, "602#6000000000000000", 1100 * MS, "582#8000000001000405", 0);
    /* a segment request just in time keeps the transfer alive */
    ASSERT_XCHG(&b.e, "602#4008100000000000", 1200 * MS, "582#410810000A000000", 1);
    take_all(&b.e, 2100 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#7F");
    ASSERT_XCHG(&b.e, "602#6000000000000000", 2150 * MS, "582#00457073696C6F6E", 2);
}

static void test_emu_superb_firmware_switch(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    ASSERT_XCHG(&b.e, "602#4051600000000000", 10 * MS, "582#4B51600090010000", 0);
    emu_sb_set_firmware(&b.e, 2, 0x0101);
    ASSERT_XCHG(&b.e, "602#4051600000000000", 20 * MS, "582#8051600000000206", 1);
    ASSERT_XCHG(&b.e, "602#4052600000000000", 30 * MS, "582#8052600000000206", 2);
    ASSERT_XCHG(&b.e, "602#4018100300000000", 40 * MS, "582#4318100300010100", 3);
    ASSERT_XCHG(&b.e, "601#4051600000000000", 50 * MS, "581#4B51600000000000",
                4); /* node 1 unchanged */
    emu_sb_set_firmware(&b.e, 2, 0x0102);
    ASSERT_XCHG(&b.e, "602#4052600000000000", 60 * MS, "582#4B52600090010000", 5);
}

typedef struct scale_row {
    pack_cfg_t cfg;
    double hot_cell_c; /* cell 3's temperature when not 0 */
    uint16_t idx;
    uint8_t sub;
    unsigned size;
    long long want;
} scale_row_t;

#define CFG(v, i, soc, t)                                                                          \
    {                                                                                              \
        (v), (i), (soc), (t), 100.0, 0.0, 0                                                        \
    }

static long long response_value(const sim_can_frame_t *f, unsigned size)
{
    uint32_t raw = 0;
    for (unsigned i = 0; i < size; i++) {
        raw |= (uint32_t)f->data[4 + i] << (8 * i);
    }
    if (size == 2) {
        return (int16_t)raw;
    }
    if (size == 4) {
        return (int32_t)raw;
    }
    return raw;
}

static void test_emu_superb_scaling(void **state)
{
    (void)state;
    static const scale_row_t rows[] = {
        {CFG(13.3, -15.0, 0.5, 25.0), 0, 0x2010, 0, 4, -15000},
        {CFG(13.3, 12.3456, 0.5, 25.0), 0, 0x2010, 0, 4, 12346},
        {CFG(13.3, -0.0004, 0.5, 25.0), 0, 0x2010, 0, 4, 0},
        {CFG(13.3, 0.0, 0.5, -10.0), 0, 0x6010, 0, 2, -80},
        {CFG(13.3, 0.0, 0.5, -0.0625), 0, 0x6010, 0, 2, -1}, /* -0.5 rounds away from 0 */
        {CFG(13.3, 0.0, 0.5, 20.0), 31.3, 0x6020, 0, 2, 250},
        {CFG(13.3, 0.0, 0.5, 20.0), 31.3, 0x6010, 0, 2, 183},
        {CFG(13.3, 0.0, 0.5, 25.0), 0, 0x6060, 0, 4, 13619},
        {CFG(0.0, 0.0, 0.5, 25.0), 0, 0x6060, 0, 4, 0},
        {CFG(13.3, 0.0, 0.876, 25.0), 0, 0x6081, 0, 1, 88},
        {CFG(13.3, 0.0, 1.2, 25.0), 0, 0x6081, 0, 1, 100},
        {CFG(13.3, 0.0, -0.1, 25.0), 0, 0x6081, 0, 1, 0},
        {CFG(13.3, 0.0, 0.5, 25.0), 0, 0x6053, 0, 4, 400},
        {{13.3, 0.0, 0.5, 25.0, 100.0, 1000.0, 5}, 0, 0x6050, 0, 2, 10},
        {{13.3, 0.0, 0.5, 25.0, 100.0, 1000.0, 5}, 0, 0x6051, 0, 2, 4000},
        {CFG(13.3, 0.0, 0.5, 25.0), 0, 0x2017, 1, 4, 13300},
        {CFG(13.3, -15.0, 0.5, 25.0), 0, 0x2016, 0, 4, -200},
        {CFG(13.3, 0.0, 0.5, 25.0), 0, 0x2022, 2, 2, 3325},
        {CFG(13.3, 0.0, 0.5, -10.0), 0, 0x2012, 1, 2, -100},
        {CFG(13.3, 0.0, 0.5, -25.0), 0, 0x2004, 0, 2, 0x80},
        {CFG(13.3, 0.0, 0.5, -25.0), 0, 0x1001, 0, 1, 0x09},
        {CFG(13.3, 0.0, 0.5, 25.0), 0, 0x1001, 0, 1, 0},
    };
    for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
        emu_superb_t e;
        sim_pack_t p;
        make_pack(&p, &rows[row].cfg);
        if (rows[row].hot_cell_c != 0.0) {
            p.cells[3].temp_c = rows[row].hot_cell_c;
        }
        emu_sb_init(&e, 7);
        emu_sb_add_node(&e, 5, &p, 0x0106, 0);
        sim_can_frame_t f = {0x605,
                             8,
                             {0x40, (uint8_t)(rows[row].idx & 0xFF), (uint8_t)(rows[row].idx >> 8),
                              rows[row].sub, 0, 0, 0, 0}};
        emu_sb_on_frame(&e, &f, 10 * MS);
        assert_int_equal(emu_sb_take_tx(&e, 10 * MS, &f), 0); /* boot-up */
        assert_int_equal(emu_sb_take_tx(&e, 13 * MS, &f), 0);
        uint8_t want_cmd = (uint8_t)(0x43 | ((4 - rows[row].size) << 2));
        if (f.id != 0x585 || f.data[0] != want_cmd) {
            fail_msg("row %zu: %03X cmd %02X, want 585 cmd %02X", row, (unsigned)f.id, f.data[0],
                     want_cmd);
        }
        long long got = response_value(&f, rows[row].size);
        if (got != rows[row].want) {
            fail_msg("row %zu: 0x%04X:%u = %lld, want %lld", row, rows[row].idx, rows[row].sub, got,
                     rows[row].want);
        }
    }
}

static void test_emu_superb_fault_silent(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    emu_sb_set_faults(&b.e, 2, EMU_SB_F_SILENT, 0);
    ASSERT_XCHG(&b.e, "602#4060600000000000", 10 * MS, "", 0);
    take_until(&b.e, 3000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 701#7F 701#7F");
    send_cd(&b.e, "000#0102", 3100 * MS); /* still obeys NMT */
    emu_sb_set_faults(&b.e, 2, 0, 0);
    take_until(&b.e, 4000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#05");
    ASSERT_XCHG(&b.e, "602#4060600000000000", 4100 * MS, "582#43606000FA340000", 1);
}

static void test_emu_superb_fault_late(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    emu_sb_set_faults(&b.e, 2, EMU_SB_F_LATE, 500);
    send_cd(&b.e, "602#4060600000000000", 10 * MS);
    ASSERT_XCHG(&b.e, "601#4060600000000000", 20 * MS, "581#4360600000D80000", 0);
    take_all(&b.e, 510 * MS, out, sizeof(out));
    assert_string_equal(out, "");
    take_all(&b.e, 513 * MS, out, sizeof(out));
    assert_string_equal(out, "582#43606000FA340000");
    emu_sb_set_faults(&b.e, 2, 0, 500); /* late_ms alone does nothing without the bit */
    ASSERT_XCHG(&b.e, "602#4060600000000000", 600 * MS, "582#43606000FA340000", 1);
}

static void test_emu_superb_fault_abort_all(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    emu_sb_set_faults(&b.e, 2, EMU_SB_F_ABORT_ALL, 0);
    ASSERT_XCHG(&b.e, "602#4060600000000000", 10 * MS, "582#8060600000000008", 0);
    ASSERT_XCHG(&b.e, "602#2B171000E8030000", 20 * MS, "582#8017100000000008", 1);
    ASSERT_XCHG(&b.e, "602#8060600000000000", 30 * MS, "", 2);
    ASSERT_XCHG(&b.e, "601#4060600000000000", 40 * MS, "581#4360600000D80000", 3);
}

static void test_emu_superb_fault_wrong_toggle(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    emu_sb_set_faults(&b.e, 2, EMU_SB_F_WRONG_TOGGLE, 0);
    ASSERT_XCHG(&b.e, "602#4008100000000000", 10 * MS, "582#410810000A000000", 0);
    ASSERT_XCHG(&b.e, "602#6000000000000000", 20 * MS, "582#10457073696C6F6E", 1);
    ASSERT_XCHG(&b.e, "602#7000000000000000", 30 * MS, "582#0920563200000000", 2);
    emu_sb_set_faults(&b.e, 2, 0, 0);
    ASSERT_XCHG(&b.e, "602#4008100000000000", 40 * MS, "582#410810000A000000", 3);
    ASSERT_XCHG(&b.e, "602#6000000000000000", 50 * MS, "582#00457073696C6F6E", 4);
}

static void test_emu_superb_fault_no_heartbeat(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    emu_sb_set_faults(&b.e, 2, EMU_SB_F_NO_HEARTBEAT, 0);
    take_until(&b.e, 2000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 701#7F");
    ASSERT_XCHG(&b.e, "602#4060600000000000", 2100 * MS, "582#43606000FA340000", 0);
    emu_sb_reboot(&b.e, 2, 2200 * MS); /* boot-up still announced */
    take_all(&b.e, 2200 * MS, out, sizeof(out));
    assert_string_equal(out, "702#00");
    emu_sb_set_faults(&b.e, 2, 0, 0);
    take_until(&b.e, 3200 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#7F");
}

static void test_emu_superb_fault_bus_off(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    send_cd(&b.e, "602#4060600000000000", 10 * MS);
    emu_sb_set_faults(&b.e, 2, EMU_SB_F_BUS_OFF, 0); /* the pending response is lost */
    take_all(&b.e, 20 * MS, out, sizeof(out));
    assert_string_equal(out, "");
    ASSERT_XCHG(&b.e, "602#4060600000000000", 30 * MS, "", 0);
    send_cd(&b.e, "000#0102", 40 * MS); /* not heard */
    take_until(&b.e, 3000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 701#7F 701#7F");
    emu_sb_set_faults(&b.e, 2, 0, 0);
    take_until(&b.e, 4000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F 702#7F");
}

static void test_emu_superb_reboot(void **state)
{
    (void)state;
    bench_t b;
    bench_setup(&b, 0x0106);
    char out[256];
    ASSERT_XCHG(&b.e, "602#2B171000F4010000", 10 * MS, "582#6017100000000000", 0); /* 500 ms */
    send_cd(&b.e, "000#0102", 20 * MS);
    send_cd(&b.e, "602#4008100000000000", 30 * MS); /* transfer in progress is lost */
    emu_sb_reboot(&b.e, 2, 31 * MS);
    take_all(&b.e, 31 * MS, out, sizeof(out));
    assert_string_equal(out, "702#00");
    take_all(&b.e, 1000 * MS, out, sizeof(out));
    assert_string_equal(out, "701#7F");
    take_all(&b.e, 1031 * MS, out, sizeof(out));
    assert_string_equal(out, "702#7F"); /* pre-operational, default period again */
    ASSERT_XCHG(&b.e, "602#6000000000000000", 1100 * MS, "582#8000000001000405", 1);
    assert_int_equal(b.e.nodes[1].bootups_sent, 2);
}

static void test_emu_superb_several_nodes(void **state)
{
    (void)state;
    emu_superb_t e;
    sim_pack_t p[EMU_SB_MAX_NODES + 1];
    char out[256];
    emu_sb_init(&e, 3);
    for (size_t i = 0; i < EMU_SB_MAX_NODES + 1; i++) {
        pack_cfg_t c = CFG(12.0 + (double)i, 0.0, 0.5, 25.0);
        make_pack(&p[i], &c);
    }
    assert_int_equal(emu_sb_add_node(&e, 0, &p[0], 0x0106, 0), -1);
    assert_int_equal(emu_sb_add_node(&e, 128, &p[0], 0x0106, 0), -1);
    assert_int_equal(emu_sb_add_node(&e, 3, NULL, 0x0106, 0), -1);
    assert_int_equal(emu_sb_add_node(&e, 3, &p[0], 0x0106, 0), 0);
    assert_int_equal(emu_sb_add_node(&e, 3, &p[1], 0x0106, 0), -1);
    assert_int_equal(emu_sb_add_node(&e, 1, &p[1], 0x0106, 0), 1);
    assert_int_equal(emu_sb_add_node(&e, 127, &p[2], 0x0106, 0), 2);
    take_all(&e, 0, out, sizeof(out));
    assert_string_equal(out, "703#00 701#00 77F#00");
    /* 12 V = 12288 = 0x3000, 13 V = 0x3400, 14 V = 0x3800 */
    ASSERT_XCHG(&e, "603#4060600000000000", 10 * MS, "583#4360600000300000", 0);
    ASSERT_XCHG(&e, "601#4060600000000000", 20 * MS, "581#4360600000340000", 1);
    ASSERT_XCHG(&e, "67F#4060600000000000", 30 * MS, "5FF#4360600000380000", 2);
    ASSERT_XCHG(&e, "602#4060600000000000", 40 * MS, "", 3);
    ASSERT_XCHG(&e, "583#4360600000300000", 50 * MS, "", 4); /* other servers' replies ignored */
    for (uint8_t id = 10; id < 10 + EMU_SB_MAX_NODES - 3; id++) {
        assert_true(emu_sb_add_node(&e, id, &p[id - 7], 0x0106, 60 * MS) >= 0);
    }
    assert_int_equal(emu_sb_add_node(&e, 100, &p[EMU_SB_MAX_NODES], 0x0106, 60 * MS), -1);
    assert_int_equal(emu_sb_find_node(&e, 127), 2);
    assert_int_equal(emu_sb_find_node(&e, 100), -1);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random frames at random times: no crash, only our own frame kinds come out,
 * queues stay bounded, deadlines never go back in time. */
static void test_emu_superb_random_stream(void **state)
{
    (void)state;
    emu_superb_t e;
    sim_pack_t p[3];
    for (int i = 0; i < 3; i++) {
        pack_cfg_t c = CFG(13.0, -2.0, 0.6, 20.0);
        make_pack(&p[i], &c);
    }
    emu_sb_init(&e, 99);
    for (uint8_t id = 1; id <= 3; id++) {
        emu_sb_add_node(&e, id, &p[id - 1], (uint16_t)(0x0100 + id), 0);
    }
    uint64_t s = 0x1234567u, now = 0;
    unsigned out_frames = 0;
    for (int i = 0; i < 200000; i++) {
        sim_can_frame_t f;
        memset(&f, 0, sizeof(f));
        uint64_t r = rnd(&s);
        switch (r % 6) {
        case 0:
            f.id = 0;
            break;
        case 1:
        case 2:
        case 3:
            f.id = 0x600 + (uint32_t)((r >> 8) % 5);
            break;
        case 4:
            f.id = (uint32_t)((r >> 8) & 0x7FF);
            break;
        default:
            f.id = SIM_CAN_EFF_FLAG | (uint32_t)((r >> 8) & 0x1FFFFFFF);
            break;
        }
        f.dlc = (uint8_t)((r >> 40) % 12 == 11 ? (r >> 44) & 0xFF
                                               : ((r >> 40) % 12 > 8 ? 8 : (r >> 40) % 12));
        uint64_t d = rnd(&s);
        for (int k = 0; k < 8; k++) {
            f.data[k] = (uint8_t)(d >> (8 * k));
        }
        /* bias towards SDO command bytes and NMT commands that do something */
        if ((r >> 50) % 2 == 0) {
            static const uint8_t cmds[] = {0x40, 0x60, 0x70, 0x2B, 0x21, 0x00,
                                           0x10, 0x80, 0xE0, 0x01, 0x81};
            f.data[0] = cmds[(r >> 52) % sizeof(cmds)];
            f.data[1] = (uint8_t)((r >> 56) % 4);
        }
        if ((r >> 58) % 8 == 0) {
            emu_sb_set_faults(&e, (uint8_t)(1 + (r >> 61) % 3), (unsigned)(d >> 58), 3);
        }
        now += (rnd(&s) % 3000) * 100;
        emu_sb_on_frame(&e, &f, now);
        uint64_t dl = emu_sb_next_deadline(&e);
        sim_can_frame_t o;
        int who;
        while ((who = emu_sb_take_tx(&e, now, &o)) >= 0) {
            assert_true(who < 3);
            uint32_t nid = e.nodes[who].node_id;
            if (o.dlc > 8 || (o.id != 0x580 + nid && o.id != 0x700 + nid)) {
                fail_msg("frame %d: node %u sent %03X dlc %u", i, nid, (unsigned)o.id, o.dlc);
            }
            out_frames++;
        }
        assert_true(emu_sb_next_deadline(&e) > now || dl > now);
        for (int k = 0; k < 3; k++) {
            assert_true(e.nodes[k].txq_len <= EMU_SB_TXQ);
        }
    }
    assert_true(out_frames > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_superb_golden_vectors),
        cmocka_unit_test(test_emu_superb_reply_delay),
        cmocka_unit_test(test_emu_superb_bootup_and_heartbeat),
        cmocka_unit_test(test_emu_superb_heartbeat_period_from_1017),
        cmocka_unit_test(test_emu_superb_nmt_states),
        cmocka_unit_test(test_emu_superb_nmt_reset_node),
        cmocka_unit_test(test_emu_superb_nmt_reset_comm_keeps_stored),
        cmocka_unit_test(test_emu_superb_expedited_sizes),
        cmocka_unit_test(test_emu_superb_segmented_device_name),
        cmocka_unit_test(test_emu_superb_abort_codes),
        cmocka_unit_test(test_emu_superb_segmented_timeout),
        cmocka_unit_test(test_emu_superb_firmware_switch),
        cmocka_unit_test(test_emu_superb_scaling),
        cmocka_unit_test(test_emu_superb_fault_silent),
        cmocka_unit_test(test_emu_superb_fault_late),
        cmocka_unit_test(test_emu_superb_fault_abort_all),
        cmocka_unit_test(test_emu_superb_fault_wrong_toggle),
        cmocka_unit_test(test_emu_superb_fault_no_heartbeat),
        cmocka_unit_test(test_emu_superb_fault_bus_off),
        cmocka_unit_test(test_emu_superb_reboot),
        cmocka_unit_test(test_emu_superb_several_nodes),
        cmocka_unit_test(test_emu_superb_random_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
