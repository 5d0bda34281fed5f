/* SPDX-License-Identifier: MIT */
/* Tests of the expression language: precedence, units, words, NaN rules, errors with columns. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/expr.h"

/* A small signal table standing in for the real one: names and values. */
static const char *const sig_names[] = {"ccl_a", "cvl_v", "cell_max_v", "alarm_high_voltage",
                                        "soc_pct", "s0", "s1", "s2", "s3", "s4", "s5", "s6",
                                        "s7", "s8"};
static const double sig_values[] = {50, 55.2, 3.66, 1, 90, 0, 1, 2, 3, 4, 5, 6, 7, 8};

static int resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++) {
        if (strlen(sig_names[i]) == len && memcmp(sig_names[i], name, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

typedef struct eval_row {
    const char *text;
    double want;
} eval_row_t;

static const eval_row_t eval_rows[] = {
    /* precedence and associativity */
    {"1 + 2 * 3", 7},
    {"(1 + 2) * 3", 9},
    {"10 - 4 - 3", 3},
    {"16 / 4 / 2", 2},
    {"-2 * 3", -6},
    {"- -2", 2},
    {"2 * -3", -6},
    {"1 + 1 == 2", 1},
    {"not 1 == 2", 1},
    {"!0", 1},
    {"! 1", 0},
    {"1 == 1 and 0", 0},
    {"1 or 0 and 0", 1},
    {"(1 or 0) and 0", 0},
    {"0 || 1 && 1", 1},
    {"not not 3", 1},
    /* comparisons */
    {"1 < 2", 1},
    {"2 < 1", 0},
    {"1 <= 1", 1},
    {"1 <= 0", 0},
    {"2 > 1", 1},
    {"1 >= 1", 1},
    {"1 != 2", 1},
    {"1 != 1", 0},
    /* units: mV/mA/ms scale by 1/1000, min/h to seconds, others are labels */
    {"3.65V", 3.65},
    {"500mA", 0.5},
    {"3650mV", 3.65},
    {"10min", 600},
    {"1h", 3600},
    {"500ms", 0.5},
    {"5s", 5},
    {"5A", 5},
    {"50%", 50},
    {"100Ah", 100},
    {"25C", 25},
    /* numbers */
    {"1e3", 1000},
    {"1.5e-3", 0.0015},
    {".5", 0.5},
    {"0", 0},
    /* signals, words and functions */
    {"ccl_a <= 100", 1},
    {"ccl_a*2", 100},
    {"cvl_v - 0.2", 55.0},
    {"cell_max_v >= 3.65V", 1},
    {"cell_max_v >= 3650mV and ccl_a > 0", 1},
    {"alarm_high_voltage == active", 1},
    {"alarm_high_voltage == ok", 0},
    {"ok", 2},
    {"unsupported", 0},
    {"true", 1},
    {"false", 0},
    {"abs(-3)", 3},
    {"abs(soc_pct - 95)", 5},
    {"min(ccl_a, 20)", 20},
    {"max(1, 2) + 1", 3},
    {"min(max(1, 5), 3)", 3},
    /* IEEE division, NaN comparisons false, NaN is not true */
    {"1/0 > 1e300", 1},
    {"-1/0 < 0", 1},
    {"0/0 == 0/0", 0},
    {"0/0 != 1", 0},
    {"0/0 < 1 or 0/0 >= 1", 0},
    {"not (0/0)", 1},
    {"(0/0) and 1", 0},
};

static void test_expr_eval_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(eval_rows) / sizeof(eval_rows[0]); i++) {
        bench_expr_t e;
        char err[128] = "";
        int col = -2;
        bool ok = bench_expr_compile(&e, eval_rows[i].text, resolve, NULL, &col, err,
                                     sizeof(err));
        if (!ok) {
            fail_msg("row %zu \"%s\": compile failed at %d: %s", i, eval_rows[i].text, col, err);
        }
        double got = bench_expr_eval(&e, sig_values);
        if (!(fabs(got - eval_rows[i].want) <= 1e-9 * fmax(1.0, fabs(eval_rows[i].want)))) {
            fail_msg("row %zu \"%s\": got %.17g, want %.17g", i, eval_rows[i].text, got,
                     eval_rows[i].want);
        }
    }
}

typedef struct err_row {
    const char *text;
    int col;            /* 0-based */
    const char *msg;    /* exact message */
} err_row_t;

static const err_row_t err_rows[] = {
    {"ccl > 5", 0, "unknown signal 'ccl'"},
    {"ccl_a > cc", 8, "unknown signal 'cc'"},
    {"ccl_a >", 7, "expected a value, got end of expression"},
    {"(1 + 2", 6, "unclosed '(' (opened 6 characters before): expected ')', got end of expression"},
    {"abs((1) x", 8, "expected ')', got 'x'"},
    {"((1) x", 5, "unclosed '(' (opened 5 characters before): expected ')', got 'x'"},
    {"1 +* 2", 3, "expected a value, got '*'"},
    {"3.65X", 4, "unknown unit 'X' (expected one of: V, mV, A, mA, s, ms, min, h, %, C, Ah)"},
    {"1 2", 2, "expected an operator or the end of the expression, got '2'"},
    {"", 0, "empty expression"},
    {"   ", 3, "empty expression"},
    {"ccl_a = 1", 6, "'=' is not an operator; use '==' to compare"},
    {"1 < 2 < 3", 6, "comparisons cannot be chained; use 'and' (a < b and b < c)"},
    {"abs 1", 4, "expected '(' after 'abs'"},
    {"min(1)", 5, "min() takes two arguments: expected ','"},
    {"max(1, 2", 8, "expected ')', got end of expression"},
    {"1 # 2", 2, "expected an operator or the end of the expression, got '#'"},
    {"10 min", 3, "expected an operator or the end of the expression, got 'min'"},
    {"and 1", 0, "expected a value before 'and'"},
    {"ccl_a and", 9, "expected a value, got end of expression"},
    {"s0+s1+s2+s3+s4+s5+s6+s7+s8", 24,
     "too many different signals in one expression (max 8) at 's8'"},
    {"1..2", 2, "expected an operator or the end of the expression, got '.'"},
};

static void test_expr_errors_with_columns(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
        bench_expr_t e;
        char err[160] = "";
        int col = -2;
        bool ok = bench_expr_compile(&e, err_rows[i].text, resolve, NULL, &col, err, sizeof(err));
        if (ok) {
            fail_msg("row %zu \"%s\": compiled, want error", i, err_rows[i].text);
        }
        if (col != err_rows[i].col || strcmp(err, err_rows[i].msg) != 0) {
            fail_msg("row %zu \"%s\": got col %d \"%s\", want col %d \"%s\"", i,
                     err_rows[i].text, col, err, err_rows[i].col, err_rows[i].msg);
        }
    }
}

