/* SPDX-License-Identifier: MIT */
/* The gateway main loop: Topband bank in, Victron CAN-BMS out (see gateway.h). */
#include "gateway.h"

#include <string.h>

/* One RS485 request is ~20 characters; this leaves room for any command. */
#define TB_TX_CAP 128u
/* Bytes taken per uart_read call. */
#define UART_RX_CHUNK 256u
/* Bounds on draining loops, so a port that never says "empty" cannot hang
 * a run-to-completion step. 64 x 256 bytes is far more than 9600 baud
 * delivers between two steps. */
#define UART_MAX_READS 64u
#define CAN_MAX_RECV 64u
#define LOG_LINE_CAP 96u
#define DEFAULT_PERIOD_MS 1000u

void gateway_config_default(gw_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->family = GW_BMS_TOPBAND;
    cfg->bms_uart = 0;
    cfg->bms_can = 1;
    cfg->victron_can = 0;
    cfg->can_period_ms = DEFAULT_PERIOD_MS;
    gw_tb_cfg_default(&cfg->topband);
    gw_tiny_cfg_default(&cfg->tinybms);
    gw_sb_cfg_default(&cfg->superb);
    gw_bal_cfg_default(&cfg->balancer);
    gw_dvcc_cfg_default(&cfg->dvcc);
    cfg->dvcc_engine = true; /* the engine (issue 6); false selects the v1 baseline (seed model) */
    gw_profile_default(&cfg->profile);
    gw_cvl_cfg_default(&cfg->cvl);
    cfg->cvl_states = false;
    gw_victron_ident_default(&cfg->ident);
}

static void set_text(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; i + 1 < cap && src[i] != '\0'; i++) {
        dst[i] = src[i];
    }
    for (; i < cap; i++) {
        dst[i] = '\0';
    }
}

void gateway_config_family(gw_config_t *cfg, gw_bms_family_t family)
{
    static const char *const names[] = {"TOPBAND", "TINYBMS", "SUPERB", "BALANCER"};
    cfg->family = family;
    if ((unsigned)family < sizeof(names) / sizeof(names[0])) {
        set_text(cfg->ident.family, sizeof(cfg->ident.family), names[family]);
    }
    /* The TinyBMS family comes with its charge-voltage states (issue 3). */
    cfg->cvl_states = family == GW_BMS_TINYBMS;
}

const gw_pack_t *gateway_packs(const gateway_t *gw, size_t *n)
{
    switch (gw->cfg.family) {
    case GW_BMS_TINYBMS:
        *n = sizeof(gw->tiny.packs) / sizeof(gw->tiny.packs[0]);
        return gw->tiny.packs;
    case GW_BMS_SUPERB:
        *n = sizeof(gw->sb.packs) / sizeof(gw->sb.packs[0]);
        return gw->sb.packs;
    case GW_BMS_BALANCER:
        *n = sizeof(gw->bal.packs) / sizeof(gw->bal.packs[0]);
        return gw->bal.packs;
    default:
        *n = sizeof(gw->tb.packs) / sizeof(gw->tb.packs[0]);
        return gw->tb.packs;
    }
}

bool gateway_scan_done(const gateway_t *gw)
{
    switch (gw->cfg.family) {
    case GW_BMS_TINYBMS:
        return gw->tiny.scan_done;
    case GW_BMS_SUPERB:
        return gw->sb.scan_done;
    case GW_BMS_BALANCER:
        return gw->bal.scan_done;
    default:
        return gw->tb.scan_done;
    }
}

