/* SPDX-License-Identifier: MIT */
/* Loads scenario YAML (libyaml document API) into bench_scenario_t; errors as file:line:col. */
#include "harness/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Scenario files are small; this keeps a wrong path (a log, a disk image) from eating memory. */
#define SC_MAX_FILE_BYTES (1024 * 1024)
#define SC_MAX_KEYS 24
#define SIM_MAX_CELLS_FOR_EVENTS 50 /* the largest string a bank may have (balancer) */
#define SC_MAX_DURATION_S (8760.0 * 3600.0)

typedef struct sc_ctx {
    const char *path;
    yaml_document_t *doc;
    bench_scenario_t *sc;
    bench_resolve_fn resolve;
    void *rctx;
    char *err;
    size_t errcap;
    bool failed;
    const char *duration_text;   /* as written, for messages */
} sc_ctx_t;

/* The keys one YAML map may hold, and what the map held. */
typedef struct keymap {
    const char *where;                 /* "bank", "event", ... for messages */
    const char *const *names;
    int n;
    yaml_node_t *key[SC_MAX_KEYS];
    yaml_node_t *val[SC_MAX_KEYS];
} keymap_t;

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static bool fail_mark(sc_ctx_t *c, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Only the first problem is reported: later ones are often its echoes. */
static bool fail_mark(sc_ctx_t *c, yaml_mark_t m, const char *fmt, ...)
{
    if (c->failed) {
        return false;
    }
    c->failed = true;
    if (c->err == NULL || c->errcap == 0) {
        return false;
    }
    int n = snprintf(c->err, c->errcap, "%s:%zu:%zu: ", c->path, m.line + 1, m.column + 1);
    if (n >= 0 && (size_t)n < c->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool is_scalar(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE;
}

static const char *text_of(const yaml_node_t *n)
{
    return is_scalar(n) ? (const char *)n->data.scalar.value : "";
}

/* An empty value ("key:"), "~" or "null", written plain. */
static bool is_null(const yaml_node_t *n)
{
    if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *s = text_of(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

static const char *kind_name(const yaml_node_t *n)
{
    if (n == NULL) {
        return "nothing";
    }
    switch (n->type) {
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a map";
    default: return "a value";
    }
}

/* Scalar text for a key; refuses non-scalars and embedded NULs. */
static bool get_text(sc_ctx_t *c, yaml_node_t *n, const char *key, const char *what,
                     const char **out)
{
    if (n == NULL || is_null(n)) {
        return fail_mark(c, n != NULL ? n->start_mark : (yaml_mark_t){0},
                         "missing value for '%s' (expected %s)", key, what);
    }
    if (!is_scalar(n)) {
        return fail_mark(c, n->start_mark, "expected %s for '%s', got %s", what, key,
                         kind_name(n));
    }
    if (strlen(text_of(n)) != n->data.scalar.length) {
        return fail_mark(c, n->start_mark, "'%s' contains a NUL character", key);
    }
    *out = text_of(n);
    return true;
}

/* Strict decimal number: no hex, inf or nan, nothing after it. */
static bool parse_number(const char *s, double *out)
{
    size_t i = 0;
    if (s[i] == '+' || s[i] == '-') {
        i++;
    }
    size_t digits = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0) {
        return false;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-') {
            i++;
        }
        if (!(s[i] >= '0' && s[i] <= '9')) {
            return false;
        }
        while (s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    if (s[i] != '\0') {
        return false;
    }
    double v = strtod(s, NULL);
    if (!isfinite(v)) {
        return false;
    }
    *out = v;
    return true;
}

static bool get_num(sc_ctx_t *c, yaml_node_t *n, const char *key, double *out)
{
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, n, key, "a number", &s)) {
        return false;
    }
    if (!parse_number(s, out)) {
        return fail_mark(c, n->start_mark, "expected a number for '%s', got '%.40s'", key, s);
    }
    return true;
}

static bool get_num_range(sc_ctx_t *c, yaml_node_t *n, const char *key, double lo, double hi,
                          double *out)
{
    double v = 0; /* set by get_num on success; gcc -O3 cannot tell */
    if (!get_num(c, n, key, &v)) {
        return false;
    }
    if (v < lo || v > hi) {
        return fail_mark(c, n->start_mark, "%s must be between %g and %g (got %g)", key, lo, hi,
                         v);
    }
    *out = v;
    return true;
}

static bool get_int_range(sc_ctx_t *c, yaml_node_t *n, const char *key, int lo, int hi, int *out)
{
    double v = 0; /* set by get_num on success; gcc -O3 cannot tell */
    if (!get_num(c, n, key, &v)) {
        return false;
    }
    if (v != floor(v)) {
        return fail_mark(c, n->start_mark, "%s must be a whole number (got %g)", key, v);
    }
    if (v < lo || v > hi) {
        return fail_mark(c, n->start_mark, "%s must be between %d and %d (got %g)", key, lo, hi,
                         v);
    }
    *out = (int)v;
    return true;
}

static bool get_duration(sc_ctx_t *c, yaml_node_t *n, const char *key, double *out)
{
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, n, key, "a duration", &s)) {
        return false;
    }
    if (!bench_parse_duration(s, out)) {
        if (s[0] == '-') {
            return fail_mark(c, n->start_mark, "%s must not be negative (got '%.40s')", key, s);
        }
        return fail_mark(c, n->start_mark,
                         "expected a duration for '%s' (like 90, 90s, 500ms, 10m, 1h30m), "
                         "got '%.40s'",
                         key, s);
    }
    return true;
}

/* Copy a string value into a fixed field, refusing what does not fit. */
static bool get_string(sc_ctx_t *c, yaml_node_t *n, const char *key, char *dst, size_t cap)
{
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, n, key, "a string", &s)) {
        return false;
    }
    size_t len = strlen(s);
    if (len >= cap) {
        return fail_mark(c, n->start_mark, "%s is too long (max %zu characters)", key, cap - 1);
    }
    memcpy(dst, s, len + 1);
    return true;
}

static void join_names(const char *const *names, int n, char *out, size_t cap)
{
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < n && used + 1 < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i > 0 ? ", " : "", names[i]);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

/* Check a map's keys against km (unknown and duplicate keys are errors) and collect its values. */
static bool collect(sc_ctx_t *c, yaml_node_t *map, const char *key, keymap_t *km)
{
    memset(km->key, 0, sizeof(km->key));
    memset(km->val, 0, sizeof(km->val));
    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        char list[256];
        join_names(km->names, km->n, list, sizeof(list));
        return fail_mark(c, map != NULL ? map->start_mark : (yaml_mark_t){0},
                         "expected a map for '%s' (with keys: %s), got %s", key, list,
                         is_null(map) ? "nothing" : kind_name(map));
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k == NULL || v == NULL) {
            return fail_mark(c, map->start_mark, "broken map in %s", km->where);
        }
        if (!is_scalar(k)) {
            return fail_mark(c, k->start_mark, "keys in %s must be plain names, got %s",
                             km->where, kind_name(k));
        }
        const char *name = text_of(k);
        int idx = -1;
        for (int i = 0; i < km->n; i++) {
            if (strcmp(name, km->names[i]) == 0) {
                idx = i;
                break;
            }
        }
        if (idx < 0) {
            char list[256];
            join_names(km->names, km->n, list, sizeof(list));
            return fail_mark(c, k->start_mark, "unknown key '%.40s' in %s (expected one of: %s)",
                             name, km->where, list);
        }
        if (km->key[idx] != NULL) {
            return fail_mark(c, k->start_mark, "duplicate key '%s' in %s (first at line %zu)",
                             name, km->where, km->key[idx]->start_mark.line + 1);
        }
        km->key[idx] = k;
        km->val[idx] = v;
    }
    return true;
}

