/* SPDX-License-Identifier: MIT */
/* Compiler and evaluator of the expectation expression language (grammar in expr.h). */
#include "harness/expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused before the C stack could matter. */
#define EXPR_MAX_DEPTH 96

enum expr_op {
    OP_NUM = 1, OP_SIG, OP_NEG, OP_NOT,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_AND, OP_OR, OP_ABS, OP_MIN, OP_MAX,
};

typedef struct expr_parser {
    bench_expr_t *e;
    const char *s;
    size_t len;
    size_t pos;
    int depth;
    bench_resolve_fn resolve;
    void *rctx;
    bool failed;
    int err_col;
    char *err;
    size_t errcap;
} expr_parser_t;

typedef struct unit_def {
    const char *name;
    double scale;
} unit_def_t;

/* mV and mA become V and A, ms/min/h become seconds; the rest only label the number. */
static const unit_def_t expr_units[] = {
    {"V", 1.0},     {"mV", 1e-3}, {"A", 1.0},   {"mA", 1e-3}, {"s", 1.0}, {"ms", 1e-3},
    {"min", 60.0},  {"h", 3600.0}, {"%", 1.0},  {"C", 1.0},   {"Ah", 1.0},
};

typedef struct word_def {
    const char *name;
    double value;
} word_def_t;

/* Words for the states the GX reports, so alarms read naturally. */
static const word_def_t expr_words[] = {
    {"active", 1.0}, {"ok", 2.0}, {"unsupported", 0.0}, {"true", 1.0}, {"false", 0.0},
    /* charge-voltage states (signal cvl_state) */
    {"bulk", 0.0}, {"transition", 1.0}, {"float_approach", 2.0}, {"float", 3.0},
    {"imbalance_hold", 4.0},
    /* DVCC engine states (signal dvcc_state) beyond the shared bulk/float/imbalance_hold */
    {"absorption", 5.0}, {"no_data", 6.0}, {"starting", 7.0},
};

static void fail_at(expr_parser_t *p, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(expr_parser_t *p, size_t col, const char *fmt, ...)
{
    if (p->failed) {
        return;
    }
    p->failed = true;
    p->err_col = (int)col;
    if (p->err != NULL && p->errcap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errcap, fmt, ap);
        va_end(ap);
    }
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static void skip_space(expr_parser_t *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) {
        p->pos++;
    }
}

/* Length of the identifier at pos (0 when none). */
static size_t ident_len(const expr_parser_t *p, size_t at)
{
    size_t n = 0;
    if (at < p->len && is_ident_start(p->s[at])) {
        while (at + n < p->len && is_ident_char(p->s[at + n])) {
            n++;
        }
    }
    return n;
}

static bool word_is(const expr_parser_t *p, size_t at, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p->s + at, w, n) == 0;
}

/* Consume a symbol operator or a keyword (keywords must be whole words). */
static bool accept(expr_parser_t *p, const char *tok)
{
    skip_space(p);
    size_t n = strlen(tok);
    if (p->pos + n > p->len || memcmp(p->s + p->pos, tok, n) != 0) {
        return false;
    }
    if (is_ident_start(tok[0]) && p->pos + n < p->len && is_ident_char(p->s[p->pos + n])) {
        return false;
    }
    p->pos += n;
    return true;
}

static int new_node(expr_parser_t *p, int op, int a, int b)
{
    if (p->failed) {
        return -1;
    }
    if (p->e->nnodes >= BENCH_EXPR_MAX_NODES) {
        fail_at(p, p->pos, "expression too long (more than %d terms)", BENCH_EXPR_MAX_NODES);
        return -1;
    }
    int i = p->e->nnodes++;
    bench_expr_node_t *n = &p->e->nodes[i];
    memset(n, 0, sizeof(*n));
    n->op = op;
    n->a = a;
    n->b = b;
    n->sig = -1;
    return i;
}

/* Describe what stands at pos for "unexpected ..." messages. */
static void describe_here(const expr_parser_t *p, char *out, size_t cap)
{
    if (p->pos >= p->len) {
        snprintf(out, cap, "end of expression");
        return;
    }
    size_t n = ident_len(p, p->pos);
    if (n == 0) {
        n = 1;
        while (p->pos + n < p->len && is_digit(p->s[p->pos + n]) && is_digit(p->s[p->pos])) {
            n++;
        }
    }
    if (n > 40) {
        n = 40;
    }
    snprintf(out, cap, "'%.*s'", (int)n, p->s + p->pos);
}

static void fail_unexpected(expr_parser_t *p, const char *wanted)
{
    char what[64];
    describe_here(p, what, sizeof(what));
    fail_at(p, p->pos, "expected %s, got %s", wanted, what);
}

