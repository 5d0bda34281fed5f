# SPDX-License-Identifier: MIT
# Unit tests of the DVCC engine, its chemistry profile and the gateway config text parser.
set(ENGINE_CORE_DIR ${PROJECT_SOURCE_DIR}/firmware/core)

bms_unit_test(NAME test_engine
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_engine.c
          ${ENGINE_CORE_DIR}/dvcc/engine.c ${ENGINE_CORE_DIR}/dvcc/profile.c
          ${ENGINE_CORE_DIR}/bank/bank.c ${ENGINE_CORE_DIR}/victron/victron_encode.c)
target_include_directories(test_engine PRIVATE ${ENGINE_CORE_DIR})

bms_unit_test(NAME test_gw_config_text
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_gw_config_text.c
  LIBS gw_app)
