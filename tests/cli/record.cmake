# SPDX-License-Identifier: MIT
# bmsbench run --record: recordings read back by python3-can, log2asc and tshark; errors reported.
foreach(case topband superb errors)
  add_test(NAME cli.record_${case}
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/record.sh $<TARGET_FILE:bmsbench>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-record-${case} ${case})
  set_tests_properties(cli.record_${case} PROPERTIES TIMEOUT 60)
endforeach()
