/* SPDX-License-Identifier: MIT */
/* Unit tests of the gateway's balancer-bus codec against superb_balancer.md B.11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "balancer/balancer_bus.h"

#define CHECK_EQ(row, actual, expected)                                               \
    do {                                                                              \
        long long a_ = (long long)(actual), e_ = (long long)(expected);               \
        if (a_ != e_) {                                                               \
            print_error("row %d: %s = %lld, expected %lld\n", (int)(row), #actual, a_, \
                        e_);                                                          \
            fail();                                                                   \
        }                                                                             \
    } while (0)

/* B.11: request bytes on TX for each vector. */
static const struct {
    uint8_t address;
    gw_bal_cmd_t cmd;
    uint8_t hex[4];
} req_rows[] = {
    { 1, GW_BAL_CMD_VOLTAGE, { 0x30, 0x31, 0x30, 0x35 } },
    { 1, GW_BAL_CMD_CELL_TEMP, { 0x30, 0x31, 0x30, 0x32 } },
    { 1, GW_BAL_CMD_RES_TEMP, { 0x30, 0x31, 0x30, 0x33 } },
    { 1, GW_BAL_CMD_UPTIME, { 0x30, 0x31, 0x30, 0x34 } },
    { 1, GW_BAL_CMD_VERSION, { 0x30, 0x31, 0x30, 0x36 } },
    { 8, GW_BAL_CMD_CELL_TEMP, { 0x30, 0x38, 0x30, 0x32 } },
    { 50, GW_BAL_CMD_VOLTAGE, { 0x35, 0x30, 0x30, 0x35 } },
    { 10, GW_BAL_CMD_VOLTAGE, { 0x31, 0x30, 0x30, 0x35 } },
};

static void test_balancer_bus_request_vectors(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof req_rows / sizeof req_rows[0]; r++) {
        uint8_t out[8];
        memset(out, 0xEE, sizeof out);
        size_t n = gw_bal_build_request(req_rows[r].address, req_rows[r].cmd, out, sizeof out);
        CHECK_EQ(r, n, 4);
        for (int i = 0; i < 4; i++) {
            CHECK_EQ(r, out[i], req_rows[r].hex[i]);
        }
        CHECK_EQ(r, out[4], 0xEE); /* no terminator */
        uint8_t adr = 0;
        gw_bal_cmd_t cmd = 0;
        CHECK_EQ(r, gw_bal_parse_request(req_rows[r].hex, 4, &adr, &cmd), GW_BAL_OK);
        CHECK_EQ(r, adr, req_rows[r].address);
        CHECK_EQ(r, cmd, req_rows[r].cmd);
    }
}

static void test_balancer_bus_request_rejects(void **state)
{
    (void)state;
    uint8_t out[4];
    CHECK_EQ(0, gw_bal_build_request(0, GW_BAL_CMD_VOLTAGE, out, 4), 0);
    CHECK_EQ(1, gw_bal_build_request(51, GW_BAL_CMD_VOLTAGE, out, 4), 0);
    CHECK_EQ(2, gw_bal_build_request(1, (gw_bal_cmd_t)1, out, 4), 0);
    CHECK_EQ(3, gw_bal_build_request(1, (gw_bal_cmd_t)7, out, 4), 0);
    CHECK_EQ(4, gw_bal_build_request(1, GW_BAL_CMD_VOLTAGE, out, 3), 0);
    static const struct {
        const char *text;
        gw_bal_err_t err;
    } rows[] = {
        { "0005", GW_BAL_E_ADDRESS }, { "5105", GW_BAL_E_ADDRESS }, { "0101", GW_BAL_E_COMMAND },
        { "0107", GW_BAL_E_COMMAND }, { "0100", GW_BAL_E_COMMAND }, { "010", GW_BAL_E_LENGTH },
        { "01050", GW_BAL_E_LENGTH }, { "01 5", GW_BAL_E_NOT_NUMBER }, { "0a05", GW_BAL_E_NOT_NUMBER },
        { "3291", GW_BAL_E_COMMAND },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        CHECK_EQ(r, gw_bal_parse_request((const uint8_t *)rows[r].text, strlen(rows[r].text), NULL, NULL),
                 rows[r].err);
    }
}

