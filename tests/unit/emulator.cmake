# SPDX-License-Identifier: MIT
# Topband emulator: device-side codec and the emulator state machine.
bms_unit_test(NAME test_emu_topband_codec
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_topband_codec.c
  LIBS emu_topband)
bms_unit_test(NAME test_emu_topband
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_topband.c
  LIBS emu_topband)
