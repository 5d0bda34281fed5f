/* SPDX-License-Identifier: MIT */
/* The small expression language of expectations:
 *
 *   expr    := or
 *   or      := and { ("or" | "||") and }
 *   and     := not { ("and" | "&&") not }
 *   not     := ("not" | "!") not | cmp
 *   cmp     := sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
 *   sum     := prod { ("+" | "-") prod }
 *   prod    := unary { ("*" | "/") unary }
 *   unary   := "-" unary | atom
 *   atom    := number [unit] | signal | "(" expr ")" | "abs" "(" expr ")"
 *              | "min" "(" expr "," expr ")" | "max" "(" expr "," expr ")"
 *   unit    := "V" | "mV" | "A" | "mA" | "s" | "ms" | "min" | "h" | "%" | "C" | "Ah"
 *              (mV and mA divide by 1000, min and h convert to seconds; others are labels)
 *   words   := "active" (1), "ok" (2), "unsupported" (0), "true" (1), "false" (0)
 *
 * A comparison yields 1 or 0; a value is "true" when non-zero (NaN is false).
 * Units follow the number without a space ("3.65V", "500mA", "10min").
 * Division is IEEE (x/0 = +-inf, 0/0 = NaN); every comparison involving NaN,
 * "!=" included, is false. Signals are resolved when compiling, so an
 * unknown name is an error with its column. See docs/scenario-format.md. */
#ifndef BENCH_EXPR_H
#define BENCH_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#define BENCH_EXPR_MAX_NODES 64
#define BENCH_EXPR_MAX_REFS 8

/* Resolve a signal name to an index >= 0, or -1 when unknown. */
typedef int (*bench_resolve_fn)(void *ctx, const char *name, size_t len);

typedef struct bench_expr_node {
    int op;           /* private: node kind */
    int a, b;         /* child node indexes */
    int sig;          /* signal index for signal nodes */
    double num;       /* constant */
} bench_expr_node_t;

typedef struct bench_expr {
    bench_expr_node_t nodes[BENCH_EXPR_MAX_NODES];
    int nnodes;
    int root;
    int refs[BENCH_EXPR_MAX_REFS];  /* distinct signals used, for messages */
    int nrefs;
    char text[256];                 /* the source text */
} bench_expr_t;

/* Compile text. On error returns false, sets *err_col (0-based column in
 * text) and writes a message such as "unknown signal 'ccl'" into err. */
bool bench_expr_compile(bench_expr_t *e, const char *text, bench_resolve_fn resolve, void *ctx,
                        int *err_col, char *err, size_t errcap);
/* Evaluate with the signal values (indexed by resolved index). */
double bench_expr_eval(const bench_expr_t *e, const double *signals);
/* Evaluate and apply the truth rule: non-zero and not NaN. */
bool bench_expr_true(const bench_expr_t *e, const double *signals);

#endif
