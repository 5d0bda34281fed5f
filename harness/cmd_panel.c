/* SPDX-License-Identifier: MIT */
/* `bmsbench panel`: watch and steer a scenario in an SDL2 window, or render
 * it headless to PNG snapshots at given times. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_image.h>

#include "harness/commands.h"
#include "harness/live/live_runner.h"
#include "harness/panel/panel.h"
#include "harness/signals.h"

#define MAX_SHOTS 16
#define FRAME_MS 33          /* about 30 frames a second */
#define MAX_SIM_PER_FRAME_MS 25 /* "max" speed: wall time spent simulating per frame */

typedef struct panel_args {
    const char *scenario;
    const char *snapshot[MAX_SHOTS];
    int nsnapshot;
    double at_s[MAX_SHOTS];
    int nat;
    int width, height;
    bench_panel_opts_t popts;
    double speed;            /* 0 = as fast as possible */
    bool speed_set;
    bool paused;
    double exit_after_s;     /* < 0: never */
    const char *record_events;
    const char *save_path;
    bench_run_opts_t run;
    bench_gwset_t sets[BENCH_MAX_GWSET];
    bool live;
    bench_live_opts_t lo;
} panel_args_t;

static void panel_usage(FILE *f)
{
    fprintf(f,
            "usage: bmsbench panel [OPTIONS] SCENARIO\n"
            "       bmsbench panel SCENARIO --snapshot FILE.png --at T [--at T]...\n"
            "       bmsbench panel --live [--gateway CMD | --bms-port DEV --can IFACE|slcan:DEV]\n"
            "                      SCENARIO [--snapshot FILE.png --at T]...\n\n"
            "Shows a scenario running in simulated time (or live: wall-clock time against a\n"
            "real gateway process or board, as run --live): the bank (cells coloured by\n"
            "voltage against the profile's thresholds), what the GX sees (CVL/CCL/DCL with\n"
            "their reasons, strip charts), 0x35A alarms, 0x35C flags, relays and LED, a\n"
            "frame log of both sides and the timeline with each expectation's mark. Keys\n"
            "inject faults; each injection is a scenario event and the session can be\n"
            "saved as a YAML scenario that replays it.\n\n"
            "options:\n"
            "  --snapshot FILE   render headless (no display) to PNG; with one FILE and\n"
            "                    several --at, FILE gets -<T>s before .png per time;\n"
            "                    or give one --snapshot per --at\n"
            "  --at T            snapshot time (90, 90s, 5min, 1h30m); repeatable;\n"
            "                    default: the end of the scenario\n"
            "  --size WxH        window / snapshot size, default 1280x720\n"
            "  --scale F         high-DPI factor for text and window size, default 1\n"
            "  --font FILE       TrueType font (default $BMSBENCH_FONT or\n"
            "                    " BENCH_PANEL_DEFAULT_FONT ")\n"
            "  --window T        strip-chart time window, default 10min\n"
            "  --speed N|max     simulated seconds per wall second, default 1\n"
            "  --paused          start paused\n"
            "  --exit-after T    quit when the simulation reaches T (for tests)\n"
            "  --record-events FILE  on exit, write the session (the scenario plus every\n"
            "                    injected event) as YAML to FILE\n"
            "  --save FILE       where the 'w' key saves the session (default\n"
            "                    panel-session.yaml)\n"
            "  --seed N          override the scenario's seed\n"
            "  --set KEY=VALUE   override a gateway setting; repeatable\n"
            "  --live            wall-clock time against a real gateway (scenarios with\n"
            "                    `live: true`, e.g. scenarios/live); speed is fixed at 1x,\n"
            "                    pause freezes the display only (the run goes on), --at is\n"
            "                    wall time; keys inject into the live emulator\n"
            "  --gateway CMD     live: start CMD (sh -c) as the gateway, wired through\n"
            "                    PTYs; {bms_port} {victron_can} {bms_can} {family}\n"
            "                    {settings} are filled in (as run --live)\n"
            "  --bms-port DEV    live, board: the serial port wired to its BMS input\n"
            "  --can IFACE       live: the Victron CAN side (SocketCAN, or slcan:DEV for a\n"
            "                    board)\n"
            "  --help            this text\n\n"
            "keys:\n");
    for (int i = 0; bench_panel_key_help[i] != NULL; i++) {
        fprintf(f, "  %s\n", bench_panel_key_help[i]);
    }
    fprintf(f, "  click a cell to select it; click or hover a frame-log line to decode it\n\n"
               "The Victron-bus drop ('v') has no scenario event: it is shown and noted but\n"
               "not saved. On exit the panel prints one summary line to stdout; live adds a\n"
               "second: `panel: live ... seen_351=yes|no can_frames=N bms_bytes=N`.\n\n"
               "exit: 0 ok, 1 runtime error (no display, font missing; live: the gateway\n"
               "exited or a device was lost), 2 usage error\n\n"
               "examples:\n"
               "  bmsbench panel scenarios/topband/pack_silent.yaml\n"
               "  bmsbench panel scenarios/topband/pack_silent.yaml --snapshot docs/panel.png "
               "--at 12min\n"
               "  bmsbench panel scenarios/topband/pack_silent.yaml --snapshot out.png --at 90s "
               "--at 5min\n"
               "  bmsbench panel --live --gateway 'build/bin/bms-gateway --family {family} "
               "--bms-port {bms_port} --victron-can {victron_can} {settings}' "
               "scenarios/live/cell_high_live.yaml\n");
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

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "bmsbench panel: %s '%s'\n\n", what, arg);
    panel_usage(stderr);
    return -1;
}

