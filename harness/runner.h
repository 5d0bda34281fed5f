/* SPDX-License-Identifier: MIT */
/* The sim-mode runner: builds the virtual world a scenario describes
 * (battery bank, RS485 line, Topband emulator, the real gateway firmware,
 * the Victron CAN bus with a GX-side monitor and a charger/inverter),
 * runs it in virtual time and checks expectations and invariants. */
#ifndef BENCH_RUNNER_H
#define BENCH_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "emulators/balancer/emu_balancer.h"
#include "emulators/superb/emu_superb.h"
#include "emulators/tinybms/emu_tinybms.h"
#include "emulators/topband/emu_topband.h"
#include "gateway.h"
#include "harness/expect.h"
#include "harness/monitor.h"
#include "harness/scenario.h"
#include "plat_sim.h"
#include "sim/battery.h"
#include "sim/canbus.h"
#include "sim/charger.h"
#include "sim/rng.h"
#include "sim/sched.h"
#include "sim/wire.h"

#define BENCH_MAX_INVARIANTS 16
#define BENCH_MAX_INJECT 256   /* events injected while running (panel, replay) */

/* Observers of a run (recorder, panel). Any member may be NULL. Frames and
 * characters arrive in time order per bus/line; `from_gateway` says who sent. */
typedef struct bench_taps {
    void *ctx;
    /* bus 0: the Victron side (500 kbit/s); bus 1: the BMS's CANopen bus */
    void (*can)(void *ctx, int bus, bool from_gateway, const sim_can_frame_t *f, uint64_t t_us);
    /* the BMS serial line (Topband RS485, TinyBMS UART), one character */
    void (*serial)(void *ctx, bool from_gateway, uint64_t t_us, uint8_t byte);
    /* every expectation sample: the signal values (bench_signal_names) */
    void (*sample)(void *ctx, double t_s, const double *signals);
} bench_taps_t;

typedef struct bench_run_opts {
    uint64_t seed;              /* used when seed_set, else the scenario's, else 1 */
    bool seed_set;
    const bench_gwset_t *gwset; /* extra gateway overrides (--set), applied last */
    int ngwset;
    bool no_invariants;         /* for tests of the checker itself */
    bool progress;              /* print progress to stderr on long runs */
    FILE *log;                  /* gateway log lines, NULL = none */
    const bench_taps_t *taps;   /* observers (bench_run_scenario only), NULL = none */
} bench_run_opts_t;

typedef struct bench_run_stats {
    double sim_s;
    double wall_s;
    uint64_t events;
    uint64_t rs485_bytes;
    uint64_t rs485_collisions;
    uint64_t can_frames;
    double can_load_pct;
    gw_bms_counters_t bms;      /* the gateway driver's counters */
    uint64_t trace_hash;        /* FNV-1a over every CAN frame and RS485 byte with its time */
} bench_run_stats_t;

typedef struct bench_result {
    bool error;                 /* could not run (bad setting); message in error_msg */
    char error_msg[512];
    bool passed;
    int nchecks;                /* expectations + invariants */
    int nfailed;
    char first_failure[512];    /* label: message */
    char details[8192];         /* every failure, one per line */
    bench_run_stats_t stats;
} bench_result_t;

