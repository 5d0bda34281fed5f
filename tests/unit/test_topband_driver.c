/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's Topband master state machine on a scripted fake bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "topband/topband_driver.h"

#define CHECK_EQ(row, actual, expected)                                                  \
    do {                                                                                 \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                  \
        if (a_ != e_) {                                                                  \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, e_); \
            fail();                                                                      \
        }                                                                                \
    } while (0)

/* TV2 (topband.md 7), a real EET reply from ADR 1. */
#define FRAME_TV2                                                                         \
    "~21014600D07C010F0D1D0D1C0D1E0D190D1D0D180D180D230D1A0D1A0D230D190D1F0D190D1C070B7D" \
    "0B7B0B7A0B7F0B940B820B8C01B413A90BB8040BB8000664640000E259\r"

/* ------------------------------------------------------------ the fake device */

/* A hand-made 0x42 reply: 16 cells, 6 sensors, P = 4; `cycles` tags which reply it was. */
static size_t make_reply(uint8_t adr, uint8_t hdr_adr, uint8_t rtn, uint16_t cycles, uint8_t *out, size_t cap)
{
    uint8_t info[128];
    size_t k = 0;
    info[k++] = adr;
    info[k++] = 16;
    for (unsigned i = 0; i < 16; i++) {
        uint16_t mv = (uint16_t)(3300 + adr);
        info[k++] = (uint8_t)(mv >> 8);
        info[k++] = (uint8_t)mv;
    }
    info[k++] = 6;
    for (unsigned i = 0; i < 6; i++) {
        info[k++] = 0x0B; /* 0x0BA5 = 2981 -> 25.0 C */
        info[k++] = 0xA5;
    }
    const uint16_t words[] = { 100, 5280, 10000 };
    for (unsigned i = 0; i < 3; i++) {
        info[k++] = (uint8_t)(words[i] >> 8);
        info[k++] = (uint8_t)words[i];
    }
    info[k++] = 4;
    const uint8_t pw[8] = { 0x4E, 0x20, (uint8_t)(cycles >> 8), (uint8_t)cycles, 50, 100, 0, 0 };
    memcpy(info + k, pw, sizeof(pw));
    k += sizeof(pw);
    return gw_tb_build_frame(0x21, hdr_adr, 0x46, rtn, rtn ? NULL : info, rtn ? 0 : k, out, cap);
}

typedef struct req_log {
    uint64_t t_ms;
    uint8_t adr;
} req_log_t;

typedef struct bench {
    gw_tb_driver_t d;
    uint64_t now_ms;
    bool answers[GW_MAX_PACKS];
    uint32_t delay_ms[GW_MAX_PACKS];
    uint8_t hdr_adr[GW_MAX_PACKS];     /* ADR the device puts in its header */
    uint8_t corrupt_next[GW_MAX_PACKS];/* this many next replies get a bad checksum */
    uint8_t rtn[GW_MAX_PACKS];
    uint16_t tag[GW_MAX_PACKS];        /* cycles of the last reply sent */
    req_log_t log[2048];
    size_t n_log;
    bool pending;
    uint64_t pending_at_ms;
    uint8_t pending_buf[256];
    size_t pending_len;
} bench_t;

static bench_t B;

static void bench_init(const gw_tb_cfg_t *cfg, uint64_t t0_ms)
{
    memset(&B, 0, sizeof(B));
    for (uint8_t a = 0; a < GW_MAX_PACKS; a++) {
        B.delay_ms[a] = 200;
        B.hdr_adr[a] = a;
        B.tag[a] = (uint16_t)(a * 1000);
    }
    B.now_ms = t0_ms;
    gw_tb_init(&B.d, cfg, t0_ms);
}

static gw_tb_cfg_t cfg_no_rescan(void)
{
    gw_tb_cfg_t c;
    gw_tb_cfg_default(&c);
    c.rescan_period_ms = 1000000000u;
    return c;
}