/* Returns 0, 1 for --help, -1 on a usage error (printed). */
static int parse_args(int argc, char **argv, panel_args_t *a)
{
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, 'o'}, {"at", required_argument, NULL, 'a'},
        {"size", required_argument, NULL, 'z'},     {"scale", required_argument, NULL, 'k'},
        {"font", required_argument, NULL, 'f'},     {"window", required_argument, NULL, 'W'},
        {"speed", required_argument, NULL, 'v'},    {"paused", no_argument, NULL, 'p'},
        {"exit-after", required_argument, NULL, 'x'},
        {"record-events", required_argument, NULL, 'r'},
        {"save", required_argument, NULL, 'S'},     {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'g'},      {"live", no_argument, NULL, 'L'},
        {"gateway", required_argument, NULL, 'G'},  {"can", required_argument, NULL, 'C'},
        {"bms-port", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->width = 1280, a->height = 720;
    a->speed = 1;
    a->exit_after_s = -1;
    a->popts.font_path = getenv("BMSBENCH_FONT");
    a->popts.scale = 1;
    a->popts.window_s = 600;
    a->save_path = "panel-session.yaml";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o':
            if (a->nsnapshot >= MAX_SHOTS) {
                return bad("too many snapshots", optarg);
            }
            a->snapshot[a->nsnapshot++] = optarg;
            break;
        case 'a':
            if (a->nat >= MAX_SHOTS || !bench_parse_duration(optarg, &a->at_s[a->nat])) {
                return bad("bad --at time", optarg);
            }
            a->nat++;
            break;
        case 'z':
            if (sscanf(optarg, "%dx%d", &a->width, &a->height) != 2 || a->width < 320 ||
                a->height < 200 || a->width > 8192 || a->height > 8192) {
                return bad("bad --size (WxH, 320x200 .. 8192x8192)", optarg);
            }
            break;
        case 'k':
            a->popts.scale = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(a->popts.scale >= 0.5 && a->popts.scale <= 4)) {
                return bad("bad --scale (0.5 .. 4)", optarg);
            }
            break;
        case 'f': a->popts.font_path = optarg; break;
        case 'W':
            if (!bench_parse_duration(optarg, &a->popts.window_s) || a->popts.window_s < 1) {
                return bad("bad --window", optarg);
            }
            break;
        case 'v':
            a->speed_set = true;
            if (strcmp(optarg, "max") == 0) {
                a->speed = 0;
                break;
            }
            a->speed = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(a->speed > 0 && a->speed <= 1e6)) {
                return bad("bad --speed (a factor or max)", optarg);
            }
            break;
        case 'p': a->paused = true; break;
        case 'x':
            if (!bench_parse_duration(optarg, &a->exit_after_s)) {
                return bad("bad --exit-after", optarg);
            }
            break;
        case 'r': a->record_events = optarg; break;
        case 'S': a->save_path = optarg; break;
        case 's':
            a->run.seed = strtoull(optarg, &end, 0);
            if (end == optarg || *end != '\0') {
                return bad("bad --seed", optarg);
            }
            a->run.seed_set = true;
            break;
        case 'g':
            if (a->run.ngwset >= BENCH_MAX_GWSET || parse_set(optarg, &a->sets[a->run.ngwset]) != 0) {
                return bad("bad --set (KEY=VALUE)", optarg);
            }
            a->run.ngwset++;
            break;
        case 'L': a->live = true; break;
        case 'G': a->lo.gateway_cmd = optarg; break;
        case 'C': a->lo.can = optarg; break;
        case 'B': a->lo.bms_port = optarg; break;
        case 'h': panel_usage(stdout); return 1;
        default: panel_usage(stderr); return -1;
        }
    }
    a->run.gwset = a->sets;
    /* Live: the same rules as run --live. */
    if (!a->live && (a->lo.gateway_cmd || a->lo.can || a->lo.bms_port)) {
        fprintf(stderr, "bmsbench panel: --gateway, --can and --bms-port need --live\n");
        return -1;
    }
    if (a->live && a->lo.gateway_cmd != NULL && a->lo.bms_port != NULL) {
        fprintf(stderr, "bmsbench panel: --bms-port is for a real board; with --gateway the "
                        "bench makes the PTYs\n");
        return -1;
    }
    if (a->live && a->speed_set) {
        fprintf(stderr, "bmsbench panel: --speed is sim-only (live runs on the wall clock)\n");
        return -1;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "bmsbench panel: need exactly one SCENARIO\n\n");
        panel_usage(stderr);
        return -1;
    }
    a->scenario = argv[optind];
    if (a->nsnapshot > 1 && a->nsnapshot != a->nat) {
        fprintf(stderr, "bmsbench panel: give one --snapshot, or one per --at\n");
        return -1;
    }
    if (a->nsnapshot == 0 && a->nat > 0) {
        fprintf(stderr, "bmsbench panel: --at needs --snapshot\n");
        return -1;
    }
    return 0;
}

