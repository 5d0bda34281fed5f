#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI test of `bmsbench emulate superb --stdio`: exact candump output for
# A.11-style requests, NMT and heartbeats, the SDO timeout, exit codes.
# Usage: emulate_superb.sh /path/to/bmsbench
set -u
BIN=${1:?usage: emulate_superb.sh /path/to/bmsbench}
if [ ! -x "$BIN" ]; then
    echo "FAIL: $BIN is not an executable (is bmsbench built?)" >&2
    exit 1
fi
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# run_emu INPUT ARGS...: feeds INPUT (printf format) to the emulator, sets
# $out (stdout, lines joined by spaces), $err and $rc.
run_emu() {
    input=$1
    shift
    errf=$(mktemp)
    out=$(printf "$input" | "$BIN" emulate superb "$@" 2>"$errf"; echo "rc=$?")
    rc=${out##*rc=}
    out=${out%rc=*}
    out=$(printf '%s' "$out" | tr '\n' ' ' | sed 's/ *$//')
    err=$(cat "$errf")
    rm -f "$errf"
}

expect() { # NAME WANT
    [ "$out" = "$2" ] || fail "$1: got '$out', want '$2'"
}

# 1. Boot-ups of every node, then size-indicated expedited replies with the
#    request's index echoed (identity, firmware revision 1.6, device type).
run_emu '602#4018100100000000\n602#4018100300000000\n601#4000100000000000\n' --stdio --nodes 1,2
[ "$rc" = 0 ] || fail "identity: exit $rc, want 0"
expect identity "701#00 702#00 582#431810017C030000 582#4318100300060100 581#43001000A2010000"

# 2. SoC 87 % (A.11 row 3), segmented 0x1008 "Epsilon V2", full candump lines accepted.
req='(1700000000.000000) can0 603#4081600000000000\n603#4008100000000000\n'
req="$req"'603#6000000000000000\n603#7000000000000000\n'
run_emu "$req" --stdio --nodes 3 --soc 87
want="703#00 583#4F81600057000000 583#410810000A000000"
expect "soc+name" "$want 583#00457073696C6F6E 583#1920563200000000"

# 3. Firmware 1.1: 0x6051 aborts 0x06020000 (A.11 row 10); write to read-only, invalid ccs.
req='602#4051600000000000\n602#2F60600001000000\n602#E060600000000000\n'
run_emu "$req" --stdio --nodes 2 --fw 1.1
expect "fw 1.1" "702#00 582#8051600000000206 582#8060600002000106 582#8060600001000405"

# 4. Stopped nodes answer no SDO; reset node gives a new boot-up.
run_emu '000#0201\n601#4060600000000000\n000#8101\n' --stdio
expect "nmt" "701#00 701#00"

# 5. Heartbeats only with --heartbeats: 1.5 s of lines, one heartbeat at 1 s (pre-op 7F).
lines=$(i=0; while [ $i -lt 150 ]; do printf '\\n'; i=$((i + 1)); done)
run_emu "000#0101$lines" --stdio --heartbeats
expect heartbeats "701#00 701#05"
run_emu "$lines" --stdio
expect "no heartbeats" "701#00"

# 6. Half-finished segmented upload: abort 0x05040000 after 1 s of silence.
run_emu "601#4008100000000000$lines" --stdio
expect timeout "701#00 581#410810000A000000 581#8008100000000405"

# 7. Malformed lines: named on stderr with their number, skipped, exit 1.
run_emu '601#4060600000000000\n60#1\n601#406060000000000\n' --stdio
[ "$rc" = 1 ] || fail "malformed: exit $rc, want 1"
case "$err" in
    *"line 2:"*"line 3:"*) ;;
    *) fail "malformed: stderr '$err' does not name lines 2 and 3" ;;
esac
case "$out" in
    "701#00 581#43606000"*) ;;
    *) fail "malformed: good line not answered: '$out'" ;;
esac

# 8. Exit codes.
"$BIN" emulate superb --help >/dev/null 2>&1 || fail "--help: exit $?, want 0"
"$BIN" emulate superb --help 2>/dev/null | grep -q '^Usage: bmsbench emulate superb' ||
    fail "--help: no usage on stdout"
for bad in "--stdio --bogus" "--stdio --nodes 0" "--stdio --nodes 1,1" "--stdio --nodes 128" \
           "--stdio --nodes 1,x" "--stdio --fw 1" "--stdio --soc 101" "" "--stdio extra"; do
    # shellcheck disable=SC2086
    "$BIN" emulate superb $bad </dev/null >/dev/null 2>&1
    rc=$?
    [ "$rc" = 2 ] || fail "'$bad': exit $rc, want 2"
done
"$BIN" emulate superb --stdio </dev/null >/dev/null 2>&1 || fail "empty input: exit $?, want 0"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "ok"