static int parse_or(expr_parser_t *p);

static int add_ref(expr_parser_t *p, int sig, size_t col, size_t n)
{
    for (int i = 0; i < p->e->nrefs; i++) {
        if (p->e->refs[i] == sig) {
            return 0;
        }
    }
    if (p->e->nrefs >= BENCH_EXPR_MAX_REFS) {
        fail_at(p, col, "too many different signals in one expression (max %d) at '%.*s'",
                BENCH_EXPR_MAX_REFS, (int)n, p->s + col);
        return -1;
    }
    p->e->refs[p->e->nrefs++] = sig;
    return 0;
}

static int parse_number(expr_parser_t *p)
{
    size_t start = p->pos;
    size_t i = p->pos;
    while (i < p->len && is_digit(p->s[i])) {
        i++;
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        while (i < p->len && is_digit(p->s[i])) {
            i++;
        }
    }
    if (i == start + 1 && p->s[start] == '.') {
        fail_at(p, start, "expected a number, got '.'");
        return -1;
    }
    /* An exponent only when digits follow, so "2e" is reported as a unit. */
    if (i + 1 < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (p->s[j] == '+' || p->s[j] == '-')) {
            j++;
        }
        if (j < p->len && is_digit(p->s[j])) {
            while (j < p->len && is_digit(p->s[j])) {
                j++;
            }
            i = j;
        }
    }
    char buf[64];
    if (i - start >= sizeof(buf)) {
        fail_at(p, start, "number too long");
        return -1;
    }
    memcpy(buf, p->s + start, i - start);
    buf[i - start] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v)) {
        fail_at(p, start, "number out of range '%s'", buf);
        return -1;
    }
    p->pos = i;
    /* A unit is written right after the number, without a space. */
    size_t ustart = p->pos;
    size_t un = 0;
    while (ustart + un < p->len && (is_ident_char(p->s[ustart + un]) || p->s[ustart + un] == '%')) {
        un++;
    }
    if (un > 0) {
        bool found = false;
        for (size_t k = 0; k < sizeof(expr_units) / sizeof(expr_units[0]); k++) {
            if (word_is(p, ustart, un, expr_units[k].name)) {
                v *= expr_units[k].scale;
                found = true;
                break;
            }
        }
        if (!found) {
            fail_at(p, ustart,
                    "unknown unit '%.*s' (expected one of: V, mV, A, mA, s, ms, min, h, %%, C, Ah)",
                    (int)(un > 40 ? 40 : un), p->s + ustart);
            return -1;
        }
        p->pos += un;
    }
    int n = new_node(p, OP_NUM, -1, -1);
    if (n >= 0) {
        p->e->nodes[n].num = v;
    }
    return n;
}

/* abs(x), min(x, y), max(x, y): the name has been consumed. */
static int parse_call(expr_parser_t *p, int op, const char *name)
{
    skip_space(p);
    if (!accept(p, "(")) {
        skip_space(p);
        fail_at(p, p->pos, "expected '(' after '%s'", name);
        return -1;
    }
    int a = parse_or(p);
    int b = -1;
    if (p->failed) {
        return -1;
    }
    if (op != OP_ABS) {
        if (!accept(p, ",")) {
            skip_space(p);
            fail_at(p, p->pos, "%s() takes two arguments: expected ','", name);
            return -1;
        }
        b = parse_or(p);
        if (p->failed) {
            return -1;
        }
    }
    if (!accept(p, ")")) {
        skip_space(p);
        fail_unexpected(p, "')'");
        return -1;
    }
    return new_node(p, op, a, b);
}

static int parse_ident(expr_parser_t *p)
{
    size_t col = p->pos;
    size_t n = ident_len(p, col);
    static const struct { const char *name; int op; } calls[] = {
        {"abs", OP_ABS}, {"min", OP_MIN}, {"max", OP_MAX},
    };
    for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++) {
        if (word_is(p, col, n, calls[k].name)) {
            p->pos += n;
            return parse_call(p, calls[k].op, calls[k].name);
        }
    }
    for (size_t k = 0; k < sizeof(expr_words) / sizeof(expr_words[0]); k++) {
        if (word_is(p, col, n, expr_words[k].name)) {
            p->pos += n;
            int node = new_node(p, OP_NUM, -1, -1);
            if (node >= 0) {
                p->e->nodes[node].num = expr_words[k].value;
            }
            return node;
        }
    }
    if (word_is(p, col, n, "and") || word_is(p, col, n, "or") || word_is(p, col, n, "not")) {
        fail_at(p, col, "expected a value before '%.*s'", (int)n, p->s + col);
        return -1;
    }
    int sig = p->resolve != NULL ? p->resolve(p->rctx, p->s + col, n) : -1;
    if (sig < 0) {
        fail_at(p, col, "unknown signal '%.*s'", (int)(n > 64 ? 64 : n), p->s + col);
        return -1;
    }
    if (add_ref(p, sig, col, n) < 0) {
        return -1;
    }
    p->pos += n;
    int node = new_node(p, OP_SIG, -1, -1);
    if (node >= 0) {
        p->e->nodes[node].sig = sig;
    }
    return node;
}

