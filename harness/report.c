/* SPDX-License-Identifier: MIT */
/* `bmsbench run --report DIR`: collects a bounded time series per scenario
 * from the sample tap, renders its section when it ends, and writes
 * DIR/index.html at close (see report.h). */
#include "harness/report.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/signals.h"
#include "reports/html_report.h"
#include "reports/svg_chart.h"

/* Points per series: min/max buckets keep spikes, and a day-long run still
 * draws quickly in a browser. */
#define REPORT_MAX_POINTS 2000
#define REPORT_MAX_LINKS 32

/* What is plotted: signal, legend, colour, chart. */
static const struct plot_def {
    const char *signal;
    const char *label;
    const char *color;
    int chart;
} plots[] = {
    {"cvl_v", "CVL (cvl_v)", "#d62728", 0},
    {"bank_voltage_v", "bank voltage (bank_voltage_v)", "#1f77b4", 0},
    {"ccl_a", "CCL (ccl_a)", "#ff7f0e", 1},
    {"dcl_a", "DCL (dcl_a)", "#9467bd", 1},
    {"bank_current_a", "bank current (bank_current_a)", "#1f77b4", 1},
    {"cell_min_v", "lowest cell (cell_min_v)", "#2ca02c", 2},
    {"cell_max_v", "highest cell (cell_max_v)", "#d62728", 2},
};
#define NPLOTS (sizeof plots / sizeof plots[0])

static const struct chart_def {
    const char *title;
    const char *unit;
} charts[] = {
    {"Charge voltage limit and bank voltage", "V"},
    {"Charge/discharge current limits and bank current", "A"},
    {"Lowest and highest cell", "V"},
};
#define NCHARTS (sizeof charts / sizeof charts[0])

/* One finished scenario: its summary and its rendered section. */
typedef struct rep_entry {
    char *name;
    html_status_t status;
    double sim_s, wall_s;
    int nchecks, nfailed;
    char *first_failure;
    char *error;
    char *section;          /* HTML, NUL-terminated */
} rep_entry_t;

/* Links to the files of a scenario's recording, relative to the report;
 * images (panel snapshots) are also listed apart to be shown inline. */
typedef struct links {
    char href[REPORT_MAX_LINKS][PATH_MAX];
    char text[REPORT_MAX_LINKS][256];
    html_link_t rec[REPORT_MAX_LINKS], img[REPORT_MAX_LINKS];
    size_t nrec, nimg;
} links_t;

struct bench_report {
    char *dir;
    char dir_real[PATH_MAX];
    bench_taps_t taps;
    bool collecting;
    int sig[NPLOTS];        /* signal index of each plot, -1 = not offered */
    svg_decimator_t dec[NPLOTS];
    const bench_scenario_t *cur;   /* the scenario being collected */
    links_t links;
    char names[REPORT_MAX_LINKS][256];
    char ev_labels[BENCH_MAX_EVENTS][128];
    rep_entry_t *entries;
    size_t n, cap;
    bool oom;
};

/* ---- small helpers ------------------------------------------------------ */

static char *dup_text(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        errno = len == 0 ? EINVAL : ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') {
            continue;
        }
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            return -1;
        }
        buf[i] = c;
    }
    return 0;
}

/* Percent-encode a path for an href: unreserved bytes and '/' stay. */
static void url_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *s = (const unsigned char *)in; *s != '\0'; s++) {
        bool plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                     (*s >= '0' && *s <= '9') || strchr("-._~/", *s) != NULL;
        size_t need = plain ? 1 : 3;
        if (o + need >= cap) {
            break;
        }
        if (plain) {
            out[o++] = (char)*s;
        } else {
            out[o++] = '%', out[o++] = hex[*s >> 4], out[o++] = hex[*s & 15];
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

/* The path of `target` relative to folder `base`, both absolute and
 * canonical ("../rec/x" style). */
static void relative_path(const char *base, const char *target, char *out, size_t cap)
{
    size_t common = 0;
    for (size_t i = 0;; i++) {
        bool base_end = base[i] == '\0' || base[i] == '/';
        bool target_end = target[i] == '\0' || target[i] == '/';
        if (base_end && target_end) {
            common = i;
            if (base[i] == '\0' || target[i] == '\0') {
                break;
            }
        }
        if (base[i] != target[i] || base[i] == '\0') {
            break;
        }
    }
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = base + common; *p != '\0'; p++) {
        /* Each remaining component of base is one step up. */
        if (*p == '/' && p[1] != '\0' && p[1] != '/') {
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "../");
        }
    }
    const char *rest = target + common;
    while (*rest == '/') {
        rest++;
    }
    if (o < cap) {
        snprintf(out + o, cap - o, "%s", *rest != '\0' ? rest : ".");
    }
}