/* B.11 replies as bytes on RX, plus whitespace and garbage. */
static const struct {
    const char *line;
    gw_bal_err_t err;
    int32_t value;
} reply_rows[] = {
    { "3291\r\n", GW_BAL_OK, 3291 },
    { "24\r\n", GW_BAL_OK, 24 },
    { "23\r\n", GW_BAL_OK, 23 },
    { "3780267\r\n", GW_BAL_OK, 3780267 },
    { "148\r\n", GW_BAL_OK, 148 },
    { "-5\r\n", GW_BAL_OK, -5 },
    { "3291", GW_BAL_OK, 3291 },
    { "3291\n", GW_BAL_OK, 3291 },
    { "  3291 \t\r\n", GW_BAL_OK, 3291 },
    { "+12", GW_BAL_OK, 12 },
    { "0", GW_BAL_OK, 0 },
    { "-0", GW_BAL_OK, 0 },
    { "007", GW_BAL_OK, 7 },
    { "2147483647", GW_BAL_OK, 2147483647 },
    { "-2147483648", GW_BAL_OK, INT32_MIN },
    { "2147483648", GW_BAL_E_RANGE, 0 },
    { "99999999999", GW_BAL_E_RANGE, 0 },
    { "", GW_BAL_E_EMPTY, 0 },
    { " \r\n", GW_BAL_E_EMPTY, 0 },
    { "-", GW_BAL_E_NOT_NUMBER, 0 },
    { "+-3", GW_BAL_E_NOT_NUMBER, 0 },
    { "32 91", GW_BAL_E_NOT_NUMBER, 0 },
    { "3.291", GW_BAL_E_NOT_NUMBER, 0 },
    { "1_000", GW_BAL_E_NOT_NUMBER, 0 },
    { "0x10", GW_BAL_E_NOT_NUMBER, 0 },
    { "ERR", GW_BAL_E_NOT_NUMBER, 0 },
    { "32\x01" "91", GW_BAL_E_NOT_NUMBER, 0 },
    { "\xff\xfe", GW_BAL_E_NOT_NUMBER, 0 },
    { "3291                     \r\n", GW_BAL_E_LENGTH, 0 },
};

static void test_balancer_bus_reply_vectors(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof reply_rows / sizeof reply_rows[0]; r++) {
        int32_t v = 12345;
        gw_bal_err_t e =
            gw_bal_parse_reply((const uint8_t *)reply_rows[r].line, strlen(reply_rows[r].line), &v);
        CHECK_EQ(r, e, reply_rows[r].err);
        CHECK_EQ(r, v, reply_rows[r].err == GW_BAL_OK ? reply_rows[r].value : 12345);
    }
    /* An embedded NUL is garbage, not the end of the number. */
    const uint8_t nul[] = { '3', '2', 0, '1' };
    CHECK_EQ(100, gw_bal_parse_reply(nul, sizeof nul, NULL), GW_BAL_E_NOT_NUMBER);
}

static void test_balancer_bus_plausibility(void **state)
{
    (void)state;
    static const struct {
        gw_bal_cmd_t cmd;
        int32_t v;
        bool ok;
    } rows[] = {
        { GW_BAL_CMD_VOLTAGE, 3291, true },    { GW_BAL_CMD_VOLTAGE, 0, true },
        { GW_BAL_CMD_VOLTAGE, 6000, true },    { GW_BAL_CMD_VOLTAGE, 6001, false },
        { GW_BAL_CMD_VOLTAGE, -1, false },     { GW_BAL_CMD_CELL_TEMP, -5, true },
        { GW_BAL_CMD_CELL_TEMP, -55, true },   { GW_BAL_CMD_CELL_TEMP, -56, false },
        { GW_BAL_CMD_RES_TEMP, 150, true },    { GW_BAL_CMD_RES_TEMP, 151, false },
        { GW_BAL_CMD_UPTIME, 3780267, true },  { GW_BAL_CMD_UPTIME, -1, false },
        { GW_BAL_CMD_VERSION, 148, true },     { (gw_bal_cmd_t)9, 1, false },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        CHECK_EQ(r, gw_bal_value_plausible(rows[r].cmd, rows[r].v), rows[r].ok);
    }
}

/* Every byte string up to 3 long from a small alphabet: no crash, and OK only
 * for well-formed numbers. */
static void test_balancer_bus_reply_exhaustive_short(void **state)
{
    (void)state;
    static const uint8_t alpha[] = { '0', '7', '-', '+', ' ', '\r', '\n', 'x', 0, 0xFF };
    const size_t k = sizeof alpha;
    for (size_t len = 0; len <= 3; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++) {
            total *= k;
        }
        for (size_t code = 0; code < total; code++) {
            uint8_t buf[3];
            size_t c = code;
            int digits = 0, signs = 0, junk = 0;
            for (size_t i = 0; i < len; i++) {
                buf[i] = alpha[c % k];
                c /= k;
                digits += buf[i] == '0' || buf[i] == '7';
                signs += buf[i] == '-' || buf[i] == '+';
                junk += buf[i] == 'x' || buf[i] == 0 || buf[i] == 0xFF;
            }
            int32_t v;
            gw_bal_err_t e = gw_bal_parse_reply(buf, len, &v);
            if (e == GW_BAL_OK) {
                if (digits == 0 || junk != 0 || signs > 1) {
                    print_error("len %zu code %zu accepted\n", len, code);
                    fail();
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balancer_bus_request_vectors),
        cmocka_unit_test(test_balancer_bus_request_rejects),
        cmocka_unit_test(test_balancer_bus_reply_vectors),
        cmocka_unit_test(test_balancer_bus_plausibility),
        cmocka_unit_test(test_balancer_bus_reply_exhaustive_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