/* Every request must be a well-formed 0x42 with INFO = ADR. */
static void on_request(const uint8_t *tx, size_t n)
{
    uint8_t buf[8];
    gw_tb_frame_t f;
    assert_int_equal(gw_tb_parse(tx, n, buf, sizeof(buf), &f), GW_TB_OK);
    assert_int_equal(f.ver, 0x21);
    assert_int_equal(f.rtn, 0x42);
    assert_int_equal(f.info_len, 1);
    assert_int_equal(f.info[0], f.adr);
    assert_true(f.adr < GW_MAX_PACKS);
    assert_true(B.n_log < sizeof(B.log) / sizeof(B.log[0]));
    B.log[B.n_log++] = (req_log_t){ B.now_ms, f.adr };

    uint8_t a = f.adr;
    if (!B.answers[a] || B.pending) {
        return;
    }
    B.tag[a]++;
    B.pending_len = make_reply(a, B.hdr_adr[a], B.rtn[a], B.tag[a], B.pending_buf, sizeof(B.pending_buf));
    assert_true(B.pending_len > 0);
    if (B.corrupt_next[a] > 0) {
        B.corrupt_next[a]--;
        B.pending_buf[B.pending_len - 2] ^= 0x01; /* last CHKSUM digit, stays hex */
    }
    B.pending = true;
    B.pending_at_ms = B.now_ms + B.delay_ms[a];
}

/* Run the event loop as a host would: wake at the driver's deadline or when the
 * device's reply is due, and stop at t_end_ms. */
static void run_until(uint64_t t_end_ms)
{
    int idle_spins = 0;
    for (;;) {
        uint64_t next = gw_tb_next_deadline(&B.d);
        if (B.pending && B.pending_at_ms < next) {
            next = B.pending_at_ms;
        }
        if (next > t_end_ms) {
            B.now_ms = t_end_ms;
            return;
        }
        bool advanced = next > B.now_ms;
        if (advanced) {
            B.now_ms = next;
        }
        bool delivered = false;
        if (B.pending && B.pending_at_ms <= B.now_ms) {
            B.pending = false;
            gw_tb_rx(&B.d, B.now_ms, B.pending_buf, B.pending_len);
            delivered = true;
        }
        uint8_t tx[64];
        size_t n = gw_tb_process(&B.d, B.now_ms, tx, sizeof(tx));
        if (n > 0) {
            on_request(tx, n);
        }
        idle_spins = (advanced || delivered || n > 0) ? 0 : idle_spins + 1;
        if (idle_spins > 3) {
            print_error("driver spins at t=%llu without progress\n", (unsigned long long)B.now_ms);
            fail();
        }
    }
}

static void run_until_scan_done(void)
{
    /* 1 ms steps, so that nothing after the scan has happened yet */
    for (int i = 0; i < 100000 && !B.d.scan_done; i++) {
        run_until(B.now_ms + 1);
    }
    assert_true(B.d.scan_done);
}

static size_t count_requests(uint8_t adr, uint64_t from_ms, uint64_t to_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < B.n_log; i++) {
        if (B.log[i].adr == adr && B.log[i].t_ms >= from_ms && B.log[i].t_ms < to_ms) {
            n++;
        }
    }
    return n;
}

static void deliver(uint64_t t_ms, const char *s)
{
    B.now_ms = t_ms;
    gw_tb_rx(&B.d, t_ms, (const uint8_t *)s, strlen(s));
}

/* ------------------------------------------------------------ tests */

