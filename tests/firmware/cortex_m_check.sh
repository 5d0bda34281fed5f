#!/bin/sh
# The firmware is firmware: firmware/core and firmware/app must build for a
# Cortex-M4 with arm-none-eabi-gcc, warning-free, and reach nothing outside
# themselves but the compiler's memory helpers: no heap, no stdio, no clock.
# usage: cortex_m_check.sh SOURCE_DIR WORK_DIR
set -eu
SRC=$1 WORK=$2
CC=arm-none-eabi-gcc
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "cortex-m: $CC not found (ci/install-deps.sh installs gcc-arm-none-eabi)" >&2
    exit 1
fi
rm -rf "$WORK" && mkdir -p "$WORK"
FLAGS="-mcpu=cortex-m4 -mthumb -Os -std=c11 -ffreestanding -Wall -Wextra -Wshadow
       -Wstrict-prototypes -Wmissing-prototypes -Werror -ffunction-sections -fdata-sections"
objs=""
for f in "$SRC"/firmware/core/*/*.c "$SRC"/firmware/app/*.c; do
    o="$WORK/$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    $CC $FLAGS -I"$SRC/firmware/core" -I"$SRC/firmware/app" -I"$SRC/firmware_shim/include" \
        -c "$f" -o "$o"
    objs="$objs $o"
done
# Every undefined symbol must be a compiler/libc memory helper or an ARM EABI
# runtime routine; anything else (malloc, printf, time ...) is a layering bug.
# shellcheck disable=SC2086
arm-none-eabi-nm --defined-only $objs | awk 'NF==3 {print $3}' | sort -u >"$WORK/defined"
# shellcheck disable=SC2086
bad=$(arm-none-eabi-nm -u $objs | awk 'NF==2 {print $2}' | sort -u | comm -23 - "$WORK/defined" |
      grep -vE '^(memcpy|memset|memmove|memcmp|memchr|strlen|strnlen|__aeabi_[a-z0-9_]+|__gnu_[a-z0-9_]+)$' || true)
if [ -n "$bad" ]; then
    echo "cortex-m: firmware reaches outside itself:" >&2
    echo "$bad" >&2
    exit 1
fi
# shellcheck disable=SC2086
arm-none-eabi-size -t $objs | tail -1 | awk '{printf "cortex-m: firmware core+app: text %d B, data %d B, bss %d B\n", $1, $2, $3}'
