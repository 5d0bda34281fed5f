# SPDX-License-Identifier: MIT
# Balancer-module emulator: B.11 vectors, framing, balancing model, fault knobs, collisions.
bms_unit_test(NAME test_emu_balancer
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_balancer.c
  LIBS emu_balancer)
