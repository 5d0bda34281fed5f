#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench run --record`: the recorded logs read back through
# tools nobody here wrote (python3-can, can-utils log2asc, tshark), the same
# seed records the same bytes, and write errors are reported, not crashed on.
# usage: record.sh BMSBENCH SRCDIR WORKDIR topband|superb|errors
# A missing tool is a failure (ci/install-deps.sh installs them), not a skip.
set -u
B=$1
S=$2
W=$3
CASE=$4
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

# Debian's python3 has python3-can; a python3 earlier on PATH (pyenv, venv) may not.
PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import can' 2>/dev/null; then PY=$p; break; fi
done
need_tools() {
    [ -n "$PY" ] || { echo "FAIL: no python3 can import can: install python3-can (sh ci/install-deps.sh)"; exit 1; }
    for t in log2asc tshark; do
        command -v "$t" >/dev/null 2>&1 ||
            { echo "FAIL: $t not found: install ${t%%2asc}${t#log2asc} (sh ci/install-deps.sh: can-utils, tshark)"; exit 1; }
    done
}

case $CASE in
topband)
    need_tools
    "$B" run --record "$W/a" "$S/scenarios/topband/pack_silent.yaml" > "$W/run.txt" 2>&1
    check "topband: run exit" 0 $?
    D=$W/a/pack_silent
    check "topband: files" "bms-serial.txt signals.csv victron.asc victron.log victron.pcap" \
        "$(ls "$D" | tr '\n' ' ' | sed 's/ $//')"
    "$PY" "$S/tests/cli/record_check.py" "$D" victron can0 --serial topband
    check "topband: interop (python-can, log2asc, tshark, serial, csv)" 0 $?
    # Same seed, same bytes: a recording is a reproducible artefact.
    "$B" run --record "$W/b" "$S/scenarios/topband/pack_silent.yaml" > /dev/null 2>&1
    check "topband: second run exit" 0 $?
    check "topband: same seed, identical recording" "" "$(diff -r "$W/a" "$W/b" 2>&1 | head -3)"
    ;;
superb)
    need_tools
    "$B" run --record "$W/a" "$S/scenarios/superb/three_batteries.yaml" > "$W/run.txt" 2>&1
    check "superb: run exit" 0 $?
    D=$W/a/superb_three_batteries
    check "superb: files" "bms.asc bms.log bms.pcap signals.csv victron.asc victron.log victron.pcap" \
        "$(ls "$D" | tr '\n' ' ' | sed 's/ $//')"
    "$PY" "$S/tests/cli/record_check.py" "$D" victron can0
    check "superb: victron bus interop" 0 $?
    "$PY" "$S/tests/cli/record_check.py" "$D" bms can1 --sdo
    check "superb: CANopen bus interop, tshark SDO indices" 0 $?
    tshark -r "$D/bms.pcap" -d 'can.subdissector,canopen' -T fields -e canopen.sdo.main_idx \
        2>/dev/null | sort -u > "$W/idx.txt"
    check "superb: tshark shows 0x6060" "0x6060" "$(grep -x 0x6060 "$W/idx.txt")"
    ;;
errors)
    # A folder that cannot be made: a message, exit 2 (cmd_run: errors), no crash.
    "$B" run --record /dev/null/rec "$S/scenarios/topband/pack_silent.yaml" > "$W/nodir.txt" 2>&1
    check "errors: uncreatable folder exits 2 (BENCH_EXIT_USAGE, as other run errors)" 2 $?
    check "errors: uncreatable folder named" 1 \
        "$(grep -c 'record /dev/null/rec: /dev/null/rec: Not a directory' "$W/nodir.txt")"
    # A full disk: the write error is reported at close, with the file.
    mkdir -p "$W/full/pack_silent"
    ln -s /dev/full "$W/full/pack_silent/victron.log"
    "$B" run --record "$W/full" "$S/scenarios/topband/pack_silent.yaml" > "$W/full.txt" 2>&1
    check "errors: full disk exits 2" 2 $?
    check "errors: full disk reported with the file" 1 \
        "$(grep -c 'record: .*/pack_silent/victron.log: No space left on device' "$W/full.txt")"
    ;;
*)
    echo "usage: record.sh BMSBENCH SRCDIR WORKDIR topband|superb|errors" >&2
    exit 2
    ;;
esac

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all record checks passed ($CASE)"
