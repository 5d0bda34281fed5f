/* SPDX-License-Identifier: MIT */
/* The gateway firmware: Topband bank on a UART in, Victron CAN-BMS out.
 *
 * Event driven: the host calls gateway_step() when data arrived or when
 * gateway_next_deadline() has passed. Nothing here blocks, allocates or
 * reads a clock; the world is reached only through plat_api_t. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"
#include "topband/topband_driver.h"
#include "bank/bank.h"
#include "dvcc/dvcc_baseline.h"
#include "victron/victron_encode.h"

typedef struct gw_config {
    unsigned bms_uart;          /* UART port of the RS485 bus, default 0 */
    unsigned victron_can;       /* CAN bus towards the GX, default 0 */
    uint32_t can_period_ms;     /* frame set period, default 1000 */
    gw_tb_cfg_t topband;
    gw_dvcc_cfg_t dvcc;
    gw_victron_ident_t ident;
} gw_config_t;

void gateway_config_default(gw_config_t *cfg);

typedef struct gw_status {
    uint32_t can_cycles;        /* frame sets sent */
    uint32_t can_tx_errors;     /* frames the platform refused */
    uint32_t uart_tx_short;     /* writes the platform did not take whole */
} gw_status_t;

typedef struct gateway {
    gw_config_t cfg;            /* from init */
    const plat_api_t *plat;     /* from init */
    gw_tb_driver_t tb;          /* read-only for callers */
    gw_bank_t bank;             /* read-only: last aggregation */
    gw_dvcc_baseline_t dvcc;
    gw_limits_t limits;         /* read-only: last decision */
    gw_status_t status;         /* read-only */
    /* private */
    uint64_t boot_ms;
    uint64_t next_can_ms;
    uint8_t last_online;
    bool last_failsafe;
    const char *last_ccl_reason, *last_dcl_reason;
    uint16_t last_ccl_da, last_dcl_da;
    /* private (added): state-change tracking for logs and outputs */
    uint16_t last_online_mask;  /* bit = pack index online at the last check */
    bool last_scan_done;
    bool outputs_known;         /* false until the first gpio_write round */
    uint8_t last_outputs;       /* bit per plat_gpio_t as last written */
} gateway_t;

/* Returns 0, or -1 when a mandatory platform member is missing. */
int gateway_init(gateway_t *gw, const gw_config_t *cfg, const plat_api_t *plat, uint64_t now_ms);
void gateway_step(gateway_t *gw, uint64_t now_ms);
uint64_t gateway_next_deadline(const gateway_t *gw);

#endif
