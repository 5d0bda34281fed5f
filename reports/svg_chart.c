/* SPDX-License-Identifier: MIT */
/* Inline SVG line charts and the min/max decimator (see svg_chart.h). */
#include "reports/svg_chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#17becf", "#7f7f7f"};
#define NPALETTE (sizeof palette / sizeof palette[0])

/* ---- escaping ---------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s that XML 1.0 allows, 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    uint32_t cp;
    size_t n;
    if (s[0] < 0x80) {
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        cp = s[0] & 0x1Fu, n = 2;
    } else if ((s[0] & 0xF0) == 0xE0) {
        cp = s[0] & 0x0Fu, n = 3;
    } else if ((s[0] & 0xF8) == 0xF0) {
        cp = s[0] & 0x07u, n = 4;
    } else {
        return 0;
    }
    /* The string ends in NUL, which is no continuation byte: this stays in bounds. */
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    bool bad = cp < min_cp[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
               cp == 0xFFFF || cp > 0x10FFFF;
    return bad ? 0 : n;
}

int svg_put_escaped(FILE *f, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
    while (*s != '\0') {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t':
        case '\n': break;
        default:
            if (*s < 0x20) {
                rep = "\xEF\xBF\xBD";
            }
            break;
        }
        size_t n = rep != NULL ? 1 : utf8_len(s);
        if (rep == NULL && n == 0) {
            rep = "\xEF\xBF\xBD", n = 1;
        }
        if (rep != NULL ? fputs(rep, f) < 0 : fwrite(s, 1, n, f) != n) {
            return -1;
        }
        s += n;
    }
    return 0;
}

/* ---- chart ------------------------------------------------------------- */

typedef struct frame {
    double left, top, w, h;     /* plot area, pixels */
    double t0, t1, y0, y1;      /* data range */
} frame_t;

static double px_x(const frame_t *fr, double t)
{
    return fr->left + (t - fr->t0) * fr->w / (fr->t1 - fr->t0);
}

static double px_y(const frame_t *fr, double v)
{
    return fr->top + (fr->y1 - v) * fr->h / (fr->y1 - fr->y0);
}

/* The x and y ranges from the data (and the chart's own x range if set). */
static void data_range(const svg_chart_t *c, frame_t *fr)
{
    double tmin = INFINITY, tmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++) {
        const svg_series_t *se = &c->series[s];
        for (size_t i = 0; se->t_s != NULL && se->y != NULL && i < se->n; i++) {
            if (!isfinite(se->t_s[i]) || !isfinite(se->y[i])) {
                continue;
            }
            tmin = fmin(tmin, se->t_s[i]), tmax = fmax(tmax, se->t_s[i]);
            ymin = fmin(ymin, se->y[i]), ymax = fmax(ymax, se->y[i]);
        }
    }
    if (isfinite(c->t0_s) && isfinite(c->t1_s) && c->t1_s > c->t0_s) {
        tmin = c->t0_s, tmax = c->t1_s;
    }
    if (!(tmax > tmin)) {
        tmin = isfinite(tmin) ? tmin : 0.0;
        tmax = tmin + 1.0;
    }
    if (!isfinite(ymin)) {
        ymin = 0.0, ymax = 1.0;
    } else if (ymax > ymin) {
        double pad = (ymax - ymin) * SVG_CHART_Y_PAD;
        ymin -= pad, ymax += pad;
    } else {
        double pad = fmax(0.5, fabs(ymin) * 0.05);
        ymin -= pad, ymax += pad;
    }
    fr->t0 = tmin, fr->t1 = tmax, fr->y0 = ymin, fr->y1 = ymax;
}

/* A 1/2/5 x 10^k step giving about `want` intervals over span. */
static double nice_step(double span, int want)
{
    double raw = span / want;
    double mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    return (r < 1.5 ? 1.0 : r < 3.5 ? 2.0 : r < 7.5 ? 5.0 : 10.0) * mag;
}

