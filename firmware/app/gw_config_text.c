/* SPDX-License-Identifier: MIT */
/* Gateway config text parser (see gw_config_text.h). */
#include "gw_config_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef enum { T_U8, T_U16, T_U32, T_S16, T_UNS } ftype_t;

/* One numeric key: where it lives and what range it accepts. */
typedef struct key {
    const char *name;
    bool profile;          /* offset into gw_profile_t, else into gw_config_t */
    size_t off;
    ftype_t type;
    int64_t min, max;
} key_t_;

#define P(field, t, lo, hi) {#field, true, offsetof(gw_profile_t, field), t, lo, hi}
#define C(field, t, lo, hi) {#field, false, offsetof(gw_config_t, field), t, lo, hi}

static const key_t_ keys[] = {
    C(bms_uart, T_UNS, 0, 15), C(bms_can, T_UNS, 0, 15), C(victron_can, T_UNS, 0, 15),
    C(can_period_ms, T_U32, 100, 3000),
    P(cell_count, T_U8, 0, 32), P(capacity_mah, T_U32, 0, 10000000),
    P(cell_max_mv, T_U16, 2000, 5000), P(cell_max_release_mv, T_U16, 2000, 5000),
    P(cell_high_warn_mv, T_U16, 2000, 5000), P(cell_min_mv, T_U16, 1000, 4000),
    P(cell_min_release_mv, T_U16, 1000, 4000), P(cell_low_warn_mv, T_U16, 1000, 4000),
    P(warn_hysteresis_mv, T_U16, 0, 500), P(cvl_cell_mv, T_U16, 2000, 5000),
    P(float_cell_mv, T_U16, 2000, 5000), P(hold_cell_mv, T_U16, 2000, 5000),
    P(cvl_floor_cell_mv, T_U16, 1000, 5000), P(dvl_cell_mv, T_U16, 1000, 5000),
    P(absorption_enter_mv, T_U16, 0, 500), P(absorption_exit_mv, T_U16, 0, 1000),
    P(converged_mv, T_U16, 0, 500), P(float_after_converged_ms, T_U32, 0, 86400000),
    P(absorption_max_ms, T_U32, 0, 86400000), P(rebulk_soc_pct, T_U8, 0, 100),
    P(rebulk_cell_mv, T_U16, 1000, 5000), P(imbalance_hold_mv, T_U16, 1, 2000),
    P(imbalance_release_mv, T_U16, 0, 2000), P(imbalance_min_cell_mv, T_U16, 0, 5000),
    P(imbalance_hold_min_ms, T_U32, 0, 86400000), P(imbalance_ccl_permille, T_U16, 0, 1000),
    P(imbalance_warn_mv, T_U16, 1, 2000), P(imbalance_alarm_mv, T_U16, 1, 2000),
    P(charge_min_dc, T_S16, -400, 800), P(charge_max_dc, T_S16, -400, 800),
    P(discharge_min_dc, T_S16, -400, 800), P(discharge_max_dc, T_S16, -400, 800),
    P(temp_hysteresis_dc, T_S16, 0, 200), P(temp_warn_margin_dc, T_S16, 0, 200),
    P(charge_max_da_per_pack, T_U16, 1, 30000), P(discharge_max_da_per_pack, T_U16, 1, 30000),
    P(overcurrent_alarm_pct, T_U8, 0, 200), P(overcurrent_delay_ms, T_U32, 0, 600000),
    P(hyst_cell_mv, T_U16, 0, 200), P(hyst_temp_dc, T_S16, 0, 100), P(hyst_soc_pct, T_U8, 0, 20),
    P(recovery_threshold_permille, T_U16, 0, 1000), P(recovery_hold_ms, T_U32, 0, 3600000),
    P(ramp_da_per_s, T_U16, 1, 10000), P(rise_interval_ms, T_U32, 0, 3600000),
    P(cvl_rise_hold_ms, T_U32, 0, 3600000), P(cvl_ramp_mv_per_s, T_U16, 1, 10000),
    P(cvl_bank_tolerance_mv, T_U16, 0, 5000), P(data_stale_ms, T_U32, 1000, 600000),
    P(implausible_max_ms, T_U32, 1000, 600000), P(cell_plausible_min_mv, T_U16, 0, 5000),
    P(cell_plausible_max_mv, T_U16, 0, 6000), P(cell_jump_mv, T_U16, 1, 5000),
    P(temp_jump_dc, T_S16, 1, 1000), P(pack_sum_tolerance_mv, T_U16, 1, 65000),
    P(jump_hold_ms, T_U32, 0, 600000),
};

