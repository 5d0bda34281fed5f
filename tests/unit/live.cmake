# Live mode: the bench's SLCAN codec on exact strings, endpoint roles, PTYs.
bms_unit_test(NAME test_live_slcan
              SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_live_slcan.c
              LIBS bench_live)