static void test_topband_driver_scan_finds_packs_0_and_3(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    bench_init(&cfg, 0);
    B.answers[0] = B.answers[3] = true;
    run_until_scan_done();

    /* one request per address, in order; a reply ends the wait early, silence costs the timeout */
    static const uint64_t expect_t[16] = { 0, 250, 800, 1350, 1600, 2150, 2700, 3250,
                                           3800, 4350, 4900, 5450, 6000, 6550, 7100, 7650 };
    assert_int_equal(B.n_log, 16);
    for (size_t i = 0; i < 16; i++) {
        CHECK_EQ(i, B.log[i].adr, i);
        CHECK_EQ(i, B.log[i].t_ms, expect_t[i]);
    }
    for (uint8_t a = 0; a < GW_MAX_PACKS; a++) {
        bool there = a == 0 || a == 3;
        CHECK_EQ(a, B.d.packs[a].present, there);
        CHECK_EQ(a, B.d.packs[a].online, there);
        CHECK_EQ(a, B.d.packs[a].address, a);
    }
    assert_int_equal(B.d.packs[0].updated_ms, 200);
    assert_int_equal(B.d.packs[3].updated_ms, 1550);
    assert_int_equal(B.d.packs[3].cycles, 3001);
    assert_int_equal(B.d.packs[3].cell_mv[15], 3303);
    assert_int_equal(B.d.packs[3].voltage_mv, 52800);
    assert_int_equal(B.d.stats.requests, 16);
    assert_int_equal(B.d.stats.replies_ok, 2);
    assert_int_equal(B.d.stats.timeouts, 14);
}

static void test_topband_driver_polling_order_and_period(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    bench_init(&cfg, 0);
    B.answers[0] = B.answers[3] = true;
    run_until_scan_done();
    size_t scan_requests = B.n_log;
    run_until(8200 + 5 * 3000 - 1);

    /* The scan overran the period, so the first round starts when the bus is
     * free (8150 + 50); then every 3000 ms from the previous round's start. */
    assert_int_equal(B.n_log - scan_requests, 10);
    for (size_t r = 0; r < 5; r++) {
        const req_log_t *a = &B.log[scan_requests + 2 * r];
        const req_log_t *b = &B.log[scan_requests + 2 * r + 1];
        uint64_t start = 8200 + r * 3000;
        CHECK_EQ(r, a->adr, 0);
        CHECK_EQ(r, a->t_ms, start);
        CHECK_EQ(r, b->adr, 3);
        CHECK_EQ(r, b->t_ms, start + 200 + 50); /* reply + bus guard */
    }
    assert_int_equal(B.d.stats.timeouts, 14);
    assert_int_equal(B.d.packs[0].updated_ms, 8200 + 4 * 3000 + 200);
}

static void test_topband_driver_rounds_keep_grid_when_scan_is_short(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 2;
    cfg.last_address = 3;
    bench_init(&cfg, 1000);
    B.answers[2] = true;
    run_until(1000 + 3 * 3000 + 100);
    /* scan: 2 at 1000, 3 at 1250 (silent). Rounds from the init time: 4000, 7000, 10000. */
    static const uint64_t expect_t[] = { 1000, 1250, 4000, 7000, 10000 };
    assert_int_equal(B.n_log, 5);
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(i, B.log[i].t_ms, expect_t[i]);
    }
}

static void test_topband_driver_timeout_retry_offline_and_back(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    bench_init(&cfg, 0);
    B.answers[0] = B.answers[3] = true;
    run_until_scan_done();
    B.answers[3] = false;
    uint16_t tag_before = B.d.packs[3].cycles;

    for (unsigned r = 0; r < 4; r++) {
        uint64_t start = 8200 + r * 3000;
        run_until(start + 3000 - 1);
        /* one try plus `retries` (1) per round, and the pack stays polled while offline */
        CHECK_EQ(r, count_requests(3, start, start + 3000), 2);
        CHECK_EQ(r, count_requests(0, start, start + 3000), 1);
        CHECK_EQ(r, B.d.misses[3], r + 1 > 255 ? 255 : r + 1);
        CHECK_EQ(r, B.d.packs[3].present, true);
        CHECK_EQ(r, B.d.packs[3].online, r + 1 < 3);
        CHECK_EQ(r, B.d.packs[0].online, true);
    }
    /* second try goes out after the first one's timeout + guard */
    assert_true(count_requests(3, 8450 + 500 + 50, 8450 + 500 + 51) == 1);
    assert_int_equal(B.d.packs[3].cycles, tag_before); /* values kept, just not online */
    assert_int_equal(B.d.stats.timeouts, 14 + 8);

    B.answers[3] = true;
    run_until(8200 + 5 * 3000 - 1);
    assert_true(B.d.packs[3].online);
    assert_int_equal(B.d.misses[3], 0);
    assert_int_equal(B.d.packs[3].cycles, B.tag[3]);
    assert_int_equal(B.d.packs[3].updated_ms, 8200 + 4 * 3000 + 250 + 200);
}

