# SPDX-License-Identifier: MIT
# Unit tests of the gateway firmware logic: bank, DVCC baseline, Victron encoder, main loop.
# The pure-logic tests compile their own sources so they do not depend on
# the rest of gw_core; the gateway test links the real libraries.
set(FW_CORE_DIR ${PROJECT_SOURCE_DIR}/firmware/core)

bms_unit_test(NAME test_bank
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_bank.c ${FW_CORE_DIR}/bank/bank.c)
target_include_directories(test_bank PRIVATE ${FW_CORE_DIR})

bms_unit_test(NAME test_dvcc_baseline
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_dvcc_baseline.c
          ${FW_CORE_DIR}/dvcc/dvcc_baseline.c ${FW_CORE_DIR}/bank/bank.c)
target_include_directories(test_dvcc_baseline PRIVATE ${FW_CORE_DIR})

bms_unit_test(NAME test_victron_encode
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_victron_encode.c
          ${FW_CORE_DIR}/victron/victron_encode.c)
target_include_directories(test_victron_encode PRIVATE ${FW_CORE_DIR})

bms_unit_test(NAME test_gateway
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_gateway.c
  LIBS gw_app)
