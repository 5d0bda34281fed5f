/* SPDX-License-Identifier: MIT */
/* SuperB Epsilon V2 gateway driver: a CANopen SDO client that finds up to 16
 * batteries on its own CAN port and polls each one into a gw_pack_t.
 *
 * No I/O here: process() hands back frames to send, rx() takes every frame
 * seen on the BMS bus. All time comes from the caller (milliseconds). */
#ifndef GW_SUPERB_DRIVER_H
#define GW_SUPERB_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bank/pack.h"
#include "gw_can.h"
#include "superb/canopen_sdo.h"

#define GW_SB_MAX_NODES GW_MAX_PACKS /* batteries tracked at once */
#define GW_SB_NAME_MAX 32            /* bytes of 0x1008 kept (longer names truncated) */
#define GW_SB_CELL_SUBS 16           /* 0x2011 has sub-indices 01..16: cells beyond stay 0 */

/* The poll list, in polling order; these are the bit numbers of
 * gw_sb_node_info_t.dropped_mask. GW_SB_OBJ_CELLS is the whole of 0x2011
 * (sub-indices 01..cells): it is read, dropped or skipped as one object. */
typedef enum gw_sb_object {
    GW_SB_OBJ_VOLTAGE = 0, /* 0x6060 */
    GW_SB_OBJ_SOC,         /* 0x6081 */
    GW_SB_OBJ_TEMP,        /* 0x6010 */
    GW_SB_OBJ_CURRENT,     /* 0x2010 */
    GW_SB_OBJ_CELLS,       /* 0x2011:01..n */
    GW_SB_OBJ_STATUS,      /* 0x2004 */
    GW_SB_OBJ_CYCLES,      /* 0x6050 */
    GW_SB_OBJ_AH_EQ,       /* 0x6053 */
    GW_SB_OBJ_TEMP_HI,     /* 0x6020 */
    GW_SB_OBJ_AH_EXP,      /* 0x6051 */
    GW_SB_OBJ_AH_RET,      /* 0x6052 */
    GW_SB_OBJ_VENDOR,      /* 0x1018:1 .. */
    GW_SB_OBJ_PRODUCT,
    GW_SB_OBJ_REVISION,
    GW_SB_OBJ_SERIAL,      /* .. 0x1018:4 */
    GW_SB_OBJ_HB_TIME,     /* 0x1017 */
    GW_SB_OBJ_MAX_DCL,     /* 0x5021:01 */
    GW_SB_OBJ_MAX_CCL,     /* 0x5021:02 */
    GW_SB_OBJ_NAME,        /* 0x1008 */
    GW_SB_OBJ_COUNT
} gw_sb_object_t;

/* 0x2004 error status bits (SuperB S7/S8) and which switch each one opens. */
#define GW_SB_ERR_CELL_OV (1u << 0)
#define GW_SB_ERR_CELL_UV (1u << 1)
#define GW_SB_ERR_PACK_OV (1u << 2)
#define GW_SB_ERR_PACK_UV (1u << 3)
#define GW_SB_ERR_CHARGE_OC (1u << 4)
#define GW_SB_ERR_DISCHARGE_OC (1u << 5)
#define GW_SB_ERR_CELL_OT (1u << 6)
#define GW_SB_ERR_CELL_UT (1u << 7)
#define GW_SB_ERR_INTERNAL (1u << 8)
#define GW_SB_ERR_CHARGE_OFF_MASK                                                        \
    (GW_SB_ERR_CELL_OV | GW_SB_ERR_PACK_OV | GW_SB_ERR_CHARGE_OC | GW_SB_ERR_CELL_OT |  \
     GW_SB_ERR_CELL_UT | GW_SB_ERR_INTERNAL)
#define GW_SB_ERR_DISCHARGE_OFF_MASK                                                     \
    (GW_SB_ERR_CELL_UV | GW_SB_ERR_PACK_UV | GW_SB_ERR_DISCHARGE_OC | GW_SB_ERR_CELL_OT | \
     GW_SB_ERR_INTERNAL)

