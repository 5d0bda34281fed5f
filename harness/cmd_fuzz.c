/* SPDX-License-Identifier: MIT */
/* `bmsbench fuzz`: randomized scenarios checked against the safety invariants.
 *
 * Each run draws a whole scenario from its own seed (derived from --seed and
 * the run's index): family, packs, cells, capacities, SOCs, spreads,
 * temperatures, PV/load profiles and 0-4 events (the family's transient
 * faults, cell SOC/capacity and temperature changes; balancer: module faults
 * and reboots named by cell). It has no expectations
 * of its own: the runner checks the universal invariants on every run. A
 * failing run is written as <out>/<seed>.yaml (seed and --set values
 * included), which `bmsbench run` reproduces exactly. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/commands.h"
#include "harness/runner.h"
#include "harness/scenario_write.h"
#include "sim/rng.h"

#define DEFAULT_OUT "fuzz-failures"
#define FUZZ_MAX_EVENTS 4

typedef enum { FAM_ALL = -1 } fuzz_family_any_t;

static void fuzz_usage(FILE *f)
{
    fprintf(f,
            "usage: bmsbench fuzz [--count N] [--seed S] [--family topband|tinybms|superb|balancer|all]\n"
            "                     [--set KEY=VALUE]... [--out DIR] [--quiet]\n\n"
            "Generates random scenarios (banks, cell spreads, temperatures, PV/load\n"
            "profiles, fault sequences), runs each 2-6 h in simulated time against the\n"
            "gateway firmware and checks the safety invariants. Same --seed, same runs.\n"
            "A failing run prints its seed and invariant and is written to DIR/<seed>.yaml;\n"
            "`bmsbench run DIR/<seed>.yaml` reproduces it.\n\n"
            "options:\n"
            "  --count N        runs (default 100)\n"
            "  --seed S         first seed (default 1)\n"
            "  --family F       topband, tinybms, superb, balancer or all (default all, in turn)\n"
            "  --set KEY=VALUE  gateway setting for every run (written into failures); repeatable\n"
            "  --out DIR        where failing scenarios go (default " DEFAULT_OUT ")\n"
            "  --quiet          print failures and the summary only\n"
            "  --help           this text\n\n"
            "exit: 0 every run clean, 1 an invariant failed, 2 usage error\n\n"
            "examples:\n"
            "  bmsbench fuzz --count 200 --family topband\n"
            "  bmsbench fuzz --count 20 --seed 1 --set cell_ov_mv=4500   # must find violations\n");
}

/* splitmix64: spreads consecutive indexes into unrelated run seeds. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static double uni(sim_rng_t *r, double lo, double hi)
{
    return lo + (hi - lo) * sim_rng_uniform(r);
}

static int pick(sim_rng_t *r, int n)
{
    int v = (int)(sim_rng_uniform(r) * n);
    return v < n ? v : n - 1;
}

/* Rounded values keep the written YAML readable; they load bit for bit anyway. */
static double round_to(double v, double step)
{
    return step * (double)(long long)(v / step + (v >= 0 ? 0.5 : -0.5));
}

static const char *const family_names[] = {"topband", "tinybms", "superb", "balancer"};
#define FUZZ_FAMILIES 4

static const char *const faults_topband[] = {"silent", "late", "bad_checksum", "truncated",
                                             "garbage", "wrong_address"};
static const char *const faults_tinybms[] = {"silent", "late", "bad_crc", "truncated",
                                             "nack_storm"};
static const char *const faults_superb[] = {"silent", "late", "abort", "wrong_toggle",
                                            "no_heartbeat"};
/* Balancer modules: `stuck` freezes the readings (left out like the other
 * freezes) and `slow` needs a delay the scenario writer does not keep. */
static const char *const faults_balancer[] = {"silent", "garbage", "wrong_value"};

static void gen_profile(sim_rng_t *r, sim_profile_t *p, double max_a)
{
    memset(p, 0, sizeof *p);
    switch (pick(r, 3)) {
    case 0:
        p->kind = SIM_PROFILE_CONSTANT;
        p->a_a = round_to(uni(r, 0, max_a), 0.5);
        break;
    case 1:
        p->kind = SIM_PROFILE_RAMP;
        p->from_a = round_to(uni(r, 0, max_a), 0.5);
        p->to_a = round_to(uni(r, 0, max_a), 0.5);
        p->over_s = round_to(uni(r, 600, 6 * 3600.0), 60);
        break;
    default:
        /* The run starts at midnight and lasts a few hours: put the sun in it. */
        p->kind = SIM_PROFILE_DAY;
        p->peak_a = round_to(uni(r, 0, max_a), 0.5);
        p->sunrise_s = round_to(uni(r, 0, 2 * 3600.0), 60);
        p->sunset_s = p->sunrise_s + round_to(uni(r, 2 * 3600.0, 8 * 3600.0), 60);
        break;
    }
}