void gateway_bms_counters(const gateway_t *gw, gw_bms_counters_t *out)
{
    memset(out, 0, sizeof(*out));
    switch (gw->cfg.family) {
    case GW_BMS_TINYBMS: {
        const gw_tiny_stats_t *s = &gw->tiny.stats;
        out->requests = s->requests;
        out->replies_ok = s->replies_ok;
        out->timeouts = s->timeouts;
        out->bad_checksum = s->bad_crc;
        out->bad_frame = s->bad_frame;
        out->refusals = s->nacks;
        out->reboots = s->reboots_seen;
        break;
    }
    case GW_BMS_SUPERB: {
        const gw_sb_stats_t *s = &gw->sb.stats;
        out->requests = s->requests;
        out->replies_ok = s->replies_ok;
        out->timeouts = s->timeouts;
        out->bad_frame = s->mismatched + s->toggle_errors + s->bad_frame;
        out->refusals = s->aborts;
        out->reboots = s->reboots;
        break;
    }
    case GW_BMS_BALANCER: {
        const gw_bal_stats_t *s = &gw->bal.stats;
        out->requests = s->requests;
        out->replies_ok = s->replies_ok;
        out->timeouts = s->timeouts;
        out->bad_frame = s->bad_reply + s->implausible;
        out->reboots = s->reboots;
        break;
    }
    default: {
        const gw_tb_stats_t *s = &gw->tb.stats;
        out->requests = s->requests;
        out->replies_ok = s->replies_ok;
        out->timeouts = s->timeouts;
        out->bad_checksum = s->bad_checksum;
        out->bad_frame = s->bad_frame;
        out->wrong_address = s->wrong_address;
        out->refusals = s->error_rtn;
        break;
    }
    }
}

/* ---- log lines without stdio ---- */

typedef struct line {
    char buf[LOG_LINE_CAP];
    size_t len;
} line_t;

static void line_str(line_t *l, const char *s)
{
    while (*s != '\0' && l->len + 1 < sizeof(l->buf)) {
        l->buf[l->len++] = *s++;
    }
    l->buf[l->len] = '\0';
}

static void line_uint(line_t *l, uint32_t v)
{
    char tmp[10]; /* 4294967295 */
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v > 0);
    while (n > 0 && l->len + 1 < sizeof(l->buf)) {
        l->buf[l->len++] = tmp[--n];
    }
    l->buf[l->len] = '\0';
}

static void log_line(const gateway_t *gw, const line_t *l)
{
    if (gw->plat->log != NULL) {
        gw->plat->log(gw->plat->ctx, l->buf);
    }
}

/* "<a><n><b>", the shape of every message we emit. */
static void log_num(const gateway_t *gw, const char *a, uint32_t n, const char *b)
{
    line_t l = {.len = 0};
    l.buf[0] = '\0';
    line_str(&l, a);
    line_uint(&l, n);
    line_str(&l, b);
    log_line(gw, &l);
}

static void log_text(const gateway_t *gw, const char *a, const char *b)
{
    line_t l = {.len = 0};
    l.buf[0] = '\0';
    line_str(&l, a);
    line_str(&l, b);
    log_line(gw, &l);
}

/* "CCL 12.5 A: taper: near full" when the decision or its reason changes. */
static void log_limit(const gateway_t *gw, const char *name, uint16_t da, const char *reason,
                      const char *why)
{
    line_t l = {.len = 0};
    l.buf[0] = '\0';
    line_str(&l, name);
    line_uint(&l, da / 10u);
    line_str(&l, ".");
    line_uint(&l, da % 10u);
    line_str(&l, " A: ");
    /* The engine's explanation ("cell 7 at 3.48 V") when it gives one. */
    line_str(&l, why != NULL && why[0] != '\0' ? why : reason != NULL ? reason : "?");
    log_line(gw, &l);
}

/* ---- init ---- */

