/* SPDX-License-Identifier: MIT */
/* The persistent store on a host (see host_store.h). */
#define _DEFAULT_SOURCE
#include "host_store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool key_ok(const char *k, size_t n)
{
    if (n == 0 || n >= HOST_STORE_KEY_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool value_ok(const char *v, size_t n)
{
    return n < HOST_STORE_VALUE_MAX && memchr(v, '\n', n) == NULL && memchr(v, '\r', n) == NULL;
}

/* One line without its newline into the table; false when malformed. */
static bool take_line(host_store_t *s, const char *line, size_t len)
{
    const char *eq = memchr(line, '=', len);
    if (eq == NULL) {
        return false;
    }
    size_t kn = (size_t)(eq - line);
    size_t vn = len - kn - 1u;
    char key[HOST_STORE_KEY_MAX], value[HOST_STORE_VALUE_MAX];
    if (!key_ok(line, kn) || !value_ok(eq + 1, vn)) {
        return false;
    }
    memcpy(key, line, kn);
    key[kn] = '\0';
    memcpy(value, eq + 1, vn);
    value[vn] = '\0';
    return host_store_set(s, key, value) == 0;
}

int host_store_load(host_store_t *s, const char *path, char *err, size_t cap)
{
    memset(s, 0, sizeof *s);
    if (strlen(path) >= sizeof s->path) {
        snprintf(err, cap, "%s: path too long", path);
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT) {
            return 0;
        }
        snprintf(err, cap, "%s: cannot read the store (%s)", path, strerror(errno));
        return -1;
    }
    char line[HOST_STORE_KEY_MAX + HOST_STORE_VALUE_MAX + 4];
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        bool whole = len > 0 && line[len - 1] == '\n';
        if (!whole && !feof(f)) {
            /* Longer than any valid entry: skip the rest of it. */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            s->bad_lines++;
            continue;
        }
        len -= whole ? 1u : 0u;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (len == 0 || line[0] == '#') {
            continue;
        }
        if (!take_line(s, line, len)) {
            s->bad_lines++;
        }
    }
    fclose(f);
    return 0;
}

const char *host_store_get(const host_store_t *s, const char *key)
{
    for (unsigned i = 0; i < s->n; i++) {
        if (strcmp(s->e[i].key, key) == 0) {
            return s->e[i].value;
        }
    }
    return NULL;
}

int host_store_set(host_store_t *s, const char *key, const char *value)
{
    size_t kn = strlen(key), vn = strlen(value);
    if (!key_ok(key, kn) || !value_ok(value, vn)) {
        return -1;
    }
    unsigned i = 0;
    while (i < s->n && strcmp(s->e[i].key, key) != 0) {
        i++;
    }
    if (i == s->n) {
        if (s->n == HOST_STORE_ENTRIES) {
            return -1;
        }
        s->n++;
        memcpy(s->e[i].key, key, kn + 1u);
    }
    memcpy(s->e[i].value, value, vn + 1u);
    return 0;
}

int host_store_save(const host_store_t *s, char *err, size_t cap)
{
    char tmp[HOST_STORE_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        snprintf(err, cap, "%s: cannot write the store (%s)", tmp, strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < s->n; i++) {
        fprintf(f, "%s=%s\n", s->e[i].key, s->e[i].value);
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, s->path) != 0) {
        snprintf(err, cap, "%s: cannot save the store (%s)", s->path, strerror(ok ? errno : e));
        (void)unlink(tmp);
        return -1;
    }
    return 0;
}
