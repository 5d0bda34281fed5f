/* SPDX-License-Identifier: MIT */
/* Balancer-bus master; schedule, bounds and behaviour in balancer_driver.h. */
#include "balancer/balancer_driver.h"

#include <string.h>

#define NO_CELL 0xFFu

void gw_bal_cfg_default(gw_bal_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->modules = 16;
    cfg->reply_timeout_ms = 500;
    cfg->info_timeout_ms = 650;
    cfg->guard_ms = 35;
    cfg->info_every_rounds = 4;
    cfg->read_fault_after = 3;
    cfg->offline_after_failures = 6;
    gw_bal_prot_cfg_default(&cfg->prot);
}

static uint8_t ceil_div(uint8_t n, uint8_t k)
{
    return (uint8_t)((n + k - 1u) / k);
}

static uint8_t resolve_k(uint8_t want, uint8_t n, uint8_t divisor)
{
    uint8_t k = want != 0 ? want : ceil_div(n, divisor);
    if (k < 1) {
        k = 1;
    }
    return k > n ? n : k;
}

static void sanitise(gw_bal_cfg_t *c)
{
    if (c->modules < 1) {
        c->modules = 1;
    }
    if (c->modules > GW_BAL_MAX_MODULES) {
        c->modules = GW_BAL_MAX_MODULES;
    }
    if (c->reply_timeout_ms < 1) {
        c->reply_timeout_ms = 1;
    }
    if (c->info_timeout_ms < 1) {
        c->info_timeout_ms = 1;
    }
    c->volt_per_round = resolve_k(c->volt_per_round, c->modules, 2);
    c->temp_per_round = resolve_k(c->temp_per_round, c->modules, 16);
    c->res_per_round = resolve_k(c->res_per_round, c->modules, 16);
    if (c->read_fault_after < 1) {
        c->read_fault_after = 1;
    }
    if (c->offline_after_failures < 1) {
        c->offline_after_failures = 1;
    }
}