static void test_topband_driver_bad_checksum_counted_reading_unchanged(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    bench_init(&cfg, 0);
    B.answers[0] = B.answers[3] = true;
    run_until_scan_done();
    gw_pack_t before = B.d.packs[3];
    B.corrupt_next[3] = 1;

    run_until(8650); /* pack 3 polled at 8450, its corrupt reply lands at 8650 */
    assert_int_equal(B.d.stats.bad_checksum, 1);
    assert_memory_equal(&B.d.packs[3], &before, sizeof(before));

    /* the exchange failed: the retry goes out after the guard and gets a good reply */
    run_until(8910);
    assert_int_equal(count_requests(3, 8700, 8701), 1);
    assert_int_equal(B.d.packs[3].updated_ms, 8900);
    assert_int_equal(B.d.packs[3].cycles, B.tag[3]);
    assert_int_equal(B.d.misses[3], 0);
    assert_int_equal(B.d.stats.timeouts, 14);
}

static void test_topband_driver_wrong_address_dropped(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    bench_init(&cfg, 0);
    B.answers[0] = B.answers[3] = true;
    B.hdr_adr[3] = 5; /* pack 3 answers with a valid frame claiming ADR 5 */
    run_until_scan_done();
    assert_int_equal(B.d.stats.wrong_address, 1);
    assert_false(B.d.packs[3].present);
    assert_false(B.d.packs[5].present);
    assert_int_equal(B.d.packs[5].updated_ms, 0);
    assert_int_equal(B.d.packs[5].cell_count, 0);
    /* the driver kept waiting for ADR 3 until the timeout */
    assert_int_equal(B.d.stats.timeouts, 15);
    assert_int_equal(B.log[4].t_ms, 1350 + 500 + 50);
}

static void test_topband_driver_error_rtn_and_bad_layout_dropped(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 2;
    cfg.last_address = 2;
    bench_init(&cfg, 0);
    uint8_t tx[64];
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    uint8_t frame[256];
    size_t n = make_reply(2, 2, 0x02, 1, frame, sizeof(frame)); /* RTN 2: CHKSUM error */
    gw_tb_rx(&B.d, 100, frame, n);
    assert_int_equal(B.d.stats.error_rtn, 1);
    assert_false(B.d.packs[2].present);
    assert_true(B.d.scan_done); /* one try per address during the scan */

    /* a reply whose INFO does not fit the 0x42 layout (P = 2) */
    cfg.last_address = 3;
    bench_init(&cfg, 0);
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    /* echo, M 1, 3300 mV, N 0, 0 A, 3.30 V, 0 Ah, P 2, two words */
    static const uint8_t bad_info[] = { 2, 1, 0x0C, 0xE4, 0, 0, 0, 0x01, 0x4A, 0, 0, 2, 0, 0, 0, 0 };
    n = gw_tb_build_frame(0x21, 2, 0x46, 0, bad_info, sizeof(bad_info), frame, sizeof(frame));
    gw_tb_rx(&B.d, 100, frame, n);
    assert_int_equal(B.d.stats.bad_frame, 1);
    assert_false(B.d.packs[2].present);
    assert_int_equal(B.d.packs[2].cell_count, 0);
    /* and the next address is asked after the guard, not after the timeout */
    assert_int_equal(gw_tb_next_deadline(&B.d), 150);
}

