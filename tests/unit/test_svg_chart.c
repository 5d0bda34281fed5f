/* SPDX-License-Identifier: MIT */
/* svg_chart: exact polyline coordinates for known series, gaps, escaping,
 * and the min/max decimator's bound and spike/gap preservation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/svg_chart.h"

/* Render into a string (tmpfile: portable, no open_memstream). */
static char *render(const svg_chart_t *c, int *rc)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    *rc = svg_chart_write(f, c);
    long len = ftell(f);
    rewind(f);
    char *s = calloc((size_t)len + 1, 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return s;
}

static char *escaped(const char *in)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(svg_put_escaped(f, in), 0);
    long len = ftell(f);
    rewind(f);
    char *s = calloc((size_t)len + 1, 1);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return s;
}

/* The points="..." of every polyline, in order. */
static int polylines(const char *svg, char out[][4096], int max)
{
    int n = 0;
    for (const char *p = svg; (p = strstr(p, "<polyline")) != NULL && n < max; p++) {
        const char *a = strstr(p, "points=\"");
        assert_non_null(a);
        a += 8;
        const char *e = strchr(a, '"');
        assert_non_null(e);
        size_t len = (size_t)(e - a);
        assert_true(len < 4096);
        memcpy(out[n], a, len);
        out[n][len] = '\0';
        n++;
    }
    return n;
}

static int count_points(const char *pts)
{
    int n = 0;
    for (const char *p = pts; *p != '\0'; p++) {
        n += *p == ',';
    }
    return n;
}

/* Expected "x,y x,y" for a series within the documented mapping. */
static void expect_points(char *buf, size_t cap, const double *t, const double *y, size_t n,
                          double t0, double t1, double y0, double y1, int w, int h)
{
    double pw = w - SVG_CHART_MARGIN_LEFT - SVG_CHART_MARGIN_RIGHT;
    double ph = h - SVG_CHART_MARGIN_TOP - SVG_CHART_MARGIN_BOTTOM;
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(buf + o, cap - o, "%s%.1f,%.1f", i ? " " : "",
                              SVG_CHART_MARGIN_LEFT + (t[i] - t0) * pw / (t1 - t0),
                              SVG_CHART_MARGIN_TOP + (y1 - y[i]) * ph / (y1 - y0));
    }
}

static void test_svg_chart_polyline_coordinates(void **state)
{
    (void)state;
    static const double t[] = {0, 1, 2, 3, 4};
    static const double y[] = {0, 10, 5, 10, 0};
    svg_series_t se = {"cvl", "#123456", t, y, 5};
    svg_chart_t c = {.title = "t", .y_unit = "V", .width = 400, .height = 200,
                     .series = &se, .nseries = 1};
    int rc;
    char *svg = render(&c, &rc);
    assert_int_equal(rc, 0);
    static char got[4][4096];
    assert_int_equal(polylines(svg, got, 4), 1);
    assert_int_equal(count_points(got[0]), 5);
    /* y range: [0, 10] padded by 5 % of the span: [-0.5, 10.5]; x: the data. */
    char want[4096];
    expect_points(want, sizeof want, t, y, 5, 0, 4, -0.5, 10.5, 400, 200);
    assert_string_equal(got[0], want);
    /* Spelled out once, so the mapping itself is pinned: plot 324 x 144. */
    assert_string_equal(got[0], "60.0,163.5 141.0,32.5 222.0,98.0 303.0,32.5 384.0,163.5");
    assert_non_null(strstr(svg, "stroke=\"#123456\""));
    assert_null(strstr(svg, "http://"));
    free(svg);
}

