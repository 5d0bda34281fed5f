/* SPDX-License-Identifier: MIT */
/* The gateway firmware: a BMS bank in (Topband on RS485, TinyBMS on a UART,
 * SuperB over CANopen), Victron CAN-BMS out.
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
#include "tinybms/tinybms_driver.h"
#include "superb/superb_driver.h"
#include "balancer/balancer_driver.h"
#include "bank/bank.h"
#include "dvcc/cvl_states.h"
#include "dvcc/dvcc_baseline.h"
#include "dvcc/engine.h"
#include "dvcc/profile.h"
#include "victron/victron_encode.h"

typedef enum gw_bms_family {
    GW_BMS_TOPBAND = 0,         /* Topband/EET packs, RS485 9600 8N1 on bms_uart */
    GW_BMS_TINYBMS,             /* one TinyBMS, UART 115200 8N1 on bms_uart */
    GW_BMS_SUPERB,              /* SuperB Epsilon V2 batteries, CANopen 250 kbit/s on bms_can */
    GW_BMS_BALANCER,            /* balancer modules, 300 Bd cell bus on bms_uart: the gateway is the
                                   BMS controller (relays, latching faults, button) */
} gw_bms_family_t;

typedef struct gw_config {
    gw_bms_family_t family;     /* default topband */
    unsigned bms_uart;          /* UART port of the BMS line, default 0 */
    unsigned bms_can;           /* CAN port of a CANopen BMS bus, default 1 */
    unsigned victron_can;       /* CAN bus towards the GX, default 0 */
    uint32_t can_period_ms;     /* frame set period, default 1000 */
    gw_tb_cfg_t topband;
    gw_tiny_cfg_t tinybms;
    gw_sb_cfg_t superb;
    gw_bal_cfg_t balancer;
    bool dvcc_engine;           /* true (default): the DVCC engine; false: the v1 baseline */
    gw_profile_t profile;       /* the engine's chemistry profile */
    gw_dvcc_cfg_t dvcc;         /* the baseline's settings */
    bool cvl_states;            /* charge-voltage state strategy on top of the DVCC */
    gw_cvl_cfg_t cvl;
    gw_victron_ident_t ident;
} gw_config_t;

/* Defaults for a family: also sets ident.family and, for TinyBMS, turns the
 * charge-voltage states on. */
void gateway_config_family(gw_config_t *cfg, gw_bms_family_t family);

/* Family-neutral view of the BMS driver's counters (for logs and checks). */
typedef struct gw_bms_counters {
    uint32_t requests;
    uint32_t replies_ok;
    uint32_t timeouts;
    uint32_t bad_checksum;      /* checksum / CRC wrong */
    uint32_t bad_frame;         /* framing, length, layout, mismatched reply */
    uint32_t wrong_address;     /* reply from another pack */
    uint32_t refusals;          /* RTN errors, NACKs, SDO aborts */
    uint32_t reboots;           /* BMS restarts noticed (TinyBMS lifetime, CANopen boot-up) */
} gw_bms_counters_t;

void gateway_config_default(gw_config_t *cfg);

typedef struct gw_status {
    uint32_t can_cycles;        /* frame sets sent */
    uint32_t can_tx_errors;     /* frames the platform refused */
    uint32_t uart_tx_short;     /* writes the platform did not take whole */
    uint32_t bms_can_tx_errors; /* BMS-bus frames the platform refused */
} gw_status_t;

typedef struct gateway {
    gw_config_t cfg;            /* from init */
    const plat_api_t *plat;     /* from init */
    gw_tb_driver_t tb;          /* read-only for callers (family topband) */
    gw_tiny_driver_t tiny;      /* read-only (family tinybms) */
    gw_sb_driver_t sb;          /* read-only (family superb) */
    gw_bal_driver_t bal;        /* read-only (family balancer) */
    gw_cvl_states_t cvl;        /* read-only (when cfg.cvl_states) */
    gw_bank_t bank;             /* read-only: last aggregation */
    gw_dvcc_baseline_t dvcc;
    gw_engine_t engine;
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

/* The active driver's packs (n set to the array's length), counters, and
 * whether its first scan / contact attempt has finished. */
const gw_pack_t *gateway_packs(const gateway_t *gw, size_t *n);
void gateway_bms_counters(const gateway_t *gw, gw_bms_counters_t *out);
bool gateway_scan_done(const gateway_t *gw);

#endif