int gateway_init(gateway_t *gw, const gw_config_t *cfg, const plat_api_t *plat, uint64_t now_ms)
{
    memset(gw, 0, sizeof(*gw));
    if (plat == NULL || plat->uart_read == NULL || plat->uart_write == NULL ||
        plat->can_send == NULL) {
        return -1;
    }
    if (cfg != NULL) {
        gw->cfg = *cfg;
    } else {
        gateway_config_default(&gw->cfg);
    }
    if (gw->cfg.can_period_ms == 0) {
        gw->cfg.can_period_ms = DEFAULT_PERIOD_MS; /* 0 would flood the GX */
    }
    gw->plat = plat;
    /* Only the configured family's driver runs; the others stay zeroed. */
    switch (gw->cfg.family) {
    case GW_BMS_TINYBMS:
        gw_tiny_init(&gw->tiny, &gw->cfg.tinybms, now_ms);
        break;
    case GW_BMS_SUPERB:
        gw_sb_init(&gw->sb, &gw->cfg.superb, now_ms);
        break;
    case GW_BMS_BALANCER:
        gw_bal_init(&gw->bal, &gw->cfg.balancer, now_ms);
        break;
    default:
        gw->cfg.family = GW_BMS_TOPBAND;
        gw_tb_init(&gw->tb, &gw->cfg.topband, now_ms);
        break;
    }
    gw_cvl_states_init(&gw->cvl, &gw->cfg.cvl);
    gw_dvcc_init(&gw->dvcc, &gw->cfg.dvcc);
    gw_engine_init(&gw->engine, &gw->cfg.profile);
    if (gw->cfg.dvcc_engine && gw->engine.profile_rejected) {
        /* The engine runs on the LiFePO4 defaults rather than not at all. */
        const char *what = "";
        (void)gw_profile_validate(&gw->cfg.profile, &what);
        log_text(gw, "profile rejected, defaults used: ", what);
    }
    gw->boot_ms = now_ms;
    gw->next_can_ms = now_ms; /* the GX hears from us at boot */
    return 0;
}

/* ---- the RS485 side ---- */

static void poll_uart(gateway_t *gw, uint64_t now_ms)
{
    uint8_t buf[UART_RX_CHUNK];
    for (unsigned i = 0; i < UART_MAX_READS; i++) {
        size_t n = gw->plat->uart_read(gw->plat->ctx, gw->cfg.bms_uart, buf, sizeof(buf));
        if (n == 0) {
            break;
        }
        if (n > sizeof(buf)) {
            n = sizeof(buf); /* a port claiming more than it could write */
        }
        switch (gw->cfg.family) {
        case GW_BMS_TINYBMS:
            gw_tiny_rx(&gw->tiny, now_ms, buf, n);
            break;
        case GW_BMS_BALANCER:
            gw_bal_rx(&gw->bal, now_ms, buf, n);
            break;
        default:
            gw_tb_rx(&gw->tb, now_ms, buf, n);
            break;
        }
    }
}

/* CANopen families: every frame of the BMS bus goes to the driver, and the
 * driver's requests go out on it. A refused frame is counted; the driver's
 * SDO timeout and retry recover. */
static void run_can_driver(gateway_t *gw, uint64_t now_ms)
{
    if (gw->plat->can_recv != NULL) {
        plat_can_frame_t f;
        for (unsigned i = 0;
             i < CAN_MAX_RECV && gw->plat->can_recv(gw->plat->ctx, gw->cfg.bms_can, &f) == 1; i++) {
            gw_can_frame_t g;
            memset(&g, 0, sizeof(g));
            g.id = f.id;
            g.dlc = f.dlc > 8 ? 8 : f.dlc;
            memcpy(g.data, f.data, sizeof(g.data));
            gw_sb_rx(&gw->sb, now_ms, &g);
        }
    }
    gw_can_frame_t tx[8];
    size_t n = gw_sb_process(&gw->sb, now_ms, tx, sizeof(tx) / sizeof(tx[0]));
    for (size_t i = 0; i < n && i < sizeof(tx) / sizeof(tx[0]); i++) {
        plat_can_frame_t f;
        memset(&f, 0, sizeof(f));
        f.id = tx[i].id;
        f.dlc = tx[i].dlc > 8 ? 8 : tx[i].dlc;
        memcpy(f.data, tx[i].data, sizeof(f.data));
        if (gw->plat->can_send(gw->plat->ctx, gw->cfg.bms_can, &f) != PLAT_OK) {
            gw->status.bms_can_tx_errors++;
        }
    }
}

