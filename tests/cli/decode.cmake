# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench decode` (harness/cmd_decode.c), one ctest per case.
foreach(case topband_reply_json topband_reply_text topband_checksum_mismatch topband_request
             topband_not_a_frame victron_limits_json victron_bad_notation victron_unknown_id
             victron_stdin_log help)
  add_test(NAME cli.decode_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/decode_cases.sh $<TARGET_FILE:bmsbench> ${case})
  set_tests_properties(cli.decode_${case} PROPERTIES TIMEOUT 30)
endforeach()
