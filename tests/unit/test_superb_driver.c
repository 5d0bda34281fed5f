/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's SuperB SDO client on a scripted fake CAN bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "superb/superb_driver.h"

#define CHECK_EQ(row, actual, expected)                                                  \
    do {                                                                                 \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                  \
        if (a_ != e_) {                                                                  \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, e_); \
            fail();                                                                      \
        }                                                                                \
    } while (0)

/* ------------------------------------------------------------ the fake batteries */

#define MAX_FAKE 20
#define MAX_ABORTS 4
#define NAME "Epsilon V2"

typedef struct fake_node {
    uint8_t id;
    bool sdo;                 /* answers SDO */
    uint32_t hb_ms;           /* heartbeat period, 0 = none */
    uint64_t next_hb_ms;
    uint32_t delay_ms;        /* reply delay */
    int32_t voltage_raw, current_ma;
    uint8_t soc;
    int16_t temp_raw, temp_hi_raw;
    uint16_t cycles;
    int16_t cell_mv[16];      /* 0x2011:01..16 */
    uint16_t error_status;    /* 0x2004 */
    int32_t max_dcl_ma, max_ccl_ma; /* 0x5021:01/02 */
    bool no_cells, no_status, no_limits; /* object absent: abort 0x06020000 */
    struct { uint16_t index; uint8_t sub; uint32_t code; } aborts[MAX_ABORTS];
    uint16_t silent_index;    /* never answer this object */
    uint8_t drop_once_index_count; /* ignore the next N requests for drop_once_index */
    uint16_t drop_once_index;
    uint16_t wrong_index_for; /* answer this object with 0x6060's mux once (the seed bug) */
    bool toggle_glitch;       /* repeat the toggle on the next second segment */
    /* segmented transfer */
    size_t seg_pos;
    uint8_t seg_toggle_sent;
    uint32_t abort_rx;        /* last abort code the gateway sent us */
    unsigned abort_rx_count;
} fake_node_t;

typedef struct pending {
    uint64_t at_ms;
    gw_can_frame_t f;
} pending_t;

typedef struct req_log {
    uint64_t t_ms;
    uint8_t node;
    uint16_t index;
    uint8_t sub;
    uint8_t cs;
} req_log_t;

typedef struct bench {
    gw_sb_driver_t d;
    uint64_t now_ms;
    fake_node_t nodes[MAX_FAKE];
    size_t n_nodes;
    pending_t q[256];
    size_t n_q;
    req_log_t log[8192];
    size_t n_log;
    uint64_t last_from_ms[128]; /* when the gateway last got a frame from each node */
} bench_t;

static bench_t B;

static fake_node_t *add_fake(uint8_t id, bool sdo, uint32_t hb_ms)
{
    fake_node_t *n = &B.nodes[B.n_nodes++];
    memset(n, 0, sizeof(*n));
    n->id = id;
    n->sdo = sdo;
    n->hb_ms = hb_ms;
    n->next_hb_ms = B.now_ms;
    n->delay_ms = 5;
    n->voltage_raw = 13562 + 1024 * id; /* 13.244 V + id V */
    n->current_ma = -15000 + id;
    n->soc = (uint8_t)(50 + id);
    n->temp_raw = 200;                  /* 25.0 C */
    n->temp_hi_raw = 220;               /* 27.5 C */
    n->cycles = (uint16_t)(100 + id);
    for (int k = 0; k < 16; k++) {
        n->cell_mv[k] = (int16_t)(3300 + 10 * id + k); /* distinct per node and cell */
    }
    n->max_dcl_ma = 150000;
    n->max_ccl_ma = 100000;
    return n;
}

static void send_later(uint32_t delay_ms, const gw_can_frame_t *f)
{
    assert_true(B.n_q < sizeof(B.q) / sizeof(B.q[0]));
    B.q[B.n_q].at_ms = B.now_ms + delay_ms;
    B.q[B.n_q].f = *f;
    B.n_q++;
}

static gw_can_frame_t sdo_reply(uint8_t id, uint8_t cs, uint16_t index, uint8_t sub, uint32_t v)
{
    gw_can_frame_t f;
    memset(&f, 0, sizeof(f));
    f.id = 0x580u + id;
    f.dlc = 8;
    f.data[0] = cs;
    f.data[1] = (uint8_t)index;
    f.data[2] = (uint8_t)(index >> 8);
    f.data[3] = sub;
    for (int k = 0; k < 4; k++) {
        f.data[4 + k] = (uint8_t)(v >> (8 * k));
    }
    return f;
}

/* Value and width of an object, or 0 width when the fake does not have it. */
static int fake_value(const fake_node_t *n, uint16_t index, uint8_t sub, uint32_t *v)
{
    switch (index) {
    case 0x1000: *v = 0x000F0191; return 4;
    case 0x6060: *v = (uint32_t)n->voltage_raw; return 4;
    case 0x6081: *v = n->soc; return 1;
    case 0x6010: *v = (uint16_t)n->temp_raw; return 2;
    case 0x2010: *v = (uint32_t)n->current_ma; return 4;
    case 0x6050: *v = n->cycles; return 2;
    case 0x6053: *v = 400; return 4;
    case 0x6020: *v = (uint16_t)n->temp_hi_raw; return 2;
    case 0x6051: *v = 100; return 2;
    case 0x6052: *v = 200; return 2;
    case 0x1017: *v = n->hb_ms; return 2;
    case 0x2011:
        if (n->no_cells || sub < 1 || sub > 16) {
            return 0;
        }
        *v = (uint16_t)n->cell_mv[sub - 1];
        return 2;
    case 0x2004:
        if (n->no_status) {
            return 0;
        }
        *v = n->error_status;
        return 2;
    case 0x5021:
        if (n->no_limits || sub < 1 || sub > 2) {
            return 0;
        }
        *v = (uint32_t)(sub == 1 ? n->max_dcl_ma : n->max_ccl_ma);
        return 4;
    case 0x1018:
        if (sub >= 1 && sub <= 4) {
            const uint32_t ident[4] = {0x37C, 0x0A, 0x00010600, 1000u + n->id};
            *v = ident[sub - 1];
            return 4;
        }
        return 0;
    default: return 0;
    }
}

