# SPDX-License-Identifier: MIT
# Victron-side monitor (harness/monitor.c), built from its sources alone.
bms_unit_test(NAME test_monitor
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_monitor.c ${PROJECT_SOURCE_DIR}/harness/monitor.c
  LIBS)
target_include_directories(test_monitor PRIVATE ${PROJECT_SOURCE_DIR})
