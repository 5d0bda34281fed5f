/* SPDX-License-Identifier: MIT */
/* The SDL2 panel: state, layout and drawing of a bench world (bank, Victron
 * side, strip charts, alarms, frame log, timeline), and the injections that
 * keys and clicks make. Only harness/panel/ includes SDL. */
#ifndef BENCH_PANEL_H
#define BENCH_PANEL_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/runner.h"

#define BENCH_PANEL_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define BENCH_PANEL_HIST 4096     /* strip-chart samples kept (ring) */
#define BENCH_PANEL_LOG 512       /* frame-log lines kept (ring) */
#define BENCH_PANEL_LINE_BYTES 24 /* bytes of a serial line shown per log entry */
#define BENCH_PANEL_NOTES 64      /* panel-only notes (things no scenario event can say) */

/* Colours the tests check (RGB). Cells by voltage against the thresholds. */
#define BENCH_PANEL_RGB_CELL_OV 0xE02828u    /* at or above the cut-off */
#define BENCH_PANEL_RGB_CELL_HIGH 0xF09628u  /* at or above the high warning */
#define BENCH_PANEL_RGB_CELL_OK 0x34B45Au    /* between the warnings */
#define BENCH_PANEL_RGB_CELL_LOW 0x3C8CDCu   /* at or below the low warning */
#define BENCH_PANEL_RGB_CELL_UV 0x8C3CC8u    /* at or below the cut-off */
#define BENCH_PANEL_RGB_CELL_NONE 0x505050u  /* pack disconnected */
#define BENCH_PANEL_RGB_ALARM 0xDC2828u      /* 0x35A pair active (alarm column) */
#define BENCH_PANEL_RGB_WARNING 0xE6AA1Eu    /* 0x35A pair active (warning column) */
#define BENCH_PANEL_RGB_PAIR_OK 0x2C6E3Cu    /* pair reported OK */
#define BENCH_PANEL_RGB_PAIR_NA 0x3A3A3Au    /* unsupported / not seen */
#define BENCH_PANEL_RGB_CVL 0xF0DC50u
#define BENCH_PANEL_RGB_CCL 0x3CC8F0u
#define BENCH_PANEL_RGB_DCL 0xF06EB4u
#define BENCH_PANEL_RGB_BANK_V 0xB4F078u
#define BENCH_PANEL_RGB_BANK_I 0xF0A050u

typedef struct bench_panel_opts {
    const char *font_path;   /* NULL = BENCH_PANEL_DEFAULT_FONT */
    double scale;            /* high-DPI factor for fonts and margins, default 1 */
    double window_s;         /* strip-chart time window, default 600 */
    double hist_dt_s;        /* strip-chart sampling period, default 1 */
} bench_panel_opts_t;

typedef struct bench_panel_hist {
    double t_s, cvl_v, ccl_a, dcl_a, bank_v, bank_a;
} bench_panel_hist_t;

typedef enum bench_panel_src {
    BENCH_PANEL_SRC_VICTRON = 0,  /* CAN bus 0 */
    BENCH_PANEL_SRC_BMS_CAN,      /* CAN bus 1 (CANopen) */
    BENCH_PANEL_SRC_SERIAL,       /* BMS line, one line of characters */
} bench_panel_src_t;

typedef struct bench_panel_logline {
    double t_s;
    bench_panel_src_t src;
    bool from_gateway;
    uint32_t id;                  /* CAN only */
    uint8_t len;                  /* CAN dlc or serial bytes kept */
    uint8_t data[BENCH_PANEL_LINE_BYTES];
    uint16_t total;               /* serial: characters in the line (may exceed len) */
} bench_panel_logline_t;

typedef struct bench_panel_rect {
    int x, y, w, h;
} bench_panel_rect_t;

/* Where everything is, for a window size; computed by bench_panel_layout. */
typedef struct bench_panel_layout {
    int win_w, win_h;
    int line_h;                   /* one text line */
    bench_panel_rect_t top, bank, victron, alarms, charts, log, timeline, status;
    bench_panel_rect_t chart[4];  /* CVL; CCL+DCL; bank voltage; bank current (plot areas) */
    bench_panel_rect_t alarm_cell[BENCH_GX_ALARMS][2]; /* [pair][0 alarm, 1 warning] */
    int log_first_y, log_rows;
} bench_panel_layout_t;

