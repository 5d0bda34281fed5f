/* SPDX-License-Identifier: MIT */
/* TinyBMS UART master: a non-blocking state machine that wakes the BMS, reads
 * its settings, polls live data, checks every reply and fills one pack.
 *
 * No I/O here: process() hands back bytes to send, rx() takes bytes received.
 * All time comes from the caller (platform clock, milliseconds).
 *
 * Requests used (register reads are MODBUS-compatible 0x03 block reads,
 * big-endian data, well inside the documented RL <= 127; the proprietary
 * 0x07/0x09 reads are avoided because their 6-bit PL caps a reply at 63
 * bytes, tinybms.md 8.1):
 *   events    0x11 "read newest events" (4-byte request `AA 11 BF 1C`; the
 *             reply has an 8-bit PL, so at most 62 events): first step of
 *             every round, for reboot detection (below);
 *   settings  regs 300..320 (21 regs): once at start, after a reboot or a
 *             return from offline, and every settings_refresh_ms;
 *   cells     regs 0..15  (16 regs, 0.1 mV each);
 *   live      regs 32..53 (22 regs: lifetime, V, I, min/max cell, temps,
 *             SOH, SOC, status, balancing, detected cells).
 * A round = events + [settings] + cells + live; the pack is written only
 * after the live step succeeded, so it is always one consistent snapshot.
 *
 * Reboot detection. The lifetime counter (regs 32-33) keeps counting across
 * a reset, so it cannot show a reboot; the device's event log can. The 0x11
 * reply is `AA 11 PL T0..T3` (the BMS's current timestamp, UINT32 s, LE) then
 * per event `ts_L ts_M ts_H id` (24-bit timestamp in s, 8-bit id), then CRC
 * (tinybms.md 2.3). Each 24-bit event time is widened to 32 bits as the
 * latest time <= the BMS timestamp with those low 24 bits, so the 2^24 s
 * (194 day) wrap does not matter. A "System started" event (id 0x61,
 * tinybms.md 4) newer than the newest one seen before is a reboot:
 * reboots_seen++ and the settings are read in the same round. The first
 * event read after init (or after the BMS clock went backwards, i.e. another
 * device) only records a mark: the newest started event in that reply, or
 * the BMS timestamp when it lists none. Events of other ids are ignored.
 * Bound: a reboot is seen by the first round whose event read succeeds after
 * the BMS logged it: within poll_period_ms + one round's transfer time (plus
 * reply_timeout_ms per wake resend if the restarted BMS sleeps).
 * A 0x11 reply that fails (CRC, layout, NACK, or a started event later than
 * the BMS's own clock) is counted, retried like any other and, if it still
 * fails, skipped for this round (event_reads_failed) while the round goes on:
 * the measurements do not depend on it. An unanswered 0x11 fails the round
 * like any other silence (the BMS is not talking at all).
 * The old rule stays too: a lifetime counter going backwards means another
 * (swapped) BMS: reboots_seen++ and the settings are read again at once.
 *
 * Decoding (deliberately unlike the ESP32 bridge of tinybms.md 6.4):
 *   - pack voltage / current are IEEE floats over two registers (low word at
 *     the lower address), not one scaled 16-bit word;
 *   - SOC is the UINT32 over regs 46-47 in 1e-6 %, not reg 46 x 0.1 %;
 *   - SOH is reg 45 x 0.002 %;
 *   - regs 102/103 (recorded maxima) are never used as limits: bms_ccl_da /
 *     bms_dcl_da come from the charge / discharge over-current cut-offs
 *     (regs 318 / 317) less oc_margin_pct;
 *   - cells are 0.1 mV and rounded to mV.
 * Current sign: positive = charging (tinybms.md 8.6: the doc is silent; the
 * bridge assumes the same). Cell order: with N < 16 series cells the cells
 * sit right-aligned in regs 16-N..15 (tinybms.md 3.1, observed on a 14S
 * unit); if that window holds a zero and regs 0..N-1 hold none, the
 * left-aligned reading (doc wording: reg 0 = cell 1) is used instead.
 * Temperatures: temp_dc[] = connected external sensors (regs 42, 43, in that
 * order) then the BMS internal sensor (reg 48) last. The external sensors
 * are the cell sensors; when none is connected (0x8000) the internal sensor
 * is counted as the cell sensor, so DVCC still has a temperature to judge.
 * bms_max_charge_mv = min(fully charged (300), OV cut-off (315)) x series
 * cells (307): charging to the OV cut-off would trip the BMS.
 * bms_charge_off: status fault (0x9B), or max cell >= OV cut-off, or coldest
 * cell sensor below the low-temperature charge cut-off (320).
 * bms_discharge_off: status fault, or min cell <= UV cut-off (316). A fault
 * status does not say which switch opened, so both count as open. */