/* ---- error text without snprintf ---- */

typedef struct out {
    char *s;
    size_t cap, n;
} out_t;

static void put(out_t *o, const char *t, size_t len)
{
    for (size_t i = 0; i < len && t[i] != '\0' && o->n + 1 < o->cap; i++) {
        o->s[o->n++] = t[i];
    }
    o->s[o->n] = '\0';
}

static void put_s(out_t *o, const char *t)
{
    put(o, t, SIZE_MAX);
}

static void put_i(out_t *o, int64_t v)
{
    char tmp[24];
    size_t k = sizeof(tmp);
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--k] = (char)('0' + a % 10u);
        a /= 10u;
    } while (a > 0 && k > 1);
    if (v < 0) {
        tmp[--k] = '-';
    }
    put(o, &tmp[k], sizeof(tmp) - k);
}

/* Starts "line:col: " in err and returns the writer for the rest. */
static out_t begin(gw_config_text_err_t *err, gw_config_text_err_t *scratch, unsigned line,
                   unsigned col)
{
    gw_config_text_err_t *e = err != NULL ? err : scratch;
    out_t o = {e->msg, sizeof(e->msg), 0};
    e->line = line;
    e->col = col;
    e->msg[0] = '\0';
    put_i(&o, line);
    put_s(&o, ":");
    put_i(&o, col);
    put_s(&o, ": ");
    return o;
}

static bool word_is(const char *v, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(v, w, n) == 0;
}

/* Decimal integer of exactly n characters; false on anything else or overflow. */
static bool parse_int(const char *v, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (v[0] == '-' || v[0] == '+')) {
        neg = v[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 12) {
        return false;
    }
    int64_t x = 0;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return false;
        }
        x = x * 10 + (v[i] - '0');
    }
    *out = neg ? -x : x;
    return true;
}

