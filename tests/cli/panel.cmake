# bmsbench panel: headless PNG snapshots, usage errors, and the interactive
# window under Xvfb driven by xdotool.
add_test(NAME cli.panel_snapshot
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/panel_snapshot.sh $<TARGET_FILE:bmsbench>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-panel)
set_tests_properties(cli.panel_snapshot PROPERTIES TIMEOUT 120)
find_program(BMS_XVFB_RUN xvfb-run)
find_program(BMS_XDOTOOL xdotool)
if(BMS_XVFB_RUN AND BMS_XDOTOOL)
  add_test(NAME cli.panel_xvfb
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/panel_xvfb.sh $<TARGET_FILE:bmsbench>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests/cli-panel-xvfb)
  set_tests_properties(cli.panel_xvfb PROPERTIES TIMEOUT 180)
endif()
