# SPDX-License-Identifier: MIT
# CI fuzzing: 200 random scenarios per family against the default gateway must be clean.
# Wall time on the dev box (one core each, run in parallel under ctest -j): topband ~50 s,
# tinybms ~61 s, superb ~88 s, balancer ~13 s.
foreach(family topband tinybms superb balancer)
  add_test(NAME fuzz.ci.${family}
           COMMAND bmsbench fuzz --count 200 --seed 1 --family ${family}
                   --out ${CMAKE_BINARY_DIR}/tests/fuzz-ci/${family})
  set_tests_properties(fuzz.ci.${family} PROPERTIES TIMEOUT 600 LABELS fuzz)
endforeach()
# The balancer family can fail: with every cell cut-off moved out of the way
# (the controller's alarm and charge-off levels, the engine's cut-off, target,
# curve and hold) the invariants catch the overcharge.
add_test(NAME fuzz.ci.balancer_unsafe_caught
         COMMAND bmsbench fuzz --count 10 --seed 1 --family balancer
                 --set bal_alarm_high_mv=5000 --set bal_chg_off_mv=4500 --set bal_chg_on_mv=4400
                 --set cell_ov_mv=4500 --set cell_ov_release_mv=4400 --set cvl_cell_mv=4400
                 --set charge_cell_curve=0 --set imbalance_hold_mv=2000 --set cell_high_warn_mv=4400
                 --out ${CMAKE_BINARY_DIR}/tests/fuzz-ci/balancer-unsafe)
set_tests_properties(fuzz.ci.balancer_unsafe_caught PROPERTIES TIMEOUT 120 LABELS fuzz
                     PASS_REGULAR_EXPRESSION "FAIL .* balancer .*invariant ccl_zero_at_cell_cutoff")
