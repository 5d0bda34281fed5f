/* SPDX-License-Identifier: MIT */
/* The scenario's system over time: PV and load profiles, or plain numbers; see scenario.h. */
#include "harness/scenario.h"

double bench_system_pv_a(const bench_system_cfg_t *s, double t_s)
{
    if (s->pv.kind == SIM_PROFILE_NONE) {
        return s->charger_a;
    }
    return sim_profile_at(&s->pv, t_s);
}

double bench_system_load_a(const bench_system_cfg_t *s, double t_s)
{
    if (s->load.kind == SIM_PROFILE_NONE) {
        return s->load_a;
    }
    return sim_profile_at(&s->load, t_s);
}

/* An event's constant wins over the profile from then on. */
void bench_system_set_pv_a(bench_system_cfg_t *s, double a)
{
    s->pv.kind = SIM_PROFILE_NONE;
    s->charger_a = a;
}

void bench_system_set_load_a(bench_system_cfg_t *s, double a)
{
    s->load.kind = SIM_PROFILE_NONE;
    s->load_a = a;
}
