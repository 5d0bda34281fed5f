/* SPDX-License-Identifier: MIT */
/* PTY pairs with termios raw mode (see pty.h). libserialport cannot open
 * PTYs (it looks ports up under /sys/class/tty), so this is plain termios. */
#include "harness/live/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

unsigned bench_baud_to_speed(unsigned baud)
{
    static const struct {
        unsigned baud;
        speed_t speed;
    } rates[] = {
        {300, B300},       {1200, B1200},     {2400, B2400},     {4800, B4800},
        {9600, B9600},     {19200, B19200},   {38400, B38400},   {57600, B57600},
        {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600},
    };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (rates[i].baud == baud) {
            return (unsigned)rates[i].speed;
        }
    }
    return 0;
}

int bench_tty_raw(int fd, unsigned baud)
{
    struct termios t;
    unsigned speed = bench_baud_to_speed(baud);
    if (speed == 0) {
        errno = EINVAL;
        return -1;
    }
    if (tcgetattr(fd, &t) != 0) {
        return -1;
    }
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
    t.c_cflag |= CLOCAL | CREAD | CS8;
    /* VMIN = 1: on our non-blocking fds an empty read then says EAGAIN; with
     * VMIN = 0 a raw tty answers 0, which the readers would take for a
     * hang-up (an adapter unplugged) at the first idle moment. */
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, (speed_t)speed) != 0 || cfsetospeed(&t, (speed_t)speed) != 0) {
        return -1;
    }
    return tcsetattr(fd, TCSANOW, &t);
}

int bench_pty_open(bench_pty_t *p, unsigned baud, char *err, size_t errcap)
{
    p->master_fd = p->slave_fd = -1;
    p->slave_path[0] = '\0';
    int m, s;
    if (openpty(&m, &s, NULL, NULL, NULL) != 0) {
        snprintf(err, errcap, "openpty: %s", strerror(errno));
        return -1;
    }
    p->master_fd = m;
    p->slave_fd = s;
    if (ttyname_r(s, p->slave_path, sizeof p->slave_path) != 0) {
        snprintf(err, errcap, "ttyname: %s", strerror(errno));
        bench_pty_close(p);
        return -1;
    }
    if (bench_tty_raw(s, baud) != 0 || bench_tty_raw(m, baud) != 0) {
        snprintf(err, errcap, "%s: termios raw %u Bd: %s", p->slave_path, baud, strerror(errno));
        bench_pty_close(p);
        return -1;
    }
    int fl = fcntl(m, F_GETFL);
    if (fl < 0 || fcntl(m, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(m, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(s, F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, errcap, "fcntl: %s", strerror(errno));
        bench_pty_close(p);
        return -1;
    }
    return 0;
}

void bench_pty_close(bench_pty_t *p)
{
    if (p->master_fd >= 0) {
        close(p->master_fd);
    }
    if (p->slave_fd >= 0) {
        close(p->slave_fd);
    }
    p->master_fd = p->slave_fd = -1;
}