static yaml_node_t *km_get(const keymap_t *km, const char *name)
{
    for (int i = 0; i < km->n; i++) {
        if (strcmp(km->names[i], name) == 0) {
            return km->val[i];
        }
    }
    return NULL;
}

static yaml_node_t *km_key(const keymap_t *km, const char *name)
{
    for (int i = 0; i < km->n; i++) {
        if (strcmp(km->names[i], name) == 0) {
            return km->key[i];
        }
    }
    return NULL;
}

static bool require(sc_ctx_t *c, const keymap_t *km, yaml_node_t *map, const char *name)
{
    if (km_get(km, name) == NULL) {
        return fail_mark(c, map->start_mark, "missing required key '%s' in %s", name, km->where);
    }
    return true;
}

/* ---- bank ---- */

static bool get_variant(sc_ctx_t *c, yaml_node_t *n, int *family)
{
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, n, "variant", "eet or topbms", &s)) {
        return false;
    }
    if (strcmp(s, "eet") == 0) {
        *family = 0;
    } else if (strcmp(s, "topbms") == 0) {
        *family = 1;
    } else {
        return fail_mark(c, n->start_mark, "unknown variant '%.40s' (expected eet or topbms)", s);
    }
    return true;
}

/* The pack keys shared by the bank defaults and each pack of a list. */
static bool parse_firmware(sc_ctx_t *c, yaml_node_t *n, const char *key, uint16_t *out)
{
    double v;
    if (!get_num_range(c, n, key, 0.1, 99.99, &v)) {
        return false;
    }
    /* "1.6" -> 0x0106, "1.12" -> 0x010C: major.minor as written. */
    const char *t = text_of(n);
    const char *dot = strchr(t, '.');
    long major = strtol(t, NULL, 10);
    long minor = dot != NULL ? strtol(dot + 1, NULL, 10) : 0;
    if (major < 0 || major > 99 || minor < 0 || minor > 99) {
        return fail_mark(c, n->start_mark, "%s must look like 1.6 (got '%.40s')", key, t);
    }
    *out = (uint16_t)((major << 8) | minor);
    return true;
}

static bool parse_pack_fields(sc_ctx_t *c, const keymap_t *km, bench_pack_cfg_t *pk)
{
    yaml_node_t *n;
    double cells_d = 0;
    bench_family_t fam = c->sc->bank.kind;
    if ((n = km_get(km, "cells")) != NULL) {
        if (!get_num(c, n, "cells", &cells_d)) {
            return false;
        }
        if (fam == BENCH_FAM_TOPBAND && cells_d != 15 && cells_d != 16) {
            return fail_mark(c, n->start_mark, "cells must be 15 or 16 (got %g)", cells_d);
        }
        if (fam == BENCH_FAM_TINYBMS && (cells_d < 4 || cells_d > 16 || cells_d != (int)cells_d)) {
            return fail_mark(c, n->start_mark, "cells must be 4..16 for a TinyBMS (got %g)",
                             cells_d);
        }
        if (fam == BENCH_FAM_BALANCER && (cells_d < 1 || cells_d > 50 || cells_d != (int)cells_d)) {
            return fail_mark(c, n->start_mark,
                             "cells must be 1..50 for a balancer bus, one module each (got %g)",
                             cells_d);
        }
        if (fam == BENCH_FAM_SUPERB && cells_d != 4) {
            return fail_mark(c, n->start_mark, "cells must be 4 for a SuperB 12.8 V pack (got %g)",
                             cells_d);
        }
        pk->cells = (int)cells_d;
    }
    if ((n = km_get(km, "firmware")) != NULL) {
        if (fam != BENCH_FAM_SUPERB) {
            return fail_mark(c, km_key(km, "firmware")->start_mark,
                             "'firmware' applies to superb packs only");
        }
        if (!parse_firmware(c, n, "firmware", &pk->fw_version)) {
            return false;
        }
    }
    if ((n = km_get(km, "capacity_ah")) != NULL) {
        if (!get_num_range(c, n, "capacity_ah", 0, 100000, &pk->capacity_ah)) {
            return false;
        }
        if (pk->capacity_ah <= 0) {
            return fail_mark(c, n->start_mark, "capacity_ah must be greater than 0");
        }
    }
    if ((n = km_get(km, "soc")) != NULL && !get_num_range(c, n, "soc", 0, 100, &pk->soc_pct)) {
        return false;
    }
    if ((n = km_get(km, "temperature")) != NULL &&
        !get_num_range(c, n, "temperature", -50, 150, &pk->temperature_c)) {
        return false;
    }
    if ((n = km_get(km, "variant")) != NULL) {
        if (fam != BENCH_FAM_TOPBAND) {
            return fail_mark(c, km_key(km, "variant")->start_mark,
                             "'variant' applies to topband packs only");
        }
        if (!get_variant(c, n, &pk->family)) {
            return false;
        }
    }
    if ((n = km_get(km, "cycles")) != NULL &&
        !get_int_range(c, n, "cycles", 0, 1000000, &pk->cycles)) {
        return false;
    }
    if ((n = km_get(km, "address")) != NULL) {
        int lo = fam == BENCH_FAM_SUPERB ? 1 : 0;
        int hi = fam == BENCH_FAM_SUPERB ? 127 : BENCH_MAX_PACKS - 1;
        if (!get_int_range(c, n, fam == BENCH_FAM_SUPERB ? "address (node id)" : "address", lo,
                           hi, &pk->address)) {
            return false;
        }
    }
    return true;
}

static const char *const pack_keys[] = {"cells", "capacity_ah", "soc", "temperature",
                                        "variant", "address", "cycles", "firmware"};

static bool parse_pack_list(sc_ctx_t *c, yaml_node_t *list, const bench_pack_cfg_t *defaults)
{
    bench_bank_cfg_t *bank = &c->sc->bank;
    int n = 0;
    for (yaml_node_item_t *it = list->data.sequence.items.start;
         it < list->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (item == NULL) {
            return fail_mark(c, list->start_mark, "broken pack list");
        }
        if (n >= BENCH_MAX_PACKS) {
            return fail_mark(c, item->start_mark, "too many packs (max %d)", BENCH_MAX_PACKS);
        }
        keymap_t km = {.where = "pack", .names = pack_keys, .n = COUNT_OF(pack_keys)};
        bench_pack_cfg_t *pk = &bank->packs[n];
        *pk = *defaults;
        pk->address = c->sc->bank.kind == BENCH_FAM_SUPERB ? n + 1 : n;
        if (!collect(c, item, "packs", &km) || !parse_pack_fields(c, &km, pk)) {
            return false;
        }
        for (int j = 0; j < n; j++) {
            if (bank->packs[j].address == pk->address) {
                yaml_node_t *a = km_get(&km, "address");
                return fail_mark(c, (a != NULL ? a : item)->start_mark,
                                 "address %d is used by pack %d and pack %d", pk->address, j, n);
            }
        }
        n++;
    }
    if (n == 0) {
        return fail_mark(c, list->start_mark, "packs is an empty list: give at least one pack");
    }
    if ((bank->kind == BENCH_FAM_TINYBMS || bank->kind == BENCH_FAM_BALANCER) && n != 1) {
        return fail_mark(c, list->start_mark, "a %s bank is one string: give one pack",
                         bank->family);
    }
    bank->npacks = n;
    return true;
}

