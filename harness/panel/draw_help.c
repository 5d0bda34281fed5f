/* SPDX-License-Identifier: MIT */
/* The F1 help overlay: the key table (the same one `--help` prints). */
#include "harness/panel/panel.h"

void bench_panel_draw_help(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    int lh = l->line_h;
    int n = 0;
    while (bench_panel_key_help[n] != NULL) {
        n++;
    }
    int w = l->win_w * 60 / 100, h = (n + 3) * lh;
    int x = (l->win_w - w) / 2, y = (l->win_h - h) / 2;
    bench_panel_fill(r, x, y, w, h, 0x101418u);
    bench_panel_frame(r, x, y, w, h, 0xF0DC50u);
    bench_panel_text(p, r, p->font, x + 10, y + 6, 0xF0DC50u, "keys (F1 closes)");
    for (int i = 0; i < n; i++) {
        bench_panel_text(p, r, p->mono, x + 10, y + 6 + (i + 1) * lh + lh / 2, 0xE6E6E6u,
                         bench_panel_key_help[i]);
    }
}
