/* SPDX-License-Identifier: MIT */
/* Readers for CAN logs (candump -L, candump's default console format, Vector
 * ASC) and for BMS serial captures, streamed line by line from a FILE *.
 *
 * Grammar (width-bounded, like can-utils canplayer; lines are at most
 * BENCH_LOG_LINE_MAX characters):
 *   candump -L:   (SEC.FRAC) IFACE ID#DATA [R|T]
 *                 FRAC has 6 or 9 digits; ID 3 (11-bit) or 8 (29-bit) hex digits;
 *                 DATA 0..8 hex pairs, '.' separators allowed; ID#R[len] is remote;
 *                 _X after 8 bytes is the raw DLC 9..15. Lines not starting
 *                 with '(' are comments. ID##... (CAN FD) is skipped, not an error.
 *   candump:      [(SEC.FRAC)]  IFACE  ID   [N]  B0 B1 ...  (default console
 *                 output, with or without -t a); "remote request" for RTR frames.
 *                 Without a timestamp frames carry has_time = false.
 *   Vector ASC:   header (date/base/internal events/Begin Triggerblock/End
 *                 TriggerBlock, // comments) is skipped; events are
 *                 TIME CHAN ID[x] Rx|Tx d DLC B0..Bn [Length = ... ]
 *                 (r DLC for remote); `base dec` switches ids to decimal.
 *                 Status, Statistic, ErrorFrame and other event lines are skipped.
 *   Serial capture (the recorder's bms-serial.txt, docs/recordings.md):
 *                 SEC.FRAC DIR HEX..., one frame per line; DIR is rx (bytes to
 *                 the gateway) or tx (bytes the gateway sent), rx+/tx+ when the
 *                 line continues the previous line's frame; hex pairs with
 *                 optional spaces; '#' starts a comment line. Also taken as
 *                 directions: to-gw/from-gw and </>.
 *
 * Every malformed line is reported as "FILE:LINE: message" to the error
 * stream (when one is given), counted, and skipped. A last line without a
 * newline is damage (a log cut while written): it is reported as truncated
 * and dropped. Nothing here can read out of bounds on any input. */
#ifndef BENCH_LOGFMT_READ_H
#define BENCH_LOGFMT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_LOG_LINE_MAX 1024     /* longer lines are malformed (CANoe lines fit) */
#define BENCH_LOG_IFACE_MAX 16      /* IFNAMSIZ - 1 */
#define BENCH_LOG_SERIAL_MAX 256    /* bytes on one serial capture line */

/* SocketCAN flag bits carried in bench_logframe_t.id. */
#define BENCH_LOG_EFF 0x80000000u
#define BENCH_LOG_RTR 0x40000000u
#define BENCH_LOG_ERR 0x20000000u

typedef enum bench_logfmt {
    BENCH_LOGFMT_AUTO = 0,          /* decided by the first content line */
    BENCH_LOGFMT_CANDUMP_L,
    BENCH_LOGFMT_CANDUMP,
    BENCH_LOGFMT_ASC,
    BENCH_LOGFMT_SERIAL,
} bench_logfmt_t;

typedef struct bench_logframe {
    uint64_t t_us;                  /* time as written (ASC: relative seconds) */
    bool has_time;                  /* false for candump default output without -t */
    uint32_t id;                    /* with BENCH_LOG_EFF/RTR/ERR flags */
    uint8_t dlc;                    /* raw DLC as written (0..15), bytes = min(dlc, 8) */
    uint8_t len;                    /* data bytes present */
    uint8_t data[8];
    char iface[BENCH_LOG_IFACE_MAX + 1];   /* ASC: the channel number as text */
    char dir;                       /* 'R', 'T' or 0 (unknown) */
    unsigned long line;             /* where it was read */
} bench_logframe_t;

typedef struct bench_serialrec {
    uint64_t t_us;
    bool to_gateway;                /* rx: bytes the BMS sent to the gateway */
    bool cont;                      /* rx+/tx+: continues the previous line's frame */
    size_t len;
    uint8_t bytes[BENCH_LOG_SERIAL_MAX];
    unsigned long line;
} bench_serialrec_t;

typedef struct bench_logreader {
    /* set by init */
    FILE *in;
    char name[256];                 /* file name used in messages */
    FILE *err;                      /* where "file:line: message" goes, NULL = nowhere */
    bench_logfmt_t fmt;             /* AUTO until the first content line decides */
    /* read-only counters */
    unsigned long line;             /* last line read (1-based) */
    uint64_t frames;                /* frames / serial records returned */
    uint64_t malformed;             /* lines reported and dropped */
    uint64_t skipped;               /* comments, headers, CAN FD, status lines */
    bool truncated;                 /* the last line had no newline */
    char last_error[320];           /* the last message, without the file:line prefix */
    /* private */
    bool asc_dec;
    bool eof;
    size_t start, end;
    char buf[1u << 16];
} bench_logreader_t;

/* Start reading `in` (not closed by the reader). name is used in messages.
 * fmt may be AUTO. */
void bench_logreader_init(bench_logreader_t *r, FILE *in, const char *name, bench_logfmt_t fmt,
                          FILE *err);
/* Next CAN frame: 1 with *f filled, 0 at the end of the input. Malformed
 * lines are reported and skipped on the way. Returns 0 at once for a
 * serial capture. */
int bench_logreader_next(bench_logreader_t *r, bench_logframe_t *f);
/* Next serial capture record: 1, or 0 at the end. */
int bench_logreader_next_serial(bench_logreader_t *r, bench_serialrec_t *s);

/* One line on its own (no newline), for tests and fuzzing: 1 frame, 0 not a
 * frame (comment, header, skipped), -1 malformed with the reason in msg.
 * asc_dec: ASC `base dec`. fmt must not be AUTO. */
int bench_logline_parse(bench_logfmt_t fmt, const char *line, size_t len, bool asc_dec,
                        bench_logframe_t *f, char *msg, size_t cap);
int bench_serialline_parse(const char *line, size_t len, bench_serialrec_t *s, char *msg,
                           size_t cap);

/* Guess the format of one content line: AUTO when it says nothing (blank). */
bench_logfmt_t bench_logfmt_guess(const char *line, size_t len);
const char *bench_logfmt_name(bench_logfmt_t fmt);
/* "candump-l", "candump", "asc", "serial", "auto" -> fmt; false when unknown. */
bool bench_logfmt_parse_name(const char *s, bench_logfmt_t *fmt);

#endif