static bool parse_bank(sc_ctx_t *c, yaml_node_t *node)
{
    static const char *const keys[] = {"family", "packs", "cells", "capacity_ah", "soc",
                                       "temperature", "variant", "cycles", "capacity_spread",
                                       "soc_spread", "firmware"};
    keymap_t km = {.where = "bank", .names = keys, .n = COUNT_OF(keys)};
    bench_bank_cfg_t *bank = &c->sc->bank;
    if (!collect(c, node, "bank", &km) || !require(c, &km, node, "family") ||
        !require(c, &km, node, "packs")) {
        return false;
    }
    yaml_node_t *fam = km_get(&km, "family");
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, fam, "family", "a bank family", &s)) {
        return false;
    }
    static const char *const families[] = {"topband", "tinybms", "superb", "balancer"};
    int kind = -1;
    for (int i = 0; i < COUNT_OF(families); i++) {
        if (strcmp(s, families[i]) == 0) {
            kind = i;
        }
    }
    if (kind < 0) {
        return fail_mark(c, fam->start_mark,
                         "unknown bank family '%.40s' (expected topband, tinybms, superb or "
                         "balancer)",
                         s);
    }
    snprintf(bank->family, sizeof(bank->family), "%s", families[kind]);
    bank->kind = (bench_family_t)kind;

    bench_pack_cfg_t defaults = {.cells = kind == BENCH_FAM_SUPERB ? 4 : 16,
                                 .capacity_ah = 100, .soc_pct = 50, .temperature_c = 25,
                                 .family = 0, .address = 0, .cycles = 0, .fw_version = 0x0106};
    if (!parse_pack_fields(c, &km, &defaults)) {
        return false;
    }
    yaml_node_t *n;
    if ((n = km_get(&km, "capacity_spread")) != NULL &&
        !get_num_range(c, n, "capacity_spread", 0, 50, &bank->capacity_spread_pct)) {
        return false;
    }
    if ((n = km_get(&km, "soc_spread")) != NULL &&
        !get_num_range(c, n, "soc_spread", 0, 50, &bank->soc_spread_pct)) {
        return false;
    }

    yaml_node_t *packs = km_get(&km, "packs");
    if (packs->type == YAML_SEQUENCE_NODE) {
        return parse_pack_list(c, packs, &defaults);
    }
    if (!is_scalar(packs) || is_null(packs)) {
        return fail_mark(c, packs->start_mark,
                         "expected a pack count (1..%d) or a list of packs for 'packs', got %s",
                         BENCH_MAX_PACKS, is_null(packs) ? "nothing" : kind_name(packs));
    }
    int count;
    if (!get_int_range(c, packs, "packs", 1, BENCH_MAX_PACKS, &count)) {
        return false;
    }
    if (bank->kind == BENCH_FAM_TINYBMS && count != 1) {
        return fail_mark(c, packs->start_mark, "a tinybms bank is one TinyBMS: packs must be 1");
    }
    if (bank->kind == BENCH_FAM_BALANCER && count != 1) {
        return fail_mark(c, packs->start_mark,
                         "a balancer bank is one string of cells: packs must be 1");
    }
    for (int i = 0; i < count; i++) {
        bank->packs[i] = defaults;
        bank->packs[i].address = bank->kind == BENCH_FAM_SUPERB ? i + 1 : i;
    }
    bank->npacks = count;
    return true;
}

/* ---- system and gateway ---- */

typedef struct profile_def {
    const char *name;
    sim_profile_kind_t kind;
    const char *takes;          /* for messages */
    const char *const keys[3];  /* the keys it takes besides `profile` */
} profile_def_t;

static const profile_def_t profile_defs[] = {
    {"constant", SIM_PROFILE_CONSTANT, "a", {"a", NULL, NULL}},
    {"ramp", SIM_PROFILE_RAMP, "from_a, to_a, over", {"from_a", "to_a", "over"}},
    {"day", SIM_PROFILE_DAY, "peak_a, sunrise, sunset", {"peak_a", "sunrise", "sunset"}},
};

static const char *const profile_keys[] = {"profile", "a",       "from_a", "to_a",
                                           "over",    "peak_a",  "sunrise", "sunset"};

static bool profile_takes(const profile_def_t *d, const char *key)
{
    for (int j = 0; j < 3 && d->keys[j] != NULL; j++) {
        if (strcmp(d->keys[j], key) == 0) {
            return true;
        }
    }
    return false;
}

static bool get_time_of_day(sc_ctx_t *c, yaml_node_t *n, const char *key, double *out)
{
    if (!get_duration(c, n, key, out)) {
        return false;
    }
    if (*out > SIM_PROFILE_DAY_S) {
        return fail_mark(c, n->start_mark, "%s is a time of day, at most 24h (got '%.40s')", key,
                         text_of(n));
    }
    return true;
}

/* The profile fields of one kind; keys not given keep their defaults. */
static bool parse_profile_fields(sc_ctx_t *c, const keymap_t *km, yaml_node_t *map,
                                 sim_profile_t *p)
{
    yaml_node_t *n;
    switch (p->kind) {
    case SIM_PROFILE_CONSTANT:
        return require(c, km, map, "a") && get_num_range(c, km_get(km, "a"), "a", 0, 10000, &p->a_a);
    case SIM_PROFILE_RAMP:
        if (!require(c, km, map, "to_a") || !require(c, km, map, "over") ||
            !get_num_range(c, km_get(km, "to_a"), "to_a", 0, 10000, &p->to_a) ||
            !get_duration(c, km_get(km, "over"), "over", &p->over_s)) {
            return false;
        }
        n = km_get(km, "from_a");
        return n == NULL || get_num_range(c, n, "from_a", 0, 10000, &p->from_a);
    case SIM_PROFILE_DAY:
        p->sunrise_s = 6 * 3600.0;
        p->sunset_s = 18 * 3600.0;
        if (!require(c, km, map, "peak_a") ||
            !get_num_range(c, km_get(km, "peak_a"), "peak_a", 0, 10000, &p->peak_a)) {
            return false;
        }
        if ((n = km_get(km, "sunrise")) != NULL && !get_time_of_day(c, n, "sunrise", &p->sunrise_s)) {
            return false;
        }
        if ((n = km_get(km, "sunset")) != NULL && !get_time_of_day(c, n, "sunset", &p->sunset_s)) {
            return false;
        }
        if (!(p->sunrise_s < p->sunset_s)) {
            yaml_node_t *at = km_get(km, "sunset") != NULL ? km_get(km, "sunset") : map;
            return fail_mark(c, at->start_mark, "sunset must be after sunrise");
        }
        return true;
    case SIM_PROFILE_NONE: break;
    }
    return false;
}

/* `pv:` / `load:` as a map: {profile: constant|ramp|day, ...}. */
static bool parse_profile(sc_ctx_t *c, yaml_node_t *node, const char *where, sim_profile_t *p)
{
    keymap_t km = {.where = where, .names = profile_keys, .n = COUNT_OF(profile_keys)};
    if (!collect(c, node, where, &km) || !require(c, &km, node, "profile")) {
        return false;
    }
    const char *name;
    yaml_node_t *pn = km_get(&km, "profile");
    if (!get_text(c, pn, "profile", "constant, ramp or day", &name)) {
        return false;
    }
    const profile_def_t *d = NULL;
    for (int i = 0; i < COUNT_OF(profile_defs); i++) {
        if (strcmp(name, profile_defs[i].name) == 0) {
            d = &profile_defs[i];
        }
    }
    if (d == NULL) {
        return fail_mark(c, pn->start_mark,
                         "unknown profile '%.40s' in %s (expected one of: constant, ramp, day)",
                         name, where);
    }
    for (int i = 1; i < COUNT_OF(profile_keys); i++) {
        if (km_get(&km, profile_keys[i]) != NULL && !profile_takes(d, profile_keys[i])) {
            return fail_mark(c, km_key(&km, profile_keys[i])->start_mark,
                             "'%s' does not apply to profile '%s' (it takes: %s)",
                             profile_keys[i], d->name, d->takes);
        }
    }
    memset(p, 0, sizeof(*p));
    p->kind = d->kind;
    return parse_profile_fields(c, &km, node, p);
}

