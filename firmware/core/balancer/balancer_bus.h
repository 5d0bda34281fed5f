/* SPDX-License-Identifier: MIT */
/* Balancer bus codec (superb_balancer.md B.4/B.5): 4-digit ASCII requests and
 * one-line decimal replies. Pure functions, no state, no I/O. */
#ifndef GW_BALANCER_BUS_H
#define GW_BALANCER_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_BAL_MAX_MODULES 50 /* addresses 01..50 (B.6) */
#define GW_BAL_REQ_LEN 4      /* "AACC": address then command, no terminator */
#define GW_BAL_LINE_MAX 24    /* longest reply line kept; longer is an error */

/* Commands (B.5). Values are the two digits sent. */
typedef enum gw_bal_cmd {
    GW_BAL_CMD_CELL_TEMP = 2, /* cell temperature, integer degC (signed) */
    GW_BAL_CMD_RES_TEMP = 3,  /* load-resistor temperature, integer degC */
    GW_BAL_CMD_UPTIME = 4,    /* seconds */
    GW_BAL_CMD_VOLTAGE = 5,   /* cell voltage, integer mV */
    GW_BAL_CMD_VERSION = 6,   /* balancer software version */
} gw_bal_cmd_t;

/* Codec results: 0 OK, negative = why the input was rejected. */
typedef enum gw_bal_err {
    GW_BAL_OK = 0,
    GW_BAL_E_EMPTY = -1,      /* nothing but whitespace */
    GW_BAL_E_NOT_NUMBER = -2, /* not [sign]digits with optional surrounding whitespace */
    GW_BAL_E_RANGE = -3,      /* number does not fit int32 */
    GW_BAL_E_LENGTH = -4,     /* request not exactly 4 characters, or line too long */
    GW_BAL_E_ADDRESS = -5,    /* address not 01..50 */
    GW_BAL_E_COMMAND = -6,    /* command not 02..06 */
    GW_BAL_E_IMPLAUSIBLE = -7 /* a number, but outside what the quantity can be */
} gw_bal_err_t;

/* Plausible ranges; a reply outside is a read error (B.8's seed accepted anything). */
#define GW_BAL_MV_MIN 0
#define GW_BAL_MV_MAX 6000      /* an LFP cell module cannot report above this */
#define GW_BAL_TEMP_C_MIN (-55) /* DS18B20 / ATtiny sensor range */
#define GW_BAL_TEMP_C_MAX 150

/* Build the request for address (1..50) and cmd into out. Returns 4, or 0 when
 * cap < 4, the address or the command is out of range. */
size_t gw_bal_build_request(uint8_t address, gw_bal_cmd_t cmd, uint8_t *out, size_t cap);

/* Parse a 4-character request "AACC" (exactly 4 ASCII digits, nothing else).
 * [out] address 1..50, [out] cmd 2..6. Returns GW_BAL_OK or E_LENGTH,
 * E_NOT_NUMBER, E_ADDRESS, E_COMMAND. */
gw_bal_err_t gw_bal_parse_request(const uint8_t *buf, size_t len, uint8_t *address,
                                  gw_bal_cmd_t *cmd);

/* Parse one reply line the way the seed's int() did: optional leading and
 * trailing whitespace (space, tab, CR, LF, VT, FF), an optional '+' or '-',
 * then 1..10 decimal digits. No underscores, no embedded spaces, no NUL.
 * [out] value. Returns GW_BAL_OK, E_EMPTY, E_NOT_NUMBER, E_RANGE, E_LENGTH
 * (len > GW_BAL_LINE_MAX). */
gw_bal_err_t gw_bal_parse_reply(const uint8_t *line, size_t len, int32_t *value);

/* Whether a parsed value is plausible for cmd (voltage 0..6000 mV, temperatures
 * -55..150 degC, uptime and version >= 0). */
bool gw_bal_value_plausible(gw_bal_cmd_t cmd, int32_t value);

/* "cell voltage", "cell temperature", ...; "unknown" for other values. */
const char *gw_bal_cmd_name(int cmd);

/* Short English reason for an error code. */
const char *gw_bal_strerror(gw_bal_err_t err);

#endif
