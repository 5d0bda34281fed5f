/* SPDX-License-Identifier: MIT */
/* Topband RS485 master: a non-blocking state machine that scans addresses,
 * polls each pack with 0x42, checks every reply and keeps per-pack readings.
 *
 * No I/O here: process() hands back bytes to send, rx() takes bytes received.
 * All time comes from the caller (platform clock, milliseconds). */
#ifndef GW_TOPBAND_DRIVER_H
#define GW_TOPBAND_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bank/pack.h"
#include "topband/topband_frame.h"

typedef struct gw_tb_cfg {
    uint8_t first_address;       /* scan range, default 0 */
    uint8_t last_address;        /* default 15 */
    uint32_t poll_period_ms;     /* a polling round starts every period, default 3000 */
    uint32_t reply_timeout_ms;   /* default 500 (Doc v1.7) */
    uint32_t bus_guard_ms;       /* idle gap after a reply before the next request, default 50 */
    uint8_t retries;             /* extra tries within a round before a miss, default 1 */
    uint8_t offline_after_misses;/* consecutive missed rounds before offline, default 3 */
    uint32_t rescan_period_ms;   /* re-probe absent addresses, default 30000 */
} gw_tb_cfg_t;

void gw_tb_cfg_default(gw_tb_cfg_t *cfg);

/* Counters for the harness and logs. Every malformed frame is counted here
 * and dropped; it never reaches a pack reading. */
typedef struct gw_tb_stats {
    uint32_t requests;
    uint32_t replies_ok;
    uint32_t timeouts;
    uint32_t bad_checksum;    /* CHKSUM or LCHKSUM wrong */
    uint32_t bad_frame;       /* framing, hex, length, layout, range */
    uint32_t wrong_address;
    uint32_t error_rtn;       /* RTN != 0 */
    uint32_t bytes_dropped;   /* noise outside any frame (CR/LF between frames not counted) */
    uint32_t late_replies;    /* complete frames that arrived after their timeout, or
                                 while no request was outstanding; never attributed */
} gw_tb_stats_t;

typedef enum gw_tb_state {
    GW_TB_IDLE = 0,     /* waiting for the next request slot */
    GW_TB_WAIT_REPLY,   /* request sent, collecting reply bytes */
} gw_tb_state_t;

typedef struct gw_tb_driver {
    gw_tb_cfg_t cfg;                 /* from init */
    gw_pack_t packs[GW_MAX_PACKS];   /* indexed by address; read-only for callers */
    uint8_t misses[GW_MAX_PACKS];    /* private */
    gw_tb_stats_t stats;             /* read-only */
    bool scan_done;                  /* first full scan finished; read-only */
    /* private */
    gw_tb_state_t state;
    uint8_t cur_addr;
    uint8_t tries;
    bool scanning;
    uint64_t deadline_ms;
    uint64_t round_start_ms;
    uint64_t last_rescan_ms;
    uint16_t round_mask;             /* addresses still to poll this round */
    size_t rx_len;
    bool rx_in_frame;
    uint8_t rx_buf[GW_TB_MAX_FRAME];
    uint8_t info_buf[GW_TB_MAX_FRAME / 2];
    uint64_t bus_free_ms;            /* end of the guard after the last exchange */
    uint32_t req_seq;                /* bumped per request sent */
    uint32_t rx_frame_seq;           /* req_seq when the frame in rx_buf began */
    bool rx_discard;                 /* skipping the rest of an oversize frame */
    bool probing;                    /* the outstanding request is a rescan probe */
    bool rescan_active;              /* a rescan sweep is under way */
    bool probe_due;                  /* this round's rescan probe is still to send */
    uint8_t rescan_next;             /* next absent address the sweep looks at */
} gw_tb_driver_t;

/* Start the driver: copies cfg (NULL = defaults) and starts the address scan at
 * now_ms. Config sanitised here, not on the hot path: last_address is clamped to
 * GW_MAX_PACKS - 1 (a pack index can never leave packs[]), first_address to
 * last_address, reply_timeout_ms and offline_after_misses to at least 1.
 *
 * Behaviour (process/rx):
 *  - Scan: first..last_address probed once each with 0x42 (INFO = ADR).
 *  - Rounds: one starts every poll_period_ms from the previous round's start
 *    (the scan counts as round zero, started at init); a round that overruns
 *    delays the next one, which then starts as soon as the bus is free.
 *    Present packs are polled in address order with `retries` extra tries; a
 *    pack without a good reply gets misses[adr]++ and goes offline after
 *    offline_after_misses consecutive missed rounds. Offline packs stay present
 *    and polled; one good reply brings them back online.
 *  - Every rescan_period_ms a sweep probes the absent addresses, one per round
 *    after the present packs, one try each.
 *  - A reply ends the exchange when it passed every check (good reading) or
 *    failed CHKSUM/framing/RTN/layout (a failed try; retried after the guard).
 *    A frame from another ADR is dropped and the wait goes on. Any frame that
 *    began before the current request, or completes at or after its timeout,
 *    is counted in late_replies and dropped. */
void gw_tb_init(gw_tb_driver_t *d, const gw_tb_cfg_t *cfg, uint64_t now_ms);

/* Call when the deadline passed or after rx(). Never blocks. If the driver
 * wants to transmit, the request is copied into tx and its length returned. */
size_t gw_tb_process(gw_tb_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap);

/* Bytes received from the RS485 line (any split, any noise). */
void gw_tb_rx(gw_tb_driver_t *d, uint64_t now_ms, const uint8_t *data, size_t len);

/* Absolute time (ms) at which process() must be called next. */
uint64_t gw_tb_next_deadline(const gw_tb_driver_t *d);

#endif