static void fake_request(fake_node_t *n, const gw_can_frame_t *f)
{
    uint8_t cs = f->data[0];
    uint16_t index = (uint16_t)(f->data[1] | (f->data[2] << 8));
    uint8_t sub = f->data[3];
    if (cs == 0x80) {
        n->abort_rx = (uint32_t)f->data[4] | ((uint32_t)f->data[5] << 8) |
                      ((uint32_t)f->data[6] << 16) | ((uint32_t)f->data[7] << 24);
        n->abort_rx_count++;
        return;
    }
    if (!n->sdo) {
        return;
    }
    gw_can_frame_t r;
    if (cs == 0x60 || cs == 0x70) {
        uint8_t t = (uint8_t)((cs >> 4) & 1);
        if (n->toggle_glitch && n->seg_pos > 0) {
            t = n->seg_toggle_sent; /* repeat the last toggle */
            n->toggle_glitch = false;
        }
        size_t left = strlen(NAME) - n->seg_pos;
        size_t len = left > 7 ? 7 : left;
        bool last = len == left;
        memset(&r, 0, sizeof(r));
        r.id = 0x580u + n->id;
        r.dlc = 8;
        r.data[0] = (uint8_t)((t << 4) | ((7 - len) << 1) | (last ? 1 : 0));
        memcpy(&r.data[1], NAME + n->seg_pos, len);
        n->seg_pos += len;
        n->seg_toggle_sent = t;
        send_later(n->delay_ms, &r);
        return;
    }
    if (cs != 0x40) {
        return;
    }
    if (index == n->silent_index) {
        return;
    }
    if (n->drop_once_index_count > 0 && index == n->drop_once_index) {
        n->drop_once_index_count--;
        return;
    }
    for (int k = 0; k < MAX_ABORTS; k++) {
        if (n->aborts[k].index == index && n->aborts[k].sub == sub && n->aborts[k].code != 0) {
            r = sdo_reply(n->id, 0x80, index, sub, n->aborts[k].code);
            send_later(n->delay_ms, &r);
            return;
        }
    }
    if (index == 0x1008) {
        n->seg_pos = 0;
        r = sdo_reply(n->id, 0x41, index, sub, (uint32_t)strlen(NAME));
        send_later(n->delay_ms, &r);
        return;
    }
    uint32_t v = 0;
    int w = fake_value(n, index, sub, &v);
    if (w == 0) {
        /* CiA 301: a missing sub-index of an object that exists is 0x06090011. */
        bool has_object = (index == 0x2011 && !n->no_cells) || (index == 0x5021 && !n->no_limits) ||
                          index == 0x1018;
        r = sdo_reply(n->id, 0x80, index, sub, has_object ? 0x06090011 : 0x06020000);
        send_later(n->delay_ms, &r);
        return;
    }
    if (n->wrong_index_for == index) {
        /* A reply for another object on the right COB-ID: must be rejected. */
        n->wrong_index_for = 0;
        r = sdo_reply(n->id, 0x4F, 0x6060, 0, 99);
        send_later(n->delay_ms, &r);
        return;
    }
    uint8_t rc = (uint8_t)(0x43 | ((4 - w) << 2));
    r = sdo_reply(n->id, rc, index, sub, v);
    send_later(n->delay_ms, &r);
}

static fake_node_t *fake_by_id(uint8_t id)
{
    for (size_t i = 0; i < B.n_nodes; i++) {
        if (B.nodes[i].id == id) {
            return &B.nodes[i];
        }
    }
    return NULL;
}

static void heartbeat(uint8_t id, uint8_t state)
{
    gw_can_frame_t f;
    memset(&f, 0, sizeof(f));
    f.id = 0x700u + id;
    f.dlc = 1;
    f.data[0] = state;
    B.last_from_ms[id & 0x7F] = B.now_ms;
    gw_sb_rx(&B.d, B.now_ms, &f);
}

static void bench_start(const gw_sb_cfg_t *cfg)
{
    memset(&B, 0, sizeof(B));
    B.now_ms = 1000;
    gw_sb_init(&B.d, cfg, B.now_ms);
}

/* Run the bus in 1 ms steps until t_ms (exclusive). */
static void run_until(uint64_t t_ms)
{
    for (; B.now_ms < t_ms; B.now_ms++) {
        for (size_t i = 0; i < B.n_nodes; i++) {
            fake_node_t *n = &B.nodes[i];
            if (n->hb_ms != 0 && B.now_ms >= n->next_hb_ms) {
                heartbeat(n->id, 0x7F);
                n->next_hb_ms = B.now_ms + n->hb_ms;
            }
        }
        for (size_t k = 0; k < B.n_q;) {
            if (B.q[k].at_ms <= B.now_ms) {
                gw_can_frame_t f = B.q[k].f;
                B.q[k] = B.q[--B.n_q];
                B.last_from_ms[f.id & 0x7F] = B.now_ms;
                gw_sb_rx(&B.d, B.now_ms, &f);
            } else {
                k++;
            }
        }
        if (gw_sb_next_deadline(&B.d) > B.now_ms && B.n_q == 0 && B.now_ms % 7 != 0) {
            /* Not due: skipping the call is what an event-driven host does. */
            continue;
        }
        gw_can_frame_t tx[4];
        size_t n = gw_sb_process(&B.d, B.now_ms, tx, 4);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(tx[k].dlc, 8);
            assert_int_equal(tx[k].id & 0x780u, 0x600u);
            uint8_t id = (uint8_t)(tx[k].id & 0x7F);
            if (B.n_log < sizeof(B.log) / sizeof(B.log[0])) {
                req_log_t *l = &B.log[B.n_log++];
                l->t_ms = B.now_ms;
                l->node = id;
                l->cs = tx[k].data[0];
                l->index = (uint16_t)(tx[k].data[1] | (tx[k].data[2] << 8));
                l->sub = tx[k].data[3];
            }
            fake_node_t *fn = fake_by_id(id);
            if (fn != NULL) {
                fake_request(fn, &tx[k]);
            }
        }
    }
}