#ifndef GW_TINYBMS_DRIVER_H
#define GW_TINYBMS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bank/pack.h"
#include "tinybms/tinybms_frame.h"

#define GW_TINY_CELLS 16
#define GW_TINY_SET_FIRST 300
#define GW_TINY_SET_COUNT 21   /* 300..320 */
#define GW_TINY_LIVE_FIRST 32
#define GW_TINY_LIVE_COUNT 22  /* 32..53 */
#define GW_TINY_EVENT_STARTED 0x61 /* "System started" (tinybms.md 4) */

typedef struct gw_tiny_cfg {
    uint32_t poll_period_ms;       /* a round starts every period, default 1000 */
    uint32_t reply_timeout_ms;     /* per request, default 250 (replies take 2-26 ms) */
    uint32_t bus_guard_ms;         /* gap after a reply before the next request, default 10 */
    uint8_t wake_resends;          /* identical resends after an unanswered request, default 1
                                      (the first frame to a sleeping BMS only wakes it) */
    uint8_t retries;               /* extra tries after a CRC error / bad frame / NACK, default 1 */
    uint8_t offline_after_failures;/* consecutive failed rounds before offline, default 3 */
    uint32_t settings_refresh_ms;  /* re-read settings this often, 0 = never; default 300000 */
    uint8_t oc_margin_pct;         /* bms_ccl/dcl = OC cut-off less this, default 10 */
} gw_tiny_cfg_t;

void gw_tiny_cfg_default(gw_tiny_cfg_t *cfg);

/* Settings registers as read (tinybms.md 3.4). valid = read and in range. */
typedef struct gw_tiny_settings {
    bool valid;
    uint16_t fully_charged_mv;     /* 300 */
    uint16_t fully_discharged_mv;  /* 301 */
    uint16_t charge_finished_ma;   /* 304 */
    uint16_t capacity_cah;         /* 306, 0.01 Ah */
    uint16_t series_cells;         /* 307 */
    uint16_t ov_cutoff_mv;         /* 315 */
    uint16_t uv_cutoff_mv;         /* 316 */
    uint16_t discharge_oc_a;       /* 317 */
    uint16_t charge_oc_a;          /* 318 */
    int16_t overheat_c;            /* 319 */
    int16_t low_temp_charge_c;     /* 320 */
    uint64_t read_ms;              /* when they were read */
} gw_tiny_settings_t;

/* Live values that gw_pack_t has no field for. */
typedef struct gw_tiny_live {
    uint32_t lifetime_s;           /* regs 32-33 */
    uint16_t status;               /* reg 50, GW_TINY_ST_* */
    uint16_t balancing_bits;       /* reg 52, bit 0 = first cell */
    uint16_t detected_cells;       /* reg 53 */
    uint32_t soc_ppm;              /* regs 46-47 in 1e-6 % (100 % = 100000000) */
    int16_t internal_dc;           /* reg 48 */
    uint32_t bms_time_s;           /* BMS timestamp of the last 0x11 reply */
    uint32_t started_mark_s;       /* newest "System started" time seen (or the first mark) */
} gw_tiny_live_t;

