/* SPDX-License-Identifier: MIT */
/* Panel state: the world's taps into the frame log, strip-chart history,
 * layout and the top-level render. See panel.h. */
#include "harness/panel/panel.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "harness/signals.h"

const double bench_panel_speeds[] = {1, 2, 5, 10, 30, 60, 300, 0};
const int bench_panel_nspeeds = (int)(sizeof bench_panel_speeds / sizeof bench_panel_speeds[0]);

/* A serial line ends at a CR (Topband frames) or after this much silence. */
#define SERIAL_GAP_US 5000u

static void log_push(bench_panel_t *p, const bench_panel_logline_t *e)
{
    p->log[p->log_head] = *e;
    p->log_head = (p->log_head + 1) % BENCH_PANEL_LOG;
    if (p->nlog < BENCH_PANEL_LOG) {
        p->nlog++;
    }
    p->log_total++;
    /* A selected row stays on the same frame while new ones arrive. */
    if (p->log_selected >= 0 && p->log_selected < BENCH_PANEL_LOG - 1) {
        p->log_selected++;
    }
}

const bench_panel_logline_t *bench_panel_log_line(const bench_panel_t *p, int back)
{
    if (back < 0 || back >= p->nlog) {
        return NULL;
    }
    int i = (p->log_head - 1 - back + 2 * BENCH_PANEL_LOG) % BENCH_PANEL_LOG;
    return &p->log[i];
}

static void tap_can(void *ctx, int bus, bool from_gateway, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_panel_t *p = ctx;
    bench_panel_logline_t e = {0};
    e.t_s = (double)t_us / 1e6;
    e.src = bus == 0 ? BENCH_PANEL_SRC_VICTRON : BENCH_PANEL_SRC_BMS_CAN;
    e.from_gateway = from_gateway;
    e.id = f->id;
    e.len = f->dlc > 8 ? 8 : f->dlc;
    memcpy(e.data, f->data, e.len);
    e.total = e.len;
    if (bus == 0) {
        p->frames_bus0++;
    } else {
        p->frames_bus1++;
    }
    log_push(p, &e);
}

static void serial_close(bench_panel_t *p, int dir)
{
    if (p->pending_open[dir]) {
        log_push(p, &p->pending_line[dir]);
        p->pending_open[dir] = false;
    }
}

static void tap_serial(void *ctx, bool from_gateway, uint64_t t_us, uint8_t byte)
{
    bench_panel_t *p = ctx;
    int dir = from_gateway ? 1 : 0;
    p->serial_bytes++;
    if (p->pending_open[dir] && t_us - p->pending_last_us[dir] > SERIAL_GAP_US) {
        serial_close(p, dir);
    }
    if (!p->pending_open[dir]) {
        bench_panel_logline_t *e = &p->pending_line[dir];
        memset(e, 0, sizeof *e);
        e->t_s = (double)t_us / 1e6;
        e->src = BENCH_PANEL_SRC_SERIAL;
        e->from_gateway = from_gateway;
        p->pending_open[dir] = true;
    }
    bench_panel_logline_t *e = &p->pending_line[dir];
    if (e->len < BENCH_PANEL_LINE_BYTES) {
        e->data[e->len++] = byte;
    }
    if (e->total < UINT16_MAX) {
        e->total++;
    }
    p->pending_last_us[dir] = t_us;
    if (byte == '\r') {
        serial_close(p, dir);
    }
}

static TTF_Font *open_font(const char *path, int px, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errcap,
                 "font '%s' not found (install fonts-dejavu-core or pass --font FILE.ttf)", path);
        return NULL;
    }
    fclose(f);
    TTF_Font *font = TTF_OpenFont(path, px);
    if (font == NULL) {
        snprintf(err, errcap, "font '%s': %s", path, TTF_GetError());
    }
    return font;
}

/* The monospace sibling of the font, for the frame log; the font itself if none. */
static TTF_Font *open_mono(const char *path, int px)
{
    char mono[512];
    const char *slash = strrchr(path, '/');
    int dir = slash != NULL ? (int)(slash - path) : 0;
    snprintf(mono, sizeof mono, "%.*s%sDejaVuSansMono.ttf", dir, path, slash != NULL ? "/" : "");
    FILE *f = fopen(mono, "rb");
    if (f == NULL) {
        return TTF_OpenFont(path, px);
    }
    fclose(f);
    return TTF_OpenFont(mono, px);
}

