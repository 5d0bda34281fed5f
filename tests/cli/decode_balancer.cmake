# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench decode balancer` (harness/decode_balancer.c), one ctest per case.
foreach(case request_json request_text reply_voltage_json reply_crlf_escaped negative_temp
             uptime_json version_text hex_split_reply garbage_reply implausible_voltage
             bad_request forced_reply several_items no_input bad_command unknown_option help)
  add_test(NAME cli.decode_balancer_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/decode_balancer.sh $<TARGET_FILE:bmsbench> ${case})
  set_tests_properties(cli.decode_balancer_${case} PROPERTIES TIMEOUT 30)
endforeach()
