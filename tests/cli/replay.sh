#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench replay`: every rule caught on its bad capture with
# time, frame and rule; silent on good captures in all three formats;
# malformed lines named file:line; a truncated log read up to the damage;
# --into-gateway reproduces a Topband gateway's 0x351 frames from its serial
# capture; --to on a kernel without CAN exits 2 naming the interface.
# usage: replay.sh BMSBENCH LOGDIR WORKDIR
set -u
B=$1
L=$2
W=$3
rm -rf "$W" && mkdir -p "$W" || exit 1
fails=0
check() { # name, want, got
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: want '$2', got '$3'"
        fails=$((fails + 1))
    else
        echo "ok   $1"
    fi
}

for f in good.log good_console.txt good.asc; do
    "$B" replay --check "$L/$f" > "$W/out.txt" 2>&1
    check "$f: exit" 0 $?
    check "$f: verdict" "replay: no violations" "$(tail -n 1 "$W/out.txt")"
    check "$f: frames" "frames: 120 (120 decoded), 0x351: 20" \
        "$(grep -o '^frames: [0-9]* ([0-9]* decoded), 0x351: [0-9]*' "$W/out.txt")"
done

# bad log, rule, the violation's time and frame
while read -r f rule when frame; do
    "$B" replay --check --cells 16 "$L/$f" > "$W/out.txt" 2>&1
    check "$f: exit" 1 $?
    got=$(grep '^VIOLATION' "$W/out.txt" | awk '{print $2, $6, $7}')
    check "$f: violation" "t=$when $frame $rule:" "$got"
done <<'ROWS'
bad_ccl_high_cell.log ccl_at_high_cell 1700000010.005000 0x373
bad_35c.log req_35c_vs_351 1700000005.004000 0x35C
bad_gap_351.log gap_351 1700000009.000000 0x351
bad_reserved.log reserved_pair 1700000007.003000 0x35A
ROWS

# With 15 cells the good 55.2 V CVL is above 15 x 3.65 V.
"$B" replay --check --cells 15 "$L/good.log" > "$W/out.txt" 2>&1
check "15 cells: exit" 1 $?
check "15 cells: cvl_above_max" "cvl_above_max:" "$(grep -m1 '^VIOLATION' "$W/out.txt" | awk '{print $7}')"

"$B" replay --check "$L/malformed.log" > "$W/out.txt" 2> "$W/err.txt"
check "malformed: exit" 2 $?
cat > "$W/want.txt" <<WANT
$L/malformed.log:8: timestamp '(1700000001.12)': want (seconds.microseconds), 6 or 9 decimals
$L/malformed.log:9: timestamp: no closing ')'
$L/malformed.log:10: frame '3510#2802E803': id must be 3 or 8 hex digits
$L/malformed.log:11: frame '351#2802E803DC05D001AA': more than 8 data bytes
$L/malformed.log:12: frame '351#2802E8G3': data must be hex byte pairs
$L/malformed.log:13: frame '3512802E803': no '#' between id and data
$L/malformed.log:14: unexpected 'junk' after the frame
$L/malformed.log:15: no interface name after the timestamp
$L/malformed.log: 8 malformed line(s) skipped
WANT
if diff "$W/want.txt" "$W/err.txt" > "$W/diff.txt"; then
    echo "ok   malformed: every line named"
else
    echo "FAIL malformed: messages differ:"; cat "$W/diff.txt"; fails=$((fails + 1))
fi
check "malformed: good lines still read" "frames: 12" "$(grep -o '^frames: [0-9]*' "$W/out.txt")"

"$B" replay --check "$L/truncated.log" > "$W/out.txt" 2> "$W/err.txt"
check "truncated: exit" 2 $?
check "truncated: reported" \
    "$L/truncated.log:62: truncated line (no newline at the end of the file): dropped" \
    "$(head -n 1 "$W/err.txt")"
check "truncated: read up to the damage" "frames: 60" "$(grep -o '^frames: [0-9]*' "$W/out.txt")"

# A Topband gateway's serial capture, replayed into the gateway firmware: it
# sends the same 0x351 (CVL/CCL/DCL) frames as in the recorded run.
C=$L/topband_capture
"$B" replay --into-gateway --family topband --out "$W/gw.log" "$C/bms-serial.txt" > "$W/out.txt" 2>&1
check "into-gateway: exit" 0 $?
grep -o '351#.*' "$C/victron.log" > "$W/want351.txt"
n=$(wc -l < "$W/want351.txt")
grep -o '351#.*' "$W/gw.log" | head -n "$n" > "$W/got351.txt"
if [ "$n" -gt 50 ] && cmp -s "$W/want351.txt" "$W/got351.txt"; then
    echo "ok   into-gateway: $n 0x351 frames identical"
else
    echo "FAIL into-gateway: 0x351 frames differ from the recorded run"; fails=$((fails + 1))
fi
check "into-gateway: CCL reproduced" "ccl_a=13.3" "$(grep -o 'ccl_a=[0-9.]*' "$W/out.txt" | head -n 1)"

# The capture with every pack reply removed: the gateway sees silent packs.
grep -v ' rx' "$C/bms-serial.txt" > "$W/silent.txt"
"$B" replay --into-gateway --family topband "$W/silent.txt" > "$W/out.txt" 2>&1
check "into-gateway silent packs: no CCL" "ccl_a=0.0" "$(grep -o 'ccl_a=[0-9.]*' "$W/out.txt" | head -n 1)"

# --expect: GX signals are available in a replay.
"$B" replay --into-gateway --expect "$L/topband_capture.yaml" "$C/bms-serial.txt" > "$W/out.txt" 2>&1
check "into-gateway --expect: exit" 0 $?
check "into-gateway --expect: verdict" "expect topband_capture: 0 of 2 failed" \
    "$(grep '^expect ' "$W/out.txt")"

# --to on a kernel without SocketCAN: exit 2, the interface and the reason named.
"$B" replay --to can0 "$L/good.log" > "$W/out.txt" 2> "$W/err.txt"
rc=$?
if [ $rc -eq 0 ]; then
    echo "ok   --to can0: sent (this kernel has CAN)"
else
    check "--to can0: exit" 2 $rc
    check "--to can0: names the interface" "bmsbench replay: --to can0:" "$(cut -d' ' -f1-4 "$W/err.txt")"
fi

"$B" replay "$L/good.log" > /dev/null 2>&1
check "no mode: exit" 2 $?
"$B" replay --check --cells 0 "$L/good.log" > /dev/null 2>&1
check "bad --cells: exit" 2 $?
"$B" replay --check "$W/no-such.log" > /dev/null 2>&1
check "missing file: exit" 2 $?

echo "replay: $fails failure(s)"
[ "$fails" -eq 0 ]
