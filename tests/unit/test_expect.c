/* SPDX-License-Identifier: MIT */
/* Tests of the expectation state machines on synthetic sample sequences, pass and fail paths. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/expect.h"

static const char *const names[] = {"a", "b"};

static int resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (int i = 0; i < 2; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
            return i;
        }
    }
    return -1;
}

#define MAX_SAMPLES 12

typedef struct sample {
    double t, a, b;
} sample_t;

typedef struct case_row {
    bench_expect_kind_t kind;
    const char *expr;       /* condition, or `then` for within */
    const char *after;      /* within trigger */
    double from_s, until_s, by_s, d_s, at_s;
    int n;
    sample_t s[MAX_SAMPLES];
    double t_end;           /* finish: with the last sample's values */
    bench_verdict_t want;
    double want_fail_t;
    const char *want_msg;   /* exact, "" when passing */
    int want_triggers;      /* within only */
} case_row_t;

#define ALWAYS(e, from, until) BENCH_EXP_ALWAYS, e, NULL, from, until, 0, 0, 0
#define NEVER(e, from, until) BENCH_EXP_NEVER, e, NULL, from, until, 0, 0, 0
#define EVENTUALLY(e, by) BENCH_EXP_EVENTUALLY, e, NULL, 0, -1, by, 0, 0
#define WITHIN(d, after, then) BENCH_EXP_WITHIN, then, after, 0, -1, 0, d, 0
#define AT(t, e) BENCH_EXP_AT, e, NULL, 0, -1, 0, 0, t

