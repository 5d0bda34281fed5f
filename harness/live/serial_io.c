/* SPDX-License-Identifier: MIT */
/* Serial ports by path with termios (see serial_io.h). */
#include "harness/live/serial_io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "harness/live/pty.h"

int bench_serial_open(const char *path, unsigned baud, char *err, size_t errcap)
{
    if (bench_baud_to_speed(baud) == 0) {
        snprintf(err, errcap, "%s: %u Bd is not a standard rate", path, baud);
        return -1;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!isatty(fd)) {
        snprintf(err, errcap, "%s: not a serial port", path);
        close(fd);
        return -1;
    }
    /* Exclusive use: best effort, a PTY slave may refuse it. */
    (void)ioctl(fd, TIOCEXCL);
    if (bench_tty_raw(fd, baud) != 0) {
        snprintf(err, errcap, "%s: cannot set %u Bd 8N1: %s", path, baud, strerror(errno));
        close(fd);
        return -1;
    }
    (void)tcflush(fd, TCIOFLUSH);
    return fd;
}

int bench_fd_write_all(int fd, const uint8_t *buf, size_t len, int timeout_ms)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && !(p.revents & POLLOUT)) {
            errno = EIO;
            return -1;
        }
    }
    return 0;
}
