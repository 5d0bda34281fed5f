/* SPDX-License-Identifier: MIT */
/* GX-side checks of a Victron capture (contract in replay_check.h). */
#include "harness/replay_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bench_replay_rule_names[BENCH_RULE_COUNT] = {
#define X(n, h) #n,
    BENCH_REPLAY_RULES
#undef X
};

const char *const bench_replay_rule_help[BENCH_RULE_COUNT] = {
#define X(n, h) h,
    BENCH_REPLAY_RULES
#undef X
};

#define FLAGS_MASK 0xE0000000u  /* EFF, RTR, ERR: not Victron BMS frames */
/* Second episode slots of rules two frames can break. */
#define SLOT_PACK_V_356 (BENCH_RULE_COUNT + 0)
#define SLOT_TEMP_373 (BENCH_RULE_COUNT + 1)
#define SLOT_LIMITS_355 (BENCH_RULE_COUNT + 2)
#define TRACK_EVERY_US 1000000u /* one limits sample per second unless they change */

bool bench_replay_profile_get(const char *name, int cells, bench_replay_profile_t *p, char *err,
                              size_t cap)
{
    memset(p, 0, sizeof *p);
    if (name == NULL || strcmp(name, "lifepo4") != 0) {
        snprintf(err, cap, "unknown profile '%s' (known: lifepo4)", name != NULL ? name : "");
        return false;
    }
    if (cells < 1 || cells > 50) {
        snprintf(err, cap, "--cells %d: want 1..50", cells);
        return false;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    p->cells = cells;
    /* LiFePO4: cut-offs of the bench's packs (3.65 / 2.50 V); a cell outside
     * 1.5..4.2 V is no LiFePO4 cell at all, so such numbers are bad scaling. */
    p->cell_max_mv = 3650;
    p->cell_min_mv = 2500;
    p->cell_abs_max_mv = 4200;
    p->cell_abs_min_mv = 1500;
    p->charge_min_dc = 0;
    p->charge_max_dc = 550;
    p->discharge_min_dc = -200;
    p->discharge_max_dc = 600;
    /* 3 s without 0x351: what diyBMS and battery vendors state inverters tolerate. */
    p->gap_351_ms = 3000;
    p->gap_frame_ms = 10000;
    /* A frame set is spread over a period; the limit and the cell report it
     * answers may land on either side of one period boundary. */
    p->grace_ms = 2000;
    return true;
}

void bench_replay_check_init(bench_replay_check_t *c, const bench_replay_profile_t *p)
{
    memset(c, 0, sizeof *c);
    c->prof = *p;
    bench_gx_init(&c->gx);
    c->timed = true;
}

void bench_replay_check_free(bench_replay_check_t *c)
{
    free(c->track);
    c->track = NULL;
    c->ntrack = c->captrack = 0;
}

static void add_violation(bench_replay_check_t *c, bench_replay_rule_t rule, uint64_t since_us,
                          uint64_t t_us, uint32_t id, const char *fmt, ...)
{
    uint64_t k = c->nviolations++;
    if (k >= BENCH_REPLAY_MAX_VIOLATIONS) {
        return;
    }
    bench_replay_violation_t *v = &c->v[k];
    v->t_us = since_us;
    v->seen_us = t_us;
    v->id = id;
    v->rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->values, sizeof v->values, fmt, ap);
    va_end(ap);
}

/* One episode step: true when the rule must be reported now (the condition
 * has held for grace_us and was not reported yet). */
static bool episode(bench_replay_check_t *c, int rule, bool holds, uint64_t t_us, uint64_t grace_us)
{
    if (!holds) {
        c->active[rule] = false;
        return false;
    }
    if (!c->active[rule]) {
        c->active[rule] = true;
        c->reported[rule] = false;
        c->since_us[rule] = t_us;
    }
    if (!c->reported[rule] && t_us - c->since_us[rule] >= grace_us) {
        c->reported[rule] = true;
        return true;
    }
    return false;
}

static bool seen(const bench_replay_check_t *c, uint32_t id)
{
    return c->last_seen_us[id] != 0 || c->gx.count_by_id[id] > 0;
}

