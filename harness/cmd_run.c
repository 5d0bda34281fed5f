/* SPDX-License-Identifier: MIT */
/* `bmsbench run` and `bmsbench list`: find scenario files, load them, run
 * them in simulated time, print a table and write JUnit XML. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/commands.h"
#include "harness/live/live_runner.h"
#include "harness/recorder.h"
#include "harness/report.h"
#include "harness/runner.h"
#include "harness/signals.h"
#include "reports/junit.h"

#define DEFAULT_DIR "scenarios"

typedef struct path_list {
    char **v;
    int n, cap;
} path_list_t;

static int push_path(path_list_t *l, const char *p)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 32;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (v == NULL) {
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(p);
    return l->v[l->n] ? (l->n++, 0) : -1;
}

static void free_paths(path_list_t *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_yaml(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* Files are taken as given; folders are searched (recursively, sorted) for
 * .yaml/.yml files. Returns 0 or -1 with a message printed. */
static int collect(path_list_t *out, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bmsbench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return push_path(out, path);
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "bmsbench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    path_list_t here = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat s2;
        if (stat(sub, &s2) == 0 && (S_ISDIR(s2.st_mode) || is_yaml(e->d_name))) {
            push_path(&here, sub);
        }
    }
    closedir(d);
    qsort(here.v, (size_t)here.n, sizeof *here.v, cmp_str);
    int rc = 0;
    for (int i = 0; i < here.n && rc == 0; i++) {
        rc = collect(out, here.v[i]);
    }
    free_paths(&here);
    return rc;
}

/* JUnit class: "bmsbench." + the scenario's folder, so CI groups by family. */
static char *class_of(const char *path)
{
    const char *end = strrchr(path, '/');
    if (end == NULL) {
        return strdup("bmsbench");
    }
    const char *start = end;
    while (start > path && start[-1] != '/') {
        start--;
    }
    size_t n = (size_t)(end - start);
    char *s = malloc(n + 10);
    if (s != NULL) {
        snprintf(s, n + 10, "bmsbench.%.*s", (int)n, start);
    }
    return s;
}

static void fmt_duration(double s, char *buf, size_t cap)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) {
        snprintf(buf, cap, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60, t % 60);
    } else if (t >= 60) {
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    } else {
        snprintf(buf, cap, "%.1fs", s);
    }
}

/* --verbose: what crossed the wires, and the trace hash for determinism checks. */
static void print_stats(const bench_result_t *r)
{
    const bench_run_stats_t *s = &r->stats;
    printf("    %d checks; %llu events; bms line %llu bytes, %llu collisions; %u requests, %u good "
           "replies, %u timeouts, %u bad checksums, %u bad frames; can %llu frames (%.2f %% "
           "load); trace %016llx\n",
           r->nchecks, (unsigned long long)s->events, (unsigned long long)s->rs485_bytes,
           (unsigned long long)s->rs485_collisions, s->bms.requests, s->bms.replies_ok,
           s->bms.timeouts, s->bms.bad_checksum, s->bms.bad_frame, (unsigned long long)s->can_frames,
           s->can_load_pct, (unsigned long long)s->trace_hash);
}

/* The report reads the finished world before it is closed. */
typedef struct report_hook {
    bench_report_t *report;
    const char *recording_dir;
} report_hook_t;

