# SPDX-License-Identifier: MIT
# Live mode: bad inputs (missing device, gateway exiting or crashing,
# sim-only scenario), `bmsbench ports`, and the end-to-end run with bms-gateway.
add_test(NAME cli.live_bad_inputs
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/live.sh $<TARGET_FILE:bmsbench> ${PROJECT_SOURCE_DIR})
set_tests_properties(cli.live_bad_inputs PROPERTIES TIMEOUT 60)
if(TARGET bms-gateway)
  set(BMS_LIVE_GATEWAY $<TARGET_FILE:bms-gateway>)
else()
  set(BMS_LIVE_GATEWAY ${CMAKE_BINARY_DIR}/bin/bms-gateway)
endif()
add_test(NAME cli.live_gateway_e2e
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/live_gateway.sh $<TARGET_FILE:bmsbench>
          ${BMS_LIVE_GATEWAY} ${PROJECT_SOURCE_DIR})
# Five scenarios of at most 60 s each, in wall-clock time (topband x3, balancer, superb).
set_tests_properties(cli.live_gateway_e2e PROPERTIES TIMEOUT 400 SKIP_RETURN_CODE 77)
