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
    int live_failures;       /* failures only live mode has (gateway exit, device gone) */
} bench_live_result_t;

/* A live run in progress (open / step / close; bench_live_run loops over it). */
typedef struct bench_live bench_live_t;

/* Run one scenario live. Returns 0 when it ran (r->passed; every live
 * failure - gateway exit, device gone, wrong bitrate - is a failed check
 * with a message), -1 when it could not start (r->error, r->error_msg: a
 * scenario without `live: true`, a family with no live transport, a missing
 * or busy device, a bad option). Never blocks past the duration plus
 * BENCH_LIVE_GRACE_S. */
int bench_live_run(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                   const bench_live_opts_t *lo, bench_result_t *r, bench_live_result_t *lr);

/* Start a live run: open the world, wire the ports, start the gateway; the
 * wall clock starts at 0 now. Returns 0 with *out set, or -1 as
 * bench_live_run does (r->error, r->error_msg; nothing left open). lr is
 * written as the run goes and must outlive it. */
int bench_live_open(bench_live_t **out, const bench_scenario_t *sc, const bench_run_opts_t *opts,
                    const bench_live_opts_t *lo, bench_result_t *r, bench_live_result_t *lr);
/* Drive the run until wall time until_s (seconds since open; at least one
 * pass of the loop, so ports are pumped even when until_s has passed).
 * Returns false once the run is over: the duration reached, the gateway
 * gone or a device lost; stepping then does nothing. */
bool bench_live_step(bench_live_t *h, double until_s);
/* The same for ms milliseconds from now. */
bool bench_live_step_ms(bench_live_t *h, int ms);
bool bench_live_done(const bench_live_t *h);
/* Wall seconds since open. The world's clock is the wall time of the last pass. */
double bench_live_now(const bench_live_t *h);
/* The world the run drives: read it, inject into it (bench_world_inject
 * reaches the emulator), set its taps. Owned by the run. */
bench_world_t *bench_live_world(bench_live_t *h);
/* While drop is true, CAN frames from the gateway are not given to the GX
 * monitor (the panel's Victron-bus drop); the charger model still sees them. */
void bench_live_drop_victron(bench_live_t *h, bool drop);
/* Stop the gateway, decide the checks at the time reached (no later than
 * the duration) into r, and free everything. */
void bench_live_close(bench_live_t *h, bench_result_t *r);

/* Expand {bms_port}, {victron_can} and {settings} in cmd into out (appending
 * the port flags when cmd names neither port). Returns 0, or -1 when out is
 * too small. */
int bench_live_expand(const char *cmd, const char *bms_port, const char *victron_can,
                      const char *settings, char *out, size_t cap);

#endif
