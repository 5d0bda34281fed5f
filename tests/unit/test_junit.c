/* SPDX-License-Identifier: MIT */
/* Tests of the JUnit XML writer: exact document, escaping, counts, parent folders.
 * With "--emit <path>" it writes a hostile document for the XML-parser check in ctest. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "reports/junit.h"

/* Render into a string through a memory-backed FILE. */
static char *render(const char *suite, const junit_case_t *cases, int n, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = junit_write(f, suite, cases, n);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static const junit_case_t hostile[] = {
    {"scenarios.topband", "charge_to_full", 12.25, true, false,
     "a<b & 'c' \"d\" > e",
     "at t=1.0s: ccl_a <= 100 is false (ccl_a=150)\nat t=2.0s: x]]>y\ttab\rcr"},
    {"scenarios.topband", "ok<case>", 0.5, false, false, NULL, NULL},
    {"scenarios.bad", "bad\x01\x1f" "ctl \xff\xfe broken \xc3\xa9 \xe2\x82\xac \xed\xa0\x80 sur",
     0, false, true, "bad.yaml:3:7: unknown key 'x'", NULL},
};

static void test_junit_exact_document(void **state)
{
    (void)state;
    int rc;
    char *doc = render("bmsbench & co", hostile, 3, &rc);
    assert_int_equal(rc, 0);
    static const char want[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"bmsbench &amp; co\" tests=\"3\" failures=\"1\" errors=\"1\" "
        "time=\"12.750\">\n"
        "  <testsuite name=\"bmsbench &amp; co\" tests=\"3\" failures=\"1\" errors=\"1\" "
        "skipped=\"0\" time=\"12.750\">\n"
        "    <testcase classname=\"scenarios.topband\" name=\"charge_to_full\" time=\"12.250\">\n"
        "      <failure message=\"a&lt;b &amp; &apos;c&apos; &quot;d&quot; &gt; e\" "
        "type=\"failure\">at t=1.0s: ccl_a &lt;= 100 is false (ccl_a=150)&#10;at t=2.0s: "
        "x]]&gt;y&#9;tab&#13;cr</failure>\n"
        "    </testcase>\n"
        "    <testcase classname=\"scenarios.topband\" name=\"ok&lt;case&gt;\" time=\"0.500\"/>\n"
        "    <testcase classname=\"scenarios.bad\" name=\"bad\xEF\xBF\xBD\xEF\xBF\xBD"
        "ctl \xEF\xBF\xBD\xEF\xBF\xBD broken \xc3\xa9 \xe2\x82\xac "
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD sur\" time=\"0.000\">\n"
        "      <error message=\"bad.yaml:3:7: unknown key &apos;x&apos;\" type=\"error\">"
        "bad.yaml:3:7: unknown key &apos;x&apos;</error>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>\n";
    assert_string_equal(doc, want);
    free(doc);
}

static void test_junit_empty_and_odd_inputs(void **state)
{
    (void)state;
    int rc;
    char *doc = render(NULL, NULL, 0, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(doc,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<testsuites name=\"\" tests=\"0\" failures=\"0\" errors=\"0\" "
                        "time=\"0.000\">\n"
                        "  <testsuite name=\"\" tests=\"0\" failures=\"0\" errors=\"0\" "
                        "skipped=\"0\" time=\"0.000\">\n"
                        "  </testsuite>\n</testsuites>\n");
    free(doc);
    /* error outranks failure; NaN and negative times are written as 0 */
    const junit_case_t c = {"k", "n", -1.0 / 0.0, true, true, "m", "d"};
    doc = render("s", &c, 1, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(doc, "failures=\"0\" errors=\"1\" time=\"0.000\""));
    assert_non_null(strstr(doc, "<error message=\"m\" type=\"error\">d</error>"));
    assert_null(strstr(doc, "<failure"));
    free(doc);
    errno = 0;
    assert_int_equal(junit_write(NULL, "s", &c, 1), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_junit_write_file_creates_parents(void **state)
{
    (void)state;
    char dir[] = "/tmp/junit-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/a/b/c/report.xml", dir);
    assert_int_equal(junit_write_file(path, "s", hostile, 2), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char head[64] = "";
    assert_non_null(fgets(head, sizeof(head), f));
    fclose(f);
    assert_string_equal(head, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");

    /* a file where a folder should be: -1 with errno set, nothing written */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/report.xml/x.xml", path);
    errno = 0;
    assert_int_equal(junit_write_file(bad, "s", hostile, 1), -1);
    assert_int_equal(errno, ENOTDIR);

    unlink(path);
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/a/b", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/a", dir);
    rmdir(path);
    assert_int_equal(rmdir(dir), 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--emit") == 0) {
        if (junit_write_file(argv[2], "bmsbench <suite> & 'x'", hostile, 3) != 0) {
            perror("junit_write_file");
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_junit_exact_document),
        cmocka_unit_test(test_junit_empty_and_odd_inputs),
        cmocka_unit_test(test_junit_write_file_creates_parents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