int bench_panel_init(bench_panel_t *p, bench_world_t *w, const bench_panel_opts_t *opts, char *err,
                     size_t errcap)
{
    memset(p, 0, sizeof *p);
    p->w = w;
    if (opts != NULL) {
        p->opts = *opts;
    }
    if (p->opts.font_path == NULL) {
        p->opts.font_path = BENCH_PANEL_DEFAULT_FONT;
    }
    if (!(p->opts.scale > 0.25 && p->opts.scale <= 4)) {
        p->opts.scale = 1;
    }
    if (!(p->opts.window_s > 0)) {
        p->opts.window_s = 600;
    }
    if (!(p->opts.hist_dt_s > 0)) {
        p->opts.hist_dt_s = 1;
    }
    p->font_px = (int)lround(12 * p->opts.scale);
    p->font = open_font(p->opts.font_path, p->font_px, err, errcap);
    if (p->font == NULL) {
        return -1;
    }
    p->mono = open_mono(p->opts.font_path, p->font_px);
    if (p->mono == NULL) {
        p->mono = p->font;
    }
    p->log_selected = -1;
    p->log_hover = -1;
    p->sel_cell = 0;
    p->save_path = "panel-session.yaml";
    p->shot_path = "panel";
    const char *name = "modules_offline";
    p->sig_modules_offline = bench_signal_resolve(NULL, name, strlen(name));
    bench_taps_t taps = {.ctx = p, .can = tap_can, .serial = tap_serial};
    bench_world_set_taps(w, &taps);
    bench_panel_sample(p);
    return 0;
}

void bench_panel_free(bench_panel_t *p)
{
    if (p->w != NULL) {
        bench_panel_drop_victron(p, false);
        bench_taps_t none = {0};
        bench_world_set_taps(p->w, &none);
    }
    if (p->mono != NULL && p->mono != p->font) {
        TTF_CloseFont(p->mono);
    }
    if (p->font != NULL) {
        TTF_CloseFont(p->font);
    }
    p->font = p->mono = NULL;
}

void bench_panel_sample(bench_panel_t *p)
{
    const bench_world_t *w = p->w;
    bench_panel_hist_t h = {
        .t_s = bench_world_now(w),
        .cvl_v = w->gx.seen_351 ? w->gx.cvl_v : NAN,
        .ccl_a = w->gx.seen_351 ? w->gx.ccl_a : NAN,
        .dcl_a = w->gx.seen_351 ? w->gx.dcl_a : NAN,
        .bank_v = w->bank.voltage_v,
        .bank_a = w->bank.current_a,
    };
    p->hist[p->hist_head] = h;
    p->hist_head = (p->hist_head + 1) % BENCH_PANEL_HIST;
    if (p->nhist < BENCH_PANEL_HIST) {
        p->nhist++;
    }
    p->next_hist_s = h.t_s + p->opts.hist_dt_s;
}

void bench_panel_advance(bench_panel_t *p, double t_s)
{
    double end = p->w->sc->duration_s;
    if (t_s > end) {
        t_s = end;
    }
    while (bench_world_now(p->w) < t_s) {
        double step = p->next_hist_s < t_s ? p->next_hist_s : t_s;
        if (step <= bench_world_now(p->w)) {
            step = t_s;
        }
        bench_world_run_until(p->w, step);
        if (bench_world_now(p->w) + 1e-9 >= p->next_hist_s) {
            bench_panel_sample(p);
        }
        if (bench_world_now(p->w) < step) {
            break;  /* the world did not move: never spin */
        }
    }
}

void bench_panel_thresholds(const bench_panel_t *p, int *ov_mv, int *high_mv, int *low_mv,
                            int *uv_mv)
{
    const gw_config_t *c = &p->w->gw.cfg;
    if (c->dvcc_engine) {
        *ov_mv = c->profile.cell_max_mv;
        *high_mv = c->profile.cell_high_warn_mv;
        *low_mv = c->profile.cell_low_warn_mv;
        *uv_mv = c->profile.cell_min_mv;
    } else {
        *ov_mv = c->dvcc.cell_ov_mv;
        *high_mv = c->dvcc.taper_cell_mv;
        *low_mv = c->dvcc.cell_uv_release_mv;
        *uv_mv = c->dvcc.cell_uv_mv;
    }
}

