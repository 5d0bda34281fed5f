/* SPDX-License-Identifier: MIT */
/* Scenario files (YAML): the bank, the system, timed events and
 * expectations. See docs/scenario-format.md (README.md "Scenario format"). */
#ifndef BENCH_SCENARIO_H
#define BENCH_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "harness/expr.h"
#include "sim/profile.h"

#define BENCH_MAX_PACKS 16
#define BENCH_MAX_EVENTS 64
#define BENCH_MAX_EXPECTS 32
#define BENCH_MAX_GWSET 16

typedef enum bench_family {
    BENCH_FAM_TOPBAND = 0,  /* Topband/EET packs on RS485 */
    BENCH_FAM_TINYBMS,      /* one TinyBMS on a UART */
    BENCH_FAM_SUPERB,       /* SuperB Epsilon V2 batteries on CANopen */
    BENCH_FAM_BALANCER,     /* one balancer module per cell on a 300 Bd bus; the gateway is the BMS */
} bench_family_t;

typedef struct bench_pack_cfg {
    int cells;              /* topband 15 or 16; tinybms 4..16; superb 4; balancer 1..50 */
    double capacity_ah;
    double soc_pct;
    double temperature_c;
    int family;             /* 0 = eet, 1 = topbms */
    int address;            /* RS485 address (default index) or CANopen node id (default index + 1) */
    int cycles;
    uint16_t fw_version;    /* superb: 0x0106 = 1.6 (default) */
} bench_pack_cfg_t;

typedef struct bench_bank_cfg {
    char family[16];        /* "topband", "tinybms" or "superb" */
    bench_family_t kind;
    int npacks;
    bench_pack_cfg_t packs[BENCH_MAX_PACKS];
    double capacity_spread_pct;  /* sd of cell capacity, default 1 */
    double soc_spread_pct;       /* sd of cell SOC, default 0.5 */
} bench_bank_cfg_t;

typedef struct bench_system_cfg {
    double charger_a;       /* charge the system could push, default 0; with a pv profile: its value at t = 0 */
    double load_a;          /* load, default 0; with a load profile: its value at t = 0 */
    double ambient_c;       /* default 25 */
    sim_profile_t pv;       /* `pv:` profile; kind NONE = the constant charger_a */
    sim_profile_t load;     /* `load:` as a map; kind NONE = the constant load_a */
} bench_system_cfg_t;

/* The PV (charger) and load currents at t_s: the profile when one is set,
 * else the plain number. Events `charger:` / `load:` replace the profile by a
 * constant from their time on: bench_system_set_pv_a / _load_a do that on a
 * copy of the system the runner keeps. (harness/scenario_system.c) */
double bench_system_pv_a(const bench_system_cfg_t *s, double t_s);
double bench_system_load_a(const bench_system_cfg_t *s, double t_s);
void bench_system_set_pv_a(bench_system_cfg_t *s, double a);
void bench_system_set_load_a(bench_system_cfg_t *s, double a);

typedef enum bench_action {
    BENCH_ACT_TEMPERATURE = 1,  /* set pack (or one cell) temperature: value degC */
    BENCH_ACT_CELL_SOC,         /* set a cell's SOC: value % */
    BENCH_ACT_CELL_CAPACITY,    /* scale a cell's capacity: value % of nominal */
    BENCH_ACT_CELL_OFFSET,      /* add value mV to a cell's voltage */
    BENCH_ACT_FAULT,            /* emulator fault knob on a pack (text), late value ms */
    BENCH_ACT_CLEAR_FAULTS,     /* all knobs off on a pack */
    BENCH_ACT_CHARGER,          /* charger_a = value */
    BENCH_ACT_LOAD,             /* load_a = value */
    BENCH_ACT_AMBIENT,          /* ambient degC = value */
    BENCH_ACT_BUS_GARBAGE,      /* value bytes of noise on the BMS line */
    BENCH_ACT_REBOOT,           /* the pack's BMS restarts */
    BENCH_ACT_FIRMWARE,         /* superb: firmware version = value (1.6 -> 0x0106) */
    BENCH_ACT_BMS_SETTING,      /* tinybms: setting register `reg` = value, as the BMS's own tool would */
    BENCH_ACT_TOOL_WRITE,       /* tinybms: a configuration tool on the UART sends a 0x10 write of `reg` */
    BENCH_ACT_BUTTON,           /* balancer: the mode button is pressed (acknowledge) */
    BENCH_ACT_DUPLICATE,        /* balancer: the module of `cell` also answers at address value */
} bench_action_t;

