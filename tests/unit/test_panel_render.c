/* SPDX-License-Identifier: MIT */
/* The panel rendered headless (dummy video driver, software renderer): the
 * pixels that would change if the panel broke — cell colours against the
 * thresholds, the CCL/DCL lines at the height of their values, an active
 * alarm's cell — and a key that injects a fault into the simulation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/panel/panel.h"
#include "harness/signals.h"

#define W 1280
#define H 720

static const char scenario_yaml[] = "name: panel_test\n"
                                    "description: two packs charging, for the panel tests\n"
                                    "duration: 10m\n"
                                    "seed: 1\n"
                                    "bank:\n"
                                    "  family: topband\n"
                                    "  packs: 2\n"
                                    "  cells: 16\n"
                                    "  capacity_ah: 100\n"
                                    "  soc: 50\n"
                                    "system:\n"
                                    "  charger: 30\n"
                                    "expect:\n"
                                    "  - always: \"t >= 0\"\n";

typedef struct fixture {
    bench_scenario_t sc;
    bench_world_t *w;
    bench_panel_t p;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char err[512];
    if (!bench_scenario_load_mem("panel_test.yaml", scenario_yaml, strlen(scenario_yaml), &f->sc,
                                 bench_signal_resolve, NULL, err, sizeof err)) {
        fail_msg("%s", err);
    }
    bench_run_opts_t opts = {0};
    assert_int_equal(bench_world_open(&f->w, &f->sc, &opts, err, sizeof err), 0);
    assert_int_equal(bench_panel_init(&f->p, f->w, NULL, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    bench_panel_free(&f->p);
    bench_world_close(f->w);
    free(f);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (SDL_Init(SDL_INIT_VIDEO) != 0 || TTF_Init() != 0) {
        fprintf(stderr, "SDL: %s\n", SDL_GetError());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    TTF_Quit();
    SDL_Quit();
    return 0;
}

/* The pixel as 0xRRGGBB; the surface is SDL_PIXELFORMAT_RGB888 (XRGB, 32 bits). */
static uint32_t pixel(const SDL_Surface *s, int x, int y)
{
    const uint8_t *row = (const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
    uint32_t v;
    memcpy(&v, row + (size_t)x * 4u, sizeof v);
    return v & 0xFFFFFFu;
}

static double signal(bench_world_t *w, const char *name)
{
    int k = bench_signal_resolve(NULL, name, strlen(name));
    assert_true(k >= 0);
    return bench_world_signals(w)[k];
}

/* Cells driven to a voltage by a cell_offset event, then the colour of the cell. */
static void test_panel_cell_colours_follow_thresholds(void **state)
{
    fixture_t *f = *state;
    static const struct {
        int cell;
        double target_v;
        uint32_t rgb;
    } rows[] = {
        {1, 3.70, BENCH_PANEL_RGB_CELL_OV},  {3, 3.60, BENCH_PANEL_RGB_CELL_HIGH},
        {5, 3.30, BENCH_PANEL_RGB_CELL_OK},  {7, 2.70, BENCH_PANEL_RGB_CELL_LOW},
        {9, 2.40, BENCH_PANEL_RGB_CELL_UV},
    };
    bench_panel_advance(&f->p, 30);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const sim_cell_t *c = &f->w->bank.packs[1].cells[rows[i].cell];
        bench_event_t ev = {.action = BENCH_ACT_CELL_OFFSET, .pack = 1, .cell = rows[i].cell};
        ev.value = (rows[i].target_v - (c->v - c->v_offset)) * 1000.0;
        assert_int_equal(bench_panel_inject(&f->p, &ev, "test"), 0);
    }
    bench_panel_advance(&f->p, 31);
    SDL_Surface *s = bench_panel_render_surface(&f->p, W, H);
    assert_non_null(s);
    bench_panel_layout_t l;
    bench_panel_layout(&f->p, W, H, &l);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bench_panel_rect_t r;
        assert_true(bench_panel_cell_rect(&f->p, &l, 1, rows[i].cell, &r));
        /* Right of the voltage label, away from the balancing mark. */
        uint32_t got = pixel(s, r.x + r.w * 3 / 4, r.y + r.h / 2);
        if (got != rows[i].rgb) {
            fail_msg("row %zu: cell %d at %.3f V drawn %06X, expected %06X", i, rows[i].cell,
                     f->w->bank.packs[1].cells[rows[i].cell].v, (unsigned)got,
                     (unsigned)rows[i].rgb);
        }
    }
    /* An untouched cell of the other pack stays ok. */
    bench_panel_rect_t r;
    assert_true(bench_panel_cell_rect(&f->p, &l, 0, 1, &r));
    assert_int_equal(pixel(s, r.x + r.w * 3 / 4, r.y + r.h / 2), BENCH_PANEL_RGB_CELL_OK);
    SDL_FreeSurface(s);
}

/* Rows of column x whose pixel has colour rgb: first and last, -1 if none. */
static void rows_with(const SDL_Surface *s, int x, int y0, int y1, uint32_t rgb, int *first,
                      int *last)
{
    *first = *last = -1;
    for (int y = y0; y < y1; y++) {
        if (pixel(s, x, y) == rgb) {
            if (*first < 0) {
                *first = y;
            }
            *last = y;
        }
    }
}

