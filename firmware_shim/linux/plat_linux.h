/* SPDX-License-Identifier: MIT */
/* The platform API bound to real devices on a Linux host: UART ports are
 * serial lines (USB adapters, real ports, PTYs), CAN buses are SocketCAN
 * interfaces or SLCAN adapters, GPIO goes to the log and a status file.
 *
 * Received bytes and frames are read into buffers here when poll() says so
 * (plat_linux_service), so the daemon's poll loop never spins on data the
 * firmware has not asked for yet. A lost device is reported in the log and
 * reopened every PLAT_LINUX_REOPEN_MS until it comes back. Single-threaded. */
#ifndef PLAT_LINUX_H
#define PLAT_LINUX_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "can_socket.h"
#include "dev_spec.h"
#include "gpio_host.h"
#include "platform.h"
#include "serial_port.h"
#include "slcan.h"

#define PLAT_LINUX_UARTS 2u
#define PLAT_LINUX_BUSES 2u
#define PLAT_LINUX_UART_RX 4096u
#define PLAT_LINUX_CAN_RXQ 128u
#define PLAT_LINUX_REOPEN_MS 1000u
#define PLAT_LINUX_SLCAN_BAUD 115200u /* serial rate of SLCAN adapters (USB CDC ones ignore it) */
#define PLAT_LINUX_MAX_FDS (PLAT_LINUX_UARTS + PLAT_LINUX_BUSES)

typedef struct plat_linux_uart {
    bool used;                  /* private */
    serial_spec_t spec;
    uint32_t baud;
    serial_port_t port;
    uint8_t rx[PLAT_LINUX_UART_RX];
    size_t rx_len;
    uint64_t rx_dropped;        /* read-only: bytes lost to a full buffer */
    uint64_t retry_ms;
} plat_linux_uart_t;

typedef struct plat_linux_can {
    bool used;                  /* private */
    can_spec_t spec;
    uint32_t bitrate;
    can_socket_t sock;          /* SOCKETCAN */
    serial_port_t ser;          /* SLCAN: the adapter's serial line */
    slcan_t slcan;
    slcan_state_t slcan_seen;   /* last state logged */
    plat_can_frame_t rxq[PLAT_LINUX_CAN_RXQ];
    unsigned rxq_head, rxq_len;
    uint64_t rx_dropped;        /* read-only */
    uint64_t retry_ms;
    uint64_t now_ms;            /* for the SLCAN write callback's timing */
} plat_linux_can_t;

typedef struct plat_linux {
    plat_api_t api;             /* hand this to gateway_init */
    plat_linux_uart_t uart[PLAT_LINUX_UARTS];
    plat_linux_can_t can[PLAT_LINUX_BUSES];
    gpio_host_t gpio;
    FILE *log;                  /* where log lines go (stderr unless set) */
    uint64_t now_ms;            /* host clock at the last service / tick */
    /* private: which device each pollfd of the last plat_linux_pollfds belongs to */
    int fd_owner[PLAT_LINUX_MAX_FDS];
} plat_linux_t;

void plat_linux_init(plat_linux_t *p, FILE *log);
/* Binds UART `port` to spec (baud 0 in spec: default_baud) and opens it now.
 * 0, or -1 with a message naming the device. */
int plat_linux_add_uart(plat_linux_t *p, unsigned port, const serial_spec_t *spec,
                        uint32_t default_baud, char *err, size_t cap);
/* Binds CAN `bus` to spec (bitrate 0: default_bitrate for SLCAN, unchanged for
 * SocketCAN) and opens it. An SLCAN adapter is then set up by
 * plat_linux_wait_ready. 0, or -1 with a message naming the device. */
int plat_linux_add_can(plat_linux_t *p, unsigned bus, const can_spec_t *spec,
                       uint32_t default_bitrate, char *err, size_t cap);
/* Runs the SLCAN set-up of every bound adapter until all are open (0) or
 * one refuses or stays silent (-1, err names the adapter). Blocks up to a
 * few seconds: call once at start-up. */
int plat_linux_wait_ready(plat_linux_t *p, char *err, size_t cap);
/* Fills fds (cap >= PLAT_LINUX_MAX_FDS) with the open devices; returns the count. */
size_t plat_linux_pollfds(plat_linux_t *p, struct pollfd *fds, size_t cap);
/* Handles the revents of the fds from plat_linux_pollfds: reads into the
 * buffers, writes out, notices hang-ups. true when data arrived. */
bool plat_linux_service(plat_linux_t *p, const struct pollfd *fds, size_t n, uint64_t now_ms);
/* Reopens lost devices, times SLCAN replies, reads controller states. */
void plat_linux_tick(plat_linux_t *p, uint64_t now_ms);
/* The earliest ms at which plat_linux_tick has work; UINT64_MAX for none. */
uint64_t plat_linux_deadline(const plat_linux_t *p);
/* One stamped line to the log ("2026-11-23 10:04:05.123 line"). */
void plat_linux_logf(plat_linux_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plat_linux_close(plat_linux_t *p);

#endif
