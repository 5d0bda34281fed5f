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

typedef struct gw_sb_cfg {
    uint8_t first_node;           /* probe range, default 1 (clamped to 1..127) */
    uint8_t last_node;            /* default 16; boot-up/heartbeat discovery takes any 1..127 */
    uint32_t poll_period_ms;      /* a node's poll cycle starts every period, default 1000 */
    uint32_t sdo_timeout_ms;      /* per request, default 100 */
    uint8_t retries;              /* extra tries per object and cycle, default 1 */
    uint8_t heartbeat_misses;     /* offline after this many silent periods, default 3 */
    uint32_t heartbeat_period_ms; /* assumed while 0x1017 is unread or 0, default 1000 */
    uint32_t reprobe_period_ms;   /* sweep of the absent ids of the range, default 10000 */
    uint8_t cells_per_pack;       /* cell_count reported (CVL), default 4 */
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
    uint32_t dropped_mask;    /* bit per poll object (gw_sb_object index) */
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
    uint8_t obj;              /* current object (table index) */
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
 *    order: 0x6060, 0x6081, 0x6010, 0x2010, 0x6050, 0x6053, 0x6020, 0x6051,
 *    0x6052, then once per boot-up 0x1018:1..4, 0x1017, 0x1008 (segmented).
 *    Timeout sdo_timeout_ms, `retries` re-sends, then the object is skipped for
 *    this cycle. An abort 0x06020000/0x06090011 drops that object for that node
 *    until its next boot-up; other aborts skip it for this cycle.
 *  - Every response must come from 0x580+id with a command specifier that fits
 *    the request and, for initiate/abort, the same index and sub-index; else it
 *    is counted (mismatched/unexpected) and dropped, and the wait goes on.
 *  - Segmented upload with toggle check; a repeated toggle aborts the transfer
 *    with 0x05030000 and the object is read again next cycle.
 *  - Publishing: at the end of a cycle in which 0x6060, 0x6081 and 0x2010 were
 *    all read, the values of this cycle are copied to packs[i] (online, updated_ms).
 *    temp_dc[] holds 0x6010 then 0x6020 (both cell sensors, only those read this
 *    cycle); cell_count = cells_per_pack with cell_mv all 0 (not reported);
 *    full_mah, remaining_mah and soh_pct are 0 (not reported).
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