/* "out.png" at 90 s -> "out-90s.png" when one file takes several times. */
static void shot_name(const panel_args_t *a, int i, double t, char *out, size_t cap)
{
    if (a->nsnapshot > 1 || a->nat <= 1) {
        snprintf(out, cap, "%s", a->snapshot[a->nsnapshot > 1 ? i : 0]);
        return;
    }
    const char *f = a->snapshot[0];
    size_t n = strlen(f);
    size_t stem = (n > 4 && strcmp(f + n - 4, ".png") == 0) ? n - 4 : n;
    snprintf(out, cap, "%.*s-%gs.png", (int)stem, f, t);
}

static int run_snapshots(bench_panel_t *p, const panel_args_t *a)
{
    int order[MAX_SHOTS];
    double at[MAX_SHOTS];
    int n = a->nat > 0 ? a->nat : 1;
    for (int i = 0; i < n; i++) {
        order[i] = i;
        at[i] = a->nat > 0 ? a->at_s[i] : p->w->sc->duration_s;
    }
    /* Time only runs forward: take the snapshots in time order. */
    for (int i = 1; i < n; i++) {
        for (int k = i; k > 0 && at[order[k]] < at[order[k - 1]]; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    }
    for (int k = 0; k < n; k++) {
        int i = order[k];
        if (at[i] > p->w->sc->duration_s) {
            fprintf(stderr, "bmsbench panel: --at %gs is after the scenario's end (%gs)\n", at[i],
                    p->w->sc->duration_s);
            return BENCH_EXIT_USAGE;
        }
        bench_panel_advance(p, at[i]);
        char path[1024], err[512];
        shot_name(a, i, at[i], path, sizeof path);
        if (bench_panel_save_png(p, path, a->width, a->height, err, sizeof err) != 0) {
            fprintf(stderr, "bmsbench panel: %s\n", err);
            return BENCH_EXIT_FAIL;
        }
        printf("%s at %.1f s\n", path, bench_world_now(p->w));
    }
    return BENCH_EXIT_OK;
}

static void render_window(bench_panel_t *p, SDL_Window *win)
{
    SDL_Surface *s = SDL_GetWindowSurface(win);
    if (s == NULL) {
        return;
    }
    SDL_Renderer *r = SDL_CreateSoftwareRenderer(s);
    if (r == NULL) {
        return;
    }
    bench_panel_render(p, r, s->w, s->h);
    SDL_RenderPresent(r);
    SDL_DestroyRenderer(r);
    SDL_UpdateWindowSurface(win);
}

/* Advance by wall time x speed; "max" simulates for a bounded wall slice. */
static void step_sim(bench_panel_t *p, double wall_dt_s)
{
    double now = bench_world_now(p->w);
    double speed = bench_panel_speeds[p->speed_idx];
    if (p->step_req) {
        p->step_req = false;
        bench_panel_advance(p, now + 1.0);
        return;
    }
    if (p->paused) {
        return;
    }
    if (speed > 0) {
        bench_panel_advance(p, now + wall_dt_s * speed);
        return;
    }
    Uint64 t0 = SDL_GetTicks64();
    while (SDL_GetTicks64() - t0 < MAX_SIM_PER_FRAME_MS &&
           bench_world_now(p->w) < p->w->sc->duration_s) {
        bench_panel_advance(p, bench_world_now(p->w) + 1.0);
    }
}

static int speed_index(double speed)
{
    int best = 0;
    for (int i = 0; i < bench_panel_nspeeds; i++) {
        if (bench_panel_speeds[i] == speed) {
            return i;
        }
        if (bench_panel_speeds[i] > 0 && bench_panel_speeds[i] <= speed) {
            best = i;
        }
    }
    return best;
}

static int run_window(bench_panel_t *p, const panel_args_t *a)
{
    char title[128];
    snprintf(title, sizeof title, "bmsbench panel - %s", p->w->sc->name);
    int ww = (int)lround(a->width * a->popts.scale), wh = (int)lround(a->height * a->popts.scale);
    SDL_Window *win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, ww,
                                       wh, SDL_WINDOW_RESIZABLE);
    if (win == NULL) {
        fprintf(stderr, "bmsbench panel: cannot open a window: %s (use --snapshot without a "
                        "display)\n",
                SDL_GetError());
        return BENCH_EXIT_FAIL;
    }
    p->paused = a->paused;
    p->speed_idx = a->speed == 0 ? bench_panel_nspeeds - 1 : speed_index(a->speed);
    bool quit = false, ended = false;
    Uint64 last = SDL_GetTicks64();
    while (!quit) {
        int w = 0, h = 0;
        SDL_GetWindowSize(win, &w, &h);
        bench_panel_layout_t l;
        bench_panel_layout(p, w, h, &l);
        SDL_Event e;
        while (SDL_PollEvent(&e)) {
            switch (e.type) {
            case SDL_QUIT: quit = true; break;
            case SDL_KEYDOWN: quit = quit || bench_panel_key(p, e.key.keysym.sym); break;
            case SDL_MOUSEBUTTONDOWN: bench_panel_click(p, &l, e.button.x, e.button.y); break;
            case SDL_MOUSEMOTION: bench_panel_motion(p, &l, e.motion.x, e.motion.y); break;
            default: break;
            }
        }
        Uint64 nowt = SDL_GetTicks64();
        double dt = (double)(nowt - last) / 1000.0;
        last = nowt;
        step_sim(p, dt > 0.25 ? 0.25 : dt);
        double t = bench_world_now(p->w);
        if (!ended && t >= p->w->sc->duration_s) {
            ended = true;
            p->paused = true;
            snprintf(p->status, sizeof p->status, "end of scenario at %.1f s", t);
        }
        if (a->exit_after_s >= 0 && (t >= a->exit_after_s || ended)) {
            quit = true;
        }
        render_window(p, win);
        Uint64 spent = SDL_GetTicks64() - nowt;
        if (spent < FRAME_MS) {
            SDL_Delay((Uint32)(FRAME_MS - spent));
        }
    }
    SDL_DestroyWindow(win);
    return BENCH_EXIT_OK;
}

