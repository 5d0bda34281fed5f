/* SPDX-License-Identifier: MIT */
/* SocketCAN raw sockets and libsocketcan (see can_socket.h). */
#define _DEFAULT_SOURCE
#include "can_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <libsocketcan.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void can_socket_init(can_socket_t *c)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->state = CAN_CTRL_UNKNOWN;
}

static int set_bitrate(const char *ifname, uint32_t bitrate, char *err, size_t cap)
{
    /* The bitrate can only change while the controller is stopped. */
    (void)can_do_stop(ifname);
    if (can_set_bitrate(ifname, bitrate) != 0) {
        snprintf(err, cap,
                 "%s: cannot set bitrate %u (not a CAN controller, unsupported rate, or no "
                 "CAP_NET_ADMIN)",
                 ifname, (unsigned)bitrate);
        return -1;
    }
    if (can_do_start(ifname) != 0) {
        snprintf(err, cap, "%s: cannot start the controller at %u bit/s", ifname,
                 (unsigned)bitrate);
        return -1;
    }
    return 0;
}

int can_socket_open(can_socket_t *c, const char *ifname, uint32_t bitrate, char *err, size_t cap)
{
    can_socket_close(c);
    snprintf(c->ifname, sizeof c->ifname, "%s", ifname);
    int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) {
        if (errno == EAFNOSUPPORT) {
            snprintf(err, cap,
                     "%s: this kernel has no SocketCAN (socket: %s); use slcan:DEVICE for a "
                     "serial-line CAN adapter",
                     ifname, strerror(errno));
        } else {
            snprintf(err, cap, "%s: socket: %s", ifname, strerror(errno));
        }
        return -1;
    }
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0) {
        snprintf(err, cap, "%s: no such CAN interface", ifname);
        close(fd);
        return -1;
    }
    if (bitrate != 0 && set_bitrate(ifname, bitrate, err, cap) != 0) {
        close(fd);
        return -1;
    }
    struct sockaddr_can addr;
    memset(&addr, 0, sizeof addr);
    addr.can_family = AF_CAN;
    addr.can_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        snprintf(err, cap, "%s: bind: %s", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    c->fd = fd;
    int state;
    c->has_ctrl = can_get_state(ifname, &state) == 0;
    c->state = c->has_ctrl ? (can_ctrl_state_t)state : CAN_CTRL_UNKNOWN;
    return 0;
}

int can_socket_send(can_socket_t *c, const plat_can_frame_t *f)
{
    if (c->fd < 0 || f->dlc > 8) {
        return PLAT_E_IO;
    }
    struct can_frame cf;
    memset(&cf, 0, sizeof cf);
    bool ext = (f->id & PLAT_CAN_EFF_FLAG) != 0;
    cf.can_id = ext ? ((f->id & CAN_EFF_MASK) | CAN_EFF_FLAG) : (f->id & CAN_SFF_MASK);
    cf.can_dlc = f->dlc;
    memcpy(cf.data, f->data, f->dlc);
    ssize_t n = write(c->fd, &cf, sizeof cf);
    if (n == (ssize_t)sizeof cf) {
        return PLAT_OK;
    }
    /* A full queue is retryable; anything else (ENETDOWN ...) is not. */
    return n < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) ? PLAT_E_BUSY
                                                                            : PLAT_E_IO;
}

int can_socket_recv(can_socket_t *c, plat_can_frame_t *f)
{
    while (c->fd >= 0) {
        struct can_frame cf;
        ssize_t n = read(c->fd, &cf, sizeof cf);
        if (n != (ssize_t)sizeof cf) {
            return 0;
        }
        if ((cf.can_id & (CAN_ERR_FLAG | CAN_RTR_FLAG)) != 0 || cf.can_dlc > 8) {
            c->err_frames++;
            continue;
        }
        bool ext = (cf.can_id & CAN_EFF_FLAG) != 0;
        f->id = ext ? ((cf.can_id & CAN_EFF_MASK) | PLAT_CAN_EFF_FLAG) : (cf.can_id & CAN_SFF_MASK);
        f->dlc = cf.can_dlc;
        memset(f->data, 0, sizeof f->data);
        memcpy(f->data, cf.data, cf.can_dlc);
        return 1;
    }
    return 0;
}

bool can_socket_check(can_socket_t *c, uint64_t now_ms)
{
    if (!c->has_ctrl || c->fd < 0 || now_ms < c->next_check_ms) {
        return false;
    }
    c->next_check_ms = now_ms + CAN_SOCKET_CHECK_MS;
    int state;
    if (can_get_state(c->ifname, &state) != 0) {
        return false;
    }
    struct can_berr_counter bc;
    if (can_get_berr_counter(c->ifname, &bc) == 0) {
        c->tx_errors = bc.txerr;
        c->rx_errors = bc.rxerr;
    }
    bool changed = (can_ctrl_state_t)state != c->state;
    c->state = (can_ctrl_state_t)state;
    if (c->state == CAN_CTRL_BUS_OFF && can_do_restart(c->ifname) == 0) {
        c->restarts++;
    }
    return changed;
}

uint64_t can_socket_deadline(const can_socket_t *c)
{
    return c->has_ctrl && c->fd >= 0 ? c->next_check_ms : UINT64_MAX;
}

const char *can_ctrl_state_name(can_ctrl_state_t s)
{
    static const char *const names[] = {"ERROR-ACTIVE", "ERROR-WARNING", "ERROR-PASSIVE",
                                        "BUS-OFF",      "STOPPED",       "SLEEPING"};
    if (s >= CAN_CTRL_ERROR_ACTIVE && (unsigned)s < sizeof names / sizeof names[0]) {
        return names[s];
    }
    return "UNKNOWN";
}

void can_socket_describe(const can_socket_t *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s: %s (tx errors %u, rx errors %u)%s", c->ifname,
             can_ctrl_state_name(c->state), c->tx_errors, c->rx_errors,
             c->state == CAN_CTRL_BUS_OFF ? ", restarting" : "");
}

void can_socket_close(can_socket_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
}
