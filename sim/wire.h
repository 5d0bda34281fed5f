/* SPDX-License-Identifier: MIT */
/* A serial line between two ends (0 and 1) with byte timing from the baud
 * rate: at 9600 8N1 each character takes 10 bit times = 1.0417 ms.
 *
 * Bytes written at one end leave one after another (a write while the
 * transmitter is busy queues behind it) and arrive at the other end when
 * their last bit is in. read() returns only bytes that have arrived by the
 * scheduler's now. On a half-duplex line (RS485) characters that overlap in
 * time with characters from the other end are corrupted at both receivers
 * and counted as collisions. */
#ifndef SIM_WIRE_H
#define SIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/sched.h"

#define SIM_WIRE_BUF 8192

typedef void (*sim_wire_notify_fn)(void *ctx, uint64_t now_us);
/* Tap: every character as it arrives, from end `from`, with its arrival
 * time. Called lazily: for the arrived characters of a direction when they
 * are read or when the burst's notify fires, whichever comes first. Each
 * character is tapped exactly once, in arrival order per direction, after
 * any collision corruption (what the receiver saw). Characters dropped
 * because the receive ring was full are counted in `dropped`, not tapped. */
typedef void (*sim_wire_tap_fn)(void *ctx, int from, uint64_t t_us, uint8_t byte);

struct sim_wire;

typedef struct sim_wire_dir {
    /* characters in flight or arrived-but-unread, in a ring */
    uint8_t buf[SIM_WIRE_BUF];
    uint64_t arrive_us[SIM_WIRE_BUF];
    uint32_t dur_us[SIM_WIRE_BUF]; /* private: on-wire time of each char (start = arrive - dur) */
    size_t head, len;          /* head = oldest unread */
    size_t tapped;             /* private: chars from head already given to the tap */
    uint64_t tx_free_us;       /* when the transmitter is next idle */
    uint64_t burst_start_ns;   /* private: start of the current back-to-back burst */
    uint64_t burst_chars;      /* private: chars sent in it so far (exact ns timing) */
    uint64_t notify_id;        /* pending arrival event, 0 if none */
    uint64_t bytes;            /* characters carried */
    uint64_t dropped;          /* overflowed the ring */
    struct sim_wire *owner;    /* private: back-pointer for the notify event */
    int end;                   /* private: the end this direction delivers to */
} sim_wire_dir_t;

typedef struct sim_wire {
    sim_sched_t *sched;
    uint32_t baud;
    unsigned bits_per_char;    /* 10 for 8N1 */
    uint64_t char_ns;          /* derived, nanoseconds per character */
    bool half_duplex;
    sim_wire_dir_t dir[2];     /* dir[e] carries bytes *to* end e */
    sim_wire_notify_fn notify[2];
    void *notify_ctx[2];
    sim_wire_tap_fn tap;
    void *tap_ctx;
    uint64_t collisions;       /* read-only: characters written that overlapped
                                  characters from the other end (half duplex) */
} sim_wire_t;

void sim_wire_init(sim_wire_t *w, sim_sched_t *s, uint32_t baud, unsigned bits_per_char,
                   bool half_duplex);
/* Called (once per write burst, when its last byte has arrived) at end e.
 * Writes that queue behind a busy transmitter extend the burst, so the
 * notify moves to the arrival of the new last byte. */
void sim_wire_set_notify(sim_wire_t *w, int end, sim_wire_notify_fn fn, void *ctx);
void sim_wire_set_tap(sim_wire_t *w, sim_wire_tap_fn fn, void *ctx);
/* Queue bytes for transmission from end `from` starting at now. Returns len. */
size_t sim_wire_write(sim_wire_t *w, int from, const uint8_t *data, size_t len);
/* Bytes that have arrived at end `at` by now, oldest first. */
size_t sim_wire_read(sim_wire_t *w, int at, uint8_t *buf, size_t cap);
/* Time the current transmission from `from` ends (now if idle). */
uint64_t sim_wire_tx_idle_at(const sim_wire_t *w, int from);

#endif
