#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI test of `bmsbench emulate tinybms --stdio`: golden replies of the
# reference (tinybms.md §7), wake-up with --asleep, NACK on a bad CRC, and
# exit codes. Replies are compared as hex from od (independent of the C codec).
# Usage: emulate_tinybms.sh /path/to/bmsbench
set -u
BIN=${1:?usage: emulate_tinybms.sh /path/to/bmsbench}
if [ ! -x "$BIN" ]; then
    echo "FAIL: $BIN is not an executable (is bmsbench built?)" >&2
    exit 1
fi
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# run_emu OCTAL_INPUT ARGS...: feeds the bytes (printf octal escapes), sets
# $hex (reply bytes as lower-case hex, space separated) and $rc.
run_emu() {
    input=$1
    shift
    hex=$(printf "$input" | "$BIN" emulate tinybms --stdio "$@" | od -An -v -tx1 | tr -s ' \n' ' ')
    rc=$(printf "$input" | "$BIN" emulate tinybms --stdio "$@" >/dev/null 2>&1; echo $?)
    hex=$(echo $hex)
}

# 1. TV-1: Modbus write of 315/316 -> echo of address and count.
run_emu '\252\020\001\073\000\002\004\020\150\011\304\031\141'
[ "$rc" = 0 ] || fail "TV-1: exit $rc, want 0"
[ "$hex" = "aa 10 01 3b 00 02 28 22" ] || fail "TV-1: reply '$hex'"

# 2. TV-4: reset -> ACK AA 01 02 D1 B1.
run_emu '\252\002\005\220\203'
[ "$hex" = "aa 01 02 d1 b1" ] || fail "TV-4: reply '$hex'"

# 3. Cells 0..15 of a 15-cell pack: PL 0x20, reg 0 unused (00 00), 37 bytes.
run_emu '\252\003\000\000\000\020\135\335' --cells 15
case "$hex" in
    "aa 03 20 00 00 "*) ;;
    *) fail "cells: reply '$hex' does not start with aa 03 20 00 00" ;;
esac
n=$(echo "$hex" | wc -w)
[ "$n" -eq 37 ] || fail "cells: $n bytes, want 37"

# 4. Temperatures: layout AA 1B 06 + 3 x int16 + CRC (25.0 degC = 0x00FA).
run_emu '\252\033\077\033'
case "$hex" in
    "aa 1b 06 fa 00 fa 00 fa 00 "??" "??) ;;
    *) fail "temperatures: reply '$hex'" ;;
esac

# 5. Bad CRC -> NACK AA 00 1B 01.
run_emu '\252\033\077\034'
case "$hex" in
    "aa 00 1b 01 "??" "??) ;;
    *) fail "bad crc: reply '$hex', want aa 00 1b 01 crc" ;;
esac

# 6. Asleep: the first request only wakes it, the second is answered.
run_emu '\252\030\177\032' --asleep
[ -z "$hex" ] || fail "asleep: single request got '$hex'"
run_emu '\252\030\177\032\252\030\177\032' --asleep
case "$hex" in
    "aa 18 97 00 "??" "??) ;;
    *) fail "asleep: second request got '$hex', want aa 18 97 00 crc (idle)" ;;
esac

# 7. Exit codes.
"$BIN" emulate tinybms --help >/dev/null 2>&1 || fail "--help: exit $?, want 0"
"$BIN" emulate tinybms --help 2>/dev/null | grep -q '^Usage: bmsbench emulate tinybms' || fail "--help: no usage on stdout"
"$BIN" emulate tinybms --stdio --bogus </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "bad option: exit $rc, want 2"
"$BIN" emulate tinybms --stdio --cells 17 </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "--cells 17: exit $rc, want 2"
"$BIN" emulate tinybms </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "no --stdio: exit $rc, want 2"
"$BIN" emulate tinybms --stdio extra </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "extra argument: exit $rc, want 2"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "ok"
