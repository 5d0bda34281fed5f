/* SPDX-License-Identifier: MIT */
/* Gateway config file text: `key = value` lines into gw_config_t + the chemistry profile. No I/O, no heap.
 *
 * Grammar: one `key = value` per line; `#` starts a comment (whole line or
 * after the value); blank lines and spaces around tokens are ignored; lines
 * end with LF or CRLF. Values: decimal integers (a leading '-' where the key
 * allows it) or the words listed per key. Keys are listed in gw_config_text.c
 * (gateway: family, bms_uart, bms_can, victron_can, can_period_ms; profile:
 * every numeric gw_profile_t field under its own name, curve_mode =
 * linear|step, charge_soc_curve / discharge_soc_curve = on|off).
 * The first error stops the parse and is reported as "line:col: message",
 * naming the key and the expected range, e.g.
 * "3:15: cell_max_mv: expected 2000..5000, got 7000". After a clean parse the
 * profile is validated (gw_profile_validate); a rule it breaks is reported
 * at line 0, column 0. */
#ifndef GW_CONFIG_TEXT_H
#define GW_CONFIG_TEXT_H

#include <stddef.h>
#include "dvcc/profile.h"
#include "gateway.h"

#define GW_CONFIG_ERR_LEN 96

typedef struct gw_config_text_err {
    unsigned line;                 /* 1-based; 0 for a whole-profile rule */
    unsigned col;                  /* 1-based column of the offending token */
    char msg[GW_CONFIG_ERR_LEN];   /* "line:col: message", NUL-terminated */
} gw_config_text_err_t;

/* Parse text[0..len) over cfg and prof (which hold the defaults to start
 * from; keys not named keep their values). Returns 0, or -1 with *err set
 * (err may be NULL). text need not be NUL-terminated. */
int gw_config_text_parse(const char *text, size_t len, gw_config_t *cfg, gw_profile_t *prof,
                         gw_config_text_err_t *err);

#endif
