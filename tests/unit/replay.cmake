# SPDX-License-Identifier: MIT
# bmsbench replay: log readers, GX-side capture checks, and the readers' fuzz target.
bms_unit_test(NAME test_logfmt_read
              SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_logfmt_read.c LIBS bench_harness)
bms_unit_test(NAME test_replay_check
              SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_replay_check.c LIBS bench_harness)
bms_fuzz_target(NAME logfmt_read LIBS bench_harness)