/* Time axis unit: seconds for short runs, minutes, then hours. */
static void time_unit(double span_s, double *div, const char **unit)
{
    if (span_s <= 180) {
        *div = 1.0, *unit = "s";
    } else if (span_s <= 3 * 3600) {
        *div = 60.0, *unit = "min";
    } else {
        *div = 3600.0, *unit = "h";
    }
}

static int write_axes(FILE *f, const svg_chart_t *c, const frame_t *fr)
{
    int r = 0;
    r |= fprintf(f,
                 "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                 "fill=\"#fff\" stroke=\"#999\"/>\n",
                 fr->left, fr->top, fr->w, fr->h) < 0;
    double ystep = nice_step(fr->y1 - fr->y0, 5);
    for (double v = ceil(fr->y0 / ystep) * ystep; v <= fr->y1 + ystep * 1e-9; v += ystep) {
        double y = px_y(fr, v);
        double shown = fabs(v) < ystep * 1e-6 ? 0.0 : v;   /* no "-0" */
        r |= fprintf(f,
                     "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#eee\"/><text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" "
                     "text-anchor=\"end\">%.4g</text>\n",
                     fr->left, y, fr->left + fr->w, y, fr->left - 4, y + 4, shown) < 0;
    }
    double div;
    const char *unit;
    time_unit(fr->t1 - fr->t0, &div, &unit);
    double tstep = nice_step((fr->t1 - fr->t0) / div, 6) * div;
    for (double t = ceil(fr->t0 / tstep) * tstep; t <= fr->t1 + tstep * 1e-9; t += tstep) {
        double x = px_x(fr, t);
        r |= fprintf(f,
                     "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4g%s"
                     "</text>\n",
                     x, fr->top + fr->h + 16, t / div, unit) < 0;
    }
    r |= fputs("<text class=\"ctitle\" x=\"4\" y=\"16\">", f) < 0;
    r |= svg_put_escaped(f, c->title);
    if (c->y_unit != NULL && c->y_unit[0] != '\0') {
        r |= fputs(" (", f) < 0;
        r |= svg_put_escaped(f, c->y_unit);
        r |= fputs(")", f) < 0;
    }
    r |= fputs("</text>\n", f) < 0;
    return r ? -1 : 0;
}

static int write_markers(FILE *f, const svg_chart_t *c, const frame_t *fr)
{
    static const char *const cls[] = {"event", "pass", "fail"};
    static const char *const stroke[] = {"#888", "#2ca02c", "#d62728"};
    int r = 0;
    for (size_t i = 0; i < c->nmarkers && c->markers != NULL; i++) {
        const svg_marker_t *m = &c->markers[i];
        int k = m->kind >= SVG_MARK_EVENT && m->kind <= SVG_MARK_FAIL ? (int)m->kind : 0;
        if (!isfinite(m->t_s) || m->t_s < fr->t0 || m->t_s > fr->t1) {
            continue;
        }
        double x = px_x(fr, m->t_s);
        r |= fprintf(f,
                     "<line class=\"mark %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"%s\"%s><title>",
                     cls[k], x, fr->top, x, fr->top + fr->h, stroke[k],
                     k == SVG_MARK_EVENT ? " stroke-dasharray=\"4 3\"" : " stroke-width=\"2\"") <
             0;
        r |= svg_put_escaped(f, m->label);
        r |= fputs("</title></line>\n", f) < 0;
    }
    return r ? -1 : 0;
}

/* One <polyline> per run of finite points. */
static int write_series(FILE *f, const svg_series_t *se, const char *color, const frame_t *fr)
{
    int r = 0;
    bool open = false;
    for (size_t i = 0; se->t_s != NULL && se->y != NULL && i <= se->n; i++) {
        bool ok = i < se->n && isfinite(se->t_s[i]) && isfinite(se->y[i]);
        if (!ok) {
            if (open) {
                r |= fputs("\"><title>", f) < 0;
                r |= svg_put_escaped(f, se->label);
                r |= fputs("</title></polyline>\n", f) < 0;
                open = false;
            }
            continue;
        }
        if (!open) {
            r |= fputs("<polyline class=\"series\" fill=\"none\" stroke=\"", f) < 0;
            r |= svg_put_escaped(f, color);
            r |= fputs("\" stroke-width=\"1.5\" points=\"", f) < 0;
            open = true;
        } else {
            r |= fputc(' ', f) == EOF;
        }
        r |= fprintf(f, "%.1f,%.1f", px_x(fr, se->t_s[i]), px_y(fr, se->y[i])) < 0;
    }
    return r ? -1 : 0;
}

