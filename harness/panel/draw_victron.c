/* SPDX-License-Identifier: MIT */
/* The Victron side as a GX sees it (decoded 0x351/0x355/0x356), with the
 * gateway's reason for each limit and its charge state. */
#include <stdio.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u

static const char *charge_state(const bench_world_t *w)
{
    if (w->gw.cfg.dvcc_engine) {
        return gw_engine_state_name(&w->gw.engine);
    }
    if (w->gw.cfg.cvl_states) {
        return gw_cvl_state_name(w->gw.cvl.state);
    }
    return "baseline";
}

static const char *why(const char *full, const char *reason)
{
    if (full != NULL && full[0] != '\0') {
        return full;
    }
    return reason != NULL ? reason : "";
}

void bench_panel_draw_victron(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    const bench_world_t *w = p->w;
    const bench_gx_t *gx = &w->gx;
    const gw_limits_t *lim = &w->gw.limits;
    int x = l->victron.x + 6, y = l->victron.y + 2, lh = l->line_h;
    bench_panel_frame(r, l->victron.x, l->victron.y, l->victron.w, l->victron.h, 0x3A3F46u);
    char buf[192];
    if (p->victron_dropped) {
        snprintf(buf, sizeof buf, "GX (Victron bus DROPPED)  charge state: %s", charge_state(w));
    } else {
        snprintf(buf, sizeof buf, "GX view  charge state: %s", charge_state(w));
    }
    bench_panel_text(p, r, p->font, x, y, p->victron_dropped ? 0xFF5050u : RGB_TEXT, buf);
    y += lh;
    if (!gx->seen_351) {
        bench_panel_text(p, r, p->font, x, y, RGB_DIM, "no 0x351 seen yet");
        return;
    }
    /* The engine's explanation already names the value; the baseline's reason does not. */
    if (lim->cvl_why[0] != '\0') {
        snprintf(buf, sizeof buf, "GX CVL %.1f V  (%s)", gx->cvl_v, lim->cvl_why);
    } else {
        snprintf(buf, sizeof buf, "GX CVL %.1f V", gx->cvl_v);
    }
    bench_panel_text(p, r, p->font, x, y, BENCH_PANEL_RGB_CVL, buf);
    y += lh;
    snprintf(buf, sizeof buf, "GX CCL %.1f A  (%s)", gx->ccl_a, why(lim->ccl_why, lim->ccl_reason));
    bench_panel_text(p, r, p->font, x, y, BENCH_PANEL_RGB_CCL, buf);
    y += lh;
    snprintf(buf, sizeof buf, "GX DCL %.1f A  (%s)", gx->dcl_a, why(lim->dcl_why, lim->dcl_reason));
    bench_panel_text(p, r, p->font, x, y, BENCH_PANEL_RGB_DCL, buf);
    y += lh;
    snprintf(buf, sizeof buf, "SOC %.0f %%  SOH %.0f %%   %.2f V  %+.1f A  %.1f C", gx->soc_pct,
             gx->soh_pct, gx->voltage_v, gx->current_a, gx->temperature_c);
    bench_panel_text(p, r, p->font, x, y, RGB_TEXT, buf);
    y += lh;
    snprintf(buf, sizeof buf, "cells %.3f..%.3f V  %.0f..%.0f C  modules on %u off %u", gx->min_cell_v,
             gx->max_cell_v, gx->min_temp_c, gx->max_temp_c, gx->modules_online,
             gx->modules_offline);
    bench_panel_text(p, r, p->font, x, y, RGB_DIM, buf);
    y += lh;
    double age = bench_world_now(w) - (double)gx->last_351_us / 1e6;
    snprintf(buf, sizeof buf, "%s %s  0x351 age %.1f s  DVL %.1f V", gx->manufacturer, gx->name,
             age, gx->dvl_v);
    bench_panel_text(p, r, p->font, x, y, age > 5 ? 0xFF5050u : RGB_DIM, buf);
}
