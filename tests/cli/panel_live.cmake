# SPDX-License-Identifier: MIT
# bmsbench panel --live, headless (SDL dummy driver) against bms-gateway on PTYs.
if(DEFINED BMS_PANEL AND NOT BMS_PANEL)
  return()  # bmsbench built without the panel
endif()
if(TARGET bms-gateway)
  set(BMS_PANEL_LIVE_GATEWAY $<TARGET_FILE:bms-gateway>)
else()
  set(BMS_PANEL_LIVE_GATEWAY ${CMAKE_BINARY_DIR}/bin/bms-gateway)
endif()
add_test(NAME cli.panel_live
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/panel_live.sh $<TARGET_FILE:bmsbench>
                 ${BMS_PANEL_LIVE_GATEWAY} ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-panel-live)
# 10 s of wall time plus the start; the error cases return at once.
set_tests_properties(cli.panel_live PROPERTIES TIMEOUT 40 SKIP_RETURN_CODE 77)
