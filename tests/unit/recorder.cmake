# SPDX-License-Identifier: MIT
# Recorder format writers (candump -L, ASC, pcap, serial capture, CSV): exact bytes.

# harness/logfmt_write.c belongs in bench_harness (harness/CMakeLists.txt);
# until that list names it, add it here so the recorder links.
get_target_property(_bms_harness_srcs bench_harness SOURCES)
if(NOT "logfmt_write.c" IN_LIST _bms_harness_srcs
   AND NOT "${PROJECT_SOURCE_DIR}/harness/logfmt_write.c" IN_LIST _bms_harness_srcs)
  target_sources(bench_harness PRIVATE ${PROJECT_SOURCE_DIR}/harness/logfmt_write.c)
endif()

bms_unit_test(NAME test_logfmt_write
              SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_logfmt_write.c
              LIBS bench_harness)
bms_unit_test(NAME test_recorder
              SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_recorder.c
              LIBS bench_harness)
