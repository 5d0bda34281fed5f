/* SPDX-License-Identifier: MIT */
/* Keys and clicks: each injection is a scenario event applied now through
 * bench_world_inject (so a saved session replays it); dropping the Victron
 * bus has no scenario event and is a panel-only note. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/panel/panel.h"
#include "harness/scenario_write.h"

#define CELL_STEP_MV 50.0
#define TEMP_STEP_C 10.0

const char *const bench_panel_key_help[] = {
    "space      play / pause",
    ". or Right step one second (while paused)",
    "+ / -      faster / slower (1x ... max)",
    "1..9, Tab  select pack",
    "Up / Down  select cell (or click a cell)",
    "u / d      raise / lower the selected cell by 50 mV",
    "h / c      heat / cool the selected pack by 10 C",
    "s          silence the selected pack (fault: silent)",
    "x          corrupt its replies (bad checksum / CRC, garbage)",
    "r          clear the selected pack's faults",
    "v          drop / restore the Victron bus (the GX hears nothing)",
    "b          press the mode button",
    "w          save the session as a scenario (YAML)",
    "F12        save a PNG snapshot",
    "F1 or ?    this help",
    "q or Esc   quit",
    NULL,
};

static void say(bench_panel_t *p, const char *fmt, const char *a, double v)
{
    char msg[sizeof p->status];
    snprintf(msg, sizeof msg, fmt, a, v);
    snprintf(p->status, sizeof p->status, "%.1f s: %s", bench_world_now(p->w), msg);
}

int bench_panel_inject(bench_panel_t *p, const bench_event_t *ev, const char *what)
{
    if (bench_world_inject(p->w, ev) != 0) {
        snprintf(p->status, sizeof p->status, "cannot inject more than %d events",
                 BENCH_MAX_INJECT);
        return -1;
    }
    snprintf(p->status, sizeof p->status, "%.1f s: %s", bench_world_now(p->w), what);
    return 0;
}

static bench_event_t event_for(const bench_panel_t *p, bench_action_t act)
{
    bench_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.action = act;
    ev.pack = p->sel_pack;
    ev.cell = -1;
    return ev;
}

/* Fault knobs address a module per cell on a balancer bus, a pack elsewhere. */
static void inject_fault(bench_panel_t *p, const char *fault)
{
    bench_event_t ev = event_for(p, BENCH_ACT_FAULT);
    if (p->w->kind == BENCH_FAM_BALANCER) {
        ev.pack = 0;
        ev.cell = p->sel_cell;
    }
    snprintf(ev.text, sizeof ev.text, "%s", fault);
    char what[96];
    snprintf(what, sizeof what, "fault %s on pack %d", fault, p->sel_pack + 1);
    bench_panel_inject(p, &ev, what);
}

static const char *corrupt_fault(bench_family_t kind)
{
    switch (kind) {
    case BENCH_FAM_TINYBMS: return "bad_crc";
    case BENCH_FAM_SUPERB: return "abort";
    case BENCH_FAM_BALANCER: return "garbage";
    default: return "bad_checksum";
    }
}

static void nudge_cell(bench_panel_t *p, double dmv)
{
    const sim_cell_t *c = &p->w->bank.packs[p->sel_pack].cells[p->sel_cell];
    bench_event_t ev = event_for(p, BENCH_ACT_CELL_OFFSET);
    ev.cell = p->sel_cell;
    ev.value = c->v_offset * 1000.0 + dmv;
    char what[96];
    snprintf(what, sizeof what, "pack %d cell %d offset %+.0f mV", p->sel_pack + 1,
             p->sel_cell + 1, ev.value);
    bench_panel_inject(p, &ev, what);
}

static void nudge_temp(bench_panel_t *p, double dc)
{
    const sim_pack_t *pk = &p->w->bank.packs[p->sel_pack];
    double sum = 0;
    for (int i = 0; i < pk->ncells; i++) {
        sum += pk->cells[i].temp_c;
    }
    bench_event_t ev = event_for(p, BENCH_ACT_TEMPERATURE);
    ev.value = (pk->ncells > 0 ? sum / pk->ncells : 25.0) + dc;
    char what[96];
    snprintf(what, sizeof what, "pack %d temperature %.1f C", p->sel_pack + 1, ev.value);
    bench_panel_inject(p, &ev, what);
}

static void select_pack(bench_panel_t *p, int i)
{
    if (i >= 0 && i < p->w->bank.npacks) {
        p->sel_pack = i;
        if (p->sel_cell >= p->w->bank.packs[i].ncells) {
            p->sel_cell = p->w->bank.packs[i].ncells - 1;
        }
    }
}

static void note(bench_panel_t *p, const char *text)
{
    if (p->nnotes < BENCH_PANEL_NOTES) {
        snprintf(p->notes[p->nnotes++], sizeof p->notes[0], "%.1f s: %s", bench_world_now(p->w),
                 text);
    }
    snprintf(p->status, sizeof p->status, "%.1f s: %s", bench_world_now(p->w), text);
}

/* The GX node's receiver is swapped for one that drops every frame. */
static void gx_deaf(void *ctx, const sim_can_frame_t *f, uint64_t t_us)
{
    (void)ctx, (void)f, (void)t_us;
}

void bench_panel_drop_victron(bench_panel_t *p, bool drop)
{
    bench_world_t *w = p->w;
    if (drop == p->victron_dropped || w->gx_node < 0 || w->gx_node >= w->can.nnodes) {
        return;
    }
    sim_can_node_t *n = &w->can.nodes[w->gx_node];
    if (drop) {
        p->gx_rx = n->rx;
        p->gx_ctx = n->ctx;
        n->rx = gx_deaf;
    } else {
        n->rx = p->gx_rx;
        n->ctx = p->gx_ctx;
    }
    p->victron_dropped = drop;
}

