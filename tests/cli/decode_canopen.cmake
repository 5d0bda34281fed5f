# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench decode canopen` (harness/decode_canopen.c), one ctest per case.
foreach(case sdo_vectors_json abort_tshark_facts heartbeat_nmt_emcy segmented invalid_frames
             usage stdin_log help)
  add_test(NAME cli.decode_canopen_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/decode_canopen_cases.sh
                   $<TARGET_FILE:bmsbench> ${case})
  set_tests_properties(cli.decode_canopen_${case} PROPERTIES TIMEOUT 30)
endforeach()