/* The world, public so signals.c can read it. */
typedef struct bench_world {
    const bench_scenario_t *sc;
    sim_sched_t sched;
    sim_rng_t rng;
    sim_bank_t bank;
    bench_family_t kind;
    sim_wire_t rs485;            /* the BMS line (Topband RS485, TinyBMS UART); end 0: gateway */
    sim_canbus_t can;            /* Victron side, 500 kbit/s */
    int gx_node;
    sim_charger_t charger;
    bench_system_cfg_t sys;      /* PV and load profiles; events replace them by constants */
    emu_topband_t emu;           /* family topband */
    emu_tinybms_t tiny;          /* family tinybms */
    sim_canbus_t bms_can;        /* family superb: CANopen, 250 kbit/s */
    emu_superb_t sb;
    int sb_bus_node[BENCH_MAX_PACKS]; /* sim bus node of each emulated battery */
    emu_balancer_t bal;          /* family balancer: one module per cell */
    uint64_t sb_wake_id, sb_wake_at;
    plat_sim_t plat;
    gateway_t gw;
    bench_gx_t gx;
    uint64_t gw_wake_id, gw_wake_at;
    /* Replies on their way: each pack on the bus answers on its own, so a
     * late reply is not cancelled by a request to another pack (it may then
     * collide on the half-duplex line, as on a real bus). */
    struct bench_reply {
        struct bench_world *w;
        bool busy;
        uint8_t bytes[EMU_TB_MAX_REPLY];
        size_t len;
    } replies[8];
    uint64_t replies_dropped;
    double last_phys_s;
    /* derived tracking for invariants */
    double ov_since_s, uv_since_s, cold_since_s;
    uint64_t trace_hash;
    FILE *log;
    bench_taps_t taps;
    /* private (runner.c) */
    void *checker;
    double *signals;
    void *evs;
    bench_event_t injected[BENCH_MAX_INJECT];
    int ninjected;
} bench_world_t;

/* Step by step, for the panel and replay: open builds the world at t = 0;
 * run_until advances virtual time (never past the duration); inject applies
 * an event now (and remembers it, so a session can be saved); finish decides
 * every expectation at the current time; close frees it. */
int bench_world_open(bench_world_t **w, const bench_scenario_t *sc, const bench_run_opts_t *opts,
                     char *err, size_t errcap);
void bench_world_set_taps(bench_world_t *w, const bench_taps_t *taps);
void bench_world_run_until(bench_world_t *w, double t_s);
double bench_world_now(const bench_world_t *w);
int bench_world_inject(bench_world_t *w, const bench_event_t *ev);
const double *bench_world_signals(bench_world_t *w);
/* The expectation and invariant states so far (pending, pass, fail). */
int bench_world_checks(const bench_world_t *w, const bench_expect_state_t **states);
void bench_world_finish(bench_world_t *w, bench_result_t *r);
void bench_world_close(bench_world_t *w);

/* The gateway's wake-ups in a world (replay builds its own world around the
 * same gateway): reschedule at its next deadline, and the serial-line and
 * BMS-bus callbacks that run it at once, as its interrupts would. */
void bench_world_gw_reschedule(bench_world_t *w);
void bench_world_gw_uart_notify(void *ctx, uint64_t now_us);
void bench_world_gw_can_notify(void *ctx, unsigned bus, uint64_t t_us);

/* Called after the run is decided, before the world is closed. */
typedef void (*bench_finish_hook_t)(void *ctx, bench_world_t *w, const bench_result_t *r);
int bench_run_scenario_ex(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                          bench_result_t *r, bench_finish_hook_t hook, void *hook_ctx);

/* Two observers on one run (either may be NULL); returns NULL when both are. */
typedef struct bench_taps_fanout {
    bench_taps_t taps[2];
    int n;
    bench_taps_t out;
} bench_taps_fanout_t;
const bench_taps_t *bench_taps_fanout(bench_taps_fanout_t *fo, const bench_taps_t *a,
                                      const bench_taps_t *b);

/* Run one loaded scenario. Returns 0 when it ran (see r->passed), -1 on a
 * setup error (r->error_msg). */
int bench_run_scenario(const bench_scenario_t *sc, const bench_run_opts_t *opts,
                       bench_result_t *r);

/* Apply one gateway override (scenario `gateway:` or --set) to a config.
 * Returns false for an unknown key or a value out of range (msg says which). */
bool bench_gw_apply(gw_config_t *cfg, const char *key, double value, char *msg, size_t cap);
/* Every gateway setting a scenario or --set may change, with its range. */
void bench_gw_settings_print(FILE *f);

#endif
