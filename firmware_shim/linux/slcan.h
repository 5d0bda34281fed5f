/* SPDX-License-Identifier: MIT */
/* SLCAN (Lawicel ASCII) codec and adapter state machine: CAN over any serial
 * line, so CAN works on hosts whose kernel has no CAN support at all.
 *
 * Wire format (Lawicel CAN232/CANUSB, as slcand and CANable speak it):
 *   commands  "C\r" close, "O\r" open, "Sn\r" bitrate (n = 0..8, below),
 *             "tiiildd..\r" 11-bit frame, "Tiiiiiiiildd..\r" 29-bit frame
 *   replies   "\r" OK, "\a" (BEL, no CR) error, "z\r" / "Z\r" frame sent,
 *             received frames in the t/T form (optionally with a 4-hex-digit
 *             timestamp after the data), "V..."/"N..."/"F.." info lines.
 * Bitrate codes: S0 10k, S1 20k, S2 50k, S3 100k, S4 125k, S5 250k, S6 500k,
 * S7 800k, S8 1M (bit/s).
 *
 * No heap, no I/O: bytes go out through the write callback given to
 * slcan_init, bytes come in through slcan_feed. Single-threaded. */
#ifndef SLCAN_H
#define SLCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define SLCAN_LINE_MAX 32u      /* "T" + 8 id + dlc + 16 data + 4 timestamp + CR = 31 */
#define SLCAN_FRAME_TEXT_MAX 27u /* longest frame we send incl. CR: "T" 8 1 16 CR */
#define SLCAN_RXQ 64u
#define SLCAN_REPLY_TIMEOUT_MS 1000u

/* ---- codec (pure) ---- */

typedef enum slcan_event {
    SLCAN_EV_NONE = 0,  /* line not complete yet */
    SLCAN_EV_OK,        /* bare CR: the last command was accepted */
    SLCAN_EV_ERROR,     /* BEL: the last command was refused */
    SLCAN_EV_TX_ACK,    /* "z" / "Z": a frame was sent */
    SLCAN_EV_FRAME,     /* a received frame, returned in *f */
    SLCAN_EV_INFO,      /* V / N / F / other reply line, ignored */
    SLCAN_EV_BAD,       /* a malformed or over-long line, dropped */
    SLCAN_EV_RTR,       /* a remote frame: not representable in plat_can_frame_t, dropped */
} slcan_event_t;

typedef struct slcan_rx {
    char line[SLCAN_LINE_MAX]; /* private: the line being collected */
    size_t len;                /* private */
    bool overflow;             /* private: line ran past SLCAN_LINE_MAX, dropped at its CR */
} slcan_rx_t;

/* The Sn code of a bitrate in bit/s: 0..8, or -1 when SLCAN has none. */
int slcan_bitrate_code(uint32_t bitrate);
/* Takes one byte from the adapter; returns the event it completes (NONE
 * while a line is still arriving). *f is written only for SLCAN_EV_FRAME. */
slcan_event_t slcan_rx_byte(slcan_rx_t *rx, uint8_t b, plat_can_frame_t *f);
/* Decodes one complete line without its CR (len bytes). */
slcan_event_t slcan_decode_line(const char *line, size_t len, plat_can_frame_t *f);
/* Writes the t/T command for f, CR included, no NUL; returns its length, or
 * 0 when f is invalid (dlc > 8, id out of range) or cap is too small. */
size_t slcan_encode_frame(const plat_can_frame_t *f, char *out, size_t cap);

/* ---- adapter state machine ---- */

typedef size_t (*slcan_write_fn)(void *ctx, const uint8_t *buf, size_t len);

typedef enum slcan_state {
    SLCAN_CLOSED = 0,   /* nothing sent yet, or closed */
    SLCAN_OPENING,      /* C / Sn / O sent one by one, each waiting for its reply */
    SLCAN_OPEN,         /* frames flow */
    SLCAN_FAILED,       /* the adapter refused a command or did not answer: see error */
} slcan_state_t;

typedef struct slcan {
    slcan_state_t state;        /* read-only */
    char error[64];             /* read-only: why FAILED, e.g. "adapter refused bitrate S6" */
    uint64_t rx_frames, tx_frames, tx_acks, bells, bad_lines, rtr_dropped, rx_dropped;
    /* private */
    slcan_write_fn write;
    void *write_ctx;
    slcan_rx_t rx;
    int code;                   /* Sn of the requested bitrate */
    unsigned step;              /* 0: C sent, 1: Sn sent, 2: O sent */
    uint64_t deadline_ms;       /* reply deadline of the pending setup command */
    plat_can_frame_t rxq[SLCAN_RXQ];
    unsigned rxq_head, rxq_len;
} slcan_t;

void slcan_init(slcan_t *s, slcan_write_fn write, void *ctx);
/* Starts the C, Sn, O sequence. 0, or -1 when bitrate has no Sn code. */
int slcan_open(slcan_t *s, uint32_t bitrate, uint64_t now_ms);
/* Bytes from the adapter. */
void slcan_feed(slcan_t *s, const uint8_t *buf, size_t n, uint64_t now_ms);
/* Checks the reply deadline; call when slcan_deadline has passed. */
void slcan_poll(slcan_t *s, uint64_t now_ms);
/* Absolute ms of the next slcan_poll that matters, UINT64_MAX for none. */
uint64_t slcan_deadline(const slcan_t *s);
/* PLAT_OK, PLAT_E_BUSY (not open yet, or the line took only part: retry
 * later) or PLAT_E_IO (invalid frame, or the adapter failed). */
int slcan_send(slcan_t *s, const plat_can_frame_t *f);
/* 1 and *f when a received frame is queued, else 0. */
int slcan_recv(slcan_t *s, plat_can_frame_t *f);
/* Sends "C\r" (best effort) and returns to CLOSED. */
void slcan_close(slcan_t *s);

#endif
