# CLI tests of run/list/bench, and the scenario suite itself.
add_test(NAME cli.run_checks
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/run_checks.sh $<TARGET_FILE:bmsbench>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-run)
set_tests_properties(cli.run_checks PROPERTIES TIMEOUT 600)
add_test(NAME scenarios.suite
         COMMAND bmsbench run --junit ${CMAKE_BINARY_DIR}/reports/ctest-scenarios.xml
                 ${PROJECT_SOURCE_DIR}/scenarios)
set_tests_properties(scenarios.suite PROPERTIES TIMEOUT 900)
