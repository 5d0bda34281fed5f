#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI checks of `bmsbench decode tinybms`: decode_tinybms.sh BMSBENCH CASE (exit 0 = pass).
set -u
BIN=$1
CASE=$2
OUT=$(mktemp)
ERR=$(mktemp)
trap 'rm -f "$OUT" "$ERR"' EXIT

fail() {
    echo "FAIL [$CASE]: $*" >&2
    echo "--- stdout" >&2; cat "$OUT" >&2
    echo "--- stderr" >&2; cat "$ERR" >&2
    exit 1
}

run() {
    want=$1
    shift
    "$BIN" "$@" >"$OUT" 2>"$ERR"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc, want $want for: $*"
}

json_check() {
    python3 -c '
import json, sys
j = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2]) else 1)
' "$OUT" "$1" || fail "JSON check failed: $1"
}

contains() {
    grep -q -- "$2" "$1" || fail "'$2' not in $(basename "$1")"
}

case "$CASE" in
tv3_temperatures_json)   # tinybms.md TV-3
    run 0 decode tinybms --json 'AA 1B 06 16 01 14 01 16 01 0E 4E'
    json_check 'j["command"] == "0x1B" and j["kind"] == "reply" and j["crc_ok"] is True'
    json_check 'j["temperatures_c"] == [27.8, 27.6, 27.8]'
    ;;
tv2_registers_json)      # TV-2: a 0x03 reply carries no address, raw registers
    run 0 decode tinybms --json AA030A9740974097 2C972C972C3EC7
    json_check 'j["command"] == "0x03" and j["kind"] == "reply"'
    json_check '[r["value"] for r in j["registers"]] == [38720, 38720, 38700, 38700, 38700]'
    json_check 'all(r["address"] is None for r in j["registers"])'
    ;;
tv1_write_request_json)  # TV-1 request
    run 0 decode tinybms AA 10 01 3B 00 02 04 10 68 09 C4 19 61 --json
    json_check 'j["kind"] == "request" and j["address"] == 315 and j["count"] == 2'
    json_check 'j["registers"] == [{"address": 315, "value": 4200}, {"address": 316, "value": 2500}]'
    ;;
tv1_write_reply_text)
    run 0 decode tinybms AA10013B00022822
    contains "$OUT" 'reply 0x10'
    contains "$OUT" 'address: 315'
    ;;
tv4_reset_and_ack)
    run 0 decode tinybms --json AA 02 05 90 83
    json_check 'j["kind"] == "request" and j["option"] == 5'
    run 0 decode tinybms --json AA 01 02 D1 B1
    json_check 'j["kind"] == "ack" and j["command"] == "0x02"'
    ;;
spaced_equals_unspaced)
    run 0 decode tinybms --json 'aa 1b 06 16 01 14 01 16 01 0e 4e'
    cp "$OUT" "$OUT.a"
    run 0 decode tinybms --json AA1B061601140116010E4E
    cmp -s "$OUT" "$OUT.a" || { rm -f "$OUT.a"; fail "spaced and unspaced differ"; }
    rm -f "$OUT.a"
    ;;
nack_json)
    # AA 00 03 01 + CRC: the BMS saw a CRC error in a 0x03 request.
    crc=$(python3 -c '
d=bytes([0xAA,0x00,0x03,0x01]); c=0xFFFF
for b in d:
    c^=b
    for _ in range(8): c=(c>>1)^0xA001 if c&1 else c>>1
print("%02X%02X"%(c&0xFF,c>>8))')
    run 0 decode tinybms --json "AA000301$crc"
    json_check 'j["kind"] == "nack" and j["command"] == "0x03" and j["error_code"] == 1'
    ;;
pack_voltage_float)
    # 0x14 reply carrying 55.78 V (0x425F1EB8, LSB first).
    crc=$(python3 -c '
d=bytes([0xAA,0x14,0xB8,0x1E,0x5F,0x42]); c=0xFFFF
for b in d:
    c^=b
    for _ in range(8): c=(c>>1)^0xA001 if c&1 else c>>1
print("%02X%02X"%(c&0xFF,c>>8))')
    run 0 decode tinybms --json "AA14B81E5F42$crc"
    json_check 'j["pack_voltage_v"] == 55.78'
    ;;
crc_mismatch)
    run 1 decode tinybms AA1B061601140116010F4E
    contains "$ERR" 'crc mismatch: frame carries 0x4E0F, computed 0x4E0E'
    ;;
odd_digits)
    run 2 decode tinybms AA1B3F1
    contains "$ERR" 'odd number of hex digits'
    ;;
no_input)
    run 2 decode tinybms --json
    ;;
not_hex)
    run 2 decode tinybms AA1BXX1B
    ;;
unknown_command)
    run 1 decode tinybms AA 55 00 00
    ;;
help)
    run 0 decode tinybms --help
    contains "$OUT" 'Usage: bmsbench decode tinybms'
    contains "$OUT" 'Examples:'
    ;;
*)
    fail "unknown case"
    ;;
esac
exit 0
