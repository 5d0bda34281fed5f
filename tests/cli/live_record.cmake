# SPDX-License-Identifier: MIT
# run --live --record: a Topband and a SuperB live run recorded (about 40 s,
# in parallel), read back by python3-can and checked by replay --check.
if(TARGET bms-gateway)
  set(BMS_LIVE_RECORD_GATEWAY $<TARGET_FILE:bms-gateway>)
else()
  set(BMS_LIVE_RECORD_GATEWAY ${CMAKE_BINARY_DIR}/bin/bms-gateway)
endif()
add_test(NAME cli.live_record
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/live_record.sh $<TARGET_FILE:bmsbench>
          ${BMS_LIVE_RECORD_GATEWAY} ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-live-record)
set_tests_properties(cli.live_record PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
