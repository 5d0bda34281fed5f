/* SPDX-License-Identifier: MIT */
/* Chemistry profile: LiFePO4 defaults, validation and curve evaluation (see profile.h). */
#include "dvcc/profile.h"

#include <string.h>

static void set_curve(gw_curve_t *c, uint8_t n, const int16_t *x, const uint16_t *y)
{
    memset(c, 0, sizeof(*c));
    c->n = n;
    for (uint8_t i = 0; i < n; i++) {
        c->x[i] = x[i];
        c->y[i] = y[i];
    }
}

void gw_profile_default(gw_profile_t *p)
{
    static const int16_t chg_cell_x[] = {3300, 3450, 3500, 3550};
    static const uint16_t chg_cell_y[] = {1000, 500, 50, 0};
    static const int16_t dis_cell_x[] = {2700, 2800, 2900, 3100};
    static const uint16_t dis_cell_y[] = {0, 100, 500, 1000};
    static const int16_t chg_t_x[] = {0, 20, 50, 100, 400, 450, 500, 550};
    static const int16_t dis_t_x[] = {-200, -100, 0, 100, 450, 500, 550, 600};
    static const uint16_t t_y[] = {0, 250, 500, 1000, 1000, 500, 250, 0};
    static const int16_t chg_soc_x[] = {85, 90, 95, 98};
    static const uint16_t chg_soc_y[] = {1000, 500, 200, 100};
    static const int16_t dis_soc_x[] = {5, 10, 15, 20};
    static const uint16_t dis_soc_y[] = {100, 200, 500, 1000};

    memset(p, 0, sizeof(*p));
    p->cell_max_mv = 3650;
    p->cell_max_release_mv = 3550;
    p->cell_high_warn_mv = 3550;
    p->cell_min_mv = 2500;
    p->cell_min_release_mv = 2800;
    p->cell_low_warn_mv = 2800;
    p->warn_hysteresis_mv = 50;
    p->cvl_cell_mv = 3500;
    p->float_cell_mv = 3375;
    p->hold_cell_mv = 3400;
    p->cvl_floor_cell_mv = 3200;
    p->dvl_cell_mv = 2800;

    p->absorption_enter_mv = 10;
    p->absorption_exit_mv = 30;
    p->converged_mv = 10;
    p->float_after_converged_ms = 900000;
    p->absorption_max_ms = 7200000;
    p->rebulk_soc_pct = 80;
    p->rebulk_cell_mv = 3200;
    p->imbalance_hold_mv = 80;
    p->imbalance_release_mv = 30;
    p->imbalance_min_cell_mv = 3350;
    p->imbalance_hold_min_ms = 300000;
    p->imbalance_ccl_permille = 100;
    p->imbalance_warn_mv = 150;
    p->imbalance_alarm_mv = 300;

    p->charge_min_dc = 0;
    p->charge_max_dc = 500;
    p->discharge_min_dc = -200;
    p->discharge_max_dc = 600;
    p->temp_hysteresis_dc = 30;
    p->temp_warn_margin_dc = 50;

    p->charge_max_da_per_pack = 500;
    p->discharge_max_da_per_pack = 1000;
    p->overcurrent_alarm_pct = 25;
    p->overcurrent_delay_ms = 5000;

    p->curve_mode = GW_CURVE_LINEAR;
    set_curve(&p->charge_cell, 4, chg_cell_x, chg_cell_y);
    set_curve(&p->discharge_cell, 4, dis_cell_x, dis_cell_y);
    set_curve(&p->charge_temp, 8, chg_t_x, t_y);
    set_curve(&p->discharge_temp, 8, dis_t_x, t_y);
    set_curve(&p->charge_soc, 4, chg_soc_x, chg_soc_y);
    set_curve(&p->discharge_soc, 4, dis_soc_x, dis_soc_y);
    p->discharge_soc.n = 0; /* table kept so "discharge_soc_curve = on" has points */
    p->hyst_cell_mv = 10;
    p->hyst_temp_dc = 10;
    p->hyst_soc_pct = 1;

    p->recovery_threshold_permille = 15;
    p->recovery_hold_ms = 30000;
    p->ramp_da_per_s = 50;
    p->rise_interval_ms = 30000;
    p->cvl_rise_hold_ms = 60000;
    p->cvl_ramp_mv_per_s = 10;
    p->cvl_bank_tolerance_mv = 200;

    p->data_stale_ms = 20000;
    p->implausible_max_ms = 20000;
    p->cell_plausible_min_mv = 1000;
    p->cell_plausible_max_mv = 5000;
    p->cell_jump_mv = 250;
    p->temp_jump_dc = 150;
    p->pack_sum_tolerance_mv = 500;
    p->jump_hold_ms = 10000;
}

static bool curve_ok(const gw_curve_t *c)
{
    if (c->n > GW_CURVE_MAX) {
        return false;
    }
    for (uint8_t i = 0; i < c->n; i++) {
        if (c->y[i] > 1000u || (i > 0 && c->x[i] <= c->x[i - 1])) {
            return false;
        }
    }
    return true;
}

