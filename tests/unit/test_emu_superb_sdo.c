/* SPDX-License-Identifier: MIT */
/* Unit tests for the emulator's SDO server codec against a small fake object dictionary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emulators/superb/emu_canopen_sdo.h"

/* Fake OD: 0x2000:00 U8 rw, 0x2001:00 U16 rw, 0x2002:00 U32 ro, 0x2003:00 a 20-byte string ro,
 * 0x2004:00 3-byte ro, 0x2005:00 an empty string. */
typedef struct fake_od {
    uint8_t u8;
    uint16_t u16;
    uint32_t writes;
} fake_od_t;

static const char long_text[] = "ABCDEFGHIJKLMNOPQRST"; /* 20 bytes */

static uint32_t fake_read(void *ctx, uint16_t idx, uint8_t sub, uint8_t *buf, size_t cap,
                          size_t *len)
{
    fake_od_t *od = ctx;
    (void)cap;
    if (sub != 0) {
        return idx >= 0x2000 && idx <= 0x2005 ? EMU_SDO_ABORT_NO_SUB : EMU_SDO_ABORT_NO_OBJECT;
    }
    switch (idx) {
    case 0x2000:
        buf[0] = od->u8;
        *len = 1;
        return 0;
    case 0x2001:
        buf[0] = (uint8_t)od->u16;
        buf[1] = (uint8_t)(od->u16 >> 8);
        *len = 2;
        return 0;
    case 0x2002:
        buf[0] = 0x78;
        buf[1] = 0x56;
        buf[2] = 0x34;
        buf[3] = 0x12;
        *len = 4;
        return 0;
    case 0x2003:
        memcpy(buf, long_text, 20);
        *len = 20;
        return 0;
    case 0x2004:
        buf[0] = 1;
        buf[1] = 2;
        buf[2] = 3;
        *len = 3;
        return 0;
    case 0x2005:
        *len = 0;
        return 0;
    default:
        return EMU_SDO_ABORT_NO_OBJECT;
    }
}

static uint32_t fake_write(void *ctx, uint16_t idx, uint8_t sub, const uint8_t *data, size_t len,
                           bool size_exact, bool check_only)
{
    fake_od_t *od = ctx;
    size_t size;
    if (idx < 0x2000 || idx > 0x2005) {
        return EMU_SDO_ABORT_NO_OBJECT;
    }
    if (sub != 0) {
        return EMU_SDO_ABORT_NO_SUB;
    }
    if (idx == 0x2000) {
        size = 1;
    } else if (idx == 0x2001) {
        size = 2;
    } else {
        return EMU_SDO_ABORT_READ_ONLY;
    }
    if (check_only && !size_exact) {
        return 0;
    }
    if ((size_exact && len != size) || len < size) {
        return len > size ? EMU_SDO_ABORT_LEN_HIGH : EMU_SDO_ABORT_LEN_LOW;
    }
    if (check_only) {
        return 0;
    }
    if (idx == 0x2000) {
        od->u8 = data[0];
    } else {
        od->u16 = (uint16_t)(data[0] | (data[1] << 8));
    }
    od->writes++;
    return 0;
}

typedef struct fixture {
    fake_od_t od;
    emu_sdo_od_ops_t ops;
    emu_sdo_server_t s;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof(*f));
    f->od.u8 = 0x11;
    f->od.u16 = 0x2233;
    f->ops.read = fake_read;
    f->ops.write = fake_write;
    f->ops.ctx = &f->od;
    emu_sdo_server_init(&f->s);
}

static void assert_bytes(const uint8_t got[8], const uint8_t want[8], size_t row)
{
    for (size_t i = 0; i < 8; i++) {
        if (got[i] != want[i]) {
            fail_msg("row %zu byte %zu: got %02X want %02X (got %02X %02X %02X %02X %02X %02X %02X "
                     "%02X)",
                     row, i, got[i], want[i], got[0], got[1], got[2], got[3], got[4], got[5],
                     got[6], got[7]);
        }
    }
}

typedef struct sdo_row {
    uint8_t req[8];
    bool answered;
    uint8_t resp[8];
} sdo_row_t;