/* ---- collecting --------------------------------------------------------- */

static void on_sample(void *ctx, double t_s, const double *signals)
{
    bench_report_t *rep = ctx;
    if (!rep->collecting) {
        return;
    }
    for (size_t k = 0; k < NPLOTS; k++) {
        if (rep->sig[k] >= 0) {
            svg_decimator_add(&rep->dec[k], t_s, signals[rep->sig[k]]);
        }
    }
}

static void free_series(bench_report_t *rep)
{
    for (size_t k = 0; k < NPLOTS; k++) {
        svg_decimator_free(&rep->dec[k]);
    }
    rep->collecting = false;
}

bench_report_t *bench_report_open(const char *dir, char *err, size_t errcap)
{
    if (dir == NULL || dir[0] == '\0') {
        snprintf(err, errcap, "no report folder given");
        return NULL;
    }
    if (mkdir_p(dir) != 0) {
        snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    bench_report_t *rep = calloc(1, sizeof *rep);
    if (rep == NULL || (rep->dir = strdup(dir)) == NULL) {
        free(rep);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    if (realpath(dir, rep->dir_real) == NULL) {
        snprintf(rep->dir_real, sizeof rep->dir_real, "%s", dir);
    }
    int nsig = bench_signal_count();
    for (size_t k = 0; k < NPLOTS; k++) {
        rep->sig[k] = -1;
        for (int i = 0; i < nsig; i++) {
            if (strcmp(bench_signal_names[i], plots[k].signal) == 0) {
                rep->sig[k] = i;
            }
        }
    }
    rep->taps = (bench_taps_t){.ctx = rep, .sample = on_sample};
    return rep;
}

const bench_taps_t *bench_report_begin(bench_report_t *rep, const bench_scenario_t *sc)
{
    if (rep == NULL) {
        return NULL;
    }
    free_series(rep);
    rep->cur = sc;
    for (size_t k = 0; k < NPLOTS; k++) {
        if (svg_decimator_init(&rep->dec[k], REPORT_MAX_POINTS) != 0) {
            rep->oom = true;
        }
    }
    rep->collecting = true;
    return &rep->taps;
}

/* ---- the finished scenario ---------------------------------------------- */

static const char *action_name(bench_action_t a)
{
    static const char *const names[] = {
        [BENCH_ACT_TEMPERATURE] = "temperature",   [BENCH_ACT_CELL_SOC] = "cell_soc",
        [BENCH_ACT_CELL_CAPACITY] = "cell_capacity", [BENCH_ACT_CELL_OFFSET] = "cell_offset",
        [BENCH_ACT_FAULT] = "fault",               [BENCH_ACT_CLEAR_FAULTS] = "clear_faults",
        [BENCH_ACT_CHARGER] = "charger",           [BENCH_ACT_LOAD] = "load",
        [BENCH_ACT_AMBIENT] = "ambient",           [BENCH_ACT_BUS_GARBAGE] = "bus_garbage",
        [BENCH_ACT_REBOOT] = "reboot",             [BENCH_ACT_FIRMWARE] = "firmware",
        [BENCH_ACT_BMS_SETTING] = "bms_setting",   [BENCH_ACT_TOOL_WRITE] = "tool_write",
        [BENCH_ACT_BUTTON] = "button",             [BENCH_ACT_DUPLICATE] = "duplicate_address",
    };
    size_t i = (size_t)a;
    return i < sizeof names / sizeof names[0] && names[i] != NULL ? names[i] : "event";
}

static void event_label(const bench_event_t *ev, char *buf, size_t cap)
{
    char where[48] = "";
    if (ev->pack >= 0 && ev->cell >= 0) {
        snprintf(where, sizeof where, " pack %d cell %d", ev->pack + 1, ev->cell + 1);
    } else if (ev->pack >= 0) {
        snprintf(where, sizeof where, " pack %d", ev->pack + 1);
    }
    if (ev->action == BENCH_ACT_FAULT) {
        snprintf(buf, cap, "t=%.1fs fault %s%s", ev->at_s, ev->text, where);
    } else {
        snprintf(buf, cap, "t=%.1fs %s %g%s", ev->at_s, action_name(ev->action), ev->value, where);
    }
}

/* What a check demands, in words. */
static void describe_expectation(const bench_expect_t *e, char *buf, size_t cap)
{
    switch (e->kind) {
    case BENCH_EXP_ALWAYS:
    case BENCH_EXP_NEVER:
        if (e->until_s >= 0) {
            snprintf(buf, cap, "the condition must be %s at every sample from %.1f s to %.1f s",
                     e->kind == BENCH_EXP_ALWAYS ? "true" : "false", e->from_s, e->until_s);
        } else {
            snprintf(buf, cap, "the condition must be %s at every sample from %.1f s to the end",
                     e->kind == BENCH_EXP_ALWAYS ? "true" : "false", e->from_s);
        }
        break;
    case BENCH_EXP_EVENTUALLY:
        snprintf(buf, cap, "the condition must become true at some sample by %.1f s", e->by_s);
        break;
    case BENCH_EXP_WITHIN:
        snprintf(buf, cap, "each time the trigger becomes true, the response must follow within %.1f s",
                 e->d_s);
        break;
    case BENCH_EXP_AT:
        snprintf(buf, cap, "the condition must be true at the first sample at or after %.1f s",
                 e->at_s);
        break;
    default:
        snprintf(buf, cap, "(unknown kind of check)");
        break;
    }
}

/* The earliest failure, what it demanded, and the events just before it. */
static char *explain_first_failure(const bench_scenario_t *sc, const bench_expect_state_t *st,
                                   int nst, int *first)
{
    *first = -1;
    for (int i = 0; i < nst; i++) {
        if (st[i].verdict == BENCH_FAIL && (*first < 0 || st[i].fail_t < st[*first].fail_t)) {
            *first = i;
        }
    }
    if (*first < 0) {
        return NULL;
    }
    const bench_expect_state_t *f = &st[*first];
    char demand[256], where[64] = "";
    describe_expectation(f->exp, demand, sizeof demand);
    if (*first < sc->nexpects && f->exp->line > 0) {
        snprintf(where, sizeof where, " (%s line %d)", sc->name, f->exp->line);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL) {
        return NULL;
    }
    fprintf(m, "At t = %.1f s the %s \"%s\"%s failed.\n", f->fail_t,
            *first < sc->nexpects ? "expectation" : "safety check", f->exp->label, where);
    fprintf(m, "It requires: %s.\n", demand);
    fprintf(m, "What happened: %s\n", f->message);
    int shown = 0;
    for (int i = sc->nevents - 1; i >= 0 && shown < 3; i--) {
        if (sc->events[i].at_s <= f->fail_t) {
            char ev[128];
            event_label(&sc->events[i], ev, sizeof ev);
            fprintf(m, "%s%s", shown == 0 ? "Events before it (latest first): " : "; ", ev);
            shown++;
        }
    }
    fputs(shown > 0 ? ".\n" : "No scenario event came before it.\n", m);
    int others = 0;
    for (int i = 0; i < nst; i++) {
        others += st[i].verdict == BENCH_FAIL && i != *first;
    }
    if (others > 0) {
        fprintf(m, "%d other check%s failed later (see the table below).", others,
                others == 1 ? "" : "s");
    }
    fclose(m);
    return text;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static bool is_image(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot != NULL && (strcmp(dot, ".png") == 0 || strcmp(dot, ".svg") == 0 ||
                           strcmp(dot, ".jpg") == 0);
}

static void collect_links(bench_report_t *rep, const char *recording_dir, links_t *l)
{
    l->nrec = l->nimg = 0;
    char rec_real[PATH_MAX], rel[PATH_MAX];
    DIR *d;
    if (recording_dir == NULL || realpath(recording_dir, rec_real) == NULL ||
        (d = opendir(rec_real)) == NULL) {
        return;
    }
    char (*names)[256] = rep->names;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < REPORT_MAX_LINKS) {
        if (e->d_name[0] != '.') {
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_name);
    relative_path(rep->dir_real, rec_real, rel, sizeof rel);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", rel, names[i]);
        url_encode(path, l->href[i], sizeof l->href[i]);
        snprintf(l->text[i], sizeof l->text[i], "%s", names[i]);
        html_link_t link = {l->href[i], l->text[i]};
        l->rec[l->nrec++] = link;
        if (is_image(names[i])) {
            l->img[l->nimg++] = link;
        }
    }
}

/* The expectation marks: failures where they failed; an `at` check and an
 * `eventually` deadline where they were decided as passed. */
static size_t check_markers(const bench_expect_state_t *st, int nst, svg_marker_t *mk, size_t n)
{
    for (int i = 0; i < nst; i++) {
        const bench_expect_t *e = st[i].exp;
        if (st[i].verdict == BENCH_FAIL) {
            mk[n++] = (svg_marker_t){st[i].fail_t, SVG_MARK_FAIL, e->label};
        } else if (st[i].verdict == BENCH_PASS && e->kind == BENCH_EXP_AT) {
            mk[n++] = (svg_marker_t){e->at_s, SVG_MARK_PASS, e->label};
        } else if (st[i].verdict == BENCH_PASS && e->kind == BENCH_EXP_EVENTUALLY) {
            mk[n++] = (svg_marker_t){e->by_s, SVG_MARK_PASS, e->label};
        }
    }
    return n;
}

static char *render_section(bench_report_t *rep, const html_scenario_t *hs, size_t index)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL) {
        return NULL;
    }
    int rc = html_report_section(m, hs, index);
    if (fclose(m) != 0 || rc != 0) {
        free(text);
        rep->oom = true;
        return NULL;
    }
    return text;
}

