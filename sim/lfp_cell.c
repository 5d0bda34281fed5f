/* SPDX-License-Identifier: MIT */
/* LiFePO4 open-circuit voltage: table with linear interpolation; see lfp_cell.h.
 *
 * The table follows a typical LFP curve: a steep knee below 10 %, the long
 * flat plateau (3.25..3.35 V) where voltage says little about SOC, and the
 * sharp rise above 95 %. Outside 0..1 the cell runs away at 0.1 V per 0.1 %
 * SOC, which is what lets an uncontrolled charge reach the pack BMS's
 * 3.75 V cut-off within a fraction of a percent. */
#include "sim/lfp_cell.h"

#include <math.h>
#include <stddef.h>

#define OCV_MIN_V 2.0
#define OCV_MAX_V 4.5
#define RUNAWAY_V_PER_SOC 100.0 /* 0.10 V per 0.001 SOC */

typedef struct ocv_point {
    double soc;
    double v;
} ocv_point_t;

static const ocv_point_t ocv_table[] = {
    {0.00, 2.500}, {0.01, 2.800}, {0.03, 3.000}, {0.05, 3.100}, {0.10, 3.200},
    {0.20, 3.250}, {0.30, 3.275}, {0.40, 3.290}, {0.50, 3.300}, {0.60, 3.310},
    {0.70, 3.325}, {0.80, 3.335}, {0.90, 3.345}, {0.95, 3.360}, {0.98, 3.400},
    {0.99, 3.450}, {1.00, 3.550},
};

#define OCV_POINTS (sizeof(ocv_table) / sizeof(ocv_table[0]))

double sim_lfp_ocv(double soc)
{
    if (isnan(soc)) {
        return OCV_MIN_V; /* garbage in: report an empty cell, never NaN */
    }
    if (soc <= 0.0) {
        double v = ocv_table[0].v + soc * RUNAWAY_V_PER_SOC;
        return v < OCV_MIN_V ? OCV_MIN_V : v;
    }
    if (soc >= 1.0) {
        double v = ocv_table[OCV_POINTS - 1].v + (soc - 1.0) * RUNAWAY_V_PER_SOC;
        return v > OCV_MAX_V ? OCV_MAX_V : v;
    }
    size_t i = 1;
    while (i < OCV_POINTS - 1 && ocv_table[i].soc < soc) {
        i++;
    }
    const ocv_point_t *lo = &ocv_table[i - 1];
    const ocv_point_t *hi = &ocv_table[i];
    double frac = (soc - lo->soc) / (hi->soc - lo->soc);
    return lo->v + frac * (hi->v - lo->v);
}
