/* SPDX-License-Identifier: MIT */
/* Battery physics: cells in series, packs in parallel; see battery.h. */
#include "sim/battery.h"

#include <math.h>
#include <string.h>

#include "sim/lfp_cell.h"

#define SOC_MIN (-0.05)
#define SOC_MAX 1.10
#define SPREAD_MAX_SD 5.0
#define R_CELL_100AH_OHM 0.25e-3
#define THERMAL_TAU_DEFAULT_S 3600.0
/* Heat capacity of an LFP prismatic cell, about 2.2 kJ/K for 100 Ah
 * (2 kg at 1.1 J/(g K)); scales with capacity. */
#define HEAT_CAP_J_PER_K_AH 22.0

#define CHG_FET_OPEN_V 3.75
#define CHG_FET_CLOSE_V 3.45
#define DSG_FET_OPEN_V 2.30
#define DSG_FET_CLOSE_V 2.80

static double clampd(double x, double lo, double hi)
{
    if (!(x >= lo)) {
        return lo; /* also catches NaN */
    }
    return x > hi ? hi : x;
}

static double draw_sd(sim_rng_t *rng)
{
    return clampd(sim_rng_normal(rng), -SPREAD_MAX_SD, SPREAD_MAX_SD);
}

void sim_pack_init(sim_pack_t *p, const sim_pack_spec_t *spec, sim_rng_t *rng)
{
    memset(p, 0, sizeof(*p));
    int n = spec->ncells;
    p->ncells = n < 1 ? 1 : (n > SIM_MAX_CELLS ? SIM_MAX_CELLS : n);
    p->capacity_ah = spec->capacity_ah > 0.1 ? spec->capacity_ah : 0.1;
    double r = spec->r_cell_ohm > 0 ? spec->r_cell_ohm : R_CELL_100AH_OHM * 100.0 / p->capacity_ah;
    /* Draw order is fixed (capacity, then soc, cell by cell) and every draw
     * happens even when a spread is zero, so a seed maps to one pack. */
    for (int i = 0; i < p->ncells; i++) {
        sim_cell_t *c = &p->cells[i];
        double cap = p->capacity_ah * (1.0 + spec->capacity_spread * draw_sd(rng));
        c->capacity_ah = cap > 0.01 * p->capacity_ah ? cap : 0.01 * p->capacity_ah;
        c->soc = clampd(spec->soc + spec->soc_spread * draw_sd(rng), 0.0, 1.0);
        c->r_ohm = r;
        c->temp_c = spec->temp_c;
        c->v = sim_lfp_ocv(c->soc);
        p->voltage_v += c->v;
    }
    p->ambient_c = spec->temp_c;
    p->cycles_base = spec->cycles;
    p->charge_fet = true;
    p->discharge_fet = true;
}

void sim_bank_init(sim_bank_t *b, double ambient_c)
{
    memset(b, 0, sizeof(*b));
    b->ambient_c = ambient_c;
    b->thermal_tau_s = THERMAL_TAU_DEFAULT_S;
}

int sim_bank_add(sim_bank_t *b, const sim_pack_spec_t *spec, sim_rng_t *rng)
{
    if (b->npacks >= SIM_MAX_PACKS) {
        return -1;
    }
    int idx = b->npacks;
    sim_pack_init(&b->packs[idx], spec, rng);
    b->packs[idx].ambient_c = b->ambient_c;
    b->npacks++;
    sim_bank_step(b, 0.0, 0.0); /* settle bus voltage and the current split */
    return idx;
}

static void pack_ocv_r(const sim_pack_t *p, double *ocv_v, double *r_ohm)
{
    double ocv = 0.0;
    double r = 0.0;
    for (int i = 0; i < p->ncells; i++) {
        const sim_cell_t *c = &p->cells[i];
        /* v_offset is what the pack's BMS measures wrongly (sensor drift, a
         * bad tap), not chemistry: it must not push current between packs. */
        ocv += sim_lfp_ocv(c->soc);
        r += c->r_ohm;
    }
    *ocv_v = ocv;
    *r_ohm = r > 1e-9 ? r : 1e-9;
}

