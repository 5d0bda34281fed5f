/* SPDX-License-Identifier: MIT */
/* The top bar (scenario, time, play state, speed, selection) and the status
 * line (the last action, panel-only notes). */
#include <stdio.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u

void bench_panel_draw_top(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    const bench_world_t *w = p->w;
    bench_panel_fill(r, l->top.x, l->top.y, l->top.w, l->top.h, 0x23272Eu);
    char speed[16];
    double s = bench_panel_speeds[p->speed_idx];
    if (s > 0) {
        snprintf(speed, sizeof speed, "%gx", s);
    } else {
        snprintf(speed, sizeof speed, "max");
    }
    char buf[256];
    if (p->live) {
        /* Wall-clock time cannot be paused or sped up: only the picture stops. */
        snprintf(buf, sizeof buf,
                 "bmsbench panel LIVE  %s  t = %.1f s  %s  speed 1x (wall clock)  selected P%d "
                 "cell %d  injected %d   F1 help",
                 w->sc->name, bench_world_now(w),
                 p->paused ? "PAUSED: display frozen, the run goes on" : "running",
                 p->sel_pack + 1, p->sel_cell + 1, w->ninjected);
        bench_panel_text(p, r, p->font, 6, l->top.y + 4, RGB_TEXT, buf);
    } else {
        snprintf(buf, sizeof buf,
                 "bmsbench panel  %s  t = %.1f s  %s  speed %s  selected P%d cell %d  injected %d"
                 "   F1 help",
                 w->sc->name, bench_world_now(w), p->paused ? "PAUSED" : "running", speed,
                 p->sel_pack + 1, p->sel_cell + 1, w->ninjected);
        bench_panel_text(p, r, p->font, 6, l->top.y + 4, RGB_TEXT, buf);
    }

    bench_panel_fill(r, l->status.x, l->status.y, l->status.w, l->status.h, 0x1E2126u);
    const char *msg = p->status[0] != '\0' ? p->status : "keys: F1 help, space pause, s silence, u/d cell, h/c heat/cool";
    bench_panel_text(p, r, p->font, 6, l->status.y + 3, p->status[0] != '\0' ? 0xF0DC50u : RGB_DIM,
                     msg);
}