static void store(void *base, const key_t_ *k, int64_t v)
{
    uint8_t *p = (uint8_t *)base + k->off;
    switch (k->type) {
    case T_U8: { uint8_t x = (uint8_t)v; memcpy(p, &x, sizeof(x)); break; }
    case T_U16: { uint16_t x = (uint16_t)v; memcpy(p, &x, sizeof(x)); break; }
    case T_U32: { uint32_t x = (uint32_t)v; memcpy(p, &x, sizeof(x)); break; }
    case T_S16: { int16_t x = (int16_t)v; memcpy(p, &x, sizeof(x)); break; }
    case T_UNS: { unsigned x = (unsigned)v; memcpy(p, &x, sizeof(x)); break; }
    }
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One line [s, s+n): returns 0 or -1 with the error written. */
static int parse_line(const char *s, size_t n, unsigned line, gw_config_t *cfg, gw_profile_t *prof,
                      gw_config_text_err_t *err, gw_config_text_err_t *scratch)
{
    size_t end = n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '#') {
            end = i;
            break;
        }
    }
    size_t i = 0;
    while (i < end && is_space(s[i])) {
        i++;
    }
    if (i == end) {
        return 0;
    }
    size_t k0 = i;
    while (i < end && !is_space(s[i]) && s[i] != '=') {
        i++;
    }
    size_t k1 = i;
    while (i < end && is_space(s[i])) {
        i++;
    }
    if (i == end || s[i] != '=') {
        out_t o = begin(err, scratch, line, (unsigned)i + 1u);
        put_s(&o, "expected '=' after key '");
        put(&o, &s[k0], k1 - k0);
        put_s(&o, "'");
        return -1;
    }
    i++;
    while (i < end && is_space(s[i])) {
        i++;
    }
    size_t v0 = i, v1 = end;
    while (v1 > v0 && is_space(s[v1 - 1])) {
        v1--;
    }
    const char *key = &s[k0], *val = &s[v0];
    size_t kn = k1 - k0, vn = v1 - v0;
    unsigned vcol = (unsigned)v0 + 1u;
    if (vn == 0) {
        out_t o = begin(err, scratch, line, vcol);
        put(&o, key, kn);
        put_s(&o, ": missing value");
        return -1;
    }
    if (word_is(key, kn, "family")) {
        static const char *const names[] = {"topband", "tinybms", "superb"};
        for (int f = 0; f < 3; f++) {
            if (word_is(val, vn, names[f])) {
                gateway_config_family(cfg, (gw_bms_family_t)f);
                return 0;
            }
        }
        out_t o = begin(err, scratch, line, vcol);
        put_s(&o, "family: expected topband, tinybms or superb");
        return -1;
    }
    if (word_is(key, kn, "curve_mode")) {
        if (word_is(val, vn, "linear") || word_is(val, vn, "step")) {
            prof->curve_mode = word_is(val, vn, "step") ? GW_CURVE_STEP : GW_CURVE_LINEAR;
            return 0;
        }
        out_t o = begin(err, scratch, line, vcol);
        put_s(&o, "curve_mode: expected linear or step");
        return -1;
    }
    if (word_is(key, kn, "charge_soc_curve") || word_is(key, kn, "discharge_soc_curve")) {
        gw_curve_t *c = key[0] == 'c' ? &prof->charge_soc : &prof->discharge_soc;
        if (word_is(val, vn, "on") || word_is(val, vn, "off")) {
            /* The default table keeps its points; off only hides them. */
            c->n = word_is(val, vn, "on") ? 4 : 0;
            return 0;
        }
        out_t o = begin(err, scratch, line, vcol);
        put(&o, key, kn);
        put_s(&o, ": expected on or off");
        return -1;
    }
    for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
        const key_t_ *k = &keys[j];
        if (!word_is(key, kn, k->name)) {
            continue;
        }
        int64_t v;
        if (!parse_int(val, vn, &v) || v < k->min || v > k->max) {
            out_t o = begin(err, scratch, line, vcol);
            put_s(&o, k->name);
            put_s(&o, ": expected ");
            put_i(&o, k->min);
            put_s(&o, "..");
            put_i(&o, k->max);
            put_s(&o, ", got ");
            put(&o, val, vn > 16 ? 16 : vn);
            return -1;
        }
        store(k->profile ? (void *)prof : (void *)cfg, k, v);
        return 0;
    }
    out_t o = begin(err, scratch, line, (unsigned)k0 + 1u);
    put_s(&o, "unknown key '");
    put(&o, key, kn > 32 ? 32 : kn);
    put_s(&o, "'");
    return -1;
}

int gw_config_text_parse(const char *text, size_t len, gw_config_t *cfg, gw_profile_t *prof,
                         gw_config_text_err_t *err)
{
    gw_config_text_err_t scratch;
    if (text == NULL && len > 0) {
        return -1;
    }
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (parse_line(&text[start], i - start, line, cfg, prof, err, &scratch) != 0) {
                return -1;
            }
            line++;
            start = i + 1;
        }
    }
    const char *what = NULL;
    if (gw_profile_validate(prof, &what) != 0) {
        out_t o = begin(err, &scratch, 0, 0);
        put_s(&o, what);
        return -1;
    }
    return 0;
}