/* Single-frame exchanges on a fresh server each: size bits, echoes, abort codes. */
static void test_emu_superb_sdo_single_exchanges(void **state)
{
    (void)state;
    static const sdo_row_t rows[] = {
        /* expedited upload, 1/2/3/4 bytes: n = 3/2/1/0 */
        {{0x40, 0x00, 0x20, 0, 0, 0, 0, 0}, true, {0x4F, 0x00, 0x20, 0x00, 0x11, 0, 0, 0}},
        {{0x40, 0x01, 0x20, 0, 0, 0, 0, 0}, true, {0x4B, 0x01, 0x20, 0x00, 0x33, 0x22, 0, 0}},
        {{0x40, 0x04, 0x20, 0, 0, 0, 0, 0}, true, {0x47, 0x04, 0x20, 0x00, 1, 2, 3, 0}},
        {{0x40, 0x02, 0x20, 0, 0, 0, 0, 0}, true, {0x43, 0x02, 0x20, 0x00, 0x78, 0x56, 0x34, 0x12}},
        /* client bytes 4-7 in an upload request are ignored */
        {{0x40, 0x02, 0x20, 0, 9, 9, 9, 9}, true, {0x43, 0x02, 0x20, 0x00, 0x78, 0x56, 0x34, 0x12}},
        /* segmented upload initiate: size 20 */
        {{0x40, 0x03, 0x20, 0, 0, 0, 0, 0}, true, {0x41, 0x03, 0x20, 0x00, 20, 0, 0, 0}},
        /* empty object: segmented, size 0 */
        {{0x40, 0x05, 0x20, 0, 0, 0, 0, 0}, true, {0x41, 0x05, 0x20, 0x00, 0, 0, 0, 0}},
        /* OD aborts pass through with the request's index/sub */
        {{0x40, 0x99, 0x30, 0x07, 0, 0, 0, 0},
         true,
         {0x80, 0x99, 0x30, 0x07, 0x00, 0x00, 0x02, 0x06}},
        {{0x40, 0x00, 0x20, 0x01, 0, 0, 0, 0},
         true,
         {0x80, 0x00, 0x20, 0x01, 0x11, 0x00, 0x09, 0x06}},
        /* expedited downloads 0x2F / 0x2B accepted; 0x22 (size not indicated) too */
        {{0x2F, 0x00, 0x20, 0, 0x55, 0, 0, 0}, true, {0x60, 0x00, 0x20, 0x00, 0, 0, 0, 0}},
        {{0x2B, 0x01, 0x20, 0, 0x34, 0x12, 0, 0}, true, {0x60, 0x01, 0x20, 0x00, 0, 0, 0, 0}},
        {{0x22, 0x01, 0x20, 0, 0x34, 0x12, 0, 0}, true, {0x60, 0x01, 0x20, 0x00, 0, 0, 0, 0}},
        /* write of 4 bytes into a 2-byte object: length too high */
        {{0x23, 0x01, 0x20, 0, 1, 2, 3, 4}, true, {0x80, 0x01, 0x20, 0x00, 0x12, 0x00, 0x07, 0x06}},
        /* write to a read-only object */
        {{0x23, 0x02, 0x20, 0, 1, 2, 3, 4}, true, {0x80, 0x02, 0x20, 0x00, 0x02, 0x00, 0x01, 0x06}},
        /* ccs 7, block download (6) and block upload (5): invalid command */
        {{0xE0, 0x60, 0x60, 0, 0, 0, 0, 0}, true, {0x80, 0x60, 0x60, 0x00, 0x01, 0x00, 0x04, 0x05}},
        {{0xC2, 0x00, 0x20, 0, 4, 0, 0, 0}, true, {0x80, 0x00, 0x20, 0x00, 0x01, 0x00, 0x04, 0x05}},
        {{0xA0, 0x00, 0x20, 0, 0, 0, 0, 0}, true, {0x80, 0x00, 0x20, 0x00, 0x01, 0x00, 0x04, 0x05}},
        /* segment requests with no transfer: invalid command, index 0 */
        {{0x60, 0, 0, 0, 0, 0, 0, 0}, true, {0x80, 0, 0, 0, 0x01, 0x00, 0x04, 0x05}},
        {{0x00, 1, 2, 3, 4, 5, 6, 7}, true, {0x80, 0, 0, 0, 0x01, 0x00, 0x04, 0x05}},
        /* a client abort is never answered */
        {{0x80, 0x00, 0x20, 0, 0, 0, 0, 0x08}, false, {0}},
    };
    for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
        fixture_t f;
        fixture_init(&f);
        uint8_t resp[8];
        memset(resp, 0xEE, sizeof(resp));
        bool answered = emu_sdo_server_request(&f.s, &f.ops, rows[row].req, 0, resp);
        if (answered != rows[row].answered) {
            fail_msg("row %zu: answered %d want %d", row, answered, rows[row].answered);
        }
        if (answered) {
            assert_bytes(resp, rows[row].resp, row);
        }
    }
}

