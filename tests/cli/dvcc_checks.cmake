# SPDX-License-Identifier: MIT
# The DVCC engine scenario library (scenarios/dvcc): passes, and each scenario
# fails once the behaviour it checks is broken with --set.
add_test(NAME cli.dvcc_checks
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/dvcc_checks.sh $<TARGET_FILE:bmsbench>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-dvcc)
set_tests_properties(cli.dvcc_checks PROPERTIES TIMEOUT 300)
