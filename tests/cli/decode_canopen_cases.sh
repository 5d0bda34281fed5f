#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI checks of `bmsbench decode canopen`: decode_canopen_cases.sh BMSBENCH CASE (exit 0 = pass).
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

# json_check PYTHON_EXPR : over the JSON lines of stdout (`js`; `j` = first).
json_check() {
    python3 -c '
import json, sys
js = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
j = js[0] if js else None
sys.exit(0 if eval(sys.argv[2]) else 1)
' "$OUT" "$1" || fail "JSON check failed: $1"
}

contains() {
    grep -q -- "$2" "$1" || fail "'$2' not in $(basename "$1")"
}

case "$CASE" in
sdo_vectors_json)
    # superb_balancer.md A.11 #1, #2, #3, #4, #8, #12 and the #1 request.
    run 0 decode canopen --json 602#4060600000000000 582#43606000FA340000 581#4360600000D80000 \
        582#4F81600057000000 582#4B106000C8000000 582#4353600090010000 582#4318100300060100
    json_check 'js[0] == {"cob_id": "0x602", "node": 2, "service": "sdo_request", "command": "initiate_upload_request", "index": "0x6060", "subindex": 0, "dlc": 8, "data": "4060600000000000"}'
    json_check 'js[1]["service"] == "sdo_response" and js[1]["command"] == "initiate_upload_response_expedited" and js[1]["index"] == "0x6060" and js[1]["size"] == 4 and js[1]["value"] == 13562'
    json_check 'js[2]["node"] == 1 and js[2]["value"] == 55296'
    json_check 'js[3]["index"] == "0x6081" and js[3]["size"] == 1 and js[3]["value"] == 87'
    json_check 'js[4]["size"] == 2 and js[4]["value"] == 200 and js[5]["value"] == 400'
    json_check 'js[6]["index"] == "0x1018" and js[6]["subindex"] == 3 and js[6]["value"] == 0x00010600'
    # A.11 #15: the download of 0x1017 and its confirmation.
    run 0 decode canopen --json 602#2B171000E8030000 582#6017100000000000
    json_check 'js[0]["command"] == "initiate_download_request_expedited" and js[0]["value"] == 1000 and js[0]["size"] == 2'
    json_check 'js[1]["command"] == "initiate_download_response" and js[1]["index"] == "0x1017"'
    ;;
abort_tshark_facts)
    # platform-facts.md: tshark reads node 2, 0x1018, sub 0x05, abort 0x06090011.
    run 0 decode canopen --json 582#8018100511000906
    json_check 'j["node"] == 2 and j["service"] == "sdo_abort" and j["index"] == "0x1018" and j["subindex"] == 5'
    json_check 'j["abort_code"] == "0x06090011" and j["abort_meaning"] == "Sub-index does not exist"'
    run 0 decode canopen --json 582#8051600000000206 582#8060600002000106 582#8060600001000405
    json_check '[x["abort_code"] for x in js] == ["0x06020000", "0x06010002", "0x05040001"]'
    json_check '"does not exist" in js[0]["abort_meaning"] and "read only" in js[1]["abort_meaning"]'
    run 0 decode canopen 582#8060600078563412
    contains "$OUT" "not a CiA 301 code"
    ;;
heartbeat_nmt_emcy)
    run 0 decode canopen --json 702#00 702#7F 702#05 702#04 000#0100 000#8002 082#0010010000000000 080# 184#01
    json_check '[x["service"] for x in js] == ["heartbeat"] * 4 + ["nmt", "nmt", "emcy", "sync", "tpdo"]'
    json_check '[x["state"] for x in js[:4]] == ["boot_up", "pre_operational", "operational", "stopped"]'
    json_check 'js[4]["command"] == "start" and js[4]["node"] == 0 and js[5]["command"] == "enter_pre_operational" and js[5]["node"] == 2'
    json_check 'js[6]["error_code"] == "0x1000" and js[6]["node"] == 2 and js[8]["pdo"] == 1 and js[8]["node"] == 4'
    ;;
segmented)
    run 0 decode canopen --json 582#410810000A000000 602#6000000000000000 582#00457073696C6F6E 602#7000000000000000 582#1920563200000000
    json_check 'js[0]["command"] == "initiate_upload_response_segmented" and js[0]["size"] == 10'
    json_check 'js[1]["command"] == "upload_segment_request" and js[1]["toggle"] == 0 and js[3]["toggle"] == 1'
    json_check 'js[2]["size"] == 7 and js[2]["last"] is False and js[4]["size"] == 3 and js[4]["last"] is True and js[4]["toggle"] == 1'
    ;;
invalid_frames)
    run 1 decode canopen 602#E060600000000000
    contains "$ERR" "command specifier 7"
    run 1 decode canopen 582#4360
    contains "$ERR" "8 data bytes"
    run 1 decode canopen 123#00
    contains "$ERR" "not a CANopen COB-ID"
    run 1 decode canopen 18FF50E5#00
    contains "$ERR" "11-bit"
    run 1 decode canopen 702#7F00
    run 1 decode canopen 580#4360600000000000
    # A bad frame does not stop the good ones from printing.
    run 1 decode canopen --json 702#05 702#33
    json_check 'len(js) == 2 and js[0]["state"] == "operational"'
    ;;
usage)
    run 2 decode canopen
    run 2 decode canopen 58#00
    run 2 decode canopen 582#4G
    run 2 decode canopen 582#001122334455667788
    run 2 decode canopen --frobnicate 582#00
    run 2 decode canopen 702#00 58#00
    [ -s "$OUT" ] && fail "a usage error must decode nothing"
    ;;
stdin_log)
    printf '(1700000000.123456) can1 602#4081600000000000\n\n(1700000000.124456) can1 582#4F81600057000000 R\n702#05\n' \
        | "$BIN" decode canopen --json - >"$OUT" 2>"$ERR"
    [ $? -eq 0 ] || fail "stdin decode did not exit 0"
    json_check 'len(js) == 3 and js[1]["value"] == 87 and js[2]["state"] == "operational"'
    ;;
help)
    run 0 decode canopen --help
    contains "$OUT" "Usage: bmsbench decode canopen"
    contains "$OUT" "Examples:"
    run 0 decode --help canopen
    contains "$OUT" "Usage: bmsbench decode canopen"
    ;;
*)
    echo "unknown case $CASE" >&2
    exit 2
    ;;
esac
exit 0