static unsigned count_req(uint8_t node, uint16_t index, uint8_t sub)
{
    unsigned c = 0;
    for (size_t i = 0; i < B.n_log; i++) {
        if (B.log[i].node == node && B.log[i].cs == 0x40 && B.log[i].index == index &&
            B.log[i].sub == sub) {
            c++;
        }
    }
    return c;
}

static int slot_of(uint8_t id)
{
    for (int i = 0; i < B.d.node_count; i++) {
        if (B.d.nodes[i].node_id == id) {
            return i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ tests */

static void test_superb_driver_discovery_by_bootup(void **state)
{
    (void)state;
    bench_start(NULL);
    add_fake(20, true, 0); /* outside the probe range 1..16: only its boot-up finds it */
    run_until(2700); /* 16 probes x 100 ms */
    assert_int_equal(B.d.node_count, 0);
    assert_true(B.d.scan_done);
    assert_int_equal(B.d.stats.probe_timeouts, 16);
    assert_int_equal(B.d.stats.probes, 16);
    heartbeat(20, 0x00);
    run_until(3300);
    assert_int_equal(B.d.node_count, 1);
    assert_int_equal(B.d.stats.bootups, 1);
    const gw_pack_t *p = &B.d.packs[0];
    assert_true(p->present);
    assert_true(p->online);
    assert_int_equal(p->address, 20);
    /* (13562 + 20 * 1024) / 1024 V = 33.244 V; 200/8 = 25.0 C; 220/8 = 27.5 C */
    assert_int_equal(p->voltage_mv, 33244);
    assert_int_equal(p->current_ma, -14980);
    assert_int_equal(p->soc_pct, 70);
    assert_int_equal(p->cycles, 120);
    assert_int_equal(p->temp_count, 2);
    assert_int_equal(p->cell_temp_count, 2);
    assert_int_equal(p->temp_dc[0], 250);
    assert_int_equal(p->temp_dc[1], 275);
    assert_int_equal(p->cell_count, 4);
    assert_int_equal(p->cell_mv[0], 3500);
    assert_int_equal(p->cell_mv[3], 3503);
    assert_int_equal(p->cell_mv[4], 0);
    assert_int_equal(p->full_mah, 0);
    const gw_sb_node_info_t *n = &B.d.nodes[0];
    assert_true(n->identity_valid);
    assert_int_equal(n->vendor_id, 0x37C);
    assert_int_equal(n->product_code, 0x0A);
    assert_int_equal(n->revision, 0x00010600);
    assert_int_equal(n->serial, 1020);
    assert_true(n->name_valid);
    assert_string_equal(n->name, NAME);
}

static void test_superb_driver_discovery_by_heartbeat(void **state)
{
    (void)state;
    bench_start(NULL);
    add_fake(40, true, 1000);
    run_until(1500);
    assert_int_equal(B.d.node_count, 1);
    assert_int_equal(B.d.nodes[0].node_id, 40);
    assert_true(B.d.stats.heartbeats >= 1);
    assert_true(B.d.packs[0].online);
    assert_int_equal(B.d.nodes[0].heartbeat_ms, 1000);
    assert_int_equal(count_req(40, 0x1000, 0), 0); /* never probed: outside the range */
}

static void test_superb_driver_discovery_by_probe_and_reprobe(void **state)
{
    (void)state;
    gw_sb_cfg_t cfg;
    gw_sb_cfg_default(&cfg);
    cfg.reprobe_period_ms = 5000;
    bench_start(&cfg);
    add_fake(3, true, 0);            /* booted before the gateway: no boot-up, no heartbeat */
    fake_node_t *late = add_fake(9, false, 0); /* present but mute at first */
    run_until(3500);
    assert_true(B.d.scan_done);
    assert_int_equal(B.d.node_count, 1);
    assert_int_equal(B.d.nodes[0].node_id, 3);
    assert_true(B.d.packs[0].online);
    assert_int_equal(count_req(3, 0x1000, 0), 1);
    assert_int_equal(count_req(9, 0x1000, 0), 1);
    late->sdo = true;
    /* The sweep ended at about 2600 ms; no re-probe before 5 s after it. */
    run_until(7000);
    assert_int_equal(count_req(9, 0x1000, 0), 1);
    run_until(9500);
    assert_int_equal(count_req(9, 0x1000, 0), 2);
    assert_int_equal(count_req(3, 0x1000, 0), 1); /* present ids are not probed again */
    assert_int_equal(B.d.node_count, 2);
    assert_int_equal(B.d.nodes[1].node_id, 9);
    assert_true(B.d.packs[1].online);
}

static void test_superb_driver_polling_cycle_order(void **state)
{
    (void)state;
    bench_start(NULL);
    add_fake(2, true, 0);
    heartbeat(2, 0x00);
    run_until(3600);
    static const struct { uint16_t index; uint8_t sub; } first[] = {
        {0x6060, 0}, {0x6081, 0}, {0x6010, 0}, {0x2010, 0}, {0x2011, 1}, {0x2011, 2},
        {0x2011, 3}, {0x2011, 4}, {0x2004, 0}, {0x6050, 0}, {0x6053, 0}, {0x6020, 0},
        {0x6051, 0}, {0x6052, 0}, {0x1018, 1}, {0x1018, 2}, {0x1018, 3}, {0x1018, 4},
        {0x1017, 0}, {0x5021, 1}, {0x5021, 2}, {0x1008, 0},
    };
    size_t k = 0;
    size_t first_n = sizeof(first) / sizeof(first[0]);
    uint64_t cycle_start[4] = {0};
    size_t cycles = 0;
    for (size_t i = 0; i < B.n_log; i++) {
        const req_log_t *l = &B.log[i];
        if (l->node != 2 || l->cs != 0x40) {
            continue;
        }
        if (l->index == 0x6060 && cycles < 4) {
            cycle_start[cycles++] = l->t_ms;
        }
        if (k < first_n) {
            CHECK_EQ(k, l->index, first[k].index);
            CHECK_EQ(k, l->sub, first[k].sub);
        } else {
            /* Later cycles: the 14 data reads, identity and limits not read again. */
            CHECK_EQ(k, l->index == 0x1018 || l->index == 0x1008 || l->index == 0x1017 ||
                            l->index == 0x5021, 0);
        }
        k++;
    }
    assert_true(cycles >= 3);
    CHECK_EQ(0, (k - first_n) % 14, 0);
    CHECK_EQ(1, cycle_start[1] - cycle_start[0], 1000);
    CHECK_EQ(2, cycle_start[2] - cycle_start[1], 1000);
    assert_int_equal(count_req(2, 0x1018, 1), 1);
    assert_int_equal(B.d.stats.timeouts, 0);
}

static void test_superb_driver_abort_drops_object_per_node(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *a = add_fake(1, true, 0);
    add_fake(2, true, 0);
    a->aborts[0].index = 0x6051;
    a->aborts[0].code = 0x06020000;  /* firmware < 1.2: no such object */
    a->aborts[1].index = 0x6052;
    a->aborts[1].code = 0x08000022;  /* device state: try again next cycle */
    run_until(6000);
    unsigned cycles2 = count_req(2, 0x6060, 0);
    assert_true(cycles2 >= 3);
    assert_int_equal(count_req(1, 0x6051, 0), 1);
    assert_int_equal(count_req(2, 0x6051, 0), cycles2);
    assert_int_equal(count_req(1, 0x6052, 0), count_req(1, 0x6060, 0));
    assert_int_equal(B.d.stats.objects_dropped, 1);
    int s1 = slot_of(1), s2 = slot_of(2);
    assert_true(s1 >= 0 && s2 >= 0);
    assert_int_not_equal(B.d.nodes[s1].dropped_mask, 0);
    assert_int_equal(B.d.nodes[s2].dropped_mask, 0);
    assert_int_equal(B.d.nodes[s2].ah_expended_8th, 100);
    assert_true(B.d.packs[s1].online);
    assert_true(B.d.packs[s2].online);
}

static void test_superb_driver_timeout_and_one_retry(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(4, true, 0);
    heartbeat(4, 0x00);
    n->drop_once_index = 0x6081;
    n->drop_once_index_count = 1;  /* the first try gets lost, the retry answers */
    n->silent_index = 0x6020;      /* never answers: two tries per cycle, then skipped */
    run_until(1900);
    assert_int_equal(count_req(4, 0x6081, 0), 2);
    assert_int_equal(count_req(4, 0x6020, 0), 2);
    /* 0x6081: one lost + retry; 0x6020: both tries lost, one retry. */
    assert_int_equal(B.d.stats.timeouts, 3);
    assert_int_equal(B.d.stats.retries, 2);
    const gw_pack_t *p = &B.d.packs[0];
    assert_true(p->online);
    assert_int_equal(p->soc_pct, 54);
    assert_int_equal(p->temp_count, 1); /* 0x6020 not read: not reported */
    /* The retry comes one timeout after the first try. */
    uint64_t t[2];
    size_t k = 0;
    for (size_t i = 0; i < B.n_log && k < 2; i++) {
        if (B.log[i].index == 0x6081) {
            t[k++] = B.log[i].t_ms;
        }
    }
    assert_int_equal(t[1] - t[0], 100);
}

static void test_superb_driver_rejects_reply_for_other_index(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(5, true, 0);
    heartbeat(5, 0x00);
    n->wrong_index_for = 0x6081; /* answers the SoC request with 0x6060:00 = 99 */
    run_until(1900);
    assert_int_equal(B.d.stats.mismatched, 1);
    /* The seed client would have taken 99 as the SoC; ours retried and got 55. */
    assert_int_equal(count_req(5, 0x6081, 0), 2);
    assert_int_equal(B.d.packs[0].soc_pct, 55);
    assert_int_equal(B.d.packs[0].voltage_mv, (13562 + 5 * 1024) * 1000 / 1024);
}

static void test_superb_driver_late_reply_not_attributed(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(6, true, 0);
    heartbeat(6, 0x00);
    n->delay_ms = 150; /* every reply after the 100 ms timeout */
    run_until(3000);
    /* A late reply lands while the next object is asked: the index check
     * rejects it instead of storing 0x6060's value as the SoC. */
    assert_true(B.d.stats.mismatched > 5);
    if (B.d.packs[0].online) {
        assert_int_equal(B.d.packs[0].soc_pct, 56);
        assert_int_equal(B.d.packs[0].voltage_mv, (13562 + 6 * 1024) * 1000 / 1024);
        assert_int_equal(B.d.packs[0].current_ma, -15000 + 6);
    }
}

static void test_superb_driver_segmented_name_and_toggle_error(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(7, true, 0);
    heartbeat(7, 0x00);
    n->toggle_glitch = true;
    run_until(1900);
    /* First try: segment 2 repeats toggle 0 -> we abort with 0x05030000. */
    assert_int_equal(B.d.stats.toggle_errors, 1);
    assert_int_equal(n->abort_rx_count, 1);
    assert_int_equal(n->abort_rx, 0x05030000);
    assert_false(B.d.nodes[0].name_valid);
    assert_true(B.d.packs[0].online); /* the name does not hold the data back */
    run_until(2900);
    assert_true(B.d.nodes[0].name_valid);
    assert_string_equal(B.d.nodes[0].name, NAME);
    assert_int_equal(count_req(7, 0x1008, 0), 2);
    /* Segment requests alternate 0x60, 0x70 in the good transfer. */
    uint8_t seq[4];
    size_t k = 0;
    for (size_t i = 0; i < B.n_log; i++) {
        if (B.log[i].t_ms >= 1900 && (B.log[i].cs == 0x60 || B.log[i].cs == 0x70) && k < 4) {
            seq[k++] = B.log[i].cs;
        }
    }
    assert_int_equal(k, 2);
    assert_int_equal(seq[0], 0x60);
    assert_int_equal(seq[1], 0x70);
}

static void test_superb_driver_heartbeat_loss_offline(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(8, true, 1000);
    run_until(5000);
    assert_true(B.d.packs[0].online);
    /* The battery goes silent at 5000 (replies already on the wire still arrive). */
    n->hb_ms = 0;
    n->sdo = false;
    uint64_t offline_at = 0;
    for (uint64_t t = 5000; t < 9000; t += 10) {
        run_until(t);
        if (!B.d.packs[0].online && offline_at == 0) {
            offline_at = t;
        }
    }
    uint64_t last_life = B.last_from_ms[8];
    assert_true(last_life >= 4000 && last_life < 5100);
    assert_true(offline_at != 0);
    /* Within 3 heartbeat periods of the last sign of life, not before 2. */
    assert_true(offline_at <= last_life + 3000 + 10);
    assert_true(offline_at > last_life + 2000);
    assert_false(B.d.nodes[0].alive);
    assert_int_equal(B.d.stats.offline_events, 1);
    assert_true(B.d.packs[0].present);
    /* It comes back with other values: online only with a fresh complete cycle. */
    n->voltage_raw = 51200; /* 50.0 V */
    n->sdo = true;
    n->hb_ms = 1000;
    n->next_hb_ms = B.now_ms;
    run_until(B.now_ms + 1);
    assert_true(B.d.nodes[0].alive);
    assert_false(B.d.packs[0].online);
    run_until(B.now_ms + 1500);
    assert_true(B.d.packs[0].online);
    assert_int_equal(B.d.packs[0].voltage_mv, 50000);
}

static void test_superb_driver_stale_data_with_heartbeat_alive(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(10, true, 1000);
    run_until(4000);
    assert_true(B.d.packs[0].online);
    uint64_t last = B.d.packs[0].updated_ms;
    n->sdo = false; /* heartbeats go on, SDO answers stop */
    run_until(last + 3000);
    assert_true(B.d.packs[0].online);
    run_until(last + 3002);
    assert_false(B.d.packs[0].online);
    assert_true(B.d.nodes[0].alive);
}

static void test_superb_driver_reboot_rereads_identity(void **state)
{
    (void)state;
    bench_start(NULL);
    add_fake(11, true, 0);
    heartbeat(11, 0x00);
    run_until(4000);
    assert_int_equal(count_req(11, 0x1018, 1), 1);
    assert_int_equal(count_req(11, 0x1008, 0), 1);
    assert_true(B.d.nodes[0].identity_valid);
    heartbeat(11, 0x00);
    assert_int_equal(B.d.stats.reboots, 1);
    assert_false(B.d.nodes[0].identity_valid);
    run_until(5500);
    assert_int_equal(count_req(11, 0x1018, 1), 2);
    assert_int_equal(count_req(11, 0x1008, 0), 2);
    assert_true(B.d.nodes[0].identity_valid);
    assert_int_equal(B.d.node_count, 1);
}

static void test_superb_driver_sixteen_node_limit(void **state)
{
    (void)state;
    bench_start(NULL);
    for (uint8_t id = 30; id < 47; id++) {
        add_fake(id, true, 1000);
    }
    run_until(4000);
    assert_int_equal(B.d.node_count, GW_SB_MAX_NODES);
    assert_true(B.d.stats.nodes_rejected >= 1);
    assert_int_equal(slot_of(46), -1);
    assert_int_equal(count_req(46, 0x6060, 0), 0);
    for (int i = 0; i < GW_SB_MAX_NODES; i++) {
        CHECK_EQ(i, B.d.packs[i].online, 1);
        CHECK_EQ(i, B.d.packs[i].address, 30 + i);
    }
}

static void test_superb_driver_garbage_counted(void **state)
{
    (void)state;
    bench_start(NULL);
    add_fake(12, true, 0);
    heartbeat(12, 0x00);
    run_until(2000);
    gw_pack_t before = B.d.packs[0];
    gw_sb_stats_t s0 = B.d.stats;
    static const gw_can_frame_t junk[] = {
        {0x58C, 9, {0x43, 0x60, 0x60, 0, 1, 2, 3, 4}},  /* DLC 9 */
        {0x58C, 5, {0x43, 0x60, 0x60, 0, 1}},           /* SDO DLC 5 */
        {0x58C, 8, {0xE0, 0x60, 0x60, 0, 1, 2, 3, 4}},  /* scs 7 */
        {0x580, 8, {0x43, 0x60, 0x60, 0, 1, 2, 3, 4}},  /* node 0 */
        {0x70C, 2, {0x05, 0x00}},                       /* heartbeat DLC 2 */
        {0x70C, 1, {0x33}},                             /* no such NMT state */
        {0x700, 1, {0x05}},                             /* node 0 */
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        gw_sb_rx(&B.d, B.now_ms, &junk[i]);
    }
    assert_int_equal(B.d.stats.bad_frame - s0.bad_frame, 7);
    gw_can_frame_t eff = {0x1CEFFFE1u | GW_CAN_EFF_FLAG, 8, {0x66, 0x99}};
    gw_can_frame_t pdo = {0x18C, 8, {0}};
    gw_sb_rx(&B.d, B.now_ms, &eff);
    gw_sb_rx(&B.d, B.now_ms, &pdo);
    assert_int_equal(B.d.stats.ignored - s0.ignored, 2);
    assert_memory_equal(&B.d.packs[0], &before, sizeof(before));
    assert_int_equal(B.d.node_count, 1);
    gw_sb_rx(&B.d, B.now_ms, NULL);
    gw_sb_rx(NULL, B.now_ms, &pdo);

    /* Seeded noise on every id: no crash, no more than 16 slots, no bogus pack. */
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        gw_can_frame_t f;
        x = x * 1103515245u + 12345u;
        f.id = (x >> 8) & 0x7FF;
        x = x * 1103515245u + 12345u;
        f.dlc = (uint8_t)((x >> 16) % 16);
        for (int k = 0; k < 8; k++) {
            x = x * 1103515245u + 12345u;
            f.data[k] = (uint8_t)(x >> 16);
        }
        gw_sb_rx(&B.d, B.now_ms + (uint64_t)i / 100, &f);
        if (i % 97 == 0) {
            gw_can_frame_t tx[2];
            (void)gw_sb_process(&B.d, B.now_ms + (uint64_t)i / 100, tx, 2);
        }
    }
    assert_true(B.d.node_count <= GW_SB_MAX_NODES);
    for (int i = 0; i < B.d.node_count; i++) {
        CHECK_EQ(i, B.d.packs[i].cell_count, 4);
        CHECK_EQ(i, B.d.packs[i].temp_count <= 2, 1);
    }
}

/* Requests of node to index:sub whose time is in [from_ms, to_ms). */
static unsigned count_req_between(uint8_t node, uint16_t index, uint8_t sub, uint64_t from_ms,
                                  uint64_t to_ms)
{
    unsigned c = 0;
    for (size_t i = 0; i < B.n_log; i++) {
        const req_log_t *l = &B.log[i];
        if (l->node == node && l->cs == 0x40 && l->index == index && l->sub == sub &&
            l->t_ms >= from_ms && l->t_ms < to_ms) {
            c++;
        }
    }
    return c;
}

static uint64_t first_req_ms(uint8_t node, uint16_t index, uint8_t sub)
{
    for (size_t i = 0; i < B.n_log; i++) {
        const req_log_t *l = &B.log[i];
        if (l->node == node && l->cs == 0x40 && l->index == index && l->sub == sub) {
            return l->t_ms;
        }
    }
    return UINT64_MAX;
}

static void test_superb_driver_cells_published(void **state)
{
    (void)state;
    static const struct {
        uint8_t cells_per_pack;
        uint8_t cell_count; /* published */
        uint8_t subs_read;  /* 0x2011:01..subs_read asked, nothing above */
    } rows[] = {
        {4, 4, 4},
        {16, 16, 16},
        {20, 20, 16}, /* 0x2011 has 16 sub-indices: cells 17..20 stay 0 (absent) */
        {0, 0, 0},    /* no cells configured: none read, the pack still publishes */
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        gw_sb_cfg_t cfg;
        gw_sb_cfg_default(&cfg);
        cfg.cells_per_pack = rows[r].cells_per_pack;
        bench_start(&cfg);
        add_fake(3, true, 0);
        heartbeat(3, 0x00);
        run_until(3900); /* cycles at 1000, 2000, 3000 */
        const gw_pack_t *p = &B.d.packs[0];
        CHECK_EQ(r, p->online, 1);
        CHECK_EQ(r, p->cell_count, rows[r].cell_count);
        for (uint8_t k = 0; k < GW_MAX_CELLS; k++) {
            uint16_t want = k < rows[r].subs_read ? (uint16_t)(3330 + k) : 0u;
            CHECK_EQ(r * 100 + k, p->cell_mv[k], want);
        }
        for (uint8_t sub = 1; sub <= 17; sub++) {
            CHECK_EQ(r * 100 + sub, count_req(3, 0x2011, sub), sub <= rows[r].subs_read ? 3 : 0);
        }
        CHECK_EQ(r, B.d.stats.objects_dropped, 0);
        /* New values show in the next cycle, all cells of it together. */
        fake_node_t *n = fake_by_id(3);
        for (int k = 0; k < 16; k++) {
            n->cell_mv[k] = (int16_t)(3600 + k);
        }
        n->cell_mv[1] = -5; /* a sensor fault reads as "not reported" */
        run_until(4900);
        for (uint8_t k = 0; k < rows[r].subs_read; k++) {
            CHECK_EQ(r * 100 + k, p->cell_mv[k], k == 1 ? 0 : 3600 + k);
        }
    }
}

/* An object the battery does not have is dropped for that node only, the
 * others keep reading it, and the node keeps publishing without it. */
static void test_superb_driver_new_object_abort_drops_per_node(void **state)
{
    (void)state;
    static const struct {
        uint16_t index;
        uint8_t sub;
        uint32_t code;
        uint32_t dropped;     /* expected dropped_mask of node 1 */
        bool online;          /* node 1 publishes */
        bool cells;           /* node 1's cells published */
        unsigned asked_2011_1; /* node 1's requests of 0x2011:01 over 4 cycles */
    } rows[] = {
        {0x2011, 1, 0x06020000, 1u << GW_SB_OBJ_CELLS, true, false, 1},
        {0x2011, 3, 0x06090011, 1u << GW_SB_OBJ_CELLS, true, false, 1},
        {0x2004, 0, 0x06020000, 1u << GW_SB_OBJ_STATUS, true, true, 4},
        {0x5021, 1, 0x06020000, (1u << GW_SB_OBJ_MAX_DCL) | (1u << GW_SB_OBJ_MAX_CCL), true, true,
         4},
        {0x5021, 2, 0x06090011, 1u << GW_SB_OBJ_MAX_CCL, true, true, 4},
        /* Not "does not exist": asked again every cycle, never dropped. A
         * cycle without all its cells is not published at all. */
        {0x2011, 3, 0x08000022, 0, false, false, 4},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        bench_start(NULL);
        fake_node_t *a = add_fake(1, true, 0);
        add_fake(2, true, 0);
        a->aborts[0].index = rows[r].index;
        a->aborts[0].sub = rows[r].sub;
        a->aborts[0].code = rows[r].code;
        run_until(6000);
        int s1 = slot_of(1), s2 = slot_of(2);
        CHECK_EQ(r, s1 >= 0 && s2 >= 0, 1);
        uint64_t c0 = first_req_ms(1, 0x6060, 0); /* node 1's first cycle */
        CHECK_EQ(r, B.d.nodes[s1].dropped_mask, rows[r].dropped);
        CHECK_EQ(r, B.d.nodes[s2].dropped_mask, 0);
        CHECK_EQ(r, count_req_between(1, 0x2011, 1, c0, c0 + 4000), rows[r].asked_2011_1);
        CHECK_EQ(r, count_req_between(1, rows[r].index, rows[r].sub, c0 + 1000, c0 + 4000),
                 rows[r].dropped != 0 ? 0 : 3);
        CHECK_EQ(r, count_req(2, 0x2011, 4), count_req(2, 0x6060, 0));
        CHECK_EQ(r, B.d.packs[s1].online, rows[r].online);
        CHECK_EQ(r, B.d.packs[s1].cell_mv[0], rows[r].cells ? 3310 : 0);
        CHECK_EQ(r, B.d.packs[s2].online, 1);
        CHECK_EQ(r, B.d.packs[s2].cell_mv[3], 3323);
        CHECK_EQ(r, B.d.packs[s2].bms_ccl_da, 1000);
        /* The 0x5021:01 "no object" abort covers sub 02 as well: not asked. */
        CHECK_EQ(r, count_req(1, 0x5021, 2), rows[r].index == 0x5021 && rows[r].sub == 1 ? 0 : 1);
    }
}

/* A battery from before these objects (no 0x2011, 0x2004, 0x5021) works as before. */
static void test_superb_driver_older_battery_without_new_objects(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(5, true, 0);
    n->no_cells = true;
    n->no_status = true;
    n->no_limits = true;
    heartbeat(5, 0x00);
    run_until(4900);
    const gw_pack_t *p = &B.d.packs[0];
    assert_true(p->online);
    assert_int_equal(p->voltage_mv, (13562 + 5 * 1024) * 1000 / 1024);
    assert_int_equal(p->cell_count, 4);
    for (int k = 0; k < GW_MAX_CELLS; k++) {
        CHECK_EQ(k, p->cell_mv[k], 0);
    }
    assert_false(p->bms_limits_valid);
    assert_false(p->bms_charge_off);
    assert_false(p->bms_discharge_off);
    assert_int_equal(p->bms_ccl_da, 0);
    assert_int_equal(B.d.stats.objects_dropped, 4); /* 0x2011, 0x2004, 0x5021:01 + :02 */
    assert_int_equal(B.d.stats.aborts, 3);
    assert_int_equal(count_req(5, 0x2011, 1), 1);
    assert_int_equal(count_req(5, 0x2004, 0), 1);
    assert_int_equal(count_req(5, 0x5021, 1), 1);
    assert_int_equal(count_req(5, 0x5021, 2), 0);
    /* A boot-up may bring new firmware: the objects are asked again. */
    n->no_cells = false;
    heartbeat(5, 0x00);
    run_until(5900);
    assert_int_equal(count_req(5, 0x2011, 1), 2);
    assert_int_equal(p->cell_mv[0], 3350);
}

static void test_superb_driver_error_status_switch_flags(void **state)
{
    (void)state;
    static const struct {
        uint16_t bits;
        bool charge_off, discharge_off;
    } rows[] = {
        {0x0000, false, false},
        {0x0001, true, false},  /* cell OV */
        {0x0002, false, true},  /* cell UV */
        {0x0004, true, false},  /* pack OV */
        {0x0008, false, true},  /* pack UV */
        {0x0010, true, false},  /* charge OC */
        {0x0020, false, true},  /* discharge OC */
        {0x0040, true, true},   /* cell OT */
        {0x0080, true, false},  /* cell UT: no charging when cold */
        {0x0100, true, true},   /* internal failure */
        {0x1000, false, false}, /* configuration locked: no switch */
        {0xEE00, false, false}, /* undefined bits: no switch */
        {0x0003, true, true},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        bench_start(NULL);
        fake_node_t *n = add_fake(6, true, 0);
        heartbeat(6, 0x00);
        n->error_status = rows[r].bits;
        run_until(1900);
        const gw_pack_t *p = &B.d.packs[0];
        CHECK_EQ(r, p->online, 1);
        CHECK_EQ(r, p->bms_limits_valid, 1);
        CHECK_EQ(r, p->bms_charge_off, rows[r].charge_off);
        CHECK_EQ(r, p->bms_discharge_off, rows[r].discharge_off);
        CHECK_EQ(r, B.d.nodes[0].error_status, rows[r].bits);
        /* Each cycle's own reading: the flags clear with the error. */
        n->error_status = 0;
        run_until(2900);
        CHECK_EQ(r, p->bms_charge_off, 0);
        CHECK_EQ(r, p->bms_discharge_off, 0);
    }
}

static void test_superb_driver_current_limits_once_per_bootup(void **state)
{
    (void)state;
    static const struct {
        int32_t dcl_ma, ccl_ma;
        uint16_t dcl_da, ccl_da;
    } rows[] = {
        {150000, 100000, 1500, 1000},
        {149999, 99, 1499, 1},   /* rounded down, but a positive limit never becomes 0 */
        {0, -5000, 0, 0},        /* 0 / negative: the BMS states no limit */
        {10000000, 6553500, 65535, 65535},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        bench_start(NULL);
        fake_node_t *n = add_fake(7, true, 0);
        n->max_dcl_ma = rows[r].dcl_ma;
        n->max_ccl_ma = rows[r].ccl_ma;
        heartbeat(7, 0x00);
        run_until(3900);
        const gw_pack_t *p = &B.d.packs[0];
        CHECK_EQ(r, p->online, 1);
        CHECK_EQ(r, p->bms_limits_valid, 1);
        CHECK_EQ(r, p->bms_dcl_da, rows[r].dcl_da);
        CHECK_EQ(r, p->bms_ccl_da, rows[r].ccl_da);
        CHECK_EQ(r, count_req(7, 0x5021, 1), 1);
        CHECK_EQ(r, count_req(7, 0x5021, 2), 1);
        /* Read again after a boot-up only. */
        n->max_ccl_ma = 20000;
        heartbeat(7, 0x00);
        run_until(4900);
        CHECK_EQ(r, count_req(7, 0x5021, 2), 2);
        CHECK_EQ(r, p->bms_ccl_da, 200);
    }
}

/* A cycle that misses one cell publishes nothing: the last complete reading
 * stays until it is heartbeat_misses periods old, then the pack goes offline
 * although the node is alive. Never a mix of cycles, never a stale cell. */
static void test_superb_driver_cells_stale_rule(void **state)
{
    (void)state;
    bench_start(NULL);
    fake_node_t *n = add_fake(8, true, 1000);
    run_until(4000);
    const gw_pack_t *p = &B.d.packs[0];
    assert_true(p->online);
    assert_int_equal(p->cell_mv[0], 3380);
    uint64_t last = p->updated_ms;
    n->cell_mv[0] = 3650;   /* cell 1 is read fine in the next cycles ... */
    n->silent_index = 0x2004; /* ... but the switch state never comes */
    run_until(last + 3000);
    assert_true(p->online);
    assert_int_equal(p->updated_ms, last);
    assert_int_equal(p->cell_mv[0], 3380);
    run_until(last + 3002);
    assert_false(p->online);
    assert_true(B.d.nodes[0].alive);
    /* A cell that times out (both tries) does the same. */
    n->silent_index = 0;
    run_until(B.now_ms + 1100);
    assert_true(p->online);
    assert_int_equal(p->cell_mv[0], 3650);
    last = p->updated_ms;
    n->drop_once_index = 0x2011;
    n->drop_once_index_count = 200;
    run_until(last + 3002);
    assert_false(p->online);
    assert_int_equal(p->cell_mv[0], 3650);
    assert_int_equal(B.d.nodes[0].dropped_mask, 0);
}

/* 16 batteries x 16 cells: the header's cycle budget. Each reply takes
 * 20 ms (turnaround plus waiting behind the other 15 nodes' frames at
 * 250 kbit/s): every node still starts its cycle every 1000 ms. */
static void test_superb_driver_sixteen_nodes_cycle_fits_period(void **state)
{
    (void)state;
    gw_sb_cfg_t cfg;
    gw_sb_cfg_default(&cfg);
    cfg.cells_per_pack = 16;
    bench_start(&cfg);
    for (uint8_t id = 30; id < 46; id++) {
        fake_node_t *n = add_fake(id, true, 1000);
        n->delay_ms = 20;
    }
    run_until(6000);
    assert_int_equal(B.d.node_count, GW_SB_MAX_NODES);
    assert_int_equal(B.d.stats.timeouts, 0);
    for (int i = 0; i < GW_SB_MAX_NODES; i++) {
        uint8_t id = (uint8_t)(30 + i);
        CHECK_EQ(i, B.d.packs[i].online, 1);
        CHECK_EQ(i, B.d.packs[i].cell_mv[15], 3300 + 10 * id + 15);
        uint64_t starts[6];
        size_t k = 0;
        for (size_t j = 0; j < B.n_log && k < 6; j++) {
            if (B.log[j].node == id && B.log[j].cs == 0x40 && B.log[j].index == 0x6060) {
                starts[k++] = B.log[j].t_ms;
            }
        }
        CHECK_EQ(i, k >= 4, 1);
        for (size_t c = 1; c < k; c++) {
            CHECK_EQ(i * 10 + (int)c, starts[c] - starts[c - 1], 1000);
        }
        /* Every cycle has read all 16 cells. */
        CHECK_EQ(i, count_req(id, 0x2011, 16), count_req(id, 0x6060, 0) - (B.d.slot[i].in_cycle ? 1 : 0));
    }
}

static void test_superb_driver_config_sanitised(void **state)
{
    (void)state;
    gw_sb_cfg_t cfg;
    gw_sb_cfg_default(&cfg);
    assert_int_equal(cfg.first_node, 1);
    assert_int_equal(cfg.last_node, 16);
    assert_int_equal(cfg.poll_period_ms, 1000);
    assert_int_equal(cfg.sdo_timeout_ms, 100);
    assert_int_equal(cfg.retries, 1);
    assert_int_equal(cfg.heartbeat_misses, 3);
    assert_int_equal(cfg.heartbeat_period_ms, 1000);
    assert_int_equal(cfg.cells_per_pack, 4);
    cfg.first_node = 0;
    cfg.last_node = 200;
    cfg.sdo_timeout_ms = 0;
    cfg.heartbeat_misses = 0;
    cfg.cells_per_pack = 200;
    bench_start(&cfg);
    assert_int_equal(B.d.cfg.first_node, 1);
    assert_int_equal(B.d.cfg.last_node, 127);
    assert_int_equal(B.d.cfg.sdo_timeout_ms, 1);
    assert_int_equal(B.d.cfg.heartbeat_misses, 1);
    assert_int_equal(B.d.cfg.cells_per_pack, GW_MAX_CELLS);
    /* Time near the end of uint64 never wraps a deadline into the past. */
    gw_sb_init(&B.d, NULL, UINT64_MAX - 5);
    gw_can_frame_t tx[1];
    assert_int_equal(gw_sb_process(&B.d, UINT64_MAX - 5, tx, 1), 1);
    assert_true(gw_sb_next_deadline(&B.d) >= UINT64_MAX - 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_superb_driver_discovery_by_bootup),
        cmocka_unit_test(test_superb_driver_discovery_by_heartbeat),
        cmocka_unit_test(test_superb_driver_discovery_by_probe_and_reprobe),
        cmocka_unit_test(test_superb_driver_polling_cycle_order),
        cmocka_unit_test(test_superb_driver_abort_drops_object_per_node),
        cmocka_unit_test(test_superb_driver_timeout_and_one_retry),
        cmocka_unit_test(test_superb_driver_rejects_reply_for_other_index),
        cmocka_unit_test(test_superb_driver_late_reply_not_attributed),
        cmocka_unit_test(test_superb_driver_segmented_name_and_toggle_error),
        cmocka_unit_test(test_superb_driver_heartbeat_loss_offline),
        cmocka_unit_test(test_superb_driver_stale_data_with_heartbeat_alive),
        cmocka_unit_test(test_superb_driver_reboot_rereads_identity),
        cmocka_unit_test(test_superb_driver_sixteen_node_limit),
        cmocka_unit_test(test_superb_driver_garbage_counted),
        cmocka_unit_test(test_superb_driver_config_sanitised),
        cmocka_unit_test(test_superb_driver_cells_published),
        cmocka_unit_test(test_superb_driver_new_object_abort_drops_per_node),
        cmocka_unit_test(test_superb_driver_older_battery_without_new_objects),
        cmocka_unit_test(test_superb_driver_error_status_switch_flags),
        cmocka_unit_test(test_superb_driver_current_limits_once_per_bootup),
        cmocka_unit_test(test_superb_driver_cells_stale_rule),
        cmocka_unit_test(test_superb_driver_sixteen_nodes_cycle_fits_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
