/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's CANopen codec against the golden vectors of superb_balancer.md A.11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "superb/canopen_sdo.h"

#define CHECK_EQ(row, actual, expected)                                                     \
    do {                                                                                    \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                     \
        if (a_ != e_) {                                                                     \
            print_error("row %d: %s = %lld (0x%llX), expected %lld (0x%llX)\n", (int)(row), \
                        #actual, a_, (unsigned long long)a_, e_, (unsigned long long)e_);   \
            fail();                                                                         \
        }                                                                                   \
    } while (0)

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

/* "602#4060600000000000" -> frame. The vectors are well-formed; a bad one fails the test. */
static gw_can_frame_t cf(const char *s)
{
    gw_can_frame_t f;
    unsigned id = 0;
    int used = 0;
    memset(&f, 0, sizeof(f));
    assert_int_equal(sscanf(s, "%3x#%n", &id, &used), 1);
    f.id = id;
    const char *p = s + used;
    while (p[0] != '\0' && p[1] != '\0') {
        unsigned b = 0;
        assert_int_equal(sscanf(p, "%2x", &b), 1);
        assert_true(f.dlc < 8);
        f.data[f.dlc++] = (uint8_t)b;
        p += 2;
    }
    return f;
}

/* ------------------------------------------------------------ requests built */

typedef struct req_row {
    uint8_t node;
    uint16_t index;
    uint8_t sub;
    const char *frame;
} req_row_t;

static const req_row_t upload_requests[] = {
    {2, 0x6060, 0, "602#4060600000000000"}, /* A.11 #1 */
    {1, 0x6060, 0, "601#4060600000000000"}, /* #2 */
    {2, 0x6081, 0, "602#4081600000000000"}, /* #3 */
    {2, 0x6010, 0, "602#4010600000000000"}, /* #4 */
    {2, 0x6050, 0, "602#4050600000000000"}, /* #7 */
    {2, 0x6053, 0, "602#4053600000000000"}, /* #8 */
    {2, 0x6052, 0, "602#4052600000000000"}, /* #9 */
    {2, 0x6051, 0, "602#4051600000000000"}, /* #10 */
    {2, 0x1018, 1, "602#4018100100000000"}, /* #11 */
    {2, 0x1018, 3, "602#4018100300000000"}, /* #12 */
    {2, 0x1000, 0, "602#4000100000000000"}, /* #14 */
    {127, 0x1008, 0, "67F#4008100000000000"}, /* boundary: highest node id */
};

static void test_canopen_sdo_upload_request_bytes(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(upload_requests); r++) {
        const req_row_t *row = &upload_requests[r];
        gw_can_frame_t want = cf(row->frame);
        gw_can_frame_t got;
        memset(&got, 0xEE, sizeof(got));
        gw_sdo_build_upload_request(row->node, row->index, row->sub, &got);
        CHECK_EQ(r, got.id, want.id);
        CHECK_EQ(r, got.dlc, 8);
        for (int k = 0; k < 8; k++) {
            CHECK_EQ(r * 10 + k, got.data[k], want.data[k]);
        }
    }
}

static void test_canopen_sdo_segment_and_abort_request_bytes(void **state)
{
    (void)state;
    gw_can_frame_t got;
    gw_can_frame_t want = cf("602#6000000000000000");
    gw_sdo_build_upload_segment_request(2, 0, &got);
    assert_memory_equal(got.data, want.data, 8);
    assert_int_equal(got.id, 0x602);
    want = cf("602#7000000000000000");
    gw_sdo_build_upload_segment_request(2, 1, &got);
    assert_memory_equal(got.data, want.data, 8);
    /* Client abort of a toggle error on 0x1008:00. */
    want = cf("602#8008100000000305");
    gw_sdo_build_abort(2, 0x1008, 0, GW_SDO_ABORT_TOGGLE, &got);
    assert_int_equal(got.id, 0x602);
    assert_int_equal(got.dlc, 8);
    assert_memory_equal(got.data, want.data, 8);
}

/* ------------------------------------------------------------ responses parsed */

typedef struct resp_row {
    const char *frame;
    bool from_server;
    gw_sdo_cmd_t cmd;
    const char *name;
    uint16_t index;
    uint8_t sub;
    bool has_value;
    uint32_t size;
    uint32_t value; /* or abort code */
} resp_row_t;

