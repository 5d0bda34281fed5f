# SPDX-License-Identifier: MIT
# Simulator: scheduler, serial wire, CAN bus, battery physics (with OCV and rng), charger.
foreach(t test_sched test_wire test_canbus test_battery test_charger)
  bms_unit_test(NAME ${t}
    SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/${t}.c
    LIBS bms_sim)
endforeach()
