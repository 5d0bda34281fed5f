/* SPDX-License-Identifier: MIT */
/* Balancer bus codec; see balancer_bus.h for the grammar. */
#include "balancer/balancer_bus.h"

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Python's str.strip() whitespace, restricted to ASCII. */
static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool cmd_valid(int cmd)
{
    return cmd >= GW_BAL_CMD_CELL_TEMP && cmd <= GW_BAL_CMD_VERSION;
}

size_t gw_bal_build_request(uint8_t address, gw_bal_cmd_t cmd, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < GW_BAL_REQ_LEN || address < 1 || address > GW_BAL_MAX_MODULES ||
        !cmd_valid((int)cmd)) {
        return 0;
    }
    out[0] = (uint8_t)('0' + address / 10u);
    out[1] = (uint8_t)('0' + address % 10u);
    out[2] = (uint8_t)('0' + (unsigned)cmd / 10u);
    out[3] = (uint8_t)('0' + (unsigned)cmd % 10u);
    return GW_BAL_REQ_LEN;
}

gw_bal_err_t gw_bal_parse_request(const uint8_t *buf, size_t len, uint8_t *address,
                                  gw_bal_cmd_t *cmd)
{
    if (buf == NULL || len != GW_BAL_REQ_LEN) {
        return GW_BAL_E_LENGTH;
    }
    for (size_t i = 0; i < GW_BAL_REQ_LEN; i++) {
        if (!is_digit(buf[i])) {
            return GW_BAL_E_NOT_NUMBER;
        }
    }
    unsigned adr = (unsigned)(buf[0] - '0') * 10u + (unsigned)(buf[1] - '0');
    unsigned c = (unsigned)(buf[2] - '0') * 10u + (unsigned)(buf[3] - '0');
    if (adr < 1 || adr > GW_BAL_MAX_MODULES) {
        return GW_BAL_E_ADDRESS;
    }
    if (!cmd_valid((int)c)) {
        return GW_BAL_E_COMMAND;
    }
    if (address != NULL) {
        *address = (uint8_t)adr;
    }
    if (cmd != NULL) {
        *cmd = (gw_bal_cmd_t)c;
    }
    return GW_BAL_OK;
}

gw_bal_err_t gw_bal_parse_reply(const uint8_t *line, size_t len, int32_t *value)
{
    if (line == NULL && len > 0) {
        return GW_BAL_E_EMPTY;
    }
    if (len > GW_BAL_LINE_MAX) {
        return GW_BAL_E_LENGTH;
    }
    size_t b = 0;
    size_t e = len;
    while (b < e && is_space(line[b])) {
        b++;
    }
    while (e > b && is_space(line[e - 1])) {
        e--;
    }
    if (b == e) {
        return GW_BAL_E_EMPTY;
    }
    bool negative = false;
    if (line[b] == '+' || line[b] == '-') {
        negative = line[b] == '-';
        b++;
    }
    size_t digits = e - b;
    if (digits == 0) {
        return GW_BAL_E_NOT_NUMBER;
    }
    /* Accumulate in 64 bits: ten digits cannot overflow it, and the int32
     * check below then sees the true magnitude. */
    int64_t mag = 0;
    for (size_t i = b; i < e; i++) {
        if (!is_digit(line[i])) {
            return GW_BAL_E_NOT_NUMBER;
        }
        if (i - b >= 10) {
            return GW_BAL_E_RANGE;
        }
        mag = mag * 10 + (int64_t)(line[i] - '0');
    }
    int64_t v = negative ? -mag : mag;
    if (v > INT32_MAX || v < INT32_MIN) {
        return GW_BAL_E_RANGE;
    }
    if (value != NULL) {
        *value = (int32_t)v;
    }
    return GW_BAL_OK;
}

bool gw_bal_value_plausible(gw_bal_cmd_t cmd, int32_t value)
{
    switch (cmd) {
    case GW_BAL_CMD_VOLTAGE:
        return value >= GW_BAL_MV_MIN && value <= GW_BAL_MV_MAX;
    case GW_BAL_CMD_CELL_TEMP:
    case GW_BAL_CMD_RES_TEMP:
        return value >= GW_BAL_TEMP_C_MIN && value <= GW_BAL_TEMP_C_MAX;
    case GW_BAL_CMD_UPTIME:
    case GW_BAL_CMD_VERSION:
        return value >= 0;
    }
    return false;
}

const char *gw_bal_cmd_name(int cmd)
{
    switch (cmd) {
    case GW_BAL_CMD_CELL_TEMP:
        return "cell temperature";
    case GW_BAL_CMD_RES_TEMP:
        return "resistor temperature";
    case GW_BAL_CMD_UPTIME:
        return "uptime";
    case GW_BAL_CMD_VOLTAGE:
        return "cell voltage";
    case GW_BAL_CMD_VERSION:
        return "software version";
    default:
        return "unknown";
    }
}

const char *gw_bal_strerror(gw_bal_err_t err)
{
    switch (err) {
    case GW_BAL_OK:
        return "ok";
    case GW_BAL_E_EMPTY:
        return "empty line";
    case GW_BAL_E_NOT_NUMBER:
        return "not a decimal number";
    case GW_BAL_E_RANGE:
        return "number out of range";
    case GW_BAL_E_LENGTH:
        return "wrong length";
    case GW_BAL_E_ADDRESS:
        return "address not 01..50";
    case GW_BAL_E_COMMAND:
        return "command not 02..06";
    case GW_BAL_E_IMPLAUSIBLE:
        return "implausible value";
    }
    return "unknown error";
}