typedef struct gw_sb_cfg {
    uint8_t first_node;           /* probe range, default 1 (clamped to 1..127) */
    uint8_t last_node;            /* default 16; boot-up/heartbeat discovery takes any 1..127 */
    uint32_t poll_period_ms;      /* a node's poll cycle starts every period, default 1000 */
    uint32_t sdo_timeout_ms;      /* per request, default 100 */
    uint8_t retries;              /* extra tries per object and cycle, default 1 */
    uint8_t heartbeat_misses;     /* offline after this many silent periods, default 3 */
    uint32_t heartbeat_period_ms; /* assumed while 0x1017 is unread or 0, default 1000 */
    uint32_t reprobe_period_ms;   /* sweep of the absent ids of the range, default 10000 */
    uint8_t cells_per_pack;       /* cell_count reported (CVL) and cells read from 0x2011
                                     (at most GW_SB_CELL_SUBS), default 4 */
} gw_sb_cfg_t;

void gw_sb_cfg_default(gw_sb_cfg_t *cfg);

/* Counters for the harness and logs. Every malformed or unexpected frame is
 * counted here and dropped; it never reaches a pack reading. */
typedef struct gw_sb_stats {
    uint32_t requests;        /* SDO initiate/segment requests sent (incl. probes) */
    uint32_t probes;          /* 0x1000 probes sent */
    uint32_t replies_ok;      /* SDO responses that completed or advanced a transfer */
    uint32_t timeouts;        /* requests to known nodes that got no valid answer in time */
    uint32_t probe_timeouts;  /* probes of ids where nobody answered */
    uint32_t retries;         /* requests re-sent after a timeout */
    uint32_t aborts;          /* abort frames received for our request */
    uint32_t objects_dropped; /* (node, object) pairs given up after "does not exist" */
    uint32_t mismatched;      /* right node, wrong index/sub-index (the seed client's bug) */
    uint32_t unexpected;      /* wrong command specifier, or no request outstanding */
    uint32_t toggle_errors;   /* segment with a repeated toggle bit: we abort 0x05030000 */
    uint32_t size_errors;     /* data length does not fit the object */
    uint32_t bad_frame;       /* DLC, command specifier 7, node 0, bad heartbeat state */
    uint32_t ignored;         /* other services (PDO, EMCY, NMT, 29-bit ...) */
    uint32_t heartbeats;      /* heartbeat frames with a state other than boot-up */
    uint32_t bootups;
    uint32_t reboots;         /* boot-up from a node already known */
    uint32_t nodes_found;
    uint32_t nodes_rejected;  /* a 17th node: no slot, ignored */
    uint32_t offline_events;  /* a node went from alive to silent */
    uint32_t aborts_sent;
} gw_sb_stats_t;

/* Per node, what the driver learned besides the pack reading. Read-only. */
typedef struct gw_sb_node_info {
    uint8_t node_id;          /* 0 = slot unused */
    bool alive;               /* heartbeat within heartbeat_misses periods (a node that never sent
                                 one: any SDO answer) */
    bool heartbeat_seen;      /* it produces heartbeats: from then on only they keep it alive */
    uint8_t nmt_state;        /* last heartbeat state byte */
    bool identity_valid;      /* 0x1018:1..4 read since the last boot-up */
    uint32_t vendor_id, product_code, revision, serial;
    uint16_t heartbeat_ms;    /* 0x1017 (0 = unread or disabled: cfg period used) */
    char name[GW_SB_NAME_MAX + 1]; /* 0x1008, NUL-terminated, "" until read */
    bool name_valid;
    int32_t ah_since_eq_8th;  /* 0x6053 raw, 1/8 Ah */
    int16_t ah_expended_8th;  /* 0x6051 raw (dropped on firmware < 1.2) */
    int16_t ah_returned_8th;  /* 0x6052 raw */
    uint32_t dropped_mask;    /* bit per poll object (gw_sb_object_t) */
    uint16_t error_status;    /* 0x2004 raw, last value read (GW_SB_ERR_*) */
    bool error_status_valid;  /* 0x2004 read since the last boot-up */
    int32_t max_discharge_ma; /* 0x5021:01, read once per boot-up */
    int32_t max_charge_ma;    /* 0x5021:02 */
    bool max_discharge_valid; /* 0x5021:01 read since the last boot-up */
    bool max_charge_valid;    /* 0x5021:02 read since the last boot-up */
} gw_sb_node_info_t;