/* The value at t = 0, kept in the plain field for readers that predate
 * profiles (sim/profile.c is not linked into the loader alone). */
static double profile_start_a(const sim_profile_t *p)
{
    switch (p->kind) {
    case SIM_PROFILE_CONSTANT: return p->a_a;
    case SIM_PROFILE_RAMP: return p->over_s > 0 ? p->from_a : p->to_a;
    case SIM_PROFILE_DAY: /* the day starts at midnight, sunrise is at or after it */
    case SIM_PROFILE_NONE: break;
    }
    return 0.0;
}

static bool parse_system(sc_ctx_t *c, yaml_node_t *node)
{
    static const char *const keys[] = {"charger", "pv", "load", "ambient"};
    keymap_t km = {.where = "system", .names = keys, .n = COUNT_OF(keys)};
    bench_system_cfg_t *sys = &c->sc->system;
    if (!collect(c, node, "system", &km)) {
        return false;
    }
    yaml_node_t *n;
    if (km_get(&km, "charger") != NULL && km_get(&km, "pv") != NULL) {
        return fail_mark(c, km_key(&km, "pv")->start_mark,
                         "give either 'charger' (a constant) or 'pv' (a profile), not both");
    }
    if ((n = km_get(&km, "charger")) != NULL &&
        !get_num_range(c, n, "charger", 0, 10000, &sys->charger_a)) {
        return false;
    }
    if ((n = km_get(&km, "pv")) != NULL) {
        if (!parse_profile(c, n, "pv", &sys->pv)) {
            return false;
        }
        sys->charger_a = profile_start_a(&sys->pv);
    }
    if ((n = km_get(&km, "load")) != NULL) {
        if (n->type == YAML_MAPPING_NODE) {
            if (!parse_profile(c, n, "load", &sys->load)) {
                return false;
            }
            sys->load_a = profile_start_a(&sys->load);
        } else if (!get_num_range(c, n, "load", 0, 10000, &sys->load_a)) {
            return false;
        }
    }
    if ((n = km_get(&km, "ambient")) != NULL &&
        !get_num_range(c, n, "ambient", -50, 150, &sys->ambient_c)) {
        return false;
    }
    return true;
}

static bool valid_setting_name(const char *s)
{
    if (s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                  (*s >= '0' && *s <= '9') || *s == '_' || *s == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* The keys are checked by the runner against the gateway's settings; here only their shape. */
static bool parse_gateway(sc_ctx_t *c, yaml_node_t *node)
{
    bench_scenario_t *sc = c->sc;
    if (node->type != YAML_MAPPING_NODE) {
        return fail_mark(c, node->start_mark,
                         "expected a map of setting: number for 'gateway', got %s",
                         kind_name(node));
    }
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k == NULL || v == NULL) {
            return fail_mark(c, node->start_mark, "broken map in gateway");
        }
        const char *name = text_of(k);
        if (!is_scalar(k) || !valid_setting_name(name) ||
            strlen(name) != k->data.scalar.length) {
            return fail_mark(c, k->start_mark,
                             "gateway setting names are letters, digits and '_' (got %.40s)",
                             is_scalar(k) ? name : kind_name(k));
        }
        if (strlen(name) >= sizeof(sc->gwset[0].key)) {
            return fail_mark(c, k->start_mark, "gateway setting name too long (max %zu)",
                             sizeof(sc->gwset[0].key) - 1);
        }
        for (int i = 0; i < sc->ngwset; i++) {
            if (strcmp(sc->gwset[i].key, name) == 0) {
                return fail_mark(c, k->start_mark,
                                 "duplicate key '%s' in gateway (first at line %d)", name,
                                 sc->gwset[i].line);
            }
        }
        if (sc->ngwset >= BENCH_MAX_GWSET) {
            return fail_mark(c, k->start_mark, "too many gateway settings (max %d)",
                             BENCH_MAX_GWSET);
        }
        bench_gwset_t *g = &sc->gwset[sc->ngwset];
        if (!get_num(c, v, name, &g->value)) {
            return false;
        }
        snprintf(g->key, sizeof(g->key), "%s", name);
        g->line = (int)k->start_mark.line + 1;
        g->col = (int)k->start_mark.column + 1;
        sc->ngwset++;
    }
    return true;
}

/* ---- events ---- */

typedef struct action_def {
    const char *key;
    bench_action_t act;
    bool pack_ok;       /* takes `pack` */
    bool cell_ok;       /* takes `cell` */
    bool needs_cell;    /* pack and cell are required */
    double lo, hi;      /* range of a numeric value */
    const char *what;   /* unit, for the docs of the range */
} action_def_t;

static const action_def_t actions[] = {
    {"temperature", BENCH_ACT_TEMPERATURE, true, true, false, -50, 150, "degC"},
    {"cell_soc", BENCH_ACT_CELL_SOC, true, true, true, 0, 100, "%"},
    {"cell_capacity", BENCH_ACT_CELL_CAPACITY, true, true, true, 1, 200, "%"},
    {"cell_offset", BENCH_ACT_CELL_OFFSET, true, true, false, -1000, 1000, "mV"},
    {"fault", BENCH_ACT_FAULT, true, false, false, 0, 0, ""},
    {"clear_faults", BENCH_ACT_CLEAR_FAULTS, true, false, false, 0, 0, ""},
    {"charger", BENCH_ACT_CHARGER, false, false, false, 0, 10000, "A"},
    {"load", BENCH_ACT_LOAD, false, false, false, 0, 10000, "A"},
    {"ambient", BENCH_ACT_AMBIENT, false, false, false, -50, 150, "degC"},
    {"bus_garbage", BENCH_ACT_BUS_GARBAGE, false, false, false, 1, 4096, "bytes"},
    {"reboot", BENCH_ACT_REBOOT, true, false, false, 0, 0, ""},
    {"firmware", BENCH_ACT_FIRMWARE, true, false, false, 0, 0, ""},
    {"bms_setting", BENCH_ACT_BMS_SETTING, false, false, false, 0, 65535, ""},
    {"tool_write", BENCH_ACT_TOOL_WRITE, false, false, false, 0, 65535, ""},
    {"button", BENCH_ACT_BUTTON, false, false, false, 0, 0, ""},
    {"duplicate_address", BENCH_ACT_DUPLICATE, false, true, false, 1, 50, ""},
};

/* Fault knobs per family, as each emulator offers them. */
static const char *const fault_names_topband[] = {"silent", "late", "bad_checksum", "truncated",
                                                  "garbage", "wrong_address", "frozen"};
static const char *const fault_names_tinybms[] = {"silent", "late", "bad_crc", "truncated",
                                                  "nack_storm", "stuck_asleep", "frozen"};
static const char *const fault_names_balancer[] = {"silent", "garbage", "wrong_value", "stuck",
                                                   "slow"};
static const char *const fault_names_superb[] = {"silent", "late", "abort", "wrong_toggle",
                                                 "no_heartbeat", "bus_off"};