static void summary(bench_world_t *w)
{
    const double *sig = bench_world_signals(w);
    const char *names[] = {"modules_online", "modules_offline", "ccl_a", "dcl_a", "cvl_v"};
    printf("panel: t=%.1f s injected=%d", bench_world_now(w), w->ninjected);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int k = bench_signal_resolve(NULL, names[i], strlen(names[i]));
        if (k >= 0) {
            printf(" %s=%g", names[i], sig[k]);
        }
    }
    const bench_expect_state_t *st = NULL;
    int n = bench_world_checks(w, &st), pass = 0, fail = 0;
    for (int i = 0; i < n; i++) {
        pass += st[i].verdict == BENCH_PASS;
        fail += st[i].verdict == BENCH_FAIL;
    }
    printf(" checks=%d passed=%d failed=%d\n", n, pass, fail);
}

/* ---- live: the same panel on a wall-clock run (live_runner) ---- */

/* Drive the live run to wall time until_s, sampling the strip charts on the
 * way. Returns false once the run is over. */
static bool live_pump(bench_panel_t *p, bench_live_t *lv, double until_s)
{
    bool going = true;
    do {
        double step = p->next_hist_s < until_s ? p->next_hist_s : until_s;
        going = bench_live_step(lv, step);
        if (bench_world_now(p->w) + 1e-9 >= p->next_hist_s) {
            bench_panel_sample(p);
        }
    } while (going && bench_live_now(lv) < until_s);
    return going;
}