static void report_hook(void *ctx, bench_world_t *w, const bench_result_t *r)
{
    report_hook_t *h = ctx;
    bench_report_end(h->report, w, r, h->recording_dir);
}

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: bmsbench run [--junit FILE] [--seed N] [--set KEY=VALUE]... [--log FILE]\n"
            "                    [--record DIR] [--report DIR] [--verbose] [PATH...]\n\n"
            "Runs scenario files (or every .yaml under folders; default: scenarios/) in\n"
            "simulated time against the gateway firmware, checks their expectations and\n"
            "the safety invariants, and prints one line per scenario.\n\n"
            "options:\n"
            "  --junit FILE     write JUnit XML (parent folders are created)\n"
            "  --seed N         override every scenario's seed\n"
            "  --set KEY=VALUE  override a gateway setting (e.g. cell_ov_mv=3700); repeatable\n"
            "  --log FILE       write the gateway's log lines ('-' = stdout)\n"
            "  --record DIR     record every bus and line of each scenario under DIR/<name>/\n"
            "                   (candump -L, Vector ASC, pcap, serial capture, signals CSV)\n"
            "  --report DIR     write an HTML report with charts to DIR/index.html\n"
            "  --verbose        print every failure and the run's traffic figures and trace hash\n"
            "  --help           this text\n\n"
            "live mode (wall-clock time, scenarios with `live: true`, e.g. scenarios/live):\n"
            "  --live           run over real interfaces instead of simulated time\n"
            "  --gateway CMD    start CMD (sh -c) as the gateway, wired through PTYs;\n"
            "                   {bms_port}, {victron_can} and {settings} are filled in\n"
            "                   (with neither port named, --bms-port P --victron-can C\n"
            "                   is appended); the Victron side is an SLCAN PTY\n"
            "  --can IFACE      the Victron CAN side: a SocketCAN interface, or (board\n"
            "                   only) slcan:DEV for an SLCAN adapter\n"
            "  --bms-port DEV   board: the serial port wired to the board's BMS input\n\n"
            "exit: 0 all passed, 1 an expectation or invariant failed, 2 usage or input error\n\n"
            "examples:\n"
            "  bmsbench run\n"
            "  bmsbench run --junit build/reports/junit.xml scenarios/topband\n"
            "  bmsbench run --set cell_ov_mv=4000 scenarios   # a broken gateway must fail\n"
            "  bmsbench run --live --gateway build/bin/bms-gateway scenarios/live\n"
            "  bmsbench run --live --bms-port /dev/ttyUSB0 --can slcan:/dev/ttyACM0 "
            "scenarios/live\n");
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

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"junit", required_argument, NULL, 'j'}, {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},   {"log", required_argument, NULL, 'l'},
        {"record", required_argument, NULL, 'R'}, {"report", required_argument, NULL, 'P'},
        {"verbose", no_argument, NULL, 'v'},     {"help", no_argument, NULL, 'h'},
        /* live mode */
        {"live", no_argument, NULL, 'L'},        {"gateway", required_argument, NULL, 'G'},
        {"can", required_argument, NULL, 'C'},   {"bms-port", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0}};
    const char *junit = NULL, *logpath = NULL, *record_dir = NULL, *report_dir = NULL;
    bench_run_opts_t opts = {.progress = true};
    bench_gwset_t sets[BENCH_MAX_GWSET];
    bool verbose = false;
    bool live = false;
    bench_live_opts_t live_opts = {0};
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "j:s:S:l:R:P:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': junit = optarg; break;
        case 'R': record_dir = optarg; break;
        case 'P': report_dir = optarg; break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 0);
            if (errno != 0 || *end != '\0' || optarg[0] == '-') {
                fprintf(stderr, "bmsbench run: --seed needs a whole number >= 0, got '%s'\n",
                        optarg);
                return BENCH_EXIT_USAGE;
            }
            opts.seed = v;
            opts.seed_set = true;
            break;
        }
        case 'S':
            if (opts.ngwset == BENCH_MAX_GWSET || parse_set(optarg, &sets[opts.ngwset]) != 0) {
                fprintf(stderr, "bmsbench run: --set needs KEY=NUMBER (at most %d), got '%s'\n",
                        BENCH_MAX_GWSET, optarg);
                return BENCH_EXIT_USAGE;
            }
            opts.ngwset++;
            break;
        case 'l': logpath = optarg; break;
        case 'v': verbose = true; break;
        case 'L': live = true; break;
        case 'G': live_opts.gateway_cmd = optarg; break;
        case 'C': live_opts.can = optarg; break;
        case 'B': live_opts.bms_port = optarg; break;
        case 'h': run_usage(stdout); return BENCH_EXIT_OK;
        default: run_usage(stderr); return BENCH_EXIT_USAGE;
        }
    }
    opts.gwset = sets;
    /* ---- live mode: options that only make sense together ---- */
    if (!live && (live_opts.gateway_cmd || live_opts.can || live_opts.bms_port)) {
        fprintf(stderr, "bmsbench run: --gateway, --can and --bms-port need --live\n");
        return BENCH_EXIT_USAGE;
    }
    if (live && report_dir != NULL) {
        fprintf(stderr, "bmsbench run: --report is sim-only (use --record with --live)\n");
        return BENCH_EXIT_USAGE;
    }
    if (live && live_opts.gateway_cmd != NULL && live_opts.bms_port != NULL) {
        fprintf(stderr, "bmsbench run: --bms-port is for a real board; with --gateway the "
                        "bench makes the PTYs\n");
        return BENCH_EXIT_USAGE;
    }

    FILE *log = NULL;
    if (logpath != NULL) {
        log = strcmp(logpath, "-") == 0 ? stdout : fopen(logpath, "w");
        if (log == NULL) {
            fprintf(stderr, "bmsbench run: cannot write %s: %s\n", logpath, strerror(errno));
            return BENCH_EXIT_USAGE;
        }
        opts.log = log;
    }

    path_list_t files = {0};
    int rc_collect = 0;
    if (optind >= argc) {
        rc_collect = collect(&files, DEFAULT_DIR);
    }
    for (int i = optind; i < argc; i++) {
        rc_collect |= collect(&files, argv[i]);
    }
    if (rc_collect != 0 || files.n == 0) {
        if (rc_collect == 0) {
            fprintf(stderr, "bmsbench run: no scenario files found\n");
        }
        free_paths(&files);
        if (log != NULL && log != stdout) {
            fclose(log);
        }
        return BENCH_EXIT_USAGE;
    }

    bench_scenario_t *sc = malloc(sizeof *sc);
    bench_result_t *res = malloc(sizeof *res);
    junit_case_t *cases = calloc((size_t)files.n, sizeof *cases);
    char **names = calloc((size_t)files.n, sizeof *names);
    char **msgs = calloc((size_t)files.n, sizeof *msgs);
    char **details = calloc((size_t)files.n, sizeof *details);
    char **classes = calloc((size_t)files.n, sizeof *classes);
    if (!sc || !res || !cases || !names || !msgs || !details || !classes) {
        fprintf(stderr, "bmsbench run: out of memory\n");
        return BENCH_EXIT_USAGE;
    }

    bench_report_t *report = NULL;
    if (report_dir != NULL) {
        char rerr[512];
        report = bench_report_open(report_dir, rerr, sizeof rerr);
        if (report == NULL) {
            fprintf(stderr, "bmsbench run: --report %s: %s\n", report_dir, rerr);
            free_paths(&files);
            return BENCH_EXIT_USAGE;
        }
    }

    int passed = 0, failed = 0, errors = 0;
    printf("%-32s %10s %8s  %-6s %s\n", "SCENARIO", "SIM TIME", "WALL", "RESULT",
           "FIRST FAILURE");
    for (int i = 0; i < files.n; i++) {
        char err[1024];
        junit_case_t *jc = &cases[i];
        classes[i] = class_of(files.v[i]);
        jc->classname = classes[i] != NULL ? classes[i] : "bmsbench";
        if (!bench_scenario_load(files.v[i], sc, bench_signal_resolve, NULL, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            names[i] = strdup(files.v[i]);
            msgs[i] = strdup(err);
            jc->name = names[i];
            jc->error = true;
            jc->message = msgs[i];
            printf("%-32s %10s %8s  %-6s %s\n", files.v[i], "-", "-", "ERROR", err);
            errors++;
            continue;
        }
        names[i] = strdup(sc->name);
        jc->name = names[i];
        bench_recorder_t *rec = NULL;
        if (record_dir != NULL) {
            rec = bench_recorder_open(record_dir, sc, err, sizeof err);
            if (rec == NULL) {
                fprintf(stderr, "bmsbench run: --record %s: %s\n", record_dir, err);
                errors++;
                continue;
            }
        }
        bench_taps_fanout_t fo;
        opts.taps = bench_taps_fanout(&fo, rec != NULL ? bench_recorder_taps(rec) : NULL,
                                      report != NULL ? bench_report_begin(report, sc) : NULL);
        report_hook_t rh = {report, rec != NULL ? bench_recorder_dir(rec) : NULL};
        bench_live_result_t lres;
        int rc_run = live ? bench_live_run(sc, &opts, &live_opts, res, &lres)
                          : bench_run_scenario_ex(sc, &opts, res,
                                                  report != NULL ? report_hook : NULL, &rh);
        if (rec != NULL && bench_recorder_close(rec, err, sizeof err) != 0) {
            fprintf(stderr, "bmsbench run: --record: %s\n", err);
            errors++;
        }
        if (rc_run != 0 && report != NULL) {
            bench_report_end(report, NULL, res, NULL);
        }
        if (rc_run != 0) {
            char line[1200];
            snprintf(line, sizeof line, "%s: %s", sc->path, res->error_msg);
            fprintf(stderr, "%s\n", line);
            msgs[i] = strdup(line);
            jc->error = true;
            jc->message = msgs[i];
            printf("%-32s %10s %8s  %-6s %s\n", sc->name, "-", "-", "ERROR", line);
            errors++;
            continue;
        }
        char simt[32], wall[32];
        fmt_duration(res->stats.sim_s, simt, sizeof simt);
        snprintf(wall, sizeof wall, "%.2fs", res->stats.wall_s);
        jc->time_s = res->stats.wall_s;
        if (res->passed) {
            passed++;
            printf("%-32s %10s %8s  %-6s\n", sc->name, simt, wall, "PASS");
            if (verbose) {
                print_stats(res);
            }
        } else {
            failed++;
            jc->failed = true;
            msgs[i] = strdup(res->first_failure);
            details[i] = strdup(res->details);
            jc->message = msgs[i];
            jc->details = details[i];
            printf("%-32s %10s %8s  %-6s %s\n", sc->name, simt, wall, "FAIL",
                   res->first_failure);
            if (verbose) {
                printf("%s", res->details);
                print_stats(res);
            }
        }
        if (live && lres.has_fault) {
            if (lres.has_latency) {
                printf("    protection latency: %.3f s (fault at %.1f s to the first 0x351 with "
                       "CCL 0)\n", lres.latency_s, lres.fault_at_s);
            } else {
                printf("    protection latency: none (fault at %.1f s; no 0x351 with CCL 0 "
                       "after it)\n", lres.fault_at_s);
            }
        }
        fflush(stdout);
    }
    printf("\nscenarios: %d passed, %d failed", passed, failed);
    if (errors > 0) {
        printf(", %d errors", errors);
    }
    printf("\n");

    int rc = errors > 0 ? BENCH_EXIT_USAGE : failed > 0 ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
    if (report != NULL) {
        char rerr[512];
        if (bench_report_close(report, rerr, sizeof rerr) != 0) {
            fprintf(stderr, "bmsbench run: --report: %s\n", rerr);
            rc = BENCH_EXIT_USAGE;
        } else {
            fprintf(stderr, "report: %s/index.html\n", report_dir);
        }
    }
    if (junit != NULL && junit_write_file(junit, "bmsbench", cases, files.n) != 0) {
        fprintf(stderr, "bmsbench run: cannot write %s: %s\n", junit, strerror(errno));
        rc = BENCH_EXIT_USAGE;
    }
    for (int i = 0; i < files.n; i++) {
        free(names[i]), free(msgs[i]), free(details[i]), free(classes[i]);
    }
    free(names), free(msgs), free(details), free(classes), free(cases), free(res), free(sc);
    free_paths(&files);
    if (log != NULL && log != stdout) {
        fclose(log);
    }
    return rc;
}