static const resp_row_t responses[] = {
    /* A.11 #1: 13562 / 1024 V */
    {"582#43606000FA340000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6060, 0, true, 4, 13562},
    {"581#4360600000D80000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6060, 0, true, 4, 55296},
    {"582#4F81600057000000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6081, 0, true, 1, 87},
    {"582#4B106000C8000000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6010, 0, true, 2, 200},
    {"582#4B5060007B000000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6050, 0, true, 2, 123},
    {"582#4353600090010000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6053, 0, true, 4, 400},
    {"582#4B52600090010000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6052, 0, true, 2, 400},
    {"582#8051600000000206", true, GW_SDO_CMD_ABORT, "abort_transfer", 0x6051, 0, false, 0,
     0x06020000},
    {"582#431810017C030000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x1018, 1, true, 4, 0x37C},
    {"582#4318100300060100", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x1018, 3, true, 4, 0x00010600},
    {"582#4300100091010F00", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x1000, 0, true, 4, 0x000F0191},
    /* #15 write 0x1017 = 1000 ms, and its confirmation */
    {"602#2B171000E8030000", false, GW_SDO_CMD_INITIATE_DOWNLOAD_REQUEST,
     "initiate_download_request_expedited", 0x1017, 0, true, 2, 1000},
    {"582#6017100000000000", true, GW_SDO_CMD_INITIATE_DOWNLOAD_RESPONSE,
     "initiate_download_response", 0x1017, 0, false, 0, 0},
    {"582#8060600002000106", true, GW_SDO_CMD_ABORT, "abort_transfer", 0x6060, 0, false, 0,
     0x06010002},
    {"582#8060600001000405", true, GW_SDO_CMD_ABORT, "abort_transfer", 0x6060, 0, false, 0,
     0x05040001},
    /* platform-facts.md tshark row: 0x1018 sub 5 abort 0x06090011 */
    {"582#8018100511000906", true, GW_SDO_CMD_ABORT, "abort_transfer", 0x1018, 5, false, 0,
     0x06090011},
    {"602#4060600000000000", false, GW_SDO_CMD_INITIATE_UPLOAD_REQUEST, "initiate_upload_request",
     0x6060, 0, false, 0, 0},
    /* 0x42: expedited, size not indicated: 4 data bytes by definition */
    {"582#4281600057000000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_expedited", 0x6081, 0, true, 4, 87},
    /* 0x41: segmented, 10 bytes ("Epsilon V2") */
    {"582#410810000A000000", true, GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE,
     "initiate_upload_response_segmented", 0x1008, 0, false, 10, 0},
};

static void test_canopen_sdo_golden_responses(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(responses); r++) {
        const resp_row_t *row = &responses[r];
        gw_can_frame_t f = cf(row->frame);
        gw_sdo_msg_t m;
        CHECK_EQ(r, gw_sdo_parse(f.data, f.dlc, row->from_server, &m), GW_SDO_OK);
        CHECK_EQ(r, m.cmd, row->cmd);
        if (strcmp(gw_sdo_command_name(&m), row->name) != 0) {
            print_error("row %zu: command %s, expected %s\n", r, gw_sdo_command_name(&m),
                        row->name);
            fail();
        }
        CHECK_EQ(r, m.has_mux, true);
        CHECK_EQ(r, m.index, row->index);
        CHECK_EQ(r, m.subindex, row->sub);
        CHECK_EQ(r, m.has_value, row->has_value);
        if (row->cmd == GW_SDO_CMD_ABORT) {
            CHECK_EQ(r, m.abort_code, row->value);
        } else if (row->has_value) {
            CHECK_EQ(r, m.size, row->size);
            CHECK_EQ(r, m.value, row->value);
        } else if (row->size != 0) {
            CHECK_EQ(r, m.has_size, true);
            CHECK_EQ(r, m.size, row->size);
        }
    }
}

typedef struct seg_row {
    const char *frame;
    uint8_t toggle;
    bool last;
    uint8_t len;
    const char *data;
} seg_row_t;

static const seg_row_t segments[] = {
    {"582#00457073696C6F6E", 0, false, 7, "Epsilon"}, /* t=0, 7 bytes */
    {"582#19205632000000", 1, true, 3, " V2"},         /* dlc 7: refused (E_DLC) */
    {"582#1920563200000000", 1, true, 3, " V2"},       /* t=1, n=4 -> 3 bytes, last */
    {"582#0D41000000000000", 0, true, 1, "A"},         /* n=6 -> 1 byte, last */
    {"582#0F00000000000000", 0, true, 0, ""},          /* n=7 -> 0 bytes (legal, last) */
};

static void test_canopen_sdo_segment_response_fields(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(segments); r++) {
        const seg_row_t *row = &segments[r];
        gw_can_frame_t f = cf(row->frame);
        gw_sdo_msg_t m;
        gw_sdo_err_t e = gw_sdo_parse(f.data, f.dlc, true, &m);
        if (f.dlc != 8) {
            CHECK_EQ(r, e, GW_SDO_E_DLC);
            continue;
        }
        CHECK_EQ(r, e, GW_SDO_OK);
        CHECK_EQ(r, m.cmd, GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE);
        CHECK_EQ(r, m.toggle, row->toggle);
        CHECK_EQ(r, m.last, row->last);
        CHECK_EQ(r, m.data_len, row->len);
        CHECK_EQ(r, memcmp(m.data, row->data, m.data_len), 0);
    }
}

static void test_canopen_sdo_invalid_frames(void **state)
{
    (void)state;
    gw_sdo_msg_t m;
    /* A.11 #17: ccs = 7 from the client is invalid, and scs = 7 from a server too. */
    gw_can_frame_t f = cf("602#E060600000000000");
    assert_int_equal(gw_sdo_parse(f.data, f.dlc, false, &m), GW_SDO_E_CS);
    assert_int_equal(m.cmd, GW_SDO_CMD_INVALID);
    assert_string_equal(gw_sdo_command_name(&m), "invalid");
    assert_int_equal(m.index, 0x6060);
    f = cf("582#E060600000000000");
    assert_int_equal(gw_sdo_parse(f.data, f.dlc, true, &m), GW_SDO_E_CS);
    /* Every DLC but 8 is refused, 0 and 9..15 included. */
    uint8_t data[8] = {0x43, 0x60, 0x60, 0, 1, 2, 3, 4};
    for (uint8_t dlc = 0; dlc <= 15; dlc++) {
        CHECK_EQ(dlc, gw_sdo_parse(data, dlc, true, &m), dlc == 8 ? GW_SDO_OK : GW_SDO_E_DLC);
    }
    assert_int_equal(gw_sdo_parse(NULL, 8, true, &m), GW_SDO_E_NULL);
    assert_int_equal(gw_sdo_parse(data, 8, true, NULL), GW_SDO_E_NULL);
}

/* Exhaustive: no command byte makes the parser misbehave, and the data length of a segment never exceeds 7. */
static void test_canopen_sdo_every_command_byte(void **state)
{
    (void)state;
    uint8_t data[8] = {0, 0x34, 0x12, 0x56, 0xFF, 0xFF, 0xFF, 0xFF};
    for (unsigned b = 0; b < 256; b++) {
        data[0] = (uint8_t)b;
        for (int dir = 0; dir < 2; dir++) {
            gw_sdo_msg_t m;
            gw_sdo_err_t e = gw_sdo_parse(data, 8, dir != 0, &m);
            CHECK_EQ(b, e == GW_SDO_OK, (b >> 5) != 7);
            CHECK_EQ(b, m.data_len <= 7, 1);
            if (m.has_value) {
                CHECK_EQ(b, m.size >= 1 && m.size <= 4, 1);
            }
        }
    }
}

typedef struct cob_row {
    uint32_t id;
    gw_co_service_t svc;
    const char *name;
    uint8_t node;
    uint8_t pdo;
} cob_row_t;

static const cob_row_t cobs[] = {
    {0x000, GW_CO_SVC_NMT, "nmt", 0, 0},
    {0x080, GW_CO_SVC_SYNC, "sync", 0, 0},
    {0x082, GW_CO_SVC_EMCY, "emcy", 2, 0},
    {0x100, GW_CO_SVC_TIME, "time", 0, 0},
    {0x184, GW_CO_SVC_TPDO, "tpdo", 4, 1},
    {0x4FF, GW_CO_SVC_TPDO, "tpdo", 127, 4},
    {0x202, GW_CO_SVC_RPDO, "rpdo", 2, 1},
    {0x57F, GW_CO_SVC_RPDO, "rpdo", 127, 4},
    {0x582, GW_CO_SVC_SDO_RESPONSE, "sdo_response", 2, 0},
    {0x602, GW_CO_SVC_SDO_REQUEST, "sdo_request", 2, 0},
    {0x67F, GW_CO_SVC_SDO_REQUEST, "sdo_request", 127, 0},
    {0x701, GW_CO_SVC_HEARTBEAT, "heartbeat", 1, 0},
    {0x77F, GW_CO_SVC_HEARTBEAT, "heartbeat", 127, 0},
    {0x7E4, GW_CO_SVC_LSS, "lss", 0, 0},
    {0x580, GW_CO_SVC_UNKNOWN, "unknown", 0, 0}, /* node 0 is no node */
    {0x700, GW_CO_SVC_UNKNOWN, "unknown", 0, 0},
    {0x680, GW_CO_SVC_UNKNOWN, "unknown", 0, 0},
    {0x064, GW_CO_SVC_UNKNOWN, "unknown", 0, 0}, /* SuperB S11 broadcast */
    {0x800, GW_CO_SVC_UNKNOWN, "unknown", 0, 0},
    {0x1CEFFFE1u | GW_CAN_EFF_FLAG, GW_CO_SVC_UNKNOWN, "unknown", 0, 0},
    {0x582u | GW_CAN_EFF_FLAG, GW_CO_SVC_UNKNOWN, "unknown", 0, 0},
};

static void test_canopen_sdo_classify_cob_ids(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(cobs); r++) {
        uint8_t node = 0xEE, pdo = 0xEE;
        gw_co_service_t s = gw_co_classify(cobs[r].id, &node, &pdo);
        CHECK_EQ(r, s, cobs[r].svc);
        CHECK_EQ(r, node, cobs[r].node);
        CHECK_EQ(r, pdo, cobs[r].pdo);
        if (strcmp(gw_co_service_name(s), cobs[r].name) != 0) {
            print_error("row %zu: name %s, expected %s\n", r, gw_co_service_name(s), cobs[r].name);
            fail();
        }
    }
}

typedef struct abort_row {
    uint32_t code;
    const char *meaning;
} abort_row_t;

/* A.10.4, every standard code, with the words a reader would search for. */
static const abort_row_t aborts[] = {
    {0x05030000, "Toggle bit not alternated"},
    {0x05040000, "SDO protocol timed out"},
    {0x05040001, "command specifier not valid or unknown"},
    {0x05040002, "Invalid block size"},
    {0x05040003, "Invalid sequence number"},
    {0x05040004, "CRC error"},
    {0x05040005, "Out of memory"},
    {0x06010000, "Unsupported access to an object"},
    {0x06010001, "read a write only object"},
    {0x06010002, "write a read only object"},
    {0x06020000, "Object does not exist in the object dictionary"},
    {0x06040041, "cannot be mapped to the PDO"},
    {0x06040042, "would exceed PDO length"},
    {0x06040043, "General parameter incompatibility"},
    {0x06040047, "General internal incompatibility in the device"},
    {0x06060000, "hardware error"},
    {0x06070010, "length of service parameter does not match"},
    {0x06070012, "length of service parameter too high"},
    {0x06070013, "length of service parameter too low"},
    {0x06090011, "Sub-index does not exist"},
    {0x06090030, "Invalid value"},
    {0x06090031, "written too high"},
    {0x06090032, "written too low"},
    {0x06090036, "Maximum value is less than minimum value"},
    {0x060A0023, "Resource not available: SDO connection"},
    {0x08000000, "General error"},
    {0x08000020, "Data cannot be transferred or stored to the application"},
    {0x08000021, "because of local control"},
    {0x08000022, "because of the present device state"},
    {0x08000023, "no object dictionary is present"},
    {0x08000024, "No data available"},
};

static void test_canopen_sdo_abort_meanings(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(aborts); r++) {
        const char *m = gw_sdo_abort_meaning(aborts[r].code);
        if (m == NULL || strstr(m, aborts[r].meaning) == NULL) {
            print_error("row %zu: 0x%08X means '%s', expected to contain '%s'\n", r,
                        (unsigned)aborts[r].code, m != NULL ? m : "(null)", aborts[r].meaning);
            fail();
        }
    }
    assert_null(gw_sdo_abort_meaning(0));
    assert_null(gw_sdo_abort_meaning(0x12345678));
    assert_null(gw_sdo_abort_meaning(0xFFFFFFFF));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canopen_sdo_upload_request_bytes),
        cmocka_unit_test(test_canopen_sdo_segment_and_abort_request_bytes),
        cmocka_unit_test(test_canopen_sdo_golden_responses),
        cmocka_unit_test(test_canopen_sdo_segment_response_fields),
        cmocka_unit_test(test_canopen_sdo_invalid_frames),
        cmocka_unit_test(test_canopen_sdo_every_command_byte),
        cmocka_unit_test(test_canopen_sdo_classify_cob_ids),
        cmocka_unit_test(test_canopen_sdo_abort_meanings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