static int live_snapshots(bench_panel_t *p, bench_live_t *lv, const panel_args_t *a)
{
    int order[MAX_SHOTS];
    double at[MAX_SHOTS];
    int n = a->nat > 0 ? a->nat : 1;
    for (int i = 0; i < n; i++) {
        order[i] = i;
        at[i] = a->nat > 0 ? a->at_s[i] : p->w->sc->duration_s;
    }
    /* Wall time only runs forward: take the snapshots in time order. */
    for (int i = 1; i < n; i++) {
        for (int k = i; k > 0 && at[order[k]] < at[order[k - 1]]; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    }
    for (int k = 0; k < n; k++) {
        int i = order[k];
        if (!live_pump(p, lv, at[i]) && bench_world_now(p->w) + 0.5 < at[i]) {
            /* The run ended early (gateway gone, device lost): show where. */
            fprintf(stderr, "bmsbench panel: the live run ended at %.1f s, before --at %gs\n",
                    bench_world_now(p->w), at[i]);
        }
        char path[1024], err[512];
        shot_name(a, i, at[i], path, sizeof path);
        if (bench_panel_save_png(p, path, a->width, a->height, err, sizeof err) != 0) {
            fprintf(stderr, "bmsbench panel: %s\n", err);
            return BENCH_EXIT_FAIL;
        }
        printf("%s at %.1f s\n", path, bench_world_now(p->w));
    }
    return BENCH_EXIT_OK;
}

static int live_window(bench_panel_t *p, bench_live_t *lv, const panel_args_t *a)
{
    char title[160];
    snprintf(title, sizeof title, "bmsbench panel LIVE - %s", p->w->sc->name);
    int ww = (int)lround(a->width * a->popts.scale), wh = (int)lround(a->height * a->popts.scale);
    SDL_Window *win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, ww,
                                       wh, SDL_WINDOW_RESIZABLE);
    if (win == NULL) {
        fprintf(stderr, "bmsbench panel: cannot open a window: %s (use --snapshot without a "
                        "display)\n",
                SDL_GetError());
        return BENCH_EXIT_FAIL;
    }
    p->paused = a->paused;
    bool quit = false, ended = false, drawn_paused = false;
    while (!quit) {
        int w = 0, h = 0;
        SDL_GetWindowSize(win, &w, &h);
        bench_panel_layout_t l;
        bench_panel_layout(p, w, h, &l);
        SDL_Event e;
        while (SDL_PollEvent(&e)) {
            switch (e.type) {
            case SDL_QUIT: quit = true; break;
            case SDL_KEYDOWN: quit = quit || bench_panel_key(p, e.key.keysym.sym); break;
            case SDL_MOUSEBUTTONDOWN: bench_panel_click(p, &l, e.button.x, e.button.y); break;
            case SDL_MOUSEMOTION: bench_panel_motion(p, &l, e.motion.x, e.motion.y); break;
            case SDL_WINDOWEVENT: drawn_paused = false; break; /* exposed or resized */
            default: break;
            }
        }
        /* The wall clock has one speed and cannot step. */
        p->speed_idx = 0;
        p->step_req = false;
        bench_live_drop_victron(lv, p->victron_dropped);
        if (!live_pump(p, lv, bench_live_now(lv) + FRAME_MS / 1000.0) && !ended) {
            ended = true;
            snprintf(p->status, sizeof p->status, "end of live run at %.1f s",
                     bench_world_now(p->w));
            drawn_paused = false;
        }
        if (a->exit_after_s >= 0 && (bench_live_now(lv) >= a->exit_after_s || ended)) {
            quit = true;
        }
        /* Pause freezes the picture only: draw once more to say so, then stop. */
        if (!p->paused || !drawn_paused) {
            render_window(p, win);
            drawn_paused = p->paused;
        }
        if (ended) {
            SDL_Delay(FRAME_MS); /* nothing left to pump */
        }
    }
    SDL_DestroyWindow(win);
    return BENCH_EXIT_OK;
}