static int parse_atom(expr_parser_t *p)
{
    skip_space(p);
    if (p->pos >= p->len) {
        fail_at(p, p->pos, "expected a value, got end of expression");
        return -1;
    }
    char c = p->s[p->pos];
    if (is_digit(c) || c == '.') {
        return parse_number(p);
    }
    if (is_ident_start(c)) {
        return parse_ident(p);
    }
    if (c == '(') {
        size_t open_col = p->pos;
        p->pos++;
        int inner = parse_or(p);
        if (p->failed) {
            return -1;
        }
        if (!accept(p, ")")) {
            skip_space(p);
            char what[64];
            describe_here(p, what, sizeof(what));
            fail_at(p, p->pos, "unclosed '(' (opened %zu characters before): expected ')', got %s",
                    p->pos - open_col, what);
            return -1;
        }
        return inner;
    }
    fail_unexpected(p, "a value");
    return -1;
}

/* Each recursive level goes through here so nesting stays bounded. */
static bool enter(expr_parser_t *p)
{
    if (++p->depth > EXPR_MAX_DEPTH) {
        fail_at(p, p->pos, "expression nested too deeply (max %d levels)", EXPR_MAX_DEPTH);
        return false;
    }
    return true;
}

static int parse_unary(expr_parser_t *p)
{
    if (!enter(p)) {
        return -1;
    }
    int r;
    if (accept(p, "-")) {
        int a = parse_unary(p);
        r = p->failed ? -1 : new_node(p, OP_NEG, a, -1);
    } else {
        r = parse_atom(p);
    }
    p->depth--;
    return r;
}

static int parse_prod(expr_parser_t *p)
{
    int a = parse_unary(p);
    while (!p->failed) {
        int op;
        if (accept(p, "*")) {
            op = OP_MUL;
        } else if (accept(p, "/")) {
            op = OP_DIV;
        } else {
            break;
        }
        int b = parse_unary(p);
        a = new_node(p, op, a, b);
    }
    return a;
}

static int parse_sum(expr_parser_t *p)
{
    int a = parse_prod(p);
    while (!p->failed) {
        int op;
        if (accept(p, "+")) {
            op = OP_ADD;
        } else if (accept(p, "-")) {
            op = OP_SUB;
        } else {
            break;
        }
        int b = parse_prod(p);
        a = new_node(p, op, a, b);
    }
    return a;
}

static int parse_cmp(expr_parser_t *p)
{
    int a = parse_sum(p);
    if (p->failed) {
        return -1;
    }
    /* Two-character operators first, so "<=" is not read as "<". */
    static const struct { const char *tok; int op; } ops[] = {
        {"<=", OP_LE}, {">=", OP_GE}, {"==", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT}, {">", OP_GT},
    };
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        if (accept(p, ops[k].tok)) {
            int b = parse_sum(p);
            a = new_node(p, ops[k].op, a, b);
            skip_space(p);
            /* Chains like "a < b < c" do not mean what they look like. */
            for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]) && !p->failed; j++) {
                size_t n = strlen(ops[j].tok);
                if (p->pos + n <= p->len && memcmp(p->s + p->pos, ops[j].tok, n) == 0) {
                    fail_at(p, p->pos,
                            "comparisons cannot be chained; use 'and' (a < b and b < c)");
                }
            }
            break;
        }
    }
    if (!p->failed) {
        skip_space(p);
        if (p->pos < p->len && p->s[p->pos] == '=') {
            fail_at(p, p->pos, "'=' is not an operator; use '==' to compare");
        }
    }
    return a;
}

static int parse_not(expr_parser_t *p)
{
    if (!enter(p)) {
        return -1;
    }
    int r;
    skip_space(p);
    bool bang = p->pos < p->len && p->s[p->pos] == '!' &&
                !(p->pos + 1 < p->len && p->s[p->pos + 1] == '=');
    if (bang) {
        p->pos++;
    }
    if (bang || accept(p, "not")) {
        int a = parse_not(p);
        r = p->failed ? -1 : new_node(p, OP_NOT, a, -1);
    } else {
        r = parse_cmp(p);
    }
    p->depth--;
    return r;
}