static void run_driver(gateway_t *gw, uint64_t now_ms)
{
    uint8_t tx[TB_TX_CAP];
    size_t n;
    switch (gw->cfg.family) {
    case GW_BMS_TINYBMS:
        n = gw_tiny_process(&gw->tiny, now_ms, tx, sizeof(tx));
        break;
    case GW_BMS_BALANCER:
        n = gw_bal_process(&gw->bal, now_ms, tx, sizeof(tx));
        break;
    default:
        n = gw_tb_process(&gw->tb, now_ms, tx, sizeof(tx));
        break;
    }
    if (n == 0) {
        return;
    }
    if (n > sizeof(tx)) {
        n = sizeof(tx);
    }
    /* A short write garbles the request; the driver's reply timeout and
     * retry recover, so we only count it. */
    size_t w = gw->plat->uart_write(gw->plat->ctx, gw->cfg.bms_uart, tx, n);
    if (w < n) {
        gw->status.uart_tx_short++;
    }
}

static void log_driver_changes(gateway_t *gw)
{
    size_t n;
    const gw_pack_t *packs = gateway_packs(gw, &n);
    uint16_t mask = 0;
    uint8_t online = 0;
    for (unsigned i = 0; i < n && i < GW_MAX_PACKS; i++) {
        if (packs[i].online) {
            mask |= (uint16_t)(1u << i);
            online++;
        }
    }
    /* Packs are named by their bus address (Topband ADR, CANopen node id). */
    uint16_t changed = mask ^ gw->last_online_mask;
    for (unsigned i = 0; i < n && i < GW_MAX_PACKS; i++) {
        if (changed & (1u << i)) {
            log_num(gw, "pack ", packs[i].address, (mask & (1u << i)) ? " online" : " offline");
        }
    }
    gw->last_online_mask = mask;
    gw->last_online = online;

    bool done = gateway_scan_done(gw);
    if (done && !gw->last_scan_done) {
        uint32_t found = 0;
        for (unsigned i = 0; i < n; i++) {
            found += packs[i].present ? 1u : 0u;
        }
        log_num(gw, "scan done: ", found, found == 1 ? " pack found" : " packs found");
    }
    gw->last_scan_done = done;
}

/* ---- the Victron side ---- */

static bool any_alarm(const gw_limits_t *lim)
{
    for (int i = 0; i < GW_AL_COUNT; i++) {
        if (lim->alarm[i] == GW_PAIR_ACTIVE) {
            return true;
        }
    }
    return false;
}

static void send_frames(gateway_t *gw)
{
    gw_can_frame_t frames[GW_VIC_FRAME_COUNT];
    size_t n =
        gw_victron_encode(&gw->bank, &gw->limits, &gw->cfg.ident, frames, GW_VIC_FRAME_COUNT);
    for (size_t i = 0; i < n; i++) {
        plat_can_frame_t f;
        memset(&f, 0, sizeof(f));
        f.id = frames[i].id;
        f.dlc = frames[i].dlc > 8 ? 8 : frames[i].dlc;
        memcpy(f.data, frames[i].data, sizeof(f.data));
        /* Never wait for the bus: a refused frame is counted and the next
         * cycle carries fresh values anyway. */
        if (gw->plat->can_send(gw->plat->ctx, gw->cfg.victron_can, &f) != PLAT_OK) {
            gw->status.can_tx_errors++;
        }
    }
    /* 0x359 (Pylontech protection flags) last, so the SMA/Victron set keeps its order;
     * it always agrees with CCL/DCL (engine rule). */
    gw_can_frame_t pf;
    gw_victron_encode_359(&gw->limits, gw->bank.packs_online, &pf);
    plat_can_frame_t f;
    memset(&f, 0, sizeof(f));
    f.id = pf.id;
    f.dlc = pf.dlc > 8 ? 8 : pf.dlc;
    memcpy(f.data, pf.data, sizeof(f.data));
    if (gw->plat->can_send(gw->plat->ctx, gw->cfg.victron_can, &f) != PLAT_OK) {
        gw->status.can_tx_errors++;
    }
    gw->status.can_cycles++;
}

