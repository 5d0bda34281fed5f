/* SPDX-License-Identifier: MIT */
/* GX-side checks of a Victron capture: the safety rules that can be judged
 * from the frames alone, with thresholds from a small chemistry profile.
 *
 * Feed frames in time order; each rule keeps an episode: a condition that
 * holds is reported once, when it has held longer than the rule's grace
 * (0 for rules on a single frame), with the time it began; it re-arms when
 * the condition clears. Limits are judged against the latest 0x373 (min/max
 * cell voltage and temperature), which is what a GX knows at that moment. */
#ifndef BENCH_REPLAY_CHECK_H
#define BENCH_REPLAY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "harness/monitor.h"

/* Rule table: name, what it checks. */
#define BENCH_REPLAY_RULES                                                                    \
    X(ccl_at_high_cell, "CCL > 0 while the highest cell is at or above the cell maximum")      \
    X(dcl_at_low_cell, "DCL > 0 while the lowest cell is at or below the cell minimum")        \
    X(charge_cold, "CCL > 0 while the coldest cell is below the charge minimum temperature")  \
    X(charge_hot, "CCL > 0 while the hottest cell is above the charge maximum temperature")   \
    X(discharge_temp, "DCL > 0 while a cell is outside the discharge temperature range")      \
    X(cvl_above_max, "CVL above cells x cell maximum")                                        \
    X(gap_351, "0x351 silent longer than the allowed gap")                                    \
    X(gap_frame, "0x355/0x356/0x35A silent longer than the allowed gap (once seen)")          \
    X(missing_351, "no 0x351 in the whole capture")                                           \
    X(req_35c_vs_351, "0x35C enable bits disagree with CCL/DCL in 0x351")                     \
    X(reserved_pair, "0x35A pair carrying the reserved value 3")                              \
    X(frame_too_short, "a Victron BMS id with a DLC too short for its fields")                \
    X(scaling_cell_v, "0x373 cell voltage impossible for the profile, or min above max")      \
    X(scaling_pack_v, "0x356 voltage or 0x351 CVL/DVL impossible for cells x profile")        \
    X(scaling_temp, "temperature outside -40..100 degC (0x356, 0x373)")                       \
    X(scaling_limits, "negative CCL/DCL, or SOC/SOH above 100 %")

typedef enum bench_replay_rule {
#define X(n, h) BENCH_RULE_##n,
    BENCH_REPLAY_RULES
#undef X
    BENCH_RULE_COUNT
} bench_replay_rule_t;

extern const char *const bench_replay_rule_names[BENCH_RULE_COUNT];
extern const char *const bench_replay_rule_help[BENCH_RULE_COUNT];

typedef struct bench_replay_profile {
    char name[16];
    int cells;
    uint16_t cell_max_mv, cell_min_mv;          /* cut-offs: 3650 / 2500 for LiFePO4 */
    uint16_t cell_abs_max_mv, cell_abs_min_mv;  /* physically possible: 4200 / 1500 */
    int16_t charge_min_dc, charge_max_dc;       /* 0.1 degC */
    int16_t discharge_min_dc, discharge_max_dc;
    uint32_t gap_351_ms;                        /* 3000: what GXes/inverters tolerate */
    uint32_t gap_frame_ms;                      /* 10000 */
    uint32_t grace_ms;                          /* reaction time for the limit rules */
} bench_replay_profile_t;

/* Fill a profile: "lifepo4" (the only one so far). cells 1..50. false with a
 * reason in err when either is unknown or out of range. */
bool bench_replay_profile_get(const char *name, int cells, bench_replay_profile_t *p, char *err,
                              size_t cap);

typedef struct bench_replay_violation {
    uint64_t t_us;               /* when the condition began */
    uint64_t seen_us;            /* when it was decided */
    uint32_t id;                 /* the frame that showed it (0: none) */
    bench_replay_rule_t rule;
    char values[192];
} bench_replay_violation_t;

#define BENCH_REPLAY_MAX_VIOLATIONS 512
#define BENCH_REPLAY_WINDOWS 12

typedef struct bench_replay_window {
    uint64_t from_us, to_us;
    unsigned samples;            /* limit samples in the window */
    double cvl_min, cvl_max, ccl_min, ccl_max, dcl_min, dcl_max;
} bench_replay_window_t;

typedef struct bench_replay_check {
    bench_replay_profile_t prof;
    bench_gx_t gx;               /* what a GX knows so far */
    /* read-only results */
    uint64_t nviolations;        /* all, also those past the array */
    bench_replay_violation_t v[BENCH_REPLAY_MAX_VIOLATIONS];
    uint64_t frames, first_us, last_us;
    bool timed;                  /* frames carried times (gap rules apply) */
    uint64_t n351;
    /* limits over time: 0x351 values in samples of one second, merged in
     * windows at the end (bench_replay_summary) */
    struct bench_replay_sample { uint64_t t_us; float cvl, ccl, dcl; } *track;
    size_t ntrack, captrack;
    /* private */
    /* episodes: one per rule, plus one for the rules two frames can break
     * (pack voltage, temperature and limits scaling: 0x356/0x373/0x355) */
    bool active[BENCH_RULE_COUNT + 3];
    bool reported[BENCH_RULE_COUNT + 3];
    uint64_t since_us[BENCH_RULE_COUNT + 3];
    uint64_t last_seen_us[0x800];
    bool short_id[0x800];        /* frame_too_short reported for this id, not decoded since */
} bench_replay_check_t;

/* The checker is large (it embeds a bench_gx_t): allocate it. */
void bench_replay_check_init(bench_replay_check_t *c, const bench_replay_profile_t *p);
void bench_replay_check_free(bench_replay_check_t *c);
/* One frame as read from the log (id with SocketCAN flags). has_time false:
 * the gap rules are off for the whole capture. */
void bench_replay_check_frame(bench_replay_check_t *c, uint32_t id, uint8_t dlc,
                              const uint8_t *data, uint64_t t_us, bool has_time);
/* End of the capture: gaps up to its end, missing 0x351, pending episodes. */
void bench_replay_check_finish(bench_replay_check_t *c);
/* Limits over time in up to BENCH_REPLAY_WINDOWS equal windows; returns how many. */
int bench_replay_summary(const bench_replay_check_t *c, bench_replay_window_t *w, int maxw);

#endif