/* One rule per row so the message names exactly what is wrong. */
int gw_profile_validate(const gw_profile_t *p, const char **what)
{
    const char *w = NULL;
    if (p->cell_count > 32) {
        w = "cell_count must be 0..32";
    } else if (p->cell_max_mv > 5000 || p->cell_max_mv <= p->cell_min_mv) {
        w = "cell_max_mv must be above cell_min_mv and at most 5000";
    } else if (p->cell_max_release_mv >= p->cell_max_mv) {
        w = "cell_max_release_mv must be below cell_max_mv";
    } else if (p->cell_min_release_mv <= p->cell_min_mv) {
        w = "cell_min_release_mv must be above cell_min_mv";
    } else if (p->cell_min_release_mv >= p->cell_max_release_mv) {
        w = "cell_min_release_mv must be below cell_max_release_mv";
    } else if (p->cvl_cell_mv >= p->cell_max_mv || p->cvl_cell_mv <= p->cell_min_mv) {
        w = "cvl_cell_mv must lie between cell_min_mv and cell_max_mv";
    } else if (p->float_cell_mv > p->cvl_cell_mv || p->float_cell_mv <= p->cell_min_mv) {
        w = "float_cell_mv must lie between cell_min_mv and cvl_cell_mv";
    } else if (p->hold_cell_mv > p->cvl_cell_mv || p->hold_cell_mv <= p->cell_min_mv) {
        w = "hold_cell_mv must lie between cell_min_mv and cvl_cell_mv";
    } else if (p->cvl_floor_cell_mv > p->float_cell_mv || p->cvl_floor_cell_mv <= p->cell_min_mv) {
        w = "cvl_floor_cell_mv must lie between cell_min_mv and float_cell_mv";
    } else if (p->dvl_cell_mv < p->cell_min_mv || p->dvl_cell_mv >= p->cvl_floor_cell_mv) {
        w = "dvl_cell_mv must lie between cell_min_mv and cvl_floor_cell_mv";
    } else if (p->imbalance_release_mv >= p->imbalance_hold_mv) {
        w = "imbalance_release_mv must be below imbalance_hold_mv";
    } else if (p->imbalance_alarm_mv <= p->imbalance_warn_mv) {
        w = "imbalance_alarm_mv must be above imbalance_warn_mv";
    } else if (p->rebulk_soc_pct > 100) {
        w = "rebulk_soc_pct must be 0..100";
    } else if (p->charge_min_dc >= p->charge_max_dc ||
               p->discharge_min_dc >= p->discharge_max_dc) {
        w = "temperature windows need min below max";
    } else if (p->charge_min_dc < p->discharge_min_dc || p->charge_max_dc > p->discharge_max_dc) {
        /* Alarms of the discharge window then also stop charging (0x359 consistency). */
        w = "the charge temperature window must lie inside the discharge window";
    } else if (p->temp_hysteresis_dc < 0 || p->temp_warn_margin_dc < 0 || p->hyst_temp_dc < 0) {
        w = "temperature hysteresis must not be negative";
    } else if (p->charge_max_da_per_pack == 0 || p->discharge_max_da_per_pack == 0) {
        w = "current maxima must be above 0";
    } else if (p->imbalance_ccl_permille > 1000 || p->recovery_threshold_permille > 1000) {
        w = "permille values must be 0..1000";
    } else if (p->curve_mode != GW_CURVE_LINEAR && p->curve_mode != GW_CURVE_STEP) {
        w = "curve_mode must be linear or step";
    } else if (!curve_ok(&p->charge_cell) || !curve_ok(&p->discharge_cell) ||
               !curve_ok(&p->charge_temp) || !curve_ok(&p->discharge_temp) ||
               !curve_ok(&p->charge_soc) || !curve_ok(&p->discharge_soc)) {
        w = "curves need increasing x and y 0..1000";
    } else if (p->ramp_da_per_s == 0 || p->cvl_ramp_mv_per_s == 0) {
        w = "ramp rates must be above 0";
    } else if (p->data_stale_ms == 0 || p->implausible_max_ms == 0) {
        w = "data_stale_ms and implausible_max_ms must be above 0";
    } else if (p->cell_plausible_min_mv >= p->cell_min_mv ||
               p->cell_plausible_max_mv <= p->cell_max_mv) {
        w = "plausible cell range must enclose the cut-offs";
    }
    if (what != NULL) {
        *what = w;
    }
    return w == NULL ? 0 : -1;
}

uint16_t gw_curve_eval(const gw_curve_t *c, gw_curve_mode_t mode, int32_t x)
{
    uint8_t n = c->n > GW_CURVE_MAX ? GW_CURVE_MAX : c->n;
    if (n == 0) {
        return 1000;
    }
    if (x <= c->x[0]) {
        return c->y[0];
    }
    if (x >= c->x[n - 1]) {
        return c->y[n - 1];
    }
    uint8_t i = 0;
    while (i + 1 < n && x >= c->x[i + 1]) {
        i++;
    }
    /* Now x[i] <= x < x[i+1]. */
    if (mode == GW_CURVE_STEP) {
        return c->y[i];
    }
    int32_t x0 = c->x[i], x1 = c->x[i + 1];
    int32_t y0 = c->y[i], y1 = c->y[i + 1];
    if (x1 <= x0) {
        return (uint16_t)y0; /* unvalidated table: no division by zero */
    }
    /* Round toward the smaller value: a limit must not round up. */
    int32_t num = (y1 - y0) * (x - x0);
    int32_t dy = num / (x1 - x0);
    if (num < 0 && dy * (x1 - x0) != num) {
        dy -= 1;
    }
    int32_t y = y0 + dy;
    if (y < 0) {
        y = 0;
    }
    return (uint16_t)(y > 1000 ? 1000 : y);
}
