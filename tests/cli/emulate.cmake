# SPDX-License-Identifier: MIT
# `bmsbench emulate topband --stdio`: replies, checksums, exit codes.
add_test(NAME cli.emulate_topband_stdio
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/emulate_topband.sh $<TARGET_FILE:bmsbench>)
set_tests_properties(cli.emulate_topband_stdio PROPERTIES TIMEOUT 60)
