# SPDX-License-Identifier: MIT
# Included after project() by ci/rig/build-static.sh (CMAKE_PROJECT_INCLUDE):
# pkg_check_modules' IMPORTED_TARGETs then find libyaml.a, libserialport.a and
# libsocketcan.a instead of the .so files, and everything links with -static.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(CMAKE_EXE_LINKER_FLAGS "${CMAKE_EXE_LINKER_FLAGS} -static")
