/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the CAN log and serial capture readers (harness/logfmt_read.h).
 *
 * The first input byte picks the format (mod 5: auto, candump -L, candump,
 * ASC, serial); the rest is the file. Every frame read goes through the
 * replay checker as well. Accepted: at least one frame or record was read. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "harness/logfmt_read.h"
#include "harness/replay_check.h"

int bms_fuzz_accepted;

static bench_logreader_t reader;
static bench_replay_check_t checker;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bms_fuzz_accepted = 0;
    if (size < 1) {
        return 0;
    }
    bench_logfmt_t fmt = (bench_logfmt_t)(data[0] % 5u);
    /* fmemopen of 0 bytes fails on some libcs: an empty file is one byte of
     * input, the format. */
    static const char empty[1] = "";
    FILE *in = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : fmemopen((void *)empty, 0, "r");
    if (in == NULL) {
        return 0;
    }
    bench_replay_profile_t p;
    char err[64];
    FUZZ_CHECK(bench_replay_profile_get("lifepo4", 16, &p, err, sizeof err));
    bench_replay_check_init(&checker, &p);
    bench_logreader_init(&reader, in, "fuzz", fmt, NULL);
    uint64_t n = 0;
    if (fmt == BENCH_LOGFMT_SERIAL) {
        bench_serialrec_t s;
        while (bench_logreader_next_serial(&reader, &s) > 0) {
            FUZZ_CHECK(s.len >= 1 && s.len <= BENCH_LOG_SERIAL_MAX);
            n++;
        }
    } else {
        bench_logframe_t f;
        while (bench_logreader_next(&reader, &f) > 0) {
            FUZZ_CHECK(f.len <= 8 && f.dlc <= 15);
            FUZZ_CHECK(memchr(f.iface, '\0', sizeof f.iface) != NULL);
            FUZZ_CHECK(f.line >= 1 && f.line <= reader.line);
            bench_replay_check_frame(&checker, f.id, f.dlc, f.data, f.t_us, f.has_time);
            n++;
        }
    }
    bench_replay_check_finish(&checker);
    FUZZ_CHECK(n == reader.frames);
    FUZZ_CHECK(reader.malformed + reader.frames + reader.skipped <= reader.line + 1);
    FUZZ_CHECK(memchr(reader.last_error, '\0', sizeof reader.last_error) != NULL);
    bench_replay_check_free(&checker);
    fclose(in);
    bms_fuzz_accepted = n > 0;
    return 0;
}
