# SPDX-License-Identifier: MIT
# `bmsbench emulate tinybms --stdio`: golden replies, wake-up, NACK, exit codes.
add_test(NAME cli.emulate_tinybms_stdio
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/emulate_tinybms.sh $<TARGET_FILE:bmsbench>)
set_tests_properties(cli.emulate_tinybms_stdio PROPERTIES TIMEOUT 60)
