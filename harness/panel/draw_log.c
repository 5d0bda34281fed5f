/* SPDX-License-Identifier: MIT */
/* The frame log of both sides (BMS line requests/replies, CANopen and
 * Victron CAN frames), newest at the bottom; the selected or hovered line is
 * decoded below it. Bus load and counts in the title. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "harness/panel/panel.h"

#define RGB_TEXT 0xE6E6E6u
#define RGB_DIM 0x9AA0A6u

static const char *src_name(const bench_panel_logline_t *e)
{
    switch (e->src) {
    case BENCH_PANEL_SRC_VICTRON: return e->from_gateway ? "GX<" : "GX>";
    case BENCH_PANEL_SRC_BMS_CAN: return e->from_gateway ? "CO>" : "CO<";
    default: return e->from_gateway ? "TX>" : "RX<";
    }
}

void bench_panel_log_text(const bench_panel_logline_t *e, bool decode, char *out, size_t cap)
{
    size_t n = 0;
    int k = snprintf(out, cap, "%9.3f %s ", e->t_s, src_name(e));
    n = k > 0 && (size_t)k < cap ? (size_t)k : cap - 1;
    if (e->src == BENCH_PANEL_SRC_SERIAL) {
        for (int i = 0; i < e->len && n + 5 < cap; i++) {
            uint8_t c = e->data[i];
            if (c == '\r') {
                n += (size_t)snprintf(out + n, cap - n, "\\r");
            } else if (isprint(c)) {
                out[n++] = (char)c;
            } else {
                n += (size_t)snprintf(out + n, cap - n, "\\x%02X", c);
            }
        }
        out[n] = '\0';
        if (e->total > e->len && n + 16 < cap) {
            snprintf(out + n, cap - n, "... (%u bytes)", e->total);
        }
        return;
    }
    if (decode && e->src == BENCH_PANEL_SRC_VICTRON) {
        char d[256];
        if (bench_victron_describe(e->id, e->len, e->data, false, d, sizeof d) == 0) {
            snprintf(out + n, cap - n, "%s", d);
            return;
        }
    }
    k = snprintf(out + n, cap - n, "%03X [%u]", (unsigned)(e->id & 0x1FFFFFFFu), e->len);
    n += k > 0 ? (size_t)k : 0;
    for (int i = 0; i < e->len && n + 4 < cap; i++) {
        n += (size_t)snprintf(out + n, cap - n, " %02X", e->data[i]);
    }
}

/* Wrap text into at most maxl lines of about width pixels. */
static void draw_wrapped(bench_panel_t *p, SDL_Renderer *r, int x, int y, int width, int lh,
                         int maxl, const char *s)
{
    char line[256];
    size_t len = strlen(s), pos = 0;
    for (int li = 0; li < maxl && pos < len; li++) {
        size_t take = len - pos < sizeof line - 1 ? len - pos : sizeof line - 1;
        memcpy(line, s + pos, take);
        line[take] = '\0';
        while (take > 1 && bench_panel_text_width(p->mono, line) > width) {
            take--;
            line[take] = '\0';
        }
        bench_panel_text(p, r, p->mono, x, y + li * lh, RGB_TEXT, line);
        pos += take;
    }
}

void bench_panel_draw_log(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l)
{
    int lh = l->line_h;
    bench_panel_frame(r, l->log.x, l->log.y, l->log.w, l->log.h, 0x3A3F46u);
    char buf[320];
    snprintf(buf, sizeof buf, "frames: Victron %llu (load %.1f %%)  CANopen %llu  serial %llu B",
             (unsigned long long)p->frames_bus0, sim_canbus_load_pct(&p->w->can),
             (unsigned long long)p->frames_bus1, (unsigned long long)p->serial_bytes);
    bench_panel_text(p, r, p->font, l->log.x + 4, l->log.y + 2, RGB_TEXT, buf);
    int rows = l->log_rows;
    /* Keep the selection on screen: the window ends at the newest unless the
     * selected line is older than the window. */
    int bottom = 0;
    if (p->log_selected >= rows) {
        bottom = p->log_selected - rows + 1;
    }
    for (int i = 0; i < rows; i++) {
        int back = bottom + (rows - 1 - i);
        const bench_panel_logline_t *e = bench_panel_log_line(p, back);
        if (e == NULL) {
            continue;
        }
        int y = l->log_first_y + i * lh;
        if (back == p->log_selected) {
            bench_panel_fill(r, l->log.x + 1, y, l->log.w - 2, lh, 0x2C3E5Au);
        } else if (back == p->log_hover) {
            bench_panel_fill(r, l->log.x + 1, y, l->log.w - 2, lh, 0x262A30u);
        }
        bench_panel_log_text(e, false, buf, sizeof buf);
        uint32_t rgb = e->src == BENCH_PANEL_SRC_VICTRON ? 0xA0D0FFu
                       : e->src == BENCH_PANEL_SRC_BMS_CAN ? 0xD0B0FFu
                       : e->from_gateway                   ? 0xC8C8C8u
                                                           : 0x9CE6A0u;
        bench_panel_text(p, r, p->mono, l->log.x + 4, y, rgb, buf);
    }
    int dy = l->log_first_y + rows * lh + 4;
    bench_panel_fill(r, l->log.x + 1, dy - 2, l->log.w - 2, 1, 0x3A3F46u);
    int pick = p->log_hover >= 0 ? p->log_hover : p->log_selected;
    const bench_panel_logline_t *e = bench_panel_log_line(p, pick);
    if (e == NULL) {
        bench_panel_text(p, r, p->font, l->log.x + 4, dy, RGB_DIM,
                         "click or hover a line to decode it");
        return;
    }
    bench_panel_log_text(e, true, buf, sizeof buf);
    draw_wrapped(p, r, l->log.x + 4, dy, l->log.w - 8, lh, 4, buf);
}