static const case_row_t rows[] = {
    /* 0: always holds */
    {ALWAYS("a <= 100", 0, -1), 3, {{0, 50, 0}, {0.1, 60, 0}, {0.2, 100, 0}}, 0.2, BENCH_PASS,
     NAN, "", 0},
    /* 1: always fails at the first false sample; later samples change nothing */
    {ALWAYS("a <= 100", 0, -1), 4, {{0, 50, 0}, {0.1, 150, 0}, {0.2, 50, 0}, {0.3, 170, 0}}, 0.3,
     BENCH_FAIL, 0.1, "at t=0.1s: a <= 100 is false (a=150)", 0},
    /* 2: violations outside [from, until] do not count */
    {ALWAYS("a <= 100", 1, 2), 5, {{0.5, 500, 0}, {1, 1, 0}, {1.5, 2, 0}, {2, 3, 0}, {2.5, 600, 0}},
     2.5, BENCH_PASS, NAN, "", 0},
    /* 3: ... inside they do, until included */
    {ALWAYS("a <= 100", 1, 2), 4, {{0.5, 500, 0}, {1, 1, 0}, {1.5, 2, 0}, {2, 300, 0}}, 2,
     BENCH_FAIL, 2, "at t=2.0s: a <= 100 is false (a=300)", 0},
    /* 4: never holds */
    {NEVER("a == 1", 0, -1), 3, {{0, 0, 0}, {1, 2, 0}, {2, 0, 0}}, 2, BENCH_PASS, NAN, "", 0},
    /* 5: never fails at the first true sample, listing every referenced signal once */
    {NEVER("a == 1 and b < a + 1", 0, -1), 3, {{0, 0, 0}, {3, 1, 0.5}, {4, 1, 0.5}}, 4,
     BENCH_FAIL, 3, "at t=3.0s: a == 1 and b < a + 1 is true (a=1, b=0.5)", 0},
    /* 6: eventually passes at the first true sample before by */
    {EVENTUALLY("a == 0", 10), 3, {{0, 5, 0}, {2, 0, 0}, {3, 5, 0}}, 3, BENCH_PASS, NAN, "", 0},
    /* 7: eventually true exactly at by still counts */
    {EVENTUALLY("a == 0", 1), 3, {{0, 5, 0}, {0.5, 5, 0}, {1, 0, 0}}, 1, BENCH_PASS, NAN, "", 0},
    /* 8: eventually fails at the first sample after by */
    {EVENTUALLY("a == 0", 1), 4, {{0, 5, 0}, {0.5, 5, 0}, {1, 5, 0}, {1.5, 0, 0}}, 1.5,
     BENCH_FAIL, 1.5, "at t=1.5s: a == 0 did not become true by t=1.0s (a=0)", 0},
    /* 9: eventually never true in a run that ends before by: fails at finish */
    {EVENTUALLY("a == 0", 10), 2, {{0, 5, 0}, {3, 5, 0}}, 3, BENCH_FAIL, 3,
     "at t=3.0s: a == 0 never became true (run ended; a=5)", 0},
    /* 10: within met before the deadline */
    {WITHIN(5, "b >= 3.65", "a == 0"), 4, {{0, 50, 3.5}, {1, 50, 3.66}, {4, 0, 3.66}, {8, 0, 3.6}},
     8, BENCH_PASS, NAN, "", 1},
    /* 11: within never triggered passes with triggered = false */
    {WITHIN(5, "b >= 3.65", "a == 0"), 3, {{0, 50, 3.5}, {10, 50, 3.5}, {20, 50, 3.6}}, 20,
     BENCH_PASS, NAN, "", 0},
    /* 12: within missed: a sample at the deadline is still in time, the next one fails */
    {WITHIN(5, "b >= 3.65", "a == 0"), 4,
     {{0, 50, 3.5}, {1, 12.5, 3.66}, {6, 12.5, 3.66}, {6.1, 12.5, 3.66}}, 6.1, BENCH_FAIL, 6.1,
     "a == 0 not true within 5s after b >= 3.65 became true at t=1.0s (a=12.5, b=3.66)", 1},
    /* 13: then true at the triggering sample passes that arming */
    {WITHIN(5, "b >= 3.65", "a == 0"), 3, {{0, 50, 3.5}, {1, 0, 3.7}, {10, 50, 3.7}}, 10,
     BENCH_PASS, NAN, "", 1},
    /* 14: two triggers: the first is met, the second is missed */
    {WITHIN(5, "b >= 3.65", "a == 0"), 7,
     {{0, 50, 3.5}, {1, 50, 3.7}, {2, 0, 3.7}, {3, 9, 3.5}, {10, 9, 3.7}, {15, 9, 3.7},
      {15.1, 9, 3.7}},
     15.1, BENCH_FAIL, 15.1,
     "a == 0 not true within 5s after b >= 3.65 became true at t=10.0s (a=9, b=3.7)", 2},
    /* 15: two triggers, both met */
    {WITHIN(5, "b >= 3.65", "a == 0"), 6,
     {{0, 50, 3.5}, {1, 50, 3.7}, {2, 0, 3.7}, {3, 9, 3.5}, {10, 9, 3.7}, {12, 0, 3.7}}, 12,
     BENCH_PASS, NAN, "", 2},
    /* 16: a trigger already true at the first sample arms at t=0 */
    {WITHIN(5, "b >= 3.65", "a == 0"), 2, {{0, 9, 3.7}, {5.5, 9, 3.7}}, 5.5, BENCH_FAIL, 5.5,
     "a == 0 not true within 5s after b >= 3.65 became true at t=0.0s (a=9, b=3.7)", 1},
    /* 17: a window still open at the end is not a failure */
    {WITHIN(5, "b >= 3.65", "a == 0"), 3, {{0, 9, 3.5}, {8, 9, 3.7}, {10, 9, 3.7}}, 10,
     BENCH_PASS, NAN, "", 1},
    /* 18: a window that closed before the end with no sample after it fails at finish */
    {WITHIN(1, "b >= 3.65", "a == 0"), 2, {{0, 9, 3.5}, {8, 9, 3.7}}, 10, BENCH_FAIL, 10,
     "a == 0 not true within 1s after b >= 3.65 became true at t=8.0s (a=9, b=3.7)", 1},
    /* 19: only rising edges arm: a trigger that stays true does not re-arm */
    {WITHIN(5, "b >= 3.65", "a == 0"), 4, {{0, 9, 3.5}, {1, 0, 3.7}, {2, 9, 3.7}, {30, 9, 3.7}},
     30, BENCH_PASS, NAN, "", 1},
    /* 20: a re-trigger while armed keeps the first, earlier deadline */
    {WITHIN(5, "b >= 3.65", "a == 0"), 5,
     {{0, 9, 3.7}, {1, 9, 3.5}, {2, 9, 3.7}, {5, 9, 3.7}, {5.5, 9, 3.7}}, 5.5, BENCH_FAIL, 5.5,
     "a == 0 not true within 5s after b >= 3.65 became true at t=0.0s (a=9, b=3.7)", 2},
    /* 21: sub-second windows are written in ms */
    {WITHIN(0.5, "b > 0", "a > 0"), 3, {{0, 0, 0}, {0.1, 0, 1}, {0.7, 0, 1}}, 0.7, BENCH_FAIL,
     0.7, "a > 0 not true within 500ms after b > 0 became true at t=0.1s (a=0, b=1)", 1},
    /* 22: at checks the first sample at or after T */
    {AT(5, "a >= 95"), 3, {{4.9, 0, 0}, {5, 96, 0}, {5.1, 0, 0}}, 5.1, BENCH_PASS, NAN, "", 0},
    /* 23: ... and only that one */
    {AT(5, "a >= 95"), 3, {{4.9, 99, 0}, {5.2, 0, 0}, {5.3, 99, 0}}, 5.3, BENCH_FAIL, 5.2,
     "at t=5.2s: a >= 95 is false (a=0)", 0},
    /* 24: a run that ends before T fails */
    {AT(5, "a >= 95"), 2, {{0, 99, 0}, {4, 99, 0}}, 4, BENCH_FAIL, 4,
     "run ended at t=4.0s, before t=5.0s", 0},
    /* 25: sample times built by summing 0.1 still hit "until 0.3" */
    {ALWAYS("a < 1", 0, 0.3), 4, {{0.1, 0, 0}, {0.2, 0, 0}, {0.1 + 0.1 + 0.1, 5, 0}, {0.4, 5, 0}},
     0.4, BENCH_FAIL, 0.1 + 0.1 + 0.1, "at t=0.3s: a < 1 is false (a=5)", 0},
};

