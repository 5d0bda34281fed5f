/* SPDX-License-Identifier: MIT */
/* SuperB Epsilon V2 emulator: CiA 301 nodes on a 250 kbit/s CAN bus.
 *
 * One instance is one bus with up to 16 batteries (node ids 1..127). Each
 * node sends a boot-up message, heartbeats (producer time 0x1017, default
 * 1000 ms), obeys NMT (start, stop, pre-operational, reset node, reset
 * communication) and serves SDO (emu_canopen_sdo.h) from an object
 * dictionary filled from the sim pack (superb_balancer.md A.2/A.3).
 * Transport-agnostic: frames in through emu_sb_on_frame(), out through
 * emu_sb_take_tx() when due. Written from the reference only: never include
 * firmware code here.
 *
 * Choices the reference leaves open (documented here, tested):
 * - After boot-up and after every reset/reboot the node sits in
 *   pre-operational (0x7F): no source says the SuperB auto-starts (0x1F80).
 * - Stopped nodes ignore SDO (CiA 301: only NMT and heartbeat).
 * - Responses leave 1..2 ms after the request (seeded), + late_ms with
 *   EMU_SB_F_LATE. Boot-up after an NMT reset leaves after the same delay.
 * - Segmented-transfer timeout: EMU_SDO_TIMEOUT_MS (1000 ms) after our last
 *   response; then the node sends abort 0x05040000.
 * - NMT reset node and reset communication both reload 0x1017 and 0x1014
 *   from the stored values (0x1010:01 "save" stores them); the emulator has
 *   no other application parameters, so the two resets look alike on the bus.
 * - 0x1018:03 revision = fw_version << 8 (0x0106 -> 0x00010600); 0x100A is
 *   "major.minor" text. fw_version < 0x0102: 0x6051/0x6052 abort 0x06020000.
 * - Quantities the sim has no history for: 0x6053 Ah since equalisation =
 *   (1 - soc) x capacity (Ah taken out since last full); 0x6051 Ah expended
 *   and 0x6052 Ah returned = throughput_ah / 2 each; all x8, saturated. */
#ifndef EMU_SUPERB_H
#define EMU_SUPERB_H

#include "emulators/superb/emu_canopen_sdo.h"
#include "sim/battery.h"
#include "sim/canbus.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_SB_MAX_NODES 16
#define EMU_SB_TXQ 16 /* frames a node may have waiting */
#define EMU_SB_HEARTBEAT_DEFAULT_MS 1000u
#define EMU_SB_FW_DEFAULT 0x0106u    /* firmware 1.6 */
#define EMU_SB_FW_AH_OBJECTS 0x0102u /* 0x6051/0x6052 exist from 1.2 on */
#define EMU_SB_VENDOR_ID 0x0000037Cu
#define EMU_SB_PRODUCT_CODE 0x0000000Au
#define EMU_SB_DEVICE_TYPE 0x000001A2u /* CiA 418 battery profile: our choice, not from a source   \
                                        */
#define EMU_SB_DEVICE_NAME "Epsilon V2"
#define EMU_SB_HW_VERSION "2.0"

/* CiA 301 pre-defined connection set (A.10.1). */
#define EMU_SB_COB_NMT 0x000u
#define EMU_SB_COB_EMCY 0x080u
#define EMU_SB_COB_SDO_TX 0x580u    /* server -> client, + node id */
#define EMU_SB_COB_SDO_RX 0x600u    /* client -> server, + node id */
#define EMU_SB_COB_HEARTBEAT 0x700u /* + node id */

/* NMT states as the heartbeat byte carries them. */
typedef enum emu_sb_nmt_state {
    EMU_SB_NMT_BOOTUP = 0x00,
    EMU_SB_NMT_STOPPED = 0x04,
    EMU_SB_NMT_OPERATIONAL = 0x05,
    EMU_SB_NMT_PRE_OPERATIONAL = 0x7F,
} emu_sb_nmt_state_t;

/* NMT command specifiers (byte 0 of a frame on 0x000). */
enum {
    EMU_SB_NMT_CS_START = 0x01,
    EMU_SB_NMT_CS_STOP = 0x02,
    EMU_SB_NMT_CS_PRE_OP = 0x80,
    EMU_SB_NMT_CS_RESET_NODE = 0x81,
    EMU_SB_NMT_CS_RESET_COMM = 0x82,
};

