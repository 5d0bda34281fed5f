/* SPDX-License-Identifier: MIT */
/* Inline SVG line charts from plain arrays, and a min/max-preserving
 * decimator that keeps a long time series to a bounded number of points. */
#ifndef REPORTS_SVG_CHART_H
#define REPORTS_SVG_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Plot area inside the chart: the axes' labels live in the margins. */
#define SVG_CHART_MARGIN_LEFT 60
#define SVG_CHART_MARGIN_RIGHT 16
#define SVG_CHART_MARGIN_TOP 26
#define SVG_CHART_MARGIN_BOTTOM 30
#define SVG_CHART_DEFAULT_WIDTH 900
#define SVG_CHART_DEFAULT_HEIGHT 240
/* The y range is the finite data's [min, max] widened by this share of the
 * span on each side (a flat series: +-0.5, or +-5 % of its value if larger). */
#define SVG_CHART_Y_PAD 0.05

typedef struct svg_series {
    const char *label;      /* legend text, e.g. "CVL (cvl_v)" */
    const char *color;      /* CSS colour, e.g. "#1f77b4"; NULL = a palette colour */
    const double *t_s;      /* x values, ascending */
    const double *y;        /* a non-finite value breaks the line (a gap) */
    size_t n;
} svg_series_t;

typedef enum svg_marker_kind {
    SVG_MARK_EVENT = 0,     /* a scenario event: grey dashed line */
    SVG_MARK_PASS,          /* an expectation decided as passed: green */
    SVG_MARK_FAIL,          /* an expectation failed here: red */
} svg_marker_kind_t;

typedef struct svg_marker {
    double t_s;
    svg_marker_kind_t kind;
    const char *label;      /* tooltip text */
} svg_marker_t;

typedef struct svg_chart {
    const char *title;
    const char *y_unit;     /* axis label, e.g. "V" */
    int width, height;      /* pixels; <= 0: the defaults */
    double t0_s, t1_s;      /* x range; t1_s <= t0_s: from the data */
    const svg_series_t *series;
    size_t nseries;
    const svg_marker_t *markers;
    size_t nmarkers;
} svg_chart_t;

/* Write one <svg> element (no XML namespace attribute: it is inline HTML).
 * Each run of finite points of a series becomes one <polyline> with
 * class="series" whose points are "x,y" pairs printed with one decimal:
 *   x = LEFT + (t - t0) * plot_w / (t1 - t0)
 *   y = TOP + (ymax - v) * plot_h / (ymax - ymin)
 * where plot_w/h are the size less the margins. Returns 0, or -1 on a write
 * error or a NULL chart. */
int svg_chart_write(FILE *f, const svg_chart_t *c);

/* Writes text escaped for HTML/XML text and attribute values (& < > " ');
 * bytes XML cannot carry (C0 controls but tab/newline, broken UTF-8) become
 * U+FFFD. 0 or -1. */
int svg_put_escaped(FILE *f, const char *text);

/* Downsampling: samples are grouped in buckets of `per` consecutive inputs;
 * each bucket keeps its lowest and its highest finite sample and its first
 * non-finite one (a gap), in time order, so spikes and gaps survive. When
 * the points would exceed the capacity, buckets are merged pairwise
 * (per doubles) until at most half the capacity is used. */
typedef struct svg_decimator {
    double *t_s;            /* read-only: the kept points */
    double *y;
    size_t n;
    size_t cap;             /* set by init; at least 8 */
    uint64_t per;           /* read-only: inputs per bucket (a power of two) */
    /* private */
    uint64_t *bucket;
    uint64_t nin;
    bool open;              /* the current bucket has samples not yet kept */
    uint64_t open_first;    /* input index of its first sample */
    double lo_t, lo_y, hi_t, hi_y, gap_t;
    bool has_lo, has_gap;
} svg_decimator_t;

/* 0, or -1 when memory is short (then d is empty but safe to free). */
int svg_decimator_init(svg_decimator_t *d, size_t cap);
void svg_decimator_add(svg_decimator_t *d, double t_s, double y);
/* Keep the last, partly filled bucket. Call before reading the points. */
void svg_decimator_flush(svg_decimator_t *d);
void svg_decimator_free(svg_decimator_t *d);

#endif
