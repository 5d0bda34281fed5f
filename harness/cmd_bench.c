/* SPDX-License-Identifier: MIT */
/* `bmsbench bench`: how fast the simulator runs a realistic day.
 *
 * A benchmark, not a test: it prints figures and fails only when the run
 * itself could not be made. The day: a 4-pack 16S Topband bank, every
 * request and reply crossing the simulated RS485 line byte by byte at
 * 9600 Bd, the full Victron frame set every second on a 500 kbit/s bus,
 * a charger by day and a load in the evening, invariants checked. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/runner.h"
#include "harness/signals.h"

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: bmsbench bench [--hours H] [--packs N] [--replay-frames N]\n\n"
               "Runs a simulated day (default 24 h, 4 packs of 16 cells, 100 Ah) with\n"
               "byte-level RS485 traffic and the Victron frame set, and prints the\n"
               "speed as simulated seconds per wall second:\n"
               "  speed-up: 123456x real time\n"
               "then reads and checks a candump log of N frames (default 1000000; 0 skips it)\n"
               "beside python-can's CanutilsLogReader on the same file, and prints both.\n");
}

static void add_event(bench_scenario_t *sc, double at_h, bench_action_t act, double v)
{
    bench_event_t *e = &sc->events[sc->nevents++];
    memset(e, 0, sizeof *e);
    e->at_s = at_h * 3600.0;
    e->action = act;
    e->pack = -1;
    e->cell = -1;
    e->value = v;
}

static void build_day(bench_scenario_t *sc, double hours, int packs)
{
    memset(sc, 0, sizeof *sc);
    snprintf(sc->path, sizeof sc->path, "(built-in bench)");
    snprintf(sc->name, sizeof sc->name, "bench_day");
    snprintf(sc->description, sizeof sc->description, "benchmark day");
    sc->duration_s = hours * 3600.0;
    sc->sample_s = 1.0;
    sc->seed = 1;
    sc->has_seed = true;
    snprintf(sc->bank.family, sizeof sc->bank.family, "topband");
    sc->bank.npacks = packs;
    sc->bank.capacity_spread_pct = 1.0;
    sc->bank.soc_spread_pct = 0.5;
    for (int i = 0; i < packs; i++) {
        bench_pack_cfg_t *p = &sc->bank.packs[i];
        p->cells = 16;
        p->capacity_ah = 100;
        p->soc_pct = 40;
        p->temperature_c = 20;
        p->family = 0;
        p->address = i;
    }
    sc->system.ambient_c = 20;
    /* Sun from 08:00 to 16:00, evening load 17:00 to 23:00. */
    add_event(sc, 8, BENCH_ACT_CHARGER, 15.0 * packs);
    add_event(sc, 16, BENCH_ACT_CHARGER, 0);
    add_event(sc, 17, BENCH_ACT_LOAD, 8.0 * packs);
    add_event(sc, 23, BENCH_ACT_LOAD, 0);
    while (sc->nevents > 0 && sc->events[sc->nevents - 1].at_s > sc->duration_s) {
        sc->nevents--;
    }
}

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {{"hours", required_argument, NULL, 'H'},
                                             {"packs", required_argument, NULL, 'p'},
                                             {"replay-frames", required_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    double hours = 24;
    int packs = 4, c;
    size_t replay_frames = 1000000;
    optind = 1;
    while ((c = getopt_long(argc, argv, "H:p:r:h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r': {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end != '\0' || optarg[0] == '-' || v > 100000000ull) {
                fprintf(stderr, "bmsbench bench: --replay-frames needs 0..100000000, got '%s'\n",
                        optarg);
                return BENCH_EXIT_USAGE;
            }
            replay_frames = (size_t)v;
            break;
        }
        case 'H':
            hours = strtod(optarg, &end);
            if (*end != '\0' || !(hours > 0 && hours <= 24 * 365)) {
                fprintf(stderr, "bmsbench bench: --hours needs a number > 0, got '%s'\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            break;
        case 'p':
            packs = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || packs < 1 || packs > 16) {
                fprintf(stderr, "bmsbench bench: --packs needs 1..16, got '%s'\n", optarg);
                return BENCH_EXIT_USAGE;
            }
            break;
        case 'h': bench_usage(stdout); return BENCH_EXIT_OK;
        default: bench_usage(stderr); return BENCH_EXIT_USAGE;
        }
    }

    bench_scenario_t *sc = malloc(sizeof *sc);
    bench_result_t *r = malloc(sizeof *r);
    if (sc == NULL || r == NULL) {
        free(sc), free(r);
        return BENCH_EXIT_USAGE;
    }
    build_day(sc, hours, packs);
    bench_run_opts_t opts = {.progress = false};
    printf("bmsbench bench: %.4g h simulated, %d packs x 16S Topband, byte-level RS485 at 9600 Bd,\n"
           "                Victron frame set every 1 s at 500 kbit/s, invariants checked\n",
           hours, packs);
    fflush(stdout);
    if (bench_run_scenario(sc, &opts, r) != 0) {
        fprintf(stderr, "bmsbench bench: %s\n", r->error_msg);
        free(sc), free(r);
        return BENCH_EXIT_USAGE;
    }
    const bench_run_stats_t *s = &r->stats;
    double speed = s->wall_s > 0 ? s->sim_s / s->wall_s : 0;
    printf("simulated:        %.0f s\n", s->sim_s);
    printf("wall:             %.3f s\n", s->wall_s);
    printf("events:           %llu (%.1f M/s)\n", (unsigned long long)s->events,
           s->wall_s > 0 ? (double)s->events / s->wall_s / 1e6 : 0);
    printf("rs485 bytes:      %llu (%u requests, %u good replies, %u timeouts)\n",
           (unsigned long long)s->rs485_bytes, s->bms.requests, s->bms.replies_ok, s->bms.timeouts);
    printf("can frames:       %llu (bus load %.2f %%)\n", (unsigned long long)s->can_frames,
           s->can_load_pct);
    printf("checks:           %d, %d failed%s%s\n", r->nchecks, r->nfailed,
           r->nfailed ? ": " : "", r->nfailed ? r->first_failure : "");
    printf("speed-up: %.0fx real time\n", speed);
    free(sc), free(r);
    if (replay_frames > 0) {
        /* Reading and checking a large capture, beside python-can reading it. */
        fflush(stdout);
        bench_replay_figure(stdout, replay_frames);
    }
    return BENCH_EXIT_OK;
}
