# SPDX-License-Identifier: MIT
# SuperB Epsilon V2 (CANopen SDO client) sources of gw_core.
target_sources(gw_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/superb/canopen_sdo.c
  ${CMAKE_CURRENT_SOURCE_DIR}/superb/superb_driver.c)