static bool parse_fault(sc_ctx_t *c, yaml_node_t *n, bench_event_t *ev)
{
    const char *s;
    const char *const *fault_names = fault_names_topband;
    int nfaults = COUNT_OF(fault_names_topband);
    if (c->sc->bank.kind == BENCH_FAM_TINYBMS) {
        fault_names = fault_names_tinybms;
        nfaults = COUNT_OF(fault_names_tinybms);
    } else if (c->sc->bank.kind == BENCH_FAM_SUPERB) {
        fault_names = fault_names_superb;
        nfaults = COUNT_OF(fault_names_superb);
    } else if (c->sc->bank.kind == BENCH_FAM_BALANCER) {
        fault_names = fault_names_balancer;
        nfaults = COUNT_OF(fault_names_balancer);
    }
    if (!get_text(c, n, "fault", "a fault name", &s)) {
        return false;
    }
    for (int i = 0; i < nfaults; i++) {
        if (strcmp(s, fault_names[i]) == 0) {
            snprintf(ev->text, sizeof(ev->text), "%s", fault_names[i]);
            return true;
        }
    }
    char list[160];
    join_names(fault_names, nfaults, list, sizeof(list));
    return fail_mark(c, n->start_mark, "unknown fault '%.40s' for a %s bank (expected one of: %s)",
                     s, c->sc->bank.family, list);
}

static bool parse_flag_true(sc_ctx_t *c, yaml_node_t *n, const char *key)
{
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, n, key, "true", &s)) {
        return false;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) {
        return true;
    }
    return fail_mark(c, n->start_mark, "%s takes the value true (got '%.40s')", key, s);
}

/* pack/cell indexes, checked against the bank so a typo does not silently hit nothing. */
static bool parse_target(sc_ctx_t *c, yaml_node_t *item, const keymap_t *km,
                         const action_def_t *a, bench_event_t *ev)
{
    const bench_bank_cfg_t *bank = &c->sc->bank;
    yaml_node_t *pn = km_get(km, "pack");
    yaml_node_t *cn = km_get(km, "cell");
    if (pn != NULL && !a->pack_ok) {
        return fail_mark(c, km_key(km, "pack")->start_mark, "'pack' does not apply to '%s'",
                         a->key);
    }
    /* On a balancer bus every cell has its own module: faults, reboots and
     * duplicates name it by its cell. */
    bool module_action = a->act == BENCH_ACT_FAULT || a->act == BENCH_ACT_CLEAR_FAULTS ||
                         a->act == BENCH_ACT_REBOOT || a->act == BENCH_ACT_DUPLICATE;
    bool cell_ok = a->cell_ok || (bank->kind == BENCH_FAM_BALANCER && module_action);
    if (cn != NULL && !cell_ok) {
        return fail_mark(c, km_key(km, "cell")->start_mark, "'cell' does not apply to '%s'",
                         a->key);
    }
    if (a->act == BENCH_ACT_DUPLICATE && cn == NULL) {
        return fail_mark(c, item->start_mark,
                         "duplicate_address needs 'cell': the module that also answers");
    }
    if (a->needs_cell && (pn == NULL || cn == NULL)) {
        return fail_mark(c, item->start_mark, "%s needs both 'pack' and 'cell' (0-based)",
                         a->key);
    }
    ev->pack = -1;
    ev->cell = -1;
    if (pn != NULL && !get_int_range(c, pn, "pack", 0, BENCH_MAX_PACKS - 1, &ev->pack)) {
        return false;
    }
    if (pn != NULL && ev->pack >= bank->npacks) {
        return fail_mark(c, pn->start_mark,
                         "pack %d does not exist (the bank has %d pack%s: 0..%d)", ev->pack,
                         bank->npacks, bank->npacks == 1 ? "" : "s", bank->npacks - 1);
    }
    if (cn == NULL) {
        return true;
    }
    if (!get_int_range(c, cn, "cell", 0, 1000, &ev->cell)) {
        return false;
    }
    /* With every pack targeted, the cell must exist in the smallest one. */
    int cells = SIM_MAX_CELLS_FOR_EVENTS;
    for (int i = 0; i < bank->npacks; i++) {
        if ((ev->pack < 0 || ev->pack == i) && bank->packs[i].cells < cells) {
            cells = bank->packs[i].cells;
        }
    }
    if (ev->cell >= cells) {
        return fail_mark(c, cn->start_mark, "cell %d does not exist (packs have cells 0..%d)",
                         ev->cell, cells - 1);
    }
    return true;
}

static const char *const event_keys[] = {"at", "temperature", "cell_soc", "cell_capacity",
                                         "cell_offset", "fault", "clear_faults", "charger",
                                         "load", "ambient", "bus_garbage", "reboot", "firmware",
                                         "bms_setting", "tool_write", "button",
                                         "duplicate_address", "pack", "cell", "late", "register"};
_Static_assert(sizeof event_keys / sizeof event_keys[0] <= SC_MAX_KEYS,
               "a keymap holds at most SC_MAX_KEYS keys");

static bool parse_event(sc_ctx_t *c, yaml_node_t *item, bench_event_t *ev)
{
    keymap_t km = {.where = "event", .names = event_keys, .n = COUNT_OF(event_keys)};
    memset(ev, 0, sizeof(*ev));
    ev->line = (int)item->start_mark.line + 1;
    ev->col = (int)item->start_mark.column + 1;
    if (!collect(c, item, "events", &km) || !require(c, &km, item, "at")) {
        return false;
    }
    yaml_node_t *at = km_get(&km, "at");
    if (!get_duration(c, at, "at", &ev->at_s)) {
        return false;
    }
    if (ev->at_s > c->sc->duration_s) {
        return fail_mark(c, at->start_mark,
                         "event at %.40s is after the end of the scenario (duration %.40s)",
                         text_of(at), c->duration_text);
    }
    const action_def_t *a = NULL;
    yaml_node_t *an = NULL;
    for (int i = 0; i < COUNT_OF(actions); i++) {
        yaml_node_t *v = km_get(&km, actions[i].key);
        if (v == NULL) {
            continue;
        }
        if (a != NULL) {
            return fail_mark(c, km_key(&km, actions[i].key)->start_mark,
                             "event has more than one action ('%s' and '%s'): write one event "
                             "for each",
                             a->key, actions[i].key);
        }
        a = &actions[i];
        an = v;
    }
    if (a == NULL) {
        return fail_mark(c, item->start_mark,
                         "event needs exactly one action (one of: temperature, cell_soc, "
                         "cell_capacity, cell_offset, fault, clear_faults, charger, load, "
                         "ambient, bus_garbage, reboot, firmware, bms_setting, tool_write, button, "
                         "duplicate_address)");
    }
    ev->action = a->act;
    yaml_node_t *reg = km_get(&km, "register");
    bool takes_reg = a->act == BENCH_ACT_BMS_SETTING || a->act == BENCH_ACT_TOOL_WRITE;
    if ((reg != NULL) != takes_reg) {
        if (reg != NULL) {
            return fail_mark(c, km_key(&km, "register")->start_mark,
                             "'register' only applies to 'bms_setting' and 'tool_write'");
        }
        return fail_mark(c, item->start_mark, "%s needs 'register' (e.g. 315)", a->key);
    }
    bench_family_t fam = c->sc->bank.kind;
    if ((a->act == BENCH_ACT_FIRMWARE && fam != BENCH_FAM_SUPERB) ||
        (a->act == BENCH_ACT_BMS_SETTING && fam != BENCH_FAM_TINYBMS) ||
        (a->act == BENCH_ACT_TOOL_WRITE && fam != BENCH_FAM_TINYBMS) ||
        (a->act == BENCH_ACT_BUS_GARBAGE && fam == BENCH_FAM_SUPERB) ||
        (a->act == BENCH_ACT_REBOOT && fam == BENCH_FAM_TOPBAND) ||
        ((a->act == BENCH_ACT_BUTTON || a->act == BENCH_ACT_DUPLICATE) &&
         fam != BENCH_FAM_BALANCER)) {
        return fail_mark(c, km_key(&km, a->key)->start_mark, "'%s' does not apply to a %s bank",
                         a->key, c->sc->bank.family);
    }
    yaml_node_t *late = km_get(&km, "late");
    if (late != NULL && a->act != BENCH_ACT_FAULT) {
        return fail_mark(c, km_key(&km, "late")->start_mark,
                         "'late' only applies to 'fault: late'");
    }
    if (!parse_target(c, item, &km, a, ev)) {
        return false;
    }
    switch (a->act) {
    case BENCH_ACT_FAULT:
        if (!parse_fault(c, an, ev)) {
            return false;
        }
        if (late != NULL && strcmp(ev->text, "late") != 0 && strcmp(ev->text, "slow") != 0) {
            return fail_mark(c, km_key(&km, "late")->start_mark,
                             "'late' only applies to 'fault: late'");
        }
        ev->value = 0;
        if (strcmp(ev->text, "late") == 0 || strcmp(ev->text, "slow") == 0) {
            double late_s = 0.8;
            if (late != NULL && !get_duration(c, late, "late", &late_s)) {
                return false;
            }
            ev->value = late_s * 1000.0;
        }
        return true;
    case BENCH_ACT_CLEAR_FAULTS:
    case BENCH_ACT_REBOOT:
    case BENCH_ACT_BUTTON:
        ev->value = 1;
        return parse_flag_true(c, an, a->key);
    case BENCH_ACT_FIRMWARE: {
        uint16_t v;
        if (!parse_firmware(c, an, a->key, &v)) {
            return false;
        }
        ev->value = v;
        return true;
    }
    case BENCH_ACT_BMS_SETTING:
    case BENCH_ACT_TOOL_WRITE: {
        int v;
        if (!get_int_range(c, reg, "register", 300, 399, &ev->reg) ||
            !get_int_range(c, an, a->key, 0, 65535, &v)) {
            return false;
        }
        ev->value = v;
        return true;
    }
    case BENCH_ACT_BUS_GARBAGE: {
        int bytes;
        if (!get_int_range(c, an, a->key, (int)a->lo, (int)a->hi, &bytes)) {
            return false;
        }
        ev->value = bytes;
        return true;
    }
    default:
        return get_num_range(c, an, a->key, a->lo, a->hi, &ev->value);
    }
}