uint32_t bench_panel_cell_rgb(const bench_panel_t *p, double cell_v)
{
    int ov, high, low, uv;
    bench_panel_thresholds(p, &ov, &high, &low, &uv);
    double mv = cell_v * 1000.0;
    if (mv >= ov) {
        return BENCH_PANEL_RGB_CELL_OV;
    }
    if (mv >= high) {
        return BENCH_PANEL_RGB_CELL_HIGH;
    }
    if (mv <= uv) {
        return BENCH_PANEL_RGB_CELL_UV;
    }
    if (mv <= low) {
        return BENCH_PANEL_RGB_CELL_LOW;
    }
    return BENCH_PANEL_RGB_CELL_OK;
}

static bench_panel_rect_t rect(int x, int y, int w, int h)
{
    bench_panel_rect_t r = {x, y, w < 1 ? 1 : w, h < 1 ? 1 : h};
    return r;
}

/* Proportional to the window so it stays readable when resized; tuned at 1280x720. */
void bench_panel_layout(const bench_panel_t *p, int win_w, int win_h, bench_panel_layout_t *l)
{
    memset(l, 0, sizeof *l);
    l->win_w = win_w;
    l->win_h = win_h;
    int lh = p->font != NULL ? TTF_FontLineSkip(p->font) : 14;
    l->line_h = lh;
    int top_h = lh + 8;
    int tl_h = 4 * lh + 12;
    int status_h = lh + 6;
    int body_y = top_h;
    int body_h = win_h - top_h - tl_h - status_h;
    int left_w = win_w * 42 / 100;
    int mid_w = win_w * 30 / 100;
    int right_w = win_w - left_w - mid_w;
    l->top = rect(0, 0, win_w, top_h);
    int bank_h = body_h * 55 / 100;
    l->bank = rect(0, body_y, left_w, bank_h);
    l->alarms = rect(0, body_y + bank_h, left_w, body_h - bank_h);
    int vic_h = 7 * lh + 10;
    l->victron = rect(left_w, body_y, mid_w, vic_h);
    l->charts = rect(left_w, body_y + vic_h, mid_w, body_h - vic_h);
    l->log = rect(left_w + mid_w, body_y, right_w, body_h);
    l->timeline = rect(0, body_y + body_h, win_w, tl_h);
    l->status = rect(0, win_h - status_h, win_w, status_h);

    /* Four stacked plots, each with a title line above it. */
    int ch = l->charts.h / 4;
    for (int k = 0; k < 4; k++) {
        int y = l->charts.y + k * ch;
        l->chart[k] = rect(l->charts.x + 6 * lh / 2, y + lh + 2, l->charts.w - 3 * lh - 8,
                           ch - lh - 6);
    }

    /* Alarm table: name column, then alarm and warning columns. */
    int row_h = (l->alarms.h - lh - 8) / (BENCH_GX_ALARMS + 1);
    if (row_h > lh) {
        row_h = lh;
    }
    int name_w = l->alarms.w * 34 / 100;
    int cell_w = l->alarms.w * 12 / 100;
    for (int i = 0; i < BENCH_GX_ALARMS; i++) {
        int y = l->alarms.y + lh + 6 + (i + 1) * row_h;
        l->alarm_cell[i][0] = rect(l->alarms.x + 4 + name_w, y, cell_w - 2, row_h - 1);
        l->alarm_cell[i][1] = rect(l->alarms.x + 4 + name_w + cell_w, y, cell_w - 2, row_h - 1);
    }

    l->log_first_y = l->log.y + lh + 4;
    int decode_h = 4 * lh + 8;
    l->log_rows = (l->log.h - lh - 4 - decode_h) / lh;
    if (l->log_rows < 1) {
        l->log_rows = 1;
    }
}

/* Each pack a column: header (name, state), the cells, then SOC and temperature. */
bool bench_panel_cell_rect(const bench_panel_t *p, const bench_panel_layout_t *l, int pack,
                           int cell, bench_panel_rect_t *out)
{
    const sim_bank_t *b = &p->w->bank;
    if (pack < 0 || pack >= b->npacks || cell < 0 || cell >= b->packs[pack].ncells) {
        return false;
    }
    int maxcells = 1;
    for (int i = 0; i < b->npacks; i++) {
        if (b->packs[i].ncells > maxcells) {
            maxcells = b->packs[i].ncells;
        }
    }
    int lh = l->line_h;
    int col_w = (l->bank.w - 8) / (b->npacks > 0 ? b->npacks : 1);
    int cells_y = l->bank.y + 2 * lh + 6;
    int cells_h = l->bank.h - 2 * lh - 6 - 3 * lh - 4;
    int ch = cells_h / maxcells;
    if (ch < 1) {
        ch = 1;
    }
    out->x = l->bank.x + 4 + pack * col_w + 2;
    out->w = col_w - 6 > 1 ? col_w - 6 : 1;
    out->y = cells_y + cell * ch;
    out->h = ch - 1 > 1 ? ch - 1 : 1;
    return true;
}