static void test_topband_driver_late_reply_not_attributed(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 0;
    cfg.last_address = 1;
    uint8_t tx[64];
    uint8_t r0[256], r1[256];
    size_t n0 = make_reply(0, 0, 0, 7, r0, sizeof(r0));
    size_t n1 = make_reply(1, 1, 0, 9, r1, sizeof(r1));

    /* (a) pack 0's reply lands in the guard after its timeout: no request outstanding */
    bench_init(&cfg, 0);
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    assert_int_equal(gw_tb_process(&B.d, 500, tx, sizeof(tx)), 0); /* timeout */
    gw_tb_rx(&B.d, 520, r0, n0);
    assert_int_equal(B.d.stats.late_replies, 1);
    assert_false(B.d.packs[0].present);

    /* (b) it lands after the next request went out: its ADR gives it away */
    bench_init(&cfg, 0);
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    assert_int_equal(gw_tb_process(&B.d, 500, tx, sizeof(tx)), 0);
    assert_true(gw_tb_process(&B.d, 550, tx, sizeof(tx)) > 0); /* request to 1 */
    gw_tb_rx(&B.d, 600, r0, n0);
    assert_int_equal(B.d.stats.wrong_address, 1);
    assert_false(B.d.packs[0].present);
    assert_false(B.d.packs[1].present);
    gw_tb_rx(&B.d, 700, r1, n1); /* pack 1's own reply is still taken */
    assert_true(B.d.packs[1].present);
    assert_int_equal(B.d.packs[1].cycles, 9);

    /* (c) a frame that began before the request is never the reply to it, even
     * with the right ADR */
    bench_init(&cfg, 0);
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    assert_int_equal(gw_tb_process(&B.d, 500, tx, sizeof(tx)), 0);
    gw_tb_rx(&B.d, 520, r1, 40);
    assert_true(gw_tb_process(&B.d, 550, tx, sizeof(tx)) > 0); /* request to 1 */
    gw_tb_rx(&B.d, 560, r1 + 40, n1 - 40);
    assert_int_equal(B.d.stats.late_replies, 1);
    assert_false(B.d.packs[1].present);

    /* (d) a reply completing exactly at the timeout is late */
    bench_init(&cfg, 0);
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    gw_tb_rx(&B.d, 500, r0, n0);
    assert_int_equal(B.d.stats.late_replies, 1);
    assert_false(B.d.packs[0].present);
}

static void test_topband_driver_byte_by_byte_reply(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 1;
    cfg.last_address = 1;
    bench_init(&cfg, 0);
    uint8_t tx[64];
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    const char *tv2 = FRAME_TV2;
    size_t n = strlen(tv2);
    for (size_t i = 0; i < n; i++) {
        gw_tb_rx(&B.d, 10 + i, (const uint8_t *)tv2 + i, 1);
        CHECK_EQ(i, B.d.packs[1].present, i == n - 1);
        assert_int_equal(gw_tb_process(&B.d, 10 + i, tx, sizeof(tx)), 0);
    }
    assert_int_equal(B.d.packs[1].updated_ms, 10 + n - 1);
    assert_int_equal(B.d.packs[1].cell_count, 15);
    assert_int_equal(B.d.packs[1].voltage_mv, 50330);
    assert_int_equal(B.d.packs[1].current_ma, 4360);
    assert_int_equal(B.d.stats.replies_ok, 1);
    assert_int_equal(B.d.stats.bytes_dropped, 0);
}

static void test_topband_driver_noise_between_frames(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 1;
    cfg.last_address = 1;
    bench_init(&cfg, 0);
    uint8_t tx[64];
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    static const uint8_t noise[] = { 0x00, 0xFF, 'x', '0', 0x7F, '\r', '\n' };
    gw_tb_rx(&B.d, 50, noise, sizeof(noise)); /* CR/LF between frames are not noise */
    assert_int_equal(B.d.stats.bytes_dropped, 5);
    deliver(100, FRAME_TV2 "\n" "\xAA\xBB");  /* CR LF ending, then junk */
    assert_true(B.d.packs[1].present);
    assert_int_equal(B.d.stats.bytes_dropped, 7);
    assert_int_equal(B.d.stats.bad_frame, 0);
    assert_int_equal(B.d.stats.replies_ok, 1);
}