static void compile_or_die(bench_expr_t *e, const char *text, size_t row)
{
    char err[160];
    int col;
    if (!bench_expr_compile(e, text, resolve, NULL, &col, err, sizeof(err))) {
        fail_msg("row %zu: '%s' does not compile: %s", row, text, err);
    }
}

static void test_expect_state_machines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const case_row_t *r = &rows[i];
        bench_expect_t x;
        memset(&x, 0, sizeof(x));
        x.kind = r->kind;
        compile_or_die(&x.expr, r->expr, i);
        if (r->after != NULL) {
            compile_or_die(&x.after, r->after, i);
        }
        x.from_s = r->from_s;
        x.until_s = r->until_s;
        x.by_s = r->by_s;
        x.d_s = r->d_s;
        x.at_s = r->at_s;

        bench_expect_state_t st;
        bench_expect_start(&st, &x);
        double sig[2] = {0, 0};
        for (int k = 0; k < r->n; k++) {
            sig[0] = r->s[k].a;
            sig[1] = r->s[k].b;
            bench_expect_sample(&st, r->s[k].t, sig, names);
        }
        bench_expect_finish(&st, r->t_end, sig, names);

        bool t_ok = isnan(r->want_fail_t) ? isnan(st.fail_t)
                                          : fabs(st.fail_t - r->want_fail_t) < 1e-12;
        if (st.verdict != r->want || !t_ok || strcmp(st.message, r->want_msg) != 0) {
            fail_msg("row %zu: got verdict %d at t=%g \"%s\"; want %d at t=%g \"%s\"", i,
                     st.verdict, st.fail_t, st.message, r->want, r->want_fail_t, r->want_msg);
        }
        if (r->kind == BENCH_EXP_WITHIN &&
            (st.ntriggers != r->want_triggers || st.triggered != (r->want_triggers > 0))) {
            fail_msg("row %zu: got %d triggers (triggered %d), want %d", i, st.ntriggers,
                     st.triggered, r->want_triggers);
        }
    }
}

static void test_expect_nan_signal_is_not_true(void **state)
{
    (void)state;
    bench_expect_t x;
    memset(&x, 0, sizeof(x));
    x.kind = BENCH_EXP_ALWAYS;
    x.until_s = -1;
    compile_or_die(&x.expr, "a != 5", 0);
    bench_expect_state_t st;
    bench_expect_start(&st, &x);
    double sig[2] = {NAN, 0};
    bench_expect_sample(&st, 0.5, sig, names);
    assert_int_equal(st.verdict, BENCH_FAIL);
    assert_string_equal(st.message, "at t=0.5s: a != 5 is false (a=nan)");
}

static void test_expect_names_may_be_missing(void **state)
{
    (void)state;
    bench_expect_t x;
    memset(&x, 0, sizeof(x));
    x.kind = BENCH_EXP_NEVER;
    x.until_s = -1;
    compile_or_die(&x.expr, "b > 1", 0);
    bench_expect_state_t st;
    bench_expect_start(&st, &x);
    double sig[2] = {0, 2};
    bench_expect_sample(&st, 1, sig, NULL);
    assert_int_equal(st.verdict, BENCH_FAIL);
    assert_string_equal(st.message, "at t=1.0s: b > 1 is true (#1=2)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expect_state_machines),
        cmocka_unit_test(test_expect_nan_signal_is_not_true),
        cmocka_unit_test(test_expect_names_may_be_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
