/* SPDX-License-Identifier: MIT */
/* Strip charts over the time window: CVL; CCL and DCL; bank voltage; bank
 * current. Axes come from bench_panel_chart_range so tests can find a line. */
#include <math.h>
#include <stdio.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u

static double hist_value(const bench_panel_hist_t *h, int k, int series)
{
    switch (k) {
    case 0: return h->cvl_v;
    case 1: return series == 0 ? h->ccl_a : h->dcl_a;
    case 2: return h->bank_v;
    default: return h->bank_a;
    }
}

static void draw_series(bench_panel_t *p, SDL_Renderer *r, const bench_panel_rect_t *pl, int k,
                        int series, double lo, double hi, uint32_t rgb)
{
    double t_end = bench_world_now(p->w);
    double t0 = t_end - p->opts.window_s;
    SDL_SetRenderDrawColor(r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
    bool have = false;
    int px = 0, py = 0;
    for (int i = 0; i < p->nhist; i++) {
        const bench_panel_hist_t *h =
            &p->hist[(p->hist_head - p->nhist + i + BENCH_PANEL_HIST) % BENCH_PANEL_HIST];
        double v = hist_value(h, k, series);
        if (h->t_s < t0 || isnan(v)) {
            have = false;
            continue;
        }
        int x = pl->x + (int)lround((h->t_s - t0) / p->opts.window_s * (pl->w - 1));
        int y = bench_panel_chart_y(pl, lo, hi, v);
        if (have) {
            /* Steps, as the GX sees a limit: hold, then jump. Two pixels thick. */
            SDL_RenderDrawLine(r, px, py, x, py);
            SDL_RenderDrawLine(r, px, py + 1, x, py + 1);
            SDL_RenderDrawLine(r, x, py, x, y);
        } else {
            SDL_RenderDrawPoint(r, x, y);
        }
        px = x, py = y, have = true;
    }
    if (have) {
        SDL_RenderDrawLine(r, px, py, px, py + 1);
    }
}

void bench_panel_draw_charts(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    static const char *const titles[4] = {"CVL (V)", "", "bank voltage (V)", "bank current (A)"};
    bench_panel_frame(r, l->charts.x, l->charts.y, l->charts.w, l->charts.h, 0x3A3F46u);
    char buf[64];
    for (int k = 0; k < 4; k++) {
        const bench_panel_rect_t *pl = &l->chart[k];
        double lo, hi;
        bench_panel_chart_range(p, k, &lo, &hi);
        bench_panel_fill(r, pl->x, pl->y, pl->w, pl->h, 0x0E1014u);
        bench_panel_frame(r, pl->x - 1, pl->y - 1, pl->w + 2, pl->h + 2, 0x3A3F46u);
        int ty = pl->y - l->line_h - 1;
        if (k == 1) {
            int x = pl->x;
            x += bench_panel_text(p, r, p->font, x, ty, BENCH_PANEL_RGB_CCL, "CCL") + 6;
            bench_panel_text(p, r, p->font, x, ty, BENCH_PANEL_RGB_DCL, "DCL (A)");
        } else {
            bench_panel_text(p, r, p->font, pl->x, ty, RGB_TEXT, titles[k]);
        }
        snprintf(buf, sizeof buf, "%g", hi);
        bench_panel_text(p, r, p->font, l->charts.x + 2, pl->y - 2, RGB_DIM, buf);
        snprintf(buf, sizeof buf, "%g", lo);
        bench_panel_text(p, r, p->font, l->charts.x + 2, pl->y + pl->h - l->line_h + 2, RGB_DIM,
                         buf);
        if (k == 3 && lo < 0 && hi > 0) {
            int y0 = bench_panel_chart_y(pl, lo, hi, 0);
            bench_panel_fill(r, pl->x, y0, pl->w, 1, 0x303640u);
        }
        switch (k) {
        case 0: draw_series(p, r, pl, 0, 0, lo, hi, BENCH_PANEL_RGB_CVL); break;
        case 1:
            draw_series(p, r, pl, 1, 1, lo, hi, BENCH_PANEL_RGB_DCL);
            draw_series(p, r, pl, 1, 0, lo, hi, BENCH_PANEL_RGB_CCL);
            break;
        case 2: draw_series(p, r, pl, 2, 0, lo, hi, BENCH_PANEL_RGB_BANK_V); break;
        default: draw_series(p, r, pl, 3, 0, lo, hi, BENCH_PANEL_RGB_BANK_I); break;
        }
    }
    snprintf(buf, sizeof buf, "window %.0f s", p->opts.window_s);
    bench_panel_text(p, r, p->font, l->charts.x + l->charts.w - bench_panel_text_width(p->font, buf) - 4,
                     l->charts.y + 1, RGB_DIM, buf);
}