static bool parse_events(sc_ctx_t *c, yaml_node_t *node)
{
    bench_scenario_t *sc = c->sc;
    if (node->type != YAML_SEQUENCE_NODE) {
        return fail_mark(c, node->start_mark, "expected a list of events for 'events', got %s",
                         kind_name(node));
    }
    for (yaml_node_item_t *it = node->data.sequence.items.start;
         it < node->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (item == NULL) {
            return fail_mark(c, node->start_mark, "broken event list");
        }
        if (sc->nevents >= BENCH_MAX_EVENTS) {
            return fail_mark(c, item->start_mark, "too many events (max %d)", BENCH_MAX_EVENTS);
        }
        if (!parse_event(c, item, &sc->events[sc->nevents])) {
            return false;
        }
        sc->nevents++;
    }
    /* Stable insertion sort: the runner gets time order, ties keep file order. */
    for (int i = 1; i < sc->nevents; i++) {
        bench_event_t ev = sc->events[i];
        int j = i;
        while (j > 0 && sc->events[j - 1].at_s > ev.at_s) {
            sc->events[j] = sc->events[j - 1];
            j--;
        }
        sc->events[j] = ev;
    }
    return true;
}

/* ---- expectations ---- */

static void label_add(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    size_t add = strlen(s);
    if (n + add >= cap) {
        add = n + 1 < cap ? cap - n - 1 : 0;
    }
    memcpy(buf + n, s, add);
    buf[n + add] = '\0';
}

static bool compile_expr(sc_ctx_t *c, yaml_node_t *n, const char *key, bench_expr_t *e)
{
    const char *s = NULL; /* set by get_text on success */
    if (!get_text(c, n, key, "an expression", &s)) {
        return false;
    }
    int col = 0;
    char msg[160];
    if (bench_expr_compile(e, s, c->resolve, c->rctx, &col, msg, sizeof(msg))) {
        return true;
    }
    /* Point into the expression: a quoted scalar starts one column before its text. */
    yaml_mark_t m = n->start_mark;
    bool quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                  n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (n->data.scalar.style != YAML_LITERAL_SCALAR_STYLE &&
        n->data.scalar.style != YAML_FOLDED_SCALAR_STYLE && col >= 0) {
        m.column += (size_t)col + (quoted ? 1 : 0);
    }
    return fail_mark(c, m, "%s in expression", msg);
}

/* The window keys must lie within the run, or the check could never be made. */
static bool get_time_in_run(sc_ctx_t *c, yaml_node_t *n, const char *key, double *out)
{
    if (!get_duration(c, n, key, out)) {
        return false;
    }
    if (*out > c->sc->duration_s) {
        return fail_mark(c, n->start_mark,
                         "%s %.40s is after the end of the scenario (duration %.40s)", key,
                         text_of(n), c->duration_text);
    }
    return true;
}

static const char *const expect_keys[] = {"always", "never", "eventually", "within", "at",
                                          "name", "from", "until", "by", "after", "then",
                                          "check"};

typedef struct kind_def {
    const char *key;
    bench_expect_kind_t kind;
    const char *mods;           /* keys it takes besides its own and name, for messages */
    const char *const takes[3];
} kind_def_t;

static const kind_def_t kinds[] = {
    {"always", BENCH_EXP_ALWAYS, "from, until, name", {"from", "until", NULL}},
    {"never", BENCH_EXP_NEVER, "from, until, name", {"from", "until", NULL}},
    {"eventually", BENCH_EXP_EVENTUALLY, "by, name", {"by", NULL, NULL}},
    {"within", BENCH_EXP_WITHIN, "after, then, name", {"after", "then", NULL}},
    {"at", BENCH_EXP_AT, "check, name", {"check", NULL, NULL}},
};

static bool check_modifiers(sc_ctx_t *c, const keymap_t *km, const kind_def_t *k)
{
    static const char *const mods[] = {"from", "until", "by", "after", "then", "check"};
    for (int i = 0; i < COUNT_OF(mods); i++) {
        if (km_get(km, mods[i]) == NULL) {
            continue;
        }
        bool ok = false;
        for (int j = 0; j < 3 && k->takes[j] != NULL; j++) {
            ok = ok || strcmp(k->takes[j], mods[i]) == 0;
        }
        if (!ok) {
            return fail_mark(c, km_key(km, mods[i])->start_mark,
                             "'%s' does not apply to '%s' (it takes: %s)", mods[i], k->key,
                             k->mods);
        }
    }
    return true;
}

