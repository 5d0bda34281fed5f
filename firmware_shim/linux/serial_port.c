/* SPDX-License-Identifier: MIT */
/* Serial lines on a host (see serial_port.h). */
#define _DEFAULT_SOURCE /* cfmakeraw, cfsetspeed, flock */
#include "serial_port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

void serial_init(serial_port_t *p)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
}

static const struct {
    uint32_t baud;
    speed_t code;
} speeds[] = {
    {300, B300},         {600, B600},         {1200, B1200},       {2400, B2400},
    {4800, B4800},       {9600, B9600},       {19200, B19200},     {38400, B38400},
    {57600, B57600},     {115200, B115200},   {230400, B230400},   {460800, B460800},
    {500000, B500000},   {921600, B921600},   {1000000, B1000000}, {2000000, B2000000},
    {3000000, B3000000}, {4000000, B4000000},
};

static bool speed_code(uint32_t baud, speed_t *code)
{
    for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++) {
        if (speeds[i].baud == baud) {
            *code = speeds[i].code;
            return true;
        }
    }
    return false;
}

static serial_err_t err_of_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
        return SERIAL_E_MISSING;
    case EBUSY:
    case EWOULDBLOCK:
        return SERIAL_E_BUSY;
    case EACCES:
    case EPERM:
        return SERIAL_E_ACCESS;
    default:
        return SERIAL_E_IO;
    }
}

static serial_err_t fail_errno(const char *dev, const char *what, int e, char *err, size_t cap)
{
    serial_err_t r = err_of_errno(e);
    const char *kind = r == SERIAL_E_MISSING  ? "no such device"
                       : r == SERIAL_E_BUSY   ? "busy"
                       : r == SERIAL_E_ACCESS ? "permission denied"
                                              : "cannot open";
    snprintf(err, cap, "%s: %s (%s: %s)", dev, kind, what, strerror(e));
    return r;
}

/* Takes the advisory lock every well-behaved serial tool honours, and
 * TIOCEXCL so that other (non-root) opens fail with EBUSY. */
static serial_err_t lock_fd(int fd, const char *dev, char *err, size_t cap)
{
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            snprintf(err, cap, "%s: busy: locked by another program", dev);
            return SERIAL_E_BUSY;
        }
        return fail_errno(dev, "flock", errno, err, cap);
    }
    (void)ioctl(fd, TIOCEXCL);
    return SERIAL_OK;
}

/* Raw 8N1 at baud, no flow control, non-blocking reads. */
static serial_err_t set_line(int fd, const char *dev, uint32_t baud, char *err, size_t cap)
{
    speed_t code;
    if (!speed_code(baud, &code)) {
        snprintf(err, cap, "%s: unsupported baud rate %u", dev, (unsigned)baud);
        return SERIAL_E_CONFIG;
    }
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        if (errno == ENOTTY || errno == EINVAL) {
            snprintf(err, cap, "%s: not a serial port (tcgetattr: %s)", dev, strerror(errno));
            return SERIAL_E_CONFIG;
        }
        return fail_errno(dev, "tcgetattr", errno, err, cap);
    }
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (cfsetspeed(&t, code) != 0 || tcsetattr(fd, TCSANOW, &t) != 0) {
        return fail_errno(dev, "tcsetattr", errno, err, cap);
    }
    return SERIAL_OK;
}

static serial_err_t open_termios(serial_port_t *p, const char *path, uint32_t baud, char *err,
                                 size_t cap)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return fail_errno(path, "open", errno, err, cap);
    }
    serial_err_t r = lock_fd(fd, path, err, cap);
    if (r == SERIAL_OK) {
        r = set_line(fd, path, baud, err, cap);
    }
    if (r != SERIAL_OK) {
        close(fd);
        return r;
    }
    p->fd = fd;
    p->via_termios = true;
    return SERIAL_OK;
}

static serial_err_t fail_sp(const char *dev, const char *what, char *err, size_t cap)
{
    int e = sp_last_error_code();
    return fail_errno(dev, what, e != 0 ? e : EIO, err, cap);
}

/* Opens a port libserialport knows; baud and framing go through it. */
static serial_err_t open_sp(serial_port_t *p, struct sp_port *sp, uint32_t baud, char *err,
                            size_t cap)
{
    const char *dev = sp_get_port_name(sp);
    if (sp_open(sp, SP_MODE_READ_WRITE) != SP_OK) {
        serial_err_t r = fail_sp(dev, "sp_open", err, cap);
        sp_free_port(sp);
        return r;
    }
    int fd = -1;
    serial_err_t r = SERIAL_OK;
    if (sp_get_port_handle(sp, &fd) != SP_OK || fd < 0) {
        r = fail_sp(dev, "sp_get_port_handle", err, cap);
    }
    if (r == SERIAL_OK) {
        r = lock_fd(fd, dev, err, cap);
    }
    if (r == SERIAL_OK &&
        (sp_set_baudrate(sp, (int)baud) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
         sp_set_parity(sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(sp, 1) != SP_OK ||
         sp_set_flowcontrol(sp, SP_FLOWCONTROL_NONE) != SP_OK)) {
        snprintf(err, cap, "%s: cannot set %u 8N1 (%s)", dev, (unsigned)baud,
                 sp_last_error_message());
        r = SERIAL_E_CONFIG;
    }
    if (r == SERIAL_OK) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            r = fail_errno(dev, "fcntl", errno, err, cap);
        }
    }
    if (r != SERIAL_OK) {
        sp_close(sp);
        sp_free_port(sp);
        return r;
    }
    p->sp = sp;
    p->fd = fd;
    p->via_termios = false;
    return SERIAL_OK;
}

