# SPDX-License-Identifier: MIT
# `bmsbench emulate superb --stdio`: boot-ups, SDO replies, NMT, timeout, exit codes.
add_test(NAME cli.emulate_superb_stdio
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/emulate_superb.sh $<TARGET_FILE:bmsbench>)
set_tests_properties(cli.emulate_superb_stdio PROPERTIES TIMEOUT 60)
