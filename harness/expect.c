/* SPDX-License-Identifier: MIT */
/* Expectation state machines: always, never, eventually, within, at (semantics in expect.h). */
#include "harness/expect.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Sample times are sums of a period; a deadline must not be missed by rounding. */
#define EXPECT_EPS_S 1e-9

void bench_expect_start(bench_expect_state_t *st, const bench_expect_t *exp)
{
    memset(st, 0, sizeof(*st));
    st->exp = exp;
    st->verdict = BENCH_PENDING;
    st->fail_t = NAN;
}

/* "ccl_a=50, cell_max_v=3.66" for every signal the expressions reference. */
static void format_values(char *out, size_t cap, const bench_expr_t *a, const bench_expr_t *b,
                          const double *signals, const char *const *names)
{
    int seen[2 * BENCH_EXPR_MAX_REFS];
    int nseen = 0;
    size_t used = 0;
    out[0] = '\0';
    const bench_expr_t *exprs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        if (exprs[k] == NULL) {
            continue;
        }
        for (int i = 0; i < exprs[k]->nrefs && i < BENCH_EXPR_MAX_REFS; i++) {
            int sig = exprs[k]->refs[i];
            bool dup = false;
            for (int j = 0; j < nseen; j++) {
                dup = dup || seen[j] == sig;
            }
            if (dup || used + 1 >= cap) {
                continue;
            }
            seen[nseen++] = sig;
            char name[24];
            if (names != NULL && names[sig] != NULL) {
                snprintf(name, sizeof(name), "%s", names[sig]);
            } else {
                snprintf(name, sizeof(name), "#%d", sig);
            }
            double v = signals != NULL ? signals[sig] : NAN;
            int w = snprintf(out + used, cap - used, "%s%s=%g", used > 0 ? ", " : "", name, v);
            if (w < 0) {
                break;
            }
            used += (size_t)w;
            if (used >= cap) {
                used = cap - 1;
            }
        }
    }
}

/* "5s", "500ms", "10m", "1.5h": the way durations are written in scenarios. */
static void format_duration(char *out, size_t cap, double s)
{
    if (s > 0 && s < 1) {
        snprintf(out, cap, "%gms", s * 1000.0);
    } else if (s >= 3600 && fmod(s, 3600) == 0) {
        snprintf(out, cap, "%gh", s / 3600);
    } else if (s >= 60 && fmod(s, 60) == 0) {
        snprintf(out, cap, "%gm", s / 60);
    } else {
        snprintf(out, cap, "%gs", s);
    }
}

static void fail(bench_expect_state_t *st, double t)
{
    st->verdict = BENCH_FAIL;
    st->fail_t = t;
}

static void set_message(bench_expect_state_t *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Long expressions may not fit: the message is cut, never overflowed. */
static void set_message(bench_expect_state_t *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof(st->message), fmt, ap);
    va_end(ap);
}

/* "at t=123.4s: ccl_a == 0 is false (ccl_a=50)" */
static void fail_state(bench_expect_state_t *st, double t, const char *state,
                       const double *signals, const char *const *names)
{
    char vals[256];
    format_values(vals, sizeof(vals), &st->exp->expr, NULL, signals, names);
    fail(st, t);
    set_message(st, "at t=%.1fs: %s is %s (%s)", t, st->exp->expr.text, state, vals);
}

static void fail_within(bench_expect_state_t *st, double t, const double *signals,
                        const char *const *names)
{
    const bench_expect_t *x = st->exp;
    char vals[256];
    char d[32];
    format_values(vals, sizeof(vals), &x->expr, &x->after, signals, names);
    format_duration(d, sizeof(d), x->d_s);
    fail(st, t);
    set_message(st, "%s not true within %s after %s became true at t=%.1fs (%s)",
                x->expr.text, d, x->after.text, st->armed_t, vals);
}