static void test_emu_superb_sdo_download_stores(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f);
    uint8_t resp[8];
    static const uint8_t w16[8] = {0x2B, 0x01, 0x20, 0x00, 0xCD, 0xAB, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, w16, 0, resp));
    assert_int_equal(f.od.u16, 0xABCD);
    static const uint8_t bad[8] = {0x27, 0x01, 0x20, 0x00, 1, 2, 3, 0}; /* 3 bytes into U16 */
    assert_true(emu_sdo_server_request(&f.s, &f.ops, bad, 0, resp));
    assert_int_equal(resp[0], 0x80);
    assert_int_equal(f.od.u16, 0xABCD);
    assert_int_equal(f.od.writes, 1);
}

/* 0x2003 (20 bytes) in three segments: 7 + 7 + 6, toggles 0, 1, 0, c on the last. */
static void test_emu_superb_sdo_segmented_upload(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f);
    uint8_t resp[8];
    static const uint8_t init[8] = {0x40, 0x03, 0x20, 0, 0, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 0, resp));
    assert_int_equal(resp[0], 0x41);
    static const struct {
        uint8_t req0, resp0;
        const char *data;
    } segs[] = {{0x60, 0x00, "ABCDEFG"}, {0x70, 0x10, "HIJKLMN"}, {0x60, 0x03, "OPQRST"}};
    for (size_t row = 0; row < 3; row++) {
        uint8_t req[8] = {segs[row].req0, 0, 0, 0, 0, 0, 0, 0};
        uint8_t want[8] = {segs[row].resp0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(&want[1], segs[row].data, strlen(segs[row].data));
        if (!emu_sdo_server_request(&f.s, &f.ops, req, 1000 * (row + 1), resp)) {
            fail_msg("segment %zu not answered", row);
        }
        assert_bytes(resp, want, row);
    }
    assert_int_equal(f.s.xfer, EMU_SDO_IDLE);
    /* finished: another segment request is a protocol error */
    static const uint8_t again[8] = {0x70, 0, 0, 0, 0, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, again, 5000, resp));
    assert_int_equal(resp[0], 0x80);
    assert_int_equal(resp[4] | (resp[5] << 8) | (resp[6] << 16) | ((uint32_t)resp[7] << 24),
                     EMU_SDO_ABORT_CMD);
}

static void test_emu_superb_sdo_toggle_error(void **state)
{
    (void)state;
    /* row 0: first request with t = 1; row 1: t = 0 twice. */
    static const uint8_t seqs[2][2] = {{0x70, 0}, {0x60, 0x60}};
    static const size_t lens[2] = {1, 2};
    for (size_t row = 0; row < 2; row++) {
        fixture_t f;
        fixture_init(&f);
        uint8_t resp[8];
        static const uint8_t init[8] = {0x40, 0x03, 0x20, 0, 0, 0, 0, 0};
        assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 0, resp));
        for (size_t k = 0; k < lens[row]; k++) {
            uint8_t req[8] = {seqs[row][k], 0, 0, 0, 0, 0, 0, 0};
            assert_true(emu_sdo_server_request(&f.s, &f.ops, req, 10, resp));
        }
        static const uint8_t want[8] = {0x80, 0x03, 0x20, 0x00, 0x00, 0x00, 0x03, 0x05};
        assert_bytes(resp, want, row);
        assert_int_equal(f.s.xfer, EMU_SDO_IDLE);
    }
}

static void test_emu_superb_sdo_wrong_toggle_fault(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f);
    f.s.wrong_toggle = true;
    uint8_t resp[8];
    static const uint8_t init[8] = {0x40, 0x03, 0x20, 0, 0, 0, 0, 0};
    static const uint8_t seg0[8] = {0x60, 0, 0, 0, 0, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 0, resp));
    assert_true(emu_sdo_server_request(&f.s, &f.ops, seg0, 1, resp));
    assert_int_equal(resp[0], 0x10); /* t = 1 where 0 belongs */
}