static void test_topband_driver_truncated_then_good(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 1;
    cfg.last_address = 2;
    bench_init(&cfg, 0);
    uint8_t tx[64];
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    /* a frame cut short by a new SOI, then a complete one */
    deliver(100, "~21014600D07C010F0D1D0D1C" FRAME_TV2);
    assert_int_equal(B.d.stats.bad_frame, 1);
    assert_int_equal(B.d.stats.replies_ok, 1);
    assert_true(B.d.packs[1].present);

    /* a frame truncated before its CR: a failed exchange, the scan moves on after the guard */
    assert_true(gw_tb_process(&B.d, 150, tx, sizeof(tx)) > 0); /* request to 2 */
    deliver(200, "~2102460\r");
    assert_int_equal(B.d.stats.bad_frame, 2);
    assert_true(B.d.scan_done);
    assert_false(B.d.packs[2].present);
}

static void test_topband_driver_oversize_frame_dropped(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 1;
    cfg.last_address = 1;
    bench_init(&cfg, 0);
    uint8_t tx[64];
    assert_true(gw_tb_process(&B.d, 0, tx, sizeof(tx)) > 0);
    static uint8_t big[GW_TB_MAX_FRAME + 200];
    big[0] = '~';
    memset(big + 1, '0', sizeof(big) - 2);
    big[sizeof(big) - 1] = '\r';
    gw_tb_rx(&B.d, 100, big, sizeof(big));
    assert_int_equal(B.d.stats.bad_frame, 1);
    assert_int_equal(B.d.stats.bytes_dropped, 0); /* the tail is part of the dropped frame */
    assert_int_equal(B.d.state, GW_TB_WAIT_REPLY);
    deliver(200, FRAME_TV2);
    assert_true(B.d.packs[1].present);
}

static void test_topband_driver_rescan_finds_late_pack(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg;
    gw_tb_cfg_default(&cfg);
    cfg.rescan_period_ms = 10000;
    bench_init(&cfg, 0);
    B.answers[0] = B.answers[3] = true;
    run_until_scan_done();
    B.answers[7] = true; /* plugged in after the scan */

    run_until(11200 - 1);
    assert_int_equal(B.log[B.n_log - 1].adr, 3); /* round at 8200: no sweep yet */

    /* sweep from 11200: one absent address per round, after the present packs, one try */
    static const uint8_t probe[] = { 1, 2, 4, 5, 6, 7 };
    for (size_t r = 0; r < sizeof(probe); r++) {
        uint64_t start = 11200 + r * 3000;
        size_t first = B.n_log;
        run_until(start + 3000 - 1);
        CHECK_EQ(r, B.n_log - first, 3);
        CHECK_EQ(r, B.log[first].adr, 0);
        CHECK_EQ(r, B.log[first + 1].adr, 3);
        CHECK_EQ(r, B.log[first + 2].adr, probe[r]);
        CHECK_EQ(r, B.log[first].t_ms, start);
    }
    assert_true(B.d.packs[7].present);
    assert_true(B.d.packs[7].online);
    assert_int_equal(B.d.misses[1], 0);

    /* next round polls 7 as a present pack, then probes 8 */
    size_t first = B.n_log;
    run_until(29200 + 3000 - 1);
    assert_int_equal(B.n_log - first, 4);
    assert_int_equal(B.log[first + 2].adr, 7);
    assert_int_equal(B.log[first + 3].adr, 8);
}

