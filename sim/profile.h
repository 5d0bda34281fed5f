/* SPDX-License-Identifier: MIT */
/* Current profiles over simulated time for PV and loads: constant, ramp,
 * and a day curve. Time t_s is seconds since the start of the run, and the
 * run starts at midnight (00:00), so a day curve with sunrise 6 h peaks at
 * noon of the first day and repeats every 24 h. */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include <stdbool.h>

#define SIM_PROFILE_DAY_S 86400.0

typedef enum sim_profile_kind {
    SIM_PROFILE_NONE = 0,   /* no profile: the owner's plain number applies */
    SIM_PROFILE_CONSTANT,   /* a_a at all times */
    SIM_PROFILE_RAMP,       /* from_a at t = 0, linearly to to_a at over_s, then to_a */
    SIM_PROFILE_DAY,        /* 0 at night; half a sine from sunrise to sunset, peak_a at noon */
} sim_profile_kind_t;

typedef struct sim_profile {
    sim_profile_kind_t kind;
    double a_a;             /* constant */
    double from_a, to_a;    /* ramp */
    double over_s;          /* ramp length; 0 = a step to to_a at t = 0 */
    double peak_a;          /* day: the value half-way between sunrise and sunset */
    double sunrise_s;       /* day: time of day, 0 <= sunrise_s < sunset_s <= 24 h */
    double sunset_s;
} sim_profile_t;

/* The profile's value at t_s (>= 0; negative counts as 0). NONE gives 0; a
 * malformed day (sunset not after sunrise) gives 0 rather than garbage. */
double sim_profile_at(const sim_profile_t *p, double t_s);

/* Whether the fields make sense for the kind (finite, currents >= 0, a day
 * with 0 <= sunrise < sunset <= 24 h, ramp length >= 0). */
bool sim_profile_valid(const sim_profile_t *p);

/* Name of a kind as written in scenario files ("constant", "ramp", "day"),
 * "none" for SIM_PROFILE_NONE, "?" for anything else. */
const char *sim_profile_kind_name(sim_profile_kind_t kind);

#endif
