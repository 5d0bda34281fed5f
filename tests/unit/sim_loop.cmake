# SPDX-License-Identifier: MIT
# Closed loop: PV/load profiles and the scenario's system over time; the scenario writer.
bms_unit_test(NAME test_profile
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_profile.c
          ${PROJECT_SOURCE_DIR}/harness/scenario_system.c
  LIBS bms_sim m)
target_include_directories(test_profile PRIVATE ${PROJECT_SOURCE_DIR})

bms_unit_test(NAME test_scenario_write
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_scenario_write.c
  LIBS bench_harness)