static void gen_bank(sim_rng_t *r, bench_scenario_t *sc, bench_family_t fam)
{
    bench_bank_cfg_t *b = &sc->bank;
    snprintf(b->family, sizeof b->family, "%s", family_names[fam]);
    b->kind = fam;
    bool single = fam == BENCH_FAM_TINYBMS || fam == BENCH_FAM_BALANCER;
    b->npacks = single ? 1 : 1 + pick(r, 4);
    b->capacity_spread_pct = round_to(uni(r, 0, 3), 0.1);
    b->soc_spread_pct = round_to(uni(r, 0, 2), 0.1);
    /* balancer: one module per cell, 4..24 (the bus allows 50; the
     * 300 Bd poll round of a long string only makes the runs slower) */
    int cells = fam == BENCH_FAM_TOPBAND    ? 15 + pick(r, 2)
                : fam == BENCH_FAM_SUPERB   ? 4
                : fam == BENCH_FAM_BALANCER ? 4 + pick(r, 21)
                                            : 4 + pick(r, 13);
    double cap = fam == BENCH_FAM_SUPERB ? 100 : round_to(uni(r, 50, 200), 10);
    double temp = round_to(uni(r, 1, 40), 1);
    for (int i = 0; i < b->npacks; i++) {
        bench_pack_cfg_t *p = &b->packs[i];
        p->cells = cells;
        p->capacity_ah = cap;
        p->soc_pct = round_to(uni(r, 5, 95), 1);
        p->temperature_c = temp + round_to(uni(r, 0, 2), 1);
        p->family = fam == BENCH_FAM_TOPBAND ? pick(r, 2) : 0;
        p->address = fam == BENCH_FAM_SUPERB ? i + 1 : i;
        p->cycles = pick(r, 500);
        p->fw_version = 0x0106;
    }
}

static void add_event(bench_scenario_t *sc, double at_s, bench_action_t act, int pack, int cell,
                      double value, const char *text)
{
    if (sc->nevents >= BENCH_MAX_EVENTS) {
        return;
    }
    bench_event_t *e = &sc->events[sc->nevents++];
    memset(e, 0, sizeof *e);
    e->at_s = at_s;
    e->action = act;
    e->pack = pack;
    e->cell = cell;
    e->value = value;
    if (text != NULL) {
        snprintf(e->text, sizeof e->text, "%s", text);
    }
}

/* A transient fault (cleared after 1-20 min), a cell's SOC or capacity, or
 * a pack temperature. Faults that freeze the values the gateway reads are
 * left out: no gateway can protect a bank it cannot see. */
static void gen_event(sim_rng_t *r, bench_scenario_t *sc)
{
    const bench_bank_cfg_t *b = &sc->bank;
    double at_s = round_to(uni(r, 60, sc->duration_s * 0.8), 1);
    int pack = pick(r, b->npacks);
    int cell = pick(r, b->packs[pack].cells);
    if (b->kind == BENCH_FAM_BALANCER && pick(r, 4) == 0) {
        /* A fault or a reboot of one module, named by its cell. */
        if (pick(r, 3) == 0) {
            add_event(sc, at_s, BENCH_ACT_REBOOT, -1, cell, 1, NULL);
            return;
        }
        const char *name = faults_balancer[pick(r, 3)];
        add_event(sc, at_s, BENCH_ACT_FAULT, -1, cell, 0, name);
        double until_s = at_s + round_to(uni(r, 60, 1200), 1);
        if (until_s <= sc->duration_s) {
            add_event(sc, until_s, BENCH_ACT_CLEAR_FAULTS, -1, cell, 1, NULL);
        }
        return;
    }
    switch (pick(r, b->kind == BENCH_FAM_BALANCER ? 3 : 4) + (b->kind == BENCH_FAM_BALANCER)) {
    case 0: {
        const char *const *names = b->kind == BENCH_FAM_TOPBAND   ? faults_topband
                                   : b->kind == BENCH_FAM_TINYBMS ? faults_tinybms
                                                                  : faults_superb;
        int n = b->kind == BENCH_FAM_TOPBAND ? 6 : 5;
        const char *name = names[pick(r, n)];
        add_event(sc, at_s, BENCH_ACT_FAULT, pack, -1, strcmp(name, "late") == 0 ? 800 : 0, name);
        double until_s = at_s + round_to(uni(r, 60, 1200), 1);
        if (until_s <= sc->duration_s) {
            add_event(sc, until_s, BENCH_ACT_CLEAR_FAULTS, pack, -1, 1, NULL);
        }
        break;
    }
    case 1: add_event(sc, at_s, BENCH_ACT_CELL_SOC, pack, cell, round_to(uni(r, 0, 100), 1), NULL);
        break;
    case 2:
        add_event(sc, at_s, BENCH_ACT_CELL_CAPACITY, pack, cell, round_to(uni(r, 70, 100), 1),
                  NULL);
        break;
    default:
        add_event(sc, at_s, BENCH_ACT_TEMPERATURE, pack, -1, round_to(uni(r, -10, 60), 1), NULL);
        break;
    }
}