static bool port_matches(struct sp_port *sp, const serial_spec_t *spec)
{
    if (spec->kind == SERIAL_SPEC_DESC) {
        const char *d = sp_get_port_description(sp);
        return d != NULL && strstr(d, spec->desc) != NULL;
    }
    int vid = -1, pid = -1;
    if (sp_get_port_transport(sp) != SP_TRANSPORT_USB ||
        sp_get_port_usb_vid_pid(sp, &vid, &pid) != SP_OK || vid != spec->vid ||
        pid != spec->pid) {
        return false;
    }
    const char *sn = sp_get_port_usb_serial(sp);
    return spec->serial[0] == '\0' || (sn != NULL && strcmp(sn, spec->serial) == 0);
}

/* The first enumerated port that matches a usb: or desc: spec. */
static serial_err_t find_port(const serial_spec_t *spec, struct sp_port **out, char *err,
                              size_t cap)
{
    char what[DEV_SPEC_TEXT_MAX + 32];
    serial_spec_format(spec, what, sizeof what);
    struct sp_port **list = NULL;
    if (sp_list_ports(&list) != SP_OK) {
        snprintf(err, cap, "%s: cannot list serial ports (%s)", what, sp_last_error_message());
        return SERIAL_E_IO;
    }
    serial_err_t r = SERIAL_E_MISSING;
    for (size_t i = 0; list[i] != NULL; i++) {
        if (port_matches(list[i], spec)) {
            r = sp_copy_port(list[i], out) == SP_OK ? SERIAL_OK : SERIAL_E_IO;
            break;
        }
    }
    sp_free_port_list(list);
    if (r == SERIAL_E_MISSING) {
        snprintf(err, cap, "%s: no such serial adapter is plugged in (see bmsbench ports)", what);
    } else if (r != SERIAL_OK) {
        snprintf(err, cap, "%s: %s", what, sp_last_error_message());
    }
    return r;
}

serial_err_t serial_open(serial_port_t *p, const serial_spec_t *spec, uint32_t baud, char *err,
                         size_t cap)
{
    serial_close(p);
    p->tx_len = 0;
    struct sp_port *sp = NULL;
    serial_err_t r;
    if (spec->kind == SERIAL_SPEC_PATH) {
        struct stat st;
        if (stat(spec->path, &st) != 0) {
            return fail_errno(spec->path, "stat", errno, err, cap);
        }
        /* PTYs and anything else libserialport cannot find in sysfs: termios. */
        if (strncmp(spec->path, "/dev/pts/", 9) == 0 ||
            sp_get_port_by_name(spec->path, &sp) != SP_OK) {
            r = open_termios(p, spec->path, baud, err, cap);
            snprintf(p->name, sizeof p->name, "%s", spec->path);
            if (r == SERIAL_OK) {
                p->lost = false;
            }
            return r;
        }
    } else {
        r = find_port(spec, &sp, err, cap);
        if (r != SERIAL_OK) {
            return r;
        }
    }
    snprintf(p->name, sizeof p->name, "%s", sp_get_port_name(sp));
    r = open_sp(p, sp, baud, err, cap);
    if (r == SERIAL_OK) {
        p->lost = false;
    }
    return r;
}

/* A read or write error: hang-ups close the port and mark it lost. */
static void io_failed(serial_port_t *p, const char *what, int e, char *err, size_t cap)
{
    if (err != NULL) {
        snprintf(err, cap, "device lost (%s: %s)", what, e != 0 ? strerror(e) : "hang-up");
    }
    serial_hangup(p);
}

size_t serial_read(serial_port_t *p, uint8_t *buf, size_t cap, char *err, size_t err_cap)
{
    if (p->fd < 0 || cap == 0) {
        return 0;
    }
    ssize_t n = read(p->fd, buf, cap);
    if (n > 0) {
        return (size_t)n;
    }
    /* A raw tty with VMIN = VTIME = 0 reads 0 when empty, even non-blocking:
     * only an error (EIO on a PTY whose master closed) means the far end is
     * gone here; a hung-up tty reading 0 is noticed through POLLHUP. */
    if (n == 0 || errno == EAGAIN || errno == EINTR) {
        return 0;
    }
    io_failed(p, "read", errno, err, err_cap);
    return 0;
}

void serial_flush(serial_port_t *p, char *err, size_t err_cap)
{
    while (p->fd >= 0 && p->tx_len > 0) {
        ssize_t n = write(p->fd, p->tx, p->tx_len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                io_failed(p, "write", errno, err, err_cap);
            }
            return;
        }
        memmove(p->tx, p->tx + n, p->tx_len - (size_t)n);
        p->tx_len -= (size_t)n;
    }
}

size_t serial_write(serial_port_t *p, const uint8_t *buf, size_t len)
{
    if (p->fd < 0 || len > sizeof p->tx - p->tx_len) {
        p->tx_refused++;
        return 0;
    }
    memcpy(p->tx + p->tx_len, buf, len);
    p->tx_len += len;
    /* A write error shows up as a hang-up on the next poll; no message here. */
    serial_flush(p, NULL, 0);
    return len;
}

bool serial_wants_write(const serial_port_t *p)
{
    return p->fd >= 0 && p->tx_len > 0;
}

void serial_hangup(serial_port_t *p)
{
    bool was_open = p->fd >= 0;
    serial_close(p);
    p->lost = was_open || p->lost;
}

void serial_close(serial_port_t *p)
{
    if (p->sp != NULL) {
        sp_close(p->sp);
        sp_free_port(p->sp);
        p->sp = NULL;
    } else if (p->fd >= 0) {
        close(p->fd);
    }
    p->fd = -1;
    p->tx_len = 0;
}
