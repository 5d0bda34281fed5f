# SPDX-License-Identifier: MIT
# bmsbench replay: --check on good and bad captures, malformed and truncated logs,
# --into-gateway reproducing a Topband gateway's 0x351 from a serial capture, --to.
add_test(NAME cli.replay
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/replay.sh $<TARGET_FILE:bmsbench>
                 ${PROJECT_SOURCE_DIR}/tests/data/logs ${CMAKE_BINARY_DIR}/tests/cli-replay)
set_tests_properties(cli.replay PROPERTIES TIMEOUT 120)
