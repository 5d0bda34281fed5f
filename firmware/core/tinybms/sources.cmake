# SPDX-License-Identifier: MIT
# TinyBMS gateway driver and the charge-voltage state strategy (included by firmware/core/CMakeLists.txt).
target_sources(gw_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/tinybms/tinybms_frame.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tinybms/tinybms_driver.c
  ${CMAKE_CURRENT_SOURCE_DIR}/dvcc/cvl_states.c
)
