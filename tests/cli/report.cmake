# CLI test of `bmsbench run --report DIR` (the HTML report with SVG charts).
add_test(NAME cli.report
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/report.sh $<TARGET_FILE:bmsbench>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-report)
set_tests_properties(cli.report PROPERTIES TIMEOUT 300)
