/* SPDX-License-Identifier: MIT */
/* Alarms and warnings (0x35A) as a table, the 0x35C request flags, the
 * relays, buzzer and status LED with its colour code. */
#include <stdio.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u

static uint32_t pair_rgb(uint8_t v, bool alarm)
{
    if (v == 1) {
        return alarm ? BENCH_PANEL_RGB_ALARM : BENCH_PANEL_RGB_WARNING;
    }
    return v == 2 ? BENCH_PANEL_RGB_PAIR_OK : BENCH_PANEL_RGB_PAIR_NA;
}

/* A lamp: filled when on, outlined when off. */
static int lamp(bench_panel_t *p, SDL_Renderer *r, int x, int y, int lh, bool on, uint32_t rgb,
                const char *label)
{
    int s = lh - 4;
    if (on) {
        bench_panel_fill(r, x, y + 2, s, s, rgb);
    } else {
        bench_panel_frame(r, x, y + 2, s, s, 0x606060u);
    }
    return s + 4 + bench_panel_text(p, r, p->font, x + s + 4, y, on ? RGB_TEXT : RGB_DIM, label) + 10;
}

/* The LED code: green steady = ok, red = alarm, both = warning/attention. */
static const char *led_meaning(bool g, bool red)
{
    if (g && red) {
        return "LED amber: warning";
    }
    if (red) {
        return "LED red: alarm";
    }
    if (g) {
        return "LED green: ok";
    }
    return "LED off";
}

void bench_panel_draw_alarms(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    const bench_world_t *w = p->w;
    const bench_gx_t *gx = &w->gx;
    const bool *io = w->plat.gpio;
    int lh = l->line_h;
    bench_panel_frame(r, l->alarms.x, l->alarms.y, l->alarms.w, l->alarms.h, 0x3A3F46u);
    int x = l->alarms.x + 4, y = l->alarms.y + 2;
    bench_panel_text(p, r, p->font, x, y, RGB_TEXT, "0x35A");
    bench_panel_text(p, r, p->font, l->alarm_cell[0][0].x, l->alarm_cell[0][0].y - lh, RGB_DIM,
                     "alarm");
    bench_panel_text(p, r, p->font, l->alarm_cell[0][1].x, l->alarm_cell[0][1].y - lh, RGB_DIM,
                     "warning");
    for (int i = 0; i < BENCH_GX_ALARMS; i++) {
        const bench_panel_rect_t *a = &l->alarm_cell[i][0], *wn = &l->alarm_cell[i][1];
        bench_panel_text(p, r, p->font, x, a->y + (a->h - lh) / 2, RGB_DIM, bench_gx_alarm_names[i]);
        bench_panel_fill(r, a->x, a->y, a->w, a->h, pair_rgb(gx->alarm[i], true));
        bench_panel_fill(r, wn->x, wn->y, wn->w, wn->h, pair_rgb(gx->warning[i], false));
    }

    /* Right of the table: 0x35C, relays, LED, 0x372. */
    int rx = l->alarm_cell[0][1].x + l->alarm_cell[0][1].w + 12;
    int ry = l->alarms.y + lh + 6;
    char buf[96];
    bench_panel_text(p, r, p->font, rx, ry, RGB_TEXT, "0x35C");
    ry += lh;
    uint8_t f = gx->request_flags;
    lamp(p, r, rx, ry, lh, (f & 0x80) != 0, 0x50DC78u, "charge enable");
    ry += lh;
    lamp(p, r, rx, ry, lh, (f & 0x40) != 0, 0x50DC78u, "discharge enable");
    ry += lh;
    lamp(p, r, rx, ry, lh, (f & 0x20) != 0, 0xE6AA1Eu, "force charge");
    ry += lh;
    lamp(p, r, rx, ry, lh, (f & 0x10) != 0, 0xE6AA1Eu, "force charge 2");
    ry += lh;
    lamp(p, r, rx, ry, lh, (f & 0x08) != 0, 0xE6AA1Eu, "full charge");
    ry += lh;
    bench_panel_text(p, r, p->font, rx, ry, RGB_TEXT, "relays and LED");
    ry += lh;
    lamp(p, r, rx, ry, lh, io[PLAT_GPIO_RELAY_CHARGE], 0x50DC78u, "charge relay");
    ry += lh;
    lamp(p, r, rx, ry, lh, io[PLAT_GPIO_RELAY_DISCHARGE], 0x50DC78u, "discharge relay");
    ry += lh;
    lamp(p, r, rx, ry, lh, io[PLAT_GPIO_RELAY_ALARM], 0xFF5050u, "alarm relay");
    ry += lh;
    lamp(p, r, rx, ry, lh, io[PLAT_GPIO_BUZZER], 0xFF5050u, "buzzer");
    ry += lh;
    bool g = io[PLAT_GPIO_LED_GREEN], red = io[PLAT_GPIO_LED_RED];
    uint32_t led = g && red ? 0xE6AA1Eu : red ? 0xFF3030u : g ? 0x30E060u : 0x303030u;
    lamp(p, r, rx, ry, lh, g || red, led, led_meaning(g, red));
    ry += lh;
    snprintf(buf, sizeof buf, "0x372 blocking chg %u dis %u", gx->modules_blocking_charge,
             gx->modules_blocking_discharge);
    bench_panel_text(p, r, p->font, rx, ry, RGB_DIM, buf);
    ry += lh;
    /* The cell colour legend with the thresholds the bank area uses. */
    int ov, high, low, uv;
    bench_panel_thresholds(p, &ov, &high, &low, &uv);
    const struct {
        uint32_t rgb;
        const char *fmt;
        int mv;
    } legend[] = {
        {BENCH_PANEL_RGB_CELL_OV, ">= %d mV cut-off", ov}, {BENCH_PANEL_RGB_CELL_HIGH, ">= %d mV", high},
        {BENCH_PANEL_RGB_CELL_LOW, "<= %d mV", low},
        {BENCH_PANEL_RGB_CELL_UV, "<= %d mV cut-off", uv},
    };
    for (size_t i = 0; i < sizeof legend / sizeof legend[0]; i++) {
        snprintf(buf, sizeof buf, legend[i].fmt, legend[i].mv);
        lamp(p, r, rx, ry, lh, true, legend[i].rgb, buf);
        ry += lh;
    }
}
