/* SPDX-License-Identifier: MIT */
/* rig-canup IFACE BITRATE: set a CAN controller's bitrate and start it with libsocketcan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsocketcan.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rig-canup IFACE BITRATE\n");
        return 2;
    }
    char *end = NULL;
    unsigned long bitrate = strtoul(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || bitrate < 10000 || bitrate > 1000000) {
        fprintf(stderr, "rig-canup: bad bitrate '%s' (10000 .. 1000000)\n", argv[2]);
        return 2;
    }
    /* The bitrate can only change while the controller is stopped. */
    (void)can_do_stop(argv[1]);
    if (can_set_bitrate(argv[1], (__u32)bitrate) != 0) {
        fprintf(stderr, "rig-canup: %s: cannot set %lu bit/s\n", argv[1], bitrate);
        return 1;
    }
    if (can_do_start(argv[1]) != 0) {
        fprintf(stderr, "rig-canup: %s: cannot start\n", argv[1]);
        return 1;
    }
    int state = -1;
    struct can_bittiming bt;
    memset(&bt, 0, sizeof bt);
    (void)can_get_state(argv[1], &state);
    (void)can_get_bittiming(argv[1], &bt);
    printf("rig-canup: %s up at %u bit/s, state %d\n", argv[1], bt.bitrate, state);
    return 0;
}
