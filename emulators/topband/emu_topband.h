/* SPDX-License-Identifier: MIT */
/* Topband/EET BMS emulator: the device side of the RS485 protocol.
 *
 * One instance is one RS485 bus with up to 16 packs (addresses 0..15).
 * It parses requests and answers as the real BMS does (topband.md):
 * framing, LCHKSUM/CHKSUM, both reply families (VER 0x21 EET with Kelvin x 10
 * temperatures and 7 sensors; VER 0x52 TOPBMS with degC + 40 and 6 sensors),
 * commands 0x42, 0x44, 0x47, 0x4F, 0x51, error return codes, and fault knobs.
 * Values come from the sim's pack. Written independently of the firmware's
 * decoder: never include firmware code here. */
#ifndef EMU_TOPBAND_H
#define EMU_TOPBAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/battery.h"

#define EMU_TB_MAX_PACKS 16
#define EMU_TB_MAX_REPLY 512

typedef enum emu_tb_family {
    EMU_TB_EET = 0,     /* VER 0x21, temperatures K x 10, 7 sensors (4 cell + BAL, ENV, MOS), P = 4 */
    EMU_TB_TOPBMS = 1,  /* VER 0x52, temperatures degC + 40, 6 sensors (4 cell + ENV, MOS), P = 6 */
} emu_tb_family_t;

/* Fault knobs, a bit mask per pack. */
enum {
    EMU_TB_F_SILENT = 1u << 0,        /* never answers */
    EMU_TB_F_LATE = 1u << 1,          /* answers late_ms later than usual */
    EMU_TB_F_BAD_CHECKSUM = 1u << 2,  /* CHKSUM off by one */
    EMU_TB_F_TRUNCATED = 1u << 3,     /* reply cut in the middle, no EOI */
    EMU_TB_F_GARBAGE = 1u << 4,       /* random bytes instead of a reply */
    EMU_TB_F_WRONG_ADDRESS = 1u << 5, /* reply carries another ADR */
    EMU_TB_F_FROZEN = 1u << 6,        /* values stop changing (snapshot when set) */
};

/* One pack's analog values as the BMS would report them (0x42). */
typedef struct emu_tb_analog {
    uint8_t ncells;
    uint16_t cell_mv[32];
    uint8_t ntemps;
    double temp_c[16];
    double current_a;      /* charge positive */
    double voltage_v;
    double remaining_ah;
    double full_ah;
    uint16_t cycles;
    uint8_t soc_pct, soh_pct;
    uint16_t balancing;    /* bit i = cell i+1 balancing */
    /* Addition: the pack BMS's own FET state, for the 0x44 status bytes. */
    bool charge_fet, discharge_fet;
} emu_tb_analog_t;

typedef struct emu_tb_slot {
    const sim_pack_t *pack;    /* NULL: no pack at this address */
    emu_tb_family_t family;
    unsigned faults;
    uint32_t late_ms;
    bool have_snapshot;
    emu_tb_analog_t snapshot;  /* for EMU_TB_F_FROZEN */
    uint32_t requests, replies;
} emu_tb_slot_t;

typedef struct emu_topband {
    emu_tb_slot_t slots[EMU_TB_MAX_PACKS];
    uint32_t turnaround_us;    /* request end to reply start, default 20000 */
    uint64_t rng_state;        /* for garbage bytes */
    /* request assembly (private) */
    uint8_t rx[EMU_TB_MAX_REPLY];
    size_t rx_len;
    bool rx_in_frame;
    /* one pending reply (private) */
    uint8_t reply[EMU_TB_MAX_REPLY];
    size_t reply_len;
    uint64_t reply_at_us;
    /* counters (read-only) */
    uint32_t bad_requests;     /* malformed requests seen */
} emu_topband_t;

void emu_tb_init(emu_topband_t *e, uint64_t seed);
/* Put a pack at an address (0..15). Returns 0 or -1. */
int emu_tb_attach(emu_topband_t *e, uint8_t addr, const sim_pack_t *pack, emu_tb_family_t fam);
/* Replace the fault mask of the pack at addr (0 clears). */
void emu_tb_set_faults(emu_topband_t *e, uint8_t addr, unsigned faults, uint32_t late_ms);
/* Bytes heard on the bus; a complete request for a present pack queues a reply. */
void emu_tb_feed(emu_topband_t *e, const uint8_t *data, size_t len, uint64_t now_us);
/* Take the pending reply, if any: bytes into out, the time it should start
 * being sent into *start_us. Returns its length, 0 when none. A reply longer
 * than cap stays pending (0 is returned); EMU_TB_MAX_REPLY always fits.
 * The reply is handed over at once; the caller sends it at *start_us. */
size_t emu_tb_take_reply(emu_topband_t *e, uint8_t *out, size_t cap, uint64_t *start_us);

/* Read a pack's analog values as its BMS measures them. */
void emu_tb_measure(const sim_pack_t *p, emu_tb_family_t fam, emu_tb_analog_t *out);

#endif
