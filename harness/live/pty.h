/* SPDX-License-Identifier: MIT */
/* PTY pairs for live mode: the bench keeps the master, a gateway process
 * opens the slave by its path, as it would a USB serial adapter. */
#ifndef BENCH_LIVE_PTY_H
#define BENCH_LIVE_PTY_H

#include <stddef.h>

typedef struct bench_pty {
    int master_fd;          /* the bench's end: raw, non-blocking; -1 when closed */
    int slave_fd;           /* held open so the master never reads EIO before the
                               gateway opens the slave; -1 when closed */
    char slave_path[64];    /* e.g. "/dev/pts/7" */
} bench_pty_t;

/* Open a pair, both ends raw (no echo, no line discipline) at baud (a
 * termios rate such as 9600 or 115200; a PTY ignores it but a gateway
 * reading it back sees what it would see on a real port).
 * Returns 0, or -1 with the reason in err. */
int bench_pty_open(bench_pty_t *p, unsigned baud, char *err, size_t errcap);
void bench_pty_close(bench_pty_t *p);

/* Map a baud rate to a termios speed_t; 0 when the rate has none. */
unsigned bench_baud_to_speed(unsigned baud);
/* Put fd in raw 8N1 mode at baud, no flow control. Returns 0 or -1 (errno). */
int bench_tty_raw(int fd, unsigned baud);

#endif
