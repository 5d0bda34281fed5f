/* SPDX-License-Identifier: MIT */
/* Scenario YAML writer; see scenario_write.h. Keys and shapes follow
 * docs/scenario-format.md, which the loader (scenario.c) enforces. */
#include "harness/scenario_write.h"

#include <errno.h>
#include <string.h>

/* A double-quoted YAML scalar: backslash and quote escaped, control
 * characters as \xNN, so any text survives. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p < 0x20 || *p == 0x7F) {
            fprintf(f, "\\x%02X", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void put_num(FILE *f, const char *key, double v)
{
    fprintf(f, "%s: %.17g", key, v);
}

static const char *const family_names[] = {"topband", "tinybms", "superb", "balancer"};

static const char *family_name(bench_family_t k)
{
    return (unsigned)k < sizeof family_names / sizeof family_names[0] ? family_names[k]
                                                                      : "topband";
}

static void write_pack(FILE *f, const bench_bank_cfg_t *b, const bench_pack_cfg_t *p)
{
    fprintf(f, "    - {cells: %d, ", p->cells);
    put_num(f, "capacity_ah", p->capacity_ah);
    fputs(", ", f);
    put_num(f, "soc", p->soc_pct);
    fputs(", ", f);
    put_num(f, "temperature", p->temperature_c);
    fprintf(f, ", cycles: %d, address: %d", p->cycles, p->address);
    if (b->kind == BENCH_FAM_TOPBAND) {
        fprintf(f, ", variant: %s", p->family == 1 ? "topbms" : "eet");
    }
    if (b->kind == BENCH_FAM_SUPERB) {
        fprintf(f, ", firmware: \"%u.%u\"", (unsigned)(p->fw_version >> 8),
                (unsigned)(p->fw_version & 0xFF));
    }
    fputs("}\n", f);
}

static void write_bank(FILE *f, const bench_bank_cfg_t *b)
{
    fprintf(f, "bank:\n  family: %s\n  ", family_name(b->kind));
    put_num(f, "capacity_spread", b->capacity_spread_pct);
    fputs("\n  ", f);
    put_num(f, "soc_spread", b->soc_spread_pct);
    fputs("\n  packs:\n", f);
    for (int i = 0; i < b->npacks && i < BENCH_MAX_PACKS; i++) {
        write_pack(f, b, &b->packs[i]);
    }
}

static void write_profile(FILE *f, const char *key, const sim_profile_t *p)
{
    fprintf(f, "  %s: {profile: %s, ", key, sim_profile_kind_name(p->kind));
    switch (p->kind) {
    case SIM_PROFILE_CONSTANT: put_num(f, "a", p->a_a); break;
    case SIM_PROFILE_RAMP:
        put_num(f, "from_a", p->from_a);
        fputs(", ", f);
        put_num(f, "to_a", p->to_a);
        fputs(", ", f);
        put_num(f, "over", p->over_s);
        break;
    case SIM_PROFILE_DAY:
        put_num(f, "peak_a", p->peak_a);
        fputs(", ", f);
        put_num(f, "sunrise", p->sunrise_s);
        fputs(", ", f);
        put_num(f, "sunset", p->sunset_s);
        break;
    case SIM_PROFILE_NONE: break;
    }
    fputs("}\n", f);
}

static void write_system(FILE *f, const bench_system_cfg_t *s)
{
    fputs("system:\n", f);
    if (s->pv.kind != SIM_PROFILE_NONE) {
        write_profile(f, "pv", &s->pv);
    } else {
        fputs("  ", f);
        put_num(f, "charger", s->charger_a);
        fputc('\n', f);
    }
    if (s->load.kind != SIM_PROFILE_NONE) {
        write_profile(f, "load", &s->load);
    } else {
        fputs("  ", f);
        put_num(f, "load", s->load_a);
        fputc('\n', f);
    }
    fputs("  ", f);
    put_num(f, "ambient", s->ambient_c);
    fputc('\n', f);
}

static const struct {
    bench_action_t act;
    const char *key;
} action_keys[] = {
    {BENCH_ACT_TEMPERATURE, "temperature"}, {BENCH_ACT_CELL_SOC, "cell_soc"},
    {BENCH_ACT_CELL_CAPACITY, "cell_capacity"}, {BENCH_ACT_CELL_OFFSET, "cell_offset"},
    {BENCH_ACT_FAULT, "fault"}, {BENCH_ACT_CLEAR_FAULTS, "clear_faults"},
    {BENCH_ACT_CHARGER, "charger"}, {BENCH_ACT_LOAD, "load"}, {BENCH_ACT_AMBIENT, "ambient"},
    {BENCH_ACT_BUS_GARBAGE, "bus_garbage"}, {BENCH_ACT_REBOOT, "reboot"},
    {BENCH_ACT_FIRMWARE, "firmware"}, {BENCH_ACT_BMS_SETTING, "bms_setting"},
    {BENCH_ACT_TOOL_WRITE, "tool_write"},
};

static const char *action_key(bench_action_t act)
{
    for (size_t i = 0; i < sizeof action_keys / sizeof action_keys[0]; i++) {
        if (action_keys[i].act == act) {
            return action_keys[i].key;
        }
    }
    return NULL;
}

static void write_event(FILE *f, const bench_event_t *e)
{
    const char *key = action_key(e->action);
    if (key == NULL) {
        return; /* not an action a file can hold */
    }
    fputs("  - ", f);
    put_num(f, "at", e->at_s);
    fprintf(f, "\n    %s: ", key);
    switch (e->action) {
    case BENCH_ACT_FAULT:
        put_quoted(f, e->text);
        if (strcmp(e->text, "late") == 0) {
            fputs("\n    ", f);
            put_num(f, "late", e->value / 1000.0);
        }
        break;
    case BENCH_ACT_CLEAR_FAULTS:
    case BENCH_ACT_REBOOT: fputs("true", f); break;
    case BENCH_ACT_FIRMWARE: {
        unsigned v = (unsigned)e->value;
        fprintf(f, "\"%u.%u\"", (v >> 8) & 0xFF, v & 0xFF);
        break;
    }
    case BENCH_ACT_BMS_SETTING:
    case BENCH_ACT_TOOL_WRITE: fprintf(f, "%.17g\n    register: %d", e->value, e->reg); break;
    default: fprintf(f, "%.17g", e->value); break;
    }
    if (e->pack >= 0) {
        fprintf(f, "\n    pack: %d", e->pack);
    }
    if (e->cell >= 0) {
        fprintf(f, "\n    cell: %d", e->cell);
    }
    fputc('\n', f);
}