int bench_panel_save(const bench_panel_t *p, const char *path, char *err, size_t errcap)
{
    const bench_world_t *w = p->w;
    bench_scenario_t *sc = malloc(sizeof *sc);
    if (sc == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    *sc = *w->sc;
    int lost = 0;
    /* Merge the injections after the scenario's own events at equal times. */
    for (int i = 0; i < w->ninjected; i++) {
        if (sc->nevents >= BENCH_MAX_EVENTS) {
            lost++;
            continue;
        }
        int k = sc->nevents;
        while (k > 0 && sc->events[k - 1].at_s > w->injected[i].at_s) {
            sc->events[k] = sc->events[k - 1];
            k--;
        }
        sc->events[k] = w->injected[i];
        sc->nevents++;
    }
    int rc = bench_scenario_write_file(path, sc, err, errcap);
    free(sc);
    if (rc == 0 && lost > 0) {
        snprintf(err, errcap, "%d injected events did not fit (%d events at most)", lost,
                 BENCH_MAX_EVENTS);
        return -1;
    }
    return rc;
}

static void save_session(bench_panel_t *p)
{
    char err[256];
    if (bench_panel_save(p, p->save_path, err, sizeof err) != 0) {
        say(p, "save failed: %s", err, 0);
        return;
    }
    say(p, "session saved to %s", p->save_path, 0);
}

static void snapshot(bench_panel_t *p)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s-%03d.png", p->shot_path, ++p->nshots);
    if (bench_panel_save_png(p, path, 1280, 720, err, sizeof err) != 0) {
        say(p, "snapshot failed: %s", err, 0);
        return;
    }
    say(p, "snapshot %s", path, 0);
}

bool bench_panel_key(bench_panel_t *p, SDL_Keycode key)
{
    int npacks = p->w->bank.npacks;
    if (key >= SDLK_1 && key <= SDLK_9) {
        select_pack(p, (int)(key - SDLK_1));
        return false;
    }
    switch (key) {
    case SDLK_ESCAPE:
    case SDLK_q: return true;
    case SDLK_SPACE: p->paused = !p->paused; break;
    case SDLK_PERIOD:
    case SDLK_RIGHT: p->paused = true, p->step_req = true; break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        if (p->speed_idx + 1 < bench_panel_nspeeds) {
            p->speed_idx++;
        }
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        if (p->speed_idx > 0) {
            p->speed_idx--;
        }
        break;
    case SDLK_TAB: select_pack(p, npacks > 0 ? (p->sel_pack + 1) % npacks : 0); break;
    case SDLK_UP:
        if (p->sel_cell > 0) {
            p->sel_cell--;
        }
        break;
    case SDLK_DOWN:
        if (p->sel_cell + 1 < p->w->bank.packs[p->sel_pack].ncells) {
            p->sel_cell++;
        }
        break;
    case SDLK_u: nudge_cell(p, CELL_STEP_MV); break;
    case SDLK_d: nudge_cell(p, -CELL_STEP_MV); break;
    case SDLK_h: nudge_temp(p, TEMP_STEP_C); break;
    case SDLK_c: nudge_temp(p, -TEMP_STEP_C); break;
    case SDLK_s: inject_fault(p, "silent"); break;
    case SDLK_x: inject_fault(p, corrupt_fault(p->w->kind)); break;
    case SDLK_r: {
        bench_event_t ev = event_for(p, BENCH_ACT_CLEAR_FAULTS);
        bench_panel_inject(p, &ev, "faults cleared");
        break;
    }
    case SDLK_v:
        bench_panel_drop_victron(p, !p->victron_dropped);
        note(p, p->victron_dropped ? "Victron bus dropped (panel only, not saved as an event)"
                                   : "Victron bus restored");
        break;
    case SDLK_b: {
        bench_event_t ev = event_for(p, BENCH_ACT_BUTTON);
        bench_panel_inject(p, &ev, "mode button pressed");
        break;
    }
    case SDLK_w: save_session(p); break;
    case SDLK_F12: snapshot(p); break;
    case SDLK_F1:
    case SDLK_QUESTION: p->help = !p->help; break;
    default: break;
    }
    return false;
}

static bool inside(const bench_panel_rect_t *r, int x, int y)
{
    return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

/* The log row under (x, y) as rows back from the newest, -1 if none. */
static int log_row_at(const bench_panel_t *p, const bench_panel_layout_t *l, int x, int y)
{
    if (!inside(&l->log, x, y) || y < l->log_first_y) {
        return -1;
    }
    int i = (y - l->log_first_y) / l->line_h;
    if (i >= l->log_rows) {
        return -1;
    }
    int bottom = p->log_selected >= l->log_rows ? p->log_selected - l->log_rows + 1 : 0;
    int back = bottom + (l->log_rows - 1 - i);
    return back < p->nlog ? back : -1;
}

void bench_panel_click(bench_panel_t *p, const bench_panel_layout_t *l, int x, int y)
{
    for (int i = 0; i < p->w->bank.npacks; i++) {
        for (int c = 0; c < p->w->bank.packs[i].ncells; c++) {
            bench_panel_rect_t r;
            if (bench_panel_cell_rect(p, l, i, c, &r) && inside(&r, x, y)) {
                p->sel_pack = i;
                p->sel_cell = c;
                return;
            }
        }
    }
    int row = log_row_at(p, l, x, y);
    if (row >= 0) {
        p->log_selected = row == p->log_selected ? -1 : row;
    }
}

void bench_panel_motion(bench_panel_t *p, const bench_panel_layout_t *l, int x, int y)
{
    p->log_hover = log_row_at(p, l, x, y);
}