/* B(K) of the header, saturated to 32 bits. */
static uint32_t sweep_bound(uint32_t n, uint32_t k, uint64_t slot, uint64_t round)
{
    uint64_t rounds = (n + k - 1u) / k;
    uint64_t b = (n + 1u) * slot + rounds * (round - k * slot);
    return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static uint32_t sat32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void gw_bal_bounds(const gw_bal_cfg_t *cfg, gw_bal_bounds_t *out)
{
    gw_bal_cfg_t c;
    if (cfg != NULL) {
        c = *cfg;
    } else {
        gw_bal_cfg_default(&c);
    }
    sanitise(&c);
    uint64_t slot = (uint64_t)c.reply_timeout_ms + c.guard_ms;
    uint64_t info = c.info_every_rounds != 0 ? (uint64_t)c.info_timeout_ms + c.guard_ms : 0;
    uint64_t round =
        (3u + (uint64_t)c.volt_per_round + c.temp_per_round + c.res_per_round) * slot + info;
    memset(out, 0, sizeof *out);
    out->slot_ms = sat32(slot);
    out->info_slot_ms = sat32(info);
    out->round_max_ms = sat32(round);
    out->volt_any_ms = sweep_bound(c.modules, c.volt_per_round, slot, round);
    out->temp_any_ms = sweep_bound(c.modules, c.temp_per_round, slot, round);
    out->res_any_ms = sweep_bound(c.modules, c.res_per_round, slot, round);
    out->volt_extreme_ms = sat32(round + slot);
    out->temp_hottest_ms = out->volt_extreme_ms;
    out->scan_max_ms = sat32(3u * c.modules * slot);
}

uint32_t gw_bal_reaction_bound_ms(const gw_bal_cfg_t *cfg)
{
    gw_bal_bounds_t b;
    gw_bal_bounds(cfg, &b);
    return b.volt_any_ms;
}

/* ------------------------------------------------------------ readings */

static int qty_of(uint8_t cmd)
{
    switch (cmd) {
    case GW_BAL_CMD_VOLTAGE:
        return GW_BAL_Q_VOLT;
    case GW_BAL_CMD_CELL_TEMP:
        return GW_BAL_Q_TEMP;
    case GW_BAL_CMD_RES_TEMP:
        return GW_BAL_Q_RES;
    default:
        return -1;
    }
}

static void find_extremes(gw_bal_driver_t *d, gw_bal_prot_input_t *in)
{
    memset(in, 0, sizeof *in);
    d->lowest = d->highest = d->hottest = NO_CELL;
    uint8_t coldest = NO_CELL;
    uint8_t hot_res = NO_CELL;
    for (uint8_t i = 0; i < d->cfg.modules; i++) {
        const gw_bal_module_t *m = &d->mod[i];
        if (m->valid[GW_BAL_Q_VOLT]) {
            if (d->lowest == NO_CELL || m->mv < d->mod[d->lowest].mv) {
                d->lowest = i;
            }
            if (d->highest == NO_CELL || m->mv > d->mod[d->highest].mv) {
                d->highest = i;
            }
        }
        if (m->valid[GW_BAL_Q_TEMP]) {
            if (d->hottest == NO_CELL || m->temp_dc > d->mod[d->hottest].temp_dc) {
                d->hottest = i;
            }
            if (coldest == NO_CELL || m->temp_dc < d->mod[coldest].temp_dc) {
                coldest = i;
            }
        }
        if (m->valid[GW_BAL_Q_RES] && (hot_res == NO_CELL || m->res_dc > d->mod[hot_res].res_dc)) {
            hot_res = i;
        }
        for (int q = 0; q < GW_BAL_Q_COUNT; q++) {
            if (m->errors[q] >= d->cfg.read_fault_after) {
                in->read_fault_now |= (uint8_t)(1u << q);
            }
        }
    }
    in->complete = d->scan_done;
    in->have_v = d->lowest != NO_CELL;
    if (in->have_v) {
        in->min_mv = d->mod[d->lowest].mv;
        in->max_mv = d->mod[d->highest].mv;
    }
    in->have_t = d->hottest != NO_CELL;
    if (in->have_t) {
        in->max_t_dc = d->mod[d->hottest].temp_dc;
        in->min_t_dc = d->mod[coldest].temp_dc;
    }
    in->have_r = hot_res != NO_CELL;
    if (in->have_r) {
        in->max_r_dc = d->mod[hot_res].res_dc;
    }
}

static bool all_seen(const gw_bal_driver_t *d)
{
    for (uint8_t i = 0; i < d->cfg.modules; i++) {
        for (int q = 0; q < GW_BAL_Q_COUNT; q++) {
            if (!d->mod[i].seen[q]) {
                return false;
            }
        }
    }
    return true;
}

/* Temperatures into the pack's 16 slots (see gw_bal_init). */
static void fill_temps(const gw_bal_driver_t *d, gw_pack_t *p)
{
    uint8_t n = d->cfg.modules;
    if (n <= GW_MAX_TEMPS) {
        for (uint8_t i = 0; i < n; i++) {
            p->temp_dc[i] = d->mod[i].valid[GW_BAL_Q_TEMP] ? d->mod[i].temp_dc : 0;
        }
        p->temp_count = n;
        p->cell_temp_count = n;
        return;
    }
    const unsigned groups = GW_MAX_TEMPS / 2u;
    for (unsigned g = 0; g < groups; g++) {
        unsigned from = g * n / groups;
        unsigned to = (g + 1u) * n / groups;
        bool any = false;
        int16_t hot = 0;
        int16_t cold = 0;
        for (unsigned i = from; i < to; i++) {
            if (!d->mod[i].valid[GW_BAL_Q_TEMP]) {
                continue;
            }
            int16_t t = d->mod[i].temp_dc;
            if (!any || t > hot) {
                hot = t;
            }
            if (!any || t < cold) {
                cold = t;
            }
            any = true;
        }
        p->temp_dc[2u * g] = hot;
        p->temp_dc[2u * g + 1u] = cold;
    }
    p->temp_count = GW_MAX_TEMPS;
    p->cell_temp_count = GW_MAX_TEMPS;
}

static void sync_pack_outputs(gw_bal_driver_t *d)
{
    d->relays = d->prot.out;
    d->packs[0].bms_charge_off = !d->relays.charge;
    d->packs[0].bms_discharge_off = !d->relays.discharge;
}

/* Re-derive everything that depends on the readings: pack, extremes, protection. */
static void refresh(gw_bal_driver_t *d, uint64_t now_ms)
{
    gw_pack_t *p = &d->packs[0];
    uint32_t sum_mv = 0;
    for (uint8_t i = 0; i < d->cfg.modules && i < GW_MAX_CELLS; i++) {
        p->cell_mv[i] = d->mod[i].valid[GW_BAL_Q_VOLT] ? d->mod[i].mv : 0;
        sum_mv += p->cell_mv[i];
    }
    p->voltage_mv = sum_mv;
    fill_temps(d, p);
    if (!d->scan_done && all_seen(d)) {
        d->scan_done = true;
    }
    p->online = d->scan_done && d->fail_streak < d->cfg.offline_after_failures;

    gw_bal_prot_input_t in;
    find_extremes(d, &in);
    gw_bal_prot_eval(&d->prot, &in, now_ms);
    sync_pack_outputs(d);
}

void gw_bal_init(gw_bal_driver_t *d, const gw_bal_cfg_t *cfg, uint64_t now_ms)
{
    memset(d, 0, sizeof *d);
    if (cfg != NULL) {
        d->cfg = *cfg;
    } else {
        gw_bal_cfg_default(&d->cfg);
    }
    sanitise(&d->cfg);
    d->kv = d->cfg.volt_per_round;
    d->kt = d->cfg.temp_per_round;
    d->kr = d->cfg.res_per_round;
    d->lowest = d->highest = d->hottest = NO_CELL;
    d->bus_free_ms = now_ms;
    d->last_now_ms = now_ms;

    gw_pack_t *p = &d->packs[0];
    p->address = 1;
    p->cell_count = d->cfg.modules > GW_MAX_CELLS ? GW_MAX_CELLS : d->cfg.modules;
    p->bms_limits_valid = true;
    p->bms_max_charge_mv = (uint32_t)d->cfg.modules * d->cfg.prot.chg_on_mv;

    gw_bal_prot_init(&d->prot, &d->cfg.prot, now_ms);
    refresh(d, now_ms);
}

/* ------------------------------------------------------------ schedule */

static void plan_add(gw_bal_driver_t *d, uint8_t cmd, uint8_t cell)
{
    if (d->plan_len < GW_BAL_PLAN_MAX && cell < d->cfg.modules) {
        d->plan[d->plan_len].cmd = cmd;
        d->plan[d->plan_len].cell = cell;
        d->plan_len++;
    }
}

static void plan_sweep(gw_bal_driver_t *d, uint8_t cmd, uint8_t count, uint8_t *next)
{
    for (uint8_t i = 0; i < count; i++) {
        plan_add(d, cmd, *next);
        *next = (uint8_t)((*next + 1u) % d->cfg.modules);
    }
}

static void plan_scan(gw_bal_driver_t *d)
{
    d->plan_len = 0;
    d->plan_pos = 0;
    d->in_scan = true;
    static const uint8_t order[] = { GW_BAL_CMD_VOLTAGE, GW_BAL_CMD_CELL_TEMP, GW_BAL_CMD_RES_TEMP };
    for (size_t q = 0; q < sizeof order; q++) {
        for (uint8_t i = 0; i < d->cfg.modules; i++) {
            plan_add(d, order[q], i);
        }
    }
}

static void plan_round(gw_bal_driver_t *d)
{
    d->plan_len = 0;
    d->plan_pos = 0;
    d->in_scan = false;
    if (d->lowest != NO_CELL) {
        plan_add(d, GW_BAL_CMD_VOLTAGE, d->lowest);
        if (d->highest != d->lowest) {
            plan_add(d, GW_BAL_CMD_VOLTAGE, d->highest);
        }
    }
    if (d->hottest != NO_CELL) {
        plan_add(d, GW_BAL_CMD_CELL_TEMP, d->hottest);
    }
    plan_sweep(d, GW_BAL_CMD_VOLTAGE, d->kv, &d->v_next);
    plan_sweep(d, GW_BAL_CMD_CELL_TEMP, d->kt, &d->t_next);
    plan_sweep(d, GW_BAL_CMD_RES_TEMP, d->kr, &d->r_next);
    if (d->cfg.info_every_rounds != 0 && d->stats.rounds % d->cfg.info_every_rounds == 0) {
        uint8_t c = d->info_next;
        plan_add(d, d->mod[c].version_valid ? GW_BAL_CMD_UPTIME : GW_BAL_CMD_VERSION, c);
        d->info_next = (uint8_t)((c + 1u) % d->cfg.modules);
    }
    d->stats.rounds++;
}

static gw_bal_slot_t next_slot(gw_bal_driver_t *d)
{
    if (d->plan_pos >= d->plan_len) {
        /* The power-up scan runs once; then rounds, whatever the scan achieved:
         * cells it missed are read by the sweeps and scan_done waits for them. */
        if (d->plan_len == 0 && d->stats.requests == 0) {
            plan_scan(d);
        } else {
            plan_round(d);
        }
    }
    return d->plan[d->plan_pos++];
}

/* ------------------------------------------------------------ exchanges */

static void read_failed(gw_bal_driver_t *d, int q)
{
    if (q < 0) {
        d->stats.info_errors++;
        return;
    }
    gw_bal_module_t *m = &d->mod[d->cur.cell];
    d->stats.read_errors++;
    if (m->errors[q] < UINT8_MAX) {
        m->errors[q]++;
    }
    if (m->errors[q] == d->cfg.read_fault_after) {
        /* A value we could not confirm three times is not a reading any more. */
        d->stats.read_faults++;
        m->valid[q] = false;
        if (q == GW_BAL_Q_VOLT) {
            m->mv = 0;
        } else if (q == GW_BAL_Q_TEMP) {
            m->temp_dc = 0;
        } else {
            m->res_dc = 0;
        }
    }
}

static void store_value(gw_bal_driver_t *d, uint64_t now_ms, int32_t value)
{
    gw_bal_module_t *m = &d->mod[d->cur.cell];
    int q = qty_of(d->cur.cmd);
    switch (d->cur.cmd) {
    case GW_BAL_CMD_VOLTAGE:
        m->mv = (uint16_t)value;
        d->packs[0].updated_ms = now_ms;
        break;
    case GW_BAL_CMD_CELL_TEMP:
        m->temp_dc = (int16_t)(value * 10);
        break;
    case GW_BAL_CMD_RES_TEMP:
        m->res_dc = (int16_t)(value * 10);
        break;
    case GW_BAL_CMD_UPTIME:
        if (m->uptime_valid && (uint32_t)value < m->uptime_s) {
            d->stats.reboots++;
            m->version_valid = false; /* it may have been updated: read it again */
        }
        m->uptime_s = (uint32_t)value;
        m->uptime_valid = true;
        break;
    case GW_BAL_CMD_VERSION:
        m->version = value;
        m->version_valid = true;
        break;
    default:
        break;
    }
    if (q >= 0) {
        m->valid[q] = true;
        m->seen[q] = true;
        m->errors[q] = 0;
        m->read_ms[q] = now_ms;
    }
}

/* End the outstanding exchange. line == NULL: the timeout passed with nothing
 * received; unusable: overlong, or unterminated at the timeout. */
static void finish(gw_bal_driver_t *d, uint64_t now_ms, const uint8_t *line, size_t len,
                   bool unusable)
{
    int q = qty_of(d->cur.cmd);
    int32_t value = 0;
    bool ok = false;
    if (line == NULL && len == 0) {
        d->stats.timeouts++;
    } else if (unusable) {
        d->stats.bad_reply++;
    } else if (gw_bal_parse_reply(line, len, &value) != GW_BAL_OK) {
        d->stats.bad_reply++;
    } else if (!gw_bal_value_plausible((gw_bal_cmd_t)d->cur.cmd, value)) {
        d->stats.implausible++;
    } else {
        ok = true;
    }

    if (ok) {
        d->stats.replies_ok++;
        d->fail_streak = 0;
        d->packs[0].present = true;
        store_value(d, now_ms, value);
    } else {
        if (d->fail_streak < UINT8_MAX) {
            d->fail_streak++;
        }
        read_failed(d, q);
    }
    d->waiting = false;
    d->line_len = 0;
    d->line_overflow = false;
    d->bus_free_ms = now_ms + d->cfg.guard_ms;
    refresh(d, now_ms);
}

static void check_timeout(gw_bal_driver_t *d, uint64_t now_ms)
{
    if (!d->waiting || now_ms < d->deadline_ms) {
        return;
    }
    /* An unterminated line at the timeout may be cut short ("32" of "3291"):
     * it is a bad reply, never a value. */
    if (d->line_len > 0 || d->line_overflow) {
        finish(d, now_ms, d->line, d->line_len, true);
        return;
    }
    finish(d, now_ms, NULL, 0, false);
}

size_t gw_bal_process(gw_bal_driver_t *d, uint64_t now_ms, uint8_t *tx, size_t cap)
{
    d->last_now_ms = now_ms;
    check_timeout(d, now_ms);
    gw_bal_prot_tick(&d->prot, now_ms);
    sync_pack_outputs(d);
    if (d->waiting || now_ms < d->bus_free_ms || tx == NULL || cap < GW_BAL_REQ_LEN) {
        return 0;
    }
    gw_bal_slot_t s = next_slot(d);
    size_t n = gw_bal_build_request((uint8_t)(s.cell + 1u), (gw_bal_cmd_t)s.cmd, tx, cap);
    if (n == 0) {
        return 0; /* cannot happen: plan entries are checked when added */
    }
    /* "leerlesen": whatever was half-received belongs to nobody. */
    d->cur = s;
    d->waiting = true;
    d->line_len = 0;
    d->line_overflow = false;
    bool info = s.cmd == GW_BAL_CMD_UPTIME || s.cmd == GW_BAL_CMD_VERSION;
    d->deadline_ms = now_ms + (info ? d->cfg.info_timeout_ms : d->cfg.reply_timeout_ms);
    d->stats.requests++;
    return n;
}

void gw_bal_rx(gw_bal_driver_t *d, uint64_t now_ms, const uint8_t *data, size_t len)
{
    if (data == NULL) {
        return;
    }
    d->last_now_ms = now_ms;
    /* Bytes at or after the deadline are too late for this request. */
    check_timeout(d, now_ms);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        bool eol = b == '\r' || b == '\n';
        if (!d->waiting) {
            if (!eol) {
                d->stats.stray_bytes++;
            }
            continue;
        }
        if (eol) {
            if (d->line_len == 0 && !d->line_overflow) {
                continue; /* the LF of a CR LF, or a blank line */
            }
            finish(d, now_ms, d->line, d->line_len, d->line_overflow);
            continue;
        }
        if (d->line_len < sizeof d->line) {
            d->line[d->line_len++] = b;
        } else {
            d->line_overflow = true;
        }
    }
}

uint64_t gw_bal_next_deadline(const gw_bal_driver_t *d)
{
    uint64_t t = d->waiting ? d->deadline_ms : d->bus_free_ms;
    uint64_t buzz = gw_bal_prot_next_deadline(&d->prot, d->last_now_ms);
    return buzz < t ? buzz : t;
}

void gw_bal_acknowledge(gw_bal_driver_t *d, uint64_t now_ms)
{
    d->last_now_ms = now_ms;
    bool cleared = gw_bal_prot_ack(&d->prot, now_ms);
    d->stats.acks++;
    if (!cleared) {
        d->stats.acks_refused++;
    }
    sync_pack_outputs(d);
}

void gw_bal_button(gw_bal_driver_t *d, uint64_t now_ms, bool pressed)
{
    if (pressed && !d->button_was_pressed) {
        gw_bal_acknowledge(d, now_ms);
    }
    d->button_was_pressed = pressed;
}
