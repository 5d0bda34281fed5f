/* SPDX-License-Identifier: MIT */
/* `bmsbench ports`: the serial ports (USB VID:PID, serial number,
 * description, via libserialport's enumeration) and the CAN interfaces
 * (state and bitrate) a user can hand to live mode or `emulate --port`. */
#include <getopt.h>
#include <libserialport.h>
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/live/can_io.h"

#define MAX_IFACES 64

static void ports_usage(FILE *f)
{
    fprintf(f, "usage: bmsbench ports\n\n"
               "Lists serial ports (path, transport, USB VID:PID, serial number, description)\n"
               "and CAN interfaces (state, bitrate) for run --live --bms-port/--can and\n"
               "emulate --port/--can. PTYs are not listed (they have no /sys entry).\n\n"
               "examples:\n"
               "  bmsbench ports\n"
               "  bmsbench run --live --bms-port /dev/ttyUSB0 --can slcan:/dev/ttyACM0 "
               "scenarios/live\n");
}

static const char *or_dash(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "-";
}

static int list_serial(void)
{
    struct sp_port **ports = NULL;
    enum sp_return rc = sp_list_ports(&ports);
    printf("SERIAL PORTS\n%-22s %-10s %-9s %-16s %s\n", "PORT", "TRANSPORT", "VID:PID", "SERIAL",
           "DESCRIPTION");
    if (rc != SP_OK) {
        char *msg = sp_last_error_message();
        printf("  (cannot enumerate: %s)\n", msg != NULL ? msg : "unknown error");
        sp_free_error_message(msg);
        return -1;
    }
    int n = 0;
    for (; ports[n] != NULL; n++) {
        struct sp_port *p = ports[n];
        enum sp_transport t = sp_get_port_transport(p);
        char vidpid[16] = "-";
        const char *serial = NULL;
        if (t == SP_TRANSPORT_USB) {
            int vid, pid;
            if (sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK) {
                snprintf(vidpid, sizeof vidpid, "%04x:%04x", vid & 0xFFFF, pid & 0xFFFF);
            }
            serial = sp_get_port_usb_serial(p);
        }
        printf("%-22s %-10s %-9s %-16s %s\n", or_dash(sp_get_port_name(p)),
               t == SP_TRANSPORT_USB ? "usb" : t == SP_TRANSPORT_BLUETOOTH ? "bluetooth" : "native",
               vidpid, or_dash(serial), or_dash(sp_get_port_description(p)));
    }
    sp_free_port_list(ports);
    if (n == 0) {
        printf("  (none found)\n");
    }
    return 0;
}

static void list_can(void)
{
    bench_can_iface_t ifs[MAX_IFACES];
    int n = bench_can_ifaces(ifs, MAX_IFACES);
    printf("\nCAN INTERFACES\n%-22s %-6s %-14s %s\n", "INTERFACE", "LINK", "STATE", "BITRATE");
    for (int i = 0; i < n; i++) {
        char br[24];
        if (ifs[i].is_virtual) {
            snprintf(br, sizeof br, "virtual");
        } else if (ifs[i].bitrate > 0) {
            snprintf(br, sizeof br, "%u", ifs[i].bitrate);
        } else {
            snprintf(br, sizeof br, "-");
        }
        printf("%-22s %-6s %-14s %s\n", ifs[i].name, ifs[i].up ? "up" : "down", ifs[i].state, br);
    }
    if (n == 0) {
        printf("  (none found: this kernel has no CAN interfaces; an SLCAN adapter works as "
               "--can slcan:/dev/ttyACM0)\n");
    }
}

int cmd_ports(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            ports_usage(stdout);
            return BENCH_EXIT_OK;
        }
        ports_usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "bmsbench ports: unexpected argument '%s'\n\n", argv[optind]);
        ports_usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    int rc = list_serial();
    list_can();
    return rc == 0 ? BENCH_EXIT_OK : BENCH_EXIT_FAIL;
}