/* The limit rules, judged whenever 0x351, 0x35C or 0x373 changes what the GX knows. */
static void check_limits(bench_replay_check_t *c, uint32_t id, uint64_t t)
{
    const bench_gx_t *g = &c->gx;
    const bench_replay_profile_t *p = &c->prof;
    uint64_t grace = (uint64_t)p->grace_ms * 1000u;
    if (!seen(c, 0x351)) {
        return;
    }
    if (seen(c, 0x373)) {
        double vmax = p->cell_max_mv / 1000.0, vmin = p->cell_min_mv / 1000.0;
        if (episode(c, BENCH_RULE_ccl_at_high_cell, g->ccl_a > 0 && g->max_cell_v >= vmax, t,
                    grace)) {
            add_violation(c, BENCH_RULE_ccl_at_high_cell, c->since_us[BENCH_RULE_ccl_at_high_cell],
                          t, id, "ccl_a=%.1f max_cell_v=%.3f (limit %.3f)", g->ccl_a, g->max_cell_v,
                          vmax);
        }
        if (episode(c, BENCH_RULE_dcl_at_low_cell, g->dcl_a > 0 && g->min_cell_v <= vmin, t,
                    grace)) {
            add_violation(c, BENCH_RULE_dcl_at_low_cell, c->since_us[BENCH_RULE_dcl_at_low_cell], t,
                          id, "dcl_a=%.1f min_cell_v=%.3f (limit %.3f)", g->dcl_a, g->min_cell_v,
                          vmin);
        }
        double cmin = p->charge_min_dc / 10.0, cmax = p->charge_max_dc / 10.0;
        if (episode(c, BENCH_RULE_charge_cold, g->ccl_a > 0 && g->min_temp_c < cmin, t, grace)) {
            add_violation(c, BENCH_RULE_charge_cold, c->since_us[BENCH_RULE_charge_cold], t, id,
                          "ccl_a=%.1f min_temp_c=%.0f (limit %.1f)", g->ccl_a, g->min_temp_c, cmin);
        }
        if (episode(c, BENCH_RULE_charge_hot, g->ccl_a > 0 && g->max_temp_c > cmax, t, grace)) {
            add_violation(c, BENCH_RULE_charge_hot, c->since_us[BENCH_RULE_charge_hot], t, id,
                          "ccl_a=%.1f max_temp_c=%.0f (limit %.1f)", g->ccl_a, g->max_temp_c, cmax);
        }
        double dmin = p->discharge_min_dc / 10.0, dmax = p->discharge_max_dc / 10.0;
        bool dtemp = g->min_temp_c < dmin || g->max_temp_c > dmax;
        if (episode(c, BENCH_RULE_discharge_temp, g->dcl_a > 0 && dtemp, t, grace)) {
            add_violation(c, BENCH_RULE_discharge_temp, c->since_us[BENCH_RULE_discharge_temp], t,
                          id, "dcl_a=%.1f min_temp_c=%.0f max_temp_c=%.0f (range %.1f..%.1f)",
                          g->dcl_a, g->min_temp_c, g->max_temp_c, dmin, dmax);
        }
    }
    if (seen(c, 0x35C)) {
        bool chg = (g->request_flags >> 7) & 1u, dis = (g->request_flags >> 6) & 1u;
        bool bad = (!chg && g->ccl_a > 0) || (!dis && g->dcl_a > 0);
        if (episode(c, BENCH_RULE_req_35c_vs_351, bad, t, grace)) {
            add_violation(c, BENCH_RULE_req_35c_vs_351, c->since_us[BENCH_RULE_req_35c_vs_351], t,
                          id, "0x35C=0x%02X (charge %s, discharge %s) ccl_a=%.1f dcl_a=%.1f",
                          g->request_flags, chg ? "on" : "off", dis ? "on" : "off", g->ccl_a,
                          g->dcl_a);
        }
    }
}