/* Every malformed frame is counted here and dropped; it never reaches the pack. */
typedef struct gw_tiny_stats {
    uint32_t requests;             /* frames sent, resends included */
    uint32_t replies_ok;
    uint32_t timeouts;             /* requests left unanswered */
    uint32_t bad_crc;
    uint32_t bad_frame;            /* header, length, layout, wrong command, range */
    uint32_t nacks;
    uint32_t wake_resends;         /* resends after an unanswered request */
    uint32_t retries;              /* resends after a bad reply or NACK */
    uint32_t failures;             /* rounds that ended without data */
    uint32_t reboots_seen;         /* new "System started" event, or lifetime went backwards */
    uint32_t event_reads;          /* 0x11 replies accepted */
    uint32_t event_reads_failed;   /* rounds whose 0x11 read failed after retries (skipped) */
    uint32_t settings_reads;       /* settings replies accepted */
    uint32_t bad_settings;         /* settings replies with out-of-range values */
    uint32_t bytes_dropped;        /* noise outside any frame */
    uint32_t unsolicited;          /* 0xAA bytes (frame starts) while no request was outstanding */
} gw_tiny_stats_t;

typedef enum gw_tiny_step {
    GW_TINY_STEP_SETTINGS = 0,
    GW_TINY_STEP_CELLS,
    GW_TINY_STEP_LIVE,
    GW_TINY_STEP_DONE,
    GW_TINY_STEP_EVENTS,           /* 0x11, first step of every round */
} gw_tiny_step_t;

typedef struct gw_tiny_driver {
    gw_tiny_cfg_t cfg;             /* from init */
    gw_pack_t packs[1];            /* read-only: the one pack, address 0 */
    gw_tiny_settings_t settings;   /* read-only */
    gw_tiny_live_t live;           /* read-only */
    gw_tiny_stats_t stats;         /* read-only */
    bool scan_done;                /* read-only: the first round finished (found or not) */
    /* private */
    bool waiting;                  /* a request is outstanding */
    bool in_round;
    gw_tiny_step_t step;
    uint8_t wake_used;             /* resends of the current request after silence */
    uint8_t retry_used;            /* resends after a bad reply */
    uint8_t failures_in_row;
    bool settings_due;
    bool urgent_round;             /* start the next round as soon as the line is free */
    bool have_lifetime;
    bool events_primed;            /* started_mark_s holds a mark */
    bool have_bms_time;
    uint64_t deadline_ms;
    uint64_t round_start_ms;
    uint64_t bus_free_ms;
    uint8_t rx_buf[GW_TINY_MAX_FRAME];
    size_t rx_len;
    uint16_t cell_raw[GW_TINY_CELLS]; /* this round's cells, 0.1 mV */
} gw_tiny_driver_t;

/* Start the driver: copies cfg (NULL = defaults); the first round (with the
 * settings read) starts at now_ms. Sanitised here: reply_timeout_ms,
 * poll_period_ms and offline_after_failures at least 1, oc_margin_pct <= 90.
 *
 * Behaviour (process/rx):
 *  - An unanswered request is resent identically up to wake_resends times
 *    (counted in wake_resends), so a sleeping BMS is woken by the first copy
 *    and answers the second. A CRC error, bad frame or NACK is retried up to
 *    `retries` times. When the tries are used up the round ends as failed;
 *    after offline_after_failures failed rounds in a row the pack goes
 *    offline (present stays true). One good round brings it back online and
 *    re-reads the settings first (the BMS may have been reset or swapped).
 *  - A settings read that is NACKed (after retries) leaves the settings
 *    invalid until settings_refresh_ms and the round goes on with the live
 *    data: a BMS that refuses them still reports its measurements.
 *  - A new "System started" event in the 0x11 reply means the BMS rebooted,
 *    and a live reply whose lifetime counter is below the previous one means
 *    another BMS: either way reboots_seen++ and the settings are read again
 *    at once (see "Reboot detection" above). */
void gw_tiny_init(gw_tiny_driver_t *d, const gw_tiny_cfg_t *cfg, uint64_t now_ms);

/* Call when the deadline passed or after rx(). Never blocks. Returns the
 * number of bytes placed in tx to send now, or 0. */
size_t gw_tiny_process(gw_tiny_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap);

/* Bytes received from the UART (any split, any noise). */
void gw_tiny_rx(gw_tiny_driver_t *d, uint64_t now_ms, const uint8_t *data, size_t len);

/* Absolute time (ms) at which process() must be called next. */
uint64_t gw_tiny_next_deadline(const gw_tiny_driver_t *d);

#endif