/* `panel --live`: open the run first (it starts the gateway and the clock),
 * then the panel on its world; close the run after the panel lets go. */
static int panel_live(bench_panel_t *p, const panel_args_t *a, const bench_scenario_t *sc)
{
    bool headless = a->nsnapshot > 0;
    for (int i = 0; i < a->nat; i++) {
        if (a->at_s[i] > sc->duration_s) {
            fprintf(stderr, "bmsbench panel: --at %gs is after the scenario's end (%gs)\n",
                    a->at_s[i], sc->duration_s);
            return BENCH_EXIT_USAGE;
        }
    }
    if (headless) {
        SDL_setenv("SDL_VIDEODRIVER", "dummy", 1);
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "bmsbench panel: SDL: %s\n", SDL_GetError());
        return BENCH_EXIT_FAIL;
    }
    int rc = BENCH_EXIT_FAIL;
    bench_result_t *res = calloc(1, sizeof *res);
    bench_live_result_t lres;
    bench_live_t *lv = NULL;
    char err[1024];
    if (res == NULL) {
        fprintf(stderr, "bmsbench panel: out of memory\n");
        goto out_sdl;
    }
    if (TTF_Init() != 0 || (IMG_Init(IMG_INIT_PNG) & IMG_INIT_PNG) == 0) {
        fprintf(stderr, "bmsbench panel: SDL_ttf/SDL_image: %s\n", SDL_GetError());
        goto out_ttf;
    }
    if (bench_live_open(&lv, sc, &a->run, &a->lo, res, &lres) != 0) {
        fprintf(stderr, "bmsbench panel: %s\n", res->error_msg);
        rc = BENCH_EXIT_USAGE;
        goto out_ttf;
    }
    bench_world_t *w = bench_live_world(lv);
    if (bench_panel_init(p, w, &a->popts, err, sizeof err) != 0) {
        fprintf(stderr, "bmsbench panel: %s\n", err);
        bench_live_close(lv, res);
        goto out_ttf;
    }
    p->live = true;
    p->save_path = a->save_path;
    rc = headless ? live_snapshots(p, lv, a) : live_window(p, lv, a);
    if (a->record_events != NULL && bench_panel_save(p, a->record_events, err, sizeof err) != 0) {
        fprintf(stderr, "bmsbench panel: %s\n", err);
        rc = BENCH_EXIT_FAIL;
    }
    summary(w);
    bool seen_351 = w->gx.seen_351;
    bench_panel_free(p);
    bench_live_close(lv, res);
    printf("panel: live t=%.1f s seen_351=%s can_frames=%llu bms_bytes=%llu live_failures=%d\n",
           res->stats.wall_s, seen_351 ? "yes" : "no", (unsigned long long)res->stats.can_frames,
           (unsigned long long)res->stats.rs485_bytes, lres.live_failures);
    if (lres.live_failures > 0) {
        /* The gateway exited or a device went away: say what, as run --live does. */
        fprintf(stderr, "bmsbench panel: %s\n", res->first_failure);
        rc = BENCH_EXIT_FAIL;
    }