static void set_outputs(gateway_t *gw, bool alarm)
{
    if (gw->plat->gpio_write == NULL) {
        return;
    }
    bool on[PLAT_GPIO_COUNT] = {false};
    on[PLAT_GPIO_LED_GREEN] = gw->bank.valid && !alarm;
    on[PLAT_GPIO_LED_RED] = !gw->bank.valid || alarm;
    on[PLAT_GPIO_RELAY_CHARGE] = gw->limits.ccl_da > 0;
    on[PLAT_GPIO_RELAY_DISCHARGE] = gw->limits.dcl_da > 0;
    on[PLAT_GPIO_RELAY_ALARM] = alarm;
    if (gw->cfg.family == GW_BMS_BALANCER) {
        /* The controller's own protection drives the relays (they switch the
         * loads and chargers directly); CCL/DCL only mirror them. */
        const gw_bal_outputs_t *r = &gw->bal.relays;
        on[PLAT_GPIO_RELAY_CHARGE] = r->charge;
        on[PLAT_GPIO_RELAY_DISCHARGE] = r->discharge;
        on[PLAT_GPIO_RELAY_ALARM] = r->alarm || alarm;
        on[PLAT_GPIO_BUZZER] = r->buzzer;
        on[PLAT_GPIO_LED_RED] = on[PLAT_GPIO_LED_RED] || r->led;
        on[PLAT_GPIO_LED_GREEN] = on[PLAT_GPIO_LED_GREEN] && !r->led;
    }
    for (unsigned i = 0; i < PLAT_GPIO_COUNT; i++) {
        if (i == PLAT_GPIO_BUTTON) {
            continue; /* an input */
        }
        uint8_t bit = (uint8_t)(1u << i);
        bool was = (gw->last_outputs & bit) != 0;
        if (gw->outputs_known && was == on[i]) {
            continue; /* write on change only */
        }
        gw->plat->gpio_write(gw->plat->ctx, (plat_gpio_t)i, on[i]);
        gw->last_outputs = (uint8_t)(on[i] ? (gw->last_outputs | bit) : (gw->last_outputs & ~bit));
    }
    gw->outputs_known = true;
}

