# SPDX-License-Identifier: MIT
# The virtual HIL rig (ci/rig/run, docs/rig.md): QEMU with SJA1000 CAN cards and
# FTDI adapters, about 70 s (3/3 runs passed, docs/rig.md). Part of `make test`.
option(BMS_RIG "Register the QEMU rig test rig.qemu (ci/rig/run)" ON)
if(BMS_RIG)
  add_test(NAME rig.qemu
           COMMAND sh ${PROJECT_SOURCE_DIR}/ci/rig/run
                   --report ${CMAKE_BINARY_DIR}/reports/rig-junit.xml)
  set_tests_properties(rig.qemu PROPERTIES TIMEOUT 600)
endif()