out_ttf:
    IMG_Quit();
    TTF_Quit();
out_sdl:
    SDL_Quit();
    free(res);
    return rc;
}

int cmd_panel(int argc, char **argv)
{
    panel_args_t *a = calloc(1, sizeof *a);
    bench_scenario_t *sc = calloc(1, sizeof *sc);
    bench_panel_t *p = calloc(1, sizeof *p);
    if (a == NULL || sc == NULL || p == NULL) {
        free(a), free(sc), free(p);
        fprintf(stderr, "bmsbench panel: out of memory\n");
        return BENCH_EXIT_FAIL;
    }
    int rc = parse_args(argc, argv, a);
    if (rc != 0) {
        free(a), free(sc), free(p);
        return rc == 1 ? BENCH_EXIT_OK : BENCH_EXIT_USAGE;
    }
    char err[1024];
    if (!bench_scenario_load(a->scenario, sc, bench_signal_resolve, NULL, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        free(a), free(sc), free(p);
        return BENCH_EXIT_USAGE;
    }
    bool headless = a->nsnapshot > 0;
    if (headless) {
        /* No display needed: the software renderer draws into a surface. */
        SDL_setenv("SDL_VIDEODRIVER", "dummy", 1);
    }
    if (a->live) {
        rc = panel_live(p, a, sc);
        free(a), free(sc), free(p);
        return rc;
    }
    rc = BENCH_EXIT_FAIL;
    bench_world_t *w = NULL;
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "bmsbench panel: SDL: %s\n", SDL_GetError());
        goto out;
    }
    if (TTF_Init() != 0 || (IMG_Init(IMG_INIT_PNG) & IMG_INIT_PNG) == 0) {
        fprintf(stderr, "bmsbench panel: SDL_ttf/SDL_image: %s\n", SDL_GetError());
        goto out_sdl;
    }
    if (bench_world_open(&w, sc, &a->run, err, sizeof err) != 0) {
        fprintf(stderr, "bmsbench panel: %s\n", err);
        rc = BENCH_EXIT_USAGE;
        goto out_ttf;
    }
    if (bench_panel_init(p, w, &a->popts, err, sizeof err) != 0) {
        fprintf(stderr, "bmsbench panel: %s\n", err);
        goto out_world;
    }
    p->save_path = a->save_path;
    rc = headless ? run_snapshots(p, a) : run_window(p, a);
    if (a->record_events != NULL) {
        if (bench_panel_save(p, a->record_events, err, sizeof err) != 0) {
            fprintf(stderr, "bmsbench panel: %s\n", err);
            rc = BENCH_EXIT_FAIL;
        }
    }
    if (!headless) {
        summary(w);
    }
    bench_panel_free(p);
out_world:
    bench_world_close(w);
out_ttf:
    IMG_Quit();
    TTF_Quit();
out_sdl:
    SDL_Quit();
out:
    free(a), free(sc), free(p);
    return rc;
}