static int cmp_event_time(const void *a, const void *b)
{
    const bench_event_t *x = a, *y = b;
    return (x->at_s > y->at_s) - (x->at_s < y->at_s);
}

/* One random, valid scenario from a run seed. */
static void gen_scenario(bench_scenario_t *sc, uint64_t seed, bench_family_t fam,
                         const bench_gwset_t *sets, int nsets)
{
    sim_rng_t r;
    sim_rng_seed(&r, seed);
    memset(sc, 0, sizeof *sc);
    snprintf(sc->path, sizeof sc->path, "(fuzz %llu)", (unsigned long long)seed);
    snprintf(sc->name, sizeof sc->name, "fuzz_%llu", (unsigned long long)seed);
    snprintf(sc->description, sizeof sc->description,
             "bmsbench fuzz: generated from seed %llu", (unsigned long long)seed);
    sc->duration_s = round_to(uni(&r, 2 * 3600.0, 6 * 3600.0), 60);
    sc->sample_s = 1.0;
    sc->seed = seed;
    sc->has_seed = true;
    gen_bank(&r, sc, fam);
    double scale = sc->bank.npacks * sc->bank.packs[0].capacity_ah / 100.0;
    gen_profile(&r, &sc->system.pv, 60.0 * scale);
    gen_profile(&r, &sc->system.load, 40.0 * scale);
    sc->system.charger_a = sim_profile_at(&sc->system.pv, 0);
    sc->system.load_a = sim_profile_at(&sc->system.load, 0);
    /* Cold comes from temperature events (a whole pack at once). A sub-zero
     * ambient lets cells drift below 0 one by one, and the invariant
     * no_charging_below_0c judges the coldest single cell while a Topband
     * sensor reads the mean of four: no gateway could meet it (seed
     * 2092789425003139053 with ambient -2 showed it). */
    sc->system.ambient_c = round_to(uni(&r, 1, 40), 1);
    int nev = pick(&r, FUZZ_MAX_EVENTS + 1);
    for (int i = 0; i < nev; i++) {
        gen_event(&r, sc);
    }
    /* Stable: the generation order breaks ties, as the loader's file order does. */
    for (int i = 1; i < sc->nevents; i++) {
        for (int j = i; j > 0 && cmp_event_time(&sc->events[j - 1], &sc->events[j]) > 0; j--) {
            bench_event_t t = sc->events[j];
            sc->events[j] = sc->events[j - 1];
            sc->events[j - 1] = t;
        }
    }
    for (int i = 0; i < nsets && sc->ngwset < BENCH_MAX_GWSET; i++) {
        sc->gwset[sc->ngwset++] = sets[i];
    }
}

static int parse_set(const char *arg, bench_gwset_t *s)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof s->key) {
        return -1;
    }
    memset(s, 0, sizeof *s);
    memcpy(s->key, arg, (size_t)(eq - arg));
    char *end;
    errno = 0;
    s->value = strtod(eq + 1, &end);
    return (errno != 0 || end == eq + 1 || *end != '\0') ? -1 : 0;
}

static int parse_family(const char *s)
{
    if (strcmp(s, "all") == 0) {
        return FAM_ALL;
    }
    for (int i = 0; i < FUZZ_FAMILIES; i++) {
        if (strcmp(s, family_names[i]) == 0) {
            return i;
        }
    }
    return -2;
}

static int save_failure(const char *dir, const bench_scenario_t *sc, char *path, size_t cap)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "bmsbench fuzz: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(path, cap, "%s/%llu.yaml", dir, (unsigned long long)sc->seed);
    char err[600];
    if (bench_scenario_write_file(path, sc, err, sizeof err) != 0) {
        fprintf(stderr, "bmsbench fuzz: %s\n", err);
        return -1;
    }
    return 0;
}