static bool parse_expect_kind(sc_ctx_t *c, yaml_node_t *item, const keymap_t *km,
                              const kind_def_t *k, bench_expect_t *x)
{
    yaml_node_t *v = km_get(km, k->key);
    char *lbl = x->label;
    size_t cap = sizeof(x->label);
    label_add(lbl, cap, k->key);
    label_add(lbl, cap, " ");
    switch (k->kind) {
    case BENCH_EXP_ALWAYS:
    case BENCH_EXP_NEVER: {
        yaml_node_t *from = km_get(km, "from");
        yaml_node_t *until = km_get(km, "until");
        if (!compile_expr(c, v, k->key, &x->expr)) {
            return false;
        }
        label_add(lbl, cap, x->expr.text);
        if (from != NULL && !get_time_in_run(c, from, "from", &x->from_s)) {
            return false;
        }
        if (until != NULL && !get_time_in_run(c, until, "until", &x->until_s)) {
            return false;
        }
        if (until != NULL && x->until_s < x->from_s) {
            return fail_mark(c, until->start_mark, "until (%.40s) is before from (%.40s)",
                             text_of(until), text_of(from));
        }
        if (from != NULL) {
            label_add(lbl, cap, " from ");
            label_add(lbl, cap, text_of(from));
        }
        if (until != NULL) {
            label_add(lbl, cap, " until ");
            label_add(lbl, cap, text_of(until));
        }
        return true;
    }
    case BENCH_EXP_EVENTUALLY: {
        yaml_node_t *by = km_get(km, "by");
        if (!compile_expr(c, v, k->key, &x->expr)) {
            return false;
        }
        label_add(lbl, cap, x->expr.text);
        if (by != NULL) {
            if (!get_time_in_run(c, by, "by", &x->by_s)) {
                return false;
            }
            label_add(lbl, cap, " by ");
            label_add(lbl, cap, text_of(by));
        }
        return true;
    }
    case BENCH_EXP_WITHIN:
        if (!require(c, km, item, "after") || !require(c, km, item, "then") ||
            !get_duration(c, v, "within", &x->d_s) ||
            !compile_expr(c, km_get(km, "after"), "after", &x->after) ||
            !compile_expr(c, km_get(km, "then"), "then", &x->expr)) {
            return false;
        }
        label_add(lbl, cap, text_of(v));
        label_add(lbl, cap, " after ");
        label_add(lbl, cap, x->after.text);
        label_add(lbl, cap, " then ");
        label_add(lbl, cap, x->expr.text);
        return true;
    case BENCH_EXP_AT:
        if (!require(c, km, item, "check") || !get_time_in_run(c, v, "at", &x->at_s) ||
            !compile_expr(c, km_get(km, "check"), "check", &x->expr)) {
            return false;
        }
        label_add(lbl, cap, text_of(v));
        label_add(lbl, cap, " ");
        label_add(lbl, cap, x->expr.text);
        return true;
    }
    return false;
}

static bool parse_expect(sc_ctx_t *c, yaml_node_t *item, bench_expect_t *x)
{
    keymap_t km = {.where = "expectation", .names = expect_keys, .n = COUNT_OF(expect_keys)};
    memset(x, 0, sizeof(*x));
    x->line = (int)item->start_mark.line + 1;
    x->col = (int)item->start_mark.column + 1;
    x->until_s = -1;
    x->by_s = c->sc->duration_s;
    if (!collect(c, item, "expect", &km)) {
        return false;
    }
    const kind_def_t *k = NULL;
    for (int i = 0; i < COUNT_OF(kinds); i++) {
        if (km_get(&km, kinds[i].key) == NULL) {
            continue;
        }
        if (k != NULL) {
            return fail_mark(c, km_key(&km, kinds[i].key)->start_mark,
                             "expectation has more than one kind ('%s' and '%s'): write one "
                             "item for each",
                             k->key, kinds[i].key);
        }
        k = &kinds[i];
    }
    if (k == NULL) {
        return fail_mark(c, item->start_mark,
                         "expectation needs exactly one kind (one of: always, never, "
                         "eventually, within, at)");
    }
    x->kind = k->kind;
    if (!check_modifiers(c, &km, k) || !parse_expect_kind(c, item, &km, k, x)) {
        return false;
    }
    yaml_node_t *name = km_get(&km, "name");
    if (name != NULL && !get_string(c, name, "name", x->label, sizeof(x->label))) {
        return false;
    }
    return true;
}

static bool parse_expects(sc_ctx_t *c, yaml_node_t *node)
{
    bench_scenario_t *sc = c->sc;
    if (node->type != YAML_SEQUENCE_NODE || node->data.sequence.items.start ==
                                                node->data.sequence.items.top) {
        return fail_mark(c, node->start_mark,
                         "expect needs a list of at least one expectation (always, never, "
                         "eventually, within, at)");
    }
    for (yaml_node_item_t *it = node->data.sequence.items.start;
         it < node->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (item == NULL) {
            return fail_mark(c, node->start_mark, "broken expectation list");
        }
        if (sc->nexpects >= BENCH_MAX_EXPECTS) {
            return fail_mark(c, item->start_mark, "too many expectations (max %d)",
                             BENCH_MAX_EXPECTS);
        }
        if (!parse_expect(c, item, &sc->expects[sc->nexpects])) {
            return false;
        }
        sc->nexpects++;
    }
    return true;
}

/* ---- top level ---- */

static bool valid_name(const char *s)
{
    if (s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                  (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool parse_header(sc_ctx_t *c, const keymap_t *km)
{
    bench_scenario_t *sc = c->sc;
    yaml_node_t *n = km_get(km, "name");
    if (!get_string(c, n, "name", sc->name, sizeof(sc->name))) {
        return false;
    }
    if (!valid_name(sc->name)) {
        return fail_mark(c, n->start_mark,
                         "name may only hold letters, digits, '_', '.' and '-' (got '%.40s')",
                         sc->name);
    }
    n = km_get(km, "description");
    if (!get_string(c, n, "description", sc->description, sizeof(sc->description))) {
        return false;
    }
    /* Folded and literal scalars end in a newline; that is not a second line. */
    size_t len = strlen(sc->description);
    while (len > 0 && (sc->description[len - 1] == '\n' || sc->description[len - 1] == ' ')) {
        sc->description[--len] = '\0';
    }
    if (strchr(sc->description, '\n') != NULL) {
        return fail_mark(c, n->start_mark, "description must be one line");
    }
    n = km_get(km, "duration");
    if (!get_duration(c, n, "duration", &sc->duration_s)) {
        return false;
    }
    if (sc->duration_s <= 0) {
        return fail_mark(c, n->start_mark, "duration must be greater than 0");
    }
    /* The runner counts microseconds in 64 bits; a year is far inside that and far beyond use. */
    if (sc->duration_s > SC_MAX_DURATION_S) {
        return fail_mark(c, n->start_mark, "duration must be at most 8760h (one year)");
    }
    c->duration_text = text_of(n);
    if ((n = km_get(km, "sample")) != NULL) {
        if (!get_duration(c, n, "sample", &sc->sample_s)) {
            return false;
        }
        if (sc->sample_s < 0.001 || sc->sample_s > sc->duration_s) {
            return fail_mark(c, n->start_mark,
                             "sample must be between 1ms and the duration (got %.40s)",
                             text_of(n));
        }
    }
    if ((n = km_get(km, "seed")) != NULL) {
        const char *s;
        if (!get_text(c, n, "seed", "a whole number >= 0", &s)) {
            return false;
        }
        size_t digits = strspn(s, "0123456789");
        errno = 0;
        unsigned long long v = strtoull(s, NULL, 10);
        if (digits == 0 || s[digits] != '\0' || errno == ERANGE) {
            return fail_mark(c, n->start_mark,
                             "seed must be a whole number between 0 and 2^64-1 (got '%.40s')", s);
        }
        sc->seed = (uint64_t)v;
        sc->has_seed = true;
    }
    /* live: true says the scenario is short enough to run in wall-clock time
     * (bmsbench run --live); the rest need time compression and stay sim-only. */
    if ((n = km_get(km, "live")) != NULL) {
        const char *s;
        if (!get_text(c, n, "live", "true or false", &s)) {
            return false;
        }
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) {
            return fail_mark(c, n->start_mark, "live must be true or false (got '%.40s')", s);
        }
        sc->live = strcmp(s, "true") == 0;
    }
    /* invariants: false is for scenarios that model an unsafe gateway (the
     * seed) to show it overcharging: there the invariants would fail the run
     * for the very thing the scenario demonstrates. */
    if ((n = km_get(km, "invariants")) != NULL) {
        const char *s;
        if (!get_text(c, n, "invariants", "true or false", &s)) {
            return false;
        }
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) {
            return fail_mark(c, n->start_mark, "invariants must be true or false (got '%.40s')",
                             s);
        }
        sc->no_invariants = strcmp(s, "false") == 0;
    }
    return true;
}

static bool parse_root(sc_ctx_t *c, yaml_node_t *root)
{
    static const char *const keys[] = {"name", "description", "duration", "seed", "sample",
                                       "live", "invariants", "bank", "system", "gateway",
                                       "events", "expect"};
    keymap_t km = {.where = "the scenario", .names = keys, .n = COUNT_OF(keys)};
    if (root->type != YAML_MAPPING_NODE) {
        return fail_mark(c, root->start_mark,
                         "a scenario is a map with the keys name, description, duration, bank "
                         "and expect; got %s",
                         kind_name(root));
    }
    if (!collect(c, root, "the scenario", &km)) {
        return false;
    }
    static const char *const required[] = {"name", "description", "duration", "bank", "expect"};
    for (int i = 0; i < COUNT_OF(required); i++) {
        if (!require(c, &km, root, required[i])) {
            return false;
        }
    }
    if (!parse_header(c, &km) || !parse_bank(c, km_get(&km, "bank"))) {
        return false;
    }
    yaml_node_t *n;
    if ((n = km_get(&km, "system")) != NULL && !is_null(n) && !parse_system(c, n)) {
        return false;
    }
    if ((n = km_get(&km, "gateway")) != NULL && !is_null(n) && !parse_gateway(c, n)) {
        return false;
    }
    if ((n = km_get(&km, "events")) != NULL && !is_null(n) && !parse_events(c, n)) {
        return false;
    }
    return parse_expects(c, km_get(&km, "expect"));
}

/* Reader errors (bad encoding, control characters) carry a byte offset, not a mark. */
static yaml_mark_t mark_of_offset(const char *buf, size_t len, size_t offset)
{
    yaml_mark_t m = {0};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (buf[i] == '\n') {
            m.line++;
            m.column = 0;
        } else {
            m.column++;
        }
    }
    return m;
}

