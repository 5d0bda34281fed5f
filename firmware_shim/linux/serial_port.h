/* SPDX-License-Identifier: MIT */
/* One serial line on a host: libserialport for real ports and USB adapters
 * (found by path, VID:PID[:SERIAL] or description), termios for PTYs and any
 * path libserialport refuses (it looks ports up in /sys/class/tty, where
 * PTYs have no entry). 8N1, no flow control, non-blocking, locked with
 * flock() so two programs cannot share a line by accident.
 *
 * Reads and writes go through the fd the caller polls; a hang-up or an I/O
 * error closes the port and marks it lost, and serial_open can be called
 * again to reopen it (an unplugged USB adapter that came back). */
#ifndef SERIAL_PORT_H
#define SERIAL_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dev_spec.h"

#define SERIAL_TX_BUF 4096u

typedef enum serial_err {
    SERIAL_OK = 0,
    SERIAL_E_MISSING = -1,  /* no such device / no matching adapter */
    SERIAL_E_BUSY = -2,     /* another program holds it (lock, EBUSY) */
    SERIAL_E_ACCESS = -3,   /* permission denied */
    SERIAL_E_CONFIG = -4,   /* not a tty, or the baud rate is not supported */
    SERIAL_E_IO = -5,       /* anything else */
} serial_err_t;

struct sp_port;

typedef struct serial_port {
    int fd;                     /* read-only: -1 while closed */
    bool lost;                  /* read-only: was open, then hung up or failed */
    bool via_termios;           /* read-only: termios backend (PTY), else libserialport */
    char name[DEV_SPEC_TEXT_MAX]; /* read-only: the device node opened */
    uint64_t tx_refused;        /* writes that did not fit in the buffer */
    /* private */
    struct sp_port *sp;
    uint8_t tx[SERIAL_TX_BUF];
    size_t tx_len;
} serial_port_t;

void serial_init(serial_port_t *p);
/* Finds and opens the port of spec at baud. SERIAL_OK, or an error with a
 * message naming the device in err ("/dev/ttyUSB0: busy: locked by another
 * program"). */
serial_err_t serial_open(serial_port_t *p, const serial_spec_t *spec, uint32_t baud, char *err,
                         size_t cap);
/* Non-blocking read: bytes read, 0 when none or closed. On a hang-up or an
 * I/O error the port is closed, lost is set and why is in err (when not NULL;
 * without the device name, which the caller adds). */
size_t serial_read(serial_port_t *p, uint8_t *buf, size_t cap, char *err, size_t err_cap);
/* All or nothing into the transmit buffer, then as much as the line takes
 * now; returns len, or 0 when closed or the buffer has no room for it all. */
size_t serial_write(serial_port_t *p, const uint8_t *buf, size_t len);
/* Writes out buffered bytes (call on POLLOUT). Hang-ups as in serial_read. */
void serial_flush(serial_port_t *p, char *err, size_t err_cap);
bool serial_wants_write(const serial_port_t *p);
/* Marks the port lost and closes it (the caller saw POLLHUP/POLLERR). */
void serial_hangup(serial_port_t *p);
void serial_close(serial_port_t *p);

#endif