static void test_emu_superb_sdo_timeout(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f);
    uint8_t resp[8];
    static const uint8_t init[8] = {0x40, 0x03, 0x20, 0, 0, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 5000, resp));
    assert_int_equal(f.s.deadline_us, 5000 + EMU_SDO_TIMEOUT_MS * 1000u);
    assert_false(emu_sdo_server_poll(&f.s, 5000 + EMU_SDO_TIMEOUT_MS * 1000u - 1, resp));
    assert_true(emu_sdo_server_poll(&f.s, 5000 + EMU_SDO_TIMEOUT_MS * 1000u, resp));
    static const uint8_t want[8] = {0x80, 0x03, 0x20, 0x00, 0x00, 0x00, 0x04, 0x05};
    assert_bytes(resp, want, 0);
    assert_false(emu_sdo_server_poll(&f.s, UINT64_MAX, resp));
    /* idle servers never time out */
    fixture_init(&f);
    assert_false(emu_sdo_server_poll(&f.s, UINT64_MAX, resp));
}

/* Segmented download of 2 bytes into the U16: 0x21 size 2, one last segment (n = 5, c = 1). */
static void test_emu_superb_sdo_segmented_download(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f);
    uint8_t resp[8];
    static const uint8_t init[8] = {0x21, 0x01, 0x20, 0x00, 2, 0, 0, 0};
    static const uint8_t want_init[8] = {0x60, 0x01, 0x20, 0x00, 0, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 0, resp));
    assert_bytes(resp, want_init, 0);
    static const uint8_t seg[8] = {0x0B, 0xEF, 0xBE, 0, 0, 0, 0, 0};
    static const uint8_t want_seg[8] = {0x20, 0, 0, 0, 0, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, seg, 10, resp));
    assert_bytes(resp, want_seg, 1);
    assert_int_equal(f.od.u16, 0xBEEF);
    /* announced size wrong for the object: aborted before any data */
    static const uint8_t init4[8] = {0x21, 0x01, 0x20, 0x00, 4, 0, 0, 0};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init4, 20, resp));
    assert_int_equal(resp[0], 0x80);
    assert_int_equal(resp[6], 0x07);
    /* more data than announced */
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 30, resp));
    static const uint8_t seg7[8] = {0x00, 1, 2, 3, 4, 5, 6, 7};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, seg7, 40, resp));
    static const uint8_t want_high[8] = {0x80, 0x01, 0x20, 0x00, 0x12, 0x00, 0x07, 0x06};
    assert_bytes(resp, want_high, 2);
}

static void test_emu_superb_sdo_client_abort_ends_transfer(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f);
    uint8_t resp[8];
    static const uint8_t init[8] = {0x40, 0x03, 0x20, 0, 0, 0, 0, 0};
    static const uint8_t abort_req[8] = {0x80, 0x03, 0x20, 0, 0, 0, 0x04, 0x05};
    assert_true(emu_sdo_server_request(&f.s, &f.ops, init, 0, resp));
    assert_false(emu_sdo_server_request(&f.s, &f.ops, abort_req, 1, resp));
    assert_int_equal(f.s.xfer, EMU_SDO_IDLE);
    assert_int_equal(f.s.client_aborts, 1);
}

static void test_emu_superb_sdo_encoders(void **state)
{
    (void)state;
    uint8_t out[8];
    static const uint8_t data[5] = {1, 2, 3, 4, 5};
    assert_false(emu_sdo_encode_upload_expedited(out, 0x1000, 0, data, 0));
    assert_false(emu_sdo_encode_upload_expedited(out, 0x1000, 0, data, 5));
    emu_sdo_encode_upload_segment(out, 1, data, 0, true);
    assert_int_equal(out[0], 0x1F);                         /* t = 1, n = 7, c = 1 */
    emu_sdo_encode_upload_segment(out, 0, data, 99, false); /* clamped to 7 */
    assert_int_equal(out[0], 0x00);
    emu_sdo_encode_abort(out, 0x6051, 0, 0x06020000u);
    static const uint8_t want[8] = {0x80, 0x51, 0x60, 0x00, 0x00, 0x00, 0x02, 0x06};
    assert_bytes(out, want, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_superb_sdo_single_exchanges),
        cmocka_unit_test(test_emu_superb_sdo_download_stores),
        cmocka_unit_test(test_emu_superb_sdo_segmented_upload),
        cmocka_unit_test(test_emu_superb_sdo_toggle_error),
        cmocka_unit_test(test_emu_superb_sdo_wrong_toggle_fault),
        cmocka_unit_test(test_emu_superb_sdo_timeout),
        cmocka_unit_test(test_emu_superb_sdo_segmented_download),
        cmocka_unit_test(test_emu_superb_sdo_client_abort_ends_transfer),
        cmocka_unit_test(test_emu_superb_sdo_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
