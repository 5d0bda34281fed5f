/* SPDX-License-Identifier: MIT */
/* Device specs as a user writes them on the command line or in a config
 * file, parsed into what the serial and CAN backends open. No I/O.
 *
 * Serial port:  PATH[@BAUD]                  /dev/ttyUSB0@9600, /dev/pts/3
 *               usb:VID:PID[:SERIAL][@BAUD]  usb:0403:6001, usb:0403:6001:BENCH01@9600
 *               desc:TEXT[@BAUD]             desc:FT232R (a substring of the USB description)
 * CAN bus:      IFACE[@BITRATE]              vcan0, can0@500000 (SocketCAN)
 *               slcan:SERIAL[@BITRATE]       slcan:/dev/ttyACM0@500000, slcan:usb:16d0:117e
 * BAUD / BITRATE are decimal; a trailing @digits is always the rate, so a
 * path or description cannot itself end in one. 0 = not given. */
#ifndef DEV_SPEC_H
#define DEV_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define DEV_SPEC_TEXT_MAX 128u

typedef enum serial_spec_kind {
    SERIAL_SPEC_PATH = 0,   /* a device node: libserialport, or termios for PTYs */
    SERIAL_SPEC_USB,        /* the USB adapter with this VID:PID (and serial number) */
    SERIAL_SPEC_DESC,       /* the port whose description contains the text */
} serial_spec_kind_t;

typedef struct serial_spec {
    serial_spec_kind_t kind;
    char path[DEV_SPEC_TEXT_MAX];   /* PATH */
    uint16_t vid, pid;              /* USB */
    char serial[DEV_SPEC_TEXT_MAX]; /* USB: empty = any */
    char desc[DEV_SPEC_TEXT_MAX];   /* DESC */
    uint32_t baud;                  /* 0 = the family's default */
} serial_spec_t;

typedef enum can_spec_kind {
    CAN_SPEC_SOCKETCAN = 0,
    CAN_SPEC_SLCAN,
} can_spec_kind_t;

typedef struct can_spec {
    can_spec_kind_t kind;
    char ifname[16];                /* SOCKETCAN: IFNAMSIZ incl. NUL */
    serial_spec_t serial;           /* SLCAN: the adapter's serial line (baud from serial spec) */
    uint32_t bitrate;               /* 0 = leave the interface as it is / the default */
} can_spec_t;

/* 0, or -1 with a message in err ("usb:0403: expected usb:VID:PID[:SERIAL]"). */
int serial_spec_parse(const char *text, serial_spec_t *out, char *err, size_t cap);
int can_spec_parse(const char *text, can_spec_t *out, char *err, size_t cap);
/* The spec back as text, for messages that must name the device. */
void serial_spec_format(const serial_spec_t *s, char *out, size_t cap);
void can_spec_format(const can_spec_t *s, char *out, size_t cap);

#endif
