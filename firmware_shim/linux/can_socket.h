/* SPDX-License-Identifier: MIT */
/* A SocketCAN raw socket on any interface (vcan0, can0, ...), with
 * libsocketcan for the controller: bitrate, start, stop, restart after
 * bus-off, state and error counters. Virtual interfaces have no controller;
 * the controller calls are then skipped. Non-blocking. */
#ifndef CAN_SOCKET_H
#define CAN_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define CAN_SOCKET_CHECK_MS 1000u  /* controller state poll period */

typedef enum can_ctrl_state {
    CAN_CTRL_UNKNOWN = -1,         /* no controller (vcan) or not read yet */
    CAN_CTRL_ERROR_ACTIVE = 0,     /* the values of linux/can/netlink.h's can_state */
    CAN_CTRL_ERROR_WARNING,
    CAN_CTRL_ERROR_PASSIVE,
    CAN_CTRL_BUS_OFF,
    CAN_CTRL_STOPPED,
    CAN_CTRL_SLEEPING,
} can_ctrl_state_t;

typedef struct can_socket {
    int fd;                     /* read-only: -1 while closed */
    char ifname[16];            /* read-only */
    can_ctrl_state_t state;     /* read-only: last controller state read */
    uint16_t tx_errors, rx_errors; /* read-only: controller error counters */
    uint64_t restarts;          /* read-only: restarts after bus-off */
    uint64_t err_frames;        /* read-only: error / RTR frames skipped */
    /* private */
    bool has_ctrl;
    uint64_t next_check_ms;
} can_socket_t;

void can_socket_init(can_socket_t *c);
/* Opens ifname; with bitrate != 0 first stops the controller, sets the
 * bitrate and starts it (needs CAP_NET_ADMIN). 0, or -1 with a message
 * naming the interface in err ("can0: no such CAN interface"). */
int can_socket_open(can_socket_t *c, const char *ifname, uint32_t bitrate, char *err, size_t cap);
/* PLAT_OK, PLAT_E_BUSY (queue full) or PLAT_E_IO (interface down, closed). */
int can_socket_send(can_socket_t *c, const plat_can_frame_t *f);
/* 1 and *f for a received data frame, 0 when none; error and remote frames are skipped. */
int can_socket_recv(can_socket_t *c, plat_can_frame_t *f);
/* Reads the controller state every CAN_SOCKET_CHECK_MS; restarts after
 * bus-off. Returns true when the state changed (describe it with
 * can_socket_describe). */
bool can_socket_check(can_socket_t *c, uint64_t now_ms);
uint64_t can_socket_deadline(const can_socket_t *c);
/* "can0: ERROR-PASSIVE (tx errors 130, rx errors 0)". */
void can_socket_describe(const can_socket_t *c, char *out, size_t cap);
const char *can_ctrl_state_name(can_ctrl_state_t s);
void can_socket_close(can_socket_t *c);

#endif