typedef struct bench_panel {
    bench_world_t *w;             /* not owned */
    bench_panel_opts_t opts;
    TTF_Font *font, *mono;
    int font_px;
    /* strip charts */
    bench_panel_hist_t hist[BENCH_PANEL_HIST];
    int nhist, hist_head;         /* ring: oldest at (head - n) */
    double next_hist_s;
    /* frame log */
    bench_panel_logline_t log[BENCH_PANEL_LOG];
    int nlog, log_head;
    uint64_t log_total;
    bench_panel_logline_t pending_line[2];  /* serial line being collected, per direction */
    bool pending_open[2];
    uint64_t pending_last_us[2];
    int log_selected;             /* rows back from the newest, -1 = none */
    int log_hover;                /* -1 = none */
    bool log_follow;              /* newest at the bottom (no selection) */
    /* interaction */
    int sel_pack, sel_cell;
    bool paused;                  /* live: freezes the display only; the run goes on */
    bool live;                    /* wall-clock run against a real gateway: speed 1x, no step */
    bool step_req;                /* '.' while paused: advance one step */
    int speed_idx;                /* index into bench_panel_speeds */
    bool help;
    bool victron_dropped;         /* panel-only: GX receives nothing */
    sim_can_rx_fn gx_rx;          /* the GX node's receiver while the bus is dropped */
    void *gx_ctx;
    char notes[BENCH_PANEL_NOTES][80];
    int nnotes;
    char status[160];             /* last action, shown at the bottom */
    const char *save_path;        /* where 'w' saves the session */
    const char *shot_path;        /* where F12 saves a PNG */
    int nshots;
    uint64_t frames_bus0, frames_bus1, serial_bytes;
    /* signal indices */
    int sig_modules_offline;
} bench_panel_t;

/* The speed choices: 1x ... "as fast as possible" (0). */
extern const double bench_panel_speeds[];
extern const int bench_panel_nspeeds;

/* Open fonts and hook the world's taps. Returns 0, or -1 with a message in err
 * (e.g. the font file is missing). TTF must be initialised by the caller. */
int bench_panel_init(bench_panel_t *p, bench_world_t *w, const bench_panel_opts_t *opts, char *err,
                     size_t errcap);
void bench_panel_free(bench_panel_t *p);

/* Advance the world to t_s (clamped to the scenario's duration), sampling the
 * strip charts on the way. */
void bench_panel_advance(bench_panel_t *p, double t_s);
/* Take one strip-chart sample now (also done by advance). */
void bench_panel_sample(bench_panel_t *p);

void bench_panel_layout(const bench_panel_t *p, int win_w, int win_h, bench_panel_layout_t *l);
/* Draw everything into r at win_w x win_h. */
void bench_panel_render(bench_panel_t *p, SDL_Renderer *r, int win_w, int win_h);

/* Strip-chart axes, so a test can find where a value is drawn: the value
 * range of chart k (0..3) over the current window, and the y of a value. */
void bench_panel_chart_range(const bench_panel_t *p, int k, double *lo, double *hi);
int bench_panel_chart_y(const bench_panel_rect_t *plot, double lo, double hi, double v);
/* The cell rectangle of pack/cell in the bank area, false if not shown. */
bool bench_panel_cell_rect(const bench_panel_t *p, const bench_panel_layout_t *l, int pack,
                           int cell, bench_panel_rect_t *out);
/* The colour (0xRRGGBB) of a cell voltage against the profile's thresholds. */
uint32_t bench_panel_cell_rgb(const bench_panel_t *p, double cell_v);
/* The thresholds the colours use (mV): cut-offs and warnings. */
void bench_panel_thresholds(const bench_panel_t *p, int *ov_mv, int *high_mv, int *low_mv,
                            int *uv_mv);

/* Input (input.c). Keys: see bench_panel_key_help. Returns true to quit. */
bool bench_panel_key(bench_panel_t *p, SDL_Keycode key);
void bench_panel_click(bench_panel_t *p, const bench_panel_layout_t *l, int x, int y);
void bench_panel_motion(bench_panel_t *p, const bench_panel_layout_t *l, int x, int y);
/* The key table, one "key  what" line each, NULL-terminated. */
extern const char *const bench_panel_key_help[];
/* Inject one event now and log it (status line). Returns 0 or -1 (full). */
int bench_panel_inject(bench_panel_t *p, const bench_event_t *ev, const char *what);
/* Drop or restore the Victron bus (the GX receives nothing while dropped). */
void bench_panel_drop_victron(bench_panel_t *p, bool drop);
/* Save the loaded scenario plus the injected events as YAML. */
int bench_panel_save(const bench_panel_t *p, const char *path, char *err, size_t errcap);

/* Snapshot (snapshot.c): render at w x h into a surface / a PNG file. */
SDL_Surface *bench_panel_render_surface(bench_panel_t *p, int w, int h);
int bench_panel_save_png(bench_panel_t *p, const char *path, int w, int h, char *err,
                         size_t errcap);

/* Text helpers (font.c). */
int bench_panel_text(bench_panel_t *p, SDL_Renderer *r, TTF_Font *f, int x, int y, uint32_t rgb,
                     const char *s);
int bench_panel_text_width(TTF_Font *f, const char *s);
void bench_panel_fill(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb);
void bench_panel_frame(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb);

/* Per-area drawing (draw_*.c). */
void bench_panel_draw_top(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_bank(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_victron(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_alarms(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_charts(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_log(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_timeline(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);
void bench_panel_draw_help(bench_panel_t *p, SDL_Renderer *r, const bench_panel_layout_t *l);

/* Frame-log access: the line `back` rows before the newest (0 = newest). */
const bench_panel_logline_t *bench_panel_log_line(const bench_panel_t *p, int back);
/* One log line as text; decoded (Victron frames via the monitor) when decode. */
void bench_panel_log_text(const bench_panel_logline_t *e, bool decode, char *out, size_t cap);

#endif