/* Fault knobs, a bit mask per node. */
enum {
    EMU_SB_F_SILENT = 1u << 0,       /* ignores SDO, sends nothing at all; still obeys NMT */
    EMU_SB_F_LATE = 1u << 1,         /* SDO responses late_ms later than usual */
    EMU_SB_F_ABORT_ALL = 1u << 2,    /* every SDO request answered with abort 0x08000000 */
    EMU_SB_F_WRONG_TOGGLE = 1u << 3, /* segment responses carry the wrong toggle bit */
    EMU_SB_F_NO_HEARTBEAT = 1u << 4, /* heartbeats stop (boot-up and SDO go on) */
    EMU_SB_F_BUS_OFF = 1u << 5,      /* sends nothing, hears nothing (queue dropped) */
};

typedef struct emu_sb_txent {
    sim_can_frame_t f;
    uint64_t due_us;
    uint64_t seq; /* insertion order, breaks ties */
} emu_sb_txent_t;

typedef struct emu_sb_node {
    /* set by emu_sb_add_node */
    uint8_t node_id;
    const sim_pack_t *pack;
    uint16_t fw_version;
    uint32_t serial; /* 0x1018:04, from the seed */
    /* CANopen state (read-only) */
    emu_sb_nmt_state_t nmt;
    uint16_t heartbeat_ms;        /* 0x1017, 0 = off */
    uint32_t emcy_cob_id;         /* 0x1014 */
    uint16_t stored_heartbeat_ms; /* what a reset reloads (0x1010:01 "save") */
    uint32_t stored_emcy_cob_id;
    uint64_t next_heartbeat_us; /* UINT64_MAX when off */
    emu_sdo_server_t sdo;
    /* faults (set by emu_sb_set_faults) */
    unsigned faults;
    uint32_t late_ms;
    /* transmit queue (private) */
    emu_sb_txent_t txq[EMU_SB_TXQ];
    size_t txq_len;
    /* counters (read-only) */
    uint32_t sdo_requests, sdo_responses, heartbeats_sent, bootups_sent, tx_dropped;
} emu_sb_node_t;

typedef struct emu_superb {
    emu_sb_node_t nodes[EMU_SB_MAX_NODES];
    int nnodes;
    uint64_t rng_state; /* private: processing delays, serial numbers */
    uint64_t seq;       /* private: transmit order */
    /* counters (read-only) */
    uint32_t malformed;    /* frames for us with a bad DLC or an extended id */
    uint32_t nmt_commands; /* NMT commands that addressed at least one node */
} emu_superb_t;

void emu_sb_init(emu_superb_t *e, uint64_t seed);
/* Add a battery (node id 1..127, not yet used). fw_version e.g. 0x0106 for
 * 1.6. It boots at now_us: a boot-up frame 0x700+id (data 00) is queued due
 * at now_us, then heartbeats every 0x1017 ms. Returns the node index or -1. */
int emu_sb_add_node(emu_superb_t *e, uint8_t node_id, const sim_pack_t *pack, uint16_t fw_version,
                    uint64_t now_us);
/* A frame seen on the bus (any sender). Requests for our nodes queue responses. */
void emu_sb_on_frame(emu_superb_t *e, const sim_can_frame_t *f, uint64_t now_us);
/* Earliest time something wants to go out (heartbeat due, response after its
 * processing delay, SDO timeout abort), or UINT64_MAX. */
uint64_t emu_sb_next_deadline(const emu_superb_t *e);
/* Take the next frame due by now_us: returns the index of the node that
 * sends it (>= 0) and fills *f, or -1 when none is due. Frames come out in
 * (due time, queue order). */
int emu_sb_take_tx(emu_superb_t *e, uint64_t now_us, sim_can_frame_t *f);
/* Replace the fault mask of a node (0 clears). SILENT and BUS_OFF drop what
 * the node had queued. */
void emu_sb_set_faults(emu_superb_t *e, uint8_t node_id, unsigned mask, uint32_t late_ms);
/* Power cycle: queued frames and transfers lost, 0x1017/0x1014 reloaded,
 * boot-up due at now_us, then pre-operational. */
void emu_sb_reboot(emu_superb_t *e, uint8_t node_id, uint64_t now_us);
void emu_sb_set_firmware(emu_superb_t *e, uint8_t node_id, uint16_t fw_version);

/* Addition: the node index for a node id, or -1. */
int emu_sb_find_node(const emu_superb_t *e, uint8_t node_id);

#endif
