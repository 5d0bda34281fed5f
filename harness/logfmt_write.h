/* SPDX-License-Identifier: MIT */
/* Writers for the recording formats other tools read: candump -L lines, Vector
 * ASC header/lines/trailer, classic pcap with LINKTYPE_CAN_SOCKETCAN, the
 * serial capture lines and CSV numbers (docs/recordings.md). Pure
 * formatting into caller buffers: no I/O, no allocation. */
#ifndef BENCH_LOGFMT_WRITE_H
#define BENCH_LOGFMT_WRITE_H

#include "sim/canbus.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer sizes that always fit one line / record of each writer. */
#define BENCH_LOGFMT_CANDUMP_MAX 96  /* "(" 20 "." 6 ") " ifname(<=16) " " 8 "#" 16 "\n" */
#define BENCH_LOGFMT_ASC_LINE_MAX 96 /* time(<=27) ch(<=11) id(15) dir(4) "d 8" 8 x 3 "\n" */
#define BENCH_LOGFMT_ASC_HEADER_MAX 256
#define BENCH_LOGFMT_IFNAME_MAX 16 /* IFNAMSIZ, including the NUL */
#define BENCH_PCAP_HEADER_LEN 24
#define BENCH_PCAP_RECORD_LEN 32 /* 16-byte record header + 16-byte SocketCAN frame */
#define BENCH_PCAP_LINKTYPE_CAN_SOCKETCAN 227u
#define BENCH_SERIAL_LINE_BYTES 256 /* longest frame on one capture line */
/* "<sec>.<usec> <dir>[+]" + " XX" per byte + "\n" */
#define BENCH_LOGFMT_SERIAL_LINE_MAX (32 + 3 * BENCH_SERIAL_LINE_BYTES + 2)

/* SocketCAN can_id flag bits (linux/can.h), spelled out so the host headers
 * are not needed. */
#define BENCH_SOCKETCAN_EFF_FLAG 0x80000000u
#define BENCH_SOCKETCAN_RTR_FLAG 0x40000000u
#define BENCH_SOCKETCAN_ERR_FLAG 0x20000000u

/* True when f can be written by every CAN writer: dlc 0..8, an 11-bit id
 * without SIM_CAN_EFF_FLAG or a 29-bit id with it. */
bool bench_logfmt_frame_ok(const sim_can_frame_t *f);

/* One candump -L line, as can-utils candump writes it:
 *   "(%010u.%06u) <ifname> <ID>#<DATA>\n"
 * ID is 3 upper-case hex digits (11-bit) or 8 (29-bit), DATA 0..8 upper-case
 * hex byte pairs without separators. Example:
 *   "(1700000001.250000) can0 351#2802E803DC05D001\n"
 * t_us is the absolute time in microseconds (the caller adds the epoch).
 * Returns the length written (NUL-terminated), or -1 for a frame that is not
 * bench_logfmt_frame_ok, an empty or too long ifname, or cap too small. */
int bench_logfmt_candump_line(char *out, size_t cap, uint64_t t_us, const char *ifname,
                              const sim_can_frame_t *f);

/* The ASC header, CANoe style, with the start of measurement at epoch_s
 * (UTC), e.g. for 1700000000:
 *   "date Tue Nov 14 22:13:20.000 2023\n"
 *   "base hex  timestamps absolute\n"
 *   "internal events logged\n"
 *   "Begin Triggerblock Tue Nov 14 22:13:20.000 2023\n"
 *   "   0.000000 Start of measurement\n"
 * Returns the length, or -1 when cap is too small or the date cannot be
 * represented. */
int bench_logfmt_asc_header(char *out, size_t cap, int64_t epoch_s);

/* One classic CAN event line; rel_us is the time since the start of
 * measurement, channel is 1-based, tx is true for frames the gateway sent:
 *   "   1.234567 1  351             Rx   d 8 28 02 E8 03 DC 05 D0 01\n"
 * (time "%4u.%06u", channel, two spaces, id left-aligned in 15 with an "x"
 * suffix for 29-bit ids, direction left-aligned in 4, "d", DLC in hex, data
 * bytes). Returns the length, or -1 for a bad frame, channel < 1 or cap too
 * small. */
int bench_logfmt_asc_line(char *out, size_t cap, uint64_t rel_us, int channel, bool tx,
                          const sim_can_frame_t *f);

/* "End TriggerBlock\n". Returns the length, or -1 when cap is too small. */
int bench_logfmt_asc_trailer(char *out, size_t cap);

/* The 24-byte classic pcap global header, little-endian, microsecond
 * timestamps (magic 0xA1B2C3D4), version 2.4, snaplen 65535, link type 227. */
void bench_logfmt_pcap_header(uint8_t out[BENCH_PCAP_HEADER_LEN]);

/* One pcap record: ts_sec, ts_usec, incl_len = orig_len = 16 (little-endian),
 * then the SocketCAN frame: can_id big-endian with BENCH_SOCKETCAN_EFF_FLAG for
 * 29-bit ids, len, three zero bytes, 8 data bytes (zero padded). t_us is the
 * absolute time; seconds past 2^32-1 cannot be represented. Returns 0, or -1
 * for a bad frame or a time out of range (out is then untouched). */
int bench_logfmt_pcap_record(uint8_t out[BENCH_PCAP_RECORD_LEN], uint64_t t_us,
                             const sim_can_frame_t *f);

/* One serial capture line (docs/recordings.md):
 *   "<sec>.<usec> <tx|rx>[+] XX XX ...\n"
 * tx = the gateway sent it; cont marks the continuation of a frame longer
 * than BENCH_SERIAL_LINE_BYTES. n must be 1..BENCH_SERIAL_LINE_BYTES.
 * Returns the length, or -1 when n is out of range or cap too small. */
int bench_logfmt_serial_line(char *out, size_t cap, uint64_t t_us, bool tx, bool cont,
                             const uint8_t *bytes, size_t n);

/* One CSV number: "%.7g", nothing for NaN or infinity (an empty field).
 * Returns the length, or -1 when cap is too small. */
int bench_logfmt_csv_number(char *out, size_t cap, double v);

#endif
