# SPDX-License-Identifier: MIT
# TinyBMS emulator: device-side codec and the emulator state machine.
bms_unit_test(NAME test_emu_tinybms_codec
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_tinybms_codec.c
  LIBS emu_tinybms)
bms_unit_test(NAME test_emu_tinybms
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_tinybms.c
  LIBS emu_tinybms)
