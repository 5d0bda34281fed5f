/* SPDX-License-Identifier: MIT */
/* TinyBMS (Enepaq s516) emulator: the device side of the UART protocol.
 *
 * One instance is one TinyBMS on one pack, on a point-to-point UART
 * (115200 8N1). It answers requests as tinybms.md describes: 0xAA framing,
 * CRC-16/MODBUS, the Modbus-compatible 0x03/0x10 (big-endian) and the
 * proprietary little-endian commands, ACK `AA 01 CMD` and NACK `AA 00 CMD ERR`
 * (ERR 0x00 command error, 0x01 CRC error), the register map (live data,
 * statistics, events, settings 300-343, version 500-509), sleep, its own
 * protection of the pack, and fault knobs. Written from the reference only,
 * independently of the firmware's decoder: never include firmware code here.
 *
 * Choices where the reference leaves room (all inferred, see tinybms.md §8):
 * - Current sign (regs 38-39, 0x15): charge positive, discharge negative,
 *   as the sim and the bridge (BR) assume.
 * - Cells: a pack of N < 16 cells puts cell n (1 = at the pack's negative
 *   end) at reg 16-N+n-1; regs below 16-N read 0. 0x1C returns the N
 *   detected cells, cell 1 first. Only the first 16 cells of a bigger pack
 *   are monitored (the s516 takes 4-16S).
 * - Temperatures: external #1 (reg 42) = mean of the lower half of the cells
 *   (cells 1..ceil(N/2)), #2 (reg 43) = mean of the upper half; internal
 *   (reg 48, board against the pack) = hottest cell. An absent external
 *   sensor (ext_absent[]) reads -32768 and is left out of the protection.
 * - PL of 0x07/0x09/0x0B/0x0D is a 7-bit size; bit 7 (multi-packet) gets a
 *   NACK. So 0x07 reads at most 63 and 0x09 at most 31 registers.
 *   0x0B's PL counts the data bytes only. 0x1D starts at reg 300.
 * - 0x11 returns the 8 newest events, 0x12 all (at most 49), oldest first;
 *   Event_0 (regs 200-201) is the oldest stored event. Timestamps are the
 *   lifetime counter (s) at the event.
 * - Reads of reserved registers inside 0..599 return 0; a read reaching past
 *   599 gets a NACK 0x00. Writes outside 300..399 get a NACK 0x00; writes of
 *   reserved registers in 300..399 are accepted and ignored.
 *
 * Default settings (a LiFePO4 pack): 300 fully charged 3600 mV, 301 fully
 * discharged 3000 mV, 303 early balancing 3400 mV, 304 charge finished
 * 1000 mA, 305 peak discharge 750 A, 306 capacity = pack capacity (0.01 Ah),
 * 307 series cells = pack cells (4..16), 308 disbalance 15 mV, 310/311
 * charger delays 20 s / 5 s, 312-313 pulses 1, 314 km, 315 over-voltage
 * 3650 mV, 316 under-voltage 2800 mV, 317 discharge over-current = 1 C (A),
 * 318 charge over-current = 0.5 C (A) (both 1..750), 319 over-heat 60 degC,
 * 320 low-temperature charge 0 degC, 321 restart 90 %, 322 3000 cycles,
 * 323 SOH 100 %, 328 0xFFFF, 330 CC/CV charger and 0 s discharge OC
 * timeout, 332 automatic recovery 5 s, 333 charge FET, 335 internal charger
 * detection, rest 0.
 *
 * Protection (every tick, on real measurements even while FROZEN):
 * - over-voltage: max cell >= reg 315 opens the charge switch (event 0x03);
 *   it closes again when max cell <= min(reg 300, reg 315 - 100 mV) and the
 *   automatic-recovery time (reg 332) has passed (event 0x79).
 * - under-voltage: min cell <= reg 316 opens the discharge switch (0x02);
 *   closes at min cell >= max(reg 301, reg 316 + 100 mV) after reg 332 (0x7B).
 * - discharge over-current: current < -reg 317 A for longer than the timeout
 *   in reg 330's high byte opens the discharge switch (0x05); closes after
 *   reg 332 s (0x77). Charge over-current: current > reg 318 A opens the
 *   charge switch (0x06); closes after reg 332 s (0x76).
 * - over-heat: hottest sensor >= reg 319 opens both switches (0x04); closes at
 *   <= reg 319 - 5 degC after reg 332 s (0x73).
 * - low-temperature charge: coldest sensor < reg 320 opens the charge switch
 *   (warning 0x37); closes at >= reg 320 + 2 degC (0x74).
 * The faults (not the low-temperature warning) make reg 50 read 0x9B and
 * count in statistics 105-109.
 *
 * Sleep: awake, no UART byte for 10 s, |current| < 0.8 A, no fault and no
 * balancing -> asleep. Asleep, a current >= 0.8 A wakes it (tick); the first
 * frame that arrives while asleep wakes it and gets no reply.
 *
 * Timing: a reply starts 2 ms + 0.1 ms per 16-bit word of reply data after the
 * request's last byte (+ late_ms with EMU_TINY_F_LATE). A new request before
 * the reply was taken replaces it. A request whose bytes are more than 10 ms
 * apart is dropped (counted in timeouts). */
