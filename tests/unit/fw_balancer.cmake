# SPDX-License-Identifier: MIT
# Gateway balancer-bus BMS controller tests: codec, protection, polling master.
# Sources are listed directly so they build while the rest of gw_core changes.
set(BMS_BAL_FW_SOURCES
  ${PROJECT_SOURCE_DIR}/firmware/core/balancer/balancer_bus.c
  ${PROJECT_SOURCE_DIR}/firmware/core/balancer/balancer_protect.c
  ${PROJECT_SOURCE_DIR}/firmware/core/balancer/balancer_driver.c)
foreach(t test_balancer_bus test_balancer_protect test_balancer_driver)
  if(EXISTS ${PROJECT_SOURCE_DIR}/tests/unit/${t}.c)
    bms_unit_test(NAME ${t}
      SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/${t}.c ${BMS_BAL_FW_SOURCES}
      LIBS)
    target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/firmware/core)
  endif()
endforeach()
