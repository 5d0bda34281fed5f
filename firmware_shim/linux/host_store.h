/* SPDX-License-Identifier: MIT */
/* The persistent store on a host: a small `key=value` text file, read whole
 * at start and replaced atomically (write a temporary file, fsync, rename)
 * on save, so a power cut leaves the old or the new file, never half of one.
 * Keys are [A-Za-z0-9_.-], values one line. Malformed lines are counted and
 * skipped. Fixed-size tables, no heap. */
#ifndef HOST_STORE_H
#define HOST_STORE_H

#include <stddef.h>
#include <stdint.h>

#define HOST_STORE_ENTRIES 32u
#define HOST_STORE_KEY_MAX 32u
#define HOST_STORE_VALUE_MAX 96u
#define HOST_STORE_PATH_MAX 256u

typedef struct host_store {
    unsigned n;                 /* read-only: entries in use */
    unsigned bad_lines;         /* read-only: lines skipped at load */
    struct {
        char key[HOST_STORE_KEY_MAX];
        char value[HOST_STORE_VALUE_MAX];
    } e[HOST_STORE_ENTRIES];    /* read-only */
    char path[HOST_STORE_PATH_MAX]; /* private */
} host_store_t;

/* Loads path; a missing file is an empty store. 0, or -1 + err naming the path. */
int host_store_load(host_store_t *s, const char *path, char *err, size_t cap);
/* The value of key, or NULL. */
const char *host_store_get(const host_store_t *s, const char *key);
/* 0, or -1 for a bad key / value or a full table. */
int host_store_set(host_store_t *s, const char *key, const char *value);
/* 0, or -1 + err naming the path. */
int host_store_save(const host_store_t *s, char *err, size_t cap);

#endif
