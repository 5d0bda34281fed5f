# SPDX-License-Identifier: MIT
# bmsbench fuzz: clean on a correct gateway, violations on an unsafe one, reproducible failures.
add_test(NAME cli.fuzz
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/fuzz.sh $<TARGET_FILE:bmsbench>
                 ${CMAKE_BINARY_DIR}/tests/cli-fuzz)
set_tests_properties(cli.fuzz PROPERTIES TIMEOUT 300)
