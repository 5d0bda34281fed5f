/* SPDX-License-Identifier: MIT */
/* HTML run report writer (see html_report.h). */
#include "reports/html_report.h"

#include <math.h>

static const char *const status_text[] = {"PASS", "FAIL", "ERROR"};
static const char *const status_class[] = {"pass", "fail", "error"};
static const char *const verdict_text[] = {"pending", "pass", "fail"};

static const char css[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}"
    ".pass{color:#1a7f37}.fail{color:#c62828}.error{color:#b26a00}.pending{color:#777}"
    "section.scenario{border-top:2px solid #ddd;margin-top:2em}"
    ".first-failure{background:#fdecea;border-left:4px solid #c62828;padding:.5em 1em;"
    "white-space:pre-wrap}"
    ".desc{color:#555}svg.chart{display:block;margin:.5em 0}"
    "img.snapshot{max-width:900px;border:1px solid #ccc}";

static size_t clamp_index(int v, size_t n)
{
    return v >= 0 && (size_t)v < n ? (size_t)v : n - 1;
}

static int put_text(FILE *f, const char *text)
{
    return svg_put_escaped(f, text);
}

/* Seconds as 1h02m03s / 4m05s / 6.7s. */
static int put_duration(FILE *f, double s)
{
    if (!isfinite(s) || s < 0) {
        return fputs("-", f) < 0 ? -1 : 0;
    }
    long t = (long)(s + 0.5);
    int r;
    if (t >= 3600) {
        r = fprintf(f, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60, t % 60);
    } else if (t >= 60) {
        r = fprintf(f, "%ldm%02lds", t / 60, t % 60);
    } else {
        r = fprintf(f, "%.1fs", s);
    }
    return r < 0 ? -1 : 0;
}

int html_report_begin(FILE *f, const char *title, const html_scenario_t *s, size_t n)
{
    if (f == NULL || (s == NULL && n > 0)) {
        return -1;
    }
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        counts[clamp_index((int)s[i].status, 3)]++;
    }
    int r = 0;
    r |= fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>",
               f) < 0;
    r |= put_text(f, title);
    r |= fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css) < 0;
    r |= put_text(f, title);
    r |= fprintf(f,
                 "</h1>\n<p class=\"totals\">%zu scenarios: <span class=\"pass\">%zu passed</span>, "
                 "<span class=\"fail\">%zu failed</span>, <span class=\"error\">%zu errors</span>"
                 "</p>\n",
                 n, counts[HTML_PASS], counts[HTML_FAIL], counts[HTML_ERROR]) < 0;
    r |= fputs("<table class=\"summary\">\n<tr><th>scenario</th><th>result</th><th>sim time</th>"
               "<th>wall</th><th>checks</th><th>first failure</th></tr>\n",
               f) < 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        size_t st = clamp_index((int)s[i].status, 3);
        r |= fprintf(f, "<tr><td><a href=\"#sc-%zu\">", i) < 0;
        r |= put_text(f, s[i].name);
        r |= fprintf(f, "</a></td><td class=\"%s\">%s</td><td>", status_class[st],
                     status_text[st]) < 0;
        r |= put_duration(f, st == HTML_ERROR ? -1 : s[i].sim_s);
        r |= fputs("</td><td>", f) < 0;
        r |= put_duration(f, st == HTML_ERROR ? -1 : s[i].wall_s);
        r |= fprintf(f, "</td><td>%d/%d</td><td>", s[i].nchecks - s[i].nfailed, s[i].nchecks) < 0;
        r |= put_text(f, st == HTML_ERROR ? s[i].error : s[i].first_failure);
        r |= fputs("</td></tr>\n", f) < 0;
    }
    r |= fputs("</table>\n", f) < 0;
    return r ? -1 : 0;
}

