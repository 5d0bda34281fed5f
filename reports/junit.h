/* SPDX-License-Identifier: MIT */
/* JUnit XML writer (the schema Jenkins/GitLab read). */
#ifndef REPORTS_JUNIT_H
#define REPORTS_JUNIT_H

#include <stdbool.h>
#include <stdio.h>

typedef struct junit_case {
    const char *classname;   /* e.g. "scenarios.topband" */
    const char *name;        /* scenario name */
    double time_s;           /* wall time */
    bool failed;
    bool error;              /* could not run (bad file) */
    const char *message;     /* first failure, one line */
    const char *details;     /* all failures, any lines */
} junit_case_t;

/* Write a whole <testsuites> document. Returns 0 or -1 (errno set). */
int junit_write(FILE *f, const char *suite_name, const junit_case_t *cases, int n);
/* Same, to a path; creates missing parent folders. */
int junit_write_file(const char *path, const char *suite_name, const junit_case_t *cases, int n);

#endif
