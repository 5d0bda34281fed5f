/* SPDX-License-Identifier: MIT */
/* Replays a fuzz target without libFuzzer: every corpus file, then seeded mutations of them.
 *
 * Usage: test_fuzz_<name> [CORPUS_DIR_OR_FILE [ROUNDS [DICT]]]
 * Defaults come from BMS_FUZZ_CORPUS, BMS_FUZZ_ROUNDS (300) and BMS_FUZZ_DICT.
 * A single file argument replays just that file (a libFuzzer crash-* file).
 * The corpus is walked recursively; seeds under a folder named accept/ must be
 * accepted by the target (bms_fuzz_accepted set), seeds under reject/ must not.
 * Mutations use the libFuzzer dictionary of the target, so one .dict serves
 * both. Everything is deterministic: a failure reproduces from the same build. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#define FUZZ_MAX_INPUT 16384
#define MAX_SEEDS 128
#define MAX_TOKENS 128
#define MAX_TOKEN_LEN 64
#define MAX_DEPTH 4

typedef struct seed {
    uint8_t data[FUZZ_MAX_INPUT];
    size_t len;
    char path[512];
} seed_t;

typedef struct token {
    uint8_t bytes[MAX_TOKEN_LEN];
    size_t len;
} token_t;

static seed_t seeds[MAX_SEEDS];
static int nseeds;
static token_t tokens[MAX_TOKENS];
static int ntokens;
static int seed_failures;
static uint32_t rng_state = 12345u;

static uint32_t rng(void)
{
    return bms_fuzz_next(&rng_state);
}

/* ---- dictionary (libFuzzer format: name="value", \\ \" \xNN escapes) ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* One dictionary line into a token; false for comments, blanks and bad lines. */
static bool parse_dict_line(const char *line, token_t *t)
{
    const char *q = strchr(line, '"');
    if (q == NULL || line[strspn(line, " \t")] == '#') {
        return false;
    }
    t->len = 0;
    for (const char *p = q + 1; *p != '\0'; p++) {
        int c = (unsigned char)*p;
        if (c == '"') {
            return t->len > 0;
        }
        if (c == '\\') {
            if (p[1] == 'x' && hex_digit(p[2]) >= 0 && hex_digit(p[3]) >= 0) {
                c = hex_digit(p[2]) * 16 + hex_digit(p[3]);
                p += 3;
            } else if (p[1] == '\\' || p[1] == '"') {
                c = (unsigned char)p[1];
                p += 1;
            } else {
                return false;
            }
        }
        if (t->len >= MAX_TOKEN_LEN) {
            return false;
        }
        t->bytes[t->len++] = (uint8_t)c;
    }
    return false; /* no closing quote */
}

static void load_dict(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL && ntokens < MAX_TOKENS) {
        if (parse_dict_line(line, &tokens[ntokens])) {
            ntokens++;
        }
    }
    fclose(f);
}

/* ---- corpus ---- */

/* Run one seed as it is and check its accept/ or reject/ expectation. */
static void run_seed(const seed_t *s, int expect)
{
    bms_fuzz_accepted = 0;
    LLVMFuzzerTestOneInput(s->data, s->len);
    if (expect > 0 && !bms_fuzz_accepted) {
        fprintf(stderr, "%s: expected the target to accept this seed\n", s->path);
        seed_failures++;
    } else if (expect < 0 && bms_fuzz_accepted) {
        fprintf(stderr, "%s: expected the target to reject this seed\n", s->path);
        seed_failures++;
    }
}

static void load_file(const char *path, int expect)
{
    if (nseeds >= MAX_SEEDS) {
        fprintf(stderr, "%s: more than %d seeds, rest ignored\n", path, MAX_SEEDS);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    seed_t *s = &seeds[nseeds];
    /* Half the buffer at most, so insertions always have room. */
    s->len = fread(s->data, 1, FUZZ_MAX_INPUT / 2, f);
    fclose(f);
    snprintf(s->path, sizeof(s->path), "%s", path);
    run_seed(s, expect);
    nseeds++;
}

/* Sorted walk, so the seed order (and so every mutation) is the same everywhere. */
static void load_dir(const char *dir, int expect, int depth)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        perror(dir);
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        char path[1024];
        const char *name = names[i]->d_name;
        if (name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                int sub = strcmp(name, "accept") == 0 ? 1 : strcmp(name, "reject") == 0 ? -1 : expect;
                if (depth < MAX_DEPTH) {
                    load_dir(path, sub, depth + 1);
                }
            } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                load_file(path, expect);
            }
        }
        free(names[i]);
    }
    free(names);
}

/* ---- mutations ---- */

static const uint8_t interesting[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, '~', '\r', '\n', '0', '9',
                                      'F', 'f', 'G', ' ', '-', '.'};

static size_t insert_bytes(uint8_t *buf, size_t len, size_t cap, size_t pos, const uint8_t *b,
                           size_t n)
{
    if (len + n > cap || pos > len) {
        return len;
    }
    memmove(buf + pos + n, buf + pos, len - pos);
    memcpy(buf + pos, b, n);
    return len + n;
}

