# SPDX-License-Identifier: MIT
# `bmsbench emulate balancer --stdio`: exact replies, silence, resync, uptime, exit codes.
add_test(NAME cli.emulate_balancer_stdio
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/emulate_balancer.sh $<TARGET_FILE:bmsbench>)
set_tests_properties(cli.emulate_balancer_stdio PROPERTIES TIMEOUT 60)