static void test_topband_driver_process_only_when_due(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.first_address = 4;
    cfg.last_address = 5;
    bench_init(&cfg, 1000);
    uint8_t tx[64];
    assert_int_equal(gw_tb_next_deadline(&B.d), 1000);
    assert_int_equal(gw_tb_process(&B.d, 1000, tx, sizeof(tx)), 20);
    assert_memory_equal(tx, "~21044642E00204FD2E\r", 20);
    assert_int_equal(gw_tb_next_deadline(&B.d), 1500);
    assert_int_equal(gw_tb_process(&B.d, 1499, tx, sizeof(tx)), 0);
    assert_int_equal(gw_tb_process(&B.d, 1500, tx, sizeof(tx)), 0); /* timeout, guard starts */
    assert_int_equal(B.d.stats.timeouts, 1);
    assert_int_equal(gw_tb_next_deadline(&B.d), 1550);
    assert_int_equal(gw_tb_process(&B.d, 1549, tx, sizeof(tx)), 0);
    assert_int_equal(gw_tb_process(&B.d, 1550, tx, 19), 0);          /* no room: nothing sent */
    assert_int_equal(gw_tb_process(&B.d, 1550, tx, sizeof(tx)), 20); /* address 5 */
    assert_memory_equal(tx, "~21054642E00205FD2C\r", 20);
    assert_int_equal(B.d.stats.requests, 2);
    /* a host that wakes late: the timeout still counts from the deadline */
    assert_int_equal(gw_tb_process(&B.d, 5000, tx, sizeof(tx)), 0);
    assert_true(B.d.scan_done);
    /* nothing present: the 4000 round found nothing to poll, the next slot is 7000 */
    assert_int_equal(gw_tb_next_deadline(&B.d), 7000);
}

static void test_topband_driver_config_clamped(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    cfg.last_address = 200; /* atomi23 indexed past its tables with a count > 16 */
    bench_init(&cfg, 0);
    run_until_scan_done();
    assert_int_equal(B.n_log, 16);
    assert_int_equal(B.log[15].adr, 15);

    cfg.first_address = 250;
    bench_init(&cfg, 0);
    run_until_scan_done();
    assert_int_equal(B.n_log, 1);
    assert_int_equal(B.log[0].adr, 15);

    gw_tb_init(&B.d, NULL, 0); /* NULL = defaults */
    assert_int_equal(B.d.cfg.poll_period_ms, 3000);
    assert_int_equal(B.d.cfg.reply_timeout_ms, 500);
    assert_int_equal(B.d.cfg.last_address, 15);
}

static void test_topband_driver_time_near_max_does_not_wrap(void **state)
{
    (void)state;
    gw_tb_cfg_t cfg = cfg_no_rescan();
    uint64_t t0 = UINT64_MAX - 10;
    bench_init(&cfg, t0);
    uint8_t tx[64];
    assert_true(gw_tb_process(&B.d, t0, tx, sizeof(tx)) > 0);
    assert_int_equal(gw_tb_next_deadline(&B.d), UINT64_MAX);
    assert_int_equal(gw_tb_process(&B.d, t0 + 5, tx, sizeof(tx)), 0);
    assert_int_equal(B.d.stats.timeouts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topband_driver_scan_finds_packs_0_and_3),
        cmocka_unit_test(test_topband_driver_polling_order_and_period),
        cmocka_unit_test(test_topband_driver_rounds_keep_grid_when_scan_is_short),
        cmocka_unit_test(test_topband_driver_timeout_retry_offline_and_back),
        cmocka_unit_test(test_topband_driver_bad_checksum_counted_reading_unchanged),
        cmocka_unit_test(test_topband_driver_wrong_address_dropped),
        cmocka_unit_test(test_topband_driver_error_rtn_and_bad_layout_dropped),
        cmocka_unit_test(test_topband_driver_late_reply_not_attributed),
        cmocka_unit_test(test_topband_driver_byte_by_byte_reply),
        cmocka_unit_test(test_topband_driver_noise_between_frames),
        cmocka_unit_test(test_topband_driver_truncated_then_good),
        cmocka_unit_test(test_topband_driver_oversize_frame_dropped),
        cmocka_unit_test(test_topband_driver_rescan_finds_late_pack),
        cmocka_unit_test(test_topband_driver_process_only_when_due),
        cmocka_unit_test(test_topband_driver_config_clamped),
        cmocka_unit_test(test_topband_driver_time_near_max_does_not_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
