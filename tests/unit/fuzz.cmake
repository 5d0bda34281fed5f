# SPDX-License-Identifier: MIT
# Fuzz targets, one per parser (tests/fuzz/fuzz_<name>.c, an LLVMFuzzerTestOneInput).
# Always: a ctest unit.test_fuzz_<name> that replays tests/fuzz/corpus/<name> plus
# deterministic mutations with the normal compiler (tests/fuzz/fuzz_main.c).
# With -DBMS_FUZZ=ON (clang): also libFuzzer executables bin/fuzz_<name>, built with
# -fsanitize=fuzzer,address,undefined over instrumented library code. See docs/fuzzing.md.
option(BMS_FUZZ "Build libFuzzer executables fuzz_<name> (clang only)" OFF)

set(BMS_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz)
# Mutation rounds per seed in ctest; each target stays well under 10 s.
set(BMS_FUZZ_ROUNDS 300 CACHE STRING "Mutation rounds per corpus file in the test_fuzz_* ctests")

if(BMS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BMS_FUZZ needs clang with libFuzzer (apt-get install clang "
                        "libclang-rt-14-dev); configure with -DCMAKE_C_COMPILER=clang "
                        "or use the 'fuzz' preset")
  endif()
  set(BMS_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=undefined
                   -fno-omit-frame-pointer)
  # The library code the targets reach gets coverage feedback and sanitizers; its
  # users link the sanitizer runtimes through the INTERFACE link option.
  foreach(lib gw_core gw_app bms_sim plat_sim emu_topband bench_reports bench_harness)
    if(TARGET ${lib})
      target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link ${BMS_FUZZ_SAN})
      target_link_options(${lib} INTERFACE -fsanitize=address,undefined)
    endif()
  endforeach()
endif()

# bms_fuzz_target(NAME x LIBS ...): fuzz_x.c as ctest unit.test_fuzz_x, and fuzz_x with BMS_FUZZ.
function(bms_fuzz_target)
  cmake_parse_arguments(F "" "NAME" "LIBS" ${ARGN})
  set(src ${BMS_FUZZ_DIR}/fuzz_${F_NAME}.c)
  set(dict ${BMS_FUZZ_DIR}/${F_NAME}.dict)
  bms_unit_test(NAME test_fuzz_${F_NAME} SOURCES ${src} ${BMS_FUZZ_DIR}/fuzz_main.c
                LIBS ${F_LIBS})
  target_include_directories(test_fuzz_${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${BMS_FUZZ_DIR})
  set_tests_properties(unit.test_fuzz_${F_NAME} PROPERTIES
    ENVIRONMENT "BMS_FUZZ_CORPUS=${BMS_FUZZ_DIR}/corpus/${F_NAME};BMS_FUZZ_DICT=${dict};BMS_FUZZ_ROUNDS=${BMS_FUZZ_ROUNDS}"
    TIMEOUT 60)
  if(BMS_FUZZ)
    add_executable(fuzz_${F_NAME} ${src})
    target_include_directories(fuzz_${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${BMS_FUZZ_DIR})
    target_link_libraries(fuzz_${F_NAME} PRIVATE ${F_LIBS})
    target_compile_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer ${BMS_FUZZ_SAN})
    target_link_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  endif()
endfunction()

bms_fuzz_target(NAME topband_frame LIBS gw_core)
bms_fuzz_target(NAME topband_request LIBS emu_topband gw_core)
bms_fuzz_target(NAME victron LIBS bench_harness)
bms_fuzz_target(NAME expr LIBS bench_harness)

# The scenario loader's target keeps its own replay test (unit.test_scenario_fuzz in
# harness_scenario.cmake); here it only gets its libFuzzer executable.
if(BMS_FUZZ)
  add_executable(fuzz_scenario ${BMS_FUZZ_DIR}/fuzz_scenario.c)
  target_include_directories(fuzz_scenario PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(fuzz_scenario PRIVATE bench_harness)
  target_compile_options(fuzz_scenario PRIVATE -fsanitize=fuzzer ${BMS_FUZZ_SAN})
  target_link_options(fuzz_scenario PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