typedef enum gw_sb_xfer {
    GW_SB_X_NONE = 0,  /* nothing to do before the next cycle */
    GW_SB_X_SEND,      /* the current request is due now */
    GW_SB_X_WAIT,      /* request out, waiting for the answer */
} gw_sb_xfer_t;

/* Private per-node transfer state. */
typedef struct gw_sb_slot {
    gw_sb_xfer_t xfer;
    bool in_cycle;            /* a poll cycle is under way */
    uint8_t obj;              /* current object (gw_sb_object_t) */
    uint8_t cell_sub;         /* GW_SB_OBJ_CELLS: sub-index of 0x2011 being read (1..) */
    uint8_t tries;
    bool segmented;           /* the current object is in its segment phase */
    uint8_t toggle;           /* toggle of the next segment request */
    uint32_t seg_size;        /* indicated total, 0 if not indicated */
    uint32_t seg_got;
    uint64_t deadline_ms;     /* WAIT: timeout */
    uint64_t next_cycle_ms;
    uint64_t alive_until_ms;  /* liveness expires here */
    uint64_t fresh_until_ms;  /* the published reading expires here */
    uint32_t cycle_ok;        /* objects read this cycle */
    uint32_t ident_done;      /* identity objects read since boot-up */
    bool abort_pending;       /* an abort frame is still to send */
    uint16_t abort_index;
    uint8_t abort_sub;
    uint32_t abort_code;
    gw_pack_t staging;        /* this cycle's values; published at cycle end */
    char name_buf[GW_SB_NAME_MAX + 1];
} gw_sb_slot_t;

typedef struct gw_sb_driver {
    gw_sb_cfg_t cfg;                        /* from init */
    gw_pack_t packs[GW_MAX_PACKS];          /* discovery order; .address = node id; read-only */
    gw_sb_node_info_t nodes[GW_SB_MAX_NODES]; /* same index as packs[]; read-only */
    uint8_t node_count;                     /* slots used; read-only */
    gw_sb_stats_t stats;                    /* read-only */
    bool scan_done;                         /* first probe sweep finished; read-only */
    /* private */
    gw_sb_slot_t slot[GW_SB_MAX_NODES];
    bool sweep_active;                      /* a probe sweep is under way */
    uint8_t probe_next;                     /* next id the sweep looks at; 0 = at its end */
    uint8_t probe_id;                       /* id of the outstanding probe, 0 = none */
    bool probe_send;                        /* probe_id's request is still to send */
    uint64_t probe_deadline_ms;
    uint64_t next_sweep_ms;
    uint64_t last_now_ms;
} gw_sb_driver_t;