static bool push_entry(bench_report_t *rep)
{
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 16;
        rep_entry_t *v = realloc(rep->entries, cap * sizeof *v);
        if (v == NULL) {
            rep->oom = true;
            return false;
        }
        rep->entries = v, rep->cap = cap;
    }
    memset(&rep->entries[rep->n], 0, sizeof rep->entries[0]);
    rep->n++;
    return true;
}

void bench_report_end(bench_report_t *rep, bench_world_t *w, const bench_result_t *r,
                      const char *recording_dir)
{
    /* A run that failed after its hook already ended it is not added twice. */
    if (rep == NULL || r == NULL || (w == NULL && !rep->collecting) || !push_entry(rep)) {
        return;
    }
    rep_entry_t *en = &rep->entries[rep->n - 1];
    const bench_scenario_t *sc = w != NULL ? w->sc : rep->cur;
    html_scenario_t hs = {.name = sc != NULL ? sc->name : "(scenario)"};
    if (sc != NULL) {
        hs.path = sc->path;
        hs.description = sc->description;
    }
    if (w == NULL || r->error) {
        hs.status = HTML_ERROR;
        hs.error = r->error_msg;
        en->error = dup_text(r->error_msg);
    } else {
        hs.status = r->passed ? HTML_PASS : HTML_FAIL;
    }
    hs.sim_s = r->stats.sim_s, hs.wall_s = r->stats.wall_s;
    hs.nchecks = r->nchecks, hs.nfailed = r->nfailed;
    hs.first_failure = r->first_failure;

    svg_chart_t ch[NCHARTS] = {0};
    svg_series_t se[NCHARTS][NPLOTS];
    svg_marker_t *mk = NULL;
    html_check_t *checks = NULL;
    char *explanation = NULL;
    links_t *links = &rep->links;
    char (*ev_labels)[128] = rep->ev_labels;
    if (w != NULL && sc != NULL) {
        const bench_expect_state_t *st = NULL;
        int nst = bench_world_checks(w, &st);
        nst = st != NULL && nst > 0 ? nst : 0;
        int first;
        explanation = explain_first_failure(sc, st, nst, &first);
        hs.explanation = explanation;

        checks = calloc((size_t)nst + 1, sizeof *checks);
        mk = calloc((size_t)(sc->nevents + nst) + 1, sizeof *mk);
        size_t nmk = 0;
        for (int i = 0; i < sc->nevents && mk != NULL; i++) {
            event_label(&sc->events[i], ev_labels[i], sizeof ev_labels[i]);
            mk[nmk++] = (svg_marker_t){sc->events[i].at_s, SVG_MARK_EVENT, ev_labels[i]};
        }
        nmk = mk != NULL ? check_markers(st, nst, mk, nmk) : 0;
        for (int i = 0; i < nst && checks != NULL; i++) {
            checks[i] = (html_check_t){st[i].exp->label,
                                       i < sc->nexpects ? "expectation" : "invariant",
                                       (html_verdict_t)st[i].verdict, st[i].fail_t,
                                       st[i].message};
        }
        hs.checks = checks, hs.nchecks_listed = checks != NULL ? (size_t)nst : 0;

        for (size_t c = 0; c < NCHARTS && rep->collecting; c++) {
            ch[c] = (svg_chart_t){.title = charts[c].title, .y_unit = charts[c].unit,
                                  .t0_s = 0, .t1_s = r->stats.sim_s,
                                  .series = se[c], .markers = mk, .nmarkers = nmk};
            for (size_t k = 0; k < NPLOTS; k++) {
                if (plots[k].chart != (int)c || rep->sig[k] < 0) {
                    continue;
                }
                svg_decimator_flush(&rep->dec[k]);
                se[c][ch[c].nseries++] = (svg_series_t){plots[k].label, plots[k].color,
                                                        rep->dec[k].t_s, rep->dec[k].y,
                                                        rep->dec[k].n};
            }
        }
        hs.charts = ch, hs.ncharts = rep->collecting ? NCHARTS : 0;
        collect_links(rep, recording_dir, links);
        hs.recordings = links->rec, hs.nrecordings = links->nrec;
        hs.snapshots = links->img, hs.nsnapshots = links->nimg;
    }
    en->name = dup_text(hs.name);
    en->status = hs.status;
    en->sim_s = hs.sim_s, en->wall_s = hs.wall_s;
    en->nchecks = hs.nchecks, en->nfailed = hs.nfailed;
    en->first_failure = dup_text(hs.first_failure);
    en->section = render_section(rep, &hs, rep->n - 1);
    free(explanation), free(checks), free(mk);
    free_series(rep);
}

