# SPDX-License-Identifier: MIT
# firmware_shim/linux: SLCAN codec, device specs, host store.
bms_unit_test(NAME test_slcan SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_slcan.c LIBS plat_linux)
bms_unit_test(NAME test_serial_spec SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_serial_spec.c
              LIBS plat_linux)
bms_unit_test(NAME test_host_store SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_host_store.c
              LIBS plat_linux)
