/* SPDX-License-Identifier: MIT */
/* The bank area: one column per pack, cells coloured by voltage against the
 * profile's thresholds, balancing cells marked, SOC gauge, temperatures and
 * whether the gateway sees the pack online. */
#include <stdio.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u
#define RGB_SEL 0xFFFFFFu

/* The gateway's view of the pack at this scenario index: 1 online, 0 offline, -1 never found. */
static int pack_state(const bench_world_t *w, int i)
{
    size_t n = 0;
    const gw_pack_t *gp = gateway_packs(&w->gw, &n);
    if (gp == NULL || i < 0 || i >= w->sc->bank.npacks) {
        return -1;
    }
    if (w->kind == BENCH_FAM_BALANCER || w->kind == BENCH_FAM_TINYBMS) {
        return w->gw.bank.packs_online > 0 ? 1 : (w->gw.bank.packs_present > 0 ? 0 : -1);
    }
    int adr = w->sc->bank.packs[i].address;
    for (size_t k = 0; k < n; k++) {
        if (gp[k].present && gp[k].address == adr) {
            return gp[k].online ? 1 : 0;
        }
    }
    return -1;
}

static void draw_pack(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l, int i)
{
    const sim_pack_t *pk = &p->w->bank.packs[i];
    bench_panel_rect_t c0;
    if (!bench_panel_cell_rect(p, l, i, 0, &c0)) {
        return;
    }
    int lh = l->line_h;
    int st = pack_state(p->w, i);
    char buf[64];
    snprintf(buf, sizeof buf, "P%d", i + 1);
    uint32_t head = i == p->sel_pack ? RGB_SEL : RGB_TEXT;
    bench_panel_text(p, r, p->font, c0.x, l->bank.y + lh + 4, head, buf);
    const char *state = pk->disconnected ? "gone" : st > 0 ? "on" : st == 0 ? "OFF" : "--";
    uint32_t st_rgb = st > 0 ? 0x50DC78u : st == 0 ? 0xFF5050u : RGB_DIM;
    bench_panel_fill(r, c0.x, l->bank.y + 2 * lh + 3, c0.w, 2, st_rgb);
    if (c0.w > 2 * lh) {
        bench_panel_text(p, r, p->font, c0.x + c0.w - bench_panel_text_width(p->font, state),
                         l->bank.y + lh + 4, st_rgb, state);
    }

    double tmin = 1e9, tmax = -1e9;
    for (int c = 0; c < pk->ncells; c++) {
        bench_panel_rect_t cr;
        if (!bench_panel_cell_rect(p, l, i, c, &cr)) {
            continue;
        }
        const sim_cell_t *cell = &pk->cells[c];
        uint32_t rgb = pk->disconnected ? BENCH_PANEL_RGB_CELL_NONE
                                        : bench_panel_cell_rgb(p, cell->v);
        bench_panel_fill(r, cr.x, cr.y, cr.w, cr.h, rgb);
        /* A balancing cell gets a white bar on its right edge. */
        if (cell->bleed_a > 0) {
            int bw = cr.w / 6 > 2 ? cr.w / 6 : 2;
            bench_panel_fill(r, cr.x + cr.w - bw, cr.y, bw, cr.h, 0xFFFFFFu);
        }
        if (i == p->sel_pack && c == p->sel_cell) {
            bench_panel_frame(r, cr.x - 1, cr.y - 1, cr.w + 2, cr.h + 2, RGB_SEL);
        }
        if (cr.h >= lh - 2 && cr.w >= 5 * lh / 2) {
            snprintf(buf, sizeof buf, "%.3f", cell->v);
            bench_panel_text(p, r, p->font, cr.x + 2, cr.y + (cr.h - lh) / 2, 0x101010u, buf);
        }
        tmin = cell->temp_c < tmin ? cell->temp_c : tmin;
        tmax = cell->temp_c > tmax ? cell->temp_c : tmax;
    }

    /* Below the cells: SOC gauge, temperatures, pack voltage. */
    int y = l->bank.y + l->bank.h - 3 * lh - 2;
    double soc = sim_pack_soc(pk);
    bench_panel_frame(r, c0.x, y, c0.w, lh - 2, RGB_DIM);
    bench_panel_fill(r, c0.x + 1, y + 1, (int)((c0.w - 2) * soc), lh - 4, 0x4682DCu);
    snprintf(buf, sizeof buf, "%.0f%%", soc * 100);
    bench_panel_text(p, r, p->font, c0.x + 2, y - 1, RGB_TEXT, buf);
    snprintf(buf, sizeof buf, "%.0f..%.0fC", tmin, tmax);
    uint32_t trgb = tmax >= 45 ? 0xFF7850u : tmin < 5 ? 0x78B4FFu : RGB_TEXT;
    bench_panel_text(p, r, p->font, c0.x, y + lh, trgb, buf);
    snprintf(buf, sizeof buf, "%.2fV", pk->voltage_v);
    bench_panel_text(p, r, p->font, c0.x, y + 2 * lh, RGB_DIM, buf);
}

void bench_panel_draw_bank(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    const bench_world_t *w = p->w;
    bench_panel_frame(r, l->bank.x, l->bank.y, l->bank.w, l->bank.h, 0x3A3F46u);
    char buf[192];
    snprintf(buf, sizeof buf, "Bank: %s, %d pack%s  %.2f V  %+.1f A  SOC %.1f %%", w->sc->bank.family,
             w->bank.npacks, w->bank.npacks == 1 ? "" : "s", w->bank.voltage_v, w->bank.current_a,
             sim_bank_soc(&w->bank) * 100);
    bench_panel_text(p, r, p->font, l->bank.x + 4, l->bank.y + 2, RGB_TEXT, buf);
    for (int i = 0; i < w->bank.npacks; i++) {
        draw_pack(p, r, l, i);
    }
}
