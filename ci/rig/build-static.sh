#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds statically linked bmsbench, bms-gateway and rig-canup for the rig's
# busybox-only initramfs (no shared libraries there), in a separate CMake build.
# usage: ci/rig/build-static.sh [SRC_DIR [BUILD_DIR]]   (default: the tree, SRC/build-rig)
set -eu

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${2:-$src/build-rig}
jobs=$(nproc 2>/dev/null || echo 2)

mkdir -p "$build"
# A cache from a dynamic configure keeps the .so paths pkg-config found: start over.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_PROJECT_INCLUDE.*static.cmake' "$build/CMakeCache.txt"; then
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
# static.cmake makes pkg-config's libraries resolve to libfoo.a and links with
# -static; the panel is off, so SDL is not needed at all. Warnings
# are the default build's business (BMS_WERROR there), not a reason to stop the rig.
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBMS_WERROR=OFF \
      -DBMS_TESTS=OFF -DBMS_PANEL=OFF -DCMAKE_PROJECT_INCLUDE="$src/ci/rig/static.cmake" >"$build/rig-cmake.log" 2>&1 || {
    cat "$build/rig-cmake.log" >&2
    echo "build-static: cmake configure failed" >&2
    exit 1
}
cmake --build "$build" -j "$jobs" --target bmsbench bms-gateway >"$build/rig-build.log" 2>&1 || {
    tail -n 40 "$build/rig-build.log" >&2
    echo "build-static: build failed (full log: $build/rig-build.log)" >&2
    exit 1
}

# rig-canup: set a SocketCAN controller's bitrate and start it through libsocketcan,
# for an end that does not do it itself (the bench opens IFACE as it is).
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -static -o "$build/bin/rig-canup" \
    "$src/ci/rig/canup.c" -l:libsocketcan.a

for b in bmsbench bms-gateway rig-canup; do
    if ! file "$build/bin/$b" 2>/dev/null | grep -q 'statically linked' &&
       ldd "$build/bin/$b" >/dev/null 2>&1; then
        echo "build-static: $build/bin/$b is not statically linked" >&2
        exit 1
    fi
done
echo "build-static: $build/bin/bmsbench $build/bin/bms-gateway $build/bin/rig-canup"