/* Split a bank current over the packs that may carry it. Every pack in the
 * set sits at the bus voltage V: I_p = (V - OCV_p) / R_p, sum I_p = total.
 * A pack whose share would flow through an open FET leaves the set (the
 * worst offender first, since removing one pack changes everybody's share)
 * and V is solved again. Returns false when no pack can take the current. */
static bool split_current(const sim_bank_t *b, const double *ocv, const double *r,
                          double total_a, double *bus_v, double *pack_a)
{
    bool in[SIM_MAX_PACKS];
    int nin = 0;
    for (int p = 0; p < b->npacks; p++) {
        in[p] = !b->packs[p].disconnected;
        nin += in[p];
        pack_a[p] = 0.0;
    }
    while (nin > 0) {
        double sum_g = 0.0;
        double sum_og = 0.0;
        for (int p = 0; p < b->npacks; p++) {
            if (in[p]) {
                sum_g += 1.0 / r[p];
                sum_og += ocv[p] / r[p];
            }
        }
        double v = (total_a + sum_og) / sum_g;
        int worst = -1;
        double worst_a = 0.0;
        for (int p = 0; p < b->npacks; p++) {
            if (!in[p]) {
                continue;
            }
            double ip = (v - ocv[p]) / r[p];
            bool blocked = (ip > 0 && !b->packs[p].charge_fet) ||
                           (ip < 0 && !b->packs[p].discharge_fet);
            if (blocked && fabs(ip) > worst_a) {
                worst = p;
                worst_a = fabs(ip);
            }
        }
        if (worst < 0) {
            for (int p = 0; p < b->npacks; p++) {
                pack_a[p] = in[p] ? (v - ocv[p]) / r[p] : 0.0;
            }
            *bus_v = v;
            return true;
        }
        in[worst] = false;
        nin--;
    }
    return false;
}

static void pack_protect(sim_pack_t *p)
{
    if (p->external_bms) {
        return; /* an emulated BMS (e.g. TinyBMS) drives the switches itself */
    }
    double vmin = p->cells[0].v;
    double vmax = p->cells[0].v;
    for (int i = 1; i < p->ncells; i++) {
        vmin = fmin(vmin, p->cells[i].v);
        vmax = fmax(vmax, p->cells[i].v);
    }
    if (vmax >= CHG_FET_OPEN_V) {
        p->charge_fet = false;
    } else if (!p->charge_fet && vmax <= CHG_FET_CLOSE_V) {
        p->charge_fet = true;
    }
    if (vmin <= DSG_FET_OPEN_V) {
        p->discharge_fet = false;
    } else if (!p->discharge_fet && vmin >= DSG_FET_CLOSE_V) {
        p->discharge_fet = true;
    }
}

static void pack_advance(sim_pack_t *p, double dt_s, double current_a, double tau_s)
{
    double keep = tau_s > 0 ? exp(-dt_s / tau_s) : 0.0;
    double volt = 0.0;
    for (int i = 0; i < p->ncells; i++) {
        sim_cell_t *c = &p->cells[i];
        /* A balancer's bleed drains this cell alone; the pack current is unchanged. */
        double bleed_a = isfinite(c->bleed_a) ? c->bleed_a : 0.0;
        c->soc = clampd(c->soc + (current_a - bleed_a) * dt_s / 3600.0 / c->capacity_ah, SOC_MIN,
                        SOC_MAX);
        double heat_j = current_a * current_a * c->r_ohm * dt_s;
        c->temp_c = p->ambient_c + (c->temp_c - p->ambient_c) * keep +
                    heat_j / (HEAT_CAP_J_PER_K_AH * c->capacity_ah);
        c->v = sim_lfp_ocv(c->soc) + current_a * c->r_ohm + c->v_offset;
        volt += c->v;
    }
    p->current_a = current_a;
    p->voltage_v = volt;
    p->throughput_ah += fabs(current_a) * dt_s / 3600.0;
    pack_protect(p);
}