static void list_usage(FILE *f)
{
    fprintf(f, "usage: bmsbench list [--signals | --settings] [PATH...]\n\n"
               "Lists scenarios (default folder: scenarios/) with their duration and\n"
               "description; with --signals the signals an expectation can use; with\n"
               "--settings the gateway settings a scenario's gateway: map or --set may\n"
               "change, with their ranges.\n");
}

int cmd_list(int argc, char **argv)
{
    static const struct option longopts[] = {{"signals", no_argument, NULL, 's'},
                                             {"settings", no_argument, NULL, 'S'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    bool signals = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "sSh", longopts, NULL)) != -1) {
        switch (c) {
        case 's': signals = true; break;
        case 'S': bench_gw_settings_print(stdout); return BENCH_EXIT_OK;
        case 'h': list_usage(stdout); return BENCH_EXIT_OK;
        default: list_usage(stderr); return BENCH_EXIT_USAGE;
        }
    }
    if (signals) {
        for (int i = 0; bench_signal_defs[i].name != NULL; i++) {
            printf("%-34s %s\n", bench_signal_defs[i].name, bench_signal_defs[i].help);
        }
        return BENCH_EXIT_OK;
    }
    path_list_t files = {0};
    int rc = 0;
    if (optind >= argc) {
        rc = collect(&files, DEFAULT_DIR);
    }
    for (int i = optind; i < argc; i++) {
        rc |= collect(&files, argv[i]);
    }
    bench_scenario_t *sc = malloc(sizeof *sc);
    if (sc == NULL) {
        free_paths(&files);
        return BENCH_EXIT_USAGE;
    }
    for (int i = 0; i < files.n; i++) {
        char err[1024], dur[32];
        if (!bench_scenario_load(files.v[i], sc, bench_signal_resolve, NULL, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            rc = -1;
            continue;
        }
        fmt_duration(sc->duration_s, dur, sizeof dur);
        printf("%-32s %10s  %s\n", sc->name, dur, sc->description);
    }
    free(sc);
    free_paths(&files);
    return rc != 0 ? BENCH_EXIT_USAGE : BENCH_EXIT_OK;
}