static int parse_and(expr_parser_t *p)
{
    int a = parse_not(p);
    while (!p->failed && (accept(p, "and") || accept(p, "&&"))) {
        int b = parse_not(p);
        a = new_node(p, OP_AND, a, b);
    }
    return a;
}

static int parse_or(expr_parser_t *p)
{
    if (!enter(p)) {
        return -1;
    }
    int a = parse_and(p);
    while (!p->failed && (accept(p, "or") || accept(p, "||"))) {
        int b = parse_and(p);
        a = new_node(p, OP_OR, a, b);
    }
    p->depth--;
    return a;
}

bool bench_expr_compile(bench_expr_t *e, const char *text, bench_resolve_fn resolve, void *ctx,
                        int *err_col, char *err, size_t errcap)
{
    expr_parser_t p = {
        .e = e, .s = text, .len = text != NULL ? strlen(text) : 0,
        .resolve = resolve, .rctx = ctx, .err = err, .errcap = errcap,
    };
    memset(e, 0, sizeof(*e));
    e->root = -1;
    if (err != NULL && errcap > 0) {
        err[0] = '\0';
    }
    if (text == NULL) {
        p.s = "";
    }
    if (p.len >= sizeof(e->text)) {
        fail_at(&p, sizeof(e->text) - 1, "expression too long (max %zu characters)",
                sizeof(e->text) - 1);
    } else {
        memcpy(e->text, p.s, p.len + 1);
        skip_space(&p);
        if (p.pos >= p.len) {
            fail_at(&p, p.pos, "empty expression");
        } else {
            e->root = parse_or(&p);
            skip_space(&p);
            if (!p.failed && p.pos < p.len) {
                fail_unexpected(&p, "an operator or the end of the expression");
            }
        }
    }
    if (p.failed) {
        if (err_col != NULL) {
            *err_col = p.err_col;
        }
        e->nnodes = 0;
        e->nrefs = 0;
        e->root = -1;
        return false;
    }
    if (err_col != NULL) {
        *err_col = -1;
    }
    return true;
}

/* NaN counts as false so a missing reading never satisfies a condition. */
static bool truthy(double v)
{
    return v != 0.0 && !isnan(v);
}

static double eval_node(const bench_expr_t *e, int i, const double *sig, int depth)
{
    if (i < 0 || i >= e->nnodes || depth > BENCH_EXPR_MAX_NODES) {
        return NAN;
    }
    const bench_expr_node_t *n = &e->nodes[i];
    double a = 0.0, b = 0.0;
    if (n->op != OP_NUM && n->op != OP_SIG) {
        a = eval_node(e, n->a, sig, depth + 1);
        if (n->b >= 0) {
            b = eval_node(e, n->b, sig, depth + 1);
        }
    }
    /* Comparisons with NaN are false, != included (C would say true). */
    bool has_nan = isnan(a) || isnan(b);
    switch (n->op) {
    case OP_NUM: return n->num;
    case OP_SIG: return sig != NULL && n->sig >= 0 ? sig[n->sig] : NAN;
    case OP_NEG: return -a;
    case OP_NOT: return truthy(a) ? 0.0 : 1.0;
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;   /* IEEE: x/0 = +-inf, 0/0 = NaN */
    case OP_LT: return !has_nan && a < b ? 1.0 : 0.0;
    case OP_LE: return !has_nan && a <= b ? 1.0 : 0.0;
    case OP_GT: return !has_nan && a > b ? 1.0 : 0.0;
    case OP_GE: return !has_nan && a >= b ? 1.0 : 0.0;
    case OP_EQ: return !has_nan && a == b ? 1.0 : 0.0;
    case OP_NE: return !has_nan && a != b ? 1.0 : 0.0;
    case OP_AND: return truthy(a) && truthy(b) ? 1.0 : 0.0;
    case OP_OR: return truthy(a) || truthy(b) ? 1.0 : 0.0;
    case OP_ABS: return fabs(a);
    case OP_MIN: return has_nan ? NAN : (a < b ? a : b);
    case OP_MAX: return has_nan ? NAN : (a > b ? a : b);
    default: return NAN;
    }
}

double bench_expr_eval(const bench_expr_t *e, const double *signals)
{
    if (e == NULL) {
        return NAN;
    }
    return eval_node(e, e->root, signals, 0);
}

bool bench_expr_true(const bench_expr_t *e, const double *signals)
{
    return truthy(bench_expr_eval(e, signals));
}