/* Start the driver: copies cfg (NULL = defaults), sanitises it (ids to 1..127,
 * first <= last, timeouts/periods/misses at least 1, cells to GW_MAX_CELLS) and
 * starts the probe sweep at now_ms.
 *
 * Behaviour (process/rx):
 *  - Discovery: a boot-up (0x700+id, data 00) or a heartbeat from any id 1..127,
 *    or an SDO answer to the 0x1000:00 probe (sent once per id of the range,
 *    one at a time, one try; absent ids re-probed every reprobe_period_ms). Nodes
 *    take slots in discovery order; a 17th is counted in nodes_rejected.
 *  - Polling: every poll_period_ms per node, one SDO at a time per node, in
 *    order: 0x6060, 0x6081, 0x6010, 0x2010, 0x2011:01..n (n = cells_per_pack,
 *    at most 16), 0x2004, 0x6050, 0x6053, 0x6020, 0x6051, 0x6052, then once
 *    per boot-up 0x1018:1..4, 0x1017, 0x5021:01/02, 0x1008 (segmented).
 *    Timeout sdo_timeout_ms, `retries` re-sends (per sub-index), then the
 *    object is skipped for this cycle (for 0x2011: the remaining cells too).
 *    An abort 0x06020000/0x06090011 drops that object for that node until its
 *    next boot-up (0x2011 as a whole, whichever cell it came on; 0x06020000 on
 *    0x5021:01 drops :02 too); other aborts skip it for this cycle.
 *  - Every response must come from 0x580+id with a command specifier that fits
 *    the request and, for initiate/abort, the same index and sub-index; else it
 *    is counted (mismatched/unexpected) and dropped, and the wait goes on.
 *  - Segmented upload with toggle check; a repeated toggle aborts the transfer
 *    with 0x05030000 and the object is read again next cycle.
 *  - Publishing: at the end of a cycle in which 0x6060, 0x6081, 0x2010 and,
 *    unless the node dropped them, all n cells of 0x2011 and 0x2004 were read,
 *    the values of this cycle are copied to packs[i] (online, updated_ms);
 *    otherwise nothing is published and the last complete reading ages out
 *    (never a mix of cycles, never a stale cell).
 *    temp_dc[] holds 0x6010 then 0x6020 (both cell sensors, only those read this
 *    cycle); cell_count = cells_per_pack; cell_mv[0..n-1] from 0x2011 (mV, a
 *    value <= 0 as 0), the rest 0 (0 = not reported; all 0 when the node has
 *    no 0x2011). 0x2004 sets bms_charge_off (GW_SB_ERR_CHARGE_OFF_MASK: cell
 *    OV, pack OV, charge OC, cell OT, cell UT, internal failure) and
 *    bms_discharge_off (GW_SB_ERR_DISCHARGE_OFF_MASK: cell UV, pack UV,
 *    discharge OC, cell OT, internal failure) with bms_limits_valid. 0x5021:01/02
 *    (mA) give bms_dcl_da / bms_ccl_da, rounded down but a positive limit at
 *    least 1; <= 0 or not read: 0 (no limit); bms_limits_valid when either is
 *    read. bms_max_charge_mv stays 0 (0x2060 is ambiguous in the sources).
 *    full_mah, remaining_mah and soh_pct are 0 (not reported).
 *  - Timing (one outstanding request per node; an 8-byte SDO frame is 111 bits,
 *    at most 135 with stuffing: 0.44..0.54 ms at 250 kbit/s, a read = 2 frames):
 *    a cycle is 9 + n + 1 reads, 14 with the default 4 cells (was 9), 26 with
 *    16. Bus time for 16 nodes per cycle: 448 frames = 200..242 ms (was 128..156)
 *    with 4 cells, 832 frames = 370..450 ms with 16; the first cycle after a
 *    boot-up adds 10 round trips. A node's reads are sequential, each waiting for
 *    the server's turnaround plus at most ~16 ms behind the other 15 nodes'
 *    frames: 14 x (t_srv + 16 ms) = ~300 ms at t_srv = 5 ms, 36 x 21 ms = ~760 ms
 *    for a first cycle with 16 cells. So a full cycle still fits the default
 *    poll_period_ms of 1000 (unchanged); a cycle that overruns (timeouts cost
 *    (1 + retries) x sdo_timeout_ms per object) starts the next one at once.
 *  - Offline: no heartbeat nor SDO answer for heartbeat_misses x period (0x1017
 *    if read and non-zero, else heartbeat_period_ms), or no published cycle for
 *    heartbeat_misses x poll_period_ms: online = false at once; it returns only
 *    with a fresh complete cycle.
 *  - Boot-up from a known node: identity, name, 0x1017 and dropped objects are
 *    read again; an outstanding transfer is abandoned (the server forgot it). */
void gw_sb_init(gw_sb_driver_t *d, const gw_sb_cfg_t *cfg, uint64_t now_ms);

/* Call when the deadline passed or after rx(). Never blocks. Copies at most
 * cap frames to send now into tx and returns their count. */
size_t gw_sb_process(gw_sb_driver_t *d, uint64_t now_ms, gw_can_frame_t *tx, size_t cap);

/* Every frame received on the BMS bus (any service, any garbage). */
void gw_sb_rx(gw_sb_driver_t *d, uint64_t now_ms, const gw_can_frame_t *f);

/* Absolute time (ms) at which process() must be called next (<= now when
 * frames are waiting to be sent). */
uint64_t gw_sb_next_deadline(const gw_sb_driver_t *d);

#endif