#ifndef EMU_TINYBMS_H
#define EMU_TINYBMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emulators/tinybms/emu_tinybms_codec.h"
#include "sim/battery.h"

#define EMU_TINY_NREGS 600u          /* register map 0..599 */
#define EMU_TINY_LIVE_REGS 100u      /* live data 0..99 (what FROZEN freezes) */
#define EMU_TINY_SETTINGS_FIRST 300u
#define EMU_TINY_SETTINGS_COUNT 100u /* writable range 300..399 */
#define EMU_TINY_MAX_EVENTS 49u
#define EMU_TINY_MAX_CELLS 16u
#define EMU_TINY_MAX_REPLY 272u
#define EMU_TINY_SLEEP_AFTER_US 10000000u
#define EMU_TINY_SLEEP_CURRENT_A 0.8
#define EMU_TINY_INTERBYTE_US 10000u

/* Fault knobs, a bit mask (emu_tiny_set_faults). */
enum {
    EMU_TINY_F_SILENT = 1u << 0,       /* hears and wakes, never answers */
    EMU_TINY_F_LATE = 1u << 1,         /* answers late_ms later than usual */
    EMU_TINY_F_BAD_CRC = 1u << 2,      /* reply's CRC high byte inverted */
    EMU_TINY_F_TRUNCATED = 1u << 3,    /* reply cut to half its length */
    EMU_TINY_F_NACK_STORM = 1u << 4,   /* every request gets NACK 0x00 */
    EMU_TINY_F_STUCK_ASLEEP = 1u << 5, /* falls asleep now and never wakes */
    EMU_TINY_F_FROZEN = 1u << 6,       /* live regs 0..99 keep the values of when it was set */
};

/* Online status codes (reg 50, 0x18). */
enum {
    EMU_TINY_ST_CHARGING = 0x91,
    EMU_TINY_ST_FULL = 0x92,
    EMU_TINY_ST_DISCHARGING = 0x93,
    EMU_TINY_ST_REGEN = 0x96,
    EMU_TINY_ST_IDLE = 0x97,
    EMU_TINY_ST_FAULT = 0x9B,
};

/* Event IDs this emulator logs (tinybms.md §4). */
enum {
    EMU_TINY_EV_UV = 0x02,
    EMU_TINY_EV_OV = 0x03,
    EMU_TINY_EV_OT = 0x04,
    EMU_TINY_EV_DOC = 0x05,
    EMU_TINY_EV_COC = 0x06,
    EMU_TINY_EV_LTC = 0x37,
    EMU_TINY_EV_STARTED = 0x61,
    EMU_TINY_EV_OT_RECOVERED = 0x73,
    EMU_TINY_EV_LTC_RECOVERED = 0x74,
    EMU_TINY_EV_COC_RECOVERED = 0x76,
    EMU_TINY_EV_DOC_RECOVERED = 0x77,
    EMU_TINY_EV_OV_RECOVERED = 0x79,
    EMU_TINY_EV_UV_RECOVERED = 0x7B,
};

/* The protections, index into emu_tinybms_t.prot[]. */
typedef enum emu_tiny_prot {
    EMU_TINY_PROT_OV = 0,
    EMU_TINY_PROT_UV,
    EMU_TINY_PROT_DOC,
    EMU_TINY_PROT_COC,
    EMU_TINY_PROT_OT,
    EMU_TINY_PROT_LTC,
    EMU_TINY_PROT_COUNT
} emu_tiny_prot_t;

typedef struct emu_tiny_event {
    uint32_t ts_s; /* lifetime counter at the event (24 bits go on the wire) */
    uint8_t id;
} emu_tiny_event_t;

typedef struct emu_tiny_prot_state {
    bool active;
    uint64_t since_us;   /* when it tripped */
    uint64_t over_us;    /* over-current: when the current first went over (0 = not over) */
} emu_tiny_prot_state_t;

/* Statistics (regs 100-117). Kept across reboots; cleared by 0x02 option 2. */
typedef struct emu_tiny_stats {
    uint16_t max_discharge_da; /* reg 102, 0.1 A */
    uint16_t max_charge_da;    /* reg 103 */
    uint16_t max_diff_01mv;    /* reg 104, 0.1 mV */
    uint16_t count[EMU_TINY_PROT_COUNT]; /* 105 UV, 106 OV, 107 DOC, 108 COC, 109 OT (LTC: not a register) */
    uint16_t charging_count;   /* reg 111 */
    uint16_t full_count;       /* reg 112 */
    bool temps_seen;
    int8_t min_temp_c, max_temp_c; /* reg 113 */
    uint8_t reset_cause, wake_cause; /* reg 114 */
    uint32_t cleared_s;        /* regs 116-117 */
} emu_tiny_stats_t;

