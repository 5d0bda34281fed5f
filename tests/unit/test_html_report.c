/* SPDX-License-Identifier: MIT */
/* html_report: the summary table, one section per scenario, escaping of
 * hostile names and messages, links and snapshots, and a page that parses
 * as XML (python3's xml.etree) with nothing fetched from the network. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/html_report.h"

static const double t3[] = {0, 60, 120};
static const double v3[] = {52.0, 53.5, 55.0};
static const svg_series_t series[] = {{"CVL", "#d62728", t3, v3, 3}};
static const svg_marker_t marks[] = {{60, SVG_MARK_FAIL, "always <x> & \"y\""}};
static const svg_chart_t chart = {.title = "limits", .y_unit = "V", .series = series,
                                  .nseries = 1, .markers = marks, .nmarkers = 1};
static const html_check_t checks[] = {
    {"always ccl_a <= 100", "expectation", HTML_CHECK_PASS, 0, ""},
    {"never <script>alert(1)</script>", "invariant", HTML_CHECK_FAIL, 61.5, "a & b < c"},
};
static const html_link_t recs[] = {{"rec/a%20b/victron.log", "victron.log"},
                                   {"rec/a%20b/panel.png", "panel.png"}};

static html_scenario_t scenarios[3];

static void setup_scenarios(void)
{
    scenarios[0] = (html_scenario_t){.name = "pack_silent", .path = "scenarios/x.yaml",
                                     .description = "a pack stops", .status = HTML_PASS,
                                     .sim_s = 2700, .wall_s = 0.5, .nchecks = 3,
                                     .charts = &chart, .ncharts = 1};
    scenarios[1] = (html_scenario_t){
        .name = "<b>evil</b> & 'co'", .path = "a\"b.yaml", .description = "\x01 ctl",
        .status = HTML_FAIL, .sim_s = 125, .wall_s = 0.1, .nchecks = 2, .nfailed = 1,
        .first_failure = "never <script>: a & b < c",
        .explanation = "At t = 61.5 s the check failed.\nIt requires: <nothing>.",
        .checks = checks, .nchecks_listed = 2, .charts = &chart, .ncharts = 1,
        .recordings = recs, .nrecordings = 2, .snapshots = &recs[1], .nsnapshots = 1};
    scenarios[2] = (html_scenario_t){.name = "broken", .path = "b.yaml", .status = HTML_ERROR,
                                     .error = "bad setting <x>"};
}

static char *slurp(FILE *f)
{
    long len = ftell(f);
    rewind(f);
    char *s = calloc((size_t)len + 1, 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    return s;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    return n;
}

static char *write_page(void)
{
    setup_scenarios();
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(html_report_write(f, "run <1>", scenarios, 3), 0);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static void test_html_report_structure(void **state)
{
    (void)state;
    char *s = write_page();
    assert_int_equal(strncmp(s, "<!DOCTYPE html>\n<html", 21), 0);
    assert_int_equal(count(s, "<section class=\"scenario\""), 3);
    assert_int_equal(count(s, "</section>"), 3);
    assert_non_null(strstr(s, "id=\"sc-0\""));
    assert_non_null(strstr(s, "id=\"sc-2\""));
    /* Summary: header row + one per scenario, each linking its section. */
    assert_int_equal(count(s, "<tr><td><a href=\"#sc-"), 3);
    assert_non_null(strstr(s, "3 scenarios: <span class=\"pass\">1 passed</span>, "
                              "<span class=\"fail\">1 failed</span>, "
                              "<span class=\"error\">1 errors</span>"));
    assert_non_null(strstr(s, "<td>45m00s</td>"));   /* sim time of row 0 */
    assert_non_null(strstr(s, "<td>3/3</td>"));
    assert_non_null(strstr(s, "<td>1/2</td>"));
    /* Two charts (row 0 and row 1), none for the scenario that could not run. */
    assert_int_equal(count(s, "<svg "), 2);
    assert_int_equal(count(s, "<polyline "), 2);
    assert_int_equal(count(s, "class=\"first-failure\""), 2);   /* explanation + error */
    assert_non_null(strstr(s, "could not run: bad setting &lt;x&gt;"));
    assert_non_null(strstr(s, "<a href=\"rec/a%20b/victron.log\">victron.log</a>"));
    assert_non_null(strstr(s, "<img class=\"snapshot\" src=\"rec/a%20b/panel.png\""));
    assert_int_equal(count(s, "<td class=\"fail\">fail</td>"), 1);
    assert_non_null(strstr(s, "<td>61.5 s</td>"));
    assert_non_null(strstr(s, "</body>\n</html>\n"));
    free(s);
}

static void test_html_report_escaping(void **state)
{
    (void)state;
    char *s = write_page();
    static const char *const must[] = {
        "<title>run &lt;1&gt;</title>",
        "&lt;b&gt;evil&lt;/b&gt; &amp; &#39;co&#39;",
        "never &lt;script&gt;alert(1)&lt;/script&gt;",
        "a &amp; b &lt; c",
        "a&quot;b.yaml",
        "\xEF\xBF\xBD ctl",
        "It requires: &lt;nothing&gt;.",
        "always &lt;x&gt; &amp; &quot;y&quot;",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        if (strstr(s, must[i]) == NULL) {
            fail_msg("row %zu: \"%s\" not in the page", i, must[i]);
        }
    }
    static const char *const never[] = {"<script", "<b>evil", "\x01", "http://", "https://"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        if (strstr(s, never[i]) != NULL) {
            fail_msg("row %zu: \"%s\" found in the page", i, never[i]);
        }
    }
    free(s);
}

/* The page is well-formed XML: python3's strict parser reads it, and finds
 * the three sections and the two polylines. */
static void test_html_report_parses_as_xml(void **state)
{
    (void)state;
    char *s = write_page();
    const char *path = "test_html_report.out.html";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
    free(s);
    if (system("python3 -c 'import sys' 2>/dev/null") != 0) {
        skip();
    }
    int rc = system("python3 -c \"import sys, xml.etree.ElementTree as ET; "
                    "r = ET.parse('test_html_report.out.html').getroot(); "
                    "secs = [e for e in r.iter('section')]; "
                    "sys.exit(0 if len(secs) == 3 and len(list(r.iter('polyline'))) == 2 "
                    "else 1)\"");
    assert_int_equal(rc, 0);
    remove(path);
}

static void test_html_report_bad_arguments(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_int_equal(html_report_begin(NULL, "t", NULL, 0), -1);
    assert_int_equal(html_report_begin(f, "t", NULL, 2), -1);
    assert_int_equal(html_report_section(f, NULL, 0), -1);
    /* An out-of-range status is shown as an error, not read out of bounds. */
    html_scenario_t odd = {.name = "odd", .status = (html_status_t)7};
    assert_int_equal(html_report_write(f, NULL, &odd, 1), 0);
    char *s = slurp(f);
    assert_non_null(strstr(s, "<td class=\"error\">ERROR</td>"));
    free(s);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_report_structure),
        cmocka_unit_test(test_html_report_escaping),
        cmocka_unit_test(test_html_report_parses_as_xml),
        cmocka_unit_test(test_html_report_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
