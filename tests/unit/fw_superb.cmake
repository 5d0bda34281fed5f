# SPDX-License-Identifier: MIT
# Gateway SuperB (CANopen SDO client) tests: the codec and the driver. Sources
# are listed directly so they build while the rest of gw_core is being written.
bms_unit_test(NAME test_canopen_sdo
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_canopen_sdo.c
          ${PROJECT_SOURCE_DIR}/firmware/core/superb/canopen_sdo.c
  LIBS)
target_include_directories(test_canopen_sdo PRIVATE ${PROJECT_SOURCE_DIR}/firmware/core)

if(EXISTS ${PROJECT_SOURCE_DIR}/tests/unit/test_superb_driver.c)
  bms_unit_test(NAME test_superb_driver
    SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_superb_driver.c
            ${PROJECT_SOURCE_DIR}/firmware/core/superb/superb_driver.c
            ${PROJECT_SOURCE_DIR}/firmware/core/superb/canopen_sdo.c
    LIBS)
  target_include_directories(test_superb_driver PRIVATE ${PROJECT_SOURCE_DIR}/firmware/core)
endif()