void sim_bank_step(sim_bank_t *b, double dt_s, double current_a)
{
    if (!(dt_s >= 0.0) || isinf(dt_s)) {
        dt_s = 0.0;
    }
    if (!isfinite(current_a)) {
        current_a = 0.0;
    }
    double ocv[SIM_MAX_PACKS];
    double r[SIM_MAX_PACKS];
    double pack_a[SIM_MAX_PACKS];
    double open_v = 0.0;
    for (int p = 0; p < b->npacks; p++) {
        pack_ocv_r(&b->packs[p], &ocv[p], &r[p]);
        if (!b->packs[p].disconnected && ocv[p] > open_v) {
            open_v = ocv[p];
        }
    }
    b->current_req_a = current_a;
    double bus_v = open_v;
    if (!split_current(b, ocv, r, current_a, &bus_v, pack_a)) {
        /* Nothing on the bus can take it (all FETs open or all packs
         * removed): the bank carries no current and sits at the highest
         * open-circuit voltage present. */
        if (current_a != 0.0) {
            b->blocked_steps++;
        }
        bus_v = open_v;
    }
    double total = 0.0;
    for (int p = 0; p < b->npacks; p++) {
        pack_advance(&b->packs[p], dt_s, pack_a[p], b->thermal_tau_s);
        total += pack_a[p];
    }
    b->current_a = total;
    b->voltage_v = bus_v;
}

bool sim_bank_thevenin(const sim_bank_t *b, bool charge, double *ocv_v, double *r_ohm)
{
    double sum_g = 0.0;
    double sum_og = 0.0;
    for (int p = 0; p < b->npacks; p++) {
        const sim_pack_t *pk = &b->packs[p];
        if (pk->disconnected || !(charge ? pk->charge_fet : pk->discharge_fet)) {
            continue;
        }
        double ocv, r;
        pack_ocv_r(pk, &ocv, &r);
        sum_g += 1.0 / r;
        sum_og += ocv / r;
    }
    if (sum_g <= 0.0) {
        *ocv_v = 0.0;
        *r_ohm = 0.0;
        return false;
    }
    *r_ohm = 1.0 / sum_g;
    *ocv_v = sum_og / sum_g;
    return true;
}

double sim_pack_soc(const sim_pack_t *p)
{
    if (p->ncells < 1) {
        return 0.0;
    }
    int n = p->ncells > SIM_MAX_CELLS ? SIM_MAX_CELLS : p->ncells;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += p->cells[i].soc;
    }
    return clampd(sum / n, 0.0, 1.0);
}

double sim_pack_remaining_ah(const sim_pack_t *p)
{
    return sim_pack_soc(p) * p->capacity_ah;
}

double sim_bank_soc(const sim_bank_t *b)
{
    double cap = 0.0;
    double ah = 0.0;
    for (int p = 0; p < b->npacks; p++) {
        cap += b->packs[p].capacity_ah;
        ah += sim_pack_remaining_ah(&b->packs[p]);
    }
    return cap > 0.0 ? ah / cap : 0.0;
}

void sim_bank_cell_extremes(const sim_bank_t *b, double *vmin, double *vmax,
                            double *tmin, double *tmax)
{
    bool any = false;
    double v_lo = 0, v_hi = 0, t_lo = 0, t_hi = 0;
    for (int p = 0; p < b->npacks; p++) {
        const sim_pack_t *pk = &b->packs[p];
        if (pk->disconnected) {
            continue;
        }
        for (int i = 0; i < pk->ncells && i < SIM_MAX_CELLS; i++) {
            const sim_cell_t *c = &pk->cells[i];
            if (!any) {
                v_lo = v_hi = c->v;
                t_lo = t_hi = c->temp_c;
                any = true;
                continue;
            }
            v_lo = fmin(v_lo, c->v);
            v_hi = fmax(v_hi, c->v);
            t_lo = fmin(t_lo, c->temp_c);
            t_hi = fmax(t_hi, c->temp_c);
        }
    }
    if (vmin) {
        *vmin = v_lo;
    }
    if (vmax) {
        *vmax = v_hi;
    }
    if (tmin) {
        *tmin = t_lo;
    }
    if (tmax) {
        *tmax = t_hi;
    }
}
