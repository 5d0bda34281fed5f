/* SPDX-License-Identifier: MIT */
/* PV and load profiles evaluated at a time; see profile.h. */
#include "sim/profile.h"

#include <math.h>

#define PI 3.14159265358979323846

static double ramp_at(const sim_profile_t *p, double t_s)
{
    if (!(p->over_s > 0) || t_s >= p->over_s) {
        return p->to_a;
    }
    return p->from_a + (p->to_a - p->from_a) * (t_s / p->over_s);
}

static double day_at(const sim_profile_t *p, double t_s)
{
    double span_s = p->sunset_s - p->sunrise_s;
    if (!(span_s > 0)) {
        return 0.0;
    }
    double tod_s = fmod(t_s, SIM_PROFILE_DAY_S);
    if (tod_s <= p->sunrise_s || tod_s >= p->sunset_s) {
        return 0.0;
    }
    return p->peak_a * sin(PI * (tod_s - p->sunrise_s) / span_s);
}

double sim_profile_at(const sim_profile_t *p, double t_s)
{
    if (!(t_s > 0)) {
        t_s = 0; /* also catches NaN */
    }
    switch (p->kind) {
    case SIM_PROFILE_CONSTANT: return p->a_a;
    case SIM_PROFILE_RAMP: return ramp_at(p, t_s);
    case SIM_PROFILE_DAY: return day_at(p, t_s);
    case SIM_PROFILE_NONE: break;
    }
    return 0.0;
}

static bool current_ok(double a)
{
    return isfinite(a) && a >= 0;
}

bool sim_profile_valid(const sim_profile_t *p)
{
    switch (p->kind) {
    case SIM_PROFILE_NONE: return true;
    case SIM_PROFILE_CONSTANT: return current_ok(p->a_a);
    case SIM_PROFILE_RAMP:
        return current_ok(p->from_a) && current_ok(p->to_a) && isfinite(p->over_s) &&
               p->over_s >= 0;
    case SIM_PROFILE_DAY:
        return current_ok(p->peak_a) && isfinite(p->sunrise_s) && isfinite(p->sunset_s) &&
               p->sunrise_s >= 0 && p->sunset_s <= SIM_PROFILE_DAY_S &&
               p->sunrise_s < p->sunset_s;
    }
    return false;
}

const char *sim_profile_kind_name(sim_profile_kind_t kind)
{
    switch (kind) {
    case SIM_PROFILE_NONE: return "none";
    case SIM_PROFILE_CONSTANT: return "constant";
    case SIM_PROFILE_RAMP: return "ramp";
    case SIM_PROFILE_DAY: return "day";
    }
    return "?";
}
