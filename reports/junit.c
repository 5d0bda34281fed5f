/* SPDX-License-Identifier: MIT */
/* JUnit XML writer: one <testsuite> per run, escaped so any message yields well-formed XML. */
#define _POSIX_C_SOURCE 200809L

#include "reports/junit.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Length of a valid UTF-8 sequence at s that XML 1.0 allows, 0 when it is not one. */
static size_t utf8_xml_len(const unsigned char *s)
{
    uint32_t cp;
    size_t n;
    if (s[0] < 0x80) {
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        cp = s[0] & 0x1Fu;
        n = 2;
    } else if ((s[0] & 0xF0) == 0xE0) {
        cp = s[0] & 0x0Fu;
        n = 3;
    } else if ((s[0] & 0xF8) == 0xF0) {
        cp = s[0] & 0x07u;
        n = 4;
    } else {
        return 0;
    }
    /* The string ends in NUL, which is not a continuation byte, so this stops in bounds. */
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    bool overlong = cp < min_cp[n];
    bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    bool nonchar = cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF;
    return overlong || surrogate || nonchar ? 0 : n;
}

/* Escape for both text and attribute values. Characters XML 1.0 cannot carry
 * (most C0 controls, broken UTF-8) become U+FFFD; tab and newlines are kept
 * as character references so attribute values keep them too. */
static int put_escaped(FILE *f, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
    while (*s != '\0') {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\t': rep = "&#9;"; break;
        case '\n': rep = "&#10;"; break;
        case '\r': rep = "&#13;"; break;
        default: break;
        }
        if (rep == NULL && *s < 0x20) {
            rep = "\xEF\xBF\xBD";
        }
        if (rep != NULL) {
            if (fputs(rep, f) < 0) {
                return -1;
            }
            s++;
            continue;
        }
        size_t n = utf8_xml_len(s);
        if (n == 0) {
            if (fputs("\xEF\xBF\xBD", f) < 0) {
                return -1;
            }
            s++;
            continue;
        }
        if (fwrite(s, 1, n, f) != n) {
            return -1;
        }
        s += n;
    }
    return 0;
}

static double clean_time(double t)
{
    return isfinite(t) && t > 0 ? t : 0.0;
}

static int write_case(FILE *f, const junit_case_t *c)
{
    int r = 0;
    r |= fputs("    <testcase classname=\"", f) < 0;
    r |= put_escaped(f, c->classname);
    r |= fputs("\" name=\"", f) < 0;
    r |= put_escaped(f, c->name);
    r |= fprintf(f, "\" time=\"%.3f\"", clean_time(c->time_s)) < 0;
    if (!c->error && !c->failed) {
        r |= fputs("/>\n", f) < 0;
        return r ? -1 : 0;
    }
    /* An error (the scenario could not run) outranks a failure. */
    const char *tag = c->error ? "error" : "failure";
    r |= fprintf(f, ">\n      <%s message=\"", tag) < 0;
    r |= put_escaped(f, c->message);
    r |= fprintf(f, "\" type=\"%s\">", tag) < 0;
    r |= put_escaped(f, c->details != NULL ? c->details : c->message);
    r |= fprintf(f, "</%s>\n    </testcase>\n", tag) < 0;
    return r ? -1 : 0;
}

int junit_write(FILE *f, const char *suite_name, const junit_case_t *cases, int n)
{
    if (f == NULL || (cases == NULL && n > 0) || n < 0) {
        errno = EINVAL;
        return -1;
    }
    int failures = 0, errors = 0;
    double total_s = 0;
    for (int i = 0; i < n; i++) {
        errors += cases[i].error ? 1 : 0;
        failures += !cases[i].error && cases[i].failed ? 1 : 0;
        total_s += clean_time(cases[i].time_s);
    }
    int r = 0;
    r |= fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f) < 0;
    r |= put_escaped(f, suite_name);
    r |= fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n", n,
                 failures, errors, total_s) < 0;
    r |= fputs("  <testsuite name=\"", f) < 0;
    r |= put_escaped(f, suite_name);
    r |= fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\" time=\"%.3f\">\n",
                 n, failures, errors, total_s) < 0;
    for (int i = 0; i < n && r == 0; i++) {
        r |= write_case(f, &cases[i]);
    }
    r |= fputs("  </testsuite>\n</testsuites>\n", f) < 0;
    if (r != 0 || ferror(f)) {
        if (errno == 0) {
            errno = EIO;
        }
        return -1;
    }
    return 0;
}

/* mkdir -p of every folder above path. */
static int make_parents(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i < len; i++) {
        if (buf[i] != '/') {
            continue;
        }
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            return -1;
        }
        buf[i] = '/';
    }
    return 0;
}

int junit_write_file(const char *path, const char *suite_name, const junit_case_t *cases, int n)
{
    if (path == NULL || path[0] == '\0') {
        errno = EINVAL;
        return -1;
    }
    if (make_parents(path) != 0) {
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    errno = 0;
    int r = junit_write(f, suite_name, cases, n);
    int e = errno;
    if (fclose(f) != 0 && r == 0) {
        return -1;
    }
    errno = e;
    return r;
}
