/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the expectation expression language (harness/expr.h).
 *
 * The input is the expression text (cut at the first NUL). Compiling must
 * either give a well-formed tree that evaluates, or an error with a message
 * and a column inside the text; the same answer with or without an error
 * buffer, and a small buffer is never overrun. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "harness/expr.h"

#define MAX_TEXT 1024u
#define SMALL_ERR 6u
#define CANARY 0xA5u

int bms_fuzz_accepted;

static const char *const names[] = {"ccl_a", "cvl_v", "dcl_a", "soc_pct", "cell_max_v",
                                    "cell_min_v", "alarm_high_voltage", "temp_c", "t_s",
                                    "current_a"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static int resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < NNAMES; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void check_tree(const bench_expr_t *e, const char *text)
{
    FUZZ_CHECK(e->nnodes >= 1 && e->nnodes <= BENCH_EXPR_MAX_NODES);
    FUZZ_CHECK(e->root >= 0 && e->root < e->nnodes);
    FUZZ_CHECK(strcmp(e->text, text) == 0);
    /* Children are built before their parent, so the tree has no cycles. */
    for (int i = 0; i < e->nnodes; i++) {
        const bench_expr_node_t *n = &e->nodes[i];
        FUZZ_CHECK(n->a < i && n->b < i && n->a >= -1 && n->b >= -1);
        FUZZ_CHECK(n->sig >= -1 && n->sig < (int)NNAMES);
    }
    FUZZ_CHECK(e->nrefs >= 0 && e->nrefs <= BENCH_EXPR_MAX_REFS);
    for (int i = 0; i < e->nrefs; i++) {
        FUZZ_CHECK(e->refs[i] >= 0 && e->refs[i] < (int)NNAMES);
        for (int j = 0; j < i; j++) {
            FUZZ_CHECK(e->refs[i] != e->refs[j]);
        }
    }
}

static void check_eval(const bench_expr_t *e)
{
    static const double zeros[NNAMES] = {0};
    static const double values[NNAMES] = {50.0, 55.2, 100.0, 87.0, 3.45, 3.2, 2.0, -5.5, 3600.0,
                                          -12.5};
    double nan_sig[NNAMES];
    for (size_t i = 0; i < NNAMES; i++) {
        nan_sig[i] = NAN;
    }
    const double *sets[] = {zeros, values, nan_sig};
    for (size_t s = 0; s < 3; s++) {
        double v = bench_expr_eval(e, sets[s]);
        bool t = bench_expr_true(e, sets[s]);
        FUZZ_CHECK(t == (v != 0.0 && !isnan(v)));
        /* Evaluation is a pure function of the tree and the signals. */
        double again = bench_expr_eval(e, sets[s]);
        FUZZ_CHECK((isnan(v) && isnan(again)) || v == again);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[MAX_TEXT + 1];
    static bench_expr_t e, e2;
    size_t n = size < MAX_TEXT ? size : MAX_TEXT;
    memcpy(text, data, n);
    text[n] = '\0';
    size_t len = strlen(text);

    char err[160];
    int col = -2;
    bool ok = bench_expr_compile(&e, text, resolve, NULL, &col, err, sizeof(err));
    bms_fuzz_accepted = ok;
    if (ok) {
        FUZZ_CHECK(col == -1 && err[0] == '\0');
        check_tree(&e, text);
        check_eval(&e);
    } else {
        FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
        FUZZ_CHECK(col >= 0 && (size_t)col <= len);
        FUZZ_CHECK(e.nnodes == 0 && e.root == -1 && isnan(bench_expr_eval(&e, NULL)));
    }

    /* Same verdict without an error buffer, and with a tiny one (never overrun). */
    int col2 = -2;
    FUZZ_CHECK(bench_expr_compile(&e2, text, resolve, NULL, &col2, NULL, 0) == ok);
    FUZZ_CHECK(col2 == col);
    if (ok) {
        FUZZ_CHECK(e2.nnodes == e.nnodes &&
                   memcmp(e2.nodes, e.nodes, sizeof(e.nodes[0]) * (size_t)e.nnodes) == 0);
    }
    char small[SMALL_ERR + 8];
    memset(small, CANARY, sizeof(small));
    FUZZ_CHECK(bench_expr_compile(&e2, text, resolve, NULL, NULL, small, SMALL_ERR) == ok);
    for (size_t i = SMALL_ERR; i < sizeof(small); i++) {
        FUZZ_CHECK((uint8_t)small[i] == CANARY);
    }
    FUZZ_CHECK(memchr(small, '\0', SMALL_ERR) != NULL);

    /* Without a resolver every signal is unknown: only constant expressions compile. */
    if (bench_expr_compile(&e2, text, NULL, NULL, NULL, NULL, 0)) {
        FUZZ_CHECK(e2.nrefs == 0);
        check_eval(&e2);
    }
    return 0;
}