static int write_legend(FILE *f, const svg_chart_t *c, const frame_t *fr)
{
    int r = 0;
    /* After the title: about 6.5 px per character at 11 px. */
    size_t title_len = (c->title != NULL ? strlen(c->title) : 0) +
                       (c->y_unit != NULL ? strlen(c->y_unit) + 3 : 0);
    double x = fmax(fr->left, 4 + 6.5 * (double)title_len + 20);
    for (size_t s = 0; s < c->nseries; s++) {
        const char *label = c->series[s].label != NULL ? c->series[s].label : "";
        const char *color = c->series[s].color != NULL ? c->series[s].color
                                                       : palette[s % NPALETTE];
        r |= fprintf(f, "<rect x=\"%.1f\" y=\"8\" width=\"10\" height=\"10\" fill=\"", x) < 0;
        r |= svg_put_escaped(f, color);
        r |= fprintf(f, "\"/><text class=\"legend\" x=\"%.1f\" y=\"17\">", x + 14) < 0;
        r |= svg_put_escaped(f, label);
        r |= fputs("</text>\n", f) < 0;
        x += 24 + 6.5 * (double)strlen(label);
    }
    return r ? -1 : 0;
}

int svg_chart_write(FILE *f, const svg_chart_t *c)
{
    if (f == NULL || c == NULL || (c->series == NULL && c->nseries > 0)) {
        return -1;
    }
    int width = c->width > 0 ? c->width : SVG_CHART_DEFAULT_WIDTH;
    int height = c->height > 0 ? c->height : SVG_CHART_DEFAULT_HEIGHT;
    frame_t fr = {
        .left = SVG_CHART_MARGIN_LEFT,
        .top = SVG_CHART_MARGIN_TOP,
        .w = width - SVG_CHART_MARGIN_LEFT - SVG_CHART_MARGIN_RIGHT,
        .h = height - SVG_CHART_MARGIN_TOP - SVG_CHART_MARGIN_BOTTOM,
    };
    if (fr.w < 1 || fr.h < 1) {
        return -1;
    }
    data_range(c, &fr);
    int r = 0;
    r |= fprintf(f,
                 "<svg class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n<title>",
                 width, height, width, height) < 0;
    r |= svg_put_escaped(f, c->title);
    r |= fputs("</title>\n", f) < 0;
    r |= write_axes(f, c, &fr);
    r |= write_markers(f, c, &fr);
    for (size_t s = 0; s < c->nseries; s++) {
        const char *color = c->series[s].color != NULL ? c->series[s].color
                                                       : palette[s % NPALETTE];
        r |= write_series(f, &c->series[s], color, &fr);
    }
    r |= write_legend(f, c, &fr);
    r |= fputs("</svg>\n", f) < 0;
    return r || ferror(f) ? -1 : 0;
}

/* ---- decimator --------------------------------------------------------- */

int svg_decimator_init(svg_decimator_t *d, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->per = 1;
    cap = cap < 8 ? 8 : cap;
    d->t_s = malloc(cap * sizeof *d->t_s);
    d->y = malloc(cap * sizeof *d->y);
    d->bucket = malloc(cap * sizeof *d->bucket);
    if (d->t_s == NULL || d->y == NULL || d->bucket == NULL) {
        svg_decimator_free(d);
        return -1;
    }
    d->cap = cap;
    return 0;
}

