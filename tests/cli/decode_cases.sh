#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI checks of `bmsbench decode`: decode_cases.sh BMSBENCH CASE (exit 0 = pass).
set -u
BIN=$1
CASE=$2
OUT=$(mktemp)
ERR=$(mktemp)
trap 'rm -f "$OUT" "$ERR"' EXIT

# The kekemar 16-cell 0x42 reply, topband.md 2.1.1 (CHKSUM E20A).
KEKEMAR='~52014600408401100D120D150D0F0D0D0D130D160D150D210D130D130D130D130D100D160D170D2306003D003E003E003E003B003B018014EE33B3063A9800025864000000000000E20A'

fail() {
    echo "FAIL [$CASE]: $*" >&2
    echo "--- stdout" >&2; cat "$OUT" >&2
    echo "--- stderr" >&2; cat "$ERR" >&2
    exit 1
}

# run EXPECTED_RC ARGS... : run bmsbench, capture output, check the exit code.
run() {
    want=$1
    shift
    "$BIN" "$@" >"$OUT" 2>"$ERR"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc, want $want for: $*"
}

# json_check PYTHON_EXPR : evaluate over every JSON line of stdout as `j` (list `js`).
json_check() {
    python3 -c '
import json, sys
js = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
j = js[0] if js else None
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
' "$OUT" "$1" || fail "JSON check failed: $1"
}

contains() {
    grep -q -- "$2" "$1" || fail "'$2' not in $(basename "$1")"
}

case "$CASE" in
topband_reply_json)
    run 0 decode topband --json "$KEKEMAR"
    json_check 'j["voltage_v"] == 53.58 and j["current_a"] == 3.84 and j["remaining_ah"] == 132.35'
    json_check 'j["soc_pct"] == 88 and j["soh_pct"] == 100 and j["full_ah"] == 150.0 and j["cycles"] == 2'
    json_check 'len(j["cells_mv"]) == 16 and j["cells_mv"][3] == 3341 and j["cells_mv"][15] == 3363'
    json_check 'j["temperatures_c"] == [21.0, 22.0, 22.0, 22.0, 19.0, 19.0]'
    json_check 'j["family"] == "topbms" and j["address"] == 1 and j["checksum_ok"] is True'
    ;;
topband_reply_text)
    # Literal "\r" as the EOI, as a user types it in a shell.
    run 0 decode topband "$KEKEMAR\\r"
    contains "$OUT" "voltage: 53.58 V"
    contains "$OUT" "SOC: 88 %"
    ;;
topband_checksum_mismatch)
    BAD=$(printf '%s' "$KEKEMAR" | sed 's/E20A$/E20B/')
    run 1 decode topband --json "$BAD"
    contains "$ERR" "checksum mismatch: frame carries E20B, computed E20A"
    json_check 'j["checksum_ok"] is False and "E20B" in j["error"] and "E20A" in j["error"]'
    ;;
topband_request)
    run 0 decode topband --json '~21014642E00201FD34'
    json_check 'j["kind"] == "request" and j["command"] == "0x42" and j["info"] == "01" and j["address"] == 1'
    ;;
topband_not_a_frame)
    run 1 decode topband '~21014642E0G201FD34'
    contains "$ERR" "position 12"
    run 2 decode topband
    ;;
victron_limits_json)
    run 0 decode victron --json 351#2802E803DC05D001
    json_check 'j["id"] == "0x351" and j["cvl_v"] == 55.2 and j["ccl_a"] == 100.0 and j["dcl_a"] == 150.0 and j["dvl_v"] == 46.4'
    # Options may come before the family word too.
    run 0 decode --json victron 356#EE14F9FFD200
    json_check 'j["current_a"] == -0.7 and j["voltage_v"] == 53.58'
    ;;
victron_bad_notation)
    run 2 decode victron 351#2802E
    contains "$ERR" "position 9"
    run 2 decode victron 3511#00
    run 2 decode victron 351
    run 2 decode victron 351#0011223344556677889
    run 2 decode victron --frobnicate 351#00
    run 2 decode victron
    ;;
victron_unknown_id)
    run 1 decode victron 123#00
    contains "$ERR" "0x123 is not a Victron CAN-BMS frame"
    run 1 decode victron 351#2802E803
    contains "$ERR" "0x351 needs at least 6 data bytes, got 4"
    run 1 decode victron 351#R
    contains "$ERR" "remote frame"
    ;;
victron_stdin_log)
    printf '(1700000000.123456) can0 351#2802E803DC05D001\n\n(1700000000.223456) can0 35A#A6AAAAAAAAAAAAAA R\n355#58006400\n' \
        | "$BIN" decode victron --json - >"$OUT" 2>"$ERR"
    [ $? -eq 0 ] || fail "stdin decode did not exit 0"
    json_check 'len(js) == 3 and js[0]["cvl_v"] == 55.2 and js[1]["alarms"]["high_voltage"] == "active" and js[2]["soc_pct"] == 88'
    ;;
help)
    run 0 decode --help
    contains "$OUT" "Usage: bmsbench decode victron"
    run 0 decode victron --help
    contains "$OUT" "Examples:"
    ;;
*)
    echo "unknown case $CASE" >&2
    exit 2
    ;;
esac
exit 0
