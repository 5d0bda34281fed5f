# SPDX-License-Identifier: MIT
# Gateway Topband driver tests: the codec and the state machine. Sources are
# listed directly so they build while the rest of gw_core is being written.
bms_unit_test(NAME test_topband_frame
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_topband_frame.c
          ${PROJECT_SOURCE_DIR}/firmware/core/topband/topband_frame.c
  LIBS)
target_include_directories(test_topband_frame PRIVATE ${PROJECT_SOURCE_DIR}/firmware/core)

bms_unit_test(NAME test_topband_driver
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_topband_driver.c
          ${PROJECT_SOURCE_DIR}/firmware/core/topband/topband_driver.c
          ${PROJECT_SOURCE_DIR}/firmware/core/topband/topband_frame.c
  LIBS)
target_include_directories(test_topband_driver PRIVATE ${PROJECT_SOURCE_DIR}/firmware/core)