static void syntax_error(sc_ctx_t *c, const yaml_parser_t *parser, const char *buf, size_t len)
{
    const char *problem = parser->problem != NULL ? parser->problem : "cannot parse";
    if (parser->error == YAML_READER_ERROR) {
        yaml_mark_t m = mark_of_offset(buf, len, parser->problem_offset);
        if (parser->problem_value >= 0) {
            fail_mark(c, m, "YAML syntax error: %s (byte 0x%02X)", problem,
                      (unsigned)parser->problem_value);
        } else {
            fail_mark(c, m, "YAML syntax error: %s", problem);
        }
        return;
    }
    yaml_mark_t m = parser->problem_mark;
    if (parser->context != NULL) {
        fail_mark(c, m, "YAML syntax error: %s %s (line %zu)", problem, parser->context,
                  parser->context_mark.line + 1);
    } else {
        fail_mark(c, m, "YAML syntax error: %s", problem);
    }
}

static void scenario_defaults(bench_scenario_t *sc, const char *name)
{
    memset(sc, 0, sizeof(*sc));
    snprintf(sc->path, sizeof(sc->path), "%s", name != NULL ? name : "<input>");
    sc->sample_s = 0.1;
    sc->system.ambient_c = 25;
    sc->bank.capacity_spread_pct = 1.0;
    sc->bank.soc_spread_pct = 0.5;
}

bool bench_scenario_load_mem(const char *name, const char *buf, size_t len, bench_scenario_t *sc,
                             bench_resolve_fn resolve, void *rctx, char *err, size_t errcap)
{
    sc_ctx_t c = {.sc = sc, .resolve = resolve, .rctx = rctx, .err = err, .errcap = errcap};
    scenario_defaults(sc, name);
    c.path = sc->path;
    if (err != NULL && errcap > 0) {
        err[0] = '\0';
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fail_mark(&c, (yaml_mark_t){0}, "out of memory");
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(buf != NULL ? buf : ""),
                                 buf != NULL ? len : 0);
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(&c, &parser, buf, len);
        yaml_parser_delete(&parser);
        return false;
    }
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        fail_mark(&c, (yaml_mark_t){0},
                  "the file is empty: a scenario needs name, description, duration, bank and "
                  "expect");
    } else if (parse_root(&c, root)) {
        /* A second document would be silently ignored otherwise. */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            syntax_error(&c, &parser, buf, len);
        } else {
            if (yaml_document_get_root_node(&next) != NULL) {
                fail_mark(&c, next.start_mark, "only one YAML document is allowed per file");
            }
            yaml_document_delete(&next);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return !c.failed;
}

bool bench_scenario_load(const char *path, bench_scenario_t *sc, bench_resolve_fn resolve,
                         void *rctx, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        scenario_defaults(sc, path);
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(e));
        return false;
    }
    char *buf = malloc(SC_MAX_FILE_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errcap, "%s: out of memory", path);
        return false;
    }
    size_t len = fread(buf, 1, SC_MAX_FILE_BYTES + 1, f);
    bool read_error = ferror(f) != 0;
    int e = errno;
    fclose(f);
    bool ok = false;
    if (read_error) {
        scenario_defaults(sc, path);
        snprintf(err, errcap, "%s: cannot read: %s", path, strerror(e));
    } else if (len > SC_MAX_FILE_BYTES) {
        scenario_defaults(sc, path);
        snprintf(err, errcap, "%s: file too large for a scenario (max %d bytes)", path,
                 SC_MAX_FILE_BYTES);
    } else {
        ok = bench_scenario_load_mem(path, buf, len, sc, resolve, rctx, err, errcap);
    }
    free(buf);
    return ok;
}

/* ---- durations ---- */

bool bench_parse_duration(const char *text, double *seconds)
{
    static const struct { const char *unit; double scale; } units[] = {
        {"ms", 1e-3}, {"s", 1.0}, {"min", 60.0}, {"m", 60.0}, {"h", 3600.0},
    };
    if (text == NULL) {
        return false;
    }
    const char *s = text;
    while (*s == ' ') {
        s++;
    }
    double total = 0;
    int groups = 0;
    bool bare = false;
    while (*s != '\0') {
        if (bare) {
            return false;   /* a unitless number must stand alone */
        }
        const char *num = s;
        size_t digits = 0;
        while (*s >= '0' && *s <= '9') {
            s++;
            digits++;
        }
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                s++;
                digits++;
            }
        }
        if (digits == 0 || (size_t)(s - num) > 30) {
            return false;
        }
        char buf[32];
        memcpy(buf, num, (size_t)(s - num));
        buf[s - num] = '\0';
        double v = strtod(buf, NULL);
        size_t ulen = 0;
        while ((s[ulen] >= 'a' && s[ulen] <= 'z') || (s[ulen] >= 'A' && s[ulen] <= 'Z')) {
            ulen++;
        }
        if (ulen == 0) {
            bare = true;
        } else {
            bool found = false;
            for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strlen(units[i].unit) == ulen && memcmp(s, units[i].unit, ulen) == 0) {
                    v *= units[i].scale;
                    found = true;
                    break;
                }
            }
            if (!found) {
                return false;
            }
            s += ulen;
        }
        total += v;
        groups++;
        while (*s == ' ') {
            s++;
        }
    }
    if (groups == 0 || (bare && groups > 1) || !isfinite(total)) {
        return false;
    }
    *seconds = total;
    return true;
}
