# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench decode tinybms` (harness/decode_tinybms.c), one ctest per case.
foreach(case tv3_temperatures_json tv2_registers_json tv1_write_request_json tv1_write_reply_text
             tv4_reset_and_ack spaced_equals_unspaced nack_json pack_voltage_float
             crc_mismatch odd_digits no_input not_hex unknown_command help)
  add_test(NAME cli.decode_tinybms_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/decode_tinybms.sh $<TARGET_FILE:bmsbench> ${case})
  set_tests_properties(cli.decode_tinybms_${case} PROPERTIES TIMEOUT 30)
endforeach()