/* Rows: series, x range from the chart or the data, the expected polylines. */
static void test_svg_chart_golden_rows(void **state)
{
    (void)state;
    static const double t1[] = {10, 20, 30};
    static const double y1[] = {3, 3, 3};      /* flat: +-0.5 */
    static const double y2[] = {1, NAN, 2};    /* a gap: two polylines */
    static const double y3[] = {-100, 0, 100};
    static const struct row {
        const double *y;
        double t0, t1;
        int npolys;
        int points[2];
        double ylo, yhi;
    } rows[] = {
        {y1, 0, 0, 1, {3, 0}, 2.5, 3.5},
        {y1, 0, 40, 1, {3, 0}, 2.5, 3.5},
        {y2, 0, 0, 2, {1, 1}, 0.95, 2.05},
        {y3, 10, 30, 1, {3, 0}, -110, 110},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        svg_series_t se = {"s", NULL, t1, rows[r].y, 3};
        svg_chart_t c = {.title = "x", .t0_s = rows[r].t0, .t1_s = rows[r].t1, .series = &se,
                         .nseries = 1};
        int rc;
        char *svg = render(&c, &rc);
        static char got[4][4096];
        int n = polylines(svg, got, 4);
        if (rc != 0 || n != rows[r].npolys) {
            fail_msg("row %zu: rc %d, %d polylines, want %d", r, rc, n, rows[r].npolys);
        }
        double t0 = rows[r].t1 > rows[r].t0 ? rows[r].t0 : 10;
        double tend = rows[r].t1 > rows[r].t0 ? rows[r].t1 : 30;
        size_t k = 0;
        for (int p = 0; p < n; p++) {
            double tt[3], yy[3];
            size_t m = 0;
            while (k < 3 && isfinite(rows[r].y[k])) {
                tt[m] = t1[k], yy[m] = rows[r].y[k], m++, k++;
            }
            k++; /* the gap */
            char want[4096];
            expect_points(want, sizeof want, tt, yy, m, t0, tend, rows[r].ylo, rows[r].yhi,
                          SVG_CHART_DEFAULT_WIDTH, SVG_CHART_DEFAULT_HEIGHT);
            if ((int)m != rows[r].points[p] || strcmp(got[p], want) != 0) {
                fail_msg("row %zu polyline %d: got \"%s\", want \"%s\" (%zu points)", r, p, got[p],
                         want, m);
            }
        }
        free(svg);
    }
}

static void test_svg_chart_markers_and_escaping(void **state)
{
    (void)state;
    static const double t[] = {0, 100};
    static const double y[] = {1, 2};
    svg_series_t se = {"<b>&\"", NULL, t, y, 2};
    svg_marker_t mk[] = {{50, SVG_MARK_FAIL, "x < 3 & y"},
                         {25, SVG_MARK_EVENT, "charger 10"},
                         {500, SVG_MARK_PASS, "outside the range: not drawn"}};
    svg_chart_t c = {.title = "a<b", .series = &se, .nseries = 1, .markers = mk, .nmarkers = 3};
    int rc;
    char *svg = render(&c, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(svg, "<title>a&lt;b</title>"));
    assert_non_null(strstr(svg, "&lt;b&gt;&amp;&quot;"));
    assert_null(strstr(svg, "<b>"));
    /* x of t = 50 of [0, 100] on the default width: 60 + 412 = 472. */
    assert_non_null(strstr(svg, "class=\"mark fail\" x1=\"472.0\""));
    assert_non_null(strstr(svg, "<title>x &lt; 3 &amp; y</title>"));
    assert_non_null(strstr(svg, "class=\"mark event\" x1=\"266.0\""));
    assert_null(strstr(svg, "outside the range"));
    free(svg);
    assert_int_equal(svg_chart_write(NULL, &c), -1);
    FILE *f = tmpfile();
    assert_int_equal(svg_chart_write(f, NULL), -1);
    fclose(f);
}

static void test_svg_chart_escape_rows(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"plain", "plain"},
        {"<&>\"'", "&lt;&amp;&gt;&quot;&#39;"},
        {"a\x01z", "a\xEF\xBF\xBDz"},          /* C0 control */
        {"\xC3\xA9", "\xC3\xA9"},              /* valid UTF-8 kept */
        {"\xC3(", "\xEF\xBF\xBD("},            /* broken sequence */
        {"\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD"}, /* truncated at the end */
        {"tab\tnl\n", "tab\tnl\n"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char *got = escaped(rows[r].in);
        if (strcmp(got, rows[r].out) != 0) {
            fail_msg("row %zu: got \"%s\", want \"%s\"", r, got, rows[r].out);
        }
        free(got);
    }
}

