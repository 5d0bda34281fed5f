/* SPDX-License-Identifier: MIT */
/* LiFePO4 open-circuit voltage curve. */
#ifndef SIM_LFP_CELL_H
#define SIM_LFP_CELL_H

/* OCV in volts for a state of charge (0..1; below 0 and above 1 the curve
 * continues steeply, as a cell does when over-discharged or overcharged,
 * clamped to 2.0 V .. 4.5 V). Monotonic. */
double sim_lfp_ocv(double soc);

#endif