typedef struct bench_event {
    double at_s;
    bench_action_t action;
    int pack;               /* index, -1 = all packs */
    int cell;               /* 0-based, -1 = all cells */
    double value;           /* action value; fault late: the delay in ms */
    char text[32];          /* fault name */
    int reg;                /* bms_setting: register number */
    int line, col;          /* where it was written */
} bench_event_t;

typedef enum bench_expect_kind {
    BENCH_EXP_ALWAYS = 1,   /* expr true at every sample in [from, until] */
    BENCH_EXP_NEVER,        /* expr false at every sample in [from, until] */
    BENCH_EXP_EVENTUALLY,   /* expr true at some sample at or before by_s */
    BENCH_EXP_WITHIN,       /* each time `after` becomes true, `then` true within d_s */
    BENCH_EXP_AT,           /* expr true at the first sample at or after at_s */
} bench_expect_kind_t;

typedef struct bench_expect {
    bench_expect_kind_t kind;
    bench_expr_t expr;      /* always/never/eventually/at: the condition; within: `then` */
    bench_expr_t after;     /* within: the trigger */
    double from_s, until_s; /* always/never window (until_s < 0: to the end) */
    double by_s;            /* eventually */
    double d_s;             /* within */
    double at_s;            /* at */
    char label[96];         /* e.g. "always ccl_a <= 100" */
    int line, col;
} bench_expect_t;

typedef struct bench_gwset {
    char key[32];
    double value;
    int line, col;
} bench_gwset_t;

typedef struct bench_scenario {
    char path[512];
    char name[64];
    char description[256];
    double duration_s;
    double sample_s;        /* expectation sampling period, default 0.1 */
    uint64_t seed;
    bool has_seed;
    bool live;              /* `live: true`: may run in wall-clock time (run --live); default false */
    bool no_invariants;     /* `invariants: false`: the safety invariants are not checked (only for
                               models of unsafe gateways, e.g. the seed); default false */
    bench_bank_cfg_t bank;
    bench_system_cfg_t system;
    bench_gwset_t gwset[BENCH_MAX_GWSET];   /* gateway: key: value overrides */
    int ngwset;
    bench_event_t events[BENCH_MAX_EVENTS];   /* sorted by at_s, ties in file order */
    int nevents;
    bench_expect_t expects[BENCH_MAX_EXPECTS];
    int nexpects;
} bench_scenario_t;

/* Load and validate a scenario. Signal names are resolved with resolve.
 * On error returns false and writes "file:line:col: message" into err
 * (1-based; "file: cannot open: <strerror>" when the file cannot be read). */
bool bench_scenario_load(const char *path, bench_scenario_t *sc, bench_resolve_fn resolve,
                         void *rctx, char *err, size_t errcap);

/* Same, from a buffer (tests, fuzzing); name stands for the path in messages. */
bool bench_scenario_load_mem(const char *name, const char *buf, size_t len, bench_scenario_t *sc,
                             bench_resolve_fn resolve, void *rctx, char *err, size_t errcap);

/* Parse a duration: "90", "90s", "500ms", "10m", "10min", "2h", "1h30m", "1.5h".
 * A bare number is seconds; negative or malformed text returns false. */
bool bench_parse_duration(const char *text, double *seconds);

#endif
