#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI test of `bmsbench emulate balancer --stdio`: exact reply bytes (B.11 shape),
# silent commands and addresses, resync on a line end, virtual-time uptime, exit codes.
# Usage: emulate_balancer.sh /path/to/bmsbench
set -u
BIN=${1:?usage: emulate_balancer.sh /path/to/bmsbench}
if [ ! -x "$BIN" ]; then
    echo "FAIL: $BIN is not an executable (is bmsbench built?)" >&2
    exit 1
fi
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# run_emu INPUT ARGS...: feeds INPUT (printf format) to the emulator; sets
# $hex (stdout as space-separated hex bytes), $txt (stdout, CR LF -> ' '), $rc.
run_emu() {
    input=$1
    shift
    outf=$(mktemp)
    printf "$input" | "$BIN" emulate balancer "$@" >"$outf" 2>/dev/null
    rc=$?
    hex=$(od -An -tx1 -v "$outf" | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')
    txt=$(tr '\r\n' '  ' <"$outf" | tr -s ' ' | sed 's/ *$//')
    rm -f "$outf"
}

# 1. Fixed values byte for byte: cell and resistor 25 degC, version 148, CR LF.
run_emu '0102\n0103\n0106\n' --stdio
[ "$rc" = 0 ] || fail "fixed: exit $rc, want 0"
[ "$hex" = "32 35 0d 0a 32 35 0d 0a 31 34 38 0d 0a" ] || fail "fixed: got '$hex'"

# 2. Cell voltage in mV: 4 digits on the LFP plateau at 50 %, 3.45 V or more at 100 %.
run_emu '0105' --stdio
case "$hex" in
    "33 32 3"[0-9]" 3"[0-9]" 0d 0a" | "33 33 30 3"[0-9]" 0d 0a") ;;
    *) fail "mV at 50 %: got '$hex', want 3200..3309 and CR LF" ;;
esac
run_emu '5005' --stdio --modules 50 --soc 100
case "$txt" in
    3[4-5][0-9][0-9]) [ "$txt" -ge 3450 ] || fail "mV at 100 %: $txt < 3450" ;;
    *) fail "mV at 100 %: got '$txt'" ;;
esac

# 3. Silent: module beyond --modules, address 00 / 51, commands 00 / 07, non-digits.
run_emu '0905\n0005\n5105\n0100\n0107\nAB05\n' --stdio
[ "$rc" = 0 ] && [ -z "$hex" ] || fail "silent: rc $rc, got '$hex'"

# 4. A line end is a pause: a half request is dropped, the next one answered.
#    Without it the framing runs on: "0101" (silent) then a dangling "06".
run_emu '01\n0106\n' --stdio
[ "$txt" = "148" ] || fail "resync: got '$txt', want 148"
run_emu '010106' --stdio
[ -z "$hex" ] || fail "no resync: got '$hex', want nothing"

# 5. Uptime runs on virtual time: 40 requests of 4 characters and a newline
#    take 40 x 233 ms, so the 40th reply reads 9 s.
req=$(i=0; while [ $i -lt 40 ]; do printf '0104\\n'; i=$((i + 1)); done)
run_emu "$req" --stdio
#    Request k ends at k x 233.3 ms - 100 ms; the modules tick each whole second.
want="0 0 0 0 1 1 1 1 1 2 2 2 2 3 3 3 3 4 4 4 4 5 5 5 5 5 6 6 6 6 7 7 7 7 8 8 8 8 8 9"
[ "$txt" = "$want" ] || fail "uptime: got '$txt', want '$want'"

# 6. Same seed, same cells; modules are independent cells.
run_emu '0105\n0205\n0305\n0405\n' --stdio --seed 7
a=$txt
run_emu '0105\n0205\n0305\n0405\n' --stdio --seed 7
[ "$a" = "$txt" ] || fail "seed 7 not repeatable: '$a' vs '$txt'"

# 7. Exit codes: --help 0 with usage on stdout; bad options 2.
out=$("$BIN" emulate balancer --help 2>/dev/null)
[ $? = 0 ] || fail "--help: exit not 0"
case "$out" in
    Usage:*Examples:*) ;;
    *) fail "--help: no usage with examples on stdout" ;;
esac
for args in "--stdio --modules 0" "--stdio --modules 51" "--stdio --soc 101" "--stdio --bogus" \
            "" "--stdio extra" "--stdio --seed -1"; do
    # shellcheck disable=SC2086
    "$BIN" emulate balancer $args </dev/null >/dev/null 2>&1
    rc=$?
    [ "$rc" = 2 ] || fail "args '$args': exit $rc, want 2"
done

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "emulate balancer: all checks passed"
