# SPDX-License-Identifier: MIT
# Scenario loader, expression language, expectation checker and JUnit writer tests.
# Sources are listed directly so these build while the rest of bench_harness is in progress.
set(BMS_SCEN_DIR ${PROJECT_SOURCE_DIR}/harness)

bms_unit_test(NAME test_expr
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_expr.c ${BMS_SCEN_DIR}/expr.c
  LIBS m)
target_include_directories(test_expr PRIVATE ${PROJECT_SOURCE_DIR})

bms_unit_test(NAME test_scenario
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_scenario.c ${BMS_SCEN_DIR}/scenario.c
          ${BMS_SCEN_DIR}/expr.c
  LIBS PkgConfig::YAML m)
target_include_directories(test_scenario PRIVATE ${PROJECT_SOURCE_DIR})

bms_unit_test(NAME test_expect
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_expect.c ${BMS_SCEN_DIR}/expect.c
          ${BMS_SCEN_DIR}/expr.c
  LIBS m)
target_include_directories(test_expect PRIVATE ${PROJECT_SOURCE_DIR})

bms_unit_test(NAME test_junit
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_junit.c ${PROJECT_SOURCE_DIR}/reports/junit.c
  LIBS m)
target_include_directories(test_junit PRIVATE ${PROJECT_SOURCE_DIR})

# The fuzz entry point, driven by a plain main over the test files and mutations of
# them, so it runs in every ctest; with clang -fsanitize=fuzzer the same file fuzzes.
bms_unit_test(NAME test_scenario_fuzz
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_scenario.c
          ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_scenario_main.c
          ${BMS_SCEN_DIR}/scenario.c ${BMS_SCEN_DIR}/expr.c
  LIBS PkgConfig::YAML m)
target_include_directories(test_scenario_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
set_tests_properties(unit.test_scenario_fuzz PROPERTIES
  ENVIRONMENT "BMS_FUZZ_CORPUS=${PROJECT_SOURCE_DIR}/tests/data/scenarios")

# The writer's output must parse as XML, checked by a real parser when python3 is present.
find_program(BMS_PYTHON3 python3)
if(BMS_PYTHON3)
  add_test(NAME unit.test_junit_parses
    COMMAND sh -c "\"$1\" --emit \"$2\" && \"$3\" -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); c = d.getElementsByTagName(\"testcase\"); assert len(c) == 3, len(c); assert d.getElementsByTagName(\"failure\")[0].getAttribute(\"message\").startswith(\"a<b & \\x27c\\x27\")' \"$2\""
            sh $<TARGET_FILE:test_junit> ${CMAKE_BINARY_DIR}/tests/junit-out/nested/report.xml
            ${BMS_PYTHON3})
  set_tests_properties(unit.test_junit_parses PROPERTIES TIMEOUT 60)
endif()
