/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the Victron-side monitor (harness/monitor.h).
 *
 * The input is a sequence of 13-byte records: id (4 bytes big-endian, SocketCAN
 * flag bits included), a DLC byte (bit 7 set: data pointer NULL; the low 7 bits
 * are the raw DLC, so 9..127 occur), then 8 data bytes. A short last record is
 * zero-padded. Each frame goes to bench_gx_feed and to bench_victron_describe
 * (JSON and text, a roomy and a small buffer). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "harness/monitor.h"

#define RECORD_BYTES 13u
#define DLC_NULL_DATA 0x80u
#define BIG_OUT 1024u
#define CANARY 0xA5u

int bms_fuzz_accepted;

/* Quotes and braces of one JSON object balance, outside strings. */
static bool json_shape_ok(const char *s)
{
    int depth = 0;
    bool in_str = false;
    size_t n = strlen(s);
    if (n < 2 || s[0] != '{' || s[n - 1] != '}') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = false;
            } else if ((unsigned char)c < 0x20) {
                return false;   /* control characters must be escaped */
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth < 0) {
            return false;
        }
    }
    return !in_str && depth == 0;
}

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static void check_gx(const bench_gx_t *gx, uint64_t nframes)
{
    FUZZ_CHECK(gx->frames == nframes);
    FUZZ_CHECK(gx->frames_known + gx->frames_malformed <= gx->frames);
    FUZZ_CHECK(terminated(gx->manufacturer, sizeof(gx->manufacturer)));
    FUZZ_CHECK(terminated(gx->name, sizeof(gx->name)));
    FUZZ_CHECK(terminated(gx->family, sizeof(gx->family)));
    FUZZ_CHECK(terminated(gx->min_v_id, sizeof(gx->min_v_id)));
    FUZZ_CHECK(terminated(gx->max_v_id, sizeof(gx->max_v_id)));
    FUZZ_CHECK(terminated(gx->min_t_id, sizeof(gx->min_t_id)));
    FUZZ_CHECK(terminated(gx->max_t_id, sizeof(gx->max_t_id)));
    for (unsigned k = 0; k < BENCH_GX_ALARMS; k++) {
        FUZZ_CHECK(gx->alarm[k] <= 3 && gx->warning[k] <= 3);
    }
}

/* Describe into a roomy buffer; the result must agree with the feed's verdict. */
static void check_describe(uint32_t id, uint8_t dlc, const uint8_t *data, bool json, int fed,
                           size_t small_cap)
{
    static char big[BIG_OUT];
    char small[64 + 16];
    int rc = bench_victron_describe(id, dlc, data, json, big, sizeof(big));
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(terminated(big, sizeof(big)));
    FUZZ_CHECK((rc == 0) == (fed == 0));
    if (rc == 0) {
        FUZZ_CHECK(json ? json_shape_ok(big) : strncmp(big, "0x", 2) == 0);
    } else {
        FUZZ_CHECK(big[0] != '\0');   /* every refusal says why */
    }
    /* A small buffer is never overrun; if the text fits it is the same text. */
    memset(small, CANARY, sizeof(small));
    int rc_small = bench_victron_describe(id, dlc, data, json, small, small_cap);
    for (size_t i = small_cap; i < sizeof(small); i++) {
        FUZZ_CHECK((uint8_t)small[i] == CANARY);
    }
    FUZZ_CHECK(terminated(small, small_cap));
    if (rc_small == 0) {
        FUZZ_CHECK(rc == 0 && strcmp(small, big) == 0);
    } else {
        FUZZ_CHECK(rc_small == -1);
        FUZZ_CHECK(rc != 0 || strlen(big) >= small_cap);
    }
    FUZZ_CHECK(bench_victron_describe(id, dlc, data, json, small, 0) == -1);
    FUZZ_CHECK(bench_victron_describe(id, dlc, data, json, NULL, 16) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bench_gx_t gx;
    bench_gx_init(&gx);
    bms_fuzz_accepted = 0;
    uint64_t t_us = 0, n = 0;
    for (size_t pos = 0; pos < size; pos += RECORD_BYTES) {
        uint8_t rec[RECORD_BYTES] = {0};
        size_t len = size - pos < RECORD_BYTES ? size - pos : RECORD_BYTES;
        memcpy(rec, data + pos, len);
        uint32_t id = ((uint32_t)rec[0] << 24) | ((uint32_t)rec[1] << 16) |
                      ((uint32_t)rec[2] << 8) | rec[3];
        uint8_t dlc = (uint8_t)(rec[4] & ~DLC_NULL_DATA);
        const uint8_t *payload = (rec[4] & DLC_NULL_DATA) != 0 ? NULL : &rec[5];

        int fed = bench_gx_feed(&gx, id, dlc, payload, t_us);
        FUZZ_CHECK(fed == -1 || fed == 0 || fed == 1);
        n++;
        check_gx(&gx, n);
        if (fed == 0) {
            bms_fuzz_accepted = 1;
        }
        size_t small_cap = 1 + (rec[5] ^ rec[12]) % 64;
        check_describe(id, dlc, payload, true, fed, small_cap);
        check_describe(id, dlc, payload, false, fed, small_cap);
        t_us += 100000u + 1000u * rec[12];
    }
    /* 0x351 timing: the longest gap cannot exceed the time fed. */
    FUZZ_CHECK(gx.max_gap_351_us <= t_us);
    return 0;
}
