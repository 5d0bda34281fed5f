/* SPDX-License-Identifier: MIT */
/* Battery physics v1: LiFePO4 cells in series make a pack; packs in
 * parallel make a bank.
 *
 * Cell: open-circuit voltage from SOC (lfp_cell.h), series resistance,
 * its own capacity and temperature. Terminal voltage = OCV + I * R
 * (charge positive). Packs share one bus voltage; the bank current splits
 * so that every pack sees the same terminal voltage. A pack whose BMS has
 * opened its charge (or discharge) FET takes no current in that direction. */
#ifndef SIM_BATTERY_H
#define SIM_BATTERY_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/rng.h"

#define SIM_MAX_CELLS 50   /* a balancer bus carries up to 50 cells in one string */
#define SIM_MAX_PACKS 16

typedef struct sim_cell {
    double soc;            /* 0..1 nominal; may exceed 1 when overcharged (voltage runs away) */
    double capacity_ah;
    double r_ohm;          /* series resistance */
    double temp_c;
    double v_offset;       /* scenario knob: measurement offset, added to v (not to the chemistry) */
    double bleed_a;        /* discharge current only this cell sees (a balancer's load resistor), >= 0 */
    double v;              /* terminal voltage after the last step (read-only) */
} sim_cell_t;

typedef struct sim_pack {
    int ncells;
    sim_cell_t cells[SIM_MAX_CELLS];
    double capacity_ah;    /* nominal (label) capacity, what the BMS reports as full */
    double ambient_c;      /* environment sensor; cell temperatures drift toward it */
    double current_a;      /* this pack's share, charge positive (read-only) */
    double voltage_v;      /* terminal voltage = sum of cell voltages (read-only) */
    double throughput_ah;  /* |Ah| through the pack, for cycle counting */
    int cycles_base;       /* cycle count at start */
    bool charge_fet;       /* closed = can charge (the pack BMS's own protection) */
    bool discharge_fet;
    bool disconnected;     /* scenario knob: pack removed from the bus */
    bool external_bms;     /* FETs are driven by an emulated BMS, not by the built-in protection */
} sim_pack_t;

typedef struct sim_bank {
    int npacks;
    sim_pack_t packs[SIM_MAX_PACKS];
    double current_a;      /* total, charge positive (read-only); 0 when no pack could take it */
    double voltage_v;      /* bus voltage (read-only) */
    double ambient_c;      /* copied into each pack's ambient_c by sim_bank_add */
    double thermal_tau_s;  /* cell temperature time constant toward the pack's ambient (default 3600) */
    double current_req_a;  /* current asked for by the last step (read-only) */
    uint64_t blocked_steps;/* steps where a non-zero current was asked and no pack could take it */
} sim_bank_t;

typedef struct sim_pack_spec {
    int ncells;            /* 15 or 16 (1..32 accepted) */
    double capacity_ah;
    double soc;            /* 0..1 */
    double temp_c;
    double capacity_spread;/* relative sd of cell capacity, e.g. 0.01 */
    double soc_spread;     /* sd of cell SOC, e.g. 0.005 */
    double r_cell_ohm;     /* default when 0: 0.25 mOhm x (100 / capacity_ah) */
    int cycles;
} sim_pack_spec_t;

/* Build a pack from a spec; spreads drawn from rng. */
void sim_pack_init(sim_pack_t *p, const sim_pack_spec_t *spec, sim_rng_t *rng);
void sim_bank_init(sim_bank_t *b, double ambient_c);
/* Add a pack; returns its index or -1 when the bank is full. */
int sim_bank_add(sim_bank_t *b, const sim_pack_spec_t *spec, sim_rng_t *rng);

/* Advance the bank by dt_s with a total current (charge positive): splits
 * the current, integrates SOC, updates voltages, thermal drift toward
 * ambient, and the packs' own FET protection. dt_s = 0 only recomputes the
 * current split and voltages. Protection of the pack BMS: the charge FET opens
 * when any cell >= 3.75 V and closes when all <= 3.45 V; the discharge FET
 * opens when any cell <= 2.30 V and closes when all >= 2.80 V. Both are
 * beyond the gateway's cut-offs (3.65 V, 2.50 V): the pack's own protection is
 * the last line of defence, so a gateway that fails to act is visible. */
void sim_bank_step(sim_bank_t *b, double dt_s, double current_a);

/* Equivalent open-circuit voltage and resistance of the connected packs that
 * can take current in the given direction (charge = true); used by the
 * charger model to find the current that holds a target voltage.
 * Returns false if no pack can take current that way. */
bool sim_bank_thevenin(const sim_bank_t *b, bool charge, double *ocv_v, double *r_ohm);

/* Helpers for expectations and emulators. */
double sim_pack_soc(const sim_pack_t *p);        /* 0..1, mean of cells, clamped */
double sim_pack_remaining_ah(const sim_pack_t *p); /* sim_pack_soc x label capacity */
double sim_bank_soc(const sim_bank_t *b);        /* capacity weighted */
/* Over the cells of connected packs (all outputs 0 when none is connected);
 * any output pointer may be NULL. */
void sim_bank_cell_extremes(const sim_bank_t *b, double *vmin, double *vmax,
                            double *tmin, double *tmax);

#endif