/* Rules on one frame's own content: reported once per episode, no grace. */
static void check_content(bench_replay_check_t *c, uint32_t id, uint64_t t)
{
    const bench_gx_t *g = &c->gx;
    const bench_replay_profile_t *p = &c->prof;
    double cells = p->cells;
    switch (id) {
    case 0x351: {
        double cvl_max = cells * p->cell_max_mv / 1000.0;
        if (episode(c, BENCH_RULE_cvl_above_max, g->cvl_v > cvl_max + 0.05, t, 0)) {
            add_violation(c, BENCH_RULE_cvl_above_max, t, t, id, "cvl_v=%.1f > %d x %.3f = %.2f",
                          g->cvl_v, p->cells, p->cell_max_mv / 1000.0, cvl_max);
        }
        double lo = cells * p->cell_abs_min_mv / 1000.0, hi = cells * p->cell_abs_max_mv / 1000.0;
        bool dvl_bad = g->dvl_v != 0 && (g->dvl_v < lo || g->dvl_v > hi);
        if (episode(c, BENCH_RULE_scaling_pack_v, g->cvl_v < lo || g->cvl_v > hi || dvl_bad, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_pack_v, t, t, id,
                          "cvl_v=%.1f dvl_v=%.1f outside %.1f..%.1f V for %d cells", g->cvl_v,
                          g->dvl_v, lo, hi, p->cells);
        }
        if (episode(c, BENCH_RULE_scaling_limits, g->ccl_a < 0 || g->dcl_a < 0, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_limits, t, t, id, "ccl_a=%.1f dcl_a=%.1f",
                          g->ccl_a, g->dcl_a);
        }
        break;
    }
    case 0x355:
        if (episode(c, SLOT_LIMITS_355, g->soc_pct > 100 || g->soh_pct > 100, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_limits, t, t, id, "soc_pct=%.0f soh_pct=%.0f",
                          g->soc_pct, g->soh_pct);
        }
        break;
    case 0x356: {
        double lo = cells * p->cell_abs_min_mv / 1000.0, hi = cells * p->cell_abs_max_mv / 1000.0;
        /* 0 V is a pack that is off or not measured, not a scaling error. */
        bool bad = g->voltage_v != 0 && (g->voltage_v < lo || g->voltage_v > hi);
        if (episode(c, SLOT_PACK_V_356, bad, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_pack_v, t, t, id,
                          "voltage_v=%.2f outside %.1f..%.1f V for %d cells", g->voltage_v, lo, hi,
                          p->cells);
        }
        bool tbad = g->temperature_c < -40 || g->temperature_c > 100;
        if (episode(c, BENCH_RULE_scaling_temp, tbad, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_temp, t, t, id, "temperature_c=%.1f",
                          g->temperature_c);
        }
        break;
    }
    case 0x35A: {
        unsigned n = 0;
        int first = -1;
        bool warn = false;
        for (int i = 0; i < BENCH_GX_ALARMS; i++) {
            if (g->alarm[i] == 3 || g->warning[i] == 3) {
                if (first < 0) {
                    first = i;
                    warn = g->alarm[i] != 3;
                }
                n += (g->alarm[i] == 3) + (g->warning[i] == 3);
            }
        }
        if (episode(c, BENCH_RULE_reserved_pair, n > 0, t, 0)) {
            add_violation(c, BENCH_RULE_reserved_pair, t, t, id, "%u pair(s) = 3, first %s %s", n,
                          warn ? "warning" : "alarm", bench_gx_alarm_names[first]);
        }
        break;
    }
    case 0x373: {
        double amax = p->cell_abs_max_mv / 1000.0, amin = p->cell_abs_min_mv / 1000.0;
        bool bad = g->min_cell_v > g->max_cell_v || g->max_cell_v > amax || g->min_cell_v < amin;
        if (episode(c, BENCH_RULE_scaling_cell_v, bad, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_cell_v, t, t, id,
                          "min_cell_v=%.3f max_cell_v=%.3f (possible %.2f..%.2f)", g->min_cell_v,
                          g->max_cell_v, amin, amax);
        }
        bool tbad = g->min_temp_c < -40 || g->max_temp_c > 100 || g->min_temp_c > g->max_temp_c;
        if (episode(c, SLOT_TEMP_373, tbad, t, 0)) {
            add_violation(c, BENCH_RULE_scaling_temp, t, t, id, "min_temp_c=%.0f max_temp_c=%.0f",
                          g->min_temp_c, g->max_temp_c);
        }
        break;
    }
    default:
        break;
    }
}

/* Gap rules: judged when the frame arrives again (and at the end). */
static void check_gap(bench_replay_check_t *c, uint32_t id, uint64_t t, bool at_end)
{
    uint64_t last = c->last_seen_us[id];
    if (last == 0 || t < last) {
        return;
    }
    uint64_t gap = t - last;
    bool is351 = id == 0x351;
    uint64_t limit = (uint64_t)(is351 ? c->prof.gap_351_ms : c->prof.gap_frame_ms) * 1000u;
    if (gap > limit) {
        add_violation(c, is351 ? BENCH_RULE_gap_351 : BENCH_RULE_gap_frame, last, t, id,
                      "0x%03X silent %.3f s (allowed %.3f s)%s", (unsigned)id, gap / 1e6,
                      limit / 1e6, at_end ? " until the end of the capture" : "");
    }
}