static int write_checks(FILE *f, const html_scenario_t *s)
{
    if (s->nchecks_listed == 0 || s->checks == NULL) {
        return 0;
    }
    int r = 0;
    r |= fputs("<h3>Checks</h3>\n<table class=\"checks\">\n<tr><th>check</th><th>kind</th>"
               "<th>verdict</th><th>failed at</th><th>message</th></tr>\n",
               f) < 0;
    for (size_t i = 0; i < s->nchecks_listed && r == 0; i++) {
        const html_check_t *c = &s->checks[i];
        size_t v = clamp_index((int)c->verdict, 3);
        r |= fputs("<tr><td>", f) < 0;
        r |= put_text(f, c->label);
        r |= fputs("</td><td>", f) < 0;
        r |= put_text(f, c->kind);
        r |= fprintf(f, "</td><td class=\"%s\">%s</td><td>", verdict_text[v], verdict_text[v]) < 0;
        if (v == HTML_CHECK_FAIL) {
            r |= fprintf(f, "%.1f s", isfinite(c->fail_t_s) ? c->fail_t_s : 0.0) < 0;
        }
        r |= fputs("</td><td>", f) < 0;
        r |= put_text(f, v == HTML_CHECK_FAIL ? c->message : "");
        r |= fputs("</td></tr>\n", f) < 0;
    }
    r |= fputs("</table>\n", f) < 0;
    return r ? -1 : 0;
}

static int write_links(FILE *f, const html_scenario_t *s)
{
    int r = 0;
    if (s->nrecordings > 0 && s->recordings != NULL) {
        r |= fputs("<h3>Recordings</h3>\n<ul class=\"recordings\">\n", f) < 0;
        for (size_t i = 0; i < s->nrecordings; i++) {
            r |= fputs("<li><a href=\"", f) < 0;
            r |= put_text(f, s->recordings[i].href);
            r |= fputs("\">", f) < 0;
            r |= put_text(f, s->recordings[i].text);
            r |= fputs("</a></li>\n", f) < 0;
        }
        r |= fputs("</ul>\n", f) < 0;
    }
    if (s->nsnapshots > 0 && s->snapshots != NULL) {
        r |= fputs("<h3>Panel snapshots</h3>\n", f) < 0;
        for (size_t i = 0; i < s->nsnapshots; i++) {
            r |= fputs("<figure><img class=\"snapshot\" src=\"", f) < 0;
            r |= put_text(f, s->snapshots[i].href);
            r |= fputs("\" alt=\"", f) < 0;
            r |= put_text(f, s->snapshots[i].text);
            r |= fputs("\"/><figcaption>", f) < 0;
            r |= put_text(f, s->snapshots[i].text);
            r |= fputs("</figcaption></figure>\n", f) < 0;
        }
    }
    return r ? -1 : 0;
}

int html_report_section(FILE *f, const html_scenario_t *s, size_t index)
{
    if (f == NULL || s == NULL) {
        return -1;
    }
    size_t st = clamp_index((int)s->status, 3);
    int r = 0;
    r |= fprintf(f, "<section class=\"scenario\" id=\"sc-%zu\">\n<h2>", index) < 0;
    r |= put_text(f, s->name);
    r |= fprintf(f, " <span class=\"%s\">%s</span></h2>\n<p class=\"desc\">", status_class[st],
                 status_text[st]) < 0;
    r |= put_text(f, s->description);
    r |= fputs("<br/>file: <code>", f) < 0;
    r |= put_text(f, s->path);
    r |= fputs("</code></p>\n", f) < 0;
    if (st == HTML_ERROR) {
        r |= fputs("<p class=\"first-failure\">could not run: ", f) < 0;
        r |= put_text(f, s->error);
        r |= fputs("</p>\n", f) < 0;
    } else if (s->explanation != NULL && s->explanation[0] != '\0') {
        r |= fputs("<h3>First failure</h3>\n<p class=\"first-failure\">", f) < 0;
        r |= put_text(f, s->explanation);
        r |= fputs("</p>\n", f) < 0;
    }
    for (size_t i = 0; i < s->ncharts && s->charts != NULL && r == 0; i++) {
        r |= svg_chart_write(f, &s->charts[i]) != 0;
    }
    r |= write_checks(f, s);
    r |= write_links(f, s);
    r |= fputs("</section>\n", f) < 0;
    return r ? -1 : 0;
}

int html_report_end(FILE *f)
{
    if (f == NULL || fputs("</body>\n</html>\n", f) < 0 || fflush(f) != 0) {
        return -1;
    }
    return ferror(f) ? -1 : 0;
}

int html_report_write(FILE *f, const char *title, const html_scenario_t *s, size_t n)
{
    if (html_report_begin(f, title, s, n) != 0) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (html_report_section(f, &s[i], i) != 0) {
            return -1;
        }
    }
    return html_report_end(f);
}