static void test_svg_decimator_keeps_spike_and_bound(void **state)
{
    (void)state;
    svg_decimator_t d;
    assert_int_equal(svg_decimator_init(&d, 100), 0);
    /* 100000 samples of a flat line with one spike and one dip. */
    for (int i = 0; i < 100000; i++) {
        double y = i == 54321 ? 9.0 : i == 77777 ? -4.0 : 1.0;
        svg_decimator_add(&d, i * 0.1, y);
        assert_true(d.n <= d.cap);
    }
    svg_decimator_flush(&d);
    assert_true(d.n <= 100);
    assert_true(d.n >= 10);
    bool spike = false, dip = false;
    for (size_t i = 0; i < d.n; i++) {
        spike |= d.y[i] == 9.0 && fabs(d.t_s[i] - 5432.1) < 1e-6;
        dip |= d.y[i] == -4.0 && fabs(d.t_s[i] - 7777.7) < 1e-6;
        if (i > 0 && d.t_s[i] < d.t_s[i - 1]) {
            fail_msg("point %zu: time goes back (%g after %g)", i, d.t_s[i], d.t_s[i - 1]);
        }
    }
    assert_true(spike);
    assert_true(dip);
    /* The first and last samples' buckets are there. */
    assert_true(d.t_s[0] < 1000 && d.t_s[d.n - 1] > 9000);
    svg_decimator_free(&d);
}

static void test_svg_decimator_small_series_exact(void **state)
{
    (void)state;
    svg_decimator_t d;
    assert_int_equal(svg_decimator_init(&d, 2000), 0);
    for (int i = 0; i < 50; i++) {
        svg_decimator_add(&d, i, i * 2.0);
    }
    svg_decimator_flush(&d);
    assert_int_equal(d.n, 50);
    assert_int_equal(d.per, 1);
    for (size_t i = 0; i < d.n; i++) {
        if (d.t_s[i] != (double)i || d.y[i] != 2.0 * (double)i) {
            fail_msg("point %zu: (%g, %g)", i, d.t_s[i], d.y[i]);
        }
    }
    svg_decimator_free(&d);
}

static void test_svg_decimator_gap_survives(void **state)
{
    (void)state;
    svg_decimator_t d;
    assert_int_equal(svg_decimator_init(&d, 64), 0);
    for (int i = 0; i < 10000; i++) {
        svg_decimator_add(&d, i, (i < 100 || (i >= 5000 && i < 5003)) ? NAN : 3.0);
    }
    svg_decimator_add(&d, INFINITY, 1.0); /* no time: dropped */
    svg_decimator_flush(&d);
    assert_true(d.n <= 64);
    int gaps = 0;
    for (size_t i = 0; i < d.n; i++) {
        gaps += !isfinite(d.y[i]);
        assert_true(isfinite(d.t_s[i]));
    }
    assert_true(!isfinite(d.y[0]));  /* the leading gap */
    assert_int_equal(gaps, 2);
    /* The chart draws the finite runs around the gaps as separate lines. */
    svg_series_t se = {"g", NULL, d.t_s, d.y, d.n};
    svg_chart_t c = {.title = "g", .series = &se, .nseries = 1};
    int rc;
    char *svg = render(&c, &rc);
    static char got[4][4096];
    assert_int_equal(polylines(svg, got, 4), 2);
    free(svg);
    svg_decimator_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svg_chart_polyline_coordinates),
        cmocka_unit_test(test_svg_chart_golden_rows),
        cmocka_unit_test(test_svg_chart_markers_and_escaping),
        cmocka_unit_test(test_svg_chart_escape_rows),
        cmocka_unit_test(test_svg_decimator_keeps_spike_and_bound),
        cmocka_unit_test(test_svg_decimator_small_series_exact),
        cmocka_unit_test(test_svg_decimator_gap_survives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