void svg_decimator_free(svg_decimator_t *d)
{
    free(d->t_s), free(d->y), free(d->bucket);
    d->t_s = d->y = NULL;
    d->bucket = NULL;
    d->n = d->cap = 0;
}

/* Reduce the kept points [a, b) of one bucket to its lowest, highest and
 * first gap point, in time order, written from w on. Returns the new w. */
static size_t reduce_group(svg_decimator_t *d, size_t a, size_t b, size_t w)
{
    size_t lo = b, hi = b, gap = b;
    for (size_t i = a; i < b; i++) {
        if (!isfinite(d->y[i])) {
            gap = gap == b ? i : gap;
            continue;
        }
        lo = (lo == b || d->y[i] < d->y[lo]) ? i : lo;
        hi = (hi == b || d->y[i] > d->y[hi]) ? i : hi;
    }
    /* Points are stored in time order, so index order is time order. */
    for (size_t i = a; i < b; i++) {
        if (i == lo || i == hi || i == gap) {
            d->t_s[w] = d->t_s[i], d->y[w] = d->y[i], d->bucket[w] = d->bucket[i];
            w++;
        }
    }
    return w;
}

static void compact(svg_decimator_t *d)
{
    while (d->n > d->cap / 2) {
        d->per *= 2;
        size_t w = 0, a = 0;
        for (size_t i = 0; i < d->n; i++) {
            d->bucket[i] >>= 1;
        }
        while (a < d->n) {
            size_t b = a + 1;
            while (b < d->n && d->bucket[b] == d->bucket[a]) {
                b++;
            }
            w = reduce_group(d, a, b, w);
            a = b;
        }
        d->n = w;
    }
}

static void keep(svg_decimator_t *d, double t, double y, uint64_t bucket)
{
    d->t_s[d->n] = t, d->y[d->n] = y, d->bucket[d->n] = bucket;
    d->n++;
}

/* Close the open bucket: its (up to three) points join the kept ones. */
static void close_bucket(svg_decimator_t *d, uint64_t first_index)
{
    if (!d->open) {
        return;
    }
    if (d->n + 3 > d->cap) {
        compact(d);
    }
    uint64_t bucket = first_index / d->per;
    double t[3];
    double y[3];
    int n = 0;
    if (d->has_lo) {
        t[n] = d->lo_t, y[n++] = d->lo_y;
        if (d->hi_t != d->lo_t) {
            t[n] = d->hi_t, y[n++] = d->hi_y;
        }
    }
    if (d->has_gap) {
        t[n] = d->gap_t, y[n++] = NAN;
    }
    /* Three points at most: a tiny insertion sort by time. */
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double tt = t[j], yy = y[j];
            t[j] = t[j - 1], y[j] = y[j - 1];
            t[j - 1] = tt, y[j - 1] = yy;
        }
    }
    for (int i = 0; i < n; i++) {
        keep(d, t[i], y[i], bucket);
    }
    d->open = d->has_lo = d->has_gap = false;
}

void svg_decimator_add(svg_decimator_t *d, double t_s, double y)
{
    /* A sample without a time cannot be placed: dropped. */
    if (d->cap == 0 || !isfinite(t_s)) {
        return;
    }
    uint64_t idx = d->nin++;
    if (d->open && idx / d->per != d->open_first / d->per) {
        close_bucket(d, d->open_first);
    }
    if (!d->open) {
        d->open = true;
        d->open_first = idx;
    }
    if (!isfinite(y)) {
        if (!d->has_gap) {
            d->has_gap = true;
            d->gap_t = t_s;
        }
        return;
    }
    if (!d->has_lo) {
        d->has_lo = true;
        d->lo_t = d->hi_t = t_s;
        d->lo_y = d->hi_y = y;
        return;
    }
    if (y < d->lo_y) {
        d->lo_t = t_s, d->lo_y = y;
    }
    if (y > d->hi_y) {
        d->hi_t = t_s, d->hi_y = y;
    }
}

void svg_decimator_flush(svg_decimator_t *d)
{
    if (d->cap != 0) {
        close_bucket(d, d->open_first);
    }
}
