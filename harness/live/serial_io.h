/* SPDX-License-Identifier: MIT */
/* A real serial port (USB adapter, /dev/ttyS*, or a PTY slave) opened by
 * path with termios: the bench's own access, independent of the gateway's
 * firmware_shim/linux so a transport bug cannot hide on both sides. */
#ifndef BENCH_LIVE_SERIAL_IO_H
#define BENCH_LIVE_SERIAL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Open path raw 8N1 at baud, non-blocking, exclusive (TIOCEXCL) so a second
 * program on the same adapter is refused rather than stealing bytes.
 * Returns the fd, or -1 with a message naming the path in err
 * ("/dev/ttyUSB9: No such file or directory"). */
int bench_serial_open(const char *path, unsigned baud, char *err, size_t errcap);

/* Write all of buf to a non-blocking fd, waiting at most timeout_ms for room.
 * Returns 0, or -1 (errno; EIO/ENXIO when the adapter was unplugged). */
int bench_fd_write_all(int fd, const uint8_t *buf, size_t len, int timeout_ms);

#endif
