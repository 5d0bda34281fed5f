/* SPDX-License-Identifier: MIT */
/* The HTML run report from plain data: a summary table and one section per
 * scenario with its charts, checks, first failure and links. Self-contained
 * (inline CSS and SVG, no scripts, no network resources) and well-formed XML
 * as well as HTML, so python's xml.etree can check it. */
#ifndef REPORTS_HTML_REPORT_H
#define REPORTS_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include "reports/svg_chart.h"

typedef enum html_status {
    HTML_PASS = 0,
    HTML_FAIL,
    HTML_ERROR,             /* could not run */
} html_status_t;

typedef enum html_verdict {
    HTML_CHECK_PENDING = 0,
    HTML_CHECK_PASS,
    HTML_CHECK_FAIL,
} html_verdict_t;

typedef struct html_check {
    const char *label;      /* e.g. "always ccl_a <= 100" */
    const char *kind;       /* "expectation" or "invariant" */
    html_verdict_t verdict;
    double fail_t_s;        /* when it failed (HTML_CHECK_FAIL) */
    const char *message;    /* why it failed */
} html_check_t;

typedef struct html_link {
    const char *href;       /* relative URL, already percent-encoded */
    const char *text;
} html_link_t;

typedef struct html_scenario {
    const char *name;
    const char *path;
    const char *description;
    html_status_t status;
    double sim_s, wall_s;
    int nchecks, nfailed;
    const char *first_failure;   /* one line: "label: message" (summary table) */
    const char *explanation;     /* the first failure explained, any lines */
    const char *error;           /* HTML_ERROR: why it could not run */
    const html_check_t *checks;
    size_t nchecks_listed;
    const svg_chart_t *charts;
    size_t ncharts;
    const html_link_t *recordings;  /* files of the run's recording */
    size_t nrecordings;
    const html_link_t *snapshots;   /* images (panel snapshots) shown inline */
    size_t nsnapshots;
} html_scenario_t;

/* The document head and the summary table of all n scenarios (only their
 * summary fields are read); section i is linked as "#sc-<i>". */
int html_report_begin(FILE *f, const char *title, const html_scenario_t *s, size_t n);
/* One scenario's section, id "sc-<index>". */
int html_report_section(FILE *f, const html_scenario_t *s, size_t index);
int html_report_end(FILE *f);
/* All three in one go. Each returns 0, or -1 on a write error. */
int html_report_write(FILE *f, const char *title, const html_scenario_t *s, size_t n);

#endif