static void test_expr_too_long_is_an_error(void **state)
{
    (void)state;
    /* 33 ones and 32 pluses: 65 nodes, one more than the table holds. */
    char text[256] = "1";
    for (int i = 0; i < 32; i++) {
        strcat(text, "+1");
    }
    bench_expr_t e;
    char err[160];
    int col = -2;
    assert_false(bench_expr_compile(&e, text, resolve, NULL, &col, err, sizeof(err)));
    assert_string_equal(err, "expression too long (more than 64 terms)");
    assert_int_equal(col, 65);

    /* 32 ones still fit (63 nodes) and sum right. */
    text[63] = '\0';
    assert_true(bench_expr_compile(&e, text, resolve, NULL, &col, err, sizeof(err)));
    assert_float_equal(bench_expr_eval(&e, sig_values), 32, 0);

    char big[400];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '1';
    big[sizeof(big) - 1] = '\0';
    assert_false(bench_expr_compile(&e, big, resolve, NULL, &col, err, sizeof(err)));
    assert_string_equal(err, "expression too long (max 255 characters)");
}

static void test_expr_deep_nesting_is_refused(void **state)
{
    (void)state;
    char text[256];
    memset(text, '(', 100);
    text[100] = '1';
    memset(text + 101, ')', 100);
    text[201] = '\0';
    bench_expr_t e;
    char err[160];
    int col = -2;
    assert_false(bench_expr_compile(&e, text, resolve, NULL, &col, err, sizeof(err)));
    assert_string_equal(err, "expression nested too deeply (max 96 levels)");
    /* 20 levels are fine. */
    memset(text, '(', 20);
    text[20] = '7';
    memset(text + 21, ')', 20);
    text[41] = '\0';
    assert_true(bench_expr_compile(&e, text, resolve, NULL, &col, err, sizeof(err)));
    assert_float_equal(bench_expr_eval(&e, sig_values), 7, 0);
}

static void test_expr_refs_lists_distinct_signals(void **state)
{
    (void)state;
    bench_expr_t e;
    char err[160];
    int col;
    assert_true(bench_expr_compile(&e, "ccl_a + ccl_a * cvl_v > 0 or ccl_a == 1", resolve, NULL,
                                   &col, err, sizeof(err)));
    assert_int_equal(e.nrefs, 2);
    assert_int_equal(e.refs[0], 0);
    assert_int_equal(e.refs[1], 1);
    assert_string_equal(e.text, "ccl_a + ccl_a * cvl_v > 0 or ccl_a == 1");
    assert_int_equal(col, -1);
}

static void test_expr_truth_rule(void **state)
{
    (void)state;
    bench_expr_t e;
    char err[160];
    int col;
    assert_true(bench_expr_compile(&e, "soc_pct", resolve, NULL, &col, err, sizeof(err)));
    double v[14] = {0};
    v[4] = 90;
    assert_true(bench_expr_true(&e, v));
    v[4] = 0;
    assert_false(bench_expr_true(&e, v));
    v[4] = NAN;
    assert_false(bench_expr_true(&e, v));
    v[4] = -1;
    assert_true(bench_expr_true(&e, v));
}

static void test_expr_no_resolver_means_unknown(void **state)
{
    (void)state;
    bench_expr_t e;
    char err[160];
    int col;
    assert_false(bench_expr_compile(&e, "1 + x", NULL, NULL, &col, err, sizeof(err)));
    assert_string_equal(err, "unknown signal 'x'");
    assert_int_equal(col, 4);
    /* A failed compile evaluates to NaN rather than reading garbage. */
    assert_true(isnan(bench_expr_eval(&e, sig_values)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_eval_table),
        cmocka_unit_test(test_expr_errors_with_columns),
        cmocka_unit_test(test_expr_too_long_is_an_error),
        cmocka_unit_test(test_expr_deep_nesting_is_refused),
        cmocka_unit_test(test_expr_refs_lists_distinct_signals),
        cmocka_unit_test(test_expr_truth_rule),
        cmocka_unit_test(test_expr_no_resolver_means_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
