# SPDX-License-Identifier: MIT
# bms-gateway end to end over PTY pairs: Topband emulator on the BMS line, an
# SLCAN adapter played by the script on the Victron side; device errors, config errors.
add_test(NAME cli.bms_gateway
  COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/cli/bms_gateway.py
          $<TARGET_FILE:bms-gateway> $<TARGET_FILE:bmsbench>)
set_tests_properties(cli.bms_gateway PROPERTIES TIMEOUT 120)