/* Two packs charging: CCL and DCL steady; the limits chart runs from 0 to the
 * largest value rounded up to 10 A, each line at the height of its value. */
static void test_panel_limit_lines_at_their_values(void **state)
{
    fixture_t *f = *state;
    bench_panel_advance(&f->p, 120);
    /* Steady limits for the whole window, apart from each other. */
    double ccl = f->w->gx.ccl_a, dcl = f->w->gx.dcl_a;
    if (!(ccl > 20.0 && dcl > ccl + 20.0)) {
        fail_msg("limits CCL %.1f DCL %.1f: expected 20 < CCL < DCL - 20", ccl, dcl);
    }
    double top = ceil(dcl / 10.0) * 10.0;
    double lo, hi;
    bench_panel_chart_range(&f->p, 1, &lo, &hi);
    assert_true(lo == 0.0 && hi == top);
    SDL_Surface *s = bench_panel_render_surface(&f->p, W, H);
    assert_non_null(s);
    bench_panel_layout_t l;
    bench_panel_layout(&f->p, W, H, &l);
    const bench_panel_rect_t *pl = &l.chart[1];
    const struct {
        double value;
        uint32_t rgb;
    } rows[] = {{ccl, BENCH_PANEL_RGB_CCL}, {dcl, BENCH_PANEL_RGB_DCL}};
    int x = pl->x + pl->w - 4;  /* the newest samples are at the right edge */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int want = pl->y + (pl->h - 1) - (int)(rows[i].value / top * (pl->h - 1) + 0.5);
        int first, last;
        rows_with(s, x, pl->y, pl->y + pl->h, rows[i].rgb, &first, &last);
        if (first < want - 1 || first > want + 1 || last > want + 2) {
            fail_msg("row %zu: line of %.0f A at y %d..%d, expected %d (plot y %d h %d)", i,
                     rows[i].value, first, last, want, pl->y, pl->h);
        }
    }
    SDL_FreeSurface(s);
}

/* A cell over its cut-off: the GX sees the high-voltage alarm and the panel
 * paints that cell of the 0x35A table red while low_voltage stays ok. */
static void test_panel_alarm_cell_turns_red(void **state)
{
    fixture_t *f = *state;
    bench_panel_advance(&f->p, 30);
    bench_panel_layout_t l;
    bench_panel_layout(&f->p, W, H, &l);
    const bench_panel_rect_t *hv = &l.alarm_cell[1][0], *lv = &l.alarm_cell[2][0];
    SDL_Surface *s = bench_panel_render_surface(&f->p, W, H);
    assert_non_null(s);
    assert_int_equal(pixel(s, hv->x + hv->w / 2, hv->y + hv->h / 2), BENCH_PANEL_RGB_PAIR_OK);
    SDL_FreeSurface(s);

    bench_event_t ev = {.action = BENCH_ACT_CELL_OFFSET, .pack = 0, .cell = 2, .value = 450};
    assert_int_equal(bench_panel_inject(&f->p, &ev, "test"), 0);
    bench_panel_advance(&f->p, 45);
    assert_int_equal(f->w->gx.alarm[1], 1);
    s = bench_panel_render_surface(&f->p, W, H);
    assert_non_null(s);
    assert_int_equal(pixel(s, hv->x + hv->w / 2, hv->y + hv->h / 2), BENCH_PANEL_RGB_ALARM);
    assert_int_equal(pixel(s, lv->x + lv->w / 2, lv->y + lv->h / 2), BENCH_PANEL_RGB_PAIR_OK);
    SDL_FreeSurface(s);
}

/* The 's' key silences the selected pack: an event is injected, the GX
 * counts a module offline, and the saved session replays it. */
static void test_panel_key_silences_pack(void **state)
{
    fixture_t *f = *state;
    bench_panel_advance(&f->p, 20);
    assert_true(signal(f->w, "modules_offline") == 0.0);
    f->p.sel_pack = 1;
    assert_false(bench_panel_key(&f->p, SDLK_s));
    assert_int_equal(f->w->ninjected, 1);
    assert_int_equal(f->w->injected[0].action, BENCH_ACT_FAULT);
    assert_int_equal(f->w->injected[0].pack, 1);
    assert_string_equal(f->w->injected[0].text, "silent");
    bench_panel_advance(&f->p, 80);
    assert_true(signal(f->w, "modules_offline") == 1.0);

    char path[] = "/tmp/test_panel_session_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    assert_int_equal(bench_panel_save(&f->p, path, err, sizeof err), 0);
    bench_scenario_t *sc = calloc(1, sizeof *sc);
    assert_non_null(sc);
    assert_true(bench_scenario_load(path, sc, bench_signal_resolve, NULL, err, sizeof err));
    assert_int_equal(sc->nevents, 1);
    assert_int_equal(sc->events[0].action, BENCH_ACT_FAULT);
    assert_string_equal(sc->events[0].text, "silent");
    assert_true(sc->events[0].at_s == 20.0);
    free(sc);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_panel_cell_colours_follow_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panel_limit_lines_at_their_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panel_alarm_cell_turns_red, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panel_key_silences_pack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
