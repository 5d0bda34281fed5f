# SPDX-License-Identifier: MIT
# `bmsbench emulate FAMILY --port/--can` on PTY pairs: golden replies on a real
# fd for topband, tinybms, balancer and superb (SLCAN), missing/busy -> 2, SIGINT -> 130.
add_test(NAME cli.emulate_ports
  COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/cli/emulate_ports.py $<TARGET_FILE:bmsbench>)
set_tests_properties(cli.emulate_ports PROPERTIES TIMEOUT 60)
