/* SPDX-License-Identifier: MIT */
/* The live runner: a scenario in wall-clock time against a gateway process
 * (--gateway 'CMD', wired through PTY pairs and an SLCAN PTY or a CAN
 * interface) or a real board (its BMS port and CAN adapter). The same world
 * as sim mode supplies the battery bank, the emulator, the charger model,
 * the GX monitor and the checks; here the wall clock drives them and the
 * bytes and frames are the ones that really crossed the wire. */
#ifndef BENCH_LIVE_RUNNER_H
#define BENCH_LIVE_RUNNER_H

#include <stdbool.h>
#include <stdio.h>
#include "harness/runner.h"

#define BENCH_LIVE_VICTRON_BITRATE 500000u
#define BENCH_LIVE_GRACE_S 10.0   /* the hard timeout is the duration plus this */
#define BENCH_LIVE_STOP_MS 2000   /* SIGTERM, then this long, then SIGKILL */

typedef struct bench_live_opts {
    /* Gateway command for /bin/sh -c. {bms_port} becomes the BMS PTY's slave
     * path, {victron_can} `slcan:/dev/pts/N` (or the --can interface),
     * {settings} the scenario's and --set's gateway settings as
     * `--set KEY=VALUE` words. With neither port placeholder, `--bms-port P
     * --victron-can C` is appended. NULL: a real board (bms_port and can). */
    const char *gateway_cmd;
    const char *bms_port;    /* board: the serial port wired to the board's BMS input */
    const char *can;         /* IFACE (SocketCAN) or slcan:DEV; with a gateway: IFACE only */
} bench_live_opts_t;

typedef struct bench_live_result {
    bool has_fault;          /* the scenario has a BMS-side fault event */
    double fault_at_s;       /* its time */
    bool has_latency;        /* a 0x351 with CCL = 0 came after it */
    double latency_s;        /* protection latency: fault -> first 0x351 with CCL 0 */
    bool gateway_exited;     /* the gateway process ended before the run did */
    int gateway_status;      /* its exit status, or 128 + signal */
} bench_live_result_t;

/* Run one scenario live. Returns 0 when it ran (r->passed; every live
 * failure - gateway exit, device gone, wrong bitrate - is a failed check
 * with a message), -1 when it could not start (r->error, r->error_msg: a
 * scenario without `live: true`, a family with no live transport, a missing
 * or busy device, a bad option). Never blocks past the duration plus
 * BENCH_LIVE_GRACE_S. */
int bench_live_run(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                   const bench_live_opts_t *lo, bench_result_t *r, bench_live_result_t *lr);

/* Expand {bms_port}, {victron_can} and {settings} in cmd into out (appending
 * the port flags when cmd names neither port). Returns 0, or -1 when out is
 * too small. */
int bench_live_expand(const char *cmd, const char *bms_port, const char *victron_can,
                      const char *settings, char *out, size_t cap);

#endif