static void sample_within(bench_expect_state_t *st, double t, const double *signals,
                          const char *const *names)
{
    const bench_expect_t *x = st->exp;
    bool then_now = bench_expr_true(&x->expr, signals);
    bool after_now = bench_expr_true(&x->after, signals);
    /* The open window first: a sample past it decides that arming before any new one. */
    if (st->armed) {
        if (then_now && t <= st->armed_t + x->d_s + EXPECT_EPS_S) {
            st->armed = false;
        } else if (t > st->armed_t + x->d_s + EXPECT_EPS_S) {
            fail_within(st, t, signals, names);
            return;
        }
    }
    /* A rising edge while armed keeps the earlier, stricter deadline: meeting it meets both. */
    bool rising = after_now && !st->prev_after;
    st->prev_after = after_now;
    if (rising) {
        st->triggered = true;
        st->ntriggers++;
        if (!then_now && !st->armed) {
            st->armed = true;
            st->armed_t = t;
        }
    }
}

void bench_expect_sample(bench_expect_state_t *st, double t, const double *signals,
                         const char *const *names)
{
    const bench_expect_t *x = st->exp;
    if (st->verdict != BENCH_PENDING || x == NULL) {
        return;
    }
    st->nsamples++;
    switch (x->kind) {
    case BENCH_EXP_ALWAYS:
    case BENCH_EXP_NEVER: {
        bool in_window = t + EXPECT_EPS_S >= x->from_s &&
                         (x->until_s < 0 || t <= x->until_s + EXPECT_EPS_S);
        if (!in_window) {
            return;
        }
        bool v = bench_expr_true(&x->expr, signals);
        if (x->kind == BENCH_EXP_ALWAYS && !v) {
            fail_state(st, t, "false", signals, names);
        } else if (x->kind == BENCH_EXP_NEVER && v) {
            fail_state(st, t, "true", signals, names);
        }
        return;
    }
    case BENCH_EXP_EVENTUALLY:
        if (t > x->by_s + EXPECT_EPS_S) {
            char vals[256];
            format_values(vals, sizeof(vals), &x->expr, NULL, signals, names);
            fail(st, t);
            set_message(st, "at t=%.1fs: %s did not become true by t=%.1fs (%s)", t,
                        x->expr.text, x->by_s, vals);
        } else if (bench_expr_true(&x->expr, signals)) {
            st->verdict = BENCH_PASS;
            st->seen_true = true;
        }
        return;
    case BENCH_EXP_WITHIN:
        sample_within(st, t, signals, names);
        return;
    case BENCH_EXP_AT:
        if (t + EXPECT_EPS_S < x->at_s) {
            return;
        }
        if (bench_expr_true(&x->expr, signals)) {
            st->verdict = BENCH_PASS;
        } else {
            fail_state(st, t, "false", signals, names);
        }
        return;
    }
}

void bench_expect_finish(bench_expect_state_t *st, double t_end, const double *signals,
                         const char *const *names)
{
    const bench_expect_t *x = st->exp;
    if (st->verdict != BENCH_PENDING || x == NULL) {
        return;
    }
    char vals[256];
    switch (x->kind) {
    case BENCH_EXP_ALWAYS:
    case BENCH_EXP_NEVER:
        st->verdict = BENCH_PASS;
        return;
    case BENCH_EXP_EVENTUALLY:
        format_values(vals, sizeof(vals), &x->expr, NULL, signals, names);
        fail(st, t_end);
        set_message(st, "at t=%.1fs: %s never became true (run ended; %s)", t_end,
                    x->expr.text, vals);
        return;
    case BENCH_EXP_WITHIN:
        /* A window still open at the end had no chance to close: not a failure. */
        if (st->armed && t_end > st->armed_t + x->d_s + EXPECT_EPS_S) {
            fail_within(st, t_end, signals, names);
            return;
        }
        st->verdict = BENCH_PASS;
        return;
    case BENCH_EXP_AT:
        fail(st, t_end);
        set_message(st, "run ended at t=%.1fs, before t=%.1fs", t_end, x->at_s);
        return;
    }
}
