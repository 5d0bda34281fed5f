/* SPDX-License-Identifier: MIT */
/* Runs the fuzz entry point without libFuzzer: every file of the corpus, then seeded mutations. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 16384

static uint32_t rng_state = 12345u;

/* xorshift32: deterministic, so a crash reproduces from the same build. */
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static const char *const tokens[] = {":", "-", "\n", " ", "[", "]", "{", "}", "\"", "'", "&a",
                                     "*a", "#", "\t", "---", "1h", "-5", "ccl_a", "((", "\\",
                                     "\xff", "0x", "1e999", "at: ", "\0"};

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    int edits = 1 + (int)(rng() % 6);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t pos = rng() % len;
        switch (rng() % 4) {
        case 0:
            buf[pos] = (uint8_t)rng();
            break;
        case 1:
            memmove(buf + pos, buf + pos + 1, len - pos - 1);
            len--;
            break;
        case 2: {
            const char *t = tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
            size_t tl = t[0] == '\0' ? 1 : strlen(t);
            if (len + tl <= cap) {
                memmove(buf + pos + tl, buf + pos, len - pos);
                memcpy(buf + pos, t, tl);
                len += tl;
            }
            break;
        }
        default:
            len = pos + 1;   /* truncate */
            break;
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("BMS_FUZZ_CORPUS");
    int rounds = argc > 2 ? atoi(argv[2]) : 300;
    static uint8_t seed[64][MAX_INPUT];
    static size_t seed_len[64];
    int nseeds = 0;
    if (dir == NULL) {
        fprintf(stderr, "usage: %s CORPUS_DIR [ROUNDS]  (or set BMS_FUZZ_CORPUS)\n", argv[0]);
        return 1;
    }
    static const char *const subdirs[] = {"good", "bad"};
    for (size_t d = 0; d < 2; d++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, subdirs[d]);
        DIR *dp = opendir(path);
        if (dp == NULL) {
            perror(path);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(dp)) != NULL && nseeds < 64) {
            if (de->d_name[0] == '.') {
                continue;
            }
            char file[1400];
            snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
            FILE *f = fopen(file, "rb");
            if (f == NULL) {
                continue;
            }
            seed_len[nseeds] = fread(seed[nseeds], 1, MAX_INPUT / 2, f);
            fclose(f);
            LLVMFuzzerTestOneInput(seed[nseeds], seed_len[nseeds]);
            nseeds++;
        }
        closedir(dp);
    }
    if (nseeds < 2) {
        fprintf(stderr, "%s: corpus too small (%d files)\n", dir, nseeds);
        return 1;
    }
    static uint8_t buf[MAX_INPUT];
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < nseeds; s++) {
            memcpy(buf, seed[s], seed_len[s]);
            size_t len = mutate(buf, seed_len[s], sizeof(buf));
            LLVMFuzzerTestOneInput(buf, len);
        }
    }
    printf("fuzz_scenario: %d seeds, %d rounds, no crash\n", nseeds, rounds);
    return 0;
}
