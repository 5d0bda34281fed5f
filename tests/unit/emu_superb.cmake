# SPDX-License-Identifier: MIT
# SuperB emulator: SDO server codec and the CiA 301 nodes (NMT, heartbeat, OD, faults).
bms_unit_test(NAME test_emu_superb_sdo
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_superb_sdo.c
  LIBS emu_superb)
bms_unit_test(NAME test_emu_superb
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_superb.c
  LIBS emu_superb)