static void hist_range(const bench_panel_t *p, int k, double *lo, double *hi)
{
    double t_end = bench_world_now(p->w);
    double t0 = t_end - p->opts.window_s;
    bool any = false;
    double mn = 0, mx = 0;
    for (int i = 0; i < p->nhist; i++) {
        const bench_panel_hist_t *h =
            &p->hist[(p->hist_head - p->nhist + i + BENCH_PANEL_HIST) % BENCH_PANEL_HIST];
        if (h->t_s < t0) {
            continue;
        }
        double v[2];
        int nv = 1;
        switch (k) {
        case 0: v[0] = h->cvl_v; break;
        case 1: v[0] = h->ccl_a, v[1] = h->dcl_a, nv = 2; break;
        case 2: v[0] = h->bank_v; break;
        default: v[0] = h->bank_a; break;
        }
        for (int j = 0; j < nv; j++) {
            if (isnan(v[j])) {
                continue;
            }
            if (!any || v[j] < mn) {
                mn = v[j];
            }
            if (!any || v[j] > mx) {
                mx = v[j];
            }
            any = true;
        }
    }
    *lo = mn;
    *hi = mx;
}

/* Limits start at 0 (a limit of 0 must sit on the axis); voltages and the
 * current get a margin. The top is rounded to a step so the axis is stable. */
void bench_panel_chart_range(const bench_panel_t *p, int k, double *lo, double *hi)
{
    double mn, mx;
    hist_range(p, k, &mn, &mx);
    if (k == 1) {
        mn = 0;
        double top = mx < 10 ? 10 : ceil(mx / 10.0) * 10.0;
        *lo = mn;
        *hi = top;
        return;
    }
    if (k == 3) {
        double a = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);
        a = a < 5 ? 5 : ceil(a / 5.0) * 5.0;
        *lo = -a;
        *hi = a;
        return;
    }
    *lo = floor(mn) - 1;
    *hi = ceil(mx) + 1;
}

int bench_panel_chart_y(const bench_panel_rect_t *plot, double lo, double hi, double v)
{
    if (!(hi > lo)) {
        return plot->y + plot->h - 1;
    }
    double f = (v - lo) / (hi - lo);
    if (f < 0) {
        f = 0;
    }
    if (f > 1) {
        f = 1;
    }
    return plot->y + (plot->h - 1) - (int)lround(f * (plot->h - 1));
}

void bench_panel_render(bench_panel_t *p, SDL_Renderer *r, int win_w, int win_h)
{
    bench_panel_layout_t l;
    bench_panel_layout(p, win_w, win_h, &l);
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    bench_panel_fill(r, 0, 0, win_w, win_h, 0x16181Cu);
    /* Each area is clipped to its box so long text never spills into the next. */
    static const struct {
        void (*draw)(bench_panel_t *, SDL_Renderer *, const bench_panel_layout_t *);
        size_t box;
    } areas[] = {
        {bench_panel_draw_top, offsetof(bench_panel_layout_t, top)},
        {bench_panel_draw_bank, offsetof(bench_panel_layout_t, bank)},
        {bench_panel_draw_alarms, offsetof(bench_panel_layout_t, alarms)},
        {bench_panel_draw_victron, offsetof(bench_panel_layout_t, victron)},
        {bench_panel_draw_charts, offsetof(bench_panel_layout_t, charts)},
        {bench_panel_draw_log, offsetof(bench_panel_layout_t, log)},
        {bench_panel_draw_timeline, offsetof(bench_panel_layout_t, timeline)},
    };
    for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++) {
        bench_panel_rect_t b;
        memcpy(&b, (const char *)&l + areas[i].box, sizeof b);
        SDL_Rect clip = {b.x, b.y, b.w, b.h};
        if (areas[i].box == offsetof(bench_panel_layout_t, top)) {
            clip.h = win_h;  /* the top bar also draws the status line */
        }
        SDL_RenderSetClipRect(r, &clip);
        areas[i].draw(p, r, &l);
    }
    SDL_RenderSetClipRect(r, NULL);
    if (p->help) {
        bench_panel_draw_help(p, r, &l);
    }
}