static void can_cycle(gateway_t *gw, uint64_t now_ms)
{
    size_t n;
    const gw_pack_t *packs = gateway_packs(gw, &n);
    gw_bank_aggregate(packs, n, &gw->bank);
    if (gw->cfg.dvcc_engine) {
        gw_engine_compute(&gw->engine, &gw->bank, packs, n, gateway_scan_done(gw), now_ms,
                          &gw->limits);
    } else {
        gw_dvcc_compute(&gw->dvcc, &gw->bank, packs, n, gateway_scan_done(gw), &gw->limits);
    }
    if (gw->cfg.cvl_states && gw->bank.valid) {
        gw_cvl_state_t before = gw->cvl.state;
        uint16_t ccl_before = gw->limits.ccl_da;
        gw_cvl_states_update(&gw->cvl, &gw->bank, now_ms, &gw->limits.cvl_dv, &gw->limits.ccl_da);
        if (gw->limits.ccl_da < ccl_before) {
            gw->limits.ccl_reason = gw->cvl.reason;
        }
        if (gw->cvl.state != before) {
            log_text(gw, "charge state: ", gw_cvl_state_name(gw->cvl.state));
        }
    }
    send_frames(gw);

    bool alarm = any_alarm(&gw->limits);
    /* Fail-safe as the GX sees it: no data and the no-data alarm raised
     * (the quiet start-up phase is not a fault). */
    bool failsafe = !gw->bank.valid && alarm;
    if (failsafe && !gw->last_failsafe) {
        log_text(gw, "fail-safe entered: ", gw->limits.ccl_reason);
    } else if (!failsafe && gw->last_failsafe) {
        log_text(gw, "fail-safe left", "");
    }
    gw->last_failsafe = failsafe;
    /* Reasons are static strings, so a changed pointer is a changed reason. */
    if (gw->limits.ccl_reason != gw->last_ccl_reason ||
        (gw->limits.ccl_da == 0) != (gw->last_ccl_da == 0)) {
        log_limit(gw, "CCL ", gw->limits.ccl_da, gw->limits.ccl_reason, gw->limits.ccl_why);
    }
    if (gw->limits.dcl_reason != gw->last_dcl_reason ||
        (gw->limits.dcl_da == 0) != (gw->last_dcl_da == 0)) {
        log_limit(gw, "DCL ", gw->limits.dcl_da, gw->limits.dcl_reason, gw->limits.dcl_why);
    }
    gw->last_ccl_reason = gw->limits.ccl_reason;
    gw->last_dcl_reason = gw->limits.dcl_reason;
    gw->last_ccl_da = gw->limits.ccl_da;
    gw->last_dcl_da = gw->limits.dcl_da;
    set_outputs(gw, alarm);

    gw->next_can_ms += gw->cfg.can_period_ms;
    if (gw->next_can_ms <= now_ms) {
        /* More than a period behind (host stalled): restart the rhythm
         * instead of bursting the missed sets onto the bus. */
        gw->next_can_ms = now_ms + gw->cfg.can_period_ms;
    }
}

static void drain_can_rx(gateway_t *gw)
{
    if (gw->plat->can_recv == NULL) {
        return;
    }
    plat_can_frame_t f;
    /* GX frames (0x305/0x307) are not used yet; drain so queues stay short. */
    for (unsigned i = 0; i < CAN_MAX_RECV; i++) {
        if (gw->plat->can_recv(gw->plat->ctx, gw->cfg.victron_can, &f) != 1) {
            break;
        }
    }
}

void gateway_step(gateway_t *gw, uint64_t now_ms)
{
    if (gw->plat == NULL) {
        return; /* init failed */
    }
    if (gw->cfg.family == GW_BMS_SUPERB) {
        run_can_driver(gw, now_ms);
    } else {
        if (gw->cfg.family == GW_BMS_BALANCER && gw->plat->gpio_read != NULL) {
            gw_bal_button(&gw->bal, now_ms, gw->plat->gpio_read(gw->plat->ctx, PLAT_GPIO_BUTTON));
        }
        poll_uart(gw, now_ms);
        run_driver(gw, now_ms);
        if (gw->cfg.family == GW_BMS_BALANCER && gw->outputs_known) {
            /* Relays follow the protection at once, not at the next CAN cycle. */
            set_outputs(gw, any_alarm(&gw->limits));
        }
    }
    log_driver_changes(gw);
    if (now_ms >= gw->next_can_ms) {
        can_cycle(gw, now_ms);
    }
    drain_can_rx(gw);
}

uint64_t gateway_next_deadline(const gateway_t *gw)
{
    uint64_t drv;
    switch (gw->cfg.family) {
    case GW_BMS_TINYBMS:
        drv = gw_tiny_next_deadline(&gw->tiny);
        break;
    case GW_BMS_SUPERB:
        drv = gw_sb_next_deadline(&gw->sb);
        break;
    case GW_BMS_BALANCER:
        drv = gw_bal_next_deadline(&gw->bal);
        break;
    default:
        drv = gw_tb_next_deadline(&gw->tb);
        break;
    }
    return drv < gw->next_can_ms ? drv : gw->next_can_ms;
}
