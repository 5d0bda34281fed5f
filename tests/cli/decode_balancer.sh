#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI checks of `bmsbench decode balancer`: decode_balancer.sh BMSBENCH CASE (exit 0 = pass).
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
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
js = [json.loads(l) for l in lines]
j = js[0] if js else None
sys.exit(0 if eval(sys.argv[2]) else 1)
' "$OUT" "$1" || fail "JSON check failed: $1"
}

contains() {
    grep -q -- "$2" "$1" || fail "'$2' not in $(basename "$1")"
}

case "$CASE" in
request_json)        # B.11 0105
    run 0 decode balancer --json 0105
    json_check 'j == {"kind": "request", "address": 1, "command": "05", "meaning": "cell voltage", "hex": "30 31 30 35"}'
    ;;
request_text)        # B.11 5005 and 0802, options after the family word or before
    run 0 decode --json balancer 5005 0802
    json_check 'js[0]["address"] == 50 and js[0]["command"] == "05"'
    json_check 'js[1]["address"] == 8 and js[1]["meaning"] == "cell temperature"'
    run 0 decode balancer 0103
    contains "$OUT" 'request: address 1, command 03 (resistor temperature)'
    ;;
reply_voltage_json)
    run 0 decode balancer --json 3291
    json_check 'j == {"kind": "reply", "value": 3291, "text": "3291"}'
    run 0 decode balancer --command 05 --json 3291
    json_check 'j["cell_voltage_v"] == 3.291 and j["command"] == "05"'
    ;;
reply_crlf_escaped)  # whitespace and CR LF around the number are allowed
    run 0 decode balancer --json -c 05 '  3291 \r\n'
    json_check 'j["value"] == 3291 and j["text"] == "3291"'
    ;;
negative_temp)       # B.11 "-5": a reply, not an option
    run 0 decode balancer --command 02 -5
    contains "$OUT" 'cell temperature -5 degC'
    ;;
uptime_json)         # B.11 0104 reply
    run 0 decode balancer --json --command 04 '3780267\r\n'
    json_check 'j["uptime_s"] == 3780267 and j["uptime"] == "43d 18h 04m 27s"'
    ;;
version_text)
    run 0 decode balancer --command 06 148
    contains "$OUT" 'software version 148'
    ;;
hex_split_reply)     # B.11 RX bytes, split by the shell
    run 0 decode balancer --hex --json --command 05 33 32 39 31 0D 0A
    json_check 'len(js) == 1 and j["cell_voltage_v"] == 3.291'
    ;;
garbage_reply)
    run 1 decode balancer ERR
    contains "$ERR" 'not a decimal number'
    run 1 decode balancer --json '32 91'
    json_check 'j["kind"] == "invalid"'
    run 1 decode balancer '\r\n'
    contains "$ERR" 'empty line'
    ;;
implausible_voltage)
    run 1 decode balancer --command 05 9999
    contains "$ERR" 'implausible cell voltage'
    ;;
bad_request)
    run 1 decode balancer --request 3291
    contains "$ERR" 'command not 02..06'
    run 1 decode balancer --request 5105
    contains "$ERR" 'address not 01..50'
    ;;
forced_reply)        # four digits that look like a request, said to be a reply
    run 0 decode balancer --reply --json 0105
    json_check 'j["kind"] == "reply" and j["value"] == 105'
    ;;
several_items)       # one bad item makes the exit 1, the good ones are still printed
    run 1 decode balancer --json 0105 x 24
    json_check 'len(js) == 3 and js[0]["kind"] == "request" and js[1]["kind"] == "invalid" and js[2]["value"] == 24'
    ;;
no_input)
    run 2 decode balancer --json
    contains "$ERR" 'no TEXT'
    ;;
bad_command)
    run 2 decode balancer --command 07 1
    run 2 decode balancer --command ab 1
    run 2 decode balancer --hex 3
    ;;
unknown_option)
    run 2 decode balancer --bogus 0105
    ;;
help)
    run 0 decode balancer --help
    contains "$OUT" 'Usage: bmsbench decode balancer'
    contains "$OUT" 'Examples:'
    ;;
*)
    fail "unknown case"
    ;;
esac
exit 0