static size_t mutate_once(uint8_t *buf, size_t len, size_t cap)
{
    size_t pos = len > 0 ? rng() % len : 0;
    switch (rng() % 10) {
    case 0: /* random byte */
        if (len > 0) {
            buf[pos] = (uint8_t)rng();
        }
        break;
    case 1: /* bit flip */
        if (len > 0) {
            buf[pos] ^= (uint8_t)(1u << (rng() % 8));
        }
        break;
    case 2: { /* delete a run */
        size_t n = 1 + rng() % 4;
        if (n > len - pos) {
            n = len - pos;
        }
        memmove(buf + pos, buf + pos + n, len - pos - n);
        len -= n;
        break;
    }
    case 3: /* insert a dictionary token */
    case 4: /* overwrite with a dictionary token */
        if (ntokens > 0) {
            const token_t *t = &tokens[rng() % (uint32_t)ntokens];
            if ((rng() & 1u) == 0) {
                len = insert_bytes(buf, len, cap, pos, t->bytes, t->len);
            } else if (pos + t->len <= len) {
                memcpy(buf + pos, t->bytes, t->len);
            }
        }
        break;
    case 5: /* truncate */
        len = pos;
        break;
    case 6: { /* duplicate a chunk of itself */
        if (len > 0) {
            size_t from = rng() % len;
            size_t n = 1 + rng() % (len - from);
            uint8_t tmp[FUZZ_MAX_INPUT];
            memcpy(tmp, buf + from, n);
            len = insert_bytes(buf, len, cap, pos, tmp, n);
        }
        break;
    }
    case 7: { /* splice: tail from another seed */
        const seed_t *o = &seeds[rng() % (uint32_t)nseeds];
        if (o->len > 0) {
            size_t from = rng() % o->len;
            size_t n = o->len - from;
            if (pos + n <= cap) {
                memcpy(buf + pos, o->data + from, n);
                len = pos + n;
            }
        }
        break;
    }
    case 8: { /* insert an interesting byte */
        uint8_t b = interesting[rng() % sizeof(interesting)];
        len = insert_bytes(buf, len, cap, pos, &b, 1);
        break;
    }
    default: /* overwrite with an interesting byte */
        if (len > 0) {
            buf[pos] = interesting[rng() % sizeof(interesting)];
        }
        break;
    }
    return len;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    int edits = 1 + (int)(rng() % 8);
    for (int e = 0; e < edits; e++) {
        len = mutate_once(buf, len, cap);
    }
    return len;
}

int main(int argc, char **argv)
{
    const char *corpus = argc > 1 ? argv[1] : getenv("BMS_FUZZ_CORPUS");
    const char *rounds_s = argc > 2 ? argv[2] : getenv("BMS_FUZZ_ROUNDS");
    const char *dict = argc > 3 ? argv[3] : getenv("BMS_FUZZ_DICT");
    int rounds = rounds_s != NULL ? atoi(rounds_s) : 300;
    if (corpus == NULL || rounds < 0) {
        fprintf(stderr,
                "usage: %s CORPUS_DIR_OR_FILE [ROUNDS [DICT]]\n"
                "  (or set BMS_FUZZ_CORPUS, BMS_FUZZ_ROUNDS, BMS_FUZZ_DICT)\n"
                "example: %s tests/fuzz/corpus/topband_frame 300 tests/fuzz/topband_frame.dict\n",
                argv[0], argv[0]);
        return 1;
    }
    if (dict != NULL && dict[0] != '\0') {
        load_dict(dict);
    }
    struct stat st;
    if (stat(corpus, &st) != 0) {
        perror(corpus);
        return 1;
    }
    if (S_ISREG(st.st_mode)) {
        load_file(corpus, 0);
        printf("%s: replayed %s, no crash\n", argv[0], corpus);
        return 0;
    }
    load_dir(corpus, 0, 0);
    if (seed_failures > 0) {
        fprintf(stderr, "%s: %d seed expectation(s) failed\n", argv[0], seed_failures);
        return 1;
    }
    if (nseeds < 2) {
        fprintf(stderr, "%s: corpus too small (%d files)\n", corpus, nseeds);
        return 1;
    }
    static uint8_t buf[FUZZ_MAX_INPUT];
    long accepted = 0;
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < nseeds; s++) {
            memcpy(buf, seeds[s].data, seeds[s].len);
            size_t len = mutate(buf, seeds[s].len, sizeof(buf));
            bms_fuzz_accepted = 0;
            LLVMFuzzerTestOneInput(buf, len);
            accepted += bms_fuzz_accepted != 0;
        }
    }
    printf("%s: %d seeds, %d tokens, %d rounds, %ld of %ld mutants accepted, no crash\n", argv[0],
           nseeds, ntokens, rounds, accepted, (long)rounds * nseeds);
    return 0;
}