typedef struct fuzz_opts {
    long count;
    uint64_t seed;
    int family;
    const char *out;
    bool quiet;
    bench_gwset_t sets[BENCH_MAX_GWSET];
    int nsets;
} fuzz_opts_t;

static int parse_args(int argc, char **argv, fuzz_opts_t *o)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
        {"family", required_argument, NULL, 'f'}, {"set", required_argument, NULL, 'S'},
        {"out", required_argument, NULL, 'o'},    {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:s:f:S:o:qh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'n':
            errno = 0;
            o->count = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || o->count < 1 || o->count > 10000000) {
                fprintf(stderr, "bmsbench fuzz: --count needs 1..10000000, got '%s'\n", optarg);
                return -1;
            }
            break;
        case 's':
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);
            if (errno != 0 || *end != '\0' || optarg[0] == '-' || optarg[0] == '\0') {
                fprintf(stderr, "bmsbench fuzz: --seed needs a whole number >= 0, got '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case 'f':
            o->family = parse_family(optarg);
            if (o->family == -2) {
                fprintf(stderr,
                        "bmsbench fuzz: --family needs topband, tinybms, superb, balancer or all, got "
                        "'%s'\n",
                        optarg);
                return -1;
            }
            break;
        case 'S':
            if (o->nsets == BENCH_MAX_GWSET || parse_set(optarg, &o->sets[o->nsets]) != 0) {
                fprintf(stderr, "bmsbench fuzz: --set needs KEY=NUMBER (at most %d), got '%s'\n",
                        BENCH_MAX_GWSET, optarg);
                return -1;
            }
            o->nsets++;
            break;
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = true; break;
        case 'h': fuzz_usage(stdout); return 1;
        default: fuzz_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bmsbench fuzz: unexpected argument '%s'\n", argv[optind]);
        fuzz_usage(stderr);
        return -1;
    }
    return 0;
}

int cmd_fuzz(int argc, char **argv)
{
    fuzz_opts_t o = {.count = 100, .seed = 1, .family = FAM_ALL, .out = DEFAULT_OUT};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        return rc > 0 ? BENCH_EXIT_OK : BENCH_EXIT_USAGE;
    }
    bench_scenario_t *sc = malloc(sizeof *sc);
    bench_result_t *r = malloc(sizeof *r);
    if (sc == NULL || r == NULL) {
        free(sc), free(r);
        fprintf(stderr, "bmsbench fuzz: out of memory\n");
        return BENCH_EXIT_USAGE;
    }
    long failed = 0;
    double wall_s = 0, sim_s = 0;
    int exit_code = BENCH_EXIT_OK;
    for (long i = 0; i < o.count; i++) {
        uint64_t run_seed = mix64(o.seed + (uint64_t)i);
        bench_family_t fam = o.family == FAM_ALL ? (bench_family_t)(i % FUZZ_FAMILIES)
                                                 : (bench_family_t)o.family;
        gen_scenario(sc, run_seed, fam, o.sets, o.nsets);
        bench_run_opts_t opts = {.progress = false};
        if (bench_run_scenario(sc, &opts, r) != 0) {
            /* A bad --set key is the usual cause: every run would fail alike. */
            fprintf(stderr, "bmsbench fuzz: seed %llu: %s\n", (unsigned long long)run_seed,
                    r->error_msg);
            exit_code = BENCH_EXIT_USAGE;
            break;
        }
        wall_s += r->stats.wall_s;
        sim_s += r->stats.sim_s;
        if (r->passed) {
            if (!o.quiet) {
                printf("ok    %4ld seed %-20llu %-7s %2d x %2dS %5.1f h %d events\n", i + 1,
                       (unsigned long long)run_seed, family_names[fam], sc->bank.npacks,
                       sc->bank.packs[0].cells, sc->duration_s / 3600.0, sc->nevents);
            }
            continue;
        }
        failed++;
        char path[1200] = "(not written)";
        (void)save_failure(o.out, sc, path, sizeof path);
        printf("FAIL  %4ld seed %-20llu %-7s %2d x %2dS %5.1f h %d events: %s\n", i + 1,
               (unsigned long long)run_seed, family_names[fam], sc->bank.npacks,
               sc->bank.packs[0].cells, sc->duration_s / 3600.0, sc->nevents, r->first_failure);
        printf("      reproduce: bmsbench run %s\n", path);
        fflush(stdout);
    }
    if (exit_code == BENCH_EXIT_OK) {
        printf("fuzz: %ld runs, %ld failed, %.1f h simulated in %.1f s wall\n", o.count, failed,
               sim_s / 3600.0, wall_s);
        exit_code = failed > 0 ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
    }
    free(sc), free(r);
    return exit_code;
}
