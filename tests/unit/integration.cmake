# SPDX-License-Identifier: MIT
# In-process integration of emulator, firmware and sim truth; the sim platform binding.
# The Victron-side monitor is compiled from its source so the harness's YAML
# dependency stays out of these tests.
bms_unit_test(NAME test_integration
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_integration.c ${PROJECT_SOURCE_DIR}/harness/monitor.c
  LIBS gw_app plat_sim emu_topband bms_sim m)

bms_unit_test(NAME test_plat_sim
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_plat_sim.c
  LIBS plat_sim bms_sim)