/* ---- the page ----------------------------------------------------------- */

static void free_report(bench_report_t *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        rep_entry_t *en = &rep->entries[i];
        free(en->name), free(en->first_failure), free(en->error), free(en->section);
    }
    free_series(rep);
    free(rep->entries);
    free(rep->dir);
    free(rep);
}

int bench_report_close(bench_report_t *rep, char *err, size_t errcap)
{
    if (rep == NULL) {
        return 0;
    }
    int rc = 0;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/index.html", rep->dir);
    html_scenario_t *rows = calloc(rep->n + 1, sizeof *rows);
    FILE *f = rows != NULL && !rep->oom ? fopen(path, "w") : NULL;
    if (f == NULL) {
        snprintf(err, errcap, "cannot write %s: %s", path,
                 rows == NULL || rep->oom ? "out of memory" : strerror(errno));
        free(rows);
        free_report(rep);
        return -1;
    }
    for (size_t i = 0; i < rep->n; i++) {
        const rep_entry_t *en = &rep->entries[i];
        rows[i] = (html_scenario_t){.name = en->name, .status = en->status, .sim_s = en->sim_s,
                                    .wall_s = en->wall_s, .nchecks = en->nchecks,
                                    .nfailed = en->nfailed, .first_failure = en->first_failure,
                                    .error = en->error};
    }
    rc |= html_report_begin(f, "bmsbench run report", rows, rep->n);
    for (size_t i = 0; i < rep->n && rc == 0; i++) {
        const char *sec = rep->entries[i].section;
        rc |= sec == NULL || fputs(sec, f) < 0;
    }
    rc |= html_report_end(f);
    if (fclose(f) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
    }
    free(rows);
    free_report(rep);
    return rc != 0 ? -1 : 0;
}