/* Public so the caller can allocate it; fields marked (private) are not for callers. */
typedef struct emu_tinybms {
    sim_pack_t *pack;          /* set by init; its charge_fet/discharge_fet are ours */
    uint16_t settings[EMU_TINY_SETTINGS_COUNT]; /* regs 300..399 (read-only: use write_setting) */
    bool ext_absent[2];        /* scenario knob: external sensor #1/#2 not connected */
    uint16_t serial[6];        /* regs 504..509, from the seed */
    /* state (read-only) */
    bool asleep;
    emu_tiny_prot_state_t prot[EMU_TINY_PROT_COUNT];
    emu_tiny_stats_t stats;
    emu_tiny_event_t events[EMU_TINY_MAX_EVENTS]; /* ring, events_first is the oldest */
    unsigned events_first, events_count;
    uint8_t last_status;
    unsigned faults;
    uint32_t late_ms;
    /* private */
    bool drop_next_frame;      /* woken by this frame: no reply */
    bool have_frozen;
    uint16_t frozen[EMU_TINY_LIVE_REGS];
    uint64_t boot_us, last_rx_us, now_us;
    uint8_t rx[EMU_TINY_MAX_FRAME];
    size_t rx_len;
    uint8_t reply[EMU_TINY_MAX_REPLY];
    size_t reply_len;
    uint64_t reply_at_us;
    /* counters (read-only) */
    uint32_t frames;           /* complete frames heard */
    uint32_t crc_errors;       /* frames with a bad CRC */
    uint32_t bad_frames;       /* unknown command or malformed fields */
    uint32_t timeouts;         /* partial frames dropped after an inter-byte gap */
    uint32_t noise_bytes;      /* bytes outside any frame */
    uint32_t wake_frames;      /* frames that only woke the device */
    uint32_t asleep_bytes;     /* bytes lost while stuck asleep */
    uint32_t replies, nacks;
    uint32_t reboots;
} emu_tinybms_t;

/* Set up the BMS on a pack, awake, default settings, event 0x61 logged. Sets
 * pack->external_bms = true: from now on this emulator drives the pack's
 * charge_fet / discharge_fet (closed unless a protection is active). */
void emu_tiny_init(emu_tinybms_t *e, sim_pack_t *pack, uint64_t seed, uint64_t now_us);
/* Bytes from the host. A complete request queues a reply (see timing above). */
void emu_tiny_feed(emu_tinybms_t *e, const uint8_t *data, size_t len, uint64_t now_us);
/* Take the pending reply: bytes into out, the time its first byte goes out
 * into *start_us. Returns its length, 0 when none (or cap too small: it stays
 * pending; EMU_TINY_MAX_REPLY always fits). */
size_t emu_tiny_take_reply(emu_tinybms_t *e, uint8_t *out, size_t cap, uint64_t *start_us);
/* Every 100 ms of sim time: sleep timer, protection (switches, events), statistics. */
void emu_tiny_tick(emu_tinybms_t *e, uint64_t now_us);
/* Replace the fault mask (EMU_TINY_F_*; 0 clears). */
void emu_tiny_set_faults(emu_tinybms_t *e, unsigned mask, uint32_t late_ms);
/* Reset the BMS: statistics, events and settings kept, event 0x61 logged,
 * protections re-evaluated from scratch, pending bytes dropped, awake. */
void emu_tiny_reboot(emu_tinybms_t *e, uint64_t now_us); /* reg 114 reset cause 0x05 (POR) */
/* Write a setting (300..399) as a 0x10 write would, range-checked.
 * Returns 0, or -1 (nothing changed). */
int emu_tiny_write_setting(emu_tinybms_t *e, unsigned reg, uint16_t value);
bool emu_tiny_asleep(const emu_tinybms_t *e);

/* Additions for tests and tools. */
/* Put the BMS to sleep now, as if its sleep timer had run out (it wakes as usual). */
void emu_tiny_sleep(emu_tinybms_t *e);
/* Read n registers from first as a 0x03/0x07 would (FROZEN applies).
 * Returns 0, or -1 when the range leaves 0..599. */
int emu_tiny_read_regs(const emu_tinybms_t *e, unsigned first, unsigned n, uint16_t *out);
/* How many times event id is in the log. */
unsigned emu_tiny_event_count(const emu_tinybms_t *e, uint8_t id);

#endif
