/* SPDX-License-Identifier: MIT */
/* The scenario timeline: its events (grey) and the panel's injections
 * (cyan), the current time, and each expectation with its pass/fail mark. */
#include <stdio.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u

static int time_x(const bench_panel_rect_t *bar, double t, double dur)
{
    double f = dur > 0 ? t / dur : 0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return bar->x + (int)(f * (bar->w - 1));
}

void bench_panel_draw_timeline(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    const bench_world_t *w = p->w;
    const bench_scenario_t *sc = w->sc;
    int lh = l->line_h;
    bench_panel_frame(r, l->timeline.x, l->timeline.y, l->timeline.w, l->timeline.h, 0x3A3F46u);
    bench_panel_rect_t bar = {l->timeline.x + 8, l->timeline.y + 4 + lh, l->timeline.w - 16, lh};
    double now = bench_world_now(w);
    char buf[160];
    snprintf(buf, sizeof buf, "timeline  %s  %.1f / %.0f s", sc->name, now, sc->duration_s);
    bench_panel_text(p, r, p->font, bar.x, l->timeline.y + 2, RGB_TEXT, buf);
    bench_panel_fill(r, bar.x, bar.y, bar.w, bar.h, 0x22262C);
    bench_panel_fill(r, bar.x, bar.y, time_x(&bar, now, sc->duration_s) - bar.x, bar.h, 0x2E4A66u);
    for (int i = 0; i < sc->nevents; i++) {
        int x = time_x(&bar, sc->events[i].at_s, sc->duration_s);
        bench_panel_fill(r, x, bar.y - 2, 2, bar.h + 4, 0xB4B4B4u);
    }
    for (int i = 0; i < w->ninjected; i++) {
        int x = time_x(&bar, w->injected[i].at_s, sc->duration_s);
        bench_panel_fill(r, x, bar.y - 3, 3, bar.h + 6, 0x3CDCDCu);
    }
    bench_panel_fill(r, time_x(&bar, now, sc->duration_s), bar.y - 4, 2, bar.h + 8, 0xFFFFFFu);

    /* Expectations: a mark each, laid out in rows under the bar. */
    const bench_expect_state_t *st = NULL;
    int n = bench_world_checks(w, &st);
    int x = bar.x, y = bar.y + bar.h + 4;
    for (int i = 0; i < n && st != NULL; i++) {
        const char *label = st[i].exp != NULL ? st[i].exp->label : "invariant";
        uint32_t rgb = st[i].verdict == BENCH_FAIL   ? 0xFF5050u
                       : st[i].verdict == BENCH_PASS ? 0x50DC78u
                                                     : RGB_DIM;
        const char *mark = st[i].verdict == BENCH_FAIL ? "FAIL" : st[i].verdict == BENCH_PASS ? "ok" : "..";
        snprintf(buf, sizeof buf, "[%s] %.60s", mark, label);
        int tw = bench_panel_text_width(p->font, buf) + 14;
        if (x + tw > bar.x + bar.w) {
            x = bar.x;
            y += lh;
            if (y + lh > l->timeline.y + l->timeline.h) {
                break;
            }
        }
        bench_panel_text(p, r, p->font, x, y, rgb, buf);
        if (st[i].verdict == BENCH_FAIL) {
            int fx = time_x(&bar, st[i].fail_t, sc->duration_s);
            bench_panel_fill(r, fx - 1, bar.y, 3, bar.h, 0xFF3030u);
        }
        x += tw;
    }
}