static void track_limits(bench_replay_check_t *c, uint64_t t)
{
    const bench_gx_t *g = &c->gx;
    if (c->ntrack > 0) {
        const struct bench_replay_sample *l = &c->track[c->ntrack - 1];
        bool same = l->cvl == (float)g->cvl_v && l->ccl == (float)g->ccl_a &&
                    l->dcl == (float)g->dcl_a;
        if (same && t - l->t_us < TRACK_EVERY_US) {
            return;
        }
    }
    if (c->ntrack == c->captrack) {
        size_t cap = c->captrack ? c->captrack * 2 : 1024;
        void *n = realloc(c->track, cap * sizeof c->track[0]);
        if (n == NULL) {
            return; /* the summary gets coarser; the checks are unaffected */
        }
        c->track = n;
        c->captrack = cap;
    }
    c->track[c->ntrack].t_us = t;
    c->track[c->ntrack].cvl = (float)g->cvl_v;
    c->track[c->ntrack].ccl = (float)g->ccl_a;
    c->track[c->ntrack].dcl = (float)g->dcl_a;
    c->ntrack++;
}

void bench_replay_check_frame(bench_replay_check_t *c, uint32_t id, uint8_t dlc,
                              const uint8_t *data, uint64_t t_us, bool has_time)
{
    if (c->frames == 0) {
        c->first_us = t_us;
    }
    c->frames++;
    c->timed = c->timed && has_time;
    if (t_us > c->last_us) {
        c->last_us = t_us;
    }
    int rc = bench_gx_feed(&c->gx, id, dlc, data, t_us);
    if (rc < 0) {
        /* One report per id until that id decodes again, so a gateway that
         * always sends a short 0x351 is one finding, not one per period. */
        uint32_t sid = id & 0x7FFu;
        if (!c->short_id[sid]) {
            c->short_id[sid] = true;
            add_violation(c, BENCH_RULE_frame_too_short, t_us, t_us, sid,
                          "0x%03X with DLC %u is too short for its fields", (unsigned)sid,
                          (unsigned)dlc);
        }
        return;
    }
    if (rc != 0 || (id & FLAGS_MASK) != 0) {
        return;
    }
    uint32_t sid = id & 0x7FFu;
    c->short_id[sid] = false;
    if (c->timed && (sid == 0x351 || sid == 0x355 || sid == 0x356 || sid == 0x35A)) {
        check_gap(c, sid, t_us, false);
    }
    /* 0 means "never seen" in last_seen_us: a frame at t = 0 counts as 1 us. */
    c->last_seen_us[sid] = t_us != 0 ? t_us : 1;
    check_content(c, sid, t_us);
    if (sid == 0x351 || sid == 0x35C || sid == 0x373) {
        check_limits(c, sid, t_us);
    }
    if (sid == 0x351) {
        c->n351++;
        track_limits(c, t_us);
    }
}

void bench_replay_check_finish(bench_replay_check_t *c)
{
    if (c->n351 == 0) {
        add_violation(c, BENCH_RULE_missing_351, c->first_us, c->last_us, 0,
                      "%llu frames, none a decodable 0x351", (unsigned long long)c->frames);
        return;
    }
    if (c->timed) {
        static const uint32_t ids[] = {0x351, 0x355, 0x356, 0x35A};
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            check_gap(c, ids[i], c->last_us, true);
        }
    }
}

int bench_replay_summary(const bench_replay_check_t *c, bench_replay_window_t *w, int maxw)
{
    if (c->ntrack == 0 || maxw <= 0) {
        return 0;
    }
    uint64_t t0 = c->track[0].t_us, t1 = c->track[c->ntrack - 1].t_us;
    uint64_t span = t1 - t0;
    int nw = span == 0 ? 1 : maxw;
    uint64_t step = span / (uint64_t)nw + 1;
    for (int i = 0; i < nw; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].from_us = t0 + step * (uint64_t)i;
        w[i].to_us = w[i].from_us + step;
    }
    for (size_t k = 0; k < c->ntrack; k++) {
        size_t i = (size_t)((c->track[k].t_us - t0) / step);
        bench_replay_window_t *x = &w[i < (size_t)nw ? i : (size_t)nw - 1];
        double cvl = c->track[k].cvl, ccl = c->track[k].ccl, dcl = c->track[k].dcl;
        if (x->samples++ == 0) {
            x->cvl_min = x->cvl_max = cvl;
            x->ccl_min = x->ccl_max = ccl;
            x->dcl_min = x->dcl_max = dcl;
            continue;
        }
        x->cvl_min = cvl < x->cvl_min ? cvl : x->cvl_min;
        x->cvl_max = cvl > x->cvl_max ? cvl : x->cvl_max;
        x->ccl_min = ccl < x->ccl_min ? ccl : x->ccl_min;
        x->ccl_max = ccl > x->ccl_max ? ccl : x->ccl_max;
        x->dcl_min = dcl < x->dcl_min ? dcl : x->dcl_min;
        x->dcl_max = dcl > x->dcl_max ? dcl : x->dcl_max;
    }
    return nw;
}
