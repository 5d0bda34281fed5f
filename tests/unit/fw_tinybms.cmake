# SPDX-License-Identifier: MIT
# Gateway TinyBMS driver and the CVL state strategy. Sources are listed directly
# so these build while the rest of gw_core is being written.
set(FW_TINY_DIR ${PROJECT_SOURCE_DIR}/firmware/core)

bms_unit_test(NAME test_tinybms_frame
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_tinybms_frame.c ${FW_TINY_DIR}/tinybms/tinybms_frame.c)
target_include_directories(test_tinybms_frame PRIVATE ${FW_TINY_DIR})

bms_unit_test(NAME test_tinybms_driver
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_tinybms_driver.c
          ${FW_TINY_DIR}/tinybms/tinybms_driver.c ${FW_TINY_DIR}/tinybms/tinybms_frame.c)
target_include_directories(test_tinybms_driver PRIVATE ${FW_TINY_DIR})

bms_unit_test(NAME test_cvl_states
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_cvl_states.c ${FW_TINY_DIR}/dvcc/cvl_states.c)
target_include_directories(test_cvl_states PRIVATE ${FW_TINY_DIR})