static void write_expect(FILE *f, const bench_expect_t *x)
{
    switch (x->kind) {
    case BENCH_EXP_ALWAYS:
    case BENCH_EXP_NEVER:
        fprintf(f, "  - %s: ", x->kind == BENCH_EXP_ALWAYS ? "always" : "never");
        put_quoted(f, x->expr.text);
        fprintf(f, "\n    from: %.17g", x->from_s);
        if (x->until_s >= 0) {
            fprintf(f, "\n    until: %.17g", x->until_s);
        }
        break;
    case BENCH_EXP_EVENTUALLY:
        fputs("  - eventually: ", f);
        put_quoted(f, x->expr.text);
        fprintf(f, "\n    by: %.17g", x->by_s);
        break;
    case BENCH_EXP_WITHIN:
        fprintf(f, "  - within: %.17g\n    after: ", x->d_s);
        put_quoted(f, x->after.text);
        fputs("\n    then: ", f);
        put_quoted(f, x->expr.text);
        break;
    case BENCH_EXP_AT:
        fprintf(f, "  - at: %.17g\n    check: ", x->at_s);
        put_quoted(f, x->expr.text);
        break;
    default: return;
    }
    fputs("\n    name: ", f);
    put_quoted(f, x->label);
    fputc('\n', f);
}

int bench_scenario_write(FILE *f, const bench_scenario_t *sc)
{
    fputs("# SPDX-License-Identifier: MIT\n", f);
    fputs("name: ", f);
    put_quoted(f, sc->name);
    fputs("\ndescription: ", f);
    put_quoted(f, sc->description);
    fputc('\n', f);
    put_num(f, "duration", sc->duration_s);
    fputc('\n', f);
    put_num(f, "sample", sc->sample_s);
    fputc('\n', f);
    if (sc->has_seed) {
        fprintf(f, "seed: %llu\n", (unsigned long long)sc->seed);
    }
    write_bank(f, &sc->bank);
    write_system(f, &sc->system);
    if (sc->ngwset > 0) {
        fputs("gateway:\n", f);
        for (int i = 0; i < sc->ngwset && i < BENCH_MAX_GWSET; i++) {
            fprintf(f, "  %s: %.17g\n", sc->gwset[i].key, sc->gwset[i].value);
        }
    }
    if (sc->nevents > 0) {
        fputs("events:\n", f);
        for (int i = 0; i < sc->nevents && i < BENCH_MAX_EVENTS; i++) {
            write_event(f, &sc->events[i]);
        }
    }
    fputs("expect:\n", f);
    if (sc->nexpects == 0) {
        fputs("  - always: \"t >= 0\"\n    name: \"invariants only\"\n", f);
    }
    for (int i = 0; i < sc->nexpects && i < BENCH_MAX_EXPECTS; i++) {
        write_expect(f, &sc->expects[i]);
    }
    return ferror(f) ? -1 : 0;
}

int bench_scenario_write_file(const char *path, const bench_scenario_t *sc, char *err,
                              size_t errcap)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errcap, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    int rc = bench_scenario_write(f, sc);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errcap, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
